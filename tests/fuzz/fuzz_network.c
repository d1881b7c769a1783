// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fuzz target: any bytes as a network.json through the parser, the placement
 * of its units and circuits, node rates and the node plan. Beyond "no crash,
 * no sanitizer report": every accepted network keeps HTB's depth, every class
 * hangs under its real parent's in the same HTB with a minor of that HTB, no
 * two classes of a CPU share a minor, and planning it against itself is empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "assign.h"
#include "network.h"
#include "plan.h"

static const struct cs_layout L = { .htbs_per_cpu = 3, .stride = 2 };

#define INVARIANT(c) \
	do {         \
		if (!(c)) \
			abort(); \
	} while (0)

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_rec *)a)->name, ((const struct node_rec *)b)->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bool cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };
	struct circuit_set want = { 0 }, none = { 0 };
	struct network net;
	struct cs_diag d = { 0 }, notes = { 0 };
	struct assign_net an = { .net = &net, .notes = &notes };
	struct node_rec *recs = NULL;
	struct plan p = { 0 };
	size_t nr = 0;
	uint8_t used[2][65536] = { { 0 } };

	if (network_parse("fuzz.json", (const char *)data, size, &net, &d)) {
		INVARIANT(diag_count(&d) > 0 && net.n == 0);
		goto out;
	}
	INVARIANT(diag_count(&d) == 0);
	/* a circuit under every node, virtual ones too (they mean their real ancestor) */
	want.v = calloc(net.n + 1, sizeof(*want.v));
	INVARIANT(want.v);
	want.n = net.n;
	for (size_t i = 0; i < net.n; i++) {
		struct circuit *c = &want.v[i];
		int n = net.v[i].is_virtual ? net.v[i].real_parent : (int)i;

		snprintf(c->id, sizeof(c->id), "c%06zu", i);
		c->down_min = c->up_min = 1000000;
		c->down_max = c->up_max = 5000000;
		c->node = n < 0 ? 0 : (uint32_t)n + 1;
	}
	if (assign_all(&want, &none, &an, cpus, &L, "fuzz.json", &d))
		goto out; /* does not fit: said */
	network_rates(&net, &want);
	for (size_t i = 0; i < net.n; i++) {
		const struct net_node *n = &net.v[i];

		if (n->is_virtual)
			continue;
		INVARIANT(n->depth >= 1 && n->depth <= CS_NET_MAX_DEPTH);
		INVARIANT(n->down_min >= 1 && n->down_min <= n->down_bps && n->up_min <= n->up_bps);
		INVARIANT(n->cpu <= 1 && n->minor >= CS_FIRST_MINOR && n->minor <= CS_LAST_MINOR);
		{
			uint32_t cpu, htb;

			INVARIANT(layout_place(&L, n->major, &cpu, &htb) && cpu == n->cpu &&
				  htb == n->minor % L.htbs_per_cpu);
		}
		INVARIANT(!used[n->cpu][n->minor]);
		used[n->cpu][n->minor] = 1;
		if (n->real_parent >= 0) {
			const struct net_node *pa = &net.v[n->real_parent];

			INVARIANT(!pa->is_virtual && pa->cpu == n->cpu && pa->major == n->major);
			INVARIANT(n->parent_minor == pa->minor);
		} else {
			INVARIANT(n->parent_minor == 0);
		}
	}
	for (size_t i = 0; i < want.n; i++) {
		const struct circuit *c = &want.v[i];

		INVARIANT(!used[c->cpu][c->minor]);
		used[c->cpu][c->minor] = 1;
		if (c->node)
			INVARIANT(c->parent_minor == net.v[c->node - 1].minor &&
				  c->major == net.v[c->node - 1].major);
	}
	/* the kernel after the apply: the same again plans nothing */
	recs = calloc(net.n + 1, sizeof(*recs));
	INVARIANT(recs);
	for (size_t i = 0; i < net.n; i++)
		if (!net.v[i].is_virtual)
			network_node_rec(&net, i, &recs[nr++]);
	qsort(recs, nr, sizeof(*recs), rec_cmp);
	INVARIANT(!plan_nodes(&net, recs, nr, &p));
	INVARIANT(p.n_node_add + p.n_node_change + p.n_node_del + p.n_node_put + p.n_node_gone == 0);
	plan_free(&p);
	INVARIANT(!plan_nodes(&net, NULL, 0, &p));
	INVARIANT(p.n_node_add == nr && p.n_node_put == nr && p.n_node_del == 0);
	/* parents before children */
	for (size_t i = 0; i < p.n_node_add; i++)
		for (size_t j = i + 1; j < p.n_node_add; j++)
			INVARIANT(strcmp(p.node_add[j].name, p.node_add[i].parent));
	plan_free(&p);
out:
	free(recs);
	circuit_set_free(&want);
	network_free(&net);
	diag_free(&d);
	diag_free(&notes);
	return 0;
}
