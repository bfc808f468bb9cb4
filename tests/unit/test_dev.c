/* SPDX-License-Identifier: MIT */
/*
 * test_dev.c: opening disks and reading their geometry: regular files (the
 * reported O_DIRECT alignment must really be the smallest one that works),
 * refusals (-ENOENT, -ENOTBLK), read-only opens, and loop devices with 512-
 * and 4096-byte logical sectors when root. Scratch files and loop devices live
 * in struct devfx and are removed in teardown.
 */
#include "base/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/dev.h"
#include "testutil.h"

struct devfx {
	char path[256];
	char loopdev[64];
	struct ioe_dev dev;
};

static int devfx_setup(void **state)
{
	struct devfx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->dev.fd = -1;
	*state = f;
	return 0;
}

static int devfx_teardown(void **state)
{
	struct devfx *f = *state;

	ioe_dev_close(&f->dev);
	if (f->loopdev[0])
		testutil_loop_detach(f->loopdev);
	if (f->path[0])
		unlink(f->path);
	free(f);
	return 0;
}

/* An O_DIRECT read of len bytes at offset 0 with a page-aligned buffer: 0 or -errno. */
static int direct_read(int fd, uint32_t len)
{
	void *buf;
	ssize_t n;
	int rc;

	assert_int_equal(posix_memalign(&buf, 4096, 4096), 0);
	n = pread(fd, buf, len, 0);
	rc = n < 0 ? -errno : 0;
	free(buf);
	return rc;
}

static void test_dev_file_geometry(void **state)
{
	struct devfx *f = *state;
	int flags;

	assert_int_equal(testutil_tmpfile("dev-file", 1u << 20, f->path, sizeof(f->path)), 0);
	assert_int_equal(ioe_dev_open(f->path, true, &f->dev), 0);
	assert_string_equal(f->dev.path, f->path);
	assert_true(f->dev.fd >= 0);
	assert_false(f->dev.is_block);
	assert_true(f->dev.writable);
	assert_int_equal(f->dev.size_bytes, 1u << 20);
	flags = fcntl(f->dev.fd, F_GETFL);
	assert_true(flags & O_DIRECT);
	assert_int_equal(flags & O_ACCMODE, O_RDWR);
	assert_true(f->dev.logical_sector_size == 512 || f->dev.logical_sector_size == 4096);
	assert_int_equal(f->dev.physical_sector_size, f->dev.logical_sector_size);
	/* The answer is the smallest O_DIRECT unit that really works here. */
	assert_int_equal(direct_read(f->dev.fd, f->dev.logical_sector_size), 0);
	if (f->dev.logical_sector_size == 4096)
		assert_int_equal(direct_read(f->dev.fd, 512), -EINVAL);
	assert_int_equal(ioe_dev_sector_size(&f->dev), f->dev.logical_sector_size);
	assert_int_equal(ioe_dev_check_sector_size(&f->dev, 4096), 0);
	assert_int_equal(ioe_dev_check_sector_size(&f->dev, 512),
	                 f->dev.logical_sector_size == 512 ? 0 : -EINVAL);
	assert_int_equal(ioe_dev_check_sector_size(&f->dev, 1024), -EINVAL);
	assert_int_equal(ioe_dev_check_sector_size(&f->dev, 256), -EINVAL);
	ioe_dev_close(&f->dev);
	assert_int_equal(f->dev.fd, -1);
	ioe_dev_close(&f->dev); /* idempotent */
}

static void test_dev_read_only_and_empty_file(void **state)
{
	struct devfx *f = *state;

	assert_int_equal(testutil_tmpfile("dev-empty", 0, f->path, sizeof(f->path)), 0);
	assert_int_equal(ioe_dev_open(f->path, false, &f->dev), 0);
	assert_false(f->dev.writable);
	assert_int_equal(fcntl(f->dev.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_int_equal(f->dev.size_bytes, 0);
	assert_true(f->dev.logical_sector_size == 512 || f->dev.logical_sector_size == 4096);
}

static void test_dev_refuses_missing_and_non_disks(void **state)
{
	struct devfx *f = *state;

	assert_int_equal(ioe_dev_open("/nonexistent/dlease/disk", true, &f->dev), -ENOENT);
	assert_int_equal(f->dev.fd, -1);
	assert_int_equal(ioe_dev_open("/", false, &f->dev), -ENOTBLK);
	assert_int_equal(f->dev.fd, -1);
	assert_int_equal(ioe_dev_open("/dev/null", true, &f->dev), -ENOTBLK);
	assert_int_equal(f->dev.fd, -1);
}

static void devfx_loop(struct devfx *f, uint32_t sector_size)
{
	if (!testutil_can_loop())
		skip();
	assert_int_equal(testutil_tmpfile("dev-loop", 4u << 20, f->path, sizeof(f->path)), 0);
	assert_int_equal(testutil_loop_attach(f->path, sector_size, f->loopdev, sizeof(f->loopdev)),
	                 0);
	assert_int_equal(ioe_dev_open(f->loopdev, true, &f->dev), 0);
	assert_true(f->dev.is_block);
	assert_int_equal(f->dev.logical_sector_size, sector_size);
	assert_true(f->dev.physical_sector_size >= sector_size);
	assert_int_equal(f->dev.size_bytes, 4u << 20);
	assert_int_equal(ioe_dev_sector_size(&f->dev),
	                 f->dev.physical_sector_size > 512 ? 4096u : 512u);
	assert_int_equal(ioe_dev_check_sector_size(&f->dev, 4096), 0);
	assert_int_equal(ioe_dev_check_sector_size(&f->dev, 512), sector_size == 512 ? 0 : -EINVAL);
	assert_int_equal(direct_read(f->dev.fd, sector_size), 0);
	if (sector_size == 4096)
		assert_int_equal(direct_read(f->dev.fd, 512), -EINVAL);
}

static void test_dev_loop_512(void **state)
{
	devfx_loop(*state, 512);
}

static void test_dev_loop_4096(void **state)
{
	devfx_loop(*state, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_dev_file_geometry, devfx_setup,
	                                        devfx_teardown),
	        cmocka_unit_test_setup_teardown(test_dev_read_only_and_empty_file, devfx_setup,
	                                        devfx_teardown),
	        cmocka_unit_test_setup_teardown(test_dev_refuses_missing_and_non_disks, devfx_setup,
	                                        devfx_teardown),
	        cmocka_unit_test_setup_teardown(test_dev_loop_512, devfx_setup, devfx_teardown),
	        cmocka_unit_test_setup_teardown(test_dev_loop_4096, devfx_setup, devfx_teardown),
	};

	return cmocka_run_group_tests_name("dev", tests, NULL, NULL);
}
