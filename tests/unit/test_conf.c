// SPDX-License-Identifier: GPL-2.0
/*
 * test_conf.c - unit tests of the configuration files (user/conf.c): a
 * valid file gives the expected model, every kind of bad input is refused
 * with -EINVAL and "FILE:LINE: reason", writing and parsing again gives
 * the same model and the same tables, and merging over a live model keeps
 * what the file leaves out. No privileges needed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "conf.h"
#include "table.h"
#include "util.h"

static const char good[] =
	"# a full configuration\n"					/* 1 */
	"interface = \"eth0\";\n"					/* 2 */
	"seed = \"00112233445566778899aabbccddeeff\";\n"		/* 3 */
	"src4 = \"198.51.100.1\";  src6 = \"2001:db8::1\";\n"		/* 4 */
	"tcp_timeout = 300;  udp_timeout = 30.5;\n"			/* 5 */
	"new_flow_limit = 125000;\n"					/* 6 */
	"vips = (\n"							/* 7 */
	"  { vip = \"203.0.113.10:80/tcp\";\n"				/* 8 */
	"    algo = \"ring\"; table_size = 1000; fwd = \"ipip\";\n"	/* 9 */
	"    src_prefix = [24, 64];\n"					/* 10 */
	"    check = { type = \"http\"; port = 8080; path = \"/healthz\";\n"
	"              interval = 2.5; timeout = 1; rise = 3; fall = 4; };\n"
	"    slow_start = 30;  drain_timeout = 120;\n"
	"    backends = ( { addr = \"198.51.100.12\"; weight = 3; state = \"drain\"; },\n"
	"                 { addr = \"198.51.100.11\"; ramp = 200; },\n"
	"                 { addr = \"2001:db8::11\"; weight = 0; state = \"down\"; } );\n"
	"  },\n"
	"  { vip = \"[2001:db8::10]:443/tcp\"; fwd = \"l2dsr\";\n"
	"    check = { interval = 1; };\n"
	"    backends = ( { addr = \"2001:db8::5\"; } ); },\n"
	"  { vip = \"203.0.113.10:53/udp\"; }\n"
	");\n";

static void parse_ok(const char *text, struct xlb_conf *c)
{
	int err = xlb_conf_parse(text, "test.conf", c);

	if (err)
		fail_msg("parse failed: %s", xlb_errmsg());
}

static struct xlb_addr addr(const char *s)
{
	struct xlb_addr a;

	assert_int_equal(xlb_addr_parse(s, &a), 0);
	return a;
}

static struct xlb_vip_key vkey(const char *s)
{
	struct xlb_vip_key k;

	assert_int_equal(xlb_vip_parse(s, &k), 0);
	return k;
}

static void test_valid(void **state)
{
	struct xlb_vip_key k4 = vkey("203.0.113.10:80/tcp");
	struct xlb_vip_key k6 = vkey("[2001:db8::10]:443/tcp");
	struct xlb_vip_key ku = vkey("203.0.113.10:53/udp");
	const struct xlb_vip_conf *vc;
	const struct xlb_be_conf *bc;
	struct xlb_vip_ent *v;
	struct xlb_be_ent *b;
	struct xlb_addr a;
	struct xlb_conf c;

	parse_ok(good, &c);
	assert_string_equal(c.interface, "eth0");
	assert_true(c.has_seed && c.has_src4 && c.has_src6);
	assert_true(c.has_tcp_timeout && c.has_udp_timeout);
	assert_true(c.model.cfg.seed[0] == 0x0011223344556677ULL);
	assert_true(c.model.cfg.seed[1] == 0x8899aabbccddeeffULL);
	assert_int_equal(c.model.cfg.src4, addr("198.51.100.1").a[0]);
	a = addr("2001:db8::1");
	assert_memory_equal(c.model.cfg.src6, a.a, 16);
	assert_true(c.model.cfg.tcp_timeout_ns == 300000000000ULL);
	assert_true(c.model.cfg.udp_timeout_ns == 30500000000ULL);
	assert_true(c.has_new_flow_limit);
	assert_int_equal(c.model.cfg.new_flow_limit, 125000);
	assert_int_equal(c.model.n_vips, 3);

	v = xlb_model_vip(&c.model, &k4);
	assert_non_null(v);
	assert_int_equal(v->algo, XLB_ALGO_RING);
	assert_int_equal(v->table_size, 1000);
	assert_int_equal(v->fwd, XLB_FWD_IPIP);
	assert_int_equal(v->v4_prefix, 24);
	assert_int_equal(v->v6_prefix, 64);
	assert_int_equal(v->n_be, 3);
	/* Sorted by address, as a commit sorts them. */
	a = addr("198.51.100.11");
	assert_int_equal(xlb_addr_cmp(&v->be[0].addr, &a), 0);
	b = xlb_model_be(v, &a);
	assert_int_equal(b->weight, 1);
	assert_int_equal(b->state, XLB_BE_UP);
	assert_int_equal(b->ramp, 200);
	a = addr("198.51.100.12");
	b = xlb_model_be(v, &a);
	assert_int_equal(b->weight, 3);
	assert_int_equal(b->state, XLB_BE_DRAIN);
	assert_true(b->drain_deadline_ns == b->since_ns + 120000000000ULL);
	a = addr("2001:db8::11");
	b = xlb_model_be(v, &a);
	assert_int_equal(b->weight, 0);
	assert_int_equal(b->state, XLB_BE_DOWN);
	assert_int_equal(b->ramp, XLB_RAMP_FULL);

	vc = xlb_conf_vip(&c, &k4);
	assert_non_null(vc);
	assert_int_equal(vc->check.type, XLB_CHECK_HTTP);
	assert_int_equal(vc->check.port, 8080);
	assert_string_equal(vc->check.path, "/healthz");
	assert_int_equal(vc->check.interval_ms, 2500);
	assert_int_equal(vc->check.timeout_ms, 1000);
	assert_int_equal(vc->check.rise, 3);
	assert_int_equal(vc->check.fall, 4);
	assert_int_equal(vc->slow_start_s, 30);
	assert_int_equal(vc->drain_timeout_s, 120);
	assert_int_equal(vc->n_be, 3);
	a = addr("198.51.100.11");
	bc = xlb_conf_be(vc, &a);
	assert_non_null(bc);
	assert_false(bc->has_state);
	assert_true(bc->has_ramp);
	a = addr("198.51.100.12");
	bc = xlb_conf_be(vc, &a);
	assert_true(bc->has_state);
	assert_false(bc->has_ramp);
	a = addr("198.51.100.99");
	assert_null(xlb_conf_be(vc, &a));

	/* Defaults. */
	v = xlb_model_vip(&c.model, &k6);
	assert_non_null(v);
	assert_int_equal(v->fwd, XLB_FWD_L2DSR);
	assert_int_equal(v->algo, XLB_ALGO_MAGLEV);
	assert_int_equal(v->table_size, XLB_TABLE_SIZE_DEFAULT);
	assert_int_equal(v->v4_prefix, 32);
	assert_int_equal(v->v6_prefix, 128);
	vc = xlb_conf_vip(&c, &k6);
	/* A TCP VIP is checked by a connect unless HTTP is asked for. */
	assert_int_equal(vc->check.type, XLB_CHECK_TCP);
	assert_int_equal(vc->check.port, 0);
	assert_string_equal(vc->check.path, "/health");
	assert_int_equal(vc->check.interval_ms, 1000);
	assert_int_equal(vc->check.timeout_ms, 500); /* half a short interval */
	assert_int_equal(vc->check.rise, 2);
	assert_int_equal(vc->check.fall, 3);
	assert_int_equal(vc->slow_start_s, 0);
	assert_int_equal(vc->drain_timeout_s, 300);
	vc = xlb_conf_vip(&c, &ku);
	assert_non_null(vc);
	assert_int_equal(vc->check.type, XLB_CHECK_NONE); /* UDP */
	assert_int_equal(vc->check.interval_ms, 5000);
	assert_int_equal(vc->check.timeout_ms, 3000);
	v = xlb_model_vip(&c.model, &ku);
	assert_int_equal(v->n_be, 0);
	xlb_conf_free(&c);

	/* An explicitly empty list is a valid, empty configuration. */
	parse_ok("vips = ();\n", &c);
	assert_int_equal(c.model.n_vips, 0);
	assert_false(c.has_seed || c.has_src4 || c.has_src6);
	xlb_conf_free(&c);
	parse_ok("vips = [];", &c);
	assert_int_equal(c.model.n_vips, 0);
	xlb_conf_free(&c);
}

static char *write_str(const struct xlb_model *md, const struct xlb_conf *c);

/* HTTP and HTTPS checks, and per-backend overrides. */
static const char checks[] =
	"vips = (\n"
	"  { vip = \"203.0.113.10:443/tcp\";\n"
	"    check = { type = \"https\"; host = \"www.example.com\"; path = \"/ready\";\n"
	"              expect = (200, \"204\", \"300-399\"); body = \"all good\";\n"
	"              verify = false; ca = \"/etc/xlb/ca.pem\"; interval = 2; };\n"
	"    backends = ( { addr = \"198.51.100.21\";\n"
	"                   check = { port = 8443; expect = \"200-299\"; verify = true; }; },\n"
	"                 { addr = \"198.51.100.22\"; },\n"
	"                 { addr = \"198.51.100.23\"; check = { type = \"tcp\"; }; } ); },\n"
	"  { vip = \"203.0.113.10:80/tcp\"; check = { type = \"http\"; expect = 204; }; },\n"
	"  { vip = \"203.0.113.10:81/tcp\"; check = { type = \"none\"; };\n"
	"    backends = ( { addr = \"198.51.100.21\"; check = { type = \"tcp\"; port = 22; }; } ); },\n"
	"  { vip = \"203.0.113.10:53/udp\";\n"
	"    backends = ( { addr = \"198.51.100.21\"; check = { type = \"tcp\"; port = 53; }; } ); }\n"
	");\n";

static void test_checks(void **state)
{
	struct xlb_vip_key ks = vkey("203.0.113.10:443/tcp");
	struct xlb_vip_key kh = vkey("203.0.113.10:80/tcp");
	struct xlb_vip_key kn = vkey("203.0.113.10:81/tcp");
	struct xlb_vip_key ku = vkey("203.0.113.10:53/udp");
	const struct xlb_vip_conf *vc;
	const struct xlb_check *ck;
	struct xlb_addr a;
	struct xlb_conf c;

	parse_ok(checks, &c);
	vc = xlb_conf_vip(&c, &ks);
	assert_non_null(vc);
	ck = &vc->check;
	assert_int_equal(ck->type, XLB_CHECK_HTTPS);
	assert_string_equal(ck->host, "www.example.com");
	assert_string_equal(ck->path, "/ready");
	assert_string_equal(ck->body, "all good");
	assert_string_equal(ck->ca, "/etc/xlb/ca.pem");
	assert_false(ck->verify);
	assert_int_equal(ck->n_expect, 3);
	assert_true(xlb_check_status_ok(ck, 200));
	assert_true(xlb_check_status_ok(ck, 204));
	assert_true(xlb_check_status_ok(ck, 301));
	assert_false(xlb_check_status_ok(ck, 201));
	assert_false(xlb_check_status_ok(ck, 404));
	assert_int_equal(ck->interval_ms, 2000);
	assert_int_equal(ck->timeout_ms, 1000);

	/* An override starts from the VIP's check and changes what it names. */
	a = addr("198.51.100.21");
	ck = xlb_conf_check(vc, &a);
	assert_true(xlb_conf_be(vc, &a)->has_check);
	assert_int_equal(ck->type, XLB_CHECK_HTTPS);
	assert_int_equal(ck->port, 8443);
	assert_true(ck->verify);
	assert_string_equal(ck->host, "www.example.com");
	assert_string_equal(ck->body, "all good");
	assert_int_equal(ck->interval_ms, 2000);
	assert_int_equal(ck->n_expect, 1);
	assert_true(xlb_check_status_ok(ck, 250));
	assert_false(xlb_check_status_ok(ck, 301));
	a = addr("198.51.100.22");
	assert_false(xlb_conf_be(vc, &a)->has_check);
	assert_ptr_equal(xlb_conf_check(vc, &a), &vc->check);
	a = addr("198.51.100.23");
	assert_int_equal(xlb_conf_check(vc, &a)->type, XLB_CHECK_TCP);

	/* HTTP without expect: 2xx. */
	vc = xlb_conf_vip(&c, &kh);
	assert_int_equal(vc->check.type, XLB_CHECK_HTTP);
	assert_true(xlb_check_status_ok(&vc->check, 204));
	assert_false(xlb_check_status_ok(&vc->check, 200));
	assert_string_equal(vc->check.host, "");
	assert_string_equal(vc->check.path, "/health");

	/* An unchecked VIP with one checked backend; a checked UDP backend. */
	vc = xlb_conf_vip(&c, &kn);
	assert_int_equal(vc->check.type, XLB_CHECK_NONE);
	a = addr("198.51.100.21");
	assert_int_equal(xlb_conf_check(vc, &a)->type, XLB_CHECK_TCP);
	assert_int_equal(xlb_conf_check(vc, &a)->port, 22);
	vc = xlb_conf_vip(&c, &ku);
	assert_int_equal(vc->check.type, XLB_CHECK_NONE);
	assert_int_equal(xlb_conf_check(vc, &a)->port, 53);
	assert_null(xlb_conf_check(NULL, &a));
	xlb_conf_free(&c);

	/* The defaults no file gives. */
	{
		struct xlb_check d;

		xlb_check_defaults(&d, IPPROTO_TCP);
		assert_int_equal(d.type, XLB_CHECK_TCP);
		assert_true(d.verify);
		assert_true(xlb_check_status_ok(&d, 299));
		assert_false(xlb_check_status_ok(&d, 300));
		xlb_check_defaults(&d, IPPROTO_UDP);
		assert_int_equal(d.type, XLB_CHECK_NONE);
	}
}

/* What xlb_conf_write writes of checks, read back, is the same. */
static void test_checks_round_trip(void **state)
{
	struct xlb_conf a, b;
	char *text, *again;
	size_t i, j;

	parse_ok(checks, &a);
	text = write_str(&a.model, &a);
	parse_ok(text, &b);
	for (i = 0; i < a.model.n_vips; i++) {
		const struct xlb_vip_conf *x = &a.vips[i];
		const struct xlb_vip_conf *y = xlb_conf_vip(&b, &x->key);

		assert_non_null(y);
		assert_memory_equal(&x->check, &y->check, sizeof(x->check));
		assert_int_equal(x->n_be, y->n_be);
		for (j = 0; j < x->n_be; j++) {
			const struct xlb_be_conf *p = &x->be[j];
			const struct xlb_be_conf *q = xlb_conf_be(y, &p->addr);

			assert_non_null(q);
			assert_int_equal(p->has_check, q->has_check);
			assert_memory_equal(xlb_conf_check(x, &p->addr),
					    xlb_conf_check(y, &p->addr),
					    sizeof(struct xlb_check));
		}
	}
	again = write_str(&b.model, &b);
	assert_string_equal(text, again);
	free(text);
	free(again);

	/*
	 * Written with the daemon's file, a checked backend's up or down is
	 * left to its checks (a health DOWN must not read back as the
	 * operator's); a drain, an unchecked backend's state, and any
	 * state without the file are written.
	 */
	{
		struct xlb_vip_key ks = vkey("203.0.113.10:443/tcp");
		struct xlb_addr x = addr("198.51.100.22"), y = addr("198.51.100.21");
		struct xlb_vip_ent *v = xlb_model_vip(&a.model, &ks);

		xlb_model_be(v, &x)->state = XLB_BE_DOWN;
		xlb_model_be(v, &y)->state = XLB_BE_DRAIN;
		text = write_str(&a.model, &a);
		assert_non_null(strstr(text, "{ addr = \"198.51.100.22\"; weight = 1; }"));
		assert_non_null(strstr(text, "{ addr = \"198.51.100.21\"; weight = 1; state = \"drain\";"));
		free(text);
		text = write_str(&a.model, &a);
		/* The UDP VIP is unchecked but its backend has a TCP check. */
		assert_null(strstr(text, "state = \"up\""));
		free(text);
		text = write_str(&a.model, NULL);
		assert_non_null(strstr(text, "{ addr = \"198.51.100.22\"; weight = 1; state = \"down\"; }"));
		free(text);
		xlb_conf_free(&b);
		parse_ok("vips = ( { vip = \"203.0.113.10:53/udp\"; backends = ( { addr = \"198.51.100.9\"; } ); } );", &b);
		text = write_str(&b.model, &b);
		assert_non_null(strstr(text, "{ addr = \"198.51.100.9\"; weight = 1; state = \"up\"; }"));
		free(text);
	}
	xlb_conf_free(&a);
	xlb_conf_free(&b);
}

struct bad {
	const char *text;
	int line;
	const char *reason; /* a substring of the message */
};

#define V4 "vips = ( { vip = \"203.0.113.10:80/tcp\";\n"

static const struct bad bads[] = {
	{ "seed = \"00\";\nvips = (\n  { vip = \"1.2.3.4:80/tcp\"; backends = ( { addr = } ); } );\n",
	  3, "syntax error" },
	{ "frobnicate = 1;\n", 1, "unknown setting 'frobnicate'" },
	{ "\n\nseed = \"0011\";\n", 3, "invalid seed" },
	{ "seed = 5;\n", 1, "seed must be a string" },
	{ "src4 = \"2001:db8::1\";\n", 1, "invalid src4" },
	{ "src6 = \"198.51.100.1\";\n", 1, "invalid src6" },
	{ "interface = \"an-interface-name-too-long\";\n", 1, "invalid interface name" },
	{ "interface = \"a/b\";\n", 1, "invalid interface name" },
	{ "tcp_timeout = 0;\n", 1, "tcp_timeout out of range" },
	{ "udp_timeout = \"30\";\n", 1, "udp_timeout must be a number of seconds" },
	{ "new_flow_limit = -1;\n", 1, "new_flow_limit -1 out of range 0-100000000" },
	{ "new_flow_limit = 100000001;\n", 1, "new_flow_limit 100000001 out of range" },
	{ "new_flow_limit = 1.5;\n", 1, "new_flow_limit must be an integer" },
	{ "vips = 3;\n", 1, "vips must be a list" },
	{ "vips = ( 3 );\n", 1, "VIP must be a group" },
	{ "vips = (\n  { algo = \"ring\"; } );\n", 2, "VIP without 'vip'" },
	{ "vips = (\n { vip = \"203.0.113.10:80\"; } );\n", 2, "missing /PROTO" },
	{ "vips = (\n { vip = \"2001:db8::1:80/tcp\"; } );\n", 2, "needs brackets" },
	{ "vips = ( { vip = \"203.0.113.10:80/tcp\"; },\n { vip = \"203.0.113.10:80/tcp\"; } );\n",
	  2, "duplicate VIP" },
	{ V4 "  colour = \"red\"; } );\n", 2, "unknown setting 'colour' in VIP" },
	{ V4 "  algo = \"random\"; } );\n", 2, "invalid algorithm 'random'" },
	{ V4 "  table_size = 65536; } );\n", 2, "needs a prime" },
	{ V4 "  table_size = 0; } );\n", 2, "table_size 0 out of range" },
	{ V4 "  table_size = 5000000; } );\n", 2, "out of range" },
	{ V4 "  table_size = 1.5; } );\n", 2, "table_size must be an integer" },
	{ V4 "  fwd = \"gre\"; } );\n", 2, "invalid forwarding mode 'gre'" },
	{ V4 "  src_prefix = [33, 128]; } );\n", 2, "IPv4 source prefix 33 out of range" },
	{ V4 "  src_prefix = [24, 129]; } );\n", 2, "IPv6 source prefix 129 out of range" },
	{ V4 "  src_prefix = [24]; } );\n", 2, "src_prefix must be [V4LEN, V6LEN]" },
	{ V4 "  slow_start = -1; } );\n", 2, "slow_start -1 out of range" },
	{ V4 "  drain_timeout = 99999999999; } );\n", 2, "drain_timeout" },
	{ V4 "  check = 5; } );\n", 2, "check must be a group" },
	{ V4 "  check = { type = \"icmp\"; }; } );\n", 2, "invalid check type 'icmp'" },
	{ V4 "  check = { kind = \"tcp\"; }; } );\n", 2, "unknown setting 'kind' in check" },
	{ V4 "  check = {\n interval = 0; }; } );\n", 3, "check interval out of range" },
	{ V4 "  check = {\n interval = -2.5; }; } );\n", 3, "check interval out of range" },
	{ V4 "  check = { interval = 2;\n timeout = 2; }; } );\n", 3,
	  "check timeout 2.000 s must be less than the interval 2.000 s" },
	{ V4 "  check = { interval = 5; timeout = 0; }; } );\n", 2, "check timeout out of range" },
	{ V4 "  check = { rise = 0; }; } );\n", 2, "check rise 0 out of range" },
	{ V4 "  check = { fall = 0; }; } );\n", 2, "check fall 0 out of range" },
	{ V4 "  check = { port = 70000; }; } );\n", 2, "check port 70000 out of range" },
	{ V4 "  check = { path = \"health\"; }; } );\n", 2, "invalid check path 'health'" },
	{ V4 "  check = { path = \"/a b\"; }; } );\n", 2, "invalid check path" },
	{ V4 "  check = { type = \"https\"; expect = 99; }; } );\n", 2,
	  "expected status 99 out of range 100-599" },
	{ V4 "  check = { type = \"http\"; expect = \"399-200\"; }; } );\n", 2,
	  "invalid status range '399-200'" },
	{ V4 "  check = { type = \"http\"; expect = \"2xx\"; }; } );\n", 2,
	  "invalid status '2xx' in expect" },
	{ V4 "  check = { type = \"http\"; expect = []; }; } );\n", 2,
	  "expect wants 1 to 8 statuses or ranges" },
	{ V4 "  check = { type = \"http\"; expect = [200, 201, 202, 203, 204, 205, 206, 207, 208]; }; } );\n",
	  2, "expect wants 1 to 8" },
	{ V4 "  check = { type = \"http\"; host = \"a.example:8080\"; }; } );\n", 2,
	  "invalid check host 'a.example:8080'" },
	{ V4 "  check = { type = \"http\"; host = \"a b\"; }; } );\n", 2,
	  "invalid check host 'a b'" },
	{ V4 "  check = { type = \"http\"; body = \"\"; }; } );\n", 2,
	  "invalid check body ''" },
	{ V4 "  check = { type = \"http\";\n verify = false; }; } );\n", 3,
	  "verify is for type \"https\" checks only" },
	{ V4 "  check = { type = \"https\"; verify = 0; }; } );\n", 2,
	  "check verify must be true or false" },
	{ V4 "  check = {\n host = \"a.example\"; }; } );\n", 3,
	  "host is for type \"http\" and \"https\" checks only" },
	{ V4 "  check = { type = \"tcp\";\n body = \"ok\"; }; } );\n", 3,
	  "body is for type \"http\" and \"https\" checks only" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\";\n check = { rise = 0; }; } ); } );\n", 3,
	  "check rise 0 out of range" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\"; check = { frob = 1; }; } ); } );\n", 2,
	  "unknown setting 'frob' in check" },
	{ V4 "  backends = 7; } );\n", 2, "backends must be a list" },
	{ V4 "  backends = ( 7 ); } );\n", 2, "backend must be a group" },
	{ V4 "  backends = (\n  { weight = 1; } ); } );\n", 3, "backend without 'addr'" },
	{ V4 "  backends = (\n  { addr = \"198.51.100.300\"; } ); } );\n", 3,
	  "invalid address '198.51.100.300'" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\"; },\n  { addr = \"198.51.100.11\"; } ); } );\n",
	  3, "duplicate backend 198.51.100.11 in VIP 203.0.113.10:80/tcp" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\";\n weight = 65536; } ); } );\n", 3,
	  "weight 65536 out of range 0-65535" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\";\n weight = -1; } ); } );\n", 3,
	  "weight -1 out of range" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\"; weight = \"2\"; } ); } );\n", 2,
	  "weight must be an integer" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\";\n state = \"sleepy\"; } ); } );\n", 3,
	  "invalid state 'sleepy'" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\";\n ramp = 1001; } ); } );\n", 3,
	  "ramp 1001 out of range 0-1000" },
	{ V4 "  backends = ( { addr = \"198.51.100.11\"; port = 80; } ); } );\n", 2,
	  "unknown setting 'port' in backend" },
	{ "vips = (\n { vip = \"203.0.113.10:80/tcp\"; fwd = \"l2dsr\";\n"
	  "  backends = ( { addr = \"2001:db8::11\"; } ); } );\n",
	  2, "l2dsr cannot carry a IPv4 VIP to IPv6 backend" },
	{ "vips = (\n { vip = \"203.0.113.10:80/tcp\"; algo = \"modulo\"; table_size = 2;\n"
	  "  backends = ( { addr = \"198.51.100.1\"; }, { addr = \"198.51.100.2\"; },\n"
	  "               { addr = \"198.51.100.3\"; } ); } );\n",
	  2, "3 backends do not fit 2 slots" },
	{ "\n@include \"/etc/passwd\"\n", 2, "@include needs a file to be relative to" },
	/* Without the VIP list (its last line named): nothing to delete by. */
	{ "", 1, "no 'vips' setting (is the file complete?)" },
	{ "\n", 1, "no 'vips' setting" },
	{ "# xlb configuration\n", 1, "write 'vips = ();' to remove them all" },
	{ "seed = \"00112233445566778899aabbccddeeff\";\ntcp_timeout = 30", 2,
	  "no 'vips' setting" },
	{ "seed = \"00112233445566778899aabbccddeeff\";\n\n", 2, "no 'vips' setting" },
};

static void test_bad(void **state)
{
	char want[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bads); i++) {
		struct xlb_conf c;
		int err;

		xlb_err_clear();
		err = xlb_conf_parse(bads[i].text, "test.conf", &c);
		if (err != -EINVAL)
			fail_msg("case %zu: got %d (%s), want -EINVAL", i, err,
				 xlb_errmsg());
		snprintf(want, sizeof(want), "test.conf:%d: ", bads[i].line);
		if (strncmp(xlb_errmsg(), want, strlen(want)) ||
		    !strstr(xlb_errmsg(), bads[i].reason))
			fail_msg("case %zu: message '%s', want '%s...%s'", i,
				 xlb_errmsg(), want, bads[i].reason);
		/* Nothing is left allocated or half-filled. */
		assert_null(c.vips);
		assert_int_equal(c.model.n_vips, 0);
	}
}

/* Addresses that cannot be a VIP or a backend, with the class named. */
static const struct {
	const char *addr;
	const char *cls;
} nonunicast[] = {
	{ "0.0.0.0", "an unspecified" },
	{ "0.1.2.3", "a this-network (0.0.0.0/8)" },
	{ "127.0.0.1", "a loopback" },
	{ "127.255.255.254", "a loopback" },
	{ "169.254.0.1", "a link-local" },
	{ "169.254.255.255", "a link-local" },
	{ "224.0.0.1", "a multicast" },
	{ "239.255.255.250", "a multicast" },
	{ "255.255.255.255", "a broadcast" },
	{ "::", "an unspecified" },
	{ "::1", "a loopback" },
	{ "fe80::1", "a link-local" },
	{ "febf:ffff::1", "a link-local" },
	{ "ff02::1", "a multicast" },
	{ "ff0e::101", "a multicast" },
	{ "::ffff:203.0.113.20", "an IPv4-mapped IPv6" },
};

/* Their neighbours, which are ordinary unicast addresses. */
static const char *const unicast[] = {
	"1.0.0.0",	   "126.255.255.255", "128.0.0.1",     "169.253.255.255",
	"169.255.0.1",	   "223.255.255.255", "198.51.100.11", "::2",
	"fe7f:ffff::1",	   "fec0::1",	      "fe00::1",       "2001:db8::11",
	"::fffe:c633:640b",
};

static void test_addr_classes(void **state)
{
	char text[512], want[256], vip[80];
	struct xlb_conf c;
	struct xlb_addr a;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(nonunicast); i++) {
		bool v6 = strchr(nonunicast[i].addr, ':');

		a = addr(nonunicast[i].addr);
		xlb_err_clear();
		assert_int_equal(xlb_addr_check_unicast(&a, "thing"), -EINVAL);
		snprintf(want, sizeof(want), "thing %s is %s address",
			 nonunicast[i].addr, nonunicast[i].cls);
		if (!strstr(xlb_errmsg(), want))
			fail_msg("%s: message '%s', want '%s'", nonunicast[i].addr,
				 xlb_errmsg(), want);

		/* As a VIP in a file: refused at the VIP's line. */
		snprintf(vip, sizeof(vip), v6 ? "[%s]:80/tcp" : "%s:80/tcp",
			 nonunicast[i].addr);
		snprintf(text, sizeof(text), "vips = (\n { vip = \"%s\"; } );\n",
			 vip);
		err = xlb_conf_parse(text, "test.conf", &c);
		snprintf(want, sizeof(want), "test.conf:2: VIP %s is %s address",
			 nonunicast[i].addr, nonunicast[i].cls);
		if (err != -EINVAL || strncmp(xlb_errmsg(), want, strlen(want)))
			fail_msg("VIP %s: %d '%s', want '%s'", vip, err,
				 xlb_errmsg(), want);

		/* As a backend of a VIP of the same family. */
		snprintf(text, sizeof(text),
			 "vips = ( { vip = \"%s\";\n backends = ( { addr = \"%s\"; } ); } );\n",
			 v6 ? "[2001:db8::10]:80/tcp" : "203.0.113.10:80/tcp",
			 nonunicast[i].addr);
		err = xlb_conf_parse(text, "test.conf", &c);
		snprintf(want, sizeof(want), "test.conf:2: backend %s is %s address",
			 nonunicast[i].addr, nonunicast[i].cls);
		if (err != -EINVAL || strncmp(xlb_errmsg(), want, strlen(want)))
			fail_msg("backend %s: %d '%s', want '%s'", nonunicast[i].addr,
				 err, xlb_errmsg(), want);
	}
	for (i = 0; i < ARRAY_SIZE(unicast); i++) {
		a = addr(unicast[i]);
		if (xlb_addr_check_unicast(&a, "thing"))
			fail_msg("%s refused: %s", unicast[i], xlb_errmsg());
	}

	/* A backend at its own VIP's address, either family. */
	err = xlb_conf_parse("vips = ( { vip = \"203.0.113.10:80/tcp\";\n"
			     " backends = ( { addr = \"203.0.113.10\"; } ); } );\n",
			     "test.conf", &c);
	assert_int_equal(err, -EINVAL);
	assert_string_equal(xlb_errmsg(),
			    "test.conf:2: backend 203.0.113.10 is the address of its VIP 203.0.113.10:80/tcp");
	err = xlb_conf_parse("vips = ( { vip = \"[2001:db8::10]:80/tcp\";\n"
			     " backends = ( { addr = \"2001:db8:0::10\"; } ); } );\n",
			     "test.conf", &c);
	assert_int_equal(err, -EINVAL);
	assert_non_null(strstr(xlb_errmsg(),
			       "test.conf:2: backend 2001:db8:0::10 is the address of its VIP [2001:db8::10]:80/tcp"));
	/* A neighbour of the VIP's address is an ordinary backend. */
	parse_ok("vips = ( { vip = \"203.0.113.10:80/tcp\";\n"
		 " backends = ( { addr = \"203.0.113.11\"; } ); } );\n",
		 &c);
	xlb_conf_free(&c);
}

static void test_load_errors(void **state)
{
	struct xlb_conf c;
	char path[] = "/tmp/xlb_test_conf_XXXXXX";
	FILE *f;
	int fd;

	assert_int_equal(xlb_conf_load("/nonexistent/xlb.conf", &c), -ENOENT);
	assert_non_null(strstr(xlb_errmsg(), "can't open /nonexistent/xlb.conf"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("vips = (\n  { vip = \"203.0.113.10:80/tcp\";\n    backends = ( { addr = \"x\"; } ); } );\n",
	      f);
	fclose(f);
	assert_int_equal(xlb_conf_load(path, &c), -EINVAL);
	assert_non_null(strstr(xlb_errmsg(), path));
	assert_non_null(strstr(xlb_errmsg(), ":3: invalid address 'x'"));
	unlink(path);
}

static void test_flows(void **state)
{
	static const struct {
		const char *text, *msg;
	} bads[] = {
		{ "interface = \"eth0\";\nflows = 1000;\nvips = ();\n",
		  "test.conf:2: flows 1000 out of range 1024-16777216" },
		{ "interface = \"eth0\";\nflows = 3072;\nvips = ();\n",
		  "test.conf:2: flows 3072 is not a power of two" },
		{ "interface = \"eth0\";\nflows = \"big\";\nvips = ();\n",
		  "test.conf:2: flows" },
		{ "interface = \"eth0\";\nflows = 33554432;\nvips = ();\n",
		  "test.conf:2: flows 33554432 out of range" },
	};
	struct xlb_conf c;
	char *out;
	size_t i, len;
	FILE *f;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		assert_int_equal(xlb_conf_parse(bads[i].text, "test.conf", &c), -EINVAL);
		if (strncmp(xlb_errmsg(), bads[i].msg, strlen(bads[i].msg)))
			fail_msg("%s: got '%s'", bads[i].text, xlb_errmsg());
	}
	/* Written back by save, so a saved daemon file attaches the same. */
	parse_ok("interface = \"eth0\";\nflows = 1048576;\nvips = ();\n", &c);
	assert_int_equal(c.flows, 1048576);
	f = open_memstream(&out, &len);
	assert_int_equal(xlb_conf_write(f, &c.model, &c), 0);
	fclose(f);
	assert_non_null(strstr(out, "\nflows = 1048576;\n"));
	free(out);
	xlb_conf_free(&c);
}

static void test_notify(void **state)
{
	static const char text[] =
		"vips = ( { vip = \"203.0.113.10:80/tcp\";\n"
		"  notify_down = [\"/usr/local/bin/page\", \"vip down\", \"$X;rm\"];\n"
		"  notify_up = (\"/bin/true\");\n"
		"  notify_timeout = 2.5; } );\n";
	static const struct {
		const char *text, *msg;
	} bads[] = {
		{ "vips = ( { vip = \"203.0.113.10:80/tcp\";\n notify_up = \"/bin/true\"; } );",
		  "test.conf:2: notify_up must be a list of strings" },
		{ "vips = ( { vip = \"203.0.113.10:80/tcp\";\n notify_up = []; } );",
		  "test.conf:2: notify_up needs 1 to 64 strings" },
		{ "vips = ( { vip = \"203.0.113.10:80/tcp\";\n notify_down = [\"page\"]; } );",
		  "test.conf:2: notify_down: 'page' is not an absolute path" },
		{ "vips = ( { vip = \"203.0.113.10:80/tcp\";\n notify_down = (\"/bin/x\", 1); } );",
		  "test.conf:2: notify_down must be a list of strings" },
		{ "vips = ( { vip = \"203.0.113.10:80/tcp\";\n notify_timeout = 0; } );",
		  "test.conf:2: notify_timeout out of range" },
	};
	const struct xlb_vip_conf *vc;
	struct xlb_conf c, c2;
	char *out;
	size_t i, len;
	FILE *f;

	parse_ok(text, &c);
	vc = &c.vips[0];
	assert_non_null(vc->notify_down);
	assert_string_equal(vc->notify_down[0], "/usr/local/bin/page");
	assert_string_equal(vc->notify_down[1], "vip down");
	assert_string_equal(vc->notify_down[2], "$X;rm");
	assert_null(vc->notify_down[3]);
	assert_string_equal(vc->notify_up[0], "/bin/true");
	assert_null(vc->notify_up[1]);
	assert_int_equal(vc->notify_timeout_ms, 2500);
	/* Round trip through save. */
	f = open_memstream(&out, &len);
	assert_int_equal(xlb_conf_write(f, &c.model, &c), 0);
	fclose(f);
	parse_ok(out, &c2);
	assert_string_equal(c2.vips[0].notify_down[2], "$X;rm");
	assert_int_equal(c2.vips[0].notify_timeout_ms, 2500);
	free(out);
	xlb_conf_free(&c2);
	xlb_conf_free(&c);
	parse_ok("vips = ( { vip = \"203.0.113.10:80/tcp\"; } );", &c);
	assert_null(c.vips[0].notify_up);
	assert_int_equal(c.vips[0].notify_timeout_ms, 10000);
	xlb_conf_free(&c);
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		assert_int_equal(xlb_conf_parse(bads[i].text, "test.conf", &c), -EINVAL);
		if (strncmp(xlb_errmsg(), bads[i].msg, strlen(bads[i].msg)))
			fail_msg("%s: got '%s'", bads[i].text, xlb_errmsg());
	}
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	char dir[] = "/tmp/xlb_test_inc_XXXXXX", path[512], want[600], cwd[4096];
	struct xlb_vip_key k;
	struct xlb_conf c;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(mkdir(strcat(strcpy(path, dir), "/vips.d"), 0755), 0);
	write_file(dir, "vips.d/web.conf",
		   "{ vip = \"203.0.113.10:80/tcp\";\n"
		   "  backends = ( { addr = \"198.51.100.11\"; } ); }\n");
	write_file(dir, "vips.d/dns.conf",
		   "{ vip = \"203.0.113.10:53/udp\"; }\n");
	write_file(dir, "main.conf",
		   "interface = \"eth0\";\n"
		   "vips = (\n"
		   "  @include \"vips.d/web.conf\"\n"
		   ",\n"
		   "  @include \"vips.d/dns.conf\"\n"
		   ");\n");
	/* Relative to the file, whatever the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0);
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	if (xlb_conf_load(path, &c))
		fail_msg("load failed: %s", xlb_errmsg());
	assert_int_equal(c.model.n_vips, 2);
	k = vkey("203.0.113.10:53/udp");
	assert_non_null(xlb_conf_vip(&c, &k));
	assert_int_equal(c.model.vips[0].n_be + c.model.vips[1].n_be, 1);
	xlb_conf_free(&c);

	/* An error in an included file names that file and its line. */
	write_file(dir, "vips.d/dns.conf",
		   "{ vip = \"203.0.113.10:53/udp\";\n"
		   "  algo = \"nope\"; }\n");
	assert_int_equal(xlb_conf_load(path, &c), -EINVAL);
	snprintf(want, sizeof(want), "%s/vips.d/dns.conf:2: invalid algorithm 'nope'", dir);
	if (strncmp(xlb_errmsg(), want, strlen(want)))
		fail_msg("got '%s', want '%s'", xlb_errmsg(), want);
	write_file(dir, "vips.d/dns.conf", "{ vip = \"203.0.113.10:53/udp\"; \n x = ; }\n");
	assert_int_equal(xlb_conf_load(path, &c), -EINVAL);
	snprintf(want, sizeof(want), "%s/vips.d/dns.conf:2: syntax error", dir);
	assert_string_equal(xlb_errmsg(), want);

	/* A missing file: where the include is, and which file. */
	write_file(dir, "main.conf", "vips = (\n@include \"vips.d/gone.conf\"\n);\n");
	assert_int_equal(xlb_conf_load(path, &c), -ENOENT);
	snprintf(want, sizeof(want), "%s:2: @include: can't open %s/vips.d/gone.conf", path, dir);
	if (strncmp(xlb_errmsg(), want, strlen(want)))
		fail_msg("got '%s', want '%s'", xlb_errmsg(), want);

	/* Not a regular file: a FIFO would block the reader. */
	snprintf(want, sizeof(want), "%s/vips.d/fifo", dir);
	assert_int_equal(mkfifo(want, 0600), 0);
	write_file(dir, "main.conf", "vips = (\n@include \"vips.d/fifo\"\n);\n");
	assert_int_equal(xlb_conf_load(path, &c), -EINVAL);
	assert_non_null(strstr(xlb_errmsg(), "vips.d/fifo: not a regular file"));
	unlink(want);

	/* A file including itself. */
	write_file(dir, "main.conf", "vips = (\n@include \"self.conf\"\n);\n");
	write_file(dir, "self.conf", "\n@include \"self.conf\"\n");
	assert_int_equal(xlb_conf_load(path, &c), -ELOOP);
	assert_non_null(strstr(xlb_errmsg(), "nested more than 10 deep"));

	/* Absolute paths: libconfig 1.5 would prefix the directory. */
	write_file(dir, "main.conf", "vips = (\n@include \"/etc/passwd\"\n);\n");
	assert_int_equal(xlb_conf_load(path, &c), -EINVAL);
	assert_non_null(strstr(xlb_errmsg(), ":2: @include \"/etc/passwd\": absolute paths are not supported"));

	/* Text from memory has no directory: refused, never the cwd's. */
	assert_int_equal(xlb_conf_parse("vips = (\n  @include \"a.conf\"\n);\n",
					"test.conf", &c), -EINVAL);
	assert_string_equal(xlb_errmsg(),
			    "test.conf:2: @include needs a file to be relative to (not text from memory)");
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	assert_int_equal(system(want), 0);
}

static int vip_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct xlb_vip_ent *)a)->key,
		      &((const struct xlb_vip_ent *)b)->key, sizeof(struct xlb_vip_key));
}

static int be_cmp(const void *a, const void *b)
{
	return xlb_addr_cmp(&((const struct xlb_be_ent *)a)->addr,
			    &((const struct xlb_be_ent *)b)->addr);
}

/* Gives every VIP and backend an id in sorted order, as a commit would. */
static void give_ids(struct xlb_model *md)
{
	__u32 id = 0;
	size_t i, j;

	qsort(md->vips, md->n_vips, sizeof(*md->vips), vip_cmp);
	for (i = 0; i < md->n_vips; i++) {
		qsort(md->vips[i].be, md->vips[i].n_be, sizeof(*md->vips[i].be), be_cmp);
		md->vips[i].id = (__u32)i;
		for (j = 0; j < md->vips[i].n_be; j++)
			md->vips[i].be[j].id = id++;
	}
}

/* Every VIP's table, built from a and from b, is the same. */
static void assert_same_tables(struct xlb_model *a, struct xlb_model *b)
{
	size_t i;

	give_ids(a);
	give_ids(b);
	assert_int_equal(a->n_vips, b->n_vips);
	for (i = 0; i < a->n_vips; i++) {
		const struct xlb_vip_ent *vb = xlb_model_vip(b, &a->vips[i].key);
		struct xlb_slot *ta, *tb;

		assert_non_null(vb);
		assert_int_equal(xlb_model_table(a, &a->vips[i], &ta), 0);
		assert_int_equal(xlb_model_table(b, vb, &tb), 0);
		assert_memory_equal(ta, tb, a->vips[i].table_size * sizeof(*ta));
		free(ta);
		free(tb);
	}
}

static char *write_str(const struct xlb_model *md, const struct xlb_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(xlb_conf_write(f, md, c), 0);
	fclose(f);
	return buf;
}

static void test_round_trip(void **state)
{
	struct xlb_conf a, b;
	char *text, *again;
	size_t i;

	parse_ok(good, &a);
	text = write_str(&a.model, &a);
	parse_ok(text, &b);
	assert_true(xlb_conf_model_same(&a.model, &b.model));
	assert_memory_equal(&a.model.cfg, &b.model.cfg, sizeof(a.model.cfg));
	assert_string_equal(a.interface, b.interface);
	assert_int_equal(a.model.n_vips, b.model.n_vips);
	for (i = 0; i < a.model.n_vips; i++) {
		const struct xlb_vip_conf *x = &a.vips[i];
		const struct xlb_vip_conf *y = xlb_conf_vip(&b, &x->key);

		assert_non_null(y);
		assert_memory_equal(&x->check, &y->check, sizeof(x->check));
		assert_int_equal(x->slow_start_s, y->slow_start_s);
		assert_int_equal(x->drain_timeout_s, y->drain_timeout_s);
	}
	/* Writing what was read back gives the same text. */
	again = write_str(&b.model, &b);
	assert_string_equal(text, again);
	assert_same_tables(&a.model, &b.model);
	free(text);
	free(again);
	xlb_conf_free(&a);
	xlb_conf_free(&b);
}

/* A live model as `xlb save` sees it: ids, mixed states, a ramp. */
static void live_model(struct xlb_model *md)
{
	static const char *const v4[] = { "198.51.100.11", "198.51.100.12",
					  "198.51.100.13", "2001:db8::21" };
	struct xlb_vip_key k = vkey("203.0.113.10:80/tcp");
	struct xlb_vip_ent *v;
	struct xlb_be_ent *b;
	struct xlb_addr a;
	size_t i;

	memset(md, 0, sizeof(*md));
	md->cfg.seed[0] = 0x243f6a8885a308d3ULL;
	md->cfg.seed[1] = 0x13198a2e03707344ULL;
	md->cfg.src4 = addr("198.51.100.1").a[0];
	a = addr("2001:db8::1");
	memcpy(md->cfg.src6, a.a, 16);
	md->cfg.tcp_timeout_ns = 300ULL * 1000000000ULL;
	md->cfg.udp_timeout_ns = 1500000001ULL;
	md->cfg.new_flow_limit = 250000;
	md->cfg.nexthop_ttl_ns = 1000000000ULL;
	assert_int_equal(xlb_model_vip_add(md, &k, &v), 0);
	v->algo = XLB_ALGO_MAGLEV;
	v->table_size = 4093;
	v->v4_prefix = 24;
	for (i = 0; i < ARRAY_SIZE(v4); i++) {
		a = addr(v4[i]);
		assert_int_equal(xlb_model_be_add(v, &a, (__u32)i + 1, &b), 0);
	}
	v->be[1].state = XLB_BE_DOWN;
	v->be[2].ramp = 300;
	v->be[3].state = XLB_BE_DRAIN;
	k = vkey("[2001:db8::10]:443/udp");
	assert_int_equal(xlb_model_vip_add(md, &k, &v), 0);
	v->algo = XLB_ALGO_RENDEZVOUS;
	v->table_size = 1024;
	v->fwd = XLB_FWD_L2DSR;
	a = addr("2001:db8::31");
	assert_int_equal(xlb_model_be_add(v, &a, 5, NULL), 0);
}

static void test_save_restore(void **state)
{
	struct xlb_model live, empty = { 0 }, out;
	struct xlb_conf c;
	char *text;

	live_model(&live);
	text = write_str(&live, NULL);
	parse_ok(text, &c);
	/* Restoring over a fresh deployment: the same model, the same tables. */
	empty.cfg.nexthop_ttl_ns = live.cfg.nexthop_ttl_ns;
	assert_int_equal(xlb_conf_merge(&c, &empty, 0, &out), 0);
	assert_true(xlb_conf_model_same(&live, &out));
	assert_same_tables(&live, &out);
	xlb_model_free(&out);
	/* Over the live one itself: nothing changes. */
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), 0);
	assert_true(xlb_conf_model_same(&live, &out));
	xlb_model_free(&out);
	free(text);
	xlb_conf_free(&c);
	xlb_model_free(&live);
}

/*
 * A saved file cut at every byte (a full disk, an interrupted copy) is
 * refused, or means what the whole file means: never fewer VIPs.
 */
static void test_truncated(void **state)
{
	struct xlb_model live;
	struct xlb_conf full, c;
	size_t len, n, ok = 0;
	char *text, *cut;

	live_model(&live);
	text = write_str(&live, NULL);
	parse_ok(text, &full);
	len = strlen(text);
	cut = malloc(len + 1);
	assert_non_null(cut);
	for (n = 0; n < len; n++) {
		memcpy(cut, text, n);
		cut[n] = '\0';
		xlb_err_clear();
		if (xlb_conf_parse(cut, "test.conf", &c)) {
			if (strncmp(xlb_errmsg(), "test.conf:", 10))
				fail_msg("cut at %zu: message '%s'", n, xlb_errmsg());
			continue;
		}
		if (!xlb_conf_model_same(&c.model, &full.model) ||
		    memcmp(&c.model.cfg, &full.model.cfg, sizeof(c.model.cfg)))
			fail_msg("cut at %zu: %zu VIPs, not the file's meaning:\n%s",
				 n, c.model.n_vips, cut);
		ok++;
		xlb_conf_free(&c);
	}
	/* Only the last ";" and newline can go. */
	assert_true(ok <= 2);
	free(cut);
	free(text);
	xlb_conf_free(&full);
	xlb_model_free(&live);
}

static void test_merge(void **state)
{
	static const char file[] =
		"tcp_timeout = 60;\n"
		"vips = ( { vip = \"203.0.113.10:80/tcp\"; table_size = 4093;\n"
		"  backends = ( { addr = \"198.51.100.11\"; },\n"
		"               { addr = \"198.51.100.12\"; state = \"up\"; },\n"
		"               { addr = \"198.51.100.13\"; weight = 7; },\n"
		"               { addr = \"198.51.100.14\"; } ); } );\n";
	struct xlb_vip_key k = vkey("203.0.113.10:80/tcp");
	struct xlb_model live, out;
	const struct xlb_vip_ent *v;
	const struct xlb_be_ent *b;
	struct xlb_be_ent *lb;
	struct xlb_addr a;
	struct xlb_conf c;

	live_model(&live);
	give_ids(&live);
	a = addr("198.51.100.11");
	lb = xlb_model_be(xlb_model_vip(&live, &k), &a);
	lb->since_ns = 1234;
	parse_ok(file, &c);
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), 0);

	/* Settings the file leaves out keep their live values. */
	assert_memory_equal(out.cfg.seed, live.cfg.seed, sizeof(live.cfg.seed));
	assert_int_equal(out.cfg.src4, live.cfg.src4);
	assert_true(out.cfg.tcp_timeout_ns == 60000000000ULL);
	assert_true(out.cfg.udp_timeout_ns == live.cfg.udp_timeout_ns);
	assert_int_equal(out.cfg.new_flow_limit, live.cfg.new_flow_limit);
	/* VIPs exactly as the file lists them. */
	assert_int_equal(out.n_vips, 1);
	v = xlb_model_vip(&out, &k);
	assert_non_null(v);
	assert_int_equal(v->n_be, 4);
	/* No state in the file: the live one, with its timestamps and ramp. */
	a = addr("198.51.100.11");
	b = xlb_model_be(v, &a);
	assert_int_equal(b->state, XLB_BE_UP);
	assert_true(b->since_ns == 1234);
	assert_int_equal(b->id, lb->id);
	a = addr("198.51.100.13");
	b = xlb_model_be(v, &a);
	assert_int_equal(b->ramp, 300);
	assert_int_equal(b->weight, 7);
	/* An explicit state wins over the live one. */
	a = addr("198.51.100.12");
	b = xlb_model_be(v, &a);
	assert_int_equal(b->state, XLB_BE_UP);
	assert_int_equal(b->ramp, XLB_RAMP_FULL);
	/* A new backend is up; the live one the file leaves out is gone. */
	a = addr("198.51.100.14");
	b = xlb_model_be(v, &a);
	assert_non_null(b);
	assert_int_equal(b->state, XLB_BE_UP);
	a = addr("2001:db8::21");
	assert_null(xlb_model_be(v, &a));
	xlb_model_free(&out);
	xlb_conf_free(&c);

	/* A file without sources, over a live config without them: refused. */
	live.cfg.src4 = 0;
	parse_ok(file, &c);
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), -EINVAL);
	assert_non_null(strstr(xlb_errmsg(), "no IPv4 source address"));
	xlb_conf_free(&c);
	xlb_model_free(&live);
}

/* The message recorded names what and never prints the seed. */
static void assert_refused(const char *what)
{
	if (!strstr(xlb_errmsg(), what))
		fail_msg("message '%s', want '%s'", xlb_errmsg(), what);
	assert_null(strstr(xlb_errmsg(), "243f6a88"));
	assert_null(strstr(xlb_errmsg(), "0f0e0d0c"));
}

/*
 * Settings made when attaching: a file over a balancer with VIPs may
 * repeat them, changes them only when the flags say so, and sets them
 * where there is no VIP yet.
 */
static void test_fixed(void **state)
{
	struct xlb_model live, empty = { 0 }, out;
	struct xlb_conf c;
	struct xlb_addr a;
	char *text, fpr[9], want[160];

	live_model(&live);
	live.cfg.flow_sets = 65536;
	text = write_str(&live, NULL);
	parse_ok(text, &c);
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), 0);
	xlb_model_free(&out);

	/* Another seed. */
	c.model.cfg.seed[0] = 0x0f0e0d0c0b0a0908ULL;
	xlb_err_clear();
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), -EINVAL);
	xlb_seed_fpr(c.model.cfg.seed, fpr);
	snprintf(want, sizeof(want), "test.conf: seed (fingerprint %s) differs from the running balancer's (",
		 fpr);
	assert_refused(want);
	assert_refused("--reseed (xlb apply, xlb restore) changes it, which moves every client");
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_NEW_SRC, &out), -EINVAL);
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_RESEED, &out), 0);
	assert_true(out.cfg.seed[0] == 0x0f0e0d0c0b0a0908ULL);
	assert_true(out.cfg.seed[1] == live.cfg.seed[1]);
	xlb_model_free(&out);
	/* Where nothing is balanced yet, the file's seed is taken. */
	empty.cfg = live.cfg;
	assert_int_equal(xlb_conf_merge(&c, &empty, 0, &out), 0);
	assert_true(out.cfg.seed[0] == 0x0f0e0d0c0b0a0908ULL);
	xlb_model_free(&out);
	c.model.cfg.seed[0] = live.cfg.seed[0];

	/* Another src4. */
	c.model.cfg.src4 = addr("198.51.100.2").a[0];
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_RESEED, &out), -EINVAL);
	assert_refused("test.conf: src4 198.51.100.2 differs from the running balancer's 198.51.100.1; --new-src");
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_NEW_SRC, &out), 0);
	assert_int_equal(out.cfg.src4, c.model.cfg.src4);
	xlb_model_free(&out);
	assert_int_equal(xlb_conf_merge(&c, &empty, 0, &out), 0);
	xlb_model_free(&out);
	/* A balancer without an IPv4 source yet sent nothing from one. */
	live.cfg.src4 = 0;
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), 0);
	assert_int_equal(out.cfg.src4, c.model.cfg.src4);
	xlb_model_free(&out);
	live.cfg.src4 = addr("198.51.100.1").a[0];
	c.model.cfg.src4 = live.cfg.src4;

	/* Another src6. */
	a = addr("2001:db8::2");
	memcpy(c.model.cfg.src6, a.a, sizeof(a.a));
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_RESEED, &out), -EINVAL);
	assert_refused("test.conf: src6 2001:db8::2 differs from the running balancer's 2001:db8::1; --new-src");
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_NEW_SRC, &out), 0);
	assert_memory_equal(out.cfg.src6, a.a, sizeof(a.a));
	xlb_model_free(&out);

	/* A file that leaves them out keeps the live ones. */
	c.has_seed = c.has_src4 = c.has_src6 = false;
	c.model.cfg.seed[0] = 1;
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), 0);
	assert_memory_equal(&out.cfg, &live.cfg, sizeof(out.cfg));
	/* The flow table's size is always the live one. */
	assert_int_equal(out.cfg.flow_sets, 65536);
	xlb_model_free(&out);
	xlb_conf_free(&c);

	/* ... and only a daemon that attaches itself names it. */
	assert_int_equal(xlb_conf_parse("\nflows = 4096;\nvips = ();\n", "test.conf", &c),
			 -EINVAL);
	assert_string_equal(xlb_errmsg(),
			    "test.conf:2: flows sizes the flow table when the daemon attaches, so it needs 'interface' (else: xlb attach --flows N)");
	/* The live table's size passes; another is refused, VIPs or not. */
	parse_ok("interface = \"eth0\";\nflows = 262144;\nvips = ();\n", &c);
	assert_int_equal(c.flows, 262144);
	assert_int_equal(xlb_conf_merge(&c, &live, 0, &out), 0);
	xlb_model_free(&out);
	xlb_conf_free(&c);
	parse_ok("interface = \"eth0\";\nflows = 4096;\nvips = ();\n", &c);
	assert_int_equal(xlb_conf_merge(&c, &live, XLB_MERGE_RESEED | XLB_MERGE_NEW_SRC,
					 &out), -EINVAL);
	assert_refused("test.conf: flows 4096 differs from the flow table's 262144 entries; it applies when attaching");
	xlb_conf_free(&c);
	free(text);
	xlb_model_free(&live);
}

/* The daemon's node settings: announce and node (node.h). */
static void test_node_settings(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
	} bad[] = {
		{ "announce = 100; vips = ();", "announce must be a group" },
		{ "announce = { table = 0; }; vips = ();", "announce.table 0 out of range" },
		{ "announce = { table = 253; }; vips = ();", "kernel's default table" },
		{ "announce = { table = 255; }; vips = ();", "out of range" },
		{ "announce = { protocol = 2; }; vips = ();", "announce.protocol 2 out of range" },
		{ "announce = { tabel = 100; }; vips = ();", "unknown setting 'tabel' in announce" },
		{ "node = { drain = 1; }; vips = ();", "node.drain must be true or false" },
		{ "node = { drain_timeout = -1; }; vips = ();", "out of range" },
		{ "node = { drained = true; }; vips = ();", "unknown setting 'drained' in node" },
	};
	struct xlb_conf c;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	parse_ok("vips = ();", &c);
	assert_false(c.node.announce);
	assert_false(c.node.drain);
	assert_int_equal(c.node.table, 100);
	assert_int_equal(c.node.proto, 251);
	assert_int_equal(c.node.drain_timeout_s, 60);
	xlb_conf_free(&c);

	parse_ok("announce = { };\nvips = ();", &c);
	assert_true(c.node.announce);
	assert_int_equal(c.node.table, 100);
	xlb_conf_free(&c);

	parse_ok("announce = { table = 254; protocol = 200; };\n"
		 "node = { drain = true; drain_timeout = 5; };\nvips = ();", &c);
	assert_true(c.node.announce);
	assert_int_equal(c.node.table, 254);
	assert_int_equal(c.node.proto, 200);
	assert_true(c.node.drain);
	assert_int_equal(c.node.drain_timeout_s, 5);
	/* What xlb_conf_write prints reads back the same. */
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(xlb_conf_write(f, &c.model, &c), 0);
	fclose(f);
	xlb_conf_free(&c);
	parse_ok(buf, &c);
	assert_true(c.node.announce && c.node.drain);
	assert_int_equal(c.node.table, 254);
	assert_int_equal(c.node.proto, 200);
	assert_int_equal(c.node.drain_timeout_s, 5);
	xlb_conf_free(&c);
	free(buf);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		xlb_err_clear();
		if (xlb_conf_parse(bad[i].text, "test.conf", &c) != -EINVAL)
			fail_msg("case %zu parsed", i);
		if (!strstr(xlb_errmsg(), bad[i].reason))
			fail_msg("case %zu: message '%s', want '%s'", i, xlb_errmsg(),
				 bad[i].reason);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_addr_classes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_checks_round_trip),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_node_settings),
		cmocka_unit_test(test_flows),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_include),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
