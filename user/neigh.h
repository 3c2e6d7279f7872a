/* SPDX-License-Identifier: GPL-2.0 */
/* neigh.h - kernel-managed neighbour entries toward the backends. */
#ifndef XLB_NEIGH_H
#define XLB_NEIGH_H

#include <stddef.h>
#include "addr.h"

/*
 * NDA_PROTOCOL of the entries xlb creates ("proto 251" in `ip -d neigh`;
 * no value /etc/iproute2/rt_protos names). Only these are ever removed.
 */
#define XLB_NEIGH_PROTO 251

/*
 * Has the kernel resolve backend a's next hop now and keep it resolved: a
 * managed neighbour entry (NTF_EXT_MANAGED) for the backend, or for its
 * gateway when routed. 0 or -errno (no route, netlink failure).
 */
int xlb_neigh_nudge(const struct xlb_addr *a);

/*
 * Managed entries for exactly these backends' next hops: missing ones are
 * created, xlb's entries none of them needs are deleted (n == 0: all of
 * xlb's). 0 or the first -errno; every hop is tried regardless.
 */
int xlb_neigh_sync(const struct xlb_addr *addrs, size_t n);

#endif /* XLB_NEIGH_H */
