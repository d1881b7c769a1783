// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "plan.h"
#include "rate.h"

const char *const change_rate_names[4] = { "down_min", "down_max", "up_min", "up_max" };

static struct change *grow(struct change_list *l)
{
	struct change *g;

	if ((l->n & (l->n + 1)) == 0 || !l->v) {
		g = realloc(l->v, (2 * l->n + 2) * sizeof(*g));
		if (!g)
			return NULL;
		l->v = g;
	}
	g = &l->v[l->n++];
	memset(g, 0, sizeof(*g));
	return g;
}

static void circuit_rates(const struct circuit *c, uint64_t r[4])
{
	r[0] = c->down_min, r[1] = c->down_max, r[2] = c->up_min, r[3] = c->up_max;
}

static void node_rates(const struct node_rec *n, uint64_t r[4])
{
	r[0] = n->down_min, r[1] = n->down_max, r[2] = n->up_min, r[3] = n->up_max;
}

/* The node whose class a wanted circuit hangs under ("" for the CPU's root class). */
static const char *want_parent(const struct network *net, const struct circuit *c)
{
	int i = c->node ? (int)c->node - 1 : -1;

	if (i >= 0 && net && (size_t)i < net->n && net->v[i].is_virtual)
		i = net->v[i].real_parent;
	return i >= 0 && net && (size_t)i < net->n ? net->v[i].name : "";
}

static const char *have_parent(const struct node_rec *nodes, size_t n, uint32_t major, uint32_t minor)
{
	for (size_t i = 0; minor && i < n; i++)
		if (nodes[i].major == major && nodes[i].minor == minor)
			return nodes[i].name;
	return "";
}

/* Fill @c from a running @h (may be NULL) and wanted @w (may be NULL) record's fields. */
static void classify(struct change *c, const uint64_t from[4], const uint64_t to[4], bool placed,
		     bool renamed, struct change_list *l)
{
	bool rates = from && to && memcmp(from, to, sizeof(uint64_t) * 4);

	if (from)
		memcpy(c->from, from, sizeof(c->from));
	if (to)
		memcpy(c->to, to, sizeof(c->to));
	if (!from)
		c->op = CHANGE_ADD;
	else if (!to)
		c->op = CHANGE_REMOVE;
	else if (!placed)
		c->op = CHANGE_MOVE;
	else if (rates || renamed)
		c->op = CHANGE_RATES;
	else {
		l->n--; /* nothing to say */
		return;
	}
	if (c->node) {
		l->nodes_added += c->op == CHANGE_ADD;
		l->nodes_changed += c->op == CHANGE_RATES;
		l->nodes_moved += c->op == CHANGE_MOVE;
		l->nodes_removed += c->op == CHANGE_REMOVE;
	} else {
		l->added += c->op == CHANGE_ADD;
		l->changed += c->op == CHANGE_RATES;
		l->moved += c->op == CHANGE_MOVE;
		l->removed += c->op == CHANGE_REMOVE;
	}
	if (!rates)
		c->set_rate = false;
}

static int diff_nodes(const struct network *net, const struct node_rec *have, size_t n_have,
		      struct change_list *l)
{
	size_t n_want = net ? net->n : 0;
	bool *seen = calloc(n_have + 1, sizeof(*seen));

	if (!seen)
		return -ENOMEM;
	for (size_t k = 0; k < n_want; k++) {
		/* by name: the network's order is parents first */
		size_t i = (size_t)net->by_name[k];
		const struct net_node *nn = &net->v[i];
		const struct node_rec *h = NULL;
		struct node_rec w;
		struct change *c;
		uint64_t from[4], to[4];

		if (nn->is_virtual)
			continue;
		network_node_rec(net, i, &w);
		h = node_rec_find(have, n_have, nn->name);
		if (h)
			seen[h - have] = true;
		if (!(c = grow(l)))
			goto nomem;
		c->node = true;
		c->id = nn->name;
		c->cpu_to = w.cpu;
		c->class_to = (w.major << 16) | w.minor;
		c->parent_to = nn->real_parent >= 0 ? net->v[nn->real_parent].name : "";
		node_rates(&w, to);
		if (h) {
			c->cpu_from = h->cpu;
			c->class_from = (h->major << 16) | h->minor;
			c->parent_from = h->parent;
			c->set_rate = h->flags & CS_REC_SET_RATE;
			node_rates(h, from);
		}
		classify(c, h ? from : NULL, to,
			 h && h->cpu == w.cpu && h->major == w.major && h->minor == w.minor &&
				 h->parent_minor == w.parent_minor,
			 false, l);
	}
	for (size_t i = 0; i < n_have; i++) {
		struct change *c;
		uint64_t from[4];

		if (seen[i])
			continue;
		if (!(c = grow(l)))
			goto nomem;
		c->node = true;
		c->id = have[i].name;
		c->cpu_from = have[i].cpu;
		c->class_from = (have[i].major << 16) | have[i].minor;
		c->parent_from = have[i].parent;
		node_rates(&have[i], from);
		classify(c, from, NULL, false, false, l);
	}
	free(seen);
	return 0;
nomem:
	free(seen);
	return -ENOMEM;
}

int diff_build(const struct circuit_set *want, const struct circuit_set *have,
	       const struct network *net, const struct node_rec *have_nodes, size_t n_have_nodes,
	       struct change_list *l)
{
	size_t i = 0, j = 0;

	memset(l, 0, sizeof(*l));
	if (diff_nodes(net, have_nodes, n_have_nodes, l))
		goto nomem;
	/* both sorted by id: one merge */
	while (i < want->n || j < have->n) {
		int cmp = i == want->n ? 1 : j == have->n ? -1 : strcmp(want->v[i].id, have->v[j].id);
		const struct circuit *w = cmp <= 0 ? &want->v[i] : NULL;
		const struct circuit *h = cmp >= 0 ? &have->v[j] : NULL;
		struct change *c = grow(l);
		uint64_t from[4], to[4];
		bool renamed = w && h && strcmp(w->name, h->name);

		if (!c)
			goto nomem;
		c->id = w ? w->id : h->id;
		if (w) {
			c->cpu_to = w->cpu;
			c->class_to = circuit_classid(w);
			c->parent_to = want_parent(net, w);
			circuit_rates(w, to);
			i++;
		}
		if (h) {
			c->cpu_from = h->cpu;
			c->class_from = circuit_classid(h);
			c->parent_from = have_parent(have_nodes, n_have_nodes, h->major, h->parent_minor);
			c->set_rate = h->flags & CS_REC_SET_RATE;
			circuit_rates(h, from);
			j++;
		}
		if (renamed) {
			c->name_from = h->name;
			c->name_to = w->name;
		}
		classify(c, h ? from : NULL, w ? to : NULL,
			 w && h && w->cpu == h->cpu && w->major == h->major && w->minor == h->minor,
			 renamed, l);
	}
	return 0;
nomem:
	diff_free(l);
	return -ENOMEM;
}

void diff_free(struct change_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* snprintf at the end of @buf; never past it */
__attribute__((format(printf, 3, 4)))
static void add(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strnlen(buf, len);
	va_list ap;

	if (at + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

static void rates_text(const uint64_t r[4], bool node, char *buf, size_t len)
{
	char m[4][32];

	for (int k = 0; k < 4; k++)
		rate_format_mbps(r[k], m[k], sizeof(m[k]));
	if (node) /* a node's Min is what its children guarantee: its bandwidth tells */
		add(buf, len, "down %s, up %s Mbit/s", m[1], m[3]);
	else
		add(buf, len, "down %s-%s, up %s-%s Mbit/s", m[0], m[1], m[2], m[3]);
}

/* @s with control characters as '?': these lines go to terminals and the system log. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

void change_format(const struct change *c, char *buf, size_t len)
{
	static const char *const names[4] = { "down min", "down max", "up min", "up max" };
	const char *sep = "";
	char p1[CS_NAME_LEN + CS_ID_LEN], p2[CS_NAME_LEN + CS_ID_LEN];

	buf[0] = '\0';
	add(buf, len, "%c %s%s", (char)c->op, c->node ? "node " : "", printable(c->id, p1, sizeof(p1)));
	switch (c->op) {
	case CHANGE_ADD:
		add(buf, len, " added: cpu %u, ", c->cpu_to);
		if (c->node && c->parent_to[0])
			add(buf, len, "under %s, ", c->parent_to);
		rates_text(c->to, c->node, buf, len);
		return;
	case CHANGE_REMOVE:
		add(buf, len, " removed");
		if (!c->node)
			add(buf, len, " (its addresses go to the default class)");
		return;
	case CHANGE_MOVE:
		add(buf, len, " moved:");
		if (c->cpu_from != c->cpu_to)
			add(buf, len, "%s cpu %u → %u", sep, c->cpu_from, c->cpu_to), sep = ",";
		if (strcmp(c->parent_from ? c->parent_from : "", c->parent_to ? c->parent_to : ""))
			add(buf, len, "%s under %s → %s", sep,
			    c->parent_from && c->parent_from[0] ? c->parent_from : "(root)",
			    c->parent_to && c->parent_to[0] ? c->parent_to : "(root)"), sep = ",";
		if (!*sep)
			add(buf, len, " class %x:%x → %x:%x", c->class_from >> 16, c->class_from & 0xffff,
			    c->class_to >> 16, c->class_to & 0xffff);
		sep = ",";
		break;
	case CHANGE_RATES:
		sep = "";
		break;
	}
	for (int k = 0; k < 4; k++) {
		char a[32], b[32];

		if (c->from[k] == c->to[k])
			continue;
		rate_format_mbps(c->from[k], a, sizeof(a));
		rate_format_mbps(c->to[k], b, sizeof(b));
		add(buf, len, "%s %s %s → %s", sep, names[k], a, b);
		sep = ",";
	}
	if (c->name_from)
		add(buf, len, "%s name \"%s\" → \"%s\"", sep, printable(c->name_from, p1, sizeof(p1)),
		    printable(c->name_to, p2, sizeof(p2)));
	if (c->set_rate)
		add(buf, len, " (puts the file's plan back over a set-rate)");
}
