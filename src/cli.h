/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

/*
 * Exit codes: 0 done, 1 failed with the running state as it was, 2 bad usage,
 * 3 a load that changed the kernel and then failed (applied in part).
 */
#define EXIT_USAGE 2
#define EXIT_PARTIAL 3
/* How long a writer waits for another to finish. */
#define LOCK_TIMEOUT_S 600

struct cli_common {
	const char *lan, *wan;
	bool json;
};

/* Options every command takes; see COMMON_OPTS_HELP. */
#define COMMON_LONGOPTS                                   \
	{ "lan-dev", required_argument, NULL, 'L' },      \
	{ "wan-dev", required_argument, NULL, 'W' },      \
	{ "json", no_argument, NULL, 'j' },               \
	{ "verbose", no_argument, NULL, 'v' },            \
	{ "config", required_argument, NULL, 'C' },       \
	{ "help", no_argument, NULL, 'h' }
#define COMMON_SHORTOPTS "jvh"

#define COMMON_OPTS_HELP                                                              \
	"  --lan-dev DEV   customer-facing device (download is shaped on its egress)\n" \
	"  --wan-dev DEV   internet-facing device (upload is shaped on its egress)\n"   \
	"  --config FILE   read FILE instead of " CS_CONFIG_DEFAULT "\n"        \
	"                  (its keys are the long options: lan-dev = eth1)\n"          \
	"  -j, --json      print JSON\n"                                                 \
	"  -v, --verbose   more messages (repeat for libbpf/libxdp debug output)\n"     \
	"  -h, --help      this text\n"

/* The configuration file read for this run (keys, file name; empty if none). */
extern struct config cli_config;

/* Handle a common option; returns 1 if @opt was one. */
int cli_common_opt(int opt, const char *arg, struct cli_common *c);
/* Both devices given (by option or configuration)? Else say so for @cmd. */
int cli_need_devices(const struct cli_common *c, const char *cmd);
/* Parse a Mbit/s option value; prints an error naming @name. */
int cli_rate(const char *name, const char *arg, uint64_t *bps);
/* Parse a whole number from @lo to @hi; prints an error naming @name. */
int cli_uint(const char *name, const char *arg, unsigned long lo, unsigned long hi,
	     uint32_t *out);

int cmd_load(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_setrate(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
