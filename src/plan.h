/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The difference between the wanted circuits and the running ones, as operations. */
#ifndef CS_PLAN_H
#define CS_PLAN_H

#include <stdbool.h>
#include "circuits.h"
#include "network.h"

struct lpm_entry {
	struct cs_prefix p;
	struct cs_target t;
};

struct plan {
	struct circuit **class_add;    /* wanted circuits needing classes (new or moved CPU) */
	size_t n_class_add;
	struct circuit **class_change; /* wanted circuits whose rates changed in place */
	size_t n_class_change;
	struct circuit **class_del;    /* running circuits whose classes go (removed or moved) */
	size_t n_class_del;
	struct circuit **leaf_change;  /* wanted circuits that keep their class and rates, not their leaves (plan_leaves) */
	size_t n_leaf_change;
	struct circuit **meta_put;     /* wanted circuits whose kernel record is new or differs */
	size_t n_meta_put;
	struct circuit **meta_del;     /* running circuits that are gone */
	size_t n_meta_del;
	struct lpm_entry *lpm_put;     /* prefixes to add or re-point */
	size_t n_lpm_put;
	struct cs_prefix *lpm_del;     /* prefixes no circuit wants */
	size_t n_lpm_del;
	/* the network's nodes (plan_nodes): parents before children */
	struct node_rec *node_add;     /* wanted nodes needing classes (new, or a new place) */
	size_t n_node_add;
	struct node_rec *node_change;  /* wanted nodes whose rates changed in place */
	size_t n_node_change;
	struct node_rec *node_del;     /* running nodes whose classes go (removed or moved) */
	size_t n_node_del;
	struct node_rec *node_put;     /* records new or different */
	size_t n_node_put;
	struct node_rec *node_gone;    /* records of nodes no longer wanted: the last n_node_gone of node_del, in order */
	size_t n_node_gone;
};

static inline __u32 circuit_classid(const struct circuit *c)
{
	return (c->major << 16) | c->minor;
}

/*
 * Compare @want (placed by assign_circuits) with @have and @have_lpm (the
 * kernel's circuits and address map). Both sets sorted by id.
 */
int plan_build(const struct circuit_set *want, const struct circuit_set *have,
	       const struct lpm_entry *have_lpm, size_t n_have_lpm, struct plan *p);
/*
 * Add to @p what the network's nodes need: @net placed by assign_all with
 * rates from network_rates (NULL: no network), @have the running nodes
 * sorted by name.
 */
int plan_nodes(const struct network *net, const struct node_rec *have, size_t n_have,
	       struct plan *p);
/*
 * Add to @p the circuits that keep their class and rates but whose leaves
 * change: another kind or handle (src/leaf.c set both), or with @resize_fifo
 * (a new --queue-ms) every FIFO. A class whose rates change resizes its leaf.
 */
int plan_leaves(const struct circuit_set *want, const struct circuit_set *have, bool resize_fifo,
		struct plan *p);
bool plan_empty(const struct plan *p);
void plan_free(struct plan *p);

/* The wanted address map: one entry per prefix, sorted by prefix. */
int plan_lpm_entries(const struct circuit_set *want, struct lpm_entry **out, size_t *n);
int lpm_entry_cmp(const void *a, const void *b);

#endif
