// SPDX-License-Identifier: GPL-2.0
/*
 * daemon.c - `xlb daemon --config FILE`: applies a configuration file,
 * health-checks every backend, and changes backend states as checks pass
 * and fail, in one thread (health.c's event loop).
 *
 * The commit record stays the source of truth. Before every commit the daemon
 * takes the lock, re-reads the live model and applies only its own change
 * to it (a health state, a slow-start step, the removal of a drained
 * backend), so what operators do with the CLI meanwhile is kept. A backend
 * going down is first flipped to DOWN in the state map alone, which sends
 * its slots to their secondaries at once; the rebuilt table follows.
 *
 * Nothing the daemon holds needs cleaning up: SIGTERM, SIGINT and SIGKILL
 * all leave the maps and the XDP program forwarding as they are, and a
 * new daemon adopts the live state (backends UP live start healthy).
 * With `announce` configured (node.c), the daemon also keeps a route per
 * servable VIP address; SIGTERM and SIGINT withdraw them, SIGKILL leaves
 * them to the next daemon or the service manager's ExecStopPost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <systemd/sd-daemon.h>
#include "cli.h"
#include "conf.h"
#include "health.h"
#include "history.h"
#include "hooks.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "xdpinfo.h"
#include "record.h"
#include "util.h"

#define SYNC_MS 1000 /* re-read the live maps in full (edited by hand) */
#define SYNC_GEN_MS 100 /* look at the commit generation (the CLI's commits) */
#define RETRY_MS 1000 /* after a failed commit */
#define COALESCE_MS 50 /* changes decided this close together: one commit */
#define RAMP_STEPS 10 /* slow start: ramp raised in this many steps */
#define FLAP_STABLE_MS 30000ULL /* up for less than this, then down: a flap */
#define FLAP_HOLD_MAX_MS 60000ULL /* longest hold-down of a flapping backend */
#define FIRST_CHECK_MAX_MS 1000U /* first checks spread over this much */
#define WATCH_MS 1000 /* how often the daemon looks at its data path */

enum want {
	W_NONE = 0,
	W_DOWN, /* failed checks: state DOWN */
	W_UP, /* passed checks: state UP at want_ramp */
	W_RAMP, /* next slow-start step: ramp = want_ramp */
	W_REMOVE, /* drained: remove the backend */
};

enum pol { P_NONE = 0, P_RAMP, P_HOLD };

struct daemon;

/* One backend of one VIP, as the daemon watches it. */
struct be {
	struct daemon *d;
	struct xlb_vip_key vkey;
	struct xlb_addr addr;
	char name[XLB_ADDR_STRLEN + XLB_VIP_STRLEN + 8]; /* "ADDR of VIP" */
	char vname[XLB_VIP_STRLEN], aname[XLB_ADDR_STRLEN]; /* journal fields */
	struct xlb_check ck; /* type NONE: not checked */
	__u32 slow_start_s, drain_timeout_s;

	/* Live, as last read or written. */
	__u32 id, vip_id, state, ramp;
	__u64 drain_deadline_ns;

	/* Health. */
	struct xlb_probe probe;
	struct xlb_timer t_check;
	__u64 check_at; /* when the running check started */
	bool healthy;
	__u32 ok, bad; /* consecutive successes, failures */
	char why[96]; /* last failure */
	__u64 check_ns; /* when the running check started (monotonic ns) */
	__u64 n_ok, n_failed; /* checks run, by result (metrics) */
	double latency_s; /* duration of the last check */
	double transition_s; /* Unix time of the last verdict change */

	/* Policy. */
	bool owned_down; /* DOWN because of failed checks: ours to bring up */
	struct xlb_timer t_pol; /* next slow-start step or end of a hold */
	enum pol pol;
	bool fell; /* the daemon took it down at least once */
	bool cold; /* new in a VIP with nothing up: no slow start */
	__u64 up_at; /* when the daemon last brought it back (0: never) */
	__u64 hold_ms, hold_until; /* flap damping */
	__u64 drain_seen; /* when the daemon first saw it draining */

	/* Change waiting for the next commit. */
	enum want want;
	__u32 want_ramp;
	bool flipped; /* state map already says DOWN */

	bool seen, dead;
};

/* A cheap image of the live maps, to skip re-reading when nothing moved. */
struct snap {
	struct xlb_backend *be; /* XLB_MAX_BACKENDS of each */
	__u32 *st;
	char *vips; /* keys and values of xlb_vips, in map order */
	size_t vips_len, vips_cap;
	bool valid;
};

struct daemon {
	struct xlb_ctx *c;
	const char *path;
	struct xlb_conf conf;
	struct xlb_maps m;
	struct xlb_loop loop;
	struct xlb_io sig;
	struct xlb_timer t_sync, t_apply;
	struct be **be; /* sorted by (VIP, address) up to n_sorted */
	size_t n_be, n_sorted, cap;
	struct be **grave; /* dropped, freed at the end of a loop turn */
	size_t n_grave, cap_grave;
	bool stop, reload, apply_due;
	bool running; /* started: backends new to live are not adopted as UP */
	struct snap snap, snap_new;
	__u64 seen_gen; /* commit generation at the last full look */
	__u64 full_ms; /* when that look was */
	__u64 rng;
	int exit_rc; /* set with stop when the daemon must give up */

	/* The data path, as last seen (watch_datapath). */
	char dp_dev[IF_NAMESIZE];
	__u32 dp_prog_id;
	const char *dp_mode;
	bool dp_seen; /* looked at least once */
	struct xlb_timer t_watch;

	/* systemd and Prometheus. */
	struct xlb_timer t_wdog;
	__u64 wdog_ms; /* feed interval; 0: no watchdog */
	char status[160]; /* the last STATUS= sent */
	bool ready; /* READY=1 sent: STATUS= from then on */
	struct xlb_metrics_srv *msrv;
	char maddr[sizeof(((struct xlb_conf *)0)->metrics)];
	__u64 reattaches, reloads_ok, reloads_failed, commits;
	double last_commit_s, started_s;

	/* The node in its fleet (node.c): VIP routes and draining. */
	struct xlb_fleet fleet;
	struct xlb_timer t_fleet;
	struct xlb_io fleet_io;
	struct xlb_hooks *hooks; /* notify_up / notify_down */
};

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* A line about backend b, with its VIP and address as journal fields. */
#define blog(b, prio, ...) xlb_log_kv(prio, (b)->vname, (b)->aname, __VA_ARGS__)

static __u64 rnd(struct daemon *d)
{
	/* xorshift64*: jitter only. */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545f4914f6cdd1dULL;
}

static int be_key_cmp(const struct xlb_vip_key *k1, const struct xlb_addr *a1,
		      const struct xlb_vip_key *k2, const struct xlb_addr *a2)
{
	int r = memcmp(k1, k2, sizeof(*k1));

	return r ? r : xlb_addr_cmp(a1, a2);
}

static int be_cmp(const void *x, const void *y)
{
	const struct be *a = *(const struct be *const *)x;
	const struct be *b = *(const struct be *const *)y;

	return be_key_cmp(&a->vkey, &a->addr, &b->vkey, &b->addr);
}

static struct be *be_find(struct daemon *d, const struct xlb_vip_key *k,
			  const struct xlb_addr *a)
{
	size_t lo = 0, hi = d->n_sorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct be *b = d->be[mid];
		int r = be_key_cmp(&b->vkey, &b->addr, k, a);

		if (!r)
			return b->dead ? NULL : b;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void be_sort(struct daemon *d)
{
	qsort(d->be, d->n_be, sizeof(*d->be), be_cmp);
	d->n_sorted = d->n_be;
}

/* ---- checks -------------------------------------------------------------- */

static void on_probe_done(struct xlb_probe *p, bool ok, const char *why);
static void notify_status(struct daemon *d, const char *extra);
static void on_check_timer(struct xlb_timer *t);
static void on_pol_timer(struct xlb_timer *t);

/* Interval with +-10% jitter, so checks of many backends stay spread. */
static __u64 jittered(struct daemon *d, __u32 ms)
{
	__u64 span = ms / 5;

	return ms - ms / 10 + (span ? rnd(d) % span : 0);
}

static void check_schedule(struct be *b, bool first)
{
	struct daemon *d = b->d;
	__u64 now = xlb_ms(), at;
	__u32 spread;

	if (b->ck.type == XLB_CHECK_NONE || b->dead)
		return;
	if (first) {
		spread = b->ck.interval_ms < FIRST_CHECK_MAX_MS ? b->ck.interval_ms :
								 FIRST_CHECK_MAX_MS;
		at = now + rnd(d) % spread;
	} else {
		at = b->check_at + jittered(d, b->ck.interval_ms);
		if (at <= now)
			at = now + 1;
	}
	xlb_timer_arm(&d->loop, &b->t_check, at);
}

static struct be *be_new(struct daemon *d, const struct xlb_vip_key *k,
			 const struct xlb_addr *a)
{
	char ab[XLB_ADDR_STRLEN], vb[XLB_VIP_STRLEN];
	struct be *b, **arr;

	arr = xlb_grow(d->be, d->n_be, &d->cap, sizeof(*arr), 64);
	if (!arr)
		return NULL;
	d->be = arr;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->d = d;
	b->vkey = *k;
	b->addr = *a;
	b->id = XLB_ID_NONE;
	b->vip_id = XLB_ID_NONE;
	xlb_addr_fmt(a->family, a->a, ab, sizeof(ab));
	xlb_vip_fmt(k, vb, sizeof(vb));
	snprintf(b->name, sizeof(b->name), "%s of %s", ab, vb);
	snprintf(b->vname, sizeof(b->vname), "%s", vb);
	snprintf(b->aname, sizeof(b->aname), "%s", ab);
	b->ck.type = XLB_CHECK_NONE;
	b->drain_timeout_s = 300;
	xlb_probe_init(&b->probe, &d->loop);
	b->probe.done = on_probe_done;
	xlb_timer_init(&b->t_check, on_check_timer);
	xlb_timer_init(&b->t_pol, on_pol_timer);
	d->be[d->n_be++] = b;
	return b;
}

/*
 * Takes b's check (its own override, else its VIP's) and timers from
 * conf. A VIP the file does not name (made with the CLI) gets the
 * defaults a file would give it: a TCP connect for a TCP VIP.
 */
static void be_configure(struct be *b, const struct xlb_conf *conf)
{
	const struct xlb_vip_conf *vc = xlb_conf_vip(conf, &b->vkey);
	struct xlb_check ck;

	if (vc)
		ck = *xlb_conf_check(vc, &b->addr);
	else
		xlb_check_defaults(&ck, b->vkey.proto);
	b->slow_start_s = vc ? vc->slow_start_s : 0;
	b->drain_timeout_s = vc ? vc->drain_timeout_s : 300;
	if (!memcmp(&ck, &b->ck, sizeof(ck)))
		return;
	b->ck = ck;
	xlb_probe_stop(&b->probe);
	xlb_timer_cancel(&b->d->loop, &b->t_check);
	b->ok = b->bad = 0;
	if (ck.type == XLB_CHECK_NONE)
		b->healthy = true;
	check_schedule(b, true);
}

static void be_drop(struct be *b)
{
	struct daemon *d = b->d;
	struct be **g;

	xlb_probe_stop(&b->probe);
	xlb_timer_cancel(&d->loop, &b->t_check);
	xlb_timer_cancel(&d->loop, &b->t_pol);
	b->dead = true;
	if (d->n_grave == d->cap_grave) {
		size_t cap = d->cap_grave ? d->cap_grave * 2 : 16;

		g = realloc(d->grave, cap * sizeof(*g));
		if (!g) {
			/* Leak rather than risk a dangling pointer. */
			return;
		}
		d->grave = g;
		d->cap_grave = cap;
	}
	d->grave[d->n_grave++] = b;
}

static void want(struct be *b, enum want w, __u32 ramp)
{
	struct daemon *d = b->d;

	b->want = w;
	b->want_ramp = ramp;
	if (!xlb_timer_armed(&d->t_apply))
		xlb_timer_arm(&d->loop, &d->t_apply, xlb_ms() + COALESCE_MS);
}

static void pol_arm(struct be *b, enum pol p, __u64 at)
{
	b->pol = p;
	xlb_timer_arm(&b->d->loop, &b->t_pol, at);
}

static void pol_cancel(struct be *b)
{
	b->pol = P_NONE;
	xlb_timer_cancel(&b->d->loop, &b->t_pol);
}

static __u64 ramp_step_ms(const struct be *b)
{
	__u64 ms = (__u64)b->slow_start_s * 1000 / RAMP_STEPS;

	return ms < 100 ? 100 : ms;
}

/* Whether another backend of b's VIP takes its full share. */
static bool vip_has_full_peer(struct daemon *d, const struct be *b)
{
	size_t i;

	for (i = 0; i < d->n_be; i++) {
		const struct be *o = d->be[i];

		if (o != b && !o->dead && o->state == XLB_BE_UP &&
		    o->ramp == XLB_RAMP_FULL &&
		    !memcmp(&o->vkey, &b->vkey, sizeof(o->vkey)))
			return true;
	}
	return false;
}

static void bring_up(struct be *b, const char *reason)
{
	struct daemon *d = b->d;
	bool slow = b->slow_start_s && !b->cold && vip_has_full_peer(d, b);

	pol_cancel(b);
	b->cold = false;
	/* Only a comeback after a failure can start a flap. */
	b->up_at = b->fell ? xlb_ms() : 0;
	want(b, W_UP, slow ? XLB_RAMP_FULL / RAMP_STEPS : XLB_RAMP_FULL);
	if (slow)
		blog(b, LOG_NOTICE, "backend %s up: %s; slow start over %u s", b->name, reason,
		     b->slow_start_s);
	else
		blog(b, LOG_NOTICE, "backend %s up: %s", b->name, reason);
}

/*
 * Writes DOWN into the state map for b's id alone, after checking that the
 * id still names b and is UP. The data path then sends b's slots to their
 * secondaries, before any table is rebuilt.
 */
static int flip_down(struct be *b, __u64 *took_ns)
{
	struct daemon *d = b->d;
	__u32 down = XLB_BE_DOWN, st;
	struct xlb_backend val;
	__u64 t0;

	if (b->id == XLB_ID_NONE || b->id >= XLB_MAX_BACKENDS)
		return -ENOENT;
	if (bpf_map_lookup_elem(d->m.backends, &b->id, &val) ||
	    !(val.flags & XLB_BE_F_USED) || val.family != b->addr.family ||
	    val.vip_id != b->vip_id || memcmp(val.addr, b->addr.a, sizeof(val.addr)))
		return -ESTALE;
	if (bpf_map_lookup_elem(d->m.state, &b->id, &st) || st != XLB_BE_UP)
		return -EAGAIN;
	t0 = xlb_now_mono_ns();
	/* The record first: a kill between the two leaves a commit to repair. */
	xlb_record_set_state(&d->m, b->id, XLB_BE_DOWN);
	if (bpf_map_update_elem(d->m.state, &b->id, &down, BPF_EXIST))
		return -errno;
	*took_ns = xlb_now_mono_ns() - t0;
	return 0;
}

static void on_fall(struct be *b)
{
	__u64 now = xlb_ms(), took = 0, periods;
	int err;

	if (b->want == W_UP) {
		/* Failing again before its comeback was committed. */
		b->want = W_NONE;
		blog(b, LOG_WARNING, "backend %s failing again: %u failed checks (%s); stays down",
		     b->name, b->bad, b->why);
		return;
	}
	if (b->state != XLB_BE_UP) {
		if (b->pol == P_HOLD)
			pol_cancel(b); /* failing again while held down */
		if (!b->owned_down)
			blog(b, LOG_INFO, "backend %s failing: %u failed checks (%s); state %s unchanged",
			     b->name, b->bad, b->why, xlb_state_name(b->state));
		return;
	}
	pol_cancel(b);
	err = flip_down(b, &took);
	b->flipped = !err;
	want(b, W_DOWN, 0);
	b->owned_down = true;
	b->fell = true;
	if (err)
		blog(b, LOG_WARNING, "backend %s down: %u failed checks (%s)", b->name, b->bad,
		     b->why);
	else
		blog(b, LOG_WARNING, "backend %s down: %u failed checks (%s); state flipped in %llu.%03llu us",
		     b->name, b->bad, b->why, (unsigned long long)(took / 1000),
		     (unsigned long long)(took % 1000));

	/* Flap damping: a short up period doubles the hold, long ones decay it. */
	if (b->up_at) {
		if (now - b->up_at < FLAP_STABLE_MS) {
			__u64 base = b->ck.interval_ms > 1000 ? b->ck.interval_ms : 1000;

			b->hold_ms = b->hold_ms ? b->hold_ms * 2 : base;
			if (b->hold_ms > FLAP_HOLD_MAX_MS)
				b->hold_ms = FLAP_HOLD_MAX_MS;
			blog(b, LOG_WARNING, "backend %s flapping (up only %llu.%llu s): held down for at least %llu s",
			     b->name, (unsigned long long)((now - b->up_at) / 1000),
			     (unsigned long long)((now - b->up_at) % 1000 / 100),
			     (unsigned long long)((b->hold_ms + 999) / 1000));
		} else {
			periods = (now - b->up_at) / FLAP_STABLE_MS;
			b->hold_ms = periods >= 32 ? 0 : b->hold_ms >> periods;
		}
	}
	b->hold_until = b->hold_ms ? now + b->hold_ms : 0;
}

static void on_rise(struct be *b)
{
	__u64 now = xlb_ms();
	char reason[64];

	if (b->want == W_DOWN)
		return; /* apply_pending brings it back once DOWN is committed */
	if (b->state != XLB_BE_DOWN || !b->owned_down) {
		if (b->state != XLB_BE_UP)
			blog(b, LOG_INFO, "backend %s healthy: %u successful checks; state %s unchanged%s",
			     b->name, b->ok, xlb_state_name(b->state),
			     b->state == XLB_BE_DOWN ? " (set by the operator)" : "");
		return;
	}
	if (b->hold_until > now) {
		blog(b, LOG_INFO, "backend %s healthy again but held down %llu.%llu s more (flapping)",
		     b->name, (unsigned long long)((b->hold_until - now) / 1000),
		     (unsigned long long)((b->hold_until - now) % 1000 / 100));
		pol_arm(b, P_HOLD, b->hold_until);
		return;
	}
	snprintf(reason, sizeof(reason), "%u successful checks", b->ok);
	bring_up(b, reason);
}

static void on_probe_done(struct xlb_probe *p, bool ok, const char *why)
{
	struct be *b = container_of(p, struct be, probe);
	bool was = b->healthy;

	b->latency_s = (double)(xlb_now_mono_ns() - b->check_ns) / 1e9;
	if (ok)
		b->n_ok++;
	else
		b->n_failed++;
	if (ok) {
		b->bad = 0;
		if (b->ok < UINT32_MAX)
			b->ok++;
		if (!b->healthy && b->ok >= b->ck.rise) {
			b->healthy = true;
			on_rise(b);
		}
	} else {
		b->ok = 0;
		if (b->bad < UINT32_MAX)
			b->bad++;
		snprintf(b->why, sizeof(b->why), "%s", why);
		if (b->healthy && b->bad >= b->ck.fall) {
			b->healthy = false;
			on_fall(b);
		} else if (!b->healthy && b->bad == b->ck.fall && b->owned_down &&
			   b->state == XLB_BE_DOWN) {
			blog(b, LOG_INFO, "backend %s still down: %u failed checks (%s)", b->name,
			     b->bad, b->why);
		}
	}
	if (b->healthy != was)
		b->transition_s = (double)xlb_now_real_ns() / 1e9;
	check_schedule(b, false);
}

static void on_check_timer(struct xlb_timer *t)
{
	struct be *b = container_of(t, struct be, t_check);
	struct xlb_probe *p = &b->probe;

	if (b->dead || b->ck.type == XLB_CHECK_NONE || xlb_probe_busy(p))
		return;
	p->check = &b->ck;
	p->addr = b->addr;
	p->port = b->ck.port ? b->ck.port : ntohs(b->vkey.port);
	p->timeout_ms = b->ck.timeout_ms;
	b->check_at = xlb_ms();
	b->check_ns = xlb_now_mono_ns();
	if (xlb_probe_start(p))
		check_schedule(b, false); /* out of memory: try again later */
}

static void on_pol_timer(struct xlb_timer *t)
{
	struct be *b = container_of(t, struct be, t_pol);
	enum pol p = b->pol;
	__u32 r;

	b->pol = P_NONE;
	if (b->dead)
		return;
	if (p == P_HOLD) {
		if (b->healthy && b->state == XLB_BE_DOWN && b->owned_down)
			bring_up(b, "hold-down over, checks pass");
	} else if (p == P_RAMP) {
		if (b->state != XLB_BE_UP || b->ramp >= XLB_RAMP_FULL)
			return;
		r = b->ramp + XLB_RAMP_FULL / RAMP_STEPS;
		if (!b->slow_start_s || r > XLB_RAMP_FULL)
			r = XLB_RAMP_FULL;
		want(b, W_RAMP, r);
	}
}

/* ---- the live model ------------------------------------------------------ */

static int lock_maps(struct daemon *d, bool wait)
{
	return wait ? xlb_maps_lock(&d->m) : xlb_maps_trylock(&d->m);
}

static void unlock_maps(struct daemon *d)
{
	if (d->m.lock_fd >= 0)
		close(d->m.lock_fd);
	d->m.lock_fd = -1;
}

/* A live state that the daemon did not write. */
static void external_change(struct be *b, const struct xlb_be_ent *e)
{
	blog(b, LOG_NOTICE, "backend %s: state %s -> %s (not by the daemon)", b->name,
	     xlb_state_name(b->state), xlb_state_name(e->state));
	pol_cancel(b);
	b->owned_down = false;
	b->hold_until = 0;
	switch (e->state) {
	case XLB_BE_UP:
		/* The operator vouches for it: start from healthy. */
		if (!b->healthy && b->ck.type != XLB_CHECK_NONE) {
			b->healthy = true;
			b->ok = b->ck.rise;
			b->bad = 0;
		}
		break;
	case XLB_BE_DRAIN:
		b->drain_seen = xlb_ms();
		break;
	default:
		break;
	}
}

/* Whether a draining backend's time is up. */
static bool drain_over(const struct be *b)
{
	if (b->drain_deadline_ns)
		return xlb_now_real_ns() >= b->drain_deadline_ns;
	return xlb_ms() >= b->drain_seen + (__u64)b->drain_timeout_s * 1000;
}

/*
 * A backend someone added (`xlb backend add`) while the daemon runs, UP
 * and never checked: it is taken out of service at once (state map first,
 * as a failure would) and comes back when `rise` checks pass, as a
 * backend new in the file does. It was UP only until this sync noticed.
 */
static void adopt_unchecked(struct be *b)
{
	__u64 took = 0;

	b->healthy = false;
	b->ok = b->bad = 0;
	b->flipped = !flip_down(b, &took);
	want(b, W_DOWN, 0);
	b->owned_down = true;
	b->cold = !vip_has_full_peer(b->d, b);
	blog(b, LOG_NOTICE, "backend %s added (not by the daemon): down until %u %s check%s pass",
	     b->name, b->ck.rise, b->ck.type == XLB_CHECK_TCP ? "tcp" :
				b->ck.type == XLB_CHECK_HTTP ? "http" : "https",
	     b->ck.rise == 1 ? "" : "s");
}

/*
 * Brings the records in line with live: new backends are adopted (UP ones
 * healthy when the daemon starts; once it runs, checked ones wait for
 * their checks), vanished ones dropped, states written by others noted,
 * drains timed, interrupted slow starts resumed.
 */
static void sync_records(struct daemon *d, const struct xlb_model *live,
			 const struct xlb_conf *conf)
{
	size_t i, j, n;

	for (i = 0; i < d->n_be; i++)
		d->be[i]->seen = false;
	for (i = 0; i < live->n_vips; i++) {
		const struct xlb_vip_ent *v = &live->vips[i];

		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *e = &v->be[j];
			struct be *b = be_find(d, &v->key, &e->addr);
			bool fresh = false;

			if (!b) {
				b = be_new(d, &v->key, &e->addr);
				if (!b) {
					xlb_log(LOG_ERR, "out of memory");
					continue;
				}
				/* Adopted: UP live means healthy, fall failures away. */
				b->state = e->state;
				b->healthy = e->state == XLB_BE_UP;
				be_configure(b, conf);
				/* Added by the CLI to a checked VIP: ours to bring up. */
				if (e->pending && e->state == XLB_BE_DOWN &&
				    b->ck.type != XLB_CHECK_NONE) {
					b->owned_down = true;
					blog(b, LOG_NOTICE, "backend %s added (not by the daemon): "
					     "down until its checks pass", b->name);
				}
				fresh = d->running && e->state == XLB_BE_UP &&
					b->ck.type != XLB_CHECK_NONE;
			} else if (e->state != b->state && b->want == W_NONE) {
				external_change(b, e);
			}
			b->seen = true;
			b->id = e->id;
			b->vip_id = v->id;
			b->state = e->state;
			b->ramp = e->ramp;
			b->drain_deadline_ns = e->drain_deadline_ns;
			if (fresh)
				adopt_unchecked(b);
			if (e->state == XLB_BE_DRAIN) {
				if (!b->drain_seen)
					b->drain_seen = xlb_ms();
				if (b->want == W_NONE && drain_over(b)) {
					blog(b, LOG_NOTICE, "backend %s drained: %s; removing it", b->name,
					     b->drain_deadline_ns ? "deadline passed" :
								    "drain_timeout passed");
					want(b, W_REMOVE, 0);
				}
			} else {
				b->drain_seen = 0;
			}
			if (e->state == XLB_BE_UP && e->ramp < XLB_RAMP_FULL &&
			    b->want == W_NONE && !xlb_timer_armed(&b->t_pol))
				pol_arm(b, P_RAMP, xlb_ms() + ramp_step_ms(b));
		}
	}
	/* Drop what is gone; keep the array sorted. */
	for (i = 0, n = 0; i < d->n_be; i++) {
		struct be *b = d->be[i];

		if (!b->seen && !b->dead) {
			if (b->want != W_REMOVE)
				blog(b, LOG_NOTICE, "backend %s gone from the live state (not by the daemon)",
				     b->name);
			be_drop(b);
		}
		if (!b->dead)
			d->be[n++] = b;
	}
	d->n_be = n;
	be_sort(d);
	/* Every look at live, whoever changed it (checks, CLI, reload). */
	xlb_hooks_update(d->hooks, live);
}

/* Makes the pending changes: re-read live, apply ours alone, commit. */
static int apply_pending(struct daemon *d)
{
	struct xlb_model old, md;
	__u64 now_ns = xlb_now_real_ns(), t0, took;
	bool changed = false;
	size_t i, nch = 0;
	int err;

	err = lock_maps(d, true);
	if (!err) {
		err = xlb_model_read(&d->m, &old);
		if (err)
			unlock_maps(d);
	}
	if (!err) {
		err = xlb_model_copy(&old, &md);
		if (err) {
			xlb_model_free(&old);
			unlock_maps(d);
		}
	}
	if (err)
		goto retry;
	for (i = 0; i < d->n_be; i++) {
		struct be *b = d->be[i];
		struct xlb_vip_ent *v, *ov;
		struct xlb_be_ent *e, *ob;

		if (b->dead || b->want == W_NONE)
			continue;
		v = xlb_model_vip(&md, &b->vkey);
		e = v ? xlb_model_be(v, &b->addr) : NULL;
		if (!e) {
			b->want = W_NONE;
			continue;
		}
		switch (b->want) {
		case W_DOWN:
			if (e->state == XLB_BE_UP ||
			    (b->flipped && e->state == XLB_BE_DOWN)) {
				e->state = XLB_BE_DOWN;
				e->since_ns = now_ns;
				/*
				 * The flip made live say DOWN, but the live table
				 * was built with it UP: say so, so the commit
				 * rebuilds the table.
				 */
				ov = xlb_model_vip(&old, &b->vkey);
				ob = ov ? xlb_model_be(ov, &b->addr) : NULL;
				if (ob && b->flipped)
					ob->state = XLB_BE_UP;
				changed = true;
				nch++;
			} else {
				blog(b, LOG_INFO, "backend %s: left %s (changed meanwhile)", b->name,
				     xlb_state_name(e->state));
				b->owned_down = false;
				b->want = W_NONE;
			}
			break;
		case W_UP:
			if (e->state == XLB_BE_DOWN) {
				e->state = XLB_BE_UP;
				e->ramp = b->want_ramp;
				e->since_ns = now_ns;
				changed = true;
				nch++;
			} else {
				blog(b, LOG_INFO, "backend %s: left %s (changed meanwhile)", b->name,
				     xlb_state_name(e->state));
				b->want = W_NONE;
			}
			break;
		case W_RAMP:
			if (e->state == XLB_BE_UP && e->ramp != b->want_ramp) {
				e->ramp = b->want_ramp;
				changed = true;
				nch++;
			} else {
				b->want = W_NONE;
			}
			break;
		case W_REMOVE:
			if (e->state == XLB_BE_DRAIN) {
				xlb_model_be_del(v, &b->addr);
				changed = true;
				nch++;
			} else {
				b->want = W_NONE;
			}
			break;
		default:
			break;
		}
	}
	err = 0;
	took = 0;
	if (changed) {
		t0 = xlb_now_mono_ns();
		err = xlb_model_commit(&d->m, &old, &md);
		took = xlb_now_mono_ns() - t0;
	}
	unlock_maps(d);
	if (err) {
		xlb_log(LOG_ERR, "commit failed: %s; retrying in %d ms", xlb_errmsg(), RETRY_MS);
		xlb_model_free(&old);
		xlb_model_free(&md);
		goto retry;
	}
	if (changed) {
		d->commits++;
		d->last_commit_s = (double)took / 1e9;
	}
	if (changed)
		xlb_log(LOG_INFO, "committed %zu change%s in %llu.%03llu ms", nch, nch == 1 ? "" : "s",
		     (unsigned long long)(took / 1000000),
		     (unsigned long long)(took / 1000 % 1000));
	if (changed)
		xlb_fleet_model(&d->fleet, &md); /* fleet hook: announcements */
	for (i = 0; i < d->n_be; i++) {
		struct be *b = d->be[i];
		enum want w = b->want;

		if (b->dead || w == W_NONE)
			continue;
		b->want = W_NONE;
		b->flipped = false;
		if (w == W_DOWN) {
			b->state = XLB_BE_DOWN;
			if (b->healthy)
				on_rise(b); /* it recovered meanwhile */
		} else if (w == W_UP || w == W_RAMP) {
			b->state = XLB_BE_UP;
			b->ramp = b->want_ramp;
			if (w == W_RAMP)
				blog(b, LOG_INFO, "backend %s slow start: %u%%%s", b->name,
				     b->ramp / 10,
				     b->ramp >= XLB_RAMP_FULL ? ", done" : "");
			if (b->ramp < XLB_RAMP_FULL)
				pol_arm(b, P_RAMP, xlb_ms() + ramp_step_ms(b));
		} else if (w == W_REMOVE) {
			blog(b, LOG_NOTICE, "backend %s removed", b->name);
			b->want = W_REMOVE; /* sync_records drops it quietly */
		}
	}
	sync_records(d, &md, &d->conf);
	for (i = 0; i < d->n_be; i++)
		if (d->be[i]->want == W_REMOVE)
			d->be[i]->want = W_NONE;
	xlb_model_free(&old);
	xlb_model_free(&md);
	return 0;
retry:
	xlb_timer_arm(&d->loop, &d->t_apply, xlb_ms() + RETRY_MS);
	return err;
}

static void snap_free(struct snap *s)
{
	free(s->be);
	free(s->st);
	free(s->vips);
	memset(s, 0, sizeof(*s));
}

static int vips_read(int fd, struct snap *s)
{
	struct xlb_vip_key k, next, *prev = NULL;
	const size_t rec = sizeof(k) + sizeof(struct xlb_vip);
	char *buf;

	s->vips_len = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (s->vips_len + rec > s->vips_cap) {
			size_t cap = s->vips_cap ? s->vips_cap * 2 : 64 * rec;

			buf = realloc(s->vips, cap);
			if (!buf)
				return -ENOMEM;
			s->vips = buf;
			s->vips_cap = cap;
		}
		memcpy(s->vips + s->vips_len, &k, sizeof(k));
		if (bpf_map_lookup_elem(fd, &k, s->vips + s->vips_len + sizeof(k)))
			continue;
		s->vips_len += rec;
	}
	return 0;
}

/*
 * Whether the live maps may differ from the last look: a few system calls
 * instead of the full model read (two lookups per backend id).
 */
static bool live_moved(struct daemon *d)
{
	struct snap *n = &d->snap_new, tmp;
	int err;

	if (!n->be) {
		n->be = calloc(XLB_MAX_BACKENDS, sizeof(*n->be));
		n->st = calloc(XLB_MAX_BACKENDS, sizeof(*n->st));
		if (!n->be || !n->st) {
			snap_free(n);
			return true;
		}
	}
	err = xlb_array_read(d->m.backends, n->be, sizeof(*n->be),
			     XLB_MAX_BACKENDS);
	if (!err)
		err = xlb_array_read(d->m.state, n->st, sizeof(*n->st),
				     XLB_MAX_BACKENDS);
	if (!err)
		err = vips_read(d->m.vips, n);
	if (err)
		return true;
	n->valid = true;
	if (d->snap.valid && d->snap.vips_len == n->vips_len &&
	    !memcmp(d->snap.vips, n->vips, n->vips_len) &&
	    !memcmp(d->snap.st, n->st, XLB_MAX_BACKENDS * sizeof(*n->st)) &&
	    !memcmp(d->snap.be, n->be, XLB_MAX_BACKENDS * sizeof(*n->be)))
		return false;
	tmp = d->snap;
	d->snap = *n;
	*n = tmp;
	n->valid = false;
	return true;
}

/* Drains whose time is up while nothing else moved. */
static void check_drains(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->n_be; i++) {
		struct be *b = d->be[i];

		if (!b->dead && b->state == XLB_BE_DRAIN && b->want == W_NONE &&
		    drain_over(b)) {
			blog(b, LOG_NOTICE, "backend %s drained: %s; removing it", b->name,
			     b->drain_deadline_ns ? "deadline passed" :
						    "drain_timeout passed");
			want(b, W_REMOVE, 0);
		}
	}
}

static void on_sync_timer(struct xlb_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, t_sync);
	struct xlb_model live;
	struct xlb_commit h;
	__u64 now = xlb_ms();
	int err;

	xlb_timer_arm(&d->loop, t, now + SYNC_GEN_MS);
	/*
	 * Every command commits through the record, so an unmoved
	 * generation means nothing changed but by hand: looked for in full
	 * once a second. A moved one is looked at now (a CLI change is seen
	 * within SYNC_GEN_MS, not a second later).
	 */
	err = xlb_record_header(&d->m, &h);
	if (!err && h.gen == d->seen_gen && now - d->full_ms < SYNC_MS) {
		check_drains(d);
		return;
	}
	d->seen_gen = err ? ~0ULL : h.gen;
	d->full_ms = now;
	if (!live_moved(d)) {
		check_drains(d);
		return;
	}
	if (lock_maps(d, false)) {
		d->snap.valid = false; /* look in full next time */
		d->seen_gen = ~0ULL;
		/* Someone is committing: look again soon. */
		xlb_timer_arm(&d->loop, t, xlb_ms() + SYNC_MS / 5);
		return;
	}
	err = xlb_model_read(&d->m, &live);
	unlock_maps(d);
	if (err) {
		d->snap.valid = false;
		d->seen_gen = ~0ULL;
		xlb_log(LOG_ERR, "can't read the live state: %s", xlb_errmsg());
		return;
	}
	sync_records(d, &live, &d->conf);
	xlb_fleet_model(&d->fleet, &live); /* fleet hook: announcements */
	xlb_model_free(&live);
	notify_status(d, NULL);
}

static void on_apply_timer(struct xlb_timer *t)
{
	/* Applied by the main loop, after this turn's events and timers. */
	container_of(t, struct daemon, t_apply)->apply_due = true;
}

static bool vip_any_up(const struct xlb_vip_ent *v)
{
	size_t i;

	for (i = 0; v && i < v->n_be; i++)
		if (v->be[i].state == XLB_BE_UP)
			return true;
	return false;
}

/*
 * The file's stable table snapshots: where a VIP without a history here
 * starts (a fresh node), checked against the history of one that has.
 * No adoption: a reload never moves clients to another history
 * (`xlb apply --adopt-history` does, on the operator's word).
 */
static int offer_snapshots(const struct daemon *d, const struct xlb_conf *conf,
			   const struct xlb_model *old,
			   const struct xlb_model *md)
{
	size_t i;
	int err = 0;

	for (i = 0; i < conf->model.n_vips && !err; i++)
		if (conf->vips[i].snap)
			err = xlb_history_offer(&conf->vips[i].key,
						conf->vips[i].snap);
	return err ? err : xlb_history_check(&d->m, old, md, false);
}

/*
 * Applies conf over live: merge, then health on top (a backend the checks
 * hold down stays down; a new one waits for its checks), commit only when
 * something differs. Refused whole on any error.
 */
static int apply_config(struct daemon *d, struct xlb_conf *conf, bool startup)
{
	struct xlb_model old, md;
	size_t i, j, added = 0;
	bool commit;
	int err;

	err = lock_maps(d, true);
	if (err)
		return err;
	err = xlb_model_read(&d->m, &old);
	if (err) {
		unlock_maps(d);
		return err;
	}
	/* Note what others changed since the last look, as an adoption. */
	sync_records(d, &old, startup ? conf : &d->conf);
	/*
	 * No flags: neither a start nor a reload changes the seed or the
	 * sources of a balancer with VIPs (an operator does, with `xlb
	 * apply --reseed` or `--new-src`, then edits the file to match).
	 */
	err = xlb_conf_merge(conf, &old, 0, &md);
	if (!err)
		err = offer_snapshots(d, conf, &old, &md);
	if (err) {
		xlb_history_forget();
		xlb_model_free(&md);
		xlb_model_free(&old);
		unlock_maps(d);
		return err;
	}
	for (i = 0; i < md.n_vips; i++) {
		struct xlb_vip_ent *v = &md.vips[i];
		const struct xlb_vip_ent *lv = xlb_model_vip(&old, &v->key);
		const struct xlb_vip_conf *vc = xlb_conf_vip(conf, &v->key);

		/* Backends the CLI adds to a checked VIP wait for their checks. */
		v->checked = vc && vc->check.type != XLB_CHECK_NONE;
		for (j = 0; j < v->n_be; j++) {
			struct xlb_be_ent *e = &v->be[j];
			const struct xlb_be_ent *lb = lv ? xlb_model_be(lv, &e->addr) : NULL;
			const struct xlb_be_conf *bc = xlb_conf_be(vc, &e->addr);
			const struct xlb_check *ck = xlb_conf_check(vc, &e->addr);
			bool checked = ck && ck->type != XLB_CHECK_NONE;
			bool explicit = bc && bc->has_state;
			struct be *b = be_find(d, &v->key, &e->addr);
			bool pending;

			if (!lb) {
				/* New: checked backends wait for `rise` passes. */
				pending = e->state == XLB_BE_UP && checked;
				if (pending) {
					e->state = XLB_BE_DOWN;
					added++;
				}
				b = b ? b : be_new(d, &v->key, &e->addr);
				if (!b) {
					err = -ENOMEM;
					goto fail;
				}
				b->state = e->state;
				b->healthy = e->state == XLB_BE_UP;
				b->owned_down = pending;
				b->cold = !vip_any_up(lv);
				continue;
			}
			if (!b)
				continue; /* no record (out of memory): leave it */
			if (startup && lb->state == XLB_BE_DOWN && !explicit && checked) {
				/* Down when the last daemon stopped: ours to bring up. */
				b->owned_down = true;
				b->healthy = false;
				b->ok = 0;
			}
			if (explicit && e->state == XLB_BE_DOWN)
				b->owned_down = false;
			if (!checked && b->owned_down && e->state == XLB_BE_DOWN &&
			    !explicit) {
				/* No checks any more to bring it back. */
				e->state = XLB_BE_UP;
				e->ramp = XLB_RAMP_FULL;
				e->since_ns = xlb_now_real_ns();
				b->owned_down = false;
				continue;
			}
			if (e->state == XLB_BE_UP && lb->state == XLB_BE_DOWN && checked &&
			    (b->owned_down || !b->healthy)) {
				/* "up" means in service when healthy. */
				e->state = lb->state;
				e->ramp = lb->ramp;
				e->since_ns = lb->since_ns;
				e->drain_deadline_ns = lb->drain_deadline_ns;
				b->owned_down = true;
			}
		}
	}
	be_sort(d);
	commit = !xlb_conf_model_same(&md, &old);
	if (commit) {
		__u64 t0 = xlb_now_mono_ns();

		err = xlb_model_commit(&d->m, &old, &md);
		if (err)
			goto fail;
		d->commits++;
		d->last_commit_s = (double)(xlb_now_mono_ns() - t0) / 1e9;
	}
	xlb_history_forget();
	unlock_maps(d);

	/* The records follow what was committed. */
	for (i = 0; i < md.n_vips; i++) {
		const struct xlb_vip_ent *v = &md.vips[i];

		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *e = &v->be[j];
			struct be *b = be_find(d, &v->key, &e->addr);

			if (b) {
				b->state = e->state;
				b->ramp = e->ramp;
			}
		}
	}
	for (i = 0; i < d->n_be; i++) {
		struct be *b = d->be[i];
		const struct xlb_vip_ent *v = xlb_model_vip(&md, &b->vkey);

		if (!v || !xlb_model_be(v, &b->addr)) {
			blog(b, LOG_NOTICE, "backend %s removed: not in the file", b->name);
			b->want = W_REMOVE; /* dropped quietly below */
			continue;
		}
		be_configure(b, conf);
	}
	if (conf != &d->conf) {
		xlb_conf_free(&d->conf);
		d->conf = *conf;
		memset(conf, 0, sizeof(*conf));
	}
	sync_records(d, &md, &d->conf);
	xlb_fleet_model(&d->fleet, &md); /* fleet hook: announcements */
	xlb_log(LOG_NOTICE, "%s %s: %zu VIPs, %zu backends%s%s", startup ? "started with" : "reloaded",
	     d->path, md.n_vips, d->n_be, commit ? "; live state updated" :
						    "; live state already matches",
	     added ? " (new backends wait for their checks)" : "");
	xlb_model_free(&old);
	xlb_model_free(&md);
	return 0;
fail:
	xlb_history_forget();
	unlock_maps(d);
	/* Forget the records of backends that did not come to be. */
	be_sort(d);
	sync_records(d, &old, &d->conf);
	xlb_model_free(&old);
	xlb_model_free(&md);
	return err;
}

/* ---- the data path, systemd, metrics ------------------------------------ */

/* One line for systemd's STATUS= (and `systemctl status`), sent on change. */
static void notify_status(struct daemon *d, const char *extra)
{
	size_t i, up = 0, n = 0, vips = d->conf.model.n_vips;
	char st[sizeof(d->status)];

	if (!d->ready)
		return;
	for (i = 0; i < d->n_be; i++) {
		if (d->be[i]->dead)
			continue;
		n++;
		up += d->be[i]->state == XLB_BE_UP;
	}
	if (d->dp_prog_id)
		snprintf(st, sizeof(st), "%zu VIPs, %zu/%zu backends up; data path on %s (%s)%s%s",
			 vips, up, n, d->dp_dev, d->dp_mode, extra ? "; " : "",
			 extra ? extra : "");
	else
		snprintf(st, sizeof(st), "%zu VIPs, %zu/%zu backends up; DATA PATH NOT ATTACHED%s%s",
			 vips, up, n, extra ? "; " : "", extra ? extra : "");
	if (!strcmp(st, d->status))
		return;
	snprintf(d->status, sizeof(d->status), "%s", st);
	sd_notifyf(0, "STATUS=%s", st);
}

/*
 * Attaches the program to the configured interface again, as `xlb
 * attach` would: the pinned maps are reused, so the seed, the tables and
 * the flow table are those the daemon manages.
 */
static int reattach(struct daemon *d)
{
	struct xlb_ctx q = *d->c;
	char flows[16], *argv[5] = { d->conf.interface };
	int rc, n = 1;

	if (d->conf.mode[0]) {
		argv[n++] = "--mode";
		argv[n++] = d->conf.mode;
	}
	/* Attach refuses another size against existing maps, as it says. */
	if (d->conf.flows) {
		snprintf(flows, sizeof(flows), "%u", d->conf.flows);
		argv[n++] = "--flows";
		argv[n++] = flows;
	}
	q.quiet = true;
	q.json = false;
	xlb_err_clear();
	rc = cmd_attach(&q, n, argv);
	if (rc != XLB_EXIT_OK)
		return xlb_errf(-EIO, "%s", *xlb_errmsg() ? xlb_errmsg() : "attach failed");
	return 0;
}

/*
 * Looks at the data path: is the program on these maps attached, where,
 * in which mode. When it owns an interface (`interface` in the file) the
 * daemon re-attaches a program that is gone, logging at error priority;
 * when it cannot, it returns an error and the daemon exits. Without an
 * interface it can only say so (log, status, metrics).
 */
static int watch_datapath(struct daemon *d)
{
	const char *dev = d->conf.interface[0] ? d->conf.interface : d->dp_dev;
	bool owns = d->conf.interface[0] != '\0', was = d->dp_prog_id != 0;
	struct xlb_xdp_info xi;
	int err;

	err = xlb_xdp_find(&d->m, dev[0] ? dev : NULL, &xi);
	if (err && err != -ENODEV)
		return 0; /* can't ask the kernel now: look again later */
	if (!err && xi.prog_id) {
		if (!d->dp_seen || !was || xi.prog_id != d->dp_prog_id)
			xlb_log(LOG_NOTICE, "data path: program %u on %s (%s mode)",
				xi.prog_id, xi.dev, xi.mode);
		d->dp_seen = true;
		d->dp_prog_id = xi.prog_id;
		d->dp_mode = xi.mode;
		snprintf(d->dp_dev, sizeof(d->dp_dev), "%s", xi.dev);
		notify_status(d, NULL);
		return 0;
	}
	d->dp_prog_id = 0;
	if (!owns) {
		if (was || !d->dp_seen)
			xlb_log(LOG_ERR,
				"xlb's program runs on no interface%s%s: the VIPs are not served; set 'interface' in %s for the daemon to attach it",
				dev[0] ? " (it was on " : "", dev[0] ? dev : "", d->path);
		d->dp_seen = true;
		notify_status(d, NULL);
		return 0;
	}
	d->dp_seen = true;
	if (err == -ENODEV)
		return xlb_errf(-ENODEV, "interface %s is gone: the VIPs are not served", dev);
	xlb_log(LOG_ERR, "xlb's program is not attached to %s%s%s%s: re-attaching it", dev,
		xi.other[0] ? " (" : "", xi.other, xi.other[0] ? " holds its XDP hook)" : "");
	if (xi.other[0])
		return xlb_errf(-EBUSY,
				"%s runs another XDP program (%s): not displacing it; the VIPs are not served",
				dev, xi.other);
	err = reattach(d);
	if (!err)
		err = xlb_xdp_find(&d->m, dev, &xi);
	if (!err && !xi.prog_id)
		err = xlb_errf(-EIO, "attached, but no program on these maps runs on %s", dev);
	if (err)
		return xlb_errf(err, "can't re-attach to %s: %s; the VIPs are not served", dev,
				xlb_errmsg());
	d->reattaches++;
	d->dp_prog_id = xi.prog_id;
	d->dp_mode = xi.mode;
	snprintf(d->dp_dev, sizeof(d->dp_dev), "%s", xi.dev);
	xlb_log(LOG_WARNING, "re-attached to %s (%s mode): program %u", xi.dev, xi.mode,
		xi.prog_id);
	notify_status(d, NULL);
	return 0;
}

/* Stops the loop with a failure: what systemd's Restart= is for. */
static void give_up(struct daemon *d, const char *why)
{
	xlb_log(LOG_ERR, "%s; exiting", why);
	sd_notifyf(0, "STATUS=failed: %s", why);
	d->exit_rc = XLB_EXIT_FAIL;
	d->stop = true;
}

static void on_watch_timer(struct xlb_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, t_watch);

	xlb_timer_arm(&d->loop, t, xlb_ms() + WATCH_MS);
	if (watch_datapath(d))
		give_up(d, xlb_errmsg());
}

/* Fed from the loop: a loop stuck anywhere stops feeding it. */
static void on_wdog_timer(struct xlb_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, t_wdog);

	sd_notify(0, "WATCHDOG=1");
	xlb_timer_arm(&d->loop, t, xlb_ms() + d->wdog_ms);
}

static bool be_health(void *arg, const struct xlb_vip_key *k,
		      const struct xlb_addr *a, struct xlb_be_health *h)
{
	struct be *b = be_find(arg, k, a);

	if (!b)
		return false;
	h->checked = b->ck.type != XLB_CHECK_NONE;
	h->up = b->healthy;
	h->latency_s = b->latency_s;
	h->transition_s = b->transition_s;
	h->ok = b->n_ok;
	h->failed = b->n_failed;
	return true;
}


/* The notify hooks' counters (hooks.c). */
static void hooks_metrics(struct daemon *d, FILE *f)
{
	__u64 started, failed, running;

	xlb_hooks_counts(d->hooks, &started, &failed, &running);
	xlb_metric_head(f, "xlb_daemon_hooks_total", "counter",
			"notify_up/notify_down hooks started.");
	fprintf(f, "xlb_daemon_hooks_total %llu\n", (unsigned long long)started);
	xlb_metric_head(f, "xlb_daemon_hook_failures_total", "counter",
			"Hooks that failed: not started, non-zero exit, killed on timeout.");
	fprintf(f, "xlb_daemon_hook_failures_total %llu\n",
		(unsigned long long)failed);
	xlb_metric_head(f, "xlb_daemon_hooks_running", "gauge", "Hooks running now.");
	fprintf(f, "xlb_daemon_hooks_running %llu\n", (unsigned long long)running);
}

static void daemon_metrics(void *arg, FILE *f)
{
	struct daemon *d = arg;

	xlb_metric_head(f, "xlb_daemon_start_time_seconds", "gauge",
			"Unix time the daemon started.");
	fprintf(f, "xlb_daemon_start_time_seconds %.3f\n", d->started_s);
	xlb_metric_head(f, "xlb_daemon_commits_total", "counter",
			"Commits the daemon made (health changes, reloads).");
	fprintf(f, "xlb_daemon_commits_total %llu\n", (unsigned long long)d->commits);
	xlb_metric_head(f, "xlb_daemon_last_commit_duration_seconds", "gauge",
			"How long the daemon's last commit took (tables built and swapped).");
	fprintf(f, "xlb_daemon_last_commit_duration_seconds %.6f\n", d->last_commit_s);
	xlb_metric_head(f, "xlb_daemon_reloads_total", "counter",
			"Reloads (SIGHUP), by result.");
	fprintf(f, "xlb_daemon_reloads_total{result=\"ok\"} %llu\n",
		(unsigned long long)d->reloads_ok);
	fprintf(f, "xlb_daemon_reloads_total{result=\"refused\"} %llu\n",
		(unsigned long long)d->reloads_failed);
	xlb_metric_head(f, "xlb_daemon_reattaches_total", "counter",
			"Times the daemon found its XDP program gone and attached it again.");
	fprintf(f, "xlb_daemon_reattaches_total %llu\n", (unsigned long long)d->reattaches);
	xlb_fleet_metrics(&d->fleet, f); /* fleet hook: announcements */
	hooks_metrics(d, f);
}

/*
 * (Re)starts /metrics on the configured address. A port another process
 * holds is logged and the daemon goes on: balancing matters more than
 * its counters.
 */
static void metrics_setup(struct daemon *d)
{
	struct xlb_metrics_src src = {
		.be_health = be_health,
		.extra = daemon_metrics,
		.arg = d,
		.dev = NULL,
	};

	if (d->msrv && !strcmp(d->maddr, d->conf.metrics))
		return;
	xlb_metrics_stop(d->msrv);
	d->msrv = NULL;
	snprintf(d->maddr, sizeof(d->maddr), "%s", d->conf.metrics);
	if (!d->conf.metrics[0])
		return;
	if (xlb_metrics_serve(&d->loop, d->conf.metrics, &d->m, &src, &d->msrv)) {
		xlb_log(LOG_ERR, "%s; no metrics until a reload", xlb_errmsg());
		d->maddr[0] = '\0';
		return;
	}
	xlb_log(LOG_INFO, "metrics at http://%s/metrics", d->conf.metrics);
}

static int fleet_wire(struct daemon *d);

static void do_reload(struct daemon *d)
{
	struct xlb_conf conf;
	int err;

	d->reload = false;
	/* systemd holds `systemctl reload` until READY=1 comes back. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		   (unsigned long long)(xlb_now_mono_ns() / 1000), d->path);
	d->status[0] = '\0';
	xlb_log(LOG_INFO, "SIGHUP: reloading %s", d->path);
	err = xlb_conf_load(d->path, &conf);
	if (!err) {
		err = apply_config(d, &conf, false);
		xlb_conf_free(&conf);
	}
	if (err) {
		char why[128];

		d->reloads_failed++;
		snprintf(why, sizeof(why), "reload refused: %s", xlb_errmsg());
		xlb_log(LOG_ERR, "reload failed, keeping the running configuration: %s",
			xlb_errmsg());
		sd_notify(0, "READY=1");
		notify_status(d, why);
		return;
	}
	d->reloads_ok++;
	/* fleet hook: the file's announce and node settings */
	if (xlb_fleet_configure(&d->fleet, &d->conf) || fleet_wire(d)) {
		xlb_log(LOG_ERR, "announce: %s", xlb_errmsg());
		xlb_err_clear();
	}
	metrics_setup(d);
	sd_notify(0, "READY=1");
	notify_status(d, NULL);
}

static void on_signal(struct xlb_io *io, __u32 events)
{
	struct daemon *d = container_of(io, struct daemon, sig);
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			d->reload = true;
		} else if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) {
			/* fleet hook: drain (USR1) or undrain (USR2) the node */
			xlb_fleet_signal_drain(&d->fleet, si.ssi_signo == SIGUSR1);
		} else {
			sd_notify(0, "STOPPING=1");
			xlb_log(LOG_NOTICE, "%s: exiting; the data path keeps forwarding",
			     si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			d->stop = true;
		}
	}
}

/* ---- fleet hooks (node.c) ------------------------------------------------ */

static void __attribute__((format(printf, 2, 3)))
fleet_log(int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xlb_log(prio, "%s", msg);
}

#define FLEET_TICK_MS 1000 /* the program still ours, drain deadlines, routes */

static void on_fleet_timer(struct xlb_timer *t)
{
	struct daemon *d = container_of(t, struct daemon, t_fleet);

	xlb_timer_arm(&d->loop, t, xlb_ms() + FLEET_TICK_MS);
	xlb_fleet_tick(&d->fleet);
}

static void on_fleet_io(struct xlb_io *io, __u32 events)
{
	xlb_fleet_watch_event(&container_of(io, struct daemon, fleet_io)->fleet);
}

/*
 * Puts the node's watch and tick on the loop once it has them: at start,
 * or at the reload that first adds `announce` to the file.
 */
static int fleet_wire(struct daemon *d)
{
	int err;

	if (d->fleet.watch_fd >= 0 && d->fleet_io.fd != d->fleet.watch_fd) {
		d->fleet_io.fd = d->fleet.watch_fd;
		d->fleet_io.fn = on_fleet_io;
		err = xlb_loop_add(&d->loop, &d->fleet_io, EPOLLIN);
		if (err)
			return err;
	}
	if (d->fleet.on && !xlb_timer_armed(&d->t_fleet))
		return xlb_timer_arm(&d->loop, &d->t_fleet, xlb_ms() + FLEET_TICK_MS);
	return 0;
}

/* Before the first model: routes an earlier daemon left are adopted. */
static int fleet_start(struct daemon *d)
{
	int err;

	err = xlb_fleet_start(&d->fleet, d->c->pin_dir, &d->m, &d->conf,
			      fleet_log);
	return err ? err : fleet_wire(d);
}

static void graveyard(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->n_grave; i++)
		free(d->grave[i]);
	d->n_grave = 0;
}

static void daemon_free(struct daemon *d)
{
	size_t i;

	/* Every timer out of the heap before any backend is freed. */
	for (i = 0; i < d->n_be; i++) {
		xlb_probe_stop(&d->be[i]->probe);
		xlb_timer_cancel(&d->loop, &d->be[i]->t_check);
		xlb_timer_cancel(&d->loop, &d->be[i]->t_pol);
	}
	for (i = 0; i < d->n_be; i++)
		free(d->be[i]);
	free(d->be);
	graveyard(d);
	free(d->grave);
	snap_free(&d->snap);
	snap_free(&d->snap_new);
	xlb_metrics_stop(d->msrv);
	xlb_hooks_free(d->hooks);
	if (d->sig.fd >= 0)
		close(d->sig.fd);
	xlb_loop_fini(&d->loop);
	xlb_maps_close(&d->m);
	xlb_conf_free(&d->conf);
}

/*
 * One daemon per pin directory: a lock on a directory inside it, which
 * only root can open (the pin directory is root's alone, see
 * xlb_pin_dir_open) and which the kernel releases however the daemon ends
 * (SIGKILL included). It is not the commit lock, which the daemon takes
 * only while committing. With an interface to attach to, the pin
 * directory is made if missing.
 */
static int instance_lock(const char *dir, bool create)
{
	int fd, pid;

	fd = xlb_pin_guard(dir, XLB_PIN_DAEMON_GUARD, create, &pid);
	if (fd == -ENOENT)
		return xlb_errf(fd, "no xlb maps in %s: run 'xlb attach DEV' first",
				dir);
	if (fd == -EBUSY && pid)
		return xlb_errf(fd, "another xlb daemon runs for %s (pid %d)", dir,
				pid);
	if (fd == -EBUSY)
		return xlb_errf(fd, "another xlb daemon runs for %s", dir);
	return fd;
}

/* Opens the maps, attaching to the configured interface when needed. */
static int open_maps(struct daemon *d)
{
	int err;

	err = xlb_maps_open(d->c->pin_dir, &d->m);
	if (err != -ENOENT || !d->conf.interface[0])
		return err;
	xlb_log(LOG_NOTICE, "no maps in %s: attaching to %s", d->c->pin_dir, d->conf.interface);
	err = reattach(d);
	if (err)
		return xlb_errf(err, "can't attach to %s: %s", d->conf.interface,
				xlb_errmsg());
	return xlb_maps_open(d->c->pin_dir, &d->m);
}

int cmd_daemon(struct xlb_ctx *c, int argc, char **argv)
{
	static const char use[] =
		"usage: xlb daemon --config FILE [--log-level error|warning|notice|info|debug]";
	struct daemon d;
	sigset_t set;
	uint64_t wdog_us = 0;
	int i, err, inst, rc = XLB_EXIT_OK;

	memset(&d, 0, sizeof(d));
	d.c = c;
	d.sig.fd = -1;
	d.fleet.watch_fd = d.fleet.an.nl.fd = d.fleet_io.fd = -1;
	d.loop.ep = d.loop.tfd = -1;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc && d.path)
			return xlb_usage(c, "daemon: --config given twice");
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			d.path = argv[++i];
		else if (!strcmp(argv[i], "--log-level") && i + 1 < argc &&
			 !xlb_log_level_parse(argv[i + 1], &xlb_log_max))
			i++;
		else
			return xlb_usage(c, "%s", use);
	}
	if (!d.path)
		return xlb_usage(c, "%s", use);
	xlb_log_init();
	d.started_s = (double)xlb_now_real_ns() / 1e9;
	xlb_heap_keep();
	if (getrandom(&d.rng, sizeof(d.rng), GRND_NONBLOCK) != sizeof(d.rng))
		d.rng = xlb_now_mono_ns();
	d.rng |= 1;
	d.m.lock_fd = d.m.dir_fd = -1;

	err = xlb_conf_load(d.path, &d.conf);
	if (err)
		return xlb_fail_rc(c, err);
	inst = instance_lock(c->pin_dir, d.conf.interface[0]);
	if (inst < 0) {
		xlb_conf_free(&d.conf);
		return xlb_fail_rc(c, inst);
	}
	err = open_maps(&d);
	if (err) {
		rc = xlb_fail_rc(c, err);
		xlb_conf_free(&d.conf);
		close(inst);
		return rc;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	signal(SIGPIPE, SIG_IGN);
	err = xlb_loop_init(&d.loop);
	if (!err && sigprocmask(SIG_BLOCK, &set, NULL))
		err = xlb_errf(-errno, "can't block signals: %s", strerror(errno));
	if (!err) {
		d.sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		d.sig.fn = on_signal;
		if (d.sig.fd < 0)
			err = xlb_errf(-errno, "can't create a signalfd: %s",
				       strerror(errno));
		else
			err = xlb_loop_add(&d.loop, &d.sig, EPOLLIN);
	}
	if (!err) {
		d.hooks = xlb_hooks_new(&d.loop, &d.conf);
		if (!d.hooks)
			err = xlb_errf(-ENOMEM, "out of memory");
	}
	xlb_timer_init(&d.t_sync, on_sync_timer);
	xlb_timer_init(&d.t_apply, on_apply_timer);
	xlb_timer_init(&d.t_watch, on_watch_timer);
	xlb_timer_init(&d.t_wdog, on_wdog_timer);
	xlb_timer_init(&d.t_fleet, on_fleet_timer);
	/* Before "started": a live state that matches serves nobody detached. */
	if (!err)
		err = watch_datapath(&d);
	if (!err)
		err = fleet_start(&d);
	if (!err)
		err = apply_config(&d, &d.conf, true);
	if (err) {
		sd_notifyf(0, "STATUS=failed: %s", xlb_errmsg());
		rc = xlb_fail_rc(c, err);
		goto out;
	}
	d.running = true;
	xlb_timer_arm(&d.loop, &d.t_sync, xlb_ms() + SYNC_MS);
	xlb_timer_arm(&d.loop, &d.t_watch, xlb_ms() + WATCH_MS);
	metrics_setup(&d);
	if (sd_watchdog_enabled(0, &wdog_us) > 0) {
		/* Twice per period, as sd_watchdog_enabled(3) advises. */
		d.wdog_ms = wdog_us / 2000 ? wdog_us / 2000 : 1;
		xlb_timer_arm(&d.loop, &d.t_wdog, xlb_ms());
	}
	sd_notify(0, "READY=1");
	d.ready = true;
	notify_status(&d, NULL);

	while (!d.stop) {
		err = xlb_loop_run_once(&d.loop, -1);
		if (err) {
			rc = xlb_fail_rc(c, err);
			break;
		}
		if (d.apply_due) {
			d.apply_due = false;
			apply_pending(&d);
			notify_status(&d, NULL);
		}
		if (d.reload && !d.stop)
			do_reload(&d);
		graveyard(&d);
	}
	if (d.exit_rc)
		rc = d.exit_rc;
out:
	xlb_fleet_stop(&d.fleet); /* fleet hook: withdraw everything */
	daemon_free(&d);
	close(inst);
	return rc;
}
