// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>
#include "cpushaper.skel.h"
#include "cpushaper_vlan.skel.h"
#include "datapath.h"
#include "log.h"
#include "qdisc.h"

#define XDP_PROG_NAME "cs_xdp_steer"

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int want = level == LIBBPF_DEBUG ? CS_LOG_DEBUG + 1 : CS_LOG_INFO;

	if (cs_log_level < want)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int print_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	int want = level == LIBXDP_DEBUG ? CS_LOG_DEBUG + 1 : CS_LOG_INFO;

	if (cs_log_level < want)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void dp_setup_logging(void)
{
	libbpf_set_print(print_libbpf);
	libxdp_set_print(print_libxdp);
}

static int dup_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int dp_load(const struct cs_maps *reuse, struct cpushaper **out, struct cs_maps *m)
{
	return dp_load_sized(reuse, 0, out, m);
}

int dp_load_sized(const struct cs_maps *reuse, __u32 flow_sets, struct cpushaper **out,
		  struct cs_maps *m)
{
	struct cpushaper *skel;
	int err;

	maps_init(m);
	skel = cpushaper__open();
	if (!skel)
		return -errno ? -errno : -ENOMEM;
	if (reuse) {
		for (size_t i = 0; i < cs_n_map_slots; i++) {
			const struct cs_map_slot *slot = &cs_map_slots[i];
			struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, slot->name);

			if (!map) {
				err = -ENOENT;
				goto err;
			}
			if ((err = bpf_map__reuse_fd(map, CS_MAP_FD(reuse, slot))))
				goto err;
		}
	}
	if (!reuse) {
		/* per-CPU maps as large as the CPUs this machine can have */
		int ncpu = libbpf_num_possible_cpus();
		__u32 n = ncpu <= 0 || ncpu > CS_MAX_CPUS ? CS_MAX_CPUS : (__u32)ncpu;

		if ((err = bpf_map__set_max_entries(skel->maps.cs_cpumap, n)) ||
		    (err = bpf_map__set_max_entries(skel->maps.cs_cpu_stats, n)))
			goto err;
		if (!flow_sets)
			flow_sets = CS_FLOW_SETS;
		if ((flow_sets & (flow_sets - 1)) ||
		    (err = bpf_map__set_max_entries(skel->maps.cs_flows, flow_sets))) {
			err = err ? err : -EINVAL; /* the mask needs a power of two */
			goto err;
		}
	} else {
		/* the running table's size: the new program masks with it */
		int sets = maps_flow_sets(reuse);

		if (sets <= 0 || (sets & (sets - 1))) {
			err = sets < 0 ? sets : -EPROTO;
			goto err;
		}
		flow_sets = (__u32)sets;
	}
	skel->rodata->cs_flow_mask = flow_sets - 1;
	if ((err = cpushaper__load(skel)))
		goto err;
	/*
	 * A program's map_ids list only the maps its code uses; bind every map to
	 * the XDP and TC programs so a later invocation finds all of them from any
	 * attachment point. Never to the cpumap's own program: the cpumap's entries
	 * hold that program, so a binding back would be a reference cycle that
	 * keeps the cpumap, its kthreads and every map alive after unload.
	 */
	{
		struct bpf_program *progs[] = { skel->progs.cs_xdp_steer, skel->progs.cs_tc_classify,
						skel->progs.cs_cpumap_arrive };
		struct bpf_map *map;

		/* test hook (docs/failure-modes.md): build the cycle of <= 0.7 to test the cleanup */
		size_t n = getenv("CS_TEST_OLD_BINDING") ? 3 : 2;

		for (size_t i = 0; i < n; i++)
			bpf_object__for_each_map(map, skel->obj)
				if (bpf_prog_bind_map(bpf_program__fd(progs[i]), bpf_map__fd(map), NULL)) {
					err = -errno;
					goto err;
				}
	}

	for (size_t i = 0; i < cs_n_map_slots; i++) {
		const struct cs_map_slot *slot = &cs_map_slots[i];
		struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, slot->name);

		if (!map || (CS_MAP_FD(m, slot) = dup_fd(bpf_map__fd(map))) < 0) {
			err = map ? -EMFILE : -ENOENT;
			maps_close(m);
			goto err;
		}
	}
	*out = skel;
	return 0;
err:
	cpushaper__destroy(skel);
	return err;
}

#ifndef BPF_F_XDP_DEV_BOUND_ONLY
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6) /* kernel >= 6.3; not in Debian 12's headers */
#endif

int dp_xdp_load_vlan(const struct cs_maps *m, int ifindex)
{
	struct cpushaper_vlan *skel = cpushaper_vlan__open();
	struct bpf_program *xdp;
	struct bpf_map *map;
	int err, fd = -1;

	if (!skel)
		return -errno ? -errno : -ENOMEM;
	for (size_t i = 0; i < cs_n_map_slots; i++) {
		const struct cs_map_slot *slot = &cs_map_slots[i];

		map = bpf_object__find_map_by_name(skel->obj, slot->name);
		if (!map) {
			err = -ENOENT;
			goto out;
		}
		if ((err = bpf_map__reuse_fd(map, CS_MAP_FD(m, slot))))
			goto out;
	}
	/* only the steering program, bound to its device: the kfunc is the driver's */
	bpf_program__set_autoload(skel->progs.cs_tc_classify, false);
	bpf_program__set_autoload(skel->progs.cs_cpumap_arrive, false);
	xdp = skel->progs.cs_xdp_steer;
	bpf_program__set_ifindex(xdp, (__u32)ifindex);
	if ((err = bpf_program__set_flags(xdp, bpf_program__flags(xdp) | BPF_F_XDP_DEV_BOUND_ONLY)) ||
	    (err = cpushaper_vlan__load(skel)))
		goto out;
	/* found from this program like from the shared one: bind every map */
	bpf_object__for_each_map(map, skel->obj)
		if (bpf_prog_bind_map(bpf_program__fd(xdp), bpf_map__fd(map), NULL)) {
			err = -errno;
			goto out;
		}
	if ((fd = dup_fd(bpf_program__fd(xdp))) < 0)
		err = -errno;
out:
	cpushaper_vlan__destroy(skel);
	return err ? err : fd;
}

int dp_xdp_keeps_vlan(__u32 prog_id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct btf *btf;
	int fd, err;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	if (!info.btf_id)
		return 0;
	/* the copy that keeps tags is the one whose BTF names the tag reader */
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return -errno;
	err = btf__find_by_name_kind(btf, "bpf_xdp_metadata_rx_vlan_tag", BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return err;
}

int dp_xdp_replace(int ifindex, __u32 old_id, int new_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	int old_fd, err;

	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	/* only a plainly attached program in native mode: never a dispatcher's */
	if (q.attach_mode != XDP_ATTACHED_DRV || q.drv_prog_id != old_id)
		return -EOPNOTSUPP;
	old_fd = bpf_prog_get_fd_by_id(old_id);
	if (old_fd < 0)
		return -errno;
	o.old_prog_fd = old_fd;
	err = bpf_xdp_attach(ifindex, new_fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &o);
	close(old_fd);
	return err;
}

void dp_unload(struct cpushaper *skel)
{
	cpushaper__destroy(skel);
}

int dp_xdp_fd(struct cpushaper *skel)
{
	return bpf_program__fd(skel->progs.cs_xdp_steer);
}

int dp_tc_fd(struct cpushaper *skel)
{
	return bpf_program__fd(skel->progs.cs_tc_classify);
}

int dp_cpumap_fd(struct cpushaper *skel)
{
	return bpf_program__fd(skel->progs.cs_cpumap_arrive);
}

static void tc_opts(struct bpf_tc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = CS_TC_HANDLE;
	o->priority = CS_TC_PRIORITY;
}

int dp_tc_query(int ifindex, __u32 *prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	struct bpf_tc_opts o;
	int err;

	tc_opts(&o);
	err = bpf_tc_query(&hook, &o);
	if (err == -EINVAL)
		err = -ENOENT; /* no clsact qdisc at all */
	if (!err)
		*prog_id = o.prog_id;
	return err;
}

int dp_tc_attach(int ifindex, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	struct bpf_tc_opts o;
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	tc_opts(&o);
	o.prog_fd = prog_fd;
	o.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&hook, &o);
}

int dp_tc_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	struct nl_sock *sk = NULL;
	struct bpf_tc_opts o;
	__u32 id;
	int err, n_in, n_eg;

	if (dp_tc_query(ifindex, &id) == 0) {
		tc_opts(&o);
		err = bpf_tc_detach(&hook, &o);
		if (err && err != -ENOENT)
			return err;
	}
	/* Leave clsact alone if anybody else filters there. */
	if ((err = tc_open(&sk)))
		return err;
	n_in = tc_filter_count(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	n_eg = tc_filter_count(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	tc_close(sk);
	if (n_in == 0 && n_eg == 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL)
			return err;
	}
	return 0;
}

/* Our program on @ifindex, from the multiprog view; caller frees *mp. */
static struct xdp_program *find_ours(int ifindex, struct xdp_multiprog **mp)
{
	struct xdp_program *p;

	*mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(*mp)) {
		*mp = NULL;
		return NULL;
	}
	if (xdp_multiprog__is_legacy(*mp)) {
		p = xdp_multiprog__main_prog(*mp);
		return p && !strcmp(xdp_program__name(p), XDP_PROG_NAME) ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, *mp); p; p = xdp_multiprog__next_prog(p, *mp))
		if (!strcmp(xdp_program__name(p), XDP_PROG_NAME))
			return p;
	return NULL;
}

/* The name of program @id; "" if it cannot be read. */
static void prog_name(__u32 id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	close(fd);
}

int dp_xdp_query(int ifindex, __u32 *ours, __u32 *other, char other_name[16])
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char name[BPF_OBJ_NAME_LEN];
	__u32 id;

	*ours = 0;
	if (other)
		*other = 0;
	/*
	 * Ask the kernel first: libxdp 1.3's view of a plainly attached program
	 * keeps an fd open per call, which the exporter, calling this on every
	 * scrape, must not pile up. libxdp only for its dispatcher.
	 */
	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	if (!id)
		return 0;
	prog_name(id, name);
	if (!strcmp(name, XDP_PROG_NAME)) {
		*ours = id;
	} else if (!strcmp(name, "xdp_dispatcher")) {
		p = find_ours(ifindex, &mp);
		if (p)
			*ours = xdp_program__id(p);
		if (mp)
			xdp_multiprog__close(mp);
	} else if (other) {
		*other = id;
		memcpy(other_name, name, 16);
	}
	return 0;
}

int dp_xdp_prog_id(int ifindex, __u32 *prog_id)
{
	int err = dp_xdp_query(ifindex, prog_id, NULL, NULL);

	return err ? err : *prog_id ? 0 : -ENOENT;
}

int dp_xdp_present(int ifindex)
{
	__u32 id;
	int err = dp_xdp_prog_id(ifindex, &id);

	return err == -ENOENT ? 0 : err ? err : 1;
}

int dp_xdp_attach(int ifindex, int prog_fd, enum cs_xdp_mode mode)
{
	struct xdp_program *prog;
	int fd, err;

	fd = dup(prog_fd); /* libxdp closes what it is given */
	if (fd < 0)
		return -errno;
	prog = xdp_program__from_fd(fd);
	err = libxdp_get_error(prog);
	if (err) {
		close(fd);
		return err;
	}
	err = xdp_program__attach(prog, ifindex,
				  mode == CS_XDP_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	xdp_program__close(prog);
	return err;
}

int dp_xdp_detach(int ifindex)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = find_ours(ifindex, &mp);
	int err = 0;

	if (p) {
		if (xdp_multiprog__is_legacy(mp))
			err = xdp_multiprog__detach(mp);
		else
			err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	}
	if (mp)
		xdp_multiprog__close(mp);
	return err;
}
