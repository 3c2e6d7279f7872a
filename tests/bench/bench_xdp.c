// SPDX-License-Identifier: GPL-2.0
/*
 * bench_xdp.c - the data-path benchmark: what xlb_main costs per packet
 * and how many packets per second one core forwards through it, each
 * beside trivial baseline programs (tests/bpf/baseline.bpf.c) measured in
 * the same run: XDP_DROP, a MAC-swap bounce, a trivial IPIP forwarder.
 *
 * 1. ns per packet with BPF_PROG_TEST_RUN. Every call runs the program
 *    once (repeat = 1) on a fresh copy of the packet: with repeat > 1 the
 *    kernel would feed the encapsulating program its own output. The
 *    kernel's per-call durations are summed; they carry a timer overhead
 *    that the XDP_DROP baseline carries too, so "above drop" is the
 *    program's own cost. Rounds interleave the cases; the median of the
 *    round means is printed. New flows get a new client address on every
 *    run; their entries are deleted between rounds so the table does not
 *    evict, and separate phases measure 98,304 established flows in turn
 *    (their sets not cached) and the table full.
 *
 * 1b. The same cases as in-kernel repeats: tests/bpf/rewind.bpf.c undoes
 *    the previous run's rewrite before each run, writes the run's client
 *    address and tail-calls the case's program; XDP_DROP behind the same
 *    rewind is the baseline. No system call separates the runs, so this
 *    part times what a stream of packets costs where part 1's single runs
 *    each start after a TLB flush (page-table isolation without PCID).
 *
 * 2. Packets per second with BPF_F_TEST_XDP_LIVE_FRAMES: the kernel
 *    injects frames on a veth as if received, XDP_TX sends them to the
 *    peer, where a native XDP program counts and drops them; the rate is
 *    what arrived there over the call's wall time. Runs in a forked child
 *    inside its own network namespace, so nothing outside it is touched
 *    and everything goes away with the child, even if it is killed.
 *
 *    The generator recycles its pages without rewriting them, and xlb has
 *    pushed an outer header over the original Ethernet header. Backend
 *    addresses are chosen so that the bytes left at the frame's start
 *    still read as a valid frame of the same flow: IPv4 backends are
 *    a.b.8.0 (the outer destination's last two bytes land on the
 *    EtherType: 0x0800) and IPv6 backends end in ::86dd. xlb forwards only
 *    frames to its device's MAC: the device MAC is the six bytes the IPv4
 *    outer header leaves at the frame's start (setup_dev_mac), and IPv6
 *    backends carry them in their address's bytes 2..7, which land there.
 *    Every frame is therefore a real VIP packet; xlb's own counters
 *    (XDP_TX, flow hits) are printed per frame to show it.
 *
 * Needs root. Exit 0 when it measured, 1 when something could not run.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb.h"
#include "xlb_hash.h"
#include "xlb.skel.h"
#include "baseline.skel.h"
#include "rewind.skel.h"

#define N_BACKENDS 100 /* per VIP */
#define BE6_BASE 1000 /* first IPv6 backend id */
#define VIP4_ID 0
#define VIP6_ID 1
#define VIP_PORT 80
#define CLIENT_PORT 40000
#define PKT_MAX 128
#define MAX_ROUNDS 64

/* Ingress interface of the test-run phase (lo) and of the live phase. */
#define TR_IFINDEX 1
#define LIVE_IF0 "xlbb0"
#define LIVE_IF1 "xlbb1"
#define LIVE_IFINDEX0 10
#define LIVE_IFINDEX1 11

/* Targets (ns above XDP_DROP) and Katran measured the same way here. */
#define TARGET_EST_NS 60
#define TARGET_NEW_NS 130
#define TARGET_LIVE_RATIO 0.80

static const __u8 MAC_CLIENT[6] = { 0x02, 0, 0, 0, 0, 0xc1 };
static const __u8 MAC_LB[6] = { 0x02, 0, 0, 0, 0, 0x1b };
/*
 * The device MAC xlb is given and the packets are sent to (it forwards
 * only frames to its device's MAC): chosen by setup_dev_mac so that the
 * live part's recycled pages still carry it (see the header comment).
 */
static __u8 mac_dev[6] = { 0x02, 0, 0, 0, 0, 0x1b };
static const __u8 MAC_NH[6] = { 0x02, 0, 0, 0, 0, 0x4e };

struct opts {
	int cpu;
	int rounds;
	int runs;
	int live_rounds;
	__u32 live_repeat;
	int no_live;
};

struct bench {
	struct xlb_bpf *xlb;
	struct baseline_bpf *base;
	struct rewind_bpf *rw; /* repeat > 1 without timing its own output */
	int warm; /* part 1 in repeat mode (1b) rather than single runs */
	int ncpus;
	int fd_xlb, fd_drop, fd_swap, fd_ipip, fd_mem, fd_bound;
	int fd_cfg, fd_vips, fd_filter, fd_tables, fd_be, fd_state, fd_nh, fd_flows,
		fd_stats;
	__u8 pkt4[PKT_MAX], pkt6[PKT_MAX];
	__u8 pkth[PKT_MAX]; /* IPv4 TCP to the host's own address: no VIP */
	__u32 len4, len6, lenh;
	__u32 vip4;
	__u32 vip6[4];
	__u64 seed[2]; /* the flow table's hash key (xlb_config) */
	__u32 est_set[2]; /* flow-table sets of the established IPv4/v6 flows */
	__u32 flow_sets; /* the flow table's size (xlb_config.flow_sets) */
	__be32 *cyc; /* sources of the many established flows (CYCLE4) */
	__u32 ncyc, cyc_next;
	struct bench *small; /* the same set-up with the smallest flow table */
};

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_xdp: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n, double *lo, double *hi)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	if (lo)
		*lo = s[0];
	if (hi)
		*hi = s[n - 1];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- packets ---------------------------------------------------------- */

static __u16 csum16(const void *p, int len)
{
	const __u8 *b = p;
	__u32 sum = 0;
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

static void put_eth(__u8 *b, __u16 type)
{
	memcpy(b, mac_dev, 6);
	memcpy(b + 6, MAC_CLIENT, 6);
	b[12] = type >> 8;
	b[13] = type & 0xff;
}

static void put_tcp(__u8 *t, __u8 flags)
{
	t[0] = CLIENT_PORT >> 8;
	t[1] = CLIENT_PORT & 0xff;
	t[2] = VIP_PORT >> 8;
	t[3] = VIP_PORT & 0xff;
	t[7] = 1; /* seq */
	t[11] = 1; /* ack */
	t[12] = 5 << 4; /* doff */
	t[13] = flags;
	t[14] = 0xff; /* window */
	t[15] = 0xff;
}

#define TCPF_ACK 0x10

/* Ethernet + IPv4 (DF) + TCP ACK, padded to the 60-byte minimum frame. */
static __u32 build_v4(__u8 *b, __u32 src, __u32 dst)
{
	__u8 *ip = b + 14;

	memset(b, 0, PKT_MAX);
	put_eth(b, 0x0800);
	ip[0] = 0x45;
	ip[3] = 40; /* tot_len */
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	memcpy(ip + 10, (__u16[]){ csum16(ip, 20) }, 2);
	put_tcp(ip + 20, TCPF_ACK);
	return 60;
}

/* Ethernet + IPv6 + TCP ACK (74 bytes). */
static __u32 build_v6(__u8 *b, const __u32 src[4], const __u32 dst[4])
{
	__u8 *ip = b + 14;

	memset(b, 0, PKT_MAX);
	put_eth(b, 0x86dd);
	ip[0] = 0x60;
	ip[5] = 20; /* payload_len */
	ip[6] = 6;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	put_tcp(ip + 40, TCPF_ACK);
	return 74;
}

/* Distinct client sources for new flows: 100.64.0.0/10 and 2001:db8:c::/96. */
/*
 * Fresh IPv4 clients: n within 10.0.0.0/8 (the packets never leave
 * BPF_PROG_TEST_RUN). main() refuses runs that would need more of them
 * than that: a source used again could find its own earlier entry.
 */
#define FRESH4_NET 0x0a000000
#define FRESH4_MASK 0x00ffffffU

/* An IPv4 packet's source, and its header checksum, which xlb checks. */
static void put_src4(__u8 *pkt, __u32 a)
{
	__u8 *ip = pkt + 14;

	memcpy(ip + 12, &a, 4);
	memset(ip + 10, 0, 2);
	memcpy(ip + 10, (__u16[]){ csum16(ip, 20) }, 2);
}

static void set_src4(__u8 *pkt, __u32 n)
{
	put_src4(pkt, htonl(FRESH4_NET | (n & FRESH4_MASK)));
}

static void set_src6(__u8 *pkt, __u32 n)
{
	__u32 a = htonl(n);

	memcpy(pkt + 14 + 8 + 12, &a, 4);
}

static const __u32 CLIENT4 = 0x0807a8c0; /* 192.168.7.8, network order */
static const __u32 HOST4 = 0x0a6433c6; /* 198.51.100.10: not a VIP */

static void client6(__u32 a[4])
{
	inet_pton(AF_INET6, "2001:db8:c::7", a);
}

static void flow_key4(const struct bench *b, __u32 n, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = htonl(FRESH4_NET | (n & FRESH4_MASK));
	k->dst[0] = b->vip4;
	k->sport = htons(CLIENT_PORT);
	k->dport = htons(VIP_PORT);
	k->proto = 6;
	k->family = XLB_AF_INET;
}

static void flow_key6(const struct bench *b, __u32 n, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	client6(k->src); /* what set_src6 rewrites: the last 32 bits */
	k->src[3] = htonl(n);
	memcpy(k->dst, b->vip6, 16);
	k->sport = htons(CLIENT_PORT);
	k->dport = htons(VIP_PORT);
	k->proto = 6;
	k->family = XLB_AF_INET6;
}

/* The flow key of b->pkt4 (v6 = 0) or b->pkt6: the established flows. */
static void est_key(const struct bench *b, int v6, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	if (v6) {
		client6(k->src);
		memcpy(k->dst, b->vip6, 16);
		k->family = XLB_AF_INET6;
	} else {
		k->src[0] = CLIENT4;
		k->dst[0] = b->vip4;
		k->family = XLB_AF_INET;
	}
	k->sport = htons(CLIENT_PORT);
	k->dport = htons(VIP_PORT);
	k->proto = 6;
}

/* ---- maps -------------------------------------------------------------- */

/*
 * Sets xlb_config.new_flow_limit. At 1, a CPU records the first new flow
 * of each second and forwards the rest unrecorded, as under a SYN flood.
 */
static int limit_set(const struct bench *b, __u32 limit)
{
	struct xlb_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(b->fd_cfg, &zero, &cfg))
		return -errno;
	cfg.new_flow_limit = limit;
	if (bpf_map_update_elem(b->fd_cfg, &zero, &cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int stats_read(const struct bench *b, __u64 out[XLB_STAT_MAX])
{
	__u64 v[b->ncpus];
	__u32 i;
	int c;

	for (i = 0; i < XLB_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(b->fd_stats, &i, v))
			return -errno;
		out[i] = 0;
		for (c = 0; c < b->ncpus; c++)
			out[i] += v[c];
	}
	return 0;
}

/* Every backend's cached next hop, on every CPU, out of ifindex. */
static int nexthops_set(const struct bench *b, __u32 ifindex)
{
	struct xlb_nexthop v[b->ncpus];
	__u32 id;
	int c, i;

	for (c = 0; c < b->ncpus; c++) {
		memset(&v[c], 0, sizeof(v[c]));
		memcpy(v[c].dmac, MAC_NH, 6);
		memcpy(v[c].smac, MAC_LB, 6);
		v[c].ifindex = ifindex;
		v[c].expires_ns = ~0ULL;
	}
	for (i = 0; i < 2 * N_BACKENDS; i++) {
		id = i < N_BACKENDS ? (__u32)i : (__u32)(BE6_BASE + i - N_BACKENDS);
		if (bpf_map_update_elem(b->fd_nh, &id, v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* IPv6 backend i: fd00:M0M1:M2M3:M4M5::i:86dd, M the device MAC. */
static void be6_addr(__u32 i, __u32 a[4])
{
	a[0] = htonl(0xfd000000U | (__u32)mac_dev[0] << 8 | mac_dev[1]);
	a[1] = htonl((__u32)mac_dev[2] << 24 | (__u32)mac_dev[3] << 16 |
		     (__u32)mac_dev[4] << 8 | mac_dev[5]);
	a[2] = 0;
	a[3] = htonl((i << 16) | 0x86dd);
}

/* A VIP's table: 65,537 slots over its backends, in its live place. */
static int table_install(const struct bench *b, __u32 vip_id, __u32 first)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__u32 i, elems = XLB_TABLE_ELEMS(XLB_TABLE_SIZE_DEFAULT);
	size_t sz = (size_t)elems * sizeof(struct xlb_slot_pair);
	struct xlb_slot *slots; /* mapped, the pairs are slots in order */
	int fd, err = 0;

	sz = (sz + 4095) & ~(size_t)4095;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t", 4,
			    sizeof(struct xlb_slot_pair), elems, &mo);
	if (fd < 0)
		return -errno;
	slots = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (slots == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	for (i = 0; i < XLB_TABLE_SIZE_DEFAULT; i++) {
		slots[i].primary = first + (i * 7919) % N_BACKENDS;
		slots[i].secondary = first + (i * 7919 + 1) % N_BACKENDS;
	}
	munmap(slots, sz);
	vip_id = xlb_table_index(vip_id, 0); /* the VIPs' flags are 0 */
	if (bpf_map_update_elem(b->fd_tables, &vip_id, &fd, BPF_ANY))
		err = -errno;
out:
	close(fd);
	return err;
}

static int backend_add(const struct bench *b, __u32 id, __u8 family,
		       const __u32 addr[4], __u32 vip_id)
{
	struct xlb_backend be = {
		.family = family,
		.flags = XLB_BE_F_USED,
		.vip_id = vip_id,
		.weight = 1,
		.ramp = XLB_RAMP_FULL,
	};
	__u32 st = XLB_BE_UP;

	memcpy(be.addr, addr, 16);
	if (bpf_map_update_elem(b->fd_be, &id, &be, BPF_ANY) ||
	    bpf_map_update_elem(b->fd_state, &id, &st, BPF_ANY))
		return -errno;
	return 0;
}

static int vip_add(const struct bench *b, const __u32 addr[4], __u8 family,
		   __u32 id)
{
	struct xlb_vip_key k = { .port = htons(VIP_PORT), .proto = 6,
				 .family = family };
	struct xlb_vip v = {
		.id = id,
		.table_size = XLB_TABLE_SIZE_DEFAULT,
		.fwd = XLB_FWD_IPIP,
		.algo = XLB_ALGO_MAGLEV,
		.v4_prefix = 32,
		.v6_prefix = 128,
		.generation = 1,
	};

	struct xlb_vip_filter f;
	__u32 zero = 0;

	memcpy(k.addr, addr, 16);
	xlb_src_mask(family == XLB_AF_INET6,
		     family == XLB_AF_INET6 ? 128 : 32, v.src_mask);
	/* As the controller: the address's filter bit before its entry. */
	if (bpf_map_lookup_elem(b->fd_filter, &zero, &f))
		return -errno;
	xlb_vip_filter_set(&f, k.addr);
	if (bpf_map_update_elem(b->fd_filter, &zero, &f, BPF_ANY) ||
	    bpf_map_update_elem(b->fd_vips, &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

static int populate(struct bench *b)
{
	struct xlb_config cfg = {
		.seed = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL },
		.tcp_timeout_ns = 600ULL * 1000000000ULL,
		.udp_timeout_ns = 30ULL * 1000000000ULL,
		.nexthop_ttl_ns = 1000000000ULL,
		.flow_sets = b->flow_sets, /* the map as setup_xlb sized it */
	};
	__u32 zero = 0, a[4], v4[4] = { 0 };
	int err, i;

	inet_pton(AF_INET, "10.255.0.1", &cfg.src4);
	inet_pton(AF_INET6, "fd00:ffff::1", cfg.src6);
	if (bpf_map_update_elem(b->fd_cfg, &zero, &cfg, BPF_ANY))
		return -errno;
	memcpy(b->seed, cfg.seed, sizeof(b->seed));

	inet_pton(AF_INET, "203.0.113.10", &b->vip4);
	inet_pton(AF_INET6, "2001:db8:f::10", b->vip6);
	v4[0] = b->vip4;
	if ((err = vip_add(b, v4, XLB_AF_INET, VIP4_ID)) ||
	    (err = vip_add(b, b->vip6, XLB_AF_INET6, VIP6_ID)))
		return err;

	/* 10.i.8.0 and fd00:b::i:86dd: see the header comment. */
	for (i = 0; i < N_BACKENDS; i++) {
		memset(a, 0, sizeof(a));
		a[0] = htonl(0x0a000800 | (i << 16));
		if ((err = backend_add(b, i, XLB_AF_INET, a, VIP4_ID)))
			return err;
		be6_addr(i, a);
		if ((err = backend_add(b, BE6_BASE + i, XLB_AF_INET6, a,
				       VIP6_ID)))
			return err;
	}
	if ((err = table_install(b, VIP4_ID, 0)) ||
	    (err = table_install(b, VIP6_ID, BE6_BASE)))
		return err;
	return nexthops_set(b, TR_IFINDEX);
}

/*
 * The device MAC (mac_dev), found once: the bytes an IPv4 packet of the
 * established flow leaves at its frame's start once xlb has pushed its
 * outer header (that header's frag_off, TTL, protocol and checksum), so
 * a recycled page of the live part is still addressed to the device.
 * IPv6 backends carry it in their address's bytes 2..7, which is what a
 * recycled IPv6 page's frame starts with (be6_addr).
 */
static int run_once(int prog_fd, const void *pkt, __u32 len, __u32 ifindex,
		    void *out, __u32 *out_len, __u32 *ns);

static int setup_dev_mac(struct bench *b)
{
	static int found;
	__u8 pkt[PKT_MAX], out[PKT_MAX];
	__u32 len, i, a[4];
	int err;

	if (!found) {
		memcpy(b->xlb->bss->xlb_dev.mac, mac_dev, 6);
		len = build_v4(pkt, CLIENT4, b->vip4);
		if (run_once(b->fd_xlb, pkt, len, TR_IFINDEX, out, &len, NULL) !=
		    XDP_TX)
			return -EIO;
		memcpy(mac_dev, out + 20, 6);
		found = 1;
	}
	memcpy(b->xlb->bss->xlb_dev.mac, mac_dev, 6);
	for (i = 0; i < N_BACKENDS; i++) {
		be6_addr(i, a);
		if ((err = backend_add(b, BE6_BASE + i, XLB_AF_INET6, a,
				       VIP6_ID)))
			return err;
	}
	return 0;
}

/* An xlb instance with a flow table of flow_sets sets, VIPs and packets. */
static int setup_xlb(struct bench *b, __u32 flow_sets)
{
	struct bpf_map *m;
	int err;

	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0)
		return -EINVAL;
	b->flow_sets = flow_sets;
	b->xlb = xlb_bpf__open();
	if (!b->xlb)
		return -errno;
	bpf_object__for_each_map(m, b->xlb->obj)
		bpf_map__set_pin_path(m, NULL);
	if ((err = bpf_map__set_max_entries(b->xlb->maps.xlb_flows,
					    flow_sets)) ||
	    (err = xlb_bpf__load(b->xlb)))
		return err;

	b->fd_xlb = bpf_program__fd(b->xlb->progs.xlb_main);
	b->fd_cfg = bpf_map__fd(b->xlb->maps.xlb_config);
	b->fd_vips = bpf_map__fd(b->xlb->maps.xlb_vips);
	b->fd_filter = bpf_map__fd(b->xlb->maps.xlb_vip_filter);
	b->fd_tables = bpf_map__fd(b->xlb->maps.xlb_tables);
	b->fd_be = bpf_map__fd(b->xlb->maps.xlb_backends);
	b->fd_state = bpf_map__fd(b->xlb->maps.xlb_state);
	b->fd_nh = bpf_map__fd(b->xlb->maps.xlb_nexthop);
	b->fd_flows = bpf_map__fd(b->xlb->maps.xlb_flows);
	b->fd_stats = bpf_map__fd(b->xlb->maps.xlb_stats);
	if ((err = populate(b)) || (err = setup_dev_mac(b)))
		return err;

	{
		__u32 c6[4];

		client6(c6);
		b->len4 = build_v4(b->pkt4, CLIENT4, b->vip4);
		b->lenh = build_v4(b->pkth, CLIENT4, HOST4);
		b->len6 = build_v6(b->pkt6, c6, b->vip6);
	}
	return 0;
}

/*
 * The flow-probe forwarder's table (baseline.bpf.c, base_flow_tx): the
 * benchmark's two established flows, keyed and placed as xlb places them.
 */
static int bound_fill(struct bench *b)
{
	int fd = bpf_map__fd(b->base->maps.bound_flows), v6;

	memcpy(b->base->bss->bound_seed, b->seed, sizeof(b->seed));
	for (v6 = 0; v6 < 2; v6++) {
		struct xlb_flow_set set;
		struct xlb_flow_key k;
		__u64 h;
		__u32 idx;

		est_key(b, v6, &k);
		h = xlb_flow_hash(b->seed, &k);
		idx = xlb_flow_set_of(
		    h, bpf_map__max_entries(b->base->maps.bound_flows));
		if (bpf_map_lookup_elem(fd, &idx, &set))
			return -errno;
		set.tag[v6] = xlb_flow_tag(h);
		set.way[v6].key = k;
		if (bpf_map_update_elem(fd, &idx, &set, BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * xlb with the default flow table, the baselines, and xlb again with the
 * smallest flow table attach --flows allows (1,024 entries, 64 KB): the
 * size of the fallback LRU Katran's program uses when it runs without its
 * control plane's per-CPU LRU maps, as under BPF_PROG_TEST_RUN.
 */
static int setup(struct bench *b)
{
	int err;

	if ((err = setup_xlb(b, XLB_FLOW_SETS)))
		return err;
	b->base = baseline_bpf__open_and_load();
	if (!b->base)
		return -errno;
	b->fd_drop = bpf_program__fd(b->base->progs.base_drop);
	b->fd_swap = bpf_program__fd(b->base->progs.base_swap_tx);
	b->fd_ipip = bpf_program__fd(b->base->progs.base_ipip_tx);
	b->fd_mem = bpf_program__fd(b->base->progs.base_memory);
	b->fd_bound = bpf_program__fd(b->base->progs.base_flow_tx);
	if ((err = bound_fill(b)))
		return err;
	b->rw = rewind_bpf__open_and_load();
	if (!b->rw)
		return -errno;
	b->small = calloc(1, sizeof(*b->small));
	if (!b->small)
		return -ENOMEM;
	return setup_xlb(b->small, XLB_FLOWS_MIN / XLB_FLOW_WAYS);
}

/* ---- one program run -------------------------------------------------- */

/* Runs prog once on pkt; *ns is the kernel's duration. Returns the verdict. */
static int run_once(int prog_fd, const void *pkt, __u32 len, __u32 ifindex,
		    void *out, __u32 *out_len, __u32 *ns)
{
	struct xdp_md md = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = out ? PKT_MAX : 0,
		    .ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (ns)
		*ns = o.duration;
	if (out_len)
		*out_len = o.data_size_out;
	return o.retval;
}

/* The packets xlb sends are what it should send (checked once). */
static int check_output(const struct bench *b)
{
	__u8 out[PKT_MAX];
	__u32 len;
	int rc;

	rc = run_once(b->fd_xlb, b->pkt4, b->len4, TR_IFINDEX, out, &len, NULL);
	if (rc != XDP_TX || len != b->len4 + 20 || out[12] != 0x08 ||
	    out[13] != 0x00 || out[14] != 0x45 || out[14 + 9] != 4 ||
	    out[14 + 18] != 8 || out[14 + 19] != 0 ||
	    memcmp(out, MAC_NH, 6) ||
	    memcmp(out + 34, b->pkt4 + 14, b->len4 - 14)) {
		warnx("IPv4 packet not encapsulated as expected (verdict %d, %u bytes)",
		      rc, len);
		return -1;
	}
	rc = run_once(b->fd_xlb, b->pkt6, b->len6, TR_IFINDEX, out, &len, NULL);
	if (rc != XDP_TX || len != b->len6 + 40 || out[12] != 0x86 ||
	    out[13] != 0xdd || (out[14] >> 4) != 6 || out[14 + 6] != 41 ||
	    out[14 + 38] != 0x86 || out[14 + 39] != 0xdd ||
	    memcmp(out + 54, b->pkt6 + 14, b->len6 - 14)) {
		warnx("IPv6 packet not encapsulated as expected (verdict %d, %u bytes)",
		      rc, len);
		return -1;
	}
	return 0;
}

/* ---- 1. ns per packet ------------------------------------------------- */

/* A case's client address: fixed, new on every run, or one of many flows. */
enum new_kind { FIXED = 0, NEW4, NEW6, CYCLE4 };

struct tcase {
	const char *name;
	int prog_fd;
	int v6; /* which packet */
	int host; /* the IPv4 packet to the host instead (v6 = 0) */
	enum new_kind fresh; /* rewrite the source on every run */
	int syn; /* send it as a SYN (a new connection) instead of an ACK */
	int small; /* run by the instance with the smallest flow table */
	int limited; /* with new_flow_limit reached: no insert */
	int want; /* expected verdict */
	int want_stat; /* xlb: the counter (FLOW_HIT, _MISS, PASS) per run, or -1 */
	int target; /* ns above drop, 0 none */
	int katran; /* ns above drop, 0 none */
	int base; /* index of its XDP_DROP baseline */
	int encap; /* index of its trivial-IPIP baseline, -1 none */
	double ns[MAX_ROUNDS];
	__u64 bad; /* runs with another verdict or counter */
};

#define TC(n, fd, six, fr, w, st, tg, kat, bs, en)                             \
	{ .name = (n), .prog_fd = (fd), .v6 = (six), .fresh = (fr),            \
	  .want = (w), .want_stat = (st), .target = (tg), .katran = (kat),     \
	  .base = (bs), .encap = (en) }

static __u32 fresh_next; /* next new-flow source number */

static __u32 flow_set(const struct bench *b, const struct xlb_flow_key *k)
{
	return xlb_flow_set_of(xlb_flow_hash(b->seed, k), XLB_FLOW_SETS);
}

/*
 * The next fresh source whose flow does not share a set with the
 * established flows: a set that fills up replaces its least recently seen
 * entry, and the established cases must keep theirs.
 */
static __u32 fresh_source(const struct bench *b, enum new_kind kind)
{
	struct xlb_flow_key k;

	for (;; fresh_next++) {
		if (kind == NEW4)
			flow_key4(b, fresh_next, &k);
		else
			flow_key6(b, fresh_next, &k);
		if (flow_set(b, &k) != b->est_set[0] &&
		    flow_set(b, &k) != b->est_set[1])
			return fresh_next++;
	}
}

#define FLOWS_LEN ((size_t)XLB_FLOW_SETS * sizeof(struct xlb_flow_set))

/* The default instance's flow table, mapped; MAP_FAILED on error. */
static struct xlb_flow_set *flows_map(const struct bench *b)
{
	return mmap(NULL, FLOWS_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		    b->fd_flows, 0);
}

/* Empties the whole flow table (tags 0: every way free). */
static int flows_clear(const struct bench *b)
{
	struct xlb_flow_set *sets = flows_map(b);
	__u32 i;

	if (sets == MAP_FAILED)
		return -1;
	for (i = 0; i < XLB_FLOW_SETS; i++)
		memset(sets[i].tag, 0, sizeof(sets[i].tag));
	munmap(sets, FLOWS_LEN);
	return 0;
}

/* Empties the flow-table entries of the fresh sources from..to-1. */
static int delete_new_flows(const struct bench *b, enum new_kind kind,
			    __u32 from, __u32 to)
{
	struct xlb_flow_set *sets, *s;
	struct xlb_flow_key k;
	__u32 n, w;
	__u64 h;

	if (from == to)
		return 0;
	sets = flows_map(b);
	if (sets == MAP_FAILED)
		return -errno;
	for (n = from; n != to; n++) {
		if (kind == NEW4)
			flow_key4(b, n, &k);
		else
			flow_key6(b, n, &k);
		h = xlb_flow_hash(b->seed, &k);
		s = &sets[xlb_flow_set_of(h, XLB_FLOW_SETS)];
		for (w = 0; w < XLB_FLOW_WAYS; w++)
			if (!memcmp(&s->way[w].key, &k, sizeof(k)))
				s->tag[w] = 0;
	}
	munmap(sets, FLOWS_LEN);
	return 0;
}

/*
 * Many established flows, taken in turn, so that each packet's flow-table
 * set was last touched NCYC packets earlier and is no longer cached, as
 * on a balancer with many connections. Sources from 198.18.0.0/15, at
 * most three to a set and none in the established flows' sets; their
 * sets are emptied before the flows are recorded (again at each call:
 * the table-full phase replaces them), so that none is evicted, even by
 * a tie of access times with an older entry, and every packet hits.
 */
#define NCYC 98304

static int cycle_setup(struct bench *b)
{
	struct xlb_flow_set *sets;
	struct xlb_flow_key k;
	__u8 pkt[PKT_MAX], *fill;
	__u32 i, cand;

	if (!b->cyc) {
		b->cyc = calloc(NCYC, sizeof(*b->cyc));
		fill = calloc(XLB_FLOW_SETS, 1);
		if (!b->cyc || !fill) {
			free(fill);
			return -ENOMEM;
		}
		flow_key4(b, 0, &k);
		for (i = 0, cand = 0; i < NCYC && cand < 131072; cand++) {
			__u32 set;

			k.src[0] = htonl(0xc6120000 + cand);
			set = flow_set(b, &k);
			if (set == b->est_set[0] || set == b->est_set[1] ||
			    fill[set] >= 3)
				continue;
			fill[set]++;
			b->cyc[i++] = k.src[0];
		}
		free(fill);
		if (i < NCYC)
			return -ENOSPC;
		b->ncyc = NCYC;
	}
	sets = flows_map(b);
	if (sets == MAP_FAILED)
		return -errno;
	flow_key4(b, 0, &k);
	for (i = 0; i < b->ncyc; i++) {
		k.src[0] = b->cyc[i];
		memset(sets[flow_set(b, &k)].tag, 0, sizeof(sets->tag));
	}
	munmap(sets, FLOWS_LEN);
	memcpy(pkt, b->pkt4, b->len4);
	for (i = 0; i < b->ncyc; i++) {
		put_src4(pkt, b->cyc[i]);
		if (run_once(b->fd_xlb, pkt, b->len4, TR_IFINDEX, NULL, NULL,
			     NULL) != XDP_TX)
			return -EIO;
	}
	b->cyc_next = 0;
	return 0;
}

/* Writes the source of a case's next run into pkt. */
static void next_source(struct bench *b, const struct tcase *c, __u8 *pkt)
{
	if (c->fresh == NEW4)
		set_src4(pkt, fresh_source(b, NEW4));
	else if (c->fresh == NEW6)
		set_src6(pkt, fresh_source(b, NEW6));
	else if (c->fresh == CYCLE4)
		put_src4(pkt, b->cyc[b->cyc_next++ % b->ncyc]);
}

/*
 * n runs of a case as in-kernel repeats (part 1b): rewind.bpf.c restores
 * the packet before each run, writes the run's client address and
 * tail-calls the case's program. Calls of at most REWIND_SRCS runs; the
 * kernel's duration is per run. Returns the mean ns, or < 0.
 */
static double run_rewound(struct bench *b, struct tcase *c, __u8 *pkt,
			  __u32 len, int n)
{
	struct rewind_bpf *rw = b->rw;
	int frags = c->prog_fd == b->fd_xlb || c->prog_fd == b->small->fd_xlb;
	int prog = bpf_program__fd(frags ? rw->progs.rewind_frags :
					  rw->progs.rewind_base);
	int next = bpf_map__fd(frags ? rw->maps.rewind_next_frags :
				       rw->maps.rewind_next);
	__u32 off = 14 + (c->v6 ? 8 + 12 : 12), zero = 0, k, j;
	__u32 cap = sizeof(rw->bss->rewind_src) / sizeof(rw->bss->rewind_src[0]);
	double sum = 0;
	int done;

	if (bpf_map_update_elem(next, &zero, &c->prog_fd, BPF_ANY)) {
		warnx("%s: prog array: %s", c->name, strerror(errno));
		return -1;
	}
	memcpy(rw->bss->rewind_eth, pkt, sizeof(rw->bss->rewind_eth));
	rw->bss->rewind_len = len;
	rw->bss->rewind_src_off = off;
	for (done = 0; done < n; done += k) {
		struct xdp_md md = { .data_end = len,
				     .ingress_ifindex = TR_IFINDEX };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
			    .data_size_in = len, .ctx_in = &md,
			    .ctx_size_in = sizeof(md));

		k = n - done < (int)cap ? (__u32)(n - done) : cap;
		o.repeat = k;
		for (j = 0; j < k; j++) {
			next_source(b, c, pkt);
			memcpy(&rw->bss->rewind_src[j], pkt + off, 4);
		}
		rw->bss->rewind_n = k;
		rw->bss->rewind_i = 0;
		rw->bss->rewind_bad = 0;
		if (bpf_prog_test_run_opts(prog, &o)) {
			warnx("%s: BPF_PROG_TEST_RUN: %s", c->name,
			      strerror(errno));
			return -1;
		}
		if (o.retval != (__u32)c->want || rw->bss->rewind_bad)
			c->bad += k;
		sum += (double)o.duration * k;
	}
	return sum / n;
}

/* n single runs of a case (part 1); returns the mean kernel ns, or < 0. */
static double run_single(struct bench *b, struct tcase *c, __u8 *pkt,
			 __u32 len, int n)
{
	__u64 sum = 0;
	__u32 ns;
	int i, rc;

	for (i = 0; i < n; i++) {
		next_source(b, c, pkt);
		rc = run_once(c->prog_fd, pkt, len, TR_IFINDEX, NULL, NULL, &ns);
		if (rc < 0) {
			warnx("%s: BPF_PROG_TEST_RUN: %s", c->name,
			      strerror(-rc));
			return -1;
		}
		if (rc != c->want)
			c->bad++;
		sum += ns;
	}
	return (double)sum / n;
}

/* n runs of a case, checked by xlb's counters; the mean ns, or < 0. */
static double run_case(struct bench *b, struct tcase *c, int n)
{
	struct bench *x = c->small ? b->small : b; /* whose counters */
	__u8 pkt[PKT_MAX];
	__u64 s0[XLB_STAT_MAX], s1[XLB_STAT_MAX];
	__u32 len = c->v6 ? b->len6 : c->host ? b->lenh : b->len4;
	double m;

	memcpy(pkt, c->v6 ? b->pkt6 : c->host ? b->pkth : b->pkt4, len);
	if (c->syn) /* TCP flags; xlb checks no L4 checksum */
		pkt[14 + (c->v6 ? 40 : 20) + 13] = 0x02;
	if (c->limited && limit_set(x, 1))
		return -1;
	if (c->want_stat >= 0 && stats_read(x, s0))
		return -1;
	m = b->warm ? run_rewound(b, c, pkt, len, n) :
		      run_single(b, c, pkt, len, n);
	if (m < 0)
		return -1;
	if (c->limited && limit_set(x, 0))
		return -1;
	if (c->want_stat >= 0) {
		if (stats_read(x, s1))
			return -1;
		if (s1[c->want_stat] - s0[c->want_stat] != (__u64)n ||
		    (c->want == XDP_TX &&
		     s1[XLB_STAT_TX] - s0[XLB_STAT_TX] != (__u64)n))
			c->bad += n;
		/* One insert a second on this CPU: a second may turn. */
		if (c->limited && s1[XLB_STAT_FLOW_LIMITED] -
						  s0[XLB_STAT_FLOW_LIMITED] + 2 <
					  (__u64)n)
			c->bad += n;
	}
	return m;
}

/*
 * One round of a set of cases. New-flow cases get fresh sources; their
 * entries are deleted afterwards unless keep is set, so the table never
 * has to replace a live entry.
 */
static int run_round(struct bench *b, struct tcase *cs, int nc, int round,
		     int n, int keep)
{
	int i;

	for (i = 0; i < nc; i++) {
		__u32 from = fresh_next;
		double m = run_case(b, &cs[i], n);

		if (m < 0)
			return -1;
		if (round >= 0)
			cs[i].ns[round] = m;
		if (cs[i].fresh && !keep && !cs[i].small &&
		    delete_new_flows(b, cs[i].fresh, from, fresh_next))
			return -1;
	}
	return 0;
}

static void print_case(const struct tcase *c, const struct tcase *all,
		       int rounds)
{
	double lo, hi, m = median(c->ns, rounds, &lo, &hi);
	double base = median(all[c->base].ns, rounds, NULL, NULL);
	double above = m - base;
	char t[32] = "", k[32] = "", a[32] = "", e[32] = "";

	if (c != &all[c->base])
		snprintf(a, sizeof(a), "%.1f", above);
	if (c->encap >= 0)
		snprintf(e, sizeof(e), "%.1f",
			 m - median(all[c->encap].ns, rounds, NULL, NULL));
	if (c->target)
		snprintf(t, sizeof(t), "<= %d %s", c->target,
			 above <= c->target ? "met " : "OVER");
	if (c->katran)
		snprintf(k, sizeof(k), "%d", c->katran);
	printf("  %-34s %7.1f %6.1f-%-6.1f %10s %10s  %-11s %6s\n", c->name,
	       m, lo, hi, a, e, t, k);
	if (c->bad)
		printf("  %-34s !! %llu runs with an unexpected verdict or counter\n",
		       "", (unsigned long long)c->bad);
}

static void print_single_header(const struct opts *o)
{
	printf("1. Per packet, BPF_PROG_TEST_RUN (repeat = 1 per call, kernel-timed)\n");
	printf("   %d rounds x %d runs per case, rounds interleaved; median of round means.\n",
	       o->rounds, o->runs);
	printf("   ns/pkt includes the fixed cost of a timed call (timer reads, ~40 ns on\n");
	printf("   the reference host), which XDP_DROP carries too: \"above drop\" is the\n");
	printf("   program's own cost; targets and Katran (measured the same way on this\n");
	printf("   machine kind) are ns above XDP_DROP. \"above IPIP\" is what xlb costs\n");
	printf("   beyond a trivial encapsulating forwarder. \"2 random reads\" is the\n");
	printf("   memory a new flow must touch (a flow-table set, a table slot) at a\n");
	printf("   fresh address per run, and nothing else (a run's reads start once\n");
	printf("   the previous run's have arrived, as in a program as long as xlb's):\n");
	printf("   this machine's floor for it. \"flow probe + IPIP push\" is the\n");
	printf("   trivial forwarder plus the flow-table lookup an established flow\n");
	printf("   cannot skip (key, keyed hash, one set's tags and key), with nothing\n");
	printf("   else: the floor of a balancer that keeps a flow table.\n");
	printf("   The 1,024-flow rows run xlb with the smallest flow table (64 KB, in\n");
	printf("   cache, every insert replacing an entry): Katran's program, run without\n");
	printf("   its control plane as here, finds no per-CPU LRU and uses its 1,000-entry\n");
	printf("   fallback LRU, so these rows compare like with like; the default table\n");
	printf("   (16 MB) misses the cache on every new flow. The new_flow_limit rows\n");
	printf("   cap recording at 1 flow per CPU per second, as under a SYN flood: the\n");
	printf("   SYNs are forwarded, not recorded.\n\n");
}

static void print_rewound_header(const struct opts *o)
{
	printf("1b. Per packet, BPF_PROG_TEST_RUN with repeat > 1, rewound\n");
	printf("   The same cases, %d rounds x %d runs, each case's runs in calls of\n",
	       o->rounds, o->runs);
	printf("   repeat = runs: before every run a rewind program (tests/bpf/\n");
	printf("   rewind.bpf.c) undoes the previous run's rewrite of the packet,\n");
	printf("   writes the run's client address (the same list as above), and\n");
	printf("   tail-calls the case's program; \"above drop\" subtracts rewind +\n");
	printf("   XDP_DROP, so rewinding cancels. No system call between runs: where\n");
	printf("   page-table isolation runs without PCID, every single run of part 1\n");
	printf("   starts with a flushed TLB, which packets arriving from a NIC in a\n");
	printf("   NAPI batch do not; this part times the program with warm TLB and\n");
	printf("   caches, as a stream of packets sees it.\n\n");
}

static int bench_ns(struct bench *b, const struct opts *o)
{
	enum { D4, S4, P4, F4, M4, D6, S6, P6, F6, E4, E6, N4, N6, Y4, Y6, L4,
	       L6, K4, K6, H4, HN, NCASE };
	struct tcase cs[NCASE] = {
		[D4] = TC("XDP_DROP (IPv4 packet)", b->fd_drop, 0, FIXED,
			  XDP_DROP, -1, 0, 0, D4, -1),
		[S4] = TC("MAC swap + XDP_TX (IPv4)", b->fd_swap, 0, FIXED,
			  XDP_TX, -1, 0, 0, D4, -1),
		[P4] = TC("trivial IPIP push + XDP_TX (IPv4)", b->fd_ipip, 0,
			  FIXED, XDP_TX, -1, 0, 0, D4, -1),
		[F4] = TC("flow probe + IPIP push (IPv4)", b->fd_bound, 0,
			  FIXED, XDP_TX, -1, 0, 0, D4, P4),
		[M4] = TC("2 random reads (16 MB, 256 KB)", b->fd_mem, 0, NEW4,
			  XDP_DROP, -1, 0, 0, D4, -1),
		[D6] = TC("XDP_DROP (IPv6 packet)", b->fd_drop, 1, FIXED,
			  XDP_DROP, -1, 0, 0, D6, -1),
		[S6] = TC("MAC swap + XDP_TX (IPv6)", b->fd_swap, 1, FIXED,
			  XDP_TX, -1, 0, 0, D6, -1),
		[P6] = TC("trivial IP6IP6 push + XDP_TX", b->fd_ipip, 1, FIXED,
			  XDP_TX, -1, 0, 0, D6, -1),
		[F6] = TC("flow probe + IP6IP6 push", b->fd_bound, 1, FIXED,
			  XDP_TX, -1, 0, 0, D6, P6),
		[E4] = TC("xlb established IPv4 (ACK)", b->fd_xlb, 0, FIXED,
			  XDP_TX, XLB_STAT_FLOW_HIT, TARGET_EST_NS, 86, D4, P4),
		[E6] = TC("xlb established IPv6 (ACK)", b->fd_xlb, 1, FIXED,
			  XDP_TX, XLB_STAT_FLOW_HIT, TARGET_EST_NS, 81, D6, P6),
		[N4] = TC("xlb new IPv4 flow (ACK, no entry)", b->fd_xlb, 0,
			  NEW4, XDP_TX, XLB_STAT_FLOW_MISS, TARGET_NEW_NS, 191,
			  D4, P4),
		[N6] = TC("xlb new IPv6 flow (ACK, no entry)", b->fd_xlb, 1,
			  NEW6, XDP_TX, XLB_STAT_FLOW_MISS, TARGET_NEW_NS, 205,
			  D6, P6),
		/* A connection's first packet: no flow lookup, one insert. */
		[Y4] = TC("xlb new IPv4 connection (SYN)", b->fd_xlb, 0, NEW4,
			  XDP_TX, XLB_STAT_FLOW_MISS, 0, 0, D4, P4),
		[Y6] = TC("xlb new IPv6 connection (SYN)", b->fd_xlb, 1, NEW6,
			  XDP_TX, XLB_STAT_FLOW_MISS, 0, 0, D6, P6),
		/* A SYN flood: new_flow_limit reached, nothing recorded. */
		[L4] = TC("xlb SYN above new_flow_limit, IPv4", b->fd_xlb, 0,
			  NEW4, XDP_TX, XLB_STAT_FLOW_MISS, 0, 0, D4, P4),
		[L6] = TC("xlb SYN above new_flow_limit, IPv6", b->fd_xlb, 1,
			  NEW6, XDP_TX, XLB_STAT_FLOW_MISS, 0, 0, D6, P6),
		/* Like for like with Katran's 1,000-entry fallback LRU. */
		[K4] = TC("xlb new IPv4 flow, 1,024 flows", b->small->fd_xlb,
			  0, NEW4, XDP_TX, XLB_STAT_FLOW_MISS, 0, 191, D4, P4),
		[K6] = TC("xlb new IPv6 flow, 1,024 flows", b->small->fd_xlb,
			  1, NEW6, XDP_TX, XLB_STAT_FLOW_MISS, 0, 205, D6, P6),
		/*
		 * The host's own TCP through the interface: a flow-table
		 * probe that misses, a VIP lookup that misses, XDP_PASS.
		 */
		[H4] = TC("not a VIP, to the host (one flow)", b->fd_xlb, 0,
			  FIXED, XDP_PASS, XLB_STAT_PASS, 0, 0, D4, -1),
		[HN] = TC("not a VIP, to the host (new flows)", b->fd_xlb, 0,
			  NEW4, XDP_PASS, XLB_STAT_PASS, 0, 0, D4, -1),
	};
	struct tcase full = TC("xlb new IPv4 flow, table full", b->fd_xlb, 0,
			       NEW4, XDP_TX, XLB_STAT_FLOW_MISS, 0, 0, 0, 1);
	struct tcase with_full[3], with_cyc[2];
	__u32 fill = XLB_MAX_FLOWS * 2;
	int r, i;

	cs[Y4].syn = cs[Y6].syn = cs[L4].syn = cs[L6].syn = 1;
	cs[L4].limited = cs[L6].limited = 1;
	cs[K4].small = cs[K6].small = 1;
	cs[H4].host = cs[HN].host = 1;

	{
		struct xlb_flow_key k;

		est_key(b, 0, &k);
		b->est_set[0] = flow_set(b, &k);
		est_key(b, 1, &k);
		b->est_set[1] = flow_set(b, &k);
	}
	/* The established flows' entries: one pass through the table. */
	if (run_once(b->fd_xlb, b->pkt4, b->len4, TR_IFINDEX, NULL, NULL,
		     NULL) != XDP_TX ||
	    run_once(b->fd_xlb, b->pkt6, b->len6, TR_IFINDEX, NULL, NULL,
		     NULL) != XDP_TX)
		return -1;
	if (check_output(b))
		return -1;

	/* Warm-up round, not recorded. */
	if (run_round(b, cs, NCASE, -1, o->runs / 10 + 1, 0))
		return -1;
	for (i = 0; i < NCASE; i++)
		cs[i].bad = 0;
	for (r = 0; r < o->rounds; r++)
		if (run_round(b, cs, NCASE, r, o->runs, 0))
			return -1;

	/* Established flows whose sets are not cached: a phase of its own. */
	if (cycle_setup(b)) {
		warnx("recording %d established flows failed", NCYC);
		return -1;
	}
	with_cyc[0] = cs[D4];
	with_cyc[0].name = "XDP_DROP (IPv4 packet, again)";
	with_cyc[1] = cs[E4];
	with_cyc[1].name = "xlb established IPv4, 98,304 flows";
	with_cyc[1].fresh = CYCLE4;
	with_cyc[1].base = 0;
	with_cyc[1].encap = -1;
	with_cyc[1].target = 0;
	with_cyc[1].katran = 0;
	with_cyc[0].bad = with_cyc[1].bad = 0;
	for (r = 0; r < o->rounds; r++)
		if (run_round(b, with_cyc, 2, r, o->runs, 1))
			return -1;

	/*
	 * Steady state of a busy balancer: every set of the flow table is
	 * full, so every insert replaces a way. Fill it untimed, then measure.
	 */
	with_full[0] = cs[D4];
	with_full[0].name = "XDP_DROP (IPv4 packet, again)";
	with_full[1] = cs[P4];
	with_full[1].name = "trivial IPIP push (again)";
	with_full[1].base = 0;
	with_full[2] = full;
	with_full[0].bad = with_full[1].bad = 0;
	if (run_round(b, &with_full[2], 1, -1, fill, 1))
		return -1;
	with_full[2].bad = 0;
	for (r = 0; r < o->rounds; r++)
		if (run_round(b, with_full, 3, r, o->runs, 1))
			return -1;
	/* The next part starts from an empty table, as this one did. */
	if (flows_clear(b)) {
		warnx("emptying the flow table: %s", strerror(errno));
		return -1;
	}

	if (b->warm)
		print_rewound_header(o);
	else
		print_single_header(o);
	printf("  %-34s %7s %13s %10s %10s  %-11s %6s\n", "case", "ns/pkt",
	       "round range", "above drop", "above IPIP", "target", "Katran");
	for (i = 0; i < NCASE; i++) {
		if (i == D6 || i == E4 || i == H4)
			printf("\n");
		print_case(&cs[i], cs, o->rounds);
	}
	printf("\n  informational: %d established flows in turn (each set last touched\n"
	       "  %d packets earlier: not cached, as on a busy balancer)\n",
	       NCYC, NCYC);
	for (i = 0; i < 2; i++)
		print_case(&with_cyc[i], with_cyc, o->rounds);
	printf("\n  informational: flow table (%u entries) full, every insert "
	       "replaces one\n",
	       XLB_MAX_FLOWS);
	for (i = 0; i < 3; i++)
		print_case(&with_full[i], with_full, o->rounds);
	for (i = 0; i < NCASE; i++)
		if (cs[i].bad)
			return -1;
	return with_full[2].bad || with_cyc[1].bad ? -1 : 0;
}

/* ---- 2. live frames --------------------------------------------------- */

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc) {
		warnx("'%s' failed (status %d)", cmd, rc);
		return -1;
	}
	return 0;
}

static int if_running(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), up;

	if (s < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	up = !ioctl(s, SIOCGIFFLAGS, &ifr) &&
	     (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	close(s);
	return up;
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

#define LC(n, fd, six, x, v, t)                                                \
	{                                                                      \
		.name = (n), .prog_fd = (fd), .v6 = (six), .xlb = (x),         \
		.vs = (v), .target = (t)                                       \
	}

struct lcase {
	const char *name;
	int prog_fd;
	int v6;
	int xlb;
	int vs; /* index of the case it is compared with, -1 none */
	int target; /* print the target ratio */
	double pps[MAX_ROUNDS]; /* frames delivered to the peer per second */
	double dlv[MAX_ROUNDS]; /* share of the frames delivered */
	double tx[MAX_ROUNDS]; /* xlb: share it counted as XDP_TX */
	double hit[MAX_ROUNDS]; /* xlb: share that hit the flow table */
};

static int sink_read(const struct bench *b, __u64 *out)
{
	__u64 v[b->ncpus];
	__u32 zero = 0;
	int c;

	if (bpf_map_lookup_elem(bpf_map__fd(b->base->maps.sink_count), &zero,
				v))
		return -errno;
	*out = 0;
	for (c = 0; c < b->ncpus; c++)
		*out += v[c];
	return 0;
}

/*
 * One live call. pps counts the frames that reached the peer's sink
 * program (for XDP_DROP, the frames injected) over the call's wall time.
 */
static int live_run(struct bench *b, struct lcase *c, __u32 repeat, int round)
{
	__u32 len = c->v6 ? b->len6 : b->len4;
	struct xdp_md md = { .data_end = len,
			     .ingress_ifindex = LIVE_IFINDEX0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = c->v6 ? b->pkt6 : b->pkt4,
		    .data_size_in = len, .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = repeat,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	__u64 s0[XLB_STAT_MAX], s1[XLB_STAT_MAX], k0, k1;
	double t0, t1, got;

	if ((c->xlb && stats_read(b, s0)) || sink_read(b, &k0))
		return -1;
	t0 = now_s();
	if (bpf_prog_test_run_opts(c->prog_fd, &o)) {
		warnx("%s: live BPF_PROG_TEST_RUN: %s", c->name,
		      strerror(errno));
		return -1;
	}
	t1 = now_s();
	if ((c->xlb && stats_read(b, s1)) || sink_read(b, &k1))
		return -1;
	got = c->prog_fd == b->fd_drop ? repeat : k1 - k0;
	c->dlv[round] = got / repeat;
	c->pps[round] = got / (t1 - t0);
	if (c->xlb) {
		c->tx[round] =
		    (double)(s1[XLB_STAT_TX] - s0[XLB_STAT_TX]) / repeat;
		c->hit[round] =
		    (double)(s1[XLB_STAT_FLOW_HIT] - s0[XLB_STAT_FLOW_HIT]) /
			       repeat;
	}
	return 0;
}

static double med(const double *v, int n)
{
	return median(v, n, NULL, NULL);
}

static int live_measure(struct bench *b, const struct opts *o)
{
	enum { LD, LB4, LP4, LF4, LX4, LB6, LP6, LF6, LX6, NL };
	struct lcase cs[NL] = {
		[LD] = LC("XDP_DROP (generator ceiling)", b->fd_drop, 0, 0, -1,
			  0),
		[LB4] = LC("MAC swap + XDP_TX bounce, IPv4", b->fd_swap, 0, 0,
			   -1, 0),
		[LP4] = LC("trivial IPIP forwarder, IPv4", b->fd_ipip, 0, 0,
			   LB4, 0),
		[LF4] = LC("flow probe + IPIP forwarder, IPv4", b->fd_bound, 0,
			   0, LB4, 0),
		[LX4] = LC("xlb established IPv4 (IPIP)", b->fd_xlb, 0, 1, LB4,
			   1),
		[LB6] = LC("MAC swap + XDP_TX bounce, IPv6", b->fd_swap, 1, 0,
			   -1, 0),
		[LP6] = LC("trivial IP6IP6 forwarder", b->fd_ipip, 1, 0, LB6,
			   0),
		[LF6] = LC("flow probe + IP6IP6 forwarder", b->fd_bound, 1, 0,
			   LB6, 0),
		[LX6] = LC("xlb established IPv6 (IP6IP6)", b->fd_xlb, 1, 1,
			   LB6, 1),
	};
	int n = o->live_rounds, r, i, partial = 0;
	double fixed, t0;

	/* The flows' entries may have been evicted in part 1: re-create. */
	if (run_once(b->fd_xlb, b->pkt4, b->len4, LIVE_IFINDEX0, NULL, NULL,
		     NULL) != XDP_TX ||
	    run_once(b->fd_xlb, b->pkt6, b->len6, LIVE_IFINDEX0, NULL, NULL,
		     NULL) != XDP_TX) {
		warnx("xlb does not XDP_TX on %s", LIVE_IF0);
		return -1;
	}
	/* Warm-up, and the fixed cost of one call. */
	for (i = 0; i < NL; i++)
		if (live_run(b, &cs[i], 100000, 0))
			return -1;
	t0 = now_s();
	if (live_run(b, &cs[LD], 64, 0))
		return -1;
	fixed = now_s() - t0;

	for (r = 0; r < n; r++)
		for (i = 0; i < NL; i++)
			if (live_run(b, &cs[i], o->live_repeat, r))
				return -1;

	printf("2. Live frames, one core: BPF_F_TEST_XDP_LIVE_FRAMES into veth %s; XDP_TX\n",
	       LIVE_IF0);
	printf("   reaches the peer %s, whose native XDP program counts and drops.\n",
	       LIVE_IF1);
	printf("   %d rounds x %u frames of %u (IPv4) / %u (IPv6) bytes, median.\n",
	       n, o->live_repeat, b->len4, b->len6);
	printf("   Mpps = frames that reached the peer / wall time of the call (a call's\n");
	printf("   fixed cost, %.3f ms, included); delivered = share of injected frames\n",
	       fixed * 1e3);
	printf("   that arrived; xlb TX / flow hit = xlb's own counters per frame.\n\n");
	printf("  %-34s %6s %13s %9s %7s %7s  %s\n", "program", "Mpps",
	       "round range", "delivered", "xlb TX", "flowhit",
	       "vs bounce  target");
	for (i = 0; i < NL; i++) {
		double lo, hi, m = median(cs[i].pps, n, &lo, &hi);
		double d = med(cs[i].dlv, n);
		char tx[16] = "", h[16] = "", v[48] = "";

		if (cs[i].xlb) {
			snprintf(tx, sizeof(tx), "%.1f%%", 100 * med(cs[i].tx, n));
			snprintf(h, sizeof(h), "%.1f%%", 100 * med(cs[i].hit, n));
			if (med(cs[i].tx, n) < 0.999)
				partial = 1;
		}
		if (cs[i].vs >= 0) {
			double ratio = m / med(cs[cs[i].vs].pps, n);

			if (cs[i].target)
				snprintf(v, sizeof(v), "%5.1f%%    >= %.0f%% %s",
					 100 * ratio, 100 * TARGET_LIVE_RATIO,
					 ratio >= TARGET_LIVE_RATIO ? "met" :
								      "UNDER");
			else
				snprintf(v, sizeof(v), "%5.1f%%", 100 * ratio);
		}
		if (i == LB4 || i == LB6)
			printf("\n");
		printf("  %-34s %6.2f %6.2f-%-6.2f %8.1f%% %7s %7s  %s\n",
		       cs[i].name, m / 1e6, lo / 1e6, hi / 1e6, 100 * d, tx, h,
		       v);
	}
	if (partial)
		printf("  !! xlb sent only part of the frames with XDP_TX: see \"xlb TX\"\n");
	printf("\n  flow probe + forwarder: the trivial forwarder plus the flow-table\n"
	       "  lookup alone (part 1's row of that name): about the most a balancer\n"
	       "  that keeps a flow table can reach on this machine.\n");
	printf("\n  reference (LAB.md, this machine kind): into XDP_DROP ~17 Mpps, bounce\n"
	       "  ~11-12, trivial IPIP forwarder ~8.7 (about 75%% of the bounce).\n");
	return 0;
}

/* The child: own network namespace, veth pair, measure, tear down. */
static int live_child(struct bench *b, const struct opts *o)
{
	int rc = -1, attached = 0, i;

	if (unshare(CLONE_NEWNET)) {
		warnx("unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	/* From here on only this private namespace is touched. */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (sh("ip link add %s index %d type veth peer name %s index %d",
	       LIVE_IF0, LIVE_IFINDEX0, LIVE_IF1, LIVE_IFINDEX1) ||
	    sh("ip link set %s up && ip link set %s up", LIVE_IF0, LIVE_IF1))
		goto out;
	for (i = 0; i < 300 && !(if_running(LIVE_IF0) &&
				 if_running(LIVE_IF1));
	     i++)
		usleep(10000);
	if (if_nametoindex(LIVE_IF0) != LIVE_IFINDEX0 ||
	    if_nametoindex(LIVE_IF1) != LIVE_IFINDEX1 ||
	    !if_running(LIVE_IF0) || !if_running(LIVE_IF1)) {
		warnx("veth pair did not come up");
		goto out;
	}
	if (bpf_xdp_attach(LIVE_IFINDEX1,
			   bpf_program__fd(b->base->progs.base_sink),
			   XDP_FLAGS_DRV_MODE,
			   NULL)) {
		warnx("native XDP attach on %s: %s", LIVE_IF1,
		      strerror(errno));
		goto out;
	}
	attached = 1;
	if (nexthops_set(b, LIVE_IFINDEX0))
		goto out;
	rc = live_measure(b, o);
out:
	if (attached)
		bpf_xdp_detach(LIVE_IFINDEX1, XDP_FLAGS_DRV_MODE, NULL);
	if (if_nametoindex(LIVE_IF0))
		sh("ip link del %s", LIVE_IF0);
	return rc;
}

static int bench_live(struct bench *b, const struct opts *o)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		warnx("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int rc = live_child(b, o);

		fflush(stdout);
		_exit(rc ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- main ------------------------------------------------------------- */

/*
 * Fresh sources both parts of part 1 take, at most: each round and the
 * warm-up give every new-flow case (10 of them) a source per run, and the
 * table-full phase fills the table twice over before its rounds.
 */
static unsigned long long fresh_sources_needed(const struct opts *o)
{
	unsigned long long per = 10ULL * ((unsigned long long)o->runs / 10 + 1 +
					  (unsigned long long)o->rounds * o->runs) +
				 2ULL * XLB_MAX_FLOWS +
				 (unsigned long long)o->rounds * o->runs;

	return 2 * per;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"Usage: %s [-c CPU] [-r ROUNDS] [-n RUNS] [-R LIVE_ROUNDS] [-l LIVE_REPEAT] [-L]\n"
		"  -c CPU          pin to this CPU (default: the last one)\n"
		"  -r ROUNDS       test-run rounds (default 7)\n"
		"  -n RUNS         runs per case per round (default 20000)\n"
		"  -R LIVE_ROUNDS  live-frame rounds (default 3)\n"
		"  -l LIVE_REPEAT  frames per live call (default 5000000)\n"
		"  -L              skip the live-frame part\n",
		argv0);
}

/* 1-minute load average and the processes runnable right now. */
static void load_read(double *avg, int *running)
{
	char line[256];
	FILE *f;

	*avg = -1;
	*running = -1;
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", avg) != 1)
			*avg = -1;
		fclose(f);
	}
	f = fopen("/proc/stat", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "procs_running %d", running) == 1)
			break;
	fclose(f);
}

/* Other work on the machine shows up in every figure: say so. */
static void load_report(const char *when)
{
	double avg;
	int run;

	load_read(&avg, &run);
	printf("  load %s: 1-min average %.2f, %d runnable (this one included)%s\n",
	       when, avg, run,
	       avg > 1.5 || run > 2 ? " - BUSY: other work distorts these figures" :
				      "");
}

/*
 * Host speed: XDP_DROP with repeat = 1,000,000 in one call (the loop
 * alone, timer amortized). LAB.md saw 6-9 ns on this machine kind.
 */
static void host_check(const struct bench *b)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b->pkt4,
		    .data_size_in = b->len4, .repeat = 1000000);
	__u32 best = ~0U;
	int i;

	for (i = 0; i < 3; i++)
		if (!bpf_prog_test_run_opts(b->fd_drop, &o) &&
		    o.duration < best)
			best = o.duration;
	printf("  host check: XDP_DROP in a 1,000,000-repeat loop %u ns/run "
	       "(LAB.md: 6-9 ns on this machine kind)\n", best);
}

static void print_prog_info(int fd, const char *name)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	printf("  %s: %u BPF instructions, %u bytes of x86 code\n", name,
	       info.xlated_prog_len / 8, info.jited_prog_len);
}

int main(int argc, char **argv)
{
	struct opts o = { .cpu = -1, .rounds = 7, .runs = 20000,
			  .live_rounds = 3, .live_repeat = 5000000 };
	struct bench b = { 0 };
	struct utsname u;
	cpu_set_t set;
	int ch, err, rc = 0;

	while ((ch = getopt(argc, argv, "c:r:n:R:l:Lh")) != -1) {
		switch (ch) {
		case 'c': o.cpu = atoi(optarg); break;
		case 'r': o.rounds = atoi(optarg); break;
		case 'n': o.runs = atoi(optarg); break;
		case 'R': o.live_rounds = atoi(optarg); break;
		case 'l': o.live_repeat = strtoul(optarg, NULL, 0); break;
		case 'L': o.no_live = 1; break;
		default: usage(argv[0]); return ch == 'h' ? 0 : 2;
		}
	}
	if (o.rounds < 1 || o.rounds > MAX_ROUNDS || o.runs < 1 ||
	    o.live_rounds < 1 || o.live_rounds > MAX_ROUNDS ||
	    o.live_repeat < 1000) {
		usage(argv[0]);
		return 2;
	}
	if (fresh_sources_needed(&o) > FRESH4_MASK) {
		warnx("-r %d -n %d needs %llu fresh client addresses, more than "
		      "the %u there are: fewer rounds or runs",
		      o.rounds, o.runs,
		      (unsigned long long)fresh_sources_needed(&o),
		      FRESH4_MASK + 1);
		return 2;
	}
	if (o.cpu < 0)
		o.cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	CPU_ZERO(&set);
	CPU_SET(o.cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		warnx("pin to CPU %d: %s", o.cpu, strerror(errno));
		return 1;
	}
	libbpf_set_print(libbpf_quiet);

	if ((err = setup(&b))) {
		warnx("setting up the programs: %s (root needed)",
		      strerror(err < 0 ? -err : err));
		rc = 1;
		goto out;
	}
	uname(&u);
	printf("xlb data-path benchmark - kernel %s, %d CPUs, pinned to CPU %d\n",
	       u.release, b.ncpus, o.cpu);
	print_prog_info(b.fd_xlb, "xlb_main");
	printf("  VIPs 203.0.113.10:80 and [2001:db8:f::10]:80, %d backends each, "
	       "65537-slot tables, next hops cached\n", N_BACKENDS);
	host_check(&b);
	load_report("at start");
	printf("\n");

	if (bench_ns(&b, &o)) {
		warnx("part 1 did not complete cleanly");
		rc = 1;
	}
	printf("\n");
	b.warm = 1;
	if (bench_ns(&b, &o)) {
		warnx("part 1b did not complete cleanly");
		rc = 1;
	}
	printf("\n");
	if (!o.no_live && bench_live(&b, &o)) {
		warnx("part 2 (live frames) could not run");
		rc = 1;
	}
	printf("\n");
	load_report("at end");
out:
	baseline_bpf__destroy(b.base);
	rewind_bpf__destroy(b.rw);
	xlb_bpf__destroy(b.xlb);
	if (b.small)
		xlb_bpf__destroy(b.small->xlb);
	free(b.small);
	free(b.cyc);
	return rc;
}
