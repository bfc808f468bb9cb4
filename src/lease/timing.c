/* SPDX-License-Identifier: MIT */
/* timing.c: the durations of timing.h, and the check that they keep two holders impossible. */
#include "base/compat.h"
#include "timing.h"

#include "base/check.h"
#include "base/clock.h"

void timing_init(struct timing *t, uint32_t io_timeout_ms)
{
	uint64_t q = (uint64_t)io_timeout_ms * DL_NS_PER_MS / 4; /* T/4 */

	DL_ASSERT(io_timeout_ms > 0);
	t->io_timeout_ns = 4 * q;
	t->renew_interval_ns = 2 * q;
	t->renew_retry_ns = q;
	t->act_ns = 8 * q;
	t->term_ns = 8 * q;
	t->kill_ns = 10 * q;
	t->validity_ns = 12 * q;
	t->host_dead_ns = 17 * q;
	t->join_wait_ns = 5 * q;
	t->ballot_holdoff_ns = 9 * q;
	t->poll_interval_ns = q;
	t->watchdog_ns = 12 * q;
	DL_ASSERT(timing_is_safe(t));
	DL_ASSERT(t->act_ns <= t->kill_ns && t->kill_ns < t->validity_ns);
}

bool timing_is_safe(const struct timing *t)
{
	/* host_dead * (1 - rho) >= (1 + rho) * (validity + T * (1 - rho)), in ppm integers */
	const uint64_t m = 1000000u, r = TIMING_DRIFT_PPM;
	unsigned __int128 lhs = (unsigned __int128)t->host_dead_ns * (m - r) * m;
	unsigned __int128 rhs =
	        (unsigned __int128)(m + r) * ((unsigned __int128)t->validity_ns * m +
	                                      (unsigned __int128)t->io_timeout_ns * (m - r));

	return lhs >= rhs && t->join_wait_ns * m >= t->io_timeout_ns * (m + r) &&
	       t->ballot_holdoff_ns * m >= 2 * t->io_timeout_ns * (m + r);
}
