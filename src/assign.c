// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "assign.h"

struct bitmap {
	uint64_t *w;
	uint32_t bits;
	uint32_t next; /* no free bit below this */
};

static int bm_init(struct bitmap *b, uint32_t bits)
{
	b->w = calloc((bits + 63) / 64, sizeof(uint64_t));
	b->bits = bits;
	b->next = 0;
	return b->w ? 0 : -ENOMEM;
}

static void bm_set(struct bitmap *b, uint32_t i)
{
	if (i < b->bits)
		b->w[i / 64] |= 1ULL << (i % 64);
}

/* Take the lowest free bit; -1 when full. */
static int64_t bm_take(struct bitmap *b)
{
	for (uint32_t i = b->next; i < b->bits; i++) {
		if (!(b->w[i / 64] & (1ULL << (i % 64)))) {
			bm_set(b, i);
			b->next = i + 1;
			return i;
		}
	}
	b->next = b->bits;
	return -1;
}

struct cpu_slot {
	struct bitmap minors; /* bit m - CS_FIRST_MINOR */
	uint64_t load;
	uint32_t circuits;
	bool full;
};

static int weight_desc(const void *a, const void *b)
{
	const struct circuit *x = *(struct circuit *const *)a, *y = *(struct circuit *const *)b;
	uint64_t wx = circuit_weight(x), wy = circuit_weight(y);

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return strcmp(x->id, y->id);
}

int assign_circuits(struct circuit_set *want, const struct circuit_set *have,
		    const bool cpus[CS_MAX_CPUS], const struct cs_layout *l, const char *file,
		    struct cs_diag *d)
{
	struct cpu_slot *slot = calloc(CS_MAX_CPUS, sizeof(*slot));
	struct circuit **fresh = calloc(want->n ? want->n : 1, sizeof(*fresh));
	struct bitmap index = { 0 };
	size_t n_fresh = 0, placed = 0;
	int err = -ENOMEM, enabled = 0;

	if (!slot || !fresh || bm_init(&index, CS_MAX_CIRCUITS))
		goto out;
	for (int c = 0; c < CS_MAX_CPUS; c++) {
		if (!cpus[c])
			continue;
		enabled++;
		if (bm_init(&slot[c].minors, CS_MINORS_PER_CPU))
			goto out;
	}
	for (size_t i = 0; i < have->n; i++) {
		const struct circuit *h = &have->v[i];

		bm_set(&index, h->index);
		if (h->cpu < CS_MAX_CPUS && cpus[h->cpu])
			bm_set(&slot[h->cpu].minors, h->minor - CS_FIRST_MINOR);
	}

	for (size_t i = 0; i < want->n; i++) {
		struct circuit *w = &want->v[i];
		const struct circuit *h = circuit_set_find(have, w->id);

		if (h && h->cpu < CS_MAX_CPUS && cpus[h->cpu]) {
			w->cpu = h->cpu;
			w->minor = h->minor;
			w->major = h->major;
			w->index = h->index;
			slot[w->cpu].load += circuit_weight(w);
			slot[w->cpu].circuits++;
			continue;
		}
		if (h)
			w->index = h->index; /* moves CPU, keeps its identity */
		else
			w->index = UINT32_MAX;
		fresh[n_fresh++] = w;
	}

	qsort(fresh, n_fresh, sizeof(*fresh), weight_desc);
	for (size_t i = 0; i < n_fresh; i++) {
		struct circuit *w = fresh[i];
		int best = -1;
		int64_t minor;

		for (int c = 0; c < CS_MAX_CPUS; c++) {
			if (!cpus[c] || slot[c].full)
				continue;
			if (best < 0 || slot[c].load < slot[best].load ||
			    (slot[c].load == slot[best].load && slot[c].circuits < slot[best].circuits))
				best = c;
		}
		if (best < 0)
			break;
		minor = bm_take(&slot[best].minors);
		if (minor < 0) {
			slot[best].full = true;
			i--;
			continue;
		}
		if (w->index == UINT32_MAX) {
			int64_t ix = bm_take(&index);

			if (ix < 0)
				break;
			w->index = (uint32_t)ix;
		}
		w->cpu = (uint32_t)best;
		w->minor = (uint32_t)minor + CS_FIRST_MINOR;
		w->major = layout_major(l, w->cpu, w->minor % l->htbs_per_cpu);
		slot[best].load += circuit_weight(w);
		slot[best].circuits++;
		placed++;
	}
	if (placed < n_fresh) {
		diag_add(d, "%s: %zu circuits do not fit: %d CPU%s x %u classes per CPU%s", file,
			 want->n, enabled, enabled == 1 ? "" : "s", CS_MINORS_PER_CPU,
			 enabled ? "" : " (no CPU enabled)");
		err = -ENOSPC;
		goto out;
	}
	err = 0;
out:
	if (slot)
		for (int c = 0; c < CS_MAX_CPUS; c++)
			free(slot[c].minors.w);
	free(slot);
	free(fresh);
	free(index.w);
	return err;
}
