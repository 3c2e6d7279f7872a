// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - the daemon's event loop (epoll, one timerfd, a min-heap of
 * timers) and non-blocking TCP and HTTP health probes on it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "health.h"
#include "util.h"

__u64 xlb_ms(void)
{
	return xlb_now_mono_ns() / 1000000ULL;
}

/* ---- timers: a binary min-heap on `at` ---------------------------------- */

static void heap_set(struct xlb_loop *l, size_t i, struct xlb_timer *t)
{
	l->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct xlb_loop *l, size_t i)
{
	struct xlb_timer *t = l->heap[i];

	while (i) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->at <= t->at)
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void heap_down(struct xlb_loop *l, size_t i)
{
	struct xlb_timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->n)
			break;
		if (c + 1 < l->n && l->heap[c + 1]->at < l->heap[c]->at)
			c++;
		if (t->at <= l->heap[c]->at)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void xlb_timer_cancel(struct xlb_loop *l, struct xlb_timer *t)
{
	size_t i = t->idx;
	struct xlb_timer *last;

	if (i == XLB_TIMER_IDLE)
		return;
	t->idx = XLB_TIMER_IDLE;
	if (i == --l->n)
		return;
	last = l->heap[l->n];
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->idx);
}

int xlb_timer_arm(struct xlb_loop *l, struct xlb_timer *t, __u64 at)
{
	struct xlb_timer **h;

	xlb_timer_cancel(l, t);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;

		h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->cap = cap;
	}
	t->at = at;
	heap_set(l, l->n++, t);
	heap_up(l, l->n - 1);
	return 0;
}

/* ---- the loop ------------------------------------------------------------ */

static void tfd_read(struct xlb_io *io, __u32 events)
{
	struct xlb_loop *l = (struct xlb_loop *)((char *)io - offsetof(struct xlb_loop, tio));
	__u64 expirations;

	if (read(io->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		xlb_errf(-errno, "timerfd read: %s", strerror(errno));
	/*
	 * Expired: armed for nothing now. Left as it was, a timer armed
	 * later for that same millisecond found the timerfd "armed for it"
	 * and was never woken for: the loop then slept until some I/O.
	 */
	l->tfd_at = 0;
}

int xlb_loop_init(struct xlb_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->tfd = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		return xlb_errf(-errno, "can't create an epoll set: %s",
				strerror(errno));
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0) {
		int err = -errno;

		close(l->ep);
		return xlb_errf(err, "can't create a timerfd: %s", strerror(-err));
	}
	l->tio.fd = l->tfd;
	l->tio.fn = tfd_read;
	return xlb_loop_add(l, &l->tio, EPOLLIN);
}

void xlb_loop_fini(struct xlb_loop *l)
{
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->ep >= 0)
		close(l->ep);
	free(l->heap);
	memset(l, 0, sizeof(*l));
	l->ep = l->tfd = -1;
}

int xlb_loop_add(struct xlb_loop *l, struct xlb_io *io, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, io->fd, &ev))
		return xlb_errf(-errno, "epoll add: %s", strerror(errno));
	return 0;
}

int xlb_loop_mod(struct xlb_loop *l, struct xlb_io *io, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, io->fd, &ev))
		return xlb_errf(-errno, "epoll mod: %s", strerror(errno));
	return 0;
}

/* Arms the timerfd for the earliest timer, if that changed. */
static void tfd_arm(struct xlb_loop *l)
{
	struct itimerspec its = { 0 };
	__u64 at = l->n ? l->heap[0]->at : 0;

	if (at == l->tfd_at)
		return;
	/* Armed earlier and not fired yet: an early wakeup costs less. */
	if (at && l->tfd_at && l->tfd_at < at && l->tfd_at > xlb_ms())
		return;
	if (at) {
		/* 0 would disarm: the earliest possible instant is 1 ms. */
		its.it_value.tv_sec = (time_t)(at / 1000);
		its.it_value.tv_nsec = (long)(at % 1000) * 1000000L;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (!timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		l->tfd_at = at;
}

int xlb_loop_run_once(struct xlb_loop *l, int max_ms)
{
	struct epoll_event ev[64];
	__u64 now;
	int n, i;

	tfd_arm(l);
	n = epoll_wait(l->ep, ev, (int)ARRAY_SIZE(ev), max_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return xlb_errf(-errno, "epoll_wait: %s", strerror(errno));
	}
	for (i = 0; i < n; i++) {
		struct xlb_io *io = ev[i].data.ptr;

		io->fn(io, ev[i].events);
	}
	now = xlb_ms();
	while (l->n && l->heap[0]->at <= now) {
		struct xlb_timer *t = l->heap[0];

		xlb_timer_cancel(l, t);
		t->fn(t);
	}
	return 0;
}

/* ---- probes -------------------------------------------------------------- */

enum {
	PH_IDLE = 0,
	PH_CONNECT, /* non-blocking connect in progress */
	PH_SEND, /* HTTP request going out */
	PH_RECV, /* waiting for the status line */
	PH_FAILED, /* failed before any I/O: reported from the timer */
};

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* strerror in lower case, as in "connection refused". */
static void errstr(char *buf, size_t len, const char *what, int err)
{
	char *c;

	snprintf(buf, len, "%s: %s", what, strerror(err));
	c = strchr(buf, ':');
	if (c && c[1] == ' ')
		c[2] = (char)tolower((unsigned char)c[2]);
}

static void probe_close(struct xlb_probe *p)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (p->io.fd >= 0) {
		/* Reset rather than linger in TIME_WAIT: checks are frequent. */
		setsockopt(p->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(p->io.fd);
	}
	p->io.fd = -1;
	xlb_timer_cancel(p->loop, &p->tmo);
	p->phase = PH_IDLE;
}

static void probe_finish(struct xlb_probe *p, bool ok, const char *why)
{
	char msg[sizeof(p->why)];

	snprintf(msg, sizeof(msg), "%s", why ? why : "");
	probe_close(p);
	p->done(p, ok, msg);
}

static void probe_fail_errno(struct xlb_probe *p, const char *what, int err)
{
	char msg[sizeof(p->why)];

	errstr(msg, sizeof(msg), what, err);
	probe_finish(p, false, msg);
}

/* Parses "HTTP/x.y NNN ..." at the start of buf. */
static int http_status(const char *buf)
{
	const char *s;

	if (strncmp(buf, "HTTP/", 5))
		return -1;
	s = strchr(buf, ' ');
	if (!s || !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
	    !isdigit((unsigned char)s[3]))
		return -1;
	return (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
}

static void probe_send(struct xlb_probe *p)
{
	size_t len = strlen(p->buf);
	ssize_t n;

	while (p->off < len) {
		n = send(p->io.fd, p->buf + p->off, len - p->off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return; /* EPOLLOUT again */
			probe_fail_errno(p, "http send", errno);
			return;
		}
		p->off += (size_t)n;
	}
	p->phase = PH_RECV;
	p->off = 0;
	p->buf[0] = '\0';
	if (xlb_loop_mod(p->loop, &p->io, EPOLLIN | EPOLLRDHUP))
		probe_fail_errno(p, "epoll", errno);
}

static void probe_recv(struct xlb_probe *p)
{
	char msg[sizeof(p->why)];
	bool eof = false;
	ssize_t n;
	int st;

	while (p->off < sizeof(p->buf) - 1) {
		n = recv(p->io.fd, p->buf + p->off, sizeof(p->buf) - 1 - p->off,
			 MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			probe_fail_errno(p, "http recv", errno);
			return;
		}
		if (!n) {
			eof = true;
			break;
		}
		p->off += (size_t)n;
	}
	p->buf[p->off] = '\0';
	if (!strchr(p->buf, '\n') && !eof && p->off < sizeof(p->buf) - 1)
		return; /* the status line is not complete yet */
	if (!p->off) {
		probe_finish(p, false, "http: connection closed without a response");
		return;
	}
	st = http_status(p->buf);
	if (st < 0) {
		probe_finish(p, false, "http: not an HTTP response");
	} else if (st < 200 || st > 299) {
		snprintf(msg, sizeof(msg), "http: status %d", st);
		probe_finish(p, false, msg);
	} else {
		probe_finish(p, true, NULL);
	}
}

static void probe_event(struct xlb_io *io, __u32 events)
{
	struct xlb_probe *p = container_of(io, struct xlb_probe, io);
	char host[XLB_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;

	if (io->fd < 0)
		return;
	switch (p->phase) {
	case PH_CONNECT:
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		if (err) {
			probe_fail_errno(p, "connect", err);
			return;
		}
		len = sizeof(ss);
		if (getpeername(io->fd, (struct sockaddr *)&ss, &len))
			return; /* not connected yet: a stale event */
		if (p->type == XLB_CHECK_TCP) {
			probe_finish(p, true, NULL);
			return;
		}
		xlb_addr_fmt(p->addr.family, p->addr.a, host, sizeof(host));
		snprintf(p->buf, sizeof(p->buf),
			 "GET %s HTTP/1.0\r\nHost: %s%s%s\r\nUser-Agent: xlb-health\r\nConnection: close\r\n\r\n",
			 p->path, p->addr.family == XLB_AF_INET6 ? "[" : "", host,
			 p->addr.family == XLB_AF_INET6 ? "]" : "");
		p->off = 0;
		p->phase = PH_SEND;
		probe_send(p);
		return;
	case PH_SEND:
		probe_send(p);
		return;
	case PH_RECV:
		probe_recv(p);
		return;
	default:
		return;
	}
}

static void probe_timeout(struct xlb_timer *t)
{
	struct xlb_probe *p = container_of(t, struct xlb_probe, tmo);
	char msg[sizeof(p->why)];

	switch (p->phase) {
	case PH_FAILED:
		snprintf(msg, sizeof(msg), "%s", p->why);
		break;
	case PH_CONNECT:
		snprintf(msg, sizeof(msg), "connect: no answer within %u ms",
			 p->timeout_ms);
		break;
	default:
		snprintf(msg, sizeof(msg), "http: no response within %u ms",
			 p->timeout_ms);
		break;
	}
	probe_finish(p, false, msg);
}

void xlb_probe_init(struct xlb_probe *p, struct xlb_loop *l)
{
	memset(p, 0, sizeof(*p));
	p->loop = l;
	p->io.fd = -1;
	p->io.fn = probe_event;
	xlb_timer_init(&p->tmo, probe_timeout);
}

bool xlb_probe_busy(const struct xlb_probe *p)
{
	return p->phase != PH_IDLE;
}

void xlb_probe_stop(struct xlb_probe *p)
{
	if (p->loop)
		probe_close(p);
}

/* Reports a failure from the loop, not from inside xlb_probe_start. */
static int probe_fail_later(struct xlb_probe *p, const char *what, int err)
{
	if (p->io.fd >= 0)
		close(p->io.fd);
	p->io.fd = -1;
	errstr(p->why, sizeof(p->why), what, err);
	p->phase = PH_FAILED;
	return xlb_timer_arm(p->loop, &p->tmo, xlb_ms());
}

int xlb_probe_start(struct xlb_probe *p)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, err;

	if (p->phase != PH_IDLE)
		return -EBUSY;
	if (p->addr.family == XLB_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(p->port);
		s4->sin_addr.s_addr = p->addr.a[0];
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p->port);
		memcpy(&s6->sin6_addr, p->addr.a, 16);
		sl = sizeof(*s6);
	}
	p->off = 0;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0)
		return probe_fail_later(p, "socket", errno);
	p->io.fd = fd;
	if (connect(fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS)
		return probe_fail_later(p, "connect", errno);
	p->phase = PH_CONNECT;
	err = xlb_loop_add(p->loop, &p->io, EPOLLOUT);
	if (err)
		return probe_fail_later(p, "epoll", -err);
	return xlb_timer_arm(p->loop, &p->tmo, xlb_ms() + p->timeout_ms);
}
