/* SPDX-License-Identifier: MIT */
/*
 * clock.h: the injected clock. Protocol and engine code never call
 * clock_gettime(); they receive a const struct clock and ask it for the time.
 * The real clock is CLOCK_BOOTTIME: it is monotonic and, unlike
 * CLOCK_MONOTONIC, keeps counting while the host is suspended, so a host that
 * sleeps through its lease comes back knowing the lease is over.
 * The simulator supplies a virtual clock through the same interface.
 */
#ifndef DL_CLOCK_H
#define DL_CLOCK_H

#include "compat.h"

#define DL_NS_PER_MS  1000000ull
#define DL_NS_PER_SEC 1000000000ull

struct clock {
	/* Current time in nanoseconds; never decreases. */
	uint64_t (*now_ns)(const struct clock *clk);
	void *ctx;
};

/* The process-wide real clock (CLOCK_BOOTTIME). */
const struct clock *clock_real(void);

static inline uint64_t clock_now_ns(const struct clock *clk)
{
	return clk->now_ns(clk);
}

/* Wall-clock milliseconds since the epoch, for operators' eyes only (never for decisions). */
uint64_t clock_wall_ms(void);

#endif /* DL_CLOCK_H */
