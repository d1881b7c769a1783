// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Round-trip time logic shared with the TC program (bpf/rtt.h) and its
 * reading (src/rtt.c): buckets, time slots and windows, quantiles, and the
 * flow table that times segments, also when it is full.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include "rttstat.h"
#include "../bpf/rtt.h"
#include "test.h"

#define SLOT (1ull << CS_RTT_SLOT_SHIFT)
#define MS 1000000ull

static void test_buckets(void)
{
	ASSERT_EQ(cs_rtt_bucket(0), 0, "0 us: bucket 0");
	ASSERT_EQ(cs_rtt_bucket(31), 0, "31 us: bucket 0");
	ASSERT_EQ(cs_rtt_bucket(32), 1, "32 us: bucket 1");
	ASSERT_EQ(cs_rtt_bucket(47), 1, "47 us: bucket 1");
	ASSERT_EQ(cs_rtt_bucket(48), 2, "48 us: bucket 2 (1.5 x 32)");
	ASSERT_EQ(cs_rtt_bucket(64), 3, "64 us: bucket 3");
	ASSERT_EQ(cs_rtt_bucket(1ull << 40), CS_RTT_BUCKETS - 1, "huge: the open last bucket");
	/* every bucket's lower bound falls in it, one less in the bucket before */
	for (uint32_t i = 1; i < CS_RTT_BUCKETS; i++) {
		uint64_t lo = (uint64_t)rtt_bucket_lower_us(i);

		CHECK(cs_rtt_bucket(lo) == i && cs_rtt_bucket(lo - 1) == i - 1,
		      "bucket %u starts at %llu us", i, (unsigned long long)lo);
	}
	/* monotone over a sweep */
	{
		uint32_t last = 0;
		int bad = 0;

		for (uint64_t us = 0; us < 40000000; us += us / 64 + 1) {
			uint32_t b = cs_rtt_bucket(us);

			bad += b < last;
			last = b;
		}
		ASSERT_EQ(bad, 0, "buckets never go down as the time grows");
	}
	/* a cumulative bucket is the octave of its window buckets; its upper bound closes it */
	for (uint32_t i = 0; i < CS_RTT_BUCKETS; i++) {
		uint32_t c = cs_rtt_total_bucket(i);
		double lo = rtt_bucket_lower_us(i) / 1e6;

		CHECK(c < CS_RTT_TOTALS && lo < rtt_total_upper_s(c) && (c == 0 || lo >= rtt_total_upper_s(c - 1)),
		      "window bucket %u (from %g s) lies in cumulative bucket %u", i, lo, c);
	}
	CHECK(isinf(rtt_total_upper_s(CS_RTT_TOTALS - 1)), "the last cumulative bucket is open");
	ASSERT_TRUE(rtt_total_upper_s(5) == 1024e-6, "cumulative bucket 5 ends at 1.024 ms");
}

static void test_window(void)
{
	struct cs_rtt h = { 0 };
	struct rtt_window w;
	uint64_t t0 = 1000 * SLOT + 5;

	for (int i = 0; i < 10; i++)
		cs_rtt_add(&h, 20000, t0); /* 20 ms */
	rtt_window(&h, t0, &w);
	ASSERT_EQ(w.samples, 10, "10 samples in the current slot");
	ASSERT_EQ(h.sum_us, 200000, "sum of the samples");
	ASSERT_EQ(h.total[cs_rtt_total_bucket(cs_rtt_bucket(20000))], 10, "cumulative bucket counts them");

	/* the next slot: both count */
	for (int i = 0; i < 30; i++)
		cs_rtt_add(&h, 40000, t0 + SLOT);
	rtt_window(&h, t0 + SLOT, &w);
	ASSERT_EQ(w.samples, 40, "window = this slot and the one before");
	/* two slots on: the first is gone, reused for the new samples */
	cs_rtt_add(&h, 1000, t0 + 2 * SLOT);
	rtt_window(&h, t0 + 2 * SLOT, &w);
	ASSERT_EQ(w.samples, 31, "a slot two back is dropped when its place is reused");
	/* no samples for a while: a reader sees an empty window, not stale samples */
	rtt_window(&h, t0 + 4 * SLOT, &w);
	ASSERT_EQ(w.samples, 0, "stale slots are not read");
	rtt_window(&h, t0 + 3 * SLOT, &w);
	ASSERT_EQ(w.samples, 1, "one slot later only the newest slot counts");
	ASSERT_EQ(h.total[cs_rtt_total_bucket(cs_rtt_bucket(40000))], 30, "cumulative counts never reset");

	/* many samples in one slot */
	{
		struct cs_rtt s = { 0 };
		struct cs_rtt_total all = { 0 };

		for (int i = 0; i < 70000; i++) {
			cs_rtt_add(&s, 5000, t0);
			cs_rtt_total_add(&all, CS_SIDE_NET, 5000);
		}
		rtt_window(&s, t0, &w);
		ASSERT_EQ(w.samples, 70000, "a window bucket holds 70000 samples");
		ASSERT_EQ(s.total[cs_rtt_total_bucket(cs_rtt_bucket(5000))], 70000, "and the cumulative one");
		ASSERT_EQ(all.total[CS_SIDE_NET][cs_rtt_total_bucket(cs_rtt_bucket(5000))], 70000,
			  "the all-circuit histogram counts them on its side");
		ASSERT_EQ(all.sum_us[CS_SIDE_SUB], 0, "not on the other");
	}
}

static void test_quantiles(void)
{
	struct cs_rtt h = { 0 };
	struct rtt_window w;
	double p50, p95;

	rtt_window(&h, SLOT, &w);
	ASSERT_TRUE(rtt_quantile_ms(&w, 0.5) < 0, "no samples: no quantile");
	/* 90 samples at 20 ms, 10 at 200 ms */
	for (int i = 0; i < 90; i++)
		cs_rtt_add(&h, 20000, SLOT);
	for (int i = 0; i < 10; i++)
		cs_rtt_add(&h, 200000, SLOT);
	rtt_window(&h, SLOT, &w);
	p50 = rtt_quantile_ms(&w, 0.5);
	p95 = rtt_quantile_ms(&w, 0.95);
	CHECK(p50 >= 16.384 && p50 < 24.576, "p50 %g ms lies in the bucket of 20 ms", p50);
	CHECK(p95 >= 196.608 && p95 < 262.144, "p95 %g ms lies in the bucket of 200 ms", p95);
	/* spread evenly 1..100 ms: the median within a bucket's width of 50 ms */
	{
		struct cs_rtt u = { 0 };

		for (int i = 1; i <= 1000; i++)
			cs_rtt_add(&u, (uint64_t)i * 100, SLOT);
		rtt_window(&u, SLOT, &w);
		p50 = rtt_quantile_ms(&w, 0.5);
		CHECK(fabs(p50 - 50) < 50 * 0.25, "uniform 0.1..100 ms: p50 %g near 50", p50);
		p95 = rtt_quantile_ms(&w, 0.95);
		CHECK(fabs(p95 - 95) < 95 * 0.25, "uniform: p95 %g near 95", p95);
	}
	/* windows add up (a CPU's from its circuits') */
	{
		struct rtt_window a = { 0 }, b;

		rtt_window(&h, SLOT, &b);
		rtt_window_add(&a, &b);
		rtt_window_add(&a, &b);
		ASSERT_EQ(a.samples, 200, "two windows added");
		CHECK(fabs(rtt_quantile_ms(&a, 0.5) - rtt_quantile_ms(&b, 0.5)) < 1e-9, "same quantiles doubled");
	}
}

static void test_flows(void)
{
	struct cs_flow_set set;
	__u32 a[4] = { 0x0a000001 }, b[4] = { 0x0a000002 };
	__u64 k = cs_flow_key(a, b, 80u << 16 | 5000), back = cs_flow_key(b, a, 5000u << 16 | 80);
	__u64 t = 10 * MS;

	memset(&set, 0, sizeof(set));
	ASSERT_TRUE(k != back, "each direction has its own key");
	ASSERT_TRUE(k == cs_flow_key(a, b, 80u << 16 | 5000), "keys are stable");
	ASSERT_TRUE(cs_flow_set_of(k, CS_FLOW_SETS - 1) < CS_FLOW_SETS, "set index in range");

	ASSERT_EQ(cs_flow_sent(&set, k, 100, 1000, 1000, 0, t), 0, "first segment: timed");
	ASSERT_EQ(cs_flow_sent(&set, k, 101, 2000, 1000, 0, t + 1 * MS), 0, "next TSval: not timed, one runs");
	ASSERT_EQ(cs_flow_echo(&set, k, 99, t + 2 * MS), 0, "an echo of an older TSval: nothing");
	ASSERT_EQ(cs_flow_echo(&set, k, 100, t + 20 * MS), 20 * MS, "the echo of TSval 100: 20 ms");
	ASSERT_EQ(cs_flow_echo(&set, k, 100, t + 21 * MS), 0, "a second echo of it: nothing");
	ASSERT_EQ(cs_flow_sent(&set, k, 101, 3000, 1000, 0, t + 22 * MS), 0, "TSval 101 again: first seen at 1 ms");
	ASSERT_TRUE(cs_flow_echo(&set, k, 101, t + 23 * MS) == 0, "so it was not timed from 22 ms");
	ASSERT_EQ(cs_flow_sent(&set, k, 102, 4000, 1000, 0, t + 24 * MS), 0, "a new TSval: timed");
	ASSERT_EQ(cs_flow_echo(&set, k, 103, t + 30 * MS), 0, "echo of a later TSval: ours is given up");
	ASSERT_EQ(cs_flow_sent(&set, k, 104, 5000, 1000, 0, t + 31 * MS), 0, "so the next TSval is timed");
	ASSERT_EQ(cs_flow_echo(&set, k, 104, t + 41 * MS), 10 * MS, "and answered: 10 ms");

	/* a TSval never answered is given up after CS_RTT_MAX_NS */
	cs_flow_sent(&set, k, 110, 6000, 1000, 0, t + 50 * MS);
	cs_flow_sent(&set, k, 111, 7000, 1000, 0, t + 50 * MS + CS_RTT_MAX_NS / 2);
	ASSERT_EQ(cs_flow_echo(&set, k, 111, t + 60 * MS + CS_RTT_MAX_NS / 2), 0, "111 not timed while 110 waits");
	cs_flow_sent(&set, k, 112, 8000, 1000, 0, t + 51 * MS + CS_RTT_MAX_NS);
	ASSERT_EQ(cs_flow_echo(&set, k, 112, t + 56 * MS + CS_RTT_MAX_NS), 5 * MS, "110 expired: 112 timed");

	/* retransmissions: data ending at or before the highest end seen */
	ASSERT_EQ(cs_flow_sent(&set, k, 113, 8000, 1000, 0, t + 60 * MS + CS_RTT_MAX_NS), 1, "resent segment");
	ASSERT_EQ(cs_flow_sent(&set, k, 113, 9000, 1000, 0, t + 60 * MS + CS_RTT_MAX_NS), 0, "new data");
	ASSERT_EQ(cs_flow_sent(&set, k, 113, 9000, 0, 0, t + 60 * MS + CS_RTT_MAX_NS), 0, "a pure ACK is no retransmission");
	ASSERT_EQ(cs_flow_sent(&set, k, 113, 0x80001000u, 1000, 0, t + 61 * MS + CS_RTT_MAX_NS), 0, "far ahead: new");
	ASSERT_EQ(cs_flow_sent(&set, k, 113, 0x80001000u + 0x80000000u, 1000, 0, t + 61 * MS + CS_RTT_MAX_NS), 1,
		  "sequence numbers wrap: half the space back is old");
}

/* Pure ACKs are not timed (ePPing's rule); SYNs are; echoes are matched whatever carries them. */
static void test_pure_ack(void)
{
	struct cs_flow_set set;
	__u64 data = 11, acks = 22; /* a download: the server's data, the subscriber's ACKs */
	__u64 t = 10 * MS;

	memset(&set, 0, sizeof(set));
	ASSERT_EQ(cs_flow_sent(&set, acks, 500, 1, 0, 0, t), 0, "a pure ACK of a new flow");
	ASSERT_EQ(set.way[0].key + set.way[1].key + set.way[2].key + set.way[3].key, 0,
		  "takes no way");
	/* the server's data is timed and the ACK's echo of it is a sample */
	cs_flow_sent(&set, data, 900, 2448, 1448, 0, t + 1 * MS);
	ASSERT_EQ(cs_flow_echo(&set, data, 900, t + 21 * MS), 20 * MS, "data, echoed by an ACK: 20 ms");
	/* that ACK (TSval 501) is echoed by the server's next data 500 ms later, when its application writes */
	cs_flow_sent(&set, acks, 501, 1, 0, 0, t + 21 * MS);
	ASSERT_EQ(cs_flow_echo(&set, acks, 501, t + 521 * MS), 0,
		  "the server's echo of a pure ACK: no sample (it waited for the application)");
	/* data the subscriber sends (a request) is timed, and so is a SYN */
	cs_flow_sent(&set, acks, 502, 101, 100, 0, t + 600 * MS);
	ASSERT_EQ(cs_flow_echo(&set, acks, 502, t + 615 * MS), 15 * MS, "the subscriber's data: 15 ms");
	memset(&set, 0, sizeof(set));
	cs_flow_sent(&set, acks, 1, 0, 0, 1, t);
	ASSERT_EQ(cs_flow_echo(&set, acks, 1, t + 12 * MS), 12 * MS, "a SYN, answered by the SYN-ACK: 12 ms");
}

static void test_full_set(void)
{
	struct cs_flow_set set;
	__u64 keys[CS_FLOW_WAYS + 2];
	__u64 t = 100 * MS;

	memset(&set, 0, sizeof(set));
	for (int i = 0; i < CS_FLOW_WAYS + 2; i++)
		keys[i] = 1000 + (unsigned)i; /* any keys: the set is given */
	/* fill every way, each timing a segment, the first the oldest */
	for (int i = 0; i < CS_FLOW_WAYS; i++)
		cs_flow_sent(&set, keys[i], 1, 100, 100, 0, t + (unsigned)i * MS);
	/* way 2's sample ends: it times nothing now */
	ASSERT_EQ(cs_flow_echo(&set, keys[2], 1, t + 10 * MS), 8 * MS, "flow 2 answered");
	/* a new flow takes the way that times nothing, not the oldest */
	cs_flow_sent(&set, keys[CS_FLOW_WAYS], 7, 100, 100, 0, t + 20 * MS);
	ASSERT_EQ(cs_flow_echo(&set, keys[CS_FLOW_WAYS], 7, t + 25 * MS), 5 * MS, "the new flow is timed");
	ASSERT_EQ(cs_flow_echo(&set, keys[0], 1, t + 26 * MS), 26 * MS, "flow 0 (oldest) was kept");
	ASSERT_EQ(cs_flow_echo(&set, keys[2], 1, t + 26 * MS), 0, "flow 2 was given up");
	/* all timing again: the next new flow takes the one timing longest */
	cs_flow_sent(&set, keys[0], 2, 200, 100, 0, t + 30 * MS);
	cs_flow_sent(&set, keys[CS_FLOW_WAYS], 8, 200, 100, 0, t + 31 * MS);
	/* ways now: 0 (since 30), 1 (since 1), 3 (since 3), new (since 31): 1 is the longest */
	cs_flow_sent(&set, keys[CS_FLOW_WAYS + 1], 9, 100, 100, 0, t + 40 * MS);
	ASSERT_EQ(cs_flow_echo(&set, keys[1], 1, t + 41 * MS), 0, "the longest-timing flow was evicted");
	ASSERT_EQ(cs_flow_echo(&set, keys[3], 1, t + 41 * MS), 38 * MS, "the others were kept");
	ASSERT_EQ(cs_flow_echo(&set, keys[CS_FLOW_WAYS + 1], 9, t + 42 * MS), 2 * MS, "the newest is timed");
	{
		int used = 0;

		for (int i = 0; i < CS_FLOW_WAYS; i++)
			used += set.way[i].key != 0;
		ASSERT_EQ(used, CS_FLOW_WAYS, "a full set stays full: fixed memory");
	}
}

/* load --rtt-flows: the table's sets, a power of two, and flows spread over all of a small one */
static void test_table_size(void)
{
	bool seen[16] = { false };
	int n_seen = 0;

	ASSERT_EQ(cs_flow_sets_for(32768), CS_FLOW_SETS, "the default: 32768 flows in 8192 sets");
	ASSERT_EQ(cs_flow_sets_for(32769), 2 * CS_FLOW_SETS, "one more flow: the next power of two");
	ASSERT_EQ(cs_flow_sets_for(100000), 32768, "100 000 flows: 131 072 (32 768 sets, 4 MiB a CPU)");
	ASSERT_EQ(cs_flow_sets_for(1), CS_FLOW_SETS_MIN, "at least CS_FLOW_SETS_MIN sets");
	ASSERT_EQ(cs_flow_sets_for(1ull << 40), CS_FLOW_SETS_MAX, "at most CS_FLOW_SETS_MAX");
	for (uint32_t f = 1; f < 1u << 23; f = f * 3 + 1) {
		uint32_t sets = cs_flow_sets_for(f);

		CHECK(!(sets & (sets - 1)) && (sets * CS_FLOW_WAYS >= f || sets == CS_FLOW_SETS_MAX) &&
			      (sets == CS_FLOW_SETS_MIN || sets * CS_FLOW_WAYS / 2 < f),
		      "%u flows: %u sets, the least power of two that holds them", f, sets);
	}
	/* a table of 16 sets: every key in range, and 200 flows reach every set */
	for (uint32_t i = 0; i < 200; i++) {
		__u32 a[4] = { 0xc6120100 + i }, b[4] = { 0xc6130002 };
		__u32 set = cs_flow_set_of(cs_flow_key(a, b, 443u << 16 | (40000 + i)), 15);

		CHECK(set < 16, "flow %u: set %u of 16", i, set);
		if (set < 16 && !seen[set]) {
			seen[set] = true;
			n_seen++;
		}
	}
	ASSERT_EQ(n_seen, 16, "200 flows land in all 16 sets");
}

int main(void)
{
	test_table_size();
	test_buckets();
	test_window();
	test_quantiles();
	test_flows();
	test_pure_ack();
	test_full_set();
	return test_done("rtt");
}
