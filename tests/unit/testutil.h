/* SPDX-License-Identifier: MIT */
/*
 * testutil.h: helpers shared by the unit tests: scratch files under
 * DLEASE_TEST_TMPDIR, loop devices (root only), and a skip code for ctest.
 */
#ifndef DL_TESTUTIL_H
#define DL_TESTUTIL_H

#include "base/compat.h"

#define TEST_SKIP 77

/* Create a scratch file of size_bytes (sparse) and return its path in out (size >= 256). 0 or
 * -errno. */
int testutil_tmpfile(const char *stem, uint64_t size_bytes, char *out, size_t out_size);

/* Attach file to a new loop device with direct I/O and the given logical sector size.
 * Writes "/dev/loopN" into out. Returns 0, -EPERM when not root, or -errno. */
int testutil_loop_attach(const char *file, uint32_t sector_size, char *out, size_t out_size);
void testutil_loop_detach(const char *loopdev);

/* Whether this process may create loop devices (root and /dev/loop-control present). */
bool testutil_can_loop(void);

#endif /* DL_TESTUTIL_H */
