/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model.h - the controller's view of the whole configuration, read from
 * the commit record (the source of truth, record.h), edited in memory,
 * validated in full, and committed (commit.c): tables are built into idle
 * places and swapped in with one update each; no live table is ever
 * edited.
 */
#ifndef XLB_MODEL_H
#define XLB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "maps.h"
#include "xlb.h"

#define XLB_ID_NONE 0xffffffffU

struct xlb_be_ent {
	struct xlb_addr addr;
	__u32 id; /* XLB_ID_NONE until committed */
	__u32 weight;
	__u32 ramp; /* permille, XLB_RAMP_FULL when not slow-starting */
	__u32 state; /* enum xlb_be_state */
	__u64 since_ns; /* CLOCK_REALTIME of the last state change */
	__u64 drain_deadline_ns; /* 0: none */
	bool pending; /* DOWN until the daemon's checks pass (XLB_BE_F_PENDING) */
};

struct xlb_vip_ent {
	struct xlb_vip_key key;
	__u32 id; /* XLB_ID_NONE until committed */
	__u32 table_size;
	__u32 generation;
	__u32 flip_ms; /* when the live place last changed (monotonic ms) */
	__u8 algo; /* enum xlb_algo */
	__u8 fwd; /* enum xlb_fwd */
	__u8 v4_prefix, v6_prefix;
	bool table_b; /* live table in the VIP's second place (XLB_VIP_F_TABLE_B) */
	bool checked; /* the daemon checks its backends (XLB_VIP_F_CHECKED) */
	struct xlb_be_ent *be;
	size_t n_be;
};

struct xlb_model {
	struct xlb_config cfg;
	__u64 gen; /* the commit record's generation it was read at */
	struct xlb_vip_ent *vips;
	size_t n_vips;
};

/*
 * Reads the committed configuration from the commit record (record.h),
 * first finishing a commit whose writer died if the lock is free.
 */
int xlb_model_read(struct xlb_maps *m, struct xlb_model *md);
/* Sorts VIPs by key and each VIP's backends by address. */
void xlb_model_sort(struct xlb_model *md);
/* Reads the n entries of an array map (batched where the kernel can). */
int xlb_array_read(int fd, void *vals, size_t vsize, __u32 n);
void xlb_model_free(struct xlb_model *md);
int xlb_model_copy(const struct xlb_model *src, struct xlb_model *dst);

struct xlb_vip_ent *xlb_model_vip(const struct xlb_model *md,
				  const struct xlb_vip_key *k);
struct xlb_be_ent *xlb_model_be(const struct xlb_vip_ent *v,
				const struct xlb_addr *a);
/* Adds a VIP with defaults (maglev, 65537, ipip, /32 and /128). */
int xlb_model_vip_add(struct xlb_model *md, const struct xlb_vip_key *k,
		      struct xlb_vip_ent **out);
int xlb_model_vip_del(struct xlb_model *md, const struct xlb_vip_key *k);
int xlb_model_be_add(struct xlb_vip_ent *v, const struct xlb_addr *a,
		     __u32 weight, struct xlb_be_ent **out);
int xlb_model_be_del(struct xlb_vip_ent *v, const struct xlb_addr *a);

/* Checks everything a commit would write; -EINVAL with the reason. */
int xlb_model_validate(const struct xlb_model *md);

struct xlb_tb_backend;
/* The table builder's view of v's backends (caller frees *out). */
int xlb_model_tb(const struct xlb_vip_ent *v, struct xlb_tb_backend **out);

/* Builds v's table as the model says (caller frees *out). */
int xlb_model_table(const struct xlb_model *md, const struct xlb_vip_ent *v,
		    struct xlb_slot **out);
struct xlb_tb_prev;
/* The same, continuing prev's history when v is stable (history.h). */
int xlb_model_table_prev(const struct xlb_model *md,
			 const struct xlb_vip_ent *v,
			 const struct xlb_tb_prev *prev, struct xlb_slot **out);

/*
 * Makes md the committed configuration, given old as xlb_model_read
 * returned it under the lock held since. Assigns ids in md. Validates and
 * builds every table before the first map write; a process killed at any
 * point leaves old or md, never a mix (commit.c).
 */
int xlb_model_commit(struct xlb_maps *m, const struct xlb_model *old,
		     struct xlb_model *md);
/*
 * Under the lock: finishes or sweeps what a killed writer left (the commit
 * record's phase not DONE); 0 when there was nothing to do.
 */
int xlb_model_recover(struct xlb_maps *m);

/* The data path's entries for v and its backend b. */
void xlb_model_vip_value(const struct xlb_vip_ent *v, struct xlb_vip *val);
void xlb_model_be_value(const struct xlb_vip_ent *v, const struct xlb_be_ent *b,
			struct xlb_backend *val);
/* Bytes of a mapped table of size slots. */
size_t xlb_table_bytes(__u32 size);
/*
 * Empties the flow entries of backends marked in gone[] and of VIPs
 * marked in vip_gone[].
 */
void xlb_flows_forget(const struct xlb_maps *m, const bool *gone,
		      const bool *vip_gone);

/* Maps v's live table read-only; xlb_table_unmap releases it. */
int xlb_table_map_live(const struct xlb_maps *m, const struct xlb_vip_ent *v,
		       const struct xlb_slot **out);
void xlb_table_unmap(const struct xlb_slot *t, __u32 size);

/* Calls fn for every flow-table entry until fn returns non-zero. */
int xlb_flows_walk(const struct xlb_maps *m,
		   int (*fn)(const struct xlb_flow_key *k, const struct xlb_flow *f,
			     void *arg),
		   void *arg);

/* Flow-table entries per backend id (counts[XLB_MAX_BACKENDS]). */
int xlb_flows_count(const struct xlb_maps *m, __u32 *counts);
/* Valid flow-table entries, and how many the table holds at most. */
int xlb_flows_usage(const struct xlb_maps *m, __u64 *used, __u64 *capacity);

/* Client's slot as the data path computes it. */
__u32 xlb_model_slot(const struct xlb_config *cfg, const struct xlb_vip_ent *v,
		     const struct xlb_addr *client);

const char *xlb_state_name(__u32 state);
int xlb_state_parse(const char *s, __u32 *state);
const char *xlb_fwd_name(__u8 fwd);
int xlb_fwd_parse(const char *s, __u8 *fwd);

#endif /* XLB_MODEL_H */
