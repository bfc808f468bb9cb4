/* SPDX-License-Identifier: MIT */
/*
 * check.h: assertions that stay on in every build. DL_ASSERT states a
 * programmer fact (an argument, a state transition, an alignment); when it is
 * false the process logs file:line:expression and aborts, because a lease
 * daemon that stops lets its leases time out while one that runs on a broken
 * invariant risks two holders. Never assert on disk contents, peer data or
 * syscall results: those are operating errors and return -errno.
 *
 * DL_CHECK(expr) runs an O(n) whole-state validator only in debug and
 * simulator builds (DL_DEBUG_CHECKS defined).
 */
#ifndef DL_CHECK_H
#define DL_CHECK_H

#include "compat.h"

__attribute__((noreturn)) void dl_assert_fail(const char *file, int line, const char *expr);

#define DL_ASSERT(x)                                                                               \
	do {                                                                                       \
		if (__builtin_expect(!(x), 0))                                                     \
			dl_assert_fail(__FILE__, __LINE__, #x);                                    \
	} while (0)

#ifdef DL_DEBUG_CHECKS
#define DL_CHECK(x) DL_ASSERT(x)
#else
#define DL_CHECK(x) ((void)0)
#endif

#endif /* DL_CHECK_H */
