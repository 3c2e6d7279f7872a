/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the pinned maps: creating them (with the embedded program),
 * opening them, and the lock that serialises writers (CLI and daemon).
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include "xlb.h"

struct xlb_bpf;

struct xlb_maps {
	int config, vips, tables, backends, state, nexthop, flows, stats;
	int vip_stats, be_stats, vip_filter;
	int commit, rec_vips, rec_backends; /* the commit record (xlb.h) */
	int lock_fd; /* the pin directory, flock()ed while writing */
	int dir_fd;  /* the pin directory as checked when opened */
	bool rdonly; /* maps opened read-only: writers are refused */
	char dir[PATH_MAX];
};

/* How long xlb_maps_lock waits for another holder by default. */
#define XLB_LOCK_TIMEOUT_MS 5000
/* How long xlb_maps_lock waits (--lock-timeout); 0: does not wait. */
extern int xlb_lock_timeout_ms;

/* The daemon's single-instance guard, a directory in the pin directory. */
#define XLB_PIN_DAEMON_GUARD "xlb_daemon_lock" /* bpffs refuses dots */

/*
 * Opens pin directory dir (absolute) and returns its descriptor, or
 * -errno with a message. Only root's (our euid's) directories are used:
 * dir, and every directory below the bpffs mount on the way to it, must
 * be ours and not writable by group or others (the mount's own root may
 * be root's and sticky, as /sys/fs/bpf's 1777); no symlink is followed
 * anywhere on the path; the result must be on bpffs. With create, missing
 * directories are made 0700, and only where their parent is on bpffs.
 * -ENOENT (message "no pin directory DIR") when it does not exist.
 */
int xlb_pin_dir_open(const char *dir, bool create);

/* Mounts bpffs at /sys/fs/bpf if needed and creates dir (as above). */
int xlb_pin_dir_prepare(const char *dir);

/*
 * A lock only root can take: directory name inside the pin directory dir
 * (created with it when create), flock()ed without waiting. Returns its
 * descriptor (the lock lasts while it is open), -EBUSY (no message) with
 * *holder the holder's pid when known (else 0), or -errno with a message.
 */
int xlb_pin_guard(const char *dir, const char *name, bool create, int *holder);
/* The pid holding guard name in dir, or 0 (none, or not ours to see). */
int xlb_pin_guard_holder(const char *dir, const char *name);

/*
 * Opens the skeleton with its maps pinned under dir (reusing pins that
 * exist, if of this build's layout) and loads it; maps it creates get
 * this build's XLB_ABI. A flow table it creates gets flow_sets sets
 * (0: XLB_FLOW_SETS); a pinned one of another size is -EEXIST. The
 * caller attaches and destroys it.
 */
int xlb_skel_load(const char *dir, __u32 flow_sets, struct xlb_bpf **out);

/*
 * 0 when dir holds no xlb maps or maps of this build's layout (XLB_ABI)
 * and capacities (XLB_DEFS); else -EPROTO with a message saying how to
 * start afresh.
 */
int xlb_pins_check(const char *dir);

/*
 * Opens existing pins; -ENOENT (message recorded) when not set up,
 * -EPROTO when another build's layout (see xlb_pins_check).
 */
int xlb_maps_open(const char *dir, struct xlb_maps *m);
/*
 * For commands that only read: the maps opened with BPF_F_RDONLY, so a
 * read-only bpffs or view of the pins serves them. xlb_maps_open falls
 * back to this on a read-only mount, and xlb_maps_lock then refuses.
 */
int xlb_maps_open_ro(const char *dir, struct xlb_maps *m);
int xlb_maps_open_mode(const char *dir, struct xlb_maps *m, bool rdonly);
void xlb_maps_close(struct xlb_maps *m);
/*
 * Exclusive lock for a read-modify-write of the state, waited for up to
 * xlb_lock_timeout_ms; -EBUSY naming the holder's pid when it is not
 * had by then, -EROFS when the maps were opened read-only.
 */
int xlb_maps_lock(struct xlb_maps *m);
/*
 * The lock if it is free now: -EWOULDBLOCK (no message) if another
 * process holds it, -EROFS as xlb_maps_lock.
 */
int xlb_maps_trylock(struct xlb_maps *m);
void xlb_maps_unlock(struct xlb_maps *m);

/* Sums a per-CPU counter array entry of nfields __u64 into out. */
int xlb_percpu_sum(int fd, __u32 key, __u64 *out, int nfields);

/* Fills every CPU's value of a per-CPU map entry with the same bytes. */
int xlb_percpu_set(int fd, __u32 key, const void *val, size_t size);

int xlb_config_read(const struct xlb_maps *m, struct xlb_config *c);

#endif /* XLB_MAPS_H */
