// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "circuits.h"
#include "cli.h"
#include "lock.h"
#include "maps.h"
#include "output.h"
#include "plan.h"
#include "qdisc.h"
#include "rate.h"
#include "state.h"

static const char help[] =
	"Usage: cpushaper set-rate --lan-dev DEV --wan-dev DEV CIRCUIT | --node NAME\n"
	"                          [--down-min M] [--down-max M] [--up-min M] [--up-max M]\n"
	"\n"
	"Change the plan of the running circuit CIRCUIT (its Circuit ID) now, in place:\n"
	"its HTB classes change without being rebuilt, so its counters, its queue and its\n"
	"CPU stay. Rates are Mbit/s, fractional allowed, checked as in the customer file\n"
	"(greater than 0, Min not above Max). Options not given keep their value.\n"
	"\n"
	"The customer file stays the source of truth: the next 'cpushaper load' of a file\n"
	"that still has the old plan puts the old plan back. Change the file too to make\n"
	"a change last.\n"
	"\n"
	"With --node NAME the same for a node of the network (docs/network.md): Max is\n"
	"its bandwidth (its classes' ceil), Min what its classes guarantee (rate).\n"
	"\n"
	"Options:\n" COMMON_OPTS_HELP
	"  --node NAME     change node NAME instead of a circuit\n"
	"  --down-min M    Download Min (HTB rate on lan-dev)\n"
	"  --down-max M    Download Max (HTB ceil on lan-dev)\n"
	"  --up-min M      Upload Min (HTB rate on wan-dev)\n"
	"  --up-max M      Upload Max (HTB ceil on wan-dev)\n";

static void print_change(const char *dir, uint64_t min0, uint64_t max0, uint64_t min1,
			 uint64_t max1)
{
	char a[32], b[32], c[32], d[32];

	rate_format_mbps(min0, a, sizeof(a));
	rate_format_mbps(max0, b, sizeof(b));
	rate_format_mbps(min1, c, sizeof(c));
	rate_format_mbps(max1, d, sizeof(d));
	out_open_obj(dir);
	print_fp("  %-4s min %s max %s", dir, a, b);
	if (min0 != min1 || max0 != max1)
		print_fp(" -> min %s max %s Mbit\n", c, d);
	else
		print_fp(" Mbit (unchanged)\n");
	print_num(PRINT_JSON, "min_mbps", NULL, c);
	print_num(PRINT_JSON, "max_mbps", NULL, d);
	print_bool(PRINT_JSON, "changed", NULL, min0 != min1 || max0 != max1);
	out_close_obj();
}

/*
 * The rates given on the command line into @v (down min, down max, up min,
 * up max of a circuit or a node); Min not above Max in either direction, or
 * say so.
 */
static int apply_rates(uint64_t *const v[4], const uint64_t rate[5], const bool given[5])
{
	for (int k = 0; k < 4; k++)
		if (given[k + 1])
			*v[k] = rate[k + 1];
	for (int dir = 0; dir < 2; dir++) {
		char a[32], b[32];

		if (*v[2 * dir] <= *v[2 * dir + 1])
			continue;
		rate_format_mbps(*v[2 * dir], a, sizeof(a));
		rate_format_mbps(*v[2 * dir + 1], b, sizeof(b));
		fprintf(stderr, "cpushaper: %s Min (%s) would be greater than its Max (%s); nothing changed\n",
			dir ? "Upload" : "Download", a, b);
		return -EINVAL;
	}
	return 0;
}

static int set_node(struct cs_state *s, struct nl_sock **sk, const char *name, const uint64_t rate[5],
		    const bool given[5])
{
	const struct node_rec *have;
	struct node_rec want;
	int err;

	if ((err = state_read_nodes(s))) {
		fprintf(stderr, "cpushaper: cannot read the running nodes: %s\n", strerror(-err));
		return err;
	}
	if (!(have = node_rec_find(s->nodes, s->n_nodes, name))) {
		fprintf(stderr, "cpushaper: no node \"%s\" is loaded on %s/%s\n", name, s->lan, s->wan);
		return -ENOENT;
	}
	want = *have;
	want.flags |= CS_REC_SET_RATE;
	/* a node's Min is what load guarantees below it: a lower Max alone takes it along */
	if (given[2] && !given[1] && want.down_min > rate[2])
		want.down_min = rate[2];
	if (given[4] && !given[3] && want.up_min > rate[4])
		want.up_min = rate[4];
	if ((err = apply_rates((uint64_t *const[4]){ &want.down_min, &want.down_max, &want.up_min,
						     &want.up_max }, rate, given)))
		return err;
	if ((err = tc_open(sk)) || (err = state_set_node_rates(s, *sk, have, &want))) {
		fprintf(stderr, "cpushaper: cannot change node \"%s\": %s; nothing changed\n", name,
			strerror(-err));
		return err;
	}
	out_open_obj(NULL);
	print_str(PRINT_ANY, "node", "node %s", name);
	print_u64(PRINT_ANY, "cpu", " (cpu %llu)\n", have->cpu);
	print_change("down", have->down_min, have->down_max, want.down_min, want.down_max);
	print_change("up", have->up_min, have->up_max, want.up_min, want.up_max);
	out_close_obj();
	out_finish();
	return 0;
}

int cmd_setrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "down-min", required_argument, NULL, 1 },
		{ "down-max", required_argument, NULL, 2 },
		{ "up-min", required_argument, NULL, 3 },
		{ "up-max", required_argument, NULL, 4 },
		{ "node", required_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *names[] = { "", "--down-min", "--down-max", "--up-min", "--up-max" };
	struct cli_common c = { 0 };
	uint64_t rate[5] = { 0 };
	bool given[5] = { 0 };
	struct circuit have, want;
	struct nl_sock *sk = NULL;
	struct cs_state s;
	const char *id, *node = NULL;
	int opt, err, lock = -1;

	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &c))
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (opt == 'N') {
			node = optarg;
			continue;
		}
		if (opt >= 1 && opt <= 4) {
			if (cli_rate(names[opt], optarg, &rate[opt]))
				return EXIT_USAGE;
			given[opt] = true;
			continue;
		}
		fprintf(stderr, "Try 'cpushaper set-rate --help'.\n");
		return EXIT_USAGE;
	}
	if (optind != argc - !node) {
		fprintf(stderr, "cpushaper set-rate: one CIRCUIT (or --node NAME) is required\n");
		return EXIT_USAGE;
	}
	if (cli_need_devices(&c, "set-rate"))
		return EXIT_USAGE;
	if (!given[1] && !given[2] && !given[3] && !given[4]) {
		fprintf(stderr, "cpushaper set-rate: nothing to change: give --down-min, --down-max, --up-min or --up-max\n");
		return EXIT_USAGE;
	}
	id = node ? node : argv[optind];
	out_init(stdout, c.json);
	memset(&s, 0, sizeof(s));
	maps_init(&s.maps);
	if ((lock = cs_lock_writer("set-rate", LOCK_TIMEOUT_S)) < 0) {
		err = lock;
		goto out;
	}
	if ((err = state_open_loaded(&s, c.lan, c.wan, 0)))
		goto out;
	if (node) {
		err = set_node(&s, &sk, node, rate, given);
		goto out;
	}
	if ((err = maps_circuit_find(&s.maps, id, &have))) {
		fprintf(stderr, "cpushaper: no circuit \"%s\" is loaded on %s/%s\n", id, c.lan, c.wan);
		goto out;
	}
	want = have;
	want.flags |= CS_REC_SET_RATE; /* the next load names what it puts back */
	if ((err = apply_rates((uint64_t *const[4]){ &want.down_min, &want.down_max, &want.up_min,
						     &want.up_max }, rate, given)))
		goto out;
	if ((err = tc_open(&sk)) || (err = state_set_rates(&s, sk, &have, &want))) {
		fprintf(stderr, "cpushaper: cannot change circuit \"%s\": %s; nothing changed\n", id,
			strerror(-err));
		goto out;
	}
	out_open_obj(NULL);
	print_str(PRINT_ANY, "id", "%s", id);
	print_u64(PRINT_ANY, "cpu", " (cpu %llu)\n", have.cpu);
	print_change("down", have.down_min, have.down_max, want.down_min, want.down_max);
	print_change("up", have.up_min, have.up_max, want.up_min, want.up_max);
	out_close_obj();
	out_finish();
out:
	if (lock >= 0)
		close(lock);
	tc_close(sk);
	state_close(&s);
	return err ? 1 : 0;
}
