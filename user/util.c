// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

int xlb_verbose;
int xlb_quiet_libbpf;
static char errmsg[512];

int xlb_errf(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

const char *xlb_errmsg(void)
{
	return errmsg;
}

void xlb_err_clear(void)
{
	errmsg[0] = '\0';
}

int xlb_parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	/*
	 * Digits only: strtoull() would skip leading spaces and take a sign,
	 * so " -18446744073709551615" would wrap to 1.
	 */
	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (__u32)v;
	return 0;
}

int xlb_parse_seed(const char *s, __u64 seed[2])
{
	char part[17];

	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32)
		return xlb_errf(-EINVAL, "invalid seed '%s' (want 32 hex digits)", s);
	memcpy(part, s, 16);
	part[16] = '\0';
	seed[0] = strtoull(part, NULL, 16);
	seed[1] = strtoull(s + 16, NULL, 16);
	return 0;
}

static __u64 now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

__u64 xlb_now_mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

__u64 xlb_now_real_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

/*
 * Every commit allocates and frees the same few arrays of a table's size
 * (256 KB each at 65,537 slots). By default glibc maps blocks that large
 * afresh and trims the heap's free top, so every commit faulted its pages
 * in again: 1-2 ms of a 3-5 ms commit on the lab VM (bench_swap, with and
 * without these settings as GLIBC_TUNABLES). Blocks up to 32 MB (the
 * largest table's) now come from the heap, and up to 64 MB of freed heap
 * is kept for the next build.
 */
void xlb_heap_keep(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

void *xlb_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t c;

	if (n < *cap)
		return arr;
	c = *cap ? *cap * 2 : first;
	arr = realloc(arr, c * size);
	if (arr)
		*cap = c;
	return arr;
}
