/* SPDX-License-Identifier: GPL-2.0 */
/* host.h - host sysctls the data path needs, given back on detach. */
#ifndef XLB_HOST_H
#define XLB_HOST_H

#include <stdbool.h>

/* Where the values to restore are kept (override: XLB_RUN_DIR). */
#define XLB_RUN_DIR_DEFAULT "/run/xlb"

/*
 * Before xlb runs on ifindex: records lo's forwarding settings unless a
 * previous attach in this namespace did, then turns them on. 0 or -errno.
 */
int xlb_host_enable(int ifindex);

/*
 * After xlb left ifindex: when no other interface of the namespace still
 * runs it (*last set), writes back what xlb_host_enable recorded. 0 or
 * -errno.
 */
int xlb_host_restore(int ifindex, bool *last);

#endif /* XLB_HOST_H */
