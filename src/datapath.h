/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loading the BPF object and attaching its programs (libbpf TC, libxdp XDP). */
#ifndef CS_DATAPATH_H
#define CS_DATAPATH_H

#include <stdbool.h>
#include <linux/types.h>
#include "maps.h"

struct cpushaper; /* the skeleton */

enum cs_xdp_mode { CS_XDP_NATIVE, CS_XDP_SKB };

/* Route libbpf and libxdp messages through our log (shown with -v). */
void dp_setup_logging(void);

/*
 * Open and load the object. With @reuse, its programs use the running maps
 * (to re-attach a missing program); else it creates fresh maps. On success
 * @m holds duplicates of the map fds.
 */
int dp_load(const struct cs_maps *reuse, struct cpushaper **skel, struct cs_maps *m);
/* The same with an RTT flow table of @flow_sets sets (a power of two; 0: CS_FLOW_SETS) when the maps are made. */
int dp_load_sized(const struct cs_maps *reuse, __u32 flow_sets, struct cpushaper **skel,
		  struct cs_maps *m);
void dp_unload(struct cpushaper *skel);
/*
 * A copy of the steering program on the maps of @m, bound to @ifindex, that
 * puts a VLAN tag the driver took out of the frame back in before the cpumap
 * redirect (the driver must implement the rx_vlan_tag XDP metadata kfunc:
 * nl_xdp_vlan_tag()). Native mode only. A program fd, or -errno.
 */
int dp_xdp_load_vlan(const struct cs_maps *m, int ifindex);
/* Is program @prog_id that copy (1), or the shared steering program (0)? -errno. */
int dp_xdp_keeps_vlan(__u32 prog_id);
/*
 * Swap our native-mode program @old_id on @ifindex for @new_fd in one step
 * (no packet goes unsteered). -EOPNOTSUPP when @old_id is not attached
 * plainly in native mode there.
 */
int dp_xdp_replace(int ifindex, __u32 old_id, int new_fd);
int dp_xdp_fd(struct cpushaper *skel);
int dp_tc_fd(struct cpushaper *skel);
int dp_cpumap_fd(struct cpushaper *skel);

/* Our TC filter on @ifindex egress: 0 with *prog_id, -ENOENT, or -errno. */
int dp_tc_query(int ifindex, __u32 *prog_id);
int dp_tc_attach(int ifindex, int prog_fd);
/* Remove our filter, and the clsact qdisc when nothing else uses it. */
int dp_tc_detach(int ifindex);

/* Is our XDP program on @ifindex (alone or under libxdp's dispatcher)? 1/0/-errno. */
int dp_xdp_present(int ifindex);
/*
 * What holds the XDP hook of @ifindex: *ours = our program's id (plainly or
 * under libxdp's dispatcher), else 0; with @other, another tool's program's id
 * and name, else 0. 0 or -errno.
 */
int dp_xdp_query(int ifindex, __u32 *ours, __u32 *other, char other_name[16]);
/* The id of our XDP program on @ifindex: 0, or -ENOENT. */
int dp_xdp_prog_id(int ifindex, __u32 *prog_id);
int dp_xdp_attach(int ifindex, int prog_fd, enum cs_xdp_mode mode);
int dp_xdp_detach(int ifindex);

#endif
