/* SPDX-License-Identifier: GPL-2.0 */
/*
 * addr.h - addresses and VIPs as operators write them:
 *   ADDR := IPv4 | IPv6 (brackets optional)
 *   VIP  := ADDR:PORT/PROTO, IPv6 in brackets: [2001:db8::1]:443/tcp
 *   PREFIX := ADDR[/LEN], no host bits set past LEN; ADDR alone: one host
 */
#ifndef XLB_ADDR_H
#define XLB_ADDR_H

#include <stddef.h>
#include <linux/types.h>
#include "xlb.h"

struct xlb_addr {
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	__be32 a[4]; /* network order; IPv4 in a[0] */
};

#define XLB_ADDR_STRLEN 48
#define XLB_VIP_STRLEN 64

/* Returns 0 or -EINVAL (message recorded). */
int xlb_addr_parse(const char *s, struct xlb_addr *out);
int xlb_vip_parse(const char *s, struct xlb_vip_key *k);
int xlb_prefix_parse(const char *s, struct xlb_addr *out, unsigned int *plen);
/* The netmask of a plen-bit prefix of family, in network order. */
void xlb_prefix_mask(__u8 family, unsigned int plen, __be32 mask[4]);
/* Parses a protocol name; returns IPPROTO_TCP/UDP or -EINVAL. */
int xlb_proto_parse(const char *s);
const char *xlb_proto_name(__u8 proto);

void xlb_addr_fmt(__u8 family, const __be32 *a, char *buf, size_t len);
void xlb_vip_fmt(const struct xlb_vip_key *k, char *buf, size_t len);
int xlb_addr_cmp(const struct xlb_addr *x, const struct xlb_addr *y);
/*
 * 0 when a can be a VIP or a backend: a unicast address another host can
 * send to. Unspecified (0.0.0.0/8, ::), loopback (127/8, ::1), link-local
 * (169.254/16, fe80::/10), multicast (224/4, ff00::/8), broadcast
 * (255.255.255.255) and IPv4-mapped IPv6 (::ffff:0:0/96) addresses give
 * -EINVAL, with "WHAT ADDR is a CLASS address" recorded.
 */
int xlb_addr_check_unicast(const struct xlb_addr *a, const char *what);
void xlb_addr_from_vip(const struct xlb_vip_key *k, struct xlb_addr *a);

#endif /* XLB_ADDR_H */
