// SPDX-License-Identifier: GPL-2.0
/* nl.c - the rtnetlink client neigh.c and announce.c share (nl.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "nl.h"
#include "util.h"

void xlb_nl_put_attr(struct xlb_nl_req *req, int type, const void *data,
		     int len)
{
	struct nlmsghdr *h = &req->h;
	struct rtattr *rta =
	    (struct rtattr *)(req->raw + NLMSG_ALIGN(h->nlmsg_len));

	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

int xlb_nl_open(struct xlb_nl *nl)
{
	struct timeval tv = {.tv_sec = 2};

	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return xlb_errf(-errno, "can't open rtnetlink: %s",
				strerror(errno));
	/* A kernel that never answers must not hang a commit. */
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl->seq = (__u32)time(NULL);
	return 0;
}

void xlb_nl_close(struct xlb_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

int xlb_nl_talk(struct xlb_nl *nl, struct nlmsghdr *h,
		int (*cb)(struct nlmsghdr *, void *), void *arg)
{
	struct nlmsghdr *m;
	ssize_t n;
	int len;

	h->nlmsg_seq = ++nl->seq;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(nl->fd, h, h->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(nl->fd, nl->buf, sizeof(nl->buf), 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		len = (int)n;
		for (m = (struct nlmsghdr *)nl->buf; NLMSG_OK(m, len);
		     m = NLMSG_NEXT(m, len)) {
			if (m->nlmsg_seq != nl->seq)
				continue; /* a late answer to an earlier request
					   */
			if (m->nlmsg_type == NLMSG_DONE)
				return 0;
			if (m->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(m);

				return e->error;
			}
			if (cb) {
				int err = cb(m, arg);

				if (err)
					return err;
			}
		}
	}
}
