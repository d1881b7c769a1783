// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"

void csv_reader_init(struct csv_reader *r, const char *data, size_t len)
{
	r->p = data;
	r->end = data + len;
	r->line = 1;
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		r->p += 3;
}

static int put(struct csv_record *rec, char c)
{
	if (rec->buf_len == rec->buf_cap) {
		size_t cap = rec->buf_cap ? rec->buf_cap * 2 : 256;
		char *b = realloc(rec->buf, cap);

		if (!b)
			return -ENOMEM;
		rec->buf = b;
		rec->buf_cap = cap;
	}
	rec->buf[rec->buf_len++] = c;
	return 0;
}

static int start_field(struct csv_record *rec)
{
	if (rec->n == rec->off_cap) {
		size_t cap = rec->off_cap ? rec->off_cap * 2 : 16;
		size_t *o = realloc(rec->off, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		rec->off = o;
		rec->off_cap = cap;
	}
	rec->off[rec->n++] = rec->buf_len;
	return 0;
}

/* Consume a line ending at r->p if there is one. */
static int eat_eol(struct csv_reader *r)
{
	if (r->p < r->end && *r->p == '\r') {
		r->p++;
		if (r->p < r->end && *r->p == '\n')
			r->p++;
		r->line++;
		return 1;
	}
	if (r->p < r->end && *r->p == '\n') {
		r->p++;
		r->line++;
		return 1;
	}
	return 0;
}

static int finish(struct csv_record *rec)
{
	char **f = realloc(rec->field, (rec->n ? rec->n : 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	rec->field = f;
	for (size_t i = 0; i < rec->n; i++)
		f[i] = rec->buf + rec->off[i];
	return 1;
}

int csv_read(struct csv_reader *r, struct csv_record *rec, int *err_line, const char **why)
{
	int err;

	rec->n = 0;
	rec->buf_len = 0;
	if (r->p >= r->end)
		return 0;
	rec->line = r->line;

	for (;;) {
		if ((err = start_field(rec)))
			return err;
		if (r->p < r->end && *r->p == '"') {
			int open_line = r->line;

			r->p++;
			for (;;) {
				if (r->p >= r->end) {
					*err_line = open_line;
					*why = "unbalanced quote: field opened here is never closed";
					return -EINVAL;
				}
				if (*r->p == '"') {
					if (r->p + 1 < r->end && r->p[1] == '"') {
						r->p += 2;
						if ((err = put(rec, '"')))
							return err;
						continue;
					}
					r->p++;
					break;
				}
				if (*r->p == '\n' || (*r->p == '\r' && (r->p + 1 >= r->end || r->p[1] != '\n')))
					r->line++;
				if (*r->p == '\0')
					goto nul;
				if ((err = put(rec, *r->p++)))
					return err;
			}
			if (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n') {
				*err_line = r->line;
				*why = "unexpected text after a closing quote";
				return -EINVAL;
			}
		} else {
			while (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n') {
				if (*r->p == '"') {
					*err_line = r->line;
					*why = "quote inside an unquoted field (quote the whole field and double the quote)";
					return -EINVAL;
				}
				if (*r->p == '\0')
					goto nul;
				if ((err = put(rec, *r->p++)))
					return err;
			}
		}
		if ((err = put(rec, '\0')))
			return err;
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		eat_eol(r);
		return finish(rec);
	}
nul:
	*err_line = r->line;
	*why = "NUL byte: not a text file";
	return -EINVAL;
}

void csv_record_free(struct csv_record *rec)
{
	free(rec->field);
	free(rec->buf);
	free(rec->off);
	memset(rec, 0, sizeof(*rec));
}
