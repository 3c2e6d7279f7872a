// SPDX-License-Identifier: GPL-2.0
/* metrics.c - Prometheus exposition and the daemon's /metrics server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <microhttpd.h>
#include "cli.h"
#include "digest.h"
#include "metrics.h"
#include "model.h"
#include "record.h"
#include "stat.h"
#include "util.h"
#include "xdpinfo.h"

/* What is exported per backend, gathered once per rendering. */
struct be_row {
	const struct xlb_vip_ent *v;
	const struct xlb_be_ent *b;
	char vip[XLB_VIP_STRLEN], addr[XLB_ADDR_STRLEN];
	__u64 cnt[3]; /* packets, bytes, new flows */
	__u64 vip_new_flows;
	__u32 slots, flows;
	__u64 vip_flows;
	bool has_health;
	struct xlb_be_health h;
};

void xlb_metric_head(FILE *f, const char *name, const char *type,
		     const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* VIP and address strings hold none of '"', '\\' or newlines: no escaping. */
static void be_labels(FILE *f, const char *name, const struct be_row *r)
{
	fprintf(f, "%s{vip=\"%s\",backend=\"%s\"", name, r->vip, r->addr);
}

static void be_family(FILE *f, const struct be_row *rows, size_t n,
		      const char *name, const char *type, const char *help,
		      double (*val)(const struct be_row *r))
{
	size_t i;

	xlb_metric_head(f, name, type, help);
	for (i = 0; i < n; i++) {
		be_labels(f, name, &rows[i]);
		fprintf(f, "} %.10g\n", val(&rows[i]));
	}
}

static double be_packets(const struct be_row *r)
{
	return (double)r->cnt[0];
}
static double be_bytes(const struct be_row *r)
{
	return (double)r->cnt[1];
}
static double be_new(const struct be_row *r)
{
	return (double)r->cnt[2];
}
static double be_weight(const struct be_row *r)
{
	return r->b->weight;
}
static double be_ramp(const struct be_row *r)
{
	return (double)r->b->ramp / XLB_RAMP_FULL;
}
static double be_table_share(const struct be_row *r)
{
	return r->v->table_size ? (double)r->slots / r->v->table_size : 0;
}
static double be_new_share(const struct be_row *r)
{
	return r->vip_new_flows ? (double)r->cnt[2] / (double)r->vip_new_flows
				: 0;
}
static double be_flows(const struct be_row *r)
{
	return r->flows;
}
static double be_flows_share(const struct be_row *r)
{
	return r->vip_flows ? (double)r->flows / (double)r->vip_flows : 0;
}

/* Slots whose primary is each backend id of v's live table. */
static void table_slots(const struct xlb_maps *m, const struct xlb_vip_ent *v,
			struct be_row *rows, size_t n)
{
	const struct xlb_slot *t;
	__u32 *per_id, i;
	size_t j;

	if (xlb_table_map_live(m, v, &t))
		return; /* no table yet: shares stay 0 */
	per_id = calloc(XLB_MAX_BACKENDS, sizeof(*per_id));
	if (per_id) {
		for (i = 0; i < v->table_size; i++)
			if (t[i].primary < XLB_MAX_BACKENDS)
				per_id[t[i].primary]++;
		for (j = 0; j < n; j++)
			if (rows[j].v == v && rows[j].b->id < XLB_MAX_BACKENDS)
				rows[j].slots = per_id[rows[j].b->id];
	}
	free(per_id);
	xlb_table_unmap(t, v->table_size);
}

static void datapath(FILE *f, struct xlb_maps *m, const struct xlb_model *md,
		     const struct xlb_metrics_src *src)
{
	struct xlb_xdp_info xi;
	struct xlb_commit h;

	xlb_metric_head(
	    f, "xlb_build_info", "gauge",
	    "The running build: version and the map layout (ABI) it reads.");
	fprintf(f, "xlb_build_info{version=\"%s\",layout=\"%u\"} 1\n",
		XLB_VERSION, XLB_ABI);
	xlb_metric_head(f, "xlb_map_layout", "gauge",
			"Layout (ABI) of the pinned maps, as the build that "
			"made them wrote it.");
	fprintf(f, "xlb_map_layout %u\n", md->cfg.abi);
	if (xlb_xdp_find(m, src ? src->dev : NULL, &xi))
		memset(&xi, 0, sizeof(xi));
	xlb_metric_head(
	    f, "xlb_xdp_attached", "gauge",
	    "1 when an interface runs the XDP program on these maps.");
	fprintf(f, "xlb_xdp_attached %d\n", xi.prog_id ? 1 : 0);
	xlb_metric_head(
	    f, "xlb_xdp_program_id", "gauge",
	    "Id of the attached XDP program, with its interface and mode.");
	if (xi.prog_id)
		fprintf(f,
			"xlb_xdp_program_id{interface=\"%s\",mode=\"%s\"} %u\n",
			xi.dev, xi.mode, xi.prog_id);
	if (!xlb_record_header(m, &h)) {
		xlb_metric_head(f, "xlb_commits_total", "counter",
				"Configurations committed to the maps (the "
				"commit record's generation).");
		fprintf(f, "xlb_commits_total %llu\n",
			(unsigned long long)h.gen);
	}
}

/*
 * The global counters by family: what happened to packets
 * (xlb_packets_total{action}), why some were dropped
 * (xlb_drops_total{reason}), and the rest of the data path's events.
 */
static void globals(FILE *f, struct xlb_maps *m)
{
	static const struct {
		enum xlb_stat_kind kind;
		const char *name, *help, *label;
	} fam[] = {
	    {XLB_STAT_KIND_PACKET, "xlb_packets_total",
	     "Packets by what the data path did: rx seen, pass to the kernel, "
	     "tx or redirect to a backend.", "action"},
	    {XLB_STAT_KIND_DROP, "xlb_drops_total",
	     "VIP packets dropped, by reason.", "reason"},
	    {XLB_STAT_KIND_EVENT, "xlb_datapath_events_total",
	     "Data path events: flow-table hits, misses, re-selections, "
	     "next-hop refreshes, ...", "event"},
	};
	size_t i, s;
	__u64 v;

	for (i = 0; i < ARRAY_SIZE(fam); i++) {
		xlb_metric_head(f, fam[i].name, "counter", fam[i].help);
		for (s = 0; s < XLB_STAT_MAX; s++) {
			if (xlb_stat_kind((__u32)s) != fam[i].kind ||
			    xlb_percpu_sum(m->stats, (__u32)s, &v, 1))
				continue;
			fprintf(f, "%s{%s=\"%s\"} %llu\n", fam[i].name,
				fam[i].label, xlb_stat_label((__u32)s),
				(unsigned long long)v);
		}
	}
}

static void vips(FILE *f, struct xlb_maps *m, const struct xlb_model *md)
{
	static const char *const name[] = {"xlb_vip_packets_total",
					   "xlb_vip_bytes_total",
					   "xlb_vip_new_flows_total"};
	static const char *const help[] = {
	    "Packets forwarded for the VIP.",
	    "Bytes forwarded for the VIP, before encapsulation.",
	    "Flows the VIP's table chose a backend for.",
	};
	char vb[XLB_VIP_STRLEN];
	__u64 cnt[3];
	size_t i, j, k, usable;

	for (k = 0; k < 3; k++) {
		xlb_metric_head(f, name[k], "counter", help[k]);
		for (i = 0; i < md->n_vips; i++) {
			memset(cnt, 0, sizeof(cnt));
			xlb_percpu_sum(m->vip_stats, md->vips[i].id, cnt, 3);
			xlb_vip_fmt(&md->vips[i].key, vb, sizeof(vb));
			fprintf(f, "%s{vip=\"%s\"} %llu\n", name[k], vb,
				(unsigned long long)cnt[k]);
		}
	}
	xlb_metric_head(f, "xlb_vip_table_swaps_total", "counter",
			"Times the VIP's table was rebuilt and swapped in.");
	for (i = 0; i < md->n_vips; i++) {
		xlb_vip_fmt(&md->vips[i].key, vb, sizeof(vb));
		fprintf(f, "xlb_vip_table_swaps_total{vip=\"%s\"} %u\n", vb,
			md->vips[i].generation);
	}
	xlb_metric_head(
	    f, "xlb_vip_backends_usable", "gauge",
	    "Backends of the VIP that take new flows (up, weight above 0).");
	for (i = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];

		for (j = 0, usable = 0; j < v->n_be; j++)
			usable +=
			    v->be[j].state == XLB_BE_UP && v->be[j].weight;
		xlb_vip_fmt(&v->key, vb, sizeof(vb));
		fprintf(f, "xlb_vip_backends_usable{vip=\"%s\"} %zu\n", vb,
			usable);
	}
}

static void backends(FILE *f, struct xlb_maps *m, const struct xlb_model *md,
		     const struct xlb_metrics_src *src, const __u32 *flows)
{
	static const char *const states[] = {"up", "down", "drain"};
	struct be_row *rows;
	size_t n = 0, i, j, k;
	__u64 vc[3], vflows;

	for (i = 0; i < md->n_vips; i++)
		n += md->vips[i].n_be;
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return;
	for (i = 0, k = 0; i < md->n_vips; i++) {
		const struct xlb_vip_ent *v = &md->vips[i];
		size_t first = k;

		memset(vc, 0, sizeof(vc));
		xlb_percpu_sum(m->vip_stats, v->id, vc, 3);
		for (j = 0, vflows = 0; j < v->n_be; j++, k++) {
			struct be_row *r = &rows[k];

			r->v = v;
			r->b = &v->be[j];
			xlb_vip_fmt(&v->key, r->vip, sizeof(r->vip));
			xlb_addr_fmt(r->b->addr.family, r->b->addr.a, r->addr,
				     sizeof(r->addr));
			xlb_percpu_sum(m->be_stats, r->b->id, r->cnt, 3);
			r->vip_new_flows = vc[2];
			r->flows =
			    r->b->id < XLB_MAX_BACKENDS ? flows[r->b->id] : 0;
			vflows += r->flows;
			if (src && src->be_health)
				r->has_health = src->be_health(
				    src->arg, &v->key, &r->b->addr, &r->h);
		}
		for (j = first; j < k; j++)
			rows[j].vip_flows = vflows;
		table_slots(m, v, rows + first, k - first);
	}
	be_family(f, rows, n, "xlb_backend_packets_total", "counter",
		  "Packets forwarded to the backend.", be_packets);
	be_family(f, rows, n, "xlb_backend_bytes_total", "counter",
		  "Bytes forwarded to the backend, before encapsulation.",
		  be_bytes);
	be_family(f, rows, n, "xlb_backend_new_flows_total", "counter",
		  "Flows the table sent to the backend.", be_new);
	xlb_metric_head(
	    f, "xlb_backend_state", "gauge",
	    "The backend's state in the data path: 1 for the state it is in.");
	for (i = 0; i < n; i++)
		for (k = 0; k < ARRAY_SIZE(states); k++) {
			be_labels(f, "xlb_backend_state", &rows[i]);
			fprintf(f, ",state=\"%s\"} %d\n", states[k],
				rows[i].b->state == k + XLB_BE_UP);
		}
	be_family(f, rows, n, "xlb_backend_weight", "gauge",
		  "The backend's configured weight.", be_weight);
	be_family(f, rows, n, "xlb_backend_slow_start_ratio", "gauge",
		  "Slow-start progress: the share of its weight the backend "
		  "has (1: done).",
		  be_ramp);
	be_family(f, rows, n, "xlb_backend_table_share_ratio", "gauge",
		  "Share of the VIP's table slots the backend owns.",
		  be_table_share);
	be_family(f, rows, n, "xlb_backend_new_flows_share_ratio", "gauge",
		  "Share of the VIP's new flows the backend got since the "
		  "counters started; compare with the table share.",
		  be_new_share);
	be_family(f, rows, n, "xlb_backend_flows", "gauge",
		  "Flow-table entries pinned to the backend.", be_flows);
	be_family(f, rows, n, "xlb_backend_flows_share_ratio", "gauge",
		  "Share of the VIP's flow-table entries pinned to the backend "
		  "(many clients behind one NAT show here).",
		  be_flows_share);
	if (src && src->be_health) {
		xlb_metric_head(f, "xlb_backend_check_up", "gauge",
				"The health check's verdict (rise/fall "
				"applied): 1 healthy, 0 failing.");
		for (i = 0; i < n; i++)
			if (rows[i].has_health && rows[i].h.checked) {
				be_labels(f, "xlb_backend_check_up", &rows[i]);
				fprintf(f, "} %d\n", rows[i].h.up);
			}
		xlb_metric_head(f, "xlb_backend_check_duration_seconds",
				"gauge",
				"How long the last health check took.");
		for (i = 0; i < n; i++)
			if (rows[i].has_health && rows[i].h.checked) {
				be_labels(f,
					  "xlb_backend_check_duration_seconds",
					  &rows[i]);
				fprintf(f, "} %.6f\n", rows[i].h.latency_s);
			}
		xlb_metric_head(
		    f, "xlb_backend_check_last_transition_timestamp_seconds",
		    "gauge",
		    "Unix time the health check's verdict last changed (0: "
		    "never).");
		for (i = 0; i < n; i++)
			if (rows[i].has_health && rows[i].h.checked) {
				be_labels(f,
					  "xlb_backend_check_last_transition_"
					  "timestamp_seconds",
					  &rows[i]);
				fprintf(f, "} %.3f\n", rows[i].h.transition_s);
			}
		xlb_metric_head(f, "xlb_backend_checks_total", "counter",
				"Health checks run, by result.");
		for (i = 0; i < n; i++)
			if (rows[i].has_health && rows[i].h.checked) {
				be_labels(f, "xlb_backend_checks_total",
					  &rows[i]);
				fprintf(f, ",result=\"ok\"} %llu\n",
					(unsigned long long)rows[i].h.ok);
				be_labels(f, "xlb_backend_checks_total",
					  &rows[i]);
				fprintf(f, ",result=\"failed\"} %llu\n",
					(unsigned long long)rows[i].h.failed);
			}
	}
	free(rows);
}

int xlb_metrics_render(struct xlb_maps *m, const struct xlb_metrics_src *src,
		       char **buf, size_t *len)
{
	struct xlb_config cfg;
	struct xlb_model md;
	__u32 *flows;
	__u64 used = 0;
	FILE *f;
	int err, i;

	flows = calloc(XLB_MAX_BACKENDS, sizeof(*flows));
	if (!flows)
		return xlb_errf(-ENOMEM, "out of memory");
	err = xlb_model_read(m, &md);
	if (!err)
		err = xlb_config_read(m, &cfg);
	if (err) {
		free(flows);
		return err;
	}
	/* One walk of the flow table for the per-backend counts and the total.
	 */
	xlb_flows_count(m, flows);
	for (i = 0; i < XLB_MAX_BACKENDS; i++)
		used += flows[i];
	f = open_memstream(buf, len);
	if (!f) {
		err = xlb_errf(-errno, "out of memory");
		goto out;
	}
	datapath(f, m, &md, src);
	xlb_metric_head(f, "xlb_flow_table_entries", "gauge",
			"Flow-table entries in use.");
	fprintf(f, "xlb_flow_table_entries %llu\n", (unsigned long long)used);
	xlb_metric_head(
	    f, "xlb_flow_table_capacity", "gauge",
	    "Flow-table entries it holds at most (attach --flows).");
	fprintf(f, "xlb_flow_table_capacity %llu\n",
		(unsigned long long)cfg.flow_sets * XLB_FLOW_WAYS);
	globals(f, m);
	vips(f, m, &md);
	xlb_digest_metrics(f, m, &md); /* nodes that agree print the same */
	backends(f, m, &md, src, flows);
	if (src && src->extra)
		src->extra(src->arg, f);
	if (fclose(f))
		err = xlb_errf(-ENOMEM, "out of memory");
out:
	xlb_model_free(&md);
	free(flows);
	return err;
}

int xlb_hostport_parse(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	const char *colon, *h = s;
	bool bracketed = s[0] == '[';
	struct xlb_addr a;
	char host[64];
	__u32 port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(s, ':');
	if (!colon)
		goto bad;
	hl = (size_t)(colon - s);
	if (bracketed) {
		if (hl < 3 || s[hl - 1] != ']')
			goto bad;
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (xlb_addr_parse(host, &a) ||
	    xlb_parse_u32(colon + 1, 1, 65535, &port))
		goto bad;
	if (a.family == XLB_AF_INET && strchr(host, ':'))
		goto bad;
	if (a.family == XLB_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((__u16)port);
		s4->sin_addr.s_addr = a.a[0];
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (!bracketed)
			goto bad; /* IPv6 needs its brackets before :PORT */
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((__u16)port);
		memcpy(&s6->sin6_addr, a.a, 16);
		*len = sizeof(*s6);
	}
	return 0;
bad:
	xlb_err_clear();
	return xlb_errf(-EINVAL,
			"invalid address '%s' (want ADDR:PORT or [ADDR6]:PORT)",
			s);
}

/* ---- the server -------------------------------------------------------- */

/*
 * libmicrohttpd without a thread of its own: its epoll set sits in the
 * daemon's, MHD_run handles what is ready, and its connection timeouts
 * ride one of the loop's timers. Requests are answered in the loop's
 * thread, so a scrape reads the maps and the checks' state without locks.
 */
struct xlb_metrics_srv {
	struct MHD_Daemon *mhd;
	struct xlb_loop *loop;
	struct xlb_io io;
	struct xlb_timer t;
	struct xlb_maps *m;
	struct xlb_metrics_src src;
};

static void srv_run(struct xlb_metrics_srv *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(s->mhd);
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		xlb_timer_arm(s->loop, &s->t, xlb_ms() + (ms ? ms : 1));
	else
		xlb_timer_cancel(s->loop, &s->t);
}

static void srv_io(struct xlb_io *io, __u32 events)
{
	srv_run(
	    (struct xlb_metrics_srv *)((char *)io -
				       offsetof(struct xlb_metrics_srv, io)));
}

static void srv_timer(struct xlb_timer *t)
{
	srv_run(
	    (struct xlb_metrics_srv *)((char *)t -
				       offsetof(struct xlb_metrics_srv, t)));
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code,
			     const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	static char root[] =
	    "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n";
	static char notfound[] = "not found: try /metrics\n";
	static char badmethod[] = "GET or HEAD only\n";
	static char failed[] = "can't read the balancer's state\n";
	struct xlb_metrics_srv *s = cls;
	char *body = NULL;
	size_t len = 0;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     badmethod, strlen(badmethod),
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", root, strlen(root),
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", notfound,
			     strlen(notfound), MHD_RESPMEM_PERSISTENT);
	if (xlb_metrics_render(s->m, &s->src, &body, &len)) {
		free(body);
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     failed, strlen(failed), MHD_RESPMEM_PERSISTENT);
	}
	return reply(conn, MHD_HTTP_OK,
		     "text/plain; version=0.0.4; charset=utf-8", body, len,
		     MHD_RESPMEM_MUST_FREE);
}

int xlb_metrics_serve(struct xlb_loop *l, const char *addr, struct xlb_maps *m,
		      const struct xlb_metrics_src *src,
		      struct xlb_metrics_srv **out)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct xlb_metrics_srv *s;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	socklen_t sl;
	int err;

	err = xlb_hostport_parse(addr, &ss, &sl);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return xlb_errf(-ENOMEM, "out of memory");
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->loop = l;
	s->m = m;
	s->src = *src;
	xlb_timer_init(&s->t, srv_timer);
	s->mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 32U,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	if (!s->mhd) {
		err = errno ? -errno : -EADDRINUSE;
		free(s);
		return xlb_errf(err, "can't serve metrics on %s: %s", addr,
				strerror(-err));
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	s->io.fd = info ? info->epoll_fd : -1;
	s->io.fn = srv_io;
	err = s->io.fd < 0 ? xlb_errf(-EIO, "libmicrohttpd has no epoll set")
			   : xlb_loop_add(l, &s->io, EPOLLIN);
	if (err) {
		MHD_stop_daemon(s->mhd);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void xlb_metrics_stop(struct xlb_metrics_srv *s)
{
	if (!s)
		return;
	xlb_timer_cancel(s->loop, &s->t);
	epoll_ctl(s->loop->ep, EPOLL_CTL_DEL, s->io.fd, NULL);
	MHD_stop_daemon(s->mhd);
	free(s);
}
