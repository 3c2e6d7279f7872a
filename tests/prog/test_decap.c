// SPDX-License-Identifier: GPL-2.0
/*
 * test_decap.c - xlb_decap, the backend-side program: IPIP, IP6IP6, 4in6
 * and 6in4 addressed to a local address from a source inside the --from
 * prefixes leave as XDP_PASS with the outer header gone and the Ethernet
 * type of the inner family (VLAN tag kept); from any other source they
 * are dropped and counted (drop_source); everything else is passed
 * unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "harness.h"
#include "pkt.h"
#include "decap.skel.h"

#define LOCAL4_A "10.1.0.1"
#define LOCAL4_B "10.1.0.2"
#define LOCAL6 "2001:db8:1::5"
/* The balancers: --from 198.51.100.0/24 192.0.2.77 2001:db8:100::/48 2001:db8:7::7 */
#define LB4 "198.51.100.1"
#define LB4_HOST "192.0.2.77"
#define LB6 "2001:db8:100::1"
#define LB6_HOST "2001:db8:7::7"

static const __u8 mac_be[6] = { 2, 0xbe, 0, 0, 0, 1 };
static const __u8 mac_lb[6] = { 2, 0x1b, 0, 0, 0, 1 };

/* Loads xlb_decap with the local addresses above; NULL on failure. */
void *pt_decap_open(int *prog_fd);
void pt_decap_close(void *skel);

static void from_set(volatile struct xlb_decap_prefix *p, int af, const char *a,
		     unsigned int plen)
{
	__u8 *m = (__u8 *)p->mask;
	unsigned int i;

	memset((void *)p, 0, sizeof(*p));
	inet_pton(af, a, (void *)p->addr);
	for (i = 0; i < plen; i++)
		m[i / 8] |= (__u8)(0x80 >> (i % 8));
}

/* With v6 false, no IPv6 prefix: every IPv6 outer source is refused. */
static void *decap_open(int *prog_fd, bool v6)
{
	struct decap_bpf *skel = decap_bpf__open();

	if (!skel)
		return NULL;
	inet_pton(AF_INET, LOCAL4_A, (void *)&skel->rodata->local4[0]);
	inet_pton(AF_INET, LOCAL4_B, (void *)&skel->rodata->local4[1]);
	skel->rodata->n_local4 = 2;
	inet_pton(AF_INET6, LOCAL6, (void *)skel->rodata->local6[0]);
	skel->rodata->n_local6 = 1;
	from_set(&skel->rodata->from4[0], AF_INET, "198.51.100.0", 24);
	from_set(&skel->rodata->from4[1], AF_INET, LB4_HOST, 32);
	skel->rodata->n_from4 = 2;
	if (v6) {
		from_set(&skel->rodata->from6[0], AF_INET6, "2001:db8:100::", 48);
		from_set(&skel->rodata->from6[1], AF_INET6, LB6_HOST, 128);
		skel->rodata->n_from6 = 2;
	}
	if (decap_bpf__load(skel)) {
		decap_bpf__destroy(skel);
		return NULL;
	}
	*prog_fd = bpf_program__fd(skel->progs.xlb_decap);
	return skel;
}

void *pt_decap_open(int *prog_fd)
{
	return decap_open(prog_fd, true);
}

void pt_decap_close(void *skel)
{
	decap_bpf__destroy(skel);
}

/* An encapsulated frame, as xlb_main would send it to a backend. */
struct dspec {
	const char *name;
	__u16 tpid, tci;
	bool outer6;
	const char *odst;
	const char *osrc; /* outer source; NULL: LB4 or LB6 */
	__u8 proto; /* outer protocol / next header; 0 = by inner family */
	__u16 frag; /* outer IPv4 frag_off */
	__u8 optlen; /* outer IPv4 options */
	bool v6frag; /* outer IPv6 fragment header before the inner */
	int len_adj; /* added to the outer length field */
	struct pspec inner;
	bool strip; /* expected: decapsulated */
	bool drop; /* expected: dropped for its outer source */
	bool no_from6; /* loaded without IPv6 prefixes */
};

static size_t build_encap(const struct dspec *d, __u8 *o, size_t *l2_out,
			  size_t *hlen_out)
{
	static __u8 inner[PT_BUF];
	size_t ilen = pb_ip(&d->inner, inner), l2, h;
	bool in6 = (inner[0] >> 4) == 6;
	__u8 proto = d->proto ? d->proto : (in6 ? IPPROTO_IPV6 : IPPROTO_IPIP);
	__u8 *ip;
	int i;

	l2 = pb_l2(o, mac_be, mac_lb, d->tpid, d->tci, d->outer6 ? 0x86dd : 0x0800);
	ip = o + l2;
	if (!d->outer6) {
		h = 20 + d->optlen;
		ip[0] = 0x40 | (__u8)(h / 4);
		ip[1] = 0;
		put16(ip + 2, (__u16)(h + ilen + d->len_adj));
		put16(ip + 4, 0);
		put16(ip + 6, d->frag);
		ip[8] = 64;
		ip[9] = proto;
		put16(ip + 10, 0);
		inet_pton(AF_INET, d->osrc ? d->osrc : LB4, ip + 12);
		inet_pton(AF_INET, d->odst, ip + 16);
		for (i = 0; i < d->optlen; i++)
			ip[20 + i] = 1;
		put16(ip + 10, pb_csum(ip, h, 0));
	} else {
		h = 40 + (d->v6frag ? 8 : 0);
		put32(ip, 0x60000000);
		put16(ip + 4, (__u16)(h - 40 + ilen + d->len_adj));
		ip[6] = d->v6frag ? NH_FRAGMENT : proto;
		ip[7] = 64;
		inet_pton(AF_INET6, d->osrc ? d->osrc : LB6, ip + 8);
		inet_pton(AF_INET6, d->odst, ip + 24);
		if (d->v6frag) {
			ip[40] = proto;
			ip[41] = 0;
			put16(ip + 42, 1); /* first fragment, M set */
			put32(ip + 44, 77);
		}
	}
	memcpy(ip + h, inner, ilen);
	*l2_out = l2;
	*hlen_out = h;
	return l2 + h + ilen;
}

/* Expected decapsulation: same L2 (tag kept), inner type, inner bytes. */
static size_t expect_decap(const __u8 *in, size_t len, size_t l2, size_t hlen,
			   __u8 *exp)
{
	bool in6 = (in[l2 + hlen] >> 4) == 6;

	memcpy(exp, in, l2);
	put16(exp + l2 - 2, in6 ? 0x86dd : 0x0800);
	memcpy(exp + l2, in + l2 + hlen, len - l2 - hlen);
	return len - hlen;
}

#define IN4 { .src = "203.0.113.5", .dst = "192.0.2.10", .proto = IPPROTO_TCP, \
	      .sport = 40000, .dport = 80, .flags = 0x10, .dlen = 30, .frag = 0x4000 }
#define IN6 { .src = "2001:db8:c::5", .dst = "2001:db8::10", .proto = IPPROTO_TCP, \
	      .sport = 40001, .dport = 443, .flags = 0x10, .dlen = 30 }

static const struct dspec dcases[] = {
	{ "ipip to a local address", .odst = LOCAL4_A, .inner = IN4, .strip = true },
	{ "ipip to the second local address, vlan", .odst = LOCAL4_B, .tpid = 0x8100,
	  .tci = 0x64, .inner = IN4, .strip = true },
	{ "ipip, outer with options", .odst = LOCAL4_A, .optlen = 8, .inner = IN4,
	  .strip = true },
	{ "ipip, outer DF set", .odst = LOCAL4_A, .frag = 0x4000, .inner = IN4,
	  .strip = true },
	{ "ip6ip6 to a local address", .outer6 = true, .odst = LOCAL6, .inner = IN6,
	  .strip = true },
	{ "ip6ip6, vlan", .outer6 = true, .odst = LOCAL6, .tpid = 0x8100, .tci = 7,
	  .inner = IN6, .strip = true },
	{ "4in6 to a local address", .outer6 = true, .odst = LOCAL6, .inner = IN4,
	  .strip = true },
	{ "4in6, 802.1ad tag", .outer6 = true, .odst = LOCAL6, .tpid = 0x88a8,
	  .tci = 3, .inner = IN4, .strip = true },
	{ "6in4 to a local address", .odst = LOCAL4_A, .inner = IN6, .strip = true },
	{ "6in4, vlan", .odst = LOCAL4_B, .tpid = 0x8100, .tci = 9, .inner = IN6,
	  .strip = true },
	{ "unchanged: ipip not to a local address", .odst = "10.1.0.99", .inner = IN4 },
	{ "unchanged: ip6ip6 not to a local address", .outer6 = true,
	  .odst = "2001:db8:1::99", .inner = IN6 },
	{ "unchanged: 6in4 not local, vlan", .odst = "10.1.0.3", .tpid = 0x8100,
	  .tci = 1, .inner = IN6 },
	{ "unchanged: outer protocol GRE", .odst = LOCAL4_A, .proto = 47, .inner = IN4 },
	{ "unchanged: outer v6 next header UDP", .outer6 = true, .odst = LOCAL6,
	  .proto = IPPROTO_UDP, .inner = IN4 },
	{ "unchanged: ipip announcing IPv4, inner is IPv6", .odst = LOCAL4_A,
	  .proto = IPPROTO_IPIP, .inner = IN6 },
	{ "unchanged: 6in4 announcing IPv6, inner is IPv4", .odst = LOCAL4_A,
	  .proto = IPPROTO_IPV6, .inner = IN4 },
	{ "unchanged: outer first fragment (MF)", .odst = LOCAL4_A, .frag = 0x2000,
	  .inner = IN4 },
	{ "unchanged: outer last fragment (offset)", .odst = LOCAL4_A, .frag = 0x00b9,
	  .inner = IN4 },
	{ "unchanged: outer v6 fragment header", .outer6 = true, .odst = LOCAL6,
	  .v6frag = true, .inner = IN4 },
	{ "ipip from a --from host (/32)", .odst = LOCAL4_A, .osrc = LB4_HOST,
	  .inner = IN4, .strip = true },
	{ "6in4 from the last address of a --from /24", .odst = LOCAL4_B,
	  .osrc = "198.51.100.255", .inner = IN6, .strip = true },
	{ "ip6ip6 from a --from host (/128)", .outer6 = true, .odst = LOCAL6,
	  .osrc = LB6_HOST, .inner = IN6, .strip = true },
	{ "4in6 from inside a --from /48", .outer6 = true, .odst = LOCAL6,
	  .osrc = "2001:db8:100:ffff::9", .inner = IN4, .strip = true },
	{ "dropped: ipip from outside every --from", .odst = LOCAL4_A,
	  .osrc = "203.0.113.66", .inner = IN4, .drop = true },
	{ "dropped: ipip from just past a --from /24", .odst = LOCAL4_A,
	  .osrc = "198.51.101.1", .inner = IN4, .drop = true },
	{ "dropped: 6in4 from next to a --from /32, vlan", .odst = LOCAL4_B,
	  .osrc = "192.0.2.78", .tpid = 0x8100, .tci = 9, .inner = IN6, .drop = true },
	{ "dropped: ip6ip6 from just past a --from /48", .outer6 = true,
	  .odst = LOCAL6, .osrc = "2001:db8:101::1", .inner = IN6, .drop = true },
	{ "dropped: 4in6 from next to a --from /128", .outer6 = true, .odst = LOCAL6,
	  .osrc = "2001:db8:7::6", .inner = IN4, .drop = true },
	{ "dropped: ip6ip6 when no IPv6 prefix was given", .outer6 = true,
	  .odst = LOCAL6, .inner = IN6, .drop = true, .no_from6 = true },
	{ "ipip when no IPv6 prefix was given", .odst = LOCAL4_A, .inner = IN4,
	  .strip = true, .no_from6 = true },
	{ "dropped: ipip with a bad inner header from outside", .odst = LOCAL4_A,
	  .osrc = "203.0.113.66", .proto = IPPROTO_IPIP, .inner = IN6, .drop = true },
	{ "unchanged: ipip from outside, not to a local address", .odst = "10.1.0.99",
	  .osrc = "203.0.113.66", .inner = IN4 },
	{ "unchanged: GRE from outside to a local address", .odst = LOCAL4_A,
	  .osrc = "203.0.113.66", .proto = 47, .inner = IN4 },
};

#define NDCASES (sizeof(dcases) / sizeof(dcases[0]))

struct dctx {
	struct decap_bpf *skel;
	int prog;
	const void *param;
};

static int setup_decap(void **state)
{
	struct dctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->param = *state;
	c->skel = decap_open(&c->prog, !(c->param &&
					 ((const struct dspec *)c->param)->no_from6));
	if (!c->skel)
		fail_msg("loading xlb_decap failed (run with -v)");
	*state = c;
	return 0;
}

static int teardown_decap(void **state)
{
	struct dctx *c = *state;

	if (c) {
		pt_decap_close(c->skel);
		free(c);
	}
	return 0;
}

static int run_decap(int prog, const __u8 *in, size_t len, __u8 *out,
		     __u32 *outlen)
{
	__u32 ret = 0;
	int err = pt_run_fd(prog, PT_IFINDEX_LO, in, (__u32)len, out, outlen, &ret);

	if (err)
		fail_msg("test run of xlb_decap (len %zu): %s", len, strerror(-err));
	return (int)ret;
}

/* Counter s of the program's xlb_decap_stats, summed over the CPUs. */
static __u64 decap_stat(struct dctx *c, enum xlb_decap_stat s)
{
	static __u64 v[1024];
	__u32 k = s;
	__u64 sum = 0;
	int i, n = libbpf_num_possible_cpus();

	if (n < 1 || n > 1024 ||
	    bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.xlb_decap_stats), &k, v))
		fail_msg("can't read xlb_decap_stats[%d]", s);
	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

static void test_decap_case(void **state)
{
	struct dctx *c = *state;
	const struct dspec *d = c->param;
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	size_t l2, hlen, len = build_encap(d, in, &l2, &hlen), elen;
	__u64 dec0 = decap_stat(c, XLB_DECAP_STAT_DECAP);
	__u64 src0 = decap_stat(c, XLB_DECAP_STAT_DROP_SOURCE);
	__u32 outlen;
	int v = run_decap(c->prog, in, len, out, &outlen);

	if (d->drop) {
		if (v != XDP_DROP)
			fail_msg("%s: verdict %d, expected XDP_DROP", d->name, v);
		if (decap_stat(c, XLB_DECAP_STAT_DROP_SOURCE) != src0 + 1)
			fail_msg("%s: drop_source not counted", d->name);
		return;
	}
	if (v != XDP_PASS)
		fail_msg("%s: verdict %d, expected XDP_PASS", d->name, v);
	if (decap_stat(c, XLB_DECAP_STAT_DECAP) != dec0 + !!d->strip ||
	    decap_stat(c, XLB_DECAP_STAT_DROP_SOURCE) != src0)
		fail_msg("%s: decapsulated %llu, drop_source %llu times", d->name,
			 (unsigned long long)(decap_stat(c, XLB_DECAP_STAT_DECAP) - dec0),
			 (unsigned long long)(decap_stat(c, XLB_DECAP_STAT_DROP_SOURCE) -
					      src0));
	if (d->strip) {
		elen = expect_decap(in, len, l2, hlen, exp);
		pt_assert_bytes(d->name, exp, elen, out, outlen);
	} else {
		pt_assert_bytes(d->name, in, len, out, outlen);
	}
}

static void test_decap_arp(void **state)
{
	struct dctx *c = *state;
	static __u8 in[PT_BUF], out[PT_BUF];
	size_t len = pb_arp(in, "10.1.0.9", LOCAL4_A);
	__u32 outlen;

	assert_int_equal(run_decap(c->prog, in, len, out, &outlen), XDP_PASS);
	pt_assert_bytes("ARP", in, len, out, outlen);
}

/*
 * Truncated encapsulated frames: frames cut inside the L2 or outer header
 * (or with not even the inner version byte) are passed unchanged; frames
 * cut later make the outer length field exceed the frame, also passed
 * unchanged (the kernel then drops the truncated outer packet).
 */
static void test_decap_trunc(void **state)
{
	struct dctx *c = *state;
	static __u8 in[PT_BUF], out[PT_BUF];
	static const size_t pick[] = { 0, 1, 4, 5, 6, 7, 8, 9 };
	int hdr_bad = 0, len_bad = 0;
	size_t k;

	for (k = 0; k < sizeof(pick) / sizeof(pick[0]); k++) {
		const struct dspec *d = &dcases[pick[k]];
		size_t l2, hlen, full = build_encap(d, in, &l2, &hlen), len;

		for (len = 14; len < full; len++) {
			__u32 outlen;
			int v = run_decap(c->prog, in, len, out, &outlen);
			bool same = v == XDP_PASS && outlen == len && !memcmp(in, out, len);

			if (same)
				continue;
			if (v != XDP_PASS || len <= l2 + hlen) {
				print_message("# %s cut to %zu (outer header ends at %zu): verdict %d, %s\n",
					      d->name, len, l2 + hlen, v,
					      v == XDP_PASS ? "changed" : "not passed");
				hdr_bad++;
			} else {
				if (!len_bad)
					print_message("# %s cut to %zu of %zu: outer length exceeds the frame "
						      "but the outer header was stripped\n",
						      d->name, len, full);
				len_bad++;
			}
		}
	}
	if (hdr_bad)
		fail_msg("%d truncated frames not passed unchanged", hdr_bad);
	if (len_bad)
		fail_msg("%d truncated frames decapsulated", len_bad);
}

/*
 * Multi-buffer frames (a backend with a jumbo MTU): IPIP and IP6IP6 with
 * a 2500-byte inner datagram, split past the headers, decapsulated to the
 * bytes of the linear run, which are checked against expect_decap.
 */
static void test_decap_frags(void **state)
{
	struct dctx *c = *state;
	static const size_t pick[] = { 0, 4 };
	static const __u32 splits[] = { 120, 300, 1500 };
	static __u8 in[PT_BUF], out[PT_BUF], exp[PT_BUF];
	size_t k, i;

	for (k = 0; k < sizeof(pick) / sizeof(pick[0]); k++) {
		struct dspec d = dcases[pick[k]];
		size_t l2, hlen, len, elen;
		__u32 outlen, ret;
		char name[128];

		d.inner.dlen = 2500;
		len = build_encap(&d, in, &l2, &hlen);
		elen = expect_decap(in, len, l2, hlen, exp);
		assert_int_equal(run_decap(c->prog, in, len, out, &outlen), XDP_PASS);
		pt_assert_bytes(d.name, exp, elen, out, outlen);
		for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
			snprintf(name, sizeof(name), "%s, linear part %u of %zu",
				 d.name, splits[i], len);
			ret = 0;
			if (pt_run_fd_split(c->prog, PT_IFINDEX_LO, in, (__u32)len,
					    splits[i], out, &outlen, &ret))
				fail_msg("%s: BPF_PROG_TEST_RUN failed", name);
			if (ret != XDP_PASS)
				fail_msg("%s: verdict %u, expected XDP_PASS", name, ret);
			pt_assert_bytes(name, exp, elen, out, outlen);
		}
	}
}

int pt_tests_decap(struct CMUnitTest *t, int max)
{
	static char names[NDCASES][128];
	int n = 0;
	size_t i;

	for (i = 0; i < NDCASES && n < max; i++) {
		snprintf(names[i], sizeof(names[i]), "decap: %s", dcases[i].name);
		t[n++] = (struct CMUnitTest){ names[i], test_decap_case, setup_decap,
					      teardown_decap, (void *)&dcases[i] };
	}
	if (n < max)
		t[n++] = (struct CMUnitTest){ "decap: unchanged: ARP", test_decap_arp,
					      setup_decap, teardown_decap, NULL };
	if (n < max)
		t[n++] = (struct CMUnitTest){ "decap: multi-buffer frames decapsulated as when linear",
					      test_decap_frags, setup_decap,
					      teardown_decap, NULL };
	if (n < max)
		t[n++] = (struct CMUnitTest){ "decap: truncated frames passed unchanged",
					      test_decap_trunc, setup_decap,
					      teardown_decap, NULL };
	return n;
}
