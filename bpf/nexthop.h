/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nexthop.h - the MAC addresses and interface toward a backend, from the
 * kernel's routes and neighbours. A FIB lookup costs more than the whole
 * per-packet budget, so its answer is cached per backend and per CPU and
 * refreshed after nexthop_ttl_ns, which is how route and neighbour changes
 * are followed.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include "maps.h"
#include "parse.h"

#ifndef BPF_FIB_LKUP_RET_NO_NEIGH
#define BPF_FIB_LKUP_RET_NO_NEIGH 7
#endif

/* Returns 0 with *out set, or the enum xlb_stat drop reason. */
XLB_INLINE __u32 nh_get(struct xdp_md *ctx, __u32 be_id,
			const struct xlb_backend *be,
			const struct xlb_config *cfg, __u64 now, int onlink,
			struct xlb_nexthop **out)
{
	struct bpf_fib_lookup fib = {};
	struct xlb_nexthop *nh;
	int rc;

	nh = bpf_map_lookup_elem(&xlb_nexthop, &be_id);
	if (!nh)
		return XLB_STAT_DROP_NO_ROUTE;
	*out = nh;
	if (now < nh->expires_ns)
		return 0;

	fib.ifindex = ctx->ingress_ifindex;
	if (be->family == XLB_AF_INET) {
		fib.family = XLB_AF_INET;
		fib.ipv4_dst = be->addr[0];
	} else {
		fib.family = XLB_AF_INET6;
		fib.ipv6_dst[0] = be->addr[0];
		fib.ipv6_dst[1] = be->addr[1];
		fib.ipv6_dst[2] = be->addr[2];
		fib.ipv6_dst[3] = be->addr[3];
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return XLB_STAT_DROP_NO_NEIGH;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XLB_STAT_DROP_NO_ROUTE;
	/* The lookup rewrites the destination to the gateway when routed. */
	if (onlink && (fib.ipv6_dst[0] != be->addr[0] ||
		       (be->family == XLB_AF_INET6 &&
			(fib.ipv6_dst[1] != be->addr[1] ||
			 fib.ipv6_dst[2] != be->addr[2] ||
			 fib.ipv6_dst[3] != be->addr[3]))))
		return XLB_STAT_DROP_NOT_ONLINK;

	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	nh->ifindex = fib.ifindex;
	nh->mtu = fib.mtu_result; /* set on success since Linux 5.12 */
	nh->expires_ns = now + cfg->nexthop_ttl_ns;
	stat_inc(XLB_STAT_NH_REFRESH);
	return 0;
}

#endif /* XLB_NEXTHOP_H */
