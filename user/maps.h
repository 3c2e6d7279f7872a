/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the pinned maps: creating them (with the embedded program),
 * opening them, and the lock that serialises writers (CLI and daemon).
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <limits.h>
#include "xlb.h"

struct xlb_bpf;

struct xlb_maps {
	int config, vips, tables, backends, state, nexthop, flows, stats;
	int vip_stats, be_stats, vip_filter;
	int commit, rec_vips, rec_backends; /* the commit record (xlb.h) */
	int lock_fd; /* the pin directory, flock()ed while writing */
	char dir[PATH_MAX];
};

/* Mounts bpffs at /sys/fs/bpf if needed and creates dir. */
int xlb_pin_dir_prepare(const char *dir);

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
void xlb_maps_close(struct xlb_maps *m);
/* Exclusive lock for a read-modify-write of the state. */
int xlb_maps_lock(struct xlb_maps *m);
void xlb_maps_unlock(struct xlb_maps *m);
/* The lock if it is free now; -EWOULDBLOCK if another process holds it. */
int xlb_maps_trylock(struct xlb_maps *m);

/* Sums a per-CPU counter array entry of nfields __u64 into out. */
int xlb_percpu_sum(int fd, __u32 key, __u64 *out, int nfields);

/* Fills every CPU's value of a per-CPU map entry with the same bytes. */
int xlb_percpu_set(int fd, __u32 key, const void *val, size_t size);

int xlb_config_read(const struct xlb_maps *m, struct xlb_config *c);

#endif /* XLB_MAPS_H */
