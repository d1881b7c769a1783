// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The floor of the per-packet benchmark: programs that do nothing. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}
