// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Classes and qdiscs asked for one by one, many requests in flight: the
 * kernel finds each by its handle (or a qdisc by its parent), where a dump
 * walks every qdisc of the device for every message it sends (seconds at
 * 40 000 circuits). Plain rtnetlink: a request is a header and a tcmsg, a
 * reply one message each. The only way cpushaper asks for single objects:
 * batches on a socket of their own, tc/qdisc.c's one at a time on its libnl socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include "qdisc.h"

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define WINDOW 128          /* requests in flight: their replies must fit the receive buffer */
#define RCVBUF (8 << 20)

struct req {
	struct nlmsghdr h;
	struct tcmsg t;
};

static const struct rtattr *attr_next(const struct rtattr *a, int *rem)
{
	*rem -= RTA_ALIGN(a->rta_len);
	return (const struct rtattr *)((const char *)a + RTA_ALIGN(a->rta_len));
}

#define for_each_attr(a, start, len, rem) \
	for ((a) = (start), (rem) = (len); RTA_OK(a, rem); (a) = attr_next(a, &(rem)))

static void read_htb(const struct rtattr *opts, struct tc_stat *t)
{
	const struct rtattr *a;
	int rem;

	for_each_attr(a, RTA_DATA(opts), (int)RTA_PAYLOAD(opts), rem) {
		if (a->rta_type == TCA_HTB_PARMS && RTA_PAYLOAD(a) >= sizeof(struct tc_htb_opt)) {
			const struct tc_htb_opt *o = RTA_DATA(a);

			if (!t->rate_Bps)
				t->rate_Bps = o->rate.rate;
			if (!t->ceil_Bps)
				t->ceil_Bps = o->ceil.rate;
		} else if (a->rta_type == TCA_HTB_RATE64 && RTA_PAYLOAD(a) >= 8) {
			memcpy(&t->rate_Bps, RTA_DATA(a), 8);
		} else if (a->rta_type == TCA_HTB_CEIL64 && RTA_PAYLOAD(a) >= 8) {
			memcpy(&t->ceil_Bps, RTA_DATA(a), 8);
		}
	}
}

static void read_stats2(const struct rtattr *st, struct tc_stat *t)
{
	const struct rtattr *a;
	int rem;

	for_each_attr(a, RTA_DATA(st), (int)RTA_PAYLOAD(st), rem) {
		if (a->rta_type == TCA_STATS_BASIC && RTA_PAYLOAD(a) >= 12) {
			struct gnet_stats_basic b = { 0 };

			memcpy(&b, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof(b) ? RTA_PAYLOAD(a) : sizeof(b));
			t->bytes = b.bytes;
			if (!t->packets)
				t->packets = b.packets;
		} else if (a->rta_type == TCA_STATS_PKT64 && RTA_PAYLOAD(a) >= 8) {
			memcpy(&t->packets, RTA_DATA(a), 8); /* 32-bit packets wrap: this one does not */
		} else if (a->rta_type == TCA_STATS_QUEUE && RTA_PAYLOAD(a) >= sizeof(struct gnet_stats_queue)) {
			struct gnet_stats_queue q;

			memcpy(&q, RTA_DATA(a), sizeof(q));
			t->qlen = q.qlen;
			t->backlog = q.backlog;
			t->drops = q.drops;
			t->overlimits = q.overlimits;
		}
	}
}

/* A reply: the object's kind, place and counters (and an HTB class's rates). */
static void read_reply(const struct nlmsghdr *h, struct tc_stat *t)
{
	const struct tcmsg *tm = NLMSG_DATA(h);
	const struct rtattr *a, *opts = NULL;
	int rem;

	memset(t, 0, sizeof(*t));
	t->handle = tm->tcm_handle;
	t->parent = tm->tcm_parent;
	for_each_attr(a, (const struct rtattr *)((const char *)tm + NLMSG_ALIGN(sizeof(*tm))),
		      (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*tm))), rem) {
		if (a->rta_type == TCA_KIND)
			snprintf(t->kind, sizeof(t->kind), "%.*s", (int)strnlen(RTA_DATA(a), RTA_PAYLOAD(a)),
				 (const char *)RTA_DATA(a));
		else if (a->rta_type == TCA_OPTIONS)
			opts = a;
		else if (a->rta_type == TCA_STATS2)
			read_stats2(a, t);
	}
	if (!strcmp(t->kind, "htb") && opts && h->nlmsg_type == RTM_NEWTCLASS)
		read_htb(opts, t);
}

static int open_sock(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), one = 1, sz = RCVBUF;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 10 };

	if (fd < 0)
		return -errno;
	/* FORCE needs CAP_NET_ADMIN: without it, what rmem_max allows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* What to ask for: parents[i] (NULL: 0) and handles[i] (NULL: 0) of one device. */
struct ask {
	uint16_t type;
	int ifindex;
	const uint32_t *parents, *handles;
};

/* Send requests [from, to) and read one answer for each. */
static int ask_window(int fd, const struct ask *a, size_t from, size_t to, struct tc_stat *out,
		      bool *found, void *buf, size_t bufsz)
{
	struct req *r = calloc(to - from, sizeof(*r));
	bool *answered = calloc(to - from, sizeof(*answered));
	size_t left = to - from;
	int err = 0;

	if (!r || !answered) {
		free(r);
		free(answered);
		return -ENOMEM;
	}
	for (size_t i = from; i < to; i++) {
		struct req *q = &r[i - from];

		q->h.nlmsg_len = NLMSG_LENGTH(sizeof(q->t));
		q->h.nlmsg_type = a->type;
		/*
		 * Without ECHO the kernel only tells the TC multicast group: no answer
		 * to us. ACK: the last answer to every request, also where the kernel
		 * sends no object (a qdisc it hides: HTB's own leaf of a class, noop).
		 */
		q->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ECHO | NLM_F_ACK;
		q->h.nlmsg_seq = (uint32_t)i + 1;
		q->t.tcm_family = AF_UNSPEC;
		q->t.tcm_ifindex = a->ifindex;
		/*
		 * parent 0: the kernel finds a class in the qdisc of its major, a
		 * qdisc by its handle; a qdisc's parent: the one there (a class's leaf)
		 */
		q->t.tcm_parent = a->parents ? a->parents[i] : 0;
		q->t.tcm_handle = a->handles ? a->handles[i] : 0;
	}
	if (send(fd, r, (to - from) * sizeof(*r), 0) < 0)
		err = -errno;
	free(r);
	while (!err && left) {
		ssize_t len = recv(fd, buf, bufsz, 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			/* a timeout: the kernel did not answer (it always does); ENOBUFS: answers lost */
			err = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			break;
		}
		for (h = buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			size_t i = h->nlmsg_seq - 1;

			/* not ours (an earlier round's), or an answer after the ack */
			if (i < from || i >= to || answered[i - from])
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				answered[i - from] = true;
				left--;
				/* an ack: there, also when hidden (no object sent: kind "", handle 0) */
				found[i] = !e->error;
				/*
				 * gone, its HTB gone, or the HTB's handle held by a
				 * classless qdisc (EOPNOTSUPP): not found; anything
				 * else is an error
				 */
				if (e->error && e->error != -ENOENT && e->error != -EINVAL &&
				    e->error != -EOPNOTSUPP && !err)
					err = e->error;
				continue;
			}
			read_reply(h, &out[i]);
		}
	}
	free(answered);
	return err;
}

/* @fd: a netlink socket of the caller's (no request of its own pending), or -1: one of ours. */
static int tc_get(int fd, const struct ask *a, size_t n, struct tc_stat *out, bool *found)
{
	/* the replies of a window must fit: a few hundred bytes each */
	size_t bufsz = n > 8 ? 1 << 20 : 64 << 10;
	int own = -1, err = 0;
	void *buf;

	memset(out, 0, n * sizeof(*out));
	memset(found, 0, n * sizeof(*found));
	if (!n)
		return 0;
	if (fd < 0 && (fd = own = open_sock()) < 0)
		return fd;
	buf = malloc(bufsz);
	for (size_t from = 0; from < n && !err; from += WINDOW) {
		size_t to = from + WINDOW < n ? from + WINDOW : n;

		err = buf ? ask_window(fd, a, from, to, out, found, buf, bufsz) : -ENOMEM;
	}
	free(buf);
	if (own >= 0)
		close(own);
	return err;
}

int tc_class_get(int ifindex, const uint32_t *classids, size_t n, struct tc_stat *out, bool *found)
{
	struct ask a = { RTM_GETTCLASS, ifindex, NULL, classids };

	return tc_get(-1, &a, n, out, found);
}

int tc_qdisc_get(int ifindex, const uint32_t *handles, size_t n, struct tc_stat *out, bool *found)
{
	struct ask a = { RTM_GETQDISC, ifindex, NULL, handles };

	return tc_get(-1, &a, n, out, found);
}

int tc_leaf_get(int ifindex, const uint32_t *classids, size_t n, struct tc_stat *out, bool *found)
{
	struct ask a = { RTM_GETQDISC, ifindex, classids, NULL };

	return tc_get(-1, &a, n, out, found);
}

int tc_qdisc_get_one(int fd, int ifindex, uint32_t parent, uint32_t handle, struct tc_stat *out)
{
	struct ask a = { RTM_GETQDISC, ifindex, &parent, &handle };
	bool found;
	int err = tc_get(fd, &a, 1, out, &found);

	return err ? err : found ? 0 : -ENOENT;
}
