/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Passive TCP round-trip times, the method of pping: remember when a segment
 * carrying a new TSval passed the shaper, and when a segment the other way
 * echoes it in TSecr, the time between is one round trip on the far side of
 * the echoing host's direction. One sample at a time per flow direction: a
 * TSval is timed from its first segment, when the previous one is answered,
 * skipped (an echo of a later TSval) or older than CS_RTT_MAX_NS.
 *
 * Pure logic on the structs of cpushaper.h, shared by the TC program and the
 * unit tests (tests/unit/test_rtt.c).
 */
#ifndef CS_RTT_H
#define CS_RTT_H

#include "cpushaper.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Window bucket of @us: 0 below 32 us, then 2 per octave (2^p and 1.5 * 2^p), the last open. */
static __always_inline __u32 cs_rtt_bucket(__u64 us)
{
	__u32 v, p = 0, i;

	if (us < 32)
		return 0;
	if (us >= 1ull << 25)
		return CS_RTT_BUCKETS - 1;
	v = (__u32)us;
	/* no count-leading-zeros instruction in BPF */
	if (v >> 16) {
		v >>= 16;
		p += 16;
	}
	if (v >> 8) {
		v >>= 8;
		p += 8;
	}
	if (v >> 4) {
		v >>= 4;
		p += 4;
	}
	if (v >> 2) {
		v >>= 2;
		p += 2;
	}
	if (v >> 1)
		p += 1;
	i = 2 * (p - 5) + 1 + (__u32)((us >> (p - 1)) & 1);
	return i < CS_RTT_BUCKETS ? i : CS_RTT_BUCKETS - 1;
}

/* The cumulative bucket a window bucket falls in: [0,32us), then [2^(4+c), 2^(5+c)) us. */
static __always_inline __u32 cs_rtt_total_bucket(__u32 i)
{
	__u32 c = (i + 1) / 2;

	return c < CS_RTT_TOTALS ? c : CS_RTT_TOTALS - 1;
}

static __always_inline void cs_rtt_add(struct cs_rtt *h, __u64 us, __u64 now_ns)
{
	__u32 slot = (__u32)(now_ns >> CS_RTT_SLOT_SHIFT), s = slot & 1;
	__u32 *w = s ? h->win[1] : h->win[0];
	__u64 i = cs_rtt_bucket(us), c = cs_rtt_total_bucket((__u32)i);

	h->sum_us += us;
	if (h->slot[s] != slot) {
		/* the slot's last use was two or more slots ago: start it anew */
		__builtin_memset(w, 0, sizeof(h->win[0]));
		h->slot[s] = slot;
	}
	/* the compiler knows the bounds and drops the checks the verifier needs: hide them */
	asm volatile("" : "+r"(i), "+r"(c));
	if (i >= CS_RTT_BUCKETS || c >= CS_RTT_TOTALS)
		return;
	h->total[c]++;
	w[i]++;
}

static __always_inline void cs_rtt_total_add(struct cs_rtt_total *t, int side, __u64 us)
{
	__u64 c = cs_rtt_total_bucket(cs_rtt_bucket(us));

	asm volatile("" : "+r"(c));
	if (c >= CS_RTT_TOTALS)
		return;
	t->total[side & 1][c]++;
	t->sum_us[side & 1] += us;
}

/* Is TCP timestamp @a later than @b (RFC 7323 wraps them as sequence numbers)? */
static __always_inline int cs_ts_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/*
 * A segment of flow @key carrying @tsval passed at @now: start timing it when
 * the flow times nothing else. @seq_end (sequence number + payload) and
 * @payload find retransmissions. Returns 1 if the segment resent only data
 * already seen, else 0.
 *
 * A segment with no payload that is no SYN (a pure ACK) is not timed and takes
 * no way, as in ePPing: the peer echoes its TSval only with its next data, so
 * the time measured would include the peer's application waiting (a download's
 * ACKs toward the server wait for the server's next data). A handshake's SYN
 * and SYN-ACK are timed: each is answered at once.
 */
static __always_inline int cs_flow_sent(struct cs_flow_set *set, __u64 key, __u32 tsval,
					__u32 seq_end, __u32 payload, int syn, __u64 now)
{
	struct cs_flow *f = 0, *victim = 0;
	int i, resent = 0;

	if (!payload && !syn)
		return 0;

	for (i = 0; i < CS_FLOW_WAYS; i++) {
		struct cs_flow *w = &set->way[i];

		if (w->key == key) {
			f = w;
			break;
		}
		/* a way that times nothing goes first, then the one timing longest */
		if (!victim || (victim->t_ns && (!w->t_ns || w->t_ns < victim->t_ns)))
			victim = w;
	}
	if (!f) {
		if (!victim)
			return 0;
		victim->key = key;
		victim->t_ns = now;
		victim->tsval = tsval;
		victim->last = tsval;
		victim->seq_end = seq_end;
		return 0;
	}
	if (payload) {
		if (cs_ts_after(seq_end, f->seq_end))
			f->seq_end = seq_end;
		else
			resent = 1;
	}
	/* a TSval seen before was first seen earlier: timing it from now would be short */
	if (tsval != f->last && (!f->t_ns || now - f->t_ns > CS_RTT_MAX_NS)) {
		f->t_ns = now;
		f->tsval = tsval;
	}
	f->last = tsval;
	return resent;
}

/*
 * A segment the other way echoing @tsecr passed at @now; @key is the
 * fingerprint of the flow it answers. Returns the round trip in ns, or 0.
 */
static __always_inline __u64 cs_flow_echo(struct cs_flow_set *set, __u64 key, __u32 tsecr, __u64 now)
{
	int i;

	for (i = 0; i < CS_FLOW_WAYS; i++) {
		struct cs_flow *w = &set->way[i];
		__u64 rtt;

		if (w->key != key)
			continue;
		if (!w->t_ns)
			return 0;
		if (w->tsval == tsecr) {
			rtt = now > w->t_ns ? now - w->t_ns : 1;
			w->t_ns = 0;
			return rtt;
		}
		/* echoes only grow: one of a later TSval means ours will never come */
		if (cs_ts_after(tsecr, w->tsval))
			w->t_ns = 0;
		return 0;
	}
	return 0;
}

/* Fingerprint of a flow direction: addresses as 4 words (IPv4: the first), ports in one. Never 0. */
static __always_inline __u64 cs_flow_mix(__u64 h, __u32 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

static __always_inline __u64 cs_flow_key(const __u32 *src, const __u32 *dst, __u32 ports)
{
	__u64 h = 0x5ca1ab1e0ddba11ull;
	int i;

	for (i = 0; i < 4; i++)
		h = cs_flow_mix(h, src[i]);
	for (i = 0; i < 4; i++)
		h = cs_flow_mix(h, dst[i]);
	h = cs_flow_mix(h, ports);
	return h ? h : 1;
}

/* The set of flow @key in a table of @mask + 1 sets (a power of two: load --rtt-flows). */
static __always_inline __u32 cs_flow_set_of(__u64 key, __u32 mask)
{
	return (__u32)(key >> 40) & mask;
}

/* Sets for a table of at least @flows flows (at most CS_FLOW_SETS_MAX sets): a power of two. */
static __always_inline __u32 cs_flow_sets_for(__u64 flows)
{
	__u32 sets = CS_FLOW_SETS_MIN;

	while (sets < CS_FLOW_SETS_MAX && (__u64)sets * CS_FLOW_WAYS < flows)
		sets <<= 1;
	return sets;
}

#endif
