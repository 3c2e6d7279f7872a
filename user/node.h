/* SPDX-License-Identifier: GPL-2.0 */
/*
 * node.h - this balancer as one node of a fleet: whether it can serve
 * (its XDP program attached, not draining, its daemon running), the VIP
 * routes it announces (announce.h), and draining.
 *
 * The node's files live in a directory of the run directory named after
 * the pin directory ($XLB_RUN_DIR/node/sys-fs-bpf-xlb for /sys/fs/bpf/xlb):
 *   drain   present while an operator wants the node drained (`xlb node
 *           drain`, or SIGUSR1 to the daemon): "since_ns=N timeout_s=N"
 *   state   what the daemon last did, JSON (`xlb node show` prints it)
 * A drain request is a file, not a daemon's memory, so that a daemon
 * restarted during a drain keeps the node drained.
 */
#ifndef XLB_NODE_H
#define XLB_NODE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include "announce.h"
#include "conf.h"
#include "maps.h"
#include "model.h"

#define XLB_NODE_DRAIN_TIMEOUT_DEFAULT 60 /* seconds */
#define XLB_NODE_DRAIN_FILE	       "drain"
#define XLB_NODE_STATE_FILE	       "state"

enum xlb_node_state {
	XLB_NODE_SERVING = 0, /* announcing what it can serve */
	XLB_NODE_DRAINING, /* withdrawn, still forwarding for drain_timeout */
	XLB_NODE_DRAINED,  /* withdrawn and drain_timeout over */
	XLB_NODE_UNREADY,  /* withdrawn: no XDP program of this pin dir */
	XLB_NODE_STOPPED,  /* withdrawn: the daemon stopped */
};

const char *xlb_node_state_name(enum xlb_node_state s);

/* A drain request (the drain file). */
struct xlb_drain_req {
	bool on;
	__u64 since_ns;	 /* CLOCK_REALTIME when asked */
	__u32 timeout_s; /* 0: the daemon's drain_timeout */
};

/* The node directory of pin_dir (created with mkdir -p when make). */
int xlb_node_dir(const char *pin_dir, bool make, char *buf, size_t len);
/* Reads the drain file; r->on false when there is none. 0 or -errno. */
int xlb_node_drain_read(const char *pin_dir, struct xlb_drain_req *r);
/* Writes (r->on) or removes (!r->on) the drain file, atomically. */
int xlb_node_drain_write(const char *pin_dir, const struct xlb_drain_req *r);

/*
 * The daemon's side. The daemon calls xlb_fleet_model after every model
 * it reads or commits, xlb_fleet_tick every second and when the node
 * directory changes (xlb_fleet_watch_fd is readable), and xlb_fleet_stop
 * when it exits. Each evaluates the node and brings the routes in line.
 */
struct xlb_fleet {
	bool on; /* announce configured */
	const char *pin_dir;
	const struct xlb_maps *m;
	char ifname[IF_NAMESIZE]; /* the configured interface; "" any */
	__u32 table;
	__u8 proto;
	bool conf_drain; /* node.drain in the configuration */
	__u32 drain_timeout_s;
	xlb_ann_log_fn log;

	struct xlb_announce an;
	struct xlb_model model; /* the last model seen */
	bool have_model;
	int watch_fd; /* inotify on the node directory; -1 */

	enum xlb_node_state state;
	char why[128];	       /* why nothing is announced; "" when serving */
	char dev[IF_NAMESIZE]; /* where the program was found */
	struct xlb_drain_req req; /* the drain file as last read */
	__u64 drain_since_ns, drain_deadline_ns; /* 0 when not draining */
	bool stopping;
};

/*
 * Starts the node from conf (announce, node settings): adopts the routes
 * an earlier daemon left, watches the node directory. Nothing happens
 * without `announce` in conf. 0 or -errno.
 */
int xlb_fleet_start(struct xlb_fleet *f, const char *pin_dir,
		    const struct xlb_maps *m, const struct xlb_conf *conf,
		    xlb_ann_log_fn log);
/* A reloaded conf: another table withdraws from the old one first. */
int xlb_fleet_configure(struct xlb_fleet *f, const struct xlb_conf *conf);
/* A model read or committed; re-evaluates. */
void xlb_fleet_model(struct xlb_fleet *f, const struct xlb_model *md);
/* Periodic: the program, the drain file and deadline, the table. */
void xlb_fleet_tick(struct xlb_fleet *f);
/* The node directory changed (read and discard the events first). */
void xlb_fleet_watch_event(struct xlb_fleet *f);
/* Drain (SIGUSR1) or undrain (SIGUSR2) by writing the drain file. */
void xlb_fleet_signal_drain(struct xlb_fleet *f, bool drain);
/*
 * Prometheus lines for the daemon's /metrics: xlb_node_state{state} (1 for
 * the current one), xlb_vip_announced{addr} and xlb_vip_servable{addr}
 * per VIP address, xlb_announce_changes_total. Nothing without announce.
 */
void xlb_fleet_metrics(const struct xlb_fleet *f, FILE *out);
/* Withdraws everything and releases f. */
void xlb_fleet_stop(struct xlb_fleet *f);

#endif /* XLB_NODE_H */
