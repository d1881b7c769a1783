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
#include "config.h"
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
	"  load [FILE]   validate a customer file (ShapedDevices.csv) and apply it;\n"
	"                a second load applies only the differences\n"
	"  show [ID]     the circuits as the kernel has them, with their counters\n"
	"  set-rate ID   change one circuit's plan live\n"
	"  top           live per-CPU load and the busiest circuits (--once -j: a snapshot)\n"
	"  metrics       serve per-CPU and per-circuit counters to Prometheus\n"
	"  unload        remove every program, map and qdisc cpushaper made\n"
	"  check [FILE]  check a customer file as load would, without root or devices\n"
	"  help          this text\n"
	"\n"
	"Every command takes --lan-dev DEV --wan-dev DEV, --config FILE, -j (JSON) and\n"
	"--help. The configuration file (" CS_CONFIG_DEFAULT ", if it\n"
	"exists) gives options as 'key = value' lines named as the long options, e.g.\n"
	"'lan-dev = eth1'; options on the command line win. 'cpushaper COMMAND --help'\n"
	"describes a command; man cpushaper has it all. Exit status: 0 success,\n"
	"1 failure (the running state is left as it was), 2 bad usage, 3 a load that\n"
	"changed the kernel and then failed (applied in part: see its message).\n";

int cli_common_opt(int opt, const char *arg, struct cli_common *c)
{
	switch (opt) {
	case 'L': c->lan = arg; return 1;
	case 'W': c->wan = arg; return 1;
	case 'j': c->json = true; return 1;
	case 'v': cs_log_level++; return 1;
	case 'C': return 1; /* read before the command ran: see main() */
	}
	return 0;
}

struct config cli_config;

int cli_need_devices(const struct cli_common *c, const char *cmd)
{
	if (c->lan && c->wan)
		return 0;
	fprintf(stderr, "cpushaper %s: --lan-dev and --wan-dev are required (or lan-dev and wan-dev in %s)\n",
		cmd, cli_config.file ? cli_config.file : CS_CONFIG_DEFAULT);
	return -1;
}

/* Is @arg --config, or an abbreviation getopt takes for it (--co, --conf...)? */
static bool is_config_opt(const char *arg, const char **value)
{
	size_t n = strcspn(arg, "=");

	if (n < 4 || n > 8 || strncmp(arg, "--config", n))
		return false;
	*value = arg[n] ? arg + n + 1 : NULL;
	return true;
}

/*
 * The file of --config FILE (or --config=FILE, or an abbreviation) among a
 * command's arguments, before any "--"; NULL: the default file, which may be
 * missing. A "--config" that is another option's value (--root --config) is
 * taken as the option here; getopt then fails on the command line anyway.
 */
static const char *config_arg(int argc, char **argv)
{
	const char *path = NULL, *v;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (is_config_opt(argv[i], &v))
			path = v ? v : i + 1 < argc ? argv[++i] : NULL;
	}
	return path;
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
		bool root; /* BPF objects and rtnetlink */
	} cmds[] = {
		{ "load", cmd_load, true },
		{ "show", cmd_show, true },
		{ "unload", cmd_unload, true },
		{ "set-rate", cmd_setrate, true },
		{ "top", cmd_top, true },
		{ "metrics", cmd_metrics, true },
		{ "check", cmd_check, false },
	};
	const char *cmd, *cfg_path;
	struct config_args args;
	struct cs_diag d = { 0 };
	int lead = 1, ret;

	/* `cpushaper -j -v --config F show ...` as with ip: leading options go after the command. */
	while (lead < argc) {
		const char *v;

		if (!strcmp(argv[lead], "-j") || !strcmp(argv[lead], "-v") ||
		    !strcmp(argv[lead], "--json") || !strcmp(argv[lead], "--verbose"))
			lead++;
		else if (is_config_opt(argv[lead], &v) && (v || lead + 1 < argc))
			lead += v ? 1 : 2;
		else
			break;
	}
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
		if (asks_help(argc, argv))
			return cmds[i].fn(argc - 1, argv + 1);
		if (cmds[i].root && !privileged()) {
			fprintf(stderr, "cpushaper: %s needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to manage BPF programs and qdiscs\n",
				cmd);
			return 1;
		}
		/*
		 * unload must always be able to take the shaper down: a mistake in
		 * the file is a warning there, and the lines that are right count.
		 */
		cfg_path = config_arg(argc - 1, argv + 1);
		ret = config_read(cfg_path ? cfg_path : CS_CONFIG_DEFAULT,
				  (cfg_path ? CONFIG_REQUIRED : 0) |
				  (!strcmp(cmd, "unload") ? CONFIG_LENIENT : 0), &cli_config, &d);
		for (size_t k = 0; k < d.n; k++)
			fprintf(stderr, "%s%s\n", ret ? "" : "warning: ", d.msg[k]);
		if (!ret && d.n)
			fprintf(stderr, "warning: unload goes on with the lines of %s that are right\n",
				cfg_path ? cfg_path : CS_CONFIG_DEFAULT);
		diag_free(&d);
		if (ret)
			return ret == -EINVAL ? EXIT_USAGE : 1;
		if (config_argv(&cli_config, cmd, argc - 1, argv + 1, &args)) {
			fprintf(stderr, "cpushaper: out of memory\n");
			config_free(&cli_config);
			return 1;
		}
		ret = cmds[i].fn(args.argc, args.argv);
		config_args_free(&args);
		config_free(&cli_config);
		return ret;
	}
	fprintf(stderr, "cpushaper: unknown command \"%s\"; try 'cpushaper help'\n", cmd);
	return EXIT_USAGE;
}
