// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "circuits.h"
#include "output.h"
#include "csv.h"
#include "rate.h"

#define CS_FILE_MAX (1u << 30)

enum col {
	COL_CIRCUIT_ID, COL_CIRCUIT_NAME, COL_IPV4, COL_IPV6,
	COL_DOWN_MIN, COL_UP_MIN, COL_DOWN_MAX, COL_UP_MAX,
	COL_ANCHOR_ID, COL_PARENT_ID, COL_PARENT_NAME, COL_SQM,
	COL_N
};

static const struct {
	const char *name;
	bool required;
} columns[COL_N] = {
	[COL_CIRCUIT_ID] = { "Circuit ID", true },
	[COL_CIRCUIT_NAME] = { "Circuit Name", false },
	[COL_IPV4] = { "IPv4", false },
	[COL_IPV6] = { "IPv6", false },
	[COL_DOWN_MIN] = { "Download Min Mbps", true },
	[COL_UP_MIN] = { "Upload Min Mbps", true },
	[COL_DOWN_MAX] = { "Download Max Mbps", true },
	[COL_UP_MAX] = { "Upload Max Mbps", true },
	[COL_ANCHOR_ID] = { "Anchor Node ID", false },
	[COL_PARENT_ID] = { "Parent Node ID", false },
	[COL_PARENT_NAME] = { "Parent Node", false },
	[COL_SQM] = { "sqm", false },
};

/* The parent columns in the order they are asked, as enum circuit_parent_col - 1. */
static const int parent_col[3] = { COL_ANCHOR_ID, COL_PARENT_ID, COL_PARENT_NAME };

const char *circuit_parent_column(enum circuit_parent_col col)
{
	return col > CS_PARENT_NONE && col <= CS_PARENT_NAME ? columns[parent_col[col - 1]].name : "";
}

static int sqm_word(const char *w, size_t n, uint8_t *out)
{
	static const char *const words[] = { [CS_SQM_NONE] = "none", [CS_SQM_FQ_CODEL] = "fq_codel",
					     [CS_SQM_CAKE] = "cake" };

	if (!n) {
		*out = CS_SQM_UNSET;
		return 0;
	}
	for (uint8_t i = CS_SQM_NONE; i <= CS_SQM_CAKE; i++)
		if (strlen(words[i]) == n && !strncasecmp(w, words[i], n)) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

int circuit_sqm_parse(const char *text, uint8_t sqm[2])
{
	const char *slash = strchr(text, '/');

	if (!slash)
		return sqm_word(text, strlen(text), &sqm[0]) ? -EINVAL : (sqm[1] = sqm[0], 0);
	/* "down/up"; a side left empty takes the default */
	if (strchr(slash + 1, '/') || sqm_word(text, (size_t)(slash - text), &sqm[0]) ||
	    sqm_word(slash + 1, strlen(slash + 1), &sqm[1]))
		return -EINVAL;
	return 0;
}

/* One device row, before rows are merged into circuits. */
struct row {
	const char *id; /* into the row's own copy */
	char *text;     /* owns id, name and parent */
	const char *name;
	const char *parent; /* "" for none */
	enum circuit_parent_col parent_col;
	uint64_t rate[4]; /* down_min, up_min, down_max, up_max */
	uint8_t sqm[2];
	struct cs_prefix *pfx;
	size_t n_pfx;
	int line;
	bool name_fixed; /* bytes that were not UTF-8 became '?' */
};

bool prefix_is_v4(const struct cs_prefix *p)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return p->len >= 96 && !memcmp(p->addr, mapped, 12);
}

/* Does @a (its first a->len bits) contain all of @b? */
static bool prefix_covers(const struct cs_prefix *a, const struct cs_prefix *b)
{
	if (a->len > b->len)
		return false;
	for (int bit = 0; bit < a->len; bit++)
		if ((a->addr[bit / 8] ^ b->addr[bit / 8]) & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static bool host_bits_clear(const struct cs_prefix *p)
{
	for (int bit = p->len; bit < 128; bit++)
		if (p->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int prefix_parse(const char *text, bool v4, struct cs_prefix *p, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long len;

	if (strlen(text) >= sizeof(buf)) {
		*why = "is too long for an address";
		return -EINVAL;
	}
	strcpy(buf, text);
	memset(p, 0, sizeof(*p));
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';

	if (v4) {
		p->addr[10] = p->addr[11] = 0xff;
		if (inet_pton(AF_INET, buf, p->addr + 12) != 1) {
			*why = strchr(buf, ':') ? "is an IPv6 address in the IPv4 column"
						 : "is not a valid IPv4 address";
			return -EINVAL;
		}
	} else {
		if (inet_pton(AF_INET6, buf, p->addr) != 1) {
			*why = strchr(buf, '.') && !strchr(buf, ':')
				       ? "is an IPv4 address in the IPv6 column"
				       : "is not a valid IPv6 address";
			return -EINVAL;
		}
		p->len = 128;
		if (prefix_is_v4(p)) {
			*why = "is an IPv4-mapped address: put it in the IPv4 column";
			return -EINVAL;
		}
	}

	len = v4 ? 32 : 128;
	if (slash) {
		if (!isdigit((unsigned char)*slash)) {
			*why = "has a prefix length that is not a number";
			return -EINVAL;
		}
		errno = 0;
		len = strtol(slash, &end, 10);
		if (*end || errno || len > (v4 ? 32 : 128)) {
			*why = v4 ? "has a prefix length outside 1..32" : "has a prefix length outside 1..128";
			return -EINVAL;
		}
		if (len == 0) {
			*why = "is a /0 prefix: that is every address, not a customer";
			return -EINVAL;
		}
	}
	p->len = (uint8_t)(v4 ? 96 + len : len);
	if (!v4 && prefix_covers(p, &(struct cs_prefix){ .addr = { [10] = 0xff, [11] = 0xff }, .len = 96 })) {
		*why = "covers ::ffff:0:0/96, where IPv4 addresses live in the address map: IPv4 customers belong in the IPv4 column";
		return -EINVAL;
	}
	if (!host_bits_clear(p)) {
		*why = "has bits set past its prefix length (write the network address)";
		return -EINVAL;
	}
	return 0;
}

void prefix_format(const struct cs_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (prefix_is_v4(p)) {
		inet_ntop(AF_INET, p->addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s/%d", a, p->len - 96);
	} else {
		inet_ntop(AF_INET6, p->addr, a, sizeof(a));
		snprintf(buf, len, "%s/%d", a, p->len);
	}
}

int prefix_cmp(const struct cs_prefix *a, const struct cs_prefix *b)
{
	int c = memcmp(a->addr, b->addr, 16);

	if (c)
		return c;
	return (int)a->len - (int)b->len;
}

bool prefix_contains(const struct cs_prefix *outer, const struct cs_prefix *inner)
{
	int full = outer->len / 8, rest = outer->len % 8;

	if (outer->len > inner->len || memcmp(outer->addr, inner->addr, (size_t)full))
		return false;
	if (!rest)
		return true;
	return !((outer->addr[full] ^ inner->addr[full]) & (uint8_t)(0xff00 >> rest));
}

static int add_prefix(struct cs_prefix **v, size_t *n, const struct cs_prefix *p)
{
	struct cs_prefix *grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	(*v)[(*n)++] = *p;
	return 0;
}

/* Split a comma-separated address list and parse each entry. */
static int parse_addr_list(char *field, bool v4, struct row *row, const char *file,
			   struct cs_diag *d)
{
	const char *col = v4 ? "IPv4" : "IPv6";
	char *save = NULL, *tok;

	for (tok = strtok_r(field, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct cs_prefix p;
		const char *why;

		tok = trim(tok);
		if (!*tok)
			continue;
		if (prefix_parse(tok, v4, &p, &why)) {
			diag_add(d, "%s:%d: %s \"%s\" %s", file, row->line, col, tok, why);
			continue;
		}
		p.line = row->line;
		if (add_prefix(&row->pfx, &row->n_pfx, &p))
			return -ENOMEM;
	}
	return 0;
}

static void utf8_truncate(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size) {
		n = size - 1;
		/* do not cut a multi-byte sequence in half */
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *const informational[] = { "Device ID", "Device Name", "MAC", "Comment" };

/* Columns of the header that cpushaper does not read, as "A, B" into @set->ignored. */
static int note_ignored(struct csv_record *h, const int idx[COL_N], struct circuit_set *set)
{
	size_t len = 0;

	for (size_t i = 0; i < h->n; i++) {
		bool used = false;

		for (int c = 0; c < COL_N; c++)
			used |= idx[c] == (int)i;
		/* LibreQoS's columns that only describe: nobody expects them shaped */
		for (size_t k = 0; k < sizeof(informational) / sizeof(informational[0]); k++)
			used |= !strcasecmp(h->field[i], informational[k]);
		if (used || !*h->field[i])
			continue;
		len += strlen(h->field[i]) + 4;
		char *g = realloc(set->ignored, len);

		if (!g)
			return -ENOMEM;
		if (!set->ignored)
			g[0] = '\0';
		set->ignored = g;
		if (*g)
			strcat(g, ", ");
		strcat(g, h->field[i]);
	}
	return 0;
}

static int header_map(struct csv_record *h, int idx[COL_N], const char *file,
		      struct cs_diag *d)
{
	size_t before = diag_count(d);

	for (int c = 0; c < COL_N; c++)
		idx[c] = -1;
	for (size_t i = 0; i < h->n; i++) {
		char *name = trim(h->field[i]);

		for (int c = 0; c < COL_N; c++) {
			if (strcasecmp(name, columns[c].name))
				continue;
			if (idx[c] >= 0)
				diag_add(d, "%s:%d: column \"%s\" appears twice", file, h->line,
					 columns[c].name);
			idx[c] = (int)i;
		}
	}
	if (idx[COL_CIRCUIT_ID] < 0 && h->n == 1 && strpbrk(h->field[0], ";\t")) {
		/* one column only: a spreadsheet saved it with another separator */
		diag_add(d, "%s:%d: the header is one column holding '%s': the file was saved with %s between columns, not commas (save it as \"CSV (comma delimited)\", or set the list separator to ',')",
			 file, h->line, strchr(h->field[0], ';') ? ";" : "\\t",
			 strchr(h->field[0], ';') ? "semicolons" : "tabs");
		return -EINVAL;
	}
	for (int c = 0; c < COL_N; c++)
		if (columns[c].required && idx[c] < 0)
			diag_add(d, "%s:%d: missing required column \"%s\"", file, h->line,
				 columns[c].name);
	if (idx[COL_IPV4] < 0 && idx[COL_IPV6] < 0)
		diag_add(d, "%s:%d: missing column \"IPv4\" or \"IPv6\" (at least one is needed)",
			 file, h->line);
	return diag_count(d) == before ? 0 : -EINVAL;
}

static const int rate_col[4] = { COL_DOWN_MIN, COL_UP_MIN, COL_DOWN_MAX, COL_UP_MAX };

/* Field @i of @rec; a row may lack the last column (a spreadsheet drops it when empty). */
static char *field(struct csv_record *rec, int i)
{
	static char none[1];

	none[0] = '\0';
	return (size_t)i < rec->n ? rec->field[i] : none;
}

/* Parse one data record into @row. Problems go to @d; returns -ENOMEM only. */
static int parse_row(struct csv_record *rec, const int idx[COL_N], struct row *row,
		     const char *file, struct cs_diag *d)
{
	size_t before = diag_count(d);
	char *id;
	int err;

	memset(row, 0, sizeof(*row));
	row->line = rec->line;

	id = trim(field(rec, idx[COL_CIRCUIT_ID]));
	if (!*id)
		diag_add(d, "%s:%d: Circuit ID is empty", file, row->line);
	else if (strlen(id) >= CS_ID_LEN)
		diag_add(d, "%s:%d: Circuit ID \"%.20s...\" is longer than %d bytes", file,
			 row->line, id, CS_ID_LEN - 1);
	/*
	 * IDs go into JSON, Prometheus labels and the kernel's records and name a
	 * customer for good: they must be UTF-8. A name is only shown: its bytes
	 * that are not UTF-8 become '?', and the load says how many names had any.
	 */
	{
		long at = utf8_check(id);

		if (at >= 0)
			diag_add(d, "%s:%d: Circuit ID is not valid UTF-8 (byte 0x%02x at offset %ld): save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
				 file, row->line, (unsigned char)id[at], at);
		if (idx[COL_CIRCUIT_NAME] >= 0) {
			unsigned char *v = (unsigned char *)field(rec, idx[COL_CIRCUIT_NAME]);
			bool fixed = false;

			while (*v) {
				int n = utf8_len(v);

				if (!n) {
					*v++ = '?';
					fixed = true;
				} else {
					v += n;
				}
			}
			row->name_fixed = fixed;
		}
	}

	for (int r = 0; r < 4; r++) {
		const char *text = field(rec, idx[rate_col[r]]);
		const char *why;

		if (rate_parse_mbps(text, &row->rate[r], &why))
			diag_add(d, "%s:%d: %s \"%s\" %s", file, row->line,
				 columns[rate_col[r]].name, text, why);
	}
	for (int dir = 0; dir < 2 && diag_count(d) == before; dir++) {
		if (row->rate[dir] > row->rate[dir + 2]) {
			char lo[32], hi[32];

			rate_format_mbps(row->rate[dir], lo, sizeof(lo));
			rate_format_mbps(row->rate[dir + 2], hi, sizeof(hi));
			diag_add(d, "%s:%d: %s (%s) is greater than %s (%s)", file, row->line,
				 columns[rate_col[dir]].name, lo, columns[rate_col[dir + 2]].name, hi);
		}
	}

	if (idx[COL_SQM] >= 0) {
		char *v = trim(field(rec, idx[COL_SQM]));

		if (circuit_sqm_parse(v, row->sqm))
			diag_add(d, "%s:%d: sqm \"%s\" is not cake, fq_codel, none, empty or a down/up pair of them such as cake/fq_codel",
				 file, row->line, v);
	}

	if (idx[COL_IPV4] >= 0 &&
	    (err = parse_addr_list(field(rec, idx[COL_IPV4]), true, row, file, d)))
		return err;
	if (idx[COL_IPV6] >= 0 &&
	    (err = parse_addr_list(field(rec, idx[COL_IPV6]), false, row, file, d)))
		return err;

	/* Keep only what the circuit needs once the record buffer is reused. */
	{
		const char *name = idx[COL_CIRCUIT_NAME] >= 0 ? trim(field(rec, idx[COL_CIRCUIT_NAME])) : "";
		const char *parent = "";
		size_t il, nl, pl;

		/* the first parent column with a value decides */
		for (int k = 0; k < 3 && !*parent; k++) {
			if (idx[parent_col[k]] < 0)
				continue;
			parent = trim(field(rec, idx[parent_col[k]]));
			row->parent_col = *parent ? (enum circuit_parent_col)(k + 1) : CS_PARENT_NONE;
		}
		il = strlen(id), nl = strlen(name), pl = strlen(parent);
		row->text = malloc(il + nl + pl + 3);
		if (!row->text)
			return -ENOMEM;
		memcpy(row->text, id, il + 1);
		memcpy(row->text + il + 1, name, nl + 1);
		memcpy(row->text + il + nl + 2, parent, pl + 1);
		row->id = row->text;
		row->name = row->text + il + 1;
		row->parent = row->text + il + nl + 2;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : x->line - y->line;
}

static const char *rate_names[4] = { "Download Min Mbps", "Upload Min Mbps",
				     "Download Max Mbps", "Upload Max Mbps" };

/* Merge rows sharing a Circuit ID; rows are sorted by (id, line). */
static int merge_rows(struct row *rows, size_t n, struct circuit_set *set, const char *file,
		      struct cs_diag *d)
{
	set->v = calloc(n ? n : 1, sizeof(*set->v));
	if (!set->v)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		struct circuit *c = &set->v[set->n++];
		size_t j;

		strcpy(c->id, rows[i].id);
		utf8_truncate(c->name, rows[i].name, sizeof(c->name));
		set->names_fixed += rows[i].name_fixed;
		c->down_min = rows[i].rate[0];
		c->up_min = rows[i].rate[1];
		c->down_max = rows[i].rate[2];
		c->up_max = rows[i].rate[3];
		c->line = rows[i].line;
		c->sqm[0] = rows[i].sqm[0];
		c->sqm[1] = rows[i].sqm[1];
		if (rows[i].parent_col) {
			c->parent_col = rows[i].parent_col;
			if (!(c->parent = strdup(rows[i].parent)))
				return -ENOMEM;
		}
		for (j = i; j < n && !strcmp(rows[j].id, rows[i].id); j++) {
			if (rows[j].parent_col != rows[i].parent_col || strcmp(rows[j].parent, rows[i].parent))
				diag_add(d, "%s:%d: circuit \"%s\": its parent (%s \"%s\") differs from line %d's (%s \"%s\")",
					 file, rows[j].line, c->id,
					 rows[j].parent_col ? circuit_parent_column(rows[j].parent_col) : "none",
					 rows[j].parent, rows[i].line,
					 rows[i].parent_col ? circuit_parent_column(rows[i].parent_col) : "none",
					 rows[i].parent);
			if (rows[j].sqm[0] != rows[i].sqm[0] || rows[j].sqm[1] != rows[i].sqm[1])
				diag_add(d, "%s:%d: circuit \"%s\": its sqm differs from line %d's", file,
					 rows[j].line, c->id, rows[i].line);
			for (int r = 0; r < 4; r++) {
				char a[32], b[32];

				if (rows[j].rate[r] == rows[i].rate[r])
					continue;
				rate_format_mbps(rows[j].rate[r], a, sizeof(a));
				rate_format_mbps(rows[i].rate[r], b, sizeof(b));
				diag_add(d, "%s:%d: circuit \"%s\": %s %s differs from %s on line %d",
					 file, rows[j].line, c->id, rate_names[r], a, b, rows[i].line);
				break;
			}
			for (size_t k = 0; k < rows[j].n_pfx; k++)
				if (add_prefix(&c->pfx, &c->n_pfx, &rows[j].pfx[k]))
					return -ENOMEM;
		}
		if (!c->n_pfx)
			diag_add(d, "%s:%d: circuit \"%s\" has no IPv4 or IPv6 address", file,
				 c->line, c->id);
		i = j;
	}
	return 0;
}

struct owned_prefix {
	struct cs_prefix p;
	size_t circuit;
};

static int owned_cmp(const void *a, const void *b)
{
	const struct owned_prefix *x = a, *y = b;
	int c = prefix_cmp(&x->p, &y->p);

	if (c)
		return c;
	return x->circuit < y->circuit ? -1 : x->circuit > y->circuit;
}

/*
 * Refuse an address or prefix that two circuits share or nest. Sorted by
 * (address, length), a prefix's enclosing prefixes form a stack in front of it.
 */
static int check_overlaps(struct circuit_set *set, const char *file, struct cs_diag *d)
{
	struct owned_prefix *all, **stack;
	size_t n = 0, depth = 0;
	char a[64], b[64];

	for (size_t i = 0; i < set->n; i++)
		n += set->v[i].n_pfx;
	all = calloc(n ? n : 1, sizeof(*all));
	stack = calloc(n ? n : 1, sizeof(*stack));
	if (!all || !stack) {
		free(all);
		free(stack);
		return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < set->n; i++)
		for (size_t k = 0; k < set->v[i].n_pfx; k++)
			all[n++] = (struct owned_prefix){ set->v[i].pfx[k], i };
	qsort(all, n, sizeof(*all), owned_cmp);

	for (size_t i = 0; i < n; i++) {
		struct owned_prefix *cur = &all[i];

		while (depth && !prefix_contains(&stack[depth - 1]->p, &cur->p))
			depth--;
		if (depth && stack[depth - 1]->circuit != cur->circuit) {
			struct owned_prefix *o = stack[depth - 1];

			prefix_format(&o->p, a, sizeof(a));
			prefix_format(&cur->p, b, sizeof(b));
			diag_add(d, "%s:%d: %s of circuit \"%s\" overlaps %s of circuit \"%s\" on line %d",
				 file, cur->p.line, b, set->v[cur->circuit].id, a,
				 set->v[o->circuit].id, o->p.line);
		}
		stack[depth++] = cur;
	}
	free(all);
	free(stack);
	return 0;
}

/* Drop repeats of the same prefix within one circuit (two devices may list it). */
static void dedup_prefixes(struct circuit *c)
{
	size_t out = 0;

	if (!c->n_pfx)
		return;
	qsort(c->pfx, c->n_pfx, sizeof(*c->pfx),
	      (int (*)(const void *, const void *))prefix_cmp);
	for (size_t i = 0; i < c->n_pfx; i++)
		if (!out || prefix_cmp(&c->pfx[out - 1], &c->pfx[i]))
			c->pfx[out++] = c->pfx[i];
	c->n_pfx = out;
}

/* Rows starting on a line of @skip (sorted) are left out: --skip-invalid. */
struct skip {
	int *line;
	size_t n;
};

static bool skipped(const struct skip *s, int line)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->line[i] == line)
			return true;
	return false;
}

static int parse_csv(const char *file, const char *data, size_t len, struct circuit_set *set,
		     struct cs_diag *d, const struct skip *skip)
{
	struct csv_record rec = { 0 };
	struct csv_reader r;
	struct row *rows = NULL;
	size_t n_rows = 0, cap = 0;
	size_t before = diag_count(d);
	int idx[COL_N], err, line;
	const char *why;
	bool ends_in_newline;

	memset(set, 0, sizeof(*set));
	/* spreadsheets ("CSV UTF-8") start the file with a byte order mark */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		data += 3;
		len -= 3;
	}
	csv_reader_init(&r, data, len);
	err = csv_read(&r, &rec, &line, &why);
	if (err == 0) {
		diag_add(d, "%s:1: file is empty: expected a header line", file);
		err = -EINVAL;
		goto out;
	}
	if (err < 0)
		goto read_err;
	if ((err = header_map(&rec, idx, file, d)))
		goto out;

	size_t n_cols = rec.n;

	if ((err = note_ignored(&rec, idx, set)))
		goto out;
	ends_in_newline = len && (data[len - 1] == '\n' || data[len - 1] == '\r');
	while ((err = csv_read(&r, &rec, &line, &why)) > 0) {
		size_t empty = 0;

		/* blank lines, and a spreadsheet's empty rows (",,,,") */
		for (size_t i = 0; i < rec.n; i++)
			empty += !*trim(rec.field[i]);
		if (empty == rec.n || skipped(skip, rec.line))
			continue;
		/*
		 * A spreadsheet drops the last column of a row when it is empty:
		 * field() gives "". Not for a last row without its newline: that is
		 * more likely a file cut short, whose last field is cut too.
		 */
		if (rec.n != n_cols && !(rec.n + 1 == n_cols && n_cols > 1 && (r.p < r.end || ends_in_newline))) {
			diag_add(d, "%s:%d: row has %zu fields, the header has %zu", file, rec.line,
				 rec.n, n_cols);
			continue;
		}
		if (n_rows == cap) {
			struct row *g = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*rows));

			if (!g) {
				err = -ENOMEM;
				goto out;
			}
			rows = g;
		}
		size_t row_errors = diag_count(d);

		if ((err = parse_row(&rec, idx, &rows[n_rows++], file, d)))
			goto out;
		/* A bad row is set aside; the others are still checked against each other. */
		if (diag_count(d) != row_errors) {
			n_rows--;
			free(rows[n_rows].text);
			free(rows[n_rows].pfx);
		}
	}
	if (err < 0)
		goto read_err;
	if (!n_rows && diag_count(d) == before) {
		diag_add(d, "%s:%d: no customer rows after the header", file, r.line);
		err = -EINVAL;
		goto out;
	}

	if (n_rows)
		qsort(rows, n_rows, sizeof(*rows), row_cmp);
	if ((err = merge_rows(rows, n_rows, set, file, d)))
		goto out;
	for (size_t i = 0; i < set->n; i++)
		dedup_prefixes(&set->v[i]);
	if ((err = check_overlaps(set, file, d)))
		goto out;
	err = diag_count(d) == before ? 0 : -EINVAL;
	goto out;

read_err:
	if (err == -EINVAL)
		diag_add(d, "%s:%d: %s", file, line, why);
out:
	for (size_t i = 0; i < n_rows; i++) {
		free(rows[i].text);
		free(rows[i].pfx);
	}
	free(rows);
	csv_record_free(&rec);
	if (err)
		circuit_set_free(set);
	return err;
}

int circuits_parse_csv(const char *file, const char *data, size_t len,
		       struct circuit_set *set, struct cs_diag *d)
{
	return parse_csv(file, data, len, set, d, NULL);
}

/* The line of a "FILE:LINE: ..." message of @file, or 0. */
static int message_line(const char *msg, const char *file)
{
	size_t fl = strlen(file);
	char *end;
	long line;

	if (strncmp(msg, file, fl) || msg[fl] != ':')
		return 0;
	line = strtol(msg + fl + 1, &end, 10);
	return *end == ':' && line > 0 && line < INT32_MAX ? (int)line : 0;
}

/*
 * The other row a conflict names ("... on line 7", "... line 7's (...)"): the
 * messages end with it, after any ID or name, so the last "line N" counts. 0: none.
 */
static int other_line(const char *msg)
{
	int line = 0;

	for (const char *at = strstr(msg, "line "); at; at = strstr(at + 5, "line "))
		if (at[5] >= '1' && at[5] <= '9')
			line = atoi(at + 5);
	return line;
}

/*
 * --skip-invalid: the rows that errors name are left out, and the file read
 * again, until nothing is wrong. Of two rows in conflict (an overlap, rates
 * that disagree) the later one goes: the file's first word stands. An error
 * that names no row (the file, its header) refuses the file as ever, and so
 * does a file that still has problems after many passes: every one is said.
 */
static int parse_skipping(const char *file, const char *data, size_t len, struct circuit_set *set,
			  struct cs_diag *d, struct cs_diag *skipped_rows)
{
	enum { PASSES = 64 };
	struct skip skip = { 0 };
	int err = 0, header_line = 1;

	for (int pass = 0; pass < PASSES; pass++) {
		struct cs_diag e = { 0 };
		size_t grew = 0;
		bool give_up;

		err = parse_csv(file, data, len, set, &e, &skip);
		for (size_t i = 0; err == -EINVAL && i < e.n; i++) {
			int line = message_line(e.msg[i], file), other = other_line(e.msg[i]);
			int *g;

			if (other > line)
				line = other;
			if (line <= header_line || skipped(&skip, line) || strstr(e.msg[i], "no customer rows"))
				continue; /* names no row */
			g = realloc(skip.line, (skip.n + 1) * sizeof(*g));
			if (!g) {
				err = -ENOMEM;
				break;
			}
			skip.line = g;
			skip.line[skip.n++] = line;
			diag_add(skipped_rows, "%s", e.msg[i]);
			grew++;
		}
		give_up = err != -EINVAL || !grew || pass == PASSES - 1;
		if (give_up && err == -EINVAL) {
			/* what is still wrong, all of it */
			for (size_t i = 0; i < e.n; i++)
				diag_add(d, "%s", e.msg[i]);
			if (e.dropped)
				diag_add(d, "%s: ... and %zu more errors", file, e.dropped);
			if (grew)
				diag_add(d, "%s: --skip-invalid stopped after %d passes over the file", file, PASSES);
		}
		diag_free(&e);
		if (give_up)
			break;
	}
	free(skip.line);
	return err;
}

static int read_file(const char *path, char **data, size_t *len, struct cs_diag *d)
{
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	*data = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		diag_add(d, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CS_FILE_MAX) {
		err = -EINVAL;
		diag_add(d, "%s: not a regular file of at most 1 GiB", path);
		goto out;
	}
	*data = malloc((size_t)st.st_size + 1);
	if (!*data) {
		err = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);

		if (n <= 0) {
			err = n ? -errno : -EIO;
			diag_add(d, "%s: read failed: %s", path, strerror(-err));
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		free(*data);
		*data = NULL;
	}
	return err;
}

int circuits_load_csv(const char *path, struct circuit_set *set, struct cs_diag *d)
{
	return circuits_load_csv_skipping(path, set, d, NULL);
}

int circuits_load_csv_skipping(const char *path, struct circuit_set *set, struct cs_diag *d,
			       struct cs_diag *skipped_rows)
{
	char *data;
	size_t len = 0;
	int err;

	memset(set, 0, sizeof(*set));
	if ((err = read_file(path, &data, &len, d)))
		return err;
	err = skipped_rows ? parse_skipping(path, data, len, set, d, skipped_rows)
			   : parse_csv(path, data, len, set, d, NULL);
	free(data);
	return err;
}

static int circuit_cmp(const void *a, const void *b)
{
	return strcmp(((const struct circuit *)a)->id, ((const struct circuit *)b)->id);
}

void circuit_set_sort(struct circuit_set *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), circuit_cmp);
}

struct circuit *circuit_set_find(const struct circuit_set *s, const char *id)
{
	struct circuit key;

	if (!s->n)
		return NULL;
	snprintf(key.id, sizeof(key.id), "%s", id);
	return bsearch(&key, s->v, s->n, sizeof(*s->v), circuit_cmp);
}

void circuit_set_free(struct circuit_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].pfx);
		free(s->v[i].parent);
	}
	free(s->v);
	free(s->ignored);
	s->v = NULL;
	s->ignored = NULL;
	s->n = 0;
}
