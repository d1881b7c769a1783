// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of the data path: bpf_prog_test_run_opts with a large repeat
 * count on crafted frames, for each frame kind and map size, next to empty
 * programs of the same types (the floor). Prints one JSON object per line:
 * {"prog":"xdp","frame":"ipv4","entries":10000,"ns":41.2}
 * ENTRIES host addresses (half IPv4, half IPv6) plus ENTRIES/4 prefixes (/30,
 * /64) are loaded the way the manager does it (hosts in the exact-match hash,
 * prefixes in the trie): progs "xdp" and "tc". The same entries all in the trie,
 * as before the hash existed, in a second instance: "xdp_trie" and "tc_trie".
 * Usage: perpacket [REPEAT] [ENTRIES...]   (root)
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "circuits.h"
#include "datapath.h"
#include "empty.skel.h"
#include "handles.h"
#include "maps.h"

struct frame {
	const char *name;
	uint8_t buf[128];
	size_t len;
};

/* eth [+ QinQ] + IPv4/IPv6 + 20 bytes of TCP, addressed to @dst */
static void make(struct frame *f, const char *name, int qinq, int v6, const char *dst)
{
	uint8_t *p = f->buf;

	memset(f, 0, sizeof(*f));
	f->name = name;
	p += 12;
	if (qinq) {
		*p++ = 0x88, *p++ = 0xa8, p += 2;
		*p++ = 0x81, *p++ = 0x00, p += 2;
	}
	*p++ = v6 ? 0x86 : 0x08;
	*p++ = v6 ? 0xdd : 0x00;
	if (v6) {
		p[0] = 0x60, p[6] = 6, p[7] = 64;
		inet_pton(AF_INET6, "2001:db8:ff::2", p + 8);
		inet_pton(AF_INET6, dst, p + 24);
		p += 40;
	} else {
		p[0] = 0x45, p[8] = 64, p[9] = 6;
		inet_pton(AF_INET, "198.19.0.2", p + 12);
		inet_pton(AF_INET, dst, p + 16);
		p += 20;
	}
	p[12] = 0x50;
	f->len = (size_t)(p + 20 - f->buf);
}

/* The same with the TCP timestamp option (NOP, NOP, TS): what RTT tracking times. */
static void make_ts(struct frame *f, const char *name, int v6, const char *dst)
{
	uint8_t *tcp;

	make(f, name, 0, v6, dst);
	tcp = f->buf + f->len - 20;
	tcp[12] = 0x80; /* 32 bytes of header */
	memcpy(tcp + 20, "\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x20\x00", 12);
	f->len += 12;
}

static double run(int fd, bool tc, const struct frame *f, int repeat)
{
	struct __sk_buff ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->buf, .data_size_in = (uint32_t)f->len,
		    .repeat = repeat);

	if (tc) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	return o.duration; /* the kernel reports the mean ns per run */
}

static void put(const struct cs_maps *m, bool trie_only, const char *a)
{
	/* CPU 1's HTB (src/handles.h), minor 3 */
	uint32_t cls = handle_major(1) << 16 | 3;
	struct cs_target t = { .cpu = 1, .classid_down = cls, .classid_up = cls, .circuit = 1 };
	struct cs_lpm_key k = { 0 };
	struct cs_prefix p;
	const char *why;

	if (prefix_parse(a, !strchr(a, ':'), &p, &why)) {
		fprintf(stderr, "perpacket: %s: %s\n", a, why);
		exit(1);
	}
	if (!trie_only) {
		maps_lpm_put(m, &p, &t);
		return;
	}
	k.prefixlen = p.len;
	memcpy(k.addr, p.addr, 16);
	bpf_map_update_elem(m->lpm, &k, &t, BPF_ANY);
}

/* Entries [from, to): hosts 198.18.2.0 up and 2001:db8:100::1 up, every 4th also a prefix. */
static void fill(const struct cs_maps *m, bool trie_only, int from, int to)
{
	char a[64];

	for (int i = from; i < to; i++) {
		int h = i / 2 + 512, q = i / 8;

		if (i % 2)
			snprintf(a, sizeof(a), "198.%d.%d.%d", 18 + h / 65536, (h / 256) % 256, h % 256);
		else
			snprintf(a, sizeof(a), "2001:db8:100::%x", i / 2 + 1);
		put(m, trie_only, a);
		if (i % 4 == 1)
			snprintf(a, sizeof(a), "198.19.%d.%d/30", (q * 4 / 256) % 256, q * 4 % 256);
		else if (i % 4 == 3)
			snprintf(a, sizeof(a), "2001:db8:200:%x::/64", q + 1);
		else
			continue;
		put(m, trie_only, a);
	}
	/* the addresses the frames use: inside the filled ranges, so both families
	 * walk a trie as deep as their entries make it */
	put(m, trie_only, "198.18.2.10");
	put(m, trie_only, "2001:db8:100::10");
	put(m, trie_only, "198.19.0.8/30");
	put(m, trie_only, "2001:db8:200:1::/64");
}

int main(int argc, char **argv)
{
	int repeat = argc > 1 ? atoi(argv[1]) : 1000000;
	int sizes[8] = { 10, 10000, 100000 }, n_sizes = 3;
	bool cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };
	struct frame fr[6];
	struct cpushaper *skel[2];
	struct empty *e;
	struct cs_maps m[2];
	struct cs_config cfg = { .abi = CS_ABI_VERSION, .wan_ifindex = 1, .lan_ifindex = 1,
				 .htbs_per_cpu = 1, .htb_stride = 2 };

	if (argc > 2) {
		n_sizes = 0;
		for (int i = 2; i < argc && n_sizes < 8; i++)
			sizes[n_sizes++] = atoi(argv[i]);
	}
	make(&fr[0], "ipv4", 0, 0, "198.18.2.10");
	make(&fr[1], "ipv6", 0, 1, "2001:db8:100::10");
	make(&fr[2], "qinq_ipv6", 1, 1, "2001:db8:100::10");
	make(&fr[3], "ipv4_prefix", 0, 0, "198.19.0.10");
	make(&fr[4], "ipv6_prefix", 0, 1, "2001:db8:200:1::7");
	make(&fr[5], "unknown_ipv4", 0, 0, "198.18.250.250");

	e = empty__open_and_load();
	if (!e || dp_load(NULL, &skel[0], &m[0]) || dp_load(NULL, &skel[1], &m[1])) {
		fprintf(stderr, "perpacket: cannot load the BPF objects (root?)\n");
		return 1;
	}
	cs_cpu_set(&cfg, 0, 1);
	cs_cpu_set(&cfg, 1, 1);
	for (int l = 0; l < 2; l++) {
		maps_config_write(&m[l], &cfg);
		maps_cpumap_sync(&m[l], cpus, 64, dp_cpumap_fd(skel[l]));
	}
	for (int k = 0; k < 2; k++)
		printf("{\"prog\":\"%s\",\"frame\":\"ipv4\",\"entries\":0,\"ns\":%.1f}\n",
		       k ? "tc_empty" : "xdp_empty",
		       run(bpf_program__fd(k ? e->progs.empty_tc : e->progs.empty_xdp), k, &fr[0], repeat));
	for (int s = 0, have = 0; s < n_sizes; s++) {
		for (int l = 0; l < 2; l++)
			fill(&m[l], l, have, sizes[s]);
		have = sizes[s];
		for (int f = 0; f < 6; f++)
			for (int l = 0; l < 2; l++)
				for (int k = 0; k < 2; k++)
					printf("{\"prog\":\"%s%s\",\"frame\":\"%s\",\"entries\":%d,\"ns\":%.1f}\n",
					       k ? "tc" : "xdp", l ? "_trie" : "", fr[f].name, sizes[s],
					       run(k ? dp_tc_fd(skel[l]) : dp_xdp_fd(skel[l]), k, &fr[f],
						   repeat));
	}
	/* RTT tracking (CS_F_RTT) on and off, on segments with timestamps, largest map */
	{
		struct frame ts[2];

		make_ts(&ts[0], "ipv4_tcp_ts", 0, "198.18.2.10");
		make_ts(&ts[1], "ipv6_tcp_ts", 1, "2001:db8:100::10");
		for (int f = 0; f < 2; f++)
			for (int on = 1; on >= 0; on--) {
				cfg.flags = on ? CS_F_RTT : 0;
				maps_config_write(&m[0], &cfg);
				printf("{\"prog\":\"tc_rtt_%s\",\"frame\":\"%s\",\"entries\":%d,\"ns\":%.1f}\n",
				       on ? "on" : "off", ts[f].name, sizes[n_sizes - 1],
				       run(dp_tc_fd(skel[0]), true, &ts[f], repeat));
			}
		cfg.flags = 0;
		maps_config_write(&m[0], &cfg);
	}
	for (int l = 0; l < 2; l++) {
		maps_close(&m[l]);
		dp_unload(skel[l]);
	}
	empty__destroy(e);
	return 0;
}
