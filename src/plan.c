// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "plan.h"

#define PUSH(arr, n, val)                                                     \
	({                                                                    \
		__typeof__(arr) _g = realloc(arr, ((n) + 1) * sizeof(*(arr))); \
		int _e = -ENOMEM;                                             \
		if (_g) {                                                     \
			(arr) = _g;                                           \
			(arr)[(n)++] = (val);                                 \
			_e = 0;                                               \
		}                                                             \
		_e;                                                           \
	})

int lpm_entry_cmp(const void *a, const void *b)
{
	return prefix_cmp(&((const struct lpm_entry *)a)->p, &((const struct lpm_entry *)b)->p);
}

int plan_lpm_entries(const struct circuit_set *want, struct lpm_entry **out, size_t *n)
{
	size_t total = 0, k = 0;
	struct lpm_entry *v;

	for (size_t i = 0; i < want->n; i++)
		total += want->v[i].n_pfx;
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < want->n; i++) {
		const struct circuit *c = &want->v[i];
		struct cs_target t = {
			.cpu = c->cpu,
			.classid_down = circuit_classid(c),
			.classid_up = circuit_classid(c),
			.circuit = c->index,
		};

		for (size_t j = 0; j < c->n_pfx; j++)
			v[k++] = (struct lpm_entry){ c->pfx[j], t };
	}
	if (total)
		qsort(v, total, sizeof(*v), lpm_entry_cmp);
	*out = v;
	*n = total;
	return 0;
}

static bool rates_equal(const struct circuit *a, const struct circuit *b)
{
	return a->down_min == b->down_min && a->down_max == b->down_max &&
	       a->up_min == b->up_min && a->up_max == b->up_max;
}

static bool leaves_equal(const struct circuit *a, const struct circuit *b)
{
	return a->leaf_major == b->leaf_major && !memcmp(a->leaf, b->leaf, sizeof(a->leaf));
}

static int diff_circuits(const struct circuit_set *want, const struct circuit_set *have,
			 struct plan *p)
{
	int err = 0;

	for (size_t i = 0; i < want->n && !err; i++) {
		struct circuit *w = &want->v[i];
		struct circuit *h = circuit_set_find(have, w->id);
		bool placed = h && h->cpu == w->cpu && h->minor == w->minor && h->major == w->major;

		if (!placed) {
			err = PUSH(p->class_add, p->n_class_add, w);
			if (!err && h)
				err = PUSH(p->class_del, p->n_class_del, h);
		} else if (!rates_equal(w, h)) {
			err = PUSH(p->class_change, p->n_class_change, w);
		}
		if (!err && (!placed || !rates_equal(w, h) || h->index != w->index ||
			     h->flags != w->flags || strcmp(h->name, w->name) || !leaves_equal(w, h) ||
			     memcmp(h->leaf_want, w->leaf_want, sizeof(w->leaf_want))))
			err = PUSH(p->meta_put, p->n_meta_put, w);
	}
	for (size_t i = 0; i < have->n && !err; i++) {
		struct circuit *h = &have->v[i];

		if (circuit_set_find(want, h->id))
			continue;
		err = PUSH(p->class_del, p->n_class_del, h);
		if (!err)
			err = PUSH(p->meta_del, p->n_meta_del, h);
	}
	return err;
}

/* Merge two prefix-sorted lists. */
static int diff_lpm(const struct lpm_entry *w, size_t nw, const struct lpm_entry *h, size_t nh,
		    struct plan *p)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < nw || j < nh)) {
		int c = i == nw ? 1 : j == nh ? -1 : prefix_cmp(&w[i].p, &h[j].p);

		if (c < 0) {
			err = PUSH(p->lpm_put, p->n_lpm_put, w[i]);
			i++;
		} else if (c > 0) {
			err = PUSH(p->lpm_del, p->n_lpm_del, h[j].p);
			j++;
		} else {
			if (memcmp(&w[i].t, &h[j].t, sizeof(w[i].t)))
				err = PUSH(p->lpm_put, p->n_lpm_put, w[i]);
			i++;
			j++;
		}
	}
	return err;
}

int plan_build(const struct circuit_set *want, const struct circuit_set *have,
	       const struct lpm_entry *have_lpm, size_t n_have_lpm, struct plan *p)
{
	struct lpm_entry *wl = NULL, *hl = NULL;
	size_t nw = 0;
	int err;

	memset(p, 0, sizeof(*p));
	if ((err = diff_circuits(want, have, p)))
		goto out;
	if ((err = plan_lpm_entries(want, &wl, &nw)))
		goto out;
	hl = malloc((n_have_lpm ? n_have_lpm : 1) * sizeof(*hl));
	if (!hl) {
		err = -ENOMEM;
		goto out;
	}
	if (n_have_lpm) {
		memcpy(hl, have_lpm, n_have_lpm * sizeof(*hl));
		qsort(hl, n_have_lpm, sizeof(*hl), lpm_entry_cmp);
	}
	err = diff_lpm(wl, nw, hl, n_have_lpm, p);
out:
	free(wl);
	free(hl);
	if (err)
		plan_free(p);
	return err;
}

int plan_nodes(const struct network *net, const struct node_rec *have, size_t n_have,
	       struct plan *p)
{
	int err = 0;

	for (size_t i = 0; net && i < net->n && !err; i++) {
		const struct node_rec *h;
		struct node_rec w;
		bool placed, rates;

		if (net->v[i].is_virtual)
			continue;
		network_node_rec(net, i, &w);
		h = node_rec_find(have, n_have, w.name);
		placed = h && h->cpu == w.cpu && h->major == w.major && h->minor == w.minor &&
			 h->parent_minor == w.parent_minor;
		rates = h && h->down_min == w.down_min && h->down_max == w.down_max &&
			h->up_min == w.up_min && h->up_max == w.up_max;
		if (!placed) {
			err = PUSH(p->node_add, p->n_node_add, w);
			if (!err && h)
				err = PUSH(p->node_del, p->n_node_del, *h);
		} else if (!rates) {
			err = PUSH(p->node_change, p->n_node_change, w);
		}
		if (!err && (!placed || !rates || h->flags != w.flags || strcmp(h->parent, w.parent)))
			err = PUSH(p->node_put, p->n_node_put, w);
	}
	for (size_t i = 0; i < n_have && !err; i++) {
		int at = net ? network_find_name(net, have[i].name) : -1;

		if (at >= 0 && !net->v[at].is_virtual)
			continue;
		err = PUSH(p->node_del, p->n_node_del, have[i]);
		if (!err)
			err = PUSH(p->node_gone, p->n_node_gone, have[i]);
	}
	return err;
}

int plan_leaves(const struct circuit_set *want, const struct circuit_set *have, bool resize_fifo,
		struct plan *p)
{
	int err = 0;

	for (size_t i = 0; i < want->n && !err; i++) {
		struct circuit *w = &want->v[i];
		const struct circuit *h = circuit_set_find(have, w->id);

		if (!h || h->cpu != w->cpu || h->minor != w->minor || h->major != w->major ||
		    !rates_equal(w, h))
			continue; /* a new class gets its leaf, a changed one resizes it */
		if (!leaves_equal(w, h) ||
		    (resize_fifo && (w->leaf[0] == CS_LEAF_FIFO || w->leaf[1] == CS_LEAF_FIFO)))
			err = PUSH(p->leaf_change, p->n_leaf_change, w);
	}
	return err;
}

bool plan_empty(const struct plan *p)
{
	return !p->n_leaf_change && !p->n_class_add && !p->n_class_change && !p->n_class_del && !p->n_meta_put &&
	       !p->n_meta_del && !p->n_lpm_put && !p->n_lpm_del && !p->n_node_add &&
	       !p->n_node_change && !p->n_node_del && !p->n_node_put && !p->n_node_gone;
}

void plan_free(struct plan *p)
{
	free(p->class_add);
	free(p->class_change);
	free(p->class_del);
	free(p->leaf_change);
	free(p->meta_put);
	free(p->meta_del);
	free(p->lpm_put);
	free(p->lpm_del);
	free(p->node_add);
	free(p->node_change);
	free(p->node_del);
	free(p->node_put);
	free(p->node_gone);
	memset(p, 0, sizeof(*p));
}
