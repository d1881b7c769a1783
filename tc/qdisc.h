/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The qdisc trees, over rtnetlink (libnl-route); with genl.c, the only
 * code that includes libnl. Every function returns 0 or a negative errno.
 *
 * Per device: MQ 7fff: at the root; for each shaping CPU k and j below
 * htbs_per_cpu an HTB on TX queue q = j * stride + k (MQ leaf 7fff:q+1) with
 * the q-th major of src/handles.h, with class :1 (link rate) and default
 * class :2 below it; circuit classes hang under :1.
 */
#ifndef CS_QDISC_H
#define CS_QDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpushaper.h"

struct nl_sock;

struct tc_tree_opts {
	const bool *cpus;   /* [CS_MAX_CPUS] */
	uint64_t link_bps;  /* class :1 */
	uint64_t default_bps;
	uint32_t htbs_per_cpu, stride;
	/* the leaf of each class :2: kind (as the kernel can), what it was, queue time */
	enum cs_leaf leaf;
	uint32_t queue_ms, htb_majors; /* htb_majors: H of src/leaf.h */
	bool set_leaf;      /* (re)send the leaves of :2 of existing HTBs (kind or size changed) */
	bool set_classes;   /* (re)send :1 and :2 of existing HTBs too (rates changed) */
	/* out: the HTB majors that were missing and so were created empty (caller frees) */
	uint32_t *created;
	size_t n_created;
	bool root_created;  /* out: there was no MQ root of ours */
};

/* A libnl -NLE_* code as -errno. */
int tc_errno(int nle);
/*
 * Can XDP on @ifindex read an offloaded VLAN tag (the rx_vlan_tag metadata
 * kfunc)? 1, 0, or -errno (tc/genl.c).
 */
int nl_xdp_vlan_tag(int ifindex);

int tc_open(struct nl_sock **sk);
void tc_close(struct nl_sock *sk);

/* Is our MQ the root of @ifindex? 1, 0, or -errno. */
int tc_tree_present(struct nl_sock *sk, int ifindex);
/* Create what is missing of the tree and (re)set classes :1 and :2. */
int tc_tree_ensure(struct nl_sock *sk, int ifindex, struct tc_tree_opts *o);
/* Remove our MQ root (and so everything below it). 0 when there was none. */
int tc_tree_destroy(struct nl_sock *sk, int ifindex);

/* A circuit class under major:1 of its own HTB. @create: create or replace, else change in place only. */
int tc_class_set(struct nl_sock *sk, int ifindex, uint32_t classid, uint64_t rate_bps,
		 uint64_t ceil_bps, bool create);
/* The same under class major:@parent_minor of its HTB (a node's; 0: :1). */
int tc_class_set_under(struct nl_sock *sk, int ifindex, uint32_t classid, uint32_t parent_minor,
		       uint64_t rate_bps, uint64_t ceil_bps, bool create);
int tc_class_del(struct nl_sock *sk, int ifindex, uint32_t classid);

/* A leaf qdisc: its kind, handle major (src/leaf.h), and the rate it is sized from. */
struct tc_leaf {
	enum cs_leaf kind;
	uint32_t major;
	uint64_t ceil_bps;
	uint32_t queue_ms; /* of a FIFO; 0: CS_DEFAULT_QUEUE_MS */
};
/*
 * Give class @classid the leaf @want, where it had @have (NULL: a new class, or
 * not known): the same kind and handle are changed in place (queue kept, as
 * tc's replace), another kind replaces it, DEFAULT puts HTB's own pfifo back.
 */
int tc_leaf_set(struct nl_sock *sk, int ifindex, uint32_t classid, const struct tc_leaf *want,
		const struct tc_leaf *have);
/*
 * Mark in @majors[0x10000] the handle majors of the leaves of circuit classes
 * (minor 3 and up) on @ifindex: one dump of all its qdiscs, for a load that
 * finds classes an interrupted run left (their leaves hold majors no record names).
 */
int tc_leaf_majors(struct nl_sock *sk, int ifindex, uint8_t *majors);
/* Does the kernel have the qdisc @kind (fq_codel, cake)? 1, 0, or -errno. Changes nothing. */
int tc_kind_present(struct nl_sock *sk, int ifindex, enum cs_leaf kind);

/* Filters attached to a clsact hook (parent ffff:fff2 or fff3): count, or -errno. */
int tc_filter_count(struct nl_sock *sk, int ifindex, uint32_t parent);

const char *tc_leaf_name(enum cs_leaf leaf);

/* Counters of one class or qdisc, as the kernel dumps them. */
struct tc_stat {
	uint32_t handle;
	uint32_t parent; /* single gets (tc/tcget.c) only */
	char kind[16];   /* single gets only: "htb", "pfifo", ... */
	uint64_t bytes, packets, drops, overlimits, backlog, qlen;
	uint64_t rate_Bps, ceil_Bps; /* of an HTB class, in bytes/s as the kernel holds them */
};
/* Does the dumped HTB class @t have the rates tc_class_set(@rate_bps, @ceil_bps) gives? */
bool tc_class_rates_match(const struct tc_stat *t, uint64_t rate_bps, uint64_t ceil_bps);

/* All classes of @ifindex, sorted by handle. Caller frees *out. */
int tc_class_stats(struct nl_sock *sk, int ifindex, struct tc_stat **out, size_t *n);
/* The classes of the HTBs @majors (major numbers) of @ifindex, sorted: much cheaper at scale. */
int tc_class_stats_htbs(struct nl_sock *sk, int ifindex, const uint32_t *majors, size_t n_majors,
			struct tc_stat **out, size_t *n);
/*
 * The top of the tree of each of the @n_dev devices (-1: skipped), sorted by
 * handle: the root and, under our MQ, each TX queue's qdisc (the HTBs). Asked
 * for one by one, so the leaves of the circuits cost nothing. Caller frees out[i].
 */
int tc_qdisc_stats(struct nl_sock *sk, const int *ifindex, int n_dev, struct tc_stat **out,
		   size_t *n);
/*
 * The classes @classids[0..n-1] / qdiscs @handles of @ifindex, asked for one
 * by one with many requests in flight (tc/tcget.c): no dump, so the cost does
 * not grow with the rest of the device's tree. out[i] and found[i] answer
 * handle i; one gone is not found, not an error.
 */
int tc_class_get(int ifindex, const uint32_t *classids, size_t n, struct tc_stat *out, bool *found);
int tc_qdisc_get(int ifindex, const uint32_t *handles, size_t n, struct tc_stat *out, bool *found);
/* The same for the leaf qdisc of each class @classids[i] (HTB's own pfifo: handle 0). */
int tc_leaf_get(int ifindex, const uint32_t *classids, size_t n, struct tc_stat *out, bool *found);
/*
 * One qdisc, on the netlink socket @fd (-1: a socket of its own): by @handle
 * with @parent 0, or the one on @parent (TC_H_ROOT: the root; a class: its
 * leaf). -ENOENT: none.
 */
int tc_qdisc_get_one(int fd, int ifindex, uint32_t parent, uint32_t handle, struct tc_stat *out);
/* Binary search in a sorted list. */
const struct tc_stat *tc_stat_find(const struct tc_stat *v, size_t n, uint32_t handle);

#endif
