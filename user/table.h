/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - consistent-hash table builders. Pure functions of their inputs
 * (no maps, no privileges): unit tests and `xlb simulate` call them
 * directly. A table is an array of struct xlb_slot (include/xlb.h).
 */
#ifndef XLB_TABLE_H
#define XLB_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "xlb.h"

/* One backend as the builder sees it. */
struct xlb_tb_backend {
	__u32 id; /* backend id written into slots */
	__u8 family; /* XLB_AF_INET or XLB_AF_INET6 */
	__be32 addr[4]; /* network order; IPv4 in addr[0] */
	__u32 weight; /* 0..XLB_WEIGHT_MAX; 0 takes no keys */
	__u32 ramp; /* slow start, permille of its slots it takes; XLB_RAMP_FULL = all */
	bool healthy; /* state UP; false for DOWN and DRAIN: owns no slot */
};

/*
 * The table a stable history continues from (XLB_ALGO_STABLE): the table
 * as built, with the backends it was built for (ids as in its slots,
 * weights, health and ramp as they were then). Only its owners are used
 * (see xlb_table_owners): the new table differs from it by the events
 * that turn prev's set into the new one, and by health.
 */
struct xlb_tb_prev {
	const struct xlb_tb_backend *be;
	size_t n;
	const struct xlb_slot *slots; /* size slots, the same size as built */
};

struct xlb_tb_params {
	enum xlb_algo algo;
	__u32 size; /* number of slots */
	__u64 seed[2]; /* deployment seed (xlb_config.seed) */
	/* stable: the table to continue; NULL starts a history */
	const struct xlb_tb_prev *prev;
};

#define XLB_RING_VNODES 160 /* ring: virtual nodes per unit of weight */

const char *xlb_algo_name(enum xlb_algo a);
/* Returns 0 and sets *a, or -EINVAL for an unknown name. */
int xlb_algo_parse(const char *name, enum xlb_algo *a);
/* 0 if size is usable by algo (e.g. maglev needs a prime), else -EINVAL. */
int xlb_table_size_check(enum xlb_algo algo, __u32 size);

/*
 * Fill out[0..p->size-1]. Deterministic: depends only on the params and
 * the set of backends (not their order in be[]). Slots no eligible backend
 * can take hold XLB_BACKEND_NONE. Returns 0 or -errno (-EINVAL, -ENOMEM;
 * stable: -EBADMSG when p->prev is no stable table of its backends).
 *
 * stable: with p->prev, the owners are prev's changed by, in this order,
 * the removals (backends of prev's set not in be[], address order), the
 * weight changes (address order) and the additions (address order); the
 * table is therefore a function of the seed, the size, the first set and
 * the ordered list of changes since. A slot whose owner is not present
 * (DOWN, DRAIN, ramping outside its subset) holds the owner as its
 * secondary, so that the table alone says who owns what.
 */
int xlb_table_build(const struct xlb_tb_params *p,
		    const struct xlb_tb_backend *be, size_t n,
		    struct xlb_slot *out);

/*
 * The owners of a stable table t built for be[0..n-1] (the set, weights,
 * health and ramp it was built with): owner[s] is an index into be[].
 * Returns 0, or -EBADMSG when t is no stable table of that set: a slot
 * names a backend outside it, or the owners' loads are not level (no
 * backend's load per weight above another's plus one slot), as after a
 * hand edit or with another set's table.
 */
int xlb_table_owners(const struct xlb_tb_params *p,
		     const struct xlb_tb_backend *be, size_t n,
		     const struct xlb_slot *t, __u32 *owner);

/*
 * Whether loads per weight are at the integer optimum: for all a, b,
 * load[a] / w[a] <= (load[b] + 1) / w[b] (weights > 0). Any table whose
 * largest load per weight is lower would need a backend to drop below
 * that, so this is the best balance any table of these weights reaches.
 */
bool xlb_table_level(const __u32 *load, const __u32 *w, size_t n);

/*
 * A stable table's snapshot: the history's compact form. Its set in
 * canonical order (address; weight > 0) and every slot's owner as an
 * index into it, so it names backends by address, never by id, and any
 * node continues it to the same bytes.
 */
struct xlb_tb_snapshot {
	__u32 size;
	__u32 n;
	__u64 seed_fp; /* keyed fingerprint of the seed it was made under */
	struct xlb_tb_backend *be; /* n: address, family, weight; id = index */
	__u16 *owner; /* size slots */
};

/* Takes the snapshot of stable table t built for be[] (see owners). */
int xlb_snapshot_take(const struct xlb_tb_params *p,
		      const struct xlb_tb_backend *be, size_t n,
		      const struct xlb_slot *t, struct xlb_tb_snapshot *out);
/*
 * The snapshot as a table to continue (p->prev): prev->be and prev->slots
 * point into *slots, which the caller frees.
 */
int xlb_snapshot_prev(const struct xlb_tb_snapshot *s,
		      struct xlb_tb_prev *prev, struct xlb_slot **slots);
/* A digest of the snapshot's content (size, set, owners). */
__u64 xlb_snapshot_digest(const struct xlb_tb_snapshot *s);
/* The seed's fingerprint as snapshots record it. */
__u64 xlb_snapshot_seed_fp(const __u64 seed[2]);
/*
 * The file format (little endian): "XLBSNAP1", size, n, seed_fp, digest,
 * then n records (family, weight, 16 address bytes), then size u16
 * owners. Encode allocates *buf; decode checks everything (-EBADMSG).
 */
int xlb_snapshot_encode(const struct xlb_tb_snapshot *s, void **buf,
			size_t *len);
int xlb_snapshot_decode(const void *buf, size_t len,
			struct xlb_tb_snapshot *s);
void xlb_snapshot_free(struct xlb_tb_snapshot *s);

/* Fraction of slots whose primary differs between a and b. */
double xlb_table_moved(const struct xlb_slot *a, const struct xlb_slot *b,
		       __u32 size);

/*
 * Balance: the largest ratio, over eligible backends (healthy, weight > 0,
 * ramp full), of slots owned to the weight-proportional fair share of
 * size. 1.0 is perfect.
 */
double xlb_table_balance(const struct xlb_slot *t, __u32 size,
			 const struct xlb_tb_backend *be, size_t n);

#endif /* XLB_TABLE_H */
