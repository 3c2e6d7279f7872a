/* SPDX-License-Identifier: GPL-2.0 */
/* neigh.h - prompting neighbour resolution toward backends. */
#ifndef XLB_NEIGH_H
#define XLB_NEIGH_H

#include "addr.h"

void xlb_neigh_nudge(const struct xlb_addr *a);

#endif /* XLB_NEIGH_H */
