// SPDX-License-Identifier: GPL-2.0
/*
 * node.c - the node's readiness, its drain request and the daemon's side
 * of announcing (node.h).
 *
 * A node attracts traffic only while it can forward it the way every
 * other node would: the routes are withdrawn when its XDP program is not
 * the one using this pin directory's maps (detached, or replaced), while
 * it drains, and when its daemon stops, since nothing would then follow
 * the backends' health.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "host.h"
#include "metrics.h"
#include "node.h"
#include "util.h"
#include "xdpinfo.h"

const char *xlb_node_state_name(enum xlb_node_state s)
{
	switch (s) {
	case XLB_NODE_SERVING:
		return "serving";
	case XLB_NODE_DRAINING:
		return "draining";
	case XLB_NODE_DRAINED:
		return "drained";
	case XLB_NODE_UNREADY:
		return "unready";
	case XLB_NODE_STOPPED:
		return "stopped";
	}
	return "?";
}

static const char *run_dir(void)
{
	const char *d = getenv("XLB_RUN_DIR");

	return d && d[0] ? d : XLB_RUN_DIR_DEFAULT;
}

static int mkdir_p(char *path)
{
	char *s;

	for (s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*s = '/';
			return -errno;
		}
		*s = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int xlb_node_dir(const char *pin_dir, bool make, char *buf, size_t len)
{
	char name[256];
	size_t i, j = 0;
	int err;

	/* The pin directory's path with '/' as '-', as systemd names units. */
	for (i = 0; pin_dir[i] && j + 1 < sizeof(name); i++) {
		if (pin_dir[i] == '/') {
			if (j && name[j - 1] != '-' && pin_dir[i + 1])
				name[j++] = '-';
		} else {
			name[j++] = pin_dir[i];
		}
	}
	name[j] = '\0';
	if (!j ||
	    (size_t)snprintf(buf, len, "%s/node/%s", run_dir(), name) >= len)
		return xlb_errf(-ENAMETOOLONG, "no node directory for %s",
				pin_dir);
	if (make) {
		err = mkdir_p(buf);
		if (err)
			return xlb_errf(err, "can't create %s: %s", buf,
					strerror(-err));
	}
	return 0;
}

int xlb_node_drain_read(const char *pin_dir, struct xlb_drain_req *r)
{
	char dir[512], path[600];
	unsigned long long since = 0;
	unsigned int tmo = 0;
	FILE *f;
	int err;

	memset(r, 0, sizeof(*r));
	err = xlb_node_dir(pin_dir, false, dir, sizeof(dir));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", dir, XLB_NODE_DRAIN_FILE);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0
				       : xlb_errf(-errno, "can't read %s: %s",
						  path, strerror(errno));
	/* A file cut short still asks for a drain: it exists. */
	if (fscanf(f, "since_ns=%llu timeout_s=%u", &since, &tmo) < 1)
		since = 0;
	fclose(f);
	r->on = true;
	r->since_ns = since;
	r->timeout_s = tmo;
	return 0;
}

int xlb_node_drain_write(const char *pin_dir, const struct xlb_drain_req *r)
{
	char dir[512], path[600], tmp[620];
	FILE *f;
	int err;

	err = xlb_node_dir(pin_dir, true, dir, sizeof(dir));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", dir, XLB_NODE_DRAIN_FILE);
	if (!r->on) {
		if (unlink(path) && errno != ENOENT)
			return xlb_errf(-errno, "can't remove %s: %s", path,
					strerror(errno));
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return xlb_errf(-errno, "can't write %s: %s", tmp,
				strerror(errno));
	fprintf(f, "since_ns=%llu timeout_s=%u\n",
		(unsigned long long)r->since_ns, r->timeout_s);
	if (fflush(f) || fsync(fileno(f))) {
		err = -errno;
		fclose(f);
		unlink(tmp);
		return xlb_errf(err, "can't write %s: %s", tmp, strerror(-err));
	}
	fclose(f);
	if (rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return xlb_errf(err, "can't rename %s: %s", tmp,
				strerror(-err));
	}
	return 0;
}

/*
 * 0 when an XDP program using m's maps runs on ifname (any interface when
 * ifname is empty), its interface in dev; else -ENOENT with the reason.
 * xdpinfo.c finds it, as `xlb status` and the daemon's self-watch do.
 */
static int xdp_ours(const struct xlb_maps *m, const char *ifname, char *dev,
		    size_t len)
{
	struct xlb_xdp_info xi;
	int err;

	err = xlb_xdp_find(m, ifname[0] ? ifname : NULL, &xi);
	if (err)
		return err;
	if (xi.prog_id) {
		snprintf(dev, len, "%s", xi.dev);
		return 0;
	}
	if (xi.other[0])
		return xlb_errf(-ENOENT, "%s runs another XDP program (%s)",
				ifname, xi.other);
	if (ifname[0])
		return xlb_errf(-ENOENT, "no XDP program on %s", ifname);
	return xlb_errf(-ENOENT, "the XDP program is not attached");
}

/* ---- the daemon's side ----------------------------------------------------
 */

static void flog(const struct xlb_fleet *f, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void flog(const struct xlb_fleet *f, int prio, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (!f->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->log(prio, "%s", msg);
}

static void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, o);
	}
	fputc('"', o);
}

/* The state file: what `xlb node show` reports, written atomically. */
static void state_write(struct xlb_fleet *f)
{
	char dir[512], path[600], tmp[620], pb[XLB_ADDR_STRLEN];
	size_t i;
	FILE *o;

	if (xlb_node_dir(f->pin_dir, true, dir, sizeof(dir)))
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, XLB_NODE_STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	o = fopen(tmp, "we");
	if (!o)
		return;
	fprintf(o, "{\"pid\":%d,\"state\":\"%s\",\"why\":", (int)getpid(),
		xlb_node_state_name(f->state));
	json_str(o, f->why);
	fprintf(o, ",\"interface\":");
	json_str(o, f->dev);
	fprintf(o,
		",\"table\":%u,\"protocol\":%u,\"drain_timeout\":%u,\"conf_"
		"drain\":%s",
		f->table, f->proto, f->drain_timeout_s,
		f->conf_drain ? "true" : "false");
	fprintf(o, ",\"drain_since_ns\":%llu,\"drain_deadline_ns\":%llu",
		(unsigned long long)f->drain_since_ns,
		(unsigned long long)f->drain_deadline_ns);
	fprintf(o, ",\"changes\":%u,\"addresses\":[", f->an.changes);
	for (i = 0; i < f->an.n; i++) {
		const struct xlb_ann_addr *e = &f->an.a[i];

		xlb_addr_fmt(e->addr.family, e->addr.a, pb, sizeof(pb));
		fprintf(o,
			"%s{\"addr\":\"%s\",\"announced\":%s,\"servable\":%s,"
			"\"since_ns\":%llu,\"why\":",
			i ? "," : "", pb, e->announced ? "true" : "false",
			e->servable ? "true" : "false",
			(unsigned long long)e->since_ns);
		json_str(o, e->why);
		fputc('}', o);
	}
	fprintf(o, "]}\n");
	if (fclose(o) || rename(tmp, path))
		unlink(tmp);
}

/* Decides the node's state, then brings the routes in line with it. */
static void evaluate(struct xlb_fleet *f)
{
	enum xlb_node_state st = XLB_NODE_SERVING, was = f->state;
	__u64 now = xlb_now_real_ns();
	char why[sizeof(f->why)] = "";
	bool drain = f->req.on || f->conf_drain;

	if (!f->on)
		return;
	if (drain && !f->drain_since_ns) {
		__u32 tmo = f->req.on && f->req.timeout_s ? f->req.timeout_s
							  : f->drain_timeout_s;

		/* A drain asked for before a restart keeps its deadline. */
		f->drain_since_ns =
		    f->req.on && f->req.since_ns && f->req.since_ns <= now
			? f->req.since_ns
			: now;
		f->drain_deadline_ns =
		    f->drain_since_ns + (__u64)tmo * 1000000000ULL;
		flog(f, LOG_NOTICE,
		     "node draining (%s): withdrawing every VIP; forwarding "
		     "continues for %u s",
		     f->req.on ? "drain requested"
			       : "node.drain in the configuration",
		     tmo);
	} else if (!drain && f->drain_since_ns) {
		f->drain_since_ns = f->drain_deadline_ns = 0;
		flog(f, LOG_NOTICE, "node undrained: announcing again what it can serve");
	}
	if (f->stopping) {
		st = XLB_NODE_STOPPED;
		snprintf(why, sizeof(why), "the daemon is stopping");
	} else if (f->drain_since_ns) {
		st = now >= f->drain_deadline_ns ? XLB_NODE_DRAINED
						 : XLB_NODE_DRAINING;
		snprintf(why, sizeof(why), "the node is %s",
			 st == XLB_NODE_DRAINED ? "drained" : "draining");
	} else if (xdp_ours(f->m, f->ifname, f->dev, sizeof(f->dev))) {
		st = XLB_NODE_UNREADY;
		snprintf(why, sizeof(why), "%s", xlb_errmsg());
		f->dev[0] = '\0';
	} else if (!f->have_model) {
		st = XLB_NODE_UNREADY;
		snprintf(why, sizeof(why), "the configuration is not read yet");
	}
	f->state = st;
	snprintf(f->why, sizeof(f->why), "%s", why);
	if (st != was) {
		if (st == XLB_NODE_DRAINED)
			flog(f, LOG_NOTICE, "node drained: drain_timeout over; established "
				"flows had their time to move");
		else if (st == XLB_NODE_UNREADY)
			flog(f, LOG_WARNING, "node unready: %s", why);
		else if (st == XLB_NODE_SERVING && was == XLB_NODE_UNREADY)
			flog(f, LOG_NOTICE, "node ready: the XDP program runs on %s",
			     f->dev);
	}
	if (xlb_announce_update(&f->an, f->have_model ? &f->model : NULL,
				st == XLB_NODE_SERVING ? NULL : why))
		xlb_err_clear(); /* logged; tried again at the next tick */
	state_write(f);
}

static void read_request(struct xlb_fleet *f)
{
	struct xlb_drain_req r;

	if (xlb_node_drain_read(f->pin_dir, &r)) {
		flog(f, LOG_ERR, "%s", xlb_errmsg());
		return;
	}
	if (r.on != f->req.on || r.since_ns != f->req.since_ns ||
	    r.timeout_s != f->req.timeout_s) {
		/* A new request restarts the drain's clock. */
		if (r.on && f->req.on)
			f->drain_since_ns = 0;
		f->req = r;
	}
}

static int watch(struct xlb_fleet *f)
{
	char dir[512];
	int err;

	err = xlb_node_dir(f->pin_dir, true, dir, sizeof(dir));
	if (err)
		return err;
	f->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->watch_fd < 0)
		return xlb_errf(-errno, "can't create an inotify: %s",
				strerror(errno));
	if (inotify_add_watch(f->watch_fd, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				  IN_DELETE | IN_CREATE) < 0) {
		err = xlb_errf(-errno, "can't watch %s: %s", dir,
			       strerror(errno));
		close(f->watch_fd);
		f->watch_fd = -1;
	}
	return err;
}

static void take_conf(struct xlb_fleet *f, const struct xlb_conf *conf)
{
	snprintf(f->ifname, sizeof(f->ifname), "%s", conf->interface);
	f->conf_drain = conf->node.drain;
	f->drain_timeout_s = conf->node.drain_timeout_s;
}

int xlb_fleet_start(struct xlb_fleet *f, const char *pin_dir,
		    const struct xlb_maps *m, const struct xlb_conf *conf,
		    xlb_ann_log_fn log)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->an.nl.fd = -1;
	f->watch_fd = -1;
	f->pin_dir = pin_dir;
	f->m = m;
	f->log = log;
	take_conf(f, conf);
	if (!conf->node.announce)
		return 0;
	f->table = conf->node.table;
	f->proto = conf->node.proto;
	f->state = XLB_NODE_UNREADY;
	err = xlb_announce_init(&f->an, f->table, f->proto, log);
	if (!err)
		err = watch(f);
	if (err) {
		xlb_announce_fini(&f->an);
		return err;
	}
	f->on = true;
	read_request(f);
	flog(f, LOG_INFO, "announcing VIPs through routing table %u, protocol %u",
	     f->table, f->proto);
	return 0;
}

int xlb_fleet_configure(struct xlb_fleet *f, const struct xlb_conf *conf)
{
	const struct xlb_node_conf *n = &conf->node;
	int err;

	take_conf(f, conf);
	if (f->on &&
	    (!n->announce || n->table != f->table || n->proto != f->proto)) {
		xlb_announce_withdraw_all(
		    &f->an, n->announce
				? "announcing through another table now"
				: "announce removed from the configuration");
		xlb_err_clear();
		state_write(f);
		xlb_announce_fini(&f->an);
		f->on = false;
	}
	if (!f->on && n->announce) {
		f->table = n->table;
		f->proto = n->proto;
		err = xlb_announce_init(&f->an, f->table, f->proto, f->log);
		if (!err && f->watch_fd < 0)
			err = watch(f);
		if (err)
			return err;
		f->on = true;
		flog(f, LOG_INFO, "announcing VIPs through routing table %u, protocol %u",
		     f->table, f->proto);
	}
	read_request(f);
	evaluate(f);
	return 0;
}

void xlb_fleet_model(struct xlb_fleet *f, const struct xlb_model *md)
{
	struct xlb_model cp;

	/* Kept without announce too: a reload that adds it evaluates this. */
	if (xlb_model_copy(md, &cp)) {
		flog(f, LOG_ERR, "out of memory: announcements not re-evaluated");
		return;
	}
	if (f->have_model)
		xlb_model_free(&f->model);
	f->model = cp;
	f->have_model = true;
	evaluate(f); /* nothing without announce */
}

void xlb_fleet_tick(struct xlb_fleet *f)
{
	if (!f->on)
		return;
	read_request(f);
	evaluate(f);
	if (xlb_announce_verify(&f->an)) {
		flog(f, LOG_ERR, "%s", xlb_errmsg());
		xlb_err_clear();
	}
}

void xlb_fleet_watch_event(struct xlb_fleet *f)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool drain = false;
	ssize_t n, i;

	/*
	 * Only the drain file matters: the daemon's own state file lives in
	 * the same directory, and reacting to its writes would loop.
	 */
	while (f->watch_fd >= 0 &&
	       (n = read(f->watch_fd, buf, sizeof(buf))) > 0)
		for (i = 0; i + (ssize_t)sizeof(*ev) <= n;
		     i += (ssize_t)(sizeof(*ev) + ev->len)) {
			ev = (const struct inotify_event *)(buf + i);
			if (ev->len && !strcmp(ev->name, XLB_NODE_DRAIN_FILE))
				drain = true;
		}
	if (!f->on || !drain)
		return;
	read_request(f);
	evaluate(f);
}

void xlb_fleet_signal_drain(struct xlb_fleet *f, bool drain)
{
	struct xlb_drain_req r = {.on = drain, .since_ns = xlb_now_real_ns()};

	if (!f->on) {
		/* Draining means withdrawing routes: without them, nothing. */
		flog(f, LOG_WARNING, "%s ignored: no announce in the configuration",
		     drain ? "SIGUSR1 (drain)" : "SIGUSR2 (undrain)");
		return;
	}
	flog(f, LOG_NOTICE, "%s: %s", drain ? "SIGUSR1" : "SIGUSR2",
	     drain ? "draining the node" : "undraining the node");
	if (xlb_node_drain_write(f->pin_dir, &r)) {
		flog(f, LOG_ERR, "%s", xlb_errmsg());
		xlb_err_clear();
		return;
	}
	read_request(f);
	evaluate(f);
}

/* One gauge per announced address: announced, or servable. */
static void addr_gauge(const struct xlb_fleet *f, FILE *out, const char *name,
		       const char *help, bool servable)
{
	char ab[XLB_ADDR_STRLEN];
	size_t i;

	xlb_metric_head(out, name, "gauge", help);
	for (i = 0; i < f->an.n; i++) {
		const struct xlb_ann_addr *e = &f->an.a[i];

		xlb_addr_fmt(e->addr.family, e->addr.a, ab, sizeof(ab));
		fprintf(out, "%s{addr=\"%s\"} %d\n", name, ab,
			(int)(servable ? e->servable : e->announced));
	}
}

void xlb_fleet_metrics(const struct xlb_fleet *f, FILE *out)
{
	int s;

	if (!f->on)
		return;
	xlb_metric_head(out, "xlb_node_state", "gauge",
			"The node in its fleet: 1 for its state (serving, draining, drained, unready, stopped).");
	for (s = XLB_NODE_SERVING; s <= XLB_NODE_STOPPED; s++)
		fprintf(out, "xlb_node_state{state=\"%s\"} %d\n",
			xlb_node_state_name((enum xlb_node_state)s), (int)f->state == s);
	addr_gauge(f, out, "xlb_vip_announced",
		   "Whether the VIP address's route is in the announce table (1) or withdrawn (0).",
		   false);
	addr_gauge(f, out, "xlb_vip_servable",
		   "Whether a VIP at the address has a usable backend.", true);
	xlb_metric_head(out, "xlb_announce_changes_total", "counter",
			"Announcements and withdrawals the daemon made.");
	fprintf(out, "xlb_announce_changes_total %u\n", f->an.changes);
}

void xlb_fleet_stop(struct xlb_fleet *f)
{
	if (f->on) {
		f->stopping = true;
		evaluate(f);
		xlb_announce_fini(&f->an);
	}
	if (f->have_model)
		xlb_model_free(&f->model);
	f->have_model = false;
	if (f->watch_fd >= 0)
		close(f->watch_fd);
	f->watch_fd = -1;
	f->on = false;
}
