// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* cpushaper: per-customer traffic shaping, each CPU with HTBs of its own. */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "datapath.h"
#include "log.h"
#include "rate.h"

static const char usage[] =
	"Usage: cpushaper COMMAND [OPTIONS]\n"
	"\n"
	"Shape every customer of an ISP to its plan, in both directions, each customer\n"
	"on one fixed CPU with its own HTB, so no two CPUs share a qdisc lock.\n"
	"\n"
	"Commands:\n"
	"  load FILE     validate a customer file (ShapedDevices.csv) and apply it;\n"
	"                a second load applies only the differences\n"
	"  show [ID]     the circuits as the kernel has them, with their counters\n"
	"  set-rate ID   change one circuit's plan live\n"
	"  top           live per-CPU load and the busiest circuits (--once -j: a snapshot)\n"
	"  metrics       serve per-CPU and per-circuit counters to Prometheus\n"
	"  unload        remove every program, map and qdisc cpushaper made\n"
	"  help          this text\n"
	"\n"
	"Every command takes --lan-dev DEV --wan-dev DEV, -j (JSON) and --help.\n"
	"'cpushaper COMMAND --help' describes a command. Exit status: 0 success,\n"
	"1 failure (the running state is left as it was), 2 bad usage, 3 a load that\n"
	"changed the kernel and then failed (applied in part: see its message).\n";

int cli_common_opt(int opt, const char *arg, struct cli_common *c)
{
	switch (opt) {
	case 'L': c->lan = arg; return 1;
	case 'W': c->wan = arg; return 1;
	case 'j': c->json = true; return 1;
	case 'v': cs_log_level++; return 1;
	}
	return 0;
}

int cli_rate(const char *name, const char *arg, uint64_t *bps)
{
	const char *why;

	if (rate_parse_mbps(arg, bps, &why)) {
		fprintf(stderr, "cpushaper: %s \"%s\" %s\n", name, arg, why);
		return -1;
	}
	return 0;
}

int cli_uint(const char *name, const char *arg, unsigned long lo, unsigned long hi,
	     uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "cpushaper: %s takes %lu to %lu, not \"%s\"\n", name, lo, hi, arg);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * Every command reads BPF objects by id (CAP_SYS_ADMIN) and talks rtnetlink
 * (CAP_NET_ADMIN): say so once instead of failing on the first syscall.
 */
static bool privileged(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d))
		return true; /* let the real calls tell */
	return (d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) &&
	       (d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32)));
}

static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "load", cmd_load },
		{ "show", cmd_show },
		{ "unload", cmd_unload },
		{ "set-rate", cmd_setrate },
		{ "top", cmd_top },
		{ "metrics", cmd_metrics },
	};
	const char *cmd;
	int lead = 1;

	/* `cpushaper -j -v show ...` as with ip: leading options go after the command. */
	while (lead < argc && (!strcmp(argv[lead], "-j") || !strcmp(argv[lead], "-v") ||
			       !strcmp(argv[lead], "--json") || !strcmp(argv[lead], "--verbose")))
		lead++;
	if (lead > 1 && lead < argc) {
		char *c = argv[lead];

		memmove(argv + 2, argv + 1, (size_t)(lead - 1) * sizeof(*argv));
		argv[1] = c;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("cpushaper %s\n", CS_VERSION);
		return 0;
	}
	dp_setup_logging();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name))
			continue;
		if (!asks_help(argc, argv) && !privileged()) {
			fprintf(stderr, "cpushaper: %s needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to manage BPF programs and qdiscs\n",
				cmd);
			return 1;
		}
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "cpushaper: unknown command \"%s\"; try 'cpushaper help'\n", cmd);
	return EXIT_USAGE;
}
