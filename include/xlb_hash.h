/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlb_hash.h - the keyed client hash, shared by the XDP program and the
 * controller so that `xlb lookup` answers exactly what the data path does.
 *
 * SipHash-1-3 (keyed with the deployment seed) over the client address,
 * masked to the VIP's source prefix. Addresses enter as 64-bit words in
 * host order of the network-order bytes (ntohl of each 32-bit part), so the
 * result does not depend on the machine's endianness. The slot is the
 * hash's low 32 bits scaled to the table size (multiply-shift), which costs
 * no division on the per-packet path.
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include <linux/types.h>
#include "xlb.h"

#ifndef XLB_INLINE
#define XLB_INLINE static inline __attribute__((always_inline))
#endif

#define XLB_ROTL64(x, b) (__u64)(((x) << (b)) | ((x) >> (64 - (b))))

#define XLB_SIPROUND(v0, v1, v2, v3)                                            \
	do {                                                                    \
		v0 += v1;                                                       \
		v1 = XLB_ROTL64(v1, 13);                                        \
		v1 ^= v0;                                                       \
		v0 = XLB_ROTL64(v0, 32);                                        \
		v2 += v3;                                                       \
		v3 = XLB_ROTL64(v3, 16);                                        \
		v3 ^= v2;                                                       \
		v0 += v3;                                                       \
		v3 = XLB_ROTL64(v3, 21);                                        \
		v3 ^= v0;                                                       \
		v2 += v1;                                                       \
		v1 = XLB_ROTL64(v1, 17);                                        \
		v1 ^= v2;                                                       \
		v2 = XLB_ROTL64(v2, 32);                                        \
	} while (0)

/* SipHash-1-3 of n 64-bit words (n is a compile-time constant: unrolled). */
XLB_INLINE __u64 xlb_siphash13(const __u64 key[2], const __u64 *m, int n)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ key[0];
	__u64 v1 = 0x646f72616e646f6dULL ^ key[1];
	__u64 v2 = 0x6c7967656e657261ULL ^ key[0];
	__u64 v3 = 0x7465646279746573ULL ^ key[1];
	__u64 b = ((__u64)(n * 8)) << 56;
	int i;

	for (i = 0; i < n; i++) {
		v3 ^= m[i];
		XLB_SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v3 ^= b;
	XLB_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	XLB_SIPROUND(v0, v1, v2, v3);
	XLB_SIPROUND(v0, v1, v2, v3);
	XLB_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Client IPv4 address (host order) masked with mask (low 32 bits). */
XLB_INLINE __u64 xlb_hash_v4(const __u64 key[2], __u32 addr_host, __u64 mask)
{
	__u64 m[1] = { (__u64)addr_host & mask };

	return xlb_siphash13(key, m, 1);
}

/* Client IPv6 address as two host-order words, masked word by word. */
XLB_INLINE __u64 xlb_hash_v6(const __u64 key[2], __u64 hi, __u64 lo,
			     const __u64 mask[2])
{
	__u64 m[2] = { hi & mask[0], lo & mask[1] };

	return xlb_siphash13(key, m, 2);
}

/* Slot of a table of size slots for hash h (Lemire's multiply-shift). */
XLB_INLINE __u32 xlb_slot_of(__u64 h, __u32 size)
{
	return (__u32)(((h & 0xffffffffULL) * (__u64)size) >> 32);
}

/*
 * Masks for a source prefix: IPv4 in mask[0]'s low 32 bits; IPv6 over the
 * two words. Computed by the controller and stored in the VIP.
 */
XLB_INLINE void xlb_src_mask(int family_v6, unsigned int plen, __u64 mask[2])
{
	if (!family_v6) {
		mask[0] = plen ? (0xffffffffULL << (32 - plen)) & 0xffffffffULL : 0;
		mask[1] = 0;
		return;
	}
	if (plen >= 64) {
		mask[0] = ~0ULL;
		mask[1] = plen >= 128 ? ~0ULL : (plen == 64 ? 0 : ~0ULL << (128 - plen));
	} else {
		mask[0] = plen ? ~0ULL << (64 - plen) : 0;
		mask[1] = 0;
	}
}

/* A flow key is written field by field and read as words: may_alias. */
typedef __u64 __attribute__((may_alias)) xlb_word_t;

/* MurmurHash3's 64-bit finaliser: every input bit reaches every output bit. */
XLB_INLINE __u64 xlb_flow_mix(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Word i's multiplier: odd, and secret as the seed's second half is. */
#define XLB_FLOW_MUL(k, c) (((k) ^ (c)) | 1)

/*
 * The flow table's keyed hash over the five 64-bit words of a flow key
 * (struct xlb_flow_key): each word, mixed with the seed's first half, is
 * multiplied by its own odd multiplier drawn from the seed's second half;
 * the sum of the products is finalised. The products are independent of
 * each other, so the hash is three multiplications deep on the per-packet
 * path, where the chain over the words it replaced was eleven (2-4 % of
 * the live forwarding rate). Cheaper than SipHash, which the client hash
 * keeps for the tables: here the seed only has to keep an outsider from
 * aiming many flows at one set.
 */
XLB_INLINE __u64 xlb_flow_hash(const __u64 key[2], const void *flow_key)
{
	const xlb_word_t *w = (const xlb_word_t *)flow_key;
	__u64 s = key[0], k = key[1];

	return xlb_flow_mix(
		(w[0] ^ s) * XLB_FLOW_MUL(k, 0x9e3779b97f4a7c15ULL) +
		(w[1] ^ s) * XLB_FLOW_MUL(k, 0xc2b2ae3d27d4eb4fULL) +
		(w[2] ^ s) * XLB_FLOW_MUL(k, 0x165667b19e3779f9ULL) +
		(w[3] ^ s) * XLB_FLOW_MUL(k, 0xd6e8feb86659fd93ULL) +
		(w[4] ^ s) * XLB_FLOW_MUL(k, 0x27d4eb2f165667c5ULL));
}

/* The set of a flow hash among nsets (a power of two) sets. */
XLB_INLINE __u32 xlb_flow_set_of(__u64 h, __u32 nsets)
{
	return (__u32)(h >> 32) & (nsets - 1);
}

/* An entry's tag: odd, never 0 (an empty way) or XLB_FLOW_BUSY. */
XLB_INLINE __u64 xlb_flow_tag(__u64 h)
{
	return h | 1;
}

/* The tag of a way a writer has claimed and is filling: no flow's. */
#define XLB_FLOW_BUSY 2ULL

/*
 * Way w of a copy of a flow-table set holds a flow: its tag is its key's.
 * A copy taken while a writer was busy fails this (struct xlb_flow_set).
 */
XLB_INLINE int xlb_flow_way_valid(const __u64 key[2],
				  const struct xlb_flow_set *s, int w)
{
	return s->tag[w] &&
	       s->tag[w] == xlb_flow_tag(xlb_flow_hash(key, &s->way[w].key));
}

/* Two flow keys, as five 64-bit words. */
XLB_INLINE int xlb_flow_key_eq(const void *a, const void *b)
{
	const xlb_word_t *x = (const xlb_word_t *)a, *y = (const xlb_word_t *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		(x[4] ^ y[4])) == 0;
}

#endif /* XLB_HASH_H */
