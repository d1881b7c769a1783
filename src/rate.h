/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_RATE_H
#define CS_RATE_H

#include <stddef.h>
#include <stdint.h>

/* Largest plan we accept: 1 Tbit/s. */
#define CS_RATE_MAX_BPS 1000000000000ULL

/*
 * Parse a decimal Mbit/s figure ("12", "0.5", " 7.25 ") into bit/s, exactly:
 * no exponent, no sign, at most 6 decimals (1 bit/s). Returns 0, or -EINVAL
 * with *why set to a short reason.
 */
int rate_parse_mbps(const char *s, uint64_t *bps, const char **why);

/* "12", "0.5", "1234.000001": the shortest exact decimal of bps in Mbit/s. */
void rate_format_mbps(uint64_t bps, char *buf, size_t len);

/* bit/s to the bytes/s HTB wants, never 0 for a non-zero rate. */
uint64_t rate_bytes(uint64_t bps);

/* HTB burst (bytes) for a rate: 1 ms worth, at least two full frames. */
uint32_t rate_burst(uint64_t bps);

/* HTB DRR quantum (bytes) for a rate: rate/10 clamped to [MTU, 200000]. */
uint32_t rate_quantum(uint64_t bps);

/*
 * The fallback leaf's limit in packets: @ms of @ceil_bps in full-size frames,
 * at least RATE_FIFO_MIN_PACKETS. Counted in packets, not bytes, so that a
 * flood of small packets holds few skbs (memory) and an aggregate of GRO is
 * never dropped for its size.
 */
#define RATE_FIFO_MIN_PACKETS 4
uint32_t rate_fifo_packets(uint64_t ceil_bps, uint32_t ms);
/* fq_codel/cake's target for a plan: 5 ms, or 1.5 frames' time where that is longer (slow plans). */
uint32_t rate_codel_target_us(uint64_t ceil_bps);
/* Its interval: 100 ms, grown as cake grows it with the target (at least twice the target). */
uint32_t rate_codel_interval_us(uint64_t ceil_bps);
/* Memory an AQM leaf may hold (bytes of skbs): 400 ms of the plan as cake sizes it, 1 to 32 MiB. */
uint32_t rate_aqm_memory(uint64_t ceil_bps);

#endif
