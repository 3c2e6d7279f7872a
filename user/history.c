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
	bool adopt; /* replaces this node's own history (xlb_history_check) */
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
	offers[n_offers].adopt = false;
	n_offers++;
	return 0;
}

void xlb_history_forget(void)
{
	free(offers);
	offers = NULL;
	n_offers = 0;
}

static struct offer *offer_find(const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < n_offers; i++)
		if (!memcmp(&offers[i].key, k, sizeof(*k)))
			return &offers[i];
	return NULL;
}

bool xlb_history_adopting(const struct xlb_vip_key *k)
{
	const struct offer *o = offer_find(k);

	return o && o->adopt;
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
	size_t i;
	char vb[XLB_VIP_STRLEN];
	int err;

	/*
	 * No backend that takes keys (a new VIP, or every weight 0): the
	 * table serves nobody, so there is no history to continue and no
	 * client to move; the next table starts one without a word.
	 */
	for (i = 0; i < o->n_be && !o->be[i].weight; i++)
		;
	if (i == o->n_be)
		return 0;
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
	const struct offer *of = offer_find(&v->key);
	const struct xlb_tb_snapshot *s = of ? of->snap : NULL;
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
	/*
	 * This node's own history wins unless xlb_history_check found that
	 * the file's differs and the operator chose the file's.
	 */
	if (!s || (h->has && !of->adopt))
		return 0;
	xlb_history_free(h);
	err = xlb_snapshot_prev(s, &h->prev, &h->slots);
	if (err)
		return err;
	h->has = true;
	return 0;
}

/*
 * The snapshot of the table v's set makes when it continues prev: the
 * owners only (every backend taken as healthy, ids its indices), so that
 * two continuations compare whatever the health or the ids of the moment.
 */
static int next_snapshot(const struct xlb_model *md,
			 const struct xlb_vip_ent *v,
			 const struct xlb_tb_prev *prev,
			 struct xlb_tb_snapshot *out)
{
	struct xlb_tb_backend *tb = NULL;
	struct xlb_slot *slots = NULL;
	struct xlb_tb_params p;
	size_t i;
	int err;

	err = xlb_model_tb(v, &tb);
	if (err)
		return err;
	for (i = 0; i < v->n_be; i++) {
		tb[i].id = (__u32)i;
		tb[i].healthy = true;
		tb[i].ramp = XLB_RAMP_FULL;
	}
	tb_params(md, v, &p);
	p.prev = prev;
	slots = calloc(v->table_size, sizeof(*slots));
	err = slots ? xlb_table_build(&p, tb, v->n_be, slots) : -ENOMEM;
	if (!err)
		err = xlb_snapshot_take(&p, tb, v->n_be, slots, out);
	free(slots);
	free(tb);
	return err;
}

/* Slots whose owner differs between two snapshots of the same set. */
static __u32 owners_moved(const struct xlb_tb_snapshot *a,
			  const struct xlb_tb_snapshot *b)
{
	__u32 i, n = 0;

	for (i = 0; i < a->size; i++)
		n += a->owner[i] != b->owner[i];
	return n;
}

/*
 * Offer of for v: does the file's history (its snapshot, then the changes
 * to v's set) make the table this node's own (its live table, then the
 * same changes) makes? 1 yes, 0 no (*moved: slots that differ), -errno.
 */
static int offer_agrees(const struct xlb_model *old, const struct xlb_model *md,
			const struct xlb_vip_ent *v, const struct xlb_history *h,
			const struct xlb_tb_snapshot *s, __u32 *moved)
{
	struct xlb_tb_snapshot mine = { 0 }, theirs = { 0 };
	struct xlb_tb_params p;
	struct xlb_tb_prev sp;
	struct xlb_slot *ss = NULL;
	const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);
	int err;

	tb_params(old, o, &p);
	err = xlb_snapshot_take(&p, h->tb, o->n_be, h->live, &mine);
	if (err)
		return err;
	if (xlb_snapshot_digest(&mine) == xlb_snapshot_digest(s)) {
		xlb_snapshot_free(&mine);
		return 1; /* the file's snapshot is this node's table */
	}
	xlb_snapshot_free(&mine);
	err = next_snapshot(md, v, &h->prev, &mine);
	if (!err)
		err = xlb_snapshot_prev(s, &sp, &ss);
	if (!err)
		err = next_snapshot(md, v, &sp, &theirs);
	if (!err) {
		*moved = owners_moved(&mine, &theirs);
		err = xlb_snapshot_digest(&mine) == xlb_snapshot_digest(&theirs);
	}
	xlb_snapshot_free(&mine);
	xlb_snapshot_free(&theirs);
	free(ss);
	return err;
}

int xlb_history_check(const struct xlb_maps *m, const struct xlb_model *old,
		      const struct xlb_model *md, bool adopt)
{
	char vb[XLB_VIP_STRLEN];
	size_t i;
	int err = 0;

	for (i = 0; i < n_offers && !err; i++) {
		struct offer *of = &offers[i];
		const struct xlb_vip_ent *v = xlb_model_vip(md, &of->key);
		const struct xlb_vip_ent *o = xlb_model_vip(old, &of->key);
		struct xlb_history h = { 0 };
		__u32 moved = 0;
		int agree;

		of->adopt = false;
		/* No history of this node's to weigh it against. */
		if (!v || v->algo != XLB_ALGO_STABLE || !o ||
		    o->id == XLB_ID_NONE || o->algo != XLB_ALGO_STABLE ||
		    o->table_size != v->table_size ||
		    memcmp(old->cfg.seed, md->cfg.seed, sizeof(md->cfg.seed)))
			continue;
		err = live_prev(m, old, o, &h);
		if (err || !h.has) {
			xlb_history_free(&h);
			continue;
		}
		agree = offer_agrees(old, md, v, &h, of->snap, &moved);
		xlb_history_free(&h);
		if (agree < 0) {
			err = agree;
			break;
		}
		if (agree)
			continue;
		xlb_vip_fmt(&of->key, vb, sizeof(vb));
		if (!adopt) {
			err = xlb_errf(-EEXIST,
				       "%s: the file's table snapshot (%016llx) is not this node's history: continued to the file's backends, the two differ in %u of %u slots (a forked or reordered history, or an old file). Save this node's table anew (xlb save --snapshot-dir) or take the file's with --adopt-history",
				       vb,
				       (unsigned long long)xlb_snapshot_digest(of->snap),
				       moved, v->table_size);
			break;
		}
		fprintf(stderr,
			"xlb: %s: adopting the file's table history (--adopt-history): the clients of %u of %u slots move to another backend\n",
			vb, moved, v->table_size);
		of->adopt = true;
	}
	return err;
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
