// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_node.c - `xlb node`: this balancer as a node of a fleet.
 *
 *   node show                          state, digests, announced routes
 *   node drain [--timeout S] [--wait]  withdraw every VIP, keep forwarding
 *   node undrain                       announce again
 *
 * The daemon does the announcing (node.c); these commands write the drain
 * request it watches and read the state it writes, and the kernel's
 * routing tables for what is really announced.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "digest.h"
#include "node.h"
#include "util.h"

#define ACK_WAIT_MS 5000 /* for the daemon to take a request */
#define POLL_MS	    50

/* The daemon's state file, parsed; NULL when there is none. */
static struct json_object *state_read(const char *pin_dir)
{
	char dir[512], path[600];

	if (xlb_node_dir(pin_dir, false, dir, sizeof(dir)))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, XLB_NODE_STATE_FILE);
	if (access(path, R_OK))
		return NULL;
	return json_object_from_file(path);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v)
		   ? json_object_get_string(v)
		   : "";
}

static __u64 jnum(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v)
		   ? (__u64)json_object_get_uint64(v)
		   : 0;
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) &&
	       json_object_get_boolean(v);
}

/* The pid of the daemon that wrote st, if it still runs (and is not stopped).
 */
static int daemon_pid(struct json_object *st)
{
	int pid = (int)jnum(st, "pid");

	if (pid <= 0 || !strcmp(jstr(st, "state"), "stopped"))
		return 0;
	if (kill(pid, 0) && errno != EPERM)
		return 0;
	return pid;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void route_cb(const struct xlb_addr *a, __u32 table, void *arg)
{
	char ab[XLB_ADDR_STRLEN], pb[XLB_ADDR_STRLEN + 8];
	struct json_object *o = json_object_new_object();

	xlb_addr_fmt(a->family, a->a, ab, sizeof(ab));
	snprintf(pb, sizeof(pb), "%s/%d", ab,
		 a->family == XLB_AF_INET ? 32 : 128);
	json_object_object_add(o, "prefix", json_object_new_string(pb));
	json_object_object_add(o, "table", json_object_new_int64(table));
	json_object_array_add(arg, o);
}

/* What drain and undrain report when no announcing daemon runs. */
static int no_daemon(struct xlb_ctx *c, const char *state, const char *text)
{
	struct json_object *o;

	if (!c->json) {
		printf("%s\n", text);
		return XLB_EXIT_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "daemon_pid", NULL);
	xlb_json_print(c, o);
	return XLB_EXIT_OK;
}

int xlb_node_status(const char *pin_dir, struct json_object **out)
{
	struct json_object *st, *o, *addrs, *routes;
	char tb[XLB_DIGEST_STRLEN], cb[XLB_DIGEST_STRLEN];
	struct xlb_vip_digest nd;
	bool have_digest = false;
	struct xlb_model md;
	struct xlb_maps m;
	__u32 table, proto;
	const char *state;
	int pid, err;

	/* Digests need the maps; the rest does not, so a node whose
	 * program is gone still shows what it announces. */
	if (!xlb_maps_open(pin_dir, &m)) {
		if (!xlb_model_read(&m, &md)) {
			have_digest = !xlb_node_digest(&m, &md, &nd);
			xlb_model_free(&md);
		}
		xlb_maps_close(&m);
	}
	xlb_err_clear();
	st = state_read(pin_dir);
	pid = daemon_pid(st);
	table = (__u32)jnum(st, "table");
	proto = st ? (__u32)jnum(st, "protocol") : XLB_ROUTE_PROTO;
	/* The truth the routing daemon reads: the kernel's tables. */
	routes = json_object_new_array();
	err = xlb_announce_list(table, (__u8)proto, route_cb, routes);
	if (err) {
		json_object_put(routes);
		json_object_put(st);
		return err;
	}
	state = !st ? "unknown" : pid ? jstr(st, "state") : "stopped";
	o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "daemon_pid",
			       pid ? json_object_new_int(pid) : NULL);
	json_object_object_add(o, "last_daemon_pid",
			       st ? json_object_new_int((int)jnum(st, "pid"))
				  : NULL);
	json_object_object_add(
	    o, "why", json_object_new_string(pid ? jstr(st, "why") : ""));
	json_object_object_add(o, "interface",
			       json_object_new_string(jstr(st, "interface")));
	json_object_object_add(o, "table", json_object_new_int64(table));
	json_object_object_add(o, "protocol", json_object_new_int64(proto));
	if (have_digest) {
		xlb_digest_fmt(nd.table, tb);
		xlb_digest_fmt(nd.config, cb);
	}
	json_object_object_add(o, "digest",
			       have_digest ? json_object_new_string(tb) : NULL);
	json_object_object_add(o, "config_digest",
			       have_digest ? json_object_new_string(cb) : NULL);
	json_object_object_add(
	    o, "drain_deadline_ns",
	    json_object_new_uint64(jnum(st, "drain_deadline_ns")));
	json_object_object_add(o, "changes",
			       json_object_new_uint64(jnum(st, "changes")));
	if (pid && json_object_object_get_ex(st, "addresses", &addrs))
		json_object_object_add(o, "addresses", json_object_get(addrs));
	else
		json_object_object_add(o, "addresses", json_object_new_array());
	json_object_object_add(o, "routes", routes);
	json_object_put(st);
	*out = o;
	return 0;
}

static int node_show(struct xlb_ctx *c, int argc, char **argv)
{
	struct json_object *o, *arr, *e;
	const char *state;
	size_t i;
	int err;

	if (argc)
		return xlb_usage(c, "usage: xlb node show");
	err = xlb_node_status(c->pin_dir, &o);
	if (err)
		return xlb_fail_rc(c, err);
	if (c->json) {
		xlb_json_print(c, o);
		return XLB_EXIT_OK;
	}
	state = jstr(o, "state");
	if (!strcmp(state, "unknown"))
		printf("node: no daemon has announced for %s\n", c->pin_dir);
	else if (!strcmp(state, "stopped"))
		printf("node stopped: its daemon (pid %d) is gone\n",
		       (int)jnum(o, "last_daemon_pid"));
	else
		printf("node %s%s%s (daemon %d%s%s), table %u protocol %u\n",
		       state, *jstr(o, "why") ? ": " : "", jstr(o, "why"),
		       (int)jnum(o, "daemon_pid"),
		       *jstr(o, "interface") ? ", XDP on " : "",
		       jstr(o, "interface"), (unsigned int)jnum(o, "table"),
		       (unsigned int)jnum(o, "protocol"));
	if (*jstr(o, "digest"))
		printf("digest %s config-digest %s\n", jstr(o, "digest"),
		       jstr(o, "config_digest"));
	json_object_object_get_ex(o, "addresses", &arr);
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		printf("  %-28s %-10s %s\n", jstr(e, "addr"),
		       jbool(e, "announced") ? "announced" : "withdrawn",
		       jstr(e, "why"));
	}
	printf("routes of protocol %u in %s:\n",
	       (unsigned int)jnum(o, "protocol"),
	       jnum(o, "table") ? "its table" : "any table");
	json_object_object_get_ex(o, "routes", &arr);
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		printf("  %-44s table %u\n", jstr(e, "prefix"),
		       (unsigned int)jnum(e, "table"));
	}
	if (!json_object_array_length(arr))
		printf("  (none)\n");
	json_object_put(o);
	return XLB_EXIT_OK;
}

/* Waits until the daemon's state satisfies ok (or ms pass); the state. */
static struct json_object *
wait_state(struct xlb_ctx *c, long ms,
	   bool (*ok)(struct json_object *st, void *arg), void *arg)
{
	struct json_object *st;
	long waited;

	for (waited = 0;; waited += POLL_MS) {
		st = state_read(c->pin_dir);
		if ((st && ok(st, arg)) || waited >= ms)
			return st;
		json_object_put(st);
		sleep_ms(POLL_MS);
	}
}

static bool acked_drain(struct json_object *st, void *arg)
{
	return jnum(st, "drain_since_ns") == *(__u64 *)arg;
}

static bool is_drained(struct json_object *st, void *arg)
{
	return !strcmp(jstr(st, "state"), "drained");
}

static bool acked_undrain(struct json_object *st, void *arg)
{
	return !jnum(st, "drain_since_ns");
}

/*
 * No daemon to withdraw them: xlb's routes left in the table its last
 * daemon used (a SIGKILLed one's) are withdrawn here.
 */
static int withdraw_orphans(struct json_object *st, size_t *n)
{
	struct xlb_announce an;
	int err;

	*n = 0;
	if (!st || !jnum(st, "table"))
		return 0;
	err = xlb_announce_init(&an, (__u32)jnum(st, "table"),
				(__u8)jnum(st, "protocol"), NULL);
	if (err)
		return err;
	*n = xlb_announce_count(&an);
	err = xlb_announce_withdraw_all(&an, "drained without a daemon");
	xlb_announce_fini(&an);
	return err;
}

/* What drain and undrain print with -j once the daemon took the request. */
static struct json_object *ack_json(struct json_object *st, int pid)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "state",
			       json_object_new_string(jstr(st, "state")));
	json_object_object_add(o, "daemon_pid", json_object_new_int(pid));
	return o;
}

static int node_drain(struct xlb_ctx *c, int argc, char **argv)
{
	static const char use[] =
	    "usage: xlb node drain [--timeout S] [--wait]";
	struct xlb_drain_req r = {.on = true};
	struct json_object *st, *o;
	bool wait_done = false;
	__u64 deadline;
	size_t orphans;
	int i, err, pid;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--wait")) {
			wait_done = true;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			if (xlb_parse_u32(argv[++i], 0, 86400 * 365,
					  &r.timeout_s))
				return xlb_usage(
				    c, "invalid drain timeout '%s'", argv[i]);
		} else {
			return xlb_usage(c, "%s", use);
		}
	}
	r.since_ns = xlb_now_real_ns();
	err = xlb_node_drain_write(c->pin_dir, &r);
	if (err)
		return xlb_fail_rc(c, err);
	st = state_read(c->pin_dir);
	pid = daemon_pid(st);
	if (!pid) {
		/* Recorded for the next daemon; nothing announces meanwhile. */
		err = withdraw_orphans(st, &orphans);
		json_object_put(st);
		if (err)
			return xlb_fail_rc(c, err);
		fprintf(stderr,
			"xlb: no announcing daemon runs for %s (none, or one "
			"without `announce`): the drain is recorded for the next "
			"one; %zu route%s the last one left withdrawn\n",
			c->pin_dir, orphans, orphans == 1 ? "" : "s");
		return no_daemon(c, "drained", "node drained (no daemon)");
	}
	json_object_put(st);
	st = wait_state(c, ACK_WAIT_MS, acked_drain, &r.since_ns);
	if (!st || !acked_drain(st, &r.since_ns)) {
		json_object_put(st);
		return xlb_fail(c, XLB_EXIT_FAIL,
				"the daemon (pid %d) did not take the drain "
				"within %d ms; the request stays recorded",
				pid, ACK_WAIT_MS);
	}
	deadline = jnum(st, "drain_deadline_ns");
	if (wait_done && strcmp(jstr(st, "state"), "drained")) {
		__u64 now = xlb_now_real_ns();
		long ms =
		    deadline > now ? (long)((deadline - now) / 1000000) : 0;

		json_object_put(st);
		/* The daemon looks at the deadline every second. */
		st = wait_state(c, ms + 3000, is_drained, NULL);
		if (!st || !is_drained(st, NULL)) {
			json_object_put(st);
			return xlb_fail(
			    c, XLB_EXIT_FAIL,
			    "the node did not report drained by its deadline");
		}
	}
	if (c->json) {
		o = ack_json(st, pid);
		json_object_object_add(o, "drain_deadline_ns",
				       json_object_new_uint64(deadline));
		xlb_json_print(c, o);
	} else if (!strcmp(jstr(st, "state"), "drained")) {
		printf(
		    "node drained: every VIP withdrawn, drain timeout over\n");
	} else {
		__u64 now = xlb_now_real_ns();

		printf("node draining: every VIP withdrawn; forwarding "
		       "continues for %llu s more\n",
		       (unsigned long long)(deadline > now ? (deadline - now +
							      999999999ULL) /
								 1000000000ULL
							   : 0));
	}
	json_object_put(st);
	return XLB_EXIT_OK;
}

static int node_undrain(struct xlb_ctx *c, int argc, char **argv)
{
	struct xlb_drain_req r = {.on = false};
	struct json_object *st, *o;
	int err, pid;

	if (argc)
		return xlb_usage(c, "usage: xlb node undrain");
	err = xlb_node_drain_write(c->pin_dir, &r);
	if (err)
		return xlb_fail_rc(c, err);
	st = state_read(c->pin_dir);
	pid = daemon_pid(st);
	if (pid && jbool(st, "conf_drain")) {
		json_object_put(st);
		return xlb_fail(c, XLB_EXIT_FAIL,
				"the node stays drained: node.drain is set in "
				"the daemon's configuration");
	}
	json_object_put(st);
	if (!pid) {
		fprintf(stderr,
			"xlb: no announcing daemon runs for %s (none, or one "
			"without `announce`): the next one announces\n",
			c->pin_dir);
		return no_daemon(c, "stopped", "node undrained (no daemon)");
	}
	st = wait_state(c, ACK_WAIT_MS, acked_undrain, NULL);
	if (!st || !acked_undrain(st, NULL)) {
		json_object_put(st);
		return xlb_fail(
		    c, XLB_EXIT_FAIL,
		    "the daemon (pid %d) did not take the undrain within %d ms",
		    pid, ACK_WAIT_MS);
	}
	if (c->json) {
		o = ack_json(st, pid);
		xlb_json_print(c, o);
	} else {
		printf("node %s%s%s\n", jstr(st, "state"),
		       *jstr(st, "why") ? ": " : "", jstr(st, "why"));
	}
	json_object_put(st);
	return XLB_EXIT_OK;
}

int cmd_node(struct xlb_ctx *c, int argc, char **argv)
{
	static const struct xlb_cmd cmds[] = {
	    {"show", node_show},
	    {"drain", node_drain},
	    {"undrain", node_undrain},
	    {NULL, NULL},
	};

	return xlb_dispatch(c, cmds, argc, argv, "node");
}
