/* SPDX-License-Identifier: GPL-2.0 */
/*
 * history.h - where a stable VIP's table continues from (XLB_ALGO_STABLE).
 *
 * A stable table is a function of its history of changes, and the live
 * table is that history's snapshot: every commit continues from the table
 * the data path holds (decoded with the set it was built for, i.e. the
 * committed record). A node without it (a fresh node, a restore) continues
 * from a snapshot file that `xlb save --snapshot-dir` wrote and the
 * configuration names (table_snapshot). A node with a history of its own
 * keeps it when the file's agrees with it (the same table, or the same
 * table once both are continued to the file's backends), and refuses the
 * file otherwise unless told to adopt the file's (xlb_history_check).
 */
#ifndef XLB_HISTORY_H
#define XLB_HISTORY_H

#include "model.h"
#include "table.h"

struct xlb_history {
	struct xlb_tb_prev prev;
	bool has; /* prev is set: continue; otherwise a new history */
	const struct xlb_slot *live; /* mapped live table, unmapped by free */
	__u32 live_size;
	struct xlb_tb_backend *tb; /* prev's set, owned */
	struct xlb_slot *slots; /* a snapshot's owners as a table, owned */
};

/*
 * Offers snapshot s (not copied: keep it until xlb_history_forget) as the
 * history of VIP k for this process's next commits. -EINVAL twice a key.
 */
int xlb_history_offer(const struct xlb_vip_key *k,
		      const struct xlb_tb_snapshot *s);
void xlb_history_forget(void);

/*
 * Before committing md over old: each offered snapshot against this
 * node's own history of its VIP. Agreeing, or no history here: fine.
 * Differing: -EEXIST naming the VIP and the slots at stake, or with adopt
 * the offer replaces the node's history (said on stderr) and
 * xlb_history_adopting() is true for it, so the commit rebuilds it.
 */
int xlb_history_check(const struct xlb_maps *m, const struct xlb_model *old,
		      const struct xlb_model *md, bool adopt);
bool xlb_history_adopting(const struct xlb_vip_key *k);

/*
 * For stable VIP v of md (old: the committed model): the table to continue.
 * The live table of old's VIP (same key, id, algo, size and seed) if it is
 * a stable table of its record, unless its offer is adopted; else an
 * offered snapshot of the same size and seed; else none. A live table that is not a stable table of its
 * record (hand edit, a record that lies) is reported on stderr and a new
 * history starts. 0 or -errno (a snapshot of another seed or size:
 * -EINVAL, refused).
 */
int xlb_history_prev(const struct xlb_maps *m, const struct xlb_model *old,
		     const struct xlb_model *md, const struct xlb_vip_ent *v,
		     struct xlb_history *h);
void xlb_history_free(struct xlb_history *h);

/*
 * The snapshot of v's live table (v as committed, in md as read).
 * -EBADMSG when the live table is no stable table of v's backends.
 */
int xlb_history_snapshot(const struct xlb_maps *m, const struct xlb_model *md,
			 const struct xlb_vip_ent *v, struct xlb_tb_snapshot *s);

#endif /* XLB_HISTORY_H */
