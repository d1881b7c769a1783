// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lock.h"

#define LOCK_FILE "/run/cpushaper.lock"

static const char *lock_path(void)
{
	return getenv("CS_LOCK_FILE") ? getenv("CS_LOCK_FILE") : LOCK_FILE;
}

/* Is @fd still the file at @path? unload removes the file while it holds the lock. */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int cs_lock_writer(const char *cmd, int timeout_s)
{
	const char *path = lock_path();
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	char holder[64] = "";
	int fd, waited = 0;

reopen:
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = -errno;

		fprintf(stderr, "cpushaper: cannot open the lock %s: %s\n", path, strerror(errno));
		return err;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			int err = -errno;

			fprintf(stderr, "cpushaper: cannot lock %s: %s\n", path, strerror(errno));
			close(fd);
			return err;
		}
		if (!waited) {
			ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);

			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			fprintf(stderr, "cpushaper: another cpushaper (%s) is changing the shaper; waiting for it to finish\n",
				*holder ? holder : "pid unknown");
		}
		if (waited++ >= timeout_s * 10) {
			fprintf(stderr, "cpushaper: gave up after %d s waiting for %s to release %s\n",
				timeout_s, *holder ? holder : "another cpushaper", path);
			close(fd);
			return -EBUSY;
		}
		nanosleep(&tick, NULL);
	}
	if (!same_file(fd, path)) {
		/* we waited on a file an unload removed: lock the one that is there now */
		close(fd);
		if (waited++ >= timeout_s * 10) {
			fprintf(stderr, "cpushaper: gave up after %d s waiting for %s\n", timeout_s, path);
			return -EBUSY;
		}
		holder[0] = '\0';
		goto reopen;
	}
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(holder, sizeof(holder), "pid %d: %s\n", (int)getpid(), cmd);

		if (pwrite(fd, holder, (size_t)n, 0) != n) {
			/* only a courtesy for whoever waits */
		}
	}
	return fd;
}

void cs_lock_release_remove(int fd)
{
	if (fd < 0)
		return;
	/* unlink while held: a waiter then finds its file gone and opens a new one */
	unlink(lock_path());
	close(fd);
}
