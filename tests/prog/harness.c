// SPDX-License-Identifier: GPL-2.0
/* harness.c - see harness.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include "stat.h"
#include "harness.h"
#include "pkt.h"
#include "xlb.skel.h"

int pt_verbose;

const char *pt_stat_name(__u32 idx)
{
	return xlb_stat_name(idx);
}

__u8 pt_addr(const char *s, __be32 a[4])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, &a[0]) == 1)
		return XLB_AF_INET;
	if (inet_pton(AF_INET6, s, a) == 1)
		return XLB_AF_INET6;
	fail_msg("bad address in test: %s", s);
	return 0;
}

struct pt_env *pt_env_open(void)
{
	struct pt_env *e = calloc(1, sizeof(*e));
	struct xlb_bpf *skel;
	struct bpf_map *m;
	int i;

	assert_non_null(e);
	skel = xlb_bpf__open();
	if (!skel)
		fail_msg("xlb_bpf__open: %s", strerror(errno));
	/* Tests never touch /sys/fs/bpf. */
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	if (xlb_bpf__load(skel))
		fail_msg("xlb_bpf__load failed (verifier log above with -v)");
	/* As attach: the device's MAC, the one the tests' frames go to. */
	memcpy(skel->bss->xlb_dev.mac, (const __u8[]){ MAC_LB }, 6);
	e->skel = skel;
	e->prog = bpf_program__fd(skel->progs.xlb_main);
	e->config = bpf_map__fd(skel->maps.xlb_config);
	e->vips = bpf_map__fd(skel->maps.xlb_vips);
	e->tables = bpf_map__fd(skel->maps.xlb_tables);
	e->backends = bpf_map__fd(skel->maps.xlb_backends);
	e->state = bpf_map__fd(skel->maps.xlb_state);
	e->nexthop = bpf_map__fd(skel->maps.xlb_nexthop);
	e->flows = bpf_map__fd(skel->maps.xlb_flows);
	e->stats = bpf_map__fd(skel->maps.xlb_stats);
	e->vip_stats = bpf_map__fd(skel->maps.xlb_vip_stats);
	e->be_stats = bpf_map__fd(skel->maps.xlb_be_stats);
	e->vip_filter = bpf_map__fd(skel->maps.xlb_vip_filter);
	e->clock = bpf_map__fd(skel->maps.xlb_clock);
	e->ncpus = libbpf_num_possible_cpus();
	assert_true(e->ncpus > 0);
	e->ifindex = PT_IFINDEX_LO;
	for (i = 0; i < PT_MAX_VIP; i++)
		e->vip[i].table_fd = -1;

	e->cfg.flow_sets = XLB_FLOW_SETS;
	e->cfg.seed[0] = 0x0706050403020100ULL;
	e->cfg.seed[1] = 0x0f0e0d0c0b0a0908ULL;
	{
		__be32 a[4];

		pt_addr("198.51.100.1", a);
		e->cfg.src4 = a[0];
	}
	pt_addr("2001:db8:100::1", e->cfg.src6);
	e->cfg.tcp_timeout_ns = 300ULL * 1000000000ULL;
	e->cfg.udp_timeout_ns = 30ULL * 1000000000ULL;
	e->cfg.nexthop_ttl_ns = 1000000000ULL;
	pt_write_config(e);
	return e;
}

void pt_env_close(struct pt_env *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < PT_MAX_VIP; i++)
		if (e->vip[i].table_fd >= 0)
			close(e->vip[i].table_fd);
	xlb_bpf__destroy(e->skel);
	free(e);
}

void pt_write_config(struct pt_env *e)
{
	__u32 zero = 0;

	assert_int_equal(bpf_map_update_elem(e->config, &zero, &e->cfg, 0), 0);
}

void pt_insert_window_reset(struct pt_env *e)
{
	struct xlb_clock c[e->ncpus];
	__u32 zero = 0;
	int i;

	assert_int_equal(bpf_map_lookup_elem(e->clock, &zero, c), 0);
	for (i = 0; i < e->ncpus; i++) {
		c[i].window_ns = 0;
		c[i].window_inserts = 0;
	}
	assert_int_equal(bpf_map_update_elem(e->clock, &zero, c, 0), 0);
}

void pt_add_vip(struct pt_env *e, __u32 id, const char *addr, __u16 port,
		__u8 proto, __u8 fwd, __u32 table_size, __u8 v4_prefix,
		__u8 v6_prefix, bool alias)
{
	struct pt_vip *pv;
	__u8 fam;

	assert_true(id < PT_MAX_VIP && table_size <= PT_MAX_SLOTS);
	pv = &e->vip[id];
	memset(&pv->key, 0, sizeof(pv->key));
	memset(&pv->v, 0, sizeof(pv->v));
	fam = pt_addr(addr, pv->key.addr);
	pv->key.port = htons(port);
	pv->key.proto = proto;
	pv->key.family = fam;
	pv->v.id = id;
	pv->v.table_size = table_size;
	pv->v.fwd = fwd;
	pv->v.algo = XLB_ALGO_MAGLEV;
	pv->v.v4_prefix = v4_prefix;
	pv->v.v6_prefix = v6_prefix;
	xlb_src_mask(fam == XLB_AF_INET6,
		     fam == XLB_AF_INET6 ? v6_prefix : v4_prefix,
		     pv->v.src_mask);
	pv->used = true;
	pv->alias = alias;
	/* As the controller: the address's filter bit before its entry. */
	{
		struct xlb_vip_filter f;
		__u32 zero = 0;

		assert_int_equal(bpf_map_lookup_elem(e->vip_filter, &zero, &f), 0);
		xlb_vip_filter_set(&f, pv->key.addr);
		assert_int_equal(bpf_map_update_elem(e->vip_filter, &zero, &f, 0), 0);
	}
	assert_int_equal(bpf_map_update_elem(e->vips, &pv->key, &pv->v, 0), 0);
	if (alias) {
		struct xlb_vip_key k = pv->key;
		struct xlb_vip v = pv->v;

		k.port = 0;
		v.flags |= XLB_VIP_F_FRAG_ALIAS;
		assert_int_equal(bpf_map_update_elem(e->vips, &k, &v, 0), 0);
		/* As the controller: IPv6 fragments naming no transport. */
		if (fam == XLB_AF_INET6) {
			k.proto = 0;
			assert_int_equal(bpf_map_update_elem(e->vips, &k, &v, 0), 0);
		}
	}
	/* As the controller: CPUs' cached copies of VIP entries expire. */
	e->cfg.vip_gen++;
	pt_write_config(e);
}

void pt_set_path_mtu(struct pt_env *e, __u32 first, __u32 last, __u32 mtu)
{
	__u32 id;

	for (id = first; id <= last; id++) {
		struct xlb_nexthop nh = e->nh[id];

		nh.mtu = mtu;
		pt_set_nexthop(e, id, &nh);
	}
}

void pt_set_nexthop(struct pt_env *e, __u32 id, const struct xlb_nexthop *nh)
{
	struct xlb_nexthop *all = calloc(e->ncpus, sizeof(*all));
	int c;

	assert_non_null(all);
	for (c = 0; c < e->ncpus; c++)
		all[c] = *nh;
	assert_int_equal(bpf_map_update_elem(e->nexthop, &id, all, 0), 0);
	e->nh[id] = *nh;
	free(all);
}

void pt_add_backend(struct pt_env *e, __u32 id, __u32 vip_id,
		    const char *addr, __u32 state)
{
	struct xlb_backend *be;
	struct xlb_nexthop nh = {
		.dmac = { 0x02, 0xbe, 0, 0, 0, (__u8)id },
		.smac = { 0x02, 0x1b, 0, 0, 0, 0x01 },
		.ifindex = e->ifindex,
		.expires_ns = ~0ULL,
	};

	assert_true(id < PT_MAX_BE);
	be = &e->be[id];
	memset(be, 0, sizeof(*be));
	be->family = pt_addr(addr, be->addr);
	be->flags = XLB_BE_F_USED;
	be->vip_id = vip_id;
	be->weight = 100;
	be->ramp = XLB_RAMP_FULL;
	assert_int_equal(bpf_map_update_elem(e->backends, &id, be, 0), 0);
	pt_set_state(e, id, state);
	pt_set_nexthop(e, id, &nh);
}

void pt_set_state(struct pt_env *e, __u32 id, __u32 state)
{
	assert_int_equal(bpf_map_update_elem(e->state, &id, &state, 0), 0);
	e->st[id] = state;
}

void pt_swap_table(struct pt_env *e, __u32 vip_id)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	struct pt_vip *pv = &e->vip[vip_id];
	__u32 i;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t", 4,
			    sizeof(struct xlb_slot_pair),
			    XLB_TABLE_ELEMS(pv->v.table_size), &opts);
	if (fd < 0)
		fail_msg("creating inner table: %s", strerror(errno));
	for (i = 0; i < XLB_TABLE_ELEMS(pv->v.table_size); i++) {
		struct xlb_slot_pair sp = { { pv->slots[2 * i] } };

		if (2 * i + 1 < pv->v.table_size)
			sp.slot[1] = pv->slots[2 * i + 1];
		assert_int_equal(bpf_map_update_elem(fd, &i, &sp, 0), 0);
	}
	assert_int_equal(bpf_map_update_elem(e->tables, &vip_id, &fd, 0), 0);
	if (pv->table_fd >= 0)
		close(pv->table_fd);
	pv->table_fd = fd;
}

void pt_table_rr(struct pt_env *e, __u32 vip_id, const __u32 *ids, int n)
{
	struct pt_vip *pv = &e->vip[vip_id];
	__u32 i;

	for (i = 0; i < pv->v.table_size; i++) {
		pv->slots[i].primary = ids[i % n];
		pv->slots[i].secondary = ids[(i + 1) % n];
	}
	pt_swap_table(e, vip_id);
}

static void std_vip(struct pt_env *e, __u32 id, const char *addr, __u16 port,
		    __u8 proto, __u8 fwd, __u32 size, __u8 v4p, __u8 v6p,
		    bool alias, const char *const *bes, __u32 first_be)
{
	__u32 ids[8];
	int n = 0;

	pt_add_vip(e, id, addr, port, proto, fwd, size, v4p, v6p, alias);
	for (; bes[n]; n++) {
		ids[n] = first_be + n;
		pt_add_backend(e, ids[n], id, bes[n], XLB_BE_UP);
	}
	pt_table_rr(e, id, ids, n);
}

void pt_std_env(struct pt_env *e)
{
	std_vip(e, VIP_A, "192.0.2.10", 80, IPPROTO_TCP, XLB_FWD_IPIP, 13, 32,
		128, true,
		(const char *const[]){ "10.1.0.1", "10.1.0.2", "10.1.0.3",
				       "10.1.0.4", NULL },
		1);
	std_vip(e, VIP_B, "2001:db8::10", 443, IPPROTO_TCP, XLB_FWD_IPIP, 13,
		32, 128, true,
		(const char *const[]){ "2001:db8:1::5", "2001:db8:1::6",
				       "2001:db8:1::7", NULL },
		5);
	std_vip(e, VIP_C, "192.0.2.20", 53, IPPROTO_UDP, XLB_FWD_IPIP, 7, 32,
		128, true,
		(const char *const[]){ "2001:db8:1::8", "2001:db8:1::9", NULL },
		8);
	std_vip(e, VIP_D, "2001:db8::20", 53, IPPROTO_UDP, XLB_FWD_IPIP, 7, 32,
		128, true,
		(const char *const[]){ "10.1.0.10", "10.1.0.11", NULL }, 10);
	std_vip(e, VIP_E, "192.0.2.30", 80, IPPROTO_TCP, XLB_FWD_L2DSR, 7, 32,
		128, true,
		(const char *const[]){ "10.1.0.12", "10.1.0.13", NULL }, 12);
	std_vip(e, VIP_F, "2001:db8::30", 80, IPPROTO_TCP, XLB_FWD_L2DSR, 7,
		32, 128, true,
		(const char *const[]){ "2001:db8:1::e", "2001:db8:1::f", NULL },
		14);
	std_vip(e, VIP_G, "192.0.2.40", 80, IPPROTO_TCP, XLB_FWD_IPIP, 251, 24,
		128, false,
		(const char *const[]){ "10.1.0.16", "10.1.0.17", "10.1.0.18",
				       "10.1.0.19", NULL },
		16);
	std_vip(e, VIP_H, "2001:db8::40", 80, IPPROTO_TCP, XLB_FWD_IPIP, 251,
		32, 64, false,
		(const char *const[]){ "2001:db8:1::14", "2001:db8:1::15",
				       "2001:db8:1::16", NULL },
		20);
	std_vip(e, VIP_I, "192.0.2.50", 4789, IPPROTO_UDP, XLB_FWD_IPIP, 11,
		32, 128, true,
		(const char *const[]){ "10.1.0.23", "2001:db8:1::18", NULL },
		23);
}

__u32 pt_expect_slot(const struct pt_env *e, __u32 vip_id,
		     const __be32 *client)
{
	const struct pt_vip *pv = &e->vip[vip_id];
	__u64 h;

	if (pv->key.family == XLB_AF_INET) {
		h = xlb_hash_v4(e->cfg.seed, ntohl(client[0]), pv->v.src_mask[0]);
	} else {
		__u64 hi = ((__u64)ntohl(client[0]) << 32) | ntohl(client[1]);
		__u64 lo = ((__u64)ntohl(client[2]) << 32) | ntohl(client[3]);

		h = xlb_hash_v6(e->cfg.seed, hi, lo, pv->v.src_mask);
	}
	return xlb_slot_of(h, pv->v.table_size);
}

__u32 pt_expect_be(const struct pt_env *e, __u32 vip_id, const __be32 *client)
{
	const struct xlb_slot *s =
		&e->vip[vip_id].slots[pt_expect_slot(e, vip_id, client)];

	if (s->primary < PT_MAX_BE && e->st[s->primary] == XLB_BE_UP)
		return s->primary;
	if (s->secondary < PT_MAX_BE && e->st[s->secondary] == XLB_BE_UP)
		return s->secondary;
	return XLB_BACKEND_NONE;
}

void pt_stats_all(const struct pt_env *e, __u64 out[XLB_STAT_MAX])
{
	__u64 *v = calloc(e->ncpus, sizeof(*v));
	__u32 i;
	int c;

	assert_non_null(v);
	for (i = 0; i < XLB_STAT_MAX; i++) {
		assert_int_equal(bpf_map_lookup_elem(e->stats, &i, v), 0);
		out[i] = 0;
		for (c = 0; c < e->ncpus; c++)
			out[i] += v[c];
	}
	free(v);
}

__u64 pt_stat(const struct pt_env *e, __u32 idx)
{
	__u64 *v = calloc(e->ncpus, sizeof(*v)), sum = 0;
	int c;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(e->stats, &idx, v), 0);
	for (c = 0; c < e->ncpus; c++)
		sum += v[c];
	free(v);
	return sum;
}

static struct xlb_counters ctr_sum(int fd, int ncpus, __u32 id)
{
	struct xlb_counters *v = calloc(ncpus, sizeof(*v)), s = { 0 };
	int c;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(fd, &id, v), 0);
	for (c = 0; c < ncpus; c++) {
		s.packets += v[c].packets;
		s.bytes += v[c].bytes;
		s.new_flows += v[c].new_flows;
	}
	free(v);
	return s;
}

struct xlb_counters pt_vip_ctr(const struct pt_env *e, __u32 id)
{
	return ctr_sum(e->vip_stats, e->ncpus, id);
}

struct xlb_counters pt_be_ctr(const struct pt_env *e, __u32 id)
{
	return ctr_sum(e->be_stats, e->ncpus, id);
}

/* The set a flow lives in, read whole; returns its index. */
static __u32 flow_set_read(const struct pt_env *e, const struct xlb_flow_key *k,
			   struct xlb_flow_set *set, __u64 *h)
{
	__u32 idx;

	*h = xlb_flow_hash(e->cfg.seed, k);
	idx = xlb_flow_set_of(*h, e->cfg.flow_sets);
	assert_int_equal(bpf_map_lookup_elem(e->flows, &idx, set), 0);
	return idx;
}

/* The way of k's set (read into *set, index *idx) holding k, or -1. */
static int flow_way_of(const struct pt_env *e, const struct xlb_flow_key *k,
		       struct xlb_flow_set *set, __u32 *idx)
{
	__u64 h;
	int i;

	*idx = flow_set_read(e, k, set, &h);
	for (i = 0; i < XLB_FLOW_WAYS; i++)
		if (set->tag[i] == xlb_flow_tag(h) &&
		    !memcmp(&set->way[i].key, k, sizeof(*k)))
			return i;
	return -1;
}

int pt_flow_get(const struct pt_env *e, const struct xlb_flow_key *k,
		struct xlb_flow *f, __u64 *atime_ns)
{
	struct xlb_flow_set set;
	__u32 idx;
	int w = flow_way_of(e, k, &set, &idx);

	if (w < 0)
		return -ENOENT;
	*f = set.way[w].flow;
	if (atime_ns)
		*atime_ns = set.atime_ns[w];
	return 0;
}

void pt_flow_put(const struct pt_env *e, const struct xlb_flow_key *k,
		 __u32 backend, __u64 atime_ns)
{
	struct xlb_flow f = { .backend = backend };
	struct xlb_flow_set set;
	__u64 h;
	__u32 idx;
	int i, w = -1;

	/* As the data path writes it: the backend's VIP and its mode. */
	if (backend < PT_MAX_BE) {
		f.vip_id = (__u16)e->be[backend].vip_id;
		if (f.vip_id < PT_MAX_VIP)
			f.fwd = e->vip[f.vip_id].v.fwd;
	}
	idx = flow_set_read(e, k, &set, &h);
	/* The way holding this key, else the first empty one. */
	for (i = 0; i < XLB_FLOW_WAYS && w < 0; i++)
		if (set.tag[i] && !memcmp(&set.way[i].key, k, sizeof(*k)))
			w = i;
	for (i = 0; i < XLB_FLOW_WAYS && w < 0; i++)
		if (!set.tag[i])
			w = i;
	assert_true(w >= 0);
	set.way[w].key = *k;
	set.way[w].flow = f;
	set.atime_ns[w] = atime_ns;
	set.tag[w] = xlb_flow_tag(h);
	assert_int_equal(bpf_map_update_elem(e->flows, &idx, &set, 0), 0);
}

__u32 pt_flow_set(const struct pt_env *e, const struct xlb_flow_key *k)
{
	return xlb_flow_set_of(xlb_flow_hash(e->cfg.seed, k), e->cfg.flow_sets);
}

int pt_flow_ways(const struct pt_env *e, const struct xlb_flow_key *k)
{
	struct xlb_flow_set set;
	__u64 h;
	int i, n = 0;

	flow_set_read(e, k, &set, &h);
	for (i = 0; i < XLB_FLOW_WAYS; i++)
		n += xlb_flow_way_valid(e->cfg.seed, &set, i) &&
		     !memcmp(&set.way[i].key, k, sizeof(*k));
	return n;
}

void pt_flow_mark_busy(const struct pt_env *e, const struct xlb_flow_key *k)
{
	struct xlb_flow_set set;
	__u32 idx;
	int w = flow_way_of(e, k, &set, &idx);

	assert_true(w >= 0);
	set.tag[w] = XLB_FLOW_BUSY;
	assert_int_equal(bpf_map_update_elem(e->flows, &idx, &set, 0), 0);
}

int pt_flow_busy_ways(const struct pt_env *e, const struct xlb_flow_key *k)
{
	struct xlb_flow_set set;
	__u64 h;
	int i, n = 0;

	flow_set_read(e, k, &set, &h);
	for (i = 0; i < XLB_FLOW_WAYS; i++)
		n += set.tag[i] == XLB_FLOW_BUSY;
	return n;
}

int pt_flow_count(const struct pt_env *e)
{
	struct xlb_flow_set set;
	__u32 idx;
	int i, n = 0;

	for (idx = 0; idx < e->cfg.flow_sets; idx++) {
		assert_int_equal(bpf_map_lookup_elem(e->flows, &idx, &set), 0);
		for (i = 0; i < XLB_FLOW_WAYS; i++)
			n += xlb_flow_way_valid(e->cfg.seed, &set, i);
	}
	return n;
}

struct xlb_flow_key pt_flow_key(const char *src, const char *dst, __u16 sport,
				__u16 dport, __u8 proto)
{
	struct xlb_flow_key k;

	memset(&k, 0, sizeof(k));
	k.family = pt_addr(src, k.src);
	pt_addr(dst, k.dst);
	k.sport = htons(sport);
	k.dport = htons(dport);
	k.proto = proto;
	return k;
}

/* bpf_ktime_get_coarse_ns() is CLOCK_MONOTONIC_COARSE. */
__u64 pt_now_coarse(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int pt_run_fd(int prog_fd, __u32 ifindex, const void *in, __u32 len,
	      void *out, __u32 *out_len, __u32 *retval)
{
	return pt_run_fd_split(prog_fd, ifindex, in, len, len, out, out_len,
			       retval);
}

int pt_run_fd_split(int prog_fd, __u32 ifindex, const void *in, __u32 len,
		    __u32 linear, void *out, __u32 *out_len, __u32 *retval)
{
	/*
	 * Kernels since 6.17 read data_end as the size of the linear part and
	 * put the rest in fragments (0 would hide the packet).
	 */
	struct xdp_md ctx = { .data_end = linear, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = PT_BUF, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	*out_len = o.data_size_out;
	*retval = o.retval;
	return 0;
}

int pt_run(const struct pt_env *e, const void *in, __u32 len, void *out,
	   __u32 *out_len)
{
	__u32 ret = 0;
	int err;

	err = pt_run_fd(e->prog, e->ifindex, in, len, out, out_len, &ret);
	if (err)
		fail_msg("BPF_PROG_TEST_RUN (len %u): %s", len, strerror(-err));
	return (int)ret;
}

void pt_diff(const char *what, const __u8 *exp, size_t elen, const __u8 *got,
	     size_t glen)
{
	size_t i, n = elen > glen ? elen : glen, first = n;

	for (i = 0; i < n; i++)
		if (i >= elen || i >= glen || exp[i] != got[i]) {
			first = i;
			break;
		}
	fprintf(stderr, "# %s: first difference at byte %zu\n", what, first);
	for (i = 0; i < n; i += 16) {
		size_t j;

		fprintf(stderr, "#  %04zx exp", i);
		for (j = i; j < i + 16 && j < n; j++) {
			if (j < elen)
				fprintf(stderr, " %02x", exp[j]);
			else
				fprintf(stderr, " --");
		}
		fprintf(stderr, "\n#       got");
		for (j = i; j < i + 16 && j < n; j++) {
			if (j < glen)
				fprintf(stderr, "%c%02x",
					(j < elen && exp[j] != got[j]) ? '*' : ' ',
					got[j]);
			else
				fprintf(stderr, " --");
		}
		fprintf(stderr, "\n");
	}
}

int pt_setup_bare(void **state)
{
	struct pt_ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->param = *state;
	c->e = pt_env_open();
	*state = c;
	return 0;
}

int pt_setup_std(void **state)
{
	pt_setup_bare(state);
	pt_std_env(((struct pt_ctx *)*state)->e);
	return 0;
}

int pt_teardown_env(void **state)
{
	struct pt_ctx *c = *state;

	if (c) {
		pt_env_close(c->e);
		free(c);
	}
	return 0;
}
