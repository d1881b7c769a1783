// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "netdev.h"
#include "cpushaper.h"

int netdev_ifindex(const char *name)
{
	unsigned int ix;

	if (!name || strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	ix = if_nametoindex(name);
	return ix ? (int)ix : -ENODEV;
}

int netdev_wait(const char *a, const char *b, unsigned int seconds)
{
	unsigned int waited = 0; /* in 100 ms steps */
	bool said = false;

	for (;;) {
		const char *missing = netdev_ifindex(a) < 0 ? a : netdev_ifindex(b) < 0 ? b : NULL;

		if (!missing)
			return 0;
		if (waited >= seconds * 10)
			return -ENODEV;
		if (!said) {
			fprintf(stderr, "cpushaper: waiting up to %u s for device %s\n", seconds, missing);
			said = true;
		}
		usleep(100 * 1000);
		waited++;
	}
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

struct xps_each {
	int (*fn)(unsigned int queue, bool rxqs, const char *text, void *arg);
	void *arg;
};

static int xps_read_one(const char *dir, void *arg)
{
	struct xps_each *x = arg;
	const char *q = strrchr(dir, '-');
	unsigned int queue = q ? (unsigned int)strtoul(q + 1, NULL, 10) : 0;

	for (int rxqs = 0; rxqs < 2; rxqs++) {
		char path[PATH_MAX + 300], text[CS_XPS_LEN];
		ssize_t n;
		int fd, err;

		snprintf(path, sizeof(path), "%s/%s", dir, rxqs ? "xps_rxqs" : "xps_cpus");
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* kernel or device without it */
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n <= 0)
			continue;
		text[n] = '\0';
		text[strcspn(text, "\n")] = '\0';
		if (!text[strspn(text, "0,")])
			continue; /* empty: nothing to put back */
		if ((err = x->fn(queue, rxqs, text, x->arg)))
			return err;
	}
	return 0;
}

int netdev_xps_each(const char *name,
		    int (*fn)(unsigned int queue, bool rxqs, const char *text, void *arg), void *arg)
{
	struct xps_each x = { fn, arg };
	int n = for_each_txq(name, xps_read_one, &x);

	return n < 0 ? n : 0;
}

int netdev_xps_set(const char *name, unsigned int queue, bool rxqs, const char *text)
{
	char path[PATH_MAX];
	int fd, err = 0;
	size_t len = strlen(text);

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues/tx-%u/%s", name, queue,
		 rxqs ? "xps_rxqs" : "xps_cpus");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

int netdev_xps_off(const char *name)
{
	int err = for_each_txq(name, xps_off_one, NULL);

	return err < 0 ? err : 0;
}

static int ethtool(int fd, const char *name, void *cmd)
{
	struct ifreq ifr = { 0 };

	strcpy(ifr.ifr_name, name);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

int netdev_vlan_offload(const char *name)
{
	struct {
		struct ethtool_sset_info hdr;
		__u32 len;
	} ss = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES } };
	struct ethtool_gstrings *str = NULL;
	struct ethtool_gfeatures *feat = NULL;
	__u32 n, blocks;
	int fd, err;

	if (strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* features by name: their bit numbers differ between kernels */
	if ((err = ethtool(fd, name, &ss)))
		goto out;
	n = ss.hdr.sset_mask ? ss.len : 0;
	blocks = (n + 31) / 32;
	str = calloc(1, sizeof(*str) + (size_t)n * ETH_GSTRING_LEN);
	feat = calloc(1, sizeof(*feat) + blocks * sizeof(feat->features[0]));
	if (!str || !feat) {
		err = -ENOMEM;
		goto out;
	}
	str->cmd = ETHTOOL_GSTRINGS;
	str->string_set = ETH_SS_FEATURES;
	str->len = n;
	feat->cmd = ETHTOOL_GFEATURES;
	feat->size = blocks;
	if ((err = ethtool(fd, name, str)) || (err = ethtool(fd, name, feat)))
		goto out;
	for (__u32 i = 0; i < n && i / 32 < feat->size; i++) {
		const char *f = (const char *)str->data + (size_t)i * ETH_GSTRING_LEN;

		if (!(feat->features[i / 32].active & (1u << (i % 32))))
			continue;
		if (!strncmp(f, "rx-vlan-hw-parse", ETH_GSTRING_LEN))
			err |= CS_VLAN_OFFLOAD_CTAG;
		else if (!strncmp(f, "rx-vlan-stag-hw-parse", ETH_GSTRING_LEN))
			err |= CS_VLAN_OFFLOAD_STAG;
	}
out:
	free(str);
	free(feat);
	close(fd);
	return err;
}
