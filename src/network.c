// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "network.h"
#include "rate.h"

#define CS_NET_FILE_MAX (256u << 20)

struct walk {
	const char *file;
	struct network *net;
	size_t cap;
	struct cs_diag *d;
	int err; /* -ENOMEM stops the walk; refusals only go to d */
};

/* "A > B > C": where a node sits, for messages about it. */
static void node_path(const struct network *net, int i, char *buf, size_t len)
{
	int chain[64], n = 0;
	size_t off = 0;

	for (; i >= 0 && n < 64; i = net->v[i].parent)
		chain[n++] = i;
	buf[0] = '\0';
	while (n-- > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", net->v[chain[n]].name,
					n ? " > " : "");
}

/* A bandwidth in Mbps: a positive JSON number, kept exactly to the bit/s. */
static int bandwidth(json_t *node, const char *key, uint64_t *bps, const char **why)
{
	json_t *v = json_object_get(node, key);
	char text[64];

	if (!v) {
		*why = "is missing";
		return -EINVAL;
	}
	if (json_is_integer(v)) {
		if (json_integer_value(v) <= 0) {
			*why = "must be greater than 0";
			return -EINVAL;
		}
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		if (!(json_real_value(v) > 0)) {
			*why = "must be greater than 0";
			return -EINVAL;
		}
		if (json_real_value(v) > 1e7) {
			*why = "is too large (at most 1000000 Mbps)";
			return -EINVAL;
		}
		snprintf(text, sizeof(text), "%.6f", json_real_value(v));
	} else {
		*why = "is not a number";
		return -EINVAL;
	}
	return rate_parse_mbps(text, bps, why);
}

static char *opt_string(json_t *node, const char *key, bool *bad)
{
	json_t *v = json_object_get(node, key);
	char buf[32];

	*bad = false;
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) { /* some exports write numeric ids */
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return strdup(buf);
	}
	*bad = true;
	return NULL;
}

static void walk_children(struct walk *w, json_t *obj, int parent, int real_parent, int unit,
			  int depth);

static void walk_node(struct walk *w, const char *name, json_t *node, int parent, int real_parent,
		      int unit, int depth)
{
	struct network *net = w->net;
	struct net_node *n;
	char where[512];
	const char *why;
	json_t *v;
	bool bad;
	int me;

	if (w->err)
		return;
	if (net->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		void *nv = realloc(net->v, cap * sizeof(*net->v));

		if (!nv) {
			w->err = -ENOMEM;
			return;
		}
		net->v = nv;
		w->cap = cap;
	}
	me = (int)net->n++;
	n = &net->v[me];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->real_parent = real_parent;
	n->unit = unit;
	if (!(n->name = strdup(name))) {
		w->err = -ENOMEM;
		return;
	}
	node_path(net, me, where, sizeof(where));

	if (!json_is_object(node)) {
		diag_add(w->d, "%s: node \"%s\" is not an object", w->file, where);
		return;
	}
	if (!*name)
		diag_add(w->d, "%s: node \"%s\": the name is empty", w->file, where);
	if (bandwidth(node, "downloadBandwidthMbps", &n->down_bps, &why))
		diag_add(w->d, "%s: node \"%s\": downloadBandwidthMbps %s", w->file, where, why);
	if (bandwidth(node, "uploadBandwidthMbps", &n->up_bps, &why))
		diag_add(w->d, "%s: node \"%s\": uploadBandwidthMbps %s", w->file, where, why);
	n->id = opt_string(node, "id", &bad);
	if (bad)
		diag_add(w->d, "%s: node \"%s\": id is neither a string nor an integer", w->file, where);
	else if (n->id && !*n->id)
		diag_add(w->d, "%s: node \"%s\": id is empty", w->file, where);
	n->type = opt_string(node, "type", &bad);
	if (bad)
		diag_add(w->d, "%s: node \"%s\": type is not a string", w->file, where);
	v = json_object_get(node, "virtual");
	if (v && !json_is_boolean(v))
		diag_add(w->d, "%s: node \"%s\": virtual is not true or false", w->file, where);
	n->is_virtual = v && json_is_true(v);

	if (!n->is_virtual) {
		/* a real node's name is its record's key in the kernel */
		if (strlen(name) >= CS_NODE_NAME_LEN)
			diag_add(w->d, "%s: node \"%s\": the name is longer than %d bytes", w->file,
				 where, CS_NODE_NAME_LEN - 1);
		n->depth = depth + 1;
		if (unit < 0)
			n->unit = unit = me;
		real_parent = me;
		if (n->depth == CS_NET_MAX_DEPTH + 1)
			diag_add(w->d, "%s: node \"%s\" is %d levels deep: HTB nests at most %d levels of nodes between a CPU's root class and a circuit (make a level virtual)",
				 w->file, where, n->depth, CS_NET_MAX_DEPTH);
	}
	v = json_object_get(node, "children");
	if (!v || json_is_null(v))
		return;
	if (!json_is_object(v)) {
		diag_add(w->d, "%s: node \"%s\": children is not an object", w->file, where);
		return;
	}
	walk_children(w, v, me, real_parent, unit, n->is_virtual ? depth : depth + 1);
}

static void walk_children(struct walk *w, json_t *obj, int parent, int real_parent, int unit,
			  int depth)
{
	const char *key;
	json_t *child;

	json_object_foreach(obj, key, child)
		walk_node(w, key, child, parent, real_parent, unit, depth);
}

static int by_name(const void *a, const void *b)
{
	const struct net_node *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);

	return c ? c : (*x > *y) - (*x < *y); /* equal names in file order: messages name them so */
}

static int by_id(const void *a, const void *b)
{
	const struct net_node *const *x = a, *const *y = b;
	int c = strcmp((*x)->id, (*y)->id);

	return c ? c : (*x > *y) - (*x < *y);
}

/* The sorted indexes that network_find_name/_id search. */
static int index_nodes(struct network *net)
{
	const struct net_node **s = malloc((net->n ? net->n : 1) * sizeof(*s));
	size_t k = 0;

	net->by_name = malloc((net->n ? net->n : 1) * sizeof(*net->by_name));
	net->by_id = malloc((net->n ? net->n : 1) * sizeof(*net->by_id));
	if (!s || !net->by_name || !net->by_id) {
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < net->n; i++)
		s[i] = &net->v[i];
	qsort(s, net->n, sizeof(*s), by_name);
	for (size_t i = 0; i < net->n; i++)
		net->by_name[i] = (int)(s[i] - net->v);
	for (size_t i = 0; i < net->n; i++)
		if (net->v[i].id)
			s[k++] = &net->v[i];
	qsort(s, k, sizeof(*s), by_id);
	for (size_t i = 0; i < k; i++)
		net->by_id[i] = (int)(s[i] - net->v);
	net->n_ids = k;
	free(s);
	return 0;
}

/* Names are unique in the whole file, and so are ids: neighbours in the sorted indexes. */
static void check_unique(const char *file, const struct network *net, struct cs_diag *d)
{
	char a[512], b[512];

	for (size_t i = 1; i < net->n; i++) {
		int x = net->by_name[i - 1], y = net->by_name[i];

		if (strcmp(net->v[x].name, net->v[y].name))
			continue;
		node_path(net, x, a, sizeof(a));
		node_path(net, y, b, sizeof(b));
		diag_add(d, "%s: node name \"%s\" is used twice (%s, and %s): names must be unique",
			 file, net->v[y].name, a, b);
	}
	for (size_t i = 1; i < net->n_ids; i++) {
		int x = net->by_id[i - 1], y = net->by_id[i];

		if (strcmp(net->v[x].id, net->v[y].id))
			continue;
		node_path(net, x, a, sizeof(a));
		node_path(net, y, b, sizeof(b));
		diag_add(d, "%s: node id \"%s\" is used twice (%s, and %s)", file, net->v[y].id, a, b);
	}
}

int network_parse(const char *file, const char *text, size_t len, struct network *net,
		  struct cs_diag *d)
{
	size_t before = diag_count(d);
	struct walk w = { .file = file, .net = net, .d = d };
	json_error_t e;
	json_t *root;
	int err;

	memset(net, 0, sizeof(*net));
	/* duplicate keys in one object are refused by the library, with their position */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!root) {
		diag_add(d, "%s:%d:%d: %s", file, e.line, e.column, e.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		diag_add(d, "%s: the top level is not an object of nodes", file);
		json_decref(root);
		return -EINVAL;
	}
	walk_children(&w, root, -1, -1, -1, 0);
	json_decref(root);
	err = w.err ? w.err : index_nodes(net);
	if (!err) {
		size_t real = 0;

		check_unique(file, net, d);
		for (size_t i = 0; i < net->n; i++)
			real += !net->v[i].is_virtual;
		if (real > CS_NET_MAX_NODES)
			diag_add(d, "%s: %zu nodes with classes: at most %u", file, real, CS_NET_MAX_NODES);
	}
	if (!err && diag_count(d) > before)
		err = -EINVAL;
	if (err)
		network_free(net);
	return err;
}

int network_load(const char *path, struct network *net, struct cs_diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	memset(net, 0, sizeof(*net));
	if (!f) {
		diag_add(d, "%s: %s", path, strerror(errno));
		return -errno;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			if (cap >= CS_NET_FILE_MAX) {
				diag_add(d, "%s: larger than %u MiB", path, CS_NET_FILE_MAX >> 20);
				err = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			if (!(nb = realloc(buf, cap))) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		diag_add(d, "%s: read error", path);
		err = -EIO;
		goto out;
	}
	err = network_parse(path, buf, len, net, d);
out:
	free(buf);
	fclose(f);
	return err;
}

void network_free(struct network *net)
{
	for (size_t i = 0; i < net->n; i++) {
		free(net->v[i].name);
		free(net->v[i].id);
		free(net->v[i].type);
	}
	free(net->v);
	free(net->by_name);
	free(net->by_id);
	memset(net, 0, sizeof(*net));
}

/* Binary search of @key in @ix (indexes into net->v) by name or by id. */
static int find(const struct network *net, const int *ix, size_t n, const char *key, bool id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct net_node *x = &net->v[ix[mid]];
		int c = strcmp(id ? x->id : x->name, key);

		if (!c)
			return ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int network_find_name(const struct network *net, const char *name)
{
	return net->by_name ? find(net, net->by_name, net->n, name, false) : -1;
}

int network_find_id(const struct network *net, const char *id)
{
	return net->by_id ? find(net, net->by_id, net->n_ids, id, true) : -1;
}

/* The node a circuit's parent column names, or -1. */
static int named_node(const struct network *net, const struct circuit *c)
{
	if (!c->parent_col)
		return -1;
	return c->parent_col == CS_PARENT_NAME ? network_find_name(net, c->parent)
					       : network_find_id(net, c->parent);
}

int network_root(struct network *net, const char *root, struct circuit_set *set,
		 const char *file, struct cs_diag *d)
{
	int r = network_find_name(net, root);
	bool *in = NULL;
	size_t kept = 0;

	if (r < 0) {
		diag_add(d, "%s: --root \"%s\" is no node of the network", file, root);
		return -EINVAL;
	}
	in = calloc(net->n + 1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	/* parents come before their children: one pass marks the subtree */
	for (size_t i = 0; i < net->n; i++) {
		struct net_node *n = &net->v[i];

		in[i] = (int)i == r || (n->parent >= 0 && in[n->parent]);
		if (!in[i])
			n->is_virtual = true;
		n->real_parent = n->parent < 0 ? -1 :
				 net->v[n->parent].is_virtual ? net->v[n->parent].real_parent : n->parent;
		if (n->is_virtual) {
			n->depth = 0;
			n->unit = n->real_parent >= 0 ? net->v[n->real_parent].unit : -1;
		} else {
			n->depth = n->real_parent >= 0 ? net->v[n->real_parent].depth + 1 : 1;
			n->unit = n->real_parent >= 0 ? net->v[n->real_parent].unit : (int)i;
		}
	}
	/*
	 * Circuits of other parts of the network, or of none, are another
	 * shaper's; one whose parent is no node at all stays, for
	 * network_resolve to refuse (a typo must not pass silently).
	 */
	for (size_t i = 0; i < set->n; i++) {
		int at = named_node(net, &set->v[i]);

		if ((at >= 0 && in[at]) || (at < 0 && set->v[i].parent_col)) {
			if (kept != i)
				set->v[kept] = set->v[i];
			kept++;
		} else {
			free(set->v[i].pfx);
			free(set->v[i].parent);
		}
	}
	if (!kept && set->n) {
		diag_add(d, "%s: no circuit hangs under --root \"%s\": nothing would be shaped", file, root);
		free(in);
		set->n = 0;
		return -EINVAL;
	}
	set->n = kept;
	free(in);
	return 0;
}

int network_resolve(const struct network *net, struct circuit_set *set, const char *csv,
		    struct cs_diag *d)
{
	size_t before = diag_count(d);

	for (size_t i = 0; i < set->n; i++) {
		struct circuit *c = &set->v[i];
		int n;

		c->node = 0;
		if (!c->parent_col)
			continue;
		n = named_node(net, c);
		if (n < 0) {
			diag_add(d, "%s:%d: %s \"%s\" is no node %s of the network", csv, c->line,
				 circuit_parent_column(c->parent_col), c->parent,
				 c->parent_col == CS_PARENT_NAME ? "name" : "id");
			continue;
		}
		/* a virtual node has no class: the circuit hangs on its nearest real ancestor */
		if (net->v[n].is_virtual)
			n = net->v[n].real_parent;
		c->node = n < 0 ? 0 : (uint32_t)n + 1;
	}
	return diag_count(d) > before ? -EINVAL : 0;
}

void network_rates(struct network *net, const struct circuit_set *want)
{
	for (size_t i = 0; i < net->n; i++)
		net->v[i].down_min = net->v[i].up_min = 0;
	for (size_t i = 0; i < want->n; i++) {
		struct net_node *n;

		if (!want->v[i].node)
			continue;
		n = &net->v[want->v[i].node - 1];
		n->down_min += want->v[i].down_min;
		n->up_min += want->v[i].up_min;
	}
	/* children come after their parents in the file: the last one first */
	for (size_t i = net->n; i-- > 0;) {
		struct net_node *n = &net->v[i];

		if (n->is_virtual)
			continue;
		if (!n->down_min)
			n->down_min = n->down_bps / 100 ? n->down_bps / 100 : 1;
		if (!n->up_min)
			n->up_min = n->up_bps / 100 ? n->up_bps / 100 : 1;
		if (n->down_min > n->down_bps)
			n->down_min = n->down_bps;
		if (n->up_min > n->up_bps)
			n->up_min = n->up_bps;
		if (n->real_parent >= 0) {
			net->v[n->real_parent].down_min += n->down_min;
			net->v[n->real_parent].up_min += n->up_min;
		}
	}
}

static int rec_name_cmp(const void *key, const void *rec)
{
	return strcmp(key, ((const struct node_rec *)rec)->name);
}

const struct node_rec *node_rec_find(const struct node_rec *v, size_t n, const char *name)
{
	return n ? bsearch(name, v, n, sizeof(*v), rec_name_cmp) : NULL;
}

void network_node_rec(const struct network *net, size_t i, struct node_rec *r)
{
	const struct net_node *n = &net->v[i];

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", n->name);
	if (n->real_parent >= 0)
		snprintf(r->parent, sizeof(r->parent), "%s", net->v[n->real_parent].name);
	r->cpu = n->cpu;
	r->major = n->major;
	r->minor = n->minor;
	r->parent_minor = n->parent_minor;
	r->down_min = n->down_min;
	r->down_max = n->down_bps;
	r->up_min = n->up_min;
	r->up_max = n->up_bps;
}

size_t network_parents_named(const struct circuit_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->v[i].parent_col != CS_PARENT_NONE;
	return n;
}
