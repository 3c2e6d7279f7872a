/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlb.h - the one ABI header shared by the XDP program (bpf/) and the
 * controller (user/). Every struct that crosses the kernel boundary is
 * defined here once, with fixed-width types, explicit padding and a size
 * check, so the layout the verifier sees is the layout userspace writes.
 * bpftool prints these field names from the maps' BTF.
 */
#ifndef XLB_H
#define XLB_H

#include <linux/types.h>

/* Capacities; override with -D at build time. */
#ifndef XLB_MAX_VIPS
#define XLB_MAX_VIPS 512 /* VIP ids 0..XLB_MAX_VIPS-1 */
#endif
#ifndef XLB_MAX_BACKENDS
#define XLB_MAX_BACKENDS 8192 /* backend ids, over all VIPs */
#endif
#ifndef XLB_MAX_FLOWS
#define XLB_MAX_FLOWS 262144 /* flow-table entries unless attach --flows */
#endif
#define XLB_FLOW_WAYS	       4 /* entries per flow-table set */
#define XLB_FLOW_SETS	       (XLB_MAX_FLOWS / XLB_FLOW_WAYS)
#define XLB_FLOWS_MIN 1024 /* attach --flows bounds (powers of two) */
#define XLB_FLOWS_MAX 16777216 /* 1 GiB of sets */
#define XLB_NEW_FLOW_LIMIT_MAX 100000000 /* inserts per CPU per second */
#define XLB_TABLE_SIZE_MAX 4194304 /* slots per VIP table */
#define XLB_TABLE_SIZE_DEFAULT 65537
/*
 * Slots of every VIP's table together: each takes 4 bytes in its live
 * place and as much in its idle one, so 2^26 is 512 MiB at most (e.g. 1,024
 * VIPs of 65,537 slots, or 16 of 4,194,301). A commit beyond it is refused
 * before anything is built.
 */
#ifndef XLB_TABLE_SLOTS_BUDGET
#define XLB_TABLE_SLOTS_BUDGET (1U << 26)
#endif
#define XLB_WEIGHT_MAX 65535
#define XLB_RAMP_FULL 1000 /* slow-start progress: permille of weight */
#define XLB_BACKEND_NONE 0xffffU /* slot with no usable backend; no id */

/*
 * The maps' layout, kept in xlb_config.abi. Raise it whenever a map's key,
 * value or meaning changes: a build refuses pinned maps another layout
 * made, whose bytes it would misread. 0 is never a layout (the field was
 * reserved and zero before it had this use). 2: flow-table sets with
 * tags and access times in their first cache line; the flow_busy counter.
 * 3: xlb_vip_filter. 4: xlb_config.flow_sets, the flow table's size.
 * 5: the flow hash (sums of products), which names sets and tags;
 * xlb_config.new_flow_limit, the insert window in xlb_clock and the
 * flow_limited counter; tables of 16-bit slots in pairs (xlb_slot_pair).
 * 6: xlb_config.vip_gen and xlb_vip_cache.
 * 7: the controller's commit record (xlb_commit, xlb_rec_vips,
 * xlb_rec_backends) is the source of truth, not the data path's maps;
 * nexthop_stale, pass_not_our_mac before the drops, and drop reasons for
 * fragments, IPv4 header checksums and options, source routes, TTL 0 and
 * bad sources (xlb_stats grows and its drop indices move).
 * 8: the flow hash (NH over each word's halves), which names other sets
 * and tags: the sums of products let some key differences collide for
 * every seed.
 */
#define XLB_ABI 8

#ifndef XLB_INLINE_ABI
#define XLB_INLINE_ABI static inline __attribute__((always_inline))
#endif

/* Names under the pin directory (default /sys/fs/bpf/xlb). */
#define XLB_PIN_DIR_DEFAULT "/sys/fs/bpf/xlb"
#define XLB_PIN_CONFIG "xlb_config"
#define XLB_PIN_VIPS "xlb_vips"
#define XLB_PIN_TABLES "xlb_tables"
#define XLB_PIN_BACKENDS "xlb_backends"
#define XLB_PIN_STATE "xlb_state"
#define XLB_PIN_NEXTHOP "xlb_nexthop"
#define XLB_PIN_FLOWS "xlb_flows"
#define XLB_PIN_STATS "xlb_stats"
#define XLB_PIN_CLOCK "xlb_clock"
#define XLB_PIN_VIP_CACHE "xlb_vip_cache"
#define XLB_PIN_VIP_STATS "xlb_vip_stats"
#define XLB_PIN_BE_STATS "xlb_be_stats"
#define XLB_PIN_VIP_FILTER "xlb_vip_filter"
#define XLB_PIN_COMMIT "xlb_commit"
#define XLB_PIN_REC_VIPS "xlb_rec_vips"
#define XLB_PIN_REC_BACKENDS "xlb_rec_backends"

/* Address families as stored in maps (values of AF_INET / AF_INET6). */
#define XLB_AF_INET 2
#define XLB_AF_INET6 10

/* How a VIP sends packets on to its backends. */
enum xlb_fwd {
	XLB_FWD_IPIP = 0, /* IPv4/IPv6 encapsulation toward the backend */
	XLB_FWD_L2DSR = 1, /* rewrite Ethernet addresses only */
};

/* Table construction algorithms (recorded for the controller). */
enum xlb_algo {
	XLB_ALGO_MAGLEV = 0,
	XLB_ALGO_RING = 1,
	XLB_ALGO_RENDEZVOUS = 2,
	XLB_ALGO_MODULO = 3,
	XLB_ALGO_STABLE = 4, /* Maglev, then history: moves only what changed */
	XLB_ALGO_COUNT,
};

/* Backend health as the data path sees it (xlb_state map). */
enum xlb_be_state {
	XLB_BE_NONE = 0, /* id not in use */
	XLB_BE_UP = 1, /* takes new and existing flows */
	XLB_BE_DOWN = 2, /* takes nothing: flows re-chosen, slots to secondary */
	XLB_BE_DRAIN = 3, /* keeps its flows, takes no new ones */
};

/* Global counters, index of the per-CPU xlb_stats array. */
enum xlb_stat {
	XLB_STAT_RX = 0, /* packets seen */
	XLB_STAT_PASS, /* not VIP traffic, handed to the kernel */
	XLB_STAT_TX, /* sent with XDP_TX */
	XLB_STAT_REDIRECT, /* sent with XDP_REDIRECT */
	XLB_STAT_FLOW_HIT, /* established flow found in the flow table */
	XLB_STAT_FLOW_MISS, /* no usable flow entry: hashed to a slot */
	XLB_STAT_FLOW_RESELECT, /* flow entry's backend DOWN: re-chosen */
	XLB_STAT_FLOW_EXPIRED, /* flow entry idle past its timeout */
	XLB_STAT_FLOW_BUSY, /* new flow not recorded: its way was being written */
	XLB_STAT_FLOW_LIMITED, /* new flow not recorded: CPU's new_flow_limit hit */
	XLB_STAT_SECONDARY, /* new flow sent to the slot's secondary */
	XLB_STAT_ICMP_ERR, /* ICMP error relayed to the flow's backend */
	XLB_STAT_FRAG, /* IP fragment steered by address */
	XLB_STAT_NH_REFRESH, /* next-hop cache (re)filled by a FIB lookup */
	XLB_STAT_NH_STALE, /* kernel lost the neighbour: last known MAC kept a TTL more */
	XLB_STAT_TOO_BIG, /* too big once encapsulated: ICMP sent to the client */
	XLB_STAT_PASS_NOT_OURS, /* to a VIP address, but the frame to another
				   MAC (a host's, multicast, broadcast) than
				   the device's: to the kernel, as a router
				   would not forward it (also counted PASS) */
	/* Drops, one per reason; keep XLB_STAT_DROP_FIRST first. */
	XLB_STAT_DROP_FIRST,
	XLB_STAT_DROP_MALFORMED = XLB_STAT_DROP_FIRST, /* VIP packet truncated or
							  inconsistent (lengths, TCP data
							  offset, UDP length) */
	XLB_STAT_DROP_NO_BACKEND, /* primary and secondary both unusable */
	XLB_STAT_DROP_NO_TABLE, /* VIP has no table yet */
	XLB_STAT_DROP_NO_NEIGH, /* backend's next hop has no neighbour entry yet */
	XLB_STAT_DROP_NO_ROUTE, /* FIB lookup found no route to the backend */
	XLB_STAT_DROP_NOT_ONLINK, /* l2dsr backend is not on a connected segment */
	XLB_STAT_DROP_FAMILY, /* backend family the forwarding mode cannot carry */
	XLB_STAT_DROP_ENCAP, /* no room to push the outer header */
	XLB_STAT_DROP_NO_SRC, /* no outer source address configured for the family */
	XLB_STAT_DROP_MTU, /* too big once encapsulated, and no ICMP error possible */
	XLB_STAT_DROP_FRAG_PORT, /* first fragment to a port no VIP of its
				    address and protocol has */
	XLB_STAT_DROP_FRAG_PROTO, /* fragment to a VIP address that serves
				     no VIP of its protocol */
	XLB_STAT_DROP_FRAG_SHORT, /* first fragment without the transport
				     ports in it */
	XLB_STAT_DROP_IP_CSUM, /* IPv4 header checksum wrong */
	XLB_STAT_DROP_IP_OPTION, /* IPv4 option of length 0 or 1, or past the header */
	XLB_STAT_DROP_SRC_ROUTE, /* IPv4 LSRR/SSRR; IPv6 routing header of type 0
				    or with segments left */
	XLB_STAT_DROP_TTL, /* IPv4 TTL or IPv6 hop limit 0 */
	XLB_STAT_DROP_BAD_SRC, /* source unspecified, loopback, multicast,
				  broadcast, the VIP or the balancer's own */
	XLB_STAT_MAX,
};

/* Where a packet's client address is hashed: a VIP's match key. */
struct xlb_vip_key {
	__be32 addr[4]; /* VIP address; IPv4 in addr[0], rest zero */
	__be16 port; /* VIP port; 0 only in fragment-alias entries */
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
};
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key layout");

#define XLB_VIP_F_FRAG_ALIAS 0x1 /* port-0 entry steering fragments */
/*
 * Each VIP has two places in xlb_tables: id and id + XLB_MAX_VIPS. The
 * controller loads a new table into the idle one, then flips this flag in
 * the VIP entry: updating the outer map waits for an RCU grace period
 * (milliseconds), a VIP entry update does not, so the swap itself is fast.
 */
#define XLB_VIP_F_TABLE_B 0x2
/*
 * The controller's own: the daemon checks this VIP's backends, so one
 * added by the CLI starts DOWN, XLB_BE_F_PENDING, until its checks pass.
 * The data path ignores both.
 */
#define XLB_VIP_F_CHECKED 0x4

XLB_INLINE_ABI __u32 xlb_table_index(__u32 vip_id, __u32 vip_flags)
{
	return vip_id + ((vip_flags & XLB_VIP_F_TABLE_B) ? XLB_MAX_VIPS : 0);
}

/* A virtual service (xlb_vips value). */
struct xlb_vip {
	__u32 id; /* index into xlb_vip_stats; xlb_tables via xlb_table_index() */
	__u32 table_size; /* slots in the VIP's table */
	__u64 src_mask[2]; /* mask on the client address words before hashing */
	__u8 fwd; /* enum xlb_fwd */
	__u8 algo; /* enum xlb_algo */
	__u8 v4_prefix; /* client source prefix hashed, IPv4 */
	__u8 v6_prefix; /* client source prefix hashed, IPv6 */
	__u32 flags; /* XLB_VIP_F_* */
	__u32 generation; /* bumped on every table swap */
	__u32 flip_ms; /* CLOCK_MONOTONIC ms (low 32 bits) of the last swap */
};
_Static_assert(sizeof(struct xlb_vip) == 40, "xlb_vip layout");

/*
 * The addresses that may be VIPs (xlb_vip_filter, a single entry): one bit
 * per hash of an address. A packet whose destination's bit is clear is
 * not VIP traffic and goes to the kernel before any flow-table or VIP
 * lookup, so the host's own traffic costs a cached load, not a flow-table
 * miss. The controller sets a VIP address's bit before the VIP's entry
 * exists and clears it after the entry is gone; other addresses sharing a
 * bit only take the longer way to XDP_PASS.
 */
#define XLB_VIP_FILTER_ORDER 12
#define XLB_VIP_FILTER_BITS (1 << XLB_VIP_FILTER_ORDER)
struct xlb_vip_filter {
	__u64 bits[XLB_VIP_FILTER_BITS / 64]; /* bit xlb_vip_filter_bit(addr) */
};
_Static_assert(sizeof(struct xlb_vip_filter) == 512, "xlb_vip_filter layout");

/*
 * An address's filter bit, from its four words as stored (IPv4 in
 * addr[0], the rest zero). Both sides run on one host, so byte order
 * does not matter; the bit is the top bits of a multiplicative hash.
 */
XLB_INLINE_ABI __u32 xlb_vip_filter_bit(const __be32 addr[4])
{
	__u64 lo = (__u64)addr[0] | ((__u64)addr[1] << 32);
	__u64 hi = (__u64)addr[2] | ((__u64)addr[3] << 32);

	return (__u32)(((lo * 0x9e3779b97f4a7c15ULL) ^
			(hi * 0xc2b2ae3d27d4eb4fULL)) >>
		     (64 - XLB_VIP_FILTER_ORDER));
}

XLB_INLINE_ABI void xlb_vip_filter_set(struct xlb_vip_filter *f,
				       const __be32 addr[4])
{
	__u32 bit = xlb_vip_filter_bit(addr);

	f->bits[bit / 64] |= 1ULL << (bit % 64);
}

/* One slot of a VIP table. */
struct xlb_slot {
	__u16 primary; /* backend id owning the slot */
	__u16 secondary; /* backend id owning it if the primary were removed */
};
_Static_assert(sizeof(struct xlb_slot) == 4, "xlb_slot layout");
_Static_assert(XLB_MAX_BACKENDS <= XLB_BACKEND_NONE,
	       "backend ids fit a slot's 16 bits, XLB_BACKEND_NONE excepted");

/*
 * A VIP table's element (inner array map value): two consecutive slots.
 * An array map gives every element at least 8 bytes, so slots go in
 * pairs: a 65,537-slot table takes 256 KB, and a new flow's random read
 * of it stays in cache twice as well. Slot i is element i / 2, half
 * i % 2; mapped, the table's memory is its slots in order.
 */
struct xlb_slot_pair {
	struct xlb_slot slot[2]; /* slots 2i and 2i + 1 */
};
_Static_assert(sizeof(struct xlb_slot_pair) == 8, "xlb_slot_pair layout");

/* Elements of a table of size slots. */
#define XLB_TABLE_ELEMS(size) (((size) + 1) / 2)

#define XLB_BE_F_USED 0x1 /* id allocated */
#define XLB_BE_F_PENDING 0x2 /* added DOWN until the daemon's checks pass */

/* A backend of one VIP (xlb_backends value, indexed by backend id). */
struct xlb_backend {
	__be32 addr[4]; /* backend address; IPv4 in addr[0] */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	__u8 flags; /* XLB_BE_F_* */
	__u16 pad0;
	__u32 vip_id; /* VIP this backend serves */
	__u32 weight; /* share of slots, 0..XLB_WEIGHT_MAX; 0 takes no new keys */
	__u32 ramp; /* slow-start progress, permille of weight (XLB_RAMP_FULL) */
	__u64 since_ns; /* CLOCK_REALTIME of the last state change */
	__u64 drain_deadline_ns; /* CLOCK_REALTIME when a draining backend goes */
};
_Static_assert(sizeof(struct xlb_backend) == 48, "xlb_backend layout");

/* Deployment-wide settings (xlb_config, a single entry). */
struct xlb_config {
	__u64 seed[2]; /* SipHash key, shared by every node of a deployment */
	__be32 src4; /* outer IPv4 source for encapsulation */
	__be32 src6[4]; /* outer IPv6 source for encapsulation */
	__u32 abi; /* XLB_ABI of the build that made the maps */
	__u64 tcp_timeout_ns; /* idle TCP flow-entry lifetime */
	__u64 udp_timeout_ns; /* idle UDP flow-entry lifetime */
	__u32 flow_sets; /* sets in xlb_flows (a power of two), set with it */
	__u32 new_flow_limit; /* flow-table inserts per CPU per second; 0: no cap */
	/* Read per packet above; below, per next-hop refresh or new flow. */
	__u64 nexthop_ttl_ns; /* how long a resolved next hop is trusted */
	__u32 vip_gen; /* moved after every change to xlb_vips (xlb_vip_cache) */
	__u32 pad;
};
_Static_assert(sizeof(struct xlb_config) == 80, "xlb_config layout");

/*
 * The device a loaded xlb program is attached to (its global xlb_dev, in
 * the program's .bss, not a pinned map: each attach loads a program of
 * its own). Attach writes it through the skeleton right after loading.
 * Left zero it matches no frame, so such a program forwards nothing.
 */
struct xlb_dev {
	__u8 mac[6]; /* the device's MAC: frames to any other go to the kernel */
	__u16 pad;
};
_Static_assert(sizeof(struct xlb_dev) == 8, "xlb_dev layout");

/* Cached next hop toward a backend (per-CPU xlb_nexthop, by backend id). */
struct xlb_nexthop {
	__u8 dmac[6]; /* neighbour's MAC */
	__u8 smac[6]; /* egress interface's MAC */
	__u32 ifindex; /* egress interface */
	__u64 expires_ns; /* coarse monotonic time after which to re-resolve */
	__u32 mtu; /* route MTU toward the backend; 0: unknown, not checked */
	__u32 pad;
};
_Static_assert(sizeof(struct xlb_nexthop) == 32, "xlb_nexthop layout");

/*
 * A per-CPU copy of a VIP entry a new flow used (xlb_vip_cache, indexed by
 * xlb_vip_cache_slot of the key). It stands for the entry while gen equals
 * xlb_config.vip_gen, which the controller moves after changing xlb_vips:
 * a new flow to a recent VIP reads a cached line instead of a hash-map
 * lookup (a helper call with the key's hashing).
 */
struct xlb_vip_cache {
	struct xlb_vip_key key; /* the entry's key */
	__u32 gen; /* xlb_config.vip_gen read before the entry was */
	struct xlb_vip vip; /* the entry as it was read */
};
_Static_assert(sizeof(struct xlb_vip_cache) == 64, "xlb_vip_cache layout");

#define XLB_VIP_CACHE_SLOTS 16 /* per CPU, direct-mapped */

/* The cache slot of a VIP key. */
XLB_INLINE_ABI __u32 xlb_vip_cache_slot(const struct xlb_vip_key *k)
{
	return (xlb_vip_filter_bit(k->addr) ^ k->port ^ k->proto) &
	       (XLB_VIP_CACHE_SLOTS - 1);
}

/* The data path's per-CPU clock cache (bpf/clock.h). */
struct xlb_clock {
	__u64 jiffies; /* jiffies when ns was read */
	__u64 ns; /* CLOCK_MONOTONIC_COARSE read then */
	__u64 window_ns; /* start of this CPU's one-second insert window */
	__u32 window_inserts; /* flow-table inserts in it (new_flow_limit) */
	__u32 pad;
};
_Static_assert(sizeof(struct xlb_clock) == 32, "xlb_clock layout");

/*
 * A flow-table key: one transport connection to one VIP. 8-byte aligned:
 * the flow hash reads it as five 64-bit words.
 */
struct __attribute__((aligned(8))) xlb_flow_key {
	__be32 src[4]; /* client address */
	__be32 dst[4]; /* VIP address */
	__be16 sport; /* client port */
	__be16 dport; /* VIP port */
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	__u16 pad;
};
_Static_assert(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key layout");

/*
 * Where a flow goes. It carries what forwarding needs from the VIP, so an
 * established flow is forwarded without looking the VIP up; the
 * controller deletes the flows of backends and VIPs it removes.
 */
struct xlb_flow {
	__u32 backend; /* backend id the flow is pinned to */
	__u16 vip_id; /* its VIP's id (counters) */
	__u8 fwd; /* its VIP's enum xlb_fwd */
	__u8 pad;
};
_Static_assert(sizeof(struct xlb_flow) == 8, "xlb_flow layout");

/* One way of a flow-table set: a connection and where it goes. */
struct xlb_flow_way {
	struct xlb_flow_key key; /* the connection */
	struct xlb_flow flow; /* where it goes */
};
_Static_assert(sizeof(struct xlb_flow_way) == 48, "xlb_flow_way layout");

/*
 * A flow-table set: the xlb_flows array holds xlb_config.flow_sets of them
 * (XLB_FLOW_SETS unless attach --flows said otherwise); a
 * flow lives in the set its keyed hash names, in any of the ways. A new
 * flow takes a matching, empty or else the least recently seen way.
 *
 * Tags and access times share the first cache line, so a flow the set
 * does not hold, and the choice of a way for a new one, read that line
 * alone. Entries are written without locks by any CPU and emptied by the
 * controller, so a tag works like a sequence lock: a writer claims the
 * way by swapping the tag it saw for XLB_FLOW_BUSY (compare-and-swap, so
 * two CPUs never fill one way at once), writes the way and its atime,
 * then sets the tag; a reader matches the tag, reads the way, and matches
 * it again. atime_ns changes alone, with one aligned 8-byte store.
 */
struct xlb_flow_set {
	__u64 tag[XLB_FLOW_WAYS]; /* 0 empty, XLB_FLOW_BUSY, or key's tag */
	__u64 atime_ns[XLB_FLOW_WAYS]; /* coarse monotonic time last seen (1 s) */
	struct xlb_flow_way way[XLB_FLOW_WAYS];
};
_Static_assert(sizeof(struct xlb_flow_set) == 64 + 48 * XLB_FLOW_WAYS,
	       "xlb_flow_set layout");
_Static_assert(XLB_FLOW_WAYS == 4, "tags and atimes fill one cache line");
_Static_assert((XLB_FLOW_SETS & (XLB_FLOW_SETS - 1)) == 0,
	       "XLB_MAX_FLOWS / XLB_FLOW_WAYS must be a power of two");

/* Per-VIP and per-backend counters (per-CPU arrays, summed by readers). */
struct xlb_counters {
	__u64 packets; /* packets forwarded */
	__u64 bytes; /* bytes forwarded, before encapsulation */
	__u64 new_flows; /* flows chosen through the table */
};
_Static_assert(sizeof(struct xlb_counters) == 24, "xlb_counters layout");

/*
 * The controller's record of the configuration, which the data path never
 * reads. Two slots of records (xlb_rec_vips, xlb_rec_backends); xlb_commit
 * names the one that holds the committed configuration. A commit writes
 * the other slot, and every data-path object no committed record refers
 * to yet (new backend ids, tables in idle places), then makes them the
 * truth with one write of xlb_commit: a writer killed before that write
 * leaves the old configuration whole; one killed after it leaves
 * `pending` set, and the next writer finishes the data path's maps from
 * the record before anything else (roll forward). Readers read the
 * records, never the data path's maps, so nothing half-written is ever
 * adopted.
 */
#define XLB_REC_SLOTS 2

/* A VIP's record: its key and the entry the data path gets for it. */
struct xlb_rec_vip {
	struct xlb_vip_key key; /* the VIP */
	__u32 pad0;
	struct xlb_vip vip; /* id, table place, settings; flags without ALIAS */
};
_Static_assert(sizeof(struct xlb_rec_vip) == 64, "xlb_rec_vip layout");

/* A backend's record (xlb_rec_backends, slot * XLB_MAX_BACKENDS + i). */
struct xlb_rec_backend {
	struct xlb_backend be; /* xlb_backends value, vip_id its VIP's id */
	__u32 id; /* backend id (index of xlb_backends and xlb_state) */
	__u32 state; /* enum xlb_be_state */
};
_Static_assert(sizeof(struct xlb_rec_backend) == 56, "xlb_rec_backend layout");

/* Where the last commit got to (xlb_commit.phase). */
enum xlb_commit_phase {
	XLB_COMMIT_DONE = 0, /* the data path's maps say what the slot says */
	XLB_COMMIT_STAGING = 1, /* a writer is making objects nothing refers to */
	XLB_COMMIT_APPLYING = 2, /* the slot is committed; the maps may lag */
};

/* Which record slot is the truth (xlb_commit, a single entry). */
struct xlb_commit {
	__u64 gen; /* commits made; moves with every commit point */
	__u32 slot; /* record slot holding the committed configuration */
	__u32 phase; /* enum xlb_commit_phase */
	__u32 n_vips[XLB_REC_SLOTS]; /* VIP records in each slot */
	__u32 n_backends[XLB_REC_SLOTS]; /* backend records in each slot */
	struct xlb_config cfg; /* settings the committed slot was made with */
};
_Static_assert(sizeof(struct xlb_commit) == 32 + sizeof(struct xlb_config),
	       "xlb_commit layout");

/*
 * The backends' decap program (bpf/decap.bpf.c, `xlb decap`). Its settings
 * are read-only data fixed at load; its counters are its own map, which
 * lives as long as the program does: `xlb decap stats DEV` finds it
 * through the program attached to DEV. Nothing of it is pinned, so none
 * of it is part of XLB_ABI.
 */
#define XLB_DECAP_MAX_ADDRS 8 /* local addresses per family */
#define XLB_DECAP_MAX_FROM 16 /* --from prefixes per family */
#define XLB_DECAP_STATS_NAME "xlb_decap_stats" /* its counters' map */

/* Counters of xlb_decap_stats (per-CPU array indexed by this enum). */
enum xlb_decap_stat {
	XLB_DECAP_STAT_DECAP = 0, /* outer header stripped, inner passed on */
	XLB_DECAP_STAT_DROP_SOURCE, /* outer source outside --from: dropped */
	XLB_DECAP_STAT_DROP_HEAD, /* frame head not movable after the slide */
	XLB_DECAP_STAT_MAX,
};

/*
 * An outer source prefix the decap program accepts: a source s matches
 * when s & mask == addr, word by word (network order; IPv4 in word 0).
 */
struct xlb_decap_prefix {
	__be32 addr[4]; /* the prefix, host bits clear */
	__be32 mask[4]; /* its netmask */
};
_Static_assert(sizeof(struct xlb_decap_prefix) == 32, "xlb_decap_prefix layout");

#endif /* XLB_H */
