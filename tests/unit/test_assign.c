// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CPU assignment: balance of plan rates, stability, capacity. */
#include "assign.h"
#include "fixtures.h"
#include "test.h"

static bool two_cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };

static uint64_t cpu_load(const struct circuit_set *s, uint32_t cpu)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].cpu == cpu)
			sum += circuit_weight(&s->v[i]);
	return sum;
}

static void test_balance(void)
{
	struct circuit_set want, none = { 0 };
	struct cs_diag d = { 0 };
	unsigned plans[] = { 100, 50, 50, 30, 20, 10, 10, 5, 5, 1000 };
	uint64_t l0, l1, biggest = 1000 * 2 * 1000000ULL;

	fx_set(&want, 10);
	for (unsigned i = 0; i < 10; i++)
		fx_circuit(&want.v[i], i, plans[i], plans[i]);
	ASSERT_EQ(assign_circuits(&want, &none, two_cpus, &L1, "t", &d), 0, "assign 10");
	l0 = cpu_load(&want, 0);
	l1 = cpu_load(&want, 1);
	/* greedy on sorted weights: the gap is at most the biggest circuit */
	ASSERT_TRUE((l0 > l1 ? l0 - l1 : l1 - l0) <= biggest, "gap within the largest plan");
	/* with the 1000 alone on one CPU, everything else lands on the other */
	for (unsigned i = 0; i < 10; i++)
		if (plans[i] != 1000)
			ASSERT_TRUE(want.v[i].cpu != want.v[9].cpu, "small plans avoid the big one's CPU");

	/* equal plans split evenly */
	circuit_set_free(&want);
	fx_set(&want, 100);
	for (unsigned i = 0; i < 100; i++)
		fx_circuit(&want.v[i], i, 10, 5);
	ASSERT_EQ(assign_circuits(&want, &none, two_cpus, &L1, "t", &d), 0, "assign 100");
	ASSERT_EQ(cpu_load(&want, 0), cpu_load(&want, 1), "100 equal plans split 50/50");
	{
		bool seen[CS_MINORS_PER_CPU + CS_FIRST_MINOR] = { 0 };
		bool dup = false, range = true;

		for (size_t i = 0; i < want.n; i++) {
			if (want.v[i].cpu != 0)
				continue;
			range &= want.v[i].minor >= CS_FIRST_MINOR && want.v[i].minor <= CS_LAST_MINOR;
			dup |= seen[want.v[i].minor];
			seen[want.v[i].minor] = true;
		}
		ASSERT_TRUE(range && !dup, "minors unique per CPU and from 3 on");
	}
	circuit_set_free(&want);
	diag_free(&d);
}

static void test_stable(void)
{
	struct circuit_set first, have, again, more, none = { 0 };
	struct cs_diag d = { 0 };
	size_t moved = 0;

	fx_set(&first, 50);
	for (unsigned i = 0; i < 50; i++)
		fx_circuit(&first.v[i], i, 10 + i, 5);
	assign_circuits(&first, &none, two_cpus, &L1, "t", &d);
	fx_copy(&have, &first);

	/* the same file again: identical placement */
	fx_copy(&again, &first);
	for (size_t i = 0; i < again.n; i++)
		again.v[i].cpu = again.v[i].minor = again.v[i].index = 0;
	ASSERT_EQ(assign_circuits(&again, &have, two_cpus, &L1, "t", &d), 0, "reassign");
	for (size_t i = 0; i < again.n; i++)
		moved += again.v[i].cpu != first.v[i].cpu || again.v[i].minor != first.v[i].minor ||
			 again.v[i].index != first.v[i].index;
	ASSERT_EQ(moved, 0, "reloading the same file moves nothing");

	/* one more circuit, a heavy one: nobody moves, it gets fresh ids */
	fx_set(&more, 51);
	for (unsigned i = 0; i < 50; i++)
		fx_circuit(&more.v[i], i, 10 + i, 5);
	fx_circuit(&more.v[50], 50, 5000, 5000);
	ASSERT_EQ(assign_circuits(&more, &have, two_cpus, &L1, "t", &d), 0, "assign with one more");
	moved = 0;
	for (size_t i = 0; i < 50; i++)
		moved += more.v[i].cpu != first.v[i].cpu || more.v[i].minor != first.v[i].minor;
	ASSERT_EQ(moved, 0, "adding a circuit moves no existing one");
	for (size_t i = 0; i < 50; i++) {
		ASSERT_TRUE(more.v[50].index != first.v[i].index, "new index is fresh");
		if (first.v[i].cpu == more.v[50].cpu)
			ASSERT_TRUE(more.v[50].minor != first.v[i].minor, "new minor is fresh");
	}

	/* removing CPU 1: its circuits move to CPU 0, CPU 0's stay put */
	{
		bool only0[CS_MAX_CPUS] = { [0] = true };
		size_t kept = 0, on0 = 0;

		for (size_t i = 0; i < again.n; i++)
			again.v[i].cpu = again.v[i].minor = 0;
		ASSERT_EQ(assign_circuits(&again, &have, only0, &L1, "t", &d), 0, "assign to CPU 0 only");
		for (size_t i = 0; i < again.n; i++) {
			ASSERT_EQ(again.v[i].cpu, 0, "all on CPU 0");
			ASSERT_EQ(again.v[i].index, first.v[i].index, "a moved circuit keeps its index");
			if (first.v[i].cpu == 0) {
				on0++;
				kept += again.v[i].minor == first.v[i].minor;
			}
		}
		ASSERT_EQ(kept, on0, "circuits already on CPU 0 keep their class");
	}
	circuit_set_free(&first);
	circuit_set_free(&have);
	circuit_set_free(&again);
	circuit_set_free(&more);
	diag_free(&d);
}

static void test_capacity(void)
{
	bool one[CS_MAX_CPUS] = { [0] = true };
	struct circuit_set want, none = { 0 };
	struct cs_diag d = { 0 };
	size_t n = CS_MINORS_PER_CPU + 1;

	fx_set(&want, n);
	for (size_t i = 0; i < n; i++)
		fx_circuit(&want.v[i], (unsigned)i, 1, 1);
	ASSERT_EQ(assign_circuits(&want, &none, one, &L1, "t.csv", &d), -ENOSPC,
		  "one more circuit than an HTB holds");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "65534 circuits do not fit: 1 CPU x 65533"),
		    "capacity message");
	diag_free(&d);
	want.n--;
	ASSERT_EQ(assign_circuits(&want, &none, one, &L1, "t.csv", &d), 0, "exactly a full HTB fits");
	want.n++;
	circuit_set_free(&want);
	diag_free(&d);
}

/* Four HTBs per CPU: each circuit in HTB minor % 4 of its CPU, the HTBs filled evenly. */
static void test_layout(void)
{
	const struct cs_layout l4 = { .htbs_per_cpu = 4, .stride = 2 };
	struct circuit_set want, have, none = { 0 };
	struct cs_diag d = { 0 };
	unsigned per_major[9] = { 0 };
	bool right = true, kept = true;

	fx_set(&want, 40);
	for (unsigned i = 0; i < 40; i++)
		fx_circuit(&want.v[i], i, 10, 10);
	ASSERT_EQ(assign_circuits(&want, &none, two_cpus, &l4, "t", &d), 0, "assign 40 over 2 x 4 HTBs");
	for (size_t i = 0; i < want.n; i++) {
		const struct circuit *c = &want.v[i];

		right &= c->major == (c->minor % 4) * 2 + c->cpu + 1;
		if (c->major >= 1 && c->major <= 8)
			per_major[c->major]++;
	}
	ASSERT_TRUE(right, "major = (minor % 4) * stride + cpu + 1");
	for (unsigned m = 1; m <= 8; m++)
		ASSERT_EQ(per_major[m], 5, "5 circuits in each of the 8 HTBs");
	fx_copy(&have, &want);
	for (size_t i = 0; i < want.n; i++)
		want.v[i].cpu = want.v[i].minor = want.v[i].major = 0;
	ASSERT_EQ(assign_circuits(&want, &have, two_cpus, &l4, "t", &d), 0, "reassign");
	for (size_t i = 0; i < want.n; i++)
		kept &= want.v[i].major == have.v[i].major && want.v[i].minor == have.v[i].minor;
	ASSERT_TRUE(kept, "a reload keeps every circuit in its HTB");
	circuit_set_free(&want);
	circuit_set_free(&have);
	diag_free(&d);
}

int main(void)
{
	test_layout();
	test_balance();
	test_stable();
	test_capacity();
	return test_done("assign");
}
