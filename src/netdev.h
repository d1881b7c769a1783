/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_NETDEV_H
#define CS_NETDEV_H

/* ifindex of @name, or -ENODEV. */
int netdev_ifindex(const char *name);
/* Real number of TX queues (sysfs queues/tx-N), or -errno. */
int netdev_tx_queues(const char *name);
/* XPS overrides the TX queue our classifier picks: clear it on every queue. */
int netdev_xps_off(const char *name);

#endif
