// SPDX-License-Identifier: GPL-2.0
/*
 * test_fwd.c - table-driven forwarding and pass-through cases: every
 * encapsulation kind, IPv4 options, IPv6 extension headers, VLAN tags,
 * ICMP errors about VIP flows, pass-through of everything that is not VIP
 * traffic, and the configuration errors that make the program drop.
 * Plus fragments, ICMP-via-flow-entry and source-prefix hashing, which
 * need more than one packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

/* The packet macros below give defaults that cases override on purpose. */
#pragma GCC diagnostic ignored "-Woverride-init"

enum xk {
	X_FWD, /* forwarded to the hashed backend, exact bytes checked */
	X_PASS, /* XDP_PASS, output identical to input */
	X_DROP, /* XDP_DROP with .stat counted */
	X_REJECT, /* XDP_PASS unchanged, or XDP_DROP counted DROP_MALFORMED */
};

struct fwd_case {
	const char *name;
	struct pspec p;
	bool arp;
	void (*setup)(struct pt_env *e);
	enum xk kind;
	__u32 vip; /* X_FWD: VIP whose table picks */
	const char *client; /* X_FWD: the client address the hash sees */
	__u32 verdict; /* X_FWD: 0 = XDP_TX */
	__u32 stat; /* counter that must grow by exactly one (0: none) */
	bool no_flow; /* X_FWD: must not create a flow entry */
};

#define CL4 "203.0.113.5"
#define CL6 "2001:db8:c::5"
#define RTR4 "198.18.0.1"
#define RTR6 "2001:db8:ff::1"

/* The client's TCP segment to VIP A, with variations. */
#define V4A(...)                                                              \
	{ .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_TCP,            \
	  .sport = 40000, .dport = 80, .flags = 0x10, .dlen = 32,           \
	  .frag = 0x4000, __VA_ARGS__ }
#define V6B(...)                                                              \
	{ .src = CL6, .dst = "2001:db8::10", .proto = IPPROTO_TCP,          \
	  .sport = 40001, .dport = 443, .flags = 0x18, .dlen = 40,          \
	  __VA_ARGS__ }

/* What a backend of VIP A / VIP B sent back (the ICMP error's payload). */
static const struct pspec emb_a = { .src = "192.0.2.10", .dst = CL4,
				    .proto = IPPROTO_TCP, .sport = 80,
				    .dport = 40000, .flags = 0x18,
				    .dlen = 1400, .frag = 0x4000 };
static const struct pspec emb_b = { .src = "2001:db8::10", .dst = CL6,
				    .proto = IPPROTO_TCP, .sport = 443,
				    .dport = 40001, .flags = 0x18,
				    .dlen = 1400 };
static const struct pspec emb_c = { .src = "192.0.2.20", .dst = CL4,
				    .proto = IPPROTO_UDP, .sport = 53,
				    .dport = 5353, .dlen = 600 };
static const struct pspec emb_other4 = { .src = "192.0.2.99", .dst = CL4,
					 .proto = IPPROTO_TCP, .sport = 80,
					 .dport = 40000, .flags = 0x18,
					 .dlen = 100 };
static const struct pspec emb_a_port81 = { .src = "192.0.2.10", .dst = CL4,
					   .proto = IPPROTO_TCP, .sport = 81,
					   .dport = 40000, .flags = 0x18,
					   .dlen = 100 };
static const struct pspec emb_a_lo = { .src = "192.0.2.10", .dst = "127.0.0.1",
				       .proto = IPPROTO_TCP, .sport = 80,
				       .dport = 40000, .flags = 0x18,
				       .dlen = 100 };
static const struct pspec emb_other6 = { .src = "2001:db8::99", .dst = CL6,
					 .proto = IPPROTO_TCP, .sport = 443,
					 .dport = 40001, .flags = 0x18,
					 .dlen = 100 };

static void setup_no_table(struct pt_env *e)
{
	pt_add_vip(e, 10, "192.0.2.60", 80, IPPROTO_TCP, XLB_FWD_IPIP, 7, 32,
		   128, true);
}

static void setup_no_src4(struct pt_env *e)
{
	e->cfg.src4 = 0;
	pt_write_config(e);
}

static void setup_no_src6(struct pt_env *e)
{
	memset(e->cfg.src6, 0, sizeof(e->cfg.src6));
	pt_write_config(e);
}

static void setup_l2dsr_v6_backends(struct pt_env *e)
{
	pt_add_backend(e, 12, VIP_E, "2001:db8:1::c", XLB_BE_UP);
	pt_add_backend(e, 13, VIP_E, "2001:db8:1::d", XLB_BE_UP);
}

static void setup_other_egress(struct pt_env *e)
{
	__u32 id;

	for (id = 1; id <= 4; id++) {
		struct xlb_nexthop nh = e->nh[id];

		nh.ifindex = 7;
		pt_set_nexthop(e, id, &nh);
	}
}

/* VIP B's and VIP E's backends too behind another interface. */
static void setup_other_egress_all(struct pt_env *e)
{
	static const __u32 ids[] = { 5, 6, 7, 12, 13 };
	size_t i;

	setup_other_egress(e);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct xlb_nexthop nh = e->nh[ids[i]];

		nh.ifindex = 7;
		pt_set_nexthop(e, ids[i], &nh);
	}
}

static void setup_all_down(struct pt_env *e)
{
	__u32 id;

	for (id = 1; id <= 4; id++)
		pt_set_state(e, id, id & 1 ? XLB_BE_DOWN : XLB_BE_DRAIN);
}

static const struct fwd_case cases[] = {
	/* IPv4 VIP -> IPv4 backend (IPIP) */
	{ "ipip: v4 tcp, DSCP+ECN and DF copied", V4A(.tos = 0xb9), .kind = X_FWD,
	  .vip = VIP_A, .client = CL4, .stat = XLB_STAT_TX },
	{ "ipip: v4 tcp without DF, ECN CE", V4A(.tos = 0x03, .frag = 0), .kind = X_FWD,
	  .vip = VIP_A, .client = CL4 },
	{ "ipip: v4 SYN creates a flow", V4A(.flags = 0x02, .dlen = 0), .kind = X_FWD,
	  .vip = VIP_A, .client = CL4 },
	{ "ipip: v4 RST forwarded without a flow entry", V4A(.flags = 0x04, .dlen = 0),
	  .kind = X_FWD, .vip = VIP_A, .client = CL4, .no_flow = true },
	{ "ipip: v4 802.1Q tag kept", V4A(.tpid = 0x8100, .tci = 0x2064),
	  .kind = X_FWD, .vip = VIP_A, .client = CL4 },
	{ "ipip: v4 802.1ad tag kept", V4A(.tpid = 0x88a8, .tci = 0x0fff),
	  .kind = X_FWD, .vip = VIP_A, .client = CL4 },
	{ "ipip: v4 options ihl 6", V4A(.optlen = 4), .kind = X_FWD, .vip = VIP_A,
	  .client = CL4 },
	{ "ipip: v4 options ihl 15", V4A(.optlen = 40, .tos = 0x10), .kind = X_FWD,
	  .vip = VIP_A, .client = CL4 },
	{ "ipip: v4 options + vlan", V4A(.optlen = 12, .tpid = 0x8100, .tci = 5),
	  .kind = X_FWD, .vip = VIP_A, .client = CL4 },
	{ "ipip: v4 second client", V4A(.src = "203.0.113.77", .sport = 1234),
	  .kind = X_FWD, .vip = VIP_A, .client = "203.0.113.77" },
	{ "ipip: v4 redirect when next hop is another interface", V4A(),
	  .setup = setup_other_egress, .kind = X_FWD, .vip = VIP_A, .client = CL4,
	  .verdict = XDP_REDIRECT, .stat = XLB_STAT_REDIRECT },
	/* IPv6 VIP -> IPv6 backend */
	{ "ip6ip6: v6 tcp, traffic class copied", V6B(.tos = 0xb9, .flowlabel = 0x12345),
	  .kind = X_FWD, .vip = VIP_B, .client = CL6, .stat = XLB_STAT_TX },
	{ "ip6ip6: v6 802.1Q tag kept", V6B(.tpid = 0x8100, .tci = 0x0064),
	  .kind = X_FWD, .vip = VIP_B, .client = CL6 },
	{ "ip6ip6: hop-by-hop", V6B(.ext = { NH_HOPOPTS }, .next = 1), .kind = X_FWD,
	  .vip = VIP_B, .client = CL6 },
	{ "ip6ip6: routing header", V6B(.ext = { NH_ROUTING }, .next = 1),
	  .kind = X_FWD, .vip = VIP_B, .client = CL6 },
	{ "ip6ip6: destination options 24 bytes",
	  V6B(.ext = { NH_DSTOPTS }, .extlen = { 2 }, .next = 1), .kind = X_FWD,
	  .vip = VIP_B, .client = CL6 },
	{ "ip6ip6: atomic fragment header",
	  V6B(.ext = { NH_FRAGMENT }, .next = 1, .v6frag = 0), .kind = X_FWD,
	  .vip = VIP_B, .client = CL6 },
	{ "ip6ip6: chain hbh+dstopts+routing+dstopts",
	  V6B(.ext = { NH_HOPOPTS, NH_DSTOPTS, NH_ROUTING, NH_DSTOPTS },
	      .extlen = { 1, 0, 2, 0 }, .next = 4, .tpid = 0x8100, .tci = 7),
	  .kind = X_FWD, .vip = VIP_B, .client = CL6 },
	{ "ip6ip6: chain hbh+routing+fragment(atomic)",
	  V6B(.ext = { NH_HOPOPTS, NH_ROUTING, NH_FRAGMENT }, .next = 3),
	  .kind = X_FWD, .vip = VIP_B, .client = CL6 },
	/* Cross-family */
	{ "4in6: v4 udp to IPv6 backend",
	  { .src = CL4, .dst = "192.0.2.20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 60, .tos = 0x28 },
	  .kind = X_FWD, .vip = VIP_C, .client = CL4 },
	{ "4in6: v4 udp, vlan, options",
	  { .src = "203.0.113.200", .dst = "192.0.2.20", .proto = IPPROTO_UDP,
	    .sport = 5353, .dport = 53, .dlen = 61, .optlen = 8, .tpid = 0x8100,
	    .tci = 3 },
	  .kind = X_FWD, .vip = VIP_C, .client = "203.0.113.200" },
	{ "6in4: v6 udp to IPv4 backend",
	  { .src = CL6, .dst = "2001:db8::20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 77, .tos = 0x45 },
	  .kind = X_FWD, .vip = VIP_D, .client = CL6 },
	{ "6in4: v6 udp with dstopts and vlan",
	  { .src = "2001:db8:c::77", .dst = "2001:db8::20", .proto = IPPROTO_UDP,
	    .sport = 5353, .dport = 53, .dlen = 10, .ext = { NH_DSTOPTS },
	    .next = 1, .tpid = 0x8100, .tci = 9 },
	  .kind = X_FWD, .vip = VIP_D, .client = "2001:db8:c::77" },
	{ "mixed: v4 udp VIP with v4 and v6 backends",
	  { .src = "203.0.113.9", .dst = "192.0.2.50", .proto = IPPROTO_UDP,
	    .sport = 999, .dport = 4789, .dlen = 50 },
	  .kind = X_FWD, .vip = VIP_I, .client = "203.0.113.9" },
	{ "mixed: another client of the same VIP",
	  { .src = "203.0.113.10", .dst = "192.0.2.50", .proto = IPPROTO_UDP,
	    .sport = 999, .dport = 4789, .dlen = 50 },
	  .kind = X_FWD, .vip = VIP_I, .client = "203.0.113.10" },
	/* l2dsr */
	{ "l2dsr: v4 only MACs change",
	  { .src = CL4, .dst = "192.0.2.30", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .tos = 0x04 },
	  .kind = X_FWD, .vip = VIP_E, .client = CL4 },
	{ "l2dsr: v4 with vlan and options",
	  { .src = CL4, .dst = "192.0.2.30", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .optlen = 8, .tpid = 0x8100,
	    .tci = 100 },
	  .kind = X_FWD, .vip = VIP_E, .client = CL4 },
	{ "l2dsr: v6 only MACs change",
	  { .src = CL6, .dst = "2001:db8::30", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .ext = { NH_HOPOPTS },
	    .next = 1 },
	  .kind = X_FWD, .vip = VIP_F, .client = CL6 },
	{ "l2dsr: backend family differs -> DROP_FAMILY",
	  { .src = CL4, .dst = "192.0.2.30", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20 },
	  .setup = setup_l2dsr_v6_backends, .kind = X_DROP,
	  .stat = XLB_STAT_DROP_FAMILY },
	/* ICMP errors about a VIP flow, no flow entry: the client's hash */
	{ "icmp: frag-needed, 28-byte quote -> client's backend",
	  { .src = RTR4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 4, .irest = 1400, .emb = &emb_a, .emb_len = 28 },
	  .kind = X_FWD, .vip = VIP_A, .client = CL4, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	{ "icmp: frag-needed, 576-byte quote, vlan",
	  { .src = RTR4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 4, .irest = 1400, .emb = &emb_a, .emb_len = 548,
	    .tpid = 0x8100, .tci = 11 },
	  .kind = X_FWD, .vip = VIP_A, .client = CL4, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	{ "icmp: time exceeded",
	  { .src = RTR4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 11,
	    .emb = &emb_a, .emb_len = 28 },
	  .kind = X_FWD, .vip = VIP_A, .client = CL4, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	{ "icmp: port unreachable about a udp VIP (4in6)",
	  { .src = RTR4, .dst = "192.0.2.20", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 3, .emb = &emb_c, .emb_len = 64 },
	  .kind = X_FWD, .vip = VIP_C, .client = CL4, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	{ "icmp6: packet too big, 48-byte quote",
	  { .src = RTR6, .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6, .itype = 2,
	    .irest = 1280, .emb = &emb_b, .emb_len = 48 },
	  .kind = X_FWD, .vip = VIP_B, .client = CL6, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	{ "icmp6: packet too big, 1232-byte quote, vlan",
	  { .src = RTR6, .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6, .itype = 2,
	    .irest = 1280, .emb = &emb_b, .emb_len = 1232, .tpid = 0x8100,
	    .tci = 12 },
	  .kind = X_FWD, .vip = VIP_B, .client = CL6, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	{ "icmp6: destination unreachable",
	  { .src = RTR6, .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6, .itype = 1,
	    .icode = 3, .emb = &emb_b, .emb_len = 100 },
	  .kind = X_FWD, .vip = VIP_B, .client = CL6, .stat = XLB_STAT_ICMP_ERR,
	  .no_flow = true },
	/* Pass-through, byte for byte */
	{ "pass: ARP request for a VIP", .arp = true, .kind = X_PASS },
	{ "pass: IPv6 neighbour solicitation (multicast)",
	  { .src = "fe80::1", .dst = "ff02::1:ff00:10", .proto = IPPROTO_ICMPV6,
	    .itype = 135, .dlen = 24, .ttl = 255 },
	  .kind = X_PASS },
	{ "pass: IPv6 neighbour solicitation to the VIP",
	  { .src = "fe80::1", .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6,
	    .itype = 135, .dlen = 24, .ttl = 255 },
	  .kind = X_PASS },
	{ "pass: IPv6 neighbour advertisement to the VIP",
	  { .src = "fe80::1", .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6,
	    .itype = 136, .dlen = 24, .ttl = 255 },
	  .kind = X_PASS },
	{ "pass: LLDP ethertype", V4A(.ethertype = 0x88cc), .kind = X_PASS },
	{ "pass: v4 not a VIP address", V4A(.dst = "192.0.2.99"), .kind = X_PASS },
	{ "pass: v4 VIP address, other port", V4A(.dport = 81), .kind = X_PASS },
	{ "pass: v4 VIP address, other protocol (GRE)",
	  V4A(.proto = 47, .dlen = 40), .kind = X_PASS },
	{ "pass: v4 VIP address, udp to the tcp port", V4A(.proto = IPPROTO_UDP),
	  .kind = X_PASS },
	{ "pass: v4 VIP address, other port, vlan", V4A(.dport = 8080, .tpid = 0x8100, .tci = 1),
	  .kind = X_PASS },
	{ "pass: v6 not a VIP address", V6B(.dst = "2001:db8::99"), .kind = X_PASS },
	{ "pass: v6 VIP address, other port", V6B(.dport = 444), .kind = X_PASS },
	{ "pass: v6 VIP address, udp to the tcp port", V6B(.proto = IPPROTO_UDP),
	  .kind = X_PASS },
	{ "pass: v6 VIP address, other protocol after ext headers",
	  V6B(.proto = 132, .ext = { NH_HOPOPTS }, .next = 1), .kind = X_PASS },
	{ "pass: icmp echo request to a VIP",
	  { .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 8,
	    .irest = 0x00010001, .dlen = 56 },
	  .kind = X_PASS },
	{ "pass: icmp6 echo request to a VIP",
	  { .src = CL6, .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6, .itype = 128,
	    .irest = 0x00010001, .dlen = 56 },
	  .kind = X_PASS },
	{ "pass: icmp error about a non-VIP packet",
	  { .src = RTR4, .dst = "192.0.2.99", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 4, .emb = &emb_other4, .emb_len = 28 },
	  .kind = X_PASS },
	{ "pass: icmp error to a VIP address about another port",
	  { .src = RTR4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 4, .emb = &emb_a_port81, .emb_len = 28 },
	  .kind = X_PASS },
	{ "pass: icmp error quoting a VIP packet but sent elsewhere",
	  { .src = RTR4, .dst = "192.0.2.99", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 4, .emb = &emb_a, .emb_len = 28 },
	  .kind = X_PASS },
	{ "pass: icmp6 error about a non-VIP packet",
	  { .src = RTR6, .dst = "2001:db8::99", .proto = IPPROTO_ICMPV6, .itype = 2,
	    .emb = &emb_other6, .emb_len = 48 },
	  .kind = X_PASS },
	{ "pass: icmp6 error quoting a VIP packet but sent elsewhere",
	  { .src = RTR6, .dst = "2001:db8::99", .proto = IPPROTO_ICMPV6, .itype = 2,
	    .emb = &emb_b, .emb_len = 48 },
	  .kind = X_PASS },
	{ "pass: v4 non-tcp/udp fragment to a VIP address",
	  { .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 8,
	    .frag = 0x2000, .dlen = 64 },
	  .kind = X_PASS },
	{ "pass: fragment to a VIP without a fragment alias",
	  { .src = CL4, .dst = "192.0.2.40", .proto = IPPROTO_TCP, .sport = 1,
	    .dport = 80, .frag = 0x2000, .dlen = 40 },
	  .kind = X_PASS },
	{ "pass: malformed (doff 4) to a VIP without a fragment alias",
	  { .src = CL4, .dst = "192.0.2.40", .proto = IPPROTO_TCP, .sport = 1,
	    .dport = 80, .doff = 4, .flags = 0x10 },
	  .kind = X_PASS },
	/* Malformed VIP packets */
	{ "malformed: tcp doff 4", V4A(.doff = 4), .kind = X_REJECT },
	{ "malformed: v4 tot_len beyond the frame", V4A(.len_adj = 8), .kind = X_REJECT },
	{ "malformed: v4 ihl 4", V4A(.ihl = 4), .kind = X_REJECT },
	{ "malformed: v4 ihl 15 without options", V4A(.ihl = 15, .dlen = 0), .kind = X_REJECT },
	{ "malformed: udp length 7",
	  { .src = CL4, .dst = "192.0.2.20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .raw = (const __u8[]){ 0x14, 0xe9, 0, 53, 0, 7, 0, 0 },
	    .rawlen = 8 },
	  .kind = X_REJECT },
	{ "malformed: v6 payload_len beyond the frame", V6B(.len_adj = 1), .kind = X_REJECT },
	{ "malformed: v6 tcp doff 3", V6B(.doff = 3), .kind = X_REJECT },
	/* What a router would not forward (issue 13, item 8) */
	{ "not ours: broadcast frame to a VIP -> PASS_NOT_OURS",
	  V4A(.dmac = (const __u8[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }),
	  .kind = X_PASS, .stat = XLB_STAT_PASS_NOT_OURS },
	{ "not ours: multicast frame to a VIP -> PASS_NOT_OURS",
	  V6B(.dmac = (const __u8[]){ 0x33, 0x33, 0, 0, 0, 0x10 }),
	  .kind = X_PASS, .stat = XLB_STAT_PASS_NOT_OURS },
	{ "not ours: another host's MAC -> PASS_NOT_OURS",
	  V4A(.dmac = (const __u8[]){ 0x02, 0x1b, 0, 0, 0, 0x98 }),
	  .kind = X_PASS, .stat = XLB_STAT_PASS_NOT_OURS },
	{ "not ours: another host's MAC differing in its first byte",
	  V6B(.dmac = (const __u8[]){ 0x06, 0x1b, 0, 0, 0, 0x99 }),
	  .kind = X_PASS, .stat = XLB_STAT_PASS_NOT_OURS },
	{ "drop: v4 header checksum wrong -> DROP_IP_CSUM", V4A(.bad_csum = true),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_IP_CSUM },
	{ "drop: v4 options, header checksum wrong -> DROP_IP_CSUM",
	  V4A(.bad_csum = true, .optlen = 8), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_IP_CSUM },
	{ "drop: v4 TTL 0 -> DROP_TTL", V4A(.ttl_zero = true), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_TTL },
	{ "drop: v6 hop limit 0 -> DROP_TTL", V6B(.ttl_zero = true), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_TTL },
	{ "fwd: v4 TTL 1 forwarded", V4A(.ttl = 1), .kind = X_FWD, .vip = VIP_A,
	  .client = CL4 },
	{ "drop: v4 LSRR option -> DROP_SRC_ROUTE",
	  V4A(.optlen = 8, .opts = (const __u8[]){ 0x83, 7, 4, 10, 9, 9, 9, 0 }),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_SRC_ROUTE },
	{ "drop: v4 SSRR after a NOP -> DROP_SRC_ROUTE",
	  V4A(.optlen = 12,
	      .opts = (const __u8[]){ 1, 0x89, 7, 4, 10, 9, 9, 9, 0, 0, 0, 0 }),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_SRC_ROUTE },
	{ "fwd: v4 record route forwarded",
	  V4A(.optlen = 8, .opts = (const __u8[]){ 7, 7, 4, 0, 0, 0, 0, 0 }),
	  .kind = X_FWD, .vip = VIP_A, .client = CL4 },
	{ "fwd: v4 timestamp after NOPs forwarded",
	  V4A(.optlen = 12,
	      .opts = (const __u8[]){ 1, 1, 0x44, 8, 5, 0, 0, 0, 0, 0, 0, 0 }),
	  .kind = X_FWD, .vip = VIP_A, .client = CL4 },
	{ "drop: v4 option length 0 -> DROP_IP_OPTION",
	  V4A(.optlen = 4, .opts = (const __u8[]){ 0x44, 0, 0, 0 }), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_IP_OPTION },
	{ "drop: v4 option length 1 -> DROP_IP_OPTION",
	  V4A(.optlen = 4, .opts = (const __u8[]){ 1, 0x94, 1, 0 }), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_IP_OPTION },
	{ "drop: v4 option past the header -> DROP_IP_OPTION",
	  V4A(.optlen = 8, .opts = (const __u8[]){ 1, 1, 7, 11, 4, 0, 0, 0 }),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_IP_OPTION },
	{ "drop: v4 option type in the header's last byte -> DROP_IP_OPTION",
	  V4A(.optlen = 4, .opts = (const __u8[]){ 1, 1, 1, 7 }), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_IP_OPTION },
	{ "drop: v6 routing header type 0, none left -> DROP_SRC_ROUTE",
	  V6B(.ext = { NH_ROUTING }, .next = 1, .rh_given = true, .rh_type = 0),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_SRC_ROUTE },
	{ "drop: v6 segment routing header, 1 left -> DROP_SRC_ROUTE",
	  V6B(.ext = { NH_HOPOPTS, NH_ROUTING }, .extlen = { 0, 2 }, .next = 2,
	      .rh_given = true, .rh_type = 4, .rh_segs = 1),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_SRC_ROUTE },
	{ "drop: v6 routing header type 253, 2 left -> DROP_SRC_ROUTE",
	  V6B(.ext = { NH_ROUTING }, .next = 1, .rh_given = true, .rh_type = 253,
	      .rh_segs = 2),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_SRC_ROUTE },
	{ "fwd: v6 segment routing header, none left",
	  V6B(.ext = { NH_ROUTING }, .extlen = { 2 }, .next = 1, .rh_given = true,
	      .rh_type = 4),
	  .kind = X_FWD, .vip = VIP_B, .client = CL6 },
	{ "drop: v4 tcp data offset past the segment -> DROP_MALFORMED",
	  V4A(.doff = 15, .dlen = 32), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_MALFORMED },
	{ "drop: v6 tcp data offset past the segment -> DROP_MALFORMED",
	  V6B(.doff = 6, .dlen = 0), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_MALFORMED },
	{ "fwd: v4 tcp data offset 15 inside the segment",
	  V4A(.doff = 15, .dlen = 40), .kind = X_FWD, .vip = VIP_A, .client = CL4 },
	{ "drop: v4 udp length past the datagram -> DROP_MALFORMED",
	  { .src = CL4, .dst = "192.0.2.20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 20, .udp_len = 29 },
	  .kind = X_DROP, .stat = XLB_STAT_DROP_MALFORMED },
	{ "drop: v6 udp length past the datagram -> DROP_MALFORMED",
	  { .src = CL6, .dst = "2001:db8::20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 20, .udp_len = 400 },
	  .kind = X_DROP, .stat = XLB_STAT_DROP_MALFORMED },
	{ "fwd: v4 udp length short of the datagram (trailer)",
	  { .src = CL4, .dst = "192.0.2.20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 20, .udp_len = 20 },
	  .kind = X_FWD, .vip = VIP_C, .client = CL4 },
	{ "drop: v4 source 0.0.0.0 -> DROP_BAD_SRC", V4A(.src = "0.0.0.0"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v4 source in 0/8 -> DROP_BAD_SRC", V4A(.src = "0.1.2.3"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v4 loopback source -> DROP_BAD_SRC", V4A(.src = "127.0.0.1"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v4 multicast source -> DROP_BAD_SRC", V4A(.src = "239.1.2.3"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v4 broadcast source -> DROP_BAD_SRC", V4A(.src = "255.255.255.255"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v4 source the VIP itself -> DROP_BAD_SRC", V4A(.src = "192.0.2.10"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v4 source the balancer's own -> DROP_BAD_SRC",
	  V4A(.src = "198.51.100.1", .flags = 0x02), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v6 source :: -> DROP_BAD_SRC", V6B(.src = "::"), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v6 source ::1 -> DROP_BAD_SRC", V6B(.src = "::1"), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v6 multicast source -> DROP_BAD_SRC", V6B(.src = "ff02::1"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v6 IPv4-mapped source -> DROP_BAD_SRC",
	  V6B(.src = "::ffff:203.0.113.5"), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v6 source the VIP itself -> DROP_BAD_SRC", V6B(.src = "2001:db8::10"),
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: v6 source the balancer's own -> DROP_BAD_SRC",
	  V6B(.src = "2001:db8:100::1"), .kind = X_DROP,
	  .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: icmp error from a loopback source -> DROP_BAD_SRC",
	  { .src = "127.0.0.1", .dst = "192.0.2.10", .proto = IPPROTO_ICMP,
	    .itype = 3, .icode = 4, .irest = 1400, .emb = &emb_a, .emb_len = 28 },
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: icmp6 error from a multicast source -> DROP_BAD_SRC",
	  { .src = "ff02::2", .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6,
	    .itype = 2, .irest = 1280, .emb = &emb_b, .emb_len = 48 },
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "drop: icmp error quoting a packet to a loopback client -> DROP_BAD_SRC",
	  { .src = RTR4, .dst = "192.0.2.10", .proto = IPPROTO_ICMP, .itype = 3,
	    .icode = 4, .irest = 1400, .emb = &emb_a_lo, .emb_len = 28 },
	  .kind = X_DROP, .stat = XLB_STAT_DROP_BAD_SRC },
	{ "ipip: v4 802.1Q tag stripped when redirected to another interface",
	  V4A(.tpid = 0x8100, .tci = 0x0064), .setup = setup_other_egress,
	  .kind = X_FWD, .vip = VIP_A, .client = CL4, .verdict = XDP_REDIRECT,
	  .stat = XLB_STAT_REDIRECT },
	{ "ip6ip6: 802.1ad tag stripped when redirected to another interface",
	  V6B(.tpid = 0x88a8, .tci = 0x0007), .setup = setup_other_egress_all,
	  .kind = X_FWD, .vip = VIP_B, .client = CL6, .verdict = XDP_REDIRECT },
	{ "l2dsr: 802.1Q tag stripped when redirected to another interface",
	  { .src = CL4, .dst = "192.0.2.30", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .tpid = 0x8100, .tci = 100 },
	  .setup = setup_other_egress_all, .kind = X_FWD, .vip = VIP_E,
	  .client = CL4, .verdict = XDP_REDIRECT },
	/* Configuration that makes the program drop */
	{ "drop: VIP without a table -> DROP_NO_TABLE",
	  { .src = CL4, .dst = "192.0.2.60", .proto = IPPROTO_TCP, .sport = 1,
	    .dport = 80, .flags = 0x02 },
	  .setup = setup_no_table, .kind = X_DROP, .stat = XLB_STAT_DROP_NO_TABLE },
	{ "drop: no IPv4 outer source -> DROP_NO_SRC", V4A(), .setup = setup_no_src4,
	  .kind = X_DROP, .stat = XLB_STAT_DROP_NO_SRC },
	{ "drop: no IPv6 outer source -> DROP_NO_SRC", V6B(), .setup = setup_no_src6,
	  .kind = X_DROP, .stat = XLB_STAT_DROP_NO_SRC },
	{ "drop: no backend UP or DRAIN in the slot -> DROP_NO_BACKEND", V4A(),
	  .setup = setup_all_down, .kind = X_DROP, .stat = XLB_STAT_DROP_NO_BACKEND },
};

/* Checks that only the named counters moved, by the given amounts. */
static void check_deltas(const char *name, const __u64 *before,
			 const __u64 *after, const __u64 *want, const bool *care)
{
	__u32 i;

	for (i = 0; i < XLB_STAT_MAX; i++) {
		__u64 d = after[i] - before[i];

		if (care[i] && d != want[i])
			fail_msg("%s: counter %s moved by %llu, expected %llu", name,
				 pt_stat_name(i), (unsigned long long)d,
				 (unsigned long long)want[i]);
	}
}

static void run_case(void **state)
{
	struct pt_ctx *c = *state;
	const struct fwd_case *fc = c->param;
	struct pt_env *e = c->e;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX], want[XLB_STAT_MAX] = { 0 };
	bool care[XLB_STAT_MAX] = { 0 };
	struct xlb_counters vb = { 0 }, va, bb = { 0 }, ba;
	__u32 outlen, be = XLB_BACKEND_NONE, i;
	size_t inlen, elen, l2;
	__u16 type;
	int verdict;

	if (fc->setup)
		fc->setup(e);
	inlen = fc->arp ? pb_arp(in, "192.0.2.1", "192.0.2.10") : pb_frame(&fc->p, in);
	pt_stats_all(e, before);
	if (fc->kind == X_FWD) {
		__be32 cl[4];

		pt_addr(fc->client, cl);
		be = pt_expect_be(e, fc->vip, cl);
		assert_int_not_equal(be, XLB_BACKEND_NONE);
		vb = pt_vip_ctr(e, fc->vip);
		bb = pt_be_ctr(e, be);
	}
	verdict = pt_run(e, in, (__u32)inlen, out, &outlen);
	pt_stats_all(e, after);

	want[XLB_STAT_RX] = 1;
	care[XLB_STAT_RX] = care[XLB_STAT_PASS] = care[XLB_STAT_TX] =
		care[XLB_STAT_REDIRECT] = true;
	for (i = XLB_STAT_DROP_FIRST; i < XLB_STAT_MAX; i++)
		care[i] = true;

	switch (fc->kind) {
	case X_FWD: {
		__u32 wantv = fc->verdict ? fc->verdict : XDP_TX;

		if ((__u32)verdict != wantv)
			fail_msg("%s: verdict %d, expected %u", fc->name, verdict, wantv);
		elen = pt_expect_fwd(e, fc->vip, be, in, inlen, out, outlen, exp);
		pt_assert_bytes(fc->name, exp, elen, out, outlen);
		want[wantv == XDP_TX ? XLB_STAT_TX : XLB_STAT_REDIRECT] = 1;
		if (fc->stat) {
			want[fc->stat] = 1;
			care[fc->stat] = true;
		}
		check_deltas(fc->name, before, after, want, care);
		/* Per-VIP and per-backend counters: one packet, inner bytes. */
		l2 = pb_l2_len(in, inlen, &type);
		va = pt_vip_ctr(e, fc->vip);
		ba = pt_be_ctr(e, be);
		assert_int_equal(va.packets - vb.packets, 1);
		assert_int_equal(va.bytes - vb.bytes, pb_ip_len(in + l2));
		assert_int_equal(va.new_flows - vb.new_flows, 1);
		assert_int_equal(ba.packets - bb.packets, 1);
		assert_int_equal(ba.bytes - bb.bytes, pb_ip_len(in + l2));
		{
			/* A new flow entry exactly when one should be made. */
			struct xlb_flow_key k;
			struct xlb_flow f;
			int err;

			if (fc->p.emb) /* the quoted packet's flow, reversed */
				k = pt_flow_key(fc->p.emb->dst, fc->p.emb->src,
						fc->p.emb->dport, fc->p.emb->sport,
						fc->p.emb->proto);
			else
				k = pt_flow_key(fc->p.src, fc->p.dst, fc->p.sport,
						fc->p.dport, fc->p.proto);
			err = pt_flow_get(e, &k, &f, NULL);
			if (fc->no_flow || fc->p.emb) {
				if (err != -ENOENT)
					fail_msg("%s: a flow entry was created", fc->name);
			} else {
				if (err)
					fail_msg("%s: no flow entry created", fc->name);
				assert_int_equal(f.backend, be);
			}
		}
		break;
	}
	case X_PASS:
		if (verdict != XDP_PASS)
			fail_msg("%s: verdict %d, expected XDP_PASS", fc->name, verdict);
		pt_assert_bytes(fc->name, in, inlen, out, outlen);
		want[XLB_STAT_PASS] = 1;
		if (fc->stat) { /* why it was passed */
			want[fc->stat] = 1;
			care[fc->stat] = true;
		}
		check_deltas(fc->name, before, after, want, care);
		break;
	case X_DROP:
		if (verdict != XDP_DROP)
			fail_msg("%s: verdict %d, expected XDP_DROP", fc->name, verdict);
		want[fc->stat] = 1;
		check_deltas(fc->name, before, after, want, care);
		break;
	case X_REJECT:
		if (verdict == XDP_PASS) {
			pt_assert_bytes(fc->name, in, inlen, out, outlen);
			want[XLB_STAT_PASS] = 1;
		} else if (verdict == XDP_DROP) {
			want[XLB_STAT_DROP_MALFORMED] = 1;
		} else {
			fail_msg("%s: malformed packet got verdict %d", fc->name, verdict);
		}
		check_deltas(fc->name, before, after, want, care);
		break;
	}
}

/*
 * Fragments of one datagram (first, middle, last) reach the backend the
 * client address alone hashes to, even when the 5-tuple has a flow entry
 * that points elsewhere, and never create entries.
 */
struct frag_param {
	bool v6;
	bool vlan;
	bool hbh; /* IPv6: a hop-by-hop header before the fragment header */
	bool dst_after; /* IPv6: destination options after the fragment header */
};

static void test_fragments(void **state)
{
	struct pt_ctx *c = *state;
	const struct frag_param *fp = c->param;
	struct pt_env *e = c->e;
	static __u8 l4[256], in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	struct pspec whole = { .src = fp->v6 ? CL6 : CL4,
			       .dst = fp->v6 ? "2001:db8::10" : "192.0.2.10",
			       .proto = IPPROTO_TCP, .sport = 40000,
			       .dport = fp->v6 ? 443 : 80, .flags = 0x18,
			       .dlen = 100 };
	const __u32 vip = fp->v6 ? VIP_B : VIP_A;
	const size_t cut[4] = { 0, 48, 96, fp->dst_after ? 128 : 120 };
	struct xlb_flow_key k;
	struct xlb_flow f;
	__u64 frag0 = pt_stat(e, XLB_STAT_FRAG);
	__be32 cl[4];
	__u32 be, other, i;
	size_t n, inlen, elen;

	if (fp->dst_after) {
		/* Fragmentable part: dest options (next TCP), then TCP. */
		memset(l4, 0, 8);
		l4[0] = IPPROTO_TCP;
		l4[2] = 1; /* PadN */
		l4[3] = 4;
		n = 8 + pb_l4(&whole, l4 + 8);
		assert_int_equal(n, 128);
	} else {
		n = pb_l4(&whole, l4);
		assert_int_equal(n, 120);
	}
	pt_addr(whole.src, cl);
	be = pt_expect_be(e, vip, cl);
	assert_int_not_equal(be, XLB_BACKEND_NONE);
	/* A flow entry for the 5-tuple on another backend must not matter. */
	other = fp->v6 ? (be == 5 ? 6 : 5) : (be == 1 ? 2 : 1);
	k = pt_flow_key(whole.src, whole.dst, 40000, whole.dport, IPPROTO_TCP);
	pt_flow_put(e, &k, other, pt_now_coarse());

	for (i = 0; i < 3; i++) {
		struct pspec p = whole;
		char what[64];
		__u32 outlen;
		int v;

		p.raw = l4 + cut[i];
		p.rawlen = (__u16)(cut[i + 1] - cut[i]);
		if (fp->vlan) {
			p.tpid = 0x8100;
			p.tci = 42;
		}
		if (fp->v6) {
			p.next = 0;
			if (fp->hbh)
				p.ext[p.next++] = NH_HOPOPTS;
			p.ext[p.next++] = NH_FRAGMENT;
			if (fp->dst_after)
				p.proto = NH_DSTOPTS; /* the fragment header's next */
			p.v6frag = (__u16)(cut[i] | (i < 2 ? 1 : 0));
			p.v6fragid = 0x5eed;
		} else {
			p.frag = (__u16)((i < 2 ? 0x2000 : 0) | cut[i] / 8);
			p.ipid = 0x7777;
		}
		inlen = pb_frame(&p, in);
		snprintf(what, sizeof(what), "fragment %u (%s)", i,
			 i == 0 ? "first" : i == 1 ? "middle" : "last");
		v = pt_run(e, in, (__u32)inlen, out, &outlen);
		if (v != XDP_TX)
			fail_msg("%s: verdict %d, expected XDP_TX", what, v);
		elen = pt_expect_fwd(e, vip, be, in, inlen, out, outlen, exp);
		pt_assert_bytes(what, exp, elen, out, outlen);
	}
	assert_int_equal(pt_stat(e, XLB_STAT_FRAG) - frag0, 3);
	/* The entry is untouched and no other entry appeared. */
	assert_int_equal(pt_flow_get(e, &k, &f, NULL), 0);
	assert_int_equal(f.backend, other);
	assert_int_equal(pt_flow_count(e), 1);
}

/*
 * An ICMP error about an established flow goes where the flow's entry
 * points, even when the hash now says otherwise, and leaves the entry as
 * it was (no atime refresh, no new entry).
 */
struct icmp_param {
	bool v6;
};

static void test_icmp_via_flow(void **state)
{
	struct pt_ctx *c = *state;
	const struct icmp_param *ip = c->param;
	struct pt_env *e = c->e;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	const __u32 vip = ip->v6 ? VIP_B : VIP_A;
	struct pspec p = { .src = ip->v6 ? RTR6 : RTR4,
			   .dst = ip->v6 ? "2001:db8::10" : "192.0.2.10",
			   .proto = ip->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
			   .itype = ip->v6 ? 2 : 3, .icode = ip->v6 ? 0 : 4,
			   .irest = 1400, .emb = ip->v6 ? &emb_b : &emb_a,
			   .emb_len = ip->v6 ? 48 : 28 };
	struct xlb_flow_key k;
	struct xlb_flow f;
	__u32 hashed, pinned, outlen;
	__u64 atime = pt_now_coarse() - 2000000000ULL, at; /* 2 s ago */
	__u64 hit0 = pt_stat(e, XLB_STAT_FLOW_HIT);
	__be32 cl[4];
	size_t inlen, elen;
	int v;

	pt_addr(ip->v6 ? CL6 : CL4, cl);
	hashed = pt_expect_be(e, vip, cl);
	pinned = ip->v6 ? (hashed == 5 ? 7 : 5) : (hashed == 1 ? 4 : 1);
	k = pt_flow_key(ip->v6 ? CL6 : CL4, p.dst, ip->v6 ? 40001 : 40000,
			ip->v6 ? 443 : 80, IPPROTO_TCP);
	pt_flow_put(e, &k, pinned, atime);

	inlen = pb_frame(&p, in);
	v = pt_run(e, in, (__u32)inlen, out, &outlen);
	if (v != XDP_TX)
		fail_msg("icmp via flow: verdict %d, expected XDP_TX", v);
	elen = pt_expect_fwd(e, vip, pinned, in, inlen, out, outlen, exp);
	pt_assert_bytes("icmp error follows the flow entry", exp, elen, out, outlen);
	assert_int_equal(pt_stat(e, XLB_STAT_FLOW_HIT) - hit0, 1);
	assert_int_equal(pt_flow_get(e, &k, &f, &at), 0);
	assert_int_equal(f.backend, pinned);
	if (at != atime)
		fail_msg("icmp error refreshed the flow's atime");
}

/*
 * Source prefix: with /24 (IPv4) or /64 (IPv6) two clients in one prefix
 * get one backend, although without the mask they hash to different ones.
 */
struct prefix_param {
	bool v6;
};

static void test_src_prefix(void **state)
{
	struct pt_ctx *c = *state;
	const struct prefix_param *pp = c->param;
	struct pt_env *e = c->e;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	const __u32 vip = pp->v6 ? VIP_H : VIP_G;
	char a[64], b[64], oth[64];
	__be32 ca[4], cb[4], co[4];
	__u32 be_a, be_b, be_o, outlen;
	int i, found = 0;

	/*
	 * Find b in a's prefix whose full-address slot differs (computed as if
	 * the VIP had no mask), and o outside the prefix whose backend differs.
	 */
	snprintf(a, sizeof(a), pp->v6 ? "2001:db8:c:1::1" : "203.0.113.1");
	pt_addr(a, ca);
	for (i = 2; i < 250 && !found; i++) {
		struct pt_env tmp = *e;

		if (pp->v6)
			snprintf(b, sizeof(b), "2001:db8:c:1::%x:%x", i * 977, i);
		else
			snprintf(b, sizeof(b), "203.0.113.%d", i);
		pt_addr(b, cb);
		xlb_src_mask(pp->v6, pp->v6 ? 128 : 32, tmp.vip[vip].v.src_mask);
		if (pt_expect_be(&tmp, vip, ca) != pt_expect_be(&tmp, vip, cb))
			found = 1;
	}
	assert_true(found);
	found = 0;
	for (i = 2; i < 250 && !found; i++) {
		snprintf(oth, sizeof(oth), pp->v6 ? "2001:db8:c:%x::1" : "198.18.%d.1", i);
		pt_addr(oth, co);
		if (pt_expect_be(e, vip, co) != pt_expect_be(e, vip, ca))
			found = 1;
	}
	assert_true(found);

	{
		const char *cl[3] = { a, b, oth };
		__u32 got[3];

		for (i = 0; i < 3; i++) {
			struct pspec p = { .src = cl[i],
					   .dst = pp->v6 ? "2001:db8::40" : "192.0.2.40",
					   .proto = IPPROTO_TCP, .sport = 5000,
					   .dport = 80, .flags = 0x02 };
			__be32 addr[4];
			size_t inlen = pb_frame(&p, in), elen;
			int v;

			pt_addr(cl[i], addr);
			got[i] = pt_expect_be(e, vip, addr);
			v = pt_run(e, in, (__u32)inlen, out, &outlen);
			if (v != XDP_TX)
				fail_msg("client %s: verdict %d", cl[i], v);
			elen = pt_expect_fwd(e, vip, got[i], in, inlen, out, outlen, exp);
			pt_assert_bytes(cl[i], exp, elen, out, outlen);
		}
		be_a = got[0];
		be_b = got[1];
		be_o = got[2];
	}
	if (be_a != be_b)
		fail_msg("clients %s and %s in one prefix got backends %u and %u", a,
			 b, be_a, be_b);
	assert_int_not_equal(be_a, be_o);
}

static const struct frag_param fr_v4 = { 0 }, fr_v4_vlan = { .vlan = true },
				fr_v6 = { .v6 = true },
				fr_v6_hbh = { .v6 = true, .hbh = true, .vlan = true },
				fr_v6_dst = { .v6 = true, .dst_after = true };
static const struct icmp_param ic_v4 = { false }, ic_v6 = { true };
static const struct prefix_param pf_v4 = { false }, pf_v6 = { true };

int pt_tests_fwd(struct CMUnitTest *t, int max)
{
	static char names[sizeof(cases) / sizeof(cases[0])][128];
	int n = 0;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]) && n < max; i++) {
		snprintf(names[i], sizeof(names[i]), "fwd: %s", cases[i].name);
		t[n++] = (struct CMUnitTest){ names[i], run_case, pt_setup_std,
					      pt_teardown_env, (void *)&cases[i] };
	}
#define ADD(nm, fn, prm)                                                        \
	if (n < max)                                                          \
		t[n++] = (struct CMUnitTest){ nm, fn, pt_setup_std,           \
					      pt_teardown_env, (void *)(prm) }
	ADD("frag: v4 first/middle/last to the address hash", test_fragments, &fr_v4);
	ADD("frag: v4 fragments with vlan", test_fragments, &fr_v4_vlan);
	ADD("frag: v6 first/middle/last to the address hash", test_fragments, &fr_v6);
	ADD("frag: v6 fragments after hop-by-hop, vlan", test_fragments, &fr_v6_hbh);
	ADD("frag: v6 fragments with dest options after the fragment header",
	    test_fragments, &fr_v6_dst);
	ADD("icmp: frag-needed follows the flow entry", test_icmp_via_flow, &ic_v4);
	ADD("icmp6: packet-too-big follows the flow entry", test_icmp_via_flow, &ic_v6);
	ADD("prefix: v4 /24 clients share a backend", test_src_prefix, &pf_v4);
	ADD("prefix: v6 /64 clients share a backend", test_src_prefix, &pf_v6);
#undef ADD
	return n;
}
