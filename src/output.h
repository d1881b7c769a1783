/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One printing path for text and JSON, in the manner of iproute2's
 * json_print: each value is printed once with a key (JSON) and a format
 * (text). PRINT_ANY prints in both modes, PRINT_JSON / PRINT_FP in one only.
 */
#ifndef CS_OUTPUT_H
#define CS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_kind { PRINT_ANY, PRINT_JSON, PRINT_FP };

void out_init(FILE *f, bool json);
void out_open_obj(const char *key);
void out_close_obj(void);
void out_open_arr(const char *key);
void out_close_arr(void);
void print_str(enum out_kind k, const char *key, const char *fmt, const char *v);
void print_u64(enum out_kind k, const char *key, const char *fmt, uint64_t v);
/* A number given as decimal text (exact rates), unquoted in JSON. */
void print_num(enum out_kind k, const char *key, const char *fmt, const char *v);
void print_bool(enum out_kind k, const char *key, const char *fmt, bool v);
/* JSON null (text mode prints nothing). */
void print_null(enum out_kind k, const char *key);
/* Text mode only. */
void print_fp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the document: a newline after JSON. */
void out_finish(void);

/* Length of the valid UTF-8 sequence at @s (1-4), 0 if it is not one. */
int utf8_len(const unsigned char *s);
/* Offset of the first byte of @s that is not valid UTF-8, or -1. */
long utf8_check(const char *s);

/* JSON string escaping (also used for error reports); invalid UTF-8 becomes U+FFFD. */
void json_escape(FILE *f, const char *s);

#endif
