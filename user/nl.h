/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl.h - a small rtnetlink client: one request at a time, answers (or a
 * dump) handed to a callback, the kernel's error returned. Shared by the
 * neighbour entries (neigh.c) and the VIP routes (announce.c).
 */
#ifndef XLB_NL_H
#define XLB_NL_H

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>

#define XLB_NL_BUF 16384

struct xlb_nl {
	int fd;
	__u32 seq;
	char buf[XLB_NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* A request: header, body and attributes. */
struct xlb_nl_req {
	union {
		struct {
			struct nlmsghdr h;
			union {
				struct rtmsg r;
				struct ndmsg n;
			};
		};
		char raw[128];
	};
};

/* 4 or 16: the bytes of an address of family AF_INET or AF_INET6. */
static inline int xlb_nl_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Appends attribute type with len bytes of data to req. */
void xlb_nl_put_attr(struct xlb_nl_req *req, int type, const void *data,
		     int len);

/* Opens an rtnetlink socket with a receive timeout; 0 or -errno. */
int xlb_nl_open(struct xlb_nl *nl);
void xlb_nl_close(struct xlb_nl *nl);

/*
 * Sends h and reads the answers; each reply message goes to cb (when not
 * NULL). Returns 0 after the ACK or the end of a dump, or the kernel's
 * -errno.
 */
int xlb_nl_talk(struct xlb_nl *nl, struct nlmsghdr *h,
		int (*cb)(struct nlmsghdr *, void *), void *arg);

#endif /* XLB_NL_H */
