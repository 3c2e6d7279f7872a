// SPDX-License-Identifier: GPL-2.0
/*
 * xlb.bpf.c - the load balancer's XDP entry. Parsing, backend choice,
 * next-hop resolution and encapsulation live in their own headers; this
 * file only strings them together.
 *
 * A destination that cannot be a VIP's (xlb_vip_filter) stops right
 * after parsing. An established connection is answered by the flow table
 * alone (its entry names the backend, the VIP and the forwarding mode);
 * only a packet the flow table does not answer looks up its VIP and table.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "lb.h"
#include "nexthop.h"
#include "encap.h"
#include "icmp.h"

/* The device this program is attached to (xlb.h); attach writes it. */
struct xlb_dev xlb_dev = {};

/*
 * Whether the frame is addressed to the device's own MAC: one to another
 * host (a switch flooding, promiscuous mode), to a group or broadcast
 * address is not one a router forwards.
 */
static __always_inline int frame_to_dev(void *data, void *end)
{
	const __u8 *d = data;

	if ((void *)(d + ETH_ALEN) > end)
		return 0;
	return *(const __u32 *)d == *(const __u32 *)xlb_dev.mac &&
	       *(const __u16 *)(d + 4) == *(const __u16 *)(xlb_dev.mac + 4);
}

/* Where a packet goes (BPF calls take five arguments at most). */
struct choice {
	__u32 be_id;
	__u32 vip_id;
	__u8 fwd;      /* enum xlb_fwd */
	__u8 new_flow; /* chosen by the table, not the flow table */
};

/* Sends p where ch says; returns the verdict. */
static __always_inline int xlb_send(struct xdp_md *ctx, const struct pkt *p,
				    const struct xlb_config *cfg, __u64 now,
				    const struct choice *ch)
{
	__u32 be_id = ch->be_id, vip_id = ch->vip_id;
	__u8 fwd = ch->fwd;
	int new_flow = ch->new_flow;
	const struct xlb_backend *be;
	struct xlb_nexthop *nh;
	__u32 rc, overhead;
	int same_dev;
	__u32 l2;

	be = bpf_map_lookup_elem(&xlb_backends, &be_id);
	if (!be)
		return stat_drop(XLB_STAT_DROP_NO_BACKEND);
	rc = nh_get(ctx, be_id, be, cfg, now, fwd == XLB_FWD_L2DSR, &nh);
	if (rc)
		return stat_drop(rc);

	/* What the path cannot carry is answered, not silently lost. */
	overhead = fwd == XLB_FWD_L2DSR	       ? 0
		   : be->family == XLB_AF_INET ? sizeof(struct iphdr)
					       : sizeof(struct ipv6hdr);
	if (nh->mtu && p->ip_len + overhead > nh->mtu)
		return p->family == XLB_AF_INET
			   ? icmp4_too_big(ctx, p, cfg, nh->mtu - overhead)
			   : icmp6_too_big(ctx, p, cfg, nh->mtu - overhead);

	same_dev = nh->ifindex == ctx->ingress_ifindex;
	l2 = encap_untag(ctx, p->l3_off, same_dev);
	if (!l2)
		return stat_drop(XLB_STAT_DROP_ENCAP);
	if (fwd == XLB_FWD_L2DSR)
		rc = encap_l2dsr(ctx, p, be, nh);
	else if (be->family == XLB_AF_INET)
		rc = encap_ipv4(ctx, p, be, cfg, nh, l2);
	else
		rc = encap_ipv6(ctx, p, be, cfg, nh, l2);
	if (rc)
		return stat_drop(rc);

	stat_fwd(&xlb_vip_stats, vip_id, p->ip_len, new_flow);
	stat_fwd(&xlb_be_stats, be_id, p->ip_len, new_flow);
	if (p->icmp_err)
		stat_inc(XLB_STAT_ICMP_ERR);
	if (p->frag)
		stat_inc(XLB_STAT_FRAG);
	if (same_dev) {
		stat_inc(XLB_STAT_TX);
		return XDP_TX;
	}
	stat_inc(XLB_STAT_REDIRECT);
	return bpf_redirect(nh->ifindex, 0);
}

SEC("xdp.frags")
int xlb_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct xlb_config *cfg;
	struct flow_ref fr = {};
	struct choice ch = {};
	const struct xlb_vip *vip;
	struct xlb_flow f;
	struct pkt p = {};
	__u32 zero = 0, be_id = 0, rc;
	__u64 now = 0; /* read once, and only for VIP traffic */
	int res, flows, fast;

	stat_inc(XLB_STAT_RX);
	res = parse_fast(&p, data, end);
	fast = res == PARSE_OK;
	if (res < 0)
		res = parse_packet(ctx, &p, data, end);
	if (res == PARSE_PASS || !lb_vip_maybe(&p))
		goto pass;
	if (!frame_to_dev(data, end)) {
		stat_inc(XLB_STAT_PASS_NOT_OURS);
		goto pass;
	}
	if (fast && p.family == XLB_AF_INET && !parse_fast_csum4_ok(data, end))
		res = XLB_STAT_DROP_IP_CSUM;
	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	if (!cfg)
		goto pass;
	/* Fragments go by address only; a SYN opens a new connection. */
	flows = res == PARSE_OK && !p.frag && !lb_is_syn(&p);
	if (flows && !p.icmp_err) {
		if (lb_flow_get(&p, cfg, &fr, &now, &f)) {
			ch.be_id = f.backend;
			ch.vip_id = f.vip_id;
			ch.fwd = f.fwd;
			goto send;
		}
		flows = 0; /* looked up already */
	}

	/*
	 * What must not be forwarded is dropped where its address (and IPv4
	 * protocol) are a VIP's, by their alias; elsewhere the kernel judges
	 * it. IPv6 goes by the protocol-0 alias: a walk stopped short of the
	 * transport header does not know the protocol.
	 */
	if (res != PARSE_OK) {
		if (!lb_vip_lookup(&p, 0,
				   p.fk.family == XLB_AF_INET6 ? 0 : p.fk.proto,
				   cfg))
			goto pass;
		return stat_drop(res);
	}
	if (p.frag) {
		vip = lb_frag_vip(&p, cfg, &rc);
		if (!vip && rc)
			return stat_drop(rc);
	} else {
		vip = lb_vip_lookup(&p, p.fk.dport, p.fk.proto, cfg);
	}
	if (!vip)
		goto pass;
	/* Established flows passed this check when they were recorded. */
	if (lb_src_bad(&p, cfg))
		return stat_drop(XLB_STAT_DROP_BAD_SRC);
	/* An ICMP error goes where its flow goes, if it has one. */
	if (flows) {
		if (lb_flow_get(&p, cfg, &fr, &now, &f)) {
			ch.be_id = f.backend;
			ch.vip_id = vip->id;
			ch.fwd = vip->fwd;
			goto send;
		}
	}
	if (!now)
		now = clock_now();
	rc = lb_new_flow(&p, vip, cfg, &fr, now, &be_id);
	if (rc)
		return stat_drop(rc);
	ch.be_id = be_id;
	ch.vip_id = vip->id;
	ch.fwd = vip->fwd;
	ch.new_flow = 1;
send:
	/* One call site, so the sending code is inlined once. */
	return xlb_send(ctx, &p, cfg, now, &ch);
pass:
	stat_inc(XLB_STAT_PASS);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
