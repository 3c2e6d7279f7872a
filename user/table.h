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

struct xlb_tb_params {
	enum xlb_algo algo;
	__u32 size; /* number of slots */
	__u64 seed[2]; /* deployment seed (xlb_config.seed) */
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
 * can take hold XLB_BACKEND_NONE. Returns 0 or -errno (-EINVAL, -ENOMEM).
 */
int xlb_table_build(const struct xlb_tb_params *p,
		    const struct xlb_tb_backend *be, size_t n,
		    struct xlb_slot *out);

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
