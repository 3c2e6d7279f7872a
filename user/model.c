// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - the whole configuration in memory: read from the commit
 * record, edited, validated; its tables built; the flow table walked.
 * Committing it is commit.c's.
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
#include "record.h"
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
	dst->gen = src->gen;
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

void xlb_model_sort(struct xlb_model *md)
{
	size_t i;

	qsort(md->vips, md->n_vips, sizeof(*md->vips), vip_key_cmp);
	for (i = 0; i < md->n_vips; i++)
		qsort(md->vips[i].be, md->vips[i].n_be, sizeof(struct xlb_be_ent),
		      be_cmp);
}

/*
 * The committed slot, read until the header is the same before and after
 * (a writer may have committed, and staged the other slot, meanwhile).
 */
static int record_read(const struct xlb_maps *m, struct xlb_model *md,
		       struct xlb_commit *h)
{
	struct xlb_commit after;
	int err, tries;

	for (tries = 0; tries < 100; tries++) {
		err = xlb_record_header(m, h);
		if (!err)
			err = xlb_record_load(m, h, h->slot, md);
		if (err)
			return err;
		err = xlb_record_header(m, &after);
		if (err) {
			xlb_model_free(md);
			return err;
		}
		if (after.gen == h->gen && after.slot == h->slot)
			return 0;
		xlb_model_free(md);
	}
	return xlb_errf(-EAGAIN, "the configuration kept changing while read");
}

/*
 * A commit its writer did not finish is finished by the next command
 * that can take the lock, readers included (as a database's readers roll
 * a hot journal back): nobody else would, and until then the data path
 * lags the record. A writer holding the lock is alive and not waited for.
 */
static void finish_dead_commit(struct xlb_maps *m, const struct xlb_commit *h)
{
	struct xlb_maps w;

	if (h->phase == XLB_COMMIT_DONE)
		return;
	if (m->rdonly) {
		/* A reader's maps: writable ones, where this view allows. */
		if (!xlb_maps_open(m->dir, &w)) {
			if (!w.rdonly && !xlb_maps_trylock(&w))
				xlb_model_recover(&w);
			xlb_maps_close(&w);
		}
		xlb_err_clear();
		return;
	}
	if (m->lock_fd >= 0) {
		xlb_model_recover(m);
		return;
	}
	if (xlb_maps_trylock(m))
		return;
	xlb_model_recover(m);
	xlb_maps_unlock(m);
}

int xlb_model_read(struct xlb_maps *m, struct xlb_model *md)
{
	struct xlb_config live;
	struct xlb_commit h;
	int err;

	memset(md, 0, sizeof(*md));
	err = xlb_record_header(m, &h);
	if (err)
		return err;
	finish_dead_commit(m, &h);
	err = xlb_config_read(m, &live);
	if (!err)
		err = record_read(m, md, &h);
	if (err)
		return err;
	md->cfg = live;
	if (h.phase == XLB_COMMIT_APPLYING) {
		/* Still lagging: the committed settings, the map's own fields. */
		md->cfg = h.cfg;
		md->cfg.abi = live.abi;
		md->cfg.flow_sets = live.flow_sets;
		md->cfg.vip_gen = live.vip_gen;
	}
	md->gen = h.gen;
	return 0;
}

static bool src_zero6(const __be32 *a)
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

/*
 * The same rules as where addresses come in (addr.c), again here: nothing
 * that reaches the maps by any path is a host's own or a group's address.
 */
static int vip_addr_check(const struct xlb_vip_ent *v)
{
	struct xlb_addr a = { .family = v->key.family };

	memcpy(a.a, v->key.addr, sizeof(a.a));
	return xlb_addr_check_unicast(&a, "VIP");
}

static int be_addr_check(const struct xlb_vip_ent *v, const struct xlb_be_ent *b)
{
	char ab[XLB_ADDR_STRLEN];

	if (b->addr.family == v->key.family &&
	    !memcmp(b->addr.a, v->key.addr, sizeof(b->addr.a))) {
		xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
		return xlb_errf(-EINVAL, "backend %s is its own VIP's address", ab);
	}
	return xlb_addr_check_unicast(&b->addr, "backend");
}

/* The tables' memory, bounded up front (XLB_TABLE_SLOTS_BUDGET). */
static int budget_check(const struct xlb_model *md)
{
	__u64 slots = 0;
	size_t i;

	for (i = 0; i < md->n_vips; i++)
		slots += md->vips[i].table_size;
	if (slots <= XLB_TABLE_SLOTS_BUDGET)
		return 0;
	return xlb_errf(-ENOSPC,
			"the VIPs' tables would hold %llu slots (%llu MiB with their "
			"idle copies), more than the budget of %u slots: use smaller "
			"--table-size values",
			(unsigned long long)slots,
			(unsigned long long)(slots * 2 * sizeof(struct xlb_slot) >> 20),
			XLB_TABLE_SLOTS_BUDGET);
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
		err = vip_addr_check(v);
		if (err)
			return err;
		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *b = &v->be[j];

			xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
			err = be_addr_check(v, b);
			if (err)
				return err;
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
	return budget_check(md);
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
	return xlb_model_table_prev(md, v, NULL, out);
}

int xlb_model_table_prev(const struct xlb_model *md,
			 const struct xlb_vip_ent *v,
			 const struct xlb_tb_prev *prev, struct xlb_slot **out)
{
	struct xlb_tb_params p = {
		.algo = (enum xlb_algo)v->algo,
		.size = v->table_size,
		.prev = prev, /* stable: the table it continues (history.h) */
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

void xlb_model_be_value(const struct xlb_vip_ent *v, const struct xlb_be_ent *b,
			struct xlb_backend *val)
{
	memset(val, 0, sizeof(*val));
	memcpy(val->addr, b->addr.a, sizeof(val->addr));
	val->family = b->addr.family;
	val->flags = XLB_BE_F_USED;
	/* Waiting ends with the backend's first UP, whoever brings it. */
	if (b->pending && b->state == XLB_BE_DOWN)
		val->flags |= XLB_BE_F_PENDING;
	val->vip_id = v->id;
	val->weight = b->weight;
	val->ramp = b->ramp;
	val->since_ns = b->since_ns;
	val->drain_deadline_ns = b->drain_deadline_ns;
}

void xlb_model_vip_value(const struct xlb_vip_ent *v, struct xlb_vip *val)
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
	if (v->checked)
		val->flags |= XLB_VIP_F_CHECKED;
}

size_t xlb_table_bytes(__u32 size)
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
	p = mmap(NULL, xlb_table_bytes(size), PROT_READ, MAP_SHARED, fd, 0);
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
		munmap((void *)t, xlb_table_bytes(size));
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
void xlb_flows_forget(const struct xlb_maps *m, const bool *gone,
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

