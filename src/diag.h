/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A list of error messages, so one run reports every problem of a file. */
#ifndef CS_DIAG_H
#define CS_DIAG_H

#include <stddef.h>
#include <stdio.h>

#define CS_DIAG_MAX 50 /* kept; the rest are only counted */

struct cs_diag {
	char **msg;
	size_t n;
	size_t dropped;
};

void diag_add(struct cs_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t diag_count(const struct cs_diag *d);
void diag_print(const struct cs_diag *d, FILE *f);
void diag_free(struct cs_diag *d);

#endif
