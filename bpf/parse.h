/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Header parsing shared by the XDP and TC programs: frame -> LPM key. */
#ifndef CS_PARSE_H
#define CS_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
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
static __always_inline int cs_parse(void *data, void *data_end, int use_dst,
				    struct cs_lpm_key *key)
{
	struct ethhdr *eth = data;
	__be16 proto;
	void *p;
	int i;

	if ((void *)(eth + 1) > data_end)
		return CS_PARSE_TRUNCATED;
	proto = eth->h_proto;
	p = eth + 1;

#pragma unroll
	for (i = 0; i < CS_MAX_VLAN; i++) {
		struct cs_vlan_hdr *vh = p;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return CS_PARSE_TRUNCATED;
		proto = vh->encap_proto;
		p = vh + 1;
	}

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

#endif
