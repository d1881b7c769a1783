// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What a device's driver offers XDP, from the kernel's "netdev" generic
 * netlink family (kernel >= 6.3). Debian 12's headers predate it: the few
 * numbers used are those of include/uapi/linux/netdev.h.
 */
#include <errno.h>
#include <string.h>
#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include "qdisc.h"

#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_RX_METADATA_FEATURES 5
#define NETDEV_XDP_RX_METADATA_VLAN_TAG 4

struct genl_reply {
	int want;      /* attribute to read */
	uint64_t val;
	bool found;
};

static int read_attr(struct nl_msg *msg, void *arg)
{
	struct genl_reply *r = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem;

	nlmsg_for_each_attr(a, h, GENL_HDRLEN, rem) {
		if (nla_type(a) != r->want)
			continue;
		if (nla_len(a) == 2)
			r->val = nla_get_u16(a);
		else if (nla_len(a) == 4)
			r->val = nla_get_u32(a);
		else if (nla_len(a) == 8)
			r->val = nla_get_u64(a);
		else
			continue;
		r->found = true;
	}
	return NL_OK;
}

/* One request, its reply's attribute @want. 0, -ENOENT without it, or -errno. */
static int genl_ask(struct nl_sock *sk, int family, int cmd, int attr, uint32_t val, int want,
		    uint64_t *out)
{
	struct genlmsghdr hdr = { .cmd = cmd, .version = 1 };
	struct genl_reply r = { .want = want };
	struct nl_msg *msg = nlmsg_alloc_simple(family, NLM_F_REQUEST);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &hdr, sizeof(hdr), NLMSG_ALIGNTO) < 0 ||
	    (attr == CTRL_ATTR_FAMILY_NAME && family == GENL_ID_CTRL
		     ? nla_put_string(msg, attr, "netdev")
		     : nla_put_u32(msg, attr, val)) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err < 0)
		return tc_errno(err);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, read_attr, &r);
	err = nl_recvmsgs_default(sk);
	if (err < 0)
		return tc_errno(err);
	if (!r.found)
		return -ENOENT;
	*out = r.val;
	return 0;
}

int nl_xdp_vlan_tag(int ifindex)
{
	struct nl_sock *sk = nl_socket_alloc();
	uint64_t family, features;
	int err;

	if (!sk)
		return -ENOMEM;
	if ((err = tc_errno(nl_connect(sk, NETLINK_GENERIC))))
		goto out;
	nl_socket_disable_auto_ack(sk); /* one reply per request: no ACK left for the next read */
	/* no such family: a kernel before 6.3, which has no XDP metadata either */
	err = genl_ask(sk, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, 0,
		       CTRL_ATTR_FAMILY_ID, &family);
	if (err)
		goto out;
	err = genl_ask(sk, (int)family, NETDEV_CMD_DEV_GET, NETDEV_A_DEV_IFINDEX, (uint32_t)ifindex,
		       NETDEV_A_DEV_XDP_RX_METADATA_FEATURES, &features);
	if (err == -ENOENT) /* a kernel before the attribute */
		err = 0, features = 0;
	if (!err)
		err = !!(features & NETDEV_XDP_RX_METADATA_VLAN_TAG);
out:
	nl_socket_free(sk);
	return err;
}
