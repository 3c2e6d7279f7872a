/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record.h - the controller's commit record (include/xlb.h, struct
 * xlb_commit): two slots of VIP and backend records, a header naming the
 * committed one. The record, not the data path's maps, is what every
 * command reads; a commit becomes the truth with one write of the header.
 */
#ifndef XLB_RECORD_H
#define XLB_RECORD_H

#include "maps.h"
#include "model.h"

int xlb_record_header(const struct xlb_maps *m, struct xlb_commit *h);
int xlb_record_header_write(const struct xlb_maps *m,
			    const struct xlb_commit *h);

/* The model held in slot of h (sorted like xlb_model_read's). */
int xlb_record_load(const struct xlb_maps *m, const struct xlb_commit *h,
		    __u32 slot, struct xlb_model *md);

/*
 * Writes md into the slot h does not name, and fills *next: the header
 * that makes it the committed one. Nothing reads that slot before *next
 * is written.
 */
int xlb_record_stage(const struct xlb_maps *m, const struct xlb_commit *h,
		     const struct xlb_model *md, struct xlb_commit *next);

/*
 * Sets the state of backend id in the committed slot (the health
 * checker's fast failover, so the record says what the data path does).
 */
int xlb_record_set_state(const struct xlb_maps *m, __u32 id, __u32 state);

#endif /* XLB_RECORD_H */
