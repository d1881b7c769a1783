/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* RFC 4180 records: quoted fields, "" escapes, embedded newlines, CRLF, BOM. */
#ifndef CS_CSV_H
#define CS_CSV_H

#include <stddef.h>

struct csv_reader {
	const char *p, *end;
	int line; /* line of *p, 1-based */
};

struct csv_record {
	char **field;
	size_t n;
	int line; /* line the record starts on */
	/* storage */
	char *buf;
	size_t buf_len, buf_cap;
	size_t *off;
	size_t off_cap;
};

/* Start reading @len bytes at @data; skips a UTF-8 byte order mark. */
void csv_reader_init(struct csv_reader *r, const char *data, size_t len);

/*
 * Read the next record into @rec. Returns 1 when a record was read, 0 at the
 * end of input, -EINVAL on malformed input (*err_line, *why say where and
 * what), -ENOMEM.
 */
int csv_read(struct csv_reader *r, struct csv_record *rec, int *err_line, const char **why);

void csv_record_free(struct csv_record *rec);

#endif
