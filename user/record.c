// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - the commit record: reading a slot into a model, staging a
 * model into the idle slot, and the header whose single write commits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "record.h"
#include "util.h"

int xlb_record_header(const struct xlb_maps *m, struct xlb_commit *h)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->commit, &zero, h))
		return xlb_errf(-errno, "can't read the commit record: %s",
				strerror(errno));
	if (h->slot >= XLB_REC_SLOTS || h->n_vips[0] > XLB_MAX_VIPS ||
	    h->n_vips[1] > XLB_MAX_VIPS || h->n_backends[0] > XLB_MAX_BACKENDS ||
	    h->n_backends[1] > XLB_MAX_BACKENDS)
		return xlb_errf(-EUCLEAN, "the commit record in %s is damaged",
				m->dir);
	return 0;
}

int xlb_record_header_write(const struct xlb_maps *m, const struct xlb_commit *h)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(m->commit, &zero, h, BPF_ANY))
		return xlb_errf(-errno, "can't write the commit record: %s",
				strerror(errno));
	return 0;
}

static size_t rec_bytes(size_t n, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n * size + page - 1) & ~(page - 1);
}

/* Both record arrays mapped; *vips and *bes cover both slots. */
static int rec_map(const struct xlb_maps *m, int prot, struct xlb_rec_vip **vips,
		   struct xlb_rec_backend **bes)
{
	size_t vlen = rec_bytes(XLB_REC_SLOTS * XLB_MAX_VIPS, sizeof(**vips));
	size_t blen = rec_bytes(XLB_REC_SLOTS * XLB_MAX_BACKENDS, sizeof(**bes));
	void *v, *b;

	v = mmap(NULL, vlen, prot, MAP_SHARED, m->rec_vips, 0);
	if (v == MAP_FAILED)
		return xlb_errf(-errno, "can't map %s: %s", XLB_PIN_REC_VIPS,
				strerror(errno));
	b = mmap(NULL, blen, prot, MAP_SHARED, m->rec_backends, 0);
	if (b == MAP_FAILED) {
		int err = -errno;

		munmap(v, vlen);
		return xlb_errf(err, "can't map %s: %s", XLB_PIN_REC_BACKENDS,
				strerror(-err));
	}
	*vips = v;
	*bes = b;
	return 0;
}

static void rec_unmap(struct xlb_rec_vip *vips, struct xlb_rec_backend *bes)
{
	munmap(vips, rec_bytes(XLB_REC_SLOTS * XLB_MAX_VIPS, sizeof(*vips)));
	munmap(bes, rec_bytes(XLB_REC_SLOTS * XLB_MAX_BACKENDS, sizeof(*bes)));
}

static int vip_from_rec(struct xlb_model *md, const struct xlb_rec_vip *r)
{
	struct xlb_vip_ent *v;
	int err = xlb_model_vip_add(md, &r->key, &v);

	if (err)
		return err;
	v->id = r->vip.id;
	v->table_size = r->vip.table_size;
	v->generation = r->vip.generation;
	v->algo = r->vip.algo;
	v->fwd = r->vip.fwd;
	v->v4_prefix = r->vip.v4_prefix;
	v->v6_prefix = r->vip.v6_prefix;
	v->table_b = !!(r->vip.flags & XLB_VIP_F_TABLE_B);
	v->checked = !!(r->vip.flags & XLB_VIP_F_CHECKED);
	v->flip_ms = r->vip.flip_ms;
	return 0;
}

static int be_from_rec(struct xlb_model *md, const struct xlb_rec_backend *r)
{
	struct xlb_addr a = { .family = r->be.family };
	struct xlb_be_ent *e;
	size_t i;
	int err;

	for (i = 0; i < md->n_vips; i++)
		if (md->vips[i].id == r->be.vip_id)
			break;
	if (i == md->n_vips || r->id >= XLB_MAX_BACKENDS)
		return xlb_errf(-EUCLEAN, "the commit record names backend id %u "
				"of no VIP", r->id);
	memcpy(a.a, r->be.addr, sizeof(a.a));
	err = xlb_model_be_add(&md->vips[i], &a, r->be.weight, &e);
	if (err)
		return err;
	e->id = r->id;
	e->ramp = r->be.ramp;
	e->state = r->state;
	e->since_ns = r->be.since_ns;
	e->drain_deadline_ns = r->be.drain_deadline_ns;
	e->pending = !!(r->be.flags & XLB_BE_F_PENDING);
	return 0;
}

int xlb_record_load(const struct xlb_maps *m, const struct xlb_commit *h,
		    __u32 slot, struct xlb_model *md)
{
	struct xlb_rec_backend *bes;
	struct xlb_rec_vip *vips;
	__u32 i;
	int err;

	memset(md, 0, sizeof(*md));
	err = rec_map(m, PROT_READ, &vips, &bes);
	if (err)
		return err;
	for (i = 0; i < h->n_vips[slot] && !err; i++)
		err = vip_from_rec(md, &vips[slot * XLB_MAX_VIPS + i]);
	for (i = 0; i < h->n_backends[slot] && !err; i++)
		err = be_from_rec(md, &bes[slot * XLB_MAX_BACKENDS + i]);
	rec_unmap(vips, bes);
	if (err) {
		xlb_model_free(md);
		return err;
	}
	xlb_model_sort(md);
	return 0;
}

static void vip_to_rec(const struct xlb_vip_ent *v, struct xlb_rec_vip *r)
{
	memset(r, 0, sizeof(*r));
	r->key = v->key;
	xlb_model_vip_value(v, &r->vip);
}

static void be_to_rec(const struct xlb_vip_ent *v, const struct xlb_be_ent *b,
		      struct xlb_rec_backend *r)
{
	memset(r, 0, sizeof(*r));
	xlb_model_be_value(v, b, &r->be);
	r->id = b->id;
	r->state = b->state;
}

int xlb_record_stage(const struct xlb_maps *m, const struct xlb_commit *h,
		     const struct xlb_model *md, struct xlb_commit *next)
{
	__u32 slot = h->slot ^ 1, nb = 0;
	struct xlb_rec_backend *bes;
	struct xlb_rec_vip *vips;
	size_t i, j;
	int err;

	err = rec_map(m, PROT_READ | PROT_WRITE, &vips, &bes);
	if (err)
		return err;
	for (i = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];

		vip_to_rec(v, &vips[slot * XLB_MAX_VIPS + i]);
		for (j = 0; j < v->n_be; j++)
			be_to_rec(v, &v->be[j],
				  &bes[slot * XLB_MAX_BACKENDS + nb++]);
	}
	rec_unmap(vips, bes);
	*next = *h;
	next->gen = h->gen + 1;
	next->slot = slot;
	next->phase = XLB_COMMIT_APPLYING;
	next->n_vips[slot] = (__u32)md->n_vips;
	next->n_backends[slot] = nb;
	next->cfg = md->cfg;
	return 0;
}

int xlb_record_set_state(const struct xlb_maps *m, __u32 id, __u32 state)
{
	struct xlb_rec_backend *bes;
	struct xlb_rec_vip *vips;
	struct xlb_commit h;
	__u32 i, base;
	int err;

	err = xlb_record_header(m, &h);
	if (!err)
		err = rec_map(m, PROT_READ | PROT_WRITE, &vips, &bes);
	if (err)
		return err;
	base = h.slot * XLB_MAX_BACKENDS;
	err = -ENOENT;
	for (i = 0; i < h.n_backends[h.slot]; i++) {
		if (bes[base + i].id != id)
			continue;
		/* One aligned 4-byte store: readers see the old or the new. */
		__atomic_store_n(&bes[base + i].state, state, __ATOMIC_RELEASE);
		err = 0;
		break;
	}
	rec_unmap(vips, bes);
	return err;
}
