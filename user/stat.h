/* SPDX-License-Identifier: GPL-2.0 */
/* stat.h - the data path's global counters by name (stat.c). */
#ifndef XLB_STAT_H
#define XLB_STAT_H

#include "xlb.h"

/* What a counter counts, for the metrics' families. */
enum xlb_stat_kind {
	XLB_STAT_KIND_PACKET, /* what was done with packets: rx, pass, tx... */
	XLB_STAT_KIND_EVENT, /* flow-table and next-hop events */
	XLB_STAT_KIND_DROP, /* drops, one per reason */
};

/* "drop_malformed", "flow_hit"...; "unknown" past the enum. */
const char *xlb_stat_name(__u32 s);
enum xlb_stat_kind xlb_stat_kind(__u32 s);
/* The name without the kind's prefix ("malformed" for a drop). */
const char *xlb_stat_label(__u32 s);

#endif /* XLB_STAT_H */
