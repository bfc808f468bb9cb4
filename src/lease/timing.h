/* SPDX-License-Identifier: MIT */
/*
 * timing.h: every protocol duration, derived from one number: the
 * lockspace's io_timeout T (stored in its header), and one assumption: each
 * host's CLOCK_BOOTTIME runs at a rate within [1 - rho, 1 + rho] of real
 * time, rho = TIMING_DRIFT_PPM / 1e6. Nothing else in src/lease invents a
 * duration. docs/design.md proves the inequality; this is the worked
 * timeline with T = 2 s.
 *
 *   renewal write submitted at s (holder's clock); it counts when a majority
 *   of disks acknowledged it within T, and only if s is before the current
 *   validity end (a lapsed chain is never revived: the host must rejoin).
 *
 *   s + 0.5T (1 s)   next renewal starts (read own slot + mailbox, then write)
 *   s + 2T   (4 s)   act_deadline: holders must stop acting; the daemon sends
 *                    SIGTERM to local holders if no later renewal counted
 *   s + 2.5T (5 s)   SIGKILL to holders still running
 *   s + 3T   (6 s)   validity end L: the watchdog (if any) has reset the host
 *
 *   another host sees the slot unchanged on a majority of disks from a read
 *   completing at c1 until a read starting at c2 >= c1 + D (its own clock):
 *   D = 4.25T (8.5 s) >= (1 + rho) (L / (1 - rho) + T) = 4.07T
 *   then the host is dead: its last valid renewal was submitted before c1,
 *   its validity ended before c2 - T in real time, and any renewal submitted
 *   after that would have been past its validity end, hence void.
 *
 *   join: read, write, wait W = 1.25T >= (1 + rho) T, read back: a concurrent
 *   joiner's write has landed by then.
 *   ballots: a host writes its first ballot no sooner than H = 2.25T after
 *   its join write was acknowledged, so every read round that started before
 *   its join was visible has ended (a round counts only within T), and a
 *   proof that a host is dead (a read submitted at s) stays usable by a
 *   phase read submitted before s + H - (1 + rho) T: H >= 2 (1 + rho) T lets
 *   the phase read follow the proving read at once (docs/design.md).
 */
#ifndef DL_TIMING_H
#define DL_TIMING_H

#include "base/compat.h"

#define TIMING_DRIFT_PPM 10000u /* rho = 1%: far above any crystal (~100 ppm) */

struct timing {
	uint64_t io_timeout_ns;     /* T: deadline of every protocol round */
	uint64_t renew_interval_ns; /* 0.5T between renewal starts */
	uint64_t renew_retry_ns;    /* 0.25T between attempts after a failure */
	uint64_t act_ns;            /* 2T: holders act until s + act_ns */
	uint64_t term_ns;           /* 2T: SIGTERM local holders */
	uint64_t kill_ns;           /* 2.5T: SIGKILL local holders */
	uint64_t validity_ns;       /* 3T = L: lease validity from submission */
	uint64_t host_dead_ns;      /* 4.25T = D: unchanged this long => dead */
	uint64_t join_wait_ns;      /* 1.25T = W */
	uint64_t ballot_holdoff_ns; /* 2.25T: no ballot before join write ack + this */
	uint64_t poll_interval_ns;  /* 0.25T: contenders re-read an owner's slot */
	uint64_t watchdog_ns;       /* 3T: watchdog fires this long after the last pet */
};

/* Derive every duration from io_timeout_ms (> 0). */
void timing_init(struct timing *t, uint32_t io_timeout_ms);

/* The inequality of docs/design.md: host_dead >= (1+rho)(validity/(1-rho) + T). */
bool timing_is_safe(const struct timing *t);

#endif /* DL_TIMING_H */
