/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The running shaper of a device pair, found in the kernel, and changes to it. */
#ifndef CS_STATE_H
#define CS_STATE_H

#include <stdbool.h>
#include "maps.h"
#include "plan.h"

struct nl_sock;

struct cs_state {
	const char *lan, *wan;
	int lan_ix, wan_ix;
	bool loaded;         /* our programs and maps were found */
	struct cs_maps maps; /* valid when loaded */
	struct cs_config cfg;
};

/*
 * Resolve the devices and look for a running shaper: our TC filter on
 * lan-dev egress leads to the program, the program to its maps. Needs no
 * bpffs, so it works under any `ip netns exec`. Errors are printed.
 */
int state_open(struct cs_state *s, const char *lan, const char *wan);
/* state_open, and -ENOENT with a message when nothing is loaded on the pair. */
int state_open_loaded(struct cs_state *s, const char *lan, const char *wan);
void state_close(struct cs_state *s);

/*
 * Execute @p: new classes, class changes, circuit records, address map;
 * then, past the point of no return, old addresses and classes go. A failure
 * before that point undoes what was done, using @have and @have_lpm (sorted
 * by prefix), and returns the error.
 */
int state_apply(struct cs_state *s, struct nl_sock *sk, const struct plan *p,
		const struct circuit_set *have, const struct lpm_entry *have_lpm,
		size_t n_have_lpm);

/*
 * Delete circuit classes (minor 3 and up, in any of our HTBs, on both devices)
 * that no circuit of @want uses: leftovers of an interrupted apply. Returns
 * how many went, or -errno.
 */
int state_gc_classes(struct cs_state *s, struct nl_sock *sk, const struct circuit_set *want);

/*
 * Live plan change of one running circuit: @want is @have with new rates.
 * Changes the class of each direction whose rates differ, in place, then the
 * circuit's record; a failure puts back what was changed.
 */
int state_set_rates(struct cs_state *s, struct nl_sock *sk, const struct circuit *have,
		    const struct circuit *want);

#endif
