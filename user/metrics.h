/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - the Prometheus text exposition of a balancer: what the data
 * path counted (per VIP, per backend, drops by reason), the tables'
 * shares beside the new flows' and the flow table's, the maps' layout,
 * where the program runs; and, from the daemon, its health checks and
 * commits. `xlb stats --prometheus` prints it once; `xlb daemon` serves
 * it at /metrics with libmicrohttpd on its own event loop.
 *
 * Reading it costs the data path nothing: per-CPU counters are summed,
 * the flow table and the live tables read, by the reader alone.
 */
#ifndef XLB_METRICS_H
#define XLB_METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include "addr.h"
#include "health.h"
#include "maps.h"

/* A backend's health as the daemon's checks see it. */
struct xlb_be_health {
	bool checked;	     /* false: no check configured */
	bool up;	     /* the last verdict (rise/fall applied) */
	double latency_s;    /* duration of the last check */
	double transition_s; /* Unix time of the last verdict change; 0: none */
	__u64 ok, failed;    /* checks that passed, failed */
};

/* What the daemon adds to what the maps tell. */
struct xlb_metrics_src {
	/* Health of a backend; false when the daemon does not know it. */
	bool (*be_health)(void *arg, const struct xlb_vip_key *k,
			  const struct xlb_addr *a, struct xlb_be_health *h);
	/* Writes the daemon's own families. */
	void (*extra)(void *arg, FILE *f);
	void *arg;
	const char *dev; /* the interface to look at; NULL: every one */
};

/* Renders the exposition into *buf (malloc'd, *len bytes); 0 or -errno. */
int xlb_metrics_render(struct xlb_maps *m, const struct xlb_metrics_src *src,
		       char **buf, size_t *len);

/*
 * "ADDR:PORT" or "[ADDR6]:PORT" to a socket address; -EINVAL (message
 * recorded) otherwise.
 */
int xlb_hostport_parse(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len);

/* Writes one metric family's header. */
void xlb_metric_head(FILE *f, const char *name, const char *type,
		     const char *help);

struct xlb_metrics_srv;
/* Serves GET /metrics on addr, on loop l; -errno (message recorded). */
int xlb_metrics_serve(struct xlb_loop *l, const char *addr, struct xlb_maps *m,
		      const struct xlb_metrics_src *src,
		      struct xlb_metrics_srv **out);
void xlb_metrics_stop(struct xlb_metrics_srv *s);

#endif /* XLB_METRICS_H */
