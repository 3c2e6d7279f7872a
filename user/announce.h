/* SPDX-License-Identifier: GPL-2.0 */
/*
 * announce.h - VIP addresses announced to the routers through the kernel:
 * one route per address that this node can serve, `blackhole VIP/32` (or
 * /128) in a routing table of its own with xlb's protocol number, which
 * the node's routing daemon (BIRD's `protocol kernel ... learn`, FRR's
 * `ip import-table` and `redistribute table`) turns into a BGP route. A
 * route withdrawn here is withdrawn by BGP. The route never carries
 * traffic itself: the XDP program takes the VIP's packets before the
 * kernel routes them.
 *
 * The routes outlive the daemon (they are kernel state, like the maps):
 * a daemon that starts adopts the routes it finds and withdraws those it
 * should not keep, and a service manager flushes the table when the
 * daemon is gone (`ip route flush table T proto 251`, scripts/xlb.service).
 */
#ifndef XLB_ANNOUNCE_H
#define XLB_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "model.h"
#include "nl.h"

/*
 * rtm_protocol of xlb's routes ("proto 251" in `ip route`); the value
 * neigh.h uses for its neighbour entries. Only routes with it are touched.
 */
#define XLB_ROUTE_PROTO		   251
#define XLB_ANNOUNCE_TABLE_DEFAULT 100

/* One VIP address and whether its route is in the table. */
struct xlb_ann_addr {
	struct xlb_addr addr;
	bool servable;	/* some VIP at this address has a usable backend */
	bool announced; /* the route is in the table (as last written) */
	bool seen;	/* scratch: found in the model / the table */
	__u64 since_ns; /* CLOCK_REALTIME of the last announce or withdrawal */
	char why[96];	/* why withdrawn; "" when announced */
};

/* A log line at a syslog priority (LOG_NOTICE, LOG_WARNING, ...). */
typedef void (*xlb_ann_log_fn)(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct xlb_announce {
	__u32 table; /* kernel routing table of the routes */
	__u8 proto;  /* their rtm_protocol */
	struct xlb_nl nl;
	struct xlb_ann_addr *a; /* sorted by address */
	size_t n, cap;
	xlb_ann_log_fn log; /* announcements and withdrawals; may be NULL */
	__u32 changes;	    /* announcements and withdrawals made (metrics) */
};

/*
 * Opens rtnetlink and adopts xlb's routes already in table (a previous
 * daemon's): they stay until the first xlb_announce_update decides.
 */
int xlb_announce_init(struct xlb_announce *an, __u32 table, __u8 proto,
		      xlb_ann_log_fn log);
void xlb_announce_fini(struct xlb_announce *an);

/*
 * Announces every VIP address of md that has a usable backend (UP with
 * weight) and withdraws the others, logging each change. With node_why
 * not NULL the node serves nothing (draining, the program not attached,
 * the daemon stopping) and every address is withdrawn with that reason.
 * 0 or the first -errno; an address whose route could not be written
 * keeps its old state, to be tried again at the next call.
 */
int xlb_announce_update(struct xlb_announce *an, const struct xlb_model *md,
			const char *node_why);

/*
 * Compares the table with what was written: puts back a route someone
 * removed and deletes routes of xlb's protocol it did not write. 0 or
 * -errno.
 */
int xlb_announce_verify(struct xlb_announce *an);

/* Withdraws every route (the daemon stopping, or another table). */
int xlb_announce_withdraw_all(struct xlb_announce *an, const char *why);

/* Addresses announced now. */
size_t xlb_announce_count(const struct xlb_announce *an);

/*
 * Calls cb for every host route of protocol proto in table (0: in every
 * table), as the kernel has them now; for `xlb node show`. 0 or -errno.
 */
int xlb_announce_list(__u32 table, __u8 proto,
		      void (*cb)(const struct xlb_addr *a, __u32 table,
				 void *arg),
		      void *arg);

#endif /* XLB_ANNOUNCE_H */
