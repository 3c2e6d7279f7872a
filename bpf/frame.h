/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frame.h - how long a frame is. Both programs accept multi-buffer frames
 * (SEC("xdp.frags")): a driver with a large MTU (jumbo frames toward the
 * backends, the usual headroom for encapsulation) hands XDP its linear
 * part between data and data_end and the rest in fragments. Headers are
 * always read from the linear part; only a datagram's length is checked
 * against the whole frame, and the helper that reads it is called only
 * when the linear part is too short to settle the question.
 */
#ifndef XLB_FRAME_H
#define XLB_FRAME_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Whether the frame holds len bytes from at (a pointer into data..end). */
static __always_inline int frame_holds(struct xdp_md *ctx, void *data,
				       void *end, void *at, __u32 len)
{
	if (at + len <= end)
		return 1;
	return (__u64)(at - data) + len <= bpf_xdp_get_buff_len(ctx);
}

#endif /* XLB_FRAME_H */
