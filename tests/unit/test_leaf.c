// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Which leaf each circuit gets, and its handle major. */
#include <stdlib.h>
#include <stdio.h>
#include "handles.h"
#include "leaf.h"
#include "test.h"

static void make(struct circuit_set *s, size_t n)
{
	s->v = calloc(n, sizeof(*s->v));
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(s->v[i].id, sizeof(s->v[i].id), "c%06zu", i);
		s->v[i].cpu = 0;
		s->v[i].major = 1;
		s->v[i].minor = (uint32_t)(3 + i);
	}
}

static void test_kinds(void)
{
	struct leaf_avail none = { false, false }, fq = { true, false }, all = { true, true };

	ASSERT_EQ(leaf_wanted(CS_SQM_UNSET, CS_LEAF_FQ_CODEL), CS_LEAF_FQ_CODEL, "empty sqm: --leaf");
	ASSERT_EQ(leaf_wanted(CS_SQM_NONE, CS_LEAF_FQ_CODEL), CS_LEAF_DEFAULT, "none: HTB's own pfifo");
	ASSERT_EQ(leaf_wanted(CS_SQM_CAKE, CS_LEAF_DEFAULT), CS_LEAF_CAKE, "cake over --leaf none");
	ASSERT_EQ(leaf_for(CS_LEAF_CAKE, &all), CS_LEAF_CAKE, "cake where there is cake");
	ASSERT_EQ(leaf_for(CS_LEAF_CAKE, &fq), CS_LEAF_FQ_CODEL, "no cake: fq_codel");
	ASSERT_EQ(leaf_for(CS_LEAF_CAKE, &none), CS_LEAF_FIFO, "neither: the FIFO");
	ASSERT_EQ(leaf_for(CS_LEAF_FQ_CODEL, &none), CS_LEAF_FIFO, "no fq_codel: the FIFO");
	ASSERT_EQ(leaf_for(CS_LEAF_DEFAULT, &none), CS_LEAF_DEFAULT, "none stays none");
	ASSERT_STR(leaf_name(CS_LEAF_FIFO), "fifo", "name");
	ASSERT_STR(leaf_name(CS_LEAF_DEFAULT), "pfifo", "HTB's own");
}

static void test_assign(void)
{
	struct leaf_avail none = { false, false };
	struct circuit_set have = { 0 }, want = { 0 };
	struct cs_diag d = { 0 };
	size_t fb;

	/* 2 CPUs x 1 HTB, in the order of src/handles.h (1, 3, 4, 5, 6, ...: 2 is in the
	 * default leaves' bucket): HTBs 1 and 3, their :2 leaves 4 and 5, circuits from 6 */
	ASSERT_TRUE(handle_major(0) == 1 && handle_major(1) == 3 && handle_major(4) == 6, "the order starts 1, 3, .., 6");
	make(&want, 4);
	want.v[1].sqm[0] = want.v[1].sqm[1] = CS_SQM_NONE;
	want.v[2].sqm[1] = CS_SQM_NONE;
	ASSERT_EQ(leaf_assign(&want, NULL, CS_LEAF_FQ_CODEL, &none, 2, NULL, &fb, "t.csv", &d), 0, "first load");
	ASSERT_EQ(want.v[0].leaf_major, 6, "the first free major");
	ASSERT_EQ(want.v[1].leaf_major, 0, "sqm none takes no handle");
	ASSERT_EQ(want.v[2].leaf_major, 7, "one direction with a leaf takes one");
	ASSERT_EQ(want.v[2].leaf[0], CS_LEAF_FIFO, "fq_codel missing: the FIFO");
	ASSERT_EQ(want.v[2].leaf_want[0], CS_LEAF_FQ_CODEL, "what was wanted is kept");
	ASSERT_EQ(want.v[2].leaf[1], CS_LEAF_DEFAULT, "none up");
	ASSERT_EQ(fb, 3, "three circuits get the fallback");

	/* the next load: kept classes keep their majors; a moved one takes a new one */
	have = want;
	make(&want, 5);
	want.v[3].minor = 99; /* moved */
	ASSERT_EQ(leaf_assign(&want, &have, CS_LEAF_FQ_CODEL, &none, 2, NULL, &fb, "t.csv", &d), 0, "reload");
	ASSERT_EQ(want.v[0].leaf_major, 6, "kept");
	ASSERT_EQ(want.v[1].leaf_major, 9, "none -> fq_codel: a new one, past those still held");
	ASSERT_EQ(want.v[2].leaf_major, 7, "kept");
	ASSERT_EQ(want.v[3].leaf_major, 10, "moved: a new one while the old class lives");
	ASSERT_EQ(want.v[4].leaf_major, 11, "new");
	circuit_set_free(&have);
	circuit_set_free(&want);

	/* leaves of classes an interrupted run left hold majors no record names */
	{
		static uint8_t held[0x10000];

		held[6] = held[8] = 1;
		make(&want, 2);
		ASSERT_EQ(leaf_assign(&want, NULL, CS_LEAF_FQ_CODEL, &none, 2, held, &fb, "t.csv", &d), 0, "held");
		ASSERT_TRUE(want.v[0].leaf_major == 7 && want.v[1].leaf_major == 9, "majors held by leftovers are skipped");
		circuit_set_free(&want);
	}

	ASSERT_EQ(leaf_budget(2), 0xfffe - 4 - 1, "all majors but 0x7fff, the HTBs' and their :2 leaves'");
	make(&want, leaf_budget(2) + 1);
	ASSERT_EQ(leaf_assign(&want, NULL, CS_LEAF_FQ_CODEL, &none, 2, NULL, &fb, "t.csv", &d), -EINVAL,
		  "more circuits than handles: refused");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "t.csv: 65530 circuits need leaf qdiscs, but a device has handles for 65529"),
		    "the refusal says how many");
	diag_print(&d, stderr);
	for (size_t i = 0; i < 1; i++)
		want.v[i].sqm[0] = want.v[i].sqm[1] = CS_SQM_NONE;
	diag_free(&d);
	ASSERT_EQ(leaf_assign(&want, NULL, CS_LEAF_FQ_CODEL, &none, 2, NULL, &fb, "t.csv", &d), 0,
		  "sqm none on one: the rest fit");
	ASSERT_EQ(want.v[want.n - 1].leaf_major, handle_major(HANDLE_COUNT - 1), "the last major");
	{
		static uint8_t seen[0x10000];
		bool ok = true;

		for (size_t i = 1; i < want.n; i++) {
			uint32_t m = want.v[i].leaf_major;

			ok &= m && m != CS_MQ_MAJOR && m != 1 && m != 3 && m != 4 && m != 5 && !seen[m];
			seen[m] = 1;
			/* the default leaves' bucket only once the others are used up */
			ok &= handle_bucket(m) != 0 || i >= want.n - HANDLE_COUNT / 16;
		}
		ASSERT_TRUE(ok, "every circuit a major of its own, none of the HTBs' or the MQ's, bucket 0 last");
	}
	circuit_set_free(&want);
	diag_free(&d);
}

int main(void)
{
	test_kinds();
	test_assign();
	return test_done("leaf");
}
