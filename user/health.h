/* SPDX-License-Identifier: GPL-2.0 */
/*
 * health.h - the daemon's event loop and its health probes. One thread:
 * every probe is a non-blocking socket in one epoll set, every deadline a
 * timer in one min-heap behind one timerfd, so thousands of backends cost
 * a few system calls per check and no thread each. HTTP and HTTPS checks
 * are libcurl transfers on one multi handle whose sockets and timeout
 * live in that same epoll set and heap (curl_multi_socket_action): curl
 * never waits, the loop does.
 */
#ifndef XLB_HEALTH_H
#define XLB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "addr.h"
#include "conf.h"

#define XLB_TIMER_IDLE ((size_t)-1)

/* Monotonic clock in milliseconds (the loop's time base). */
__u64 xlb_ms(void);

struct xlb_timer {
	__u64 at; /* monotonic ms when it fires */
	size_t idx; /* place in the heap; XLB_TIMER_IDLE when not armed */
	void (*fn)(struct xlb_timer *t);
};

/* A file descriptor watched by the loop. */
struct xlb_io {
	int fd;
	void (*fn)(struct xlb_io *io, __u32 events);
};

struct xlb_curl;

struct xlb_loop {
	int ep; /* epoll */
	int tfd; /* timerfd, armed for the earliest timer */
	__u64 tfd_at; /* what tfd is armed for; 0 when disarmed */
	struct xlb_io tio;
	struct xlb_timer **heap;
	size_t n, cap;
	struct xlb_curl *curl; /* HTTP(S) checks; made by the first one */
};

int xlb_loop_init(struct xlb_loop *l);
void xlb_loop_fini(struct xlb_loop *l);
int xlb_loop_add(struct xlb_loop *l, struct xlb_io *io, __u32 events);
int xlb_loop_mod(struct xlb_loop *l, struct xlb_io *io, __u32 events);
/* Waits for the next events or timers (at most max_ms) and runs them. */
int xlb_loop_run_once(struct xlb_loop *l, int max_ms);

static inline void xlb_timer_init(struct xlb_timer *t,
				  void (*fn)(struct xlb_timer *t))
{
	t->at = 0;
	t->idx = XLB_TIMER_IDLE;
	t->fn = fn;
}

static inline bool xlb_timer_armed(const struct xlb_timer *t)
{
	return t->idx != XLB_TIMER_IDLE;
}

/* (Re)arms t for monotonic ms at; 0 or -ENOMEM. */
int xlb_timer_arm(struct xlb_loop *l, struct xlb_timer *t, __u64 at);
void xlb_timer_cancel(struct xlb_loop *l, struct xlb_timer *t);

/*
 * One health check in flight: TCP connect, or an HTTP(S) GET whose status
 * must be one of check->expect and whose body must hold check->body. The
 * owner sets the target fields and `done`, then calls xlb_probe_start;
 * `done` runs exactly once, from the loop (never from inside
 * xlb_probe_start), unless xlb_probe_stop comes first.
 */
struct xlb_probe {
	/* Target, set by the owner. */
	const struct xlb_check *check; /* type, path, host, ...; owner's */
	struct xlb_addr addr;
	__u16 port;
	__u32 timeout_ms;
	void (*done)(struct xlb_probe *p, bool ok, const char *why);
	/* Private. */
	struct xlb_loop *loop;
	struct xlb_io io;
	struct xlb_timer tmo;
	int phase;
	void *easy; /* CURL *, an HTTP(S) check in flight */
	void *hdrs; /* struct curl_slist *, its Host header */
	char *body; /* what came of the body, when check->body is wanted */
	size_t body_len;
	bool found; /* check->body seen */
	bool stopped; /* the body stopped on purpose: all that was needed */
	char url[512], connect_to[640];
	char err[256]; /* CURLOPT_ERRORBUFFER */
	char why[96];
};

void xlb_probe_init(struct xlb_probe *p, struct xlb_loop *l);
/* Starts a check now; 0, or -EBUSY when one is in flight. */
int xlb_probe_start(struct xlb_probe *p);
bool xlb_probe_busy(const struct xlb_probe *p);
/* Abandons a check in flight without calling done. */
void xlb_probe_stop(struct xlb_probe *p);

#endif /* XLB_HEALTH_H */
