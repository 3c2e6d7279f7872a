/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - error reporting and small helpers. Library functions return 0
 * or -errno and record why with xlb_errf(); the command boundary prints the
 * recorded message once.
 */
#ifndef XLB_UTIL_H
#define XLB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Records a message for rc (a negative errno) and returns rc. */
int xlb_errf(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last recorded message, or "" when none. */
const char *xlb_errmsg(void);
void xlb_err_clear(void);

/* Parses an unsigned decimal in [min, max]; -EINVAL or -ERANGE. */
int xlb_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);

/* A deployment seed: 32 hex digits; -EINVAL (message recorded). */
int xlb_parse_seed(const char *s, __u64 seed[2]);

/* Monotonic and real time in nanoseconds. */
__u64 xlb_now_mono_ns(void);
__u64 xlb_now_real_ns(void);

/*
 * Room for element n of arr (elements of size bytes, *cap of them):
 * arr itself while n < *cap, else arr grown to twice *cap (first when 0)
 * with *cap updated. NULL when out of memory; arr and *cap then stay.
 */
void *xlb_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first);

/* For a long-running controller: keep freed memory for the next table build. */
void xlb_heap_keep(void);

extern int xlb_verbose;
/* Set around calls whose libbpf warnings are expected noise. */
extern int xlb_quiet_libbpf;

#endif /* XLB_UTIL_H */
