// SPDX-License-Identifier: GPL-2.0
/*
 * host.c - the host settings the data path needs, and giving them back.
 *
 * bpf_fib_lookup answers only when forwarding is on for the device named
 * in its parameters. The data path names lo (bpf/nexthop.h), so xlb turns
 * on forwarding for lo alone, never for the interface it is attached to:
 * forwarding on that interface would make the host route whatever its
 * neighbours send it (to the backends' other ports, for one) and, for
 * IPv6, stop accepting router advertisements there. Forwarding on lo
 * routes nothing that arrives from outside: only packets received on a
 * device with forwarding on are forwarded (IPv4), and IPv6 forwards only
 * with net.ipv6.conf.all.forwarding, which xlb leaves alone.
 *
 * What lo had before the first attach is remembered per network namespace
 * in /run/xlb/netns-COOKIE (root-only; the cookie, SO_NETNS_COOKIE, is not
 * reused while the system runs, unlike a namespace's inode number) with
 * the interfaces xlb is attached to; the last detach writes it back and
 * removes the file. bpffs, where the maps are pinned, cannot hold a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host.h"
#include "util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define HOST_MAX_DEVS 64

/* The sysctls xlb changes, in the order the state file lists them. */
static const char *const host_knobs[] = {
    "net.ipv4.conf.lo.forwarding",
    "net.ipv6.conf.lo.forwarding",
};
#define HOST_NKNOBS ARRAY_SIZE(host_knobs)

struct host_state {
	int before[HOST_NKNOBS]; /* value before the first attach; -1: absent */
	int devs[HOST_MAX_DEVS]; /* ifindexes xlb is attached to */
	int ndevs;
};

static const char *run_dir(void)
{
	const char *d = getenv("XLB_RUN_DIR");

	return d && d[0] ? d : XLB_RUN_DIR_DEFAULT;
}

static int state_path(char *buf, size_t len)
{
	__u64 cookie = 0;
	socklen_t sl = sizeof(cookie);
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xlb_errf(-errno, "can't open a socket: %s",
				strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &sl))
		err = xlb_errf(-errno,
			       "can't get the network namespace cookie: %s",
			       strerror(errno));
	close(fd);
	if (!err)
		snprintf(buf, len, "%s/netns-%llu", run_dir(),
			 (unsigned long long)cookie);
	return err;
}

static void knob_path(const char *knob, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "/proc/sys/%s", knob);
	for (i = strlen("/proc/sys/"); buf[i]; i++)
		if (buf[i] == '.')
			buf[i] = '/';
}

/* A sysctl's integer value; -ENOENT when the kernel has no such knob. */
static int knob_read(const char *knob, int *val)
{
	char path[128];
	FILE *f;
	int n;

	knob_path(knob, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? -ENOENT
				       : xlb_errf(-errno, "can't read %s: %s",
						  path, strerror(errno));
	n = fscanf(f, "%d", val);
	fclose(f);
	if (n != 1)
		return xlb_errf(-EIO, "can't parse %s", path);
	return 0;
}

static int knob_write(const char *knob, int val)
{
	char path[128];
	FILE *f;
	int err = 0;

	knob_path(knob, path, sizeof(path));
	f = fopen(path, "w");
	if (!f)
		return xlb_errf(-errno, "can't open %s: %s", path,
				strerror(errno));
	if (fprintf(f, "%d\n", val) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		return xlb_errf(err, "can't write %s: %s", path,
				strerror(-err));
	return 0;
}

/* Reads the state file; -ENOENT when there is none. */
static int state_read(const char *path, struct host_state *st)
{
	char line[256], name[128];
	FILE *f;
	size_t i;
	int v;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < HOST_NKNOBS; i++)
		st->before[i] = -1;
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? -ENOENT
				       : xlb_errf(-errno, "can't read %s: %s",
						  path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%127s %d", name, &v) != 2)
			continue;
		if (!strcmp(name, "dev")) {
			if (st->ndevs < HOST_MAX_DEVS)
				st->devs[st->ndevs++] = v;
			continue;
		}
		for (i = 0; i < HOST_NKNOBS; i++)
			if (!strcmp(name, host_knobs[i]))
				st->before[i] = v;
	}
	fclose(f);
	return 0;
}

/* Replaces the state file (write, then rename: never half written). */
static int state_write(const char *path, const struct host_state *st)
{
	char tmp[320];
	FILE *f;
	size_t i;
	int fd, err = 0;

	if (mkdir(run_dir(), 0700) && errno != EEXIST)
		return xlb_errf(-errno, "can't create %s: %s", run_dir(),
				strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return xlb_errf(-errno, "can't create %s: %s", tmp,
				strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return xlb_errf(err, "can't write %s: %s", tmp, strerror(-err));
	}
	fprintf(f,
		"# xlb: sysctls before attach, restored by the last detach\n");
	for (i = 0; i < HOST_NKNOBS; i++)
		if (st->before[i] >= 0)
			fprintf(f, "%s %d\n", host_knobs[i], st->before[i]);
	for (i = 0; i < (size_t)st->ndevs; i++)
		fprintf(f, "dev %d\n", st->devs[i]);
	if (fflush(f) || fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return xlb_errf(err, "can't write %s: %s", path,
				strerror(-err));
	}
	return 0;
}

int xlb_host_enable(int ifindex)
{
	struct host_state st;
	char path[256];
	size_t i;
	int err, v;

	err = state_path(path, sizeof(path));
	if (err)
		return err;
	err = state_read(path, &st);
	if (err == -ENOENT) {
		/* First attach here: what the host had is what detach restores.
		 */
		for (i = 0; i < HOST_NKNOBS; i++) {
			err = knob_read(host_knobs[i], &v);
			if (err && err != -ENOENT)
				return err;
			st.before[i] = err ? -1 : v;
		}
	} else if (err) {
		return err;
	}
	for (i = 0; i < (size_t)st.ndevs && st.devs[i] != ifindex; i++)
		;
	if (i == (size_t)st.ndevs) {
		if (st.ndevs == HOST_MAX_DEVS)
			return xlb_errf(-ENOSPC,
					"xlb is attached to %d interfaces "
					"in this namespace already",
					HOST_MAX_DEVS);
		st.devs[st.ndevs++] = ifindex;
	}
	/* Recorded before changed: a crash in between loses nothing. */
	err = state_write(path, &st);
	if (err)
		return err;
	for (i = 0; i < HOST_NKNOBS; i++) {
		if (st.before[i] < 0)
			continue; /* e.g. IPv6 disabled on lo */
		err = knob_write(host_knobs[i], 1);
		if (err)
			return err;
	}
	return 0;
}

int xlb_host_restore(int ifindex, bool *last)
{
	struct host_state st;
	char path[256];
	int err, i, j, first = 0;
	size_t k;

	*last = false;
	err = state_path(path, sizeof(path));
	if (err)
		return err;
	err = state_read(path, &st);
	if (err == -ENOENT) {
		*last = true;
		return 0; /* nothing recorded: nothing xlb changed */
	}
	if (err)
		return err;
	for (i = j = 0; i < st.ndevs; i++)
		if (st.devs[i] != ifindex)
			st.devs[j++] = st.devs[i];
	st.ndevs = j;
	if (st.ndevs)
		return state_write(path, &st); /* still needed elsewhere */
	*last = true;
	for (k = 0; k < HOST_NKNOBS; k++) {
		if (st.before[k] < 0)
			continue;
		err = knob_write(host_knobs[k], st.before[k]);
		if (err && !first)
			first = err;
	}
	if (first)
		return first; /* keep the record for the next try */
	if (unlink(path) && errno != ENOENT)
		return xlb_errf(-errno, "can't remove %s: %s", path,
				strerror(errno));
	return 0;
}
