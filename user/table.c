// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - consistent-hash table builders (see table.h).
 *
 * Every builder works on C, the configured backends (weight > 0, whatever
 * their health), sorted by family and address so that the result never
 * depends on the order of be[] nor on backend ids, which differ between
 * machines. All hashing is SipHash keyed with the deployment seed over
 * addresses; all arithmetic is integer, so the table is byte-identical on
 * every node.
 *
 * Each algorithm defines, for every slot s, a preference order over C that
 * does not depend on health. The primary is the first backend of that order
 * present for s, the secondary the next one. A backend is present for s when
 * it is healthy and, if ramping, s is in its slow-start subset
 * (keyed_hash(s, address) % 1000 < ramp), so the secondary is by
 * construction the owner the slot would have without the primary, and a
 * health or ramp change only moves the slots of the backend concerned.
 * modulo is the exception on purpose: its order depends on the whole set.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "table.h"
#include "xlb_hash.h"

#define IDX_NONE UINT32_MAX
#define RING_MAX_POINTS (1U << 22) /* ring: cap on points, for memory */
#define MAGLEV_DRAWS 8 /* maglev: random draws before the scan */
#define LOG_FRAC 24 /* rendezvous: fraction bits of the fixed-point log */
#define LOG_TAB_BITS 10 /* rendezvous: log table of 2^10 + 1 entries */

/* Hash domains, so that no two uses of the seed see the same input. */
enum {
	TAG_MAGLEV = 1,
	TAG_RAMP,
	TAG_TAIL,
	TAG_RING,
	TAG_REND_BE,
	TAG_REND_SLOT,
};

static const char *const algo_names[XLB_ALGO_COUNT] = {
	[XLB_ALGO_MAGLEV] = "maglev",
	[XLB_ALGO_RING] = "ring",
	[XLB_ALGO_RENDEZVOUS] = "rendezvous",
	[XLB_ALGO_MODULO] = "modulo",
};

/* A configured backend, canonicalised. */
struct tb {
	__u64 a0, a1; /* address as two host-order words; IPv4 in a1 */
	__u64 h;      /* keyed hash of family and address */
	__u32 id;
	__u32 weight; /* divided by the gcd of C's weights */
	__u32 ramp;   /* clamped to XLB_RAMP_FULL */
	__u8 family;
	bool healthy;
	bool elig; /* can be present for some slot: healthy, ramp > 0 */
};

struct ctx {
	__u64 seed[2];
	__u32 size;
	struct tb *b; /* C, canonical order */
	__u32 n;      /* |C| */
	__u32 ne;     /* eligible members of C */
	__u64 wsum;   /* sum of (reduced) weights over C */
};

const char *xlb_algo_name(enum xlb_algo a)
{
	if ((unsigned int)a >= XLB_ALGO_COUNT)
		return "unknown";
	return algo_names[a];
}

int xlb_algo_parse(const char *name, enum xlb_algo *a)
{
	int i;

	if (!name || !a)
		return -EINVAL;
	for (i = 0; i < XLB_ALGO_COUNT; i++) {
		if (!strcmp(name, algo_names[i])) {
			*a = (enum xlb_algo)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_prime(__u32 v)
{
	__u32 d;

	if (v < 2)
		return false;
	if (v % 2 == 0)
		return v == 2;
	for (d = 3; d <= v / d; d += 2)
		if (v % d == 0)
			return false;
	return true;
}

int xlb_table_size_check(enum xlb_algo algo, __u32 size)
{
	if ((unsigned int)algo >= XLB_ALGO_COUNT)
		return -EINVAL;
	if (size == 0 || size > XLB_TABLE_SIZE_MAX)
		return -EINVAL;
	/* Maglev's permutations (offset + j * skip) cover only a prime. */
	if (algo == XLB_ALGO_MAGLEV && !is_prime(size))
		return -EINVAL;
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static inline __u64 tagw(__u64 tag, __u64 family, __u64 v)
{
	return tag << 56 | family << 48 | v;
}

static inline __u64 hash3(const struct ctx *x, __u64 w0, __u64 w1, __u64 w2)
{
	__u64 m[3] = { w0, w1, w2 };

	return xlb_siphash13(x->seed, m, 3);
}

/* Cheap bijective mixer (MurmurHash3 finaliser) for already-keyed input. */
static inline __u64 fmix64(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* r scaled to [0, n) without division bias worth caring about. */
static inline __u64 scale64(__u64 r, __u64 n)
{
	return (__u64)(((unsigned __int128)r * n) >> 64);
}

static __u64 gcd64(__u64 a, __u64 b)
{
	while (b) {
		__u64 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Is backend i present for slot s (healthy, and in its ramp subset)? */
static inline bool present(const struct ctx *x, __u32 s, __u32 i)
{
	const struct tb *b = &x->b[i];
	__u64 h;

	if (!b->elig)
		return false;
	if (b->ramp >= XLB_RAMP_FULL)
		return true;
	h = hash3(x, tagw(TAG_RAMP, b->family, s), b->a0, b->a1);
	return h % XLB_RAMP_FULL < b->ramp;
}

static int tb_cmp(const void *pa, const void *pb)
{
	const struct tb *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->a0 != b->a0)
		return a->a0 < b->a0 ? -1 : 1;
	if (a->a1 != b->a1)
		return a->a1 < b->a1 ? -1 : 1;
	return 0;
}

static void fill_none(struct xlb_slot *out, __u32 size)
{
	__u32 s;

	for (s = 0; s < size; s++) {
		out[s].primary = XLB_BACKEND_NONE;
		out[s].secondary = XLB_BACKEND_NONE;
	}
}

static inline void put(const struct ctx *x, struct xlb_slot *o, __u32 pi,
		       __u32 si)
{
	o->primary = pi == IDX_NONE ? XLB_BACKEND_NONE : x->b[pi].id;
	o->secondary = si == IDX_NONE ? XLB_BACKEND_NONE : x->b[si].id;
}

/* ---- maglev ----------------------------------------------------------- */

/*
 * pref(s) = p1(s), p2(s), then a tail:
 *  p1: Maglev permutation fill over C with exact quotas (largest remainder
 *      of size by weight), claims interleaved by stride scheduling so that
 *      weights are spread over the whole fill as round-robin would.
 *  p2: for each backend b, b's slots go to the other backends with the
 *      lowest projected load per weight, so when b fails the others stay
 *      within one slot of their fair share.
 *  tail: weighted pseudo-random draws over C, then a cyclic scan of C from
 *      a per-slot start, for multiple failures.
 * Cost: O(size log size) fill, O(|C|^2 + size log |C|) for p2.
 */

struct fill_ent {
	__u32 i, k, q, w; /* backend, slots claimed, quota, weight */
};

/*
 * Backend a claims its next slot before b: (2k+1)/w smallest first. By
 * weight, not quota: quotas shift by one when C changes, weights do not.
 */
static inline bool fill_less(const struct fill_ent *a, const struct fill_ent *b)
{
	__u64 l = (__u64)(2 * a->k + 1) * b->w;
	__u64 r = (__u64)(2 * b->k + 1) * a->w;

	if (l != r)
		return l < r;
	return a->i < b->i;
}

static void fill_down(struct fill_ent *h, __u32 n, __u32 k)
{
	struct fill_ent e = h[k];

	for (;;) {
		__u32 c = 2 * k + 1;

		if (c >= n)
			break;
		if (c + 1 < n && fill_less(&h[c + 1], &h[c]))
			c++;
		if (!fill_less(&h[c], &e))
			break;
		h[k] = h[c];
		k = c;
	}
	h[k] = e;
}

/*
 * Candidate for b's slots. key orders by load per weight after taking one
 * more slot, (load + 1) / w, exactly: two distinct such ratios differ by at
 * least 2^-32, which the 2^40 scale keeps apart. Ties go to a per (b, c)
 * hash so that different failures spread over different backends.
 */
struct p2_ent {
	unsigned __int128 key; /* ratio << 64 | tie << 32 | index */
	__u32 load;
	__u32 w;
};

static inline unsigned __int128 p2_key(__u32 load, __u32 w, __u32 tie, __u32 i)
{
	__u64 r = ((__u64)(load + 1) << 40) / w;

	return (unsigned __int128)r << 64 | (__u64)tie << 32 | i;
}

static void p2_down(struct p2_ent *h, __u32 n, __u32 k)
{
	struct p2_ent e = h[k];

	for (;;) {
		__u32 c = 2 * k + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].key < h[c].key)
			c++;
		if (h[c].key >= e.key)
			break;
		h[k] = h[c];
		k = c;
	}
	h[k] = e;
}

struct quota_ord {
	__u64 rem;
	__u64 h;
	__u32 i;
};

static int quota_cmp(const void *pa, const void *pb)
{
	const struct quota_ord *a = pa, *b = pb;

	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	if (a->h != b->h)
		return a->h > b->h ? -1 : 1;
	return a->i < b->i ? -1 : (a->i > b->i);
}

/* Largest-remainder apportionment of size by weight over C. */
static int maglev_quotas(const struct ctx *x, __u32 *q)
{
	struct quota_ord *o;
	__u64 left = x->size;
	__u32 i;

	o = calloc(x->n, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (i = 0; i < x->n; i++) {
		__u64 v = (__u64)x->size * x->b[i].weight;

		q[i] = v / x->wsum;
		left -= q[i];
		o[i].rem = v % x->wsum;
		o[i].h = x->b[i].h;
		o[i].i = i;
	}
	qsort(o, x->n, sizeof(*o), quota_cmp);
	for (i = 0; i < left; i++)
		q[o[i].i]++;
	free(o);
	return 0;
}

/* Backend b takes the next free slot of its permutation. */
static inline void claim(__u32 *owner, __u32 m, __u32 b, __u32 *pos,
			 const __u32 *skip)
{
	__u32 p = pos[b];

	while (owner[p] != IDX_NONE) {
		p += skip[b];
		if (p >= m)
			p -= m;
	}
	owner[p] = b;
	p += skip[b];
	pos[b] = p >= m ? p - m : p;
}

/* p1: owner[s] = backend index, every slot filled, b owns exactly q[b]. */
static int maglev_fill(const struct ctx *x, const __u32 *q, __u32 *owner)
{
	__u32 m = x->size, n = 0, i, s;
	struct fill_ent *h;
	__u32 *pos, *skip;

	h = calloc(x->n, sizeof(*h));
	pos = calloc(x->n, sizeof(*pos));
	skip = calloc(x->n, sizeof(*skip));
	if (!h || !pos || !skip) {
		free(h);
		free(pos);
		free(skip);
		return -ENOMEM;
	}
	for (s = 0; s < m; s++)
		owner[s] = IDX_NONE;
	for (i = 0; i < x->n; i++) {
		__u64 hb = hash3(x, tagw(TAG_MAGLEV, x->b[i].family, 0),
				 x->b[i].a0, x->b[i].a1);

		pos[i] = (hb & 0xffffffffULL) % m;
		skip[i] = m > 1 ? (hb >> 32) % (m - 1) + 1 : 1;
		if (q[i])
			h[n++] = (struct fill_ent){
				.i = i, .q = q[i], .w = x->b[i].weight
			};
	}
	/*
	 * The quotas sum to m and every permutation covers all m slots, so
	 * each claim finds a free slot.
	 */
	if (x->wsum == x->n) {
		/* Equal weights: the heap order is plain round-robin. */
		__u32 k, j, na;

		for (k = 0; n; k++) {
			for (j = 0, na = 0; j < n; j++) {
				claim(owner, m, h[j].i, pos, skip);
				if (k + 1 < h[j].q)
					h[na++] = h[j];
			}
			n = na;
		}
	}
	for (i = n / 2; i-- > 0;)
		fill_down(h, n, i);
	while (n) {
		claim(owner, m, h[0].i, pos, skip);
		if (++h[0].k == h[0].q)
			h[0] = h[--n];
		fill_down(h, n, 0);
	}
	free(h);
	free(pos);
	free(skip);
	return 0;
}

/* Hand b's slots sl[0..cnt-1] out greedily with a heap over C - {b}. */
static void p2_heap(const struct ctx *x, const __u32 *q, __u32 b,
		    struct p2_ent *h, const __u32 *sl, __u32 cnt, __u32 *second)
{
	__u32 hn = 0, j;

	for (j = 0; j < x->n; j++) {
		__u32 t;

		if (j == b)
			continue;
		t = fmix64(x->b[b].h ^ x->b[j].h);
		h[hn].load = q[j];
		h[hn].w = x->b[j].weight;
		h[hn].key = p2_key(q[j], h[hn].w, t, j);
		hn++;
	}
	for (j = hn / 2; j-- > 0;)
		p2_down(h, hn, j);
	for (j = 0; j < cnt; j++) {
		__u64 lo = (__u64)h[0].key;

		second[sl[j]] = (__u32)lo;
		h[0].load++;
		h[0].key = p2_key(h[0].load, h[0].w, lo >> 32, (__u32)lo);
		p2_down(h, hn, 0);
	}
}

static int u64_cmp(const void *pa, const void *pb)
{
	__u64 a = *(const __u64 *)pa, b = *(const __u64 *)pb;

	return a < b ? -1 : (a > b);
}

/*
 * Same result as p2_heap when all weights are equal, without a heap pop
 * per slot: quotas are then all f or f + 1, so the greedy order is the
 * candidates at f in tie order, then every candidate in tie order, over
 * and over. Worth it when b has more slots than there are candidates.
 */
static void p2_rounds(const struct ctx *x, const __u32 *q, __u32 b, __u64 *ord,
		      const __u32 *sl, __u32 cnt, __u32 *second)
{
	__u32 hn = 0, j, k = 0, f = UINT32_MAX;
	bool uneven = false;

	for (j = 0; j < x->n; j++) {
		__u32 t = fmix64(x->b[b].h ^ x->b[j].h);

		if (j == b)
			continue;
		ord[hn++] = (__u64)t << 32 | j;
		if (f != UINT32_MAX && q[j] != f)
			uneven = true;
		if (q[j] < f)
			f = q[j];
	}
	qsort(ord, hn, sizeof(*ord), u64_cmp);
	if (uneven) {
		for (j = 0; j < hn && k < cnt; j++)
			if (q[(__u32)ord[j]] == f)
				second[sl[k++]] = (__u32)ord[j];
	}
	for (j = 0; k < cnt; j = j + 1 == hn ? 0 : j + 1)
		second[sl[k++]] = (__u32)ord[j];
}

/* p2: second choice of every slot, spread evenly per first choice. */
static int maglev_second(const struct ctx *x, const __u32 *q,
			 const __u32 *owner, __u32 *second)
{
	__u32 m = x->size, n = x->n, i, s;
	bool uniform = x->wsum == n;
	struct p2_ent *h;
	__u32 *start, *list;
	__u64 *ord;

	if (n < 2) {
		for (s = 0; s < m; s++)
			second[s] = IDX_NONE;
		return 0;
	}
	h = calloc(n, sizeof(*h));
	ord = calloc(n, sizeof(*ord));
	start = calloc(n + 1, sizeof(*start));
	list = calloc(m, sizeof(*list));
	if (!h || !ord || !start || !list) {
		free(h);
		free(ord);
		free(start);
		free(list);
		return -ENOMEM;
	}
	/* Slots grouped by first choice, in slot order (counting sort). */
	for (i = 0; i < n; i++)
		start[i + 1] = start[i] + q[i];
	for (s = 0; s < m; s++)
		list[start[owner[s]]++] = s;
	for (i = n; i > 0; i--)
		start[i] = start[i - 1];
	start[0] = 0;

	for (i = 0; i < n; i++) {
		if (!q[i])
			continue;
		if (uniform && q[i] >= n - 1)
			p2_rounds(x, q, i, ord, list + start[i], q[i], second);
		else
			p2_heap(x, q, i, h, list + start[i], q[i], second);
	}
	free(h);
	free(ord);
	free(start);
	free(list);
	return 0;
}

struct maglev_tail {
	__u64 *cw;   /* cw[i] = sum of weights of C[0..i-1] */
	__u32 *next; /* next[i] = first eligible index >= i, cyclic */
};

static inline __u32 pick_weighted(const struct ctx *x, const __u64 *cw, __u64 r)
{
	__u64 v = scale64(r, x->wsum);
	__u32 lo = 0, hi = x->n - 1;

	/* Largest i with cw[i] <= v. */
	while (lo < hi) {
		__u32 mid = lo + (hi - lo + 1) / 2;

		if (cw[mid] <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Take candidate c if present; returns true once both are found. */
static inline bool take(const struct ctx *x, __u32 s, __u32 c, __u32 *pi,
			__u32 *si)
{
	if (c == IDX_NONE || c == *pi || !present(x, s, c))
		return false;
	if (*pi == IDX_NONE) {
		*pi = c;
		/* Nobody else can be present: stop looking. */
		if (x->ne == 1) {
			*si = IDX_NONE;
			return true;
		}
		return false;
	}
	*si = c;
	return true;
}

static void maglev_resolve(const struct ctx *x, const struct maglev_tail *t,
			   __u32 s, __u32 c1, __u32 c2, struct xlb_slot *o)
{
	__u32 pi = IDX_NONE, si = IDX_NONE, seen[MAGLEV_DRAWS], k, j, cnt;
	__u64 r;

	if (take(x, s, c1, &pi, &si) || take(x, s, c2, &pi, &si))
		goto done;
	for (k = 0; k < MAGLEV_DRAWS; k++) {
		__u32 c, d;

		r = hash3(x, tagw(TAG_TAIL, 0, s), k, 0);
		c = pick_weighted(x, t->cw, r);
		seen[k] = c;
		if (c == c1 || c == c2)
			continue;
		for (d = 0; d < k; d++)
			if (seen[d] == c)
				break;
		if (d < k)
			continue;
		if (take(x, s, c, &pi, &si))
			goto done;
	}
	/* Cyclic scan of the eligible backends from a per-slot start. */
	r = hash3(x, tagw(TAG_TAIL, 0, s), MAGLEV_DRAWS, 0);
	j = t->next[scale64(r, x->n)];
	for (cnt = 0; cnt < x->ne; cnt++) {
		if (take(x, s, j, &pi, &si))
			goto done;
		j = t->next[j + 1 == x->n ? 0 : j + 1];
	}
done:
	put(x, o, pi, si);
}

static int build_maglev(const struct ctx *x, struct xlb_slot *out)
{
	__u32 *q = NULL, *owner = NULL, *second = NULL;
	struct maglev_tail t = { 0 };
	__u32 i, s;
	int err = -ENOMEM;

	q = calloc(x->n, sizeof(*q));
	owner = calloc(x->size, sizeof(*owner));
	second = calloc(x->size, sizeof(*second));
	t.cw = calloc(x->n + 1, sizeof(*t.cw));
	t.next = calloc(x->n, sizeof(*t.next));
	if (!q || !owner || !second || !t.cw || !t.next)
		goto out;
	err = maglev_quotas(x, q);
	if (err)
		goto out;
	err = maglev_fill(x, q, owner);
	if (err)
		goto out;
	err = maglev_second(x, q, owner, second);
	if (err)
		goto out;
	for (i = 0; i < x->n; i++)
		t.cw[i + 1] = t.cw[i] + x->b[i].weight;
	/* next[]: two passes backwards make it cyclic. */
	{
		__u32 nx = IDX_NONE, pass;

		for (pass = 0; pass < 2; pass++) {
			for (i = x->n; i-- > 0;) {
				if (x->b[i].elig)
					nx = i;
				t.next[i] = nx;
			}
		}
	}
	for (s = 0; s < x->size; s++)
		maglev_resolve(x, &t, s, owner[s], second[s], &out[s]);
	err = 0;
out:
	free(q);
	free(owner);
	free(second);
	free(t.cw);
	free(t.next);
	return err;
}

/* ---- ring ------------------------------------------------------------- */

/*
 * Points over the eligible backends, XLB_RING_VNODES per unit of weight
 * (scaled down when C's total would exceed RING_MAX_POINTS: the scale
 * depends on C only, so health changes move nothing else). Slot s sits at
 * s / size of the ring, the order in which the data path's multiply-shift
 * maps hashes to slots. Cost: O(P log P) for P points, then a short walk
 * per slot.
 */

struct ring_pt {
	__u64 pos;
	__u32 i;
	__u32 v;
};

static int ring_cmp(const void *pa, const void *pb)
{
	const struct ring_pt *a = pa, *b = pb;

	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	if (a->i != b->i)
		return a->i < b->i ? -1 : 1;
	return a->v < b->v ? -1 : (a->v > b->v);
}

static int build_ring(const struct ctx *x, struct xlb_slot *out)
{
	__u64 total = (__u64)XLB_RING_VNODES * x->wsum, np = 0;
	__u32 *stamp = NULL, *vn = NULL, i, v, s, j = 0, nb = 0;
	struct ring_pt *pt = NULL;
	bool *pres = NULL;
	int err = -ENOMEM;

	vn = calloc(x->n, sizeof(*vn));
	stamp = calloc(x->n, sizeof(*stamp));
	pres = calloc(x->n, sizeof(*pres));
	if (!vn || !stamp || !pres)
		goto out;
	for (i = 0; i < x->n; i++) {
		const struct tb *b = &x->b[i];

		if (!b->elig)
			continue;
		if (total <= RING_MAX_POINTS)
			vn[i] = XLB_RING_VNODES * b->weight;
		else
			vn[i] = (__u64)b->weight * RING_MAX_POINTS / x->wsum;
		if (!vn[i])
			vn[i] = 1;
		np += vn[i];
		nb++;
	}
	if (!np) {
		fill_none(out, x->size);
		err = 0;
		goto out;
	}
	pt = calloc(np, sizeof(*pt));
	if (!pt)
		goto out;
	np = 0;
	for (i = 0; i < x->n; i++) {
		const struct tb *b = &x->b[i];

		for (v = 0; v < vn[i]; v++) {
			pt[np].pos = hash3(x, tagw(TAG_RING, b->family, v),
					   b->a0, b->a1);
			pt[np].i = i;
			pt[np].v = v;
			np++;
		}
	}
	qsort(pt, np, sizeof(*pt), ring_cmp);

	for (s = 0; s < x->size; s++) {
		__u64 pos = (__u64)(((unsigned __int128)s << 64) / x->size);
		__u32 pi = IDX_NONE, si = IDX_NONE, seen = 0, k;

		while (j < np && pt[j].pos < pos)
			j++;
		/*
		 * Walk clockwise until two distinct present backends, or
		 * until every backend on the ring has been looked at.
		 */
		for (k = j == np ? 0 : j; seen < nb;
		     k = k + 1 < np ? k + 1 : 0) {
			__u32 b = pt[k].i;

			if (stamp[b] != s + 1) {
				stamp[b] = s + 1;
				pres[b] = present(x, s, b);
				seen++;
			}
			if (!pres[b] || b == pi)
				continue;
			if (pi == IDX_NONE) {
				pi = b;
				continue;
			}
			si = b;
			break;
		}
		put(x, &out[s], pi, si);
	}
	err = 0;
out:
	free(vn);
	free(stamp);
	free(pres);
	free(pt);
	return err;
}

/* ---- rendezvous ------------------------------------------------------- */

/*
 * Weighted highest random weight: b wins slot s when -ln(u)/w is smallest,
 * u = score(s, b) / 2^64. The log is integer fixed point (log2, same order)
 * so that every machine agrees. Cost: O(size * |C|) score evaluations.
 */

/* log2(1 + i / 2^LOG_TAB_BITS) in Q(LOG_FRAC), i = 0..2^LOG_TAB_BITS. */
static void log_table(__u32 *tab)
{
	__u32 i, k;

	for (i = 0; i <= (1U << LOG_TAB_BITS); i++) {
		/* Q62 fixed point, bit-by-bit by repeated squaring. */
		unsigned __int128 xq = (1U << LOG_TAB_BITS) + i;
		__u64 y = 0;

		xq <<= 62 - LOG_TAB_BITS;
		for (k = 1; k <= 30; k++) {
			xq = (xq * xq) >> 62;
			if (xq >= (unsigned __int128)2 << 62) {
				xq >>= 1;
				y |= 1ULL << (30 - k);
			}
		}
		if (i == (1U << LOG_TAB_BITS))
			y = 1ULL << 30;
		tab[i] = (y + (1U << (30 - LOG_FRAC - 1))) >> (30 - LOG_FRAC);
	}
}

/* -log2(u) in Q(LOG_FRAC) for u = (top 32 bits of h + 1) / 2^32. */
static inline __u32 neg_log2(const __u32 *tab, __u64 h)
{
	__u64 v = (h >> 32) + 1, m;
	__u32 k = 63 - __builtin_clzll(v), idx, f, l;

	m = v << (63 - k);
	idx = (m >> (63 - LOG_TAB_BITS)) & ((1U << LOG_TAB_BITS) - 1);
	f = (m >> (63 - LOG_TAB_BITS - 20)) & 0xfffff;
	l = (k << LOG_FRAC) + tab[idx] +
	    (__u32)(((__u64)(tab[idx + 1] - tab[idx]) * f) >> 20);
	return (32U << LOG_FRAC) - l;
}

struct rv {
	__u64 score;
	__u32 nl; /* -log2 of the score, weighted runs only */
	__u32 i;
};

/* a beats b. With equal weights this is exactly "higher score wins". */
static inline bool rv_better(const struct ctx *x, bool weighted,
			     const struct rv *a, const struct rv *b)
{
	if (weighted) {
		__u64 l = (__u64)a->nl * x->b[b->i].weight;
		__u64 r = (__u64)b->nl * x->b[a->i].weight;

		if (l != r)
			return l < r;
	}
	if (a->score != b->score)
		return a->score > b->score;
	return a->i < b->i;
}

static int build_rendezvous(const struct ctx *x, struct xlb_slot *out)
{
	__u32 *el = NULL, ne = 0, i, s, *tab = NULL;
	bool weighted = false;
	__u64 *hb = NULL;
	int err = -ENOMEM;

	el = calloc(x->n ? x->n : 1, sizeof(*el));
	hb = calloc(x->n ? x->n : 1, sizeof(*hb));
	tab = calloc((1U << LOG_TAB_BITS) + 1, sizeof(*tab));
	if (!el || !hb || !tab)
		goto out;
	for (i = 0; i < x->n; i++) {
		if (!x->b[i].elig)
			continue;
		if (ne && x->b[i].weight != x->b[el[0]].weight)
			weighted = true;
		el[ne++] = i;
		hb[i] = hash3(x, tagw(TAG_REND_BE, x->b[i].family, 0),
			      x->b[i].a0, x->b[i].a1);
	}
	log_table(tab);
	for (s = 0; s < x->size; s++) {
		__u64 hs = hash3(x, tagw(TAG_REND_SLOT, 0, s), 0, 0);
		struct rv b1 = { .i = IDX_NONE }, b2 = { .i = IDX_NONE };

		for (i = 0; i < ne; i++) {
			struct rv c = {
				.score = fmix64(hs ^ hb[el[i]]),
				.i = el[i],
			};

			if (weighted)
				c.nl = neg_log2(tab, c.score);
			if (b2.i != IDX_NONE &&
			    !rv_better(x, weighted, &c, &b2))
				continue;
			/* Only now is the ramp subset worth a hash. */
			if (!present(x, s, c.i))
				continue;
			if (b1.i == IDX_NONE ||
			    rv_better(x, weighted, &c, &b1)) {
				b2 = b1;
				b1 = c;
			} else {
				b2 = c;
			}
		}
		put(x, &out[s], b1.i, b2.i);
	}
	err = 0;
out:
	free(el);
	free(hb);
	free(tab);
	return err;
}

/* ---- modulo ----------------------------------------------------------- */

/*
 * The naive baseline: the healthy members of C in canonical order, each
 * repeated weight times (weights divided by their gcd over C), primary =
 * list[s mod len]. A ramping backend not taking s is removed from the list
 * and the lookup repeated, which is where s would go without it. The
 * secondary is the same lookup on the list without the primary. A Fenwick
 * tree keeps removals O(log n).
 */

struct fenwick {
	__u64 *t; /* 1-based */
	__u32 n;
	__u32 top; /* highest power of two <= n */
	__u64 total;
};

static void fw_add(struct fenwick *f, __u32 pos, __s64 d)
{
	f->total += d;
	for (pos++; pos <= f->n; pos += pos & -pos)
		f->t[pos] += d;
}

/* Position whose range of the repeated list holds index v < total. */
static __u32 fw_find(const struct fenwick *f, __u64 v)
{
	__u32 pos = 0, step;

	for (step = f->top; step; step >>= 1) {
		if (pos + step <= f->n && f->t[pos + step] <= v) {
			pos += step;
			v -= f->t[pos];
		}
	}
	return pos;
}

/* Owner of s in the list as it stands; removed backends pushed on rm. */
static __u32 modulo_owner(const struct ctx *x, struct fenwick *f,
			  const __u32 *el, __u32 s, __u32 *rm, __u32 *nrm)
{
	while (f->total) {
		__u32 pos = fw_find(f, s % f->total);

		if (present(x, s, el[pos]))
			return pos;
		fw_add(f, pos, -(__s64)x->b[el[pos]].weight);
		rm[(*nrm)++] = pos;
	}
	return IDX_NONE;
}

static void modulo_restore(const struct ctx *x, struct fenwick *f,
			   const __u32 *el, const __u32 *rm, __u32 nrm)
{
	while (nrm--)
		fw_add(f, rm[nrm], x->b[el[rm[nrm]]].weight);
}

static int build_modulo(const struct ctx *x, struct xlb_slot *out)
{
	struct fenwick f = { 0 };
	__u32 *el = NULL, *rm = NULL, ne = 0, i, s;
	int err = -ENOMEM;

	el = calloc(x->n ? x->n : 1, sizeof(*el));
	rm = calloc(x->n + 1, sizeof(*rm));
	f.t = calloc(x->n + 1, sizeof(*f.t));
	if (!el || !rm || !f.t)
		goto out;
	/* Ramp 0 stays in the list: it then just never takes a slot. */
	for (i = 0; i < x->n; i++)
		if (x->b[i].healthy)
			el[ne++] = i;
	f.n = ne;
	for (f.top = 1; f.top * 2 <= ne; f.top *= 2)
		;
	for (i = 0; i < ne; i++)
		fw_add(&f, i, x->b[el[i]].weight);
	for (s = 0; s < x->size; s++) {
		__u32 nrm = 0, pp, sp = IDX_NONE;

		pp = modulo_owner(x, &f, el, s, rm, &nrm);
		modulo_restore(x, &f, el, rm, nrm);
		if (pp != IDX_NONE) {
			nrm = 0;
			fw_add(&f, pp, -(__s64)x->b[el[pp]].weight);
			rm[nrm++] = pp;
			sp = modulo_owner(x, &f, el, s, rm, &nrm);
			modulo_restore(x, &f, el, rm, nrm);
		}
		put(x, &out[s], pp == IDX_NONE ? IDX_NONE : el[pp],
		    sp == IDX_NONE ? IDX_NONE : el[sp]);
	}
	err = 0;
out:
	free(el);
	free(rm);
	free(f.t);
	return err;
}

/* ---- entry points ----------------------------------------------------- */

int xlb_table_build(const struct xlb_tb_params *p,
		    const struct xlb_tb_backend *be, size_t n,
		    struct xlb_slot *out)
{
	struct ctx x = { 0 };
	struct tb *all;
	__u32 nall = 0, i, nh = 0;
	__u64 g = 0;
	int err;

	if (!p || !out || (n && !be))
		return -EINVAL;
	err = xlb_table_size_check(p->algo, p->size);
	if (err)
		return err;
	/* Backend indices are 32-bit; far more than any VIP can have. */
	if (n > XLB_TABLE_SIZE_MAX)
		return -EINVAL;
	x.seed[0] = p->seed[0];
	x.seed[1] = p->seed[1];
	x.size = p->size;

	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct xlb_tb_backend *s = &be[i];
		struct tb *t = &all[nall++];

		if ((s->family != XLB_AF_INET && s->family != XLB_AF_INET6) ||
		    s->weight > XLB_WEIGHT_MAX || s->id >= XLB_BACKEND_NONE) {
			err = -EINVAL;
			goto out;
		}
		t->family = s->family;
		if (s->family == XLB_AF_INET) {
			/* Only addr[0] is meaningful for IPv4. */
			t->a0 = 0;
			t->a1 = ntohl(s->addr[0]);
		} else {
			t->a0 =
			    (__u64)ntohl(s->addr[0]) << 32 | ntohl(s->addr[1]);
			t->a1 =
			    (__u64)ntohl(s->addr[2]) << 32 | ntohl(s->addr[3]);
		}
		t->id = s->id;
		t->weight = s->weight;
		t->ramp = s->ramp > XLB_RAMP_FULL ? XLB_RAMP_FULL : s->ramp;
		t->healthy = s->healthy;
	}
	qsort(all, nall, sizeof(*all), tb_cmp);
	/* The address is the identity: a duplicate has no defined order. */
	for (i = 1; i < nall; i++) {
		if (!tb_cmp(&all[i - 1], &all[i])) {
			err = -EINVAL;
			goto out;
		}
	}
	/* C: weight 0 takes no keys and must not influence anything. */
	for (i = 0; i < nall; i++) {
		if (!all[i].weight)
			continue;
		all[x.n] = all[i];
		g = gcd64(g, all[i].weight);
		x.n++;
	}
	x.b = all;
	for (i = 0; i < x.n; i++) {
		struct tb *t = &x.b[i];

		t->weight /= g;
		x.wsum += t->weight;
		t->h = hash3(&x, tagw(TAG_MAGLEV, t->family, 1), t->a0, t->a1);
		t->elig = t->healthy && t->ramp > 0;
		x.ne += t->elig;
		nh += t->healthy;
	}
	if (p->algo == XLB_ALGO_MAGLEV && nh > p->size) {
		err = -EINVAL;
		goto out;
	}
	if (!x.ne) {
		fill_none(out, x.size);
		err = 0;
		goto out;
	}
	switch (p->algo) {
	case XLB_ALGO_MAGLEV:
		err = build_maglev(&x, out);
		break;
	case XLB_ALGO_RING:
		err = build_ring(&x, out);
		break;
	case XLB_ALGO_RENDEZVOUS:
		err = build_rendezvous(&x, out);
		break;
	case XLB_ALGO_MODULO:
		err = build_modulo(&x, out);
		break;
	default:
		err = -EINVAL;
	}
out:
	free(all);
	return err;
}

double xlb_table_moved(const struct xlb_slot *a, const struct xlb_slot *b,
		       __u32 size)
{
	__u32 s, moved = 0;

	if (!size || !a || !b)
		return 0.0;
	for (s = 0; s < size; s++)
		moved += a[s].primary != b[s].primary;
	return (double)moved / size;
}

struct id_cnt {
	__u32 id;
	__u32 i; /* index in be[] */
};

static int id_cmp(const void *pa, const void *pb)
{
	const struct id_cnt *a = pa, *b = pb;

	return a->id < b->id ? -1 : (a->id > b->id);
}

double xlb_table_balance(const struct xlb_slot *t, __u32 size,
			 const struct xlb_tb_backend *be, size_t n)
{
	struct id_cnt *ids;
	__u64 *owned, wsum = 0;
	double worst = 0.0;
	size_t i, ne = 0;
	__u32 s;

	if (!t || !size || !be || !n)
		return 0.0;
	ids = calloc(n, sizeof(*ids));
	owned = calloc(n, sizeof(*owned));
	if (!ids || !owned)
		goto out;
	for (i = 0; i < n; i++) {
		if (!be[i].healthy || !be[i].weight ||
		    be[i].ramp < XLB_RAMP_FULL)
			continue;
		ids[ne].id = be[i].id;
		ids[ne].i = i;
		wsum += be[i].weight;
		ne++;
	}
	if (!ne)
		goto out;
	qsort(ids, ne, sizeof(*ids), id_cmp);
	for (s = 0; s < size; s++) {
		struct id_cnt k = { .id = t[s].primary }, *f;

		f = bsearch(&k, ids, ne, sizeof(*ids), id_cmp);
		if (f)
			owned[f->i]++;
	}
	for (i = 0; i < ne; i++) {
		size_t b = ids[i].i;
		double fair = (double)size * be[b].weight / wsum;
		double r = owned[b] / fair;

		if (r > worst)
			worst = r;
	}
out:
	free(ids);
	free(owned);
	return worst;
}
