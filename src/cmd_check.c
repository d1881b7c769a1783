// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* check: a load's validation without root, devices or the kernel. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "input.h"
#include "output.h"

static const char help[] =
	"Usage: cpushaper check [--network FILE|none] [--root NODE] [--skip-invalid] [-j] [FILE]\n"
	"\n"
	"Check a customer file (and the network file beside it, or --network) as\n"
	"'cpushaper load' would, with the same messages and exit status, but without\n"
	"root, devices or the kernel: for the box or CI job that writes the export.\n"
	"What only the running shaper can tell (CPUs, classes, nodes already running)\n"
	"is left to load.\n"
	"Without FILE: the file of 'customers =' in the configuration file.\n"
	"Exit status: 0 the files would load, 1 they would be refused (every problem\n"
	"is printed as FILE:LINE: reason), 2 bad usage.\n"
	"With -j: {\"file\":...,\"network\":...,\"valid\":true,\"circuits\":N,\"nodes\":N,\n"
	"\"errors\":[\"FILE:LINE: reason\",...]}.\n"
	"\n"
	"Options:\n"
	"  --network FILE  the network file (default: network.json beside FILE, if any;\n"
	"                  'none': no network)\n"
	"  --root NODE     check as 'load --root NODE' would\n"
	"  --skip-invalid  as 'load --skip-invalid': rows with a problem are left out\n"
	"                  and named (with -j: \"skipped\":[...])\n"
	"  --config FILE   read FILE instead of " CS_CONFIG_DEFAULT "\n"
	"  -j, --json      print JSON\n"
	"  -h, --help      this text\n";

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "network", required_argument, NULL, 'N' },
		{ "root", required_argument, NULL, 'r' },
		{ "skip-invalid", no_argument, NULL, 'I' },
		{ "no-skip-invalid", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct input_opts in = { 0 };
	struct circuit_set want = { 0 };
	struct network net = { 0 };
	struct cs_diag d = { 0 }, skipped = { 0 };
	char net_path[4096] = "";
	int opt, err;

	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &c))
			continue;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'N':
			in.network = optarg;
			break;
		case 'r':
			in.root = optarg;
			break;
		case 'I':
		case 'i':
			in.skip_invalid = opt == 'I';
			break;
		default:
			fprintf(stderr, "Try 'cpushaper check --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "cpushaper check: expected one customer FILE; try 'cpushaper check --help'\n");
		return EXIT_USAGE;
	}
	in.file = optind < argc ? argv[optind] : config_get(&cli_config, "customers", NULL);
	if (!in.file) {
		fprintf(stderr, "cpushaper check: expected a customer FILE (or customers = FILE in %s)\n",
			cli_config.file ? cli_config.file : CS_CONFIG_DEFAULT);
		return EXIT_USAGE;
	}
	err = input_read(&in, &want, &net, net_path, &d, &skipped);
	if (!c.json && skipped.n)
		for (size_t i = 0; i < skipped.n; i++)
			fprintf(stderr, "cpushaper: warning: skipped %s\n", skipped.msg[i]);
	out_init(stdout, c.json);
	out_open_obj(NULL);
	print_str(PRINT_JSON, "file", NULL, in.file);
	print_str(PRINT_JSON, "network", NULL, net_path);
	print_bool(PRINT_JSON, "valid", NULL, !err);
	print_u64(PRINT_JSON, "circuits", NULL, want.n);
	print_u64(PRINT_JSON, "nodes", NULL, net.n);
	out_open_arr("errors");
	for (size_t i = 0; i < d.n; i++)
		print_str(PRINT_JSON, NULL, NULL, d.msg[i]);
	if (d.dropped) {
		char more[64];

		snprintf(more, sizeof(more), "... and %zu more errors", d.dropped);
		print_str(PRINT_JSON, NULL, NULL, more);
	}
	out_close_arr();
	out_open_arr("skipped");
	for (size_t i = 0; i < skipped.n; i++)
		print_str(PRINT_JSON, NULL, NULL, skipped.msg[i]);
	out_close_arr();
	out_close_obj();
	out_finish();
	if (!c.json) {
		diag_print(&d, stderr);
		if (err)
			fprintf(stderr, "cpushaper: %s refused\n", in.file);
		else if (skipped.n)
			printf("%s: %zu circuit%s%s%s; %zu row%s left out (--skip-invalid)\n", in.file, want.n,
			       want.n == 1 ? "" : "s", net_path[0] ? ", network " : "", net_path, skipped.n,
			       skipped.n == 1 ? "" : "s");
		else
			printf("%s: %zu circuit%s%s%s: no problems\n", in.file, want.n, want.n == 1 ? "" : "s",
			       net_path[0] ? ", network " : "", net_path);
	}
	circuit_set_free(&want);
	network_free(&net);
	diag_free(&d);
	diag_free(&skipped);
	return err == -ENOMEM ? 1 : err ? 1 : 0;
}
