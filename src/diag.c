// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "diag.h"

void diag_add(struct cs_diag *d, const char *fmt, ...)
{
	char **grown;
	va_list ap;
	char *s;

	if (d->n >= CS_DIAG_MAX)
		goto drop;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		goto drop;
	grown = realloc(d->msg, (d->n + 1) * sizeof(*d->msg));
	if (!grown) {
		free(s);
		goto drop;
	}
	d->msg = grown;
	d->msg[d->n++] = s;
	return;
drop:
	d->dropped++;
}

size_t diag_count(const struct cs_diag *d)
{
	return d->n + d->dropped;
}

void diag_print(const struct cs_diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->msg[i]);
	if (d->dropped)
		fprintf(f, "... and %zu more errors\n", d->dropped);
}

void diag_free(struct cs_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msg[i]);
	free(d->msg);
	d->msg = NULL;
	d->n = d->dropped = 0;
}
