// SPDX-License-Identifier: GPL-2.0
/*
 * conf.c - configuration files (libconfig syntax, format in conf.h):
 * parsing with every value checked and located ("FILE:LINE: reason"),
 * writing (what `xlb save` prints), and merging a file over the live model.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "metrics.h"
#include "table.h"
#include "util.h"
#include "xlb_hash.h"

#define NS_PER_S 1000000000ULL
#define CONF_MAX_BYTES (64U << 20)
#define CHECK_MAX_MS (3600U * 1000U) /* interval and timeout */
#define CHECK_MAX_COUNT 1000U /* rise and fall */
#define SLOW_START_MAX_S 86400U
#define DRAIN_MAX_S (86400U * 365U)
#define FLOW_TIMEOUT_MAX_NS (86400ULL * 365 * NS_PER_S)
#define INCLUDE_MAX_DEPTH 10 /* libconfig's own limit */
#define NOTIFY_MAX_ARGS 64
#define NOTIFY_TIMEOUT_MS 10000U

struct pctx {
	const char *name; /* file name for messages */
	unsigned int last_line; /* where the text ends */
	char dir[4096]; /* includes are relative to it; "" refuses them */
};

/*
 * The file setting s comes from: libconfig names an included file as the
 * @include line wrote it, relative to the including file's directory.
 */
static const char *src_name(const struct pctx *p, const char *file, char *buf,
			    size_t len)
{
	if (!file)
		return p->name;
	if (!strcmp(p->dir, "."))
		return file;
	snprintf(buf, len, "%s/%s", p->dir, file);
	return buf;
}

/* Records "NAME:LINE: reason" for setting s and returns -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
perr(const struct pctx *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[400], nb[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xlb_errf(-EINVAL, "%s:%u: %s",
			src_name(p, s ? config_setting_source_file(s) : NULL,
				 nb, sizeof(nb)),
			s ? config_setting_source_line(s) : 0, msg);
}

/* The message a library parser recorded, copied (perr overwrites it). */
static const char *libmsg(char *buf, size_t len)
{
	snprintf(buf, len, "%s", xlb_errmsg());
	return buf;
}

static int only_keys(const struct pctx *p, const config_setting_t *g,
		     const char *const *keys, const char *where)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(e);
		const char *const *k;

		for (k = keys; name && *k; k++)
			if (!strcmp(*k, name))
				break;
		if (!name || !*k)
			return perr(p, e, "unknown setting '%s'%s", name ? name : "?",
				    where);
	}
	return 0;
}

static int get_str(const struct pctx *p, const config_setting_t *s,
		   const char *what, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return perr(p, s, "%s must be a string", what);
	*out = config_setting_get_string(s);
	return 0;
}

static int get_int(const struct pctx *p, const config_setting_t *s,
		   const char *what, long long min, long long max, long long *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return perr(p, s, "%s must be an integer", what);
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return perr(p, s, "%s %lld out of range %lld-%lld", what, v, min,
			    max);
	*out = v;
	return 0;
}

static int get_u32(const struct pctx *p, const config_setting_t *s,
		   const char *what, __u32 min, __u32 max, __u32 *out)
{
	long long v = 0;
	int err = get_int(p, s, what, min, max, &v);

	if (!err)
		*out = (__u32)v;
	return err;
}

/* A duration in seconds, integer or decimal, in [min, max] seconds. */
static int get_secs(const struct pctx *p, const config_setting_t *s,
		    const char *what, double min, double max, double *out)
{
	double v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		return perr(p, s, "%s must be a number of seconds", what);
	}
	if (!isfinite(v) || v < min || v > max)
		return perr(p, s, "%s out of range %g-%g s", what, min, max);
	*out = v;
	return 0;
}

static int get_ms(const struct pctx *p, const config_setting_t *s,
		  const char *what, __u32 *out)
{
	double v;

	if (get_secs(p, s, what, 0.001, CHECK_MAX_MS / 1000.0, &v))
		return -EINVAL;
	*out = (__u32)llround(v * 1000);
	return 0;
}

/*
 * Nanoseconds from seconds. Below 10^6 s a double holds every nanosecond
 * of a decimal written with 9 places; above, milliseconds are kept, so
 * that what xlb_conf_write prints reads back the same.
 */
static int get_ns(const struct pctx *p, const config_setting_t *s,
		  const char *what, __u64 *out)
{
	double v;

	if (get_secs(p, s, what, 0.001, (double)(FLOW_TIMEOUT_MAX_NS / NS_PER_S),
		     &v))
		return -EINVAL;
	if (v < 1e6)
		*out = (__u64)llround(v * 1e9);
	else
		*out = (__u64)llround(v * 1e3) * 1000000ULL;
	return 0;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '/' || s[i] == ':' ||
		    s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static bool path_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= sizeof(((struct xlb_check *)0)->path) || s[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static const char *check_name(enum xlb_check_type t)
{
	switch (t) {
	case XLB_CHECK_TCP:
		return "tcp";
	case XLB_CHECK_HTTP:
		return "http";
	case XLB_CHECK_HTTPS:
		return "https";
	default:
		return "none";
	}
}

/*
 * What an operator coming from keepalived or ipvsadm guesses: a TCP
 * service is checked by connecting to it (HTTP only when asked for, since
 * not every TCP service speaks HTTP, let alone has /health); a UDP one
 * has no connection to make, so it is not checked.
 */
void xlb_check_defaults(struct xlb_check *c, __u8 proto)
{
	memset(c, 0, sizeof(*c));
	c->type = proto == IPPROTO_TCP ? XLB_CHECK_TCP : XLB_CHECK_NONE;
	snprintf(c->path, sizeof(c->path), "/health");
	c->interval_ms = 5000;
	c->timeout_ms = 3000;
	c->rise = 2;
	c->fall = 3;
	c->expect[0].lo = 200;
	c->expect[0].hi = 299;
	c->n_expect = 1;
	c->verify = true;
}

bool xlb_check_status_ok(const struct xlb_check *c, unsigned int status)
{
	__u32 i;

	for (i = 0; i < c->n_expect; i++)
		if (status >= c->expect[i].lo && status <= c->expect[i].hi)
			return true;
	return false;
}

/* Printable ASCII without quotes or backslashes, spaces if allowed. */
static bool text_ok(const char *s, size_t max, bool spaces)
{
	size_t n = strlen(s), i;

	if (!n || n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < ' ' || s[i] > '~' || (!spaces && s[i] == ' ') ||
		    s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/* One element of expect: 204, "204" or "200-399". */
static int parse_status(const struct pctx *p, const config_setting_t *e,
			struct xlb_status_range *r)
{
	unsigned int lo, hi;
	const char *s;
	char tail;
	long long v = 0;

	if (config_setting_type(e) == CONFIG_TYPE_STRING) {
		s = config_setting_get_string(e);
		if (sscanf(s, "%3u-%3u%c", &lo, &hi, &tail) == 2) {
		} else if (sscanf(s, "%3u%c", &lo, &tail) == 1) {
			hi = lo;
		} else {
			return perr(p, e,
				    "invalid status '%s' in expect (want 200, \"200\" or \"200-399\")",
				    s);
		}
		if (lo < 100 || hi > 599 || lo > hi)
			return perr(p, e,
				    "invalid status range '%s' in expect (100-599, low to high)",
				    s);
	} else {
		if (get_int(p, e, "expected status", 100, 599, &v))
			return -EINVAL;
		lo = hi = (unsigned int)v;
	}
	r->lo = (__u16)lo;
	r->hi = (__u16)hi;
	return 0;
}

static int parse_expect(const struct pctx *p, const config_setting_t *e,
			struct xlb_check *c)
{
	int i, n;

	/* Replaces the list it starts from (a VIP's, under an override). */
	memset(c->expect, 0, sizeof(c->expect));
	if (!config_setting_is_aggregate(e) || config_setting_is_group(e)) {
		c->n_expect = 1;
		return parse_status(p, e, &c->expect[0]);
	}
	n = config_setting_length(e);
	if (n < 1 || n > XLB_CHECK_MAX_EXPECT)
		return perr(p, e, "expect wants 1 to %d statuses or ranges",
			    XLB_CHECK_MAX_EXPECT);
	c->n_expect = (__u32)n;
	for (i = 0; i < n; i++)
		if (parse_status(p, config_setting_get_elem(e, (unsigned)i),
				 &c->expect[i]))
			return -EINVAL;
	return 0;
}

/* A string setting of a check that text_ok accepts, copied to buf. */
static int get_check_str(const struct pctx *p, const config_setting_t *e,
			 const char *what, const char *want, bool spaces,
			 char *buf, size_t len)
{
	const char *s = NULL;

	if (get_str(p, e, what, &s))
		return -EINVAL;
	if (!text_ok(s, len, spaces))
		return perr(p, e, "invalid %s '%s' (want %s, printable, under %zu bytes)",
			    what, s, want, len);
	snprintf(buf, len, "%s", s);
	return 0;
}

/*
 * A check group over c: what it leaves out keeps c's value, so a
 * backend's check starts from its VIP's and a VIP's from the defaults.
 */
static int parse_check(const struct pctx *p, const config_setting_t *g,
		       struct xlb_check *c)
{
	static const char *const keys[] = { "type", "port", "path", "interval",
					     "timeout", "rise", "fall", "host",
					     "expect", "body", "verify", "ca",
					     NULL };
	const config_setting_t *e, *tmo;
	const char *s = NULL;
	__u32 v;
	int err;

	if (!config_setting_is_group(g))
		return perr(p, g, "check must be a group { ... }");
	err = only_keys(p, g, keys, " in check");
	if (err)
		return err;
	if ((e = config_setting_get_member(g, "type"))) {
		if (get_str(p, e, "check type", &s))
			return -EINVAL;
		if (!strcmp(s, "tcp"))
			c->type = XLB_CHECK_TCP;
		else if (!strcmp(s, "http"))
			c->type = XLB_CHECK_HTTP;
		else if (!strcmp(s, "https"))
			c->type = XLB_CHECK_HTTPS;
		else if (!strcmp(s, "none"))
			c->type = XLB_CHECK_NONE;
		else
			return perr(p, e, "invalid check type '%s' (want tcp, http, https or none)",
				    s);
	}
	if ((e = config_setting_get_member(g, "port"))) {
		if (get_u32(p, e, "check port", 0, 65535, &v))
			return -EINVAL;
		c->port = (__u16)v;
	}
	if ((e = config_setting_get_member(g, "path"))) {
		if (get_str(p, e, "check path", &s))
			return -EINVAL;
		if (!path_ok(s))
			return perr(p, e,
				    "invalid check path '%s' (want /..., printable, no spaces, under %zu bytes)",
				    s, sizeof(c->path));
		snprintf(c->path, sizeof(c->path), "%s", s);
	}
	if ((e = config_setting_get_member(g, "host"))) {
		if (get_check_str(p, e, "check host", "a host name", false,
				  c->host, sizeof(c->host)))
			return -EINVAL;
		/* It goes into a URL: a port or a path would change the URL. */
		if (strpbrk(c->host, ":/?#@[]%"))
			return perr(p, e, "invalid check host '%s' (want a host name, without port or path: the port is the check's)",
				    c->host);
	}
	if ((e = config_setting_get_member(g, "body")) &&
	    get_check_str(p, e, "check body", "text to find", true, c->body,
			  sizeof(c->body)))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "ca")) &&
	    get_check_str(p, e, "check ca", "a file name", false, c->ca,
			  sizeof(c->ca)))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "expect")) && parse_expect(p, e, c))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "verify"))) {
		if (config_setting_type(e) != CONFIG_TYPE_BOOL)
			return perr(p, e, "check verify must be true or false");
		c->verify = config_setting_get_bool(e);
	}
	if ((e = config_setting_get_member(g, "interval")) &&
	    get_ms(p, e, "check interval", &c->interval_ms))
		return -EINVAL;
	if ((tmo = config_setting_get_member(g, "timeout")) &&
	    get_ms(p, tmo, "check timeout", &c->timeout_ms))
		return -EINVAL;
	if (!tmo && c->timeout_ms >= c->interval_ms)
		c->timeout_ms = c->interval_ms / 2 ? c->interval_ms / 2 : 1;
	if (c->timeout_ms >= c->interval_ms)
		return perr(p, tmo ? tmo : g,
			    "check timeout %u.%03u s must be less than the interval %u.%03u s",
			    c->timeout_ms / 1000, c->timeout_ms % 1000,
			    c->interval_ms / 1000, c->interval_ms % 1000);
	if ((e = config_setting_get_member(g, "rise")) &&
	    get_u32(p, e, "check rise", 1, CHECK_MAX_COUNT, &c->rise))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "fall")) &&
	    get_u32(p, e, "check fall", 1, CHECK_MAX_COUNT, &c->fall))
		return -EINVAL;
	/* Settings of another type would be silently ignored. */
	if (c->type != XLB_CHECK_HTTPS &&
	    ((e = config_setting_get_member(g, "verify")) ||
	     (e = config_setting_get_member(g, "ca"))))
		return perr(p, e, "%s is for type \"https\" checks only",
			    config_setting_name(e));
	if (c->type != XLB_CHECK_HTTP && c->type != XLB_CHECK_HTTPS &&
	    ((e = config_setting_get_member(g, "host")) ||
	     (e = config_setting_get_member(g, "expect")) ||
	     (e = config_setting_get_member(g, "body"))))
		return perr(p, e, "%s is for type \"http\" and \"https\" checks only",
			    config_setting_name(e));
	return 0;
}

static int add_be_conf(struct xlb_vip_conf *vc, const struct xlb_addr *a,
		       bool has_state, bool has_ramp, const struct xlb_check *ck)
{
	struct xlb_be_conf *b = realloc(vc->be, (vc->n_be + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	vc->be = b;
	b = &vc->be[vc->n_be++];
	memset(b, 0, sizeof(*b));
	b->addr = *a;
	b->has_state = has_state;
	b->has_ramp = has_ramp;
	b->has_check = ck != NULL;
	if (ck)
		b->check = *ck;
	return 0;
}

static int parse_backend(const struct pctx *p, const config_setting_t *g,
			 struct xlb_vip_ent *v, struct xlb_vip_conf *vc)
{
	static const char *const keys[] = { "addr", "weight", "state", "ramp",
					    "check", NULL };
	const config_setting_t *e, *ae;
	char ab[XLB_ADDR_STRLEN], vb[XLB_VIP_STRLEN], msg[256];
	struct xlb_be_ent *b;
	struct xlb_addr a, va;
	__u32 weight = 1, state = XLB_BE_UP, ramp = XLB_RAMP_FULL;
	bool has_state = false, has_ramp = false;
	struct xlb_check ck;
	const char *s = NULL;
	int err;

	if (!config_setting_is_group(g))
		return perr(p, g, "backend must be a group { addr = ...; }");
	err = only_keys(p, g, keys, " in backend");
	if (err)
		return err;
	ae = config_setting_get_member(g, "addr");
	if (!ae)
		return perr(p, g, "backend without 'addr'");
	if (get_str(p, ae, "backend addr", &s))
		return -EINVAL;
	if (xlb_addr_parse(s, &a) || xlb_addr_check_unicast(&a, "backend"))
		return perr(p, ae, "%s", libmsg(msg, sizeof(msg)));
	/* Sent to its own VIP, a packet would come back to the balancer. */
	xlb_addr_from_vip(&v->key, &va);
	if (!xlb_addr_cmp(&a, &va)) {
		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		return perr(p, ae, "backend %s is the address of its VIP %s", s,
			    vb);
	}
	if ((e = config_setting_get_member(g, "weight")) &&
	    get_u32(p, e, "weight", 0, XLB_WEIGHT_MAX, &weight))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "state"))) {
		if (get_str(p, e, "state", &s))
			return -EINVAL;
		if (xlb_state_parse(s, &state))
			return perr(p, e, "%s", libmsg(msg, sizeof(msg)));
		has_state = true;
	}
	if ((e = config_setting_get_member(g, "ramp"))) {
		if (get_u32(p, e, "ramp", 0, XLB_RAMP_FULL, &ramp))
			return -EINVAL;
		has_ramp = true;
	}
	/* One backend on another port, or behind another name, say. */
	e = config_setting_get_member(g, "check");
	ck = vc->check;
	if (e && parse_check(p, e, &ck))
		return -EINVAL;
	err = xlb_model_be_add(v, &a, weight, &b);
	if (err == -EEXIST) {
		xlb_addr_fmt(a.family, a.a, ab, sizeof(ab));
		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		return perr(p, ae, "duplicate backend %s in VIP %s", ab, vb);
	}
	if (err)
		return err;
	b->state = state;
	b->ramp = ramp;
	if (state == XLB_BE_DRAIN)
		b->drain_deadline_ns =
			b->since_ns + (__u64)vc->drain_timeout_s * NS_PER_S;
	return add_be_conf(vc, &a, has_state, has_ramp, e ? &ck : NULL);
}

static int parse_prefixes(const struct pctx *p, const config_setting_t *e,
			  struct xlb_vip_ent *v)
{
	__u32 v4, v6;

	if ((!config_setting_is_array(e) && !config_setting_is_list(e)) ||
	    config_setting_length(e) != 2)
		return perr(p, e, "src_prefix must be [V4LEN, V6LEN]");
	if (get_u32(p, config_setting_get_elem(e, 0), "IPv4 source prefix", 0, 32,
		    &v4) ||
	    get_u32(p, config_setting_get_elem(e, 1), "IPv6 source prefix", 0, 128,
		    &v6))
		return -EINVAL;
	v->v4_prefix = (__u8)v4;
	v->v6_prefix = (__u8)v6;
	return 0;
}

/* Validates one VIP alone, so that errors point at its line. */
static int validate_vip(const struct pctx *p, const config_setting_t *g,
			const struct xlb_conf *c, struct xlb_vip_ent *v)
{
	struct xlb_model one = { .cfg = c->model.cfg, .vips = v, .n_vips = 1 };
	char msg[400];

	/* Sources may come from the live config (xlb_conf_merge). */
	if (!c->has_src4)
		one.cfg.src4 = htonl(1);
	if (!c->has_src6)
		one.cfg.src6[3] = htonl(1);
	if (xlb_model_validate(&one))
		return perr(p, g, "%s", libmsg(msg, sizeof(msg)));
	return 0;
}

/*
 * table_snapshot (and table_digest): the snapshot file, relative to the
 * configuration's directory, decoded and checked against the VIP.
 */
static int parse_snapshot(const struct pctx *p, const config_setting_t *g,
			  const config_setting_t *e,
			  const struct xlb_vip_ent *v, struct xlb_vip_conf *vc)
{
	const config_setting_t *de = config_setting_get_member(g, "table_digest");
	const char *path = NULL, *dig = NULL, *slash;
	char full[4096], *end;
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	unsigned long long want = 0;
	FILE *f;
	int err;

	if (get_str(p, e, "table_snapshot", &path))
		return -EINVAL;
	if (v->algo != XLB_ALGO_STABLE)
		return perr(p, e, "table_snapshot is for algo \"stable\" only");
	if (de) {
		if (get_str(p, de, "table_digest", &dig))
			return -EINVAL;
		errno = 0;
		want = strtoull(dig, &end, 16);
		if (errno || !*dig || *end || strlen(dig) != 16)
			return perr(p, de, "table_digest must be 16 hex digits");
	}
	slash = strrchr(p->name, '/');
	if (path[0] != '/' && slash)
		snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - p->name),
			 p->name, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	f = fopen(full, "rb");
	if (!f)
		return perr(p, e, "can't open table snapshot %s: %s", full,
			    strerror(errno));
	for (;;) {
		size_t r;

		if (len == cap) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 1 << 16);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 1 << 16;
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	vc->snap = calloc(1, sizeof(*vc->snap));
	if (!err && !vc->snap)
		err = -ENOMEM;
	if (!err)
		err = xlb_snapshot_decode(buf, len, vc->snap);
	free(buf);
	if (err) {
		free(vc->snap);
		vc->snap = NULL;
		return perr(p, e, "table snapshot %s is not a snapshot (%s)",
			    full, strerror(-err));
	}
	if (vc->snap->size != v->table_size)
		return perr(p, e, "table snapshot %s is of %u slots, the VIP's table of %u",
			    full, vc->snap->size, v->table_size);
	if (de && xlb_snapshot_digest(vc->snap) != want)
		return perr(p, de,
			    "table snapshot %s has digest %016llx, not this file's: it is another save's (older or newer)",
			    full, (unsigned long long)xlb_snapshot_digest(vc->snap));
	return 0;
}

static void argv_free(char **argv)
{
	char **a;

	for (a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

/*
 * A hook's argv: a list of strings, run without a shell, so the program
 * is an absolute path (no PATH search in the daemon's environment).
 */
static int parse_argv(const struct pctx *p, const config_setting_t *e,
		      const char *what, char ***out)
{
	int i, n = config_setting_length(e);
	char **argv;

	if (!config_setting_is_array(e) && !config_setting_is_list(e))
		return perr(p, e, "%s must be a list of strings [\"/path/prog\", \"arg\", ...]",
			    what);
	if (n < 1 || n > NOTIFY_MAX_ARGS)
		return perr(p, e, "%s needs 1 to %d strings (the program, then its arguments)",
			    what, NOTIFY_MAX_ARGS);
	for (i = 0; i < n; i++) {
		const config_setting_t *a = config_setting_get_elem(e, (unsigned)i);

		if (config_setting_type(a) != CONFIG_TYPE_STRING)
			return perr(p, a, "%s must be a list of strings", what);
	}
	if (config_setting_get_string_elem(e, 0)[0] != '/')
		return perr(p, e, "%s: '%s' is not an absolute path (hooks run without a shell or PATH)",
			    what, config_setting_get_string_elem(e, 0));
	argv = calloc((size_t)n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		argv[i] = strdup(config_setting_get_string_elem(e, i));
		if (!argv[i]) {
			argv_free(argv);
			return -ENOMEM;
		}
	}
	*out = argv;
	return 0;
}

static int parse_vip(const struct pctx *p, const config_setting_t *g,
		     struct xlb_conf *c)
{
	static const char *const keys[] = { "vip", "algo", "table_size", "fwd",
					    "src_prefix", "check", "slow_start",
					    "drain_timeout", "backends",
					    "table_snapshot", "table_digest",
					    "notify_up", "notify_down",
					    "notify_timeout", NULL };
	const config_setting_t *e, *ve, *se, *bes;
	struct xlb_vip_conf *vc;
	struct xlb_vip_ent *v;
	struct xlb_vip_key k;
	struct xlb_addr a;
	char msg[256];
	enum xlb_algo algo;
	const char *s = NULL;
	int err, i, n;

	if (!config_setting_is_group(g))
		return perr(p, g, "VIP must be a group { vip = ...; }");
	err = only_keys(p, g, keys, " in VIP");
	if (err)
		return err;
	ve = config_setting_get_member(g, "vip");
	if (!ve)
		return perr(p, g, "VIP without 'vip'");
	if (get_str(p, ve, "vip", &s))
		return -EINVAL;
	if (xlb_vip_parse(s, &k))
		return perr(p, ve, "%s", libmsg(msg, sizeof(msg)));
	xlb_addr_from_vip(&k, &a);
	if (xlb_addr_check_unicast(&a, "VIP"))
		return perr(p, ve, "%s", libmsg(msg, sizeof(msg)));
	err = xlb_model_vip_add(&c->model, &k, &v);
	if (err == -EEXIST)
		return perr(p, ve, "duplicate VIP %s", s);
	if (err)
		return err;
	vc = realloc(c->vips, c->model.n_vips * sizeof(*vc));
	if (!vc)
		return -ENOMEM;
	c->vips = vc;
	vc = &c->vips[c->model.n_vips - 1];
	memset(vc, 0, sizeof(*vc));
	vc->key = k;
	xlb_check_defaults(&vc->check, k.proto);
	vc->drain_timeout_s = 300;

	if ((e = config_setting_get_member(g, "algo"))) {
		if (get_str(p, e, "algo", &s))
			return -EINVAL;
		if (xlb_algo_parse(s, &algo))
			return perr(p, e,
				    "invalid algorithm '%s' (want maglev, stable, ring, rendezvous or modulo)",
				    s);
		v->algo = (__u8)algo;
	}
	se = config_setting_get_member(g, "table_size");
	if (se && get_u32(p, se, "table_size", 1, XLB_TABLE_SIZE_MAX,
			  &v->table_size))
		return -EINVAL;
	if (xlb_table_size_check((enum xlb_algo)v->algo, v->table_size))
		return perr(p, se ? se : g, "table size %u is not usable by %s%s",
			    v->table_size, xlb_algo_name((enum xlb_algo)v->algo),
			    v->algo == XLB_ALGO_MAGLEV ||
					    v->algo == XLB_ALGO_STABLE ?
				    " (needs a prime)" : "");
	if ((e = config_setting_get_member(g, "table_snapshot"))) {
		err = parse_snapshot(p, g, e, v, vc);
		if (err)
			return err;
	} else if (config_setting_get_member(g, "table_digest")) {
		return perr(p, g, "table_digest without table_snapshot");
	}
	if ((e = config_setting_get_member(g, "fwd"))) {
		if (get_str(p, e, "fwd", &s))
			return -EINVAL;
		if (xlb_fwd_parse(s, &v->fwd))
			return perr(p, e, "%s", libmsg(msg, sizeof(msg)));
	}
	if ((e = config_setting_get_member(g, "src_prefix")) &&
	    parse_prefixes(p, e, v))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "check")) &&
	    parse_check(p, e, &vc->check))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "slow_start")) &&
	    get_u32(p, e, "slow_start", 0, SLOW_START_MAX_S, &vc->slow_start_s))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "drain_timeout")) &&
	    get_u32(p, e, "drain_timeout", 0, DRAIN_MAX_S, &vc->drain_timeout_s))
		return -EINVAL;
	vc->notify_timeout_ms = NOTIFY_TIMEOUT_MS;
	if ((e = config_setting_get_member(g, "notify_up")) &&
	    parse_argv(p, e, "notify_up", &vc->notify_up))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "notify_down")) &&
	    parse_argv(p, e, "notify_down", &vc->notify_down))
		return -EINVAL;
	if ((e = config_setting_get_member(g, "notify_timeout")) &&
	    get_ms(p, e, "notify_timeout", &vc->notify_timeout_ms))
		return -EINVAL;

	bes = config_setting_get_member(g, "backends");
	if (bes) {
		if (!config_setting_is_list(bes) &&
		    !(config_setting_is_array(bes) && !config_setting_length(bes)))
			return perr(p, bes, "backends must be a list ( { addr = ...; }, ... )");
		n = config_setting_length(bes);
		for (i = 0; i < n; i++) {
			err = parse_backend(p, config_setting_get_elem(bes, (unsigned)i),
					    v, vc);
			if (err)
				return err;
		}
	}
	return validate_vip(p, g, c, v);
}

/* announce = { table; protocol; }; node = { drain; drain_timeout; }; */
static int parse_node(const struct pctx *p, const config_setting_t *root,
		      struct xlb_node_conf *n)
{
	static const char *const akeys[] = { "table", "protocol", NULL };
	static const char *const nkeys[] = { "drain", "drain_timeout", NULL };
	const config_setting_t *g, *e;
	__u32 v;

	n->table = 100;
	n->proto = 251;
	n->drain_timeout_s = 60;
	if ((g = config_setting_get_member(root, "announce"))) {
		if (!config_setting_is_group(g))
			return perr(p, g, "announce must be a group { table = N; }");
		if (only_keys(p, g, akeys, " in announce"))
			return -EINVAL;
		/*
		 * 0 is no table, 253 and 255 the kernel's default and local.
		 * 254 (main) is for routing daemons that only redistribute
		 * main (FRR 8's IPv6): XDP takes the VIP's packets first, so
		 * the blackhole only catches the node's own.
		 */
		if ((e = config_setting_get_member(g, "table"))) {
			if (get_u32(p, e, "announce.table", 1, 254, &n->table))
				return -EINVAL;
			if (n->table == 253)
				return perr(p, e, "announce.table 253 is the kernel's default table");
		}
		/* Up to 4 belong to the kernel (its own routes, static). */
		if ((e = config_setting_get_member(g, "protocol"))) {
			if (get_u32(p, e, "announce.protocol", 5, 255, &v))
				return -EINVAL;
			n->proto = (__u8)v;
		}
		n->announce = true;
	}
	if ((g = config_setting_get_member(root, "node"))) {
		if (!config_setting_is_group(g))
			return perr(p, g, "node must be a group { drain = false; }");
		if (only_keys(p, g, nkeys, " in node"))
			return -EINVAL;
		if ((e = config_setting_get_member(g, "drain"))) {
			if (config_setting_type(e) != CONFIG_TYPE_BOOL)
				return perr(p, e, "node.drain must be true or false");
			n->drain = config_setting_get_bool(e);
		}
		if ((e = config_setting_get_member(g, "drain_timeout")) &&
		    get_u32(p, e, "node.drain_timeout", 0, DRAIN_MAX_S,
			    &n->drain_timeout_s))
			return -EINVAL;
	}
	return 0;
}

static int parse_root(const struct pctx *p, const config_setting_t *root,
		      struct xlb_conf *c)
{
	static const char *const keys[] = { "interface", "seed", "src4", "src6",
					    "tcp_timeout", "udp_timeout",
					    "new_flow_limit", "vips", "mode",
					    "metrics", "announce", "node",
					    "flows", NULL };
	struct sockaddr_storage ss;
	socklen_t sl;
	struct xlb_config *cfg = &c->model.cfg;
	const config_setting_t *e, *vips;
	struct xlb_addr a;
	const char *s = NULL;
	int err, i, n;

	err = only_keys(p, root, keys, "");
	if (!err)
		err = parse_node(p, root, &c->node);
	if (err)
		return err;
	if ((e = config_setting_get_member(root, "interface"))) {
		if (get_str(p, e, "interface", &s))
			return -EINVAL;
		if (!ifname_ok(s))
			return perr(p, e, "invalid interface name '%s'", s);
		snprintf(c->interface, sizeof(c->interface), "%s", s);
	}
	if ((e = config_setting_get_member(root, "mode"))) {
		if (get_str(p, e, "mode", &s))
			return -EINVAL;
		if (strcmp(s, "native") && strcmp(s, "generic"))
			return perr(p, e, "invalid mode '%s' (want native or generic)", s);
		snprintf(c->mode, sizeof(c->mode), "%s", s);
	}
	/*
	 * The flow table is sized when the maps are made: the daemon's
	 * own attach can, a daemon that finds them made cannot.
	 */
	if ((e = config_setting_get_member(root, "flows"))) {
		if (!c->interface[0])
			return perr(p, e, "flows sizes the flow table when the daemon attaches, so it needs 'interface' (else: xlb attach --flows N)");
		if (get_u32(p, e, "flows", XLB_FLOWS_MIN, XLB_FLOWS_MAX, &c->flows))
			return -EINVAL;
		if (c->flows & (c->flows - 1))
			return perr(p, e, "flows %u is not a power of two", c->flows);
	}
	/* Loopback by default: counters say what a network carries. */
	snprintf(c->metrics, sizeof(c->metrics), "%s", XLB_METRICS_DEFAULT);
	if ((e = config_setting_get_member(root, "metrics"))) {
		if (get_str(p, e, "metrics", &s))
			return -EINVAL;
		if (strlen(s) >= sizeof(c->metrics) ||
		    (s[0] && xlb_hostport_parse(s, &ss, &sl)))
			return perr(p, e,
				    "invalid metrics address '%s' (want ADDR:PORT, [ADDR6]:PORT, or \"\" for none)",
				    s);
		snprintf(c->metrics, sizeof(c->metrics), "%s", s);
	}
	if ((e = config_setting_get_member(root, "seed"))) {
		if (get_str(p, e, "seed", &s))
			return -EINVAL;
		if (xlb_parse_seed(s, cfg->seed))
			return perr(p, e, "invalid seed '%s' (want 32 hex digits)", s);
		c->has_seed = true;
	}
	if ((e = config_setting_get_member(root, "src4"))) {
		if (get_str(p, e, "src4", &s))
			return -EINVAL;
		if (xlb_addr_parse(s, &a) || a.family != XLB_AF_INET || !a.a[0])
			return perr(p, e, "invalid src4 '%s' (want an IPv4 address)", s);
		cfg->src4 = a.a[0];
		c->has_src4 = true;
	}
	if ((e = config_setting_get_member(root, "src6"))) {
		if (get_str(p, e, "src6", &s))
			return -EINVAL;
		if (xlb_addr_parse(s, &a) || a.family != XLB_AF_INET6 ||
		    !(a.a[0] | a.a[1] | a.a[2] | a.a[3]))
			return perr(p, e, "invalid src6 '%s' (want an IPv6 address)", s);
		memcpy(cfg->src6, a.a, sizeof(cfg->src6));
		c->has_src6 = true;
	}
	if ((e = config_setting_get_member(root, "tcp_timeout"))) {
		if (get_ns(p, e, "tcp_timeout", &cfg->tcp_timeout_ns))
			return -EINVAL;
		c->has_tcp_timeout = true;
	}
	if ((e = config_setting_get_member(root, "udp_timeout"))) {
		if (get_ns(p, e, "udp_timeout", &cfg->udp_timeout_ns))
			return -EINVAL;
		c->has_udp_timeout = true;
	}
	if ((e = config_setting_get_member(root, "new_flow_limit"))) {
		if (get_u32(p, e, "new_flow_limit", 0, XLB_NEW_FLOW_LIMIT_MAX,
			    &cfg->new_flow_limit))
			return -EINVAL;
		c->has_new_flow_limit = true;
	}
	/*
	 * A file lists every VIP, so one without the list (empty, or cut
	 * short by a full disk or an interrupted copy) would delete them
	 * all. Only `vips = ();` says "no VIPs".
	 */
	vips = config_setting_get_member(root, "vips");
	if (!vips)
		return xlb_errf(-EINVAL,
				"%s:%u: no 'vips' setting (is the file complete?): a file lists every VIP; write 'vips = ();' to remove them all",
				p->name, p->last_line);
	if (!config_setting_is_list(vips) &&
	    !(config_setting_is_array(vips) && !config_setting_length(vips)))
		return perr(p, vips, "vips must be a list ( { vip = ...; }, ... )");
	n = config_setting_length(vips);
	if (n > XLB_MAX_VIPS)
		return perr(p, vips, "too many VIPs (%d, at most %d)", n,
			    XLB_MAX_VIPS);
	for (i = 0; i < n; i++) {
		err = parse_vip(p, config_setting_get_elem(vips, (unsigned)i), c);
		if (err)
			return err;
	}
	return 0;
}

static int vip_ent_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct xlb_vip_ent *)a)->key,
		      &((const struct xlb_vip_ent *)b)->key,
		      sizeof(struct xlb_vip_key));
}

static int vip_conf_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct xlb_vip_conf *)a)->key,
		      &((const struct xlb_vip_conf *)b)->key,
		      sizeof(struct xlb_vip_key));
}

static int be_ent_cmp(const void *a, const void *b)
{
	return xlb_addr_cmp(&((const struct xlb_be_ent *)a)->addr,
			    &((const struct xlb_be_ent *)b)->addr);
}

static int be_conf_cmp(const void *a, const void *b)
{
	return xlb_addr_cmp(&((const struct xlb_be_conf *)a)->addr,
			    &((const struct xlb_be_conf *)b)->addr);
}

/* Sorts VIPs by key and backends by address, as the commit does. */
static void conf_sort(struct xlb_conf *c)
{
	size_t i;

	if (!c->model.n_vips)
		return;
	qsort(c->model.vips, c->model.n_vips, sizeof(*c->model.vips),
	      vip_ent_cmp);
	qsort(c->vips, c->model.n_vips, sizeof(*c->vips), vip_conf_cmp);
	for (i = 0; i < c->model.n_vips; i++) {
		struct xlb_vip_ent *v = &c->model.vips[i];

		if (v->n_be)
			qsort(v->be, v->n_be, sizeof(*v->be), be_ent_cmp);
		if (c->vips[i].n_be)
			qsort(c->vips[i].be, c->vips[i].n_be, sizeof(*c->vips[i].be),
			      be_conf_cmp);
	}
}

/*
 * The path of an "@include" line (libconfig reads them only at the start
 * of a line) into buf; 1 when line is one, 0 when not, -EINVAL when it
 * is one xlb cannot read safely.
 */
static int include_path(const char *line, char *buf, size_t len)
{
	const char *q, *end;

	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, "@include", 8))
		return 0;
	q = line + 8;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '"')
		return -EINVAL;
	end = strpbrk(q + 1, "\"\\\n");
	if (!end || *end != '"' || end == q + 1 || (size_t)(end - q) > len)
		return -EINVAL;
	snprintf(buf, len, "%.*s", (int)(end - q - 1), q + 1);
	return 1;
}

/* Reads a configuration file whole: regular, bounded, text. */
static int read_text(const char *path, size_t budget, char **out)
{
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO put in place of a file must not hang a reload. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return xlb_errf(-errno, "can't open %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		err = xlb_errf(-errno, "can't stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = xlb_errf(-EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > budget) {
		err = xlb_errf(-EFBIG, "%s: file too large", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = xlb_errf(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	/* Read to the size seen: a file growing meanwhile is cut, not trusted. */
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = xlb_errf(-EIO, "can't read %s: %s", path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len)
		err = xlb_errf(-EINVAL, "%s: binary data (NUL byte) in the file", path);
out:
	close(fd);
	if (err)
		free(buf);
	else
		*out = buf;
	return err;
}

/*
 * libconfig opens included files itself, without the checks made on the
 * main file: an include naming a FIFO, a device or a huge file would hang
 * or swamp the daemon, and a file including itself is only stopped at
 * libconfig's depth limit with a message naming no file. So every
 * include is read and checked here first (from the same directory
 * libconfig will use), each with its own file and line in messages.
 */
static int includes_check(const struct pctx *p, const char *text,
			  const char *from, unsigned int depth, size_t *total)
{
	char path[1024], full[sizeof(path) + sizeof(p->dir) + 2], *sub = NULL;
	char msg[400];
	const char *line = text;
	unsigned int ln = 1;
	int r, err;

	for (; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL, ln++) {
		r = include_path(line, path, sizeof(path));
		if (!r)
			continue;
		if (r < 0)
			return xlb_errf(-EINVAL, "%s:%u: invalid @include (want @include \"FILE\", without escapes)",
					from, ln);
		if (!p->dir[0])
			return xlb_errf(-EINVAL, "%s:%u: @include needs a file to be relative to (not text from memory)",
					from, ln);
		if (path[0] == '/')
			return xlb_errf(-EINVAL, "%s:%u: @include \"%s\": absolute paths are not supported; name it relative to %s",
					from, ln, path, p->dir);
		if (depth >= INCLUDE_MAX_DEPTH)
			return xlb_errf(-ELOOP, "%s:%u: @include \"%s\": nested more than %d deep (does a file include itself?)",
					from, ln, path, INCLUDE_MAX_DEPTH);
		snprintf(full, sizeof(full), "%s/%s", p->dir, path);
		err = read_text(full, CONF_MAX_BYTES - *total, &sub);
		if (err)
			return xlb_errf(err, "%s:%u: @include: %s", from, ln,
					libmsg(msg, sizeof(msg)));
		*total += strlen(sub);
		err = includes_check(p, sub, full, depth + 1, total);
		free(sub);
		if (err)
			return err;
	}
	return 0;
}

void xlb_conf_free(struct xlb_conf *c)
{
	size_t i;

	free(c->name);
	c->name = NULL;
	if (c->vips)
		for (i = 0; i < c->model.n_vips; i++) {
			free(c->vips[i].be);
			xlb_snapshot_free(c->vips[i].snap);
			free(c->vips[i].snap);
			argv_free(c->vips[i].notify_up);
			argv_free(c->vips[i].notify_down);
		}
	free(c->vips);
	c->vips = NULL;
	xlb_model_free(&c->model);
}

/* dir: where includes are read from; NULL refuses them. */
static int conf_parse(const char *text, const char *name, const char *dir,
		      struct xlb_conf *out)
{
	struct pctx p = { .name = name ? name : "<config>", .last_line = 1 };
	struct xlb_model all;
	size_t total = strlen(text);
	config_t cf;
	const char *q;
	char msg[400], nb[4200];
	int err;

	memset(out, 0, sizeof(*out));
	for (q = text; *q; q++)
		if (*q == '\n' && q[1])
			p.last_line++;
	if (dir && strlen(dir) >= sizeof(p.dir))
		return xlb_errf(-ENAMETOOLONG, "%s: directory name too long", p.name);
	snprintf(p.dir, sizeof(p.dir), "%s", dir ? dir : "");
	err = includes_check(&p, text, p.name, 0, &total);
	if (err)
		return err;
	config_init(&cf);
	if (p.dir[0])
		config_set_include_dir(&cf, p.dir);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		err = xlb_errf(-EINVAL, "%s:%d: %s",
			       src_name(&p, config_error_file(&cf), nb, sizeof(nb)),
			       config_error_line(&cf),
			       config_error_text(&cf) ? config_error_text(&cf) :
							"syntax error");
		config_destroy(&cf);
		return err;
	}
	err = parse_root(&p, config_root_setting(&cf), out);
	if (!err) {
		conf_sort(out);
		/* Totals over all VIPs; each VIP alone was checked already. */
		all = out->model;
		if (!out->has_src4)
			all.cfg.src4 = htonl(1);
		if (!out->has_src6)
			all.cfg.src6[3] = htonl(1);
		if (xlb_model_validate(&all))
			err = perr(&p, config_setting_get_member(config_root_setting(&cf),
								 "vips"),
				   "%s", libmsg(msg, sizeof(msg)));
	}
	config_destroy(&cf);
	if (!err) {
		out->name = strdup(p.name);
		if (!out->name)
			err = -ENOMEM;
	}
	if (err) {
		/* Messages from allocation failures carry no location. */
		if (err == -ENOMEM)
			xlb_errf(err, "%s: out of memory", p.name);
		xlb_conf_free(out);
	}
	return err;
}

int xlb_conf_parse(const char *text, const char *name, struct xlb_conf *out)
{
	return conf_parse(text, name, NULL, out);
}

int xlb_conf_load(const char *path, struct xlb_conf *out)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL, *tmp, dir[4096];
	const char *slash;
	size_t len = 0, cap = 0, n;
	int err;

	memset(out, 0, sizeof(*out));
	if (!f)
		return xlb_errf(-errno, "can't open %s: %s", path, strerror(errno));
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > CONF_MAX_BYTES) {
				free(buf);
				fclose(f);
				return xlb_errf(-EFBIG, "%s: file too large", path);
			}
			cap = cap ? cap * 2 : 65536;
			tmp = realloc(buf, cap);
			if (!tmp) {
				free(buf);
				fclose(f);
				return xlb_errf(-ENOMEM, "%s: out of memory", path);
			}
			buf = tmp;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	if (ferror(f)) {
		err = xlb_errf(-EIO, "can't read %s", path);
		free(buf);
		fclose(f);
		return err;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		return xlb_errf(-EINVAL, "%s: binary data (NUL byte) in the file", path);
	}
	/* Includes are relative to this file, not to the working directory. */
	slash = strrchr(path, '/');
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	err = conf_parse(buf, path, dir, out);
	free(buf);
	return err;
}

const struct xlb_vip_conf *xlb_conf_vip(const struct xlb_conf *c,
					const struct xlb_vip_key *key)
{
	size_t i;

	for (i = 0; c->vips && i < c->model.n_vips; i++)
		if (!memcmp(&c->vips[i].key, key, sizeof(*key)))
			return &c->vips[i];
	return NULL;
}

const struct xlb_be_conf *xlb_conf_be(const struct xlb_vip_conf *vc,
				      const struct xlb_addr *a)
{
	size_t lo = 0, hi = vc ? vc->n_be : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = xlb_addr_cmp(&vc->be[mid].addr, a);

		if (!d)
			return &vc->be[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct xlb_check *xlb_conf_check(const struct xlb_vip_conf *vc,
				       const struct xlb_addr *a)
{
	const struct xlb_be_conf *bc = xlb_conf_be(vc, a);

	if (bc && bc->has_check)
		return &bc->check;
	return vc ? &vc->check : NULL;
}

bool xlb_conf_model_same(const struct xlb_model *a, const struct xlb_model *b)
{
	size_t i, j;

	if (memcmp(&a->cfg, &b->cfg, sizeof(a->cfg)) || a->n_vips != b->n_vips)
		return false;
	for (i = 0; i < a->n_vips; i++) {
		const struct xlb_vip_ent *x = &a->vips[i];
		const struct xlb_vip_ent *y = xlb_model_vip(b, &x->key);

		if (!y || x->table_size != y->table_size || x->algo != y->algo ||
		    x->fwd != y->fwd || x->v4_prefix != y->v4_prefix ||
		    x->v6_prefix != y->v6_prefix || x->n_be != y->n_be ||
		    x->checked != y->checked)
			return false;
		for (j = 0; j < x->n_be; j++) {
			const struct xlb_be_ent *p = &x->be[j];
			const struct xlb_be_ent *q = xlb_model_be(y, &p->addr);

			if (!q || p->weight != q->weight || p->state != q->state ||
			    p->ramp != q->ramp)
				return false;
		}
	}
	return true;
}

/* Writes s as a libconfig string literal. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < ' ' || *s == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Seconds from nanoseconds, as get_ns reads them back. */
static void put_secs_ns(FILE *f, __u64 ns)
{
	unsigned long long s = ns / NS_PER_S, frac = ns % NS_PER_S;

	if (!frac)
		fprintf(f, "%llu", s);
	else if (frac % 1000000 == 0)
		fprintf(f, "%llu.%03llu", s, frac / 1000000);
	else
		fprintf(f, "%llu.%09llu", s, frac);
}

/* Writes c as a check group, every setting given, as parse_check reads it. */
static void put_check(FILE *f, const struct xlb_check *c, const char *indent)
{
	bool http = c->type == XLB_CHECK_HTTP || c->type == XLB_CHECK_HTTPS;
	__u32 i;

	fprintf(f, "check = { type = \"%s\"; port = %u; path = ",
		check_name(c->type), c->port);
	put_str(f, c->path);
	fprintf(f, ";\n%s  interval = %u.%03u; timeout = %u.%03u; rise = %u; fall = %u;",
		indent, c->interval_ms / 1000, c->interval_ms % 1000,
		c->timeout_ms / 1000, c->timeout_ms % 1000, c->rise, c->fall);
	if (http) {
		fprintf(f, "\n%s  expect = [", indent);
		for (i = 0; i < c->n_expect; i++) {
			if (c->expect[i].lo == c->expect[i].hi)
				fprintf(f, "%s\"%u\"", i ? ", " : "", c->expect[i].lo);
			else
				fprintf(f, "%s\"%u-%u\"", i ? ", " : "",
					c->expect[i].lo, c->expect[i].hi);
		}
		fprintf(f, "];");
		if (c->host[0]) {
			fprintf(f, " host = ");
			put_str(f, c->host);
			fprintf(f, ";");
		}
		if (c->body[0]) {
			fprintf(f, " body = ");
			put_str(f, c->body);
			fprintf(f, ";");
		}
	}
	if (c->type == XLB_CHECK_HTTPS) {
		fprintf(f, " verify = %s;", c->verify ? "true" : "false");
		if (c->ca[0]) {
			fprintf(f, " ca = ");
			put_str(f, c->ca);
			fprintf(f, ";");
		}
	}
	fprintf(f, " };\n");
}

/*
 * Whether a backend's up or down is its checks' to decide under the
 * daemon whose file c is, so that a file written with c leaves its state
 * out: written, a "down" that failed checks caused would read back as
 * the operator's and keep the backend down once healthy. Left out, the
 * daemon does what it does on a restart: a live DOWN is its own to lift,
 * a new backend waits for its checks. A drain, and a state c itself
 * sets, are written.
 */
static bool checks_decide(const struct xlb_vip_ent *v,
			  const struct xlb_vip_conf *vc,
			  const struct xlb_be_conf *bc, const struct xlb_be_ent *b)
{
	struct xlb_check def;
	const struct xlb_check *ck = vc ? xlb_conf_check(vc, &b->addr) : NULL;

	if (b->state == XLB_BE_DRAIN || (bc && bc->has_state))
		return false;
	if (!ck) {
		xlb_check_defaults(&def, v->key.proto);
		ck = &def;
	}
	return ck->type != XLB_CHECK_NONE;
}

static void put_argv(FILE *f, const char *what, char *const *argv)
{
	char *const *a;

	if (!argv)
		return;
	fprintf(f, "      %s = [", what);
	for (a = argv; *a; a++) {
		if (a != argv)
			fprintf(f, ", ");
		put_str(f, *a);
	}
	fprintf(f, "];\n");
}

int xlb_conf_write(FILE *f, const struct xlb_model *md,
		   const struct xlb_conf *c)
{
	return xlb_conf_write_snap(f, md, c, NULL, NULL);
}

int xlb_conf_write_snap(FILE *f, const struct xlb_model *md,
			const struct xlb_conf *c, char *const *snap_path,
			const __u64 *snap_digest)
{
	const struct xlb_config *cfg = &md->cfg;
	char ab[XLB_ADDR_STRLEN], vb[XLB_VIP_STRLEN];
	size_t i, j;

	fprintf(f, "# xlb configuration\n");
	if (c && c->interface[0]) {
		fprintf(f, "interface = ");
		put_str(f, c->interface);
		fprintf(f, ";\n");
	}
	if (c && c->node.announce)
		fprintf(f, "announce = { table = %u; protocol = %u; };\n",
			c->node.table, c->node.proto);
	if (c && (c->node.drain || c->node.drain_timeout_s != 60))
		fprintf(f, "node = { drain = %s; drain_timeout = %u; };\n",
			c->node.drain ? "true" : "false", c->node.drain_timeout_s);
	if (c && c->mode[0])
		fprintf(f, "mode = \"%s\";\n", c->mode);
	if (c && c->interface[0] && c->flows)
		fprintf(f, "flows = %u;\n", c->flows);
	if (c && strcmp(c->metrics, XLB_METRICS_DEFAULT)) {
		fprintf(f, "metrics = ");
		put_str(f, c->metrics);
		fprintf(f, ";\n");
	}
	fprintf(f, "seed = \"%016llx%016llx\";\n", (unsigned long long)cfg->seed[0],
		(unsigned long long)cfg->seed[1]);
	if (cfg->src4) {
		xlb_addr_fmt(XLB_AF_INET, &cfg->src4, ab, sizeof(ab));
		fprintf(f, "src4 = \"%s\";\n", ab);
	}
	if (cfg->src6[0] | cfg->src6[1] | cfg->src6[2] | cfg->src6[3]) {
		xlb_addr_fmt(XLB_AF_INET6, cfg->src6, ab, sizeof(ab));
		fprintf(f, "src6 = \"%s\";\n", ab);
	}
	if (cfg->tcp_timeout_ns) {
		fprintf(f, "tcp_timeout = ");
		put_secs_ns(f, cfg->tcp_timeout_ns);
		fprintf(f, ";\n");
	}
	if (cfg->udp_timeout_ns) {
		fprintf(f, "udp_timeout = ");
		put_secs_ns(f, cfg->udp_timeout_ns);
		fprintf(f, ";\n");
	}
	fprintf(f, "new_flow_limit = %u;\n", cfg->new_flow_limit);
	fprintf(f, "vips = (");
	for (i = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];
		const struct xlb_vip_conf *vc = c ? xlb_conf_vip(c, &v->key) : NULL;

		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		fprintf(f, "%s\n  {\n      vip = \"%s\";\n", i ? "," : "", vb);
		fprintf(f, "      algo = \"%s\"; table_size = %u; fwd = \"%s\";\n",
			xlb_algo_name((enum xlb_algo)v->algo), v->table_size,
			xlb_fwd_name(v->fwd));
		fprintf(f, "      src_prefix = [%u, %u];\n", v->v4_prefix,
			v->v6_prefix);
		if (snap_path && snap_path[i]) {
			fprintf(f, "      table_snapshot = ");
			put_str(f, snap_path[i]);
			fprintf(f, "; table_digest = \"%016llx\";\n",
				(unsigned long long)snap_digest[i]);
		}
		if (vc) {
			fprintf(f, "      ");
			put_check(f, &vc->check, "              ");
			fprintf(f, "      slow_start = %u; drain_timeout = %u;\n",
				vc->slow_start_s, vc->drain_timeout_s);
			put_argv(f, "notify_up", vc->notify_up);
			put_argv(f, "notify_down", vc->notify_down);
			if (vc->notify_up || vc->notify_down)
				fprintf(f, "      notify_timeout = %u.%03u;\n",
					vc->notify_timeout_ms / 1000,
					vc->notify_timeout_ms % 1000);
		}
		fprintf(f, "      backends = (");
		for (j = 0; j < v->n_be; j++) {
			const struct xlb_be_ent *b = &v->be[j];
			const struct xlb_be_conf *bc;

			xlb_addr_fmt(b->addr.family, b->addr.a, ab, sizeof(ab));
			fprintf(f, "%s\n        { addr = \"%s\"; weight = %u;",
				j ? "," : "", ab, b->weight);
			bc = vc ? xlb_conf_be(vc, &b->addr) : NULL;
			if (!c || !checks_decide(v, vc, bc, b))
				fprintf(f, " state = \"%s\";", xlb_state_name(b->state));
			if (b->ramp != XLB_RAMP_FULL)
				fprintf(f, " ramp = %u;", b->ramp);
			if (bc && bc->has_check) {
				fprintf(f, "\n          ");
				put_check(f, &bc->check, "                  ");
				fprintf(f, "       ");
			}
			fprintf(f, " }");
		}
		fprintf(f, "%s);\n  }", v->n_be ? "\n      " : "");
	}
	fprintf(f, "%s);\n", md->n_vips ? "\n" : "");
	if (fflush(f) || ferror(f))
		return xlb_errf(-EIO, "can't write the configuration: %s",
				strerror(errno));
	return 0;
}

/* One backend of the merge: the file's, with live state where it applies. */
static void merge_be(struct xlb_be_ent *b, const struct xlb_be_conf *bc,
		     const struct xlb_be_ent *lb, const struct xlb_vip_conf *vc,
		     __u64 now)
{
	bool has_state = bc && bc->has_state, has_ramp = bc && bc->has_ramp;
	__u32 ramp = b->ramp;

	b->id = XLB_ID_NONE;
	if (lb && (!has_state || b->state == lb->state)) {
		/* Same state as live: nothing about it changes. */
		b->state = lb->state;
		b->ramp = has_ramp ? ramp : lb->ramp;
		b->since_ns = lb->since_ns;
		b->drain_deadline_ns = lb->drain_deadline_ns;
		b->pending = lb->pending;
		b->id = lb->id;
		return;
	}
	/* A new backend, or a state the file sets explicitly. */
	b->since_ns = now;
	b->ramp = has_ramp ? ramp : XLB_RAMP_FULL;
	b->drain_deadline_ns = 0;
	if (b->state == XLB_BE_DRAIN)
		b->drain_deadline_ns =
			now + (__u64)(vc ? vc->drain_timeout_s : 300) * NS_PER_S;
	if (lb)
		b->id = lb->id;
}

void xlb_seed_fpr(const __u64 seed[2], char buf[9])
{
	/* A fixed, public key: the fingerprint names a seed, it hides it
	 * only as far as 32 bits of a PRF's output leave 96 unknown. */
	static const __u64 key[2] = { 0x786c622d73656564ULL, 0 }; /* "xlb-seed" */

	snprintf(buf, 9, "%08x", (unsigned int)(xlb_siphash13(key, seed, 2) >> 32));
}

/*
 * The settings made when attaching are read by the data path on every
 * packet, so a file that gives other values changes them under traffic:
 * the seed keys the client hash, the tables and the flow table's tags (a
 * new one moves every client and orphans every established flow's entry,
 * and nodes behind one ECMP route stop agreeing), and backends may accept
 * tunnelled packets only from the old src4/src6. See xlb_conf_merge.
 */
static int check_fixed(const struct xlb_conf *c, const struct xlb_model *live,
		       unsigned int flags)
{
	const struct xlb_config *fc = &c->model.cfg, *lc = &live->cfg;
	const char *name = c->name ? c->name : "<config>";
	char fa[XLB_ADDR_STRLEN], la[XLB_ADDR_STRLEN];
	bool live_src6 = lc->src6[0] | lc->src6[1] | lc->src6[2] | lc->src6[3];

	/* The flow table exists, VIPs or not: a new size means new maps. */
	if (c->flows && lc->flow_sets &&
	    (__u64)c->flows != (__u64)lc->flow_sets * XLB_FLOW_WAYS)
		return xlb_errf(-EINVAL,
				"%s: flows %u differs from the flow table's %llu entries; it applies when attaching (xlb detach, then start the daemon again)",
				name, c->flows,
				(unsigned long long)lc->flow_sets * XLB_FLOW_WAYS);
	if (!live->n_vips)
		return 0;
	if (c->has_seed && !(flags & XLB_MERGE_RESEED) &&
	    memcmp(fc->seed, lc->seed, sizeof(fc->seed))) {
		xlb_seed_fpr(fc->seed, fa);
		xlb_seed_fpr(lc->seed, la);
		return xlb_errf(-EINVAL,
				"%s: seed (fingerprint %s) differs from the running balancer's (%s); --reseed (xlb apply, xlb restore) changes it, which moves every client and drops every established flow's pinning",
				name, fa, la);
	}
	/* A source the balancer has none of yet carried no packet. */
	if (c->has_src4 && lc->src4 && fc->src4 != lc->src4 &&
	    !(flags & XLB_MERGE_NEW_SRC)) {
		xlb_addr_fmt(XLB_AF_INET, &fc->src4, fa, sizeof(fa));
		xlb_addr_fmt(XLB_AF_INET, &lc->src4, la, sizeof(la));
		return xlb_errf(-EINVAL,
				"%s: src4 %s differs from the running balancer's %s; --new-src (xlb apply, xlb restore) changes it, and backends that accept tunnelled packets only from %s drop them",
				name, fa, la, la);
	}
	if (c->has_src6 && live_src6 &&
	    memcmp(fc->src6, lc->src6, sizeof(fc->src6)) &&
	    !(flags & XLB_MERGE_NEW_SRC)) {
		xlb_addr_fmt(XLB_AF_INET6, fc->src6, fa, sizeof(fa));
		xlb_addr_fmt(XLB_AF_INET6, lc->src6, la, sizeof(la));
		return xlb_errf(-EINVAL,
				"%s: src6 %s differs from the running balancer's %s; --new-src (xlb apply, xlb restore) changes it, and backends that accept tunnelled packets only from %s drop them",
				name, fa, la, la);
	}
	return 0;
}

int xlb_conf_merge(const struct xlb_conf *c, const struct xlb_model *live,
		   unsigned int flags, struct xlb_model *out)
{
	struct xlb_config *cfg;
	__u64 now = xlb_now_real_ns();
	size_t i, j;
	int err;

	memset(out, 0, sizeof(*out));
	err = check_fixed(c, live, flags);
	if (err)
		return err;
	err = xlb_model_copy(&c->model, out);
	if (err)
		return xlb_errf(err, "out of memory");
	cfg = &out->cfg;
	/* flow_sets among them: the flow table's size is the live one. */
	*cfg = live->cfg;
	if (c->has_seed)
		memcpy(cfg->seed, c->model.cfg.seed, sizeof(cfg->seed));
	if (c->has_src4)
		cfg->src4 = c->model.cfg.src4;
	if (c->has_src6)
		memcpy(cfg->src6, c->model.cfg.src6, sizeof(cfg->src6));
	if (c->has_tcp_timeout)
		cfg->tcp_timeout_ns = c->model.cfg.tcp_timeout_ns;
	if (c->has_udp_timeout)
		cfg->udp_timeout_ns = c->model.cfg.udp_timeout_ns;
	if (c->has_new_flow_limit)
		cfg->new_flow_limit = c->model.cfg.new_flow_limit;
	for (i = 0; i < out->n_vips; i++) {
		struct xlb_vip_ent *v = &out->vips[i];
		const struct xlb_vip_ent *lv = xlb_model_vip(live, &v->key);
		const struct xlb_vip_conf *vc = xlb_conf_vip(c, &v->key);

		v->id = lv ? lv->id : XLB_ID_NONE;
		v->generation = lv ? lv->generation : 0;
		/* Whether the daemon checks it is the daemon's to say. */
		v->checked = lv && lv->checked;
		for (j = 0; j < v->n_be; j++)
			merge_be(&v->be[j], xlb_conf_be(vc, &v->be[j].addr),
				 lv ? xlb_model_be(lv, &v->be[j].addr) : NULL, vc,
				 now);
	}
	err = xlb_model_validate(out);
	if (err)
		xlb_model_free(out);
	return err;
}
