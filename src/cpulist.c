// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpulist.h"

#define CS_STR2(x) #x
#define CS_STR(x) CS_STR2(x)
#define CS_MAX_CPUS_LAST 1023
_Static_assert(CS_MAX_CPUS_LAST == CS_MAX_CPUS - 1, "message matches the limit");

static int number(const char **s, long *v, bool clip)
{
	char *end;

	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	errno = 0;
	*v = strtol(*s, &end, 10);
	if (errno || *v > 1 << 22)
		return -ERANGE;
	if (*v >= CS_MAX_CPUS && !clip)
		return -ERANGE;
	*s = end;
	return 0;
}

/* @clip: CPUs beyond CS_MAX_CPUS are left out (a machine's list), else refused (the user's). */
static int parse(const char *s, bool cpus[CS_MAX_CPUS], bool clip, const char **why)
{
	memset(cpus, 0, CS_MAX_CPUS * sizeof(*cpus));
	for (;;) {
		long lo, hi;
		int err;

		if ((err = number(&s, &lo, clip)))
			goto bad;
		hi = lo;
		if (*s == '-') {
			s++;
			if ((err = number(&s, &hi, clip)))
				goto bad;
			if (hi < lo) {
				*why = "has a range that runs backwards";
				return -EINVAL;
			}
		}
		for (long c = lo; c <= hi && c < CS_MAX_CPUS; c++)
			cpus[c] = true;
		if (*s == '\n' || !*s)
			return 0;
		if (*s++ != ',')
			break;
		continue;
bad:
		*why = err == -ERANGE ? "names a CPU beyond the supported 0-" CS_STR(CS_MAX_CPUS_LAST)
				      : "is not a CPU list like 0-3,6";
		return -EINVAL;
	}
	*why = "is not a CPU list like 0-3,6";
	return -EINVAL;
}

int cpulist_parse(const char *s, bool cpus[CS_MAX_CPUS], const char **why)
{
	return parse(s, cpus, false, why);
}

int cpulist_parse_machine(const char *s, bool cpus[CS_MAX_CPUS], const char **why)
{
	return parse(s, cpus, true, why);
}

int cpulist_online(bool cpus[CS_MAX_CPUS])
{
	char buf[65536];
	const char *why;
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int err;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	err = cpulist_parse_machine(buf, cpus, &why);
	return err;
}

void cpulist_format(const bool cpus[CS_MAX_CPUS], char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < CS_MAX_CPUS; c++) {
		int e = c;

		if (!cpus[c])
			continue;
		while (e + 1 < CS_MAX_CPUS && cpus[e + 1])
			e++;
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0,
					e > c ? "%s%d-%d" : "%s%d", off ? "," : "", c, e);
		c = e;
	}
}
