// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "circuits.h"
#include "cli.h"
#include "maps.h"
#include "output.h"
#include "plan.h"
#include "qdisc.h"
#include "rate.h"
#include "state.h"
#include "rttstat.h"
#include "stats.h"

static const char help[] =
	"Usage: cpushaper top --lan-dev DEV --wan-dev DEV [--once] [-j] [OPTIONS]\n"
	"\n"
	"How loaded each CPU is, refreshed every second like top(1): per shaping CPU the\n"
	"circuits on it and the sum of their plans (Max), the Mbit/s and packets/s its\n"
	"HTBs send down (lan-dev) and up (wan-dev), drops per second in its HTBs and in\n"
	"the cpumap ring that feeds it, and its backlog; below, the busiest circuits and,\n"
	"with a network, the busiest nodes against their bandwidth.\n"
	"Press q or Ctrl-C to quit.\n"
	"\n"
	"With --once it prints one snapshot of the cumulative counters instead; with -j as\n"
	"JSON: {\"cpus\":[{\"cpu\":0,\"circuits\":3,\"packets\":...,\"bytes\":...,\"drops\":...,\n"
	"\"backlog\":...,\"down\":{...},\"up\":{...},\"xdp\":{...},\"cpumap\":{...}}],\"busiest\":[...],\n"
	"\"busiest_nodes\":[{\"name\":...,\"cpu\":0,\"down_bytes\":...,\"up_bytes\":...}]}.\n"
	"Without --once, -j prints such a snapshot every interval, one per line.\n"
	"\n"
	"Counters come from the kernel: the data path's per-CPU BPF counters (packets\n"
	"XDP sent to each CPU, packets that arrived there through the cpumap) and the HTB\n"
	"statistics of both devices. Cpumap drops are sent minus arrived: packets still in\n"
	"the ring when the counters are read show up there until they arrive.\n"
	"\n"
	"Options:\n" COMMON_OPTS_HELP
	"  --once          one snapshot of cumulative counters, then exit\n"
	"  -d, --interval SEC   seconds between refreshes (default 1)\n"
	"  -n, --iterations N   stop after N refreshes\n"
	"  -c, --circuits N     how many busiest circuits (and nodes) to list (default 10)\n";

struct snap {
	struct circuit_set have;
	struct cs_stats st;
	struct node_rec *nodes; /* of the network: st.node_down/up are in this order */
	size_t n_nodes;
	struct timespec at;
	__u32 config_id; /* which shaper's maps: counters of two cannot be subtracted */
	struct unknown_addr *unknown; /* busiest first */
	size_t n_unknown;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/*
 * @prev: the last refresh, whose drops and backlog idle circuits keep (no
 * class request); every STATS_FULL_NS all classes are asked for again.
 */
static int take(struct cs_state *s, struct snap *sn, const struct snap *prev)
{
	static struct timespec full;
	struct stats_prev p = { 0 };
	struct timespec now;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (prev && prev->st.down && prev->config_id == s->config_id &&
	    secs(&full, &now) * 1e9 < (double)stats_full_ns())
		p = (struct stats_prev){ &prev->have, &prev->st };
	else
		full = now;

	state_refresh_attach(s); /* damage is reported as it is now, not as at start */
	err = maps_read_circuits(&s->maps, &sn->have);
	if (!err)
		err = state_read_nodes(s);
	if (!err)
		err = stats_read(s, &sn->have, p.have ? &p : NULL, &sn->st);
	if (!err && s->n_nodes) {
		sn->nodes = malloc(s->n_nodes * sizeof(*sn->nodes));
		if (!sn->nodes) {
			stats_free(&sn->st);
			err = -ENOMEM;
		} else {
			memcpy(sn->nodes, s->nodes, s->n_nodes * sizeof(*sn->nodes));
			sn->n_nodes = s->n_nodes;
		}
	}
	if (!err)
		err = maps_read_unknown(&s->maps, &sn->unknown, &sn->n_unknown);
	clock_gettime(CLOCK_MONOTONIC, &sn->at);
	sn->config_id = s->config_id;
	if (err)
		circuit_set_free(&sn->have);
	return err;
}

/* Nothing is loaded (any more): say so where the table was. */
static void print_unloaded(const struct cli_common *c)
{
	if (c->json) {
		printf("{\"loaded\":false}\n");
	} else {
		printf("\033[H\033[2J");
		printf("nothing is loaded on %s/%s: waiting for a load (q quits)\n", c->lan, c->wan);
	}
	fflush(stdout);
}

/* A shaper loaded since the last refresh: its rates from the next one. */
static void print_fresh(const struct cli_common *c)
{
	printf("\033[H\033[2J");
	printf("%s/%s: a new shaper was loaded: rates from the next refresh\n", c->lan, c->wan);
	fflush(stdout);
}

static void drop(struct snap *sn)
{
	stats_free(&sn->st);
	circuit_set_free(&sn->have);
	free(sn->nodes);
	free(sn->unknown);
	memset(sn, 0, sizeof(*sn));
}

static void print_dir(const char *key, const struct dir_stats *d)
{
	out_open_obj(key);
	print_u64(PRINT_JSON, "bytes", NULL, d->bytes);
	print_u64(PRINT_JSON, "packets", NULL, d->packets);
	print_u64(PRINT_JSON, "drops", NULL, d->drops);
	print_u64(PRINT_JSON, "backlog", NULL, d->backlog);
	print_u64(PRINT_JSON, "qlen", NULL, d->qlen);
	out_close_obj();
}

/* Circuits ranked by bytes (both directions), since @prev if given. */
struct rank {
	size_t i;
	uint64_t down, up;
};

static int rank_cmp(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;
	uint64_t sx = x->down + x->up, sy = y->down + y->up;

	return sx < sy ? 1 : sx > sy ? -1 : (x->i > y->i) - (x->i < y->i);
}

/* Bytes counted since @then; a class rebuilt in between (a move) starts again from 0. */
static uint64_t since(uint64_t now, uint64_t then)
{
	return then <= now ? now - then : now;
}

static struct rank *ranked(const struct snap *cur, const struct snap *prev)
{
	struct rank *r = calloc(cur->have.n ? cur->have.n : 1, sizeof(*r));

	if (!r)
		return NULL;
	for (size_t i = 0; i < cur->have.n; i++) {
		const struct circuit *p = prev ? circuit_set_find(&prev->have, cur->have.v[i].id) : NULL;
		size_t j = p ? (size_t)(p - prev->have.v) : 0;

		r[i].i = i;
		r[i].down = since(cur->st.down[i].bytes, p ? prev->st.down[j].bytes : 0);
		r[i].up = since(cur->st.up[i].bytes, p ? prev->st.up[j].bytes : 0);
	}
	qsort(r, cur->have.n, sizeof(*r), rank_cmp);
	return r;
}

/* Nodes of the network ranked by bytes (both directions), since @prev if given. */
static struct rank *ranked_nodes(const struct snap *cur, const struct snap *prev)
{
	struct rank *r = calloc(cur->n_nodes + 1, sizeof(*r));

	if (!r)
		return NULL;
	for (size_t i = 0; i < cur->n_nodes; i++) {
		const struct node_rec *p = prev ? node_rec_find(prev->nodes, prev->n_nodes,
								cur->nodes[i].name) : NULL;
		size_t j = p ? (size_t)(p - prev->nodes) : 0;

		r[i].i = i;
		r[i].down = since(cur->st.node_down[i].bytes, p ? prev->st.node_down[j].bytes : 0);
		r[i].up = since(cur->st.node_up[i].bytes, p ? prev->st.node_up[j].bytes : 0);
	}
	qsort(r, cur->n_nodes, sizeof(*r), rank_cmp);
	return r;
}

/* The median round trip of a circuit's side over the recent window (ms), -1 if none. */
static double rtt_p50(const struct cs_state *s, uint32_t index, int side)
{
	struct cs_circuit_rtt r;
	struct rtt_window w;

	if (maps_rtt_get(&s->maps, index, &r) <= 0)
		return -1;
	rtt_window(&r.side[side], rtt_now_ns(), &w);
	return rtt_quantile_ms(&w, 0.5);
}

static void rtt_field(const char *key, double ms)
{
	char buf[32];

	if (ms < 0) {
		print_null(PRINT_JSON, key);
		print_fp(" %8s", "-");
		return;
	}
	snprintf(buf, sizeof(buf), "%.2f", ms);
	print_num(PRINT_JSON, key, NULL, buf);
	print_fp(" %8.1f", ms);
}

/*
 * A row of a busiest list: a circuit (@key "id", with its @name, and the
 * median round trips of its subscriber and internet sides) or a node (@key
 * "name", @c NULL).
 */
static void busy_row(const struct cs_state *s, const char *key, const char *id, const char *name,
		     uint32_t cpu, const struct rank *r, const struct circuit *c)
{
	out_open_obj(NULL);
	print_str(PRINT_ANY, key, "%-20s", id);
	if (name)
		print_str(PRINT_ANY, "name", " %-20.20s", name);
	print_u64(PRINT_ANY, "cpu", " %4llu", cpu);
	print_u64(PRINT_ANY, "down_bytes", " %14llu", r->down);
	print_u64(PRINT_ANY, "up_bytes", " %14llu", r->up);
	if (c) {
		rtt_field("rtt_p50_ms", rtt_p50(s, c->index, CS_SIDE_SUB));
		rtt_field("rtt_internet_p50_ms", rtt_p50(s, c->index, CS_SIDE_NET));
	}
	print_fp("\n");
	out_close_obj();
}

/* One snapshot of cumulative counters (the --once view, and -j lines). */
static void print_snapshot(const struct cs_state *s, const struct snap *sn, int n_busy)
{
	struct rank *r = ranked(sn, NULL);
	char buf[32];

	out_open_obj(NULL);
	print_str(PRINT_JSON, "lan_dev", NULL, s->lan);
	print_str(PRINT_JSON, "wan_dev", NULL, s->wan);
	stats_print_damage(s, &sn->st);
	print_fp("%-4s %5s %10s %10s %14s %12s %14s %12s %9s %9s %9s\n", "CPU", "CIRC", "PLAN_DOWN",
		 "PLAN_UP", "DOWN_BYTES", "DOWN_PKTS", "UP_BYTES", "UP_PKTS", "HTB_DROP", "CPUMAP_DR",
		 "BACKLOG");
	out_open_arr("cpus");
	for (uint32_t c = 0; c < CS_MAX_CPUS; c++) {
		const struct cpu_stats *cs = &sn->st.cpu[c];

		if (!cs->enabled)
			continue;
		out_open_obj(NULL);
		print_u64(PRINT_ANY, "cpu", "%-4llu", c);
		print_u64(PRINT_ANY, "circuits", " %5llu", cs->circuits);
		rate_format_mbps(cs->plan_down_bps, buf, sizeof(buf));
		print_num(PRINT_ANY, "plan_down_mbps", " %10s", buf);
		rate_format_mbps(cs->plan_up_bps, buf, sizeof(buf));
		print_num(PRINT_ANY, "plan_up_mbps", " %10s", buf);
		print_u64(PRINT_JSON, "packets", NULL, cs->down.packets + cs->up.packets);
		print_u64(PRINT_JSON, "bytes", NULL, cs->down.bytes + cs->up.bytes);
		print_u64(PRINT_JSON, "drops", NULL, cs->down.drops + cs->up.drops + cs->cpumap_drops);
		print_u64(PRINT_JSON, "backlog", NULL, cs->down.backlog + cs->up.backlog);
		print_fp(" %14llu %12llu %14llu %12llu %9llu %9llu %9llu\n",
			 (unsigned long long)cs->down.bytes, (unsigned long long)cs->down.packets,
			 (unsigned long long)cs->up.bytes, (unsigned long long)cs->up.packets,
			 (unsigned long long)(cs->down.drops + cs->up.drops),
			 (unsigned long long)cs->cpumap_drops,
			 (unsigned long long)(cs->down.backlog + cs->up.backlog));
		print_dir("down", &cs->down);
		print_dir("up", &cs->up);
		out_open_obj("xdp");
		print_u64(PRINT_JSON, "packets", NULL, cs->xdp_packets);
		print_u64(PRINT_JSON, "bytes", NULL, cs->xdp_bytes);
		out_close_obj();
		out_open_obj("cpumap");
		print_u64(PRINT_JSON, "packets", NULL, cs->cpumap_packets);
		print_u64(PRINT_JSON, "bytes", NULL, cs->cpumap_bytes);
		print_u64(PRINT_JSON, "drops", NULL, cs->cpumap_drops);
		out_close_obj();
		out_open_obj("tc");
		print_u64(PRINT_JSON, "packets", NULL, cs->tc_packets);
		print_u64(PRINT_JSON, "bytes", NULL, cs->tc_bytes);
		print_u64(PRINT_JSON, "from_xdp_meta", NULL, cs->tc_meta_packets);
		out_close_obj();
		out_open_obj("unclassified");
		print_u64(PRINT_JSON, "unknown", NULL, cs->misc.unknown);
		print_u64(PRINT_JSON, "non_ip", NULL, cs->misc.non_ip);
		print_u64(PRINT_JSON, "truncated", NULL, cs->misc.truncated);
		print_u64(PRINT_JSON, "redirect_errors", NULL, cs->misc.redirect_err);
		out_close_obj();
		out_close_obj();
	}
	out_close_arr();
	out_open_obj("unclassified");
	print_u64(PRINT_ANY, "unknown", "unclassified packets: %llu unknown address", sn->st.misc.unknown);
	print_u64(PRINT_ANY, "non_ip", ", %llu not IP", sn->st.misc.non_ip);
	print_u64(PRINT_ANY, "truncated", ", %llu truncated", sn->st.misc.truncated);
	print_u64(PRINT_ANY, "redirect_errors", ", %llu redirect errors\n", sn->st.misc.redirect_err);
	out_close_obj();
	print_fp("\n%-20s %-20s %4s %14s %14s %8s %8s\n", "CIRCUIT", "NAME", "CPU", "DOWN_BYTES", "UP_BYTES",
		 "RTT_ms", "INET_ms");
	out_open_arr("busiest");
	for (int k = 0; r && k < n_busy && (size_t)k < sn->have.n; k++) {
		const struct circuit *c = &sn->have.v[r[k].i];

		busy_row(s, "id", c->id, c->name, c->cpu, &r[k], c);
	}
	out_close_arr();
	free(r);
	r = ranked_nodes(sn, NULL);
	if (sn->n_nodes)
		print_fp("\n%-20s %4s %14s %14s\n", "NODE", "CPU", "DOWN_BYTES", "UP_BYTES");
	out_open_arr("busiest_nodes");
	for (int k = 0; r && k < n_busy && (size_t)k < sn->n_nodes; k++)
		busy_row(s, "name", sn->nodes[r[k].i].name, NULL, sn->nodes[r[k].i].cpu, &r[k], NULL);
	out_close_arr();
	if (sn->n_unknown)
		print_fp("\n%-40s %-4s %12s %14s  (sampled: counted from a packet on)\n", "UNKNOWN ADDRESS",
			 "DIR", "PACKETS", "BYTES");
	out_open_arr("unknown_addresses");
	for (int k = 0; k < n_busy && (size_t)k < sn->n_unknown; k++) {
		const struct unknown_addr *u = &sn->unknown[k];
		char a[64];

		prefix_format(&u->p, a, sizeof(a));
		a[strcspn(a, "/")] = '\0';
		out_open_obj(NULL);
		print_str(PRINT_ANY, "address", "%-40s", a);
		print_str(PRINT_ANY, "direction", " %-4s", u->down ? "down" : "up");
		print_u64(PRINT_ANY, "packets", " %12llu", u->packets);
		print_u64(PRINT_ANY, "bytes", " %14llu\n", u->bytes);
		out_close_obj();
	}
	out_close_arr();
	out_close_obj();
	out_finish();
	free(r);
}

static double mbit(uint64_t now, uint64_t then, double dt)
{
	return now >= then && dt > 0 ? (double)(now - then) * 8 / dt / 1e6 : 0;
}

static double per_s(uint64_t now, uint64_t then, double dt)
{
	return now >= then && dt > 0 ? (double)(now - then) / dt : 0;
}

/* The live screen: rates between two snapshots. */
static void print_live(const struct cs_state *s, const struct snap *cur, const struct snap *prev,
		       double interval, int n_busy)
{
	double dt = secs(&prev->at, &cur->at);
	struct rank *r = ranked(cur, prev);
	char now[32], pd[32], pu[32];
	time_t t = time(NULL);

	strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
	printf("\033[H\033[2J");
	printf("cpushaper top - %s/%s - %s - every %.1fs - q quits\n\n", s->lan, s->wan, now, interval);
	printf("%-4s %5s %10s %10s %10s %9s %10s %9s %9s %9s %10s\n", "CPU", "CIRC", "PLAN_DOWN",
	       "PLAN_UP", "DOWN_Mb/s", "DOWN_p/s", "UP_Mb/s", "UP_p/s", "HTB_dr/s", "CMAP_dr/s",
	       "BACKLOG_B");
	for (uint32_t c = 0; c < CS_MAX_CPUS; c++) {
		const struct cpu_stats *a = &cur->st.cpu[c], *b = &prev->st.cpu[c];

		if (!a->enabled)
			continue;
		rate_format_mbps(a->plan_down_bps, pd, sizeof(pd));
		rate_format_mbps(a->plan_up_bps, pu, sizeof(pu));
		printf("%-4u %5u %10s %10s %10.2f %9.0f %10.2f %9.0f %9.0f %9.0f %10llu\n", c, a->circuits,
		       pd, pu, mbit(a->down.bytes, b->down.bytes, dt),
		       per_s(a->down.packets, b->down.packets, dt), mbit(a->up.bytes, b->up.bytes, dt),
		       per_s(a->up.packets, b->up.packets, dt),
		       per_s(a->down.drops + a->up.drops, b->down.drops + b->up.drops, dt),
		       per_s(a->cpumap_drops, b->cpumap_drops, dt),
		       (unsigned long long)(a->down.backlog + a->up.backlog));
	}
	printf("\n%-20s %-20s %4s %10s %10s %8s %8s %8s %8s\n", "CIRCUIT", "NAME", "CPU", "DOWN_Mb/s", "UP_Mb/s",
	       "DOWN_%", "UP_%", "RTT_ms", "INET_ms");
	for (int k = 0; r && k < n_busy && (size_t)k < cur->have.n; k++) {
		const struct circuit *c = &cur->have.v[r[k].i];
		double d = (double)r[k].down * 8 / dt / 1e6, u = (double)r[k].up * 8 / dt / 1e6;
		double rs = rtt_p50(s, c->index, CS_SIDE_SUB), ri = rtt_p50(s, c->index, CS_SIDE_NET);

		printf("%-20s %-20.20s %4u %10.2f %10.2f %7.1f%% %7.1f%%", c->id, c->name, c->cpu, d, u,
		       100 * d * 1e6 / (double)c->down_max, 100 * u * 1e6 / (double)c->up_max);
		for (int side = 0; side < 2; side++) {
			double ms = side ? ri : rs;

			if (ms < 0)
				printf(" %8s", "-");
			else
				printf(" %8.1f", ms);
		}
		printf("\n");
	}
	free(r);
	/* the network's busiest nodes, against their bandwidth */
	r = ranked_nodes(cur, prev);
	if (cur->n_nodes)
		printf("\n%-41s %4s %10s %10s %8s %8s\n", "NODE", "CPU", "DOWN_Mb/s", "UP_Mb/s", "DOWN_%",
		       "UP_%");
	for (int k = 0; r && k < n_busy && (size_t)k < cur->n_nodes; k++) {
		const struct node_rec *n = &cur->nodes[r[k].i];
		double d = (double)r[k].down * 8 / dt / 1e6, u = (double)r[k].up * 8 / dt / 1e6;

		printf("%-41.41s %4u %10.2f %10.2f %7.1f%% %7.1f%%\n", n->name, n->cpu, d, u,
		       100 * d * 1e6 / (double)n->down_max, 100 * u * 1e6 / (double)n->up_max);
	}
	/* traffic of no circuit: who is it? (sampled in the data path, at most a few thousand) */
	if (cur->n_unknown)
		printf("\n%-40s %-4s %12s %14s  (since first sampled)\n", "UNKNOWN ADDRESS", "DIR", "PACKETS",
		       "BYTES");
	for (int k = 0; k < n_busy && (size_t)k < cur->n_unknown; k++) {
		char a[64];

		prefix_format(&cur->unknown[k].p, a, sizeof(a));
		a[strcspn(a, "/")] = '\0';
		printf("%-40s %-4s %12llu %14llu\n", a, cur->unknown[k].down ? "down" : "up",
		       (unsigned long long)cur->unknown[k].packets, (unsigned long long)cur->unknown[k].bytes);
	}
	fflush(stdout);
	free(r);
}

/* Wait @ms, or less if 'q' is typed. Returns 1 to quit. */
static int wait_or_quit(int ms, bool keys)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char ch;

	if (!keys) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
		return stop;
	}
	if (poll(&p, 1, ms) > 0 && read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
		return 1;
	return stop;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "circuits", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct snap cur = { 0 }, prev = { 0 };
	struct termios saved;
	struct cs_state s;
	bool once = false, keys = false, fresh = false;
	double interval = 1;
	long iterations = -1, n_busy = 10;
	int opt, err;
	char *end;

	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS "d:n:c:", longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &c))
			continue;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'o':
			once = true;
			break;
		case 'd':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "cpushaper top: --interval takes seconds from 0.1 to 3600\n");
				return EXIT_USAGE;
			}
			break;
		case 'n':
		case 'c': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 1000000) {
				fprintf(stderr, "cpushaper top: -%c takes a count from 1\n", opt);
				return EXIT_USAGE;
			}
			*(opt == 'n' ? &iterations : &n_busy) = v;
			break;
		}
		default:
			fprintf(stderr, "Try 'cpushaper top --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cpushaper top: takes no arguments; try 'cpushaper top --help'\n");
		return EXIT_USAGE;
	}
	if (cli_need_devices(&c, "top"))
		return EXIT_USAGE;
	out_init(stdout, c.json);
	if ((err = state_open_loaded(&s, c.lan, c.wan, STATE_GONE_OK)))
		goto out;
	if ((err = take(&s, &cur, NULL))) {
		fprintf(stderr, "cpushaper: cannot read the statistics: %s\n", strerror(-err));
		goto out;
	}
	if (once) {
		print_snapshot(&s, &cur, (int)n_busy);
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!c.json && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		struct termios raw = saved;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		keys = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	while (iterations != 0) {
		if (wait_or_quit((int)(interval * 1000), keys))
			break;
		drop(&prev);
		prev = cur;
		memset(&cur, 0, sizeof(cur));
		/*
		 * Follow the kernel: the shaper is found again each time, so an
		 * unload is seen at once and no old map is held; a new load's
		 * counters start again.
		 */
		state_close(&s);
		if ((err = state_open_ex(&s, c.lan, c.wan, STATE_GONE_OK)))
			break;
		if (!s.loaded) {
			print_unloaded(&c);
			if (iterations > 0)
				iterations--;
			continue;
		}
		if ((err = take(&s, &cur, &prev))) {
			fprintf(stderr, "cpushaper: cannot read the statistics: %s\n", strerror(-err));
			break;
		}
		if (prev.config_id != cur.config_id) {
			/* another shaper since the last refresh (or none): rates from the next one */
			drop(&prev);
			memset(&prev, 0, sizeof(prev));
			prev.config_id = cur.config_id;
			prev.at = cur.at;
			fresh = true;
		}
		if (c.json)
			print_snapshot(&s, &cur, (int)n_busy);
		else if (fresh)
			print_fresh(&c);
		else
			print_live(&s, &cur, &prev, interval, (int)n_busy);
		fresh = false;
		if (iterations > 0)
			iterations--;
	}
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
out:
	drop(&cur);
	drop(&prev);
	state_close(&s);
	return err ? 1 : 0;
}
