/* SPDX-License-Identifier: GPL-2.0 */
/* stats.h - counters: global by enum xlb_stat, per VIP, per backend. */
#ifndef XLB_STATS_H
#define XLB_STATS_H

#include "maps.h"

#define XLB_INLINE static __always_inline

XLB_INLINE void stat_inc(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&xlb_stats, &idx);

	if (c)
		*c += 1;
}

/* Counts a drop under its named reason and returns the verdict. */
XLB_INLINE int stat_drop(__u32 reason)
{
	stat_inc(reason);
	return XDP_DROP;
}

XLB_INLINE void stat_fwd(void *map, __u32 id, __u32 bytes, int new_flow)
{
	struct xlb_counters *c = bpf_map_lookup_elem(map, &id);

	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	c->new_flows += new_flow;
}

#endif /* XLB_STATS_H */
