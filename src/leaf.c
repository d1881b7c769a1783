// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include "leaf.h"

#define LEAF_LAST_MAJOR 0xfffe

static bool major_ok(uint32_t m)
{
	return m != CS_MQ_MAJOR && m <= LEAF_LAST_MAJOR;
}

size_t leaf_budget(uint32_t htb_majors)
{
	uint32_t first = 2 * htb_majors + 1;

	if (first > LEAF_LAST_MAJOR)
		return 0;
	return LEAF_LAST_MAJOR - first + 1 - (first <= CS_MQ_MAJOR);
}

enum cs_leaf leaf_wanted(uint8_t sqm, enum cs_leaf def)
{
	switch (sqm) {
	case CS_SQM_NONE: return CS_LEAF_DEFAULT;
	case CS_SQM_FQ_CODEL: return CS_LEAF_FQ_CODEL;
	case CS_SQM_CAKE: return CS_LEAF_CAKE;
	default: return def;
	}
}

enum cs_leaf leaf_for(enum cs_leaf want, const struct leaf_avail *a)
{
	if (want == CS_LEAF_CAKE && !a->cake)
		want = CS_LEAF_FQ_CODEL;
	if (want == CS_LEAF_FQ_CODEL && !a->fq_codel)
		want = CS_LEAF_FIFO;
	return want;
}

const char *leaf_name(enum cs_leaf leaf)
{
	switch (leaf) {
	case CS_LEAF_FQ_CODEL: return "fq_codel";
	case CS_LEAF_CAKE: return "cake";
	case CS_LEAF_FIFO: return "fifo";
	default: return "pfifo";
	}
}

int leaf_assign(struct circuit_set *want, const struct circuit_set *have, enum cs_leaf def,
		const struct leaf_avail *a, uint32_t htb_majors, const uint8_t *held, size_t *fallback,
		const char *file, struct cs_diag *d)
{
	uint8_t *used = calloc(LEAF_LAST_MAJOR + 1, 1);
	uint32_t next = 2 * htb_majors + 1;
	size_t need = 0, budget = leaf_budget(htb_majors);

	if (!used)
		return -ENOMEM;
	*fallback = 0;
	for (uint32_t m = 0; held && m <= LEAF_LAST_MAJOR; m++)
		used[m] = held[m];
	for (size_t i = 0; have && i < have->n; i++)
		if (have->v[i].leaf_major)
			used[have->v[i].leaf_major] = 1;
	for (size_t i = 0; i < want->n; i++) {
		struct circuit *w = &want->v[i];
		const struct circuit *h = have ? circuit_set_find(have, w->id) : NULL;
		bool kept = h && h->cpu == w->cpu && h->major == w->major && h->minor == w->minor;

		for (int dir = 0; dir < 2; dir++) {
			w->leaf_want[dir] = (uint8_t)leaf_wanted(w->sqm[dir], def);
			w->leaf[dir] = (uint8_t)leaf_for((enum cs_leaf)w->leaf_want[dir], a);
		}
		*fallback += w->leaf[0] != w->leaf_want[0] || w->leaf[1] != w->leaf_want[1];
		w->leaf_major = 0;
		if (w->leaf[0] == CS_LEAF_DEFAULT && w->leaf[1] == CS_LEAF_DEFAULT)
			continue;
		need++;
		if (kept && h->leaf_major) {
			w->leaf_major = h->leaf_major;
			continue;
		}
		while (next <= LEAF_LAST_MAJOR && (!major_ok(next) || used[next]))
			next++;
		if (next <= LEAF_LAST_MAJOR) {
			w->leaf_major = (uint16_t)next;
			used[next] = 1;
		}
	}
	free(used);
	if (need > budget || (need && next > LEAF_LAST_MAJOR)) {
		diag_add(d, "%s: %zu circuits need leaf qdiscs, but a device has handles for %zu (65 534 less two per HTB, and those the running circuits hold while they move): give some circuits sqm none (HTB's own pfifo takes no handle), or load with --leaf none",
			 file, need, budget);
		return -EINVAL;
	}
	return 0;
}
