// SPDX-License-Identifier: GPL-2.0
/*
 * announce.c - one kernel route per servable VIP address (announce.h).
 *
 * The routes are blackholes in a table nothing routes with: they exist to
 * be exported. A route is written only when its address changes side, so
 * a routing daemon learning the table sees each announce and withdrawal
 * once; xlb_announce_verify repairs what others did to the table since.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include "announce.h"
#include "util.h"

static void say(const struct xlb_announce *an, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const struct xlb_announce *an, int prio, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!an->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	an->log(prio, "%s", msg);
}

static void prefix_fmt(const struct xlb_addr *a, char *buf, size_t len)
{
	char ab[XLB_ADDR_STRLEN];

	xlb_addr_fmt(a->family, a->a, ab, sizeof(ab));
	snprintf(buf, len, "%s/%d", ab, a->family == XLB_AF_INET ? 32 : 128);
}

/* RTM_NEWROUTE or RTM_DELROUTE of a's route; a missing route is deleted. */
static int route_write(struct xlb_announce *an, int type,
		       const struct xlb_addr *a)
{
	int family = a->family == XLB_AF_INET ? AF_INET : AF_INET6;
	int len = xlb_nl_addr_len(family);
	struct xlb_nl_req req;
	int err;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.h.nlmsg_type = (__u16)type;
	if (type == RTM_NEWROUTE)
		req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	req.r.rtm_family = (unsigned char)family;
	req.r.rtm_dst_len = (unsigned char)(len * 8);
	req.r.rtm_table =
	    an->table < 256 ? (unsigned char)an->table : RT_TABLE_UNSPEC;
	req.r.rtm_protocol = an->proto;
	req.r.rtm_scope = RT_SCOPE_UNIVERSE;
	req.r.rtm_type = RTN_BLACKHOLE;
	xlb_nl_put_attr(&req, RTA_DST, a->a, len);
	xlb_nl_put_attr(&req, RTA_TABLE, &an->table, sizeof(an->table));
	err = xlb_nl_talk(&an->nl, &req.h, NULL, NULL);
	if (err == -ESRCH && type == RTM_DELROUTE)
		err = 0;
	return err;
}

static struct xlb_ann_addr *find(struct xlb_announce *an,
				 const struct xlb_addr *a)
{
	size_t i;

	for (i = 0; i < an->n; i++)
		if (!xlb_addr_cmp(&an->a[i].addr, a))
			return &an->a[i];
	return NULL;
}

static struct xlb_ann_addr *add(struct xlb_announce *an,
				const struct xlb_addr *a)
{
	struct xlb_ann_addr *e;

	e = xlb_grow(an->a, an->n, &an->cap, sizeof(*e), 16);
	if (!e)
		return NULL;
	an->a = e;
	e = &an->a[an->n++];
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	return e;
}

static int ann_cmp(const void *x, const void *y)
{
	return xlb_addr_cmp(&((const struct xlb_ann_addr *)x)->addr,
			    &((const struct xlb_ann_addr *)y)->addr);
}

/* A route of a dump: its table, protocol and destination. */
struct route_info {
	__u32 table;
	__u8 proto;
	struct xlb_addr dst;
	bool host; /* a /32 or /128 with a destination */
};

static void route_parse(struct nlmsghdr *m, struct route_info *ri)
{
	struct rtmsg *r = NLMSG_DATA(m);
	int len = (int)RTM_PAYLOAD(m);
	struct rtattr *rta;

	memset(ri, 0, sizeof(*ri));
	ri->table = r->rtm_table;
	ri->proto = r->rtm_protocol;
	if (r->rtm_family != AF_INET && r->rtm_family != AF_INET6)
		return;
	for (rta = RTM_RTA(r); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_TABLE &&
		    RTA_PAYLOAD(rta) >= sizeof(__u32))
			memcpy(&ri->table, RTA_DATA(rta), sizeof(__u32));
		else if (rta->rta_type == RTA_DST &&
			 (int)RTA_PAYLOAD(rta) >=
			     xlb_nl_addr_len(r->rtm_family)) {
			ri->dst.family = r->rtm_family == AF_INET
					     ? XLB_AF_INET
					     : XLB_AF_INET6;
			memcpy(ri->dst.a, RTA_DATA(rta),
			       xlb_nl_addr_len(r->rtm_family));
			ri->host = r->rtm_dst_len ==
				   xlb_nl_addr_len(r->rtm_family) * 8;
		}
	}
}

struct dump {
	__u32 table; /* 0: any */
	__u8 proto;
	void (*fn)(const struct xlb_addr *a, __u32 table, void *arg);
	void *arg;
};

static int dump_cb(struct nlmsghdr *m, void *arg)
{
	struct dump *d = arg;
	struct route_info ri;

	if (m->nlmsg_type != RTM_NEWROUTE)
		return 0;
	route_parse(m, &ri);
	if (ri.host && ri.proto == d->proto &&
	    (!d->table || ri.table == d->table))
		d->fn(&ri.dst, ri.table, d->arg);
	return 0;
}

static int dump(struct xlb_nl *nl, struct dump *d)
{
	struct xlb_nl_req req;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_DUMP;
	req.r.rtm_family = AF_UNSPEC;
	return xlb_nl_talk(nl, &req.h, dump_cb, d);
}

static void adopt(const struct xlb_addr *a, __u32 table, void *arg)
{
	struct xlb_announce *an = arg;
	struct xlb_ann_addr *e = find(an, a);

	if (!e)
		e = add(an, a);
	if (e) {
		e->announced = true;
		e->servable = true;
		e->since_ns = xlb_now_real_ns();
	}
}

int xlb_announce_init(struct xlb_announce *an, __u32 table, __u8 proto,
		      xlb_ann_log_fn log)
{
	struct dump d = {
	    .table = table, .proto = proto, .fn = adopt, .arg = an};
	size_t i;
	int err;

	memset(an, 0, sizeof(*an));
	an->nl.fd = -1;
	an->table = table;
	an->proto = proto;
	an->log = log;
	err = xlb_nl_open(&an->nl);
	if (err)
		return err;
	err = dump(&an->nl, &d);
	if (err) {
		xlb_announce_fini(an);
		return xlb_errf(err, "can't read routing table %u: %s", table,
				strerror(-err));
	}
	qsort(an->a, an->n, sizeof(*an->a), ann_cmp);
	for (i = 0; i < an->n; i++) {
		char pb[XLB_ADDR_STRLEN + 8];

		prefix_fmt(&an->a[i].addr, pb, sizeof(pb));
		say(an, LOG_NOTICE,
		    "route %s in table %u left by an earlier daemon: kept "
		    "until the VIPs are evaluated",
		    pb, table);
	}
	return 0;
}

void xlb_announce_fini(struct xlb_announce *an)
{
	xlb_nl_close(&an->nl);
	free(an->a);
	an->a = NULL;
	an->n = an->cap = 0;
}

/* Whether v has a backend that takes new flows. */
static bool vip_servable(const struct xlb_vip_ent *v)
{
	size_t i;

	for (i = 0; i < v->n_be; i++)
		if (v->be[i].state == XLB_BE_UP && v->be[i].weight &&
		    v->be[i].ramp)
			return true;
	return false;
}

/* Brings e's route to want; logs; 0 or -errno (state unchanged). */
static int set(struct xlb_announce *an, struct xlb_ann_addr *e, bool want,
	       const char *why)
{
	char pb[XLB_ADDR_STRLEN + 8];
	int err;

	if (!want)
		snprintf(e->why, sizeof(e->why), "%s", why);
	if (want == e->announced)
		return 0;
	prefix_fmt(&e->addr, pb, sizeof(pb));
	err = route_write(an, want ? RTM_NEWROUTE : RTM_DELROUTE, &e->addr);
	if (err) {
		say(an, LOG_ERR, "can't %s %s in table %u: %s",
		    want ? "announce" : "withdraw", pb, an->table,
		    strerror(-err));
		return xlb_errf(err, "can't %s %s: %s",
				want ? "announce" : "withdraw", pb,
				strerror(-err));
	}
	e->announced = want;
	e->since_ns = xlb_now_real_ns();
	an->changes++;
	if (want) {
		e->why[0] = '\0';
		say(an, LOG_NOTICE, "announce %s (table %u)", pb, an->table);
	} else {
		say(an, LOG_NOTICE, "withdraw %s: %s", pb, why);
	}
	return 0;
}

int xlb_announce_update(struct xlb_announce *an, const struct xlb_model *md,
			const char *node_why)
{
	struct xlb_ann_addr *e;
	size_t i, n;
	int err = 0, e2;

	for (i = 0; i < an->n; i++)
		an->a[i].seen = false;
	for (i = 0; md && i < md->n_vips; i++) {
		struct xlb_addr a;

		xlb_addr_from_vip(&md->vips[i].key, &a);
		e = find(an, &a);
		if (!e) {
			e = add(an, &a);
			if (!e)
				return xlb_errf(-ENOMEM, "out of memory");
			snprintf(e->why, sizeof(e->why), "new");
		}
		if (!e->seen)
			e->servable = false;
		e->seen = true;
		/* One route per address: any of its VIPs keeps it. */
		if (vip_servable(&md->vips[i]))
			e->servable = true;
	}
	for (i = 0; i < an->n; i++) {
		e = &an->a[i];
		if (!e->seen)
			e2 = set(an, e, false, "no VIP at this address");
		else
			e2 = set(an, e, e->servable && !node_why,
				 node_why ? node_why : "no backend up");
		if (e2 && !err)
			err = e2;
	}
	/* Forget what is gone and withdrawn; keep the order. */
	for (i = 0, n = 0; i < an->n; i++)
		if (an->a[i].seen || an->a[i].announced)
			an->a[n++] = an->a[i];
	an->n = n;
	qsort(an->a, an->n, sizeof(*an->a), ann_cmp);
	return err;
}

static void mark(const struct xlb_addr *a, __u32 table, void *arg)
{
	struct xlb_announce *an = arg;
	struct xlb_ann_addr *e = find(an, a);
	char pb[XLB_ADDR_STRLEN + 8];
	int err;

	if (e) {
		e->seen = true;
		if (e->announced)
			return;
	}
	/* Ours by its protocol, but not one we keep: a stale route. */
	prefix_fmt(a, pb, sizeof(pb));
	err = route_write(an, RTM_DELROUTE, a);
	say(an, LOG_WARNING, "route %s in table %u is not xlb's to keep: %s", pb, table,
	    err ? strerror(-err) : "deleted");
}

int xlb_announce_verify(struct xlb_announce *an)
{
	struct dump d = {
	    .table = an->table, .proto = an->proto, .fn = mark, .arg = an};
	char pb[XLB_ADDR_STRLEN + 8];
	struct xlb_nl nl;
	size_t i;
	int err;

	/* A socket of its own: deletions go out on an->nl mid-dump. */
	err = xlb_nl_open(&nl);
	if (err)
		return err;
	for (i = 0; i < an->n; i++)
		an->a[i].seen = false;
	err = dump(&nl, &d);
	xlb_nl_close(&nl);
	if (err)
		return xlb_errf(err, "can't read routing table %u: %s",
				an->table, strerror(-err));
	for (i = 0; i < an->n; i++) {
		struct xlb_ann_addr *e = &an->a[i];

		if (!e->announced || e->seen)
			continue;
		prefix_fmt(&e->addr, pb, sizeof(pb));
		err = route_write(an, RTM_NEWROUTE, &e->addr);
		say(an, LOG_WARNING,
		    "route %s was removed from table %u by someone else: %s",
		    pb, an->table, err ? strerror(-err) : "put back");
	}
	return 0;
}

int xlb_announce_withdraw_all(struct xlb_announce *an, const char *why)
{
	size_t i;
	int err = 0, e2;

	for (i = 0; i < an->n; i++) {
		e2 = set(an, &an->a[i], false, why);
		if (e2 && !err)
			err = e2;
	}
	return err;
}

size_t xlb_announce_count(const struct xlb_announce *an)
{
	size_t i, n = 0;

	for (i = 0; i < an->n; i++)
		n += an->a[i].announced;
	return n;
}

int xlb_announce_list(__u32 table, __u8 proto,
		      void (*cb)(const struct xlb_addr *a, __u32 table,
				 void *arg),
		      void *arg)
{
	struct dump d = {.table = table, .proto = proto, .fn = cb, .arg = arg};
	struct xlb_nl nl;
	int err;

	err = xlb_nl_open(&nl);
	if (err)
		return err;
	err = dump(&nl, &d);
	xlb_nl_close(&nl);
	if (err)
		return xlb_errf(err, "can't read the routing tables: %s",
				strerror(-err));
	return 0;
}
