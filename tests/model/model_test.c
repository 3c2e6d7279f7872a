// SPDX-License-Identifier: GPL-2.0
/*
 * model_test.c - the controller against the real data path: the library
 * commits VIPs into pinned maps (a per-run pin directory), and packets run
 * through the loaded XDP program with BPF_PROG_TEST_RUN.
 *  - lookup: for thousands of clients, `xlb lookup`'s computation (the
 *    shared hash + the live table) names the backend the program chose,
 *    with the primary UP and with it DOWN (secondary);
 *  - swaps: a thread commits a thousand table swaps (alternating two
 *    algorithms, so nearly every slot changes) while packets run; every
 *    packet is routed by the table of a generation that was live during
 *    its run, and no packet sees an older table after one saw a newer
 *    (which a slot-by-slot edit of a live table would show).
 * Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include "maps.h"
#include "model.h"
#include "util.h"
#include "xlb.skel.h"

#define NBACKENDS 10
#define NCLIENTS 4000
#define NSWAPS 1000

static char pin_dir[64];
static struct xlb_bpf *skel;
static struct xlb_maps maps;
static int prog_fd;

static const char *vip4 = "203.0.113.10:80/tcp";
static const char *vip6 = "[2001:db8:f::10]:443/tcp";

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

/* A TCP SYN from client to the VIP; returns the frame length. */
static size_t syn_packet(__u8 *buf, const struct xlb_addr *client,
			 const struct xlb_vip_key *k, __u16 sport)
{
	size_t l3 = ETH_HLEN, l4, len;
	__u8 *tcp;

	memset(buf, 0, 128);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (k->family == XLB_AF_INET) {
		buf[12] = 0x08;
		buf[13] = 0x00;
		buf[l3] = 0x45;
		buf[l3 + 3] = 40;
		buf[l3 + 8] = 64;
		buf[l3 + 9] = IPPROTO_TCP;
		memcpy(buf + l3 + 12, client->a, 4);
		memcpy(buf + l3 + 16, k->addr, 4);
		{
			/* The header checksum, which the data path checks. */
			__u32 sum = 0;
			int w;

			for (w = 0; w < 20; w += 2)
				sum += (__u32)buf[l3 + w] << 8 | buf[l3 + w + 1];
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			buf[l3 + 10] = (__u8)(~sum >> 8);
			buf[l3 + 11] = (__u8)~sum;
		}
		l4 = l3 + 20;
	} else {
		buf[12] = 0x86;
		buf[13] = 0xdd;
		buf[l3] = 0x60;
		buf[l3 + 5] = 20;
		buf[l3 + 6] = IPPROTO_TCP;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, client->a, 16);
		memcpy(buf + l3 + 24, k->addr, 16);
		l4 = l3 + 40;
	}
	tcp = buf + l4;
	tcp[0] = (__u8)(sport >> 8);
	tcp[1] = (__u8)sport;
	memcpy(tcp + 2, &k->port, 2);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02; /* SYN: always decided by the table */
	len = l4 + 20;
	return len;
}

/* Runs one packet; returns the outer destination's backend address. */
static int run_packet(const __u8 *in, size_t len, struct xlb_addr *dst)
{
	__u8 out[256];
	struct xdp_md ctx = { .data_end = (__u32)len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (o.retval != XDP_TX) {
		fprintf(stderr, "verdict %u\n", o.retval);
		return -EPROTO;
	}
	memset(dst, 0, sizeof(*dst));
	if (out[12] == 0x08 && out[13] == 0x00) {
		dst->family = XLB_AF_INET;
		memcpy(dst->a, out + ETH_HLEN + 16, 4);
	} else {
		dst->family = XLB_AF_INET6;
		memcpy(dst->a, out + ETH_HLEN + 24, 16);
	}
	return 0;
}

static const struct xlb_be_ent *be_of(const struct xlb_vip_ent *v, __u32 id)
{
	size_t i;

	for (i = 0; i < v->n_be; i++)
		if (v->be[i].id == id)
			return &v->be[i];
	return NULL;
}

static void random_client(struct xlb_addr *c, __u8 family, unsigned int *seed)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->family = family;
	if (family == XLB_AF_INET) {
		/* 198.18.0.0/15 */
		c->a[0] = htonl(0xc6120000U | (rand_r(seed) & 0x1ffff));
		return;
	}
	c->a[0] = htonl(0x20010db8);
	for (i = 1; i < 4; i++)
		c->a[i] = (__be32)rand_r(seed);
}

static int setup(void **state)
{
	struct xlb_model old, md;
	struct xlb_vip_ent *v;
	struct xlb_vip_key k;
	struct xlb_addr a;
	struct xlb_nexthop nh = { .ifindex = 1, .expires_ns = ~0ULL };
	__u32 id;
	char buf[64];
	int i;

	libbpf_set_print(quiet);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/xlbmt%d", getpid());
	if (xlb_pin_dir_prepare(pin_dir) || xlb_skel_load(pin_dir, 0, &skel)) {
		fprintf(stderr, "setup: %s\n", xlb_errmsg());
		return -1;
	}
	/* As attach: the device's MAC, the one syn_packet's frames go to. */
	memcpy(skel->bss->xlb_dev.mac, "\x02\x00\x00\x00\x00\x01", 6);
	prog_fd = bpf_program__fd(skel->progs.xlb_main);
	if (xlb_maps_open(pin_dir, &maps) || xlb_model_read(&maps, &old) ||
	    xlb_model_copy(&old, &md))
		return -1;
	md.cfg.seed[0] = 0x0123456789abcdefULL;
	md.cfg.seed[1] = 0xfedcba9876543210ULL;
	md.cfg.src4 = htonl(0xc0000201);
	inet_pton(AF_INET6, "2001:db8:1::1", md.cfg.src6);
	md.cfg.tcp_timeout_ns = 300ULL * 1000000000ULL;
	md.cfg.udp_timeout_ns = 30ULL * 1000000000ULL;
	md.cfg.nexthop_ttl_ns = 1000000000ULL;
	if (xlb_vip_parse(vip4, &k) || xlb_model_vip_add(&md, &k, &v))
		return -1;
	for (i = 0; i < NBACKENDS; i++) {
		snprintf(buf, sizeof(buf), "198.51.100.%d", 10 + i);
		if (xlb_addr_parse(buf, &a) || xlb_model_be_add(v, &a, 1 + i % 3, NULL))
			return -1;
	}
	if (xlb_vip_parse(vip6, &k) || xlb_model_vip_add(&md, &k, &v))
		return -1;
	v->algo = XLB_ALGO_RENDEZVOUS;
	v->table_size = 4099;
	v->v6_prefix = 64;
	for (i = 0; i < NBACKENDS; i++) {
		snprintf(buf, sizeof(buf), "2001:db8:b::%d", 10 + i);
		if (xlb_addr_parse(buf, &a) || xlb_model_be_add(v, &a, 1, NULL))
			return -1;
	}
	if (xlb_model_commit(&maps, &old, &md)) {
		fprintf(stderr, "commit: %s\n", xlb_errmsg());
		return -1;
	}
	/* The FIB is not under test here: a resolved next hop for everyone. */
	for (id = 0; id < 2 * NBACKENDS; id++)
		if (xlb_percpu_set(maps.nexthop, id, &nh, sizeof(nh)))
			return -1;
	xlb_model_free(&old);
	xlb_model_free(&md);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	xlb_maps_close(&maps);
	xlb_bpf__destroy(skel);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pin_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every client: the program's choice equals lookup's, UP and DOWN. */
static void check_lookup(const char *vs, bool down_first)
{
	const struct xlb_slot *t = NULL;
	struct xlb_model md;
	struct xlb_vip_ent *v;
	struct xlb_vip_key k;
	unsigned int seed = 42;
	__u8 pkt[128];
	__u32 down_id = XLB_ID_NONE, st = XLB_BE_DOWN, up = XLB_BE_UP;
	int i, mism = 0, sec = 0;

	assert_int_equal(xlb_vip_parse(vs, &k), 0);
	assert_int_equal(xlb_model_read(&maps, &md), 0);
	v = xlb_model_vip(&md, &k);
	assert_non_null(v);
	assert_int_equal(xlb_table_map_live(&maps, v, &t), 0);
	if (down_first) {
		/* The kernel-side flip alone, as the daemon does first. */
		down_id = v->be[0].id;
		assert_int_equal(bpf_map_update_elem(maps.state, &down_id, &st, 0), 0);
	}
	for (i = 0; i < NCLIENTS; i++) {
		struct xlb_addr c, got;
		const struct xlb_be_ent *want;
		__u32 s;

		random_client(&c, k.family, &seed);
		s = xlb_model_slot(&md.cfg, v, &c);
		want = be_of(v, t[s].primary);
		if (t[s].primary == down_id) {
			want = be_of(v, t[s].secondary);
			sec++;
		}
		assert_non_null(want);
		assert_int_equal(run_packet(pkt, syn_packet(pkt, &c, &k, (__u16)(1024 + i)),
					    &got), 0);
		if (xlb_addr_cmp(&got, &want->addr))
			mism++;
	}
	if (down_first) {
		assert_int_equal(bpf_map_update_elem(maps.state, &down_id, &up, 0), 0);
		assert_true(sec > 0);
	}
	xlb_table_unmap(t, v->table_size);
	xlb_model_free(&md);
	assert_int_equal(mism, 0);
}

static void test_lookup_v4(void **state)
{
	check_lookup(vip4, false);
}

static void test_lookup_v6(void **state)
{
	check_lookup(vip6, false);
}

static void test_lookup_v4_primary_down(void **state)
{
	check_lookup(vip4, true);
}

static void test_lookup_v6_primary_down(void **state)
{
	check_lookup(vip6, true);
}

/* Swap thread: commits alternate algorithms; generations are counted. */
static volatile int gen_started, gen_done, swap_err;
static struct xlb_slot *tables[2];
static __u32 swap_size;
static int nswaps, gap_ms;

static void *swapper(void *arg)
{
	struct xlb_vip_key *k = arg;
	int g;

	for (g = 1; g <= nswaps; g++) {
		if (gap_ms)
			usleep((useconds_t)gap_ms * 1000);
		struct xlb_model old, md;
		struct xlb_vip_ent *v;

		if (xlb_model_read(&maps, &old) || xlb_model_copy(&old, &md)) {
			swap_err = 1;
			break;
		}
		v = xlb_model_vip(&md, k);
		v->algo = (g & 1) ? XLB_ALGO_RING : XLB_ALGO_MAGLEV;
		__atomic_store_n(&gen_started, g, __ATOMIC_SEQ_CST);
		if (xlb_model_commit(&maps, &old, &md))
			swap_err = 1;
		__atomic_store_n(&gen_done, g, __ATOMIC_SEQ_CST);
		xlb_model_free(&old);
		xlb_model_free(&md);
		if (swap_err)
			break;
	}
	return NULL;
}

/* Inner map ids in the VIP's two table places (0 where empty). */
static void place_ids(__u32 vip_id, __u32 ids[2])
{
	__u32 a = xlb_table_index(vip_id, 0), b = xlb_table_index(vip_id, XLB_VIP_F_TABLE_B);

	ids[0] = ids[1] = 0;
	bpf_map_lookup_elem(maps.tables, &a, &ids[0]);
	bpf_map_lookup_elem(maps.tables, &b, &ids[1]);
}

static void run_swaps(int n, int gap)
{
	struct xlb_model md;
	struct xlb_vip_ent *v;
	struct xlb_vip_key k;
	unsigned int seed = 7;
	pthread_t th;
	__u8 pkt[128];
	long packets = 0, bad = 0, regress = 0, differ = 0;
	int floor_gen = 0, i;

	assert_int_equal(xlb_vip_parse(vip4, &k), 0);
	assert_int_equal(xlb_model_read(&maps, &md), 0);
	v = xlb_model_vip(&md, &k);
	/* The two tables the swaps alternate between (same ids throughout). */
	v->algo = XLB_ALGO_MAGLEV;
	assert_int_equal(xlb_model_table(&md, v, &tables[0]), 0);
	v->algo = XLB_ALGO_RING;
	assert_int_equal(xlb_model_table(&md, v, &tables[1]), 0);
	swap_size = v->table_size;
	for (i = 0; i < (int)swap_size; i++)
		differ += tables[0][i].primary != tables[1][i].primary;
	assert_true(differ > (long)swap_size / 2);

	gen_started = gen_done = 0;
	nswaps = n;
	gap_ms = gap;
	assert_int_equal(pthread_create(&th, NULL, swapper, &k), 0);
	while (__atomic_load_n(&gen_done, __ATOMIC_SEQ_CST) < nswaps && !swap_err &&
	       packets < 50000000) {
		struct xlb_addr c, got;
		const struct xlb_be_ent *b;
		int lo, hi, g, s, gmin = -1, gmax = -1;

		random_client(&c, XLB_AF_INET, &seed);
		s = (int)xlb_model_slot(&md.cfg, v, &c);
		lo = __atomic_load_n(&gen_done, __ATOMIC_SEQ_CST);
		if (run_packet(pkt, syn_packet(pkt, &c, &k, 4242), &got)) {
			bad++;
			break;
		}
		hi = __atomic_load_n(&gen_started, __ATOMIC_SEQ_CST);
		packets++;
		/* Generations live during the run: lo..hi; g uses tables[g & 1]. */
		for (g = lo; g <= hi; g++) {
			b = be_of(v, tables[g & 1][s].primary);
			if (b && !xlb_addr_cmp(&got, &b->addr)) {
				if (gmin < 0)
					gmin = g;
				gmax = g;
			}
		}
		if (gmin < 0) {
			bad++;
			continue;
		}
		/* A whole-table swap never shows an older table after a newer. */
		if (gmax < floor_gen) {
			regress++;
			continue;
		}
		if (gmin > floor_gen)
			floor_gen = gmin;
	}
	pthread_join(th, NULL);
	printf("      %d swaps (%d ms apart), %ld packets during them, %ld unexplained, %ld saw an older table after a newer\n",
	       gen_done, gap, packets, bad, regress);
	free(tables[0]);
	free(tables[1]);
	xlb_model_free(&md);
	assert_int_equal(swap_err, 0);
	assert_int_equal(gen_done, nswaps);
	assert_true(packets > nswaps);
	assert_int_equal(bad, 0);
	assert_int_equal(regress, 0);
}

/* Back to back: each new table goes into a fresh map (outer update). */
static void test_swaps_are_atomic(void **state)
{
	run_swaps(NSWAPS, 0);
}

/*
 * Spaced out: the idle place is refilled in place (no new map) — checked
 * by the inner map ids staying put — and packets still see whole tables.
 */
static void test_spaced_swaps_reuse_idle_table(void **state)
{
	struct xlb_vip_key k;
	struct xlb_model md;
	struct xlb_vip_ent *v;
	__u32 before[2], after[2];

	assert_int_equal(xlb_vip_parse(vip4, &k), 0);
	assert_int_equal(xlb_model_read(&maps, &md), 0);
	v = xlb_model_vip(&md, &k);
	place_ids(v->id, before);
	run_swaps(12, 250);
	place_ids(v->id, after);
	xlb_model_free(&md);
	assert_true(before[0] && before[1]);
	assert_int_equal(after[0], before[0]);
	assert_int_equal(after[1], before[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_v4),
		cmocka_unit_test(test_lookup_v6),
		cmocka_unit_test(test_lookup_v4_primary_down),
		cmocka_unit_test(test_lookup_v6_primary_down),
		cmocka_unit_test(test_swaps_are_atomic),
		cmocka_unit_test(test_spaced_swaps_reuse_idle_table),
	};

	/* Commits ask the kernel for the backends' routes and create their
	 * neighbour entries: in a namespace of its own, not the host's. */
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests_name("model", tests, setup, teardown);
}
