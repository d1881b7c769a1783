// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "assign.h"
#include "circuits.h"
#include "cli.h"
#include "cpulist.h"
#include "datapath.h"
#include "load.h"
#include "network.h"
#include "log.h"
#include "netdev.h"
#include "output.h"
#include "plan.h"
#include "qdisc.h"
#include "rate.h"
#include "state.h"
#include <bpf/bpf.h>


static const char help[] =
	"Usage: cpushaper load --lan-dev DEV --wan-dev DEV [OPTIONS] [FILE]\n"
	"\n"
	"Validate the customer file FILE (LibreQoS ShapedDevices.csv columns; see\n"
	"customers/README.md) and make the kernel shape it. The whole file is checked\n"
	"first: with any error, each is printed as FILE:LINE: reason and nothing changes.\n"
	"Without FILE: the file of 'customers =' in the configuration file.\n"
	"\n"
	"The first load builds, on both devices, an MQ root with HTBs of each CPU's own\n"
	"(each on its own TX queue; see --htbs-per-cpu), a class per circuit and\n"
	"direction in one of its CPU's HTBs (Download/Upload Min\n"
	"-> rate, Max -> ceil), the XDP program that steers each packet to its\n"
	"circuit's CPU, and the TC classifier that picks its class. XPS is turned off on\n"
	"both devices. Later loads apply only the difference with what the kernel runs:\n"
	"unchanged circuits keep their CPU, class, counters and queued packets; loading\n"
	"the same file again changes nothing. New circuits go to the CPU with the least\n"
	"sum of plans (Download Max + Upload Max); existing ones never move unless their\n"
	"CPU is taken out of --cpus, their node of the network changes, or --rebalance.\n"
	"\n"
	"Options:\n"
	COMMON_OPTS_HELP
	"  --cpus LIST        CPUs that shape, e.g. 0-3,6 (default: all online CPUs on\n"
	"                     the first load, then what the running shaper uses). Each\n"
	"                     device needs more TX queues than the highest CPU number.\n"
	"  --htbs-per-cpu N   HTB qdiscs per CPU (default: as many as both devices have\n"
	"                     TX queues for, up to 16; fixed until unload). HTB j of\n"
	"                     CPU k sits on TX queue j * NCPU + k, NCPU being the CPUs\n"
	"                     the machine has. A new class costs the kernel time in\n"
	"                     proportion to the classes of its HTB: more HTBs, faster\n"
	"                     builds. Circuits of a CPU are spread over its HTBs.\n"
	"  --link-mbps N      rate of each HTB's root class :1 (default 10000); with\n"
	"                     several HTBs per CPU each has its own\n"
	"  --default-mbps N   rate and ceil of class :2, which shapes traffic of no\n"
	"                     circuit (default 1000)\n"
	"  --unknown POLICY   traffic of no circuit: 'pass' keeps it on the CPU it\n"
	"                     arrived on (default), 'cpu:N' steers it to CPU N;\n"
	"                     either way it is shaped by class :2, never dropped\n"
	"  --leaf QDISC       leaf queue of each circuit class with no sqm of its own\n"
	"                     (the file's sqm column): fq_codel (default), cake, fifo\n"
	"                     (a FIFO of --queue-ms of the plan) or none (HTB's own\n"
	"                     pfifo of the device's 1000 packets: seconds of a slow\n"
	"                     plan; also 'pfifo'). Where the kernel lacks cake:\n"
	"                     fq_codel; lacks fq_codel: fifo, with one warning.\n"
	"                     fq_codel and cake get a target, interval and memory\n"
	"                     limit sized to each plan\n"
	"  --queue-ms MS      how long of its plan a fifo leaf holds (default 20, 1 to\n"
	"                     1000), in full-size packets, at least 4: what a full\n"
	"                     queue adds to a packet's wait (more for plans under\n"
	"                     about 3 Mbit, and where GRO aggregates queue)\n"
	"  --xdp-mode MODE    native (default) or skb (generic XDP, slower: for\n"
	"                     drivers without native XDP)\n"
	"  --cpumap-qsize N   ring size of each CPU's cpumap queue (default 2048)\n"
	"  --skip-local       XDP passes a packet that already is on its circuit's CPU\n"
	"                     instead of sending it through the cpumap ('--no-skip-local'\n"
	"                     turns it off again)\n"
	"  --no-xdp-meta      TC looks each packet up again instead of using the result\n"
	"                     XDP leaves in the packet's metadata (on by default;\n"
	"                     '--xdp-meta' turns it on again). Generic XDP loses the\n"
	"                     metadata of redirected packets: with --xdp-mode skb\n"
	"                     it only costs time\n"
	"  --no-rtt           TC stops timing TCP round trips (on by default: about\n"
	"                     100 ns per TCP segment here, see bench/; '--rtt' turns\n"
	"                     it on again). show, top and metrics then have no RTT\n"
	"  --rtt-flows N      TCP flows the round-trip table holds per CPU (default\n"
	"                     32768; 64 to 4194304, rounded up to a power of two):\n"
	"                     32 bytes each on every possible CPU (the default: 1 MiB\n"
	"                     a CPU). Fixed when the maps are made, at the first load:\n"
	"                     another value takes effect after unload and a new load\n"
	"  --network FILE     the network above the circuits: LibreQoS's network.json\n"
	"                     (default: network.json beside FILE, when there is one;\n"
	"                     'none': no network, its nodes are removed if running).\n"
	"                     Each real node is a class in each direction (ceil: its\n"
	"                     bandwidth) between its CPU's root class and the circuits\n"
	"                     below it, found from Anchor Node ID, Parent Node ID or\n"
	"                     Parent Node; a node and everything under it stay on one\n"
	"                     CPU (docs/network.md)\n"
	"  --rebalance        place every node and circuit anew by plan (moves them)\n"
	"  --root NODE        shape only NODE's subtree of the network and the circuits\n"
	"                     under it: several shapers share one file pair, each for\n"
	"                     its part of the network\n"
	"  --wait-devices S   wait up to S seconds for a device that does not exist\n"
	"                     yet (at boot: cpushaper.service waits 120 s)\n"
	"  --skip-invalid     apply the rows that are right and leave out each row with a\n"
	"                     problem, naming it (LibreQoS's way; off by default: one\n"
	"                     problem refuses the whole file)\n"
	"  --max-remove PCT   refuse a load that would remove more than PCT percent of\n"
	"                     the running circuits (default 10; 100: no limit): an\n"
	"                     export cut short must not unshape the customers missing\n"
	"                     from it (a removed circuit's addresses fall to the\n"
	"                     default class :2, at up to --default-mbps)\n"
	"  --force            apply such a load anyway\n"
	"  -n, --dry-run      validate and print what would change, change nothing (it\n"
	"                     asks the kernel which leaf qdiscs it has: a request it\n"
	"                     refuses, which creates nothing)\n"
	"\n"
	"Devices, --cpus and the rates of :1/:2 given on a later load change the running\n"
	"shaper, and so do --leaf and --queue-ms (leaves are resized in place); --xdp-mode\n"
	"applies to what is attached from then on (it is remembered: a program attached\n"
	"again by a later load gets the same).\n"
	"\n"
	"Every load of a running shaper first reads what the kernel has and puts back\n"
	"what changed under it: a deleted root qdisc, clsact, XDP program or circuit\n"
	"class, a class rate changed by hand (docs/failure-modes.md). Exit status 3:\n"
	"the load changed the kernel, then a later step failed (applied in part).\n";

static int parse_args(int argc, char **argv, struct load_opts *o)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "cpus", required_argument, NULL, 'c' },
		{ "link-mbps", required_argument, NULL, 'l' },
		{ "default-mbps", required_argument, NULL, 'd' },
		{ "unknown", required_argument, NULL, 'u' },
		{ "leaf", required_argument, NULL, 'q' },
		{ "xdp-mode", required_argument, NULL, 'x' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "cpumap-qsize", required_argument, NULL, 'Q' },
		{ "skip-local", no_argument, NULL, 'S' },
		{ "no-skip-local", no_argument, NULL, 's' },
		{ "htbs-per-cpu", required_argument, NULL, 'H' },
		{ "xdp-meta", no_argument, NULL, 'M' },
		{ "no-xdp-meta", no_argument, NULL, 'm' },
		{ "rtt", no_argument, NULL, 'T' },
		{ "no-rtt", no_argument, NULL, 't' },
		{ "network", required_argument, NULL, 'N' },
		{ "rebalance", no_argument, NULL, 'R' },
		{ "root", required_argument, NULL, 'r' },
		{ "wait-devices", required_argument, NULL, 'w' },
		{ "skip-invalid", no_argument, NULL, 'I' },
		{ "force", no_argument, NULL, 'F' },
		{ "max-remove", required_argument, NULL, 'X' },
		{ "queue-ms", required_argument, NULL, 'B' },
		{ "rtt-flows", required_argument, NULL, 'O' },
		{ "no-skip-invalid", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int opt;

	o->link_bps = DEFAULT_LINK_BPS;
	o->skip_local = -1;
	o->xdp_meta = -1;
	o->rtt = -1;
	o->default_bps = DEFAULT_CLASS_BPS;
	o->leaf = CS_LEAF_FQ_CODEL;
	o->max_remove = DEFAULT_MAX_REMOVE;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS "n", longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &o->c))
			continue;
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			exit(0);
		case 'c':
			if (cpulist_parse(optarg, o->cpus, &why)) {
				fprintf(stderr, "cpushaper: --cpus \"%s\" %s\n", optarg, why);
				return -1;
			}
			o->cpus_given = true;
			break;
		case 'l':
			if (cli_rate("--link-mbps", optarg, &o->link_bps))
				return -1;
			o->link_given = true;
			break;
		case 'd':
			if (cli_rate("--default-mbps", optarg, &o->default_bps))
				return -1;
			o->default_given = true;
			break;
		case 'u': {
			char *end;

			o->unknown_given = true;
			if (!strcmp(optarg, "pass")) {
				o->unknown_policy = CS_UNKNOWN_PASS;
				break;
			}
			if (!strncmp(optarg, "cpu:", 4) && optarg[4]) {
				unsigned long cpu = strtoul(optarg + 4, &end, 10);

				if (!*end && cpu < CS_MAX_CPUS) {
					o->unknown_policy = CS_UNKNOWN_CPU;
					o->default_cpu = (uint32_t)cpu;
					break;
				}
			}
			fprintf(stderr, "cpushaper: --unknown \"%s\": expected pass or cpu:N\n", optarg);
			return -1;
		}
		case 'q':
			o->leaf_given = true;
			if (!strcmp(optarg, "fq_codel"))
				o->leaf = CS_LEAF_FQ_CODEL;
			else if (!strcmp(optarg, "cake"))
				o->leaf = CS_LEAF_CAKE;
			else if (!strcmp(optarg, "fifo"))
				o->leaf = CS_LEAF_FIFO;
			else if (!strcmp(optarg, "none") || !strcmp(optarg, "pfifo"))
				o->leaf = CS_LEAF_DEFAULT;
			else {
				fprintf(stderr, "cpushaper: --leaf \"%s\": expected fq_codel, cake, fifo or none\n",
					optarg);
				return -1;
			}
			break;
		case 'x':
			o->xdp_mode_given = true;
			if (!strcmp(optarg, "native"))
				o->xdp_mode = CS_XDP_NATIVE;
			else if (!strcmp(optarg, "skb"))
				o->xdp_mode = CS_XDP_SKB;
			else {
				fprintf(stderr, "cpushaper: --xdp-mode \"%s\": expected native or skb\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'Q':
			if (cli_uint("--cpumap-qsize", optarg, 8, 16384, &o->qsize))
				return -1;
			break;
		case 'S':
		case 's':
			o->skip_local = opt == 'S';
			break;
		case 'H':
			if (cli_uint("--htbs-per-cpu", optarg, 1, 256, &o->htbs))
				return -1;
			break;
		case 'M':
		case 'm':
			o->xdp_meta = opt == 'M';
			break;
		case 'T':
		case 't':
			o->rtt = opt == 'T';
			break;
		case 'N':
			o->network = optarg;
			break;
		case 'R':
			o->rebalance = true;
			break;
		case 'r':
			o->root = optarg;
			break;
		case 'w':
			if (cli_uint("--wait-devices", optarg, 0, 3600, &o->wait_s))
				return -1;
			break;
		case 'I':
		case 'i':
			o->skip_invalid = opt == 'I';
			break;
		case 'F':
			o->force = true;
			break;
		case 'B':
			if (cli_uint("--queue-ms", optarg, 1, 1000, &o->queue_ms))
				return -1;
			break;
		case 'X':
			if (cli_uint("--max-remove", optarg, 0, 100, &o->max_remove))
				return -1;
			break;
		case 'O':
			if (cli_uint("--rtt-flows", optarg, CS_FLOW_SETS_MIN * CS_FLOW_WAYS,
				     CS_FLOW_SETS_MAX * CS_FLOW_WAYS, &o->rtt_flows))
				return -1;
			break;
		default:
			fprintf(stderr, "Try 'cpushaper load --help'.\n");
			return -1;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "cpushaper load: expected one customer FILE; try 'cpushaper load --help'\n");
		return -1;
	}
	o->file = optind < argc ? argv[optind] : config_get(&cli_config, "customers", NULL);
	if (!o->file) {
		fprintf(stderr, "cpushaper load: expected a customer FILE (or customers = FILE in %s)\n",
			cli_config.file ? cli_config.file : CS_CONFIG_DEFAULT);
		return -1;
	}
	if (cli_need_devices(&o->c, "load"))
		return -1;
	return 0;
}

#define CHANGES_SHOWN 20 /* lines of text without -v */

/* One side of a change in JSON: where the circuit or node was (or goes) and its plan. */
static void print_side(const char *key, const struct change *c, bool to)
{
	const uint64_t *r = to ? c->to : c->from;
	uint32_t cls = to ? c->class_to : c->class_from;
	const char *parent = to ? c->parent_to : c->parent_from;
	char buf[32];

	out_open_obj(key);
	print_u64(PRINT_JSON, "cpu", NULL, to ? c->cpu_to : c->cpu_from);
	snprintf(buf, sizeof(buf), "%x:%x", cls >> 16, cls & 0xffff);
	print_str(PRINT_JSON, "classid", NULL, buf);
	if (parent && parent[0])
		print_str(PRINT_JSON, "parent", NULL, parent);
	else
		print_null(PRINT_JSON, "parent");
	for (int k = 0; k < 4; k++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_mbps", change_rate_names[k]);
		rate_format_mbps(r[k], buf, sizeof(buf));
		print_num(PRINT_JSON, name, NULL, buf);
	}
	out_close_obj();
}

/* Each change: a line of text (the first CHANGES_SHOWN without -v), an object in JSON. */
static void print_changes(const struct change_list *ch)
{
	static const char *const ops[] = { ['+'] = "added", ['~'] = "changed", ['>'] = "moved",
					   ['-'] = "removed" };
	size_t shown = cs_log_level >= CS_LOG_INFO ? ch->n : CHANGES_SHOWN;
	char line[CHANGE_LINE_MAX];

	out_open_arr("changes");
	for (size_t i = 0; i < ch->n; i++) {
		const struct change *c = &ch->v[i];

		out_open_obj(NULL);
		print_str(PRINT_JSON, "op", NULL, ops[c->op]);
		print_str(PRINT_JSON, c->node ? "node" : "circuit", NULL, c->id);
		if (c->op != CHANGE_ADD)
			print_side("from", c, false);
		if (c->op != CHANGE_REMOVE)
			print_side("to", c, true);
		if (c->name_from) {
			print_str(PRINT_JSON, "name_from", NULL, c->name_from);
			print_str(PRINT_JSON, "name_to", NULL, c->name_to);
		}
		print_bool(PRINT_JSON, "undoes_set_rate", NULL, c->set_rate);
		out_close_obj();
		if (i < shown) {
			change_format(c, line, sizeof(line));
			print_fp("  %s\n", line);
		}
	}
	out_close_arr();
	if (ch->n > shown)
		print_fp("  ... and %zu more changes (-v lists them all)\n", ch->n - shown);
}

static void print_summary(const struct load_opts *o, const struct load_summary *sum)
{
	const struct circuit_set *want = sum->want;
	const struct network *net = sum->net;
	const struct plan *p = sum->plan;
	const bool *cpus = sum->cpus;
	const struct cs_repairs *r = sum->rep;
	const struct change_list *ch = sum->changes;
	char buf[64];

	/* the counts of the change list below: a move that changes a plan too counts as moved */
	out_open_obj(NULL);
	print_str(PRINT_ANY, "file", o->dry_run ? "%s: dry run, nothing changed\n" : "%s: ", o->file);
	print_u64(PRINT_ANY, "circuits", "%llu circuits", want->n);
	print_u64(PRINT_ANY, "added", ", %llu added", ch->added);
	print_u64(PRINT_ANY, "changed", ", %llu changed", ch->changed);
	print_u64(PRINT_ANY, "moved", ", %llu moved", ch->moved);
	print_u64(PRINT_ANY, "removed", ", %llu removed", ch->removed);
	print_u64(PRINT_ANY, "addresses_changed", ", %llu address updates\n",
		  p->n_lpm_put + p->n_lpm_del);
	if (net && net->n) {
		size_t real = 0;

		for (size_t i = 0; i < net->n; i++)
			real += !net->v[i].is_virtual;
		out_open_obj("nodes");
		print_u64(PRINT_ANY, "nodes", "  network: %llu nodes", real);
		print_u64(PRINT_ANY, "added", ", %llu added", ch->nodes_added);
		print_u64(PRINT_ANY, "changed", ", %llu changed", ch->nodes_changed);
		print_u64(PRINT_ANY, "moved", ", %llu moved", ch->nodes_moved);
		print_u64(PRINT_ANY, "removed", ", %llu removed\n", ch->nodes_removed);
		out_close_obj();
	}
	print_changes(sum->changes);
	print_bool(PRINT_JSON, "dry_run", NULL, o->dry_run);
	out_open_obj("repaired");
	print_u64(PRINT_JSON, "programs", NULL, r->programs);
	print_u64(PRINT_JSON, "htbs", NULL, r->htbs);
	print_u64(PRINT_JSON, "lan_classes", NULL, r->classes[0]);
	print_u64(PRINT_JSON, "wan_classes", NULL, r->classes[1]);
	print_u64(PRINT_JSON, "rates", NULL, r->rates[0] + r->rates[1]);
	print_u64(PRINT_JSON, "node_classes", NULL, r->nodes);
	out_close_obj();
	if (r->programs + r->htbs + r->classes[0] + r->classes[1] + r->rates[0] + r->rates[1] + r->nodes)
		print_fp("  repaired what had changed under the shaper: %u program(s), %u HTB(s), %u lan and %u wan class(es), %u class rate(s), %u node class(es)\n",
			 r->programs, r->htbs, r->classes[0], r->classes[1], r->rates[0] + r->rates[1], r->nodes);
	out_open_arr("cpus");
	for (uint32_t c = 0; c < CS_MAX_CPUS; c++) {
		uint64_t down = 0, up = 0, n = 0;

		if (!cpus[c])
			continue;
		for (size_t i = 0; i < want->n; i++) {
			if (want->v[i].cpu != c)
				continue;
			n++;
			down += want->v[i].down_max;
			up += want->v[i].up_max;
		}
		out_open_obj(NULL);
		print_u64(PRINT_ANY, "cpu", "  cpu %llu:", c);
		print_u64(PRINT_ANY, "circuits", " %llu circuits,", n);
		rate_format_mbps(down, buf, sizeof(buf));
		print_num(PRINT_ANY, "down_max_mbps", " %s Mbit/s down", buf);
		rate_format_mbps(up, buf, sizeof(buf));
		print_num(PRINT_ANY, "up_max_mbps", ", %s Mbit/s up planned\n", buf);
		out_close_obj();
	}
	out_close_arr();
	out_close_obj();
	out_finish();
}

int cmd_load(int argc, char **argv)
{
	struct load_opts o = { 0 };
	bool partial, applied;
	int err;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	out_init(stdout, o.c.json);
	err = load_run(&o, print_summary, &partial, &applied);
	if (err && partial) {
		fprintf(stderr, "cpushaper: %s was applied in part: %s; the shaper runs what was done (see show). Fix the cause and load again\n",
			o.file, applied ? "the circuits are in place, a later step failed"
					: "repairs were made before the failure");
		return EXIT_PARTIAL;
	}
	return err ? 1 : 0;
}
