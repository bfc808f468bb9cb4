/* SPDX-License-Identifier: MIT */
/*
 * test_directory.c: named resources on simulated disks: create and look up,
 * create of an existing name, two hosts creating at once get distinct slots,
 * delete refused while held and done when free, a full table, bad names.
 */
#include "base/compat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lease/directory.h"
#include "simfix.h"

#define T_MS 1000u
#define T_NS (T_MS * 1000000ull)
#define MS   1000000ull

struct host {
	struct delta d;
	struct directory dir;
	struct resource r;
};

struct ctx {
	struct simfix f;
	struct host h[2];
};

static bool step_all(void *p)
{
	struct ctx *c = p;

	for (uint32_t i = 0; i < 2; i++) {
		delta_step(&c->h[i].d);
		directory_step(&c->h[i].dir);
		if (c->h[i].r.clk)
			resource_step(&c->h[i].r);
	}
	return false;
}

static void run(struct ctx *c, uint64_t ns)
{
	simfix_run(&c->f, simfix_now(&c->f) + ns, MS, step_all, c);
}

/* Run until host i's directory op is done; return its error (0 on success). */
static int finish(struct ctx *c, uint32_t i)
{
	for (int k = 0; k < 30000; k++) {
		if (c->h[i].dir.state == DIR_IDLE || c->h[i].dir.state == DIR_FAILED)
			return c->h[i].dir.state == DIR_IDLE ? 0 : c->h[i].dir.error;
		run(c, MS);
	}
	fail_msg("directory op did not finish");
	return -ETIMEDOUT;
}

static void setup_ctx(struct ctx *c, uint32_t resources)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(simfix_init(&c->f, 3, 2, 512, 8, resources, T_MS), 0);
	for (uint32_t i = 0; i < 2; i++) {
		struct delta_identity id = {0};

		snprintf(id.host_name, sizeof(id.host_name), "host-%u", i + 1);
		memset(id.host_uuid, 0xa0 + (int)i, 16);
		memset(id.boot_id, 0xb0 + (int)i, 16);
		assert_int_equal(delta_init(&c->h[i].d, &c->f.space[i], c->f.ioe[i], &c->f.tm,
		                            &c->f.clock.clk, i + 1, &id),
		                 0);
		assert_int_equal(directory_init(&c->h[i].dir, &c->f.space[i], c->f.ioe[i], &c->f.tm,
		                                &c->f.clock.clk, &c->h[i].d),
		                 0);
		assert_int_equal(delta_join(&c->h[i].d, false), 0);
	}
	run(c, 3 * T_NS);
	assert_int_equal(c->h[0].d.state, DELTA_LIVE);
	assert_int_equal(c->h[1].d.state, DELTA_LIVE);
}

static void teardown_ctx(struct ctx *c, bool with_resource)
{
	run(c, 2 * T_NS);
	for (uint32_t i = 0; i < 2; i++) {
		if (with_resource && i == 0)
			resource_free(&c->h[i].r);
		directory_free(&c->h[i].dir);
		delta_free(&c->h[i].d);
	}
	simfix_free(&c->f);
}

static void test_directory_create_lookup(void **state)
{
	static struct ctx c;

	(void)state;
	setup_ctx(&c, 16);
	assert_int_equal(directory_lookup(&c.h[0].dir, "vm-web"), 0);
	assert_int_equal(finish(&c, 0), -ENOENT);
	assert_int_equal(directory_create(&c.h[0].dir, "vm-web"), 0);
	assert_int_equal(finish(&c, 0), 0);
	assert_false(c.h[0].dir.existed);
	assert_int_equal(c.h[0].dir.index, 0);
	assert_int_equal(directory_create(&c.h[0].dir, "vm-db"), 0);
	assert_int_equal(finish(&c, 0), 0);
	assert_int_equal(c.h[0].dir.index, 1);
	/* the other host sees both, without any lease */
	assert_int_equal(directory_lookup(&c.h[1].dir, "vm-db"), 0);
	assert_int_equal(finish(&c, 1), 0);
	assert_int_equal(c.h[1].dir.index, 1);
	/* creating an existing name returns its slot */
	assert_int_equal(directory_create(&c.h[1].dir, "vm-web"), 0);
	assert_int_equal(finish(&c, 1), 0);
	assert_true(c.h[1].dir.existed);
	assert_int_equal(c.h[1].dir.index, 0);
	assert_int_equal(directory_create(&c.h[1].dir, "has space"), -EINVAL);
	assert_int_equal(directory_create(&c.h[1].dir, ""), -EINVAL);
	teardown_ctx(&c, false);
}

/* Two hosts creating at the same time: the directory lease serialises them. */
static void test_directory_concurrent_creates(void **state)
{
	static struct ctx c;

	(void)state;
	setup_ctx(&c, 16);
	assert_int_equal(directory_create(&c.h[0].dir, "alpha"), 0);
	assert_int_equal(directory_create(&c.h[1].dir, "beta"), 0);
	assert_int_equal(finish(&c, 0), 0);
	assert_int_equal(finish(&c, 1), 0);
	assert_int_not_equal(c.h[0].dir.index, c.h[1].dir.index);
	assert_int_equal(directory_lookup(&c.h[0].dir, "beta"), 0);
	assert_int_equal(finish(&c, 0), 0);
	assert_int_equal(c.h[0].dir.index, c.h[1].dir.index);
	teardown_ctx(&c, false);
}

static void test_directory_delete_and_full(void **state)
{
	static struct ctx c;
	char name[16];

	(void)state;
	setup_ctx(&c, 3);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(directory_create(&c.h[0].dir, name), 0);
		assert_int_equal(finish(&c, 0), 0);
	}
	assert_int_equal(directory_create(&c.h[0].dir, "r3"), 0);
	assert_int_equal(finish(&c, 0), -ENOSPC);
	/* hold r1, then try to delete it */
	assert_int_equal(resource_init(&c.h[0].r, &c.f.space[0], c.f.ioe[0], &c.f.tm,
	                               &c.f.clock.clk, &c.h[0].d, 1),
	                 0);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	run(&c, T_NS);
	assert_int_equal(c.h[0].r.state, RES_HELD);
	assert_int_equal(directory_delete(&c.h[1].dir, "r1"), 0);
	assert_int_equal(finish(&c, 1), -EBUSY);
	assert_non_null(strstr(c.h[1].dir.why, "held by host 1"));
	assert_int_equal(resource_release(&c.h[0].r), 0);
	run(&c, T_NS);
	assert_int_equal(directory_delete(&c.h[1].dir, "r1"), 0);
	assert_int_equal(finish(&c, 1), 0);
	assert_int_equal(directory_lookup(&c.h[0].dir, "r1"), 0);
	assert_int_equal(finish(&c, 0), -ENOENT);
	assert_int_equal(directory_create(&c.h[0].dir, "r3"), 0);
	assert_int_equal(finish(&c, 0), 0);
	assert_int_equal(c.h[0].dir.index, 1); /* the freed slot */
	teardown_ctx(&c, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_directory_create_lookup),
	        cmocka_unit_test(test_directory_concurrent_creates),
	        cmocka_unit_test(test_directory_delete_and_full),
	};

	return cmocka_run_group_tests_name("directory", tests, NULL, NULL);
}
