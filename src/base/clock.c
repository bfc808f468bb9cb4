/* SPDX-License-Identifier: MIT */
/* clock.c: the real clock behind struct clock (CLOCK_BOOTTIME) and the wall clock for display. */
#include "compat.h"
#include "clock.h"

#include <time.h>

#include "check.h"

static uint64_t clock_real_now_ns(const struct clock *clk)
{
	struct timespec ts;
	int rc;

	(void)clk;
	rc = clock_gettime(CLOCK_BOOTTIME, &ts);
	DL_ASSERT(rc == 0); /* CLOCK_BOOTTIME exists on every kernel we support */
	return (uint64_t)ts.tv_sec * DL_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static const struct clock clock_real_instance = {
        .now_ns = clock_real_now_ns,
        .ctx = NULL,
};

const struct clock *clock_real(void)
{
	return &clock_real_instance;
}

uint64_t clock_wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / DL_NS_PER_MS;
}
