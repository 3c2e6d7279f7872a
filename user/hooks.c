// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c - notify hooks run by the daemon (see hooks.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "hooks.h"
#include "log.h"
#include "util.h"

extern char **environ;

struct hvip {
	struct xlb_hooks *h;
	struct xlb_vip_key key;
	char vname[XLB_VIP_STRLEN];
	bool up; /* as last seen */
	bool told_up; /* what the last hook started said (or the first look) */
	bool seen, gone;
	/* The running hook, if any. */
	pid_t pid; /* 0: none */
	struct xlb_io io; /* its pidfd */
	struct xlb_timer t_kill;
	bool killed;
	__u64 started_ms;
};

struct xlb_hooks {
	struct xlb_loop *loop;
	const struct xlb_conf *conf;
	struct hvip **v;
	size_t n, cap;
	__u64 started, failed;
};

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

static void run_next(struct hvip *r);

struct xlb_hooks *xlb_hooks_new(struct xlb_loop *l, const struct xlb_conf *conf)
{
	struct xlb_hooks *h = calloc(1, sizeof(*h));

	if (h) {
		h->loop = l;
		h->conf = conf;
	}
	return h;
}

static void hvip_free(struct hvip *r)
{
	xlb_timer_cancel(r->h->loop, &r->t_kill);
	if (r->pid)
		close(r->io.fd); /* leaves epoll with it */
	free(r);
}

void xlb_hooks_free(struct xlb_hooks *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		hvip_free(h->v[i]);
	free(h->v);
	free(h);
}

void xlb_hooks_counts(const struct xlb_hooks *h, __u64 *started,
		      __u64 *failed, __u64 *running)
{
	size_t i;

	*started = h ? h->started : 0;
	*failed = h ? h->failed : 0;
	*running = 0;
	for (i = 0; h && i < h->n; i++)
		*running += h->v[i]->pid != 0;
}

static void on_hook_exit(struct xlb_io *io, __u32 events)
{
	struct hvip *r = container_of(io, struct hvip, io);
	struct xlb_hooks *h = r->h;
	__u64 took = xlb_ms() - r->started_ms;
	int st = 0;
	pid_t p;

	p = waitpid(r->pid, &st, WNOHANG);
	if (p == 0)
		return; /* not yet: a spurious wakeup */
	if (p < 0) {
		xlb_log_kv(LOG_ERR, r->vname, NULL, "VIP %s: can't reap hook %d: %s",
			   r->vname, (int)r->pid, strerror(errno));
		h->failed++;
	} else if (r->killed) {
		h->failed++; /* said when killed */
	} else if (WIFEXITED(st) && !WEXITSTATUS(st)) {
		xlb_log_kv(LOG_INFO, r->vname, NULL, "VIP %s: %s hook done in %llu ms",
			   r->vname, r->told_up ? "notify_up" : "notify_down",
			   (unsigned long long)took);
	} else {
		h->failed++;
		if (WIFEXITED(st))
			xlb_log_kv(LOG_WARNING, r->vname, NULL,
				   "VIP %s: %s hook exited with status %d",
				   r->vname, r->told_up ? "notify_up" : "notify_down",
				   WEXITSTATUS(st));
		else
			xlb_log_kv(LOG_WARNING, r->vname, NULL,
				   "VIP %s: %s hook killed by signal %d",
				   r->vname, r->told_up ? "notify_up" : "notify_down",
				   WTERMSIG(st));
	}
	close(r->io.fd);
	r->io.fd = -1;
	r->pid = 0;
	r->killed = false;
	xlb_timer_cancel(h->loop, &r->t_kill);
	if (r->gone) {
		size_t i;

		for (i = 0; i < h->n && h->v[i] != r; i++)
			;
		if (i < h->n)
			h->v[i] = h->v[--h->n];
		free(r);
		return;
	}
	run_next(r);
}

static void on_timeout(struct xlb_timer *t)
{
	struct hvip *r = container_of(t, struct hvip, t_kill);

	if (!r->pid)
		return;
	/* The group: a script's own children (sleep, curl) go with it. */
	xlb_log_kv(LOG_WARNING, r->vname, NULL,
		   "VIP %s: %s hook (pid %d) still running after %llu ms: killing it",
		   r->vname, r->told_up ? "notify_up" : "notify_down", (int)r->pid,
		   (unsigned long long)(xlb_ms() - r->started_ms));
	kill(-r->pid, SIGKILL);
	kill(r->pid, SIGKILL);
	r->killed = true;
}

/* The daemon's environment without XLB_*, plus XLB_VIP and XLB_EVENT. */
static char **hook_env(const char *vip, const char *event)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "XLB_VIP=", 8) &&
		    strncmp(environ[i], "XLB_EVENT=", 10))
			env[k++] = environ[i];
	if (asprintf(&env[k++], "XLB_VIP=%s", vip) < 0) {
		free(env);
		return NULL;
	}
	if (asprintf(&env[k], "XLB_EVENT=%s", event) < 0) {
		free(env[k - 1]);
		free(env);
		return NULL;
	}
	return env;
}

static int spawn(struct hvip *r, char *const *argv, __u32 timeout_ms)
{
	const char *event = r->told_up ? "up" : "down";
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char **env;
	pid_t pid;
	int err, fd, n;

	env = hook_env(r->vname, event);
	if (!env)
		return -ENOMEM;
	for (n = 0; env[n]; n++)
		;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_init(&fa);
	/*
	 * The daemon blocks the signals its signalfd reads and ignores
	 * SIGPIPE; both would be inherited through exec. Its own group, so
	 * that a timeout kills what the hook started too.
	 */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = -posix_spawn(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(env[n - 1]);
	free(env[n - 2]);
	free(env);
	if (err)
		return xlb_errf(err, "can't run %s: %s", argv[0], strerror(-err));
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		err = xlb_errf(-errno, "pidfd_open: %s", strerror(errno));
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0); /* dies at once: SIGKILL */
		return err;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	r->io.fd = fd;
	r->io.fn = on_hook_exit;
	err = xlb_loop_add(r->h->loop, &r->io, EPOLLIN);
	if (err) {
		close(fd);
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return err;
	}
	r->pid = pid;
	r->killed = false;
	r->started_ms = xlb_ms();
	xlb_timer_arm(r->h->loop, &r->t_kill, r->started_ms + timeout_ms);
	return 0;
}

/* Starts the hook for the VIP's state when it is not the one last told. */
static void run_next(struct hvip *r)
{
	const struct xlb_vip_conf *vc;
	char *const *argv;
	int err;

	if (r->pid || r->up == r->told_up)
		return;
	r->told_up = r->up;
	vc = xlb_conf_vip(r->h->conf, &r->key);
	argv = vc ? (r->up ? vc->notify_up : vc->notify_down) : NULL;
	if (!argv)
		return;
	r->h->started++;
	err = spawn(r, argv, vc->notify_timeout_ms);
	if (err) {
		r->h->failed++;
		xlb_log_kv(LOG_ERR, r->vname, NULL, "VIP %s: %s hook not run: %s",
			   r->vname, r->up ? "notify_up" : "notify_down", xlb_errmsg());
		return;
	}
	xlb_log_kv(LOG_NOTICE, r->vname, NULL, "VIP %s %s: running %s (pid %d)",
		   r->vname, r->up ? "has a usable backend again" : "has no usable backend",
		   argv[0], (int)r->pid);
}

static bool vip_usable(const struct xlb_vip_ent *v)
{
	size_t i;

	for (i = 0; i < v->n_be; i++)
		if (v->be[i].state == XLB_BE_UP)
			return true;
	return false;
}

void xlb_hooks_update(struct xlb_hooks *h, const struct xlb_model *live)
{
	size_t i, j, n;

	if (!h)
		return;
	for (j = 0; j < h->n; j++)
		h->v[j]->seen = false;
	for (i = 0; i < live->n_vips; i++) {
		const struct xlb_vip_ent *v = &live->vips[i];
		struct hvip *r = NULL;

		for (j = 0; j < h->n && !r; j++)
			if (!h->v[j]->gone &&
			    !memcmp(&h->v[j]->key, &v->key, sizeof(v->key)))
				r = h->v[j];
		if (!r) {
			struct hvip **nv = xlb_grow(h->v, h->n, &h->cap,
						    sizeof(*nv), 16);

			if (!nv) {
				xlb_log(LOG_ERR, "out of memory (hooks)");
				continue;
			}
			h->v = nv;
			r = calloc(1, sizeof(*r));
			if (!r) {
				xlb_log(LOG_ERR, "out of memory (hooks)");
				continue;
			}
			r->h = h;
			r->key = v->key;
			r->io.fd = -1;
			xlb_vip_fmt(&v->key, r->vname, sizeof(r->vname));
			xlb_timer_init(&r->t_kill, on_timeout);
			/* First look: the state it has, not a transition. */
			r->up = r->told_up = vip_usable(v);
			h->v[h->n++] = r;
		}
		r->seen = true;
		r->up = vip_usable(v);
		run_next(r);
	}
	/* VIPs gone: forgotten, once their running hook is reaped. */
	for (j = 0, n = 0; j < h->n; j++) {
		struct hvip *r = h->v[j];

		if (!r->seen && !r->gone && r->pid)
			r->gone = true;
		if (!r->seen && !r->pid) {
			hvip_free(r);
			continue;
		}
		h->v[n++] = r;
	}
	h->n = n;
}
