// SPDX-License-Identifier: GPL-2.0
/*
 * test_hash.c - unit tests of the flow table's keyed hash (xlb_hash.h),
 * which the data path and the controller share: how evenly it spreads
 * the flows a balancer sees over the sets, that every bit of a flow key
 * and either half of the seed matter, and what its tags may never be. No
 * privileges needed.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "xlb.h"
#include "xlb_hash.h"

#define SETS 65536

static const __u64 seed[2] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};

/* Flow n of a VIP: clients in 198.18.0.0/15 or 2001:db8::/32, ports. */
static void flow(struct xlb_flow_key *k, __u32 n, int v6, __u32 clients)
{
	memset(k, 0, sizeof(*k));
	k->sport = htons((__u16)(32768 + n / clients));
	k->dport = htons(443);
	k->proto = IPPROTO_TCP;
	if (!v6) {
		k->family = XLB_AF_INET;
		k->src[0] = htonl(0xc6120000 | (n % clients));
		k->dst[0] = htonl(0xcb00710a); /* 203.0.113.10 */
		return;
	}
	k->family = XLB_AF_INET6;
	k->src[0] = htonl(0x20010db8);
	k->src[3] = htonl(n % clients);
	k->dst[0] = htonl(0x20010db8);
	k->dst[3] = htonl(0x10);
}

/*
 * Sets as a uniform hash fills them: at one flow per set (a quarter of
 * the table's ways) a set holds k flows with probability e^-1 / k!, so
 * 36.8 % are empty and 0.37 % hold five or more (one is then replaced
 * early). Clients and ports as a balancer sees them: many sources, few
 * ports each; and one NAT address with every port.
 */
static void spread(int v6, __u32 clients)
{
	static __u8 load[SETS];
	struct xlb_flow_key k;
	__u32 n, empty = 0, over = 0, max = 0;

	memset(load, 0, sizeof(load));
	for (n = 0; n < SETS; n++) {
		flow(&k, n, v6, clients);
		load[xlb_flow_set_of(xlb_flow_hash(seed, &k), SETS)]++;
	}
	for (n = 0; n < SETS; n++) {
		empty += !load[n];
		over += load[n] >= 5;
		max = load[n] > max ? load[n] : max;
	}
	print_message(
	    "v%d, %u clients: %.2f %% empty, %.3f %% hold 5+, most %u\n",
	    v6 ? 6 : 4, clients, 100.0 * empty / SETS, 100.0 * over / SETS,
	    max);
	assert_true(fabs((double)empty / SETS - exp(-1)) < 0.01);
	assert_true((double)over / SETS < 0.006);
	assert_true(max <= 10);
}

static void t_spread_v4_many(void **state)
{
	spread(0, 16384);
}

static void t_spread_v4_nat(void **state)
{
	spread(0, 1);
}

static void t_spread_v6_many(void **state)
{
	spread(1, 16384);
}

static void t_spread_v6_nat(void **state)
{
	spread(1, 1);
}

static int popcount64(__u64 x)
{
	return __builtin_popcountll(x);
}

/*
 * Flipping any one bit of a flow key changes about half the hash's bits,
 * so every field reaches the set and the tag.
 */
static void t_avalanche(void **state)
{
	struct xlb_flow_key k, f;
	__u64 h, sum = 0, worst = 64;
	__u32 n, bit, samples = 0;

	for (n = 0; n < 64; n++) {
		flow(&k, n * 7919, n & 1, 4096);
		h = xlb_flow_hash(seed, &k);
		/* Up to the family byte: the pad is always zero. */
		for (bit = 0;
		     bit < 8 * (offsetof(struct xlb_flow_key, family) + 1);
		     bit++) {
			__u64 d;

			f = k;
			((__u8 *)&f)[bit / 8] ^= 1 << (bit % 8);
			d = popcount64(h ^ xlb_flow_hash(seed, &f));
			sum += d;
			worst = d < worst ? d : worst;
			samples++;
		}
	}
	print_message(
	    "key bit flips: mean %.2f of 64 hash bits change, fewest %llu\n",
	    (double)sum / samples, (unsigned long long)worst);
	assert_true(fabs((double)sum / samples - 32) < 1.0);
	assert_true(worst >= 12);
}

/*
 * Another seed places the same flows in other sets, whichever half of it
 * differs: the first is mixed into the key, the second makes the
 * multipliers.
 */
static void seed_moves(const __u64 other[2])
{
	struct xlb_flow_key k;
	__u32 n, same = 0;

	for (n = 0; n < SETS; n++) {
		flow(&k, n, n & 1, 4096);
		same += xlb_flow_set_of(xlb_flow_hash(seed, &k), SETS) ==
			xlb_flow_set_of(xlb_flow_hash(other, &k), SETS);
	}
	/* By chance, about one in SETS. */
	assert_true(same < 16);
}

static void t_seed_moves(void **state)
{
	const __u64 first[2] = {seed[0] ^ 0x9e3779b97f4a7c15ULL, seed[1]};
	const __u64 second[2] = {seed[0], seed[1] ^ 0x9e3779b97f4a7c14ULL};

	seed_moves(first);
	seed_moves(second);
}

/* A tag is never 0 (an empty way) nor XLB_FLOW_BUSY. */
static void t_tags(void **state)
{
	assert_int_not_equal(xlb_flow_tag(0), 0);
	assert_int_not_equal(xlb_flow_tag(XLB_FLOW_BUSY), XLB_FLOW_BUSY);
	assert_int_not_equal(xlb_flow_tag(~0ULL), 0);
	assert_int_equal(xlb_flow_tag(0x1234) & 1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_spread_v4_many),
	    cmocka_unit_test(t_spread_v4_nat),
	    cmocka_unit_test(t_spread_v6_many),
	    cmocka_unit_test(t_spread_v6_nat),
	    cmocka_unit_test(t_avalanche),
	    cmocka_unit_test(t_seed_moves),
	    cmocka_unit_test(t_tags),
	};

	return cmocka_run_group_tests_name("flow hash", tests, NULL, NULL);
}
