// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "handles.h"
#include "maps.h"

#define SLOT(n) { "cs_" #n, offsetof(struct cs_maps, n) }
const struct cs_map_slot cs_map_slots[] = {
	SLOT(lpm), SLOT(hosts), SLOT(circuits), SLOT(nodes), SLOT(config), SLOT(cpumap),
	SLOT(cpu_stats), SLOT(misc_stats), SLOT(unknown), SLOT(xps), SLOT(cstats), SLOT(rtt), SLOT(flows), SLOT(rtt_all), SLOT(rtt_zero),
	SLOT(queues), SLOT(cpu_htb),
};
const size_t cs_n_map_slots = sizeof(cs_map_slots) / sizeof(cs_map_slots[0]);

int maps_xps_save(const struct cs_maps *m, bool lan, unsigned int queue, bool rxqs, const char *text)
{
	struct cs_xps_key k = { .lan = lan, .queue = queue, .rxqs = rxqs };
	struct cs_xps_val v = { 0 };

	snprintf(v.cpus, sizeof(v.cpus), "%s", text);
	if (bpf_map_update_elem(m->xps, &k, &v, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	return 0;
}

void maps_init(struct cs_maps *m)
{
	for (size_t i = 0; i < cs_n_map_slots; i++)
		CS_MAP_FD(m, &cs_map_slots[i]) = -1;
}

void maps_close(struct cs_maps *m)
{
	for (size_t i = 0; i < cs_n_map_slots; i++)
		if (CS_MAP_FD(m, &cs_map_slots[i]) >= 0)
			close(CS_MAP_FD(m, &cs_map_slots[i]));
	maps_init(m);
}

#define MAX_PROG_MAPS 32

/* The ids of the maps program @fd uses or is bound to: how many, or -errno. */
static int prog_map_ids(int fd, __u32 ids[MAX_PROG_MAPS])
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	memset(ids, 0, MAX_PROG_MAPS * sizeof(*ids)); /* valgrind does not know the kernel fills it */
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return (int)(info.nr_map_ids < MAX_PROG_MAPS ? info.nr_map_ids : MAX_PROG_MAPS);
}

/* An fd of map @id and its name in @name; -errno. */
static int map_open_id(__u32 id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	int fd = bpf_map_get_fd_by_id(id);

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	memcpy(name, mi.name, BPF_OBJ_NAME_LEN);
	return fd;
}

int maps_from_prog_id(__u32 prog_id, struct cs_maps *m)
{
	__u32 ids[MAX_PROG_MAPS];
	int fd, n, err = 0;

	maps_init(m);
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	if ((n = prog_map_ids(fd, ids)) < 0) {
		err = n;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char name[BPF_OBJ_NAME_LEN];
		int mfd = map_open_id(ids[i], name);
		int *slot = NULL;

		if (mfd < 0) {
			err = mfd;
			goto out;
		}
		for (size_t s = 0; s < cs_n_map_slots && !slot; s++)
			if (!strcmp(name, cs_map_slots[s].name))
				slot = &CS_MAP_FD(m, &cs_map_slots[s]);
		if (slot && *slot < 0)
			*slot = mfd;
		else
			close(mfd);
	}
	for (size_t s = 0; s < cs_n_map_slots; s++)
		if (CS_MAP_FD(m, &cs_map_slots[s]) < 0)
			err = m->config >= 0 ? -EPROTO : -ENOENT; /* EPROTO: another version's maps */
out:
	close(fd);
	if (err)
		maps_close(m);
	return err;
}

int maps_fd_from_prog_id(__u32 prog_id, const char *name)
{
	__u32 ids[MAX_PROG_MAPS];
	int fd, n, found = -ENOENT;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	n = prog_map_ids(fd, ids);
	if (n < 0)
		found = n;
	for (int i = 0; i < n && found < 0; i++) {
		char mname[BPF_OBJ_NAME_LEN];
		int mfd = map_open_id(ids[i], mname);

		if (mfd >= 0 && !strcmp(mname, name))
			found = mfd;
		else if (mfd >= 0)
			close(mfd);
	}
	close(fd);
	return found;
}

int maps_cpumap_clear(int fd)
{
	int err = 0;

	for (__u32 cpu = 0; cpu < CS_MAX_CPUS; cpu++)
		if (bpf_map_delete_elem(fd, &cpu) && errno != ENOENT && errno != EINVAL && !err)
			err = -errno;
	return err;
}

int maps_config_read_fd(int fd, struct cs_config *cfg)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi), zero = 0;

	/* another version's config may be larger than ours: never read it into ours */
	if (bpf_obj_get_info_by_fd(fd, &mi, &len))
		return -errno;
	if (mi.value_size != sizeof(*cfg))
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &zero, cfg))
		return -errno;
	return cfg->abi == CS_ABI_VERSION ? 0 : -EPROTO;
}

int maps_config_read(const struct cs_maps *m, struct cs_config *cfg)
{
	return maps_config_read_fd(m->config, cfg);
}

/* Which TX queue each HTB major is on, and each CPU's first HTB (src/handles.h). */
static int layout_write(const struct cs_maps *m, const struct cs_config *cfg)
{
	__u32 n = cfg->htb_stride * cfg->htbs_per_cpu;

	for (__u32 q = 0; q < n && q < HANDLE_COUNT; q++) {
		__u32 major = handle_major(q), v = q + 1;

		if (bpf_map_update_elem(m->queues, &major, &v, BPF_ANY) ||
		    (q < cfg->htb_stride && q < CS_MAX_CPUS &&
		     bpf_map_update_elem(m->cpu_htb, &q, &major, BPF_ANY)))
			return -errno;
	}
	return 0;
}

/* The configuration, and the layout it names with it: one cannot go without the other. */
int maps_config_write(const struct cs_maps *m, const struct cs_config *cfg)
{
	__u32 zero = 0;
	int err = layout_write(m, cfg);

	if (err)
		return err;
	return bpf_map_update_elem(m->config, &zero, cfg, BPF_ANY) ? -errno : 0;
}

int maps_cpumap_sync(const struct cs_maps *m, const bool cpus[CS_MAX_CPUS], __u32 qsize,
		     int prog_fd)
{
	for (__u32 cpu = 0; cpu < CS_MAX_CPUS; cpu++) {
		struct bpf_cpumap_val v = { .qsize = qsize, .bpf_prog.fd = prog_fd };

		if (cpus[cpu]) {
			if (bpf_map_update_elem(m->cpumap, &cpu, &v, BPF_ANY))
				return -errno;
		} else if (bpf_map_delete_elem(m->cpumap, &cpu) && errno != ENOENT &&
			   errno != EINVAL) {
			return -errno;
		}
	}
	return 0;
}

/* Does program @fd use (or is it bound to) map @map_id? */
static bool prog_uses_map(int fd, __u32 map_id)
{
	__u32 ids[MAX_PROG_MAPS];
	int n = prog_map_ids(fd, ids);

	for (int i = 0; i < n; i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

__u32 maps_id(int fd)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);

	return bpf_obj_get_info_by_fd(fd, &mi, &len) ? 0 : mi.id;
}

int maps_flow_sets(const struct cs_maps *m)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);

	if (bpf_obj_get_info_by_fd(m->flows, &mi, &len))
		return -errno;
	return (int)mi.max_entries;
}

bool maps_same(int a, int b)
{
	__u32 x = maps_id(a);

	return x && x == maps_id(b);
}

int maps_cpumap_prog_fd(const struct cs_maps *m)
{
	for (__u32 cpu = 0; cpu < CS_MAX_CPUS; cpu++) {
		struct bpf_cpumap_val v;
		int fd;

		if (bpf_map_lookup_elem(m->cpumap, &cpu, &v) || !v.bpf_prog.id)
			continue;
		fd = bpf_prog_get_fd_by_id(v.bpf_prog.id);
		if (fd < 0)
			return -errno;
		if (prog_uses_map(fd, maps_id(m->cpumap))) {
			/* built by cpushaper <= 0.7, bound back to the cpumap: a cycle; load a new copy */
			close(fd);
			return -ENOENT;
		}
		return fd;
	}
	return -ENOENT;
}

int maps_cpumap_sweep_orphans(void)
{
	__u32 id = 0, pid;
	int emptied = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info mi = { 0 };
		__u32 len = sizeof(mi);
		bool used = false;
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &len) || mi.type != BPF_MAP_TYPE_CPUMAP ||
		    strcmp(mi.name, "cs_cpumap")) {
			close(fd);
			continue;
		}
		/*
		 * In use while any XDP or TC program of ours uses it: attached
		 * somewhere (any namespace), or held by a load that is under way.
		 * Otherwise only its own entries' program keeps it: an orphan.
		 */
		for (pid = 0; !used && !bpf_prog_get_next_id(pid, &pid);) {
			struct bpf_prog_info pi = { 0 };
			__u32 plen = sizeof(pi);
			int pfd = bpf_prog_get_fd_by_id(pid);

			if (pfd < 0)
				continue;
			if (!bpf_obj_get_info_by_fd(pfd, &pi, &plen) &&
			    (!strcmp(pi.name, "cs_xdp_steer") || !strcmp(pi.name, "cs_tc_classify")))
				used = prog_uses_map(pfd, id);
			close(pfd);
		}
		if (!used && !maps_cpumap_clear(fd))
			emptied++;
		close(fd);
	}
	return emptied;
}

static void key_to_prefix(const struct cs_lpm_key *k, struct cs_prefix *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->addr, k->addr, 16);
	p->len = (uint8_t)k->prefixlen;
}

static void prefix_to_key(const struct cs_prefix *p, struct cs_lpm_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, p->addr, 16);
	k->prefixlen = p->len;
}

static int circuit_index_cmp(const void *a, const void *b)
{
	const struct circuit *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static void from_kernel(struct circuit *c, const struct cs_circuit *kc, __u32 index)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->id, kc->id, sizeof(c->id));
	c->id[CS_ID_LEN - 1] = '\0';
	memcpy(c->name, kc->name, sizeof(c->name));
	c->name[CS_NAME_LEN - 1] = '\0';
	c->cpu = kc->cpu;
	c->minor = kc->minor;
	c->major = kc->major;
	c->parent_minor = kc->parent_minor;
	c->index = index;
	c->down_min = kc->down_min_bps;
	c->down_max = kc->down_max_bps;
	c->up_min = kc->up_min_bps;
	c->up_max = kc->up_max_bps;
	c->flags = kc->flags;
	c->leaf_major = kc->leaf_major;
	c->leaf[0] = kc->leaf_down & 0xf;
	c->leaf[1] = kc->leaf_up & 0xf;
	c->leaf_want[0] = kc->leaf_down >> 4;
	c->leaf_want[1] = kc->leaf_up >> 4;
}

/*
 * Every entry of the hash map @fd to @fn, a few hundred per syscall (one
 * get-next-key and one lookup per entry made reading 20 000 circuits 120 000
 * syscalls). @fn returns 0 to go on, 1 to stop, or -errno.
 */
static int hash_each(int fd, size_t ksz, size_t vsz,
		     int (*fn)(const void *k, const void *v, void *arg), void *arg)
{
	__u32 chunk = 512, batch = 0;
	void *keys = NULL, *vals = NULL;
	bool first = true, done = false;
	int err = 0;

	while (!done && !err) {
		__u32 n = chunk;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		if (!keys) {
			/* zeroed: valgrind does not know that the kernel fills them */
			keys = calloc(chunk, ksz);
			vals = calloc(chunk, vsz);
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &n, &o)) {
			if (errno == ENOSPC && n == 0) {
				/* a bucket holds more than a chunk: take bigger ones */
				chunk *= 4;
				free(keys);
				free(vals);
				keys = vals = NULL;
				continue;
			}
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			done = true; /* the last entries, if any, are in this answer */
		}
		first = false;
		for (__u32 i = 0; i < n && !err; i++)
			err = fn((char *)keys + i * ksz, (char *)vals + i * vsz, arg);
	}
	free(keys);
	free(vals);
	return err < 0 ? err : 0;
}

struct find_arg {
	const char *id;
	struct circuit *out;
	bool found;
};

static int find_one(const void *k, const void *v, void *arg)
{
	const struct cs_circuit *kc = v;
	struct find_arg *a = arg;

	if (strncmp(kc->id, a->id, sizeof(kc->id)))
		return 0;
	from_kernel(a->out, kc, *(const __u32 *)k);
	a->found = true;
	return 1;
}

int maps_circuit_find(const struct cs_maps *m, const char *id, struct circuit *out)
{
	struct find_arg a = { id, out, false };
	int err = hash_each(m->circuits, sizeof(__u32), sizeof(struct cs_circuit), find_one, &a);

	return err ? err : a.found ? 0 : -ENOENT;
}

struct grow {
	void *v;
	size_t n, cap, size;
};

/* Room for one more element of @g; NULL when out of memory. */
static void *grow_one(struct grow *g)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		void *nv = realloc(g->v, cap * g->size);

		if (!nv)
			return NULL;
		g->v = nv;
		g->cap = cap;
	}
	return (char *)g->v + g->n++ * g->size;
}

static int add_circuit(const void *k, const void *v, void *arg)
{
	struct circuit *c = grow_one(arg);

	if (!c)
		return -ENOMEM;
	from_kernel(c, v, *(const __u32 *)k);
	return 0;
}

static int read_circuits(const struct cs_maps *m, struct circuit_set *have)
{
	struct grow g = { .size = sizeof(struct circuit) };
	int err = hash_each(m->circuits, sizeof(__u32), sizeof(struct cs_circuit), add_circuit, &g);

	memset(have, 0, sizeof(*have));
	if (err) {
		free(g.v);
		return err;
	}
	have->v = g.v;
	have->n = g.n;
	return 0;
}

int maps_read_circuits(const struct cs_maps *m, struct circuit_set *have)
{
	int err = read_circuits(m, have);

	if (!err)
		circuit_set_sort(have);
	return err;
}

static int add_host(const void *k, const void *v, void *arg)
{
	struct lpm_entry *e = grow_one(arg);

	if (!e)
		return -ENOMEM;
	memset(&e->p, 0, sizeof(e->p));
	memcpy(e->p.addr, k, 16);
	e->p.len = 128;
	e->t = *(const struct cs_target *)v;
	return 0;
}

int maps_read_state(const struct cs_maps *m, struct circuit_set *have, struct lpm_entry **lpm,
		    size_t *n_lpm)
{
	struct grow g = { .size = sizeof(struct lpm_entry) };
	struct cs_lpm_key key, next;
	struct lpm_entry *l;
	size_t nl;
	void *prev;
	int err;

	if ((err = read_circuits(m, have)))
		return err;

	/* The trie has no batch lookup: key by key. Then the hosts' hash. */
	for (prev = NULL; !bpf_map_get_next_key(m->lpm, prev, &next); prev = &key) {
		struct cs_target t;
		struct lpm_entry *e;

		key = next;
		if (bpf_map_lookup_elem(m->lpm, &key, &t))
			continue; /* deleted meanwhile */
		if (!(e = grow_one(&g))) {
			err = -ENOMEM;
			break;
		}
		key_to_prefix(&key, &e->p);
		e->t = t;
	}
	if (!err)
		err = hash_each(m->hosts, sizeof(struct cs_host_key), sizeof(struct cs_target),
				add_host, &g);
	l = g.v;
	nl = g.n;
	if (err)
		goto out;

	/* Hand each circuit its prefixes: sort circuits by index, look each entry up. */
	if (have->n)
		qsort(have->v, have->n, sizeof(*have->v), circuit_index_cmp);
	for (size_t i = 0; i < nl; i++) {
		struct circuit probe = { .index = l[i].t.circuit }, *c;
		struct cs_prefix *np;

		c = have->n ? bsearch(&probe, have->v, have->n, sizeof(*have->v), circuit_index_cmp)
			    : NULL;
		if (!c)
			continue; /* orphan: the plan deletes it */
		np = realloc(c->pfx, (c->n_pfx + 1) * sizeof(*np));
		if (!np) {
			err = -ENOMEM;
			goto out;
		}
		c->pfx = np;
		c->pfx[c->n_pfx++] = l[i].p;
	}
	circuit_set_sort(have);
	for (size_t i = 0; i < have->n; i++)
		if (have->v[i].n_pfx > 1)
			qsort(have->v[i].pfx, have->v[i].n_pfx, sizeof(struct cs_prefix),
			      (int (*)(const void *, const void *))prefix_cmp);
out:
	if (err) {
		circuit_set_free(have);
		free(l);
		return err;
	}
	*lpm = l;
	*n_lpm = nl;
	return 0;
}

/* A circuit's counters and round trips go with it: the next one at its index starts from 0. */
static void stats_forget(const struct cs_maps *m, __u32 index)
{
	struct cs_circuit_stats zero = { 0 };

	bpf_map_update_elem(m->cstats, &index, &zero, BPF_ANY);
	bpf_map_delete_elem(m->rtt, &index);
}

int maps_circuit_put(const struct cs_maps *m, const struct circuit *c)
{
	struct cs_circuit kc = {
		.cpu = c->cpu,
		.minor = c->minor,
		.major = c->major,
		.parent_minor = c->parent_minor,
		.down_min_bps = c->down_min,
		.down_max_bps = c->down_max,
		.up_min_bps = c->up_min,
		.up_max_bps = c->up_max,
		.flags = c->flags,
		.leaf_major = c->leaf_major,
		.leaf_down = (__u8)(c->leaf[0] | c->leaf_want[0] << 4),
		.leaf_up = (__u8)(c->leaf[1] | c->leaf_want[1] << 4),
	};

	struct cs_circuit old;

	memcpy(kc.id, c->id, sizeof(kc.id));
	memcpy(kc.name, c->name, sizeof(kc.name));
	/* a new circuit at this index: what the last one there left is not its */
	if (bpf_map_lookup_elem(m->circuits, &c->index, &old) || memcmp(old.id, kc.id, sizeof(kc.id)))
		stats_forget(m, c->index);
	return bpf_map_update_elem(m->circuits, &c->index, &kc, BPF_ANY) ? -errno : 0;
}

static int add_node(const void *k, const void *v, void *arg)
{
	const struct cs_node_key *key = k;
	const struct cs_node *kn = v;
	struct node_rec *r = grow_one(arg);

	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	memcpy(r->name, key->name, sizeof(r->name) - 1);
	memcpy(r->parent, kn->parent, sizeof(r->parent) - 1);
	r->cpu = kn->cpu;
	r->major = kn->major;
	r->minor = kn->minor;
	r->parent_minor = kn->parent_minor;
	r->down_min = kn->down_min_bps;
	r->down_max = kn->down_max_bps;
	r->up_min = kn->up_min_bps;
	r->up_max = kn->up_max_bps;
	r->flags = kn->flags;
	return 0;
}

static int node_rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_rec *)a)->name, ((const struct node_rec *)b)->name);
}

/*
 * Every entry of the hash map @fd made into an element of @size by @add
 * (which grows a struct grow), sorted by @cmp: *out (caller frees), *n.
 */
static int collect_sorted(int fd, size_t ksz, size_t vsz,
			  int (*add)(const void *k, const void *v, void *arg), size_t size,
			  int (*cmp)(const void *, const void *), void **out, size_t *n)
{
	struct grow g = { .size = size };
	int err = hash_each(fd, ksz, vsz, add, &g);

	*out = NULL;
	*n = 0;
	if (err) {
		free(g.v);
		return err;
	}
	if (g.n)
		qsort(g.v, g.n, size, cmp);
	*out = g.v;
	*n = g.n;
	return 0;
}

int maps_read_nodes(const struct cs_maps *m, struct node_rec **out, size_t *n)
{
	return collect_sorted(m->nodes, sizeof(struct cs_node_key), sizeof(struct cs_node), add_node,
			      sizeof(struct node_rec), node_rec_cmp, (void **)out, n);
}

int maps_node_put(const struct cs_maps *m, const struct node_rec *r)
{
	struct cs_node_key key = { 0 };
	struct cs_node kn = {
		.cpu = r->cpu,
		.minor = r->minor,
		.major = r->major,
		.parent_minor = r->parent_minor,
		.down_min_bps = r->down_min,
		.down_max_bps = r->down_max,
		.up_min_bps = r->up_min,
		.up_max_bps = r->up_max,
		.flags = r->flags,
	};

	snprintf(key.name, sizeof(key.name), "%s", r->name);
	snprintf(kn.parent, sizeof(kn.parent), "%s", r->parent);
	return bpf_map_update_elem(m->nodes, &key, &kn, BPF_ANY) ? -errno : 0;
}

int maps_node_del(const struct cs_maps *m, const char *name)
{
	struct cs_node_key key = { 0 };

	snprintf(key.name, sizeof(key.name), "%s", name);
	if (bpf_map_delete_elem(m->nodes, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

int maps_circuit_del(const struct cs_maps *m, __u32 index)
{
	if (bpf_map_delete_elem(m->circuits, &index) && errno != ENOENT)
		return -errno;
	stats_forget(m, index);
	return 0;
}

struct index_arg {
	void *out;     /* [n] elements of size */
	size_t size, n;
	const __u32 *index; /* sorted: position i holds circuit index[i] */
};

/* Position of @key in the sorted @index[n], or n. */
static size_t index_pos(const __u32 *index, size_t n, __u32 key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (index[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && index[lo] == key ? lo : n;
}

static int index_one(const void *k, const void *v, void *arg)
{
	struct index_arg *a = arg;
	size_t i = index_pos(a->index, a->n, *(const __u32 *)k);

	if (i < a->n)
		memcpy((char *)a->out + i * a->size, v, a->size);
	return 0;
}

/* Entries of the per-circuit hash @fd for the sorted circuit indexes @index[n]; zero where none. */
static int read_by_index(int fd, size_t vsz, const __u32 *index, size_t n, void *out)
{
	struct index_arg a = { out, vsz, n, index };

	memset(out, 0, n * vsz);
	return hash_each(fd, sizeof(__u32), vsz, index_one, &a);
}

/*
 * Indexes are handed out lowest first, so the array is read in batches from 0
 * to the highest index asked for, not all CS_MAX_CIRCUITS entries.
 */
int maps_read_cstats(const struct cs_maps *m, const __u32 *index, size_t n, struct cs_circuit_stats *out)
{
	enum { CHUNK = 4096 };
	__u32 *keys = calloc(CHUNK, sizeof(*keys)), batch = 0;
	struct cs_circuit_stats *vals = calloc(CHUNK, sizeof(*vals));
	size_t k = 0;
	bool first = true;
	int err = 0;

	memset(out, 0, n * sizeof(*out));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (k < n) {
		__u32 got = CHUNK;
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		bool last = false;

		if (bpf_map_lookup_batch(m->cstats, first ? NULL : &batch, &batch, keys, vals, &got, &o)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			last = true;
		}
		first = false;
		for (__u32 i = 0; i < got && k < n; i++) {
			while (k < n && index[k] < keys[i])
				k++; /* beyond the array: stays zero */
			if (k < n && index[k] == keys[i])
				out[k++] = vals[i];
		}
		if (last || !got)
			break;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int maps_read_rtt(const struct cs_maps *m, const __u32 *index, size_t n, struct cs_circuit_rtt *out)
{
	return read_by_index(m->rtt, sizeof(*out), index, n, out);
}

int maps_rtt_total(const struct cs_maps *m, struct cs_rtt_total *out)
{
	int n = libbpf_num_possible_cpus();
	struct cs_rtt_total *per;
	__u32 zero = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (n <= 0)
		return n ? n : -EINVAL;
	per = calloc((size_t)n, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->rtt_all, &zero, per))
		err = -errno;
	for (int c = 0; c < n && !err; c++)
		for (int d = 0; d < 2; d++) {
			for (int b = 0; b < CS_RTT_TOTALS; b++)
				out->total[d][b] += per[c].total[d][b];
			out->sum_us[d] += per[c].sum_us[d];
		}
	free(per);
	return err;
}

int maps_rtt_get(const struct cs_maps *m, __u32 index, struct cs_circuit_rtt *out)
{
	if (bpf_map_lookup_elem(m->rtt, &index, out)) {
		memset(out, 0, sizeof(*out));
		return errno == ENOENT ? 0 : -errno;
	}
	return 1;
}

int maps_cstats_get(const struct cs_maps *m, __u32 index, struct cs_circuit_stats *out)
{
	if (bpf_map_lookup_elem(m->cstats, &index, out)) {
		memset(out, 0, sizeof(*out));
		return -errno;
	}
	return 0;
}

/* Hosts live in the exact-match hash: the data path looks there before the trie. */
static int addr_map(const struct cs_maps *m, const struct cs_prefix *p, struct cs_lpm_key *k,
		    const void **key)
{
	prefix_to_key(p, k);
	*key = p->len == 128 ? (const void *)k->addr : (const void *)k;
	return p->len == 128 ? m->hosts : m->lpm;
}

int maps_lpm_put(const struct cs_maps *m, const struct cs_prefix *p, const struct cs_target *t)
{
	struct cs_lpm_key k;
	const void *key;
	int fd = addr_map(m, p, &k, &key);

	return bpf_map_update_elem(fd, key, t, BPF_ANY) ? -errno : 0;
}

int maps_lpm_del(const struct cs_maps *m, const struct cs_prefix *p)
{
	struct cs_lpm_key k;
	const void *key;
	int fd = addr_map(m, p, &k, &key);

	if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

static int percpu_sum(int fd, __u32 key, __u64 *out, size_t nfields)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu * nfields, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, nfields * sizeof(__u64));
	for (int c = 0; c < ncpu; c++)
		for (size_t f = 0; f < nfields; f++)
			out[f] += vals[(size_t)c * nfields + f];
	free(vals);
	return 0;
}

int maps_cpu_counters(const struct cs_maps *m, __u32 cpu, struct cs_cpu_counters *out)
{
	return percpu_sum(m->cpu_stats, cpu, (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int maps_misc_counters(const struct cs_maps *m, struct cs_misc_counters *out)
{
	return percpu_sum(m->misc_stats, 0, (__u64 *)out, sizeof(*out) / sizeof(__u64));
}

int maps_misc_counters_percpu(const struct cs_maps *m, struct cs_misc_counters *out, int max)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cs_misc_counters *vals;
	__u32 zero = 0;

	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->misc_stats, &zero, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memcpy(out, vals, (size_t)(ncpu < max ? ncpu : max) * sizeof(*out));
	free(vals);
	return ncpu < max ? ncpu : max;
}

static int add_unknown(const void *k, const void *v, void *arg)
{
	const struct cs_unknown_key *key = k;
	const struct cs_unknown_val *val = v;
	struct unknown_addr *u = grow_one(arg);

	if (!u)
		return -ENOMEM;
	memset(u, 0, sizeof(*u));
	memcpy(u->p.addr, key->addr, sizeof(u->p.addr));
	u->p.len = 128;
	u->packets = val->packets;
	u->bytes = val->bytes;
	u->down = val->down;
	return 0;
}

static int unknown_cmp(const void *a, const void *b)
{
	const struct unknown_addr *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

int maps_read_unknown(const struct cs_maps *m, struct unknown_addr **out, size_t *n)
{
	return collect_sorted(m->unknown, sizeof(struct cs_unknown_key), sizeof(struct cs_unknown_val),
			      add_unknown, sizeof(struct unknown_addr), unknown_cmp, (void **)out, n);
}

void maps_unknown_prune(const struct cs_maps *m)
{
	struct unknown_addr *u;
	size_t n;

	/* at most CS_UNKNOWN_MAX addresses, read in batches, then two lookups each */
	if (maps_read_unknown(m, &u, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct cs_lpm_key lk = { .prefixlen = 128 };
		struct cs_target t;

		memcpy(lk.addr, u[i].p.addr, sizeof(lk.addr));
		if (!bpf_map_lookup_elem(m->hosts, lk.addr, &t) || !bpf_map_lookup_elem(m->lpm, &lk, &t))
			bpf_map_delete_elem(m->unknown, lk.addr);
	}
	free(u);
}

struct xps_arg {
	int (*fn)(bool lan, unsigned int queue, bool rxqs, const char *text, void *arg);
	void *arg;
};

static int xps_one(const void *k, const void *v, void *arg)
{
	const struct cs_xps_key *key = k;
	struct cs_xps_val val = *(const struct cs_xps_val *)v;
	struct xps_arg *x = arg;

	val.cpus[sizeof(val.cpus) - 1] = '\0';
	return x->fn(key->lan, key->queue, key->rxqs, val.cpus, x->arg);
}

int maps_xps_each(int fd, int (*fn)(bool lan, unsigned int queue, bool rxqs, const char *text, void *arg),
		  void *arg)
{
	struct xps_arg x = { fn, arg };

	return hash_each(fd, sizeof(struct cs_xps_key), sizeof(struct cs_xps_val), xps_one, &x);
}
