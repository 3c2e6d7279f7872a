/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness.h - loading xlb_main with pinning disabled, filling its maps the
 * way the controller would, running packets through BPF_PROG_TEST_RUN and
 * reading counters back. Expected backends are computed here from the
 * shared hash (xlb_hash.h) and the tables the test wrote, never from the
 * program's own answers.
 */
#ifndef PT_HARNESS_H
#define PT_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xlb.h"
#include "xlb_hash.h"

#define PT_MAX_BE 64 /* backend ids the tests use: 0..63 */
#define PT_MAX_VIP 16 /* VIP ids the tests use: 0..15 */
#define PT_MAX_SLOTS 512
#define PT_IFINDEX_LO 1
#define PT_BUF 4096

extern int pt_verbose;

struct pt_vip {
	bool used;
	bool alias; /* a port-0 fragment alias was written too */
	struct xlb_vip_key key;
	struct xlb_vip v;
	struct xlb_slot slots[PT_MAX_SLOTS];
	int table_fd; /* current inner map, -1 if none */
};

struct pt_env {
	void *skel; /* struct xlb_bpf */
	int prog, config, vips, tables, backends, state, nexthop, flows, stats,
		vip_stats, be_stats, vip_filter, clock;
	int ncpus;
	__u32 ifindex; /* ingress ifindex given to every run */
	struct xlb_config cfg;
	struct pt_vip vip[PT_MAX_VIP]; /* by VIP id */
	struct xlb_backend be[PT_MAX_BE]; /* by backend id */
	__u32 st[PT_MAX_BE];
	struct xlb_nexthop nh[PT_MAX_BE];
};

/* Environment life cycle; both assert on failure. */
struct pt_env *pt_env_open(void);
void pt_env_close(struct pt_env *e);

/* Map writers (also remembered in *e for the expectations). */
void pt_write_config(struct pt_env *e);
/* Starts every CPU's flow-insert window afresh (new_flow_limit). */
void pt_insert_window_reset(struct pt_env *e);
void pt_add_vip(struct pt_env *e, __u32 id, const char *addr, __u16 port,
		__u8 proto, __u8 fwd, __u32 table_size, __u8 v4_prefix,
		__u8 v6_prefix, bool alias);
void pt_add_backend(struct pt_env *e, __u32 id, __u32 vip_id,
		    const char *addr, __u32 state);
void pt_set_state(struct pt_env *e, __u32 id, __u32 state);
void pt_set_nexthop(struct pt_env *e, __u32 id, const struct xlb_nexthop *nh);
/* Backends first..last get their next hop with route MTU mtu. */
void pt_set_path_mtu(struct pt_env *e, __u32 first, __u32 last, __u32 mtu);
/* Writes e->vip[vip_id].slots into a fresh inner map and swaps it in. */
void pt_swap_table(struct pt_env *e, __u32 vip_id);
/* Slot i: primary ids[i % n], secondary ids[(i + 1) % n]. */
void pt_table_rr(struct pt_env *e, __u32 vip_id, const __u32 *ids, int n);

/* The standard topology used by most tests (see harness.c). */
void pt_std_env(struct pt_env *e);
#define VIP_A 1 /* 192.0.2.10 tcp/80 ipip, IPv4 backends 1-4 */
#define VIP_B 2 /* 2001:db8::10 tcp/443 ipip, IPv6 backends 5-7 */
#define VIP_C 3 /* 192.0.2.20 udp/53 ipip, IPv6 backends 8-9 (4in6) */
#define VIP_D 4 /* 2001:db8::20 udp/53 ipip, IPv4 backends 10-11 (6in4) */
#define VIP_E 5 /* 192.0.2.30 tcp/80 l2dsr, IPv4 backends 12-13 */
#define VIP_F 6 /* 2001:db8::30 tcp/80 l2dsr, IPv6 backends 14-15 */
#define VIP_G 7 /* 192.0.2.40 tcp/80 ipip /24 prefix, IPv4 16-19, no alias */
#define VIP_H 8 /* 2001:db8::40 tcp/80 ipip /64 prefix, IPv6 20-22, no alias */
#define VIP_I 9 /* 192.0.2.50 udp/4789 ipip, mixed IPv4 23 + IPv6 24 */

/* Address parsing: IPv4 into a[0], IPv6 into a[0..3]; returns XLB_AF_*. */
__u8 pt_addr(const char *s, __be32 a[4]);

/*
 * What the data path should choose for a new flow from client (network
 * order, family of the VIP): the slot's primary if UP, else its secondary
 * if UP, else XLB_BACKEND_NONE.
 */
__u32 pt_expect_be(const struct pt_env *e, __u32 vip_id, const __be32 *client);
__u32 pt_expect_slot(const struct pt_env *e, __u32 vip_id,
		     const __be32 *client);

/* Counters, summed over CPUs. */
__u64 pt_stat(const struct pt_env *e, __u32 idx);
void pt_stats_all(const struct pt_env *e, __u64 out[XLB_STAT_MAX]);
struct xlb_counters pt_vip_ctr(const struct pt_env *e, __u32 id);
struct xlb_counters pt_be_ctr(const struct pt_env *e, __u32 id);
const char *pt_stat_name(__u32 idx);

/* Flow table. Returns 0 and fills *f and *atime_ns (if not NULL), or -ENOENT. */
int pt_flow_get(const struct pt_env *e, const struct xlb_flow_key *k,
		struct xlb_flow *f, __u64 *atime_ns);
void pt_flow_put(const struct pt_env *e, const struct xlb_flow_key *k,
		 __u32 backend, __u64 atime_ns);
/* The flow-table set of a key, and how many valid ways hold it. */
__u32 pt_flow_set(const struct pt_env *e, const struct xlb_flow_key *k);
int pt_flow_ways(const struct pt_env *e, const struct xlb_flow_key *k);
/*
 * Marks the way holding k as another CPU's, mid-write; counts such ways
 * in k's set.
 */
void pt_flow_mark_busy(const struct pt_env *e, const struct xlb_flow_key *k);
int pt_flow_busy_ways(const struct pt_env *e, const struct xlb_flow_key *k);
/* Valid entries in the whole flow table. */
int pt_flow_count(const struct pt_env *e);
struct xlb_flow_key pt_flow_key(const char *src, const char *dst, __u16 sport,
				__u16 dport, __u8 proto);
__u64 pt_now_coarse(void);

/*
 * One BPF_PROG_TEST_RUN with repeat 1. Returns the verdict; *out_len gets
 * the output length. Fails the test if the syscall fails.
 */
int pt_run(const struct pt_env *e, const void *in, __u32 len, void *out,
	   __u32 *out_len);
/* Same on any program fd; returns -errno instead of failing. */
int pt_run_fd(int prog_fd, __u32 ifindex, const void *in, __u32 len,
	      void *out, __u32 *out_len, __u32 *retval);
/*
 * The same with the frame split: its first linear bytes in the linear part
 * (data..data_end), the rest in fragments, as a multi-buffer driver does.
 */
int pt_run_fd_split(int prog_fd, __u32 ifindex, const void *in, __u32 len,
		    __u32 linear, void *out, __u32 *out_len, __u32 *retval);

/* Hex dump of two buffers' first difference, for failure messages. */
void pt_diff(const char *what, const __u8 *exp, size_t elen, const __u8 *got,
	     size_t glen);
/* assert_memory_equal with a readable dump on mismatch. */
#define pt_assert_bytes(what, exp, elen, got, glen)                           \
	do {                                                                 \
		if ((elen) != (glen) || memcmp((exp), (got), (elen))) {      \
			pt_diff((what), (exp), (elen), (got), (glen));       \
			fail_msg("%s: output bytes differ (expected %zu, got %zu)", \
				 (what), (size_t)(elen), (size_t)(glen));    \
		}                                                            \
	} while (0)

/* Test registration: each file appends its tests. */
struct CMUnitTest;
int pt_tests_fwd(struct CMUnitTest *t, int max);
int pt_tests_flow(struct CMUnitTest *t, int max);
int pt_tests_trunc(struct CMUnitTest *t, int max);
int pt_tests_fib(struct CMUnitTest *t, int max);
int pt_tests_pmtu(struct CMUnitTest *t, int max);
int pt_tests_decap(struct CMUnitTest *t, int max);
int pt_tests_frags(struct CMUnitTest *t, int max);
int pt_tests_fuzz(struct CMUnitTest *t, int max);

/*
 * Common setup/teardown: a loaded program with pt_std_env. The test's
 * initial_state (a case descriptor) is kept in ctx->param.
 */
struct pt_ctx {
	struct pt_env *e;
	const void *param;
};
int pt_setup_std(void **state);
int pt_setup_bare(void **state); /* loaded, config written, no VIPs */
int pt_teardown_env(void **state);

/* Fuzz entry used by `prog_test fuzz [N]`. Returns failures found. */
long pt_fuzz_run(unsigned long n, __u64 seed, bool quiet);
extern unsigned long pt_fuzz_n;
extern __u64 pt_fuzz_seed;

#endif /* PT_HARNESS_H */
