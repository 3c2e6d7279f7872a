/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock.h - the data path's clock: CLOCK_MONOTONIC_COARSE, the clock of
 * bpf_ktime_get_coarse_ns() and of the controller's flow ages.
 *
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

#endif /* XLB_CLOCK_H */
