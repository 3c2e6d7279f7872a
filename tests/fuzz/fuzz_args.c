// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_args.c - libFuzzer harness for the command-line parsers: VIPs,
 * addresses, numbers and `vip add` options. Each must either accept its
 * input and produce a value that formats back and re-parses to the same
 * value, or reject it with a message; an address's class check gives the
 * same answer for the address as written and as formatted. A number
 * accepted is digits only; vip options accepted name no option twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "cli.h"
#include "util.h"

static char *dupz(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	memcpy(s, d, n);
	s[n] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_vip_key k, k2;
	struct xlb_addr a, a2;
	struct xlb_vip_ent v;
	char buf[XLB_VIP_STRLEN], *s, *argv[8];
	int argc = 0;
	__u32 u;

	if (!size)
		return 0;
	s = dupz(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		if (!xlb_vip_parse(s, &k)) {
			xlb_vip_fmt(&k, buf, sizeof(buf));
			if (xlb_vip_parse(buf, &k2) || memcmp(&k, &k2, sizeof(k)))
				abort();
		} else if (!*xlb_errmsg()) {
			abort(); /* a rejection must say why */
		}
		break;
	case 1:
		if (!xlb_addr_parse(s, &a)) {
			xlb_addr_fmt(a.family, a.a, buf, sizeof(buf));
			if (xlb_addr_parse(buf, &a2) || xlb_addr_cmp(&a, &a2))
				abort();
			/* The class check: said why, and the same either way. */
			xlb_err_clear();
			if (xlb_addr_check_unicast(&a, "x")) {
				if (!*xlb_errmsg() || !xlb_addr_check_unicast(&a2, "x"))
					abort();
			} else if (xlb_addr_check_unicast(&a2, "x")) {
				abort();
			}
		}
		break;
	case 2:
		/* Accepted: digits only (no space, sign or suffix), in range. */
		if (!xlb_parse_u32(s, 1, 65535, &u) &&
		    (u < 1 || u > 65535 || !*s ||
		     strspn(s, "0123456789") != strlen(s) ||
		     strtoul(s, NULL, 10) != u))
			abort();
		break;
	default: {
		/* Space-separated words as vip add options. */
		char *tok, *save = NULL;

		for (tok = strtok_r(s, " ", &save); tok && argc < 8;
		     tok = strtok_r(NULL, " ", &save))
			argv[argc++] = tok;
		memset(&v, 0, sizeof(v));
		v.table_size = XLB_TABLE_SIZE_DEFAULT;
		if (!xlb_vip_opts(&v, argc, argv, 0)) {
			int i, j;

			if (v.v4_prefix > 32 || v.v6_prefix > 128 || v.fwd > 1 ||
			    v.algo >= XLB_ALGO_COUNT || !v.table_size ||
			    v.table_size > XLB_TABLE_SIZE_MAX)
				abort();
			/* Accepted: no option given twice. */
			for (i = 0; i < argc; i += 2)
				for (j = i + 2; j < argc; j += 2)
					if (!strcmp(argv[i], argv[j]))
						abort();
		}
		break;
	}
	}
	xlb_err_clear();
	free(s);
	return 0;
}
