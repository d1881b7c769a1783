// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "netdev.h"

int netdev_ifindex(const char *name)
{
	unsigned int ix;

	if (!name || strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	ix = if_nametoindex(name);
	return ix ? (int)ix : -ENODEV;
}

static int for_each_txq(const char *name, int (*fn)(const char *dir, void *arg), void *arg)
{
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0, err = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char q[PATH_MAX + 256];

		if (strncmp(e->d_name, "tx-", 3))
			continue;
		n++;
		if (!fn)
			continue;
		snprintf(q, sizeof(q), "%s/%s", path, e->d_name);
		if ((err = fn(q, arg)))
			break;
	}
	closedir(d);
	return err ? err : n;
}

int netdev_tx_queues(const char *name)
{
	return for_each_txq(name, NULL, NULL);
}

static int write_zero(const char *dir, const char *file)
{
	char path[PATH_MAX + 300];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* kernel without XPS */
	if (write(fd, "0\n", 2) != 2)
		err = -errno;
	close(fd);
	return err;
}

static int xps_off_one(const char *dir, void *arg)
{
	int err;

	(void)arg;
	err = write_zero(dir, "xps_cpus");
	if (!err)
		err = write_zero(dir, "xps_rxqs");
	return err;
}

int netdev_xps_off(const char *name)
{
	int err = for_each_txq(name, xps_off_one, NULL);

	return err < 0 ? err : 0;
}
