// SPDX-License-Identifier: GPL-2.0
/*
 * test_trunc.c - truncated and inconsistent VIP packets never leave as
 * XDP_TX/XDP_REDIRECT. For every base packet and every length from 0 to
 * full-1:
 *   - frame cut (IP length fields as before): XDP_PASS unchanged, or
 *     XDP_DROP counted DROP_MALFORMED, or DROP_FRAG_SHORT for a first
 *     fragment without its ports (only PASS when the VIP has no fragment
 *     alias to recognise the address by);
 *   - frame cut and IP length fields fixed up to the cut: a shorter
 *     datagram; forwarded only if its transport header is complete;
 *   - frame kept, IP length field cut (the rest is Ethernet padding):
 *     the same rule, the transport header must lie inside the datagram.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"

#define CL4 "203.0.113.5"
#define CL6 "2001:db8:c::5"

static const struct pspec emb_a = { .src = "192.0.2.10", .dst = CL4,
				    .proto = IPPROTO_TCP, .sport = 80,
				    .dport = 40000, .flags = 0x18, .dlen = 60 };
static const struct pspec emb_b = { .src = "2001:db8::10", .dst = CL6,
				    .proto = IPPROTO_TCP, .sport = 443,
				    .dport = 40001, .flags = 0x18, .dlen = 60 };

struct tbase {
	const char *name;
	struct pspec p;
	bool alias; /* the VIP has a fragment alias (malformed -> DROP) */
	/*
	 * Bytes of the IP datagram that must be present for forwarding to be
	 * acceptable (IP header(s) + transport header, or for ICMP errors
	 * through the quoted ports, or for first fragments through the ports).
	 */
	__u16 need;
	bool first_frag; /* DROP_FRAG_SHORT as good a reason as DROP_MALFORMED */
};

static const struct tbase bases[] = {
	{ "v4 tcp",
	  { .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20 },
	  true, 20 + 20, false },
	{ "v4 udp",
	  { .src = CL4, .dst = "192.0.2.20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 20 },
	  true, 20 + 8, false },
	{ "v4 tcp vlan",
	  { .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .tpid = 0x8100, .tci = 9 },
	  true, 20 + 20, false },
	{ "v4 tcp options",
	  { .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .optlen = 12 },
	  true, 32 + 20, false },
	{ "v4 tcp l2dsr",
	  { .src = CL4, .dst = "192.0.2.30", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20 },
	  true, 20 + 20, false },
	{ "v4 tcp, VIP without alias",
	  { .src = CL4, .dst = "192.0.2.40", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20 },
	  false, 20 + 20, false },
	{ "v6 tcp",
	  { .src = CL6, .dst = "2001:db8::10", .proto = IPPROTO_TCP, .sport = 40001,
	    .dport = 443, .flags = 0x10, .dlen = 20 },
	  true, 40 + 20, false },
	{ "v6 udp vlan",
	  { .src = CL6, .dst = "2001:db8::20", .proto = IPPROTO_UDP, .sport = 5353,
	    .dport = 53, .dlen = 20, .tpid = 0x8100, .tci = 3 },
	  true, 40 + 8, false },
	{ "v6 tcp ext chain",
	  { .src = CL6, .dst = "2001:db8::10", .proto = IPPROTO_TCP, .sport = 40001,
	    .dport = 443, .flags = 0x10, .dlen = 20,
	    .ext = { NH_HOPOPTS, NH_DSTOPTS, NH_ROUTING }, .extlen = { 0, 1, 0 },
	    .next = 3 },
	  true, 40 + 32 + 20, false },
	{ "v6 tcp, VIP without alias",
	  { .src = CL6, .dst = "2001:db8::40", .proto = IPPROTO_TCP, .sport = 40001,
	    .dport = 80, .flags = 0x10, .dlen = 20 },
	  false, 40 + 20, false },
	{ "v4 icmp frag-needed",
	  { .src = "198.18.0.1", .dst = "192.0.2.10", .proto = IPPROTO_ICMP,
	    .itype = 3, .icode = 4, .irest = 1400, .emb = &emb_a, .emb_len = 48 },
	  true, 20 + 8 + 20 + 8, false },
	{ "v6 icmp6 packet-too-big",
	  { .src = "2001:db8:ff::1", .dst = "2001:db8::10", .proto = IPPROTO_ICMPV6,
	    .itype = 2, .irest = 1280, .emb = &emb_b, .emb_len = 64 },
	  true, 40 + 8 + 40 + 8, false },
	{ "v4 first fragment",
	  { .src = CL4, .dst = "192.0.2.10", .proto = IPPROTO_TCP, .sport = 40000,
	    .dport = 80, .flags = 0x10, .dlen = 20, .frag = 0x2000 },
	  true, 20 + 8, true },
	{ "v6 first fragment",
	  { .src = CL6, .dst = "2001:db8::10", .proto = IPPROTO_TCP, .sport = 40001,
	    .dport = 443, .flags = 0x10, .dlen = 20, .ext = { NH_FRAGMENT },
	    .next = 1, .v6frag = 1 },
	  true, 48 + 8, true },
};

#define NBASES (sizeof(bases) / sizeof(bases[0]))

/* Sets the IP length field to cover iplen bytes (and the v4 checksum). */
static void set_ip_len(__u8 *ip, size_t iplen)
{
	if ((ip[0] >> 4) == 4) {
		put16(ip + 2, (__u16)iplen);
		put16(ip + 10, 0);
		put16(ip + 10, pb_csum(ip, (ip[0] & 0xf) * 4u, 0));
	} else {
		put16(ip + 4, (__u16)(iplen - 40));
	}
}

/* Minimum IP length field value a header chain needs (IPv4 IHL / 40). */
static size_t ip_hdr_min(const __u8 *ip)
{
	return (ip[0] >> 4) == 4 ? (ip[0] & 0xfu) * 4 : 40;
}

enum tmode { T_CUT, T_CUT_FIXED, T_PADDED };

struct tparam {
	enum tmode mode;
};

/*
 * Runs one variant over every base and length. Returns the number of
 * violations (each reported with print_message).
 */
static int run_mode(struct pt_env *e, enum tmode mode)
{
	static __u8 full[PT_BUF], in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	int reported[NBASES] = { 0 };
	int bad = 0;
	size_t b;

	for (b = 0; b < NBASES; b++) {
		const struct tbase *tb = &bases[b];
		size_t flen = pb_frame(&tb->p, full), len, l2;
		__u16 type;

		l2 = pb_l2_len(full, flen, &type);
		for (len = 0; len < flen; len++) {
			__u64 before[XLB_STAT_MAX], after[XLB_STAT_MAX];
			__u32 outlen = 0, ret = 0;
			size_t iplen = len > l2 ? len - l2 : 0, runlen = len;
			bool fwd_ok;
			int err, i;

			memcpy(in, full, flen);
			if (mode != T_CUT) {
				/* Only cuts past the IP header make a datagram. */
				if (len < l2 || iplen < ip_hdr_min(full + l2))
					continue;
				set_ip_len(in + l2, iplen);
				if (mode == T_PADDED)
					runlen = flen;
			}
			pt_stats_all(e, before);
			err = pt_run_fd(e->prog, e->ifindex, in, (__u32)runlen, out,
					&outlen, &ret);
			if (runlen < 14) {
				/* The kernel refuses frames shorter than Ethernet. */
				if (err != -EINVAL) {
					print_message("# %s len %zu: test run gave %d, expected -EINVAL\n",
						      tb->name, runlen, err);
					bad++;
				}
				continue;
			}
			if (err)
				fail_msg("%s len %zu: test run: %s", tb->name, runlen,
					 strerror(-err));
			pt_stats_all(e, after);
			/* A shorter datagram is fine once the L4 header is whole. */
			fwd_ok = mode != T_CUT && iplen >= tb->need;
			if (ret == XDP_PASS) {
				if (outlen != runlen || memcmp(in, out, runlen)) {
					print_message("# %s len %zu: XDP_PASS changed the packet\n",
						      tb->name, len);
					bad++;
				}
				continue;
			}
			if (ret == XDP_DROP) {
				__u32 why = XLB_STAT_DROP_MALFORMED;
				__u64 m;

				if (tb->first_frag &&
				    after[why] == before[why])
					why = XLB_STAT_DROP_FRAG_SHORT;
				m = after[why] - before[why];
				if (m != 1) {
					print_message("# %s len %zu: XDP_DROP without DROP_MALFORMED%s\n",
						      tb->name, len,
						      tb->first_frag ? " or DROP_FRAG_SHORT" : "");
					bad++;
				} else if (!tb->alias) {
					print_message("# %s len %zu: dropped although the VIP has no alias\n",
						      tb->name, len);
					bad++;
				}
				for (i = XLB_STAT_DROP_FIRST; i < XLB_STAT_MAX; i++)
					if ((__u32)i != why && after[i] != before[i]) {
						print_message("# %s len %zu: %s counted\n",
							      tb->name, len, pt_stat_name(i));
						bad++;
					}
				continue;
			}
			if (ret == XDP_TX && fwd_ok) {
				/* Forwarded whole: check the exact bytes. */
				__be32 cl[4];
				__u32 vip = 0, be, v;
				size_t elen;

				for (v = 1; v < PT_MAX_VIP; v++)
					if (e->vip[v].used &&
					    !memcmp(e->vip[v].key.addr,
						    (type == 0x0800) ? (const void *)(in + l2 + 16)
								     : (const void *)(in + l2 + 24),
						    type == 0x0800 ? 4 : 16))
						vip = v;
				assert_int_not_equal(vip, 0);
				pt_addr(tb->p.itype ? CL4 : tb->p.src, cl);
				if (tb->p.itype && type == 0x86dd)
					pt_addr(CL6, cl);
				be = pt_expect_be(e, vip, cl);
				elen = pt_expect_fwd(e, vip, be, in, runlen, out, outlen, exp);
				if (elen != outlen || memcmp(exp, out, elen)) {
					pt_diff(tb->name, exp, elen, out, outlen);
					print_message("# %s len %zu: forwarded bytes wrong\n",
						      tb->name, len);
					bad++;
				}
				continue;
			}
			bad++;
			if (reported[b]++)
				continue;
			print_message("# %s: %s %zu of %zu bytes: verdict %u (%s)%s\n",
				      tb->name,
				      mode == T_CUT ? "frame cut to" :
				      mode == T_CUT_FIXED ? "frame and IP length cut to" :
							  "IP length cut, padded frame, datagram",
				      mode == T_PADDED ? iplen : len,
				      mode == T_PADDED ? flen - l2 : flen, ret,
				      ret == XDP_TX ? "XDP_TX of a truncated packet" :
						      "unexpected verdict",
				      " (first of this base)");
		}
	}
	return bad;
}

static void test_trunc(void **state)
{
	struct pt_ctx *c = *state;
	const struct tparam *tp = c->param;
	int bad = run_mode(c->e, tp->mode);

	if (bad)
		fail_msg("%d truncated/inconsistent packets mishandled", bad);
}

static const struct tparam p_cut = { T_CUT }, p_fixed = { T_CUT_FIXED },
			   p_padded = { T_PADDED };

int pt_tests_trunc(struct CMUnitTest *t, int max)
{
	int n = 0;

	if (n < max)
		t[n++] = (struct CMUnitTest){ "trunc: frame cut at every length",
					      test_trunc, pt_setup_std,
					      pt_teardown_env, (void *)&p_cut };
	if (n < max)
		t[n++] = (struct CMUnitTest){
			"trunc: frame and IP length cut at every length", test_trunc,
			pt_setup_std, pt_teardown_env, (void *)&p_fixed
		};
	if (n < max)
		t[n++] = (struct CMUnitTest){
			"trunc: IP length cut, rest as padding",
			test_trunc, pt_setup_std, pt_teardown_env, (void *)&p_padded
		};
	return n;
}
