// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CPU lists: the user's (--cpus) and the machine's (sysfs online), of any size. */
#include <stdbool.h>
#include <stdlib.h>
#include "cpulist.h"
#include "test.h"

static int count(const bool *c)
{
	int n = 0;

	for (int i = 0; i < CS_MAX_CPUS; i++)
		n += c[i];
	return n;
}

/* The harness itself: a failing ASSERT_EQ/ASSERT_STR runs its arguments once (a read, a counter). */
static int calls;
static int next_call(void) { return ++calls; }
static const char *next_name(void) { return ++calls > 0 ? "x" : ""; }

static void harness_once(void)
{
	FILE *err = stderr;
	int fails = t_fail;

	stderr = fopen("/dev/null", "w"); /* the two failures below are on purpose */
	if (!stderr) {
		stderr = err;
		return;
	}
	ASSERT_EQ(next_call(), 0, "(fails on purpose)");
	ASSERT_STR(next_name(), "y", "(fails on purpose)");
	fclose(stderr);
	stderr = err;
	ASSERT_EQ(t_fail - fails, 2, "the two failures were counted");
	t_fail = fails;
	ASSERT_EQ(calls, 2, "a failing assertion evaluated each argument once");
}

int main(void)
{
	static bool cpus[CS_MAX_CPUS];
	const char *why = "";
	char buf[64];

	/* a two-socket server: 384 threads */
	ASSERT_EQ(cpulist_parse_machine("0-383\n", cpus, &why), 0, "0-383 online");
	ASSERT_EQ(count(cpus), 384, "384 CPUs");
	ASSERT_TRUE(cpus[0] && cpus[255] && cpus[256] && cpus[383] && !cpus[384], "the 384 are 0..383");
	ASSERT_EQ(cpulist_parse("0-3,300-303", cpus, &why), 0, "--cpus naming CPUs above 255");
	ASSERT_EQ(count(cpus), 8, "8 CPUs chosen");
	cpulist_format(cpus, buf, sizeof(buf));
	ASSERT_STR(buf, "0-3,300-303", "formatted back");

	/* a machine with more CPUs than can shape: those beyond are left out, not an error */
	ASSERT_EQ(cpulist_parse_machine("0-4095\n", cpus, &why), 0, "0-4095 online");
	ASSERT_EQ(count(cpus), CS_MAX_CPUS, "the first CS_MAX_CPUS of them usable");
	ASSERT_EQ(cpulist_parse_machine("0,2,5-7,1020-1030\n", cpus, &why), 0, "a sparse list across the limit");
	ASSERT_EQ(count(cpus), 9, "0,2,5,6,7,1020..1023");

	/* the user's list: beyond the limit is refused with the reason */
	ASSERT_TRUE(cpulist_parse("0-1024", cpus, &why) != 0, "--cpus 0-1024 refused");
	ASSERT_STR(why, "names a CPU beyond the supported 0-1023", "reason");
	ASSERT_TRUE(cpulist_parse("3-1", cpus, &why) != 0, "backwards range refused");
	ASSERT_TRUE(cpulist_parse("a", cpus, &why) != 0, "garbage refused");
	ASSERT_TRUE(cpulist_parse("99999999999999999999", cpus, &why) != 0, "overflow refused");
	ASSERT_TRUE(cpulist_parse_machine("0-99999999", cpus, &why) != 0, "absurd machine list refused");
	harness_once();
	return test_done("cpulist");
}
