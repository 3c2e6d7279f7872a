// SPDX-License-Identifier: GPL-2.0
/*
 * bench_swap.c - the controller's write path, on real pinned maps: time
 * from a change to a swapped table (read the maps, build the table with
 * secondaries, create and fill the inner map, swap) at 10, 100 and 1000
 * backends, with the daemon's heap settings (xlb_heap_keep); the swap
 * itself (one update of the outer map); and the failover switch (one
 * state write). Medians of several rounds. Root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "maps.h"
#include "model.h"
#include "util.h"
#include "xlb.skel.h"

#define ROUNDS 21

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static double median_us(__u64 *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2] / 1000.0;
}

/* One VIP with n backends, committed; returns 0 or -1. */
static int setup_vip(struct xlb_maps *m, int n)
{
	struct xlb_model old, md;
	struct xlb_vip_ent *v;
	struct xlb_vip_key k;
	struct xlb_addr a;
	char buf[64];
	int i, err;

	if (xlb_model_read(m, &old) || xlb_model_copy(&old, &md))
		return -1;
	while (md.n_vips)
		xlb_model_vip_del(&md, &md.vips[0].key);
	md.cfg.seed[0] = 1;
	md.cfg.seed[1] = 2;
	md.cfg.src4 = htonl(0xc0000201);
	xlb_vip_parse("203.0.113.10:80/tcp", &k);
	xlb_model_vip_add(&md, &k, &v);
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "198.18.%d.%d", i / 250, 1 + i % 250);
		xlb_addr_parse(buf, &a);
		xlb_model_be_add(v, &a, 1, NULL);
	}
	err = xlb_model_commit(m, &old, &md);
	xlb_model_free(&old);
	xlb_model_free(&md);
	return err ? -1 : 0;
}

/*
 * Change to swapped table: toggle one backend's state, commit. Spaced
 * changes find the VIP's idle table place reusable (refilled in place);
 * back-to-back ones load a fresh map, and the kernel waits an RCU grace
 * period after that outer-map update.
 */
static double time_commit(struct xlb_maps *m, int rounds, int gap_ms)
{
	__u64 t[ROUNDS];
	int r;

	for (r = 0; r < rounds; r++) {
		struct xlb_model old, md;
		__u64 t0;

		if (gap_ms)
			usleep((useconds_t)gap_ms * 1000);
		t0 = xlb_now_mono_ns();

		xlb_maps_lock(m);
		xlb_model_read(m, &old);
		xlb_model_copy(&old, &md);
		md.vips[0].be[0].state = (r & 1) ? XLB_BE_UP : XLB_BE_DOWN;
		if (xlb_model_commit(m, &old, &md)) {
			/* A figure for a failed commit would be a lie. */
			fprintf(stderr, "bench_swap: commit failed: %s\n", xlb_errmsg());
			exit(1);
		}
		t[r] = xlb_now_mono_ns() - t0;
		xlb_maps_unlock(m);
		xlb_model_free(&old);
		xlb_model_free(&md);
	}
	return median_us(t, rounds);
}

/*
 * The same change as an operator makes it: `xlb backend set ... --state`,
 * a new process each time (exec, open the pins, lock, read, build, swap).
 */
static double time_cli(const char *dir, int rounds)
{
	__u64 t[ROUNDS];
	char cmd[256];
	int r;

	for (r = 0; r < rounds; r++) {
		__u64 t0;

		usleep(250 * 1000);
		snprintf(cmd, sizeof(cmd),
			 "%s --pin-dir %s backend set 203.0.113.10:80/tcp 198.18.0.1 --state %s",
			 getenv("XLB") ? getenv("XLB") : "build/xlb", dir,
			 (r & 1) ? "up" : "down");
		t0 = xlb_now_mono_ns();
		if (system(cmd)) {
			fprintf(stderr, "bench_swap: '%s' failed\n", cmd);
			exit(1);
		}
		t[r] = xlb_now_mono_ns() - t0;
	}
	return median_us(t, rounds);
}

/*
 * The swap alone: with both places loaded, flip the VIP entry between
 * them (what a commit does once the new table is in place); and, for
 * comparison, an outer-map update, which waits for an RCU grace period.
 */
static double time_swap(struct xlb_maps *m, double *outer_us)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	struct xlb_vip_key k;
	struct xlb_vip val;
	__u64 t[ROUNDS];
	__u32 idx;
	int r, fd;

	xlb_vip_parse("203.0.113.10:80/tcp", &k);
	bpf_map_lookup_elem(m->vips, &k, &val);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_bench", 4,
			    sizeof(struct xlb_slot_pair),
			    XLB_TABLE_ELEMS(XLB_TABLE_SIZE_DEFAULT), &o);
	for (r = 0; r < ROUNDS; r++) {
		__u64 t0;

		idx = xlb_table_index(val.id, val.flags ^ XLB_VIP_F_TABLE_B);
		t0 = xlb_now_mono_ns();
		bpf_map_update_elem(m->tables, &idx, &fd, 0);
		t[r] = xlb_now_mono_ns() - t0;
	}
	*outer_us = median_us(t, ROUNDS);
	for (r = 0; r < ROUNDS; r++) {
		__u64 t0;

		val.flags ^= XLB_VIP_F_TABLE_B;
		t0 = xlb_now_mono_ns();
		bpf_map_update_elem(m->vips, &k, &val, 0);
		t[r] = xlb_now_mono_ns() - t0;
	}
	close(fd);
	return median_us(t, ROUNDS);
}

/* The failover switch: one write to xlb_state. */
static double time_flip(struct xlb_maps *m)
{
	__u64 t[ROUNDS];
	__u32 id = 0, st;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		__u64 t0;

		st = (r & 1) ? XLB_BE_UP : XLB_BE_DOWN;
		t0 = xlb_now_mono_ns();
		bpf_map_update_elem(m->state, &id, &st, 0);
		t[r] = xlb_now_mono_ns() - t0;
	}
	st = XLB_BE_UP;
	bpf_map_update_elem(m->state, &id, &st, 0);
	return median_us(t, ROUNDS);
}

int main(void)
{
	static const int sizes[] = { 10, 100, 1000 };
	static const double targets_ms[] = { 0, 5, 50 };
	struct xlb_bpf *skel = NULL;
	struct xlb_maps m;
	char dir[64], cmd[96];
	size_t i;
	int rc = 1;

	/* Commits ask the kernel for the backends' routes and create their
	 * neighbour entries: in a namespace of its own, not the host's. */
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "bench_swap: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 1;
	}
	libbpf_set_print(quiet);
	xlb_heap_keep(); /* as the daemon, whose write path this times */
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xlbbs%d", getpid());
	if (xlb_pin_dir_prepare(dir) || xlb_skel_load(dir, 0, &skel) ||
	    xlb_maps_open(dir, &m)) {
		fprintf(stderr, "bench_swap: %s\n", xlb_errmsg());
		goto out;
	}
	printf("controller write path, maglev, 65537 slots, medians\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double us;

		if (setup_vip(&m, sizes[i])) {
			fprintf(stderr, "bench_swap: %s\n", xlb_errmsg());
			goto out;
		}
		us = time_commit(&m, 9, 250);
		if (targets_ms[i] > 0)
			printf("  change to swapped table  N=%-5d %8.2f ms   (target < %.0f ms)\n",
			       sizes[i], us / 1000, targets_ms[i]);
		else
			printf("  change to swapped table  N=%-5d %8.2f ms\n", sizes[i],
			       us / 1000);
		printf("    back to back (fresh map + RCU wait) %8.2f ms\n",
		       time_commit(&m, 9, 0) / 1000);
		printf("    as an xlb command (process included) %7.2f ms\n",
		       time_cli(dir, 7) / 1000);
	}
	{
		double outer, swap = time_swap(&m, &outer);

		printf("  swap (VIP entry flip)            %8.1f us   (target < 1000 us)\n",
		       swap);
		printf("  loading the idle place (outer map update, RCU wait) %.1f us\n",
		       outer);
	}
	printf("  failover switch (state write)    %8.1f us   (target < 1000 us)\n",
	       time_flip(&m));
	rc = 0;
out:
	xlb_maps_close(&m);
	xlb_bpf__destroy(skel);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		rc = 1;
	return rc;
}
