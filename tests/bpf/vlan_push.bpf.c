// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test-bed helper: tag every IPv4 frame leaving a device with VLAN 100, out of
 * band (skb->vlan_tci), as a VLAN sub-interface on a NIC with TX VLAN offload
 * does. ARP stays untagged so that the bed's neighbours still resolve.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	if (skb->protocol == bpf_htons(ETH_P_IP) && !skb->vlan_present)
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 100);
	return TC_ACT_OK;
}
