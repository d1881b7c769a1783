/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the kernel counted, per CPU and per circuit: the data path's per-CPU
 * BPF counters plus the HTB statistics of both devices. One reader for show,
 * top and metrics.
 */
#ifndef CS_STATS_H
#define CS_STATS_H

#include "circuits.h"
#include "state.h"

/*
 * A circuit's bytes and packets are what TC's classifier put into its class
 * (so including what its queue then dropped); drops, backlog and qlen are its
 * class's. A CPU's and a node's
 * are their HTBs' and classes' own.
 */
struct dir_stats {
	uint64_t bytes, packets, drops, backlog, qlen;
	bool gone; /* its class was asked for and the kernel has none */
};

struct cpu_stats {
	bool enabled;
	uint32_t circuits;
	uint64_t plan_down_bps, plan_up_bps; /* sum of Max */
	struct dir_stats down, up;           /* this CPU's HTBs on lan-dev / wan-dev */
	uint64_t xdp_packets, xdp_bytes;     /* sent here by XDP */
	uint64_t cpumap_packets, cpumap_bytes, cpumap_drops;
	uint64_t tc_packets, tc_bytes;       /* classified into this CPU's HTBs */
	uint64_t tc_meta_packets;            /* of those, from XDP's metadata */
	struct cs_misc_counters misc;        /* unclassifiable packets seen on this CPU */
};

struct cs_stats {
	struct cpu_stats cpu[CS_MAX_CPUS];
	struct dir_stats *down, *up; /* per circuit, in the order of the set read */
	struct dir_stats *node_down, *node_up; /* per node of s->nodes */
	struct cs_misc_counters misc;
	size_t classes_checked[2];   /* circuit classes asked for, on lan-dev / wan-dev */
	size_t classes_present[2];   /* of those, the ones the kernel has */
	size_t circuits;
};

/*
 * How long a running reader may go on from earlier reads before it asks for
 * every class again: what finds a class deleted under an idle circuit
 * (CS_TEST_STATS_FULL_S: shorter, for the tests).
 */
#define STATS_FULL_NS (60 * 1000000000ull)
uint64_t stats_full_ns(void);
/* More classes than this to ask for: the HTBs' dumps instead of single requests. */
#define STATS_SINGLE_MAX 2000

/* What an earlier read of a running reader (top, the exporter) found. */
struct stats_prev {
	const struct circuit_set *have;
	const struct cs_stats *st;
};

/*
 * Without @prev every circuit's class is asked for its drops and backlog (and
 * the missing are counted); with it, only those of circuits that saw packets
 * since @prev or had a backlog then. No dump: the cost grows with the
 * circuits asked for, not with the whole tree.
 */
int stats_read(const struct cs_state *s, const struct circuit_set *have, const struct stats_prev *prev,
	       struct cs_stats *st);
void stats_free(struct cs_stats *st);
/* The round trips of every circuit of @have, in its order (zero where none yet). Caller frees *out. */
int stats_read_rtt(const struct cs_state *s, const struct circuit_set *have, struct cs_circuit_rtt **out);

/*
 * Where the kernel and the maps disagree (classes missing, programs missing
 * or on other maps): a "damage" object in JSON, warnings on stderr in text.
 * Returns how many things are wrong.
 */
int stats_print_damage(const struct cs_state *s, const struct cs_stats *st);

#endif
