/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The order in which cpushaper gives out qdisc handle majors on a device.
 * Pure logic (unit-tested).
 *
 * The kernel keeps a device's qdiscs in a 16-bucket hash keyed on the handle
 * (hash_32(handle, 4)), and looks an HTB up there for every class or leaf
 * added under it. The pfifo the kernel gives each new HTB class has handle 0,
 * so all of them share bucket 0: an HTB whose major falls in that bucket
 * (2, 21, ...) walks every one of them per lookup (docs/kernel-notes.md). So
 * the order is: the majors outside bucket 0, ascending (1, 3, 4, ..., 20, 22,
 * ...), then those inside it; never 0, 0x7fff (the MQ root) or 0xffff
 * (ingress/clsact). HTB t (t = its TX queue) takes the t-th major, the leaf of
 * its default class the (H + t)-th (H HTBs), circuits' leaves the rest.
 */
#ifndef CS_HANDLES_H
#define CS_HANDLES_H

#include <stdint.h>

/* Majors in the order: 1..0xfffe without 0x7fff. */
#define HANDLE_COUNT 65533u

/* The bucket of the device's qdisc hash that handle @major:0 falls in. */
static inline unsigned int handle_bucket(uint32_t major)
{
	return (uint32_t)((major << 16) * 0x61C88647u) >> 28;
}

/* The @i-th major of the order; 0 when @i >= HANDLE_COUNT. */
uint32_t handle_major(uint32_t i);
/* Where @major is in the order; -1 for 0, 0x7fff and above 0xfffe. */
int32_t handle_index(uint32_t major);

/* The major of HTB @j of @cpu: it sits on TX queue j * stride + cpu. */
static inline uint32_t handle_htb(uint32_t stride, uint32_t cpu, uint32_t j)
{
	return handle_major(j * stride + cpu);
}

#endif
