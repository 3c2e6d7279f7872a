// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include "maps.h"
#include "util.h"
#include "xlb.skel.h"

int xlb_lock_timeout_ms = XLB_LOCK_TIMEOUT_MS;

static bool fd_on_bpffs(int fd)
{
	struct statfs sfs;

	return !fstatfs(fd, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/*
 * A directory on the way to the pin directory, opened as fd, that others
 * could use to plant, swap or remove pins: one we (root) do not own, or
 * that group or others may write. The bpffs mount's own root is usually
 * root's mode 1777: its sticky bit stops others from renaming or removing
 * what we made there, so it may stay writable (mount_root).
 */
static int dir_check(int fd, const char *dir, const char *path, bool mount_root)
{
	uid_t me = geteuid();
	struct stat st;

	if (fstat(fd, &st))
		return xlb_errf(-errno, "can't inspect %s: %s", path,
				strerror(errno));
	if (st.st_uid != me && !(mount_root && st.st_uid == 0))
		return xlb_errf(-EPERM,
				"refusing pin directory %s: %s is owned by uid %u, "
				"not by uid %u (this xlb); remove it or choose "
				"another --pin-dir",
				dir, path, (unsigned)st.st_uid, (unsigned)me);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(mount_root && (st.st_mode & S_ISVTX)))
		return xlb_errf(-EPERM,
				"refusing pin directory %s: %s is writable by %s "
				"(mode %04o); make it 0700",
				dir, path,
				st.st_mode & S_IWOTH ? "others" : "its group",
				(unsigned)(st.st_mode & 07777));
	return 0;
}

/* Why name (in parent fd, path so far) could not be opened as a directory. */
static int open_error(int parent, const char *name, const char *dir,
		      const char *path, int err)
{
	struct stat st;

	if ((err == -ELOOP || err == -ENOTDIR) &&
	    !fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (S_ISLNK(st.st_mode))
			return xlb_errf(-ELOOP,
					"refusing pin directory %s: %s is a symbolic "
					"link (give the real path)",
					dir, path);
		return xlb_errf(-ENOTDIR, "pin directory %s: %s is not a directory",
				dir, path);
	}
	if (err == -ENOENT)
		return xlb_errf(err, "no pin directory %s", dir);
	return xlb_errf(err, "can't open %s: %s", path, strerror(-err));
}

int xlb_pin_dir_open(const char *dir, bool create)
{
	char path[PATH_MAX], name[NAME_MAX + 1];
	const char *p = dir, *end;
	bool on_bpf = false, last;
	size_t len, at = 0;
	int fd, nfd, err;

	if (!*dir)
		return xlb_errf(-EINVAL, "the pin directory must not be empty");
	if (*dir != '/')
		return xlb_errf(-EINVAL, "pin directory %s: give an absolute path",
				dir);
	if (strlen(dir) >= sizeof(path))
		return xlb_errf(-ENAMETOOLONG, "pin directory %s: path too long",
				dir);
	/*
	 * Walk one component at a time, never through a symlink, checking
	 * each directory on bpffs through the descriptor it was opened as:
	 * what a check passed is what is used, however the names change.
	 */
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return xlb_errf(-errno, "can't open /: %s", strerror(errno));
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len > NAME_MAX) {
			close(fd);
			return xlb_errf(-ENAMETOOLONG,
					"pin directory %s: a name is too long", dir);
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p = end;
		while (*end == '/')
			end++;
		last = !*end;
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			close(fd);
			return xlb_errf(-EINVAL,
					"pin directory %s: '.' and '..' are not allowed",
					dir);
		}
		at += (size_t)snprintf(path + at, sizeof(path) - at, "/%s", name);
		nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			/* Only bpffs holds pins: make nothing anywhere else. */
			if (!fd_on_bpffs(fd)) {
				close(fd);
				return xlb_errf(-ENOTSUP,
						"pin directory %s is not on a bpf "
						"filesystem (nothing created)",
						dir);
			}
			if (mkdirat(fd, name, 0700) && errno != EEXIST) {
				err = -errno;
				close(fd);
				return xlb_errf(err, "can't create %s: %s", path,
						strerror(-err));
			}
			nfd = openat(fd, name,
				     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			err = open_error(fd, name, dir, path, -errno);
			close(fd);
			return err;
		}
		close(fd);
		fd = nfd;
		if (fd_on_bpffs(fd)) {
			err = dir_check(fd, dir, path, !on_bpf && !last);
			if (err) {
				close(fd);
				return err;
			}
			on_bpf = true;
		}
	}
	if (!on_bpf || !fd_on_bpffs(fd)) {
		close(fd);
		return xlb_errf(-ENOTSUP, "pin directory %s is not on a bpf filesystem",
				dir);
	}
	/* The directory itself, readable for flock(). */
	nfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = -errno;
	close(fd);
	if (nfd < 0)
		return xlb_errf(err, "can't open %s: %s", dir, strerror(-err));
	return nfd;
}

int xlb_pin_dir_prepare(const char *dir)
{
	struct statfs sfs;
	int fd;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type != BPF_FS_MAGIC &&
	    !strncmp(dir, "/sys/fs/bpf/", 12)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			return xlb_errf(-errno, "can't mount bpffs on /sys/fs/bpf: %s",
					strerror(errno));
	}
	fd = xlb_pin_dir_open(dir, true);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* "/proc/self/fd/N/name": name inside the directory opened as dfd. */
static void at_path(char *buf, size_t len, int dfd, const char *name)
{
	snprintf(buf, len, "/proc/self/fd/%d/%s", dfd, name);
}

/*
 * The config map fd of maps in dir is of this build's layout; *cfg is
 * its value. The layout field has kept its place (bytes 36-39) in every
 * layout, so another one is named whatever its config's size.
 */
static int abi_check(int fd, const char *dir, struct xlb_config *cfg)
{
	const size_t at = offsetof(struct xlb_config, abi);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0, abi = 0;
	__u8 *val;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return xlb_errf(-errno, "can't inspect %s/%s: %s", dir,
				XLB_PIN_CONFIG, strerror(errno));
	val = calloc(1, info.value_size > sizeof(*cfg) ? info.value_size :
							 sizeof(*cfg));
	if (!val)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, val)) {
		free(val);
		return xlb_errf(-errno, "can't read %s/%s: %s", dir,
				XLB_PIN_CONFIG, strerror(errno));
	}
	if (info.value_size >= at + sizeof(abi))
		memcpy(&abi, val + at, sizeof(abi));
	memcpy(cfg, val, sizeof(*cfg));
	free(val);
	if (info.value_size == sizeof(*cfg) && abi == XLB_ABI)
		return 0;
	return xlb_errf(-EPROTO,
			"the maps in %s were made by an xlb with another map layout "
			"(%u, this one's is %u) and would be misread: detach that "
			"xlb, remove %s, then attach this one (flows and counters "
			"start afresh)",
			dir, abi, XLB_ABI, dir);
}

/* Every pinned map: its field in struct xlb_maps and its capacity. */
static const struct {
	const char *name;
	size_t off;
	__u32 entries; /* max_entries this build gives it; 0: the config's */
} pin_names[] = {
	{ XLB_PIN_CONFIG, offsetof(struct xlb_maps, config), 1 },
	{ XLB_PIN_VIPS, offsetof(struct xlb_maps, vips), XLB_MAX_VIPS * 2 },
	{ XLB_PIN_TABLES, offsetof(struct xlb_maps, tables), XLB_MAX_VIPS * 2 },
	{ XLB_PIN_BACKENDS, offsetof(struct xlb_maps, backends), XLB_MAX_BACKENDS },
	{ XLB_PIN_STATE, offsetof(struct xlb_maps, state), XLB_MAX_BACKENDS },
	{ XLB_PIN_NEXTHOP, offsetof(struct xlb_maps, nexthop), XLB_MAX_BACKENDS },
	{ XLB_PIN_FLOWS, offsetof(struct xlb_maps, flows), 0 },
	{ XLB_PIN_STATS, offsetof(struct xlb_maps, stats), XLB_STAT_MAX },
	{ XLB_PIN_VIP_STATS, offsetof(struct xlb_maps, vip_stats), XLB_MAX_VIPS },
	{ XLB_PIN_BE_STATS, offsetof(struct xlb_maps, be_stats), XLB_MAX_BACKENDS },
	{ XLB_PIN_VIP_FILTER, offsetof(struct xlb_maps, vip_filter), 1 },
	{ XLB_PIN_COMMIT, offsetof(struct xlb_maps, commit), 1 },
	{ XLB_PIN_REC_VIPS, offsetof(struct xlb_maps, rec_vips),
	  XLB_REC_SLOTS * XLB_MAX_VIPS },
	{ XLB_PIN_REC_BACKENDS, offsetof(struct xlb_maps, rec_backends),
	  XLB_REC_SLOTS * XLB_MAX_BACKENDS },
};

/*
 * Maps of this layout but other capacities (a build with other XLB_DEFS,
 * or a flow table its config does not describe) would be indexed past
 * their ends: refused like another layout.
 */
static int capacity_check(int fd, size_t i, const char *dir,
			  const struct xlb_config *cfg)
{
	__u32 want = pin_names[i].entries ? pin_names[i].entries :
					    cfg->flow_sets;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return xlb_errf(-errno, "can't inspect %s/%s: %s", dir,
				pin_names[i].name, strerror(errno));
	if (info.max_entries == want)
		return 0;
	return xlb_errf(-EPROTO,
			"%s/%s holds %u entries where %s %u%s: detach that xlb, "
			"remove %s, then attach this one (flows and counters "
			"start afresh)",
			dir, pin_names[i].name, info.max_entries,
			pin_names[i].entries ? "this xlb expects" : "its config says",
			want, pin_names[i].entries ? " (built with other XLB_DEFS?)" : "",
			dir);
}

/*
 * xlb_pins_check on the pin directory opened as dfd, with the pinned
 * config in *cfg (zero when none).
 */
static int pins_check(int dfd, const char *dir, struct xlb_config *cfg)
{
	char path[PATH_MAX];
	size_t i;
	int fd, err;

	memset(cfg, 0, sizeof(*cfg));
	at_path(path, sizeof(path), dfd, XLB_PIN_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 :
			xlb_errf(-errno, "can't open %s/%s: %s", dir,
				 XLB_PIN_CONFIG, strerror(errno));
	err = abi_check(fd, dir, cfg);
	close(fd);
	for (i = 0; i < ARRAY_SIZE(pin_names) && !err; i++) {
		at_path(path, sizeof(path), dfd, pin_names[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue; /* a map this build adds is made at load */
		err = capacity_check(fd, i, dir, cfg);
		close(fd);
	}
	return err;
}

int xlb_pins_check(const char *dir)
{
	struct xlb_config cfg;
	int dfd, err;

	dfd = xlb_pin_dir_open(dir, false);
	if (dfd == -ENOENT)
		return 0; /* nothing pinned yet */
	if (dfd < 0)
		return dfd;
	err = pins_check(dfd, dir, &cfg);
	close(dfd);
	return err;
}

int xlb_skel_load(const char *dir, __u32 flow_sets, struct xlb_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	char root[64];
	struct xlb_config cfg;
	struct xlb_bpf *skel = NULL;
	__u32 zero = 0;
	int err, fd, dfd;

	dfd = xlb_pin_dir_open(dir, false);
	if (dfd < 0)
		return dfd;
	/* libbpf pins and reuses maps through the descriptor checked. */
	snprintf(root, sizeof(root), "/proc/self/fd/%d", dfd);
	opts.pin_root_path = root;
	err = pins_check(dfd, dir, &cfg);
	if (err)
		goto fail;
	/*
	 * The flow table's size is chosen when it is made, never after; the
	 * check above matched a pinned table against cfg.flow_sets.
	 */
	if (cfg.abi) {
		if (flow_sets && cfg.flow_sets != flow_sets) {
			err = xlb_errf(-EEXIST,
				       "the flow table in %s holds %u flows; its size "
				       "is chosen when it is made (remove %s to start "
				       "afresh)",
				       dir, cfg.flow_sets * XLB_FLOW_WAYS, dir);
			goto fail;
		}
		flow_sets = cfg.flow_sets; /* reused as it is */
	}
	skel = xlb_bpf__open_opts(&opts);
	if (!skel) {
		err = xlb_errf(-errno, "can't open the BPF object: %s",
			       strerror(errno));
		goto fail;
	}
	if (flow_sets &&
	    (err = bpf_map__set_max_entries(skel->maps.xlb_flows, flow_sets))) {
		xlb_errf(err, "can't size the flow table: %s", strerror(-err));
		goto fail;
	}
	err = xlb_bpf__load(skel);
	if (err) {
		xlb_errf(err,
			 "can't load the XDP program (pinned maps in %s incompatible?): %s",
			 dir, strerror(-err));
		goto fail;
	}
	/* Maps this load created carry this build's layout from now on. */
	fd = bpf_map__fd(skel->maps.xlb_config);
	if (bpf_map_lookup_elem(fd, &zero, &cfg)) {
		err = xlb_errf(-errno, "can't read config: %s", strerror(errno));
	} else if (!cfg.abi) {
		cfg.abi = XLB_ABI;
		cfg.flow_sets = bpf_map__max_entries(skel->maps.xlb_flows);
		if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
			err = xlb_errf(-errno, "can't write config: %s",
				       strerror(errno));
	}
	if (err)
		goto fail;
	close(dfd);
	*out = skel;
	return 0;
fail:
	xlb_bpf__destroy(skel);
	close(dfd);
	return err;
}

/*
 * For a mappable map, replaces *fd by a new descriptor of the map got by
 * id (read-write, so that it can be mapped); others are left as they are.
 */
static int reopen_mappable(int *fd, const char *dir, const char *name)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int nfd;

	if (bpf_obj_get_info_by_fd(*fd, &info, &len))
		return xlb_errf(-errno, "can't inspect %s/%s: %s", dir, name,
				strerror(errno));
	if (!(info.map_flags & BPF_F_MMAPABLE))
		return 0;
	nfd = bpf_map_get_fd_by_id(info.id);
	if (nfd < 0)
		return xlb_errf(-errno, "can't open %s/%s: %s", dir, name,
				strerror(errno));
	close(*fd);
	*fd = nfd;
	return 0;
}

int xlb_maps_open_mode(const char *dir, struct xlb_maps *m, bool rdonly)
{
	LIBBPF_OPTS(bpf_obj_get_opts, gopts);
	struct xlb_config cfg;
	struct statvfs vfs;
	char path[PATH_MAX];
	size_t i;
	int fd, err;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < ARRAY_SIZE(pin_names); i++)
		*(int *)((char *)m + pin_names[i].off) = -1;
	m->lock_fd = -1;
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	m->dir_fd = xlb_pin_dir_open(dir, false);
	if (m->dir_fd < 0) {
		err = m->dir_fd;
		m->dir_fd = -1;
		if (err == -ENOENT)
			return xlb_errf(err,
					"no xlb maps in %s: run 'xlb attach DEV' first",
					dir);
		return err;
	}
	/*
	 * bpf_obj_get() heeds a read-only superblock but not a read-only
	 * mount: a read-only view of the pins must be honoured here, or a
	 * writer would change the maps through it.
	 */
	if (!fstatvfs(m->dir_fd, &vfs) && (vfs.f_flag & ST_RDONLY))
		rdonly = true;
	m->rdonly = rdonly;
	if (rdonly)
		gopts.file_flags = BPF_F_RDONLY;
	for (i = 0; i < ARRAY_SIZE(pin_names); i++) {
		at_path(path, sizeof(path), m->dir_fd, pin_names[i].name);
		fd = bpf_obj_get_opts(path, &gopts);
		if (fd < 0) {
			err = -errno;
			xlb_maps_close(m);
			if (err == -ENOENT)
				return xlb_errf(err,
						"no xlb maps in %s: run 'xlb attach DEV' first",
						dir);
			return xlb_errf(err, "can't open %s/%s: %s", dir,
					pin_names[i].name, strerror(-err));
		}
		*(int *)((char *)m + pin_names[i].off) = fd;
	}
	/*
	 * The kernel maps a map only through a writable descriptor (a
	 * read-only one loses VM_SHARED, which BPF requires), and readers
	 * map the mappable arrays (flows, backends, records) PROT_READ:
	 * theirs come by id, which a read-only bpffs does not stop. The
	 * lock still refuses writers (m->rdonly).
	 */
	for (i = 0; rdonly && i < ARRAY_SIZE(pin_names); i++) {
		err = reopen_mappable((int *)((char *)m + pin_names[i].off), dir,
				      pin_names[i].name);
		if (err) {
			xlb_maps_close(m);
			return err;
		}
	}
	err = abi_check(m->config, dir, &cfg);
	for (i = 0; i < ARRAY_SIZE(pin_names) && !err; i++)
		err = capacity_check(*(int *)((char *)m + pin_names[i].off), i,
				     dir, &cfg);
	if (err)
		xlb_maps_close(m);
	return err;
}

int xlb_maps_open(const char *dir, struct xlb_maps *m)
{
	return xlb_maps_open_mode(dir, m, false);
}

int xlb_maps_open_ro(const char *dir, struct xlb_maps *m)
{
	return xlb_maps_open_mode(dir, m, true);
}

void xlb_maps_close(struct xlb_maps *m)
{
	size_t i;
	int *fd;

	for (i = 0; i < ARRAY_SIZE(pin_names); i++) {
		fd = (int *)((char *)m + pin_names[i].off);
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	xlb_maps_unlock(m);
	if (m->dir_fd >= 0)
		close(m->dir_fd);
	m->dir_fd = -1;
}

/* The pid holding a flock on the file open as fd (from /proc/locks), or 0. */
static int flock_holder(int fd)
{
	unsigned int maj, min;
	unsigned long ino;
	char line[256], kind[16];
	struct stat st;
	int pid, found = 0;
	FILE *f;

	if (fstat(fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strstr(line, "->")) /* a waiter, not the holder */
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &pid,
			   &maj, &min, &ino) != 5)
			continue;
		if (!strcmp(kind, "FLOCK") && maj == major(st.st_dev) &&
		    min == minor(st.st_dev) && ino == st.st_ino && pid > 0)
			found = pid;
	}
	fclose(f);
	return found;
}

/*
 * flock(LOCK_EX) on a new open of the pin directory within timeout_ms;
 * a try (timeout 0, no message) when try.
 */
static int lock_within(struct xlb_maps *m, int timeout_ms, bool try)
{
	__u64 deadline = xlb_now_mono_ns() + (__u64)timeout_ms * 1000000ULL;
	int fd, err, pid;

	if (m->lock_fd >= 0)
		return 0;
	if (m->rdonly)
		return xlb_errf(-EROFS,
				"the pin directory %s is read-only here (a read-only "
				"mount, or opened for reading): this command changes "
				"the maps",
				m->dir);
	/* A new open file description of the directory checked, not its name. */
	fd = openat(m->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return xlb_errf(-errno, "can't open %s: %s", m->dir,
				strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err != -EWOULDBLOCK) {
			close(fd);
			return xlb_errf(err, "can't lock %s: %s", m->dir,
					strerror(-err));
		}
		if (try) {
			close(fd);
			return -EWOULDBLOCK; /* a try: the caller decides */
		}
		if (xlb_now_mono_ns() >= deadline) {
			pid = flock_holder(fd);
			close(fd);
			if (pid)
				return xlb_errf(-EBUSY,
						"another xlb holds the lock on %s "
						"(pid %d); gave up after %d ms",
						m->dir, pid, timeout_ms);
			return xlb_errf(-EBUSY,
					"another xlb holds the lock on %s; gave up "
					"after %d ms",
					m->dir, timeout_ms);
		}
		poll(NULL, 0, 10);
	}
	m->lock_fd = fd;
	return 0;
}

int xlb_maps_lock(struct xlb_maps *m)
{
	return lock_within(m, xlb_lock_timeout_ms, false);
}

int xlb_maps_trylock(struct xlb_maps *m)
{
	return lock_within(m, 0, true);
}

void xlb_maps_unlock(struct xlb_maps *m)
{
	if (m->lock_fd >= 0)
		close(m->lock_fd); /* closing the last descriptor drops the flock */
	m->lock_fd = -1;
}

int xlb_pin_guard_holder(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd, pid;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* Read from /proc/locks: asking with flock would take it an instant. */
	pid = flock_holder(fd);
	close(fd);
	return pid;
}

int xlb_pin_guard(const char *dir, const char *name, bool create, int *holder)
{
	char path[PATH_MAX];
	int dfd, fd, err;

	*holder = 0;
	if (create && (err = xlb_pin_dir_prepare(dir)))
		return err;
	dfd = xlb_pin_dir_open(dir, false);
	if (dfd < 0)
		return dfd;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* bpffs holds no regular files: the guard is a directory. */
	if (mkdirat(dfd, name, 0700) && errno != EEXIST) {
		err = -errno;
		close(dfd);
		return xlb_errf(err, "can't create %s: %s", path, strerror(-err));
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = fd < 0 ? open_error(dfd, name, dir, path, -errno) : 0;
	close(dfd);
	if (!err)
		err = dir_check(fd, dir, path, false);
	if (!err && flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		if (err == -EWOULDBLOCK) {
			*holder = flock_holder(fd);
			err = -EBUSY;
		} else {
			xlb_errf(err, "can't lock %s: %s", path, strerror(-err));
		}
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

int xlb_percpu_sum(int fd, __u32 key, __u64 *out, int nfields)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;
	int i, j;

	if (ncpu <= 0)
		return xlb_errf(-EINVAL, "can't count CPUs");
	vals = calloc((size_t)ncpu * nfields, sizeof(__u64));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		int err = -errno;

		free(vals);
		return xlb_errf(err, "can't read counters: %s", strerror(-err));
	}
	for (j = 0; j < nfields; j++)
		out[j] = 0;
	for (i = 0; i < ncpu; i++)
		for (j = 0; j < nfields; j++)
			out[j] += vals[i * nfields + j];
	free(vals);
	return 0;
}

int xlb_percpu_set(int fd, __u32 key, const void *val, size_t size)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (size + 7) & ~(size_t)7;
	char *vals;
	int i, err = 0;

	if (ncpu <= 0)
		return xlb_errf(-EINVAL, "can't count CPUs");
	vals = calloc((size_t)ncpu, stride);
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < ncpu; i++)
		memcpy(vals + (size_t)i * stride, val, size);
	if (bpf_map_update_elem(fd, &key, vals, BPF_ANY))
		err = xlb_errf(-errno, "can't write per-CPU entry: %s",
			       strerror(errno));
	free(vals);
	return err;
}

int xlb_config_read(const struct xlb_maps *m, struct xlb_config *c)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->config, &zero, c))
		return xlb_errf(-errno, "can't read config: %s", strerror(errno));
	return 0;
}
