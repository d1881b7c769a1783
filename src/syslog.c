// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The system log: what syslog(3) does, with a socket a test can name. */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

#define LOG_DAEMON_NOTICE (3 * 8 + 5)

void cs_syslog(const char *fmt, ...)
{
	const char *path = getenv("CS_TEST_SYSLOG");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[2048], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	int fd, n;

	if (!path)
		path = "/dev/log";
	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(msg, sizeof(msg), "<%d>%s cpushaper[%d]: ", LOG_DAEMON_NOTICE, stamp, (int)getpid());
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* no log daemon: nothing to do, as with syslog(3) */
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		pr_debug("cpushaper: no system log at %s\n", path);
	close(fd);
}

void cs_syslog_who(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER"), *unit = getenv("INVOCATION_ID") ? "a systemd unit" : NULL;
	char uid[16];

	snprintf(uid, sizeof(uid), "uid %u", (unsigned int)getuid());
	snprintf(buf, len, "%s%s%s%s", pw ? pw->pw_name : uid,
		 sudo ? " (sudo by " : unit ? " (" : "", sudo ? sudo : unit ? unit : "",
		 sudo || unit ? ")" : "");
}
