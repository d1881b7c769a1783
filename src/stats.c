// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "handles.h"
#include "maps.h"
#include "plan.h"
#include "qdisc.h"
#include "stats.h"
#include <stdio.h>
#include "output.h"

/* Circuit i of @have as a position in @prev->have (sorted by id), or -1. */
static long prev_pos(const struct stats_prev *prev, const struct circuit *c)
{
	size_t lo = 0, hi = prev && prev->have ? prev->have->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(prev->have->v[mid].id, c->id);

		if (!d) {
			const struct circuit *p = &prev->have->v[mid];

			/* the same circuit in the same class: a move is a new class */
			return p->index == c->index && circuit_classid(p) == circuit_classid(c) ? (long)mid : -1;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct by_index {
	uint32_t index;
	size_t i; /* in have */
};

static int by_index_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct by_index *)a)->index, y = ((const struct by_index *)b)->index;

	return x < y ? -1 : x > y;
}

/* The circuits of @have by ascending index (what the per-circuit maps are keyed by). */
static void sort_by_index(const struct circuit_set *have, struct by_index *order, uint32_t *index)
{
	for (size_t i = 0; i < have->n; i++)
		order[i] = (struct by_index){ have->v[i].index, i };
	qsort(order, have->n, sizeof(*order), by_index_cmp);
	for (size_t i = 0; i < have->n; i++)
		index[i] = order[i].index;
}

/* Both devices' per-HTB class dumps, read once per stats_read when needed. */
struct dumps {
	struct tc_stat *cls[2];
	size_t ncls[2];
	bool read;
};

/*
 * The classes @ids[0..n-1] of device @dev (0 lan, 1 wan): one request each
 * for a few; for many, the dump of each HTB's classes. Every single request
 * makes the kernel look the HTB up in the device's qdisc hash, 16 buckets
 * that hold every leaf qdisc too: with a leaf per circuit, asking for 40 000
 * classes one by one took 32 s here, the dumps 1.4 s.
 */
static int ask_classes(const struct cs_state *s, int dev, const uint32_t *ids, size_t n,
		       struct tc_stat *got, bool *found, struct dumps *d)
{
	struct nl_sock *sk = NULL;
	int err = 0;

	if (n <= STATS_SINGLE_MAX)
		return tc_class_get(dev ? s->wan_ix : s->lan_ix, ids, n, got, found);
	/* both devices' dumps at once, for the other device too */
	if (!d->read) {
		if ((err = tc_open(&sk)) || (err = state_read_classes(s, sk, d->cls, d->ncls))) {
			tc_close(sk);
			return err;
		}
		tc_close(sk);
		d->read = true;
	}
	for (size_t k = 0; k < n; k++) {
		const struct tc_stat *t = tc_stat_find(d->cls[dev], d->ncls[dev], ids[k]);

		found[k] = t != NULL;
		got[k] = t ? *t : (struct tc_stat){ 0 };
	}
	return 0;
}

/*
 * Bytes and packets of every circuit from TC's counters (one batched map
 * read); drops and backlog from single-class requests for the circuits that
 * can have them: with @prev, those that saw packets since or still had a
 * backlog, the others keep what @prev had.
 */
static int read_circuits(const struct cs_state *s, const struct circuit_set *have,
			 const struct stats_prev *prev, struct cs_stats *st)
{
	size_t n = have->n;
	struct by_index *order = calloc(n ? n : 1, sizeof(*order));
	uint32_t *index = calloc(n ? n : 1, sizeof(*index));
	struct cs_circuit_stats *cnt = calloc(n ? n : 1, sizeof(*cnt));
	uint32_t *ask = calloc(n ? n : 1, sizeof(*ask));
	size_t *ask_i = calloc(n ? n : 1, sizeof(*ask_i));
	struct tc_stat *got = calloc(n ? n : 1, sizeof(*got));
	bool *found = calloc(n ? n : 1, sizeof(*found));
	struct dumps dumps = { 0 };
	int err = 0;

	if (!order || !index || !cnt || !ask || !ask_i || !got || !found) {
		err = -ENOMEM;
		goto out;
	}
	sort_by_index(have, order, index);
	if ((err = maps_read_cstats(&s->maps, index, n, cnt)))
		goto out;
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k].i;

		st->down[i].bytes = cnt[k].bytes[CS_DOWN];
		st->down[i].packets = cnt[k].packets[CS_DOWN];
		st->up[i].bytes = cnt[k].bytes[CS_UP];
		st->up[i].packets = cnt[k].packets[CS_UP];
	}
	for (int dev = 0; dev < 2; dev++) {
		int ix = dev ? s->wan_ix : s->lan_ix;
		struct dir_stats *d = dev ? st->up : st->down;
		size_t m = 0;

		if (ix < 0) {
			/* the device is gone, and its classes with it */
			st->classes_checked[dev] = n;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			long p = prev ? prev_pos(prev, &have->v[i]) : -1;
			const struct dir_stats *was = p < 0 ? NULL : dev ? &prev->st->up[p] : &prev->st->down[p];

			/* a class found missing is asked for again until it is back */
			if (!prev || (was && (was->packets != d[i].packets || was->backlog || was->qlen || was->gone)) ||
			    (!was && d[i].packets)) {
				ask[m] = circuit_classid(&have->v[i]);
				ask_i[m++] = i;
			} else if (was) {
				d[i].drops = was->drops;
				d[i].backlog = was->backlog;
				d[i].qlen = was->qlen;
			}
		}
		if ((err = ask_classes(s, dev, ask, m, got, found, &dumps)))
			goto out;
		for (size_t k = 0; k < m; k++) {
			struct dir_stats *x = &d[ask_i[k]];

			x->drops = got[k].drops;
			x->backlog = got[k].backlog;
			x->qlen = got[k].qlen;
			x->gone = !found[k];
			st->classes_present[dev] += found[k];
		}
		st->classes_checked[dev] = m;
	}
out:
	free(dumps.cls[0]);
	free(dumps.cls[1]);
	free(order);
	free(index);
	free(cnt);
	free(ask);
	free(ask_i);
	free(got);
	free(found);
	return err;
}

/* A class or qdisc's counters, as they are for an HTB or a node. */
static void add_tc(struct dir_stats *d, const struct tc_stat *t)
{
	d->bytes += t->bytes;
	d->packets += t->packets;
	d->drops += t->drops;
	d->backlog += t->backlog;
	d->qlen += t->qlen;
}

/* The nodes' classes and every shaping CPU's HTBs, by single requests. */
static int read_classes(const struct cs_state *s, struct cs_stats *st)
{
	size_t nh = (size_t)CS_MAX_CPUS * (s->cfg.htbs_per_cpu ? s->cfg.htbs_per_cpu : 1);
	size_t cap = nh > s->n_nodes ? nh : s->n_nodes;
	uint32_t *h = calloc(cap ? cap : 1, sizeof(*h)), *cpu_of = calloc(nh, sizeof(*cpu_of));
	struct tc_stat *got = calloc(cap ? cap : 1, sizeof(*got));
	bool *found = calloc(cap ? cap : 1, sizeof(*found));
	int err = 0;

	if (!h || !cpu_of || !got || !found) {
		err = -ENOMEM;
		goto out;
	}
	for (int dev = 0; dev < 2 && !err; dev++) {
		int ix = dev ? s->wan_ix : s->lan_ix;
		size_t m = 0;

		if (ix < 0)
			continue;
		for (size_t i = 0; i < s->n_nodes; i++)
			h[i] = (s->nodes[i].major << 16) | s->nodes[i].minor;
		if ((err = tc_class_get(ix, h, s->n_nodes, got, found)))
			break;
		for (size_t i = 0; i < s->n_nodes; i++)
			if (found[i])
				add_tc(dev ? &st->node_up[i] : &st->node_down[i], &got[i]);
		for (uint32_t c = 0; c < CS_MAX_CPUS; c++)
			for (uint32_t j = 0; cs_cpu_on(&s->cfg, c) && j < s->cfg.htbs_per_cpu; j++) {
				cpu_of[m] = c;
				h[m++] = handle_htb(s->cfg.htb_stride, c, j) << 16;
			}
		if ((err = tc_qdisc_get(ix, h, m, got, found)))
			break;
		for (size_t k = 0; k < m; k++)
			if (found[k])
				add_tc(dev ? &st->cpu[cpu_of[k]].up : &st->cpu[cpu_of[k]].down, &got[k]);
	}
out:
	free(h);
	free(cpu_of);
	free(got);
	free(found);
	return err;
}

/*
 * How stats were read before TC counted per circuit: a class dump per HTB and
 * a dump of every qdisc. Only for the benchmark (CS_BENCH_CLASS_DUMP), which
 * compares the two ways in one run.
 */
static int read_by_dump(const struct cs_state *s, const struct circuit_set *have, struct cs_stats *st)
{
	struct tc_stat *cls[2] = { 0 }, *qd[2] = { 0 };
	size_t ncls[2] = { 0 }, nqd[2] = { 0 };
	const int dev[2] = { s->lan_ix, s->wan_ix };
	struct nl_sock *sk = NULL;
	int err;

	if ((err = tc_open(&sk)) || (err = state_read_classes(s, sk, cls, ncls)) ||
	    (err = tc_qdisc_stats(sk, dev, 2, qd, nqd)))
		goto out;
	for (size_t i = 0; i < have->n; i++)
		for (int d = 0; d < 2; d++) {
			const struct tc_stat *t = tc_stat_find(cls[d], ncls[d], circuit_classid(&have->v[i]));

			if (t)
				add_tc(d ? &st->up[i] : &st->down[i], t);
			st->classes_present[d] += t != NULL;
			st->classes_checked[d]++;
		}
	for (uint32_t c = 0; c < CS_MAX_CPUS; c++)
		for (uint32_t j = 0; cs_cpu_on(&s->cfg, c) && j < s->cfg.htbs_per_cpu; j++)
			for (int d = 0; d < 2; d++) {
				const struct tc_stat *t =
					tc_stat_find(qd[d], nqd[d], handle_htb(s->cfg.htb_stride, c, j) << 16);

				if (t)
					add_tc(d ? &st->cpu[c].up : &st->cpu[c].down, t);
			}
out:
	for (int i = 0; i < 2; i++) {
		free(cls[i]);
		free(qd[i]);
	}
	tc_close(sk);
	return err;
}

uint64_t stats_full_ns(void)
{
	const char *t = getenv("CS_TEST_STATS_FULL_S");

	return t && atoi(t) > 0 ? (uint64_t)atoi(t) * 1000000000ull : STATS_FULL_NS;
}

int stats_read(const struct cs_state *s, const struct circuit_set *have, const struct stats_prev *prev,
	       struct cs_stats *st)
{
	int err = 0;

	memset(st, 0, sizeof(*st));
	st->circuits = have->n;
	st->down = calloc(have->n ? have->n : 1, sizeof(*st->down));
	st->up = calloc(have->n ? have->n : 1, sizeof(*st->up));
	st->node_down = calloc(s->n_nodes + 1, sizeof(*st->node_down));
	st->node_up = calloc(s->n_nodes + 1, sizeof(*st->node_up));
	if (!st->down || !st->up || !st->node_down || !st->node_up) {
		err = -ENOMEM;
		goto out;
	}
	if (getenv("CS_BENCH_CLASS_DUMP"))
		err = read_by_dump(s, have, st);
	else if (!(err = read_circuits(s, have, prev, st)))
		err = read_classes(s, st);
	if (err)
		goto out;
	if ((err = maps_misc_counters(&s->maps, &st->misc)))
		goto out;
	{
		struct cs_misc_counters *per = calloc(CS_MAX_CPUS, sizeof(*per));
		int n = per ? maps_misc_counters_percpu(&s->maps, per, CS_MAX_CPUS) : -ENOMEM;

		for (int c = 0; c < n; c++)
			st->cpu[c].misc = per[c];
		free(per);
		if (n < 0) {
			err = n;
			goto out;
		}
	}

	for (uint32_t c = 0; c < CS_MAX_CPUS; c++) {
		struct cpu_stats *cs = &st->cpu[c];
		struct cs_cpu_counters k;

		cs->enabled = cs_cpu_on(&s->cfg, c);
		if (!cs->enabled)
			continue;
		if ((err = maps_cpu_counters(&s->maps, c, &k)))
			goto out;
		cs->xdp_packets = k.xdp_packets;
		cs->xdp_bytes = k.xdp_bytes;
		cs->tc_packets = k.tc_packets;
		cs->tc_bytes = k.tc_bytes;
		cs->tc_meta_packets = k.tc_meta_packets;
		cs->cpumap_packets = k.cpumap_packets;
		cs->cpumap_bytes = k.cpumap_bytes;
		/* sent minus arrived; a few may still be in flight */
		cs->cpumap_drops = k.xdp_packets > k.cpumap_packets ? k.xdp_packets - k.cpumap_packets : 0;
	}
	for (size_t i = 0; i < have->n; i++) {
		const struct circuit *c = &have->v[i];

		if (c->cpu < CS_MAX_CPUS) {
			st->cpu[c->cpu].circuits++;
			st->cpu[c->cpu].plan_down_bps += c->down_max;
			st->cpu[c->cpu].plan_up_bps += c->up_max;
		}
	}
out:
	if (err)
		stats_free(st);
	return err;
}

int stats_read_rtt(const struct cs_state *s, const struct circuit_set *have, struct cs_circuit_rtt **out)
{
	size_t n = have->n;
	struct by_index *order = calloc(n ? n : 1, sizeof(*order));
	uint32_t *index = calloc(n ? n : 1, sizeof(*index));
	struct cs_circuit_rtt *got = calloc(n ? n : 1, sizeof(*got));
	struct cs_circuit_rtt *r = calloc(n ? n : 1, sizeof(*r));
	int err = 0;

	*out = NULL;
	if (!order || !index || !got || !r) {
		err = -ENOMEM;
		goto out;
	}
	if (n <= 64) {
		/* a few circuits: a lookup each beats a walk of the whole map */
		for (size_t i = 0; i < n && !err; i++)
			err = maps_rtt_get(&s->maps, have->v[i].index, &r[i]) < 0 ? -EIO : 0;
		goto out;
	}
	sort_by_index(have, order, index);
	if ((err = maps_read_rtt(&s->maps, index, n, got)))
		goto out;
	for (size_t k = 0; k < n; k++)
		r[order[k].i] = got[k];
out:
	free(order);
	free(index);
	free(got);
	if (err)
		free(r);
	else
		*out = r;
	return err;
}

void stats_free(struct cs_stats *st)
{
	free(st->down);
	free(st->up);
	free(st->node_down);
	free(st->node_up);
	st->down = st->up = st->node_down = st->node_up = NULL;
}

int stats_print_damage(const struct cs_state *s, const struct cs_stats *st)
{
	int bad = 0;

	out_open_obj("damage");
	out_open_arr("devices_missing");
	for (int dev = 0; dev < 2; dev++) {
		if ((dev ? s->wan_ix : s->lan_ix) >= 0)
			continue;
		print_str(PRINT_JSON, NULL, NULL, dev ? s->wan : s->lan);
		fprintf(stderr, "warning: %s does not exist (deleted, or not created yet): nothing is shaped on it, its programs and qdiscs went with it - once it is back, run load to attach everything again\n",
			dev ? s->wan : s->lan);
		bad++;
	}
	out_close_arr();
	for (int dev = 0; dev < 2; dev++) {
		const char *name = dev ? s->wan : s->lan;
		size_t have = st->classes_present[dev], asked = st->classes_checked[dev];

		print_u64(PRINT_JSON, dev ? "wan_classes_missing" : "lan_classes_missing", NULL,
			  asked - have);
		if (have < asked && (dev ? s->wan_ix : s->lan_ix) >= 0) {
			fprintf(stderr, "warning: %s: %zu of %zu circuit classes present - run load to repair\n",
				name, have, asked);
			bad++;
		}
	}
	out_open_arr("programs");
	for (int at = 0; at < CS_AT_N; at++) {
		if (state_at_ok(s, at))
			continue;
		print_str(PRINT_JSON, NULL, NULL, state_at_name(at));
		if ((at & 1 ? s->wan_ix : s->lan_ix) < 0)
			continue; /* said above */
		if (s->at[at].other_id)
			fprintf(stderr, "warning: %s: another XDP program (id %u, \"%s\") holds the hook - remove it, then run load\n",
				at & 1 ? s->wan : s->lan, s->at[at].other_id, s->at[at].other_name);
		else
			fprintf(stderr, "warning: %s: the %s program is %s - run load to repair\n",
				at & 1 ? s->wan : s->lan, at >= CS_AT_LAN_XDP ? "XDP" : "TC",
				s->at[at].prog_id ? "on other maps" : "missing");
		bad++;
	}
	out_close_arr();
	out_close_obj();
	return bad;
}
