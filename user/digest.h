/* SPDX-License-Identifier: GPL-2.0 */
/*
 * digest.h - short digests that show whether nodes agree. Nodes behind one
 * ECMP route must send every client of a VIP to the same backend; two
 * nodes whose digests match do, and a deployment can compare them before
 * and after rolling a change (`xlb vip show --expect DIGEST`).
 *
 * Every digest is SipHash keyed with a key derived from the deployment
 * seed: it changes with the seed, and reveals nothing about it. Backend
 * ids are node-local (allocation order), so digests name backends by
 * their addresses, never by id; the outer source addresses (src4, src6)
 * are node-local too and are left out.
 */
#ifndef XLB_DIGEST_H
#define XLB_DIGEST_H

#include <stdio.h>
#include "maps.h"
#include "model.h"

#define XLB_DIGEST_STRLEN 17 /* 16 hex digits and a NUL */

struct xlb_vip_digest {
	/*
	 * Where a new flow goes on this node: the VIP's hashing settings,
	 * its live table (every slot's primary and secondary, by backend
	 * address) and each backend's live state.
	 */
	__u64 table;
	/* What produced it: the committed settings, backends, weights,
	 * states and ramps, as the commit record holds them. */
	__u64 config;
};

/* Digests of v's live table and of its record; 0 or -errno. */
int xlb_vip_digest(const struct xlb_maps *m, const struct xlb_model *md,
		   const struct xlb_vip_ent *v, struct xlb_vip_digest *out);

/*
 * The node's digest: every VIP's (in key order) folded into one, table
 * and config alike. No VIP gives a digest of the seed alone.
 */
int xlb_node_digest(const struct xlb_maps *m, const struct xlb_model *md,
		    struct xlb_vip_digest *out);

/*
 * Prometheus lines: xlb_vip_digest_info{vip,digest,config_digest} 1 per
 * VIP of md and xlb_node_digest_info{digest,config_digest} 1, so that a
 * dashboard shows nodes that disagree (count by digest).
 */
void xlb_digest_metrics(FILE *f, const struct xlb_maps *m,
			const struct xlb_model *md);

/* 16 lower-case hex digits. */
void xlb_digest_fmt(__u64 d, char buf[XLB_DIGEST_STRLEN]);
/* Parses what xlb_digest_fmt printed (case-insensitive); -EINVAL. */
int xlb_digest_parse(const char *s, __u64 *out);

#endif /* XLB_DIGEST_H */
