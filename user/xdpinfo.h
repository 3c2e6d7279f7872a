/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdpinfo.h - where the data path runs: which interface carries the XDP
 * program that uses a pin directory's maps, in which mode, with which
 * program id. `xlb status`, the metrics and the daemon's self-watch all
 * ask the kernel here rather than trusting a record of an attach that a
 * `detach`, an `ip link set xdp off` or a reboot may have undone.
 */
#ifndef XLB_XDPINFO_H
#define XLB_XDPINFO_H

#include <net/if.h>
#include <stdbool.h>
#include <linux/types.h>
#include "maps.h"

struct xlb_xdp_info {
	char dev[IF_NAMESIZE]; /* where it runs; "" when nowhere */
	int ifindex;
	__u32 prog_id;	  /* the program's id; 0 when not attached */
	const char *mode; /* "native", "generic", "offload" or "" */
	/*
	 * When looking at one interface: what holds its XDP hook if not
	 * xlb with these maps ("" when nothing), e.g. "xlb_main (other maps)".
	 */
	char other[64];
};

/*
 * Finds the interface whose XDP program uses m's maps (the program is
 * recognised by its map ids, so an xlb program left running on maps that
 * are no longer pinned does not count). dev NULL or "": every interface of
 * the network namespace; else dev alone. 0 with out->prog_id 0 when it
 * runs nowhere; -ENODEV when dev does not exist (message recorded).
 */
int xlb_xdp_find(const struct xlb_maps *m, const char *dev,
		 struct xlb_xdp_info *out);

#endif /* XLB_XDPINFO_H */
