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
	TAG_SNAP_SEED,
};

static const char *const algo_names[XLB_ALGO_COUNT] = {
	[XLB_ALGO_MAGLEV] = "maglev",
	[XLB_ALGO_RING] = "ring",
	[XLB_ALGO_RENDEZVOUS] = "rendezvous",
	[XLB_ALGO_MODULO] = "modulo",
	[XLB_ALGO_STABLE] = "stable",
};

/* A configured backend, canonicalised. */
struct tb {
	__u64 a0, a1; /* address as two host-order words; IPv4 in a1 */
	__u64 h;      /* keyed hash of family and address */
	__u32 id;
	__u32 weight; /* divided by the gcd of C's weights */
	__u32 wcfg;   /* as configured */
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
	/*
	 * Maglev's permutations (offset + j * skip) cover only a prime.
	 * stable starts from Maglev's fill, and sharing its sizes lets a VIP
	 * switch between the two without a resize.
	 */
	if ((algo == XLB_ALGO_MAGLEV || algo == XLB_ALGO_STABLE) &&
	    !is_prime(size))
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

/*
 * The table from first choices owner[] (loads q): second choices, then
 * health. keep (stable): a slot whose owner is not present holds it as
 * its secondary, so that the owners can be read back from the table.
 */
static int maglev_table(const struct ctx *x, const __u32 *q,
			const __u32 *owner, bool keep, struct xlb_slot *out)
{
	struct maglev_tail t = { 0 };
	__u32 *second, i, s;
	int err = -ENOMEM;

	second = calloc(x->size, sizeof(*second));
	t.cw = calloc(x->n + 1, sizeof(*t.cw));
	t.next = calloc(x->n, sizeof(*t.next));
	if (!second || !t.cw || !t.next)
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
	for (s = 0; s < x->size; s++) {
		maglev_resolve(x, &t, s, owner[s], second[s], &out[s]);
		if (keep && !present(x, s, owner[s]))
			out[s].secondary = x->b[owner[s]].id;
	}
	err = 0;
out:
	free(second);
	free(t.cw);
	free(t.next);
	return err;
}

static int build_maglev(const struct ctx *x, struct xlb_slot *out)
{
	__u32 *q, *owner;
	int err = -ENOMEM;

	q = calloc(x->n, sizeof(*q));
	owner = calloc(x->size, sizeof(*owner));
	if (!q || !owner)
		goto out;
	err = maglev_quotas(x, q);
	if (!err)
		err = maglev_fill(x, q, owner);
	if (!err)
		err = maglev_table(x, q, owner, false, out);
out:
	free(q);
	free(owner);
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

/* ---- canonical sets --------------------------------------------------- */

/*
 * x from be[0..n-1]: C in canonical order. x->b is allocated (free it);
 * -EINVAL for a bad family, weight or id, or an address given twice.
 */
static int ctx_init(const __u64 seed[2], __u32 size,
		    const struct xlb_tb_backend *be, size_t n, struct ctx *x)
{
	struct tb *all;
	__u32 nall = 0, i;
	__u64 g = 0;
	int err = 0;

	memset(x, 0, sizeof(*x));
	/* Backend indices are 32-bit; far more than any VIP can have. */
	if (n > XLB_TABLE_SIZE_MAX || (n && !be))
		return -EINVAL;
	x->seed[0] = seed[0];
	x->seed[1] = seed[1];
	x->size = size;
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
		all[x->n] = all[i];
		g = gcd64(g, all[i].weight);
		x->n++;
	}
	x->b = all;
	for (i = 0; i < x->n; i++) {
		struct tb *t = &x->b[i];

		t->wcfg = t->weight;
		t->weight /= g;
		x->wsum += t->weight;
		t->h = hash3(x, tagw(TAG_MAGLEV, t->family, 1), t->a0, t->a1);
		t->elig = t->healthy && t->ramp > 0;
		x->ne += t->elig;
	}
	return 0;
out:
	free(all);
	x->b = NULL;
	return err;
}

/* ---- stable ----------------------------------------------------------- */

/*
 * Maglev's tables are exact for failures but not for the operator's own
 * changes: a new set gives a new fill, and removing or adding one backend
 * moves 1.5x its share at 100 backends, about 7x at 1,000. No function of
 * the set alone is both minimal and balanced at these sizes; a function
 * of the history of changes is. stable keeps each slot's owner (its first
 * choice) from the table it continues, and changes owners only as each
 * event requires:
 *
 *  base: Maglev's fill of the first set, with quotas at the integer
 *        optimum (level: no backend's load per weight above another's
 *        plus one slot; equal weights: Maglev's own quotas).
 *  remove b: b's slots in slot order, each to the backend with the
 *        lowest (load + 1) / weight: Maglev's second choices for b (the
 *        same keys and ties), so removing a DOWN backend moves nothing.
 *  add y: y takes one slot at a time from the backend with the highest
 *        load per weight (ties by a keyed hash of the two addresses) while
 *        that donor stays above y: the donor's slot y prefers (smallest
 *        keyed hash of y and slot).
 *  weight up: as an add, for a backend that keeps its slots.
 *  weight down: gives its least preferred slots (largest hash) to the
 *        lowest (load + 1) / weight while it stays above them.
 *
 * Each event keeps the loads level (see xlb_table_level), so balance is
 * the best any table reaches, and moves only the slots the changed
 * backend gives or takes (1.00x). A commit's set difference becomes the
 * events in a fixed order: removals, weight changes, additions, each in
 * address order; weights scaled all alike are no change. No survivor
 * (every backend replaced) starts a new history. Ratios are compared by
 * cross-multiplication, ties by keyed hashes and then address order:
 * every node computes the same bytes.
 *
 * Second choices and health are maglev's on top of the owners, with one
 * difference: a slot whose owner is not present holds (first present,
 * owner), so the table is the history's snapshot (xlb_table_owners reads
 * the owners back). Cost: O(size + |C| log |C|) per event, plus sorting
 * the slots of the donors an addition takes from.
 */

#define SLOT_BITS 22 /* slots < XLB_TABLE_SIZE_MAX = 2^22 */
#define SLOT_MASK ((1ULL << SLOT_BITS) - 1)
#define UNSORTED UINT32_MAX
_Static_assert(XLB_TABLE_SIZE_MAX <= (1U << SLOT_BITS), "slot in a key");

/* How much y wants slot s: y takes its smallest first, gives its largest. */
static inline __u64 pref_key(__u64 hy, __u32 s)
{
	__u64 k = fmix64(hy ^ ((__u64)s + 1) * 0x9e3779b97f4a7c15ULL);

	return (k & ~SLOT_MASK) | s;
}

/* Sign of a / wa - b / wb, exactly (loads < 2^23, weights < 2^16). */
static inline int ratio_cmp(__u64 a, __u64 wa, __u64 b, __u64 wb)
{
	__u64 l = a * wb, r = b * wa;

	return l < r ? -1 : l > r;
}

bool xlb_table_level(const __u32 *load, const __u32 *w, size_t n)
{
	size_t i, hi = n, lo = n;

	for (i = 0; i < n; i++) {
		if (!w[i])
			continue;
		if (hi == n || ratio_cmp(load[i], w[i], load[hi], w[hi]) > 0)
			hi = i;
		if (lo == n ||
		    ratio_cmp(load[i] + 1ULL, w[i], load[lo] + 1ULL, w[lo]) < 0)
			lo = i;
	}
	return hi == n ||
	       ratio_cmp(load[hi], w[hi], load[lo] + 1ULL, w[lo]) <= 0;
}

/* Level quotas of size by weight over C (see above). */
static void stable_quotas(const struct ctx *x, __u32 *q)
{
	__u64 left = x->size;
	__u32 i, best;

	for (i = 0; i < x->n; i++) {
		q[i] = (__u64)x->size * x->b[i].weight / x->wsum;
		left -= q[i];
	}
	/*
	 * Every q[i] <= size * w / wsum < q[j] + 1 for all j: level. Each
	 * extra slot to the lowest (q + 1) / w keeps it so (ties: highest
	 * hash, Maglev's order for equal remainders). left < |C|.
	 */
	while (left--) {
		best = 0;
		for (i = 1; i < x->n; i++) {
			const struct tb *a = &x->b[i], *b = &x->b[best];
			int c = ratio_cmp(q[i] + 1ULL, a->weight, q[best] + 1ULL,
					  b->weight);

			if (c < 0 || (c == 0 && a->h > b->h))
				best = i;
		}
		q[best]++;
	}
}

/* The history's state over U, the union of the old and the new set. */
struct hist {
	__u32 size, nu;
	__u64 *h; /* keyed hash of the address (tb.h) */
	__u32 *w; /* current weight; 0: not in the set */
	__u32 *load; /* slots owned */
	__u32 *owner; /* size: owning member of U */
	__u32 *start; /* nu + 1: slots grouped by owner, list[start[u]..] */
	__u32 *list; /* size */
	__u32 *cur; /* nu: next of a donor's sorted slots, or UNSORTED */
	__u64 *key; /* size: pref_key of the slots in list, per donor */
	struct p2_ent *heap; /* nu */
	__u32 *idx; /* nu: donor heap */
};

/* list/start: every member's slots in slot order (counting sort). */
static void hist_group(struct hist *hs)
{
	__u32 u, s;

	memset(hs->start, 0, (hs->nu + 1) * sizeof(*hs->start));
	for (s = 0; s < hs->size; s++)
		hs->start[hs->owner[s] + 1]++;
	for (u = 0; u < hs->nu; u++) {
		hs->start[u + 1] += hs->start[u];
		hs->cur[u] = hs->start[u];
	}
	for (s = 0; s < hs->size; s++)
		hs->list[hs->cur[hs->owner[s]]++] = s;
	for (u = 0; u < hs->nu; u++)
		hs->cur[u] = UNSORTED;
}

/* Heap of every member but b by (load + 1) / w, ties as Maglev's p2. */
static __u32 hist_takers(struct hist *hs, __u32 b)
{
	__u32 hn = 0, c;

	for (c = 0; c < hs->nu; c++) {
		if (c == b || !hs->w[c])
			continue;
		hs->heap[hn].load = hs->load[c];
		hs->heap[hn].w = hs->w[c];
		hs->heap[hn].key = p2_key(hs->load[c], hs->w[c],
					  (__u32)fmix64(hs->h[b] ^ hs->h[c]), c);
		hn++;
	}
	for (c = hn / 2; c-- > 0;)
		p2_down(hs->heap, hn, c);
	return hn;
}

/* Slot s from b to the heap's top. */
static void hist_hand(struct hist *hs, __u32 hn, __u32 b, __u32 s)
{
	__u64 lo = (__u64)hs->heap[0].key;
	__u32 c = (__u32)lo;

	hs->owner[s] = c;
	hs->load[c]++;
	hs->load[b]--;
	hs->heap[0].load++;
	hs->heap[0].key = p2_key(hs->heap[0].load, hs->heap[0].w, lo >> 32, c);
	p2_down(hs->heap, hn, 0);
}

static void hist_remove(struct hist *hs, __u32 b)
{
	__u32 hn, k;

	hist_group(hs);
	hn = hist_takers(hs, b);
	for (k = hs->start[b]; k < hs->start[b + 1]; k++)
		hist_hand(hs, hn, b, hs->list[k]);
	hs->w[b] = 0;
}

/* b's weight went down: it gives its least wanted slots while above. */
static void hist_lose(struct hist *hs, __u32 b)
{
	__u32 hn, k, lo, hi;

	hist_group(hs);
	lo = hs->start[b];
	hi = hs->start[b + 1];
	for (k = lo; k < hi; k++)
		hs->key[k] = pref_key(hs->h[b], hs->list[k]);
	qsort(hs->key + lo, hi - lo, sizeof(*hs->key), u64_cmp);
	hn = hist_takers(hs, b);
	while (hi > lo && hn) {
		const struct p2_ent *t = &hs->heap[0];

		if (ratio_cmp(hs->load[b], hs->w[b], t->load + 1ULL, t->w) <= 0)
			break;
		hist_hand(hs, hn, b, (__u32)(hs->key[--hi] & SLOT_MASK));
	}
}

/* Donor a goes before donor b for y: higher load per weight, then tie. */
static inline bool donor_before(const struct hist *hs, __u32 y, __u32 a,
				__u32 b)
{
	int c = ratio_cmp(hs->load[a], hs->w[a], hs->load[b], hs->w[b]);
	__u32 ta, tb;

	if (c)
		return c > 0;
	ta = (__u32)fmix64(hs->h[y] ^ hs->h[a]);
	tb = (__u32)fmix64(hs->h[y] ^ hs->h[b]);
	if (ta != tb)
		return ta < tb;
	return a < b;
}

static void donor_down(const struct hist *hs, __u32 y, __u32 *hp, __u32 n,
		       __u32 k)
{
	__u32 e = hp[k];

	for (;;) {
		__u32 c = 2 * k + 1;

		if (c >= n)
			break;
		if (c + 1 < n && donor_before(hs, y, hp[c + 1], hp[c]))
			c++;
		if (!donor_before(hs, y, hp[c], e))
			break;
		hp[k] = hp[c];
		k = c;
	}
	hp[k] = e;
}

/* y (new, or its weight went up) takes slots while a donor stays above. */
static void hist_gain(struct hist *hs, __u32 y)
{
	__u32 *hp = hs->idx, hn = 0, d, k, s;

	hist_group(hs);
	for (d = 0; d < hs->nu; d++)
		if (d != y && hs->w[d])
			hp[hn++] = d;
	for (d = hn / 2; d-- > 0;)
		donor_down(hs, y, hp, hn, d);
	while (hn) {
		d = hp[0];
		if (ratio_cmp(hs->load[d], hs->w[d], hs->load[y] + 1ULL,
			      hs->w[y]) <= 0)
			break;
		if (hs->cur[d] == UNSORTED) {
			/* The donor's slots in y's order, once per event. */
			for (k = hs->start[d]; k < hs->start[d + 1]; k++)
				hs->key[k] = pref_key(hs->h[y], hs->list[k]);
			qsort(hs->key + hs->start[d],
			      hs->start[d + 1] - hs->start[d], sizeof(*hs->key),
			      u64_cmp);
			hs->cur[d] = hs->start[d];
		}
		s = (__u32)(hs->key[hs->cur[d]++] & SLOT_MASK);
		hs->owner[s] = y;
		hs->load[d]--;
		hs->load[y]++;
		donor_down(hs, y, hp, hn, 0);
	}
}

static void hist_free(struct hist *hs)
{
	free(hs->h);
	free(hs->w);
	free(hs->load);
	free(hs->owner);
	free(hs->start);
	free(hs->list);
	free(hs->cur);
	free(hs->key);
	free(hs->heap);
	free(hs->idx);
}

/*
 * The owners of table t built for xo (see xlb_table_owners): own[s] an
 * index into xo->b. -EBADMSG when t is not such a table.
 */
static int stable_decode(const struct ctx *xo, const struct xlb_slot *t,
			 __u32 *own)
{
	__u32 *byid, *load = NULL, *w = NULL, i, s;
	int err = -ENOMEM;

	byid = malloc((XLB_BACKEND_NONE + 1) * sizeof(*byid));
	load = calloc(xo->n ? xo->n : 1, sizeof(*load));
	w = calloc(xo->n ? xo->n : 1, sizeof(*w));
	if (!byid || !load || !w)
		goto out;
	memset(byid, 0xff, (XLB_BACKEND_NONE + 1) * sizeof(*byid));
	err = -EINVAL;
	for (i = 0; i < xo->n; i++) {
		if (byid[xo->b[i].id] != IDX_NONE)
			goto out; /* an id twice: slots can't say which */
		byid[xo->b[i].id] = i;
		w[i] = xo->b[i].weight;
	}
	err = -EBADMSG;
	if (!xo->n)
		goto out;
	for (s = 0; s < xo->size; s++) {
		__u32 si = byid[t[s].secondary], pi = byid[t[s].primary];

		if (si != IDX_NONE && !present(xo, s, si))
			pi = si;
		if (pi == IDX_NONE)
			goto out;
		own[s] = pi;
		load[pi]++;
	}
	if (xlb_table_level(load, w, xo->n))
		err = 0;
out:
	free(byid);
	free(load);
	free(w);
	return err;
}

/*
 * owner/q over x (the new set) from xo's owners oown by the events that
 * turn xo's set into x's. Returns 1 when no backend survives (the caller
 * starts a new history), 0, or -ENOMEM.
 */
static int stable_history(const struct ctx *x, const struct ctx *xo,
			  const __u32 *oown, __u32 *owner, __u32 *q)
{
	struct hist hs = { .size = x->size };
	__u32 *uo = NULL, *un = NULL, *u2n = NULL, *wo = NULL, *wn = NULL;
	__u32 i = 0, j = 0, u, s, surv = 0, ref = IDX_NONE;
	bool scaled = true;
	int err = -ENOMEM;

	uo = calloc(xo->n + 1, sizeof(*uo));
	un = calloc(x->n + 1, sizeof(*un));
	u2n = calloc(xo->n + x->n + 1, sizeof(*u2n));
	wo = calloc(xo->n + x->n + 1, sizeof(*wo));
	wn = calloc(xo->n + x->n + 1, sizeof(*wn));
	hs.h = calloc(xo->n + x->n + 1, sizeof(*hs.h));
	if (!uo || !un || !u2n || !wo || !wn || !hs.h)
		goto out;
	/* U in address order; weights as configured, 0 where absent. */
	for (u = 0; i < xo->n || j < x->n; u++) {
		int c = i == xo->n ? 1 : j == x->n ? -1 :
						     tb_cmp(&xo->b[i], &x->b[j]);

		u2n[u] = IDX_NONE;
		if (c <= 0) {
			uo[i] = u;
			wo[u] = xo->b[i].wcfg;
			hs.h[u] = xo->b[i++].h;
		}
		if (c >= 0) {
			un[j] = u;
			u2n[u] = j;
			wn[u] = x->b[j].wcfg;
			hs.h[u] = x->b[j++].h;
		}
		if (c)
			continue;
		/* A survivor: are all weights scaled alike (no change)? */
		surv++;
		if (ref == IDX_NONE)
			ref = u;
		else if ((__u64)wn[u] * wo[ref] != (__u64)wo[u] * wn[ref])
			scaled = false;
	}
	hs.nu = u;
	if (!surv) {
		err = 1;
		goto out;
	}
	hs.w = calloc(hs.nu, sizeof(*hs.w));
	hs.load = calloc(hs.nu, sizeof(*hs.load));
	hs.owner = calloc(hs.size, sizeof(*hs.owner));
	hs.start = calloc(hs.nu + 1, sizeof(*hs.start));
	hs.list = calloc(hs.size, sizeof(*hs.list));
	hs.cur = calloc(hs.nu, sizeof(*hs.cur));
	hs.key = calloc(hs.size, sizeof(*hs.key));
	hs.heap = calloc(hs.nu, sizeof(*hs.heap));
	hs.idx = calloc(hs.nu, sizeof(*hs.idx));
	if (!hs.w || !hs.load || !hs.owner || !hs.start || !hs.list ||
	    !hs.cur || !hs.key || !hs.heap || !hs.idx)
		goto out;
	for (u = 0; u < hs.nu; u++)
		hs.w[u] = wo[u];
	for (s = 0; s < hs.size; s++) {
		hs.owner[s] = uo[oown[s]];
		hs.load[hs.owner[s]]++;
	}
	for (u = 0; u < hs.nu; u++)
		if (wo[u] && !wn[u])
			hist_remove(&hs, u);
	for (u = 0; u < hs.nu; u++) {
		if (!wo[u] || !wn[u] || wo[u] == wn[u])
			continue;
		if (scaled) {
			/* Every ratio stays as it was. */
			hs.w[u] = wn[u];
			continue;
		}
		hs.w[u] = wn[u];
		if (wn[u] > wo[u])
			hist_gain(&hs, u);
		else
			hist_lose(&hs, u);
	}
	for (u = 0; u < hs.nu; u++) {
		if (wo[u] || !wn[u])
			continue;
		hs.w[u] = wn[u];
		hist_gain(&hs, u);
	}
	for (s = 0; s < hs.size; s++)
		owner[s] = u2n[hs.owner[s]];
	for (j = 0; j < x->n; j++)
		q[j] = hs.load[un[j]];
	err = 0;
out:
	hist_free(&hs);
	free(uo);
	free(un);
	free(u2n);
	free(wo);
	free(wn);
	return err;
}

/* Owners of prev's table, as indices into xo (initialised here). */
static int prev_owners(const struct xlb_tb_params *p, struct ctx *xo,
		       __u32 **oown)
{
	const struct xlb_tb_prev *pv = p->prev;
	int err;

	*oown = NULL;
	if (!pv->slots)
		return -EINVAL;
	err = ctx_init(p->seed, p->size, pv->be, pv->n, xo);
	if (err)
		return err;
	*oown = calloc(p->size, sizeof(**oown));
	if (!*oown)
		return -ENOMEM;
	return stable_decode(xo, pv->slots, *oown);
}

static int build_stable(const struct ctx *x, const struct xlb_tb_params *p,
			struct xlb_slot *out)
{
	struct ctx xo = { 0 };
	__u32 *q, *owner, *oown = NULL;
	int err = -ENOMEM;

	q = calloc(x->n, sizeof(*q));
	owner = calloc(x->size, sizeof(*owner));
	if (!q || !owner)
		goto out;
	err = 1;
	if (p->prev) {
		err = prev_owners(p, &xo, &oown);
		if (err)
			goto out;
		err = stable_history(x, &xo, oown, owner, q);
		if (err < 0)
			goto out;
	}
	if (err) {
		/* A new history: the base. */
		stable_quotas(x, q);
		err = maglev_fill(x, q, owner);
		if (err)
			goto out;
	}
	err = maglev_table(x, q, owner, true, out);
out:
	free(xo.b);
	free(oown);
	free(q);
	free(owner);
	return err;
}

/*
 * Decodes stable table t built for be[0..n-1]: *xo as the builder set it
 * up, *own[s] the owner of slot s as an index into xo->b (canonical
 * order). The caller frees xo->b and *own; on error both are freed.
 */
static int decode_canonical(const struct xlb_tb_params *p,
			    const struct xlb_tb_backend *be, size_t n,
			    const struct xlb_slot *t, struct ctx *xo,
			    __u32 **own)
{
	int err;

	*own = NULL;
	if (!p || !t)
		return -EINVAL;
	err = xlb_table_size_check(XLB_ALGO_STABLE, p->size);
	if (err)
		return err;
	err = ctx_init(p->seed, p->size, be, n, xo);
	if (err)
		return err;
	*own = calloc(p->size, sizeof(**own));
	err = *own ? stable_decode(xo, t, *own) : -ENOMEM;
	if (err) {
		free(xo->b);
		free(*own);
		*own = NULL;
	}
	return err;
}

int xlb_table_owners(const struct xlb_tb_params *p,
		     const struct xlb_tb_backend *be, size_t n,
		     const struct xlb_slot *t, __u32 *owner)
{
	struct ctx xo;
	__u32 *own, s, i, *pos;
	int err;

	if (!owner)
		return -EINVAL;
	err = decode_canonical(p, be, n, t, &xo, &own);
	if (err)
		return err;
	pos = calloc(n ? n : 1, sizeof(*pos));
	err = -ENOMEM;
	if (!pos)
		goto out;
	/* Canonical index to be[] index, by id (unique, checked). */
	for (i = 0; i < xo.n; i++) {
		size_t k;

		for (k = 0; k < n && be[k].id != xo.b[i].id; k++)
			;
		pos[i] = (__u32)k;
	}
	for (s = 0; s < p->size; s++)
		owner[s] = pos[own[s]];
	err = 0;
out:
	free(xo.b);
	free(own);
	free(pos);
	return err;
}

/* ---- snapshots -------------------------------------------------------- */

#define SNAP_MAGIC "XLBSNAP1"
#define SNAP_HDR 32 /* magic, size, n, seed_fp, digest */
#define SNAP_REC 24 /* family, 3 pad, weight, 16 address bytes */

__u64 xlb_snapshot_seed_fp(const __u64 seed[2])
{
	__u64 m[1] = { tagw(TAG_SNAP_SEED, 0, 0) };

	return xlb_siphash13(seed, m, 1);
}

void xlb_snapshot_free(struct xlb_tb_snapshot *s)
{
	if (!s)
		return;
	free(s->be);
	free(s->owner);
	s->be = NULL;
	s->owner = NULL;
}

int xlb_snapshot_take(const struct xlb_tb_params *p,
		      const struct xlb_tb_backend *be, size_t n,
		      const struct xlb_slot *t, struct xlb_tb_snapshot *out)
{
	struct ctx xo;
	__u32 *own, s, i;
	int err;

	memset(out, 0, sizeof(*out));
	err = decode_canonical(p, be, n, t, &xo, &own);
	if (err)
		return err;
	err = -EINVAL;
	if (xo.n >= XLB_BACKEND_NONE)
		goto out;
	err = -ENOMEM;
	out->be = calloc(xo.n ? xo.n : 1, sizeof(*out->be));
	out->owner = calloc(p->size, sizeof(*out->owner));
	if (!out->be || !out->owner)
		goto out;
	out->size = p->size;
	out->n = xo.n;
	out->seed_fp = xlb_snapshot_seed_fp(p->seed);
	for (i = 0; i < xo.n; i++) {
		struct xlb_tb_backend *b = &out->be[i];
		const struct tb *c = &xo.b[i];

		b->id = i;
		b->family = c->family;
		b->weight = c->wcfg;
		b->ramp = XLB_RAMP_FULL;
		b->healthy = true;
		if (c->family == XLB_AF_INET) {
			b->addr[0] = htonl((__u32)c->a1);
		} else {
			b->addr[0] = htonl((__u32)(c->a0 >> 32));
			b->addr[1] = htonl((__u32)c->a0);
			b->addr[2] = htonl((__u32)(c->a1 >> 32));
			b->addr[3] = htonl((__u32)c->a1);
		}
	}
	for (s = 0; s < p->size; s++)
		out->owner[s] = (__u16)own[s];
	err = 0;
out:
	free(xo.b);
	free(own);
	if (err)
		xlb_snapshot_free(out);
	return err;
}

int xlb_snapshot_prev(const struct xlb_tb_snapshot *s,
		      struct xlb_tb_prev *prev, struct xlb_slot **slots)
{
	struct xlb_slot *t;
	__u32 i;

	t = calloc(s->size ? s->size : 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* Everyone present: the primary is the owner. */
	for (i = 0; i < s->size; i++) {
		t[i].primary = s->owner[i];
		t[i].secondary = XLB_BACKEND_NONE;
	}
	prev->be = s->be;
	prev->n = s->n;
	prev->slots = t;
	*slots = t;
	return 0;
}

static void put_le(unsigned char *p, __u64 v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static __u64 get_le(const unsigned char *p, int bytes)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v |= (__u64)p[i] << (8 * i);
	return v;
}

/* The body after the header: records and owners. */
static void snap_body(const struct xlb_tb_snapshot *s, unsigned char *p)
{
	__u32 i, k;

	for (i = 0; i < s->n; i++, p += SNAP_REC) {
		memset(p, 0, SNAP_REC);
		p[0] = s->be[i].family;
		put_le(p + 4, s->be[i].weight, 4);
		for (k = 0; k < 4; k++)
			memcpy(p + 8 + 4 * k, &s->be[i].addr[k], 4);
	}
	for (i = 0; i < s->size; i++, p += 2)
		put_le(p, s->owner[i], 2);
}

/* FNV-1a over the header's first words and the body: no key needed. */
static __u64 snap_digest_bytes(const struct xlb_tb_snapshot *s,
			       const unsigned char *body, size_t len)
{
	__u64 h = 1469598103934665603ULL, hdr[3] = { s->size, s->n,
						     s->seed_fp };
	size_t i;
	int k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < 8; i++)
			h = (h ^ ((hdr[k] >> (8 * i)) & 0xff)) *
			    1099511628211ULL;
	for (i = 0; i < len; i++)
		h = (h ^ body[i]) * 1099511628211ULL;
	return h;
}

static size_t snap_len(__u32 n, __u32 size)
{
	return SNAP_HDR + (size_t)n * SNAP_REC + (size_t)size * 2;
}

__u64 xlb_snapshot_digest(const struct xlb_tb_snapshot *s)
{
	size_t len = snap_len(s->n, s->size) - SNAP_HDR;
	unsigned char *body = malloc(len ? len : 1);
	__u64 d;

	if (!body)
		return 0;
	snap_body(s, body);
	d = snap_digest_bytes(s, body, len);
	free(body);
	return d;
}

int xlb_snapshot_encode(const struct xlb_tb_snapshot *s, void **buf,
			size_t *len)
{
	size_t l = snap_len(s->n, s->size);
	unsigned char *p = malloc(l);

	if (!p)
		return -ENOMEM;
	memcpy(p, SNAP_MAGIC, 8);
	put_le(p + 8, s->size, 4);
	put_le(p + 12, s->n, 4);
	put_le(p + 16, s->seed_fp, 8);
	snap_body(s, p + SNAP_HDR);
	put_le(p + 24, snap_digest_bytes(s, p + SNAP_HDR, l - SNAP_HDR), 8);
	*buf = p;
	*len = l;
	return 0;
}

int xlb_snapshot_decode(const void *buf, size_t len,
			struct xlb_tb_snapshot *s)
{
	const unsigned char *p = buf, *r;
	struct xlb_tb_params tp = { .algo = XLB_ALGO_STABLE };
	struct ctx xo;
	__u32 *load = NULL, *w = NULL, i, k;
	int err = -EBADMSG;

	memset(s, 0, sizeof(*s));
	if (!buf || len < SNAP_HDR || memcmp(p, SNAP_MAGIC, 8))
		return -EBADMSG;
	s->size = (__u32)get_le(p + 8, 4);
	s->n = (__u32)get_le(p + 12, 4);
	s->seed_fp = get_le(p + 16, 8);
	if (xlb_table_size_check(XLB_ALGO_STABLE, s->size) || !s->n ||
	    s->n >= XLB_BACKEND_NONE || len != snap_len(s->n, s->size) ||
	    get_le(p + 24, 8) !=
		    snap_digest_bytes(s, p + SNAP_HDR, len - SNAP_HDR))
		return -EBADMSG;
	s->be = calloc(s->n, sizeof(*s->be));
	s->owner = calloc(s->size, sizeof(*s->owner));
	load = calloc(s->n, sizeof(*load));
	w = calloc(s->n, sizeof(*w));
	if (!s->be || !s->owner || !load || !w) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0, r = p + SNAP_HDR; i < s->n; i++, r += SNAP_REC) {
		struct xlb_tb_backend *b = &s->be[i];

		b->id = i;
		b->family = r[0];
		b->weight = (__u32)get_le(r + 4, 4);
		b->ramp = XLB_RAMP_FULL;
		b->healthy = true;
		for (k = 0; k < 4; k++)
			memcpy(&b->addr[k], r + 8 + 4 * k, 4);
		if (!b->weight)
			goto out;
		w[i] = b->weight;
	}
	for (i = 0; i < s->size; i++, r += 2) {
		s->owner[i] = (__u16)get_le(r, 2);
		if (s->owner[i] >= s->n)
			goto out;
		load[s->owner[i]]++;
	}
	/* A set in canonical order, each address once; owners level. */
	tp.size = s->size;
	if (ctx_init(tp.seed, s->size, s->be, s->n, &xo))
		goto out;
	for (i = 0; i < s->n; i++)
		if (xo.b[i].id != i)
			break;
	free(xo.b);
	if (i == s->n && xlb_table_level(load, w, s->n))
		err = 0;
out:
	free(load);
	free(w);
	if (err)
		xlb_snapshot_free(s);
	return err;
}

/* ---- entry points ----------------------------------------------------- */

int xlb_table_build(const struct xlb_tb_params *p,
		    const struct xlb_tb_backend *be, size_t n,
		    struct xlb_slot *out)
{
	struct ctx x;
	__u32 i, nh = 0;
	int err;

	if (!p || !out || (n && !be))
		return -EINVAL;
	err = xlb_table_size_check(p->algo, p->size);
	if (err)
		return err;
	err = ctx_init(p->seed, p->size, be, n, &x);
	if (err)
		return err;
	for (i = 0; i < x.n; i++)
		nh += x.b[i].healthy;
	if ((p->algo == XLB_ALGO_MAGLEV || p->algo == XLB_ALGO_STABLE) &&
	    nh > p->size) {
		err = -EINVAL;
		goto out;
	}
	/* stable keeps its owners in the table even with nobody present. */
	if (!x.ne && (p->algo != XLB_ALGO_STABLE || !x.n)) {
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
	case XLB_ALGO_STABLE:
		err = build_stable(&x, p, out);
		break;
	default:
		err = -EINVAL;
	}
out:
	free(x.b);
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
