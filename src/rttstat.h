/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading the round-trip histograms TC keeps (bpf/rtt.h): windows, quantiles. */
#ifndef CS_RTTSTAT_H
#define CS_RTTSTAT_H

#include <stdint.h>
#include "cpushaper.h"

/* Lower bound of window bucket @i in microseconds (bucket 0 starts at 0). */
double rtt_bucket_lower_us(uint32_t i);
/* Upper bound of cumulative bucket @c in seconds; +inf for the last. */
double rtt_total_upper_s(uint32_t c);

/* A recent window of one side: the current time slot and the one before it. */
struct rtt_window {
	uint32_t n[CS_RTT_BUCKETS];
	uint64_t samples;
};
/* The window of @h as seen at @now_ns (CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns). */
void rtt_window(const struct cs_rtt *h, uint64_t now_ns, struct rtt_window *w);
/* Add @b into @a (a node's or a CPU's window from its circuits'). */
void rtt_window_add(struct rtt_window *a, const struct rtt_window *b);
/* The @q quantile (0 < q < 1) in ms, interpolated within its bucket; -1 without samples. */
double rtt_quantile_ms(const struct rtt_window *w, double q);
/* Now on the clock TC uses. */
uint64_t rtt_now_ns(void);

/* The window's length, for help texts: between one and two slots. */
#define RTT_WINDOW_MIN_S ((double)(1ull << CS_RTT_SLOT_SHIFT) / 1e9)

#endif
