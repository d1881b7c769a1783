/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_LOG_H
#define CS_LOG_H

enum cs_log_level { CS_LOG_WARN = 0, CS_LOG_INFO = 1, CS_LOG_DEBUG = 2 };

extern int cs_log_level;

void cs_log(enum cs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(...) cs_log(CS_LOG_WARN, __VA_ARGS__)
#define pr_info(...) cs_log(CS_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) cs_log(CS_LOG_DEBUG, __VA_ARGS__)

#endif
