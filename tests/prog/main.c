// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the data-path program test suite (BPF_PROG_TEST_RUN on
 * xlb_main and xlb_decap) and the packet fuzzer.
 *
 *   prog_test [-v] [-f PATTERN] [--seed S] [--fuzz-n N]   all tests (TAP)
 *   prog_test fuzz [N] [--seed S]                          fuzz only
 *
 * The fuzz seed is printed at start; XLB_FUZZ_SEED / XLB_FUZZ_N in the
 * environment override the defaults too. Needs root.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

unsigned long pt_fuzz_n = 2000000;
__u64 pt_fuzz_seed;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !pt_verbose)
		return 0;
	/* Harmless: the .maps.btf anchor section (see bpf/maps.h). */
	if (!pt_verbose && strstr(fmt, "unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(const char *me)
{
	fprintf(stderr,
		"usage: %s [-v] [-f PATTERN] [--seed S] [--fuzz-n N]\n"
		"       %s fuzz [N] [--seed S] [-v]\n",
		me, me);
}

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[512];
	const char *filter = NULL, *env;
	bool fuzz_only = false;
	cpu_set_t cpus;
	int i, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pt_fuzz_seed = (__u64)time(NULL) * 2654435761ULL ^ (__u64)getpid();
	if ((env = getenv("XLB_FUZZ_SEED")))
		pt_fuzz_seed = strtoull(env, NULL, 0);
	if ((env = getenv("XLB_FUZZ_N")))
		pt_fuzz_n = strtoul(env, NULL, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			pt_verbose = 1;
		} else if (!strcmp(argv[i], "-f") && i + 1 < argc) {
			filter = argv[++i];
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			pt_fuzz_seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--fuzz-n") && i + 1 < argc) {
			pt_fuzz_n = strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "fuzz")) {
			fuzz_only = true;
			if (i + 1 < argc && argv[i + 1][0] >= '0' && argv[i + 1][0] <= '9')
				pt_fuzz_n = strtoul(argv[++i], NULL, 0);
		} else {
			usage(argv[0]);
			return 2;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "prog_test: needs root (BPF_PROG_TEST_RUN, netns)\n");
		return 77;
	}
	libbpf_set_print(print_fn);
	/* One CPU: per-CPU next-hop entries and counters stay predictable. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		fprintf(stderr, "prog_test: sched_setaffinity: %s\n", strerror(errno));

	if (fuzz_only) {
		long bad = pt_fuzz_run(pt_fuzz_n, pt_fuzz_seed, false);

		return bad ? 1 : 0;
	}
	n += pt_tests_fwd(tests + n, 512 - n);
	n += pt_tests_flow(tests + n, 512 - n);
	n += pt_tests_trunc(tests + n, 512 - n);
	n += pt_tests_fib(tests + n, 512 - n);
	n += pt_tests_pmtu(tests + n, 512 - n);
	n += pt_tests_decap(tests + n, 512 - n);
	n += pt_tests_frags(tests + n, 512 - n);
	n += pt_tests_fuzz(tests + n, 512 - n);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (filter)
		cmocka_set_test_filter(filter);
	return _cmocka_run_group_tests("xlb_prog", tests, (size_t)n, NULL, NULL) ? 1 : 0;
}
