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
#include "lock.h"
#include "network.h"
#include "log.h"
#include "netdev.h"
#include "output.h"
#include "plan.h"
#include "qdisc.h"
#include "rate.h"
#include "state.h"
#include <bpf/bpf.h>

#define CPUMAP_QSIZE 2048
#define DEFAULT_LINK_BPS 10000000000ULL  /* 10 Gbit/s */
#define DEFAULT_CLASS_BPS 1000000000ULL  /* 1 Gbit/s */
#define MAX_AUTO_HTBS 16

static const char help[] =
	"Usage: cpushaper load --lan-dev DEV --wan-dev DEV [OPTIONS] FILE\n"
	"\n"
	"Validate the customer file FILE (LibreQoS ShapedDevices.csv columns; see\n"
	"customers/README.md) and make the kernel shape it. The whole file is checked\n"
	"first: with any error, each is printed as FILE:LINE: reason and nothing changes.\n"
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
	"  --leaf QDISC       leaf queue of each circuit class: fq_codel (default),\n"
	"                     cake or pfifo. Where the kernel lacks it: pfifo, with a\n"
	"                     warning\n"
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
	"  -n, --dry-run      validate and print what would change, change nothing\n"
	"\n"
	"Devices, --cpus and the rates of :1/:2 given on a later load change the running\n"
	"shaper; --leaf and --xdp-mode apply to what is created from then on (the XDP\n"
	"mode is remembered: a program attached again by a later load gets the same).\n"
	"\n"
	"Every load of a running shaper first reads what the kernel has and puts back\n"
	"what changed under it: a deleted root qdisc, clsact, XDP program or circuit\n"
	"class, a class rate changed by hand (docs/failure-modes.md). Exit status 3:\n"
	"the load changed the kernel, then a later step failed (applied in part).\n";

struct load_opts {
	struct cli_common c;
	const char *file;
	bool cpus_given, link_given, default_given, unknown_given;
	bool cpus[CS_MAX_CPUS];
	uint64_t link_bps, default_bps;
	uint32_t unknown_policy, default_cpu;
	enum cs_leaf leaf;
	enum cs_xdp_mode xdp_mode;
	bool xdp_mode_given;
	const char *network;
	const char *root;
	bool rebalance;
	bool dry_run;
	uint32_t qsize;
	uint32_t htbs;  /* 0: not given */
	int skip_local; /* -1 not given */
	int xdp_meta;   /* -1 not given */
};

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
		{ "network", required_argument, NULL, 'N' },
		{ "rebalance", no_argument, NULL, 'R' },
		{ "root", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int opt;

	o->link_bps = DEFAULT_LINK_BPS;
	o->skip_local = -1;
	o->xdp_meta = -1;
	o->default_bps = DEFAULT_CLASS_BPS;
	o->leaf = CS_LEAF_FQ_CODEL;
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
			if (!strcmp(optarg, "fq_codel"))
				o->leaf = CS_LEAF_FQ_CODEL;
			else if (!strcmp(optarg, "cake"))
				o->leaf = CS_LEAF_CAKE;
			else if (!strcmp(optarg, "pfifo"))
				o->leaf = CS_LEAF_DEFAULT;
			else {
				fprintf(stderr, "cpushaper: --leaf \"%s\": expected fq_codel, cake or pfifo\n",
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
		case 'N':
			o->network = optarg;
			break;
		case 'R':
			o->rebalance = true;
			break;
		case 'r':
			o->root = optarg;
			break;
		default:
			fprintf(stderr, "Try 'cpushaper load --help'.\n");
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "cpushaper load: expected one customer FILE; try 'cpushaper load --help'\n");
		return -1;
	}
	o->file = argv[optind];
	if (!o->c.lan || !o->c.wan) {
		fprintf(stderr, "cpushaper load: --lan-dev and --wan-dev are required\n");
		return -1;
	}
	return 0;
}

/* The CPUs to shape with, checked against what is online: the highest, or -errno. */
static int choose_cpus(const struct load_opts *o, const struct cs_state *s, bool cpus[CS_MAX_CPUS])
{
	bool online[CS_MAX_CPUS];
	int top = -1, err;

	if ((err = cpulist_online(online))) {
		fprintf(stderr, "cpushaper: cannot read the online CPUs: %s\n", strerror(-err));
		return err;
	}
	if (o->cpus_given)
		memcpy(cpus, o->cpus, sizeof(o->cpus));
	else if (s->loaded)
		for (int c = 0; c < CS_MAX_CPUS; c++)
			cpus[c] = cs_cpu_on(&s->cfg, (__u32)c);
	else
		memcpy(cpus, online, sizeof(online));
	for (int c = 0; c < CS_MAX_CPUS; c++) {
		if (!cpus[c])
			continue;
		if (!online[c]) {
			fprintf(stderr, "cpushaper: CPU %d is not online; choose others with --cpus\n", c);
			return -EINVAL;
		}
		top = c;
	}
	if (top < 0) {
		fprintf(stderr, "cpushaper: no CPU to shape with\n");
		return -EINVAL;
	}
	return top;
}

/*
 * How many HTBs each CPU gets: what --htbs-per-cpu says, else what the running
 * shaper uses, else as many as both devices have TX queues for (at most
 * MAX_AUTO_HTBS). Checked against the devices' TX queues.
 */
static int choose_layout(const struct load_opts *o, const struct cs_state *s,
			 const bool cpus[CS_MAX_CPUS], int top, struct cs_layout *l)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	int txq[2];

	l->stride = s->loaded ? s->cfg.htb_stride
			      : (uint32_t)(conf < top + 1 ? top + 1 : conf > CS_MAX_CPUS ? CS_MAX_CPUS : conf);
	for (int i = 0; i < 2; i++) {
		const char *dev = i ? s->wan : s->lan;

		txq[i] = netdev_tx_queues(dev);
		if (txq[i] < 0) {
			fprintf(stderr, "cpushaper: cannot count the TX queues of %s: %s\n", dev,
				strerror(-txq[i]));
			return txq[i];
		}
	}
	if (s->loaded) {
		l->htbs_per_cpu = s->cfg.htbs_per_cpu;
		if (o->htbs && o->htbs != l->htbs_per_cpu) {
			fprintf(stderr, "cpushaper: the shaper runs with %u HTB%s per CPU, which a load cannot change: unload first\n",
				l->htbs_per_cpu, l->htbs_per_cpu == 1 ? "" : "s");
			return -EINVAL;
		}
	} else if (o->htbs) {
		l->htbs_per_cpu = o->htbs;
	} else {
		int fit = (txq[0] < txq[1] ? txq[0] : txq[1]) - top - 1;

		l->htbs_per_cpu = fit < 0 ? 1 : (uint32_t)fit / l->stride + 1;
		if (l->htbs_per_cpu > MAX_AUTO_HTBS)
			l->htbs_per_cpu = MAX_AUTO_HTBS;
	}
	if (layout_major(l, (uint32_t)top, l->htbs_per_cpu - 1) >= CS_MQ_MAJOR) {
		fprintf(stderr, "cpushaper: %u HTBs per CPU on %u CPUs need more HTB handles than there are (%u); use fewer\n",
			l->htbs_per_cpu, l->stride, (unsigned)CS_MQ_MAJOR - 1);
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		const char *dev = i ? s->wan : s->lan;
		uint32_t need = layout_major(l, (uint32_t)top, l->htbs_per_cpu - 1);

		if ((uint32_t)txq[i] < need) {
			char list[256];

			cpulist_format(cpus, list, sizeof(list));
			fprintf(stderr,
				"cpushaper: %s has %d TX queue%s, but CPUs %s with %u HTB%s each need %u (HTB j of CPU k is on TX queue j * %u + k):\n"
				"  give it more queues (ethtool -L %s tx %u), shape with fewer CPUs (--cpus) or fewer HTBs (--htbs-per-cpu)\n",
				dev, txq[i], txq[i] == 1 ? "" : "s", list, l->htbs_per_cpu,
				l->htbs_per_cpu == 1 ? "" : "s", need, l->stride, dev, need);
			return -EINVAL;
		}
	}
	return 0;
}

static void fill_config(const struct load_opts *o, const struct cs_state *s,
			const bool cpus[CS_MAX_CPUS], const struct cs_layout *l,
			struct cs_config *cfg)
{
	if (!s->loaded) {
		memset(cfg, 0, sizeof(*cfg));
		cfg->abi = CS_ABI_VERSION;
		cfg->lan_ifindex = (__u32)s->lan_ix;
		cfg->wan_ifindex = (__u32)s->wan_ix;
		cfg->link_bps = o->link_bps;
		cfg->default_bps = o->default_bps;
		cfg->unknown_policy = o->unknown_policy;
		cfg->leaf = o->leaf;
		cfg->flags = CS_F_META;
		cfg->htbs_per_cpu = l->htbs_per_cpu;
		cfg->htb_stride = l->stride;
	} else {
		*cfg = s->cfg;
		/* a device created again has a new ifindex */
		cfg->lan_ifindex = (__u32)s->lan_ix;
		cfg->wan_ifindex = (__u32)s->wan_ix;
		if (o->link_given)
			cfg->link_bps = o->link_bps;
		if (o->default_given)
			cfg->default_bps = o->default_bps;
		if (o->unknown_given)
			cfg->unknown_policy = o->unknown_policy;
	}
	if (o->unknown_given || !s->loaded)
		cfg->default_cpu = o->default_cpu;
	if (o->qsize)
		cfg->cpumap_qsize = o->qsize;
	if (!cfg->cpumap_qsize)
		cfg->cpumap_qsize = CPUMAP_QSIZE;
	if (o->skip_local >= 0)
		cfg->flags = o->skip_local ? cfg->flags | CS_F_SKIP_LOCAL : cfg->flags & ~CS_F_SKIP_LOCAL;
	if (o->xdp_meta >= 0)
		cfg->flags = o->xdp_meta ? cfg->flags | CS_F_META : cfg->flags & ~CS_F_META;
	/* the XDP mode is remembered: a program attached again later gets the same */
	if (o->xdp_mode_given || !s->loaded)
		cfg->flags = o->xdp_mode == CS_XDP_SKB ? cfg->flags | CS_F_XDP_SKB
						       : cfg->flags & ~CS_F_XDP_SKB;
	for (int c = 0; c < CS_MAX_CPUS; c++)
		cs_cpu_set(cfg, (__u32)c, cpus[c]);
	if (!cpus[cfg->default_cpu]) {
		for (int c = 0; c < CS_MAX_CPUS; c++)
			if (cpus[c]) {
				cfg->default_cpu = (__u32)c;
				break;
			}
	}
}

/*
 * Classes :1 and :2 of every HTB of the CPUs that shaped before (@old), as the
 * dump @cls shows them, have @cfg's rates. HTBs of CPUs added now are new anyway.
 */
static bool link_classes_ok(const struct cs_config *cfg, const struct cs_config *old,
			    const struct tc_stat *cls, size_t n)
{
	for (uint32_t c = 0; c < CS_MAX_CPUS; c++) {
		for (uint32_t j = 0; cs_cpu_on(old, c) && j < cfg->htbs_per_cpu; j++) {
			uint32_t major = (j * cfg->htb_stride + c + 1) << 16;
			const struct tc_stat *l = tc_stat_find(cls, n, major | CS_LINK_MINOR);
			const struct tc_stat *d = tc_stat_find(cls, n, major | CS_DEFAULT_MINOR);

			if (!l || !d || !tc_class_rates_match(l, cfg->link_bps, cfg->link_bps) ||
			    !tc_class_rates_match(d, cfg->default_bps, cfg->default_bps))
				return false;
		}
	}
	return true;
}

/*
 * Both devices' trees, created where missing. @cls/@ncls: the class dumps taken
 * before (a loaded shaper), to send :1 and :2 again where they are missing or
 * were changed; NULL on a first load.
 */
static int ensure_trees(struct nl_sock *sk, struct cs_state *s, struct cs_config *cfg,
			const bool cpus[CS_MAX_CPUS], struct tc_stat *const *cls, const size_t *ncls,
			struct cs_repairs *r)
{
	struct tc_tree_opts t = {
		.cpus = cpus,
		.link_bps = cfg->link_bps,
		.default_bps = cfg->default_bps,
		.htbs_per_cpu = cfg->htbs_per_cpu,
		.stride = cfg->htb_stride,
		.leaf = (enum cs_leaf)cfg->leaf,
		/* a reload with the same rates sends no class message at all */
		.set_classes = !s->loaded || cfg->link_bps != s->cfg.link_bps ||
			       cfg->default_bps != s->cfg.default_bps,
	};
	int err;

	for (int i = 0; i < 2; i++) {
		const char *dev = i ? s->wan : s->lan;
		bool set = t.set_classes;

		if (cls && !link_classes_ok(cfg, &s->cfg, cls[i], ncls[i]))
			t.set_classes = true;
		err = tc_tree_ensure(sk, i ? s->wan_ix : s->lan_ix, &t);
		t.set_classes = set;
		if (s->loaded) {
			/* damage: HTBs of CPUs that shaped before (those of CPUs added now are new) */
			unsigned lost = 0;

			for (size_t k = 0; k < t.n_created; k++)
				lost += cs_cpu_on(&s->cfg, (t.created[k] - 1) % cfg->htb_stride);
			if (lost)
				fprintf(stderr, "cpushaper: %s: %s%u HTB qdisc%s missing: created again\n", dev,
					t.root_created ? "the MQ root and " : "", lost,
					lost == 1 ? " was" : "s were");
			r->htbs += lost;
		}
		free(t.created);
		t.created = NULL;
		if (err) {
			fprintf(stderr, "cpushaper: cannot build the qdisc tree of %s: %s\n", dev,
				strerror(-err));
			return err;
		}
		err = netdev_xps_off(dev);
		if (err) {
			fprintf(stderr, "cpushaper: cannot turn XPS off on %s: %s\n", dev, strerror(-err));
			return err;
		}
	}
	cfg->leaf = t.leaf;
	return 0;
}

/*
 * Attach our program at each of the four hooks that lacks one on the running
 * maps: missing (a lost clsact, a detached XDP program) or stale (left on
 * another set of maps). Programs are loaded on the running maps.
 */
/* Tags RX VLAN offload takes out of frames are lost where our program cannot put them back: say so. */
static void vlan_warn(const char *dev)
{
	int off = netdev_vlan_offload(dev);

	if (off <= 0)
		return;
	fprintf(stderr, "cpushaper: warning: %s: VLAN tags that RX VLAN offload takes out of frames are lost on the way to their CPU: if %s receives tagged traffic, turn the offload off (ethtool -K %s%s%s)\n",
		dev, dev, dev, off & CS_VLAN_OFFLOAD_CTAG ? " rxvlan off" : "",
		off & CS_VLAN_OFFLOAD_STAG ? " rx-vlan-stag-hw-parse off" : "");
}

/*
 * The copy of the steering program bound to @ix that puts a tag the driver
 * took out of the frame back before the cpumap redirect (without it such
 * tags are lost on the way to the CPU): a program fd, or -errno when the
 * driver or the kernel cannot (said, unless the driver simply has no reader).
 */
static int vlan_steer_fd(struct cs_state *s, int ix, const char *dev, enum cs_xdp_mode mode)
{
	int fd;

	if (mode != CS_XDP_NATIVE || getenv("CS_TEST_NO_VLAN_RESTORE") || nl_xdp_vlan_tag(ix) != 1)
		return -EOPNOTSUPP;
	fd = dp_xdp_load_vlan(&s->maps, ix);
	if (fd < 0)
		fprintf(stderr, "cpushaper: warning: %s: cannot load the steering program that keeps offloaded VLAN tags: %s%s\n",
			dev, strerror(-fd),
			fd == -EINVAL ? " (kernels before 6.15 refuse a device-bound program that redirects to a cpumap)" : "");
	return fd;
}

/* Attach the steering program to @ix: the copy that keeps VLAN tags where it can. */
static int attach_xdp(struct cs_state *s, struct cpushaper *skel, int ix, const char *dev,
		      enum cs_xdp_mode mode)
{
	int fd = vlan_steer_fd(s, ix, dev, mode), err;

	if (fd >= 0) {
		err = dp_xdp_attach(ix, fd, mode);
		close(fd);
		if (!err)
			return 0;
		fprintf(stderr, "cpushaper: warning: %s: cannot attach the steering program that keeps offloaded VLAN tags: %s\n",
			dev, strerror(-err));
	}
	if (mode == CS_XDP_NATIVE)
		vlan_warn(dev);
	return dp_xdp_attach(ix, dp_xdp_fd(skel), mode);
}

/*
 * Our steering program is in place on @ix: where it is the shared one but the
 * driver can hand XDP the tag (a shaper an older version loaded, the driver
 * changed), swap in the copy that keeps tags, in one step; where tags are
 * still lost, say so on every load.
 */
static void upgrade_xdp(struct cs_state *s, int at, int ix, const char *dev, enum cs_xdp_mode mode)
{
	__u32 id = s->at[at].prog_id;
	int fd, err;

	if (mode != CS_XDP_NATIVE || dp_xdp_keeps_vlan(id) != 0)
		return;
	fd = vlan_steer_fd(s, ix, dev, mode);
	if (fd >= 0) {
		err = dp_xdp_replace(ix, id, fd);
		close(fd);
		if (!err) {
			fprintf(stderr, "cpushaper: %s: steering program replaced by one that keeps offloaded VLAN tags\n", dev);
			return;
		}
		fprintf(stderr, "cpushaper: warning: %s: cannot swap in the steering program that keeps offloaded VLAN tags: %s\n",
			dev, strerror(-err));
	}
	vlan_warn(dev);
}

static int ensure_attached(struct cs_state *s, struct cpushaper *skel, enum cs_xdp_mode mode,
			   struct cs_repairs *r)
{
	struct cpushaper *own = NULL;
	struct cs_maps tmp;
	int err = 0, stale = -1;

	for (int i = 0; i < CS_AT_N && !err; i++) {
		int ix = i & 1 ? s->wan_ix : s->lan_ix;
		const char *dev = i & 1 ? s->wan : s->lan;
		bool xdp = i >= CS_AT_LAN_XDP;

		if (state_at_ok(s, i)) {
			if (xdp)
				upgrade_xdp(s, i, ix, dev, mode);
			continue;
		}
		if (xdp && s->at[i].other_id) {
			/* never replace another tool's program: say whose it is */
			fprintf(stderr, "cpushaper: %s: another XDP program (id %u, \"%s\") holds the hook: remove it (ip link set dev %s xdp off), then load again\n",
				dev, s->at[i].other_id, s->at[i].other_name, dev);
			err = -EBUSY;
			break;
		}
		if (s->loaded)
			fprintf(stderr, "cpushaper: %s: the %s program was %s: attaching it again\n", dev,
				xdp ? "XDP" : "TC", s->at[i].prog_id ? "on other maps" : "missing");
		if (!skel) {
			err = dp_load(&s->maps, &own, &tmp);
			if (err) {
				fprintf(stderr, "cpushaper: cannot load the BPF programs: %s\n", strerror(-err));
				break;
			}
			maps_close(&tmp);
			skel = own;
		}
		if (xdp && s->at[i].prog_id) {
			/* a stale program steers with old maps; keep it to put back if ours fails */
			stale = bpf_prog_get_fd_by_id(s->at[i].prog_id);
			if ((err = dp_xdp_detach(ix))) {
				fprintf(stderr, "cpushaper: cannot remove the stale XDP program of %s: %s\n",
					dev, strerror(-err));
				break;
			}
		}
		err = xdp ? attach_xdp(s, skel, ix, dev, mode) : dp_tc_attach(ix, dp_tc_fd(skel));
		if (err)
			fprintf(stderr, "cpushaper: cannot attach the %s program to %s: %s%s\n",
				xdp ? "XDP" : "TC", dev, strerror(-err),
				xdp && err == -EOPNOTSUPP ? " (driver without native XDP? try --xdp-mode skb)" : "");
		else if (s->loaded)
			r->programs++;
		if (err && stale >= 0 && !dp_xdp_attach(ix, stale, mode))
			fprintf(stderr, "cpushaper: %s: the stale XDP program is back in place\n", dev);
		if (stale >= 0)
			close(stale);
		stale = -1;
	}
	if (own)
		dp_unload(own);
	return err;
}

static void undo_create(struct nl_sock *sk, struct cs_state *s)
{
	for (int i = 0; i < 2; i++) {
		int ix = i ? s->wan_ix : s->lan_ix;

		dp_xdp_detach(ix);
		dp_tc_detach(ix);
		tc_tree_destroy(sk, ix);
	}
}

/*
 * The network above the circuits of @want: --network, or network.json beside
 * the customer file. Without one, say how many circuits name a parent (a
 * mistyped path must not pass silently). Problems go to @d.
 */
static int read_network(const struct load_opts *o, struct circuit_set *want, struct network *net,
			char path[4096], struct cs_diag *d)
{
	const char *slash = strrchr(o->file, '/');
	size_t named;
	int err;

	memset(net, 0, sizeof(*net));
	if (o->network && strcmp(o->network, "none")) {
		snprintf(path, 4096, "%s", o->network);
	} else {
		snprintf(path, 4096, "%.*snetwork.json", slash ? (int)(slash - o->file + 1) : 0,
			 o->file);
		if (o->network || access(path, F_OK)) {
			if (o->root) {
				diag_add(d, "%s: --root needs a network file (%s, or --network FILE)",
					 o->file, path);
				return -EINVAL;
			}
			named = network_parents_named(want);
			for (size_t i = 0; i < want->n; i++)
				want->v[i].node = 0;
			if (named)
				fprintf(stderr, "cpushaper: %zu circuit%s name%s a parent node, but %s (%s; or --network FILE): shaped under their CPU's root class\n",
					named, named == 1 ? "" : "s", named == 1 ? "s" : "",
					o->network ? "--network none was given" : "there is no network file",
					path);
			path[0] = '\0';
			return 0;
		}
	}
	if ((err = network_load(path, net, d)))
		return err;
	if (o->root && (err = network_root(net, o->root, want, o->file, d)))
		return err;
	return network_resolve(net, want, o->file, d);
}

static void print_summary(const struct load_opts *o, const struct circuit_set *want,
			  const struct network *net, const struct plan *p,
			  const bool cpus[CS_MAX_CPUS], const struct cs_repairs *r)
{
	size_t moved = 0, renamed = 0;
	char buf[64];

	for (size_t i = 0; i < p->n_class_del; i++)
		moved += circuit_set_find(want, p->class_del[i]->id) != NULL;
	renamed = p->n_meta_put - p->n_class_add - p->n_class_change;
	out_open_obj(NULL);
	print_str(PRINT_ANY, "file", o->dry_run ? "%s: dry run, nothing changed\n" : "%s: ", o->file);
	print_u64(PRINT_ANY, "circuits", "%llu circuits", want->n);
	print_u64(PRINT_ANY, "added", ", %llu added", p->n_class_add - moved);
	print_u64(PRINT_ANY, "changed", ", %llu changed", p->n_class_change + renamed);
	print_u64(PRINT_ANY, "moved", ", %llu moved", moved);
	print_u64(PRINT_ANY, "removed", ", %llu removed", p->n_meta_del);
	print_u64(PRINT_ANY, "addresses_changed", ", %llu address updates\n",
		  p->n_lpm_put + p->n_lpm_del);
	if (net && net->n) {
		/* a node whose class goes and whose record stays moved (a new class) */
		size_t real = 0, moved_nodes = p->n_node_del - p->n_node_gone;

		for (size_t i = 0; i < net->n; i++)
			real += !net->v[i].is_virtual;
		out_open_obj("nodes");
		print_u64(PRINT_ANY, "nodes", "  network: %llu nodes", real);
		print_u64(PRINT_ANY, "added", ", %llu added", p->n_node_add - moved_nodes);
		print_u64(PRINT_ANY, "changed", ", %llu changed", p->n_node_change);
		print_u64(PRINT_ANY, "moved", ", %llu moved", moved_nodes);
		print_u64(PRINT_ANY, "removed", ", %llu removed\n", p->n_node_gone);
		out_close_obj();
	}
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
	struct circuit_set want = { 0 }, have = { 0 };
	struct cs_diag diag = { 0 };
	struct lpm_entry *have_lpm = NULL;
	struct cpushaper *skel = NULL;
	struct nl_sock *sk = NULL;
	struct load_opts o = { 0 };
	struct cs_state s;
	struct cs_config cfg, bridge, orig = { 0 };
	bool bridge_cpus[CS_MAX_CPUS];
	bool cpus[CS_MAX_CPUS], created = false, gc, reconcile, applied = false, partial = false;
	size_t n_have_lpm = 0;
	struct plan plan = { 0 };
	int err, arrive_fd = -1, lock = -1, top;
	struct tc_stat *cls[2] = { NULL, NULL };
	size_t ncls[2] = { 0, 0 };
	struct cs_repairs rep = { 0 };
	struct cs_layout layout;
	struct network net = { 0 };
	char net_path[4096] = "";
	uint32_t *present = NULL;
	size_t n_present = 0;
	struct cs_diag notes = { 0 };
	struct assign_net an = { 0 };

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	out_init(stdout, o.c.json);

	/* 1. Everything that can refuse, before anything changes. */
	err = circuits_load_csv(o.file, &want, &diag);
	if (err)
		goto refuse;
	if (want.names_fixed)
		fprintf(stderr, "cpushaper: warning: %s: %zu circuit name%s not UTF-8: the bytes that are not show as '?' (save the file as UTF-8)\n",
			o.file, want.names_fixed, want.names_fixed == 1 ? " is" : "s are");
	if ((err = read_network(&o, &want, &net, net_path, &diag)))
		goto refuse;
	if (!o.dry_run && (lock = cs_lock_writer("load", LOCK_TIMEOUT_S)) < 0) {
		err = lock;
		goto out;
	}
	if ((err = state_open(&s, o.c.lan, o.c.wan)))
		goto out_state;
	if ((top = choose_cpus(&o, &s, cpus)) < 0 ||
	    (err = choose_layout(&o, &s, cpus, top, &layout))) {
		err = top < 0 ? top : err;
		goto out_state;
	}
	if (s.loaded && (err = maps_read_state(&s.maps, &have, &have_lpm, &n_have_lpm))) {
		fprintf(stderr, "cpushaper: cannot read the running circuits: %s\n", strerror(-err));
		goto out_state;
	}
	if ((err = state_read_nodes(&s))) {
		fprintf(stderr, "cpushaper: cannot read the running nodes: %s\n", strerror(-err));
		goto out_state;
	}
	if (s.n_nodes && !net_path[0] && !o.network) {
		/* a file that went missing must not tear the running network down */
		diag_add(&diag, "%s: the running shaper has %zu network node%s, but there is no network file beside it: give --network FILE, or --network none to shape without them",
			 o.file, s.n_nodes, s.n_nodes == 1 ? "" : "s");
		err = -EINVAL;
		goto refuse_state;
	}
	if ((err = tc_open(&sk))) {
		fprintf(stderr, "cpushaper: cannot open rtnetlink: %s\n", strerror(-err));
		goto out_state;
	}
	/*
	 * Trust the kernel, not the maps: what the kernel holds of the running
	 * circuits' classes, read before the trees are ensured (a tree deleted
	 * under us comes back empty), is what gets repaired below; and no class
	 * it holds, recorded or not (an interrupted apply), is given out anew.
	 * Without that read the load still applies the file, as before.
	 */
	reconcile = s.loaded && !getenv("CS_TEST_NO_RECONCILE"); /* bench hook: its cost */
	if (reconcile) {
		int e = state_read_classes(&s, sk, cls, ncls);

		if (e) {
			fprintf(stderr, "cpushaper: warning: cannot read the classes of %s/%s (%s): nothing is repaired this time\n",
				s.lan, s.wan, strerror(-e));
			reconcile = false;
		}
	}
	if (reconcile && (net.n || s.n_nodes)) {
		/* flat, a leftover class is one under :1, as a new one would be: taken over */
		present = malloc((ncls[0] + ncls[1] + 1) * sizeof(*present));
		if (!present) {
			err = -ENOMEM;
			goto out_state;
		}
		for (int dev = 0; dev < 2; dev++)
			for (size_t i = 0; i < ncls[dev]; i++)
				present[n_present++] = cls[dev][i].handle;
	}
	an = (struct assign_net){ .net = &net, .have = s.nodes, .n_have = s.n_nodes,
				  .present = present, .n_present = n_present,
				  .rebalance = o.rebalance, .notes = &notes };
	if ((err = assign_all(&want, &have, &an, cpus, &layout, o.file, &diag)))
		goto refuse_state;
	for (size_t i = 0; i < notes.n; i++)
		fprintf(stderr, "cpushaper: note: %s\n", notes.msg[i]);
	network_rates(&net, &want);
	if ((err = plan_build(&want, &have, have_lpm, n_have_lpm, &plan)) ||
	    (err = plan_nodes(&net, s.nodes, s.n_nodes, &plan)))
		goto out_state;
	if (o.unknown_given && o.unknown_policy == CS_UNKNOWN_CPU && !cpus[o.default_cpu]) {
		fprintf(stderr, "cpushaper: --unknown cpu:%u names a CPU that does not shape\n",
			o.default_cpu);
		err = -EINVAL;
		goto out_state;
	}
	fill_config(&o, &s, cpus, &layout, &cfg);
	if (o.dry_run) {
		print_summary(&o, &want, &net, &plan, cpus, &rep);
		goto out_state;
	}

	/* 2. Apply. */
	if (!s.loaded) {
		err = dp_load(NULL, &skel, &s.maps);
		if (err) {
			fprintf(stderr, "cpushaper: cannot load the BPF programs: %s%s\n", strerror(-err),
				err == -EPERM ? " (needs CAP_BPF and CAP_NET_ADMIN: run as root)" : "");
			goto out_state;
		}
		created = true;
		bridge = cfg;
		/*
		 * A tree an interrupted first load left: with a network its classes
		 * cannot be taken over (their parents may differ), and nothing of
		 * ours runs on it: start from nothing.
		 */
		if (net.n && (tc_tree_present(sk, s.lan_ix) == 1 || tc_tree_present(sk, s.wan_ix) == 1)) {
			fprintf(stderr, "cpushaper: removing the tree an interrupted first load left\n");
			tc_tree_destroy(sk, s.lan_ix);
			tc_tree_destroy(sk, s.wan_ix);
		}
	} else {
		/* While circuits move, both old and new CPUs must be reachable. */
		bridge = cfg;
		for (int c = 0; c < CS_MAX_CPUS; c++)
			cs_cpu_set(&bridge, (__u32)c, cs_cpu_on(&bridge, (__u32)c) || cs_cpu_on(&s.cfg, (__u32)c));
	}
	for (__u32 c = 0; c < CS_MAX_CPUS; c++)
		bridge_cpus[c] = cs_cpu_on(&bridge, c);
	orig = s.cfg;
	if ((err = ensure_trees(sk, &s, &cfg, cpus, reconcile ? cls : NULL, ncls, &rep)))
		goto fail;
	if (!skel && (arrive_fd = maps_cpumap_prog_fd(&s.maps)) < 0) {
		/* no cpumap entry to take the program from: load a copy on the running maps */
		struct cs_maps tmp;

		if ((err = dp_load(&s.maps, &skel, &tmp)))
			goto fail;
		maps_close(&tmp);
	}
	if (skel)
		arrive_fd = dp_cpumap_fd(skel);
	bridge.leaf = cfg.leaf;
	s.cfg = cfg;
	if (reconcile && ((err = state_repair_nodes(&s, sk, &net, cls, ncls, &rep)) ||
			  (err = state_repair_classes(&s, sk, &have, &want, cls, ncls, &rep))))
		goto fail;
	if (rep.classes[0] + rep.classes[1] + rep.rates[0] + rep.rates[1])
		fprintf(stderr, "cpushaper: %u circuit class%s missing and %u with other rates than recorded: put back\n",
			rep.classes[0] + rep.classes[1], rep.classes[0] + rep.classes[1] == 1 ? " was" : "es were",
			rep.rates[0] + rep.rates[1]);
	if (rep.nodes)
		fprintf(stderr, "cpushaper: %u node class%s missing or with other rates than recorded: put back\n",
			rep.nodes, rep.nodes == 1 ? " was" : "es were");
	/*
	 * Classes no circuit names are left only by an interrupted apply: removed
	 * after this apply, which may reuse some of them.
	 */
	gc = s.loaded ? rep.leftovers > 0
		      : tc_tree_present(sk, s.lan_ix) == 1 || tc_tree_present(sk, s.wan_ix) == 1;
	cfg.flags &= ~CS_F_DIRTY; /* set by cpushaper before the reconcile step; no longer read */
	if ((err = maps_config_write(&s.maps, &bridge)) ||
	    (err = maps_cpumap_sync(&s.maps, bridge_cpus, cfg.cpumap_qsize, arrive_fd))) {
		fprintf(stderr, "cpushaper: cannot write the data path configuration: %s\n",
			strerror(-err));
		goto fail;
	}
	if ((err = state_apply(&s, sk, &plan, &have, have_lpm, n_have_lpm)))
		goto fail;
	applied = true;
	{
		int gone = gc ? state_gc_classes(&s, sk, &want, &net) : 0;

		if (gone > 0)
			fprintf(stderr, "cpushaper: removed %d class%s left by an interrupted run\n", gone,
				gone == 1 ? "" : "es");
	}
	if ((err = maps_config_write(&s.maps, &cfg)) ||
	    (err = maps_cpumap_sync(&s.maps, cpus, cfg.cpumap_qsize, arrive_fd))) {
		fprintf(stderr, "cpushaper: cannot write the data path configuration: %s\n",
			strerror(-err));
		goto fail;
	}
	if ((err = ensure_attached(&s, skel, cfg.flags & CS_F_XDP_SKB ? CS_XDP_SKB : CS_XDP_NATIVE, &rep)))
		goto fail;
	print_summary(&o, &want, &net, &plan, cpus, &rep);
	goto out_state;

fail:
	if (created) {
		undo_create(sk, &s);
	} else if (s.loaded && !applied) {
		/* the configuration written for the apply (options, CPUs) goes back too */
		bool was[CS_MAX_CPUS];

		for (__u32 c = 0; c < CS_MAX_CPUS; c++)
			was[c] = cs_cpu_on(&orig, c);
		if (maps_config_write(&s.maps, &orig) ||
		    (arrive_fd >= 0 && maps_cpumap_sync(&s.maps, was, orig.cpumap_qsize, arrive_fd)))
			partial = true;
	}
	/* :1/:2 were re-sent with new rates by ensure_trees: that is a change too */
	if (!created && s.loaded && (cfg.link_bps != orig.link_bps || cfg.default_bps != orig.default_bps))
		partial = true;
	if (!created && (applied || rep.classes[0] + rep.classes[1] + rep.rates[0] + rep.rates[1] + rep.htbs +
			 rep.nodes))
		/* the kernel changed and was not put back: say so, and with its own exit status */
		partial = true;
	goto out_state;
refuse_state:
	state_close(&s);
refuse:
	diag_print(&diag, stderr);
	fprintf(stderr, "cpushaper: %s refused; nothing was changed\n", o.file);
	goto out;
out_state:
	state_close(&s);
out:
	if (lock >= 0)
		close(lock);
	if (arrive_fd >= 0 && !skel)
		close(arrive_fd);
	if (skel)
		dp_unload(skel);
	tc_close(sk);
	plan_free(&plan);
	free(cls[0]);
	free(cls[1]);
	circuit_set_free(&want);
	circuit_set_free(&have);
	free(have_lpm);
	diag_free(&diag);
	diag_free(&notes);
	network_free(&net);
	free(present);
	if (err && partial) {
		fprintf(stderr, "cpushaper: %s was applied in part: %s; the shaper runs what was done (see show). Fix the cause and load again\n",
			o.file, applied ? "the circuits are in place, a later step failed"
					: "repairs were made before the failure");
		return EXIT_PARTIAL;
	}
	return err ? 1 : 0;
}
