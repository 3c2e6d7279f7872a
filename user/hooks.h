/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hooks.h - the daemon's per-VIP notify hooks: `notify_up` runs when a
 * VIP gains its first usable (UP) backend, `notify_down` when it loses
 * its last one, as keepalived's notify scripts do for a virtual server.
 *
 * A hook is an argv from the configuration, started with posix_spawn (no
 * shell, no PATH), stdin /dev/null, stdout and stderr the daemon's, the
 * daemon's environment plus XLB_VIP (e.g. "203.0.113.10:80/tcp") and
 * XLB_EVENT ("up" or "down"), in a process group of its own. It is
 * reaped through a pidfd on the daemon's event loop, which it never
 * blocks, and its group is killed (SIGKILL) after notify_timeout.
 *
 * Per VIP one hook runs at a time, in the order of the transitions; the
 * transitions seen while one runs collapse to the latest state, so the
 * last hook run always says how the VIP is. The state a VIP has when the
 * daemon first sees it (start, reload adding it) fires nothing: a
 * restarted daemon does not page again for what was paged before.
 */
#ifndef XLB_HOOKS_H
#define XLB_HOOKS_H

#include "conf.h"
#include "health.h"
#include "model.h"

struct xlb_hooks;

/* conf: where the hooks' argv are read from when one starts. */
struct xlb_hooks *xlb_hooks_new(struct xlb_loop *l, const struct xlb_conf *conf);
/* Running hooks are left to finish on their own (never waited for). */
void xlb_hooks_free(struct xlb_hooks *h);
/* Each look at the live model: compares each VIP with the last look. */
void xlb_hooks_update(struct xlb_hooks *h, const struct xlb_model *live);
/* Hooks started, failed (non-zero, killed or not started), running. */
void xlb_hooks_counts(const struct xlb_hooks *h, __u64 *started,
		      __u64 *failed, __u64 *running);

#endif /* XLB_HOOKS_H */
