// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include "maps.h"
#include "util.h"
#include "xlb.skel.h"

int xlb_pin_dir_prepare(const char *dir)
{
	struct statfs sfs;
	char path[PATH_MAX];
	char *p;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type != BPF_FS_MAGIC &&
	    !strncmp(dir, "/sys/fs/bpf/", 12)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			return xlb_errf(-errno, "can't mount bpffs on /sys/fs/bpf: %s",
					strerror(errno));
	}
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return xlb_errf(-ENAMETOOLONG, "pin directory too long");
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return xlb_errf(-errno, "can't create %s: %s", path,
					strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return xlb_errf(-errno, "can't create %s: %s", path,
				strerror(errno));
	if (statfs(path, &sfs) || sfs.f_type != BPF_FS_MAGIC)
		return xlb_errf(-EINVAL, "pin directory %s is not on a bpf filesystem",
				path);
	return 0;
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

/* xlb_pins_check, with the pinned config in *cfg (zero when none). */
static int pins_check(const char *dir, struct xlb_config *cfg)
{
	char path[PATH_MAX];
	size_t i;
	int fd, err;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(path, sizeof(path), "%s/%s", dir, XLB_PIN_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 :
			xlb_errf(-errno, "can't open %s: %s", path, strerror(errno));
	err = abi_check(fd, dir, cfg);
	close(fd);
	for (i = 0; i < ARRAY_SIZE(pin_names) && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i].name);
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

	return pins_check(dir, &cfg);
}

int xlb_skel_load(const char *dir, __u32 flow_sets, struct xlb_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dir);
	struct xlb_config cfg;
	struct xlb_bpf *skel;
	__u32 zero = 0;
	int err, fd;

	err = pins_check(dir, &cfg);
	if (err)
		return err;
	/*
	 * The flow table's size is chosen when it is made, never after; the
	 * check above matched a pinned table against cfg.flow_sets.
	 */
	if (cfg.abi) {
		if (flow_sets && cfg.flow_sets != flow_sets)
			return xlb_errf(-EEXIST,
					"the flow table in %s holds %u flows; its size "
					"is chosen when it is made (remove %s to start "
					"afresh)",
					dir, cfg.flow_sets * XLB_FLOW_WAYS, dir);
		flow_sets = cfg.flow_sets; /* reused as it is */
	}
	skel = xlb_bpf__open_opts(&opts);
	if (!skel)
		return xlb_errf(-errno, "can't open the BPF object: %s",
				strerror(errno));
	if (flow_sets &&
	    (err = bpf_map__set_max_entries(skel->maps.xlb_flows, flow_sets))) {
		xlb_bpf__destroy(skel);
		return xlb_errf(err, "can't size the flow table: %s",
				strerror(-err));
	}
	err = xlb_bpf__load(skel);
	if (err) {
		xlb_bpf__destroy(skel);
		return xlb_errf(err,
				"can't load the XDP program (pinned maps in %s incompatible?): %s",
				dir, strerror(-err));
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
	if (err) {
		xlb_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

int xlb_maps_open(const char *dir, struct xlb_maps *m)
{
	struct xlb_config cfg;
	char path[PATH_MAX];
	size_t i;
	int fd, err;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < ARRAY_SIZE(pin_names); i++)
		*(int *)((char *)m + pin_names[i].off) = -1;
	m->lock_fd = -1;
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	for (i = 0; i < ARRAY_SIZE(pin_names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			int err = -errno;

			xlb_maps_close(m);
			if (err == -ENOENT)
				return xlb_errf(err,
						"no xlb maps in %s: run 'xlb attach DEV' first",
						dir);
			return xlb_errf(err, "can't open %s: %s", path,
					strerror(-err));
		}
		*(int *)((char *)m + pin_names[i].off) = fd;
	}
	err = abi_check(m->config, dir, &cfg);
	for (i = 0; i < ARRAY_SIZE(pin_names) && !err; i++)
		err = capacity_check(*(int *)((char *)m + pin_names[i].off), i,
				     dir, &cfg);
	if (err)
		xlb_maps_close(m);
	return err;
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
}

int xlb_maps_lock(struct xlb_maps *m)
{
	if (m->lock_fd >= 0)
		return 0;
	m->lock_fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->lock_fd < 0)
		return xlb_errf(-errno, "can't open %s: %s", m->dir,
				strerror(errno));
	if (flock(m->lock_fd, LOCK_EX)) {
		int err = -errno;

		close(m->lock_fd);
		m->lock_fd = -1;
		return xlb_errf(err, "can't lock %s: %s", m->dir,
				strerror(-err));
	}
	return 0;
}

int xlb_maps_trylock(struct xlb_maps *m)
{
	if (m->lock_fd >= 0)
		return 0;
	m->lock_fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->lock_fd < 0)
		return -errno;
	if (flock(m->lock_fd, LOCK_EX | LOCK_NB)) {
		int err = -errno;

		close(m->lock_fd);
		m->lock_fd = -1;
		return err;
	}
	return 0;
}

void xlb_maps_unlock(struct xlb_maps *m)
{
	if (m->lock_fd >= 0)
		close(m->lock_fd); /* closing the last descriptor drops the flock */
	m->lock_fd = -1;
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
