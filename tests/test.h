/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Minimal test harness: ASSERT_* record failures with what was being checked. */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (cond) {                                                \
			t_pass++;                                          \
		} else {                                                   \
			t_fail++;                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

/* each argument evaluated once: a call with a side effect (a read, a counter) runs once */
#define ASSERT_EQ(got, want, what)                                                   \
	do {                                                                         \
		long long got_ = (long long)(got), want_ = (long long)(want);        \
		CHECK(got_ == want_, "%s: got %lld, want %lld", what, got_, want_); \
	} while (0)
#define ASSERT_STR(got, want, what)                                                   \
	do {                                                                          \
		const char *got_ = (got), *want_ = (want);                            \
		CHECK(!strcmp(got_, want_), "%s: got \"%s\", want \"%s\"", what, got_, \
		      want_);                                                         \
	} while (0)
#define ASSERT_TRUE(cond, what) CHECK((cond), "%s", what)

static inline int test_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
