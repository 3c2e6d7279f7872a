/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conf.h - configuration files (libconfig syntax), one format for
 * `xlb save`, `xlb restore`/`apply -f` and `xlb daemon --config`:
 *
 *   interface = "eth0";                  # daemon: attach here if needed
 *   mode = "native";                     # daemon's attach: native, generic
 *   flows = 1048576;                     # daemon's attach: flow-table size
 *   metrics = "127.0.0.1:9469";          # daemon's /metrics; "" turns it off
 *   seed = "00112233445566778899aabbccddeeff";
 *   src4 = "198.51.100.1";  src6 = "2001:db8::1";
 *   tcp_timeout = 300;  udp_timeout = 30;   # seconds
 *   announce = { table = 100; protocol = 251; };  # daemon: VIP routes
 *   node = { drain = false; drain_timeout = 60; };  # daemon: draining
 *   vips = (
 *     { vip = "203.0.113.10:80/tcp";
 *       algo = "maglev"; table_size = 65537; fwd = "ipip";
 *       src_prefix = [32, 128];
 *       check = { type = "https"; port = 443; path = "/health";
 *                 host = "www.example.com"; expect = [200, 204];
 *                 body = "ok"; verify = true; ca = "/etc/xlb/ca.pem";
 *                 interval = 5.0; timeout = 3.0; rise = 2; fall = 3; };
 *       slow_start = 30;  drain_timeout = 300;   # seconds
 *       notify_down = ["/usr/local/bin/page", "vip-down"];  # no shell
 *       notify_up = ["/usr/local/bin/page", "vip-up"]; notify_timeout = 10;
 *       backends = ( { addr = "198.51.100.11"; weight = 1; state = "up";
 *                      check = { port = 8443; }; } );   # over the VIP's
 *     } );
 *
 * `vips` is required, so that an empty or truncated file is refused rather
 * than read as "no VIPs": `vips = ();` removes every VIP. Every other
 * setting but vip/addr is optional. A file that fails validation is
 * refused whole, with "FILE:LINE: reason".
 *
 * Defaults: algo maglev, table_size 65537, fwd ipip, src_prefix [32, 128];
 * check: a TCP connect to the VIP's port for TCP VIPs ("none" for UDP
 * VIPs), interval 5 s, timeout 3 s (it must be less than the interval;
 * left out, it is half the interval when that is shorter than 6 s), rise
 * 2, fall 3; for http and https, path /health, expect 200-299 (a list of
 * codes and "LO-HI" ranges: `[200, 204]`, `"200-399"`, or mixed in a
 * list `(200, "300-399")`), no host (the backend's address), no body,
 * verify true with the system's CAs. A backend's `check` starts from its
 * VIP's and replaces what it names. slow_start 0; drain_timeout 300;
 * weight 1. A backend's
 * `state` (up, down or drain) is optional: left out, a backend that is
 * already live keeps its live state (see xlb_conf_merge), a new one is up.
 * `ramp` (0-1000, permille of the weight's slots during slow start) is
 * optional too: `xlb save` writes it only for a backend that is ramping,
 * so a restore gives the same tables. A backend restored as "drain" gets
 * a fresh deadline, drain_timeout from the restore.
 *
 * `@include "FILE"` (on a line of its own) reads FILE there, relative to
 * the directory of the file given to xlb_conf_load (nested includes too:
 * libconfig resolves every one from that directory); absolute paths are
 * refused, as is any include in text parsed from memory. `flows` (a power
 * of two) sizes the flow table when the daemon attaches itself, so it
 * needs `interface`; against maps of another size it is refused (see
 * xlb_conf_merge). `notify_up`/`notify_down` are argv lists, the first an
 * absolute path, run by the daemon (see hooks.h); notify_timeout defaults
 * to 10 s.
 *
 * Under `xlb daemon`, "up" means "in service while its checks pass": a new
 * checked backend starts down until `rise` checks pass, and a backend that
 * failed its checks stays down whatever the file says. Written with the
 * daemon's file (`xlb save --config FILE`), a checked backend's up or down
 * is left out for that reason; its drain is written.
 */
#ifndef XLB_CONF_H
#define XLB_CONF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include "model.h"
#include "table.h"

#define XLB_METRICS_DEFAULT "127.0.0.1:9469"

enum xlb_check_type {
	XLB_CHECK_NONE = 0,
	XLB_CHECK_TCP, /* TCP connect to port */
	XLB_CHECK_HTTP, /* HTTP GET path, status in expect, body found */
	XLB_CHECK_HTTPS, /* the same over TLS */
};

#define XLB_CHECK_MAX_EXPECT 8

/* A range of HTTP status codes a check accepts, lo <= status <= hi. */
struct xlb_status_range {
	__u16 lo, hi;
};

/*
 * A health check. Compared with memcmp (the daemon restarts a backend's
 * checks only when its check changed), so always zeroed before filling.
 */
struct xlb_check {
	enum xlb_check_type type;
	__u16 port; /* 0: the VIP's port */
	char path[128]; /* HTTP path, default "/health" */
	__u32 interval_ms; /* default 5000 */
	__u32 timeout_ms; /* default 3000 */
	__u32 rise; /* default 2 */
	__u32 fall; /* default 3 */
	/* HTTP and HTTPS. */
	char host[256]; /* Host header (and TLS server name); "" the address */
	char body[128]; /* substring the body must hold; "" any body */
	struct xlb_status_range expect[XLB_CHECK_MAX_EXPECT]; /* default 200-299 */
	__u32 n_expect;
	bool verify; /* HTTPS: verify the certificate; default true */
	char ca[256]; /* HTTPS: CA bundle file; "" the system's */
};

/* What a file says about one backend beyond the model. */
struct xlb_be_conf {
	struct xlb_addr addr;
	bool has_state; /* `state` given: it overrides the live state */
	bool has_ramp; /* `ramp` given: it overrides the live ramp */
	bool has_check; /* `check` given: it replaces the VIP's for it */
	struct xlb_check check; /* the VIP's with the backend's settings on top */
};

/* What a file says beyond the model, per VIP (same order as model.vips). */
struct xlb_vip_conf {
	struct xlb_vip_key key;
	struct xlb_check check;
	__u32 slow_start_s; /* 0: no slow start */
	__u32 drain_timeout_s; /* default 300 */
	struct xlb_be_conf *be; /* same order as the model VIP's backends */
	size_t n_be;
	/* stable: table_snapshot, loaded and checked (history.h); or NULL */
	struct xlb_tb_snapshot *snap;
	/* Hooks: NULL-terminated argv, or NULL when not given. */
	char **notify_up, **notify_down;
	__u32 notify_timeout_ms; /* default 10000 */
};

/* The daemon's node settings (node.h): `announce = { ... }`, `node = { ... }`. */
struct xlb_node_conf {
	bool announce; /* `announce` given: keep routes for the VIPs */
	__u32 table; /* announce.table, default 100 */
	__u8 proto; /* announce.protocol, default 251 (XLB_ROUTE_PROTO) */
	bool drain; /* node.drain: the node stays drained */
	__u32 drain_timeout_s; /* node.drain_timeout, default 60 */
};

struct xlb_conf {
	char *name; /* the file's name, for messages */
	char interface[IF_NAMESIZE]; /* "" when not given */
	struct xlb_node_conf node; /* the daemon's node settings */
	char mode[8]; /* daemon's attach: "native", "generic" or "" (either) */
	char metrics[64]; /* daemon's /metrics address; "" off */
	__u32 flows; /* daemon's attach: flow-table entries; 0 not given */
	bool has_seed, has_src4, has_src6, has_tcp_timeout, has_udp_timeout;
	bool has_new_flow_limit;
	struct xlb_model model; /* cfg: only the has_* fields are meaningful */
	struct xlb_vip_conf *vips; /* n = model.n_vips, matched by key */
};

/*
 * Parses and validates path and the files it includes; -EINVAL with
 * "FILE:LINE: reason" recorded (FILE the included one when it is there).
 */
int xlb_conf_load(const char *path, struct xlb_conf *out);
/* Same, from a string (for fuzzing; @include refused); name for messages. */
int xlb_conf_parse(const char *text, const char *name, struct xlb_conf *out);
void xlb_conf_free(struct xlb_conf *c);
/* The per-VIP extras for key, or NULL. */
const struct xlb_vip_conf *xlb_conf_vip(const struct xlb_conf *c,
					const struct xlb_vip_key *key);

/* The per-backend extras of a in vc, or NULL. */
const struct xlb_be_conf *xlb_conf_be(const struct xlb_vip_conf *vc,
				      const struct xlb_addr *a);

/* The check of a VIP that no file configures (TCP connect; UDP none). */
void xlb_check_defaults(struct xlb_check *c, __u8 proto);

/* The check backend a of VIP vc runs: its own override, or the VIP's. */
const struct xlb_check *xlb_conf_check(const struct xlb_vip_conf *vc,
				       const struct xlb_addr *a);

/* Whether status is one that check c accepts. */
bool xlb_check_status_ok(const struct xlb_check *c, unsigned int status);

/*
 * Whether a and b configure the same thing: config, VIPs and their
 * settings, backends with weight, state and ramp. Ids, generations and
 * timestamps are not compared.
 */
bool xlb_conf_model_same(const struct xlb_model *a, const struct xlb_model *b);

/*
 * Writes md (and c's checks and timers when c is not NULL) in the format
 * above, such that loading it and committing gives the same tables.
 */
int xlb_conf_write(FILE *f, const struct xlb_model *md,
		   const struct xlb_conf *c);
/* The same, with snap_path[i] and snap_digest[i] for md->vips[i] (or NULL). */
int xlb_conf_write_snap(FILE *f, const struct xlb_model *md,
			const struct xlb_conf *c, char *const *snap_path,
			const __u64 *snap_digest);

/* What xlb_conf_merge lets a file change on a balancer with VIPs. */
enum {
	XLB_MERGE_RESEED = 1 << 0, /* the seed (apply/restore --reseed) */
	XLB_MERGE_NEW_SRC = 1 << 1, /* src4 and src6 (--new-src) */
	/* not the merge's: a stable VIP's file history over the node's own */
	XLB_MERGE_ADOPT_HISTORY = 1 << 2,
};

/*
 * The model a file asks for on top of the live one: file VIPs and
 * backends replace live ones (live ids and generations are kept by the
 * commit); settings the file leaves out keep their live values. A backend
 * that is live keeps its live state, ramp and timestamps unless the file
 * gives its state (and ramp) explicitly. Validated against the result's
 * config (src4/src6 from the live one when the file has none).
 *
 * The settings made when attaching are not changed under traffic: once
 * the live model has a VIP, a file whose seed, src4 or src6 differs from
 * the live one is refused (-EINVAL, "FILE: seed differs ...") unless
 * flags let it through. A balancer without VIPs takes them from the file:
 * it steers nothing yet (that is how a new node takes its deployment's
 * seed). The flow table's size is never a file's to change (flow_sets
 * stays the live one): a file whose `flows` differs from the live table's
 * is refused, VIPs or not.
 */
int xlb_conf_merge(const struct xlb_conf *c, const struct xlb_model *live,
		   unsigned int flags, struct xlb_model *out);

/*
 * A short fingerprint of a seed for messages (8 hex digits and a NUL):
 * the seed itself keys the client hash and is never printed.
 */
void xlb_seed_fpr(const __u64 seed[2], char buf[9]);

#endif /* XLB_CONF_H */
