// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

int cs_log_level = CS_LOG_WARN;

void cs_log(enum cs_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > cs_log_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
