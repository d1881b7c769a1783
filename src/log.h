/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_LOG_H
#define CS_LOG_H

#include <stddef.h>

enum cs_log_level { CS_LOG_WARN = 0, CS_LOG_INFO = 1, CS_LOG_DEBUG = 2 };

extern int cs_log_level;

void cs_log(enum cs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A line to the system log (facility daemon, notice), as syslog(3) would send
 * it to /dev/log; nothing when there is no log socket. CS_TEST_SYSLOG names
 * another socket (tests).
 */
void cs_syslog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Who runs this: "root", "root (sudo by alice)", "root (a systemd unit)". */
void cs_syslog_who(char *buf, size_t len);
#define CS_SYSLOG_MAX_CHANGES 1000 /* lines of one load; then a count */

#define pr_warn(...) cs_log(CS_LOG_WARN, __VA_ARGS__)
#define pr_info(...) cs_log(CS_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) cs_log(CS_LOG_DEBUG, __VA_ARGS__)

#endif
