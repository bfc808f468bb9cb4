/* SPDX-License-Identifier: MIT */
/* check.c: the one failure path of DL_ASSERT: log the broken fact, then abort. */
#include "compat.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

void dl_assert_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "dlease: assertion failed at %s:%d: %s\n", file, line, expr);
	fflush(stderr);
	abort();
}
