// SPDX-License-Identifier: GPL-2.0
/*
 * commit.c - making a model the committed configuration so that a process
 * killed at any instruction leaves the old one or the new one, never a
 * mix (include/xlb.h, struct xlb_commit):
 *
 *   stage    with the record's phase STAGING, make what nothing committed
 *            refers to: tables in the VIPs' idle places or under new ids,
 *            new backend ids' counters, the idle record slot;
 *   publish  one write of the commit record names that slot (APPLYING);
 *   apply    make the data path's maps say what the slot says: settings,
 *            backends and states, VIP entries (the new tables go live),
 *            then removals;
 *   done     phase DONE.
 *
 * Apply writes only what the committed record says, so a writer that
 * finds APPLYING runs it again (roll forward); one that finds STAGING
 * sweeps what nothing refers to. Both compare with what the maps hold
 * rather than trusting that they say what the previous record said.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "history.h"
#include "model.h"
#include "neigh.h"
#include "record.h"
#include "table.h"
#include "util.h"

static int be_cmp(const void *a, const void *b)
{
	return xlb_addr_cmp(&((const struct xlb_be_ent *)a)->addr,
			    &((const struct xlb_be_ent *)b)->addr);
}

/* BTF for inner maps, so bpftool prints their slots with field names. */
static void table_btf(const struct xlb_maps *m, int *btf_fd, __u32 *key_id,
		      __u32 *val_id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct btf *btf;
	int k, v;

	*btf_fd = -1;
	if (bpf_obj_get_info_by_fd(m->tables, &info, &len) || !info.btf_id)
		return;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return;
	k = btf__find_by_name(btf, "__u32");
	v = btf__find_by_name_kind(btf, "xlb_slot_pair", BTF_KIND_STRUCT);
	if (k > 0 && v > 0) {
		*btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
		*key_id = (__u32)k;
		*val_id = (__u32)v;
	}
	btf__free(btf);
}

/*
 * The idle place of a VIP holds the table that was live before its last
 * swap. Once no packet can still be reading it — XDP programs run for
 * microseconds, and this is far longer — it is refilled in place, which
 * spares the outer-map update and the RCU grace period the kernel waits
 * for after one. A live table is never written.
 */
#define XLB_TABLE_REUSE_MS 200

static __u32 now_ms(void)
{
	return (__u32)(xlb_now_mono_ns() / 1000000ULL);
}

/* 1 if the idle place now holds slots, 0 if it needs a fresh map. */
static int table_refill_idle(const struct xlb_maps *m,
			     const struct xlb_vip_ent *o,
			     const struct xlb_slot *slots, __u32 size)
{
	__u32 idx = xlb_table_index(o->id, o->table_b ? 0 : XLB_VIP_F_TABLE_B);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), inner_id;
	int fd, done = 0;
	void *p;

	if (now_ms() - o->flip_ms < XLB_TABLE_REUSE_MS)
		return 0;
	if (bpf_map_lookup_elem(m->tables, &idx, &inner_id))
		return 0;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.max_entries == XLB_TABLE_ELEMS(size) &&
	    info.value_size == sizeof(struct xlb_slot_pair) &&
	    (info.map_flags & BPF_F_MMAPABLE)) {
		p = mmap(NULL, xlb_table_bytes(size), PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			memcpy(p, slots, (size_t)size * sizeof(*slots));
			munmap(p, xlb_table_bytes(size));
			done = 1;
		}
	}
	close(fd);
	return done;
}

/* A fresh inner map holding slots; returns its fd or -errno. */
static int table_create(const struct xlb_maps *m, __u32 vip_id,
			const struct xlb_slot *slots, __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	char name[16];
	int fd, btf_fd;
	void *p;

	table_btf(m, &btf_fd, &opts.btf_key_type_id, &opts.btf_value_type_id);
	if (btf_fd >= 0)
		opts.btf_fd = (__u32)btf_fd;
	snprintf(name, sizeof(name), "xlb_table_%u", vip_id);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
			    sizeof(struct xlb_slot_pair), XLB_TABLE_ELEMS(size),
			    &opts);
	if (fd < 0 && btf_fd >= 0) {
		/* Same map without BTF rather than no table at all. */
		opts.btf_fd = 0;
		opts.btf_key_type_id = opts.btf_value_type_id = 0;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
				    sizeof(struct xlb_slot_pair),
				    XLB_TABLE_ELEMS(size), &opts);
	}
	if (btf_fd >= 0)
		close(btf_fd);
	if (fd < 0)
		return xlb_errf(-errno, "can't create a table of %u slots: %s",
				size, strerror(errno));
	p = mmap(NULL, xlb_table_bytes(size), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return xlb_errf(err, "can't map a new table: %s", strerror(-err));
	}
	memcpy(p, slots, (size_t)size * sizeof(*slots));
	munmap(p, xlb_table_bytes(size));
	return fd;
}

static bool be_same_for_table(const struct xlb_vip_ent *a,
			      const struct xlb_vip_ent *b)
{
	size_t i;

	if (a->algo != b->algo || a->table_size != b->table_size ||
	    a->n_be != b->n_be)
		return false;
	for (i = 0; i < a->n_be; i++) {
		const struct xlb_be_ent *x = &a->be[i], *y = &b->be[i];

		if (xlb_addr_cmp(&x->addr, &y->addr) || x->weight != y->weight ||
		    x->ramp != y->ramp || x->id != y->id ||
		    (x->state == XLB_BE_UP) != (y->state == XLB_BE_UP))
			return false;
	}
	return true;
}

/* xlb_model_be for a VIP whose backends are sorted (as in a commit). */
static const struct xlb_be_ent *be_sorted(const struct xlb_vip_ent *v,
					  const struct xlb_addr *a)
{
	struct xlb_be_ent key = { .addr = *a };

	return bsearch(&key, v->be, v->n_be, sizeof(*v->be), be_cmp);
}

/*
 * The alias entries (port 0) that steer fragments: per address and
 * protocol, and for IPv6 also protocol 0 (fragments whose fragment header
 * names an extension header, not the transport); lowest port wins.
 */
static const struct xlb_vip_ent *alias_owner(const struct xlb_model *md,
					     const struct xlb_vip_key *k)
{
	const struct xlb_vip_ent *best = NULL;
	size_t i;

	if (!k->proto && k->family != XLB_AF_INET6)
		return NULL;
	for (i = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];

		if (v->key.family != k->family ||
		    (k->proto && v->key.proto != k->proto) ||
		    memcmp(v->key.addr, k->addr, sizeof(k->addr)))
			continue;
		if (!best || ntohs(v->key.port) < ntohs(best->key.port))
			best = v;
	}
	return best;
}

/* Sets the xlb_vip_filter bit of every VIP address of md in f. */
static void vip_filter_add(const struct xlb_model *md, struct xlb_vip_filter *f)
{
	size_t i;

	for (i = 0; i < md->n_vips; i++)
		xlb_vip_filter_set(f, md->vips[i].key.addr);
}

static int write_elem(int fd, const void *k, const void *v, const char *what)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY))
		return xlb_errf(-errno, "can't write %s: %s", what,
				strerror(errno));
	return 0;
}


static bool seed_same(const struct xlb_model *a, const struct xlb_model *b)
{
	return a->cfg.seed[0] == b->cfg.seed[0] && a->cfg.seed[1] == b->cfg.seed[1];
}

/*
 * Writes cfg's settings into xlb_config with the live vip_gen, moved by
 * one when bump is set: read from the map, never from a model, so that it
 * never goes back to a value some CPU's cached VIP copy may still carry.
 * The layout and the flow table's size are the map's own.
 */
static int config_write(const struct xlb_maps *m, const struct xlb_config *cfg,
			bool bump)
{
	struct xlb_config live, val = *cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->config, &zero, &live))
		return xlb_errf(-errno, "can't read config: %s", strerror(errno));
	val.abi = live.abi;
	val.flow_sets = live.flow_sets;
	val.vip_gen = live.vip_gen + (bump ? 1 : 0);
	if (!bump && !memcmp(&val, &live, sizeof(val)))
		return 0;
	return write_elem(m->config, &zero, &val, "config");
}

/* --- ids --- */

/*
 * Keeps the ids old had (same VIP and table size, same backend) and hands
 * out free ones: never one old uses, so an id freed by this commit is not
 * reused before its flows are forgotten.
 */
static int ids_assign(const struct xlb_model *old, struct xlb_model *md)
{
	bool vip_used[XLB_MAX_VIPS] = { 0 };
	__u32 next_vip = 0, next_be = 0;
	bool *be_used;
	size_t i, j;
	int err = 0;

	be_used = calloc(XLB_MAX_BACKENDS, sizeof(bool));
	if (!be_used)
		return -ENOMEM;
	for (i = 0; i < old->n_vips; i++) {
		vip_used[old->vips[i].id] = true;
		for (j = 0; j < old->vips[i].n_be; j++)
			be_used[old->vips[i].be[j].id] = true;
	}
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);

		v->id = (o && o->table_size == v->table_size) ? o->id : XLB_ID_NONE;
		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *ob =
				o ? be_sorted(o, &v->be[j].addr) : NULL;

			v->be[j].id = (ob && v->id != XLB_ID_NONE) ? ob->id :
								      XLB_ID_NONE;
		}
	}
	for (i = 0; i < md->n_vips && !err; i++) {
		struct xlb_vip_ent *v = &md->vips[i];

		if (v->id == XLB_ID_NONE) {
			while (next_vip < XLB_MAX_VIPS && vip_used[next_vip])
				next_vip++;
			if (next_vip == XLB_MAX_VIPS) {
				err = xlb_errf(-ENOSPC, "no free VIP id");
				break;
			}
			v->id = next_vip;
			vip_used[next_vip] = true;
		}
		for (j = 0; j < v->n_be; j++) {
			if (v->be[j].id != XLB_ID_NONE)
				continue;
			while (next_be < XLB_MAX_BACKENDS && be_used[next_be])
				next_be++;
			if (next_be == XLB_MAX_BACKENDS) {
				err = xlb_errf(-ENOSPC, "no free backend id");
				break;
			}
			v->be[j].id = next_be;
			be_used[next_be] = true;
		}
	}
	free(be_used);
	return err;
}

/* --- stage --- */

/*
 * Builds v's table if it changes and puts it where no VIP entry points
 * yet: the idle place of a VIP that keeps its id, the first place of a
 * new id. reuse allows refilling the idle place's map in place.
 */
static int table_stage(const struct xlb_maps *m, const struct xlb_model *old,
		       const struct xlb_model *md, struct xlb_vip_ent *v,
		       bool reuse)
{
	const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);
	bool same_id = o && o->id == v->id;
	struct xlb_counters zc = { 0 };
	struct xlb_slot *slots;
	__u32 idx;
	int err, fd;

	if (same_id && seed_same(old, md) && be_same_for_table(o, v) &&
	    !xlb_history_adopting(&v->key)) {
		/* Unchanged: the live place stays live, whatever md says. */
		v->table_b = o->table_b;
		v->generation = o->generation;
		v->flip_ms = o->flip_ms;
		return 0;
	}
	{
		/*
		 * stable: the new table continues the live one, or a
		 * restored snapshot (history.c); other algorithms: no prev.
		 */
		struct xlb_history h;

		err = xlb_history_prev(m, old, md, v, &h);
		if (!err)
			err = xlb_model_table_prev(md, v, h.has ? &h.prev : NULL,
						   &slots);
		xlb_history_free(&h);
	}
	if (err)
		return err;
	v->generation = (o ? o->generation : 0) + 1;
	v->flip_ms = now_ms();
	v->table_b = same_id ? !o->table_b : false;
	if (same_id && reuse && table_refill_idle(m, o, slots, v->table_size)) {
		free(slots);
		return 0;
	}
	fd = table_create(m, v->id, slots, v->table_size);
	free(slots);
	if (fd < 0)
		return fd;
	idx = xlb_table_index(v->id, v->table_b ? XLB_VIP_F_TABLE_B : 0);
	err = write_elem(m->tables, &idx, &fd, "table");
	close(fd);
	if (!err && !same_id)
		/* A new id: fresh counters. */
		err = xlb_percpu_set(m->vip_stats, v->id, &zc, sizeof(zc));
	return err;
}

/* A new backend id starts with no next hop and no counters. */
static int backend_stage(const struct xlb_maps *m, const struct xlb_be_ent *b)
{
	struct xlb_counters zc = { 0 };
	struct xlb_nexthop znh = { 0 };
	int err;

	xlb_neigh_nudge(&b->addr);
	err = xlb_percpu_set(m->nexthop, b->id, &znh, sizeof(znh));
	if (!err)
		err = xlb_percpu_set(m->be_stats, b->id, &zc, sizeof(zc));
	return err;
}

static int stage(const struct xlb_maps *m, const struct xlb_model *old,
		 struct xlb_model *md, bool reuse)
{
	size_t i, j;
	int err = 0;

	for (i = 0; i < md->n_vips && !err; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);

		err = table_stage(m, old, md, v, reuse);
		for (j = 0; j < v->n_be && !err; j++) {
			const struct xlb_be_ent *ob =
				o ? be_sorted(o, &v->be[j].addr) : NULL;

			if (!ob || ob->id != v->be[j].id)
				err = backend_stage(m, &v->be[j]);
		}
	}
	return err;
}

/* --- apply --- */

/*
 * The backends and states arrays, mapped for writing. An array map's
 * elements are 8-byte aligned: a state is the first half of its own 8.
 */
struct be_view {
	struct xlb_backend *be;
	__u64 *st8;
};

static __u32 *st_at(const struct be_view *bv, __u32 id)
{
	return (__u32 *)&bv->st8[id];
}

static size_t view_bytes(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return ((size_t)XLB_MAX_BACKENDS * size + page - 1) & ~(page - 1);
}

static int be_view_map(const struct xlb_maps *m, struct be_view *bv)
{
	void *b, *s;

	b = mmap(NULL, view_bytes(sizeof(*bv->be)), PROT_READ | PROT_WRITE,
		 MAP_SHARED, m->backends, 0);
	if (b == MAP_FAILED)
		return xlb_errf(-errno, "can't map backends: %s", strerror(errno));
	s = mmap(NULL, view_bytes(sizeof(*bv->st8)), PROT_READ | PROT_WRITE,
		 MAP_SHARED, m->state, 0);
	if (s == MAP_FAILED) {
		int err = -errno;

		munmap(b, view_bytes(sizeof(*bv->be)));
		return xlb_errf(err, "can't map backend states: %s",
				strerror(-err));
	}
	bv->be = b;
	bv->st8 = s;
	return 0;
}

static void be_view_unmap(struct be_view *bv)
{
	munmap(bv->be, view_bytes(sizeof(*bv->be)));
	munmap(bv->st8, view_bytes(sizeof(*bv->st8)));
}

/*
 * Makes the entries of cur's backends say what cur says. A state the map
 * has DOWN where cur (and prev, for the same id) says UP is left: it is
 * the health checker's failover, written ahead of its own commit.
 */
static void backends_write(struct be_view *bv, const struct xlb_model *prev,
			   const struct xlb_model *cur)
{
	struct xlb_backend val;
	size_t i, j;

	for (i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_ent *v = &cur->vips[i];
		const struct xlb_vip_ent *pv = xlb_model_vip(prev, &v->key);

		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *b = &v->be[j];
			const struct xlb_be_ent *pb =
				pv ? be_sorted(pv, &b->addr) : NULL;
			__u32 have = __atomic_load_n(st_at(bv, b->id), __ATOMIC_ACQUIRE);

			xlb_model_be_value(v, b, &val);
			if (memcmp(&bv->be[b->id], &val, sizeof(val)))
				memcpy(&bv->be[b->id], &val, sizeof(val));
			if (have == b->state ||
			    (have == XLB_BE_DOWN && b->state == XLB_BE_UP && pb &&
			     pb->id == b->id && pb->state == XLB_BE_UP))
				continue;
			/* One aligned 4-byte store: the data path sees either. */
			__atomic_store_n(st_at(bv, b->id), b->state, __ATOMIC_RELEASE);
		}
	}
}

/* Ids cur does not have lose their entries; gone[] marks them. */
static void backends_remove(struct be_view *bv, const struct xlb_model *cur,
			    bool *gone)
{
	__u32 id;
	size_t i, j;

	for (i = 0; i < cur->n_vips; i++)
		for (j = 0; j < cur->vips[i].n_be; j++)
			gone[cur->vips[i].be[j].id] = true;
	/* gone[] marks cur's ids for now; flipped below. */
	for (id = 0; id < XLB_MAX_BACKENDS; id++) {
		if (gone[id]) {
			gone[id] = false;
			continue;
		}
		if (!(bv->be[id].flags & XLB_BE_F_USED) && !*st_at(bv, id))
			continue;
		__atomic_store_n(st_at(bv, id), XLB_BE_NONE, __ATOMIC_RELEASE);
		memset(&bv->be[id], 0, sizeof(bv->be[id]));
		gone[id] = true;
	}
}

/* A VIP entry as the data path gets it. */
struct vip_entry {
	struct xlb_vip_key key;
	struct xlb_vip val;
};

static int entry_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct vip_entry *)a)->key,
		      &((const struct vip_entry *)b)->key,
		      sizeof(struct xlb_vip_key));
}

static const struct vip_entry *entry_find(const struct vip_entry *e, size_t n,
					  const struct xlb_vip_key *k)
{
	struct vip_entry key = { .key = *k };

	return bsearch(&key, e, n, sizeof(*e), entry_cmp);
}

/* md's VIP entries and fragment aliases, sorted by key. */
static int entries_of(const struct xlb_model *md, struct vip_entry **out,
		      size_t *n)
{
	struct vip_entry *e = calloc(md->n_vips * 3 + 1, sizeof(*e));
	size_t i, k = 0;

	if (!e)
		return -ENOMEM;
	for (i = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];
		struct xlb_vip_key ak = v->key;
		struct xlb_vip val;

		xlb_model_vip_value(v, &val);
		e[k].key = v->key;
		e[k++].val = val;
		val.flags |= XLB_VIP_F_FRAG_ALIAS;
		ak.port = 0;
		if (alias_owner(md, &ak) == v) {
			e[k].key = ak;
			e[k++].val = val;
		}
		ak.proto = 0;
		if (alias_owner(md, &ak) == v) {
			e[k].key = ak;
			e[k++].val = val;
		}
	}
	qsort(e, k, sizeof(*e), entry_cmp);
	*out = e;
	*n = k;
	return 0;
}

/* The entries xlb_vips holds now, sorted by key. */
static int entries_live(const struct xlb_maps *m, struct vip_entry **out,
			size_t *n)
{
	struct vip_entry *e = calloc(XLB_MAX_VIPS * 2 + 1, sizeof(*e));
	struct xlb_vip_key k, *prev = NULL;
	size_t cnt = 0;

	if (!e)
		return -ENOMEM;
	while (cnt < XLB_MAX_VIPS * 2 &&
	       !bpf_map_get_next_key(m->vips, prev, &k)) {
		e[cnt].key = k;
		prev = &e[cnt].key;
		if (!bpf_map_lookup_elem(m->vips, &k, &e[cnt].val))
			cnt++;
	}
	qsort(e, cnt, sizeof(*e), entry_cmp);
	*out = e;
	*n = cnt;
	return 0;
}

/* Writes the entries of want that have differs from or lacks. */
static int entries_write(const struct xlb_maps *m, const struct vip_entry *want,
			 size_t nw, const struct vip_entry *have, size_t nh)
{
	const struct vip_entry *h;
	size_t i;
	int err;

	for (i = 0; i < nw; i++) {
		h = entry_find(have, nh, &want[i].key);
		if (h && !memcmp(&h->val, &want[i].val, sizeof(h->val)))
			continue;
		err = write_elem(m->vips, &want[i].key, &want[i].val,
				 want[i].val.flags & XLB_VIP_F_FRAG_ALIAS ?
					 "fragment alias" : "VIP");
		if (err)
			return err;
	}
	return 0;
}

/* Deletes the entries of have that want lacks. */
static void entries_delete(const struct xlb_maps *m, const struct vip_entry *want,
			   size_t nw, const struct vip_entry *have, size_t nh)
{
	size_t i;

	for (i = 0; i < nh; i++)
		if (!entry_find(want, nw, &have[i].key))
			bpf_map_delete_elem(m->vips, &have[i].key);
}

static bool vip_id_in(const struct xlb_model *md, __u32 id)
{
	size_t i;

	for (i = 0; i < md->n_vips; i++)
		if (md->vips[i].id == id)
			return true;
	return false;
}

/*
 * Tables of ids cur does not use: prev's, or when full every place (what
 * a killed writer staged under ids it never committed).
 */
static void tables_remove(const struct xlb_maps *m, const struct xlb_model *prev,
			  const struct xlb_model *cur, bool full)
{
	__u32 id, idx;
	size_t i;

	for (id = 0; id < XLB_MAX_VIPS; id++) {
		if (vip_id_in(cur, id) || (!full && !vip_id_in(prev, id)))
			continue;
		for (i = 0; i < 2; i++) {
			idx = xlb_table_index(id, i ? XLB_VIP_F_TABLE_B : 0);
			bpf_map_delete_elem(m->tables, &idx);
		}
	}
}

/* VIP ids kept whose forwarding mode changes: their flows carry the old. */
static void vips_refwd(const struct xlb_model *prev, const struct xlb_model *cur,
		       bool *refwd)
{
	size_t i;

	for (i = 0; i < cur->n_vips; i++) {
		const struct xlb_vip_ent *v = &cur->vips[i];
		const struct xlb_vip_ent *p = xlb_model_vip(prev, &v->key);

		if (p && p->id == v->id && p->fwd != v->fwd)
			refwd[v->id] = true;
	}
}

static int filter_write(const struct xlb_maps *m, const struct xlb_model *a,
			const struct xlb_model *b, bool with_live)
{
	struct xlb_vip_filter vf = { 0 };
	__u32 zero = 0;

	/* A bit set both before and after reads set throughout the copy. */
	if (with_live && bpf_map_lookup_elem(m->vip_filter, &zero, &vf))
		memset(&vf, 0xff, sizeof(vf));
	vip_filter_add(a, &vf);
	if (b)
		vip_filter_add(b, &vf);
	return write_elem(m->vip_filter, &zero, &vf, "VIP filter");
}

/*
 * Makes the data path's maps say what cur says, given that they said what
 * prev says or were on their way from it to cur; full when they may hold
 * anything else a killed writer made (then compared with what they hold).
 * Filter bits and backends are written before any VIP entry names them,
 * removals come after nothing live refers to them.
 */
static int apply(const struct xlb_maps *m, const struct xlb_model *prev,
		 const struct xlb_model *cur, bool full)
{
	struct vip_entry *want = NULL, *have = NULL;
	bool refwd[XLB_MAX_VIPS] = { 0 }, forget = false;
	size_t nw = 0, nh = 0, i;
	struct be_view bv;
	bool *gone;
	int err;

	gone = calloc(XLB_MAX_BACKENDS, sizeof(bool));
	if (!gone)
		return -ENOMEM;
	err = entries_of(cur, &want, &nw);
	if (!err)
		err = full ? entries_live(m, &have, &nh) : entries_of(prev, &have, &nh);
	if (!err)
		err = config_write(m, &cur->cfg, false);
	if (!err)
		err = be_view_map(m, &bv);
	if (err)
		goto out;
	backends_write(&bv, prev, cur);
	err = filter_write(m, prev, cur, full);
	if (!err)
		err = entries_write(m, want, nw, have, nh);
	/* CPUs' copies of the entries just written stop answering. */
	if (!err)
		err = config_write(m, &cur->cfg, true);
	if (err) {
		be_view_unmap(&bv);
		goto out;
	}
	entries_delete(m, want, nw, have, nh);
	tables_remove(m, prev, cur, full);
	backends_remove(&bv, cur, gone);
	be_view_unmap(&bv);
	/* Nor do copies of the entries just removed. */
	err = config_write(m, &cur->cfg, true);
	/* Removed addresses lose their bits (a bit left set only costs time). */
	if (!err)
		err = filter_write(m, cur, NULL, false);
	vips_refwd(prev, cur, refwd);
	for (i = 0; i < XLB_MAX_BACKENDS && !forget; i++)
		forget = gone[i];
	for (i = 0; i < XLB_MAX_VIPS && !forget; i++)
		forget = refwd[i];
	if (forget)
		xlb_flows_forget(m, gone, refwd);
out:
	free(want);
	free(have);
	free(gone);
	return err;
}

/* --- recovery and the commit --- */

static int phase_write(const struct xlb_maps *m, struct xlb_commit *h,
		       __u32 phase)
{
	h->phase = phase;
	return xlb_record_header_write(m, h);
}

int xlb_model_recover(struct xlb_maps *m)
{
	struct xlb_model prev = { 0 }, cur;
	struct xlb_commit h;
	int err;

	err = xlb_record_header(m, &h);
	if (err || h.phase == XLB_COMMIT_DONE)
		return err;
	err = xlb_record_load(m, &h, h.slot, &cur);
	if (err)
		return err;
	if (h.phase == XLB_COMMIT_APPLYING) {
		cur.cfg = h.cfg;
		err = xlb_record_load(m, &h, h.slot ^ 1, &prev);
	} else {
		err = xlb_config_read(m, &cur.cfg);
		if (!err)
			err = xlb_model_copy(&cur, &prev);
	}
	if (!err)
		err = apply(m, &prev, &cur, true);
	if (!err)
		err = phase_write(m, &h, XLB_COMMIT_DONE);
	if (!err && h.phase == XLB_COMMIT_APPLYING)
		fprintf(stderr, "xlb: finished commit %llu, which its writer left "
			"half applied\n", (unsigned long long)h.gen);
	else if (!err)
		fprintf(stderr, "xlb: swept what an unfinished commit left "
			"(generation %llu stays)\n", (unsigned long long)h.gen);
	xlb_model_free(&prev);
	xlb_model_free(&cur);
	return err ? err : 1;
}

/* Whether a backend address of old is no backend of md's any more. */
static bool addrs_dropped(const struct xlb_model *old, const struct xlb_model *md)
{
	size_t i, j, k;

	for (i = 0; i < old->n_vips; i++)
		for (j = 0; j < old->vips[i].n_be; j++) {
			const struct xlb_addr *a = &old->vips[i].be[j].addr;
			bool kept = false;

			for (k = 0; k < md->n_vips && !kept; k++)
				kept = be_sorted(&md->vips[k], a) != NULL;
			if (!kept)
				return true;
		}
	return false;
}

/*
 * The managed neighbour entries the removed backends' next hops had go
 * (neigh.c). Best effort: a next hop kept too long only costs the kernel
 * a probe now and then.
 */
static void neigh_prune(const struct xlb_model *md)
{
	struct xlb_addr *a;
	size_t i, j, n = 0;

	for (i = 0; i < md->n_vips; i++)
		n += md->vips[i].n_be;
	a = calloc(n ? n : 1, sizeof(*a));
	if (!a)
		return;
	n = 0;
	for (i = 0; i < md->n_vips; i++)
		for (j = 0; j < md->vips[i].n_be; j++)
			a[n++] = md->vips[i].be[j].addr;
	xlb_neigh_sync(a, n);
	free(a);
}

int xlb_model_commit(struct xlb_maps *m, const struct xlb_model *old,
		     struct xlb_model *md)
{
	struct xlb_commit h, next;
	bool reuse;
	int err;

	xlb_model_sort(md);
	err = xlb_model_validate(md);
	if (err)
		return err;
	err = xlb_model_recover(m);
	if (err < 0)
		return err;
	/* Just finished: the places it emptied may still be being read. */
	reuse = err == 0;
	err = xlb_record_header(m, &h);
	if (err)
		return err;
	if (h.gen != old->gen)
		return xlb_errf(-EAGAIN, "the configuration changed since it was "
				"read (generation %llu, now %llu): try again",
				(unsigned long long)old->gen,
				(unsigned long long)h.gen);
	err = ids_assign(old, md);
	if (err)
		return err;
	err = phase_write(m, &h, XLB_COMMIT_STAGING);
	if (!err)
		err = stage(m, old, md, reuse);
	if (!err)
		err = xlb_record_stage(m, &h, md, &next);
	if (err) {
		/* Nothing refers to what was made: swept now, or next time. */
		xlb_model_recover(m);
		return err;
	}
	/* The commit point. */
	err = xlb_record_header_write(m, &next);
	if (err) {
		xlb_model_recover(m);
		return err;
	}
	md->gen = next.gen;
	err = apply(m, old, md, false);
	if (!err)
		err = phase_write(m, &next, XLB_COMMIT_DONE);
	if (!err && addrs_dropped(old, md))
		neigh_prune(md);
	return err;
}
