// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/errno.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include "handles.h"
#include "log.h"
#include "qdisc.h"
#include "rate.h"

#define MQ_HANDLE TC_H_MAKE((uint32_t)CS_MQ_MAJOR << 16, 0)

/* libnl speaks -NLE_*; the rest of cpushaper speaks -errno. */
static int nlerr(int e)
{
	switch (e < 0 ? -e : e) {
	case 0: return 0;
	case NLE_EXIST: return -EEXIST;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_BUSY: return -EBUSY;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NODEV: return -ENODEV;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_MSG_TOOSHORT: case NLE_MSG_TRUNC: return -EBADMSG;
	default: return -EIO;
	}
}

int tc_errno(int nle)
{
	return nlerr(nle);
}

const char *tc_leaf_name(enum cs_leaf leaf)
{
	switch (leaf) {
	case CS_LEAF_FQ_CODEL: return "fq_codel";
	case CS_LEAF_CAKE: return "cake";
	default: return "pfifo"; /* FIFO: a pfifo of our size; DEFAULT: HTB's own */
	}
}

int tc_open(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nlerr(nl_connect(sk, NETLINK_ROUTE));
	if (err) {
		nl_socket_free(sk);
		return err;
	}
	/*
	 * Dumps of many classes: the kernel fills each dump message up to the
	 * largest read it has seen (at most 32 KiB), and restarts its walk of the
	 * device's qdiscs for every message, so fewer, larger messages cost less.
	 */
	nl_socket_disable_msg_peek(sk);
	err = nlerr(nl_socket_set_msg_buf_size(sk, 32768));
	if (err) {
		nl_socket_free(sk);
		return err;
	}
	*out = sk;
	return 0;
}

void tc_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

/* The counters libnl parsed from a class or qdisc message. */
static struct tc_stat tc_stat_of(struct rtnl_tc *tc)
{
	return (struct tc_stat){
		.handle = rtnl_tc_get_handle(tc),
		.bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES),
		.packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS),
		.drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS),
		.overlimits = rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS),
		.backlog = rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG),
		.qlen = rtnl_tc_get_stat(tc, RTNL_TC_QLEN),
	};
}

/*
 * One qdisc of @ifindex, asked for by itself (no dump: a dump walks every
 * qdisc of the device, one leaf per circuit class): by @handle with @parent 0,
 * or the one on @parent (TC_H_ROOT: the root; a class: its leaf). -ENOENT: none.
 */
static int qdisc_get(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle,
		     struct tc_stat *o)
{
	return tc_qdisc_get_one(nl_socket_get_fd(sk), ifindex, parent, handle, o);
}

static bool root_is_ours(struct nl_sock *sk, int ifindex, int *err)
{
	struct tc_stat o;

	*err = qdisc_get(sk, ifindex, TC_H_ROOT, 0, &o);
	if (*err == -ENOENT)
		return false;
	return !*err && !strcmp(o.kind, "mq") && o.handle == MQ_HANDLE;
}

int tc_tree_present(struct nl_sock *sk, int ifindex)
{
	int err;
	bool ours = root_is_ours(sk, ifindex, &err);

	return err ? err : ours;
}

static int qdisc_add(struct nl_sock *sk, int ifindex, uint32_t parent, uint32_t handle,
		     const char *kind, uint32_t defcls)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int err;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	if (handle)
		rtnl_tc_set_handle(TC_CAST(q), handle);
	err = nlerr(rtnl_tc_set_kind(TC_CAST(q), kind));
	if (!err && defcls)
		err = nlerr(rtnl_htb_set_defcls(q, defcls));
	if (!err)
		err = nlerr(rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE));
	rtnl_qdisc_put(q);
	return err;
}

static int class_send(struct nl_sock *sk, int ifindex, uint32_t classid, uint32_t parent,
		      uint64_t rate_bps, uint64_t ceil_bps, int flags)
{
	struct rtnl_class *c = rtnl_class_alloc();
	int err;

	if (!c)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
	rtnl_tc_set_parent(TC_CAST(c), parent);
	rtnl_tc_set_handle(TC_CAST(c), classid);
	err = nlerr(rtnl_tc_set_kind(TC_CAST(c), "htb"));
	/* Always all five: a message without ceil would reset ceil to rate. */
	if (!err)
		err = nlerr(rtnl_htb_set_rate64(c, rate_bytes(rate_bps)));
	if (!err)
		err = nlerr(rtnl_htb_set_ceil64(c, rate_bytes(ceil_bps)));
	if (!err)
		err = nlerr(rtnl_htb_set_rbuffer(c, rate_burst(rate_bps)));
	if (!err)
		err = nlerr(rtnl_htb_set_cbuffer(c, rate_burst(ceil_bps)));
	if (!err)
		err = nlerr(rtnl_htb_set_quantum(c, rate_quantum(rate_bps)));
	if (!err)
		err = nlerr(rtnl_class_add(sk, c, flags));
	rtnl_class_put(c);
	return err;
}

/* Send @msg (freed) and wait for its ack. */
static int send_sync(struct nl_sock *sk, struct nl_msg *msg)
{
	return nlerr(nl_send_sync(sk, msg));
}

static struct nl_msg *qdisc_msg(int type, int flags, int ifindex, uint32_t parent, uint32_t handle)
{
	struct tcmsg t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent,
			   .tcm_handle = handle };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/*
 * A leaf as a raw message: libnl-route 3.7 can set neither fq_codel's
 * memory_limit nor any option of cake (it has no cake module).
 */
static int leaf_send(struct nl_sock *sk, int ifindex, uint32_t classid, const struct tc_leaf *l,
		     int flags)
{
	struct nl_msg *msg = qdisc_msg(RTM_NEWQDISC, flags, ifindex, classid, l->major << 16);
	uint64_t ceil = l->ceil_bps;
	struct nlattr *opt;
	int err = -EMSGSIZE;

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, tc_leaf_name(l->kind)) < 0)
		goto out;
	if (l->kind == CS_LEAF_FIFO) {
		/* packets, not bytes: see rate_fifo_packets() */
		struct tc_fifo_qopt q = { .limit = rate_fifo_packets(ceil, l->queue_ms ? l->queue_ms : CS_DEFAULT_QUEUE_MS) };

		if (nla_put(msg, TCA_OPTIONS, sizeof(q), &q) < 0)
			goto out;
	} else {
		/* codel's 5 ms is shorter than one frame of a slow plan; memory sized to the plan */
		bool fq = l->kind == CS_LEAF_FQ_CODEL;

		if (!(opt = nla_nest_start(msg, TCA_OPTIONS)) ||
		    nla_put_u32(msg, fq ? TCA_FQ_CODEL_TARGET : TCA_CAKE_TARGET, rate_codel_target_us(ceil)) < 0 ||
		    nla_put_u32(msg, fq ? TCA_FQ_CODEL_INTERVAL : TCA_CAKE_RTT, rate_codel_interval_us(ceil)) < 0 ||
		    nla_put_u32(msg, fq ? TCA_FQ_CODEL_MEMORY_LIMIT : TCA_CAKE_MEMORY, rate_aqm_memory(ceil)) < 0)
			goto out;
		nla_nest_end(msg, opt);
	}
	return send_sync(sk, msg);
out:
	nlmsg_free(msg);
	return err;
}

static int leaf_del(struct nl_sock *sk, int ifindex, uint32_t classid, uint32_t handle)
{
	struct nl_msg *msg = qdisc_msg(RTM_DELQDISC, 0, ifindex, classid, handle);
	int err;

	if (!msg)
		return -ENOMEM;
	err = send_sync(sk, msg);
	/* HTB puts its own pfifo back on the class */
	return err == -ENOENT ? 0 : err;
}

/* Put @old back after a new leaf could not be made (best effort: the error is the new one's). */
static int leaf_restore(struct nl_sock *sk, int ifindex, uint32_t classid, const struct tc_leaf *old, int err)
{
	if (old && old->kind != CS_LEAF_DEFAULT && old->major &&
	    leaf_send(sk, ifindex, classid, old, NLM_F_CREATE | NLM_F_EXCL))
		pr_warn("cpushaper: class %x:%x: its old leaf could not be put back either\n", classid >> 16,
			classid & 0xffff);
	return err;
}

int tc_leaf_set(struct nl_sock *sk, int ifindex, uint32_t classid, const struct tc_leaf *want,
		const struct tc_leaf *have)
{
	struct tc_leaf was, *gone = NULL;
	struct tc_stat o;
	int err;

	if (have && have->kind != CS_LEAF_DEFAULT && have->major &&
	    (want->kind != have->kind || want->major != have->major)) {
		/* another kind or handle: the old one goes (a kind cannot change in place) */
		if ((err = leaf_del(sk, ifindex, classid, have->major << 16)))
			return err;
		was = *have;
		gone = &was;
		have = NULL;
	}
	if (want->kind == CS_LEAF_DEFAULT)
		return 0;
	if (have && have->kind == want->kind && have->major == want->major && have->major)
		/* the same kind on the same handle: changed in place, its queue kept */
		return leaf_send(sk, ifindex, classid, want, NLM_F_CREATE | NLM_F_REPLACE);
	/* exclusive: never take over a qdisc of that handle elsewhere on the device */
	err = leaf_send(sk, ifindex, classid, want, NLM_F_CREATE | NLM_F_EXCL);
	/* EEXIST: the handle is taken; EINVAL (kernels since 6.x): taken under another parent */
	if (err != -EEXIST && err != -EINVAL)
		return err ? leaf_restore(sk, ifindex, classid, gone, err) : 0;
	/* the class has a leaf already (a class left by an interrupted run, or repaired) */
	if ((err = qdisc_get(sk, ifindex, classid, 0, &o)) && err != -ENOENT)
		return leaf_restore(sk, ifindex, classid, gone, err);
	if (!err && o.handle == want->major << 16 && !strcmp(o.kind, tc_leaf_name(want->kind)))
		return leaf_send(sk, ifindex, classid, want, NLM_F_CREATE | NLM_F_REPLACE);
	if (!err && o.handle && (err = leaf_del(sk, ifindex, classid, o.handle)))
		return leaf_restore(sk, ifindex, classid, gone, err);
	err = leaf_send(sk, ifindex, classid, want, NLM_F_CREATE | NLM_F_EXCL);
	if (err == -EEXIST || err == -EINVAL)
		pr_warn("cpushaper: qdisc handle %x: is held by a qdisc that is not the leaf of class %x:%x\n",
			want->major, classid >> 16, classid & 0xffff);
	return err ? leaf_restore(sk, ifindex, classid, gone, err) : 0;
}

struct held {
	uint8_t *majors;
};

static void held_one(struct nl_object *obj, void *arg)
{
	struct rtnl_tc *tc = (struct rtnl_tc *)obj;
	uint32_t parent = rtnl_tc_get_parent(tc), pm = TC_H_MAJ(parent) >> 16;

	if (pm >= 1 && pm < CS_MQ_MAJOR && TC_H_MIN(parent) >= CS_FIRST_MINOR)
		((struct held *)arg)->majors[TC_H_MAJ(rtnl_tc_get_handle(tc)) >> 16] = 1;
}

int tc_leaf_majors(struct nl_sock *sk, int ifindex, uint8_t *majors)
{
	struct nl_cache *cache;
	struct held h = { majors };
	int err = nlerr(rtnl_qdisc_alloc_cache(sk, &cache));
	struct rtnl_qdisc *filter;

	if (err)
		return err;
	if (!(filter = rtnl_qdisc_alloc())) {
		nl_cache_free(cache);
		return -ENOMEM;
	}
	rtnl_tc_set_ifindex(TC_CAST(filter), ifindex);
	nl_cache_foreach_filter(cache, (struct nl_object *)filter, held_one, &h);
	rtnl_qdisc_put(filter);
	nl_cache_free(cache);
	return 0;
}

int tc_kind_present(struct nl_sock *sk, int ifindex, enum cs_leaf kind)
{
	/*
	 * A root qdisc of the kind with an option too short for its type: the
	 * kernel looks the kind up (-ENOENT: unknown, after trying its module),
	 * then refuses the option, so nothing is created or replaced. Handle 0
	 * with NLM_F_EXCL: never an existing qdisc grafted instead.
	 */
	struct nl_msg *msg = qdisc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_EXCL,
				       ifindex, TC_H_ROOT, 0);
	struct nlattr *opt;
	uint8_t byte = 0;
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, TCA_KIND, tc_leaf_name(kind)) < 0 ||
	    !(opt = nla_nest_start(msg, TCA_OPTIONS)) ||
	    /* a u32 (fq_codel's target) or a u64 (cake's base rate) of one byte */
	    nla_put(msg, kind == CS_LEAF_CAKE ? TCA_CAKE_BASE_RATE64 : TCA_FQ_CODEL_TARGET, 1, &byte) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, opt);
	err = send_sync(sk, msg);
	if (err == -ENOENT)
		return 0;
	if (err == -EPERM || err == -EACCES || err == -ENODEV)
		return err;
	return 1; /* refused for its option (or created: not on any kernel we know) */
}

/* The HTB of TX queue @q (of @cpu) with its classes :1 and :2, created if missing. */
static int htb_ensure(struct nl_sock *sk, int ifindex, struct tc_tree_opts *o, uint32_t cpu,
		      uint32_t q)
{
	uint32_t m = handle_major(q), major = m << 16;
	struct tc_stat h;
	bool fresh;
	int err = qdisc_get(sk, ifindex, 0, major, &h);

	if (err && err != -ENOENT)
		return err;
	fresh = err || strcmp(h.kind, "htb");
	if (fresh) {
		uint32_t *v = realloc(o->created, (o->n_created + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->created = v;
		o->created[o->n_created++] = m;
		err = qdisc_add(sk, ifindex, TC_H_MAKE(MQ_HANDLE, q + 1), major, "htb", CS_DEFAULT_MINOR);
		if (err) {
			pr_warn("cannot create HTB %x: of CPU %u: %s\n", m, cpu, strerror(-err));
			return err;
		}
	}
	if (fresh || o->set_classes) {
		err = class_send(sk, ifindex, major | CS_LINK_MINOR, major, o->link_bps, o->link_bps,
				 NLM_F_CREATE);
		if (!err)
			err = class_send(sk, ifindex, major | CS_DEFAULT_MINOR, major | CS_LINK_MINOR,
					 o->default_bps, o->default_bps, NLM_F_CREATE);
		if (err) {
			pr_warn("cannot set the link/default classes of HTB %x: (CPU %u): %s\n", m, cpu,
				strerror(-err));
			return err;
		}
	}
	/* the default class's leaf, sized from its rate, on a handle of ours (src/leaf.h) */
	if (fresh || o->set_classes || o->set_leaf) {
		struct tc_leaf want = { .kind = o->leaf, .major = handle_major(o->htb_majors + q),
					.ceil_bps = o->default_bps, .queue_ms = o->queue_ms };
		struct tc_leaf have = want;
		struct tc_stat cur;

		/* what :2 has, as the kernel says: --leaf may have changed since */
		have.kind = CS_LEAF_DEFAULT;
		have.major = 0;
		if (!fresh && !qdisc_get(sk, ifindex, major | CS_DEFAULT_MINOR, 0, &cur) && cur.handle) {
			have.major = cur.handle >> 16;
			have.kind = !strcmp(cur.kind, "fq_codel") ? CS_LEAF_FQ_CODEL :
				    !strcmp(cur.kind, "cake")     ? CS_LEAF_CAKE :
				    !strcmp(cur.kind, "pfifo")    ? CS_LEAF_FIFO : CS_LEAF_DEFAULT;
		}
		err = tc_leaf_set(sk, ifindex, major | CS_DEFAULT_MINOR, &want, fresh ? NULL : &have);
		if (err)
			pr_warn("cannot set the leaf of the default class of HTB %x: (CPU %u): %s\n", m,
				cpu, strerror(-err));
	}
	return err;
}

int tc_tree_ensure(struct nl_sock *sk, int ifindex, struct tc_tree_opts *o)
{
	int err;

	o->n_created = 0;
	o->root_created = !root_is_ours(sk, ifindex, &err);
	if (err)
		return err;
	if (o->root_created) {
		err = qdisc_add(sk, ifindex, TC_H_ROOT, MQ_HANDLE, "mq", 0);
		if (err) {
			pr_warn("cannot create the MQ root qdisc: %s\n", strerror(-err));
			return err;
		}
	}
	for (uint32_t cpu = 0; cpu < CS_MAX_CPUS && !err; cpu++) {
		if (!o->cpus[cpu])
			continue;
		for (uint32_t j = 0; j < o->htbs_per_cpu && !err; j++)
			err = htb_ensure(sk, ifindex, o, cpu, j * o->stride + cpu);
	}
	return err;
}

int tc_tree_destroy(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q;
	int err = tc_tree_present(sk, ifindex);

	if (err <= 0)
		return err;
	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), MQ_HANDLE);
	err = nlerr(rtnl_qdisc_delete(sk, q));
	rtnl_qdisc_put(q);
	return err;
}

int tc_class_set(struct nl_sock *sk, int ifindex, uint32_t classid, uint64_t rate_bps,
		 uint64_t ceil_bps, bool create)
{
	return tc_class_set_under(sk, ifindex, classid, 0, rate_bps, ceil_bps, create);
}

int tc_class_set_under(struct nl_sock *sk, int ifindex, uint32_t classid, uint32_t parent_minor,
		       uint64_t rate_bps, uint64_t ceil_bps, bool create)
{
	uint32_t parent = TC_H_MAJ(classid) | (parent_minor ? parent_minor : CS_LINK_MINOR);

	/*
	 * Create or replace: a class at a minor no circuit record names is left
	 * over from an interrupted apply and is ours to reuse.
	 */
	return class_send(sk, ifindex, classid, parent, rate_bps, ceil_bps, create ? NLM_F_CREATE : 0);
}

int tc_class_del(struct nl_sock *sk, int ifindex, uint32_t classid)
{
	struct rtnl_class *c = rtnl_class_alloc();
	int err;

	if (!c)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
	rtnl_tc_set_handle(TC_CAST(c), classid);
	err = nlerr(rtnl_class_delete(sk, c));
	rtnl_class_put(c);
	return err;
}

int tc_filter_count(struct nl_sock *sk, int ifindex, uint32_t parent)
{
	struct nl_cache *cache;
	int err = nlerr(rtnl_cls_alloc_cache(sk, ifindex, parent, &cache));

	if (err)
		return err;
	err = nl_cache_nitems(cache);
	nl_cache_free(cache);
	return err;
}

struct collect {
	struct tc_stat *v;
	size_t n, cap;
	int ifindex;
	bool classes;
	int err;
};

static void collect_one(struct nl_object *obj, void *arg)
{
	struct rtnl_tc *tc = (struct rtnl_tc *)obj;
	struct collect *c = arg;

	if (c->err || rtnl_tc_get_ifindex(tc) != c->ifindex)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct tc_stat *g = realloc(c->v, cap * sizeof(*g));

		if (!g) {
			c->err = -ENOMEM;
			return;
		}
		c->v = g;
		c->cap = cap;
	}
	c->v[c->n++] = tc_stat_of(tc);
	if (c->classes && rtnl_tc_get_kind(tc) && !strcmp(rtnl_tc_get_kind(tc), "htb")) {
		struct tc_stat *t = &c->v[c->n - 1];

		if (rtnl_htb_get_rate64((struct rtnl_class *)obj, &t->rate_Bps) ||
		    rtnl_htb_get_ceil64((struct rtnl_class *)obj, &t->ceil_Bps))
			t->rate_Bps = t->ceil_Bps = 0;
	}
}

bool tc_class_rates_match(const struct tc_stat *t, uint64_t rate_bps, uint64_t ceil_bps)
{
	return t->rate_Bps == rate_bytes(rate_bps) && t->ceil_Bps == rate_bytes(ceil_bps);
}

static int stat_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct tc_stat *)a)->handle, y = ((const struct tc_stat *)b)->handle;

	return x < y ? -1 : x > y;
}

/* The stats of @ifindex in @cache, sorted by handle. */
static int collect(struct nl_cache *cache, int ifindex, bool classes, struct tc_stat **out,
		   size_t *n)
{
	struct collect c = { .ifindex = ifindex, .classes = classes };

	nl_cache_foreach(cache, collect_one, &c);
	if (c.err) {
		free(c.v);
		return c.err;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), stat_cmp);
	*out = c.v;
	*n = c.n;
	return 0;
}

int tc_class_stats(struct nl_sock *sk, int ifindex, struct tc_stat **out, size_t *n)
{
	struct nl_cache *cache;
	int err = nlerr(rtnl_class_alloc_cache(sk, ifindex, &cache));

	if (err)
		return err;
	err = collect(cache, ifindex, true, out, n);
	nl_cache_free(cache);
	return err;
}

static int dump_msg(struct nl_msg *msg, void *arg)
{
	struct collect *c = arg;
	int err = nl_msg_parse(msg, collect_one, c);

	if (err < 0 && !c->err)
		c->err = nlerr(err);
	return NL_OK;
}

/*
 * The classes of the HTB @major: of @ifindex only. A dump that names the
 * parent qdisc makes the kernel look that one up for every message, where a
 * dump of the whole device walks every qdisc of it (one default leaf per class)
 * for every message: quadratic in the classes, seconds at 40 000 circuits.
 */
static int dump_htb(struct nl_sock *sk, int ifindex, uint32_t major, struct collect *c)
{
	struct tcmsg t = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
			   .tcm_parent = major << 16 };
	struct nl_cb *own = nl_socket_get_cb(sk); /* takes a reference */
	struct nl_cb *cb = own ? nl_cb_clone(own) : NULL;
	int err;

	nl_cb_put(own);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_msg, c);
	/* both return counts on success: only a negative value is an error */
	err = nl_send_simple(sk, RTM_GETTCLASS, NLM_F_DUMP, &t, sizeof(t));
	if (err >= 0)
		err = nl_recvmsgs(sk, cb);
	err = err < 0 ? nlerr(err) : 0;
	nl_cb_put(cb);
	if (err == -EINVAL || err == -ENOENT)
		err = 0; /* no such HTB (deleted under us): no class */
	return err < 0 ? err : c->err;
}

int tc_class_stats_htbs(struct nl_sock *sk, int ifindex, const uint32_t *majors, size_t n_majors,
			struct tc_stat **out, size_t *n)
{
	struct collect c = { .ifindex = ifindex, .classes = true };
	int err = 0;

	for (size_t i = 0; i < n_majors && !err; i++)
		err = dump_htb(sk, ifindex, majors[i], &c);
	if (err) {
		free(c.v);
		return err;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), stat_cmp);
	*out = c.v;
	*n = c.n;
	return 0;
}

/* Append @st to the list @c. */
static int collect_add(struct collect *c, const struct tc_stat *st)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct tc_stat *g = realloc(c->v, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		c->v = g;
		c->cap = cap;
	}
	c->v[c->n++] = *st;
	return 0;
}

int tc_qdisc_stats(struct nl_sock *sk, const int *ifindex, int n_dev, struct tc_stat **out,
		   size_t *n)
{
	int err = 0;

	for (int i = 0; i < n_dev; i++)
		out[i] = NULL, n[i] = 0;
	for (int i = 0; i < n_dev && !err; i++) {
		struct collect c = { .ifindex = ifindex[i] };
		struct tc_stat o;

		if (ifindex[i] < 0)
			continue;
		/* the root, and under our MQ the qdisc of each TX queue (the HTBs): never the leaves */
		err = qdisc_get(sk, ifindex[i], TC_H_ROOT, 0, &o);
		if (!err)
			err = collect_add(&c, &o);
		for (uint32_t q = 1; !err && o.handle == MQ_HANDLE && q < 0xffff; q++) {
			struct tc_stat l;

			err = qdisc_get(sk, ifindex[i], TC_H_MAKE(MQ_HANDLE, q), 0, &l);
			if (err == -ENOENT) {
				err = 0; /* past the last TX queue */
				break;
			}
			if (!err)
				err = collect_add(&c, &l);
		}
		if (err == -ENOENT)
			err = 0;
		if (c.n)
			qsort(c.v, c.n, sizeof(*c.v), stat_cmp);
		out[i] = c.v;
		n[i] = c.n;
	}
	if (err)
		for (int i = 0; i < n_dev; i++) {
			free(out[i]);
			out[i] = NULL;
		}
	return err;
}

const struct tc_stat *tc_stat_find(const struct tc_stat *v, size_t n, uint32_t handle)
{
	struct tc_stat key = { .handle = handle };

	return n ? bsearch(&key, v, n, sizeof(*v), stat_cmp) : NULL;
}
