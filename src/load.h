/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The load pipeline, top to bottom in load_run(): read and check the files,
 * read what the kernel runs, place, plan, then apply (repairing what changed
 * under the shaper first). src/cmd_load.c parses the command line and prints.
 */
#ifndef CS_LOAD_H
#define CS_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "cli.h"
#include "datapath.h"
#include "diff.h"
#include "network.h"
#include "plan.h"
#include "state.h"

#define CPUMAP_QSIZE 2048
#define DEFAULT_LINK_BPS 10000000000ULL  /* 10 Gbit/s */
#define DEFAULT_CLASS_BPS 1000000000ULL  /* 1 Gbit/s */
#define MAX_AUTO_HTBS 16
#define DEFAULT_MAX_REMOVE 10 /* percent */

struct load_opts {
	struct cli_common c;
	const char *file;
	bool cpus_given, link_given, default_given, unknown_given;
	bool cpus[CS_MAX_CPUS];
	uint64_t link_bps, default_bps;
	uint32_t unknown_policy, default_cpu;
	enum cs_leaf leaf;   /* for circuits with no sqm of their own */
	bool leaf_given;
	uint32_t queue_ms;   /* 0: not given */
	enum cs_xdp_mode xdp_mode;
	bool xdp_mode_given;
	const char *network;
	const char *root;
	bool rebalance;
	bool skip_invalid;
	bool force;          /* past the guard against removing many circuits */
	uint32_t max_remove; /* percent of the running circuits a load may remove */
	bool dry_run;
	uint32_t qsize;
	uint32_t wait_s; /* for the devices to appear */
	uint32_t htbs;  /* 0: not given */
	int skip_local; /* -1 not given */
	int xdp_meta;   /* -1 not given */
	int rtt;        /* -1 not given */
	uint32_t rtt_flows; /* 0: not given */
};

/* What a load did (or, with --dry-run, would do): for its summary. */
struct load_summary {
	const struct circuit_set *want;
	const struct network *net;
	const struct plan *plan;
	const bool *cpus; /* [CS_MAX_CPUS] */
	const struct cs_repairs *rep;
	const struct change_list *changes;
};

/*
 * Load @o->file: 0 when done (then @summary was called), else -errno with
 * the cause printed; *partial when the kernel was changed before the failure
 * and not put back (exit status 3), *applied when the circuits were in place.
 */
int load_run(const struct load_opts *o, void (*summary)(const struct load_opts *o,
							 const struct load_summary *sum),
	     bool *partial, bool *applied);

#endif
