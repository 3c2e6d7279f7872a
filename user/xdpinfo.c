// SPDX-License-Identifier: GPL-2.0
/* xdpinfo.c - which interface runs the XDP program of a pin directory. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "util.h"
#include "xdpinfo.h"

#define PROG_MAX_MAPS 64

static int map_id(int fd, __u32 *id)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* Whether the program prog_fd reads the map whose id is want. */
static bool prog_uses_map(int prog_fd, __u32 want)
{
	__u32 ids[PROG_MAX_MAPS], len, i;
	struct bpf_prog_info info;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = PROG_MAX_MAPS;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (i = 0; i < info.nr_map_ids && i < PROG_MAX_MAPS; i++)
		if (ids[i] == want)
			return true;
	return false;
}

/* Program id's name (name[0] = 0 if gone) and whether it reads want. */
static bool prog_by_id(__u32 id, __u32 want, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	bool uses;
	int fd;

	name[0] = '\0';
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, BPF_OBJ_NAME_LEN, "%s", info.name);
	uses = prog_uses_map(fd, want);
	close(fd);
	return uses;
}

/*
 * libxdp's dispatcher on ifindex: 1 when one of its component programs
 * uses cfg_id (its id in *prog_id), else 0.
 */
static int dispatcher_find(int ifindex, __u32 cfg_id, __u32 *prog_id)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int found = 0;

	if (libxdp_get_error(mp) || !mp)
		return 0;
	for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
	     p = xdp_multiprog__next_prog(p, mp))
		if (prog_uses_map(xdp_program__fd(p), cfg_id)) {
			*prog_id = xdp_program__id(p);
			found = 1;
		}
	xdp_multiprog__close(mp);
	return found;
}

/*
 * Looks at one interface: 1 when it runs a program using cfg_id, with
 * out filled; 0 when not (out->other says what is there instead). The
 * hook is read with bpf_xdp_query and every program descriptor opened
 * here is closed here: libxdp 1.3's xdp_multiprog__get_from_ifindex
 * leaks one for a legacy attach, a descriptor a second for the daemon's
 * self-watch. libxdp is asked only about its own dispatcher.
 */
static int look(int ifindex, __u32 cfg_id, struct xlb_xdp_info *out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	struct {
		__u32 id;
		const char *mode;
	} at[3];
	__u32 id;
	size_t i;

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	at[0].id = q.drv_prog_id;
	at[0].mode = "native";
	at[1].id = q.skb_prog_id;
	at[1].mode = "generic";
	at[2].id = q.hw_prog_id;
	at[2].mode = "offload";
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		if (!at[i].id)
			continue;
		id = at[i].id;
		if (!prog_by_id(id, cfg_id, name)) {
			if (strcmp(name, "xdp_dispatcher")) {
				if (name[0])
					snprintf(out->other, sizeof(out->other),
						 "%s%s", name,
						 strcmp(name, "xlb_main") ?
							 "" :
							 " (other maps)");
				continue;
			}
			if (!dispatcher_find(ifindex, cfg_id, &id)) {
				snprintf(out->other, sizeof(out->other),
					 "libxdp dispatcher");
				continue;
			}
		}
		out->prog_id = id;
		out->mode = at[i].mode;
		out->ifindex = ifindex;
		if_indextoname((unsigned int)ifindex, out->dev);
		out->other[0] = '\0';
		return 1;
	}
	return 0;
}

int xlb_xdp_find(const struct xlb_maps *m, const char *dev,
		 struct xlb_xdp_info *out)
{
	struct if_nameindex *ifs, *i;
	__u32 cfg_id = 0;
	int err, ifindex;

	memset(out, 0, sizeof(*out));
	out->mode = "";
	err = map_id(m->config, &cfg_id);
	if (err)
		return xlb_errf(err, "can't read the config map's id: %s",
				strerror(-err));
	if (dev && dev[0]) {
		ifindex = (int)if_nametoindex(dev);
		if (!ifindex)
			return xlb_errf(-ENODEV, "no interface '%s'", dev);
		look(ifindex, cfg_id, out);
		return 0;
	}
	/* if_nameindex asks netlink: the caller's network namespace. */
	ifs = if_nameindex();
	if (!ifs)
		return xlb_errf(-errno, "can't list interfaces: %s",
				strerror(errno));
	for (i = ifs; i->if_index; i++)
		if (look((int)i->if_index, cfg_id, out) == 1)
			break;
	if_freenameindex(ifs);
	if (!out->prog_id)
		out->other[0] = '\0'; /* names one interface's hook only */
	return 0;
}
