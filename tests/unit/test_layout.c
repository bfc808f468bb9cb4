/* SPDX-License-Identifier: MIT */
/*
 * test_layout.c: layout properties for 512 and 4096 sectors and every host
 * count 1..2000: areas never overlap, every area starts on 1 MiB, every
 * record is sector-aligned and lies below disk_size_min, and
 * layout_resources_fit agrees with layout_compute.
 */
#include "base/compat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ondisk/layout.h"
#include "ondisk/ondisk.h"

/* Check one layout: ordered, disjoint, aligned regions covering every record. */
static void check_layout(const struct layout *l)
{
	uint64_t s = l->sector_size;
	uint64_t last;

	/* header, then host slots, inside the lockspace area */
	assert_int_equal(layout_header_offset(l), 0);
	assert_int_equal(layout_host_offset(l, 1), s);
	last = layout_host_offset(l, l->max_hosts) + s;
	assert_int_equal(layout_mailbox_offset(l, 1), last);
	last = layout_mailbox_offset(l, l->max_hosts) + s;
	assert_true(last <= l->dir_lease_offset);
	/* directory lease area, then directory table, then resources */
	assert_int_equal(l->dir_lease_offset % LAYOUT_ALIGN, 0);
	assert_int_equal(layout_leader_offset(l, LAYOUT_DIRECTORY), l->dir_lease_offset);
	assert_true(layout_ballot_offset(l, LAYOUT_DIRECTORY, l->max_hosts) + s <=
	            l->dir_table_offset);
	assert_int_equal(l->dir_table_offset % LAYOUT_ALIGN, 0);
	assert_true(layout_dir_sector_offset(l, l->dir_sector_count - 1) + s <= l->resource_offset);
	assert_true((uint64_t)l->dir_sector_count * l->dirents_per_sector >= l->max_resources);
	assert_int_equal(l->resource_offset % LAYOUT_ALIGN, 0);
	assert_int_equal(l->lease_area_size % LAYOUT_ALIGN, 0);
	assert_true(l->lease_area_size >= (2 + (uint64_t)l->max_hosts) * s);
	for (uint32_t i = 0; i < l->max_resources; i++) {
		uint64_t base = layout_lease_base(l, i);

		assert_int_equal(base % LAYOUT_ALIGN, 0);
		assert_int_equal(layout_leader_offset(l, i), base);
		assert_int_equal(layout_request_offset(l, i), base + s);
		assert_int_equal(layout_ballot_offset(l, i, 1), base + 2 * s);
		/* the last ballot of area i ends before area i+1 begins */
		assert_true(layout_ballot_offset(l, i, l->max_hosts) + s <=
		            base + l->lease_area_size);
		if (i + 1 < l->max_resources)
			assert_int_equal(layout_lease_base(l, i + 1), base + l->lease_area_size);
		else
			assert_true(base + l->lease_area_size <= l->disk_size_min);
	}
}

static void test_layout_properties_all_host_counts(void **state)
{
	static const uint32_t sizes[] = {512, 4096};
	static const uint32_t resources[] = {1, 7, 63};

	(void)state;
	for (unsigned k = 0; k < 2; k++) {
		for (uint32_t hosts = 1; hosts <= LAYOUT_HOSTS_MAX; hosts++) {
			for (unsigned r = 0; r < 3; r++) {
				struct layout l;

				assert_int_equal(layout_compute(sizes[k], hosts, resources[r], &l),
				                 0);
				check_layout(&l);
			}
		}
	}
}

static void test_layout_large_lockspace(void **state)
{
	struct layout l;

	(void)state;
	/* 10,000 resources, 2,000 hosts, 4 KiB sectors: the scale we promise. */
	assert_int_equal(layout_compute(4096, 2000, 10000, &l), 0);
	check_layout(&l);
	assert_int_equal(l.lease_area_size, 8u * LAYOUT_ALIGN); /* 2002 sectors of 4 KiB */
	assert_int_equal(layout_compute(512, 2000, 10000, &l), 0);
	check_layout(&l);
	assert_int_equal(l.lease_area_size, 1u * LAYOUT_ALIGN);
	assert_int_equal(layout_host_offset(&l, 2000), 2000u * 512u);
}

static void test_layout_rejects_bad_geometry(void **state)
{
	struct layout l;

	(void)state;
	assert_int_equal(layout_compute(1024, 8, 8, &l), -EINVAL);
	assert_int_equal(layout_compute(512, 0, 8, &l), -EINVAL);
	assert_int_equal(layout_compute(512, 2001, 8, &l), -EINVAL);
	assert_int_equal(layout_compute(512, 8, 0, &l), -EINVAL);
	assert_int_equal(layout_compute(512, 8, LAYOUT_RESOURCES_MAX + 1, &l), -EINVAL);
}

static void test_layout_resources_fit_is_tight(void **state)
{
	static const uint64_t disk_sizes[] = {3ull << 20, 64ull << 20, 1ull << 30, 100ull << 30};

	(void)state;
	for (unsigned d = 0; d < 4; d++) {
		for (uint32_t ss = 512; ss <= 4096; ss *= 8) {
			uint32_t fit = layout_resources_fit(ss, 8, disk_sizes[d]);
			struct layout l;

			if (fit == 0) {
				assert_int_equal(layout_compute(ss, 8, 1, &l), 0);
				assert_true(l.disk_size_min > disk_sizes[d]);
				continue;
			}
			assert_int_equal(layout_compute(ss, 8, fit, &l), 0);
			assert_true(l.disk_size_min <= disk_sizes[d]);
			if (fit < LAYOUT_RESOURCES_MAX) {
				assert_int_equal(layout_compute(ss, 8, fit + 1, &l), 0);
				assert_true(l.disk_size_min > disk_sizes[d]);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_layout_properties_all_host_counts),
	        cmocka_unit_test(test_layout_large_lockspace),
	        cmocka_unit_test(test_layout_rejects_bad_geometry),
	        cmocka_unit_test(test_layout_resources_fit_is_tight),
	};

	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
