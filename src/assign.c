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


/* The lowest free bit i with (i + CS_FIRST_MINOR) % k == r: a minor of HTB r; -1 when none. */
static int64_t bm_take_mod(struct bitmap *b, uint32_t *next, uint32_t k, uint32_t r)
{
	for (uint32_t i = next[r]; i < b->bits; i += k) {
		if (!(b->w[i / 64] & (1ULL << (i % 64)))) {
			bm_set(b, i);
			next[r] = i + k;
			return i;
		}
	}
	next[r] = b->bits;
	return -1;
}

struct cpu_slot {
	struct bitmap minors; /* bit m - CS_FIRST_MINOR */
	uint32_t *next;       /* per HTB: no free minor of its own below */
	uint64_t *htb_load;   /* per HTB: the load of its units */
	uint64_t load;
	uint32_t circuits;
	bool full;
};

/* A unit of the network: a real node whose subtree shares one HTB of one CPU. */
struct unit {
	int node;
	uint64_t load;
	uint32_t cpu, htb;
};

/* What the greedy pass places: a new unit or a circuit under no unit. */
struct item {
	uint64_t weight;
	const char *key;
	struct circuit *c; /* or */
	struct unit *u;
};

static int item_desc(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int least_loaded(const struct cpu_slot *slot, const bool cpus[CS_MAX_CPUS])
{
	int best = -1;

	for (int c = 0; c < CS_MAX_CPUS; c++) {
		if (!cpus[c] || slot[c].full)
			continue;
		if (best < 0 || slot[c].load < slot[best].load ||
		    (slot[c].load == slot[best].load && slot[c].circuits < slot[best].circuits))
			best = c;
	}
	return best;
}

/* A new index for a circuit that has none yet. */
static int take_index(struct circuit *w, struct bitmap *index)
{
	int64_t ix;

	if (w->index != UINT32_MAX)
		return 0;
	ix = bm_take(index);
	if (ix < 0)
		return -ENOSPC;
	w->index = (uint32_t)ix;
	return 0;
}

int assign_circuits(struct circuit_set *want, const struct circuit_set *have,
		    const bool cpus[CS_MAX_CPUS], const struct cs_layout *l, const char *file,
		    struct cs_diag *d)
{
	return assign_all(want, have, NULL, cpus, l, file, d);
}

int assign_all(struct circuit_set *want, const struct circuit_set *have, struct assign_net *an,
	       const bool cpus[CS_MAX_CPUS], const struct cs_layout *l, const char *file,
	       struct cs_diag *d)
{
	struct network *net = an ? an->net : NULL;
	uint32_t k = l->htbs_per_cpu ? l->htbs_per_cpu : 1;
	bool rebalance = an && an->rebalance;
	struct cpu_slot *slot = calloc(CS_MAX_CPUS, sizeof(*slot));
	struct item *items = calloc(want->n + (net ? net->n : 0) + 1, sizeof(*items));
	struct unit *units = NULL;
	int *unit_ix = NULL; /* node -> its entry in units, or -1 */
	struct bitmap index = { 0 };
	size_t n_items = 0, n_units = 0, i;
	uint64_t total = 0;
	int err = -ENOMEM, enabled = 0;

	if (!slot || !items || bm_init(&index, CS_MAX_CIRCUITS))
		goto out;
	for (int c = 0; c < CS_MAX_CPUS; c++) {
		if (!cpus[c])
			continue;
		enabled++;
		slot[c].next = calloc(k, sizeof(*slot[c].next));
		slot[c].htb_load = calloc(k, sizeof(*slot[c].htb_load));
		if (!slot[c].next || !slot[c].htb_load || bm_init(&slot[c].minors, CS_MINORS_PER_CPU))
			goto out;
		for (uint32_t r = 0; r < k; r++)
			slot[c].next[r] = (r + k - CS_FIRST_MINOR % k) % k;
	}
	for (size_t i = 0; i < have->n; i++) {
		const struct circuit *h = &have->v[i];

		bm_set(&index, h->index);
		if (h->cpu < CS_MAX_CPUS && cpus[h->cpu])
			bm_set(&slot[h->cpu].minors, h->minor - CS_FIRST_MINOR);
	}
	for (size_t i = 0; an && i < an->n_have; i++) {
		const struct node_rec *h = &an->have[i];

		if (h->cpu < CS_MAX_CPUS && cpus[h->cpu])
			bm_set(&slot[h->cpu].minors, h->minor - CS_FIRST_MINOR);
	}
	/*
	 * A class no record names is left by an interrupted apply: taking it over
	 * would keep its parent (HTB never changes one), so its minor stays taken
	 * until the load's clean-up removes it.
	 */
	for (size_t i = 0; an && i < an->n_present; i++) {
		uint32_t major = an->present[i] >> 16, minor = an->present[i] & 0xffff, cpu, htb;

		if (minor < CS_FIRST_MINOR || !layout_place(l, major, &cpu, &htb))
			continue;
		if (cpu < CS_MAX_CPUS && cpus[cpu])
			bm_set(&slot[cpu].minors, minor - CS_FIRST_MINOR);
	}

	/* The units, and their loads: their circuits' plans, at most what the unit can carry. */
	if (net && net->n) {
		units = calloc(net->n, sizeof(*units));
		unit_ix = malloc(net->n * sizeof(*unit_ix));
		if (!units || !unit_ix)
			goto out;
		for (size_t i = 0; i < net->n; i++) {
			unit_ix[i] = -1;
			if (net->v[i].unit == (int)i) {
				unit_ix[i] = (int)n_units;
				units[n_units++] = (struct unit){ .node = (int)i };
			}
		}
		for (size_t i = 0; i < want->n; i++)
			if (want->v[i].node)
				units[unit_ix[net->v[want->v[i].node - 1].unit]].load +=
					circuit_weight(&want->v[i]);
		for (size_t i = 0; i < n_units; i++) {
			struct net_node *n = &net->v[units[i].node];

			if (units[i].load > n->down_bps + n->up_bps)
				units[i].load = n->down_bps + n->up_bps;
			n->load = units[i].load;
		}
	}

	/* What stays where it is: circuits under no unit, then units. */
	for (size_t i = 0; i < want->n; i++) {
		struct circuit *w = &want->v[i];
		const struct circuit *h = circuit_set_find(have, w->id);

		w->index = h ? h->index : UINT32_MAX; /* a circuit keeps its identity, also when it moves */
		w->parent_minor = 0;
		if (w->node)
			continue;
		total += circuit_weight(w);
		if (h && !rebalance && h->cpu < CS_MAX_CPUS && cpus[h->cpu] && h->parent_minor == 0) {
			w->cpu = h->cpu;
			w->minor = h->minor;
			w->major = h->major;
			slot[w->cpu].load += circuit_weight(w);
			slot[w->cpu].circuits++;
			continue;
		}
		items[n_items++] = (struct item){ circuit_weight(w), w->id, w, NULL };
	}
	for (size_t i = 0; i < n_units; i++) {
		struct unit *u = &units[i];
		const struct node_rec *h = node_rec_find(an->have, an->n_have, net->v[u->node].name);

		uint32_t cpu, htb;

		total += u->load;
		if (h && !rebalance && h->cpu < CS_MAX_CPUS && cpus[h->cpu] &&
		    layout_place(l, h->major, &cpu, &htb) && cpu == h->cpu && htb < k) {
			u->cpu = h->cpu;
			u->htb = htb;
			slot[u->cpu].load += u->load;
			slot[u->cpu].htb_load[u->htb] += u->load;
			continue;
		}
		items[n_items++] = (struct item){ u->load, net->v[u->node].name, NULL, u };
	}

	/* The rest, heaviest first, onto the least loaded CPU; stop at the first that does not fit. */
	qsort(items, n_items, sizeof(*items), item_desc);
	for (i = 0; i < n_items; i++) {
		int best = least_loaded(slot, cpus);
		struct circuit *c = items[i].c;
		const struct circuit *h;
		int64_t minor;

		if (best < 0)
			break;
		if (items[i].u) {
			struct unit *u = items[i].u;

			u->cpu = (uint32_t)best;
			u->htb = 0;
			for (uint32_t r = 1; r < k; r++)
				if (slot[best].htb_load[r] < slot[best].htb_load[u->htb])
					u->htb = r;
			slot[best].load += u->load;
			slot[best].htb_load[u->htb] += u->load;
			continue;
		}
		/* --rebalance: a circuit that lands on its own CPU keeps its class */
		h = circuit_set_find(have, c->id);
		if (h && h->cpu == (uint32_t)best && h->parent_minor == 0) {
			c->minor = h->minor;
			c->major = h->major;
		} else {
			minor = bm_take(&slot[best].minors);
			if (minor < 0) {
				slot[best].full = true;
				i--;
				continue;
			}
			if (take_index(c, &index))
				break;
			c->minor = (uint32_t)minor + CS_FIRST_MINOR;
			c->major = layout_major(l, (uint32_t)best, c->minor % k);
		}
		c->cpu = (uint32_t)best;
		slot[best].load += items[i].weight;
		slot[best].circuits++;
	}
	if (i < n_items) {
		diag_add(d, "%s: %zu circuits do not fit: %d CPU%s x %u classes per CPU%s", file,
			 want->n, enabled, enabled == 1 ? "" : "s", CS_MINORS_PER_CPU,
			 enabled ? "" : " (no CPU enabled)");
		err = -ENOSPC;
		goto out;
	}

	/* Nodes, parents first: a node keeps its class while its parent class does. */
	for (size_t i = 0; net && i < net->n; i++) {
		struct net_node *n = &net->v[i];
		const struct unit *u;
		const struct node_rec *h;
		int64_t minor;

		if (n->is_virtual)
			continue;
		u = &units[unit_ix[n->unit]];
		n->cpu = u->cpu;
		n->major = layout_major(l, u->cpu, u->htb);
		n->parent_minor = n->real_parent >= 0 ? net->v[n->real_parent].minor : 0;
		h = node_rec_find(an->have, an->n_have, n->name);
		if (h && h->cpu == n->cpu && h->major == n->major && h->parent_minor == n->parent_minor) {
			n->minor = h->minor;
			continue;
		}
		minor = bm_take_mod(&slot[n->cpu].minors, slot[n->cpu].next, k, u->htb);
		if (minor < 0) {
			diag_add(d, "%s: the subtree of node \"%s\" does not fit in one HTB (%u classes with %u HTBs per CPU): mark it \"virtual\": true to spread its children, or use fewer --htbs-per-cpu",
				 file, net->v[u->node].name, CS_MINORS_PER_CPU / k, k);
			err = -ENOSPC;
			goto out;
		}
		n->minor = (uint32_t)minor + CS_FIRST_MINOR;
	}
	/* Circuits under a node: in their node's HTB, a new class when the node's is new. */
	for (size_t i = 0; i < want->n; i++) {
		struct circuit *w = &want->v[i];
		const struct net_node *n;
		const struct circuit *h;
		int64_t minor;

		if (!w->node)
			continue;
		n = &net->v[w->node - 1];
		w->cpu = n->cpu;
		w->major = n->major;
		w->parent_minor = n->minor;
		h = circuit_set_find(have, w->id);
		if (h && h->cpu == w->cpu && h->major == w->major && h->parent_minor == w->parent_minor) {
			w->minor = h->minor;
		} else {
			uint32_t cpu = 0, htb = 0;

			layout_place(l, w->major, &cpu, &htb);
			minor = bm_take_mod(&slot[w->cpu].minors, slot[w->cpu].next, k, htb);
			if (minor < 0 || take_index(w, &index)) {
				diag_add(d, "%s: the subtree of node \"%s\" does not fit in one HTB (%u classes with %u HTBs per CPU): mark it \"virtual\": true to spread its children, or use fewer --htbs-per-cpu",
					 file, net->v[n->unit].name, CS_MINORS_PER_CPU / k, k);
				err = -ENOSPC;
				goto out;
			}
			w->minor = (uint32_t)minor + CS_FIRST_MINOR;
		}
		slot[w->cpu].circuits++;
	}
	/* A unit heavier than a CPU's fair share holds its CPU back: say which. */
	for (size_t i = 0; an && an->notes && enabled > 1 && i < n_units; i++)
		if (units[i].load > total / (uint64_t)enabled)
			diag_add(an->notes, "node \"%s\" alone plans more than a CPU's fair share (%.0f%% of all): everything under it shares one CPU; marking it \"virtual\": true lets its children spread",
				 net->v[units[i].node].name, 100.0 * (double)units[i].load / (double)total);
	err = 0;
out:
	if (slot)
		for (int c = 0; c < CS_MAX_CPUS; c++) {
			free(slot[c].minors.w);
			free(slot[c].next);
			free(slot[c].htb_load);
		}
	free(slot);
	free(items);
	free(units);
	free(unit_ix);
	free(index.w);
	return err;
}
