// SPDX-License-Identifier: GPL-2.0
/*
 * stat.c - the data path's global counters (enum xlb_stat) by name, for
 * `xlb stats`, the metrics and the tests alike: one table, so a counter
 * added to the enum is named everywhere or nowhere.
 */
#include <string.h>
#include "stat.h"

static const char *const names[XLB_STAT_MAX] = {
	[XLB_STAT_RX] = "rx",
	[XLB_STAT_PASS] = "pass",
	[XLB_STAT_TX] = "tx",
	[XLB_STAT_REDIRECT] = "redirect",
	[XLB_STAT_FLOW_HIT] = "flow_hit",
	[XLB_STAT_FLOW_MISS] = "flow_miss",
	[XLB_STAT_FLOW_RESELECT] = "flow_reselect",
	[XLB_STAT_FLOW_EXPIRED] = "flow_expired",
	[XLB_STAT_FLOW_BUSY] = "flow_busy",
	[XLB_STAT_FLOW_LIMITED] = "flow_limited",
	[XLB_STAT_SECONDARY] = "secondary",
	[XLB_STAT_ICMP_ERR] = "icmp_err",
	[XLB_STAT_FRAG] = "frag",
	[XLB_STAT_NH_REFRESH] = "nexthop_refresh",
	[XLB_STAT_NH_STALE] = "nexthop_stale",
	[XLB_STAT_TOO_BIG] = "icmp_too_big_sent",
	[XLB_STAT_PASS_NOT_OURS] = "pass_not_our_mac",
	[XLB_STAT_DROP_MALFORMED] = "drop_malformed",
	[XLB_STAT_DROP_NO_BACKEND] = "drop_no_backend",
	[XLB_STAT_DROP_NO_TABLE] = "drop_no_table",
	[XLB_STAT_DROP_NO_NEIGH] = "drop_no_neigh",
	[XLB_STAT_DROP_NO_ROUTE] = "drop_no_route",
	[XLB_STAT_DROP_NOT_ONLINK] = "drop_not_onlink",
	[XLB_STAT_DROP_FAMILY] = "drop_family",
	[XLB_STAT_DROP_ENCAP] = "drop_encap",
	[XLB_STAT_DROP_NO_SRC] = "drop_no_src",
	[XLB_STAT_DROP_MTU] = "drop_mtu",
	[XLB_STAT_DROP_FRAG_PORT] = "drop_frag_port",
	[XLB_STAT_DROP_FRAG_PROTO] = "drop_frag_proto",
	[XLB_STAT_DROP_FRAG_SHORT] = "drop_frag_short",
	[XLB_STAT_DROP_IP_CSUM] = "drop_ip_csum",
	[XLB_STAT_DROP_IP_OPTION] = "drop_ip_option",
	[XLB_STAT_DROP_SRC_ROUTE] = "drop_source_route",
	[XLB_STAT_DROP_TTL] = "drop_ttl",
	[XLB_STAT_DROP_BAD_SRC] = "drop_bad_src",
};

_Static_assert(sizeof(names) / sizeof(names[0]) == XLB_STAT_MAX,
	       "a name for every counter");

const char *xlb_stat_name(__u32 s)
{
	return s < XLB_STAT_MAX && names[s] ? names[s] : "unknown";
}

enum xlb_stat_kind xlb_stat_kind(__u32 s)
{
	if (s >= XLB_STAT_DROP_FIRST)
		return XLB_STAT_KIND_DROP;
	if (s <= XLB_STAT_REDIRECT || s == XLB_STAT_PASS_NOT_OURS)
		return XLB_STAT_KIND_PACKET;
	return XLB_STAT_KIND_EVENT;
}

const char *xlb_stat_label(__u32 s)
{
	const char *n = xlb_stat_name(s);

	/* drops_total{reason="malformed"}: the family says it is a drop. */
	return xlb_stat_kind(s) == XLB_STAT_KIND_DROP &&
			       !strncmp(n, "drop_", 5) ?
		       n + 5 :
		       n;
}
