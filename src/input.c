// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "input.h"

static int read_network(const struct input_opts *o, struct circuit_set *want, struct network *net,
			char path[4096], struct cs_diag *d)
{
	const char *slash = strrchr(o->file, '/');
	size_t named;
	int err;

	memset(net, 0, sizeof(*net));
	if (o->network && strcmp(o->network, "none")) {
		snprintf(path, 4096, "%s", o->network);
	} else {
		snprintf(path, 4096, "%.*snetwork.json", slash ? (int)(slash - o->file + 1) : 0,
			 o->file);
		if (o->network || access(path, F_OK)) {
			if (o->root) {
				diag_add(d, "%s: --root needs a network file (%s, or --network FILE)",
					 o->file, path);
				return -EINVAL;
			}
			named = network_parents_named(want);
			for (size_t i = 0; i < want->n; i++)
				want->v[i].node = 0;
			if (named)
				fprintf(stderr, "cpushaper: %zu circuit%s name%s a parent node, but %s (%s; or --network FILE): shaped under their CPU's root class\n",
					named, named == 1 ? "" : "s", named == 1 ? "s" : "",
					o->network ? "--network none was given" : "there is no network file",
					path);
			path[0] = '\0';
			return 0;
		}
	}
	if ((err = network_load(path, net, d)))
		return err;
	if (o->root && (err = network_root(net, o->root, want, o->file, d)))
		return err;
	return network_resolve(net, want, o->file, d);
}

int input_read(const struct input_opts *in, struct circuit_set *want, struct network *net,
	       char net_path[4096], struct cs_diag *d, struct cs_diag *skipped)
{
	struct cs_diag own = { 0 };
	struct cs_diag *sk = skipped ? skipped : &own;
	int err;

	memset(net, 0, sizeof(*net));
	net_path[0] = '\0';
	err = circuits_load_csv_skipping(in->file, want, d, in->skip_invalid ? sk : NULL);
	if (!skipped && own.n) {
		for (size_t i = 0; i < own.n; i++)
			fprintf(stderr, "cpushaper: warning: skipped %s\n", own.msg[i]);
		fprintf(stderr, "cpushaper: warning: %s: %zu row%s with problems left out (--skip-invalid)\n",
			in->file, own.n, own.n == 1 ? "" : "s");
	}
	diag_free(&own);
	if (err)
		return err;
	if (want->ignored)
		fprintf(stderr, "cpushaper: note: %s: columns not used: %s\n", in->file, want->ignored);
	if (want->names_fixed)
		fprintf(stderr, "cpushaper: warning: %s: %zu circuit name%s not UTF-8: the bytes that are not show as '?' (save the file as UTF-8)\n",
			in->file, want->names_fixed, want->names_fixed == 1 ? " is" : "s are");
	return read_network(in, want, net, net_path, d);
}
