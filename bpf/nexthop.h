/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nexthop.h - the MAC addresses and interface toward a backend, from the
 * kernel's routes and neighbours. A FIB lookup costs more than the whole
 * per-packet budget, so its answer is cached per backend and per CPU and
 * refreshed after nexthop_ttl_ns, which is how route and neighbour changes
 * are followed.
 *
 * The lookup is made as if the packet came from the loopback device, the
 * way the kernel routes what the host itself sends: the encapsulated packet
 * is the host's (its outer source is the host's address), and the helper
 * answers only when forwarding is on for the device it is given. Turning
 * forwarding on for lo makes the host route nothing a neighbour sends it,
 * where forwarding on the interface facing clients would (`xlb attach`
 * sets lo's and gives it back on detach).
 *
 * When the kernel has lost the neighbour entry (garbage-collected, flushed)
 * but still routes the backend out of the same interface, the MAC the
 * cache holds is still the best answer there is: it is used again for one
 * more TTL rather than dropping. An XDP program cannot make the kernel
 * resolve a neighbour; the controller creates kernel-managed entries for
 * that (user/neigh.c), and until one is resolved a CPU with no MAC of its
 * own borrows another CPU's.
 */
#ifndef XLB_NEXTHOP_H
#define XLB_NEXTHOP_H

#include "maps.h"
#include "parse.h"

#ifndef BPF_FIB_LKUP_RET_NO_NEIGH
#define BPF_FIB_LKUP_RET_NO_NEIGH 7
#endif

#define NH_LOOPBACK_IFINDEX 1 /* lo's index in every network namespace */
#define NH_BORROW_CPUS 128 /* CPUs searched for a MAC to borrow */

/*
 * Another CPU's cached MAC for be_id toward ifindex, or NULL. Only on the
 * NO_NEIGH path; bpf_map_lookup_percpu_elem answers NULL past the last CPU.
 */
XLB_INLINE const struct xlb_nexthop *nh_borrow(__u32 be_id, __u32 ifindex)
{
	const struct xlb_nexthop *o;
	__u32 cpu;

	for (cpu = 0; cpu < NH_BORROW_CPUS; cpu++) {
		o = bpf_map_lookup_percpu_elem(&xlb_nexthop, &be_id, cpu);
		if (!o)
			return NULL;
		if (o->ifindex == ifindex && o->expires_ns)
			return o;
	}
	return NULL;
}

/*
 * The kernel has no neighbour entry for the next hop; the lookup still
 * named the egress interface. A MAC learnt toward that interface (this
 * CPU's, else another's) is used for one more TTL. Returns 0, or
 * XLB_STAT_DROP_NO_NEIGH when no CPU ever resolved the backend there.
 */
XLB_INLINE __u32 nh_stale(struct xlb_nexthop *nh, __u32 be_id,
			  const struct bpf_fib_lookup *fib,
			  const struct xlb_config *cfg, __u64 now)
{
	const struct xlb_nexthop *o = nh;

	if (!nh->expires_ns || nh->ifindex != fib->ifindex) {
		o = nh_borrow(be_id, fib->ifindex);
		if (!o)
			return XLB_STAT_DROP_NO_NEIGH;
		__builtin_memcpy(nh->dmac, o->dmac, ETH_ALEN);
		__builtin_memcpy(nh->smac, o->smac, ETH_ALEN);
		nh->ifindex = o->ifindex;
		nh->mtu = o->mtu;
	}
	nh->expires_ns = now + cfg->nexthop_ttl_ns;
	stat_inc(XLB_STAT_NH_STALE);
	return 0;
}

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

	fib.ifindex = NH_LOOPBACK_IFINDEX;
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
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return XLB_STAT_DROP_NO_ROUTE;
	/* The lookup rewrites the destination to the gateway when routed. */
	if (onlink && (fib.ipv6_dst[0] != be->addr[0] ||
		       (be->family == XLB_AF_INET6 &&
			(fib.ipv6_dst[1] != be->addr[1] ||
			 fib.ipv6_dst[2] != be->addr[2] ||
			 fib.ipv6_dst[3] != be->addr[3]))))
		return XLB_STAT_DROP_NOT_ONLINK;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return nh_stale(nh, be_id, &fib, cfg, now);

	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	nh->ifindex = fib.ifindex;
	nh->mtu = fib.mtu_result; /* set on success since Linux 5.12 */
	nh->expires_ns = now + cfg->nexthop_ttl_ns;
	stat_inc(XLB_STAT_NH_REFRESH);
	return 0;
}

#endif /* XLB_NEXTHOP_H */
