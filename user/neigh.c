// SPDX-License-Identifier: GPL-2.0
/*
 * neigh.c - kernel-managed neighbour entries for the backends' next hops.
 *
 * The data path learns MAC addresses from bpf_fib_lookup, which reads the
 * kernel's neighbour table and never adds to it: without an entry it
 * answers NO_NEIGH. XDP traffic does not count as use of an entry either,
 * so nothing keeps one alive, and the kernel collects it once its table is
 * under pressure. xlb therefore creates, for each backend's next hop (the
 * backend itself when on-link, else its gateway, as the kernel's route
 * says), an entry flagged NTF_EXT_MANAGED (Linux >= 5.16): the kernel
 * resolves it at once and probes it again whenever it goes stale, so it
 * stays REACHABLE with a timer pending, which the garbage collector skips.
 * (An unreachable next hop's entry goes FAILED and can still be collected;
 * the data path then keeps the last MAC it knew, bpf/nexthop.h.)
 *
 * Entries xlb made carry NDA_PROTOCOL XLB_NEIGH_PROTO; only those are ever
 * removed. A permanent or no-ARP entry, or one another program manages, is
 * left alone: it already stays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include "neigh.h"
#include "nl.h"
#include "util.h"

#define NEIGH_MAX_HOPS 1024 /* distinct next hops one sync keeps */

/* A next hop: the address the kernel resolves and its interface. */
struct hop {
	__u8 family; /* AF_INET or AF_INET6 */
	__be32 a[4];
	int ifindex;
};

/* RTM_GETROUTE's answer: where the kernel sends a packet to the backend. */
struct route_ans {
	struct hop *hop;
	int found;
};

static int route_cb(struct nlmsghdr *m, void *arg)
{
	struct route_ans *ans = arg;
	struct rtmsg *r = NLMSG_DATA(m);
	struct rtattr *rta;
	int len = (int)RTM_PAYLOAD(m);

	if (m->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (r->rtm_type != RTN_UNICAST)
		return 0; /* local, unreachable, blackhole...: no neighbour */
	for (rta = RTM_RTA(r); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_OIF) {
			ans->hop->ifindex = *(int *)RTA_DATA(rta);
			ans->found = 1;
		} else if (rta->rta_type == RTA_GATEWAY) {
			memset(ans->hop->a, 0, sizeof(ans->hop->a));
			memcpy(ans->hop->a, RTA_DATA(rta),
			       xlb_nl_addr_len(r->rtm_family));
		} else if (rta->rta_type == RTA_VIA) {
			/* An IPv4 route through an IPv6 gateway. */
			struct rtvia *v = RTA_DATA(rta);

			ans->hop->family = (__u8)v->rtvia_family;
			memset(ans->hop->a, 0, sizeof(ans->hop->a));
			memcpy(ans->hop->a, v->rtvia_addr,
			       xlb_nl_addr_len(v->rtvia_family));
		}
	}
	return 0;
}

/* The next hop toward backend a, as the kernel routes the host's packets. */
static int route_hop(struct xlb_nl *nl, const struct xlb_addr *a, struct hop *hop)
{
	struct xlb_nl_req req = {0};
	struct route_ans ans = {.hop = hop};
	int family = a->family == XLB_AF_INET6 ? AF_INET6 : AF_INET;
	int err;

	hop->family = (__u8)family;
	memcpy(hop->a, a->a, sizeof(hop->a));
	hop->ifindex = 0;
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.r.rtm_family = (unsigned char)family;
	req.r.rtm_dst_len = (unsigned char)(xlb_nl_addr_len(family) * 8);
	xlb_nl_put_attr(&req, RTA_DST, a->a, xlb_nl_addr_len(family));
	err = xlb_nl_talk(nl, &req.h, route_cb, &ans);
	if (err)
		return err;
	return ans.found ? 0 : -ENETUNREACH;
}

/* A neighbour entry as a dump or a get reports it. */
struct neigh_ent {
	struct hop hop;
	__u16 state;
	__u32 flags_ext;
	__u8 proto;
};

static int neigh_parse(struct nlmsghdr *m, struct neigh_ent *e)
{
	struct ndmsg *nd = NLMSG_DATA(m);
	struct rtattr *rta;
	int len = (int)(m->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));

	if (m->nlmsg_type != RTM_NEWNEIGH ||
	    (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6))
		return -1;
	memset(e, 0, sizeof(*e));
	e->hop.family = nd->ndm_family;
	e->hop.ifindex = nd->ndm_ifindex;
	e->state = nd->ndm_state;
	for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_DST)
			memcpy(e->hop.a, RTA_DATA(rta),
			       xlb_nl_addr_len(nd->ndm_family));
		else if (rta->rta_type == NDA_PROTOCOL)
			e->proto = *(__u8 *)RTA_DATA(rta);
		else if (rta->rta_type == NDA_FLAGS_EXT)
			e->flags_ext = *(__u32 *)RTA_DATA(rta);
	}
	return 0;
}

static int neigh_get_cb(struct nlmsghdr *m, void *arg)
{
	neigh_parse(m, arg);
	return 0;
}

static void neigh_req(struct xlb_nl_req *req, int type, const struct hop *hop)
{
	memset(req, 0, sizeof(*req));
	req->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req->h.nlmsg_type = (__u16)type;
	req->n.ndm_family = hop->family;
	req->n.ndm_ifindex = hop->ifindex;
	xlb_nl_put_attr(req, NDA_DST, hop->a, xlb_nl_addr_len(hop->family));
}

/* Makes hop's entry a managed one of xlb's, unless it stays anyway. */
static int neigh_manage(struct xlb_nl *nl, const struct hop *hop)
{
	struct neigh_ent cur = {0};
	struct xlb_nl_req req;
	__u32 ext = NTF_EXT_MANAGED;
	__u8 proto = XLB_NEIGH_PROTO;
	int err;

	neigh_req(&req, RTM_GETNEIGH, hop);
	err = xlb_nl_talk(nl, &req.h, neigh_get_cb, &cur);
	if (err && err != -ENOENT)
		return err;
	if (!err && (cur.state & (NUD_PERMANENT | NUD_NOARP)))
		return 0; /* static: never collected */
	if (!err && (cur.flags_ext & NTF_EXT_MANAGED) &&
	    cur.proto != XLB_NEIGH_PROTO)
		return 0; /* someone else's managed entry */
	/* State NONE: the kernel keeps what an existing entry knows, and
	 * starts resolving a new one. */
	neigh_req(&req, RTM_NEWNEIGH, hop);
	req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	req.n.ndm_state = NUD_NONE;
	xlb_nl_put_attr(&req, NDA_FLAGS_EXT, &ext, sizeof(ext));
	xlb_nl_put_attr(&req, NDA_PROTOCOL, &proto, sizeof(proto));
	return xlb_nl_talk(nl, &req.h, NULL, NULL);
}

static const char *hop_str(const struct hop *h, char *buf, size_t len)
{
	if (h->family == AF_INET) {
		const __u8 *b = (const __u8 *)h->a;

		snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	} else {
		const __u8 *b = (const __u8 *)h->a;
		size_t i, o = 0;

		for (i = 0; i < 16 && o < len; i += 2)
			o += (size_t)snprintf(buf + o, len - o, "%s%x",
					      i ? ":" : "",
					      b[i] << 8 | b[i + 1]);
	}
	return buf;
}

int xlb_neigh_nudge(const struct xlb_addr *a)
{
	struct xlb_nl nl;
	struct hop hop;
	char s[64];
	int err;

	err = xlb_nl_open(&nl);
	if (err)
		return err;
	err = route_hop(&nl, a, &hop);
	if (!err) {
		err = neigh_manage(&nl, &hop);
		if (err)
			err = xlb_errf(
			    err, "can't create a neighbour entry for %s: %s",
			    hop_str(&hop, s, sizeof(s)), strerror(-err));
	} else {
		err = xlb_errf(err, "no route to backend %s",
			       hop_str(&hop, s, sizeof(s)));
	}
	close(nl.fd);
	return err;
}

/* Dump state: xlb's entries that none of the kept hops is. */
struct sweep {
	const struct hop *keep;
	size_t nkeep;
	struct hop *drop;
	size_t ndrop, max;
};

static bool hop_eq(const struct hop *x, const struct hop *y)
{
	return x->family == y->family && x->ifindex == y->ifindex &&
	       !memcmp(x->a, y->a, sizeof(x->a));
}

static int sweep_cb(struct nlmsghdr *m, void *arg)
{
	struct sweep *sw = arg;
	struct neigh_ent e;
	size_t i;

	if (neigh_parse(m, &e) || e.proto != XLB_NEIGH_PROTO ||
	    !(e.flags_ext & NTF_EXT_MANAGED))
		return 0;
	for (i = 0; i < sw->nkeep; i++)
		if (hop_eq(&sw->keep[i], &e.hop))
			return 0;
	if (sw->ndrop < sw->max)
		sw->drop[sw->ndrop++] = e.hop;
	return 0;
}

int xlb_neigh_sync(const struct xlb_addr *addrs, size_t n)
{
	static struct hop keep[NEIGH_MAX_HOPS], drop[NEIGH_MAX_HOPS];
	struct sweep sw = {.keep = keep, .drop = drop, .max = NEIGH_MAX_HOPS};
	struct xlb_nl_req req = {0};
	struct hop hop;
	struct xlb_nl nl;
	size_t i, j;
	int err, first = 0;

	err = xlb_nl_open(&nl);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (route_hop(&nl, &addrs[i], &hop))
			continue; /* no route: the data path counts
				     drop_no_route */
		for (j = 0; j < sw.nkeep && !hop_eq(&keep[j], &hop); j++)
			;
		if (j < sw.nkeep || sw.nkeep == NEIGH_MAX_HOPS)
			continue;
		keep[sw.nkeep++] = hop;
		err = neigh_manage(&nl, &hop);
		if (err && !first)
			first = err;
	}
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req.h.nlmsg_type = RTM_GETNEIGH;
	req.h.nlmsg_flags = NLM_F_DUMP;
	req.n.ndm_family = AF_UNSPEC;
	err = xlb_nl_talk(&nl, &req.h, sweep_cb, &sw);
	if (err && !first)
		first = err;
	for (i = 0; i < sw.ndrop; i++) {
		neigh_req(&req, RTM_DELNEIGH, &drop[i]);
		err = xlb_nl_talk(&nl, &req.h, NULL, NULL);
		if (err && err != -ENOENT && !first)
			first = err;
	}
	close(nl.fd);
	if (first)
		return xlb_errf(first,
				"can't update the backends' neighbour "
				"entries: %s",
				strerror(-first));
	return 0;
}
