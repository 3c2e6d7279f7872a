// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - where a stable VIP's table continues from (see history.h).
 *
 * Why the live table and not a history file: the table is the history's
 * compact form (every later table depends only on its owners), the data
 * path already holds it, and the commit record holds the set it was built
 * for, so every commit continues from exactly what the node serves, and a
 * writer killed anywhere leaves a table that still decodes. Files only
 * carry a history to nodes that have none (save / restore).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"
#include "util.h"

/* Snapshots offered for the next commits (restore), by VIP key. */
static struct offer {
	struct xlb_vip_key key;
	const struct xlb_tb_snapshot *snap;
} *offers;
static size_t n_offers;

int xlb_history_offer(const struct xlb_vip_key *k,
		      const struct xlb_tb_snapshot *s)
{
	struct offer *o;
	size_t i;

	for (i = 0; i < n_offers; i++)
		if (!memcmp(&offers[i].key, k, sizeof(*k)))
			return -EINVAL;
	o = realloc(offers, (n_offers + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	offers = o;
	offers[n_offers].key = *k;
	offers[n_offers].snap = s;
	n_offers++;
	return 0;
}

void xlb_history_forget(void)
{
	free(offers);
	offers = NULL;
	n_offers = 0;
}

static const struct xlb_tb_snapshot *offered(const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < n_offers; i++)
		if (!memcmp(&offers[i].key, k, sizeof(*k)))
			return offers[i].snap;
	return NULL;
}

void xlb_history_free(struct xlb_history *h)
{
	xlb_table_unmap(h->live, h->live_size);
	free(h->tb);
	free(h->slots);
	memset(h, 0, sizeof(*h));
}

static void tb_params(const struct xlb_model *md, const struct xlb_vip_ent *v,
		      struct xlb_tb_params *p)
{
	memset(p, 0, sizeof(*p));
	p->algo = XLB_ALGO_STABLE;
	p->size = v->table_size;
	p->seed[0] = md->cfg.seed[0];
	p->seed[1] = md->cfg.seed[1];
}

/* o's live table and its set, if it is a stable table of them. */
static int live_prev(const struct xlb_maps *m, const struct xlb_model *old,
		     const struct xlb_vip_ent *o, struct xlb_history *h)
{
	struct xlb_tb_params p;
	__u32 *own;
	char vb[XLB_VIP_STRLEN];
	int err;

	err = xlb_table_map_live(m, o, &h->live);
	if (err)
		return err;
	h->live_size = o->table_size;
	err = xlb_model_tb(o, &h->tb);
	if (err)
		return err;
	tb_params(old, o, &p);
	own = calloc(o->table_size, sizeof(*own));
	if (!own)
		return -ENOMEM;
	err = xlb_table_owners(&p, h->tb, o->n_be, h->live, own);
	free(own);
	if (err == -EBADMSG) {
		xlb_vip_fmt(&o->key, vb, sizeof(vb));
		fprintf(stderr,
			"xlb: %s: the live table is no stable table of the recorded backends (edited, or made by another build): its history ends here, a new one starts and clients move\n",
			vb);
		return 0;
	}
	if (err)
		return err;
	h->prev.be = h->tb;
	h->prev.n = o->n_be;
	h->prev.slots = h->live;
	h->has = true;
	return 0;
}

int xlb_history_prev(const struct xlb_maps *m, const struct xlb_model *old,
		     const struct xlb_model *md, const struct xlb_vip_ent *v,
		     struct xlb_history *h)
{
	const struct xlb_vip_ent *o = old ? xlb_model_vip(old, &v->key) : NULL;
	const struct xlb_tb_snapshot *s = offered(&v->key);
	char vb[XLB_VIP_STRLEN];
	int err;

	memset(h, 0, sizeof(*h));
	if (v->algo != XLB_ALGO_STABLE)
		return 0;
	xlb_vip_fmt(&v->key, vb, sizeof(vb));
	if (s && (s->size != v->table_size ||
		  s->seed_fp != xlb_snapshot_seed_fp(md->cfg.seed)))
		return xlb_errf(-EINVAL,
				"%s: the table snapshot was made %s: it can't continue here",
				vb, s->size != v->table_size ?
					    "for another table size" :
					    "under another seed");
	/* The live table, when it is this VIP's stable table of this seed. */
	if (m && o && o->id == v->id && o->id != XLB_ID_NONE &&
	    o->algo == XLB_ALGO_STABLE && o->table_size == v->table_size &&
	    !memcmp(old->cfg.seed, md->cfg.seed, sizeof(md->cfg.seed))) {
		err = live_prev(m, old, o, h);
		if (err) {
			xlb_history_free(h);
			return err;
		}
	}
	if (!s)
		return 0;
	if (h->has) {
		struct xlb_tb_snapshot mine;
		struct xlb_tb_params p;
		bool same;

		tb_params(old, o, &p);
		err = xlb_snapshot_take(&p, h->tb, o->n_be, h->live, &mine);
		if (err) {
			xlb_history_free(h);
			return err;
		}
		same = xlb_snapshot_digest(&mine) == xlb_snapshot_digest(s);
		xlb_snapshot_free(&mine);
		if (same)
			return 0; /* the file's history is this node's */
		fprintf(stderr,
			"xlb: %s: this node's table is not the file's snapshot (another history): adopting the file's; clients of the slots that differ move\n",
			vb);
		xlb_history_free(h);
	}
	err = xlb_snapshot_prev(s, &h->prev, &h->slots);
	if (err)
		return err;
	h->has = true;
	return 0;
}

int xlb_history_snapshot(const struct xlb_maps *m, const struct xlb_model *md,
			 const struct xlb_vip_ent *v, struct xlb_tb_snapshot *s)
{
	struct xlb_tb_backend *tb = NULL;
	const struct xlb_slot *live = NULL;
	struct xlb_tb_params p;
	int err;

	err = xlb_table_map_live(m, v, &live);
	if (!err)
		err = xlb_model_tb(v, &tb);
	if (!err) {
		tb_params(md, v, &p);
		err = xlb_snapshot_take(&p, tb, v->n_be, live, s);
	}
	free(tb);
	xlb_table_unmap(live, v->table_size);
	return err;
}
