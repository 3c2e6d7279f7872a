// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_conf.c - libFuzzer harness for the configuration parser
 * (xlb_conf_parse). Every input must either be refused with
 * "NAME:LINE: reason", or parse into a configuration that xlb_conf_write
 * prints as text that parses back to the same model and prints the same
 * text again, with only unicast VIPs and backends. Seeds in
 * tests/fuzz/corpus/conf (a file needs its `vips` list to parse at all).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "util.h"

#define NAME "fuzz.conf"

/*
 * libconfig 1.5's scanner leaks on some syntax errors (a string buffer
 * when an error interrupts a string literal, names of duplicate
 * settings); fixed upstream later, and not ours to fix.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char *write_str(const struct xlb_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	if (xlb_conf_write(f, &c->model, c))
		abort();
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xlb_conf c, c2;
	struct xlb_model m3;
	char *text, *out, *out2;
	size_t i, j;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	xlb_err_clear();
	if (xlb_conf_parse(text, NAME, &c)) {
		/* Refused: located, with a reason. */
		if (strncmp(xlb_errmsg(), NAME ":", strlen(NAME ":")) ||
		    strlen(xlb_errmsg()) < strlen(NAME ":1: x"))
			abort();
		if (c.vips || c.model.vips || c.model.n_vips)
			abort();
		free(text);
		return 0;
	}
	/* Every VIP and backend accepted is unicast, no backend its VIP. */
	for (i = 0; i < c.model.n_vips; i++) {
		const struct xlb_vip_ent *v = &c.model.vips[i];
		struct xlb_addr va;

		xlb_addr_from_vip(&v->key, &va);
		if (xlb_addr_check_unicast(&va, "VIP"))
			abort();
		for (j = 0; j < v->n_be; j++)
			if (xlb_addr_check_unicast(&v->be[j].addr, "backend") ||
			    !xlb_addr_cmp(&v->be[j].addr, &va))
				abort();
	}
	out = write_str(&c);
	if (xlb_conf_parse(out, NAME, &c2)) {
		fprintf(stderr, "written text refused: %s\n%s", xlb_errmsg(), out);
		abort();
	}
	if (!xlb_conf_model_same(&c.model, &c2.model) ||
	    memcmp(&c.model.cfg, &c2.model.cfg, sizeof(c.model.cfg)) ||
	    strcmp(c.interface, c2.interface))
		abort();
	out2 = write_str(&c2);
	if (strcmp(out, out2)) {
		fprintf(stderr, "not a fixed point:\n%s\n---\n%s", out, out2);
		abort();
	}
	/* Merging over itself changes nothing. */
	if (!xlb_conf_merge(&c2, &c.model, 0, &m3)) {
		if (!xlb_conf_model_same(&m3, &c.model))
			abort();
		xlb_model_free(&m3);
	}
	free(out);
	free(out2);
	xlb_conf_free(&c);
	xlb_conf_free(&c2);
	free(text);
	return 0;
}
