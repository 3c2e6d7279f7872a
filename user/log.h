/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - the daemon's log: syslog priorities, a --log-level threshold,
 * and two sinks. Under systemd with stderr connected to the journal
 * ($JOURNAL_STREAM names it), lines go to journald directly with their
 * priority and structured fields (VIP=, BACKEND=) and without a timestamp
 * of their own; elsewhere to stderr, timestamped, prefixed "warning: " or
 * "error: " at those priorities.
 */
#ifndef XLB_LOG_H
#define XLB_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Lines above this priority (less important) are dropped; LOG_INFO. */
extern int xlb_log_max;

/* Picks the sink: the journal when stderr is the journal's stream. */
void xlb_log_init(void);
bool xlb_log_journal(void);
/* "error", "warning", "notice", "info" or "debug"; -EINVAL. */
int xlb_log_level_parse(const char *s, int *prio);

/* vip and backend (NULL when none) become the VIP= and BACKEND= fields. */
void xlb_log_kv(int prio, const char *vip, const char *backend, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));
#define xlb_log(prio, ...) xlb_log_kv(prio, NULL, NULL, __VA_ARGS__)

#endif /* XLB_LOG_H */
