/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The running shaper of a device pair, found in the kernel, and changes to it. */
#ifndef CS_STATE_H
#define CS_STATE_H

#include <stdbool.h>
#include "maps.h"
#include "plan.h"

struct nl_sock;
struct tc_stat;

/* The four places our programs run, in the order state_open looks at them. */
enum { CS_AT_LAN_TC, CS_AT_WAN_TC, CS_AT_LAN_XDP, CS_AT_WAN_XDP, CS_AT_N };

/* What one attachment point holds. */
struct cs_attach {
	__u32 prog_id;   /* our program there; 0: none */
	__u32 config_id; /* id of the cs_config map it uses */
	struct cs_config cfg;
	__u32 other_id;  /* XDP: another tool's program holds the hook */
	char other_name[16];
};

struct cs_state {
	const char *lan, *wan;
	int lan_ix, wan_ix;
	bool loaded;         /* our programs and maps were found */
	struct cs_maps maps; /* valid when loaded */
	struct cs_config cfg;
	/*
	 * The queue time (ms) the running FIFO leaves have while a load applies a
	 * new one in cfg: what a failed apply sizes them back to (0: cfg's).
	 */
	__u32 was_queue_ms;
	__u32 config_id;     /* of the running state's cs_config map */
	struct cs_attach at[CS_AT_N];
	struct node_rec *nodes; /* the running network's nodes, sorted by name (state_read_nodes) */
	size_t n_nodes;
};

/*
 * Resolve the devices and look for a running shaper: our program at any of
 * the four attachment points (TC egress, XDP, of both devices) leads to its
 * maps. Needs no bpffs, so it works under any `ip netns exec`. A device whose
 * programs belong to another device pair is refused (-EXDEV). Errors are printed.
 */
int state_open(struct cs_state *s, const char *lan, const char *wan);
/*
 * state_open for readers: with STATE_GONE_OK one device may be missing (its
 * ifindex is then -1, its attachment points empty) and the other is read.
 */
#define STATE_GONE_OK 1u
int state_open_ex(struct cs_state *s, const char *lan, const char *wan, unsigned int flags);
/* Our program at one attachment point of @ifindex, and the state it uses; prog_id 0 if none. */
int state_attach_read(int ifindex, bool xdp, struct cs_attach *a);
/* Was @cfg written for the pair @lan_ix/@wan_ix (-1: that device is gone)? */
bool state_cfg_is_pair(const struct cs_config *cfg, int lan_ix, int wan_ix);
/*
 * The classes of both devices in the running shaper's HTBs (one dump per
 * HTB, which the kernel serves without walking every qdisc of the device).
 * Caller frees cls[0], cls[1].
 */
int state_read_classes(const struct cs_state *s, struct nl_sock *sk, struct tc_stat *cls[2],
		       size_t ncls[2]);
/* Read the four attachment points again (a long-running reader). */
void state_refresh_attach(struct cs_state *s);
/* Does attachment point @at run a program on the running state's maps? */
bool state_at_ok(const struct cs_state *s, int at);
const char *state_at_name(int at);
/* state_open, and -ENOENT with a message when nothing is loaded on the pair. */
int state_open_loaded(struct cs_state *s, const char *lan, const char *wan, unsigned int flags);
void state_close(struct cs_state *s);
/*
 * Put back the XPS settings the map @fd kept (cs_xps) on the devices @dev
 * whose @ix is not -1; counts in *restored, *failed (may be NULL).
 */
void state_xps_restore(int fd, const char *const dev[2], const int ix[2], unsigned int *restored,
		       unsigned int *failed);

/*
 * Execute @p: new classes, class changes, circuit records, address map;
 * then, past the point of no return, old addresses and classes go. A failure
 * before that point undoes what was done, using @have and @have_lpm (sorted
 * by prefix), and returns the error.
 */
int state_apply(struct cs_state *s, struct nl_sock *sk, const struct plan *p,
		const struct circuit_set *have, const struct lpm_entry *have_lpm,
		size_t n_have_lpm);

/* The same for a node of the network: its classes' rate and ceil, and its record. */
int state_set_node_rates(struct cs_state *s, struct nl_sock *sk, const struct node_rec *have,
			 const struct node_rec *want);

/* What a load found broken in the kernel and put back (see state_repair_classes). */
struct cs_repairs {
	unsigned programs;   /* attachment points that lacked our program on the running maps */
	unsigned htbs;       /* HTB qdiscs that were missing */
	unsigned classes[2]; /* circuit classes created again, on lan-dev and wan-dev */
	unsigned rates[2];   /* circuit classes whose rates had been changed under us */
	unsigned leftovers;  /* classes that no circuit uses (an interrupted run) */
	unsigned nodes;      /* node classes created again or whose rates were put back */
};

/*
 * Make the kernel hold what the maps say for every running circuit of @have:
 * from the class dumps @cls/@ncls of lan-dev and wan-dev (taken before the
 * trees were ensured, so an HTB that had to be created shows no class), create
 * each missing class with its leaf and put back rates changed under us, for
 * every circuit that @want keeps in the same class.
 * Counts what it did in @r, and the classes no circuit uses in r->leftovers.
 */
int state_repair_classes(struct cs_state *s, struct nl_sock *sk, const struct circuit_set *have,
			 const struct circuit_set *want, struct tc_stat *const cls[2],
			 const size_t ncls[2], struct cs_repairs *r);

/*
 * Delete circuit classes (minor 3 and up, in any of our HTBs, on both devices)
 * that no circuit of @want uses: leftovers of an interrupted apply. Returns
 * how many went, or -errno.
 */
int state_gc_classes(struct cs_state *s, struct nl_sock *sk, const struct circuit_set *want,
		     const struct network *net);
/* Read the running nodes into s->nodes (none when nothing is loaded). */
int state_read_nodes(struct cs_state *s);
/*
 * Put back the classes of running nodes that @net keeps where they are, and
 * their rates, before the circuits' (whose classes hang under them).
 */
int state_repair_nodes(struct cs_state *s, struct nl_sock *sk, const struct network *net,
		       struct tc_stat *const cls[2], const size_t ncls[2], struct cs_repairs *r);

/*
 * Live plan change of one running circuit: @want is @have with new rates.
 * Changes the class of each direction whose rates differ, in place, then the
 * circuit's record; a failure puts back what was changed.
 */
int state_set_rates(struct cs_state *s, struct nl_sock *sk, const struct circuit *have,
		    const struct circuit *want);

#endif
