/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Map keys and values shared by the BPF programs and the manager. */
#ifndef CPUSHAPER_H
#define CPUSHAPER_H

#ifdef __BPF__
#include <linux/types.h>
#define CS_STATIC_ASSERT(c, m)
#else
#include <linux/types.h>
#define CS_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

/* Bumped whenever a struct below changes: a manager refuses state built by another ABI. */
#define CS_ABI_VERSION 7

/*
 * CPUs that can shape: 0 .. CS_MAX_CPUS-1 (the per-CPU maps are sized to the
 * CPUs the machine can have, at most this). A machine may have more; those
 * beyond cannot be chosen with --cpus.
 */
#define CS_MAX_CPUS 1024
#define CS_MAX_VLAN 2             /* 802.1Q / 802.1ad tags parsed before giving up */
#define CS_ID_LEN 64
#define CS_NAME_LEN 64

/*
 * HTB layout: CPU k owns HTBs j = 0 .. htbs_per_cpu-1, HTB (k, j) sitting on
 * TX queue q = j * htb_stride + k (MQ leaf 7fff:q+1) with the q-th major of
 * src/handles.h (1, 3, 4, ...: no major in the hash bucket of the kernel's
 * default leaves), found by TC in cs_queues; each has class :1 = link and
 * :2 = default.
 * Several HTBs per CPU (a device with more TX queues than CPUs) keep each HTB
 * small: the kernel's cost of adding a class grows with the classes of its HTB.
 */
#define CS_MQ_MAJOR 0x7fff
#define CS_LINK_MINOR 1
#define CS_DEFAULT_MINOR 2
#define CS_FIRST_MINOR 3
#define CS_LAST_MINOR 0xffff

/* Our cls_bpf filter on clsact egress: how later invocations find the loaded state. */
#define CS_TC_HANDLE 0xc5
#define CS_TC_PRIORITY 0xc5

/*
 * Leaf qdisc of a class. DEFAULT is what HTB attaches itself (a pfifo of the
 * device's txqueuelen packets, seconds of a slow plan: "none", no SQM); FIFO
 * is a pfifo holding queue_ms of the class's ceil, the fallback where the
 * kernel lacks fq_codel or cake. Every leaf but DEFAULT has a handle major of
 * ours (see src/leaf.h): HTB majors, then one per HTB for the leaf of its
 * class :2, then circuits' leaves up to 0xfffe (0x7fff is the MQ).
 */
enum cs_leaf {
	CS_LEAF_DEFAULT = 0,
	CS_LEAF_FQ_CODEL = 1,
	CS_LEAF_CAKE = 2,
	CS_LEAF_FIFO = 3,
};
#define CS_DEFAULT_QUEUE_MS 20

/* cs_config.flags */
#define CS_F_SKIP_LOCAL 1 /* XDP passes a packet already on its circuit's CPU instead of redirecting */
#define CS_F_META 2       /* XDP hands its lookup result to TC in the packet's metadata */
#define CS_F_DIRTY 4      /* unused: leftovers are found by the class read of every load */
#define CS_F_XDP_SKB 8    /* XDP runs in generic (skb) mode: what re-attaching uses */
#define CS_F_RTT 16       /* TC times TCP round trips (cs_flows, cs_rtt) and counts retransmissions */

enum cs_unknown_policy {
	CS_UNKNOWN_PASS = 0, /* stay on the current CPU, default class of its HTB */
	CS_UNKNOWN_CPU = 1,  /* steer to cfg.default_cpu, default class of its HTB */
};

/* LPM key: IPv4 is stored as ::ffff:a.b.c.d with prefixlen + 96. */
struct cs_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};
CS_STATIC_ASSERT(sizeof(struct cs_lpm_key) == 20, "cs_lpm_key layout");

/* Exact-match key of a host (/32 as ::ffff:a.b.c.d, /128): looked up before the trie. */
struct cs_host_key {
	__u8 addr[16];
};
CS_STATIC_ASSERT(sizeof(struct cs_host_key) == 16, "cs_host_key layout");

/* What a lookup yields: where the circuit lives. */
struct cs_target {
	__u32 cpu;
	__u32 classid_down; /* on lan-dev egress */
	__u32 classid_up;   /* on wan-dev egress */
	__u32 circuit;      /* key into cs_circuits */
};
CS_STATIC_ASSERT(sizeof(struct cs_target) == 16, "cs_target layout");

/*
 * XDP's lookup result, in the metadata area in front of the packet, for TC on
 * the egress device to use instead of looking up again. The forwarding path's
 * neighbour output copies 16 bytes of cached header that end at the L3 header,
 * so the last 2 bytes before the MAC header are overwritten: hence the pad.
 */
#define CS_META_MAGIC 0xc5a1e7a5u
struct cs_meta {
	__u32 magic;
	__u32 ifindex; /* the egress device the class is on */
	__u32 classid;
	__u32 cpu;
	__u32 circuit; /* key into cs_circuits and cs_cstats */
	__u32 pad;
};
CS_STATIC_ASSERT(sizeof(struct cs_meta) == 24, "cs_meta layout");

/* Circuit metadata kept in the kernel so a later invocation can show and diff it. */
struct cs_circuit {
	char id[CS_ID_LEN];
	char name[CS_NAME_LEN];
	__u32 cpu;
	__u32 minor;
	__u32 major; /* of its HTB; see the layout above */
	__u32 parent_minor; /* its node's class in that HTB; 0: the root class :1 */
	__u64 down_min_bps;
	__u64 down_max_bps;
	__u64 up_min_bps;
	__u64 up_max_bps;
	__u32 flags; /* CS_REC_* */
	__u16 leaf_major; /* handle major of its leaves (the same on both devices); 0: none */
	__u8 leaf_down;   /* enum cs_leaf applied | the one wanted << 4 */
	__u8 leaf_up;
};
CS_STATIC_ASSERT(sizeof(struct cs_circuit) == 184, "cs_circuit layout");

/* The rates are set-rate's, not the file's: the next load says it puts the file's back. */
#define CS_REC_SET_RATE 1u

/*
 * A node of the network above the circuits (a site, an access point) with a
 * class of its own in each direction, keyed by its name; ceil = its bandwidth,
 * rate = what is guaranteed below it.
 */
#define CS_NODE_NAME_LEN 64
struct cs_node {
	char parent[CS_NODE_NAME_LEN]; /* its parent class's node; "" under the root class */
	__u32 cpu;
	__u32 minor;
	__u32 major;
	__u32 parent_minor; /* 0: the root class :1 */
	__u64 down_min_bps;
	__u64 down_max_bps;
	__u64 up_min_bps;
	__u64 up_max_bps;
	__u32 flags; /* CS_REC_* */
	__u32 pad;
};
CS_STATIC_ASSERT(sizeof(struct cs_node) == 120, "cs_node layout");

struct cs_node_key {
	char name[CS_NODE_NAME_LEN];
};

struct cs_config {
	__u32 abi;
	__u32 lan_ifindex;
	__u32 wan_ifindex;
	__u32 unknown_policy;
	__u32 default_cpu;
	__u32 leaf;         /* enum cs_leaf: --leaf, wanted for circuits with no sqm of their own */
	__u32 flags;        /* CS_F_* */
	__u32 cpumap_qsize; /* ring size of each cpumap entry */
	__u32 htbs_per_cpu; /* fixed while loaded */
	__u32 htb_stride;   /* CPUs the machine has: HTB j of CPU k is on TX queue j * stride + k */
	__u64 link_bps;
	__u64 default_bps;
	__u64 cpu_mask[CS_MAX_CPUS / 64]; /* shaping CPUs: bit c of word c / 64; see cs_cpu_on() */
	/* the last load of this shaper (for the exporter): wall-clock seconds, and how it ended */
	__u64 load_time;
	__u64 load_ok_time; /* of the last that succeeded */
	__u32 load_result;  /* CS_LOAD_*: ok, refused, or applied in part */
	__u32 queue_ms;     /* a FIFO leaf holds this long of its class's ceil */
};
/*
 * Smaller than ABI 2's 312 bytes: an older cpushaper that reads this map
 * before checking its ABI must not have more bytes written into its stack.
 */
CS_STATIC_ASSERT(sizeof(struct cs_config) == 80 + CS_MAX_CPUS / 8, "cs_config layout");
#define CS_LOAD_OK 0
#define CS_LOAD_REFUSED 1
#define CS_LOAD_PARTIAL 3

/*
 * Addresses of no circuit, sampled by TC where it meets them (the subscriber
 * side's address: the destination going down, the source going up): an LRU
 * table of at most CS_UNKNOWN_MAX; a new address enters with 1 of every
 * CS_UNKNOWN_SAMPLE of its packets, then every packet counts.
 */
#define CS_UNKNOWN_MAX 4096
#define CS_UNKNOWN_SAMPLE 16
struct cs_unknown_key {
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
};
struct cs_unknown_val {
	__u64 packets;
	__u64 bytes;
	__u32 down; /* seen going down (1) or up (0) last */
	__u32 pad;
};
CS_STATIC_ASSERT(sizeof(struct cs_unknown_val) == 24, "cs_unknown_val layout");

/*
 * XPS as it was before the first load turned it off, per device and TX queue
 * (the sysfs text), so that unload puts it back. Only the manager uses it.
 */
#define CS_XPS_MAX 2048
#define CS_XPS_LEN 512
struct cs_xps_key {
	__u32 lan;   /* 1: lan-dev, 0: wan-dev */
	__u32 queue;
	__u32 rxqs;  /* 1: xps_rxqs, 0: xps_cpus */
};
struct cs_xps_val {
	char cpus[CS_XPS_LEN]; /* xps_cpus as read, e.g. "00000000,00000003" */
};

static inline int cs_cpu_on(const struct cs_config *cfg, __u32 cpu)
{
	return cpu < CS_MAX_CPUS && (cfg->cpu_mask[cpu / 64] >> (cpu % 64)) & 1;
}

static inline void cs_cpu_set(struct cs_config *cfg, __u32 cpu, int on)
{
	if (cpu >= CS_MAX_CPUS)
		return;
	if (on)
		cfg->cpu_mask[cpu / 64] |= 1ull << (cpu % 64);
	else
		cfg->cpu_mask[cpu / 64] &= ~(1ull << (cpu % 64));
}

/* Per-CPU counters, indexed by the CPU a packet was sent to. */
struct cs_cpu_counters {
	__u64 xdp_packets; /* steered (or passed) to this CPU by XDP */
	__u64 xdp_bytes;
	__u64 tc_packets;  /* classified into this CPU's HTB */
	__u64 tc_bytes;
	__u64 cpumap_packets; /* arrived on this CPU through the cpumap */
	__u64 cpumap_bytes;
	__u64 tc_meta_packets; /* of tc_packets: classified from XDP's metadata, no lookup */
};
CS_STATIC_ASSERT(sizeof(struct cs_cpu_counters) == 56, "cs_cpu_counters layout");

/*
 * Per-circuit counters, kept by TC in the array cs_cstats (index: the
 * circuit's; CS_MAX_CIRCUITS x 32 bytes, an array because a hash lookup per
 * packet cost 3x as much here): what the classifier put into the circuit's
 * class in each direction, before its queue (so including what the queue then
 * drops). A circuit's packets are all classified on its own CPU: plain adds,
 * no atomics. The manager zeroes the entry of a circuit it adds or removes.
 */
#define CS_MAX_CIRCUITS (1u << 20)
enum { CS_DOWN = 0, CS_UP = 1 };
struct cs_circuit_stats {
	__u64 bytes[2];   /* [CS_DOWN]: lan-dev egress, [CS_UP]: wan-dev egress */
	__u64 packets[2]; /* segments: a GSO packet counts each of its segments */
};
CS_STATIC_ASSERT(sizeof(struct cs_circuit_stats) == 32, "cs_circuit_stats layout");

/*
 * Round-trip times of a circuit's TCP flows (bpf/rtt.h), per side: a
 * log-scale histogram since the circuit's entry was made, and the same at
 * double the resolution in two time slots of 2^CS_RTT_SLOT_SHIFT ns (4.3 s)
 * for a recent window: the current slot and the one before it.
 */
#define CS_RTT_BUCKETS 40    /* window buckets: [0,32us), then 2 per octave, the last open */
#define CS_RTT_TOTALS 21     /* cumulative buckets: [0,32us), then 1 per octave, the last open */
#define CS_RTT_SLOT_SHIFT 32
enum { CS_SIDE_SUB = 0, CS_SIDE_NET = 1 };
struct cs_rtt {
	__u64 total[CS_RTT_TOTALS];
	__u64 sum_us;
	__u32 slot[2];                 /* which time slot (ns >> CS_RTT_SLOT_SHIFT) win[i] holds */
	__u32 win[2][CS_RTT_BUCKETS];
};
CS_STATIC_ASSERT(sizeof(struct cs_rtt) == 504, "cs_rtt layout");
struct cs_circuit_rtt {
	/* [CS_SIDE_SUB]: shaper -> subscriber -> shaper, the download queue included; [CS_SIDE_NET]: the internet side, the upload queue included */
	struct cs_rtt side[2];
	__u64 retrans[2]; /* [CS_DOWN], [CS_UP]: TCP segments carrying only data already sent */
};

/* Every circuit's samples together, per CPU (cs_rtt_all): what stays when circuits go. */
struct cs_rtt_total {
	__u64 total[2][CS_RTT_TOTALS]; /* [CS_SIDE_*] */
	__u64 sum_us[2];
};

/*
 * The flow table that times TCP segments, per CPU (a circuit's flows all pass
 * its CPU): a power of two of sets (CS_FLOW_SETS unless load --rtt-flows says,
 * fixed when the maps are made) of CS_FLOW_WAYS flows, 32 bytes each, on every
 * possible CPU. A flow direction is keyed by a 64-bit fingerprint of its
 * addresses and ports (0: a free way). A full set gives up the way that times
 * nothing, else the one timing longest.
 */
#define CS_FLOW_SETS 8192          /* 32768 flows: 1 MiB a CPU */
#define CS_FLOW_SETS_MIN 16        /* 64 flows */
#define CS_FLOW_SETS_MAX (1u << 20) /* 4 Mi flows: 128 MiB a CPU */
#define CS_FLOW_WAYS 4
struct cs_flow {
	__u64 key;
	__u64 t_ns;    /* when the segment carrying tsval passed; 0: no sample running */
	__u32 tsval;   /* the TSval being timed, or the last one timed */
	__u32 last;    /* the TSval of the flow's last segment: only a TSval's first segment is timed */
	__u32 seq_end; /* end of the highest data seen: later data that ends before it is a retransmission */
	__u32 pad;
};
struct cs_flow_set {
	struct cs_flow way[CS_FLOW_WAYS];
};
CS_STATIC_ASSERT(sizeof(struct cs_flow_set) == 128, "cs_flow_set layout");
/* A TSval unanswered this long is given up (its echo was lost or skipped). */
#define CS_RTT_MAX_NS 4000000000ull

/* Per-CPU counters of what TC could not classify (each packet counted once, by TC). */
struct cs_misc_counters {
	__u64 unknown;   /* IP packets whose address is in no circuit */
	__u64 non_ip;    /* not IPv4/IPv6, or more VLAN tags than parsed */
	__u64 truncated; /* headers cut short */
	__u64 redirect_err;
};

#endif
