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

static const char *mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "offload";
	default:
		return "";
	}
}

/*
 * Looks at one interface: 1 when it runs a program using cfg_id, with
 * out filled; 0 when not (out->other says what is there instead).
 */
static int look(int ifindex, __u32 cfg_id, struct xlb_xdp_info *out)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p, *found = NULL;
	const char *name = "";

	if (libxdp_get_error(mp) || !mp)
		return 0;
	/*
	 * Legacy: the one program on the hook. With libxdp's dispatcher,
	 * xlb is one of its component programs.
	 */
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && prog_uses_map(xdp_program__fd(p), cfg_id))
			found = p;
		else if (p)
			name = xdp_program__name(p);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
		     p = xdp_multiprog__next_prog(p, mp))
			if (prog_uses_map(xdp_program__fd(p), cfg_id))
				found = p;
		name = "libxdp dispatcher";
	}
	if (found) {
		out->prog_id = xdp_program__id(found);
		out->mode = mode_name(xdp_multiprog__attach_mode(mp));
		out->ifindex = ifindex;
		if_indextoname((unsigned int)ifindex, out->dev);
		out->other[0] = '\0';
	} else if (name[0]) {
		snprintf(out->other, sizeof(out->other), "%s%s", name,
			 strcmp(name, "xlb_main") ? "" : " (other maps)");
	}
	xdp_multiprog__close(mp);
	return found ? 1 : 0;
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
