// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "datapath.h"
#include "lock.h"
#include "log.h"
#include "maps.h"
#include "netdev.h"
#include "output.h"
#include "qdisc.h"
#include "state.h"
#include <net/if.h>

static const char help[] =
	"Usage: cpushaper unload --lan-dev DEV --wan-dev DEV\n"
	"\n"
	"Remove everything cpushaper made on both devices: the XDP programs, the TC\n"
	"classifiers (and the clsact qdisc when no other filter uses it), the MQ/HTB\n"
	"trees (the kernel puts the device's default qdisc back) and with them every map;\n"
	"the cpumaps are emptied first so their per-CPU kernel threads stop at once, and\n"
	"the lock file goes. Also empties any cpumap an older cpushaper left behind. A\n"
	"device that belongs to another running device pair is left as it is.\n"
	"Safe to run when nothing or only part of it is there, and when one device is\n"
	"gone (deleting a device removes what was attached to it). XPS goes back to what\n"
	"the first load found (-v says on how many queues).\n"
	"\n"
	"Options:\n" COMMON_OPTS_HELP;

int cmd_unload(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct cli_common c = { 0 };
	struct nl_sock *sk = NULL;
	const char *dev[2];
	int ix[2], opt, err = 0, removed = 0, lock, cpumap[CS_AT_N], n_cpumap = 0, foreign = 0, missing;
	int xps_fd = -1;
	struct cs_attach at[CS_AT_N];

	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &c))
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return 0;
		}
		fprintf(stderr, "Try 'cpushaper unload --help'.\n");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "cpushaper unload: takes no arguments; try 'cpushaper unload --help'\n");
		return EXIT_USAGE;
	}
	if (cli_need_devices(&c, "unload"))
		return EXIT_USAGE;
	out_init(stdout, c.json);
	dev[0] = c.lan;
	dev[1] = c.wan;
	for (int i = 0; i < 2; i++) {
		ix[i] = netdev_ifindex(dev[i]);
		if (ix[i] < 0)
			/* a deleted device took its programs and qdiscs with it */
			fprintf(stderr, "cpushaper: %s does not exist (any more): nothing to remove there\n",
				dev[i]);
	}
	missing = (ix[0] < 0) + (ix[1] < 0);
	/*
	 * What runs at the four hooks, read once. One owner per device: what
	 * another device pair runs is not ours to remove.
	 */
	for (int i = 0; i < CS_AT_N; i++) {
		struct cs_attach *a = &at[i];
		char b1[IF_NAMESIZE], b2[IF_NAMESIZE];

		memset(a, 0, sizeof(*a));
		/*
		 * A config this version cannot read (another version's) names no
		 * pair: unload removes it, as it always did; prog_id stays set.
		 */
		if (ix[i & 1] < 0 || state_attach_read(ix[i & 1], i >= CS_AT_LAN_XDP, a) ||
		    !a->prog_id || state_cfg_is_pair(&a->cfg, ix[0], ix[1]))
			continue;
		fprintf(stderr, "cpushaper: %s belongs to the running pair --lan-dev %s --wan-dev %s: left as it is\n",
			dev[i & 1], if_indextoname(a->cfg.lan_ifindex, b1) ? b1 : "?",
			if_indextoname(a->cfg.wan_ifindex, b2) ? b2 : "?");
		ix[i & 1] = -1;
		foreign++;
	}

	if ((lock = cs_lock_writer("unload", LOCK_TIMEOUT_S)) < 0)
		return 1;
	if ((err = tc_open(&sk))) {
		fprintf(stderr, "cpushaper: cannot open rtnetlink: %s\n", strerror(-err));
		close(lock);
		return 1;
	}
	/*
	 * The cpumaps our programs use, from any attachment point that is left:
	 * emptied once XDP is gone, so that their kthreads and the arrival
	 * program go at once, also for state that an older cpushaper built with
	 * a reference cycle between the two.
	 */
	for (int i = 0; i < CS_AT_N; i++) {
		int fd;

		if (ix[i & 1] < 0 || !at[i].prog_id ||
		    (fd = maps_fd_from_prog_id(at[i].prog_id, "cs_cpumap")) < 0)
			continue;
		for (int k = 0; k < n_cpumap && fd >= 0; k++)
			if (maps_same(fd, cpumap[k])) {
				close(fd);
				fd = -1;
			}
		if (fd >= 0)
			cpumap[n_cpumap++] = fd;
	}
	/* XPS as the first load found it: read before the maps go with the programs */
	for (int i = 0; i < CS_AT_N && xps_fd < 0; i++)
		if (ix[i & 1] >= 0 && at[i].prog_id)
			xps_fd = maps_fd_from_prog_id(at[i].prog_id, "cs_xps");
	/* XDP first: no packet is steered to a CPU whose tree is gone. */
	for (int step = 0; step < 3; step++) {
		if (step == 1) {
			for (int i = 0; i < n_cpumap; i++) {
				int e = maps_cpumap_clear(cpumap[i]);

				if (e) {
					fprintf(stderr, "cpushaper: cannot empty the cpumap: %s\n", strerror(-e));
					err = e;
				}
				close(cpumap[i]);
			}
		}
		for (int i = 0; i < 2; i++) {
			const char *what[] = { "XDP program", "TC classifier", "qdisc tree" };
			__u32 id;
			int e, had;

			if (ix[i] < 0)
				continue;
			if (step == 0) {
				had = dp_xdp_present(ix[i]) == 1;
				e = dp_xdp_detach(ix[i]);
			} else if (step == 1) {
				had = dp_tc_query(ix[i], &id) == 0;
				e = dp_tc_detach(ix[i]);
			} else {
				had = tc_tree_present(sk, ix[i]) == 1;
				e = tc_tree_destroy(sk, ix[i]);
			}
			if (e) {
				fprintf(stderr, "cpushaper: cannot remove the %s of %s: %s\n", what[step],
					dev[i], strerror(-e));
				err = e;
			}
			removed += had && !e;
		}
	}
	tc_close(sk);
	if (xps_fd >= 0) {
		unsigned int restored, failed;

		state_xps_restore(xps_fd, dev, ix, &restored, &failed);
		close(xps_fd);
		if (failed)
			fprintf(stderr, "cpushaper: XPS could not be put back on %u queue%s\n", failed,
				failed == 1 ? "" : "s");
		else if (restored)
			pr_info("cpushaper: XPS put back on %u queue setting%s\n", restored,
				restored == 1 ? "" : "s");
	}
	{
		int n = maps_cpumap_sweep_orphans();

		if (n > 0)
			fprintf(stderr, "cpushaper: emptied %d cpumap%s that an older cpushaper left behind (with %s kernel threads)\n",
				n, n == 1 ? "" : "s", n == 1 ? "its" : "their");
	}
	cs_lock_release_remove(lock);
	out_open_obj(NULL);
	print_u64(PRINT_JSON, "removed", NULL, (uint64_t)removed);
	if (!c.json && !err)
		printf(removed ? "unloaded from %s/%s\n" : "nothing was loaded on %s/%s\n", c.lan, c.wan);
	out_close_obj();
	out_finish();
	return err || (missing == 2 && !foreign) ? 1 : 0;
}
