// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include "datapath.h"
#include "handles.h"
#include "log.h"
#include "netdev.h"
#include "qdisc.h"
#include "state.h"
#include <linux/pkt_sched.h>

static const char *const at_names[CS_AT_N] = { "lan TC", "wan TC", "lan XDP", "wan XDP" };

const char *state_at_name(int at)
{
	return at >= 0 && at < CS_AT_N ? at_names[at] : "?";
}

int state_attach_read(int ifindex, bool xdp, struct cs_attach *a)
{
	int fd, err;

	memset(a, 0, sizeof(*a));
	err = xdp ? dp_xdp_query(ifindex, &a->prog_id, &a->other_id, a->other_name)
		  : dp_tc_query(ifindex, &a->prog_id);
	if (err == -ENOENT)
		a->prog_id = 0;
	else if (err)
		return err;
	if (!a->prog_id)
		return 0;
	fd = maps_fd_from_prog_id(a->prog_id, "cs_config");
	if (fd == -ENOENT) {
		int pfd = bpf_prog_get_fd_by_id(a->prog_id);

		if (pfd < 0) {
			/* the program went away while we looked (an unload, a swap): none there */
			memset(a, 0, sizeof(*a));
			return 0;
		}
		close(pfd);
		return -EPROTO; /* at our handle or with our name, but not our maps */
	}
	if (fd < 0)
		return fd;
	a->config_id = maps_id(fd);
	err = maps_config_read_fd(fd, &a->cfg);
	close(fd);
	return err;
}

static const char *ifname(__u32 ifindex, char *buf)
{
	return if_indextoname(ifindex, buf) ? buf : "(a device of another namespace)";
}

int state_open_ex(struct cs_state *s, const char *lan, const char *wan, unsigned int flags)
{
	int err, run = -1;

	memset(s, 0, sizeof(*s));
	maps_init(&s->maps);
	s->lan = lan;
	s->wan = wan;
	if (!lan || !wan) {
		pr_warn("cpushaper: both --lan-dev and --wan-dev are needed\n");
		return -EINVAL;
	}
	if (!strcmp(lan, wan)) {
		pr_warn("cpushaper: --lan-dev and --wan-dev must be two different devices\n");
		return -EINVAL;
	}
	s->lan_ix = netdev_ifindex(lan);
	s->wan_ix = netdev_ifindex(wan);
	if ((s->lan_ix < 0 && s->wan_ix < 0) ||
	    ((s->lan_ix < 0 || s->wan_ix < 0) && !(flags & STATE_GONE_OK))) {
		if (s->lan_ix < 0 && s->wan_ix < 0)
			pr_warn("cpushaper: devices %s and %s do not exist (deleted, or not created yet)\n",
				lan, wan);
		else
			pr_warn("cpushaper: device %s does not exist (deleted, or not created yet); once it is back, 'cpushaper load' attaches everything to it again\n",
				s->lan_ix < 0 ? lan : wan);
		return -ENODEV;
	}
	/* the one left may still run the shaper: read it, and say what the other lost */
	s->lan_ix = s->lan_ix < 0 ? -1 : s->lan_ix;
	s->wan_ix = s->wan_ix < 0 ? -1 : s->wan_ix;

	/*
	 * Any of the four attachment points leads to the running state: a lost
	 * clsact or a detached XDP program must not make a load start afresh
	 * beside the maps the other three still use.
	 */
	for (int i = 0; i < CS_AT_N; i++) {
		struct cs_attach *a = &s->at[i];
		const char *dev = i & 1 ? wan : lan;
		char b1[IF_NAMESIZE], b2[IF_NAMESIZE];

		memset(a, 0, sizeof(*a));
		if ((i & 1 ? s->wan_ix : s->lan_ix) < 0)
			continue; /* a device gone took its programs along */
		err = state_attach_read(i & 1 ? s->wan_ix : s->lan_ix, i >= CS_AT_LAN_XDP, a);
		if (err == -EPROTO) {
			pr_warn("cpushaper: %s is shaped by another cpushaper version (its maps differ from this one's): 'cpushaper unload' of this version removes it, then load again\n",
				dev);
			return err;
		}
		if (err) {
			pr_warn("cpushaper: cannot read the %s program of %s: %s%s\n",
				i >= CS_AT_LAN_XDP ? "XDP" : "TC", dev, strerror(-err),
				err == -EPERM ? " (needs CAP_NET_ADMIN and CAP_BPF: run as root)" : "");
			return err;
		}
		if (!a->prog_id)
			continue;
		if (!state_cfg_is_pair(&a->cfg, s->lan_ix, s->wan_ix)) {
			/* one owner per device: never adopt or touch another pair's state */
			pr_warn("cpushaper: %s belongs to the running pair --lan-dev %s --wan-dev %s: unload that pair first, or shape other devices\n",
				dev, ifname(a->cfg.lan_ifindex, b1), ifname(a->cfg.wan_ifindex, b2));
			return -EXDEV;
		}
		if (run < 0)
			run = i;
	}
	if (run < 0)
		return 0;
	err = maps_from_prog_id(s->at[run].prog_id, &s->maps);
	if (!err)
		err = maps_config_read(&s->maps, &s->cfg);
	if (err) {
		pr_warn("cpushaper: the maps of the %s program cannot be read: %s\n",
			state_at_name(run), strerror(-err));
		return err;
	}
	s->config_id = s->at[run].config_id;
	s->loaded = true;
	return 0;
}

static bool ifindex_gone(__u32 ix)
{
	char b[IF_NAMESIZE];

	return !if_indextoname(ix, b);
}

bool state_cfg_is_pair(const struct cs_config *cfg, int lan_ix, int wan_ix)
{
	bool lan = lan_ix < 0 || (int)cfg->lan_ifindex == lan_ix;
	bool wan = wan_ix < 0 || (int)cfg->wan_ifindex == wan_ix;

	/*
	 * A device deleted and created again (a driver reload, a bond rebuilt)
	 * has a new ifindex: the pair is still ours when the other device matches
	 * and the recorded one is gone. The next load records the new one.
	 */
	if (lan && !wan && lan_ix >= 0)
		return ifindex_gone(cfg->wan_ifindex);
	if (wan && !lan && wan_ix >= 0)
		return ifindex_gone(cfg->lan_ifindex);
	return lan && wan;
}

int state_read_classes(const struct cs_state *s, struct nl_sock *sk, struct tc_stat *cls[2],
		       size_t ncls[2])
{
	uint32_t *majors = calloc((size_t)CS_MAX_CPUS * (s->cfg.htbs_per_cpu ? s->cfg.htbs_per_cpu : 1),
				  sizeof(*majors));
	size_t n = 0;
	int err = 0;

	if (!majors)
		return -ENOMEM;
	for (uint32_t c = 0; c < CS_MAX_CPUS; c++)
		for (uint32_t j = 0; cs_cpu_on(&s->cfg, c) && j < s->cfg.htbs_per_cpu; j++)
			majors[n++] = handle_htb(s->cfg.htb_stride, c, j);
	cls[0] = cls[1] = NULL;
	ncls[0] = ncls[1] = 0;
	for (int i = 0; i < 2 && !err; i++)
		if ((i ? s->wan_ix : s->lan_ix) >= 0)
			err = tc_class_stats_htbs(sk, i ? s->wan_ix : s->lan_ix, majors, n, &cls[i], &ncls[i]);
	free(majors);
	if (err) {
		free(cls[0]);
		free(cls[1]);
		cls[0] = cls[1] = NULL;
	}
	return err;
}

void state_refresh_attach(struct cs_state *s)
{
	for (int i = 0; i < CS_AT_N; i++)
		if ((i & 1 ? s->wan_ix : s->lan_ix) < 0 ||
		    state_attach_read(i & 1 ? s->wan_ix : s->lan_ix, i >= CS_AT_LAN_XDP, &s->at[i]))
			memset(&s->at[i], 0, sizeof(s->at[i]));
}

bool state_at_ok(const struct cs_state *s, int at)
{
	return s->at[at].prog_id && s->at[at].config_id == s->config_id;
}

int state_open(struct cs_state *s, const char *lan, const char *wan)
{
	return state_open_ex(s, lan, wan, 0);
}

int state_open_loaded(struct cs_state *s, const char *lan, const char *wan, unsigned int flags)
{
	int err = state_open_ex(s, lan, wan, flags);

	if (!err && !s->loaded) {
		pr_warn("cpushaper: nothing is loaded on %s/%s\n", lan, wan);
		err = -ENOENT;
	}
	return err;
}

struct xps_restore {
	const char *const *dev;
	const int *ix;
	unsigned int restored, failed;
};

static int xps_restore_one(bool lan, unsigned int queue, bool rxqs, const char *text, void *arg)
{
	struct xps_restore *x = arg;
	int d = lan ? 0 : 1;
	char path[96];

	if (x->ix[d] < 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues/tx-%u", x->dev[d], queue);
	if (access(path, F_OK))
		return 0; /* a queue the device no longer has */
	if (netdev_xps_set(x->dev[d], queue, rxqs, text))
		x->failed++;
	else
		x->restored++;
	return 0;
}

void state_xps_restore(int fd, const char *const dev[2], const int ix[2], unsigned int *restored,
		       unsigned int *failed)
{
	struct xps_restore x = { .dev = dev, .ix = ix };

	if (fd >= 0)
		maps_xps_each(fd, xps_restore_one, &x);
	if (restored)
		*restored = x.restored;
	if (failed)
		*failed = x.failed;
}

void state_close(struct cs_state *s)
{
	maps_close(&s->maps);
	free(s->nodes);
	s->nodes = NULL;
	s->n_nodes = 0;
}

int state_read_nodes(struct cs_state *s)
{
	free(s->nodes);
	s->nodes = NULL;
	s->n_nodes = 0;
	return s->loaded ? maps_read_nodes(&s->maps, &s->nodes, &s->n_nodes) : 0;
}

/*
 * Test hook, documented in docs/failure-modes.md: CS_TEST_FAIL_AFTER=N makes
 * the kernel operations of an apply after the Nth fail with EIO, and
 * CS_TEST_DIE_AFTER=N kills the process there, as a crash would.
 */
static int fault_point(void)
{
	static long fail_after = -2, die_after = -2, ops;

	if (fail_after == -2) {
		const char *f = getenv("CS_TEST_FAIL_AFTER"), *d = getenv("CS_TEST_DIE_AFTER");

		fail_after = f ? strtol(f, NULL, 10) : -1;
		die_after = d ? strtol(d, NULL, 10) : -1;
	}
	ops++;
	if (die_after >= 0 && ops > die_after)
		raise(SIGKILL);
	if (fail_after >= 0 && ops > fail_after)
		return -EIO;
	return 0;
}

/* A class's rates per direction, as [down min, down max, up min, up max]. */
struct rates {
	uint64_t v[4];
};

static struct rates circuit_rates(const struct circuit *c)
{
	return (struct rates){ { c->down_min, c->down_max, c->up_min, c->up_max } };
}

static struct rates node_rates(const struct node_rec *n)
{
	return (struct rates){ { n->down_min, n->down_max, n->up_min, n->up_max } };
}

static uint32_t node_classid(const struct node_rec *n)
{
	return (n->major << 16) | n->minor;
}

/* A circuit's leaf in direction @dir, sized from its plan. */
static struct tc_leaf circuit_leaf(const struct cs_state *s, const struct circuit *c, int dir)
{
	return (struct tc_leaf){ .kind = (enum cs_leaf)c->leaf[dir], .major = c->leaf_major,
				 .ceil_bps = dir ? c->up_max : c->down_max, .queue_ms = s->cfg.queue_ms };
}

/* The leaf @c has while the apply runs: sized with the queue time the running FIFOs have. */
static struct tc_leaf circuit_leaf_was(const struct cs_state *s, const struct circuit *c, int dir)
{
	struct tc_leaf l = circuit_leaf(s, c, dir);

	if (s->was_queue_ms)
		l.queue_ms = s->was_queue_ms;
	return l;
}

/*
 * The leaves of circuit @c, where they were @old's (NULL: a new class). A
 * failure in one direction puts the other back: no half is left.
 */
static int circuit_leaves_set(struct cs_state *s, struct nl_sock *sk, const struct circuit *c,
			      const struct circuit *old)
{
	int err = 0, dir;

	for (dir = 0; dir < 2; dir++) {
		struct tc_leaf w = circuit_leaf(s, c, dir), h;

		if (old)
			h = circuit_leaf_was(s, old, dir);
		if ((err = tc_leaf_set(sk, dir ? s->wan_ix : s->lan_ix, circuit_classid(c), &w,
				       old ? &h : NULL)))
			break;
	}
	/* tc_leaf_set put back the failing direction's own leaf */
	while (err && old && dir-- > 0) {
		struct tc_leaf w = circuit_leaf(s, c, dir), h = circuit_leaf_was(s, old, dir);

		tc_leaf_set(sk, dir ? s->wan_ix : s->lan_ix, circuit_classid(c), &h, &w);
	}
	return err;
}

/*
 * Create (or change in place, from the rates @was) both directions of a
 * class under @parent_minor; a circuit's class (@c, which had @old's leaves)
 * gets its leaves, sized from its plan; a node's none (circuits hang below
 * it). A failure in either direction leaves no half: a created class goes
 * from both devices, a changed one gets its rates and leaves back on both.
 */
static int classes_set(struct cs_state *s, struct nl_sock *sk, uint32_t classid,
		       uint32_t parent_minor, const struct rates *r, bool create,
		       const struct rates *was, const struct circuit *c, const struct circuit *old)
{
	int err, dir;

	if ((err = fault_point()))
		return err;
	for (dir = 0; dir < 2; dir++) {
		int ix = dir ? s->wan_ix : s->lan_ix;

		err = tc_class_set_under(sk, ix, classid, parent_minor, r->v[2 * dir],
					 r->v[2 * dir + 1], create);
		if (!err && c) {
			struct tc_leaf w = circuit_leaf(s, c, dir), h;

			if (old)
				h = circuit_leaf_was(s, old, dir);
			err = tc_leaf_set(sk, ix, classid, &w, create || !old ? NULL : &h);
		}
		if (err)
			break;
	}
	for (int d = 0; err && d <= dir; d++) {
		int ix = d ? s->wan_ix : s->lan_ix;

		if (create) {
			tc_class_del(sk, ix, classid); /* its leaf with it */
			continue;
		}
		if (was)
			tc_class_set_under(sk, ix, classid, parent_minor, was->v[2 * d],
					   was->v[2 * d + 1], false);
		/* the failing direction's leaf: tc_leaf_set put it back */
		if (c && old && d < dir) {
			struct tc_leaf w = circuit_leaf(s, c, d), h = circuit_leaf_was(s, old, d);

			tc_leaf_set(sk, ix, classid, &h, &w);
		}
	}
	return err;
}

static int circuit_classes_set(struct cs_state *s, struct nl_sock *sk, const struct circuit *c,
			       bool create, const struct circuit *old)
{
	struct rates r = circuit_rates(c), w = old ? circuit_rates(old) : r;

	return classes_set(s, sk, circuit_classid(c), c->parent_minor, &r, create, old ? &w : NULL,
			   c, old);
}

/* A node's classes; a change puts @old's rates back where it fails (NULL: not known). */
static int node_classes_set(struct cs_state *s, struct nl_sock *sk, const struct node_rec *n,
			    bool create, const struct node_rec *old)
{
	struct rates r = node_rates(n), w = old ? node_rates(old) : r;

	return classes_set(s, sk, node_classid(n), n->parent_minor, &r, create, old ? &w : NULL,
			   NULL, NULL);
}

static int classes_del(struct cs_state *s, struct nl_sock *sk, uint32_t classid);

/*
 * Remove the classes of @v: a node's class goes once nothing hangs below it,
 * so pass again over those the kernel found busy while others still go.
 */
static void node_classes_del(struct cs_state *s, struct nl_sock *sk, const struct node_rec *v,
			     size_t n, bool warn, bool *gone)
{
	bool *done = calloc(n ? n : 1, sizeof(*done));
	size_t left = n, before;

	if (!done)
		return;
	do {
		before = left;
		for (size_t i = 0; i < n; i++) {
			int e;

			if (done[i])
				continue;
			e = fault_point();
			if (!e)
				e = classes_del(s, sk, node_classid(&v[i]));
			if (e == -EBUSY)
				continue;
			done[i] = true;
			left--;
			if (gone)
				gone[i] = !e;
			if (e && warn)
				pr_warn("warning: class %x:%x of old node \"%s\" not removed: %s\n",
					v[i].major, v[i].minor, v[i].name, strerror(-e));
		}
	} while (left && left < before);
	for (size_t i = 0; i < n && warn; i++)
		if (!done[i])
			pr_warn("warning: class %x:%x of old node \"%s\" not removed: classes still hang below it\n",
				v[i].major, v[i].minor, v[i].name);
	free(done);
}

static int classes_del(struct cs_state *s, struct nl_sock *sk, uint32_t classid)
{
	int e1 = tc_class_del(sk, s->lan_ix, classid);
	int e2 = tc_class_del(sk, s->wan_ix, classid);

	if (e1 == -ENOENT)
		e1 = 0;
	if (e2 == -ENOENT)
		e2 = 0;
	return e1 ? e1 : e2;
}

static const struct lpm_entry *lpm_find(const struct lpm_entry *v, size_t n,
					const struct cs_prefix *p)
{
	struct lpm_entry key = { .p = *p };

	return n ? bsearch(&key, v, n, sizeof(*v), lpm_entry_cmp) : NULL;
}

int state_apply(struct cs_state *s, struct nl_sock *sk, const struct plan *p,
		const struct circuit_set *have, const struct lpm_entry *hl, size_t nhl)
{
	size_t add = 0, chg = 0, lchg = 0, meta = 0, put = 0, del = 0, nadd = 0, nchg = 0, nput = 0;
	const char *what = "";
	char pfx[64];
	int err = 0;

	/* nodes first, parents before children: circuit classes hang below them */
	for (; nadd < p->n_node_add; nadd++)
		if ((err = node_classes_set(s, sk, &p->node_add[nadd], true, NULL))) {
			what = p->node_add[nadd].name;
			goto undo;
		}
	for (; nchg < p->n_node_change; nchg++)
		if ((err = node_classes_set(s, sk, &p->node_change[nchg], false,
					    node_rec_find(s->nodes, s->n_nodes, p->node_change[nchg].name)))) {
			what = p->node_change[nchg].name;
			goto undo;
		}
	for (; nput < p->n_node_put; nput++)
		if ((err = fault_point()) || (err = maps_node_put(&s->maps, &p->node_put[nput]))) {
			what = p->node_put[nput].name;
			goto undo;
		}
	for (; add < p->n_class_add; add++)
		if ((err = circuit_classes_set(s, sk, p->class_add[add], true, NULL))) {
			what = p->class_add[add]->id;
			goto undo;
		}
	for (; chg < p->n_class_change; chg++)
		if ((err = circuit_classes_set(s, sk, p->class_change[chg], false,
					       circuit_set_find(have, p->class_change[chg]->id)))) {
			what = p->class_change[chg]->id;
			goto undo;
		}
	for (; lchg < p->n_leaf_change; lchg++)
		if ((err = fault_point()) ||
		    (err = circuit_leaves_set(s, sk, p->leaf_change[lchg],
					      circuit_set_find(have, p->leaf_change[lchg]->id)))) {
			what = p->leaf_change[lchg]->id;
			goto undo;
		}
	for (; meta < p->n_meta_put; meta++)
		if ((err = fault_point()) || (err = maps_circuit_put(&s->maps, p->meta_put[meta]))) {
			what = p->meta_put[meta]->id;
			goto undo;
		}
	for (; put < p->n_lpm_put; put++)
		if ((err = fault_point()) ||
		    (err = maps_lpm_put(&s->maps, &p->lpm_put[put].p, &p->lpm_put[put].t))) {
			prefix_format(&p->lpm_put[put].p, pfx, sizeof(pfx));
			what = pfx;
			goto undo;
		}
	for (; del < p->n_lpm_del; del++)
		if ((err = fault_point()) || (err = maps_lpm_del(&s->maps, &p->lpm_del[del]))) {
			prefix_format(&p->lpm_del[del], pfx, sizeof(pfx));
			what = pfx;
			goto undo;
		}

	/*
	 * Point of no return: traffic now follows the new map. Leftovers only warn.
	 * Records go before classes: a reader never sees a circuit without its class.
	 */
	for (size_t i = 0; i < p->n_meta_del; i++) {
		int e = fault_point();

		if (!e)
			e = maps_circuit_del(&s->maps, p->meta_del[i]->index);

		if (e)
			pr_warn("warning: record of old circuit \"%s\" not removed: %s\n",
				p->meta_del[i]->id, strerror(-e));
	}
	for (size_t i = 0; i < p->n_class_del; i++) {
		int e = fault_point();

		if (!e)
			e = classes_del(s, sk, circuit_classid(p->class_del[i]));

		if (e)
			pr_warn("warning: class %x:%x of old circuit \"%s\" not removed: %s\n",
				circuit_classid(p->class_del[i]) >> 16,
				circuit_classid(p->class_del[i]) & 0xffff, p->class_del[i]->id,
				strerror(-e));
	}
	/*
	 * Then the nodes' old classes, children before parents, and the records
	 * of nodes gone from the file, but only once their class is: a record
	 * keeps its minor from being given out again, and the next load retries.
	 */
	{
		bool *gone = calloc(p->n_node_del + 1, sizeof(*gone));

		node_classes_del(s, sk, p->node_del, p->n_node_del, true, gone);
		/* plan_nodes puts the classes of gone nodes last in node_del, in the same order */
		size_t first = p->n_node_del - p->n_node_gone;

		for (size_t i = 0; i < p->n_node_gone; i++) {
			int e;

			if (!gone || !gone[first + i] ||
			    strcmp(p->node_del[first + i].name, p->node_gone[i].name))
				continue;
			e = fault_point();
			if (!e)
				e = maps_node_del(&s->maps, p->node_gone[i].name);
			if (e)
				pr_warn("warning: record of old node \"%s\" not removed: %s\n",
					p->node_gone[i].name, strerror(-e));
		}
		free(gone);
	}
	return 0;

undo:
	pr_warn("cpushaper: applying \"%s\" failed: %s; restoring the previous state\n", what,
		strerror(-err));
	/* what goes back is sized as it was: with the queue time the running FIFOs have */
	uint32_t queue_ms = s->cfg.queue_ms;

	if (s->was_queue_ms)
		s->cfg.queue_ms = s->was_queue_ms;
	while (del--) {
		const struct lpm_entry *old = lpm_find(hl, nhl, &p->lpm_del[del]);

		if (old)
			maps_lpm_put(&s->maps, &old->p, &old->t);
	}
	while (put--) {
		const struct lpm_entry *old = lpm_find(hl, nhl, &p->lpm_put[put].p);

		if (old)
			maps_lpm_put(&s->maps, &old->p, &old->t);
		else
			maps_lpm_del(&s->maps, &p->lpm_put[put].p);
	}
	while (meta--) {
		const struct circuit *c = p->meta_put[meta];
		const struct circuit *old = circuit_set_find(have, c->id);

		if (old && old->index == c->index)
			maps_circuit_put(&s->maps, old);
		else
			maps_circuit_del(&s->maps, c->index);
	}
	while (lchg--) {
		const struct circuit *old = circuit_set_find(have, p->leaf_change[lchg]->id);

		if (old)
			circuit_leaves_set(s, sk, old, p->leaf_change[lchg]);
	}
	while (chg--) {
		const struct circuit *old = circuit_set_find(have, p->class_change[chg]->id);

		if (old)
			circuit_classes_set(s, sk, old, false, p->class_change[chg]);
	}
	while (add--)
		classes_del(s, sk, circuit_classid(p->class_add[add]));
	while (nput--) {
		const struct node_rec *old = node_rec_find(s->nodes, s->n_nodes, p->node_put[nput].name);

		if (old)
			maps_node_put(&s->maps, old);
		else
			maps_node_del(&s->maps, p->node_put[nput].name);
	}
	while (nchg--) {
		const struct node_rec *old = node_rec_find(s->nodes, s->n_nodes, p->node_change[nchg].name);

		if (old)
			node_classes_set(s, sk, old, false, &p->node_change[nchg]);
	}
	node_classes_del(s, sk, p->node_add, nadd, false, NULL);
	s->cfg.queue_ms = queue_ms;
	return err;
}

/*
 * Change the classes @classid (under @parent_minor) from @have to @want in
 * place, direction by direction, then write the record with @put; a failure
 * puts back what was changed.
 */
static int set_rates(struct cs_state *s, struct nl_sock *sk, uint32_t classid, uint32_t parent_minor,
		     const struct rates *have, const struct rates *want,
		     int (*put)(struct cs_state *s, const void *rec), const void *rec,
		     const struct circuit *c_have, const struct circuit *c_want)
{
	bool changed[2];
	int dir, err = 0;

	for (dir = 0; dir < 2; dir++) {
		int ix = dir ? s->wan_ix : s->lan_ix;

		changed[dir] = have->v[2 * dir] != want->v[2 * dir] ||
			       have->v[2 * dir + 1] != want->v[2 * dir + 1];
		if (changed[dir] && (err = tc_class_set_under(sk, ix, classid, parent_minor,
							      want->v[2 * dir], want->v[2 * dir + 1],
							      false)))
			break;
		/* a circuit's leaf is sized from its plan: resized in place, its queue kept */
		if (changed[dir] && c_want) {
			struct tc_leaf w = circuit_leaf(s, c_want, dir), h = circuit_leaf(s, c_have, dir);

			if ((err = tc_leaf_set(sk, ix, classid, &w, &h))) {
				tc_class_set_under(sk, ix, classid, parent_minor, have->v[2 * dir],
						   have->v[2 * dir + 1], false);
				break;
			}
		}
	}
	if (!err && !(err = put(s, rec)))
		return 0;
	while (dir-- > 0) {
		int ix = dir ? s->wan_ix : s->lan_ix;

		if (!changed[dir])
			continue;
		tc_class_set_under(sk, ix, classid, parent_minor, have->v[2 * dir],
				   have->v[2 * dir + 1], false);
		if (c_want) {
			struct tc_leaf w = circuit_leaf(s, c_want, dir), h = circuit_leaf(s, c_have, dir);

			tc_leaf_set(sk, ix, classid, &h, &w);
		}
	}
	return err;
}

static int put_circuit(struct cs_state *s, const void *rec)
{
	return maps_circuit_put(&s->maps, rec);
}

static int put_node(struct cs_state *s, const void *rec)
{
	return maps_node_put(&s->maps, rec);
}

int state_set_rates(struct cs_state *s, struct nl_sock *sk, const struct circuit *have,
		    const struct circuit *want)
{
	struct rates h = circuit_rates(have), w = circuit_rates(want);

	return set_rates(s, sk, circuit_classid(have), have->parent_minor, &h, &w, put_circuit, want,
			 have, want);
}

int state_set_node_rates(struct cs_state *s, struct nl_sock *sk, const struct node_rec *have,
			 const struct node_rec *want)
{
	struct rates h = node_rates(have), w = node_rates(want);

	return set_rates(s, sk, node_classid(have), have->parent_minor, &h, &w, put_node, want,
			 NULL, NULL);
}

static int classid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int state_gc_classes(struct cs_state *s, struct nl_sock *sk, const struct circuit_set *want,
		     const struct network *net)
{
	size_t n_used = 0, n_net = net ? net->n : 0;
	uint32_t *used = malloc((want->n + n_net + 1) * sizeof(*used));
	int removed = 0, err = 0;

	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < want->n; i++)
		used[n_used++] = circuit_classid(&want->v[i]);
	for (size_t i = 0; i < n_net; i++)
		if (!net->v[i].is_virtual)
			used[n_used++] = (net->v[i].major << 16) | net->v[i].minor;
	qsort(used, n_used, sizeof(*used), classid_cmp);
	for (int dev = 0; dev < 2 && !err; dev++) {
		int ix = dev ? s->wan_ix : s->lan_ix;
		struct tc_stat *cls;
		size_t n;
		bool busy = true;

		if ((err = tc_class_stats(sk, ix, &cls, &n)))
			break;
		/* a leftover node class goes once the leftovers below it are gone: pass again */
		for (int pass = 0; busy && pass <= CS_NET_MAX_DEPTH; pass++) {
			busy = false;
			for (size_t i = 0; i < n; i++) {
				uint32_t h = cls[i].handle, major = TC_H_MAJ(h) >> 16;
				int e;

				if (!h || major < 1 || major >= CS_MQ_MAJOR || TC_H_MIN(h) < CS_FIRST_MINOR ||
				    (n_used && bsearch(&h, used, n_used, sizeof(*used), classid_cmp)))
					continue;
				e = tc_class_del(sk, ix, h);
				if (e == -EBUSY) {
					busy = true;
					continue;
				}
				removed += !e;
				cls[i].handle = 0; /* done with */
			}
		}
		free(cls);
	}
	free(used);
	return err ? err : removed;
}

int state_repair_classes(struct cs_state *s, struct nl_sock *sk, const struct circuit_set *have,
			 const struct circuit_set *want, struct tc_stat *const cls[2],
			 const size_t ncls[2], struct cs_repairs *r)
{
	for (int dev = 0; dev < 2; dev++) {
		int ix = dev ? s->wan_ix : s->lan_ix;
		size_t used = 0, present = 0;

		for (size_t i = 0; i < have->n; i++) {
			const struct circuit *c = &have->v[i];
			uint32_t id = circuit_classid(c);
			uint64_t min = dev ? c->up_min : c->down_min, max = dev ? c->up_max : c->down_max;
			const struct tc_stat *t = tc_stat_find(cls[dev], ncls[dev], id);
			const struct circuit *w = circuit_set_find(want, c->id);
			int err = 0;

			used += t != NULL;
			/*
			 * Only what the plan keeps in this class: a circuit the file
			 * removes or moves gets no class here (its HTB may be gone
			 * with its CPU).
			 */
			if (!w || circuit_classid(w) != id)
				continue;
			if (t) {
				if (tc_class_rates_match(t, min, max))
					continue;
				if ((err = tc_class_set_under(sk, ix, id, c->parent_minor, min, max,
							      false)) == 0)
					r->rates[dev]++;
			} else {
				/* its leaves as recorded: the plan changes them after, if it does */
				struct tc_leaf l = circuit_leaf(s, c, dev);

				err = tc_class_set_under(sk, ix, id, c->parent_minor, min, max, true);
				if (!err)
					err = tc_leaf_set(sk, ix, id, &l, NULL);
				if (!err)
					r->classes[dev]++;
			}
			if (err) {
				pr_warn("cpushaper: cannot put back class %x:%x of circuit \"%s\" on %s: %s\n",
					id >> 16, id & 0xffff, c->id, dev ? s->wan : s->lan, strerror(-err));
				return err;
			}
		}
		for (size_t i = 0; i < s->n_nodes; i++)
			used += tc_stat_find(cls[dev], ncls[dev], node_classid(&s->nodes[i])) != NULL;
		/* circuit classes (minor 3 and up under our HTBs) beyond those of the circuits and nodes */
		for (size_t i = 0; i < ncls[dev]; i++) {
			uint32_t h = cls[dev][i].handle, major = TC_H_MAJ(h) >> 16;

			if (major >= 1 && major < CS_MQ_MAJOR && TC_H_MIN(h) >= CS_FIRST_MINOR)
				present++;
		}
		r->leftovers += present > used ? (unsigned)(present - used) : 0;
	}
	return 0;
}

int state_repair_nodes(struct cs_state *s, struct nl_sock *sk, const struct network *net,
		       struct tc_stat *const cls[2], const size_t ncls[2], struct cs_repairs *r)
{
	/* in the file's order: a parent's class before its children's */
	for (size_t i = 0; net && i < net->n; i++) {
		const struct node_rec *h;
		struct node_rec w;

		if (net->v[i].is_virtual)
			continue;
		network_node_rec(net, i, &w);
		h = node_rec_find(s->nodes, s->n_nodes, w.name);
		/* only what stays in its class: the plan builds the rest */
		if (!h || h->cpu != w.cpu || h->major != w.major || h->minor != w.minor ||
		    h->parent_minor != w.parent_minor)
			continue;
		for (int dev = 0; dev < 2; dev++) {
			int ix = dev ? s->wan_ix : s->lan_ix;
			uint64_t min = dev ? h->up_min : h->down_min, max = dev ? h->up_max : h->down_max;
			const struct tc_stat *t = tc_stat_find(cls[dev], ncls[dev], node_classid(h));
			int err;

			if (t && tc_class_rates_match(t, min, max))
				continue;
			err = tc_class_set_under(sk, ix, node_classid(h), h->parent_minor, min, max, !t);
			if (err) {
				pr_warn("cpushaper: cannot put back class %x:%x of node \"%s\" on %s: %s\n",
					h->major, h->minor, h->name, dev ? s->wan : s->lan, strerror(-err));
				return err;
			}
			r->nodes++;
		}
	}
	return 0;
}
