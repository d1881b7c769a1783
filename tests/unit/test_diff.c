// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a load says it changes: each kind of change, its line, the set-rate it undoes. */
#include "diff.h"
#include "test.h"
#include "unit/fixtures.h"

static const struct change *find(const struct change_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	return NULL;
}

static void expect_line(const struct change_list *l, const char *id, const char *want)
{
	const struct change *c = find(l, id);
	char line[512] = "(none)";

	if (c)
		change_format(c, line, sizeof(line));
	ASSERT_STR(line, want, id);
}

int main(void)
{
	struct circuit_set have, want;
	struct change_list l;

	/* running: c00000..c00004 on CPU 0/1, class 1:3.. */
	fx_set(&have, 5);
	for (unsigned i = 0; i < 5; i++) {
		fx_circuit(&have.v[i], i, 10 * (i + 1), 5);
		have.v[i].cpu = i % 2;
		have.v[i].major = i % 2 + 1;
		have.v[i].minor = 3 + i;
	}
	have.v[1].flags = CS_REC_SET_RATE; /* c00001's plan came from set-rate */
	fx_copy(&want, &have);
	/* c00000 unchanged; c00001: the file's plan back; c00002: moved; c00003: removed; c00004: renamed; c00005: new */
	want.v[1].flags = 0;
	want.v[1].down_max = 50000000;
	want.v[2].cpu = 1, want.v[2].major = 2, want.v[2].minor = 9;
	want.v[2].up_max = 7000000;
	snprintf(want.v[4].name, sizeof(want.v[4].name), "Renamed");
	free(want.v[3].pfx);
	want.v[3] = want.v[4];
	fx_circuit(&want.v[4], 5, 100, 20);
	want.v[4].cpu = 0, want.v[4].major = 1, want.v[4].minor = 20;

	ASSERT_EQ(diff_build(&want, &have, NULL, NULL, 0, &l), 0, "diff");
	ASSERT_EQ(l.n, 5, "five changes: the unchanged circuit says nothing");
	ASSERT_TRUE(find(&l, "c00000") == NULL, "unchanged: not listed");
	ASSERT_EQ(l.added, 1, "added");
	ASSERT_EQ(l.changed, 2, "changed (a plan, a name)");
	ASSERT_EQ(l.moved, 1, "moved");
	ASSERT_EQ(l.removed, 1, "removed");
	expect_line(&l, "c00001", "~ c00001 down max 20 → 50 (puts the file's plan back over a set-rate)");
	expect_line(&l, "c00002", "> c00002 moved: cpu 0 → 1, up max 5 → 7");
	expect_line(&l, "c00003", "- c00003 removed (its addresses go to the default class)");
	expect_line(&l, "c00004", "~ c00004 name \"\" → \"Renamed\"");
	expect_line(&l, "c00005", "+ c00005 added: cpu 0, down 100-100, up 20-20 Mbit/s");
	ASSERT_TRUE(l.n == 5 && !strcmp(l.v[0].id, "c00001") && !strcmp(l.v[4].id, "c00005"),
		    "in the order of the IDs");
	diff_free(&l);

	/* a set-rate the file agrees with: nothing to undo, nothing to say about it */
	have.v[1].down_max = 50000000;
	ASSERT_EQ(diff_build(&want, &have, NULL, NULL, 0, &l), 0, "diff again");
	ASSERT_TRUE(find(&l, "c00001") == NULL, "a set-rate equal to the file: no change listed");
	diff_free(&l);

	circuit_set_free(&want);
	circuit_set_free(&have);
	return test_done("diff");
}
