/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a load changes, circuit by circuit and node by node, for people (load's
 * list, the system log) and machines (load -j): added, changed, moved, removed.
 */
#ifndef CS_DIFF_H
#define CS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "circuits.h"
#include "network.h"

enum change_op { CHANGE_ADD = '+', CHANGE_RATES = '~', CHANGE_MOVE = '>', CHANGE_REMOVE = '-' };

struct change {
	enum change_op op;
	bool node;               /* a network node, else a circuit */
	const char *id;          /* Circuit ID or node name */
	const char *name_from, *name_to; /* a circuit's name, when it changes (else NULL) */
	uint32_t cpu_from, cpu_to;
	uint32_t class_from, class_to;   /* major:minor */
	const char *parent_from, *parent_to; /* node above; "" for the CPU's root class */
	uint64_t from[4], to[4]; /* down min, down max, up min, up max (bit/s) */
	bool set_rate;           /* the running rates were set-rate's: the file's come back */
};

struct change_list {
	struct change *v;
	size_t n;
	size_t added, changed, moved, removed; /* of circuits */
	size_t nodes_added, nodes_changed, nodes_moved, nodes_removed;
};

/*
 * The changes from @have (running, sorted by id) and @have_nodes (sorted by
 * name) to @want (placed, sorted by id) and @net (placed; NULL or empty: no
 * network): nodes first, then circuits, each by name. Strings point into the
 * inputs. -ENOMEM or 0.
 */
int diff_build(const struct circuit_set *want, const struct circuit_set *have,
	       const struct network *net, const struct node_rec *have_nodes, size_t n_have_nodes,
	       struct change_list *out);
void diff_free(struct change_list *l);
/* One line for people: "~ c-103 down max 50 → 25" (no newline); CHANGE_LINE_MAX holds any. */
#define CHANGE_LINE_MAX 1024
void change_format(const struct change *c, char *buf, size_t len);
/* The rate fields' names: "down_min", ... */
extern const char *const change_rate_names[4];

#endif
