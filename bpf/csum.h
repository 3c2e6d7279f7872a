/* SPDX-License-Identifier: GPL-2.0 */
/* csum.h - the Internet checksum of a freshly written IPv4 header. */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include <linux/ip.h>

#define XLB_INLINE static __always_inline

/* iph->check must be zero; the header has no options (20 bytes). */
XLB_INLINE __u16 csum_ipv4_hdr(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif /* XLB_CSUM_H */
