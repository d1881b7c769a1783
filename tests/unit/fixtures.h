/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Building circuit sets by hand for the assign and plan tests. */
#ifndef CS_FIXTURES_H
#define CS_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "assign.h"
#include "circuits.h"

/* One HTB per CPU on a 2-CPU machine: majors 1 and 3 (src/handles.h). */
static const struct cs_layout L1 = { .htbs_per_cpu = 1, .stride = 2 };

/* Circuit "c<n>" with max rates in Mbit/s and the single address 198.18.<n/256>.<n%256>. */
static inline void fx_circuit(struct circuit *c, unsigned n, unsigned down_mbps, unsigned up_mbps)
{
	const char *why;
	char a[32];

	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "c%05u", n);
	c->down_min = c->down_max = down_mbps * 1000000ULL;
	c->up_min = c->up_max = up_mbps * 1000000ULL;
	c->pfx = calloc(1, sizeof(*c->pfx));
	c->n_pfx = 1;
	snprintf(a, sizeof(a), "198.18.%u.%u", (n / 256) % 256, n % 256);
	prefix_parse(a, true, c->pfx, &why);
}

static inline void fx_set(struct circuit_set *s, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->v = calloc(n ? n : 1, sizeof(*s->v));
	s->n = n;
}

/* Deep copy, as if the kernel handed back what was applied. */
static inline void fx_copy(struct circuit_set *dst, const struct circuit_set *src)
{
	fx_set(dst, src->n);
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].parent = NULL; /* the kernel records no parent text */
		dst->v[i].pfx = calloc(src->v[i].n_pfx ? src->v[i].n_pfx : 1, sizeof(struct cs_prefix));
		memcpy(dst->v[i].pfx, src->v[i].pfx, src->v[i].n_pfx * sizeof(struct cs_prefix));
	}
}

#endif
