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

/*
 * Word i's key: the seed's half i % 2, XORed with a constant of its own
 * (never added: an added constant would let two words swap values, keys
 * and all, for every seed). The constants of words that share a half
 * differ in 25 bits or more, so a swap of two such words costs an
 * outsider about 2^-25 per try.
 */
#define XLB_FLOW_KEY(s, c) ((s) ^ (c))

/*
 * One word's term: NH (UMAC's hash) on its two 32-bit halves once the key
 * is added, the product of the halves, which is exact in 64 bits. For a
 * uniform key and any two different words the terms differ by any given
 * value with a chance of a few in 2^32: a difference anywhere in the word,
 * its top bit too, moves both halves' product (the multiplier of the sums
 * of products it replaced kept only its low bit against 2^63).
 */
XLB_INLINE __u64 xlb_flow_nh(__u64 w, __u64 k)
{
	__u64 v = w + k;

	return (__u64)(__u32)v * (v >> 32);
}

/*
 * The flow table's keyed hash over the five 64-bit words of a flow key
 * (struct xlb_flow_key): the sum of the words' NH terms, finalised. Terms
 * with independent keys are almost Delta-universal and so is their sum:
 * two flow keys share set and tag with a chance of a few in 2^32 whatever
 * the difference (tests/unit/test_hash.c tries the structured ones), so
 * the seed keeps an outsider from aiming many flows at one set. The terms
 * are independent of each other: the hash is one addition and one
 * multiplication deep before the finaliser, as cheap per packet as the
 * sums of products it replaced; SipHash, which the client hash keeps for
 * the tables, would be several times that.
 */
XLB_INLINE __u64 xlb_flow_hash(const __u64 key[2], const void *flow_key)
{
	const xlb_word_t *w = (const xlb_word_t *)flow_key;
	__u64 s0 = key[0], s1 = key[1];

	return xlb_flow_mix(
		xlb_flow_nh(w[0], XLB_FLOW_KEY(s0, 0x9e3779b97f4a7c15ULL)) +
		xlb_flow_nh(w[1], XLB_FLOW_KEY(s1, 0xc2b2ae3d27d4eb4fULL)) +
		xlb_flow_nh(w[2], XLB_FLOW_KEY(s0, 0x165667b19e3779f9ULL)) +
		xlb_flow_nh(w[3], XLB_FLOW_KEY(s1, 0xd6e8feb86659fd93ULL)) +
		xlb_flow_nh(w[4], XLB_FLOW_KEY(s0, 0x27d4eb2f165667c5ULL)));
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
