// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rate parsing and conversion: exact decimals, refusals, HTB parameters. */
#include <stdint.h>
#include "rate.h"
#include "test.h"

static void parses(const char *s, uint64_t want)
{
	const char *why = "";
	uint64_t got = 0;
	int err = rate_parse_mbps(s, &got, &why);

	CHECK(!err && got == want, "parse \"%s\": err %d (%s) got %" PRIu64 " want %" PRIu64, s, err,
	      why, got, want);
}

static void refuses(const char *s, const char *reason_part)
{
	const char *why = "";
	uint64_t got = 0;
	int err = rate_parse_mbps(s, &got, &why);

	CHECK(err && strstr(why, reason_part), "refuse \"%s\": err %d why \"%s\" want \"%s\"", s, err,
	      why, reason_part);
}

static void formats(uint64_t bps, const char *want)
{
	char buf[64];

	rate_format_mbps(bps, buf, sizeof(buf));
	ASSERT_STR(buf, want, "format");
}

/* The leaves sized from a plan: the fallback FIFO, codel's target and interval for slow plans, memory. */
static void test_leaf_sizes(void)
{
	ASSERT_EQ(rate_fifo_packets(20000000, 20), 34, "20 Mbit, 20 ms: 50 000 bytes in 1514-byte frames, rounded up");
	ASSERT_EQ(rate_fifo_packets(1000000000, 20), 1652, "1 Gbit, 20 ms");
	ASSERT_EQ(rate_fifo_packets(1000000, 20), RATE_FIFO_MIN_PACKETS, "a slow plan still takes a few packets");
	ASSERT_EQ(rate_codel_target_us(100000000), 5000, "100 Mbit: codel's 5 ms");
	ASSERT_EQ(rate_codel_target_us(1000000), 18168, "1 Mbit: 1.5 frames' time (12.1 ms a frame)");
	ASSERT_EQ(rate_codel_target_us(3634000), 5000, "the edge: 1.5 frames in 5 ms");
	ASSERT_EQ(rate_codel_interval_us(100000000), 100000, "100 Mbit: codel's 100 ms");
	ASSERT_EQ(rate_codel_interval_us(1000000), 113168, "1 Mbit: the interval grows with the target");
	ASSERT_EQ(rate_aqm_memory(20000000), 1u << 20, "20 Mbit: the 1 MiB floor");
	ASSERT_EQ(rate_aqm_memory(1000000000), 32u << 20, "1 Gbit: 400 ms is 50 MB, capped at fq_codel's 32 MiB");
	ASSERT_EQ(rate_aqm_memory(200000000), 10000000, "200 Mbit: 400 ms of it");
}

int main(void)
{
	test_leaf_sizes();
	parses("12", 12000000);
	parses("0.5", 500000);
	parses(" 7.25 ", 7250000);
	parses("1000000", 1000000000000ULL);
	parses("0.000001", 1);
	parses("3.", 3000000);
	parses(".5", 500000);
	parses("10.0000000", 10000000); /* zeros past 1 bit/s are harmless */
	parses("12\r", 12000000);

	refuses("0", "greater than 0");
	refuses("0.0", "greater than 0");
	refuses("-5", "positive");
	refuses("abc", "not a decimal");
	refuses("", "not a decimal");
	refuses("1e3", "not a decimal");
	refuses("0x10", "not a decimal");
	refuses("nan", "not a decimal");
	refuses("inf", "not a decimal");
	refuses("5 Mbps", "not a decimal");
	refuses("1.2.3", "not a decimal");
	refuses("1000000.5", "too large");
	refuses("99999999999999999999", "too large");
	refuses("0.0000001", "6 decimals");

	formats(12000000, "12");
	formats(500000, "0.5");
	formats(7250000, "7.25");
	formats(1, "0.000001");
	formats(1234000001, "1234.000001");

	ASSERT_EQ(rate_bytes(8000000), 1000000, "8 Mbit/s is 1 MB/s");
	ASSERT_EQ(rate_bytes(7), 1, "a tiny rate never becomes 0 bytes/s");
	ASSERT_EQ(rate_burst(1000000000), 125000, "1 Gbit/s burst = 1 ms");
	ASSERT_EQ(rate_burst(1000000), 3028, "slow burst is at least two frames");
	ASSERT_EQ(rate_quantum(100000), 1514, "quantum at least one frame");
	ASSERT_EQ(rate_quantum(8000000), 100000, "quantum = rate/10");
	ASSERT_EQ(rate_quantum(10000000000ULL), 200000, "quantum capped at 200000");
	return test_done("rate");
}
