/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt.h - the tests' own packet builders and expected-output builders:
 * Ethernet with an optional 802.1Q/802.1ad tag, IPv4 with options, IPv6
 * with extension headers, TCP, UDP, ICMP/ICMPv6 errors carrying an
 * embedded datagram, and the encapsulations xlb_main should produce. The
 * IPv4 header checksum here is the test's own, never the program's.
 */
#ifndef PT_PKT_H
#define PT_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct pt_env;

#define MAC_CLIENT_SRC 0x02, 0xc1, 0x00, 0x00, 0x00, 0x01 /* router/client */
#define MAC_LB 0x02, 0x1b, 0x00, 0x00, 0x00, 0x99 /* the balancer's port */

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_DSTOPTS 60
#define NH_NONE 59

struct pspec {
	/* L2 */
	__u16 tpid; /* 0: untagged; 0x8100 or 0x88a8 */
	__u16 tci;
	__u16 ethertype; /* 0: from the address family */
	const __u8 *dmac; /* destination MAC; NULL: the balancer's (MAC_LB) */
	/* L3 */
	const char *src, *dst;
	__u8 tos; /* IPv4 TOS / IPv6 traffic class */
	__u32 flowlabel;
	__u16 frag; /* IPv4 frag_off, host order: 0x4000 DF, 0x2000 MF, offset/8 */
	__u16 ipid;
	__u8 ttl; /* 0: 64 */
	bool ttl_zero; /* TTL / hop limit 0 (ttl ignored) */
	bool bad_csum; /* IPv4 header checksum off by one */
	__u8 optlen; /* IPv4 option bytes, multiple of 4, at most 40 */
	const __u8 *opts; /* the option bytes; NULL: Router Alert, NOPs */
	__u8 ihl; /* IPv4 IHL override, 0 = computed */
	int len_adj; /* added to IPv4 tot_len / IPv6 payload_len */
	__u8 ext[8]; /* IPv6 extension header types, in order */
	__u8 extlen[8]; /* their Hdr Ext Len (8-byte units past the first 8) */
	__u8 next; /* number of extension headers */
	bool rh_given; /* routing headers of rh_type with rh_segs left */
	__u8 rh_type, rh_segs; /* else type 253 (experimental), 0 left */
	__u16 v6frag; /* fragment header frag_off: offset (bytes) | M bit */
	__u32 v6fragid;
	/* L4 */
	__u8 proto; /* TCP, UDP, ICMP, ICMPv6 or anything else */
	__u16 sport, dport;
	__u8 flags; /* TCP flags */
	__u8 doff; /* TCP data offset override, 0 = 5 */
	__u16 udp_len; /* UDP length field override, 0 = computed */
	__u16 dlen; /* payload after the L4 header */
	const __u8 *raw; /* if set, the L4 part is these bytes verbatim */
	__u16 rawlen;
	/* ICMP / ICMPv6 */
	__u8 itype, icode;
	__u32 irest; /* the 4 bytes after the checksum, host order */
	const struct pspec *emb; /* datagram embedded in an ICMP error */
	__u16 emb_len; /* truncate the embedded datagram to this, 0 = whole */
};

/* RFC 1071 checksum of n bytes, as a host-order value to store big-endian. */
__u16 pb_csum(const void *p, size_t n, __u32 initial);
/* Builders; each returns the bytes written. */
size_t pb_l4(const struct pspec *s, __u8 *o);
size_t pb_ip(const struct pspec *s, __u8 *o);
size_t pb_frame(const struct pspec *s, __u8 *o);
size_t pb_l2(__u8 *o, const __u8 dst[6], const __u8 src[6], __u16 tpid,
	     __u16 tci, __u16 type);
size_t pb_arp(__u8 *o, const char *sip, const char *tip);
/* Header sizes of a frame: L2 (14/18, or 0 if not IP) */
size_t pb_l2_len(const __u8 *f, size_t len, __u16 *type);
/* IP datagram length from its own header (tot_len / 40 + payload_len). */
size_t pb_ip_len(const __u8 *ip);

/*
 * The frame xlb_main should emit when it sends input frame in (a packet of
 * VIP vip_id) to backend be_id: IPIP/IP6IP6/4in6/6in4 or l2dsr according
 * to the VIP and backend. Fields the program may choose freely (the outer
 * IPv4 ID, the outer IPv6 flow label) are taken from got; the IPv4 header
 * checksum is then computed over the expected header. Returns its length.
 */
size_t pt_expect_fwd(const struct pt_env *e, __u32 vip_id, __u32 be_id,
		     const __u8 *in, size_t inlen, const __u8 *got,
		     size_t glen, __u8 *exp);

/* Byte helpers. */
static inline void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}
static inline void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}
static inline __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}
static inline __u32 get32(const __u8 *p)
{
	return (__u32)get16(p) << 16 | get16(p + 2);
}

#endif /* PT_PKT_H */
