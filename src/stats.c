// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "qdisc.h"
#include "stats.h"
#include <stdio.h>
#include "output.h"

/* Adds: a CPU's figures are the sum of its HTBs'. */
static void add_tc(struct dir_stats *d, const struct tc_stat *t)
{
	if (!t)
		return;
	d->bytes += t->bytes;
	d->packets += t->packets;
	d->drops += t->drops;
	d->backlog += t->backlog;
	d->qlen += t->qlen;
}

int stats_read(const struct cs_state *s, struct nl_sock *sk, const struct circuit_set *have,
	       struct cs_stats *st)
{
	struct tc_stat *cls[2] = { 0 }, *qd[2] = { 0 };
	size_t ncls[2] = { 0 }, nqd[2] = { 0 };
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
	{
		const int dev[2] = { s->lan_ix, s->wan_ix };

		err = state_read_classes(s, sk, cls, ncls);
		if (!err)
			err = tc_qdisc_stats(sk, dev, 2, qd, nqd);
	}
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
		for (uint32_t j = 0; j < s->cfg.htbs_per_cpu; j++) {
			uint32_t major = (j * s->cfg.htb_stride + c + 1) << 16;

			add_tc(&cs->down, tc_stat_find(qd[0], nqd[0], major));
			add_tc(&cs->up, tc_stat_find(qd[1], nqd[1], major));
		}
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
		uint32_t id = circuit_classid(c);

		const struct tc_stat *d = tc_stat_find(cls[0], ncls[0], id);
		const struct tc_stat *u = tc_stat_find(cls[1], ncls[1], id);

		add_tc(&st->down[i], d);
		add_tc(&st->up[i], u);
		st->classes_present[0] += d != NULL;
		st->classes_present[1] += u != NULL;
		if (c->cpu < CS_MAX_CPUS) {
			st->cpu[c->cpu].circuits++;
			st->cpu[c->cpu].plan_down_bps += c->down_max;
			st->cpu[c->cpu].plan_up_bps += c->up_max;
		}
	}
	for (size_t i = 0; i < s->n_nodes; i++) {
		uint32_t id = (s->nodes[i].major << 16) | s->nodes[i].minor;

		add_tc(&st->node_down[i], tc_stat_find(cls[0], ncls[0], id));
		add_tc(&st->node_up[i], tc_stat_find(cls[1], ncls[1], id));
	}
out:
	for (int i = 0; i < 2; i++) {
		free(cls[i]);
		free(qd[i]);
	}
	if (err)
		stats_free(st);
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
		size_t have = st->classes_present[dev];

		print_u64(PRINT_JSON, dev ? "wan_classes_missing" : "lan_classes_missing", NULL,
			  st->circuits - have);
		if (have < st->circuits && (dev ? s->wan_ix : s->lan_ix) >= 0) {
			fprintf(stderr, "warning: %s: %zu of %zu circuit classes present - run load to repair\n",
				name, have, st->circuits);
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
