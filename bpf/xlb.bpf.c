// SPDX-License-Identifier: GPL-2.0
/*
 * xlb.bpf.c - the load balancer's XDP entry. Parsing, backend choice,
 * next-hop resolution and encapsulation live in their own headers; this
 * file only strings them together.
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

XLB_INLINE int xlb_forward(struct xdp_md *ctx, struct pkt *p,
			   const struct xlb_vip *vip)
{
	const struct xlb_backend *be;
	const struct xlb_config *cfg;
	struct xlb_nexthop *nh;
	__u32 zero = 0, be_id = 0, rc, overhead;
	int new_flow = 0;
	__u64 now;

	cfg = bpf_map_lookup_elem(&xlb_config, &zero);
	if (!cfg)
		return XDP_PASS;
	now = bpf_ktime_get_coarse_ns();
	rc = lb_select(p, vip, cfg, now, &be_id, &new_flow);
	if (rc)
		return stat_drop(rc);
	be = bpf_map_lookup_elem(&xlb_backends, &be_id);
	if (!be)
		return stat_drop(XLB_STAT_DROP_NO_BACKEND);
	rc = nh_get(ctx, be_id, be, cfg, now, vip->fwd == XLB_FWD_L2DSR, &nh);
	if (rc)
		return stat_drop(rc);

	/* What the path cannot carry is answered, not silently lost. */
	overhead = vip->fwd == XLB_FWD_L2DSR ? 0 :
		   be->family == XLB_AF_INET ? sizeof(struct iphdr) :
					       sizeof(struct ipv6hdr);
	if (nh->mtu && p->ip_len + overhead > nh->mtu)
		return p->family == XLB_AF_INET ?
			       icmp4_too_big(ctx, p, cfg, nh->mtu - overhead) :
			       icmp6_too_big(ctx, p, cfg, nh->mtu - overhead);

	if (vip->fwd == XLB_FWD_L2DSR)
		rc = encap_l2dsr(ctx, p, be, nh);
	else if (be->family == XLB_AF_INET)
		rc = encap_ipv4(ctx, p, be, cfg, nh);
	else
		rc = encap_ipv6(ctx, p, be, cfg, nh);
	if (rc)
		return stat_drop(rc);

	stat_fwd(&xlb_vip_stats, vip->id, p->ip_len, new_flow);
	stat_fwd(&xlb_be_stats, be_id, p->ip_len, new_flow);
	if (p->icmp_err)
		stat_inc(XLB_STAT_ICMP_ERR);
	if (p->frag)
		stat_inc(XLB_STAT_FRAG);
	if (nh->ifindex == ctx->ingress_ifindex) {
		stat_inc(XLB_STAT_TX);
		return XDP_TX;
	}
	stat_inc(XLB_STAT_REDIRECT);
	return bpf_redirect(nh->ifindex, 0);
}

SEC("xdp")
int xlb_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xlb_vip *vip;
	struct pkt p = {};
	int res;

	stat_inc(XLB_STAT_RX);
	res = parse_packet(&p, data, end);
	if (res == PARSE_PASS)
		goto pass;
	vip = lb_vip_lookup(&p, res == PARSE_BAD || p.frag);
	if (!vip)
		goto pass;
	if (res == PARSE_BAD)
		return stat_drop(XLB_STAT_DROP_MALFORMED);
	return xlb_forward(ctx, &p, vip);
pass:
	stat_inc(XLB_STAT_PASS);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
