/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The input of a load: the customer file and the network above it, read and
 * checked together. Shared by load and check (which needs no root and no
 * kernel), so both refuse the same files with the same words.
 */
#ifndef CS_INPUT_H
#define CS_INPUT_H

#include "circuits.h"
#include "diag.h"
#include "network.h"

struct input_opts {
	const char *file;    /* the customer file */
	const char *network; /* NULL: network.json beside it, if any; "none": no network */
	const char *root;    /* shape only this node's subtree */
	bool skip_invalid;   /* leave rows with a problem out (LibreQoS's way) */
};

/*
 * Read @in into @want and @net; @net_path gets the network file read ("" for
 * none). Problems go to @d as FILE:LINE: reason (then -EINVAL); with
 * skip_invalid, those of rows left out go to @skipped (may be NULL: printed).
 * Warnings that refuse nothing are printed to stderr.
 */
int input_read(const struct input_opts *in, struct circuit_set *want, struct network *net,
	       char net_path[4096], struct cs_diag *d, struct cs_diag *skipped);

#endif
