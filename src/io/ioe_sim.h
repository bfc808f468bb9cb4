/* SPDX-License-Identifier: MIT */
/*
 * ioe_sim.h: the in-memory engine for unit tests and the deterministic
 * multi-host simulator. It owns three things: a virtual clock (struct
 * ioe_sim_clock, a struct clock whose time moves only when told), shared
 * in-memory disks (struct ioe_sim_disk; several engines = several simulated
 * hosts attach the same disk), and per-engine, per-disk fault settings drawn
 * from a seeded PRNG. It never touches a file, a thread or the real clock.
 *
 * Timing: a request completes at submit time + a latency drawn from
 * [latency_min_ns, latency_max_ns] on the engine's clock. A write's bytes land
 * on the disk at its completion time and a read copies the disk's bytes at its
 * completion time; the disk orders these events by (time, submission order)
 * across every attached engine, and applies them when any engine's poll runs
 * past their time, so all engines sharing a disk must share one clock.
 * ioe_poll(e, wait_until_ns) delivers everything due at the clock's now and
 * expires batches whose deadline <= now (-ETIMEDOUT; a write still lands
 * later, at its completion time: a "late write"). A request due exactly at
 * its batch's deadline counts as in time. Only when the clock is an
 * ioe_sim_clock with auto_advance set does poll move time, to the next event
 * of this engine, or to wait_until_ns if none comes first, so ioe_run()
 * works in unit tests; otherwise the simulator drives time. With zero latency
 * and no faults, ioe_run() completes without time passing.
 *
 * Faults, per engine and disk, as rates in parts per million, decided at
 * submit in this order (the first that fires wins):
 *   error   -EIO at completion; a write does not land.
 *   hang    never completes: the batch times out, the slot stays orphaned
 *           until ioe_sim_crash() or destroy; a write never lands.
 *   torn    (writes) only a prefix lands (sector-aligned or not, PRNG) and
 *           the request reports -EIO: the write was never acknowledged.
 *   late    (writes) completes 1 ns + latency after its batch deadline: the
 *           batch reports -ETIMEDOUT, then the write lands.
 *   corrupt (writes) one random bit of the landed data flips; reports success.
 * A whole disk can fail (ioe_sim_disk_set_failed): IOE_SIM_DISK_EIO fails
 * every request submitted while set with -EIO; IOE_SIM_DISK_HANG leaves every
 * request submitted while set pending until the disk is set back to
 * IOE_SIM_DISK_OK, when it completes -EIO without landing.
 *
 * Determinism: one PRNG per engine (ioe_sim_set_seed); draws happen only in
 * ioe_submit (in request order) and ioe_sim_crash, so the same seed and the
 * same calls give the same results, times and disk bytes.
 */
#ifndef DL_IOE_SIM_H
#define DL_IOE_SIM_H

#include "base/compat.h"
#include "base/clock.h"
#include "io/ioe.h"

#define IOE_SIM_RATE_ALWAYS 1000000u /* a rate of 100% in parts per million */

struct ioe_sim_clock {
	struct clock clk; /* pass &c->clk as ioe_config.clk */
	uint64_t now_ns;
	bool auto_advance; /* ioe_poll() may move time forward to wait_until_ns */
};

/* Start a virtual clock at start_ns. */
void ioe_sim_clock_init(struct ioe_sim_clock *c, uint64_t start_ns, bool auto_advance);
/* Move time forward by delta_ns. */
void ioe_sim_clock_advance(struct ioe_sim_clock *c, uint64_t delta_ns);

enum ioe_sim_disk_state {
	IOE_SIM_DISK_OK = 0,
	IOE_SIM_DISK_EIO = 1,  /* every new request fails -EIO */
	IOE_SIM_DISK_HANG = 2, /* every new request waits until the disk is OK again */
};

struct ioe_sim_disk;

/* A zero-filled disk of size_bytes (a multiple of sector_size, 512 or 4096). NULL: no memory. */
struct ioe_sim_disk *ioe_sim_disk_create(uint64_t size_bytes, uint32_t sector_size);
/* Every engine attached to d must have been destroyed first. */
void ioe_sim_disk_destroy(struct ioe_sim_disk *d);
/* The raw bytes, for tests to inspect or corrupt; writes not yet landed are not in it. */
uint8_t *ioe_sim_disk_data(struct ioe_sim_disk *d);
uint64_t ioe_sim_disk_size(const struct ioe_sim_disk *d);
void ioe_sim_disk_set_failed(struct ioe_sim_disk *d, enum ioe_sim_disk_state state);

struct ioe_sim_faults {
	uint64_t latency_min_ns;
	uint64_t latency_max_ns; /* >= latency_min_ns */
	uint32_t error_ppm;
	uint32_t hang_ppm;
	uint32_t torn_ppm;
	uint32_t late_ppm;
	uint32_t corrupt_ppm;
};

/* Attach d to sim engine e (no faults, zero latency). Returns the disk index or -ENOSPC.
 * (ioe_disk_add() on a sim engine returns -EOPNOTSUPP: it has no fds.) */
int ioe_sim_attach(struct ioe *e, struct ioe_sim_disk *d);
/* Reseed e's PRNG (an engine starts seeded with 0). */
void ioe_sim_set_seed(struct ioe *e, uint64_t seed);
/* Faults for requests submitted from now on to disk_index of e. */
void ioe_sim_set_faults(struct ioe *e, uint32_t disk_index, const struct ioe_sim_faults *f);
/*
 * The host crashes: each in-flight write either lands now or is dropped
 * (PRNG), reads vanish, no batch is reported (done() is never called, its
 * memory is the caller's again). The engine is empty and usable afterwards.
 */
void ioe_sim_crash(struct ioe *e);
/* Requests hung by the hang fault finally fail (-EIO, a write never lands), as a SCSI or
 * multipath timeout ends a stuck I/O: they complete at the next poll. */
void ioe_sim_fail_hung(struct ioe *e);
/* Slots not free (in flight, including orphans): for tests. */
uint32_t ioe_sim_slots_busy(const struct ioe *e);

#endif /* DL_IOE_SIM_H */
