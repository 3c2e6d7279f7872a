/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock.h - the data path's per-CPU time state: the clock, and the
 * one-second window that paces flow-table inserts.
 *
 * The clock is CLOCK_MONOTONIC_COARSE, the clock of
 * bpf_ktime_get_coarse_ns() and of the controller's flow ages.
 * The helper is a call into the kernel (about 15 ns on a virtual machine
 * with return-stack mitigations), while the coarse clock only moves on a
 * timer tick. bpf_jiffies64() is inlined by the verifier as one load, so
 * each CPU keeps the clock it read and reads it again only when jiffies
 * has moved: at most HZ helper calls a second per CPU, the same values.
 */
#ifndef XLB_CLOCK_H
#define XLB_CLOCK_H

#include "maps.h"

static __always_inline __u64 clock_now(void)
{
	__u32 zero = 0;
	struct xlb_clock *c = bpf_map_lookup_elem(&xlb_clock, &zero);
	__u64 j = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		c->jiffies = j;
		c->ns = bpf_ktime_get_coarse_ns();
	}
	return c->ns;
}

/*
 * Whether this CPU may record one more new flow in the current second
 * (xlb_config.new_flow_limit; 0 is no limit). Above it a new flow is
 * forwarded by its table all the same, unrecorded, so a flood of new
 * flows (a SYN flood) neither evicts established connections from the
 * flow table nor pays a flow-table write per packet.
 */
static __always_inline int clock_insert_ok(__u32 limit, __u64 now)
{
	__u32 zero = 0;
	struct xlb_clock *c;

	if (!limit)
		return 1;
	c = bpf_map_lookup_elem(&xlb_clock, &zero);
	if (!c)
		return 1;
	if (now - c->window_ns >= 1000000000ULL) {
		c->window_ns = now;
		c->window_inserts = 0;
	}
	if (c->window_inserts >= limit)
		return 0;
	c->window_inserts++;
	return 1;
}

#endif /* XLB_CLOCK_H */
