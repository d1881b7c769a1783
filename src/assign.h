/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_ASSIGN_H
#define CS_ASSIGN_H

#include <stdbool.h>
#include "circuits.h"

#define CS_MAX_CIRCUITS (1u << 20)
#define CS_MINORS_PER_CPU (CS_LAST_MINOR - CS_FIRST_MINOR + 1)

/* How many HTBs each CPU has, and the major of HTB j of CPU k: j * stride + k + 1. */
struct cs_layout {
	uint32_t htbs_per_cpu;
	uint32_t stride;
};

static inline uint32_t layout_major(const struct cs_layout *l, uint32_t cpu, uint32_t htb)
{
	return htb * l->stride + cpu + 1;
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

static inline uint64_t circuit_weight(const struct circuit *c)
{
	return c->down_max + c->up_max;
}

#endif
