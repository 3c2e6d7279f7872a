// SPDX-License-Identifier: GPL-2.0
/*
 * test_model.c - unit tests of the model's validation (user/model.c) that
 * need no maps: what a commit refuses before it builds anything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "util.h"

/* n VIPs [2001:db8::1..n]:80/tcp with size-slot tables and no backends. */
static void vips(struct xlb_model *md, int n, __u32 size)
{
	struct xlb_vip_ent *v;
	struct xlb_vip_key k;
	char buf[64];
	int i;

	memset(md, 0, sizeof(*md));
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "[2001:db8::%x]:80/tcp", 1 + i);
		assert_int_equal(xlb_vip_parse(buf, &k), 0);
		assert_int_equal(xlb_model_vip_add(md, &k, &v), 0);
		v->table_size = size;
	}
}

/* 512 VIPs of 4M slots (16 GiB) were accepted and held the lock for seconds. */
static void test_table_budget(void **state)
{
	struct xlb_model md;

	vips(&md, 16, 4194301);
	assert_int_equal(xlb_model_validate(&md), 0);
	xlb_model_free(&md);

	vips(&md, 17, 4194301);
	assert_int_equal(xlb_model_validate(&md), -ENOSPC);
	assert_non_null(strstr(xlb_errmsg(), "budget"));
	xlb_model_free(&md);

	vips(&md, 250, 4194301);
	assert_int_equal(xlb_model_validate(&md), -ENOSPC);
	xlb_model_free(&md);

	vips(&md, 512, XLB_TABLE_SIZE_DEFAULT);
	assert_int_equal(xlb_model_validate(&md), 0);
	xlb_model_free(&md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
