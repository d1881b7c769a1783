// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <string.h>
#include "output.h"

#define MAX_DEPTH 32

static FILE *out;
static bool json;
static int depth;
static bool first[MAX_DEPTH];

void out_init(FILE *f, bool as_json)
{
	out = f;
	json = as_json;
	depth = 0;
	first[0] = true;
}

int utf8_len(const unsigned char *s)
{
	int n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

long utf8_check(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	for (const unsigned char *p = s; *p;) {
		int n = utf8_len(p);

		if (!n)
			return (long)(p - s);
		p += n;
	}
	return -1;
}

void json_escape(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		int n;

		switch (*s) {
		case '"': fputs("\\\"", f); s++; continue;
		case '\\': fputs("\\\\", f); s++; continue;
		case '\n': fputs("\\n", f); s++; continue;
		case '\r': fputs("\\r", f); s++; continue;
		case '\t': fputs("\\t", f); s++; continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		fwrite(s, 1, (size_t)n, f);
		s += n;
	}
	fputc('"', f);
}

static void key(const char *k)
{
	if (!first[depth])
		fputc(',', out);
	first[depth] = false;
	if (k) {
		json_escape(out, k);
		fputc(':', out);
	}
}

static void open(const char *k, char c)
{
	if (!json)
		return;
	key(k);
	fputc(c, out);
	if (depth + 1 < MAX_DEPTH)
		first[++depth] = true;
}

static void close_(char c)
{
	if (!json)
		return;
	fputc(c, out);
	if (depth > 0)
		depth--;
}

void out_open_obj(const char *k) { open(k, '{'); }
void out_close_obj(void) { close_('}'); }
void out_open_arr(const char *k) { open(k, '['); }
void out_close_arr(void) { close_(']'); }

static bool wanted(enum out_kind k)
{
	return k == PRINT_ANY || (k == PRINT_JSON) == json;
}

void print_str(enum out_kind k, const char *kname, const char *fmt, const char *v)
{
	if (!wanted(k))
		return;
	if (json) {
		key(kname);
		json_escape(out, v);
	} else if (fmt) {
		fprintf(out, fmt, v);
	}
}

void print_u64(enum out_kind k, const char *kname, const char *fmt, uint64_t v)
{
	if (!wanted(k))
		return;
	if (json) {
		key(kname);
		fprintf(out, "%llu", (unsigned long long)v);
	} else if (fmt) {
		fprintf(out, fmt, (unsigned long long)v);
	}
}

void print_num(enum out_kind k, const char *kname, const char *fmt, const char *v)
{
	if (!wanted(k))
		return;
	if (json) {
		key(kname);
		fputs(v, out);
	} else if (fmt) {
		fprintf(out, fmt, v);
	}
}

void print_bool(enum out_kind k, const char *kname, const char *fmt, bool v)
{
	if (!wanted(k))
		return;
	if (json) {
		key(kname);
		fputs(v ? "true" : "false", out);
	} else if (fmt) {
		fprintf(out, fmt, v ? "yes" : "no");
	}
}

void print_null(enum out_kind k, const char *kname)
{
	if (!wanted(k) || !json)
		return;
	key(kname);
	fputs("null", out);
}

void print_fp(const char *fmt, ...)
{
	va_list ap;

	if (json)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

void out_finish(void)
{
	if (json)
		fputc('\n', out);
	fflush(out);
	/* the next document starts afresh (top -j prints one per refresh) */
	depth = 0;
	first[0] = true;
}
