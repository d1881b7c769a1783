// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include "handles.h"
#include "leaf.h"

size_t leaf_budget(uint32_t htb_majors)
{
	return 2 * htb_majors < HANDLE_COUNT ? HANDLE_COUNT - 2 * htb_majors : 0;
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
	uint8_t *used = calloc(0x10000, 1);
	uint32_t next = 2 * htb_majors; /* in the order of src/handles.h */
	size_t need = 0, budget = leaf_budget(htb_majors);

	if (!used)
		return -ENOMEM;
	*fallback = 0;
	for (uint32_t m = 0; held && m <= 0xffff; m++)
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
		while (next < HANDLE_COUNT && used[handle_major(next)])
			next++;
		if (next < HANDLE_COUNT) {
			w->leaf_major = (uint16_t)handle_major(next);
			used[w->leaf_major] = 1;
		}
	}
	free(used);
	if (need > budget || (need && next >= HANDLE_COUNT)) {
		diag_add(d, "%s: %zu circuits need leaf qdiscs, but a device has handles for %zu (65 534 less two per HTB, and those the running circuits hold while they move): give some circuits sqm none (HTB's own pfifo takes no handle), or load with --leaf none",
			 file, need, budget);
		return -EINVAL;
	}
	return 0;
}
