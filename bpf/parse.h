/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Header parsing shared by the XDP and TC programs: frame -> LPM key. */
#ifndef CS_PARSE_H
#define CS_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "cpushaper.h"

enum cs_parse_result {
	CS_PARSE_OK = 0,
	CS_PARSE_NON_IP,    /* not IP, bogus IP header, or too many VLAN tags */
	CS_PARSE_TRUNCATED, /* a header runs past data_end */
};

struct cs_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/*
 * Fill @key with the source or destination address of the frame at
 * [data, data_end). IPv6 extension headers need no walking: both addresses
 * sit in the fixed header.
 */
/* The L3 header after Ethernet and up to CS_MAX_VLAN tags, its type in *@proto; NULL if cut short. */
static __always_inline void *cs_l3(void *data, void *data_end, __be16 *proto)
{
	struct ethhdr *eth = data;
	void *p;
	int i;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	*proto = eth->h_proto;
	p = eth + 1;
#pragma unroll
	for (i = 0; i < CS_MAX_VLAN; i++) {
		struct cs_vlan_hdr *vh = p;

		if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return NULL;
		*proto = vh->encap_proto;
		p = vh + 1;
	}
	return p;
}

static __always_inline int cs_parse(void *data, void *data_end, int use_dst,
				    struct cs_lpm_key *key)
{
	__be16 proto;
	void *p = cs_l3(data, data_end, &proto);

	if (!p)
		return CS_PARSE_TRUNCATED;

	key->prefixlen = 128;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = p;
		__u32 *a = (__u32 *)key->addr;

		if ((void *)(ip + 1) > data_end)
			return CS_PARSE_TRUNCATED;
		if (ip->version != 4 || ip->ihl < 5)
			return CS_PARSE_NON_IP;
		a[0] = 0;
		a[1] = 0;
		a[2] = bpf_htonl(0xffff);
		a[3] = use_dst ? ip->daddr : ip->saddr;
		return CS_PARSE_OK;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = p;
		__u32 *a;

		if ((void *)(ip6 + 1) > data_end)
			return CS_PARSE_TRUNCATED;
		if (ip6->version != 6)
			return CS_PARSE_NON_IP;
		__builtin_memcpy(key->addr, use_dst ? &ip6->daddr : &ip6->saddr, 16);
		/* ::ffff:a.b.c.d is where IPv4 keys live; on the wire it is bogus (RFC 4291). */
		a = (__u32 *)key->addr;
		if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff))
			return CS_PARSE_NON_IP;
		return CS_PARSE_OK;
	}
	return CS_PARSE_NON_IP;
}

/* What RTT tracking needs of a TCP segment with the timestamp option. */
struct cs_tcp_seg {
	__u32 src[4], dst[4]; /* IPv4: the address in [0] */
	__u32 ports;          /* source port << 16 | destination port, host order */
	__u32 seq, tsval, tsecr;
	__u32 hdr_len;        /* of everything up to the TCP payload */
	__u32 syn;            /* a SYN (or SYN-ACK): no payload, but timed */
};

/*
 * Fill @t from a TCP segment over IPv4 (no fragment) or IPv6 (TCP right after
 * the fixed header: extension headers are rare on TCP). 0, or -1 when the
 * frame is something else or has no timestamp option.
 */
static __always_inline int cs_parse_tcp(void *data, void *data_end, struct cs_tcp_seg *t)
{
	struct tcphdr *th;
	__u8 *opt, *end;
	__be16 proto;
	void *p = cs_l3(data, data_end, &proto);
	int i;

	if (!p)
		return -1;
	__builtin_memset(t, 0, sizeof(*t));
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = p;

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x1fff)) || ip->ihl < 5)
			return -1;
		t->src[0] = ip->saddr;
		t->dst[0] = ip->daddr;
		th = p + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = p;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		__builtin_memcpy(t->src, &ip6->saddr, 16);
		__builtin_memcpy(t->dst, &ip6->daddr, 16);
		th = (void *)(ip6 + 1);
	} else {
		return -1;
	}
	if ((void *)(th + 1) > data_end || th->doff < 5)
		return -1;
	t->ports = (__u32)bpf_ntohs(th->source) << 16 | bpf_ntohs(th->dest);
	t->seq = bpf_ntohl(th->seq);
	t->syn = th->syn;
	opt = (__u8 *)(th + 1);
	end = (__u8 *)th + th->doff * 4;
	if ((void *)end > data_end)
		return -1;
	t->hdr_len = (__u32)((void *)end - data);
	/*
	 * Linux and most stacks put NOP, NOP, TS first: no walk. Every read is
	 * checked against data_end (all the verifier knows), then against @end.
	 */
	if ((void *)(opt + 4) <= data_end && opt[0] == 1 && opt[1] == 1 && opt[2] == 8) {
		opt += 2;
	} else {
		for (i = 0; i < 10; i++) {
			if ((void *)(opt + 2) > data_end || opt + 2 > end || opt[0] == 0)
				return -1;
			if (opt[0] == 1) {
				opt++;
				continue;
			}
			if (opt[0] == 8 || opt[1] < 2)
				break;
			opt += opt[1];
		}
	}
	if ((void *)(opt + 10) > data_end || opt + 10 > end || opt[0] != 8 || opt[1] != 10)
		return -1;
	t->tsval = (__u32)opt[2] << 24 | (__u32)opt[3] << 16 | (__u32)opt[4] << 8 | opt[5];
	t->tsecr = (__u32)opt[6] << 24 | (__u32)opt[7] << 16 | (__u32)opt[8] << 8 | opt[9];
	return 0;
}

#endif
