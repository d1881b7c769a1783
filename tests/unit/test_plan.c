// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The diff between wanted and running circuits. */
#include "assign.h"
#include "fixtures.h"
#include "plan.h"
#include "test.h"

static bool two_cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };

/* A running state: @n circuits applied to an empty kernel. */
static void running(struct circuit_set *have, struct lpm_entry **lpm, size_t *n_lpm, unsigned n)
{
	struct circuit_set none = { 0 };
	struct cs_diag d = { 0 };

	fx_set(have, n);
	for (unsigned i = 0; i < n; i++)
		fx_circuit(&have->v[i], i, 10, 5);
	assign_circuits(have, &none, two_cpus, &L1, "t", &d);
	plan_lpm_entries(have, lpm, n_lpm);
}

static void wanted_from(struct circuit_set *want, const struct circuit_set *have)
{
	fx_copy(want, have);
	for (size_t i = 0; i < want->n; i++)
		want->v[i].cpu = want->v[i].minor = want->v[i].index = 0;
}

static void place(struct circuit_set *want, const struct circuit_set *have, const bool *cpus)
{
	struct cs_diag d = { 0 };

	circuit_set_sort(want);
	assign_circuits(want, have, cpus, &L1, "t", &d);
	diag_free(&d);
}

/* Site > {AP-1 > Mesh, AP-2}: three circuits under Mesh, AP-1 and AP-2, one flat. */
static const char *net_text(unsigned mesh_down, bool mesh_under_site)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"Site\": {\"downloadBandwidthMbps\": 100, \"uploadBandwidthMbps\": 50, \"children\": {"
		 " \"AP-1\": {\"downloadBandwidthMbps\": 30, \"uploadBandwidthMbps\": 15%s},"
		 " \"AP-2\": {\"downloadBandwidthMbps\": 40, \"uploadBandwidthMbps\": 20}%s}}}",
		 mesh_under_site ? "" : ", \"children\": {\"Mesh\": {\"downloadBandwidthMbps\": MESH, \"uploadBandwidthMbps\": 9}}",
		 mesh_under_site ? ", \"Mesh\": {\"downloadBandwidthMbps\": MESH, \"uploadBandwidthMbps\": 9}" : "");
	{
		char *m = strstr(buf, "MESH");
		char tail[1024];

		snprintf(tail, sizeof(tail), "%s", m + 4);
		snprintf(m, sizeof(buf) - (size_t)(m - buf), "%u%s", mesh_down, tail);
	}
	return buf;
}

/* Load @text over the running @have/@have_nodes: the plan of nodes and circuits. */
static void plan_net(const char *text, struct circuit_set *want, const struct circuit_set *have,
		     struct node_rec *have_nodes, size_t n_have, struct network *net, struct plan *p)
{
	const char *parents[] = { "Mesh", "AP-1", "AP-2", NULL };
	struct cs_diag d = { 0 };
	struct assign_net an = { .net = net, .have = have_nodes, .n_have = n_have };

	ASSERT_EQ(network_parse("n.json", text, strlen(text), net, &d), 0, "network");
	diag_print(&d, stderr);
	fx_set(want, 4);
	for (unsigned i = 0; i < 4; i++) {
		fx_circuit(&want->v[i], i, 10, 5);
		want->v[i].node = parents[i] ? (uint32_t)network_find_name(net, parents[i]) + 1 : 0;
	}
	ASSERT_EQ(assign_all(want, have, &an, two_cpus, &L1, "t", &d), 0, "assign");
	network_rates(net, want);
	{
		struct lpm_entry *hl = NULL;
		size_t nhl = 0;

		plan_lpm_entries(have, &hl, &nhl);
		ASSERT_EQ(plan_build(want, have, hl, nhl, p), 0, "plan circuits");
		free(hl);
	}
	ASSERT_EQ(plan_nodes(net, have_nodes, n_have, p), 0, "plan nodes");
	diag_free(&d);
}

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_rec *)a)->name, ((const struct node_rec *)b)->name);
}

/* What the kernel would hold after @p: the node records, sorted. */
static size_t applied(const struct network *net, struct node_rec *out)
{
	size_t n = 0;

	for (size_t i = 0; i < net->n; i++)
		if (!net->v[i].is_virtual)
			network_node_rec(net, i, &out[n++]);
	qsort(out, n, sizeof(*out), rec_cmp);
	return n;
}

static bool has(const struct node_rec *v, size_t n, const char *name)
{
	return node_rec_find(v, n, name) != NULL;
}

static void test_nodes(void)
{
	struct circuit_set want, have, none = { 0 };
	struct node_rec recs[8];
	struct network net;
	struct plan p;
	size_t nr;

	/* fresh: every node added, parents first */
	plan_net(net_text(25, false), &want, &none, NULL, 0, &net, &p);
	ASSERT_EQ(p.n_node_add, 4, "fresh: four node classes");
	ASSERT_EQ(p.n_node_put, 4, "fresh: four node records");
	ASSERT_TRUE(p.n_node_add == 4 && !strcmp(p.node_add[0].name, "Site") &&
		    !strcmp(p.node_add[2].name, "Mesh") && p.node_add[2].parent_minor == p.node_add[1].minor,
		    "parents come before their children, each under its parent's class");
	ASSERT_EQ(p.n_node_del + p.n_node_gone + p.n_node_change, 0, "fresh: nothing else");
	ASSERT_TRUE(p.n_node_add == 4 && p.node_add[2].down_max == 25000000 && p.node_add[2].down_min == 10000000,
		    "Mesh: ceil its bandwidth, rate its circuit's Min");
	ASSERT_TRUE(p.n_node_add == 4 && p.node_add[1].down_min == 20000000,
		    "AP-1: rate = its circuit's Min + Mesh's rate");
	fx_copy(&have, &want);
	nr = applied(&net, recs);
	plan_free(&p);
	circuit_set_free(&want);
	network_free(&net);

	/* the same again: nothing */
	plan_net(net_text(25, false), &want, &have, recs, nr, &net, &p);
	ASSERT_TRUE(plan_empty(&p), "the same network again plans nothing");
	plan_free(&p);
	circuit_set_free(&want);
	network_free(&net);

	/* Mesh's bandwidth changes: one class change in place, one record */
	plan_net(net_text(15, false), &want, &have, recs, nr, &net, &p);
	ASSERT_EQ(p.n_node_change, 1, "a bandwidth change is one class change");
	ASSERT_EQ(p.n_node_add + p.n_node_del + p.n_class_add + p.n_class_del, 0, "no class comes or goes");
	ASSERT_TRUE(p.n_node_change == 1 && !strcmp(p.node_change[0].name, "Mesh") &&
		    p.node_change[0].down_max == 15000000, "Mesh gets its new ceil");
	plan_free(&p);
	circuit_set_free(&want);
	network_free(&net);

	/* Mesh moves from AP-1 to Site: Mesh and its circuit anew, nobody else */
	plan_net(net_text(25, true), &want, &have, recs, nr, &net, &p);
	ASSERT_TRUE(p.n_node_add == 1 && !strcmp(p.node_add[0].name, "Mesh"), "the moved node gets a new class");
	ASSERT_TRUE(p.n_node_del == 1 && !strcmp(p.node_del[0].name, "Mesh"), "its old class goes");
	ASSERT_EQ(p.n_node_gone, 0, "its record stays (rewritten)");
	ASSERT_TRUE(p.n_class_add == 1 && !strcmp(p.class_add[0]->id, want.v[0].id) && p.n_class_del == 1,
		    "its circuit moves with it; the others stay");
	/* AP-1's rate lost Mesh's share: an in-place change */
	ASSERT_TRUE(p.n_node_change == 1 && !strcmp(p.node_change[0].name, "AP-1"), "AP-1's rate changes in place");
	plan_free(&p);
	circuit_set_free(&want);
	network_free(&net);

	/* no network: every node goes, the circuits under them move to the root class */
	{
		struct network empty = { 0 };

		fx_set(&want, 4);
		for (unsigned i = 0; i < 4; i++)
			fx_circuit(&want.v[i], i, 10, 5);
		{
			struct cs_diag d = { 0 };
			struct assign_net an = { .net = &empty, .have = recs, .n_have = nr };

			assign_all(&want, &have, &an, two_cpus, &L1, "t", &d);
			diag_free(&d);
		}
		ASSERT_EQ(plan_build(&want, &have, NULL, 0, &p), 0, "plan without network");
		ASSERT_EQ(plan_nodes(&empty, recs, nr, &p), 0, "plan nodes without network");
		ASSERT_EQ(p.n_node_gone, 4, "every node record goes");
		ASSERT_EQ(p.n_node_del, 4, "every node class goes");
		ASSERT_TRUE(has(p.node_gone, p.n_node_gone, "Site"), "Site among them");
		ASSERT_EQ(p.n_class_add, 3, "the three circuits under nodes get classes under :1");
		plan_free(&p);
		circuit_set_free(&want);
	}
	circuit_set_free(&have);
}

int main(void)
{
	struct circuit_set have, want, none = { 0 };
	struct lpm_entry *lpm;
	size_t n_lpm;
	struct plan p;

	test_nodes();
	running(&have, &lpm, &n_lpm, 4);

	/* fresh load into an empty kernel */
	wanted_from(&want, &have);
	place(&want, &none, two_cpus);
	ASSERT_EQ(plan_build(&want, &none, NULL, 0, &p), 0, "plan fresh");
	ASSERT_EQ(p.n_class_add, 4, "fresh: 4 classes");
	ASSERT_EQ(p.n_meta_put, 4, "fresh: 4 records");
	ASSERT_EQ(p.n_lpm_put, 4, "fresh: 4 addresses");
	ASSERT_EQ(p.n_class_del + p.n_lpm_del + p.n_meta_del, 0, "fresh: nothing removed");
	plan_free(&p);
	circuit_set_free(&want);

	/* no-op */
	wanted_from(&want, &have);
	place(&want, &have, two_cpus);
	ASSERT_EQ(plan_build(&want, &have, lpm, n_lpm, &p), 0, "plan same");
	ASSERT_TRUE(plan_empty(&p), "the same circuits again: empty plan");
	plan_free(&p);
	circuit_set_free(&want);

	/* add one */
	wanted_from(&want, &have);
	want.v = realloc(want.v, 5 * sizeof(*want.v));
	fx_circuit(&want.v[4], 99, 20, 20);
	want.n = 5;
	place(&want, &have, two_cpus);
	plan_build(&want, &have, lpm, n_lpm, &p);
	ASSERT_EQ(p.n_class_add, 1, "add: one class");
	ASSERT_STR(p.class_add[0]->id, "c00099", "add: the new circuit");
	ASSERT_EQ(p.n_lpm_put, 1, "add: one address");
	ASSERT_EQ(p.n_meta_put, 1, "add: one record");
	ASSERT_EQ(p.n_class_change + p.n_class_del + p.n_lpm_del, 0, "add: nothing else");
	plan_free(&p);
	circuit_set_free(&want);

	/* remove one */
	wanted_from(&want, &have);
	free(want.v[3].pfx);
	want.n = 3;
	place(&want, &have, two_cpus);
	plan_build(&want, &have, lpm, n_lpm, &p);
	ASSERT_EQ(p.n_class_del, 1, "remove: one class");
	ASSERT_EQ(p.n_meta_del, 1, "remove: one record");
	ASSERT_EQ(p.n_lpm_del, 1, "remove: one address");
	ASSERT_EQ(p.n_class_add + p.n_class_change + p.n_lpm_put, 0, "remove: nothing else");
	plan_free(&p);
	circuit_set_free(&want);

	/* change a rate */
	wanted_from(&want, &have);
	want.v[1].down_max = 50000000;
	place(&want, &have, two_cpus);
	plan_build(&want, &have, lpm, n_lpm, &p);
	ASSERT_EQ(p.n_class_change, 1, "rate: one class change");
	ASSERT_EQ(p.n_meta_put, 1, "rate: record updated");
	ASSERT_EQ(p.n_class_add + p.n_class_del + p.n_lpm_put + p.n_lpm_del, 0,
		  "rate: no class or address churn");
	plan_free(&p);
	circuit_set_free(&want);

	/* move an address from circuit 0 to circuit 1: one update, no delete */
	wanted_from(&want, &have);
	want.v[1].pfx = realloc(want.v[1].pfx, 2 * sizeof(struct cs_prefix));
	want.v[1].pfx[1] = want.v[0].pfx[0];
	want.v[1].n_pfx = 2;
	{
		const char *why;

		prefix_parse("198.18.50.0/24", true, &want.v[0].pfx[0], &why);
	}
	place(&want, &have, two_cpus);
	plan_build(&want, &have, lpm, n_lpm, &p);
	ASSERT_EQ(p.n_lpm_put, 2, "address move: re-point one, add one");
	ASSERT_EQ(p.n_lpm_del, 0, "address move: the moved address is not deleted");
	ASSERT_EQ(p.n_class_add + p.n_class_change + p.n_class_del, 0, "address move: no class change");
	plan_free(&p);
	circuit_set_free(&want);

	/* take CPU 1 away: its circuits move, CPU 0's do not */
	{
		bool only0[CS_MAX_CPUS] = { [0] = true };
		size_t on1 = 0;

		for (size_t i = 0; i < have.n; i++)
			on1 += have.v[i].cpu == 1;
		wanted_from(&want, &have);
		place(&want, &have, only0);
		plan_build(&want, &have, lpm, n_lpm, &p);
		ASSERT_TRUE(on1 > 0, "fixture has circuits on CPU 1");
		ASSERT_EQ(p.n_class_add, on1, "move: new classes on CPU 0");
		ASSERT_EQ(p.n_class_del, on1, "move: old classes on CPU 1 go");
		ASSERT_EQ(p.n_lpm_put, on1, "move: their addresses re-pointed");
		ASSERT_EQ(p.n_meta_del, 0, "move: no circuit removed");
		for (size_t i = 0; i < p.n_class_del; i++)
			ASSERT_EQ(p.class_del[i]->cpu, 1, "move: deleted classes are CPU 1's");
		plan_free(&p);
		circuit_set_free(&want);
	}

	/* an orphan address in the kernel (no circuit record) is deleted */
	{
		struct lpm_entry *more = malloc((n_lpm + 1) * sizeof(*more));
		const char *why;

		memcpy(more, lpm, n_lpm * sizeof(*more));
		prefix_parse("198.19.9.9", true, &more[n_lpm].p, &why);
		more[n_lpm].t = (struct cs_target){ .circuit = 777 };
		wanted_from(&want, &have);
		place(&want, &have, two_cpus);
		plan_build(&want, &have, more, n_lpm + 1, &p);
		ASSERT_EQ(p.n_lpm_del, 1, "orphan address removed");
		plan_free(&p);
		circuit_set_free(&want);
		free(more);
	}

	circuit_set_free(&have);
	free(lpm);
	return test_done("plan");
}
