/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The network above the customers: LibreQoS's network.json (sites, PoPs,
 * access points, nested), and which node each circuit hangs under.
 */
#ifndef CS_NETWORK_H
#define CS_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "circuits.h"
#include "cpushaper.h"
#include "diag.h"

/*
 * HTB nests 8 classes deep (TC_HTB_MAXDEPTH): a CPU's root class :1, at most
 * this many levels of real nodes, and the circuit's class.
 */
#define CS_NET_MAX_DEPTH 6
#define CS_NET_MAX_NODES 65536u /* real nodes: the size of the kernel's record map */

struct net_node {
	char *name;
	char *id;   /* NULL without "id" */
	char *type; /* NULL without "type" */
	uint64_t down_bps, up_bps; /* the node's bandwidth: its classes' ceil */
	bool is_virtual;           /* no class of its own: its children hang on its real ancestor */
	int parent;                /* in the file; -1 at the top */
	int real_parent;           /* the nearest real ancestor: its class is the parent class; -1: the CPU's root */
	int unit;                  /* the highest real node of its path: all below it share a CPU; -1 if virtual up to the top */
	int depth;                 /* real levels down to it: 1 right under the root class (0 if virtual) */
	/* placement of a real node, set by assign_all */
	uint32_t cpu, major, minor;
	uint32_t parent_minor;     /* its parent class in the same HTB; 0: the root class :1 */
	uint64_t load;             /* of a unit: its circuits' plans (Max down + up), at most its bandwidth */
	uint64_t down_min, up_min; /* set by network_rates: what its classes guarantee */
};

/* A node as the kernel records it (struct cs_node): what assign_all keeps, plan_nodes diffs. */
struct node_rec {
	char name[CS_NODE_NAME_LEN];
	char parent[CS_NODE_NAME_LEN]; /* the node whose class is its parent; "" for :1 */
	uint32_t cpu, major, minor, parent_minor;
	uint64_t down_min, down_max, up_min, up_max; /* bit/s: its classes' rate and ceil */
	uint32_t flags; /* CS_REC_* */
};

struct network {
	struct net_node *v; /* parents before their children */
	size_t n;
	int *by_name, *by_id; /* indexes into v sorted by name, by id (nodes with one) */
	size_t n_ids;
};

/*
 * Read a network.json. Every problem goes to @d ("FILE:LINE:COLUMN: what"
 * for what the JSON library reports, "FILE: node "NAME": what" for the rest);
 * on any, -EINVAL and @net is left empty. "{}" is an empty network.
 */
int network_load(const char *path, struct network *net, struct cs_diag *d);
int network_parse(const char *file, const char *text, size_t len, struct network *net,
		  struct cs_diag *d);
void network_free(struct network *net);

/* A node by name or by id: its index, or -1. */
int network_find_name(const struct network *net, const char *name);
int network_find_id(const struct network *net, const char *id);

/*
 * Keep only node @root's subtree (load --root: several shapers share one file
 * pair, each shaping its part): every other node becomes virtual, @root is
 * at the top, and only the circuits whose parent column names a node of the
 * subtree stay in @set. Call before network_resolve. -EINVAL with a message
 * when @root is no node of the network.
 */
int network_root(struct network *net, const char *root, struct circuit_set *set,
		 const char *file, struct cs_diag *d);

/*
 * Set each circuit's node from its parent columns (Anchor Node ID, then
 * Parent Node ID, then Parent Node). A parent that is not in the network is
 * refused as "FILE:LINE: COLUMN \"VALUE\" ..." (@csv names the customer file).
 * A circuit whose parent is virtual all the way up hangs under its CPU's root.
 */
int network_resolve(const struct network *net, struct circuit_set *set, const char *csv,
		    struct cs_diag *d);

/*
 * The rate (guaranteed) of each real node's classes: what is guaranteed below
 * it, its circuits' Min and its child nodes' rates, at most its bandwidth; a
 * node with nothing below it 1% of its bandwidth. Its ceil is its bandwidth.
 */
void network_rates(struct network *net, const struct circuit_set *want);

/* Binary search in node records sorted by name. */
const struct node_rec *node_rec_find(const struct node_rec *v, size_t n, const char *name);

/* The node as the kernel should record it. */
void network_node_rec(const struct network *net, size_t i, struct node_rec *r);

/* How many circuits name a parent (what a load without network file ignores). */
size_t network_parents_named(const struct circuit_set *set);

#endif
