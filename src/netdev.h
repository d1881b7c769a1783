/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_NETDEV_H
#define CS_NETDEV_H

#include <stdbool.h>

/* ifindex of @name, or -ENODEV. */
int netdev_ifindex(const char *name);
/*
 * Wait up to @seconds for devices @a and @b to exist (at boot a driver or a
 * VLAN may come late). 0 when both do, -ENODEV when one still does not.
 */
int netdev_wait(const char *a, const char *b, unsigned int seconds);
/* Real number of TX queues (sysfs queues/tx-N), or -errno. */
int netdev_tx_queues(const char *name);
/* XPS overrides the TX queue our classifier picks: clear it on every queue. */
int netdev_xps_off(const char *name);
/*
 * Each TX queue's XPS setting that is not empty (xps_cpus, xps_rxqs: the
 * sysfs text) to @fn, so that it can be put back; and putting one back.
 */
int netdev_xps_each(const char *name,
		    int (*fn)(unsigned int queue, bool rxqs, const char *text, void *arg), void *arg);
int netdev_xps_set(const char *name, unsigned int queue, bool rxqs, const char *text);
/*
 * Which VLAN tags @name takes out of received frames (RX VLAN offload:
 * ethtool's rx-vlan-hw-parse, rx-vlan-stag-hw-parse): CS_VLAN_OFFLOAD_* bits, or -errno.
 */
#define CS_VLAN_OFFLOAD_CTAG 1 /* 802.1Q */
#define CS_VLAN_OFFLOAD_STAG 2 /* 802.1ad */
int netdev_vlan_offload(const char *name);

#endif
