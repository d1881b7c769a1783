// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
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
	default: return "pfifo";
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

static int qdisc_cache(struct nl_sock *sk, struct nl_cache **cache)
{
	return nlerr(rtnl_qdisc_alloc_cache(sk, cache));
}

static bool is_kind(struct rtnl_qdisc *q, const char *kind)
{
	const char *k = q ? rtnl_tc_get_kind(TC_CAST(q)) : NULL;

	return k && !strcmp(k, kind);
}

static bool root_is_ours(struct nl_cache *cache, int ifindex)
{
	struct rtnl_qdisc *root = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	bool ours = is_kind(root, "mq") && rtnl_tc_get_handle(TC_CAST(root)) == MQ_HANDLE;

	rtnl_qdisc_put(root);
	return ours;
}

int tc_tree_present(struct nl_sock *sk, int ifindex)
{
	struct nl_cache *cache;
	int err = qdisc_cache(sk, &cache);

	if (err)
		return err;
	err = root_is_ours(cache, ifindex);
	nl_cache_free(cache);
	return err;
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

int tc_leaf_add(struct nl_sock *sk, int ifindex, uint32_t classid, enum cs_leaf leaf)
{
	if (leaf == CS_LEAF_DEFAULT)
		return 0;
	return qdisc_add(sk, ifindex, classid, 0, tc_leaf_name(leaf), 0);
}

/* HTB @m: of @cpu with its classes :1 and :2, created if missing. */
static int htb_ensure(struct nl_sock *sk, struct nl_cache *cache, int ifindex,
		      struct tc_tree_opts *o, uint32_t cpu, uint32_t m)
{
	uint32_t major = m << 16;
	struct rtnl_qdisc *h = rtnl_qdisc_get(cache, ifindex, major);
	bool fresh = !is_kind(h, "htb");
	int err;

	rtnl_qdisc_put(h);
	if (fresh) {
		uint32_t *v = realloc(o->created, (o->n_created + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->created = v;
		o->created[o->n_created++] = m;
		err = qdisc_add(sk, ifindex, TC_H_MAKE(MQ_HANDLE, m), major, "htb", CS_DEFAULT_MINOR);
		if (err) {
			pr_warn("cannot create HTB %x: of CPU %u: %s\n", m, cpu, strerror(-err));
			return err;
		}
	}
	if (!fresh && !o->set_classes)
		return 0;
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
	/* probe with class :2 whenever classes are set: also after an interrupted run */
	if (o->leaf != CS_LEAF_DEFAULT) {
		err = tc_leaf_add(sk, ifindex, major | CS_DEFAULT_MINOR, o->leaf);
		if (err == -ENOENT || err == -EINVAL || err == -EOPNOTSUPP) {
			/* The probe: this kernel lacks the leaf qdisc. */
			pr_warn("warning: %s is not available in this kernel (%s); circuit classes use pfifo\n",
				tc_leaf_name(o->leaf), strerror(-err));
			o->leaf = CS_LEAF_DEFAULT;
			err = 0;
		}
	}
	return err;
}

int tc_tree_ensure(struct nl_sock *sk, int ifindex, struct tc_tree_opts *o)
{
	struct nl_cache *cache;
	int err = qdisc_cache(sk, &cache);

	if (err)
		return err;
	o->n_created = 0;
	o->root_created = !root_is_ours(cache, ifindex);
	if (o->root_created) {
		err = qdisc_add(sk, ifindex, TC_H_ROOT, MQ_HANDLE, "mq", 0);
		if (err) {
			pr_warn("cannot create the MQ root qdisc: %s\n", strerror(-err));
			goto out;
		}
	}
	for (uint32_t cpu = 0; cpu < CS_MAX_CPUS && !err; cpu++) {
		if (!o->cpus[cpu])
			continue;
		for (uint32_t j = 0; j < o->htbs_per_cpu && !err; j++)
			err = htb_ensure(sk, cache, ifindex, o, cpu, j * o->stride + cpu + 1);
	}
out:
	nl_cache_free(cache);
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
	c->v[c->n++] = (struct tc_stat){
		.handle = rtnl_tc_get_handle(tc),
		.bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES),
		.packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS),
		.drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS),
		.overlimits = rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS),
		.backlog = rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG),
		.qlen = rtnl_tc_get_stat(tc, RTNL_TC_QLEN),
	};
	if (c->classes && is_kind((struct rtnl_qdisc *)obj, "htb")) {
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

int tc_qdisc_stats(struct nl_sock *sk, const int *ifindex, int n_dev, struct tc_stat **out,
		   size_t *n)
{
	struct nl_cache *cache;
	int err;

	for (int i = 0; i < n_dev; i++)
		out[i] = NULL;
	if ((err = qdisc_cache(sk, &cache)))
		return err;
	for (int i = 0; i < n_dev && !err; i++)
		err = collect(cache, ifindex[i], false, &out[i], &n[i]);
	nl_cache_free(cache);
	return err;
}

const struct tc_stat *tc_stat_find(const struct tc_stat *v, size_t n, uint32_t handle)
{
	struct tc_stat key = { .handle = handle };

	return n ? bsearch(&key, v, n, sizeof(*v), stat_cmp) : NULL;
}
