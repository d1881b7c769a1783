// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "circuits.h"
#include "cli.h"
#include "cpulist.h"
#include "datapath.h"
#include "handles.h"
#include "maps.h"
#include "output.h"
#include "plan.h"
#include "leaf.h"
#include "qdisc.h"
#include "rate.h"
#include "state.h"
#include "rttstat.h"
#include "stats.h"

static const char help[] =
	"Usage: cpushaper show --lan-dev DEV --wan-dev DEV [-j] [CIRCUIT | ADDRESS | --name TEXT |\n"
	"                      --tree | --list circuits|nodes]\n"
	"\n"
	"Print the circuits the kernel shapes on this device pair (all, or the one whose\n"
	"Circuit ID is CIRCUIT, or whose prefix holds ADDRESS, or those whose name has\n"
	"TEXT): CPU, addresses, and per direction the HTB class with\n"
	"its Min (rate) and Max (ceil) and its counters (bytes and packets that entered\n"
	"its queue, as TC counts them; drops and backlog in bytes and packets, from the\n"
	"class), then the TCP round trips of its subscriber side (its download queue\n"
	"included) and internet side (its upload queue included), p50 and p95 over the\n"
	"last 4.3 to 8.6 s, and its\n"
	"retransmitted segments (load --rtt), and its leaf qdiscs, as recorded and as\n"
	"the kernel has them (one request per class and device; a leaf deleted, of\n"
	"another kind or handle is named; with more than 2000 circuits shown at once,\n"
	"as recorded only: show CIRCUIT asks). Everything is read from the kernel, not from a\n"
	"file. With -j: {\"lan_dev\":...,\"circuits\":[{\"id\":...,\"name\":...,\"cpu\":0,\n"
	"\"addresses\":[...],\"down\":{\"classid\":\"1:3\",\"min_mbps\":5,\"max_mbps\":12},\n"
	"\"up\":{...},\"rtt\":{\"samples\":40,\"p50_ms\":18.5,\"p95_ms\":24.1},\"rtt_internet\":{...},\n"
	"\"retransmits\":{\"down\":0,\"up\":0},\"leaf\":{\"down\":\"fifo\",\"up\":\"fifo\",\"kernel\":\n"
	"{\"down\":{\"kind\":\"fifo\",\"handle\":\"5:\",\"as_recorded\":true},\"up\":{...}}},\n"
	"\"parent\":null}],\"nodes\":[{\"name\":...,\"parent\":...,\"cpu\":0,\"down\":{...},\n"
	"\"up\":{...}}]}: with a network (load --network), each circuit's parent node and\n"
	"each node's classes, their rate (what is guaranteed below it) and ceil (its\n"
	"bandwidth) and counters.\n"
	"\n"
	"With --tree, the network instead: each node under its parent, with its\n"
	"bandwidth, the plans (Max) of the circuits below it and their ratio\n"
	"(oversubscription), and how many circuits hang below it; -j nests them:\n"
	"{\"tree\":[{\"name\":...,\"cpu\":0,\"circuits\":2,\"down\":{\"max_mbps\":30,\"plan_mbps\":50,\n"
	"\"bytes\":...,\"drops\":...},\"up\":{...},\"children\":[...]}],\"circuits_under_no_node\":1}.\n"
	"\n"
	"With --list circuits (or nodes), only the Circuit IDs (node names), one a line\n"
	"(-j: an array), read from the shaper's maps without its counters: for scripts\n"
	"and bash completion.\n"
	"\n"
	"Options:\n" COMMON_OPTS_HELP
	"  --tree          the network's nodes as a tree, with plans against bandwidth\n"
	"  --list WHAT     circuits or nodes: their names only\n"
	"  --name TEXT     the circuits whose name (or ID) contains TEXT, in any case\n";

static void print_dir(const char *key, const char *label, uint32_t classid, uint64_t min,
		      uint64_t max, const struct dir_stats *st)
{
	char buf[32];

	out_open_obj(key);
	print_fp("    %-4s", label);
	snprintf(buf, sizeof(buf), "%x:%x", classid >> 16, classid & 0xffff);
	print_str(PRINT_ANY, "classid", " class %s", buf);
	rate_format_mbps(min, buf, sizeof(buf));
	print_num(PRINT_ANY, "min_mbps", " min %sMbit", buf);
	rate_format_mbps(max, buf, sizeof(buf));
	print_num(PRINT_ANY, "max_mbps", " max %sMbit", buf);
	print_u64(PRINT_ANY, "bytes", "  %llu bytes", st->bytes);
	print_u64(PRINT_ANY, "packets", " %llu pkts", st->packets);
	print_u64(PRINT_ANY, "drops", " (dropped %llu,", st->drops);
	print_u64(PRINT_ANY, "backlog", " backlog %llub", st->backlog);
	print_u64(PRINT_ANY, "qlen", " %llup)\n", st->qlen);
	out_close_obj();
}

/* The node whose class is @major:@minor, or NULL. */
static const struct node_rec *node_of(const struct cs_state *s, uint32_t major, uint32_t minor)
{
	for (size_t i = 0; minor && i < s->n_nodes; i++)
		if (s->nodes[i].major == major && s->nodes[i].minor == minor)
			return &s->nodes[i];
	return NULL;
}

static void print_node(const struct node_rec *n, const struct dir_stats *down,
		       const struct dir_stats *up)
{
	uint32_t classid = (n->major << 16) | n->minor;

	out_open_obj(NULL);
	print_str(PRINT_ANY, "name", "node %s", n->name);
	if (n->parent[0])
		print_str(PRINT_ANY, "parent", " under %s", n->parent);
	else
		print_null(PRINT_JSON, "parent");
	print_u64(PRINT_ANY, "cpu", " cpu %llu\n", n->cpu);
	print_dir("down", "down", classid, n->down_min, n->down_max, down);
	print_dir("up", "up", classid, n->up_min, n->up_max, up);
	out_close_obj();
}

/* "rtt": {"samples": N, "p50_ms": X, "p95_ms": Y} of one side's window */
static void print_rtt(const char *key, const char *label, const struct cs_rtt *h, uint64_t now)
{
	struct rtt_window w;

	rtt_window(h, now, &w);
	out_open_obj(key);
	print_fp(" %s", label);
	print_u64(PRINT_JSON, "samples", NULL, w.samples);
	if (w.samples) {
		char a[32], b[32];

		snprintf(a, sizeof(a), "%.2f", rtt_quantile_ms(&w, 0.5));
		snprintf(b, sizeof(b), "%.2f", rtt_quantile_ms(&w, 0.95));
		print_num(PRINT_ANY, "p50_ms", " p50 %s", a);
		print_num(PRINT_ANY, "p95_ms", " p95 %s ms", b);
		print_fp(" (%llu samples)", (unsigned long long)w.samples);
	} else {
		print_null(PRINT_JSON, "p50_ms");
		print_null(PRINT_JSON, "p95_ms");
		print_fp(" -");
	}
	out_close_obj();
}

/* What the kernel has as a circuit's leaf in one direction (one get by the class, tc_leaf_get). */
struct leaf_seen {
	bool class_there;  /* else the class is gone (or its device) */
	char kind[16];     /* "": the kernel hides it (HTB's own pfifo of a new class) */
	uint32_t handle;   /* 0: HTB's own pfifo */
};

/* Is @k the leaf the record says, @kind on handle @major:? */
static bool leaf_as_recorded(const struct leaf_seen *k, enum cs_leaf kind, uint32_t major)
{
	if (!k->class_there)
		return false;
	if (kind == CS_LEAF_DEFAULT)
		return !k->handle;
	return k->handle == major << 16 && !strcmp(k->kind, tc_leaf_name(kind));
}

/* The kernel's leaf by our names: fifo (a pfifo of ours), pfifo (HTB's own), or its kind. */
static const char *leaf_seen_name(const struct leaf_seen *k, uint32_t major)
{
	if (!k->handle)
		return leaf_name(CS_LEAF_DEFAULT);
	if (!strcmp(k->kind, "pfifo") && k->handle == major << 16 && major)
		return leaf_name(CS_LEAF_FIFO);
	return k->kind;
}

/*
 * A circuit's leaves, down and up: what it has, and what it wanted where the
 * kernel lacked that; with @seen (NULL: not asked), what the kernel really has
 * where that is not what was recorded.
 */
static void print_leaf(const struct circuit *c, const struct leaf_seen *seen)
{
	bool fell = c->leaf[0] != c->leaf_want[0] || c->leaf[1] != c->leaf_want[1];

	out_open_obj("leaf");
	print_str(PRINT_ANY, "down", "    leaf %s", leaf_name((enum cs_leaf)c->leaf[0]));
	print_str(PRINT_ANY, "up", "/%s", leaf_name((enum cs_leaf)c->leaf[1]));
	if (fell) {
		print_str(PRINT_ANY, "down_wanted", " (wanted %s", leaf_name((enum cs_leaf)c->leaf_want[0]));
		print_str(PRINT_ANY, "up_wanted", "/%s: not in this kernel)", leaf_name((enum cs_leaf)c->leaf_want[1]));
	}
	if (!seen)
		print_null(PRINT_JSON, "kernel");
	else
		out_open_obj("kernel");
	for (int dir = 0; seen && dir < 2; dir++) {
		const struct leaf_seen *k = &seen[dir];
		bool ok = leaf_as_recorded(k, (enum cs_leaf)c->leaf[dir], c->leaf_major);
		char h[16];

		snprintf(h, sizeof(h), "%x:", k->handle >> 16);
		out_open_obj(dir ? "up" : "down");
		if (k->class_there) {
			print_str(PRINT_JSON, "kind", NULL, leaf_seen_name(k, c->leaf_major));
			print_str(PRINT_JSON, "handle", NULL, h);
		} else {
			print_null(PRINT_JSON, "kind");
			print_null(PRINT_JSON, "handle");
		}
		print_bool(PRINT_JSON, "as_recorded", NULL, ok);
		if (!ok && !k->class_there)
			print_fp("; %s: no class in the kernel", dir ? "up" : "down");
		else if (!ok)
			print_fp("; %s: the kernel has %s %s instead", dir ? "up" : "down",
				 leaf_seen_name(k, c->leaf_major), k->handle ? h : "(HTB's own)");
		out_close_obj();
	}
	if (seen)
		out_close_obj();
	print_fp("\n");
	out_close_obj();
}

/*
 * The leaves the kernel has for the circuits of @view: seen[2 * i + dir].
 * Up to STATS_SINGLE_MAX circuits, one get per class and device (pipelined);
 * beyond, none (*out NULL): show prints the record.
 */
static int read_leaves(const struct cs_state *s, const struct circuit_set *view, struct leaf_seen **out)
{
	size_t n = view->n;
	uint32_t *ids = NULL;
	struct tc_stat *got = NULL;
	bool *found = NULL;
	struct leaf_seen *seen = NULL;
	int err = 0;

	*out = NULL;
	if (!s->loaded || n > STATS_SINGLE_MAX)
		return 0;
	ids = calloc(n + 1, sizeof(*ids));
	got = calloc(n + 1, sizeof(*got));
	found = calloc(n + 1, sizeof(*found));
	seen = calloc(2 * n + 1, sizeof(*seen));
	if (!ids || !got || !found || !seen) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = circuit_classid(&view->v[i]);
	for (int dir = 0; dir < 2; dir++) {
		int ix = dir ? s->wan_ix : s->lan_ix;

		if (ix < 0)
			continue; /* the device is gone: no class */
		if ((err = tc_leaf_get(ix, ids, n, got, found)))
			goto out;
		for (size_t i = 0; i < n; i++) {
			struct leaf_seen *k = &seen[2 * i + dir];

			k->class_there = found[i];
			k->handle = got[i].handle;
			memcpy(k->kind, got[i].kind, sizeof(k->kind));
		}
	}
	*out = seen;
	seen = NULL;
out:
	free(ids);
	free(got);
	free(found);
	free(seen);
	return err;
}

static void print_circuit(const struct cs_state *s, const struct circuit *c,
			  const struct dir_stats *down, const struct dir_stats *up,
			  const struct cs_circuit_rtt *r, const struct leaf_seen *seen, uint64_t now)
{
	const struct node_rec *parent = node_of(s, c->major, c->parent_minor);
	char buf[64];

	out_open_obj(NULL);
	print_str(PRINT_ANY, "id", "circuit %s", c->id);
	print_str(PRINT_ANY, "name", " \"%s\"", c->name);
	print_u64(PRINT_ANY, "cpu", " cpu %llu\n", c->cpu);
	print_fp("    addresses");
	out_open_arr("addresses");
	for (size_t i = 0; i < c->n_pfx; i++) {
		prefix_format(&c->pfx[i], buf, sizeof(buf));
		print_str(PRINT_ANY, NULL, " %s", buf);
	}
	out_close_arr();
	print_fp("\n");
	print_dir("down", "down", circuit_classid(c), c->down_min, c->down_max, down);
	print_dir("up", "up", circuit_classid(c), c->up_min, c->up_max, up);
	if (r) {
		print_fp("    rtt");
		print_rtt("rtt", "subscriber", &r->side[CS_SIDE_SUB], now);
		print_fp(",");
		print_rtt("rtt_internet", "internet", &r->side[CS_SIDE_NET], now);
		out_open_obj("retransmits");
		print_u64(PRINT_ANY, "down", "; retransmits down %llu", r->retrans[CS_DOWN]);
		print_u64(PRINT_ANY, "up", " up %llu\n", r->retrans[CS_UP]);
		out_close_obj();
	}
	print_leaf(c, seen);
	if (parent)
		print_str(PRINT_ANY, "parent", "    under node %s\n", parent->name);
	else
		print_null(PRINT_JSON, "parent");
	out_close_obj();
}

/* Per node of s->nodes: what is planned below it, and its children. */
struct tree {
	const struct cs_state *s;
	const struct cs_stats *st;
	uint64_t *plan_down, *plan_up; /* sum of the Max of the circuits below */
	size_t *circuits;              /* below it, at any depth */
	size_t *direct;                /* hanging right under it */
	int *parent;                   /* index into s->nodes, -1 at the top */
};

static void tree_dir(const char *key, uint64_t bw, uint64_t plan, const struct dir_stats *st)
{
	char a[32], b[32];

	rate_format_mbps(bw, a, sizeof(a));
	rate_format_mbps(plan, b, sizeof(b));
	out_open_obj(key);
	print_num(PRINT_ANY, "max_mbps", "  %s", a);
	print_num(PRINT_ANY, "plan_mbps", " %s: plans", b);
	print_fp(" %.2fx", bw ? (double)plan / (double)bw : 0.0);
	print_u64(PRINT_JSON, "bytes", NULL, st->bytes);
	print_u64(PRINT_JSON, "drops", NULL, st->drops);
	out_close_obj();
}

static void tree_print(const struct tree *t, int node, const char *indent)
{
	const struct node_rec *n = &t->s->nodes[node];
	char deeper[512];
	size_t kids = 0, seen = 0;

	for (size_t i = 0; i < t->s->n_nodes; i++)
		kids += t->parent[i] == node;
	out_open_obj(NULL);
	print_str(PRINT_ANY, "name", "%s", n->name);
	print_u64(PRINT_ANY, "cpu", "  cpu %llu", n->cpu);
	print_u64(PRINT_ANY, "circuits", "  %llu circuits", t->circuits[node]);
	print_fp(" (%zu here)", t->direct[node]);
	print_fp("  down");
	tree_dir("down", n->down_max, t->plan_down[node], &t->st->node_down[node]);
	print_fp("  up");
	tree_dir("up", n->up_max, t->plan_up[node], &t->st->node_up[node]);
	print_fp("\n");
	out_open_arr("children");
	for (size_t i = 0; i < t->s->n_nodes; i++) {
		if (t->parent[i] != node)
			continue;
		seen++;
		print_fp("%s%s", indent, seen == kids ? "`- " : "|- ");
		snprintf(deeper, sizeof(deeper), "%s%s", indent, seen == kids ? "   " : "|  ");
		tree_print(t, (int)i, deeper);
	}
	out_close_arr();
	out_close_obj();
}

/*
 * show --tree: the network as a tree, each node with its bandwidth, the plans
 * (Max) of the circuits below it and their ratio (oversubscription), and how
 * many circuits hang below it.
 */
static int show_tree(const struct cs_state *s, const struct circuit_set *have,
		     const struct cs_stats *st)
{
	size_t n = s->n_nodes, flat = 0;
	struct tree t = { .s = s, .st = st };
	int err = -ENOMEM;

	t.plan_down = calloc(n + 1, sizeof(*t.plan_down));
	t.plan_up = calloc(n + 1, sizeof(*t.plan_up));
	t.circuits = calloc(n + 1, sizeof(*t.circuits));
	t.direct = calloc(n + 1, sizeof(*t.direct));
	t.parent = calloc(n + 1, sizeof(*t.parent));
	if (!t.plan_down || !t.plan_up || !t.circuits || !t.direct || !t.parent)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct node_rec *p = s->nodes[i].parent[0] ?
			node_rec_find(s->nodes, n, s->nodes[i].parent) : NULL;

		t.parent[i] = p ? (int)(p - s->nodes) : -1;
	}
	for (size_t i = 0; i < have->n; i++) {
		const struct node_rec *p = node_of(s, have->v[i].major, have->v[i].parent_minor);
		int k = p ? (int)(p - s->nodes) : -1;

		if (k < 0) {
			flat++;
			continue;
		}
		t.direct[k]++;
		/* the depth is bounded: at most CS_NET_MAX_DEPTH ancestors */
		for (int depth = 0; k >= 0 && depth <= CS_NET_MAX_DEPTH; depth++, k = t.parent[k]) {
			t.plan_down[k] += have->v[i].down_max;
			t.plan_up[k] += have->v[i].up_max;
			t.circuits[k]++;
		}
	}
	out_open_arr("tree");
	for (size_t i = 0; i < n; i++)
		if (t.parent[i] < 0)
			tree_print(&t, (int)i, "");
	out_close_arr();
	print_u64(PRINT_ANY, "circuits_under_no_node", "%llu circuits under no node\n", flat);
	err = 0;
out:
	free(t.plan_down);
	free(t.plan_up);
	free(t.circuits);
	free(t.direct);
	free(t.parent);
	return err;
}

/* The circuit of @e (an entry of the address map), by its record's index. */
static size_t match_index(const struct circuit_set *have, const struct lpm_entry *e)
{
	for (size_t i = 0; i < have->n; i++)
		if (have->v[i].index == e->t.circuit)
			return i;
	return 0;
}

/*
 * CIRCUIT: a Circuit ID, or an address: the circuit whose prefix holds it
 * (the longest, as the data path finds it). *match: the prefix, for an address.
 */
static bool select_circuit(const struct circuit_set *have, const struct lpm_entry *lpm, size_t n_lpm,
			   const char *arg, bool *sel, const struct lpm_entry **match)
{
	const struct circuit *c = circuit_set_find(have, arg);
	struct cs_prefix a;
	const char *why;

	if (c) {
		sel[c - have->v] = true;
		return true;
	}
	if (prefix_parse(arg, !strchr(arg, ':'), &a, &why))
		return false;
	for (size_t i = 0; i < n_lpm; i++)
		if (prefix_contains(&lpm[i].p, &a) && (!*match || lpm[i].p.len > (*match)->p.len))
			*match = &lpm[i];
	if (!*match)
		return false;
	for (size_t i = 0; i < have->n; i++)
		if (have->v[i].index == (*match)->t.circuit) {
			sel[i] = true;
			return true;
		}
	*match = NULL;
	return false;
}

/* --name TEXT: every circuit whose name or ID holds TEXT, in any case. */
static bool select_name(const struct circuit_set *have, const char *text, bool *sel)
{
	bool any = false;

	for (size_t i = 0; i < have->n; i++)
		if (strcasestr(have->v[i].name, text) || strcasestr(have->v[i].id, text))
			any = sel[i] = true;
	return any;
}

/* --list: names only, from the maps (no class dumps: fast at any size). */
static int show_list(struct cs_state *s, const char *what)
{
	struct circuit_set have = { 0 };
	int err = 0;

	if (s->loaded && !strcmp(what, "circuits") && (err = maps_read_circuits(&s->maps, &have))) {
		fprintf(stderr, "cpushaper: cannot read the running circuits: %s\n", strerror(-err));
		return err;
	}
	out_open_arr(NULL);
	if (!strcmp(what, "circuits"))
		for (size_t i = 0; i < have.n; i++)
			print_str(PRINT_ANY, NULL, "%s\n", have.v[i].id);
	else
		for (size_t i = 0; i < s->n_nodes; i++)
			print_str(PRINT_ANY, NULL, "%s\n", s->nodes[i].name);
	out_close_arr();
	out_finish();
	circuit_set_free(&have);
	return 0;
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, { "tree", no_argument, NULL, 'T' },
						  { "list", required_argument, NULL, 'l' },
						  { "name", required_argument, NULL, 'n' },
						  { NULL, 0, NULL, 0 } };
	bool tree = false;
	const char *list = NULL;
	struct cli_common c = { 0 };
	struct circuit_set have = { 0 }, view = { 0 };
	struct cs_circuit_rtt *rtt = NULL;
	struct leaf_seen *leaves = NULL;
	uint64_t now = rtt_now_ns();
	struct cs_stats st = { 0 };
	struct lpm_entry *lpm = NULL;
	const char *only = NULL, *name = NULL;
	const struct lpm_entry *match = NULL;
	bool *sel = NULL;
	struct cs_state s;
	size_t n_lpm = 0;
	char buf[1024];
	int opt, err;

	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &c))
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (opt == 'T') {
			tree = true;
			continue;
		}
		if (opt == 'n') {
			name = optarg;
			continue;
		}
		if (opt == 'l' && (!strcmp(optarg, "circuits") || !strcmp(optarg, "nodes"))) {
			list = optarg;
			continue;
		}
		if (opt == 'l')
			fprintf(stderr, "cpushaper show: --list \"%s\": expected circuits or nodes\n", optarg);
		fprintf(stderr, "Try 'cpushaper show --help'.\n");
		return EXIT_USAGE;
	}
	if (optind < argc)
		only = argv[optind++];
	if (optind < argc || ((tree || list) && (only || name)) || (tree && list) || (only && name)) {
		fprintf(stderr, "cpushaper show: at most one of CIRCUIT, ADDRESS, --name, --tree, --list\n");
		return EXIT_USAGE;
	}
	if (cli_need_devices(&c, "show"))
		return EXIT_USAGE;
	out_init(stdout, c.json);
	if ((err = state_open_ex(&s, c.lan, c.wan, STATE_GONE_OK)))
		goto out;
	if (s.loaded && (err = state_read_nodes(&s))) {
		fprintf(stderr, "cpushaper: cannot read the running nodes: %s\n", strerror(-err));
		goto out;
	}
	if (list) {
		err = show_list(&s, list);
		goto out;
	}
	if (s.loaded && (err = maps_read_state(&s.maps, &have, &lpm, &n_lpm))) {
		fprintf(stderr, "cpushaper: cannot read the running circuits: %s\n", strerror(-err));
		goto out;
	}
	if ((only || name) && !(sel = calloc(have.n + 1, sizeof(*sel)))) {
		err = -ENOMEM;
		goto out;
	}
	if (only && !select_circuit(&have, lpm, n_lpm, only, sel, &match)) {
		fprintf(stderr, "cpushaper: no circuit \"%s\" is loaded on %s/%s (by Circuit ID, or an address in one of its prefixes)\n",
			only, c.lan, c.wan);
		err = -ENOENT;
		goto out;
	}
	if (name && !select_name(&have, name, sel)) {
		fprintf(stderr, "cpushaper: no circuit whose name or ID contains \"%s\" is loaded on %s/%s\n",
			name, c.lan, c.wan);
		err = -ENOENT;
		goto out;
	}

	/* counters of the circuits shown only: one class request each, no dump */
	view = have;
	if (sel) {
		view.v = calloc(have.n + 1, sizeof(*view.v));
		view.n = 0;
		if (!view.v) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < have.n; i++)
			if (sel[i])
				view.v[view.n++] = have.v[i];
	}
	if (s.loaded && ((err = stats_read(&s, &view, NULL, &st)) ||
			 (!tree && (err = stats_read_rtt(&s, &view, &rtt))))) {
		fprintf(stderr, "cpushaper: cannot read the statistics: %s\n", strerror(-err));
		goto out;
	}
	if (!tree && (err = read_leaves(&s, &view, &leaves))) {
		fprintf(stderr, "cpushaper: cannot read the circuits' leaves: %s\n", strerror(-err));
		goto out;
	}

	out_open_obj(NULL);
	print_str(PRINT_JSON, "lan_dev", NULL, c.lan);
	print_str(PRINT_JSON, "wan_dev", NULL, c.wan);
	print_bool(PRINT_JSON, "loaded", NULL, s.loaded);
	if (s.loaded) {
		{
			bool on[CS_MAX_CPUS];

			for (__u32 c = 0; c < CS_MAX_CPUS; c++)
				on[c] = cs_cpu_on(&s.cfg, c);
			cpulist_format(on, buf, sizeof(buf));
		}
		print_str(PRINT_JSON, "cpus", NULL, buf);
		print_str(PRINT_JSON, "leaf", NULL, leaf_name((enum cs_leaf)s.cfg.leaf));
		print_u64(PRINT_JSON, "queue_ms", NULL, s.cfg.queue_ms);
		{
			char pol[32];

			snprintf(pol, sizeof(pol), "cpu:%u", s.cfg.default_cpu);
			print_str(PRINT_JSON, "unknown", NULL,
				  s.cfg.unknown_policy == CS_UNKNOWN_CPU ? pol : "pass");
		}
		print_u64(PRINT_JSON, "cpumap_qsize", NULL, s.cfg.cpumap_qsize);
		{
			int sets = maps_flow_sets(&s.maps);

			/* the RTT flow table's size, per CPU (load --rtt-flows) */
			print_u64(PRINT_JSON, "rtt_flows", NULL, sets > 0 ? (uint64_t)sets * CS_FLOW_WAYS : 0);
		}
		{
			char link[32], def[32];

			rate_format_mbps(s.cfg.link_bps, link, sizeof(link));
			rate_format_mbps(s.cfg.default_bps, def, sizeof(def));
			print_num(PRINT_JSON, "link_mbps", NULL, link);
			print_num(PRINT_JSON, "default_mbps", NULL, def);
			if (!only && !tree && !list)
				print_fp("%s/%s: cpus %s, %u HTB%s per cpu, link class %s Mbit/s each, default class %s Mbit/s, leaf %s, fifo %u ms\n",
					 c.lan, c.wan, buf, s.cfg.htbs_per_cpu,
					 s.cfg.htbs_per_cpu == 1 ? "" : "s", link, def,
					 leaf_name((enum cs_leaf)s.cfg.leaf), s.cfg.queue_ms);
		}
		print_u64(PRINT_JSON, "htbs_per_cpu", NULL, s.cfg.htbs_per_cpu);
		/* HTB majors are not queue numbers (src/handles.h): which is where */
		out_open_arr("htbs");
		for (uint32_t c = 0; c < CS_MAX_CPUS; c++)
			for (uint32_t j = 0; cs_cpu_on(&s.cfg, c) && j < s.cfg.htbs_per_cpu; j++) {
				char h[16];

				snprintf(h, sizeof(h), "%x:", handle_htb(s.cfg.htb_stride, c, j));
				out_open_obj(NULL);
				print_u64(PRINT_JSON, "cpu", NULL, c);
				print_u64(PRINT_JSON, "txq", NULL, j * s.cfg.htb_stride + c);
				print_str(PRINT_JSON, "handle", NULL, h);
				out_close_obj();
			}
		out_close_arr();
		print_bool(PRINT_JSON, "skip_local", NULL, s.cfg.flags & CS_F_SKIP_LOCAL);
		print_bool(PRINT_JSON, "xdp_meta", NULL, s.cfg.flags & CS_F_META);
		/* which steering program puts offloaded VLAN tags back (docs/failure-modes.md) */
		out_open_obj("vlan_restore");
		for (int at = CS_AT_LAN_XDP; at <= CS_AT_WAN_XDP; at++)
			print_bool(PRINT_JSON, at == CS_AT_LAN_XDP ? "lan" : "wan", NULL,
				   s.at[at].prog_id && dp_xdp_keeps_vlan(s.at[at].prog_id) == 1);
		out_close_obj();
		stats_print_damage(&s, &st);
	} else if (!c.json) {
		fprintf(stderr, "cpushaper: nothing is loaded on %s/%s%s%s%s\n", c.lan, c.wan,
			s.lan_ix < 0 || s.wan_ix < 0 ? " (" : "",
			s.lan_ix < 0 ? c.lan : s.wan_ix < 0 ? c.wan : "",
			s.lan_ix < 0 || s.wan_ix < 0 ? " does not exist)" : "");
	}
	if (tree) {
		/* the tree instead of the lists */
		if (s.loaded && (err = show_tree(&s, &have, &st)))
			goto out;
		if (!s.loaded) {
			out_open_arr("tree");
			out_close_arr();
		}
		out_close_obj();
		out_finish();
		goto out;
	}
	if (match) {
		char pfx[64];

		prefix_format(&match->p, pfx, sizeof(pfx));
		out_open_obj("match");
		print_str(PRINT_ANY, "address", "%s", only);
		print_str(PRINT_ANY, "prefix", " is in %s", pfx);
		print_str(PRINT_ANY, "circuit", " of circuit %s\n", have.v[match_index(&have, match)].id);
		out_close_obj();
	}
	if (!sel) {
		out_open_arr("nodes");
		for (size_t i = 0; i < s.n_nodes; i++)
			print_node(&s.nodes[i], &st.node_down[i], &st.node_up[i]);
		out_close_arr();
	}
	out_open_arr("circuits");
	for (size_t i = 0; i < view.n; i++)
		print_circuit(&s, &view.v[i], &st.down[i], &st.up[i], rtt ? &rtt[i] : NULL,
			      leaves ? &leaves[2 * i] : NULL, now);
	out_close_arr();
	if (s.loaded && !leaves && view.n)
		print_fp("(leaves as recorded: the kernel is asked for them up to %d circuits; show CIRCUIT asks it)\n",
			 STATS_SINGLE_MAX);
	out_close_obj();
	out_finish();
out:
	stats_free(&st);
	state_close(&s);
	if (view.v != have.v)
		free(view.v);
	free(rtt);
	free(leaves);
	circuit_set_free(&have);
	free(lpm);
	free(sel);
	return err ? 1 : 0;
}
