// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <string.h>
#include <time.h>
#include "rttstat.h"

double rtt_bucket_lower_us(uint32_t i)
{
	uint32_t p, h;

	if (i == 0)
		return 0;
	p = 5 + (i - 1) / 2;
	h = (i - 1) % 2;
	return (double)(1ull << p) * (h ? 1.5 : 1.0);
}

double rtt_total_upper_s(uint32_t c)
{
	if (c + 1 >= CS_RTT_TOTALS)
		return INFINITY;
	return (double)(1ull << (5 + c)) / 1e6;
}

void rtt_window(const struct cs_rtt *h, uint64_t now_ns, struct rtt_window *w)
{
	uint32_t cur = (uint32_t)(now_ns >> CS_RTT_SLOT_SHIFT);

	memset(w, 0, sizeof(*w));
	for (int s = 0; s < 2; s++) {
		/* a slot of before the last one is stale: TC has not been by since */
		if (h->slot[s] != cur && h->slot[s] + 1 != cur)
			continue;
		for (int i = 0; i < CS_RTT_BUCKETS; i++) {
			w->n[i] += h->win[s][i];
			w->samples += h->win[s][i];
		}
	}
}

void rtt_window_add(struct rtt_window *a, const struct rtt_window *b)
{
	for (int i = 0; i < CS_RTT_BUCKETS; i++)
		a->n[i] += b->n[i];
	a->samples += b->samples;
}

double rtt_quantile_ms(const struct rtt_window *w, double q)
{
	double rank, before = 0;

	if (!w->samples)
		return -1;
	rank = q * (double)w->samples;
	for (uint32_t i = 0; i < CS_RTT_BUCKETS; i++) {
		double lo, hi, in = w->n[i];

		if (!in || before + in < rank) {
			before += in;
			continue;
		}
		lo = rtt_bucket_lower_us(i);
		/* the open last bucket: its lower bound is all we know */
		hi = i + 1 < CS_RTT_BUCKETS ? rtt_bucket_lower_us(i + 1) : lo;
		return (lo + (hi - lo) * (rank - before) / in) / 1000.0;
	}
	return rtt_bucket_lower_us(CS_RTT_BUCKETS - 1) / 1000.0;
}

uint64_t rtt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
