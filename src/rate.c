// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "rate.h"

#define FRAME_BYTES 1514

int rate_parse_mbps(const char *s, uint64_t *bps, const char **why)
{
	uint64_t whole = 0, frac = 0;
	int ndig = 0, nfrac = 0;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-') {
		*why = "must be positive";
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*s); s++, ndig++) {
		if (whole > CS_RATE_MAX_BPS / 1000000) {
			*why = "is too large (at most 1000000 Mbps)";
			return -EINVAL;
		}
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, nfrac++) {
			if (nfrac >= 6) {
				if (*s != '0') {
					*why = "has more than 6 decimals (finer than 1 bit/s)";
					return -EINVAL;
				}
				continue;
			}
			frac = frac * 10 + (uint64_t)(*s - '0');
		}
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s || (ndig == 0 && nfrac == 0)) {
		*why = "is not a decimal number of Mbps";
		return -EINVAL;
	}
	for (int i = nfrac < 6 ? nfrac : 6; i < 6; i++)
		frac *= 10;
	*bps = whole * 1000000 + frac;
	if (*bps == 0) {
		*why = "must be greater than 0";
		return -EINVAL;
	}
	if (*bps > CS_RATE_MAX_BPS) {
		*why = "is too large (at most 1000000 Mbps)";
		return -EINVAL;
	}
	return 0;
}

void rate_format_mbps(uint64_t bps, char *buf, size_t len)
{
	uint64_t frac = bps % 1000000;
	int n;

	n = snprintf(buf, len, "%llu", (unsigned long long)(bps / 1000000));
	if (!frac || n < 0 || (size_t)n >= len)
		return;
	snprintf(buf + n, len - (size_t)n, ".%06llu", (unsigned long long)frac);
	/* trim trailing zeros of the fraction */
	for (char *e = buf + strlen(buf) - 1; *e == '0'; e--)
		*e = '\0';
}

uint64_t rate_bytes(uint64_t bps)
{
	uint64_t b = bps / 8;

	return b ? b : 1;
}

uint32_t rate_burst(uint64_t bps)
{
	uint64_t b = rate_bytes(bps) / 1000;

	if (b < 2 * FRAME_BYTES)
		b = 2 * FRAME_BYTES;
	if (b > 1u << 24)
		b = 1u << 24;
	return (uint32_t)b;
}

uint32_t rate_quantum(uint64_t bps)
{
	uint64_t q = rate_bytes(bps) / 10;

	if (q < FRAME_BYTES)
		q = FRAME_BYTES;
	if (q > 200000)
		q = 200000;
	return (uint32_t)q;
}

uint32_t rate_fifo_packets(uint64_t ceil_bps, uint32_t ms)
{
	/* bytes of @ms at the plan, in 1514-byte frames, rounded up */
	uint64_t p = (ceil_bps / 8 * ms / 1000 + 1513) / 1514;

	if (p < RATE_FIFO_MIN_PACKETS)
		p = RATE_FIFO_MIN_PACKETS;
	return p > 10000000 ? 10000000 : (uint32_t)p;
}

uint32_t rate_codel_target_us(uint64_t ceil_bps)
{
	uint64_t frame_us = ceil_bps ? 1514ull * 8 * 1000000 / ceil_bps : 1000000;

	return frame_us * 3 / 2 > 5000 ? (uint32_t)(frame_us * 3 / 2) : 5000;
}

uint32_t rate_codel_interval_us(uint64_t ceil_bps)
{
	uint32_t t = rate_codel_target_us(ceil_bps), i = 100000 + t - 5000;

	return i > 2 * t ? i : 2 * t;
}

uint32_t rate_aqm_memory(uint64_t ceil_bps)
{
	uint64_t b = ceil_bps / 8 * 400 / 1000;

	if (b < (1u << 20))
		b = 1u << 20;
	return b > (32u << 20) ? (32u << 20) : (uint32_t)b;
}
