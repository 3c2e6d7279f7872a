// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <systemd/sd-journal.h>
#include "log.h"

int xlb_log_max = LOG_INFO;
static bool to_journal;

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connects
 * stdout/stderr to; a match with stderr means the journal reads it, and
 * the native protocol can carry priorities and fields instead.
 */
void xlb_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		     !fstat(2, &st) && (unsigned long long)st.st_dev == dev &&
		     (unsigned long long)st.st_ino == ino;
}

bool xlb_log_journal(void)
{
	return to_journal;
}

static const char *const level_names[] = {
    [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int xlb_log_level_parse(const char *s, int *prio)
{
	int i;

	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (!strcmp(s, level_names[i])) {
			*prio = i;
			return 0;
		}
	return -EINVAL;
}

static int journal_send(int prio, const char *vip, const char *be,
			const char *msg)
{
	char m[1100], p[16], v[96], b[96];
	struct iovec iov[5];
	int n = 0;

	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", prio);
	iov[n++] = (struct iovec){m, strlen(m)};
	iov[n++] = (struct iovec){p, strlen(p)};
	iov[n++] = (struct iovec){"SYSLOG_IDENTIFIER=xlb", 21};
	if (vip) {
		snprintf(v, sizeof(v), "VIP=%s", vip);
		iov[n++] = (struct iovec){v, strlen(v)};
	}
	if (be) {
		snprintf(b, sizeof(b), "BACKEND=%s", be);
		iov[n++] = (struct iovec){b, strlen(b)};
	}
	return sd_journal_sendv(iov, n);
}

void xlb_log_kv(int prio, const char *vip, const char *backend, const char *fmt,
		...)
{
	char ts[32], msg[1024];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (prio > xlb_log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A journal that does not answer: stderr still reaches it. */
	if (to_journal && !journal_send(prio, vip, backend, msg))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld xlb: %s%s\n", ts, now.tv_nsec / 1000000L,
		prio <= LOG_ERR	      ? "error: "
		: prio == LOG_WARNING ? "warning: "
				      : "",
		msg);
}
