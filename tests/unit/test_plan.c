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

int main(void)
{
	struct circuit_set have, want, none = { 0 };
	struct lpm_entry *lpm;
	size_t n_lpm;
	struct plan p;

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
