/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the data path's maps. All are pinned by name under the pin
 * directory and carry BTF; the controller's own record of the
 * configuration is the last three (xlb_commit and the record slots).
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xlb.h"

/* Deployment settings: hash seed, outer sources, timeouts. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_config SEC(".maps");

/* VIP (address, port, protocol) -> VIP settings and id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS * 2); /* VIPs plus fragment aliases */
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vips SEC(".maps");

/*
 * Slots are only reached through the inner map's pointer; this unused
 * global makes clang emit struct xlb_slot_pair's full BTF for the value.
 */
struct xlb_slot_pair xlb_slot_btf_anchor SEC(".maps.btf") __attribute__((unused));

/* A VIP's table; BPF_F_INNER_MAP lets each table have its own size. */
struct xlb_table_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xlb_slot_pair);
};

/* Which destination addresses may be VIPs (xlb.h, struct xlb_vip_filter). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_vip_filter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_filter SEC(".maps");

/* VIP table places -> tables; a VIP entry names which place is live. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS * 2); /* two places per VIP */
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct xlb_table_map);
} xlb_tables SEC(".maps");

/*
 * Backend id -> address and controller settings. Mappable, like xlb_state,
 * so the controller reads the whole array with one copy.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_backends SEC(".maps");

/* Backend id -> enum xlb_be_state; one 4-byte write fails a backend over. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_state SEC(".maps");

/* Backend id -> cached next hop, per CPU so refreshes never race. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_nexthop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_nexthop SEC(".maps");

/*
 * Established flows: a set-associative table (xlb.h, struct xlb_flow_set)
 * in one shared array, so any CPU and the controller see every flow. A
 * kernel LRU hash would do the same job with a helper call per lookup and
 * bucket locks per insert; here a lookup is an inlined array access and an
 * insert is four stores, which is most of a new flow's cost otherwise.
 * The size here is the default: attach --flows sets it when the map is
 * made, and xlb_config.flow_sets tells the program.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_FLOW_SETS);
	__type(key, __u32);
	__type(value, struct xlb_flow_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_flows SEC(".maps");

/* Recently used VIP entries, per CPU (xlb.h, struct xlb_vip_cache). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_VIP_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct xlb_vip_cache);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_cache SEC(".maps");

/* The coarse clock as last read on each CPU (clock.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_clock);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_clock SEC(".maps");

/* Global counters by enum xlb_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_stats SEC(".maps");

/* Per-VIP counters by VIP id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_vip_stats SEC(".maps");

/* Per-backend counters by backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_be_stats SEC(".maps");

/*
 * The controller's commit record (xlb.h, struct xlb_commit): never read
 * here, made and pinned with the other maps so that they live and go
 * together.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_commit);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_commit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_REC_SLOTS * XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_rec_vip);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_rec_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XLB_REC_SLOTS * XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_rec_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xlb_rec_backends SEC(".maps");

#endif /* XLB_MAPS_H */
