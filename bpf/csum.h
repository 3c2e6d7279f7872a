/* SPDX-License-Identifier: GPL-2.0 */
/* csum.h - the Internet checksum of IPv4 headers: written and received. */
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

/*
 * Folds a sum of 32-bit header words (at most 2^16 of them) to 16 bits:
 * 0xffff when the words, their checksum included, are a valid header.
 */
XLB_INLINE __u32 csum_fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)s;
}

#endif /* XLB_CSUM_H */
