/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The data path's maps, read and written through libbpf. */
#ifndef CS_MAPS_H
#define CS_MAPS_H

#include <stddef.h>
#include <linux/types.h>
#include <stdbool.h>
#include "circuits.h"
#include "network.h"
#include "plan.h"

struct cs_maps {
	int lpm, hosts, circuits, nodes, config, cpumap, cpu_stats, misc_stats, unknown, xps;
	int cstats, rtt, flows, rtt_all, rtt_zero, queues, cpu_htb;
};

/* Each map of struct cs_maps by its name in the BPF object, for loops over all of them. */
struct cs_map_slot {
	const char *name;
	size_t off; /* of its fd in struct cs_maps */
};
extern const struct cs_map_slot cs_map_slots[];
extern const size_t cs_n_map_slots;
#define CS_MAP_FD(m, slot) (*(int *)((char *)(m) + (slot)->off))

void maps_init(struct cs_maps *m);
/* An address of no circuit, as TC sampled it (cs_unknown). */
struct unknown_addr {
	struct cs_prefix p; /* the address, /32 or /128 */
	__u64 packets, bytes;
	bool down;
};
/* Forget the unknown addresses that the address map now holds (after a load). */
void maps_unknown_prune(const struct cs_maps *m);
/* The unknown addresses, busiest (bytes) first. Caller frees *out. */
int maps_read_unknown(const struct cs_maps *m, struct unknown_addr **out, size_t *n);
/* XPS of a TX queue before the first load, kept once (see cs_xps_key). */
int maps_xps_save(const struct cs_maps *m, bool lan, unsigned int queue, bool rxqs, const char *text);
/* Each saved XPS setting of the map @fd to @fn. */
int maps_xps_each(int fd, int (*fn)(bool lan, unsigned int queue, bool rxqs, const char *text, void *arg),
		  void *arg);
void maps_close(struct cs_maps *m);
/*
 * Open the maps used by a loaded program, by name: how a later invocation finds
 * them. -EPROTO: a cpushaper of another version built them.
 */
int maps_from_prog_id(__u32 prog_id, struct cs_maps *m);

/* An fd of the map called @name that program @prog_id uses (or is bound to), or -errno. */
int maps_fd_from_prog_id(__u32 prog_id, const char *name);
/*
 * Empty the cpumap @fd: its entries hold the arrival program and one kthread
 * per CPU. Whatever built them, nothing then keeps them alive.
 */
int maps_cpumap_clear(int fd);
/*
 * Empty every cpumap of ours on the machine that no XDP or TC program of ours
 * uses any more: what cpushaper <= 0.7 leaked (its cpumap and arrival program
 * held each other). Returns how many were emptied.
 */
int maps_cpumap_sweep_orphans(void);
/* The id of the map @fd, 0 if it cannot be read. */
__u32 maps_id(int fd);
/* Sets of the RTT flow table (cs_flows, CS_FLOW_WAYS flows each), or -errno. */
int maps_flow_sets(const struct cs_maps *m);
/* Are map fds @a and @b the same map? */
bool maps_same(int a, int b);

/* The config; -EPROTO if another version (size or ABI) wrote it. */
int maps_config_read(const struct cs_maps *m, struct cs_config *cfg);
int maps_config_read_fd(int fd, struct cs_config *cfg);
int maps_config_write(const struct cs_maps *m, const struct cs_config *cfg);
/* One cpumap entry per enabled CPU, each running @prog_fd on arrival; none for the others. */
int maps_cpumap_sync(const struct cs_maps *m, const bool cpus[CS_MAX_CPUS], __u32 qsize,
		     int prog_fd);
/* An fd of the arrival program the running cpumap entries use, or -ENOENT. */
int maps_cpumap_prog_fd(const struct cs_maps *m);

/* The running circuits, sorted by id, without their prefixes (no address map walk). */
int maps_read_circuits(const struct cs_maps *m, struct circuit_set *have);
/* The running circuits (sorted by id, each with its prefixes) and the raw address map. */
int maps_read_state(const struct cs_maps *m, struct circuit_set *have, struct lpm_entry **lpm,
		    size_t *n_lpm);

/* The running circuit @id, without its prefixes (no address map walk). -ENOENT if none. */
int maps_circuit_find(const struct cs_maps *m, const char *id, struct circuit *out);
int maps_circuit_put(const struct cs_maps *m, const struct circuit *c);
int maps_circuit_del(const struct cs_maps *m, __u32 index);
/* The running nodes of the network, sorted by name (caller frees *out). */
int maps_read_nodes(const struct cs_maps *m, struct node_rec **out, size_t *n);
int maps_node_put(const struct cs_maps *m, const struct node_rec *r);
int maps_node_del(const struct cs_maps *m, const char *name);

/* An address entry: a host (/32, /128) goes to the exact-match hash, a prefix to the trie. */
int maps_lpm_put(const struct cs_maps *m, const struct cs_prefix *p, const struct cs_target *t);
int maps_lpm_del(const struct cs_maps *m, const struct cs_prefix *p);

/*
 * The per-circuit counters (cs_cstats) / round trips (cs_rtt) of the circuits
 * whose indexes are @index[0..n-1] (sorted ascending), read in batches: zero
 * where a circuit has none yet.
 */
int maps_read_cstats(const struct cs_maps *m, const __u32 *index, size_t n, struct cs_circuit_stats *out);
int maps_read_rtt(const struct cs_maps *m, const __u32 *index, size_t n, struct cs_circuit_rtt *out);
/* One circuit's: 0 or -errno. */
int maps_cstats_get(const struct cs_maps *m, __u32 index, struct cs_circuit_stats *out);
/* 1 found, 0 none yet (zeroed), or -errno. */
int maps_rtt_get(const struct cs_maps *m, __u32 index, struct cs_circuit_rtt *out);

/* Every circuit's round trips together, summed over the CPUs. */
int maps_rtt_total(const struct cs_maps *m, struct cs_rtt_total *out);

/* Per-CPU counters summed over the CPUs that ran the programs. */
int maps_cpu_counters(const struct cs_maps *m, __u32 cpu, struct cs_cpu_counters *out);
int maps_misc_counters(const struct cs_maps *m, struct cs_misc_counters *out);
/* The same, as counted on each CPU: out[0..ncpus-1]. Returns the number of CPUs or -errno. */
int maps_misc_counters_percpu(const struct cs_maps *m, struct cs_misc_counters *out, int max);

#endif
