// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "assign.h"
#include "circuits.h"
#include "cpulist.h"
#include "input.h"
#include "leaf.h"
#include "load.h"
#include "lock.h"
#include "handles.h"
#include "log.h"
#include "netdev.h"
#include "qdisc.h"
#include "rate.h"
#include "rtt.h"
#include <bpf/bpf.h>
#include <linux/pkt_sched.h>

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
	/* HTB majors stay below the MQ's (handle_major() is 0 past the order's end) */
	if (!layout_major(l, (uint32_t)top, l->htbs_per_cpu - 1) ||
	    layout_major(l, (uint32_t)top, l->htbs_per_cpu - 1) >= CS_MQ_MAJOR) {
		fprintf(stderr, "cpushaper: %u HTBs per CPU on %u CPUs need more HTB handles than there are below %x:; use fewer\n",
			l->htbs_per_cpu, l->stride, (unsigned)CS_MQ_MAJOR);
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		const char *dev = i ? s->wan : s->lan;
		uint32_t need = (l->htbs_per_cpu - 1) * l->stride + (uint32_t)top + 1; /* queues */

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
		cfg->flags = CS_F_META | CS_F_RTT;
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
	if (o->leaf_given || !s->loaded)
		cfg->leaf = o->leaf;
	cfg->queue_ms = o->queue_ms ? o->queue_ms
		      : s->loaded && s->cfg.queue_ms ? s->cfg.queue_ms : CS_DEFAULT_QUEUE_MS;
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
	if (o->rtt >= 0)
		cfg->flags = o->rtt ? cfg->flags | CS_F_RTT : cfg->flags & ~CS_F_RTT;
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
	/* written with the apply: "in part" until the load has done everything (record_result) */
	cfg->load_time = (__u64)time(NULL);
	cfg->load_ok_time = s->loaded ? s->cfg.load_ok_time : 0;
	cfg->load_result = CS_LOAD_PARTIAL;
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
			uint32_t major = handle_htb(cfg->htb_stride, c, j) << 16;
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
struct xps_save {
	const struct cs_maps *m;
	bool lan;
};

static int xps_save(unsigned int queue, bool rxqs, const char *text, void *arg)
{
	const struct xps_save *x = arg;

	/* the first load's: a later one finds XPS off, and never overwrites it */
	maps_xps_save(x->m, x->lan, queue, rxqs, text);
	return 0;
}

/* The trees @cfg describes on @cpus: classes :1 and :2 and the leaves of :2 (re)sent. */
static struct tc_tree_opts tree_opts(const struct cs_config *cfg, const bool cpus[CS_MAX_CPUS],
				     const struct leaf_avail *avail, bool set_classes)
{
	return (struct tc_tree_opts){
		.cpus = cpus,
		.link_bps = cfg->link_bps,
		.default_bps = cfg->default_bps,
		.htbs_per_cpu = cfg->htbs_per_cpu,
		.stride = cfg->htb_stride,
		.leaf = leaf_for((enum cs_leaf)cfg->leaf, avail),
		.queue_ms = cfg->queue_ms ? cfg->queue_ms : CS_DEFAULT_QUEUE_MS,
		.htb_majors = cfg->htb_stride * cfg->htbs_per_cpu,
		/* every load: the kernel may have gained (a module) what it lacked */
		.set_leaf = true,
		.set_classes = set_classes,
	};
}

static int ensure_trees(struct nl_sock *sk, struct cs_state *s, struct cs_config *cfg,
			const bool cpus[CS_MAX_CPUS], struct tc_stat *const *cls, const size_t *ncls,
			const struct leaf_avail *avail, struct cs_repairs *r)
{
	/* a reload with the same rates sends no class message at all */
	struct tc_tree_opts t = tree_opts(cfg, cpus, avail,
					  !s->loaded || cfg->link_bps != s->cfg.link_bps ||
					  cfg->default_bps != s->cfg.default_bps);
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
				lost += cs_cpu_on(&s->cfg, (uint32_t)handle_index(t.created[k]) % cfg->htb_stride);
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
		/* what XPS was before the first load, for unload to put back */
		struct xps_save xs = { &s->maps, i == 0 };

		netdev_xps_each(dev, xps_save, &xs);
		err = netdev_xps_off(dev);
		if (err) {
			fprintf(stderr, "cpushaper: cannot turn XPS off on %s: %s\n", dev, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * A load of a running shaper failed before its plan was applied: the HTBs
 * that shaped before get classes :1 and :2 and the leaves of :2 as @was had
 * them (ensure_trees sent @cfg's: other rates, --leaf or --queue-ms). 0 when
 * all went back.
 */
static int trees_put_back(struct nl_sock *sk, const struct cs_state *s, const struct cs_config *was,
			  const struct cs_config *cfg, const struct leaf_avail *avail)
{
	bool cpus[CS_MAX_CPUS];
	struct tc_tree_opts t;
	int err = 0;

	for (__u32 c = 0; c < CS_MAX_CPUS; c++)
		cpus[c] = cs_cpu_on(was, c);
	t = tree_opts(was, cpus, avail,
		      cfg->link_bps != was->link_bps || cfg->default_bps != was->default_bps);
	for (int i = 0; i < 2 && !err; i++) {
		if ((i ? s->wan_ix : s->lan_ix) >= 0)
			err = tc_tree_ensure(sk, i ? s->wan_ix : s->lan_ix, &t);
		free(t.created);
		t.created = NULL;
	}
	if (err)
		fprintf(stderr, "cpushaper: cannot put the link and default classes back as they were: %s\n",
			strerror(-err));
	return err;
}

/*
 * May the devices hold circuit classes no record names (an interrupted run)?
 * A tree without a running shaper, or more circuit classes in the dumps @cls
 * than running circuits and nodes.
 */
static bool leftover_classes(const struct cs_state *s, const struct circuit_set *have,
			     struct tc_stat *const *cls, const size_t *ncls, struct nl_sock *sk)
{
	if (!s->loaded)
		return tc_tree_present(sk, s->lan_ix) == 1 || tc_tree_present(sk, s->wan_ix) == 1;
	for (int dev = 0; dev < 2; dev++) {
		size_t n = 0;

		for (size_t i = 0; cls[dev] && i < ncls[dev]; i++)
			n += TC_H_MIN(cls[dev][i].handle) >= CS_FIRST_MINOR;
		if (n > have->n + s->n_nodes)
			return true;
	}
	return false;
}

/*
 * Which leaves every circuit of @want gets and their handles (src/leaf.c),
 * the kernel asked once what it has; one warning says how many circuits get
 * less than they want.
 */
static int choose_leaves(struct nl_sock *sk, const struct cs_state *s, struct circuit_set *want,
			 const struct circuit_set *have, const struct cs_config *cfg, bool leftovers,
			 struct leaf_avail *a, const char *file, struct cs_diag *d)
{
	bool need[3] = { false };
	uint8_t *held = NULL;
	size_t fallback;
	int err = 0;

	need[cfg->leaf < 3 ? cfg->leaf : 0] = true;
	/* a failed load puts the running :2 leaves back: their kind must be known too */
	if (s->loaded)
		need[s->cfg.leaf < 3 ? s->cfg.leaf : 0] = true;
	for (size_t i = 0; i < want->n; i++)
		for (int dir = 0; dir < 2; dir++)
			need[leaf_wanted(want->v[i].sqm[dir], CS_LEAF_DEFAULT) % 3] = true;
	/*
	 * cake falls back on fq_codel: ask for that too. Also on a dry run: the
	 * probe creates and changes nothing (the kernel refuses its one-byte
	 * option when it validates the attributes, after looking the kind up,
	 * which may load the qdisc's module).
	 */
	a->fq_codel = a->cake = false;
	if (need[CS_LEAF_FQ_CODEL] || need[CS_LEAF_CAKE]) {
		if ((err = tc_kind_present(sk, s->lan_ix, CS_LEAF_FQ_CODEL)) < 0)
			goto probe;
		a->fq_codel = err;
	}
	if (need[CS_LEAF_CAKE]) {
		if ((err = tc_kind_present(sk, s->lan_ix, CS_LEAF_CAKE)) < 0)
			goto probe;
		a->cake = err;
	}
	/* classes an interrupted run left: their leaves hold majors (one dump, on this rare path) */
	if (leftovers) {
		if (!(held = calloc(0x10000, 1)))
			return -ENOMEM;
		for (int dev = 0; dev < 2 && !err; dev++)
			if ((dev ? s->wan_ix : s->lan_ix) >= 0)
				err = tc_leaf_majors(sk, dev ? s->wan_ix : s->lan_ix, held);
		if (err < 0) {
			free(held);
			goto probe;
		}
	}
	err = leaf_assign(want, have, (enum cs_leaf)cfg->leaf, a, cfg->htb_stride * cfg->htbs_per_cpu,
			  held, &fallback, file, d);
	free(held);
	if (err)
		return err;
	if (fallback && !a->fq_codel)
		fprintf(stderr, "cpushaper: warning: this kernel has no fq_codel%s: %zu of %zu circuits get the fallback leaf, a FIFO of %u ms of their plan (--queue-ms)\n",
			need[CS_LEAF_CAKE] ? " nor cake" : "", fallback, want->n, cfg->queue_ms);
	else if (fallback)
		fprintf(stderr, "cpushaper: warning: this kernel has no cake: %zu of %zu circuits get fq_codel instead\n",
			fallback, want->n);
	return 0;
probe:
	fprintf(stderr, "cpushaper: cannot ask the kernel which leaf qdiscs it has: %s\n", strerror(-err));
	return err;
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
 * Plans the link cannot carry: per HTB, Min that adds up past its link class
 * (not guaranteed then), and any Max above the link (never reached). Warnings:
 * the operator may know better (oversubscription is normal for Max).
 */
static void capacity_warn(const struct circuit_set *want, const struct cs_config *cfg)
{
	enum { SHOWN = 5 };
	/* by TX queue: HTB q is the q-th major of src/handles.h */
	size_t n_q = (size_t)cfg->htb_stride * (cfg->htbs_per_cpu ? cfg->htbs_per_cpu : 1);
	uint64_t (*min)[2] = calloc(n_q, sizeof(*min));
	size_t over = 0, said = 0;
	char a[32], b[32];

	for (size_t i = 0; i < want->n; i++) {
		const struct circuit *c = &want->v[i];

		int32_t q = handle_index(c->major);

		if (min && q >= 0 && (size_t)q < n_q) {
			min[q][0] += c->down_min;
			min[q][1] += c->up_min;
		}
		for (int d = 0; d < 2; d++) {
			uint64_t max = d ? c->up_max : c->down_max;

			if (max <= cfg->link_bps)
				continue;
			if (over++ < SHOWN) {
				rate_format_mbps(max, a, sizeof(a));
				rate_format_mbps(cfg->link_bps, b, sizeof(b));
				fprintf(stderr, "cpushaper: warning: %s: %s Max %s Mbit/s is above the link class (--link-mbps %s): it never gets more than that\n",
					c->id, d ? "Upload" : "Download", a, b);
			}
		}
	}
	if (over > SHOWN)
		fprintf(stderr, "cpushaper: warning: and %zu more plans above the link class\n", over - SHOWN);
	for (size_t q = 0; min && q < n_q; q++)
		for (int d = 0; d < 2; d++) {
			if (min[q][d] <= cfg->link_bps || said++ >= SHOWN)
				continue;
			rate_format_mbps(min[q][d], a, sizeof(a));
			rate_format_mbps(cfg->link_bps, b, sizeof(b));
			fprintf(stderr, "cpushaper: warning: cpu %zu (HTB %x:): its circuits' %s Min add up to %s Mbit/s, above its link class (--link-mbps %s): Min is not guaranteed\n",
				q % cfg->htb_stride, handle_major((uint32_t)q), d ? "Upload" : "Download", a, b);
		}
	if (said > SHOWN)
		fprintf(stderr, "cpushaper: warning: and %zu more HTBs whose Min add up past the link\n", said - SHOWN);
	free(min);
}

/*
 * The RTT flow table is sized when the maps are made: a --rtt-flows (or
 * rtt-flows =) of another size than the running table's is said, not
 * applied (nothing else of the load depends on it).
 */
static void rtt_flows_note(const struct load_opts *o, const struct cs_state *s)
{
	int sets = s->loaded && o->rtt_flows ? maps_flow_sets(&s->maps) : 0;
	uint32_t want = o->rtt_flows ? cs_flow_sets_for(o->rtt_flows) : 0;

	if (sets > 0 && want != (uint32_t)sets)
		fprintf(stderr, "cpushaper: note: --rtt-flows %u (%u flows) takes effect at the next cold start, after 'cpushaper unload': the running table holds %u flows (%u KiB a CPU)\n",
			o->rtt_flows, want * CS_FLOW_WAYS, (unsigned)sets * CS_FLOW_WAYS,
			(unsigned)(sets * sizeof(struct cs_flow_set) / 1024));
}

/* How a load ended, in the running shaper's configuration (the exporter shows it). */
static void record_result(const struct cs_state *s, uint32_t result)
{
	struct cs_config c;

	if (!s->loaded || maps_config_read(&s->maps, &c))
		return;
	c.load_time = (__u64)time(NULL);
	c.load_result = result;
	if (result == CS_LOAD_OK)
		c.load_ok_time = c.load_time;
	maps_config_write(&s->maps, &c);
}

/*
 * A file refused before the running state was read: still say so in it, for
 * the alert on a reload that keeps failing. Best effort, and not behind a
 * long load (a writer's lock for a few seconds at most).
 */
static void record_refusal(const struct load_opts *o)
{
	struct cs_state s;
	int lock;

	if (o->dry_run || (lock = cs_lock_writer("load", 5)) < 0)
		return;
	if (!state_open(&s, o->c.lan, o->c.wan))
		record_result(&s, CS_LOAD_REFUSED);
	state_close(&s);
	close(lock);
}

/* The guard against a truncated export: refuse to remove many circuits at once. */
static bool too_many_removed(const struct load_opts *o, const struct change_list *ch, size_t running)
{
	/* one circuit may always go, unless no removal at all is allowed (--max-remove 0) */
	if (o->force || !ch->removed || (ch->removed == 1 && o->max_remove) ||
	    ch->removed * 100 <= (size_t)o->max_remove * running)
		return false;
	fprintf(stderr, "cpushaper: %s would remove %zu of the %zu running circuits (%.1f%%, more than --max-remove %u%%): a truncated or partial export? Nothing was changed. Check the file (%zu circuits in it); 'load --force' removes them\n",
		o->file, ch->removed, running, 100.0 * (double)ch->removed / (double)running, o->max_remove,
		running - ch->removed + ch->added);
	return true;
}

/* A load that changed nothing, in the system log: which file, who, and the first reason. */
static void log_refusal(const struct load_opts *o, const char *why)
{
	char who[128];

	cs_syslog_who(who, sizeof(who));
	cs_syslog("load %s by %s refused, nothing changed: %s", o->file, who, why);
}

/* Every applied change to the system log, with the counts, the file and who ran it. */
static void log_changes(const struct load_opts *o, const struct circuit_set *want,
			const struct network *net, const struct change_list *ch, const char *how)
{
	char who[128], line[CHANGE_LINE_MAX];
	size_t logged = 0;

	cs_syslog_who(who, sizeof(who));
	cs_syslog("load %s by %s%s%s: %zu circuits, %zu added, %zu changed, %zu moved, %zu removed; %zu nodes, %zu added, %zu changed, %zu moved, %zu removed",
		  o->file, who, how ? ", " : "", how ? how : "", want->n, ch->added, ch->changed,
		  ch->moved, ch->removed, net ? net->n : 0, ch->nodes_added, ch->nodes_changed,
		  ch->nodes_moved, ch->nodes_removed);
	for (size_t i = 0; i < ch->n; i++) {
		if (logged++ == CS_SYSLOG_MAX_CHANGES) {
			cs_syslog("load %s: %zu more changes not logged", o->file, ch->n - CS_SYSLOG_MAX_CHANGES);
			break;
		}
		change_format(&ch->v[i], line, sizeof(line));
		cs_syslog("load %s: %s", o->file, line);
	}
}

/*
 * 1. Everything that can refuse, before anything changes: the customer file,
 *    the network file and the parents, the running state (programs, maps,
 *    circuits, nodes, and the classes the kernel really holds), CPU placement,
 *    the plan. A refusal prints FILE:LINE reasons and changes nothing.
 * 2. Apply: load the programs (first load), ensure the trees, put back what
 *    changed under the shaper (nodes, then circuits), widen the cpumap to old
 *    and new CPUs, apply the plan (make-before-break), remove leftovers,
 *    narrow the cpumap, attach what is missing. A failure before the plan is
 *    applied puts the configuration back; after it, the load is partial.
 */
int load_run(const struct load_opts *o, void (*summary)(const struct load_opts *o,
							 const struct load_summary *sum),
	     bool *partial_out, bool *applied_out)
{
	struct circuit_set want = { 0 }, have = { 0 };
	struct cs_diag diag = { 0 };
	struct lpm_entry *have_lpm = NULL;
	struct cpushaper *skel = NULL;
	struct nl_sock *sk = NULL;
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
	struct change_list changes = { 0 };
	struct leaf_avail avail = { 0 };

	/* 1. Everything that can refuse, before anything changes. */
	{
		struct input_opts in = { .file = o->file, .network = o->network, .root = o->root,
					 .skip_invalid = o->skip_invalid };

		if ((err = input_read(&in, &want, &net, net_path, &diag, NULL)))
			goto refuse;
	}
	if (o->wait_s)
		netdev_wait(o->c.lan, o->c.wan, o->wait_s); /* state_open says which is missing */
	if (!o->dry_run && (lock = cs_lock_writer("load", LOCK_TIMEOUT_S)) < 0) {
		err = lock;
		goto out;
	}
	if ((err = state_open(&s, o->c.lan, o->c.wan)))
		goto out_state;
	if ((top = choose_cpus(o, &s, cpus)) < 0 ||
	    (err = choose_layout(o, &s, cpus, top, &layout))) {
		err = top < 0 ? top : err;
		goto out_state;
	}
	rtt_flows_note(o, &s);
	if (s.loaded && (err = maps_read_state(&s.maps, &have, &have_lpm, &n_have_lpm))) {
		fprintf(stderr, "cpushaper: cannot read the running circuits: %s\n", strerror(-err));
		goto out_state;
	}
	if ((err = state_read_nodes(&s))) {
		fprintf(stderr, "cpushaper: cannot read the running nodes: %s\n", strerror(-err));
		goto out_state;
	}
	if (s.n_nodes && !net_path[0] && !o->network) {
		/* a file that went missing must not tear the running network down */
		diag_add(&diag, "%s: the running shaper has %zu network node%s, but there is no network file beside it: give --network FILE, or --network none to shape without them",
			 o->file, s.n_nodes, s.n_nodes == 1 ? "" : "s");
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
				  .rebalance = o->rebalance, .notes = &notes };
	if ((err = assign_all(&want, &have, &an, cpus, &layout, o->file, &diag)))
		goto refuse_state;
	for (size_t i = 0; i < notes.n; i++)
		fprintf(stderr, "cpushaper: note: %s\n", notes.msg[i]);
	network_rates(&net, &want);
	fill_config(o, &s, cpus, &layout, &cfg);
	if ((err = choose_leaves(sk, &s, &want, &have, &cfg, leftover_classes(&s, &have, cls, ncls, sk),
				 &avail, o->file, &diag)))
		goto refuse_state_if_einval;
	if ((err = plan_build(&want, &have, have_lpm, n_have_lpm, &plan)) ||
	    /* a new --queue-ms resizes every FIFO leaf; compared with the running one */
	    (err = plan_leaves(&want, &have, s.loaded && cfg.queue_ms != s.cfg.queue_ms, &plan)) ||
	    (err = plan_nodes(&net, s.nodes, s.n_nodes, &plan)) ||
	    (err = diff_build(&want, &have, &net, s.nodes, s.n_nodes, &changes)))
		goto out_state;
	if (too_many_removed(o, &changes, have.n)) {
		if (o->dry_run)
			summary(o, &(struct load_summary){ &want, &net, &plan, cpus, &rep, &changes });
		err = -ECANCELED;
		goto out_state;
	}
	if (o->unknown_given && o->unknown_policy == CS_UNKNOWN_CPU && !cpus[o->default_cpu]) {
		fprintf(stderr, "cpushaper: --unknown cpu:%u names a CPU that does not shape\n",
			o->default_cpu);
		err = -EINVAL;
		goto out_state;
	}
	capacity_warn(&want, &cfg);
	if (o->dry_run) {
		summary(o, &(struct load_summary){ &want, &net, &plan, cpus, &rep, &changes });
		goto out_state;
	}

	/* 2. Apply. */
	if (!s.loaded) {
		err = dp_load_sized(NULL, o->rtt_flows ? cs_flow_sets_for(o->rtt_flows) : 0, &skel, &s.maps);
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
	if ((err = ensure_trees(sk, &s, &cfg, cpus, reconcile ? cls : NULL, ncls, &avail, &rep)))
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
	s.was_queue_ms = orig.queue_ms ? orig.queue_ms : CS_DEFAULT_QUEUE_MS;
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
	summary(o, &(struct load_summary){ &want, &net, &plan, cpus, &rep, &changes });
	log_changes(o, &want, &net, &changes, NULL);
	record_result(&s, CS_LOAD_OK);
	/* addresses that are circuits now leave the table of unknown ones */
	maps_unknown_prune(&s.maps);
	goto out_state;

fail:
	if (created) {
		/* XPS as it was: the map that kept it goes with this load */
		state_xps_restore(s.maps.xps, (const char *[2]){ s.lan, s.wan },
				  (const int[2]){ s.lan_ix, s.wan_ix }, NULL, NULL);
		undo_create(sk, &s);
	} else if (s.loaded && !applied) {
		/* the configuration written for the apply (options, CPUs) goes back too */
		bool was[CS_MAX_CPUS];

		for (__u32 c = 0; c < CS_MAX_CPUS; c++)
			was[c] = cs_cpu_on(&orig, c);
		if (maps_config_write(&s.maps, &orig) ||
		    (arrive_fd >= 0 && maps_cpumap_sync(&s.maps, was, orig.cpumap_qsize, arrive_fd)))
			partial = true;
		/* :1/:2 and the leaves of :2 as they were: ensure_trees sent the new options' */
		if (trees_put_back(sk, &s, &orig, &cfg, &avail))
			partial = true;
	}
	if (!created && (applied || rep.classes[0] + rep.classes[1] + rep.rates[0] + rep.rates[1] + rep.htbs +
			 rep.nodes))
		/* the kernel changed and was not put back: say so, and with its own exit status */
		partial = true;
	if (applied)
		log_changes(o, &want, &net, &changes, "applied in part");
	goto out_state;
refuse_state_if_einval:
	if (err != -EINVAL)
		goto out_state;
refuse_state:
	if (!o->dry_run)
		record_result(&s, CS_LOAD_REFUSED);
	state_close(&s);
refuse:
	diag_print(&diag, stderr);
	fprintf(stderr, "cpushaper: %s refused; nothing was changed\n", o->file);
	if (!o->dry_run)
		log_refusal(o, diag.n ? diag.msg[0] : "see its output");
	if (lock < 0)
		record_refusal(o);
	goto out;
out_state:
	/* every other way a load ends without doing all: for the exporter, and the log */
	if (err && !o->dry_run && lock >= 0) {
		record_result(&s, partial ? CS_LOAD_PARTIAL : CS_LOAD_REFUSED);
		if (!partial)
			log_refusal(o, strerror(-err));
	}
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
	diff_free(&changes);
	network_free(&net);
	free(present);
	*partial_out = err && partial;
	*applied_out = applied;
	return err;
}
