// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - read, validate and commit the whole configuration. The order
 * of writes in a commit is what keeps packets safe: new backends and their
 * states first, then whole tables swapped, then VIP entries pointing at
 * them, and only then removals.
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
#include "model.h"
#include "neigh.h"
#include "table.h"
#include "util.h"
#include "xlb_hash.h"

const char *xlb_state_name(__u32 state)
{
	switch (state) {
	case XLB_BE_UP:
		return "up";
	case XLB_BE_DOWN:
		return "down";
	case XLB_BE_DRAIN:
		return "drain";
	default:
		return "none";
	}
}

int xlb_state_parse(const char *s, __u32 *state)
{
	if (!strcmp(s, "up"))
		*state = XLB_BE_UP;
	else if (!strcmp(s, "down"))
		*state = XLB_BE_DOWN;
	else if (!strcmp(s, "drain"))
		*state = XLB_BE_DRAIN;
	else
		return xlb_errf(-EINVAL, "invalid state '%s' (want up, down or drain)",
				s);
	return 0;
}

const char *xlb_fwd_name(__u8 fwd)
{
	return fwd == XLB_FWD_L2DSR ? "l2dsr" : "ipip";
}

int xlb_fwd_parse(const char *s, __u8 *fwd)
{
	if (!strcmp(s, "ipip"))
		*fwd = XLB_FWD_IPIP;
	else if (!strcmp(s, "l2dsr"))
		*fwd = XLB_FWD_L2DSR;
	else
		return xlb_errf(-EINVAL, "invalid forwarding mode '%s' (want ipip or l2dsr)",
				s);
	return 0;
}

static int vip_key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct xlb_vip_ent *)a)->key,
		      &((const struct xlb_vip_ent *)b)->key,
		      sizeof(struct xlb_vip_key));
}

static int be_cmp(const void *a, const void *b)
{
	return xlb_addr_cmp(&((const struct xlb_be_ent *)a)->addr,
			    &((const struct xlb_be_ent *)b)->addr);
}

void xlb_model_free(struct xlb_model *md)
{
	size_t i;

	for (i = 0; i < md->n_vips; i++)
		free(md->vips[i].be);
	free(md->vips);
	md->vips = NULL;
	md->n_vips = 0;
}

int xlb_model_copy(const struct xlb_model *src, struct xlb_model *dst)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->cfg = src->cfg;
	if (!src->n_vips)
		return 0;
	dst->vips = calloc(src->n_vips, sizeof(*dst->vips));
	if (!dst->vips)
		return -ENOMEM;
	for (i = 0; i < src->n_vips; i++) {
		dst->vips[i] = src->vips[i];
		dst->vips[i].be = NULL;
		dst->n_vips = i + 1;
		if (!src->vips[i].n_be)
			continue;
		dst->vips[i].be = calloc(src->vips[i].n_be, sizeof(struct xlb_be_ent));
		if (!dst->vips[i].be) {
			xlb_model_free(dst);
			return -ENOMEM;
		}
		memcpy(dst->vips[i].be, src->vips[i].be,
		       src->vips[i].n_be * sizeof(struct xlb_be_ent));
	}
	return 0;
}

struct xlb_vip_ent *xlb_model_vip(const struct xlb_model *md,
				  const struct xlb_vip_key *k)
{
	size_t i;

	for (i = 0; i < md->n_vips; i++)
		if (!memcmp(&md->vips[i].key, k, sizeof(*k)))
			return &md->vips[i];
	return NULL;
}

struct xlb_be_ent *xlb_model_be(const struct xlb_vip_ent *v,
				const struct xlb_addr *a)
{
	size_t i;

	for (i = 0; i < v->n_be; i++)
		if (!xlb_addr_cmp(&v->be[i].addr, a))
			return &v->be[i];
	return NULL;
}

int xlb_model_vip_add(struct xlb_model *md, const struct xlb_vip_key *k,
		      struct xlb_vip_ent **out)
{
	struct xlb_vip_ent *v;
	char buf[XLB_VIP_STRLEN];

	if (xlb_model_vip(md, k)) {
		xlb_vip_fmt(k, buf, sizeof(buf));
		return xlb_errf(-EEXIST, "VIP %s already exists", buf);
	}
	v = realloc(md->vips, (md->n_vips + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	md->vips = v;
	v = &md->vips[md->n_vips++];
	memset(v, 0, sizeof(*v));
	v->key = *k;
	v->id = XLB_ID_NONE;
	v->table_size = XLB_TABLE_SIZE_DEFAULT;
	v->algo = XLB_ALGO_MAGLEV;
	v->fwd = XLB_FWD_IPIP;
	v->v4_prefix = 32;
	v->v6_prefix = 128;
	if (out)
		*out = v;
	return 0;
}

int xlb_model_vip_del(struct xlb_model *md, const struct xlb_vip_key *k)
{
	struct xlb_vip_ent *v = xlb_model_vip(md, k);
	char buf[XLB_VIP_STRLEN];
	size_t i;

	if (!v) {
		xlb_vip_fmt(k, buf, sizeof(buf));
		return xlb_errf(-ENOENT, "no VIP %s", buf);
	}
	i = (size_t)(v - md->vips);
	free(v->be);
	memmove(v, v + 1, (md->n_vips - i - 1) * sizeof(*v));
	md->n_vips--;
	return 0;
}

int xlb_model_be_add(struct xlb_vip_ent *v, const struct xlb_addr *a,
		     __u32 weight, struct xlb_be_ent **out)
{
	struct xlb_be_ent *b;
	char buf[XLB_ADDR_STRLEN], vbuf[XLB_VIP_STRLEN];

	if (xlb_model_be(v, a)) {
		xlb_addr_fmt(a->family, a->a, buf, sizeof(buf));
		xlb_vip_fmt(&v->key, vbuf, sizeof(vbuf));
		return xlb_errf(-EEXIST, "backend %s already exists in VIP %s",
				buf, vbuf);
	}
	b = realloc(v->be, (v->n_be + 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	v->be = b;
	b = &v->be[v->n_be++];
	memset(b, 0, sizeof(*b));
	b->addr = *a;
	b->id = XLB_ID_NONE;
	b->weight = weight;
	b->ramp = XLB_RAMP_FULL;
	b->state = XLB_BE_UP;
	b->since_ns = xlb_now_real_ns();
	if (out)
		*out = b;
	return 0;
}

int xlb_model_be_del(struct xlb_vip_ent *v, const struct xlb_addr *a)
{
	struct xlb_be_ent *b = xlb_model_be(v, a);
	char buf[XLB_ADDR_STRLEN], vbuf[XLB_VIP_STRLEN];
	size_t i;

	if (!b) {
		xlb_addr_fmt(a->family, a->a, buf, sizeof(buf));
		xlb_vip_fmt(&v->key, vbuf, sizeof(vbuf));
		return xlb_errf(-ENOENT, "no backend %s in VIP %s", buf, vbuf);
	}
	i = (size_t)(b - v->be);
	memmove(b, b + 1, (v->n_be - i - 1) * sizeof(*b));
	v->n_be--;
	return 0;
}


int xlb_array_read(int fd, void *vals, size_t vsize, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t stride = (vsize + 7) & ~(size_t)7; /* the kernel's element size */
	size_t len = ((size_t)n * stride + page - 1) & ~(page - 1);
	__u32 *keys, total = 0, count, in_tok = 0, out_tok = 0, id;
	int err = 0;
	char *p;

	/* A mappable array is read with plain copies, no system call each. */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		if (stride == vsize)
			memcpy(vals, p, (size_t)n * vsize);
		else
			for (id = 0; id < n; id++)
				memcpy((char *)vals + (size_t)id * vsize,
				       p + (size_t)id * stride, vsize);
		munmap(p, len);
		return 0;
	}
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	/* Batches until ENOENT says the last one was read. */
	while (total < n) {
		count = n - total;
		if (bpf_map_lookup_batch(fd, total ? &in_tok : NULL, &out_tok,
					 keys + total, (char *)vals + total * vsize,
					 &count, &opts)) {
			if (errno == ENOENT)
				total += count;
			break;
		}
		total += count;
		in_tok = out_tok;
	}
	/* Without batch support (or cut short): element by element. */
	for (id = total; id < n && !err; id++)
		if (bpf_map_lookup_elem(fd, &id, (char *)vals + (size_t)id * vsize))
			err = xlb_errf(-errno, "can't read entry %u: %s", id,
				       strerror(errno));
	free(keys);
	return err;
}

int xlb_model_read(const struct xlb_maps *m, struct xlb_model *md)
{
	struct xlb_vip_key k, next, *prev = NULL;
	struct xlb_backend *bes = NULL;
	__u32 *states = NULL;
	struct xlb_vip val;
	__u32 id;
	size_t i;
	int err;

	memset(md, 0, sizeof(*md));
	err = xlb_config_read(m, &md->cfg);
	if (err)
		return err;
	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		struct xlb_vip_ent *v;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(m->vips, &k, &val))
			continue; /* deleted meanwhile; we hold the lock */
		if (val.flags & XLB_VIP_F_FRAG_ALIAS)
			continue;
		err = xlb_model_vip_add(md, &k, &v);
		if (err)
			goto fail;
		v->id = val.id;
		v->table_size = val.table_size;
		v->generation = val.generation;
		v->algo = val.algo;
		v->fwd = val.fwd;
		v->v4_prefix = val.v4_prefix;
		v->v6_prefix = val.v6_prefix;
		v->table_b = !!(val.flags & XLB_VIP_F_TABLE_B);
		v->flip_ms = val.flip_ms;
	}

	bes = calloc(XLB_MAX_BACKENDS, sizeof(*bes));
	states = calloc(XLB_MAX_BACKENDS, sizeof(*states));
	if (!bes || !states) {
		err = -ENOMEM;
		goto fail;
	}
	err = xlb_array_read(m->backends, bes, sizeof(*bes), XLB_MAX_BACKENDS);
	if (!err)
		err = xlb_array_read(m->state, states, sizeof(*states),
				     XLB_MAX_BACKENDS);
	if (err)
		goto fail;
	for (id = 0; id < XLB_MAX_BACKENDS; id++) {
		struct xlb_backend *b = &bes[id];
		struct xlb_be_ent *e;
		struct xlb_addr a = { .family = b->family };

		if (!(b->flags & XLB_BE_F_USED))
			continue;
		for (i = 0; i < md->n_vips; i++)
			if (md->vips[i].id == b->vip_id)
				break;
		if (i == md->n_vips)
			continue; /* orphan of an interrupted commit */
		memcpy(a.a, b->addr, sizeof(a.a));
		err = xlb_model_be_add(&md->vips[i], &a, b->weight, &e);
		if (err)
			goto fail;
		e->id = id;
		e->ramp = b->ramp;
		e->state = states[id];
		e->since_ns = b->since_ns;
		e->drain_deadline_ns = b->drain_deadline_ns;
	}
	qsort(md->vips, md->n_vips, sizeof(*md->vips), vip_key_cmp);
	for (i = 0; i < md->n_vips; i++)
		qsort(md->vips[i].be, md->vips[i].n_be, sizeof(struct xlb_be_ent),
		      be_cmp);
	free(bes);
	free(states);
	return 0;
fail:
	free(bes);
	free(states);
	xlb_model_free(md);
	return err;
}

static bool src_zero6(const __be32 *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

int xlb_model_validate(const struct xlb_model *md)
{
	char vb[XLB_VIP_STRLEN], ab[XLB_ADDR_STRLEN];
	size_t i, j, total = 0;
	int err;

	if (md->n_vips > XLB_MAX_VIPS)
		return xlb_errf(-ENOSPC, "too many VIPs (%zu, at most %d)",
				md->n_vips, XLB_MAX_VIPS);
	for (i = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];

		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		if (v->algo >= XLB_ALGO_COUNT)
			return xlb_errf(-EINVAL, "VIP %s: invalid algorithm", vb);
		err = xlb_table_size_check(v->algo, v->table_size);
		if (err)
			return xlb_errf(err, "VIP %s: table size %u is not usable by %s%s",
					vb, v->table_size, xlb_algo_name(v->algo),
					v->algo == XLB_ALGO_MAGLEV ? " (needs a prime)" : "");
		if (v->v4_prefix > 32 || v->v6_prefix > 128)
			return xlb_errf(-EINVAL, "VIP %s: invalid source prefix", vb);
		if (v->fwd > XLB_FWD_L2DSR)
			return xlb_errf(-EINVAL, "VIP %s: invalid forwarding mode", vb);
		if (v->n_be > v->table_size)
			return xlb_errf(-EINVAL, "VIP %s: %zu backends do not fit %u slots",
					vb, v->n_be, v->table_size);
		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *b = &v->be[j];

			xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
			if (j && !xlb_addr_cmp(&v->be[j - 1].addr, &b->addr))
				return xlb_errf(-EEXIST, "VIP %s: duplicate backend %s",
						vb, ab);
			if (b->weight > XLB_WEIGHT_MAX)
				return xlb_errf(-ERANGE, "backend %s: weight %u out of range 0-%d",
						ab, b->weight, XLB_WEIGHT_MAX);
			if (b->ramp > XLB_RAMP_FULL)
				return xlb_errf(-ERANGE, "backend %s: invalid slow-start ramp",
						ab);
			if (b->state < XLB_BE_UP || b->state > XLB_BE_DRAIN)
				return xlb_errf(-EINVAL, "backend %s: invalid state", ab);
			if (v->fwd == XLB_FWD_L2DSR &&
			    b->addr.family != v->key.family)
				return xlb_errf(-EINVAL,
						"VIP %s: l2dsr cannot carry a %s VIP to %s backend %s",
						vb, v->key.family == XLB_AF_INET ? "IPv4" : "IPv6",
						b->addr.family == XLB_AF_INET ? "IPv4" : "IPv6", ab);
			if (v->fwd == XLB_FWD_IPIP && b->addr.family == XLB_AF_INET &&
			    !md->cfg.src4)
				return xlb_errf(-EINVAL,
						"backend %s: no IPv4 source address for encapsulation (xlb attach --src4)",
						ab);
			if (v->fwd == XLB_FWD_IPIP && b->addr.family == XLB_AF_INET6 &&
			    src_zero6(md->cfg.src6))
				return xlb_errf(-EINVAL,
						"backend %s: no IPv6 source address for encapsulation (xlb attach --src6)",
						ab);
		}
		total += v->n_be;
	}
	if (total > XLB_MAX_BACKENDS)
		return xlb_errf(-ENOSPC, "too many backends (%zu, at most %d)",
				total, XLB_MAX_BACKENDS);
	return 0;
}

int xlb_model_tb(const struct xlb_vip_ent *v, struct xlb_tb_backend **out)
{
	struct xlb_tb_backend *tb;
	size_t i;

	tb = calloc(v->n_be ? v->n_be : 1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	for (i = 0; i < v->n_be; i++) {
		tb[i].id = v->be[i].id;
		tb[i].family = v->be[i].addr.family;
		memcpy(tb[i].addr, v->be[i].addr.a, sizeof(tb[i].addr));
		tb[i].weight = v->be[i].weight;
		tb[i].ramp = v->be[i].ramp;
		tb[i].healthy = v->be[i].state == XLB_BE_UP;
	}
	*out = tb;
	return 0;
}

int xlb_model_table(const struct xlb_model *md, const struct xlb_vip_ent *v,
		    struct xlb_slot **out)
{
	struct xlb_tb_params p = {
		.algo = (enum xlb_algo)v->algo,
		.size = v->table_size,
	};
	struct xlb_tb_backend *tb = NULL;
	struct xlb_slot *slots;
	int err;

	p.seed[0] = md->cfg.seed[0];
	p.seed[1] = md->cfg.seed[1];
	slots = calloc(v->table_size, sizeof(*slots));
	if (!slots || xlb_model_tb(v, &tb)) {
		free(slots);
		return -ENOMEM;
	}
	err = xlb_table_build(&p, tb, v->n_be, slots);
	free(tb);
	if (err) {
		free(slots);
		return xlb_errf(err, "can't build the table: %s", strerror(-err));
	}
	*out = slots;
	return 0;
}

__u32 xlb_model_slot(const struct xlb_config *cfg, const struct xlb_vip_ent *v,
		     const struct xlb_addr *c)
{
	__u64 mask[2], h;

	if (c->family == XLB_AF_INET) {
		xlb_src_mask(0, v->v4_prefix, mask);
		h = xlb_hash_v4(cfg->seed, ntohl(c->a[0]), mask[0]);
	} else {
		xlb_src_mask(1, v->v6_prefix, mask);
		h = xlb_hash_v6(cfg->seed,
				((__u64)ntohl(c->a[0]) << 32) | ntohl(c->a[1]),
				((__u64)ntohl(c->a[2]) << 32) | ntohl(c->a[3]),
				mask);
	}
	return xlb_slot_of(h, v->table_size);
}

static size_t table_bytes(__u32 size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return ((size_t)XLB_TABLE_ELEMS(size) * sizeof(struct xlb_slot_pair) +
		page - 1) & ~(page - 1);
}

int xlb_table_map_live(const struct xlb_maps *m, const struct xlb_vip_ent *v,
		       const struct xlb_slot **out)
{
	__u32 idx = xlb_table_index(v->id, v->table_b ? XLB_VIP_F_TABLE_B : 0);
	__u32 inner_id, size = v->table_size;
	void *p;
	int fd;

	if (bpf_map_lookup_elem(m->tables, &idx, &inner_id))
		return xlb_errf(-errno, "no table for VIP id %u: %s", v->id,
				strerror(errno));
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return xlb_errf(-errno, "can't open table map %u: %s", inner_id,
				strerror(errno));
	p = mmap(NULL, table_bytes(size), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return xlb_errf(-errno, "can't map table %u: %s", inner_id,
				strerror(errno));
	*out = p;
	return 0;
}

void xlb_table_unmap(const struct xlb_slot *t, __u32 size)
{
	if (t)
		munmap((void *)t, table_bytes(size));
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
		p = mmap(NULL, table_bytes(size), PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			memcpy(p, slots, (size_t)size * sizeof(*slots));
			munmap(p, table_bytes(size));
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
	p = mmap(NULL, table_bytes(size), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return xlb_errf(err, "can't map a new table: %s", strerror(-err));
	}
	memcpy(p, slots, (size_t)size * sizeof(*slots));
	munmap(p, table_bytes(size));
	return fd;
}

/* The flow table mapped: its sets and the seed its hash is keyed with. */
struct flows_view {
	struct xlb_flow_set *sets;
	__u32 n; /* sets (xlb_config.flow_sets, checked against the map) */
	__u64 seed[2];
};

static size_t flows_bytes(const struct flows_view *v)
{
	return (size_t)v->n * sizeof(struct xlb_flow_set);
}

/*
 * Maps the flow table. The data path writes entries without locks; a copy
 * whose tag is not its key's is empty or was caught mid-write, and is
 * skipped.
 */
static int flows_map(const struct xlb_maps *m, int prot, struct flows_view *v)
{
	struct xlb_config cfg;
	__u32 zero = 0;
	void *p;

	if (bpf_map_lookup_elem(m->config, &zero, &cfg))
		return -errno;
	v->n = cfg.flow_sets;
	p = mmap(NULL, flows_bytes(v), prot, MAP_SHARED, m->flows, 0);
	if (p == MAP_FAILED)
		return -errno;
	v->seed[0] = cfg.seed[0];
	v->seed[1] = cfg.seed[1];
	v->sets = p;
	return 0;
}

int xlb_flows_walk(const struct xlb_maps *m,
		   int (*fn)(const struct xlb_flow_key *k, const struct xlb_flow *f,
			     void *arg),
		   void *arg)
{
	struct xlb_flow_set s;
	struct flows_view v;
	__u32 i;
	int w, err;

	if ((err = flows_map(m, PROT_READ, &v)))
		return err;
	for (i = 0; i < v.n && !err; i++) {
		memcpy(&s, &v.sets[i], sizeof(s));
		for (w = 0; w < XLB_FLOW_WAYS && !err; w++)
			if (xlb_flow_way_valid(v.seed, &s, w))
				err = fn(&s.way[w].key, &s.way[w].flow, arg);
	}
	munmap(v.sets, flows_bytes(&v));
	return err;
}

static int count_one(const struct xlb_flow_key *k, const struct xlb_flow *f,
		     void *arg)
{
	__u32 *counts = arg;

	if (f->backend < XLB_MAX_BACKENDS)
		counts[f->backend]++;
	return 0;
}

static int count_all(const struct xlb_flow_key *k, const struct xlb_flow *f,
		     void *arg)
{
	++*(__u64 *)arg;
	return 0;
}

int xlb_flows_usage(const struct xlb_maps *m, __u64 *used, __u64 *capacity)
{
	struct xlb_config cfg;
	int err = xlb_config_read(m, &cfg);

	if (err)
		return err;
	*capacity = (__u64)cfg.flow_sets * XLB_FLOW_WAYS;
	*used = 0;
	return xlb_flows_walk(m, count_all, used);
}

int xlb_flows_count(const struct xlb_maps *m, __u32 *counts)
{
	memset(counts, 0, XLB_MAX_BACKENDS * sizeof(*counts));
	return xlb_flows_walk(m, count_one, counts);
}

/*
 * Deletes flow entries whose backend is marked in gone[] or whose VIP is
 * marked in vip_gone[] (entries carry the VIP's forwarding mode). An entry
 * is emptied by swapping its tag for 0, and only if the data path has not
 * rewritten it meanwhile.
 */
static void flows_forget(const struct xlb_maps *m, const bool *gone,
			 const bool *vip_gone)
{
	const struct xlb_flow *f;
	struct xlb_flow_set s;
	struct flows_view v;
	__u32 i;
	int w;

	if (flows_map(m, PROT_READ | PROT_WRITE, &v))
		return;
	for (i = 0; i < v.n; i++) {
		memcpy(&s, &v.sets[i], sizeof(s));
		for (w = 0; w < XLB_FLOW_WAYS; w++) {
			f = &s.way[w].flow;
			if (!xlb_flow_way_valid(v.seed, &s, w) ||
			    ((f->backend >= XLB_MAX_BACKENDS ||
			      !gone[f->backend]) &&
			     (f->vip_id >= XLB_MAX_VIPS || !vip_gone[f->vip_id])))
				continue;
			__atomic_compare_exchange_n(&v.sets[i].tag[w], &s.tag[w],
						    0, false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST);
		}
	}
	munmap(v.sets, flows_bytes(&v));
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

static void be_value(const struct xlb_vip_ent *v, const struct xlb_be_ent *b,
		     struct xlb_backend *val)
{
	memset(val, 0, sizeof(*val));
	memcpy(val->addr, b->addr.a, sizeof(val->addr));
	val->family = b->addr.family;
	val->flags = XLB_BE_F_USED;
	val->vip_id = v->id;
	val->weight = b->weight;
	val->ramp = b->ramp;
	val->since_ns = b->since_ns;
	val->drain_deadline_ns = b->drain_deadline_ns;
}

static void vip_value(const struct xlb_vip_ent *v, struct xlb_vip *val)
{
	memset(val, 0, sizeof(*val));
	val->id = v->id;
	val->table_size = v->table_size;
	xlb_src_mask(v->key.family == XLB_AF_INET6,
		     v->key.family == XLB_AF_INET6 ? v->v6_prefix : v->v4_prefix,
		     val->src_mask);
	val->fwd = v->fwd;
	val->algo = v->algo;
	val->v4_prefix = v->v4_prefix;
	val->v6_prefix = v->v6_prefix;
	val->generation = v->generation;
	val->flip_ms = v->flip_ms;
	if (v->table_b)
		val->flags |= XLB_VIP_F_TABLE_B;
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

/*
 * The live xlb_config.vip_gen, moved by one when bump is set, into
 * md->cfg, which is then written whole. Read from the map, not from md: a
 * model read before another writer's commit must not move it back to a
 * value some CPU's cached VIP copy may still carry.
 */
static int vip_gen_write(const struct xlb_maps *m, struct xlb_model *md,
			 bool bump)
{
	struct xlb_config live;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->config, &zero, &live))
		return xlb_errf(-errno, "can't read config: %s", strerror(errno));
	md->cfg.vip_gen = live.vip_gen + (bump ? 1 : 0);
	return write_elem(m->config, &zero, &md->cfg, "config");
}

int xlb_model_commit(const struct xlb_maps *m, const struct xlb_model *old,
		     struct xlb_model *md)
{
	bool vip_used[XLB_MAX_VIPS] = { 0 }, vip_refwd[XLB_MAX_VIPS] = { 0 };
	bool forget = false;
	bool *be_used = NULL, *be_gone = NULL;
	int *table_fd = NULL;
	struct xlb_counters zc = { 0 };
	struct xlb_nexthop znh = { 0 };
	struct xlb_vip_filter vf = { 0 };
	__u32 next_vip = 0, next_be = 0, zero = 0;
	size_t i, j;
	int err;

	qsort(md->vips, md->n_vips, sizeof(*md->vips), vip_key_cmp);
	for (i = 0; i < md->n_vips; i++)
		qsort(md->vips[i].be, md->vips[i].n_be, sizeof(struct xlb_be_ent),
		      be_cmp);
	err = xlb_model_validate(md);
	if (err)
		return err;

	be_used = calloc(XLB_MAX_BACKENDS, sizeof(bool));
	be_gone = calloc(XLB_MAX_BACKENDS, sizeof(bool));
	table_fd = calloc(md->n_vips ? md->n_vips : 1, sizeof(int));
	if (!be_used || !be_gone || !table_fd) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < md->n_vips; i++)
		table_fd[i] = -1;

	/* Ids: keep what old had (same VIP and size, same backend). */
	for (i = 0; i < old->n_vips; i++) {
		vip_used[old->vips[i].id] = true;
		for (j = 0; j < old->vips[i].n_be; j++)
			be_used[old->vips[i].be[j].id] = true;
	}
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);

		v->id = XLB_ID_NONE;
		if (o && o->table_size == v->table_size)
			v->id = o->id;
		if (o && v->id == o->id && o->fwd != v->fwd)
			vip_refwd[v->id] = forget = true;
		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *ob =
				o ? be_sorted(o, &v->be[j].addr) : NULL;

			v->be[j].id = (ob && v->id != XLB_ID_NONE) ? ob->id :
								      XLB_ID_NONE;
		}
	}
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];

		if (v->id == XLB_ID_NONE) {
			while (next_vip < XLB_MAX_VIPS && vip_used[next_vip])
				next_vip++;
			if (next_vip == XLB_MAX_VIPS) {
				err = xlb_errf(-ENOSPC, "no free VIP id");
				goto out;
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
				goto out;
			}
			v->be[j].id = next_be;
			be_used[next_be] = true;
		}
	}

	/* Every table that changes is built before the first map write. */
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);
		struct xlb_slot *slots;

		if (o && o->id == v->id && be_same_for_table(o, v)) {
			/* Unchanged: the live place stays live, whatever md says. */
			v->table_b = o->table_b;
			v->generation = o->generation;
			v->flip_ms = o->flip_ms;
			continue;
		}
		err = xlb_model_table(md, v, &slots);
		if (err)
			goto out;
		if (!(o && o->id == v->id &&
		      table_refill_idle(m, o, slots, v->table_size))) {
			err = table_create(m, v->id, slots, v->table_size);
			if (err < 0) {
				free(slots);
				goto out;
			}
			table_fd[i] = err;
			err = 0;
		}
		free(slots);
		v->generation = (o ? o->generation : 0) + 1;
		v->flip_ms = now_ms();
		/* The idle place of a live VIP; a new id starts in the first. */
		v->table_b = (o && o->id == v->id) ? !o->table_b : false;
	}

	err = vip_gen_write(m, md, false);
	if (err)
		goto out;

	/* Backends and their states, before any table refers to them. */
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);

		for (j = 0; j < v->n_be; j++) {
			struct xlb_be_ent *b = &v->be[j];
			const struct xlb_be_ent *ob =
				o ? be_sorted(o, &b->addr) : NULL;
			struct xlb_backend val, oval;

			if (ob && ob->id != b->id)
				ob = NULL;
			if (!ob) {
				xlb_neigh_nudge(&b->addr);
				/* A reused id must not inherit a next hop. */
				err = xlb_percpu_set(m->nexthop, b->id, &znh,
						     sizeof(znh));
				if (!err)
					err = xlb_percpu_set(m->be_stats, b->id,
							     &zc, sizeof(zc));
				if (err)
					goto out;
			}
			be_value(v, b, &val);
			if (ob)
				be_value(o, ob, &oval);
			/* Only what changed: a commit costs no write per backend. */
			if (!ob || memcmp(&val, &oval, sizeof(val)))
				err = write_elem(m->backends, &b->id, &val, "backend");
			if (!err && (!ob || ob->state != b->state))
				err = write_elem(m->state, &b->id, &b->state,
						 "backend state");
			if (err)
				goto out;
		}
	}

	/*
	 * Whole tables into the VIPs' idle places (each update waits for an
	 * RCU grace period, so no packet still reads what it replaces).
	 */
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_ent *o = xlb_model_vip(old, &v->key);
		__u32 idx = xlb_table_index(v->id, v->table_b ? XLB_VIP_F_TABLE_B : 0);

		if (table_fd[i] < 0)
			continue;
		if (!o || o->id != v->id) {
			/* A new id: fresh counters. */
			err = xlb_percpu_set(m->vip_stats, v->id, &zc, sizeof(zc));
			if (err)
				goto out;
		}
		err = write_elem(m->tables, &idx, &table_fd[i], "table");
		if (err)
			goto out;
	}

	/*
	 * Addresses live or about to be have their filter bits before any
	 * new VIP entry exists: a VIP is never filtered out. (The update
	 * copies the value under running readers; a bit set in both the old
	 * and the new value reads set throughout.)
	 */
	vip_filter_add(old, &vf);
	vip_filter_add(md, &vf);
	err = write_elem(m->vip_filter, &zero, &vf, "VIP filter");
	if (err)
		goto out;

	/* The swap: VIP entries and aliases name the new places. */
	for (i = 0; i < md->n_vips; i++) {
		struct xlb_vip_ent *v = &md->vips[i];
		struct xlb_vip val;
		struct xlb_vip_key ak = v->key;

		vip_value(v, &val);
		err = write_elem(m->vips, &v->key, &val, "VIP");
		if (err)
			goto out;
		ak.port = 0;
		val.flags |= XLB_VIP_F_FRAG_ALIAS;
		if (alias_owner(md, &ak) == v)
			err = write_elem(m->vips, &ak, &val, "fragment alias");
		ak.proto = 0;
		if (!err && alias_owner(md, &ak) == v)
			err = write_elem(m->vips, &ak, &val, "fragment alias");
		if (err)
			goto out;
	}
	/* CPUs' copies of the entries just written stop answering. */
	err = vip_gen_write(m, md, true);
	if (err)
		goto out;

	/* Removals last: nothing live refers to them any more. */
	for (i = 0; i < old->n_vips; i++) {
		const struct xlb_vip_ent *o = &old->vips[i];
		const struct xlb_vip_ent *v = xlb_model_vip(md, &o->key);
		struct xlb_vip_key ak = o->key;
		bool id_reused = false;

		ak.port = 0;
		if (!v)
			bpf_map_delete_elem(m->vips, &o->key);
		if (!alias_owner(md, &ak))
			bpf_map_delete_elem(m->vips, &ak);
		ak.proto = 0;
		if (o->key.family == XLB_AF_INET6 && !alias_owner(md, &ak))
			bpf_map_delete_elem(m->vips, &ak);
		for (j = 0; j < md->n_vips; j++)
			id_reused |= md->vips[j].id == o->id;
		if (!id_reused) {
			__u32 b = xlb_table_index(o->id, XLB_VIP_F_TABLE_B);

			bpf_map_delete_elem(m->tables, &o->id);
			bpf_map_delete_elem(m->tables, &b);
		}
		for (j = 0; j < o->n_be; j++) {
			const struct xlb_be_ent *ob = &o->be[j];
			const struct xlb_be_ent *nb =
				v ? be_sorted(v, &ob->addr) : NULL;
			struct xlb_backend zb = { 0 };
			__u32 none = XLB_BE_NONE;

			/* Ids freed here are never handed out in this commit. */
			if (nb && nb->id == ob->id)
				continue;
			be_gone[ob->id] = true;
			write_elem(m->state, &ob->id, &none, "backend state");
			write_elem(m->backends, &ob->id, &zb, "backend");
		}
	}
	/* Nor do copies of the entries just removed. */
	vip_gen_write(m, md, true);
	/* Removed addresses lose their bits (a bit left set only costs time). */
	memset(&vf, 0, sizeof(vf));
	vip_filter_add(md, &vf);
	write_elem(m->vip_filter, &zero, &vf, "VIP filter");
	for (i = 0; i < XLB_MAX_BACKENDS && !forget; i++)
		forget = be_gone[i];
	if (forget)
		flows_forget(m, be_gone, vip_refwd);
	err = 0;
out:
	if (table_fd)
		for (i = 0; i < md->n_vips; i++)
			if (table_fd[i] >= 0)
				close(table_fd[i]);
	free(table_fd);
	free(be_used);
	free(be_gone);
	return err;
}
