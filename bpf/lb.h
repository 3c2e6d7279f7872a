/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lb.h - choosing the backend: the flow table first, then the client's
 * slot in the VIP's consistent-hash table, with instant failover from a
 * primary that is not UP to the slot's secondary.
 */
#ifndef XLB_LB_H
#define XLB_LB_H

#include "clock.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "xlb_hash.h"

#define LB_ATIME_STEP_NS 1000000000ULL /* refresh atime at most once a second  \
					*/
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

XLB_INLINE int lb_state_is(__u32 be_id, __u32 want)
{
	__u32 *st = bpf_map_lookup_elem(&xlb_state, &be_id);

	return st && *st == want;
}

/*
 * Whether the packet's VIP-side address may be a VIP's: a clear bit in
 * xlb_vip_filter means it is not, and no flow or VIP lookup is needed.
 */
XLB_INLINE int lb_vip_maybe(const struct pkt *p)
{
	__u32 zero = 0, bit = xlb_vip_filter_bit(p->fk.dst);
	struct xlb_vip_filter *f = bpf_map_lookup_elem(&xlb_vip_filter, &zero);

	return f && (f->bits[bit / 64] >> (bit % 64)) & 1;
}

XLB_INLINE int lb_vip_key_eq(const struct xlb_vip_key *a,
			     const struct xlb_vip_key *b)
{
	return a->addr[0] == b->addr[0] && a->addr[1] == b->addr[1] &&
	       a->addr[2] == b->addr[2] && a->addr[3] == b->addr[3] &&
	       a->port == b->port && a->proto == b->proto &&
	       a->family == b->family;
}

/*
 * The VIP entry of the packet's destination address with port and proto
 * (port 0: the address's fragment alias for the protocol). This CPU's cached copy answers while xlb_config.vip_gen has not moved
 * since it was taken. The generation is read before the entry: a copy
 * taken while the controller was changing xlb_vips is stamped with the
 * generation before the change, which the controller moves afterwards.
 */
XLB_INLINE const struct xlb_vip *lb_vip_lookup(const struct pkt *p,
					       __be16 port, __u8 proto,
					       const struct xlb_config *cfg)
{
	struct xlb_vip_key k = {};
	struct xlb_vip_cache *c;
	struct xlb_vip *v;
	__u32 gen, slot;

	k.addr[0] = p->fk.dst[0];
	k.addr[1] = p->fk.dst[1];
	k.addr[2] = p->fk.dst[2];
	k.addr[3] = p->fk.dst[3];
	k.port = port;
	k.proto = proto;
	k.family = p->fk.family;
	gen = *(volatile const __u32 *)&cfg->vip_gen;
	slot = xlb_vip_cache_slot(&k);
	c = bpf_map_lookup_elem(&xlb_vip_cache, &slot);
	/* A zeroed slot never matches: a key's family is never 0. */
	if (c && c->gen == gen && lb_vip_key_eq(&c->key, &k))
		return &c->vip;
	v = bpf_map_lookup_elem(&xlb_vips, &k);
	if (v && c) {
		c->key = k;
		c->vip = *v;
		c->gen = gen;
	}
	return v;
}

/* The protocol of the alias that steers a fragment or judges a bad packet. */
XLB_INLINE __u8 lb_alias_proto(const struct pkt *p)
{
	return p->frag & PKT_FRAG_NOPROTO ? 0 : p->fk.proto;
}

/*
 * The alias that steers a fragment: every fragment of a datagram goes by
 * its address's alias, through one table, to one backend. A first
 * fragment holds the ports and goes on only if they are a VIP's; later
 * ones hold none and go where the alias says, which exists only when the
 * address has a VIP of the protocol. Returns the alias, or NULL with
 * *reason a drop reason, or 0 when the packet is not VIP traffic.
 */
XLB_INLINE const struct xlb_vip *lb_frag_vip(const struct pkt *p,
					     const struct xlb_config *cfg,
					     __u32 *reason)
{
	const struct xlb_vip *alias;
	__u8 proto = lb_alias_proto(p);
	int port_ok = 1;

	/* Before the alias: each lookup may reuse the other's cache slot. */
	if (p->frag & PKT_FRAG_FIRST)
		port_ok = !!lb_vip_lookup(p, p->fk.dport, p->fk.proto, cfg);
	alias = lb_vip_lookup(p, 0, proto, cfg);
	*reason = 0;
	if (!alias) {
		/*
		 * An alias of another protocol (IPv6: the protocol-0 one)
		 * means the address serves VIPs, none of this protocol.
		 */
		__u8 other = p->fk.family == XLB_AF_INET6 ? 0 :
			     proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;

		if (other != proto && lb_vip_lookup(p, 0, other, cfg))
			*reason = XLB_STAT_DROP_FRAG_PROTO;
		return NULL;
	}
	if (!port_ok) {
		*reason = XLB_STAT_DROP_FRAG_PORT;
		return NULL;
	}
	return alias;
}

/*
 * Whether a client's source is one no router forwards from, or the VIP
 * itself, or the balancer's own outer address (a backend would take the
 * packet for one of the balancer's, or answer itself). Checked before a
 * flow is recorded, so the flow table never holds such a source.
 */
XLB_INLINE int lb_src_bad(const struct pkt *p, const struct xlb_config *cfg)
{
	const __be32 *s = p->fk.src, *d = p->fk.dst;

	if (p->fk.family == XLB_AF_INET)
		return parse_martian4(s[0]) || s[0] == d[0] ||
		       s[0] == cfg->src4;
	return parse_martian6(s) ||
	       (s[0] == d[0] && s[1] == d[1] && s[2] == d[2] &&
		s[3] == d[3]) ||
	       (s[0] == cfg->src6[0] && s[1] == cfg->src6[1] &&
		s[2] == cfg->src6[2] && s[3] == cfg->src6[3]);
}

XLB_INLINE __u64 lb_client_hash(const struct pkt *p, const struct xlb_vip *vip,
				const struct xlb_config *cfg)
{
	if (p->fk.family == XLB_AF_INET)
		return xlb_hash_v4(cfg->seed, bpf_ntohl(p->fk.src[0]),
				   vip->src_mask[0]);
	return xlb_hash_v6(cfg->seed,
			   ((__u64)bpf_ntohl(p->fk.src[0]) << 32) |
				   bpf_ntohl(p->fk.src[1]),
			   ((__u64)bpf_ntohl(p->fk.src[2]) << 32) |
				   bpf_ntohl(p->fk.src[3]),
			   vip->src_mask);
}

/*
 * The slot's backend: the primary if UP, else the secondary if UP.
 * Returns 0 with *be_id set, or a drop reason.
 */
XLB_INLINE __u32 lb_table_pick(const struct pkt *p, const struct xlb_vip *vip,
			       const struct xlb_config *cfg, __u32 *be_id)
{
	struct xlb_slot_pair *pair;
	struct xlb_slot s;
	__u32 idx, elem;
	void *tbl;

	idx = xlb_table_index(vip->id, vip->flags);
	tbl = bpf_map_lookup_elem(&xlb_tables, &idx);
	if (!tbl)
		return XLB_STAT_DROP_NO_TABLE;
	idx = xlb_slot_of(lb_client_hash(p, vip, cfg), vip->table_size);
	elem = idx / 2;
	pair = bpf_map_lookup_elem(tbl, &elem);
	if (!pair)
		return XLB_STAT_DROP_NO_TABLE;
	s = pair->slot[idx & 1];
	if (lb_state_is(s.primary, XLB_BE_UP)) {
		*be_id = s.primary;
		return 0;
	}
	if (lb_state_is(s.secondary, XLB_BE_UP)) {
		stat_inc(XLB_STAT_SECONDARY);
		*be_id = s.secondary;
		return 0;
	}
	return XLB_STAT_DROP_NO_BACKEND;
}

/* A SYN opens a new connection: the table decides, not an old entry. */
XLB_INLINE int lb_is_syn(const struct pkt *p)
{
	return (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

/* A packet's place in the flow table: its set and its keyed hash. */
struct flow_ref {
	struct xlb_flow_set *set;
	__u64 h;
};

/*
 * Starts the reads of a set's three other lines together with its first
 * (the tags'): a flow its tag finds is compared in its way's line, and a
 * new one is written into a way's line, so on a table larger than the
 * cache, reading them in turn would be two misses in a row. Measured
 * (bench_xdp part 1b): established flows whose sets are not cached
 * 20-25 ns cheaper, new flows 5-50, cached ones unchanged.
 */
XLB_INLINE void lb_flow_fetch(const struct xlb_flow_set *s)
{
	const void *b = s;
	__u64 l1 = *(const volatile __u64 *)(b + 64);
	__u64 l2 = *(const volatile __u64 *)(b + 128);
	__u64 l3 = *(const volatile __u64 *)(b + 192);

	asm volatile("" ::"r"(l1), "r"(l2), "r"(l3));
}

XLB_INLINE struct xlb_flow_set *lb_flow_set(const struct pkt *p,
					    const struct xlb_config *cfg,
					    struct flow_ref *r)
{
	__u32 idx;

	if (!r->set) {
		r->h = xlb_flow_hash(cfg->seed, &p->fk);
		idx = xlb_flow_set_of(r->h, cfg->flow_sets);
		r->set = bpf_map_lookup_elem(&xlb_flows, &idx);
		if (r->set)
			lb_flow_fetch(r->set);
	}
	return r->set;
}

/*
 * The way that holds the packet's flow (-1 if none), with a consistent
 * copy of its flow in *out: the tag matches before and after key and flow
 * are read, so a way rewritten meanwhile by another CPU is no match. A
 * flow the set does not hold costs the set's first cache line only.
 */
XLB_INLINE int lb_flow_find(const struct pkt *p, struct flow_ref *r,
			    struct xlb_flow *out)
{
	struct xlb_flow_set *s = r->set;
	__u64 tag = xlb_flow_tag(r->h);
	int i;

#pragma unroll
	for (i = 0; i < XLB_FLOW_WAYS; i++) {
		if (s->tag[i] != tag)
			continue;
		barrier();
		if (!xlb_flow_key_eq(&s->way[i].key, &p->fk))
			continue;
		*out = s->way[i].flow;
		barrier();
		if (s->tag[i] == tag)
			return i;
	}
	return -1;
}

/*
 * The packet's flow if its entry may be used: not idle past its timeout,
 * its backend UP or DRAINING (a DOWN backend's flows are re-chosen).
 * The clock is read into *now only when there is an entry to judge.
 * Returns 1 with *f set, 0 when the table decides.
 */
XLB_INLINE int lb_flow_get(const struct pkt *p, const struct xlb_config *cfg,
			   struct flow_ref *r, __u64 *now_p, struct xlb_flow *f)
{
	__u64 tmo, now, atime;
	__u32 *st;
	int w;

	if (!lb_flow_set(p, cfg, r))
		return 0;
	w = lb_flow_find(p, r, f);
	if (w < 0)
		return 0;
	if (!*now_p)
		*now_p = clock_now();
	now = *now_p;
	tmo = p->fk.proto == IPPROTO_TCP ? cfg->tcp_timeout_ns :
					   cfg->udp_timeout_ns;
	atime = r->set->atime_ns[w & (XLB_FLOW_WAYS - 1)];
	if (now - atime > tmo) {
		stat_inc(XLB_STAT_FLOW_EXPIRED);
		return 0;
	}
	st = bpf_map_lookup_elem(&xlb_state, &f->backend);
	if (!st || (*st != XLB_BE_UP && *st != XLB_BE_DRAIN)) {
		stat_inc(XLB_STAT_FLOW_RESELECT);
		return 0;
	}
	/* Written at most once a second: a shared cache line stays clean. */
	if (!p->icmp_err && now - atime > LB_ATIME_STEP_NS)
		r->set->atime_ns[w & (XLB_FLOW_WAYS - 1)] = now;
	stat_inc(XLB_STAT_FLOW_HIT);
	return 1;
}

/*
 * Records a new flow: in the way that holds its key already, else an
 * empty way, else the least recently seen one; never a way another CPU
 * is filling. Tags and atimes decide, so only the first cache line and
 * the chosen way are touched. The way is claimed by compare-and-swap on
 * its tag and the tag set last (see struct xlb_flow_set): two CPUs
 * recording flows into one way at once would otherwise mix their writes
 * and could pair one flow's key with the other's backend.
 */
XLB_INLINE void lb_flow_put(const struct pkt *p, struct flow_ref *r,
			    const struct xlb_flow *nf, __u64 now)
{
	struct xlb_flow_set *s = r->set;
	__u64 tag = xlb_flow_tag(r->h), cur, seen = XLB_FLOW_BUSY, t;
	__u64 oldest = ~0ULL;
	int i, v = 0;

#pragma unroll
	for (i = 0; i < XLB_FLOW_WAYS; i++) {
		cur = s->tag[i];
		if (cur == tag && xlb_flow_key_eq(&s->way[i].key, &p->fk)) {
			v = i;
			seen = cur;
			break;
		}
		if (cur == XLB_FLOW_BUSY)
			continue;
		t = cur ? s->atime_ns[i] : 0;
		if (t < oldest) {
			oldest = t;
			v = i;
			seen = cur;
		}
	}
	v &= XLB_FLOW_WAYS - 1;
	if (seen == XLB_FLOW_BUSY ||
	    __sync_val_compare_and_swap(&s->tag[v], seen, XLB_FLOW_BUSY) !=
		    seen) {
		/* Forwarded all the same; its next packet records it. */
		stat_inc(XLB_STAT_FLOW_BUSY);
		return;
	}
	s->way[v].key = p->fk;
	s->way[v].flow = *nf;
	s->atime_ns[v] = now;
	barrier();
	s->tag[v] = tag;
}

/*
 * A packet the flow table did not answer: the table chooses, and a new
 * connection gets an entry (not errors, fragments or resets: they open
 * nothing), unless this CPU has recorded new_flow_limit flows this second.
 * Returns 0 with *be_id set, or a drop reason.
 */
XLB_INLINE __u32 lb_new_flow(const struct pkt *p, const struct xlb_vip *vip,
			     const struct xlb_config *cfg, struct flow_ref *r,
			     __u64 now, __u32 *be_id)
{
	struct xlb_flow nf = {};
	__u32 rc;

	stat_inc(XLB_STAT_FLOW_MISS);
	rc = lb_table_pick(p, vip, cfg, be_id);
	if (rc)
		return rc;
	if (p->frag || p->icmp_err || (p->tcp_flags & TCP_FLAG_RST))
		return 0;
	if (!clock_insert_ok(cfg->new_flow_limit, now)) {
		stat_inc(XLB_STAT_FLOW_LIMITED);
		return 0;
	}
	if (lb_flow_set(p, cfg, r)) {
		nf.backend = *be_id;
		nf.vip_id = (__u16)vip->id;
		nf.fwd = vip->fwd;
		lb_flow_put(p, r, &nf, now);
	}
	return 0;
}

#endif /* XLB_LB_H */
