/* SPDX-License-Identifier: MIT */
/*
 * test_timing.c: every duration derives from io_timeout, the safety
 * inequality holds for every T we accept, and it fails when host_dead or
 * join_wait is cut below the bound; the host-dead rule of hostwatch.
 */
#include "base/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/clock.h"
#include "lease/hostwatch.h"
#include "lease/timing.h"

static void test_timing_derived_and_safe(void **state)
{
	static const uint32_t ts[] = {100, 250, 1000, 2000, 10000, 600000};

	(void)state;
	for (unsigned i = 0; i < DL_ARRAY_SIZE(ts); i++) {
		struct timing t;
		uint64_t T = (uint64_t)ts[i] * DL_NS_PER_MS;

		timing_init(&t, ts[i]);
		assert_int_equal(t.io_timeout_ns, T);
		assert_int_equal(t.renew_interval_ns, T / 2);
		assert_int_equal(t.act_ns, 2 * T);
		assert_int_equal(t.validity_ns, 3 * T);
		assert_int_equal(t.host_dead_ns, 17 * T / 4);
		assert_true(timing_is_safe(&t));
		/* failover target of the issue: host_dead plus polling stays under 6T */
		assert_true(t.host_dead_ns + 2 * t.poll_interval_ns + T <= 6 * T);
	}
}

static void test_timing_unsafe_when_cut(void **state)
{
	struct timing t;

	(void)state;
	timing_init(&t, 1000);
	t.host_dead_ns = 4 * t.io_timeout_ns; /* below (1 + rho)(L/(1 - rho) + T) = 4.07T */
	assert_false(timing_is_safe(&t));
	timing_init(&t, 1000);
	t.join_wait_ns = t.io_timeout_ns; /* below (1 + rho) T */
	assert_false(timing_is_safe(&t));
}

static void test_hostwatch_dead_only_after_host_dead(void **state)
{
	struct ondisk_host rec = {0};
	struct hostwatch w;
	struct timing t;
	uint64_t s = 1000 * DL_NS_PER_MS;

	(void)state;
	timing_init(&t, 1000);
	hostwatch_reset(&w);
	rec.hdr.writer_generation = 3;
	rec.hdr.seq = 10;
	rec.state = ONDISK_HOST_LIVE;
	assert_int_equal(hostwatch_update(&w, &t, false, &rec, 0, s, s + 1), HOSTWATCH_UNKNOWN);
	assert_int_equal(hostwatch_update(&w, &t, true, &rec, 0, s, s + 1), HOSTWATCH_LIVE);
	/* unchanged, but the read started just before host_dead elapsed */
	assert_int_equal(hostwatch_update(&w, &t, true, &rec, 0, s + t.host_dead_ns,
	                                  s + t.host_dead_ns + 2),
	                 HOSTWATCH_LIVE);
	/* a change restarts the clock */
	rec.hdr.seq = 11;
	assert_int_equal(hostwatch_update(&w, &t, true, &rec, 0, s + 2 * DL_NS_PER_SEC,
	                                  s + 2 * DL_NS_PER_SEC + 1),
	                 HOSTWATCH_LIVE);
	assert_int_equal(w.changes, 1);
	assert_int_equal(hostwatch_update(&w, &t, true, &rec, 0,
	                                  s + 2 * DL_NS_PER_SEC + t.host_dead_ns,
	                                  s + 2 * DL_NS_PER_SEC + t.host_dead_ns + 1),
	                 HOSTWATCH_LIVE);
	/* a minority read proves nothing */
	assert_int_equal(hostwatch_update(&w, &t, false, &rec, 0, s + 9 * DL_NS_PER_SEC,
	                                  s + 9 * DL_NS_PER_SEC),
	                 HOSTWATCH_LIVE);
	assert_int_equal(hostwatch_update(&w, &t, true, &rec, 0,
	                                  s + 2 * DL_NS_PER_SEC + 1 + t.host_dead_ns,
	                                  s + 9 * DL_NS_PER_SEC),
	                 HOSTWATCH_DEAD);
	/* a host that left is free at once */
	hostwatch_reset(&w);
	rec.state = ONDISK_HOST_FREE;
	assert_int_equal(hostwatch_update(&w, &t, true, &rec, 0, s, s), HOSTWATCH_FREE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_timing_derived_and_safe),
	        cmocka_unit_test(test_timing_unsafe_when_cut),
	        cmocka_unit_test(test_hostwatch_dead_only_after_host_dead),
	};

	return cmocka_run_group_tests_name("timing", tests, NULL, NULL);
}
