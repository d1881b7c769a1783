/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_ASSIGN_H
#define CS_ASSIGN_H

#include <stdbool.h>
#include "circuits.h"
#include "handles.h"
#include "network.h"

#define CS_MINORS_PER_CPU (CS_LAST_MINOR - CS_FIRST_MINOR + 1)

/*
 * How many HTBs each CPU has; HTB j of CPU k sits on TX queue j * stride + k
 * (MQ class 7fff:queue + 1) with the queue's major of src/handles.h.
 */
struct cs_layout {
	uint32_t htbs_per_cpu;
	uint32_t stride;
};

static inline uint32_t layout_major(const struct cs_layout *l, uint32_t cpu, uint32_t htb)
{
	return handle_htb(l->stride, cpu, htb);
}

/* The CPU and HTB of the HTB major @major, or false when it is none of @l's. */
static inline bool layout_place(const struct cs_layout *l, uint32_t major, uint32_t *cpu, uint32_t *htb)
{
	int32_t q = handle_index(major);

	if (q < 0 || !l->stride || (uint32_t)q >= l->stride * (l->htbs_per_cpu ? l->htbs_per_cpu : 1))
		return false;
	*cpu = (uint32_t)q % l->stride;
	*htb = (uint32_t)q / l->stride;
	return true;
}

/*
 * Give every circuit of @want a CPU, an HTB (minor % htbs_per_cpu, so minors
 * taken lowest first fill a CPU's HTBs evenly), a minor and an index. A circuit
 * that @have (the running state) already places on an enabled CPU keeps all
 * three. New ones go, heaviest first, to the enabled CPU with the least sum
 * of plan rates (Download Max + Upload Max). Minors and indices of @have are
 * never reused within one apply, since old classes go after new ones come.
 * Both sets sorted by id. -ENOSPC (with a message in @d) when they do not fit.
 */
int assign_circuits(struct circuit_set *want, const struct circuit_set *have,
		    const bool cpus[CS_MAX_CPUS], const struct cs_layout *l, const char *file,
		    struct cs_diag *d);

/* The network for assign_all: what it places, what runs, and what it has to say. */
struct assign_net {
	struct network *net;          /* its real nodes get cpu, major, minor, parent_minor, load */
	const struct node_rec *have; /* the running nodes, sorted by name */
	size_t n_have;
	const uint32_t *present;      /* classids the kernel holds, recorded or not: never given out */
	size_t n_present;
	bool rebalance;               /* place every unit and circuit anew, by plan */
	struct cs_diag *notes;        /* out: a unit heavier than a CPU's fair share, ... */
};

/*
 * assign_circuits with the network above the circuits (@an NULL: flat). A
 * unit (the highest real node of a path) lives whole in one HTB of one CPU:
 * units and circuits that hang under no real node are placed by plan,
 * heaviest first onto the least loaded CPU, a unit onto that CPU's least
 * loaded HTB; what the running state already places on an enabled CPU stays
 * there unless @an->rebalance. Within its HTB each node and circuit keeps its
 * minor while its parent class stays the same; a new parent is a new class
 * (make-before-break), and so, for a moved node, is everything below it.
 */
int assign_all(struct circuit_set *want, const struct circuit_set *have, struct assign_net *an,
	       const bool cpus[CS_MAX_CPUS], const struct cs_layout *l, const char *file,
	       struct cs_diag *d);

static inline uint64_t circuit_weight(const struct circuit *c)
{
	return c->down_max + c->up_max;
}

#endif
