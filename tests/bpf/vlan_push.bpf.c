// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test-bed helper: tag every IPv4 frame leaving a device out of band
 * (skb->vlan_tci), as a VLAN sub-interface on a NIC with TX VLAN offload
 * does: UDP to port 9998 with an 802.1ad tag of VLAN 200, everything else
 * with an 802.1Q tag of VLAN 100 and priority 3 (TCI 0x6064). ARP stays
 * untagged so that the bed's neighbours still resolve.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	struct iphdr ip;
	__be16 dport = 0;

	if (skb->protocol != bpf_htons(ETH_P_IP) || skb->vlan_present)
		return TC_ACT_OK;
	if (!bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) && ip.protocol == IPPROTO_UDP)
		bpf_skb_load_bytes(skb, ETH_HLEN + ip.ihl * 4 + 2, &dport, sizeof(dport));
	if (dport == bpf_htons(9998))
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), 200);
	else
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0x6064);
	return TC_ACT_OK;
}
