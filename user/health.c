// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - the daemon's event loop (epoll, one timerfd, a min-heap of
 * timers) and non-blocking health probes on it: TCP connects of our own,
 * HTTP and HTTPS through libcurl's multi interface, whose sockets and
 * timeout the loop watches for it.
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
#include <curl/curl.h>
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
	h = xlb_grow(l->heap, l->n, &l->cap, sizeof(*h), 256);
	if (!h)
		return -ENOMEM;
	l->heap = h;
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

static void curl_fini(struct xlb_loop *l);
static void curl_reap(struct xlb_loop *l);

void xlb_loop_fini(struct xlb_loop *l)
{
	curl_fini(l);
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
	curl_reap(l);
	return 0;
}

/* ---- probes -------------------------------------------------------------- */

enum {
	PH_IDLE = 0,
	PH_CONNECT, /* TCP: non-blocking connect in progress */
	PH_CURL, /* HTTP(S): a transfer on the multi handle */
	PH_FAILED, /* failed before any I/O: reported from the timer */
};

#define BODY_MAX (64U << 10) /* body searched for check->body */

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

/* ---- libcurl on the loop ------------------------------------------------ */

struct csock;

struct xlb_curl {
	struct xlb_loop *loop;
	CURLM *multi;
	struct xlb_timer tmo; /* what CURLMOPT_TIMERFUNCTION asked for */
	struct csock *dead; /* removed this turn: freed after its events */
};

/* A socket curl asked the loop to watch. */
struct csock {
	struct xlb_io io;
	struct xlb_curl *cu;
	struct csock *next; /* on cu->dead */
};

static void http_verdict(struct xlb_probe *p, CURLcode rc);

/* Transfers that ended: each probe's verdict. */
static void curl_done(struct xlb_curl *cu)
{
	struct CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(cu->multi, &left))) {
		struct xlb_probe *p = NULL;
		CURLcode rc = msg->data.result;
		CURL *e = msg->easy_handle;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&p);
		if (p && p->easy == e)
			http_verdict(p, rc);
	}
}

static void csock_event(struct xlb_io *io, __u32 events)
{
	struct csock *cs = container_of(io, struct csock, io);
	int mask = 0, running;

	if (io->fd < 0)
		return; /* removed by an earlier event of this turn */
	if (events & EPOLLIN)
		mask |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(cs->cu->multi, io->fd, mask, &running);
	curl_done(cs->cu);
}

static int curl_sock_cb(CURL *e, curl_socket_t s, int what, void *userp,
			void *sockp)
{
	struct xlb_curl *cu = userp;
	struct csock *cs = sockp;
	__u32 ev = 0;

	if (what == CURL_POLL_REMOVE) {
		if (!cs)
			return 0;
		epoll_ctl(cu->loop->ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(cu->multi, s, NULL);
		/* Its events may still be in this turn's batch. */
		cs->io.fd = -1;
		cs->next = cu->dead;
		cu->dead = cs;
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (cs)
		return xlb_loop_mod(cu->loop, &cs->io, ev) ? -1 : 0;
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -1;
	cs->cu = cu;
	cs->io.fd = s;
	cs->io.fn = csock_event;
	if (xlb_loop_add(cu->loop, &cs->io, ev)) {
		free(cs);
		return -1;
	}
	curl_multi_assign(cu->multi, s, cs);
	return 0;
}

static void curl_timeout(struct xlb_timer *t)
{
	struct xlb_curl *cu = container_of(t, struct xlb_curl, tmo);
	int running;

	curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_done(cu);
}

/* Only arms a timer: curl wants no socket_action from inside its callbacks. */
static int curl_timer_cb(CURLM *m, long ms, void *userp)
{
	struct xlb_curl *cu = userp;

	if (ms < 0) {
		xlb_timer_cancel(cu->loop, &cu->tmo);
		return 0;
	}
	return xlb_timer_arm(cu->loop, &cu->tmo, xlb_ms() + (__u64)ms) ? -1 : 0;
}

static int curl_init(struct xlb_loop *l)
{
	struct xlb_curl *cu;

	if (l->curl)
		return 0;
	/* Once per process; the daemon runs one thread. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return xlb_errf(-ENOMEM, "can't initialise libcurl");
	cu = calloc(1, sizeof(*cu));
	if (!cu)
		return -ENOMEM;
	cu->multi = curl_multi_init();
	if (!cu->multi) {
		free(cu);
		return xlb_errf(-ENOMEM, "can't make a curl multi handle");
	}
	cu->loop = l;
	xlb_timer_init(&cu->tmo, curl_timeout);
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
	l->curl = cu;
	return 0;
}

static void curl_reap(struct xlb_loop *l)
{
	struct xlb_curl *cu = l->curl;
	struct csock *cs;

	while (cu && (cs = cu->dead)) {
		cu->dead = cs->next;
		free(cs);
	}
}

/* Every probe is stopped first (their easy handles removed). */
static void curl_fini(struct xlb_loop *l)
{
	struct xlb_curl *cu = l->curl;

	if (!cu)
		return;
	curl_multi_cleanup(cu->multi);
	xlb_timer_cancel(l, &cu->tmo);
	curl_reap(l);
	free(cu);
	l->curl = NULL;
}

/* ---- the probe ---------------------------------------------------------- */

static void probe_close(struct xlb_probe *p)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (p->io.fd >= 0) {
		/* Reset rather than linger in TIME_WAIT: checks are frequent. */
		setsockopt(p->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(p->io.fd);
	}
	p->io.fd = -1;
	if (p->easy) {
		curl_multi_remove_handle(p->loop->curl->multi, p->easy);
		curl_easy_cleanup(p->easy);
		p->easy = NULL;
	}
	curl_slist_free_all(p->hdrs);
	p->hdrs = NULL;
	free(p->body);
	p->body = NULL;
	p->body_len = 0;
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

static const char *scheme(const struct xlb_probe *p)
{
	return p->check->type == XLB_CHECK_HTTPS ? "https" : "http";
}

static void http_verdict(struct xlb_probe *p, CURLcode rc)
{
	const struct xlb_check *ck = p->check;
	char msg[sizeof(p->why)];
	long status = 0;

	/* A write error we caused: the status (and the body) were enough. */
	if (rc == CURLE_WRITE_ERROR && p->stopped)
		rc = CURLE_OK;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(msg, sizeof(msg), "%s: no response within %u ms",
			 scheme(p), p->timeout_ms);
		probe_finish(p, false, msg);
		return;
	}
	/* As a TCP check says it: curl's sentence names what the log does. */
	if (rc == CURLE_COULDNT_CONNECT &&
	    !curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &status) && status) {
		errstr(msg, sizeof(msg), "connect", (int)status);
		probe_finish(p, false, msg);
		return;
	}
	if (rc != CURLE_OK) {
		snprintf(msg, sizeof(msg), "%s: %.88s", scheme(p),
			 p->err[0] ? p->err : curl_easy_strerror(rc));
		probe_finish(p, false, msg);
		return;
	}
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!xlb_check_status_ok(ck, (unsigned int)status)) {
		snprintf(msg, sizeof(msg), "%s: status %ld", scheme(p), status);
		probe_finish(p, false, msg);
		return;
	}
	if (ck->body[0] && !p->found) {
		snprintf(msg, sizeof(msg), "%s: status %ld, body without \"%.40s\"",
			 scheme(p), status, ck->body);
		probe_finish(p, false, msg);
		return;
	}
	probe_finish(p, true, NULL);
}

/*
 * The body, as it comes: searched for check->body, kept only as far as
 * a match could straddle two pieces. Returning short stops the transfer
 * once the answer is known: a check reads no more than it needs.
 */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xlb_probe *p = arg;
	const char *want = p->check->body;
	size_t len = size * n, wl = strlen(want), from;

	if (!wl || p->found) {
		p->stopped = true;
		return 0;
	}
	if (!p->body) {
		p->body = malloc(BODY_MAX);
		if (!p->body)
			return 0;
	}
	if (len > BODY_MAX - p->body_len)
		len = BODY_MAX - p->body_len;
	from = p->body_len >= wl ? p->body_len - wl + 1 : 0;
	memcpy(p->body + p->body_len, data, len);
	p->body_len += len;
	if (memmem(p->body + from, p->body_len - from, want, wl)) {
		p->found = true;
		p->stopped = true;
		return 0;
	}
	if (p->body_len >= BODY_MAX) {
		p->stopped = true; /* not in the first BODY_MAX bytes: failed */
		return 0;
	}
	return size * n;
}

static int probe_start_http(struct xlb_probe *p)
{
	const struct xlb_check *ck = p->check;
	char ip[XLB_ADDR_STRLEN + 2], a[XLB_ADDR_STRLEN];
	bool v6 = p->addr.family == XLB_AF_INET6;
	CURL *e;
	int err;

	err = curl_init(p->loop);
	if (err)
		return err;
	xlb_addr_fmt(p->addr.family, p->addr.a, a, sizeof(a));
	snprintf(ip, sizeof(ip), v6 ? "[%s]" : "%s", a);
	/*
	 * With a host, the URL names it (Host header, TLS server name and
	 * certificate name all follow) and CONNECT_TO sends the connection
	 * to this backend: no resolver, and no other backend's connection.
	 */
	snprintf(p->url, sizeof(p->url), "%s://%s:%u%s", scheme(p),
		 ck->host[0] ? ck->host : ip, p->port, ck->path);
	e = curl_easy_init();
	if (!e)
		return xlb_errf(-ENOMEM, "can't make a curl handle");
	p->easy = e;
	p->err[0] = '\0';
	p->found = p->stopped = false;
	curl_easy_setopt(e, CURLOPT_URL, p->url);
	if (ck->host[0]) {
		snprintf(p->connect_to, sizeof(p->connect_to), "%s:%u:%s:%u",
			 ck->host, p->port, ip, p->port);
		p->hdrs = curl_slist_append(NULL, p->connect_to);
		if (!p->hdrs)
			return -ENOMEM;
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, p->hdrs);
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)p);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
	/* The check is of this backend, now: no proxy, no old connection. */
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "xlb-health");
	if (ck->type == XLB_CHECK_HTTPS) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, ck->verify ? 1L : 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, ck->verify ? 2L : 0L);
		if (ck->ca[0])
			curl_easy_setopt(e, CURLOPT_CAINFO, ck->ca);
	}
	if (curl_multi_add_handle(p->loop->curl->multi, e) != CURLM_OK)
		return xlb_errf(-ENOMEM, "can't start a curl transfer");
	p->phase = PH_CURL;
	return 0;
}

static void probe_event(struct xlb_io *io, __u32 events)
{
	struct xlb_probe *p = container_of(io, struct xlb_probe, io);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;

	if (io->fd < 0 || p->phase != PH_CONNECT)
		return;
	if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		probe_fail_errno(p, "connect", err);
		return;
	}
	len = sizeof(ss);
	if (getpeername(io->fd, (struct sockaddr *)&ss, &len))
		return; /* not connected yet: a stale event */
	probe_finish(p, true, NULL);
}

static void probe_timeout(struct xlb_timer *t)
{
	struct xlb_probe *p = container_of(t, struct xlb_probe, tmo);
	char msg[sizeof(p->why)];

	if (p->phase == PH_FAILED)
		snprintf(msg, sizeof(msg), "%s", p->why);
	else
		snprintf(msg, sizeof(msg), "connect: no answer within %u ms",
			 p->timeout_ms);
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
	probe_close(p);
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
	if (p->check->type == XLB_CHECK_HTTP || p->check->type == XLB_CHECK_HTTPS) {
		err = probe_start_http(p);
		if (err)
			return probe_fail_later(p, scheme(p), -err);
		return 0;
	}
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
