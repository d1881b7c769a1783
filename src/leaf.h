/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which leaf qdisc each circuit class gets, and its handle. Pure logic: no
 * libnl, no libbpf (unit-tested).
 *
 * Handle majors of a device, in the order of src/handles.h: the HTBs take
 * the first H (H = htb_stride * htbs_per_cpu), the leaves of their default
 * classes :2 the next H (HTB q's is the (H + q)-th), circuits' leaves the
 * rest. A circuit's leaves have the same major on both devices. A leaf added
 * without a handle would take one of the kernel's automatic ones (8000-fffe:
 * at most 32767 a device), so no leaf is.
 * HTB's own default leaf (CS_LEAF_DEFAULT) has handle 0 and takes none.
 */
#ifndef CS_LEAF_H
#define CS_LEAF_H

#include <stdbool.h>
#include <stddef.h>
#include "circuits.h"

/* Leaf kinds the kernel has (probed once per load; FIFO and DEFAULT always). */
struct leaf_avail {
	bool fq_codel, cake;
};

/* How many circuits can have leaves of their own with @htb_majors HTB majors. */
size_t leaf_budget(uint32_t htb_majors);
/* The leaf a circuit's @sqm (enum circuit_sqm) asks for, @def where it names none. */
enum cs_leaf leaf_wanted(uint8_t sqm, enum cs_leaf def);
/* What the kernel can do of @want: cake, else fq_codel, else the FIFO. */
enum cs_leaf leaf_for(enum cs_leaf want, const struct leaf_avail *a);
/* "fq_codel", "cake", "fifo", "pfifo" (HTB's own). */
const char *leaf_name(enum cs_leaf leaf);

/*
 * Give every circuit of @want (placed) its wanted and applied leaves and a
 * handle major: a circuit that keeps its class keeps its major; others get the
 * lowest one no running circuit (@have) holds (the old classes still live
 * while the plan is applied), nor @held (NULL, or 0x10000 flags: leaves of
 * classes an interrupted run left). *fallback: circuits where the kernel lacks what
 * they want. A load needing more majors than there are is refused into @d.
 */
int leaf_assign(struct circuit_set *want, const struct circuit_set *have, enum cs_leaf def,
		const struct leaf_avail *a, uint32_t htb_majors, const uint8_t *held, size_t *fallback,
		const char *file, struct cs_diag *d);

#endif
