// SPDX-License-Identifier: GPL-2.0
/*
 * digest.c - digests of VIP tables and of the configuration behind them
 * (digest.h), so that nodes can be compared without showing the seed.
 *
 * SipHash-2-4 over a stream of 64-bit words, keyed with a key that is
 * itself SipHash of the seed in a domain of its own: the data path keys
 * the client hash with the seed directly, and a digest must never be an
 * output of that function.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "digest.h"
#include "metrics.h"
#include "util.h"
#include "xlb_hash.h"

/* Domains: what a key or a digest is for ("xlb-dgk0", "xlb-dgk1", ...). */
#define DOM_KEY0   0x786c622d64676b30ULL
#define DOM_KEY1   0x786c622d64676b31ULL
#define DOM_TABLE  0x786c622d74626c31ULL
#define DOM_CONFIG 0x786c622d63666731ULL
#define DOM_NODE   0x786c622d6e6f6431ULL

#define SLOT_NONE  0xffffU /* no backend */
#define SLOT_ALIEN 0xfffeU /* an id that is not one of the VIP's backends */

/* SipHash-2-4 over 64-bit words, one at a time. */
struct sip {
	__u64 v0, v1, v2, v3;
	__u64 n;
};

static void sip_init(struct sip *s, const __u64 key[2])
{
	s->v0 = 0x736f6d6570736575ULL ^ key[0];
	s->v1 = 0x646f72616e646f6dULL ^ key[1];
	s->v2 = 0x6c7967656e657261ULL ^ key[0];
	s->v3 = 0x7465646279746573ULL ^ key[1];
	s->n = 0;
}

static void sip_word(struct sip *s, __u64 m)
{
	s->v3 ^= m;
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	s->v0 ^= m;
	s->n++;
}

static __u64 sip_final(struct sip *s)
{
	__u64 b = (s->n * 8) << 56;

	s->v3 ^= b;
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	s->v0 ^= b;
	s->v2 ^= 0xff;
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	XLB_SIPROUND(s->v0, s->v1, s->v2, s->v3);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The digest key: a function of the seed that nothing else uses. */
static void digest_key(const struct xlb_config *cfg, __u64 key[2])
{
	__u64 m;

	m = DOM_KEY0;
	key[0] = xlb_siphash13(cfg->seed, &m, 1);
	m = DOM_KEY1;
	key[1] = xlb_siphash13(cfg->seed, &m, 1);
}

/* Words of an address: family, then its 16 bytes as stored. */
static void sip_addr(struct sip *s, __u8 family, const __be32 a[4])
{
	sip_word(s, family);
	sip_word(s, (__u64)a[0] << 32 | a[1]);
	sip_word(s, (__u64)a[2] << 32 | a[3]);
}

/* The settings both digests begin with. */
static void sip_vip(struct sip *s, const struct xlb_vip_ent *v)
{
	sip_addr(s, v->key.family, v->key.addr);
	sip_word(s, (__u64)v->key.port << 8 | v->key.proto);
	sip_word(s, (__u64)v->table_size << 32 | (__u64)v->algo << 24 |
			(__u64)v->fwd << 16 | (__u64)v->v4_prefix << 8 |
			v->v6_prefix);
	sip_word(s, v->n_be);
}

static __u16 slot_idx(const __u16 *idx, __u16 id)
{
	if (id == XLB_BACKEND_NONE)
		return SLOT_NONE;
	if (id >= XLB_MAX_BACKENDS || !idx[id])
		return SLOT_ALIEN;
	return (__u16)(idx[id] - 1);
}

static int table_digest(const struct xlb_maps *m, const struct xlb_vip_ent *v,
			const __u64 key[2], __u64 *out)
{
	const struct xlb_slot *t = NULL;
	struct sip s;
	__u16 *idx;
	size_t i;
	int err;

	/* Backends by their place in address order, the same on every node. */
	idx = calloc(XLB_MAX_BACKENDS, sizeof(*idx));
	if (!idx)
		return xlb_errf(-ENOMEM, "out of memory");
	sip_init(&s, key);
	sip_word(&s, DOM_TABLE);
	sip_vip(&s, v);
	for (i = 0; i < v->n_be; i++) {
		const struct xlb_be_ent *b = &v->be[i];
		__u32 st = XLB_BE_NONE;

		if (b->id < XLB_MAX_BACKENDS) {
			idx[b->id] = (__u16)(i + 1);
			/* The live state: a backend flipped DOWN before its
			 * table is rebuilt already sends its slots elsewhere.
			 */
			if (bpf_map_lookup_elem(m->state, &b->id, &st))
				st = XLB_BE_NONE;
		}
		sip_addr(&s, b->addr.family, b->addr.a);
		sip_word(&s, st);
	}
	err = xlb_table_map_live(m, v, &t);
	if (err) {
		free(idx);
		return err;
	}
	for (i = 0; i + 1 < v->table_size; i += 2)
		sip_word(&s, (__u64)slot_idx(idx, t[i].primary) << 48 |
				 (__u64)slot_idx(idx, t[i].secondary) << 32 |
				 (__u64)slot_idx(idx, t[i + 1].primary) << 16 |
				 slot_idx(idx, t[i + 1].secondary));
	if (i < v->table_size)
		sip_word(&s, (__u64)slot_idx(idx, t[i].primary) << 48 |
				 (__u64)slot_idx(idx, t[i].secondary) << 32);
	xlb_table_unmap(t, v->table_size);
	free(idx);
	*out = sip_final(&s);
	return 0;
}

static __u64 config_digest(const struct xlb_vip_ent *v, const __u64 key[2])
{
	struct sip s;
	size_t i;

	sip_init(&s, key);
	sip_word(&s, DOM_CONFIG);
	sip_vip(&s, v);
	for (i = 0; i < v->n_be; i++) {
		const struct xlb_be_ent *b = &v->be[i];

		sip_addr(&s, b->addr.family, b->addr.a);
		sip_word(&s, (__u64)b->weight << 32 | (__u64)b->state << 16 |
				 b->ramp);
	}
	return sip_final(&s);
}

int xlb_vip_digest(const struct xlb_maps *m, const struct xlb_model *md,
		   const struct xlb_vip_ent *v, struct xlb_vip_digest *out)
{
	__u64 key[2];
	int err;

	digest_key(&md->cfg, key);
	err = table_digest(m, v, key, &out->table);
	if (err)
		return err;
	out->config = config_digest(v, key);
	return 0;
}

int xlb_node_digest(const struct xlb_maps *m, const struct xlb_model *md,
		    struct xlb_vip_digest *out)
{
	struct sip st, sc;
	__u64 key[2];
	size_t i;
	int err;

	digest_key(&md->cfg, key);
	sip_init(&st, key);
	sip_init(&sc, key);
	sip_word(&st, DOM_NODE);
	sip_word(&sc, DOM_NODE + 1);
	/* The model is sorted by key: the same order on every node. */
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_digest d;

		err = xlb_vip_digest(m, md, &md->vips[i], &d);
		if (err)
			return err;
		sip_word(&st, d.table);
		sip_word(&sc, d.config);
	}
	out->table = sip_final(&st);
	out->config = sip_final(&sc);
	return 0;
}

void xlb_digest_metrics(FILE *f, const struct xlb_maps *m,
			const struct xlb_model *md)
{
	char vb[XLB_VIP_STRLEN], tb[XLB_DIGEST_STRLEN], cb[XLB_DIGEST_STRLEN];
	struct xlb_vip_digest d;
	size_t i;

	xlb_metric_head(f, "xlb_vip_digest_info", "gauge",
			"The VIP's digest (where its new flows go: settings, live table, live states) and config digest; equal on nodes that agree.");
	for (i = 0; i < md->n_vips; i++) {
		if (xlb_vip_digest(m, md, &md->vips[i], &d))
			continue; /* no table to read now: left out, not wrong */
		xlb_vip_fmt(&md->vips[i].key, vb, sizeof(vb));
		xlb_digest_fmt(d.table, tb);
		xlb_digest_fmt(d.config, cb);
		fprintf(f,
			"xlb_vip_digest_info{vip=\"%s\",digest=\"%s\",config_digest=\"%s\"} 1\n",
			vb, tb, cb);
	}
	if (xlb_node_digest(m, md, &d))
		return;
	xlb_digest_fmt(d.table, tb);
	xlb_digest_fmt(d.config, cb);
	xlb_metric_head(f, "xlb_node_digest_info", "gauge",
			"The node's digest over every VIP (xlb vip show --expect).");
	fprintf(f, "xlb_node_digest_info{digest=\"%s\",config_digest=\"%s\"} 1\n",
		tb, cb);
}

void xlb_digest_fmt(__u64 d, char buf[XLB_DIGEST_STRLEN])
{
	snprintf(buf, XLB_DIGEST_STRLEN, "%016llx", (unsigned long long)d);
}

int xlb_digest_parse(const char *s, __u64 *out)
{
	__u64 v = 0;
	size_t i;

	if (strlen(s) != XLB_DIGEST_STRLEN - 1)
		return xlb_errf(-EINVAL,
				"invalid digest '%s' (want 16 hex digits)", s);
	for (i = 0; s[i]; i++) {
		char ch = s[i];
		unsigned int d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned int)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned int)(ch - 'A' + 10);
		else
			return xlb_errf(
			    -EINVAL, "invalid digest '%s' (want 16 hex digits)",
			    s);
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}
