// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cpushaper data path.
 *
 * cs_xdp_steer runs on ingress of both devices and moves each packet through
 * a cpumap to the CPU that owns its circuit. cs_tc_classify runs on clsact
 * egress of both devices and picks the circuit's class in that CPU's HTB, and
 * the TX queue whose HTB it is, so no two CPUs share a qdisc lock.
 *
 * cs_cpumap_arrive runs on the target CPU for every frame the cpumap delivers:
 * what XDP sent to a CPU minus what arrived there is what the cpumap dropped.
 *
 * Direction: on wan-dev ingress and lan-dev egress the subscriber is the
 * destination (download); on lan-dev ingress and wan-dev egress it is the
 * source (upload).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"
#include "rtt.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, struct cs_lpm_key);
	__type(value, struct cs_target);
} cs_lpm SEC(".maps");

/* Hosts (/32, /128) are not in the trie: one hash lookup finds most subscribers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, struct cs_host_key);
	__type(value, struct cs_target);
} cs_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct cs_circuit);
} cs_circuits SEC(".maps");

/* Records of the network's nodes: for later invocations, not the data path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 16);
	__type(key, struct cs_node_key);
	__type(value, struct cs_node);
} cs_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_config);
} cs_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, CS_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cs_cpumap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct cs_cpu_counters);
} cs_cpu_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_misc_counters);
} cs_misc_stats SEC(".maps");

/* per-CPU LRU lists: no lock shared between CPUs, whatever the unknown traffic */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, CS_UNKNOWN_MAX);
	__type(key, struct cs_unknown_key);
	__type(value, struct cs_unknown_val);
} cs_unknown SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CS_XPS_MAX);
	__type(key, struct cs_xps_key);
	__type(value, struct cs_xps_val);
} cs_xps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CS_MAX_CIRCUITS);
	__type(key, __u32);
	__type(value, struct cs_circuit_stats);
} cs_cstats SEC(".maps");

/*
 * HTB majors are not TX queue numbers (src/handles.h): the TX queue + 1 of
 * each HTB major, and the major of each CPU's first HTB; written by the
 * manager with the tree.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 16);
	__type(key, __u32);
	__type(value, __u32);
} cs_queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CS_MAX_CPUS);
	__type(key, __u32);
	__type(value, __u32);
} cs_cpu_htb SEC(".maps");

/* Per-circuit round-trip times: made on a circuit's first sample, deleted by the manager with it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, __u32);
	__type(value, struct cs_circuit_rtt);
} cs_rtt SEC(".maps");

/*
 * The TCP segments being timed, per CPU: fixed memory, no locks (bpf/rtt.h).
 * Its size is set before the maps are made, and cs_flow_mask with it (a
 * program loaded later on the running maps gets the running map's).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct cs_flow_set);
} cs_flows SEC(".maps");
const volatile __u32 cs_flow_mask = CS_FLOW_SETS - 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_rtt_total);
} cs_rtt_all SEC(".maps");

/*
 * What a new cs_rtt entry starts from (too big for the BPF stack): a map of
 * ours, never written, not a global, whose .bss map a program loaded again
 * to repair a hook would not share.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_circuit_rtt);
} cs_rtt_zero SEC(".maps");

static __always_inline struct cs_config *cs_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cs_config, &zero);
}

static __always_inline struct cs_misc_counters *cs_misc(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cs_misc_stats, &zero);
}

static __always_inline void cs_count_parse(int res)
{
	struct cs_misc_counters *m = cs_misc();

	if (!m)
		return;
	if (res == CS_PARSE_TRUNCATED)
		m->truncated++;
	else if (res == CS_PARSE_NON_IP)
		m->non_ip++;
	else
		m->unknown++;
}

/* An address of no circuit: count it, and sample it into the table of unknown addresses. */
static __always_inline void cs_unknown_seen(const struct cs_lpm_key *key, __u32 len, int down)
{
	struct cs_unknown_val *v = bpf_map_lookup_elem(&cs_unknown, key->addr);

	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, len);
		v->down = down;
		return;
	}
	if (bpf_get_prandom_u32() % CS_UNKNOWN_SAMPLE == 0) {
		struct cs_unknown_val nv = { .packets = 1, .bytes = len, .down = down };

		bpf_map_update_elem(&cs_unknown, key->addr, &nv, BPF_NOEXIST);
	}
}

/*
 * Prefixes of different circuits never overlap (the manager refuses them), so
 * a host's exact match is also its longest match.
 */
static __always_inline struct cs_target *cs_lookup(struct cs_lpm_key *key)
{
	struct cs_target *t = bpf_map_lookup_elem(&cs_hosts, key->addr);

	return t ? t : bpf_map_lookup_elem(&cs_lpm, key);
}

/* Leave the result for TC on the egress device; without room for it TC looks up again. */
static __always_inline void cs_meta_put(struct xdp_md *ctx, const struct cs_config *cfg,
					const struct cs_target *t, __u32 cpu, int from_wan)
{
	struct cs_meta *m;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return;
	m->magic = CS_META_MAGIC;
	m->ifindex = from_wan ? cfg->lan_ifindex : cfg->wan_ifindex;
	m->classid = from_wan ? t->classid_down : t->classid_up;
	m->cpu = cpu;
	m->circuit = t->circuit;
	m->pad = 0;
}

/* CPU for traffic of no circuit: the current one if it shapes, else the default. */
static __always_inline __u32 cs_fallback_cpu(const struct cs_config *cfg)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (cfg->unknown_policy == CS_UNKNOWN_CPU || !cs_cpu_on(cfg, cpu))
		cpu = cfg->default_cpu;
	return cpu;
}

#ifdef CS_VLAN_RESTORE
/* Kernel >= 6.8; this object is loaded only for a device whose driver implements it. */
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

/*
 * With RX VLAN offload the tag is outside the frame, and the skb the cpumap
 * builds from the frame alone would not carry it: put it back in the frame.
 * 1 when a tag was pushed, 0 when there was none (or no room).
 */
static __always_inline int cs_vlan_push(struct xdp_md *ctx)
{
	struct cs_vlan_hdr *vh;
	struct ethhdr *eth;
	__be16 proto;
	__u16 tci;

	eth = (void *)(long)ctx->data;
	/* a runt the kernel could not shrink back: leave it as it is */
	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return 0;
	if (bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci))
		return 0;
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*vh)))
		return 0;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) + sizeof(*vh) > (void *)(long)ctx->data_end)
		return 0; /* cannot happen: 4 bytes more than a whole Ethernet header */
	/* the addresses move to the front; the frame's own type stays where it was */
	__builtin_memmove(eth, (void *)eth + sizeof(*vh), 2 * ETH_ALEN);
	vh = (void *)(eth + 1);
	eth->h_proto = proto;
	vh->tci = bpf_htons(tci);
	return 1;
}

/* The redirect did not happen: the driver still holds the tag, so take ours out again. */
static __always_inline void cs_vlan_pop(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) + sizeof(struct cs_vlan_hdr) > (void *)(long)ctx->data_end)
		return;
	__builtin_memmove((void *)eth + sizeof(struct cs_vlan_hdr), eth, 2 * ETH_ALEN);
	bpf_xdp_adjust_head(ctx, (int)sizeof(struct cs_vlan_hdr));
}
#else
static __always_inline int cs_vlan_push(struct xdp_md *ctx)
{
	(void)ctx;
	return 0;
}

static __always_inline void cs_vlan_pop(struct xdp_md *ctx)
{
	(void)ctx;
}
#endif

static __always_inline int cs_steer(struct xdp_md *ctx, int vlan_restore)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct cs_cpu_counters *c;
	struct cs_config *cfg;
	struct cs_target *t;
	struct cs_lpm_key key;
	__u32 cpu, len;
	int res, from_wan;

	cfg = cs_cfg();
	if (!cfg)
		return XDP_PASS;

	from_wan = ctx->ingress_ifindex == cfg->wan_ifindex;
	len = data_end - data;
	res = cs_parse(data, data_end, from_wan, &key);
	t = res == CS_PARSE_OK ? cs_lookup(&key) : NULL;
	if (t) {
		cpu = t->cpu;
		if (cfg->flags & CS_F_META)
			cs_meta_put(ctx, cfg, t, cpu, from_wan);
	} else {
		/*
		 * Never dropped: stays where it is unless told to go to the default
		 * CPU. Not counted here: TC counts it once, where it meets the
		 * default class.
		 */
		if (cfg->unknown_policy != CS_UNKNOWN_CPU)
			return XDP_PASS;
		cpu = cfg->default_cpu;
	}

	c = bpf_map_lookup_elem(&cs_cpu_stats, &cpu);
	if (c) {
		c->xdp_packets++;
		c->xdp_bytes += len;
	}
	if ((cfg->flags & CS_F_SKIP_LOCAL) && cpu == bpf_get_smp_processor_id()) {
		/* already where it belongs: skip the cpumap hop, count it as arrived */
		if (c) {
			c->cpumap_packets++;
			c->cpumap_bytes += len;
		}
		return XDP_PASS;
	}
	vlan_restore = vlan_restore && cs_vlan_push(ctx);
	res = bpf_redirect_map(&cs_cpumap, cpu, XDP_PASS);
	if (res != XDP_REDIRECT) {
		struct cs_misc_counters *m = cs_misc();

		if (vlan_restore)
			cs_vlan_pop(ctx);
		if (m)
			m->redirect_err++;
	}
	return res;
}

/*
 * Built twice: cpushaper.bpf.o for every device, cpushaper_vlan.bpf.o (with
 * CS_VLAN_RESTORE) loaded bound to one device whose driver hands XDP the
 * offloaded VLAN tag. The same name in both: either is ours.
 */
SEC("xdp")
int cs_xdp_steer(struct xdp_md *ctx)
{
#ifdef CS_VLAN_RESTORE
	return cs_steer(ctx, 1);
#else
	return cs_steer(ctx, 0);
#endif
}

/* The round trips of @circuit, made if there are none yet. */
static __always_inline struct cs_circuit_rtt *cs_rtt_of(__u32 circuit)
{
	struct cs_circuit_rtt *r = bpf_map_lookup_elem(&cs_rtt, &circuit);
	__u32 zero = 0;
	void *z;

	if (r)
		return r;
	z = bpf_map_lookup_elem(&cs_rtt_zero, &zero);
	if (!z)
		return NULL;
	bpf_map_update_elem(&cs_rtt, &circuit, z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&cs_rtt, &circuit);
}

/*
 * Time this TCP segment and match the echo it carries (bpf/rtt.h). A segment
 * going down that echoes one sent up measures the internet side; one going
 * up that echoes one sent down, the subscriber side. Both directions of a
 * circuit pass its CPU: the flow table is per CPU.
 */
static __always_inline void cs_tcp_track(struct __sk_buff *skb, __u32 circuit, int dir)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct cs_tcp_seg t;
	struct cs_flow_set *set;
	__u64 now, key, rtt;
	__u32 idx, payload;

	if (cs_parse_tcp(data, data_end, &t))
		return;
	now = bpf_ktime_get_ns();
	payload = skb->len > t.hdr_len ? skb->len - t.hdr_len : 0;

	if (t.tsecr) {
		key = cs_flow_key(t.dst, t.src, t.ports >> 16 | t.ports << 16);
		/* the lookup checks the bound: a mask too wide finds no set, never memory past it */
		idx = cs_flow_set_of(key, cs_flow_mask);
		set = bpf_map_lookup_elem(&cs_flows, &idx);
		rtt = set ? cs_flow_echo(set, key, t.tsecr, now) : 0;
		if (rtt) {
			struct cs_circuit_rtt *r = cs_rtt_of(circuit);
			int side = dir == CS_UP ? CS_SIDE_SUB : CS_SIDE_NET;
			__u32 zero = 0;
			struct cs_rtt_total *all = bpf_map_lookup_elem(&cs_rtt_all, &zero);

			if (r)
				cs_rtt_add(&r->side[side], rtt / 1000, now);
			if (all)
				cs_rtt_total_add(all, side, rtt / 1000);
		}
	}
	if (!payload && !t.syn)
		return; /* a pure ACK is not timed (cs_flow_sent): no lookup */
	key = cs_flow_key(t.src, t.dst, t.ports);
	idx = cs_flow_set_of(key, cs_flow_mask);
	set = bpf_map_lookup_elem(&cs_flows, &idx);
	if (set && cs_flow_sent(set, key, t.tsval, t.seq + payload, payload, (int)t.syn, now)) {
		struct cs_circuit_rtt *r = cs_rtt_of(circuit);

		if (r)
			r->retrans[dir & 1]++;
	}
}

SEC("tc")
int cs_tc_classify(struct __sk_buff *skb)
{
	struct cs_cpu_counters *c;
	struct cs_config *cfg;
	struct cs_target *t = NULL;
	struct cs_lpm_key key;
	void *data, *data_end;
	struct cs_meta *meta;
	struct cs_circuit_stats *st;
	__u32 cpu, classid, circuit = 0, major, *q;
	int use_dst, res, from_meta, known = 1;

	cfg = cs_cfg();
	if (!cfg)
		return TC_ACT_OK;

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	meta = (void *)(long)skb->data_meta;
	from_meta = (void *)(meta + 1) <= data && meta->magic == CS_META_MAGIC &&
		    meta->ifindex == skb->ifindex;
	if (from_meta) {
		cpu = meta->cpu;
		classid = meta->classid;
		circuit = meta->circuit;
		goto out;
	}

	use_dst = skb->ifindex == cfg->lan_ifindex;
	res = cs_parse(data, data_end, use_dst, &key);
	if (res == CS_PARSE_TRUNCATED && skb->len > data_end - data) {
		/* Headers in a paged fragment: pull what the parser can need. */
		__u32 want = sizeof(struct ethhdr) + CS_MAX_VLAN * 4 + sizeof(struct ipv6hdr);

		if (bpf_skb_pull_data(skb, skb->len < want ? skb->len : want) == 0) {
			data = (void *)(long)skb->data;
			data_end = (void *)(long)skb->data_end;
			res = cs_parse(data, data_end, use_dst, &key);
		}
	}
	if (res == CS_PARSE_OK)
		t = cs_lookup(&key);

	if (t) {
		cpu = t->cpu;
		classid = use_dst ? t->classid_down : t->classid_up;
		circuit = t->circuit;
	} else {
		known = 0;
		cs_count_parse(res);
		if (res == CS_PARSE_OK)
			cs_unknown_seen(&key, skb->len, use_dst);
		cpu = cs_fallback_cpu(cfg);
		q = bpf_map_lookup_elem(&cs_cpu_htb, &cpu);
		classid = ((q ? *q : 0) << 16) | CS_DEFAULT_MINOR;
	}
out:
	skb->priority = classid;
	/* Without XPS a recorded queue_mapping of N selects TX queue N - 1: the HTB's own. */
	major = classid >> 16;
	q = bpf_map_lookup_elem(&cs_queues, &major);
	if (q && *q)
		skb->queue_mapping = *q;

	c = bpf_map_lookup_elem(&cs_cpu_stats, &cpu);
	if (c) {
		c->tc_packets++;
		c->tc_bytes += skb->len;
		c->tc_meta_packets += from_meta;
	}
	if (known) {
		int dir = skb->ifindex == cfg->lan_ifindex ? CS_DOWN : CS_UP;

		st = bpf_map_lookup_elem(&cs_cstats, &circuit);
		if (st) {
			st->bytes[dir] += skb->len;
			st->packets[dir] += skb->gso_segs > 1 ? skb->gso_segs : 1;
		}
		if (cfg->flags & CS_F_RTT)
			cs_tcp_track(skb, circuit, dir);
	}
	return TC_ACT_OK;
}

SEC("xdp/cpumap")
int cs_cpumap_arrive(struct xdp_md *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cs_cpu_counters *c = bpf_map_lookup_elem(&cs_cpu_stats, &cpu);

	if (c) {
		c->cpumap_packets++;
		c->cpumap_bytes += ctx->data_end - ctx->data;
	}
	return XDP_PASS;
}
