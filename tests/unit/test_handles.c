// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The order of qdisc handle majors (src/handles.h) and the HTB layout over it. */
#include <stdlib.h>
#include <stdio.h>
#include "assign.h"
#include "handles.h"
#include "test.h"

/* The kernel's hash_32(val, 4), written the long way: __hash_32 is val * GOLDEN_RATIO_32. */
static unsigned int kernel_bucket(uint32_t handle)
{
	uint64_t x = (uint64_t)handle * 0x61C88647u;

	return (unsigned int)((x & 0xffffffffu) >> 28);
}

static void test_bucket(void)
{
	bool same = true;

	for (uint32_t m = 0; m <= 0xffff; m++)
		same &= handle_bucket(m) == kernel_bucket(m << 16);
	ASSERT_TRUE(same, "handle_bucket is the kernel's hash_32(major << 16, 4)");
	/* measured (docs/kernel-notes.md): default leaves (handle 0) and HTBs 2 and 21 share a bucket */
	ASSERT_EQ(handle_bucket(0), 0, "handle 0 in bucket 0");
	ASSERT_TRUE(handle_bucket(2) == 0 && handle_bucket(21) == 0, "majors 2 and 21 in bucket 0");
	ASSERT_TRUE(handle_bucket(1) != 0 && handle_bucket(3) != 0, "majors 1 and 3 elsewhere");
}

static void test_order(void)
{
	static uint8_t seen[0x10000];
	bool ok = true, inverse = true, zero_last = true;
	uint32_t first_zero = HANDLE_COUNT;

	for (uint32_t i = 0; i < HANDLE_COUNT; i++) {
		uint32_t m = handle_major(i);

		ok &= m >= 1 && m <= 0xfffe && m != 0x7fff && !seen[m];
		seen[m] = 1;
		inverse &= handle_index(m) == (int32_t)i;
		if (handle_bucket(m) == 0 && first_zero == HANDLE_COUNT)
			first_zero = i;
		zero_last &= i < first_zero || handle_bucket(m) == 0;
		/* ascending within each part: readable majors */
		if (i && i != first_zero)
			ok &= m > handle_major(i - 1);
	}
	ASSERT_TRUE(ok, "every major 1..fffe but 7fff once, ascending within each part");
	ASSERT_TRUE(inverse, "handle_index inverts handle_major");
	ASSERT_TRUE(zero_last, "the default leaves' bucket comes last");
	ASSERT_EQ(HANDLE_COUNT - first_zero, 4095, "4095 majors share bucket 0");
	ASSERT_EQ(handle_major(HANDLE_COUNT), 0, "past the end: 0");
	ASSERT_TRUE(handle_index(0) == -1 && handle_index(0x7fff) == -1 && handle_index(0xffff) == -1 &&
		    handle_index(0x10000) == -1, "0, the MQ's, clsact's and past 16 bits: none");
}

static void test_layout(void)
{
	struct cs_layout l = { .htbs_per_cpu = 8, .stride = 4 };
	bool ok = true, clean = true;
	uint32_t cpu, htb;

	for (uint32_t c = 0; c < 4; c++)
		for (uint32_t j = 0; j < 8; j++) {
			uint32_t m = layout_major(&l, c, j);

			ok &= layout_place(&l, m, &cpu, &htb) && cpu == c && htb == j;
			ok &= handle_index(m) == (int32_t)(j * 4 + c); /* its TX queue */
			clean &= handle_bucket(m) != 0;
		}
	ASSERT_TRUE(ok, "layout_place inverts layout_major; HTB j of CPU k on queue j * stride + k");
	ASSERT_TRUE(clean, "no HTB major in the default leaves' bucket");
	ASSERT_TRUE(!layout_place(&l, handle_major(32), &cpu, &htb), "a major past the HTBs is none of them");
	ASSERT_TRUE(!layout_place(&l, 2, &cpu, &htb), "2 (bucket 0) is no HTB");
	ASSERT_TRUE(!layout_place(&l, 0x7fff, &cpu, &htb), "the MQ is no HTB");
}

int main(void)
{
	test_bucket();
	test_order();
	test_layout();
	return test_done("handles");
}
