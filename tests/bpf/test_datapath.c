// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The XDP and TC programs on crafted frames (bpf_prog_test_run_opts): verdict,
 * the CPU a packet is steered to (read from the per-CPU counters) and the
 * class the classifier picks (skb->priority in ctx_out). Needs root.
 *
 * Both programs run with lo as their device (test_run's default), so the
 * config's ifindex fields choose the direction: wan = lo makes XDP key on
 * the destination, lan = lo makes TC key on the destination.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "circuits.h"
#include "datapath.h"
#include "handles.h"
#include "maps.h"
#include "rttstat.h"
#include "test.h"

#define LO 1

static struct cs_maps maps;
static int xdp_fd, tc_fd;

enum dir { DST, SRC };

struct frame {
	uint16_t vlan[4]; /* outer first: ETH_P_8021AD or ETH_P_8021Q per tag */
	int n_vlan;
	int af;
	const char *src, *dst;
	int ext;  /* IPv6: hop-by-hop, routing and fragment headers before TCP */
	int frag; /* IPv4: a non-first fragment (offset 185, MF) */
};

/* Ethernet [+ tags] + IPv4/IPv6 + TCP. Returns the length. */
static size_t build(const struct frame *f, uint8_t *buf)
{
	struct ethhdr eth = { .h_dest = { 2, 0, 0, 0, 0, 1 }, .h_source = { 2, 0, 0, 0, 0, 2 } };
	uint8_t *p = buf + sizeof(eth);
	uint16_t proto = f->af == AF_INET ? ETH_P_IP : f->af == AF_INET6 ? ETH_P_IPV6 : ETH_P_ARP;

	memset(buf, 0, 256);
	eth.h_proto = htons(f->n_vlan ? f->vlan[0] : proto);
	memcpy(buf, &eth, sizeof(eth));
	for (int i = 0; i < f->n_vlan; i++) {
		uint16_t next = i + 1 < f->n_vlan ? f->vlan[i + 1] : proto;

		p[0] = 0;
		p[1] = (uint8_t)(10 + i); /* VLAN id */
		p[2] = (uint8_t)(next >> 8);
		p[3] = (uint8_t)next;
		p += 4;
	}
	/* headers are built in aligned locals and copied: the frame is not 4-aligned */
	if (f->af == AF_INET) {
		struct iphdr ip = { .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_TCP };

		ip.tot_len = htons(sizeof(ip) + sizeof(struct tcphdr));
		if (f->frag)
			ip.frag_off = htons(0x2000 | 185);
		inet_pton(AF_INET, f->src, &ip.saddr);
		inet_pton(AF_INET, f->dst, &ip.daddr);
		memcpy(p, &ip, sizeof(ip));
		p += sizeof(ip);
	} else if (f->af == AF_INET6) {
		struct ipv6hdr ip6 = { .version = 6, .nexthdr = IPPROTO_TCP, .hop_limit = 64 };

		ip6.payload_len = htons(sizeof(struct tcphdr));
		inet_pton(AF_INET6, f->src, &ip6.saddr);
		inet_pton(AF_INET6, f->dst, &ip6.daddr);
		if (f->ext) {
			/* hop-by-hop (8 bytes, PadN) -> routing (8) -> fragment (8) -> TCP */
			uint8_t *x = p + sizeof(ip6);

			ip6.nexthdr = IPPROTO_HOPOPTS;
			x[0] = IPPROTO_ROUTING, x[2] = 1, x[3] = 4;
			x[8] = IPPROTO_FRAGMENT;
			x[16] = IPPROTO_TCP, x[19] = 1;
			ip6.payload_len = htons(24 + sizeof(struct tcphdr));
		}
		memcpy(p, &ip6, sizeof(ip6));
		p += sizeof(ip6) + (f->ext ? 24 : 0);
	} else {
		p += 28; /* an ARP body */
	}
	{
		struct tcphdr tcp = { .doff = 5 };

		memcpy(p, &tcp, sizeof(tcp));
	}
	p += sizeof(struct tcphdr);
	return (size_t)(p - buf);
}

static void set_config(enum dir xdp_dir, enum dir tc_dir, uint32_t policy, uint32_t default_cpu)
{
	struct cs_config cfg = {
		.abi = CS_ABI_VERSION,
		.wan_ifindex = xdp_dir == DST ? LO : 0,
		.lan_ifindex = tc_dir == DST ? LO : 0,
		.unknown_policy = policy,
		.default_cpu = default_cpu,
		.htbs_per_cpu = 1,
		.htb_stride = 2,
	};

	cs_cpu_set(&cfg, 0, 1);
	cs_cpu_set(&cfg, 1, 1);
	maps_config_write(&maps, &cfg);
}

static void add(const char *pfx, bool v4, uint32_t cpu, uint32_t minor, uint32_t circuit)
{
	struct cs_prefix p;
	const char *why;
	uint32_t classid = (handle_major(cpu) << 16) | minor;
	struct cs_target t = { cpu, classid, classid, circuit };

	if (prefix_parse(pfx, v4, &p, &why))
		fprintf(stderr, "fixture %s: %s\n", pfx, why);
	maps_lpm_put(&maps, &p, &t);
}

static uint64_t xdp_count(uint32_t cpu)
{
	struct cs_cpu_counters c = { 0 };

	maps_cpu_counters(&maps, cpu, &c);
	return c.xdp_packets;
}

static uint64_t tc_count(uint32_t cpu)
{
	struct cs_cpu_counters c = { 0 };

	maps_cpu_counters(&maps, cpu, &c);
	return c.tc_packets;
}

/* The CPU whose counter moved since @before, -1 if none. */
static int moved(uint64_t (*count)(uint32_t), const uint64_t before[2])
{
	for (int c = 0; c < 2; c++)
		if (count((uint32_t)c) != before[c])
			return c;
	return -1;
}

static struct cs_misc_counters misc(void)
{
	struct cs_misc_counters m = { 0 };

	maps_misc_counters(&maps, &m);
	return m;
}

/* Run XDP on @len bytes: verdict, or -errno from the kernel; *cpu = where it was counted. */
static int run_xdp(const uint8_t *pkt, size_t len, int *cpu)
{
	uint64_t before[2] = { xdp_count(0), xdp_count(1) };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len, .repeat = 1);

	if (bpf_prog_test_run_opts(xdp_fd, &o))
		return -errno;
	*cpu = moved(xdp_count, before);
	return (int)o.retval;
}

/* Run TC: verdict; *prio = skb->priority out; *cpu = where it was counted. */
static int run_tc(const uint8_t *pkt, size_t len, uint32_t *prio, int *cpu)
{
	struct __sk_buff in = { 0 }, out = { 0 };
	uint64_t before[2] = { tc_count(0), tc_count(1) };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .ctx_in = &in, .ctx_size_in = sizeof(in), .ctx_out = &out,
		    .ctx_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(tc_fd, &o))
		return -errno;
	*prio = out.priority;
	*cpu = moved(tc_count, before);
	return (int)o.retval;
}

#define Q ETH_P_8021Q
#define AD ETH_P_8021AD
/* CPU k's HTB: the k-th major of src/handles.h, 1 and 3 (checked in main) */
#define CLS(cpu, minor) ((((cpu) ? 3u : 1u) << 16) | (minor))

struct row {
	const char *what;
	struct frame f;
	enum dir dir;
	int xdp_verdict, xdp_cpu;
	uint32_t tc_prio;
	int tc_cpu;
};

static const char *CUR = "current CPU"; /* marker only */

static void test_table(void)
{
	/* Unknown traffic under the pass policy: XDP passes it uncounted, TC puts it
	 * in the default class of the CPU the test runs on (checked separately). */
	static const struct row rows[] = {
		{ "IPv4 host, download", { {0}, 0, AF_INET, "198.19.0.2", "198.18.1.10" }, DST,
		  XDP_REDIRECT, 0, CLS(0, 3), 0 },
		{ "IPv4 host, upload", { {0}, 0, AF_INET, "198.18.1.10", "198.19.0.2" }, SRC,
		  XDP_REDIRECT, 0, CLS(0, 3), 0 },
		{ "IPv4 /24 prefix", { {0}, 0, AF_INET, "198.19.0.2", "198.18.2.7" }, DST,
		  XDP_REDIRECT, 1, CLS(1, 3), 1 },
		{ "IPv4 longest prefix wins", { {0}, 0, AF_INET, "198.19.0.2", "198.18.2.200" }, DST,
		  XDP_REDIRECT, 0, CLS(0, 4), 0 },
		{ "IPv6 /64 prefix", { {0}, 0, AF_INET6, "2001:db8:ff::2", "2001:db8:1::abcd" }, DST,
		  XDP_REDIRECT, 1, CLS(1, 4), 1 },
		{ "IPv6 host, upload", { {0}, 0, AF_INET6, "2001:db8:2::5", "2001:db8:ff::2" }, SRC,
		  XDP_REDIRECT, 0, CLS(0, 5), 0 },
		{ "802.1Q IPv4", { {Q}, 1, AF_INET, "198.19.0.2", "198.18.2.9" }, DST,
		  XDP_REDIRECT, 1, CLS(1, 3), 1 },
		{ "802.1Q IPv6", { {Q}, 1, AF_INET6, "2001:db8:ff::2", "2001:db8:2::5" }, DST,
		  XDP_REDIRECT, 0, CLS(0, 5), 0 },
		{ "QinQ 802.1ad+802.1Q IPv4", { {AD, Q}, 2, AF_INET, "198.19.0.2", "198.18.1.10" }, DST,
		  XDP_REDIRECT, 0, CLS(0, 3), 0 },
		{ "QinQ IPv6 upload", { {AD, Q}, 2, AF_INET6, "2001:db8:1::1", "2001:db8:ff::2" }, SRC,
		  XDP_REDIRECT, 1, CLS(1, 4), 1 },
		{ "double 802.1Q", { {Q, Q}, 2, AF_INET, "198.19.0.2", "198.18.1.10" }, DST,
		  XDP_REDIRECT, 0, CLS(0, 3), 0 },
		{ "direction matters: source not looked up on download",
		  { {0}, 0, AF_INET, "198.18.1.10", "198.19.0.2" }, DST, XDP_PASS, -1, 0, -2 },
		{ "unknown IPv4", { {0}, 0, AF_INET, "198.19.0.2", "198.18.9.9" }, DST,
		  XDP_PASS, -1, 0, -2 },
		{ "unknown IPv6", { {0}, 0, AF_INET6, "2001:db8:ff::2", "2001:db8:9::1" }, DST,
		  XDP_PASS, -1, 0, -2 },
		{ "IPv6 with hop-by-hop, routing and fragment headers",
		  { {0}, 0, AF_INET6, "2001:db8:ff::2", "2001:db8:1::7", 1, 0 }, DST,
		  XDP_REDIRECT, 1, CLS(1, 4), 1 },
		{ "QinQ IPv6 with extension headers, upload",
		  { {AD, Q}, 2, AF_INET6, "2001:db8:2::5", "2001:db8:ff::2", 1, 0 }, SRC,
		  XDP_REDIRECT, 0, CLS(0, 5), 0 },
		{ "IPv4 non-first fragment: same circuit as the flow",
		  { {0}, 0, AF_INET, "198.19.0.2", "198.18.2.9", 0, 1 }, DST,
		  XDP_REDIRECT, 1, CLS(1, 3), 1 },
		{ "IPv4 is not IPv6: ::ffff mapping", { {0}, 0, AF_INET6, "2001:db8:ff::2",
		  "::ffff:198.18.1.10" }, DST, XDP_PASS, -1, 0, -2 },
		{ "non-IP (ARP)", { {0}, 0, 0, NULL, NULL }, DST, XDP_PASS, -1, 0, -2 },
		{ "three tags: beyond the parse limit", { {AD, Q, Q}, 3, AF_INET, "198.19.0.2",
		  "198.18.1.10" }, DST, XDP_PASS, -1, 0, -2 },
	};
	uint8_t pkt[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		size_t len = build(&r->f, pkt);
		uint32_t prio;
		int cpu, v;

		set_config(r->dir, r->dir, CS_UNKNOWN_PASS, 0);
		v = run_xdp(pkt, len, &cpu);
		CHECK(v == r->xdp_verdict && cpu == r->xdp_cpu, "%s: XDP verdict %d cpu %d, want %d cpu %d",
		      r->what, v, cpu, r->xdp_verdict, r->xdp_cpu);
		v = run_tc(pkt, len, &prio, &cpu);
		if (r->tc_cpu >= 0) {
			CHECK(v == TC_ACT_OK && prio == r->tc_prio && cpu == r->tc_cpu,
			      "%s: TC verdict %d class %x:%x cpu %d, want OK %x:%x cpu %d", r->what, v,
			      prio >> 16, prio & 0xffff, cpu, r->tc_prio >> 16, r->tc_prio & 0xffff,
			      r->tc_cpu);
		} else {
			/* default class :2 of whichever enabled CPU ran it */
			CHECK(v == TC_ACT_OK && cpu >= 0 && prio == (uint32_t)CLS(cpu, 2),
			      "%s (%s): TC verdict %d class %x:%x cpu %d, want OK and default class",
			      r->what, CUR, v, prio >> 16, prio & 0xffff, cpu);
		}
	}
}

static void test_unknown_policy(void)
{
	struct frame f = { {0}, 0, AF_INET, "198.19.0.2", "198.18.9.9" };
	uint8_t pkt[256];
	size_t len = build(&f, pkt);
	uint64_t unknown = misc().unknown;
	uint32_t prio;
	int cpu, v;

	set_config(DST, DST, CS_UNKNOWN_CPU, 1);
	v = run_xdp(pkt, len, &cpu);
	ASSERT_TRUE(v == XDP_REDIRECT && cpu == 1, "policy cpu:1 steers unknown traffic to CPU 1");
	ASSERT_EQ(misc().unknown - unknown, 0, "XDP does not count an unknown packet");
	v = run_tc(pkt, len, &prio, &cpu);
	ASSERT_TRUE(v == TC_ACT_OK && prio == (uint32_t)CLS(1, 2) && cpu == 1,
		    "policy cpu:1 classifies unknown traffic into CPU 1's default class (3:2)");
	ASSERT_EQ(misc().unknown - unknown, 1, "an unknown packet is counted once (by TC)");
}

static void test_empty_cpumap_slot(void)
{
	struct frame f = { {0}, 0, AF_INET, "198.19.0.2", "198.18.3.3" };
	uint8_t pkt[256];
	size_t len = build(&f, pkt);
	uint64_t errs = misc().redirect_err;
	int cpu, v;

	add("198.18.3.3", true, 7, 3, 9); /* CPU 7 has no cpumap entry */
	set_config(DST, DST, CS_UNKNOWN_PASS, 0);
	v = run_xdp(pkt, len, &cpu);
	ASSERT_EQ(v, XDP_PASS, "a CPU without a cpumap entry: passed, not dropped");
	ASSERT_EQ(misc().redirect_err - errs, 1, "and counted as a redirect error");
}

/* Every truncation of a QinQ + IPv6 + TCP frame: never dropped, never out of bounds. */
static void test_truncated(void)
{
	struct frame f = { {AD, Q}, 2, AF_INET6, "2001:db8:ff::2", "2001:db8:1::1" };
	uint8_t pkt[256];
	size_t full = build(&f, pkt);
	size_t hdr = 14 + 8 + 40;
	int bad = 0, ran = 0;

	set_config(DST, DST, CS_UNKNOWN_PASS, 0);
	for (size_t len = 0; len < full; len++) {
		struct cs_misc_counters before = misc();
		uint32_t prio;
		int cpu, v = run_xdp(pkt, len, &cpu);

		if (v == -EINVAL)
			continue; /* below what test_run accepts (an Ethernet header) */
		ran++;
		if (len < hdr) {
			bad += v != XDP_PASS || cpu != -1;
			bad += misc().truncated - before.truncated != 0; /* TC counts it */
		} else {
			bad += v != XDP_REDIRECT || cpu != 1; /* headers complete, TCP cut: fine */
		}
		before = misc();
		v = run_tc(pkt, len, &prio, &cpu);
		if (v == -EINVAL)
			continue;
		if (len < hdr)
			bad += v != TC_ACT_OK || prio != (uint32_t)CLS(cpu, 2) ||
			       misc().truncated - before.truncated != 1;
		else
			bad += v != TC_ACT_OK || prio != (uint32_t)CLS(1, 4);
	}
	ASSERT_TRUE(ran >= (int)(full - 14), "test_run accepted every length from 14 bytes");
	ASSERT_EQ(bad, 0, "every truncation passed, counted, and classified by default");
}

static void test_bogus_ihl(void)
{
	struct frame f = { {0}, 0, AF_INET, "198.19.0.2", "198.18.1.10" };
	uint8_t pkt[256];
	size_t len = build(&f, pkt);
	uint64_t non_ip = misc().non_ip;
	int cpu;

	set_config(DST, DST, CS_UNKNOWN_PASS, 0);
	pkt[14] = 0x43; /* version 4, IHL 3 */
	ASSERT_EQ(run_xdp(pkt, len, &cpu), XDP_PASS, "bogus IHL passed");
	ASSERT_EQ(misc().non_ip - non_ip, 0, "bogus IHL: not counted by XDP");
	{
		uint32_t prio;

		ASSERT_EQ(run_tc(pkt, len, &prio, &cpu), TC_ACT_OK, "bogus IHL: TC passes it");
		ASSERT_EQ(misc().non_ip - non_ip, 1, "bogus IHL counted once as not IP (by TC)");
	}
}

/* With CS_F_SKIP_LOCAL a packet already on its circuit's CPU skips the cpumap. */
static void test_skip_local(void)
{
	struct frame on0 = { {0}, 0, AF_INET, "198.19.0.2", "198.18.1.10" };
	struct frame on1 = { {0}, 0, AF_INET, "198.19.0.2", "198.18.2.7" };
	struct cs_config cfg = { .abi = CS_ABI_VERSION, .wan_ifindex = LO, .lan_ifindex = LO,
				 .flags = CS_F_SKIP_LOCAL };
	cpu_set_t only0, saved;
	uint8_t pkt[256];
	int cpu, v;

	cs_cpu_set(&cfg, 0, 1);
	cs_cpu_set(&cfg, 1, 1);
	maps_config_write(&maps, &cfg);
	sched_getaffinity(0, sizeof(saved), &saved);
	CPU_ZERO(&only0);
	CPU_SET(0, &only0);
	if (sched_setaffinity(0, sizeof(only0), &only0)) {
		CHECK(0, "cannot pin the test to CPU 0");
		return;
	}
	v = run_xdp(pkt, build(&on0, pkt), &cpu);
	ASSERT_TRUE(v == XDP_PASS && cpu == 0, "skip-local: a packet for CPU 0 on CPU 0 is passed");
	v = run_xdp(pkt, build(&on1, pkt), &cpu);
	ASSERT_TRUE(v == XDP_REDIRECT && cpu == 1, "skip-local: a packet for CPU 1 still goes through the cpumap");
	sched_setaffinity(0, sizeof(saved), &saved);
}

/* Run XDP with a context: the length of the metadata it left, copied to *m; -errno. */
static int run_xdp_meta(const uint8_t *pkt, size_t len, struct cs_meta *m, uint8_t *out,
			size_t *out_len)
{
	struct xdp_md in = { .data_end = (uint32_t)len }, ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = 512, .ctx_in = &in, .ctx_size_in = sizeof(in),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(xdp_fd, &o))
		return -errno;
	memset(m, 0, sizeof(*m));
	if (ctx.data >= sizeof(*m))
		memcpy(m, out, sizeof(*m));
	*out_len = o.data_size_out;
	return (int)ctx.data;
}

/* XDP leaves its result in front of the packet for TC on the egress device. */
static void test_meta(void)
{
	struct frame down = { {0}, 0, AF_INET, "198.19.0.2", "198.18.1.10" };
	struct frame up = { {0}, 0, AF_INET6, "2001:db8:2::5", "2001:db8:ff::2" };
	struct frame unknown = { {0}, 0, AF_INET, "198.19.0.2", "198.18.9.9" };
	struct cs_config cfg = { .abi = CS_ABI_VERSION, .wan_ifindex = LO, .lan_ifindex = 7,
				 .flags = CS_F_META };
	uint8_t pkt[256], out[512];
	struct cs_meta m;
	size_t len, out_len;

	cs_cpu_set(&cfg, 0, 1);
	cs_cpu_set(&cfg, 1, 1);
	maps_config_write(&maps, &cfg);
	len = build(&down, pkt);
	ASSERT_EQ(run_xdp_meta(pkt, len, &m, out, &out_len), sizeof(m),
		  "download: XDP put a cs_meta in front of the packet");
	ASSERT_EQ(m.magic, CS_META_MAGIC, "download: magic");
	ASSERT_EQ(m.ifindex, 7, "download: for lan-dev egress");
	ASSERT_EQ(m.classid, CLS(0, 3), "download: the circuit's class");
	ASSERT_EQ(m.cpu, 0, "download: the circuit's CPU");
	ASSERT_EQ(m.circuit, 1, "download: the circuit's index, for TC's counters");
	ASSERT_EQ(out_len, len + sizeof(m), "the packet follows the metadata");
	ASSERT_TRUE(!memcmp(out + sizeof(m), pkt, len), "the packet itself is untouched");

	/* upload: keyed on the source, for wan-dev egress */
	cfg.wan_ifindex = 7, cfg.lan_ifindex = 9;
	maps_config_write(&maps, &cfg);
	len = build(&up, pkt);
	ASSERT_EQ(run_xdp_meta(pkt, len, &m, out, &out_len), sizeof(m), "upload: metadata too");
	ASSERT_TRUE(m.ifindex == 7 && m.classid == CLS(0, 5) && m.cpu == 0,
		    "upload: metadata names wan-dev and the circuit's class");

	/* no circuit, or the flag off: no metadata */
	len = build(&unknown, pkt);
	ASSERT_EQ(run_xdp_meta(pkt, len, &m, out, &out_len), 0, "unknown address: no metadata");
	cfg.flags = 0;
	maps_config_write(&maps, &cfg);
	len = build(&up, pkt);
	ASSERT_EQ(run_xdp_meta(pkt, len, &m, out, &out_len), 0, "CS_F_META off: no metadata");
}

/* A TCP segment with the timestamp option: Ethernet + IPv4/IPv6 + TCP (NOP NOP TS) + payload. */
struct seg {
	int af;
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, tsval, tsecr;
	uint16_t payload;
	int ts_late; /* the timestamp after a window-scale and SACK-permitted option: the walk */
	int syn;     /* a SYN (with ack: a SYN-ACK) */
};

static size_t build_seg(const struct seg *g, uint8_t *buf)
{
	struct ethhdr eth = { .h_dest = { 2, 0, 0, 0, 0, 1 }, .h_source = { 2, 0, 0, 0, 0, 2 } };
	uint8_t opts[20] = { 0 }, *p = buf + sizeof(eth);
	size_t olen = g->ts_late ? 20 : 12, l4 = sizeof(struct tcphdr) + olen + g->payload;
	struct tcphdr tcp = { .doff = (uint16_t)((sizeof(tcp) + olen) / 4), .ack = !g->syn || g->tsecr,
			      .syn = !!g->syn };
	uint8_t *ts;

	memset(buf, 0, 1600);
	eth.h_proto = htons(g->af == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	memcpy(buf, &eth, sizeof(eth));
	if (g->af == AF_INET) {
		struct iphdr ip = { .version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_TCP };

		ip.tot_len = htons((uint16_t)(sizeof(ip) + l4));
		inet_pton(AF_INET, g->src, &ip.saddr);
		inet_pton(AF_INET, g->dst, &ip.daddr);
		memcpy(p, &ip, sizeof(ip));
		p += sizeof(ip);
	} else {
		struct ipv6hdr ip6 = { .version = 6, .nexthdr = IPPROTO_TCP, .hop_limit = 64 };

		ip6.payload_len = htons((uint16_t)l4);
		inet_pton(AF_INET6, g->src, &ip6.saddr);
		inet_pton(AF_INET6, g->dst, &ip6.daddr);
		memcpy(p, &ip6, sizeof(ip6));
		p += sizeof(ip6);
	}
	tcp.source = htons(g->sport);
	tcp.dest = htons(g->dport);
	tcp.seq = htonl(g->seq);
	memcpy(p, &tcp, sizeof(tcp));
	p += sizeof(tcp);
	if (g->ts_late) {
		/* MSS 4, window scale 3, SACK-permitted 2, NOP, TS 10, NOP */
		memcpy(opts, "\x02\x04\x05\xb4\x03\x03\x07\x04\x02\x01", 10);
		ts = opts + 10;
	} else {
		opts[0] = opts[1] = 1;
		ts = opts + 2;
	}
	ts[0] = 8, ts[1] = 10;
	for (int i = 0; i < 4; i++) {
		ts[2 + i] = (uint8_t)(g->tsval >> (24 - 8 * i));
		ts[6 + i] = (uint8_t)(g->tsecr >> (24 - 8 * i));
	}
	memcpy(p, opts, olen);
	p += olen + g->payload;
	return (size_t)(p - buf);
}

/* Direction by config: down = the segment leaves on lan-dev (lo). */
static void dir_config(bool down, uint32_t flags)
{
	struct cs_config cfg = { .abi = CS_ABI_VERSION, .wan_ifindex = down ? 0 : LO,
				 .lan_ifindex = down ? LO : 0, .flags = flags };

	cs_cpu_set(&cfg, 0, 1);
	cs_cpu_set(&cfg, 1, 1);
	maps_config_write(&maps, &cfg);
}

static void run_seg(const struct seg *g, bool down, uint32_t flags, uint32_t gso_segs)
{
	static uint8_t pkt[1600];
	struct __sk_buff in = { .gso_segs = gso_segs };
	size_t len = build_seg(g, pkt);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .ctx_in = &in, .ctx_size_in = sizeof(in), .repeat = 1);

	dir_config(down, flags);
	if (bpf_prog_test_run_opts(tc_fd, &o))
		fprintf(stderr, "test_run: %s\n", strerror(errno));
}

static double rtt_ms(uint32_t circuit, int side, uint64_t *samples)
{
	struct cs_circuit_rtt r;
	struct rtt_window w;

	maps_rtt_get(&maps, circuit, &r);
	rtt_window(&r.side[side], rtt_now_ns(), &w);
	*samples = w.samples;
	return rtt_quantile_ms(&w, 0.5);
}

/*
 * Counters per circuit and direction, and round trips: a segment down timed
 * at lan-dev egress, its echo going up 20 ms later (the subscriber side);
 * one sent up, echoed down (the internet side). Run on one CPU: the flow
 * table is per CPU, as a circuit's traffic is in the shaper.
 */
static void test_rtt(void)
{
	/* circuit 1: 198.18.1.10 on CPU 0; circuit 4: 2001:db8:1::/64 */
	struct seg down = { AF_INET, "198.19.0.2", "198.18.1.10", 443, 40000, 1000, 7000, 0, 1400 };
	struct seg ack = { AF_INET, "198.18.1.10", "198.19.0.2", 40000, 443, 1, 900, 7000, 0 };
	struct seg up6 = { AF_INET6, "2001:db8:1::7", "2001:db8:ff::2", 5000, 80, 1, 50, 0, 100, 1 };
	struct seg back6 = { AF_INET6, "2001:db8:ff::2", "2001:db8:1::7", 80, 5000, 9, 60, 50, 0, 1 };
	struct cs_circuit_stats st0, st;
	struct cs_circuit_rtt r0, r;
	uint64_t n;
	double ms;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);

	maps_cstats_get(&maps, 1, &st0);
	maps_rtt_get(&maps, 1, &r0);
	run_seg(&down, true, CS_F_RTT, 0);
	usleep(20000);
	run_seg(&ack, false, CS_F_RTT, 0);
	ms = rtt_ms(1, CS_SIDE_SUB, &n);
	ASSERT_EQ(n, 1, "one subscriber-side sample from the echo going up");
	CHECK(ms >= 16 && ms < 40, "subscriber side: %g ms for a 20 ms echo", ms);
	ms = rtt_ms(1, CS_SIDE_NET, &n);
	ASSERT_EQ(n, 0, "no internet-side sample yet");

	maps_cstats_get(&maps, 1, &st);
	ASSERT_EQ(st.packets[CS_DOWN] - st0.packets[CS_DOWN], 1, "one packet down counted for circuit 1");
	ASSERT_EQ(st.bytes[CS_DOWN] - st0.bytes[CS_DOWN], 14 + 20 + 32 + 1400, "its bytes");
	ASSERT_EQ(st.packets[CS_UP] - st0.packets[CS_UP], 1, "one packet up");

	/* the same data again: a retransmission; a GSO packet counts its segments */
	run_seg(&down, true, CS_F_RTT, 0);
	maps_rtt_get(&maps, 1, &r);
	ASSERT_EQ(r.retrans[CS_DOWN] - r0.retrans[CS_DOWN], 1, "the resent segment is counted");
	down.seq += 1400;
	run_seg(&down, true, CS_F_RTT, 3);
	maps_cstats_get(&maps, 1, &st);
	maps_rtt_get(&maps, 1, &r);
	ASSERT_EQ(r.retrans[CS_DOWN] - r0.retrans[CS_DOWN], 1, "new data is no retransmission");
	ASSERT_EQ(st.packets[CS_DOWN] - st0.packets[CS_DOWN], 2 + 3, "a GSO packet of 3 segments counts 3");

	/* IPv6, timestamp behind other options: the internet side */
	run_seg(&up6, false, CS_F_RTT, 0);
	usleep(10000);
	run_seg(&back6, true, CS_F_RTT, 0);
	ms = rtt_ms(4, CS_SIDE_NET, &n);
	ASSERT_EQ(n, 1, "IPv6: one internet-side sample from the echo going down");
	CHECK(ms >= 8 && ms < 25, "internet side: %g ms for a 10 ms echo", ms);

	/* tracking off: counters still, no samples */
	ack.tsval = 950;
	down.tsval = 1100;
	down.seq += 1400;
	run_seg(&down, true, 0, 0);
	usleep(5000);
	ack.tsecr = 1100;
	run_seg(&ack, false, 0, 0);
	rtt_ms(1, CS_SIDE_SUB, &n);
	ASSERT_EQ(n, 1, "without CS_F_RTT nothing is timed");
	maps_cstats_get(&maps, 1, &st);
	ASSERT_EQ(st.packets[CS_DOWN] - st0.packets[CS_DOWN], 6, "but packets are counted");

	/* a circuit whose record is put anew at its index starts from zero */
	{
		struct circuit c = { .index = 1, .cpu = 0, .minor = 3, .major = 1 };

		snprintf(c.id, sizeof(c.id), "new-at-1");
		ASSERT_EQ(maps_circuit_put(&maps, &c), 0, "a new circuit at index 1");
		maps_cstats_get(&maps, 1, &st);
		ASSERT_EQ(st.packets[CS_DOWN] + st.packets[CS_UP], 0, "its counters start at 0");
		ASSERT_EQ(maps_rtt_get(&maps, 1, &r), 0, "its round trips are gone");
		run_seg(&down, true, 0, 0);
		maps_cstats_get(&maps, 1, &st);
		ASSERT_EQ(st.packets[CS_DOWN], 1, "TC counts its first packet");
		ASSERT_EQ(maps_circuit_put(&maps, &c), 0, "the same circuit put again (a rate change)");
		maps_cstats_get(&maps, 1, &st);
		ASSERT_EQ(st.packets[CS_DOWN], 1, "keeps its counters");
		ASSERT_EQ(maps_circuit_del(&maps, 1), 0, "circuit removed");
		maps_cstats_get(&maps, 1, &st);
		ASSERT_EQ(st.packets[CS_DOWN], 0, "and its counters with it");
	}
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CPU_SET(1, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

/*
 * A download that waits for its application: the subscriber's pure ACK is
 * echoed by the server's next data 30 ms later. That wait is no round trip:
 * pure ACKs are not timed (ePPing's rule). The subscriber's own data and the
 * handshake still give internet-side samples.
 */
static void test_pure_ack(void)
{
	struct seg data = { AF_INET, "198.19.0.2", "198.18.1.10", 443, 41000, 5000, 2000, 0, 1400 };
	struct seg ack = { AF_INET, "198.18.1.10", "198.19.0.2", 41000, 443, 77, 3000, 2000, 0 };
	struct seg syn = { AF_INET, "198.18.1.10", "198.19.0.2", 41001, 443, 9, 4000, 0, 0, 0, 1 };
	struct seg synack = { AF_INET, "198.19.0.2", "198.18.1.10", 443, 41001, 90, 2100, 4000, 0, 0, 1 };
	uint64_t sub0, net0, n;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	rtt_ms(1, CS_SIDE_SUB, &sub0);
	rtt_ms(1, CS_SIDE_NET, &net0);
	run_seg(&data, true, CS_F_RTT, 0);
	usleep(5000);
	run_seg(&ack, false, CS_F_RTT, 0);   /* echoes 2000: a subscriber-side sample */
	usleep(30000);
	data.seq += 1400, data.tsval = 2035, data.tsecr = 3000;
	run_seg(&data, true, CS_F_RTT, 0);   /* echoes the pure ACK's 3000, 30 ms on */
	rtt_ms(1, CS_SIDE_SUB, &n);
	ASSERT_EQ(n - sub0, 1, "the server's data, echoed by the subscriber's ACK: one subscriber-side sample");
	rtt_ms(1, CS_SIDE_NET, &n);
	ASSERT_EQ(n - net0, 0, "the server's echo of a pure ACK: no internet-side sample");

	/* the subscriber's data is timed; so is its SYN, answered by the SYN-ACK */
	ack.seq += 1, ack.tsval = 3040, ack.tsecr = 2035, ack.payload = 200;
	run_seg(&ack, false, CS_F_RTT, 0);
	usleep(8000);
	data.seq += 1400, data.tsval = 2050, data.tsecr = 3040;
	run_seg(&data, true, CS_F_RTT, 0);
	rtt_ms(1, CS_SIDE_NET, &n);
	ASSERT_EQ(n - net0, 1, "the subscriber's data, echoed: one internet-side sample");
	run_seg(&syn, false, CS_F_RTT, 0);
	usleep(3000);
	run_seg(&synack, true, CS_F_RTT, 0);
	rtt_ms(1, CS_SIDE_NET, &n);
	ASSERT_EQ(n - net0, 2, "a SYN answered by its SYN-ACK: another");
	CPU_SET(1, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

/*
 * load --rtt-flows 64: an object whose flow table has 16 sets. The program
 * masks with the table's size: 64 flows, each echoed right after its
 * segment, are all timed, and they use every set and no other.
 */
static void test_small_table(void)
{
	struct cs_maps saved = maps, m;
	int saved_tc = tc_fd, ncpu = libbpf_num_possible_cpus(), used = 0;
	struct cs_flow_set *per_cpu = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*per_cpu));
	struct cpushaper *skel;
	cpu_set_t one;
	uint64_t n;

	if (!per_cpu || dp_load_sized(NULL, 16, &skel, &m)) {
		ASSERT_TRUE(false, "load an object with a flow table of 16 sets");
		free(per_cpu);
		return;
	}
	ASSERT_EQ(maps_flow_sets(&m), 16, "the table has 16 sets (64 flows)");
	maps = m;
	tc_fd = dp_tc_fd(skel);
	add("198.18.1.10", true, 0, 3, 1);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	for (uint16_t i = 0; i < 64; i++) {
		struct seg down = { AF_INET, "198.19.0.2", "198.18.1.10", 443, (uint16_t)(20000 + i), 1000,
				    7000u + i, 0, 1400 };
		struct seg ack = { AF_INET, "198.18.1.10", "198.19.0.2", (uint16_t)(20000 + i), 443, 1, 900,
				   7000u + i, 0 };

		run_seg(&down, true, CS_F_RTT, 0);
		run_seg(&ack, false, CS_F_RTT, 0);
	}
	rtt_ms(1, CS_SIDE_SUB, &n);
	ASSERT_EQ(n, 64, "a table of 16 sets: every one of 64 flows timed");
	for (__u32 k = 0; k < 16; k++) {
		bool any = false;

		if (bpf_map_lookup_elem(m.flows, &k, per_cpu))
			continue;
		for (int w = 0; w < CS_FLOW_WAYS; w++)
			any |= per_cpu[0].way[w].key != 0; /* CPU 0's: the test ran there */
		used += any;
	}
	ASSERT_EQ(used, 16, "the flows are spread over all 16 sets");
	{
		__u32 k = 16;

		ASSERT_TRUE(bpf_map_lookup_elem(m.flows, &k, per_cpu) != 0, "and there is no 17th");
	}
	CPU_SET(1, &one);
	sched_setaffinity(0, sizeof(one), &one);
	maps = saved;
	tc_fd = saved_tc;
	maps_close(&m);
	dp_unload(skel);
	free(per_cpu);
}

/* A host entry lives in the hash, a prefix in the trie: each is found, and removed. */
static void test_host_hash(void)
{
	struct frame f = { {0}, 0, AF_INET6, "2001:db8:ff::2", "2001:db8:3::9" };
	struct cs_target t = { 1, CLS(1, 9), CLS(1, 9), 9 };
	struct cs_prefix host, net;
	const char *why;
	uint8_t pkt[256];
	uint32_t prio;
	int cpu;

	set_config(DST, DST, CS_UNKNOWN_PASS, 0);
	prefix_parse("2001:db8:3::9", false, &host, &why);
	prefix_parse("2001:db8:3::/64", false, &net, &why);
	ASSERT_EQ(maps_lpm_put(&maps, &host, &t), 0, "host entry added");
	ASSERT_TRUE(bpf_map_lookup_elem(maps.hosts, host.addr, &t) == 0, "a /128 is in the hosts hash");
	run_tc(pkt, build(&f, pkt), &prio, &cpu);
	ASSERT_EQ(prio, CLS(1, 9), "host found by TC");
	ASSERT_EQ(maps_lpm_del(&maps, &host), 0, "host entry removed");
	run_tc(pkt, build(&f, pkt), &prio, &cpu);
	ASSERT_EQ(prio, CLS(0, CS_DEFAULT_MINOR), "removed host: default class");
	t.classid_down = CLS(1, 10);
	ASSERT_EQ(maps_lpm_put(&maps, &net, &t), 0, "prefix entry added");
	ASSERT_TRUE(bpf_map_lookup_elem(maps.hosts, net.addr, &t) != 0, "a /64 is not in the hosts hash");
	run_tc(pkt, build(&f, pkt), &prio, &cpu);
	ASSERT_EQ(prio, CLS(1, 10), "prefix found by TC through the trie");
	maps_lpm_del(&maps, &net);
}

static __u32 fd_id(int fd, bool prog)
{
	struct bpf_prog_info pi = { 0 };
	struct bpf_map_info mi = { 0 };
	__u32 len = prog ? sizeof(pi) : sizeof(mi);

	if (bpf_obj_get_info_by_fd(fd, prog ? (void *)&pi : (void *)&mi, &len))
		return 0;
	return prog ? pi.id : mi.id;
}

/* Is the object @id gone? The kernel frees after an RCU grace period: wait up to 5 s. */
static bool freed(__u32 id, bool prog)
{
	for (int i = 0; i < 500; i++) {
		int fd = prog ? bpf_prog_get_fd_by_id(id) : bpf_map_get_fd_by_id(id);

		if (fd < 0 && errno == ENOENT)
			return true;
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return false;
}

/*
 * The leak of cpushaper <= 0.7: the cpumap's entries hold the arrival program,
 * and that program was bound to the cpumap, so closing every fd freed neither.
 * Now nothing is bound to the arrival program; maps_cpumap_clear also breaks a
 * cycle an older version left.
 */
static void test_no_cycle(bool old_binding)
{
	bool cpus[CS_MAX_CPUS] = { [0] = true }; /* one CPU: also on a 1-CPU runner */
	struct cpushaper *skel;
	struct cs_maps m;
	__u32 map_id, prog_id;
	const char *what = old_binding ? "with the old binding, after clearing" : "as loaded now";
	char msg[128];

	if (dp_load(NULL, &skel, &m)) {
		ASSERT_TRUE(false, "load a second object");
		return;
	}
	if (old_binding)
		ASSERT_EQ(bpf_prog_bind_map(dp_cpumap_fd(skel), m.cpumap, NULL), 0,
			  "bind the cpumap to the arrival program, as <= 0.7 did");
	ASSERT_EQ(maps_cpumap_sync(&m, cpus, 64, dp_cpumap_fd(skel)), 0, "populate the cpumap");
	map_id = fd_id(m.cpumap, false);
	prog_id = fd_id(dp_cpumap_fd(skel), true);
	if (old_binding)
		ASSERT_EQ(maps_cpumap_clear(m.cpumap), 0, "empty the cpumap");
	maps_close(&m);
	dp_unload(skel);
	snprintf(msg, sizeof(msg), "cpumap freed once every fd is closed (%s)", what);
	ASSERT_TRUE(map_id && freed(map_id, false), msg);
	snprintf(msg, sizeof(msg), "arrival program freed once every fd is closed (%s)", what);
	ASSERT_TRUE(prog_id && freed(prog_id, true), msg);
}

int main(void)
{
	struct cpushaper *skel;
	bool cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };
	int err;

	ASSERT_TRUE(CLS(0, 0) == handle_major(0) << 16 && CLS(1, 0) == handle_major(1) << 16,
		    "CLS names the HTBs of CPUs 0 and 1");
	err = dp_load(NULL, &skel, &maps);
	if (err) {
		fprintf(stderr, "cannot load the BPF object: %s (root needed)\n", strerror(-err));
		return 1;
	}
	xdp_fd = dp_xdp_fd(skel);
	tc_fd = dp_tc_fd(skel);
	ASSERT_EQ(maps_cpumap_sync(&maps, cpus, 64, dp_cpumap_fd(skel)), 0, "cpumap entries for CPUs 0 and 1");

	add("198.18.1.10", true, 0, 3, 1);
	add("198.18.2.0/24", true, 1, 3, 2);
	add("198.18.2.128/25", true, 0, 4, 3);
	add("2001:db8:1::/64", false, 1, 4, 4);
	add("2001:db8:2::5", false, 0, 5, 5);

	test_table();
	test_unknown_policy();
	test_empty_cpumap_slot();
	test_truncated();
	test_bogus_ihl();
	test_skip_local();
	test_meta();
	test_host_hash();
	test_rtt();
	test_pure_ack();
	test_small_table();
	test_no_cycle(false);
	test_no_cycle(true);

	maps_close(&maps);
	dp_unload(skel);
	return test_done("bpf datapath");
}
