/* SPDX-License-Identifier: MIT */
/*
 * sim.h: the deterministic multi-host simulator (dlsim). One "world" per
 * seed: H simulated hosts, each with its own sim engine, lockspace view,
 * drifting clock, delta lease and resource leases, over D shared in-memory
 * disks and one shared virtual clock (io/ioe_sim.h). The world is built
 * from a PRNG on the seed (swarm testing: sizes, latencies, which faults are
 * on and how often), run tick by tick through a safety phase with faults and
 * a liveness phase without, and checked after every tick. The simulator
 * drives src/lease through its public API only; the mutants (sim_mutant)
 * break one protocol rule from the outside to prove the checkers bite.
 *
 * Files: sim_main.c (options, seed loop, summary), sim_world.c (building,
 * crashing, restarting, faults), sim_drive.c (the tick loop and the hosts'
 * workload), sim_check.c (invariants), sim_trace.c (events, disk hash).
 *
 * Invariants (sim_check.c):
 *   1. one-holder: at no instant of real (global) time do two hosts believe
 *      they hold one resource; believe = resource_is_held(now) && now <
 *      act_until, both on the host's own clock.
 *   2. token-order: a new holder's token exceeds every earlier holder's.
 *   3. majority-commit: when a host first reports HELD, a majority of disks
 *      holds a VALID leader with that lver naming (host id, generation).
 *   4. liveness: with faults off, a contender joins within SIM_JOIN_BOUND and
 *      some host holds each asked-for resource within 6T + one acquire. One
 *      exception, an expected outcome that is counted and printed, not a
 *      violation: "stuck: needs operator", when a ballot block of the resource
 *      is damaged on so many disks that it can never be read on a majority,
 *      no running host remembers writing it (its writer crashed: down, or
 *      restarted without memory), and a contender has reported it (-EBADMSG).
 *      Disk Paxos may not count such a block as empty (docs/design.md 4).
 *   5. dupid: two hosts configured with one host id never both hold anything.
 */
#ifndef DL_SIM_H
#define DL_SIM_H

#include "base/compat.h"

#include <stdio.h>

#include "base/clock.h"
#include "base/rand.h"
#include "io/ioe.h"
#include "io/ioe_sim.h"
#include "lease/delta.h"
#include "lease/resource.h"
#include "lease/space.h"
#include "lease/timing.h"

#define SIM_HOSTS_MIN     2u
#define SIM_HOSTS_MAX     16u
#define SIM_RESOURCES_MAX 8u
#define SIM_T_MS          1000u /* io_timeout T: virtual, so its size costs no CPU */
#define SIM_T_NS          ((uint64_t)SIM_T_MS * DL_NS_PER_MS)
#define SIM_TRACE_RING    2048u /* events kept per run */
#define SIM_TRACE_SHOW    100u  /* events printed with a violation */
#define SIM_EVENT_TEXT    120u
#define SIM_JOIN_BOUND    (10u * SIM_T_NS) /* liveness: a contender is live by then */
#define SIM_FAILOVER      (6u * SIM_T_NS)  /* requirements: failover <= 6T + ... */
#define SIM_ACQUIRE_BOUND (1u * SIM_T_NS)  /* ... one acquire (a few ballots) */
#define SIM_REPORT_BOUND  (10u * SIM_T_NS) /* stuck: a contender reports it by then */
#define SIM_QDEPTH        1024u

_Static_assert(SIM_HOSTS_MAX <= RESOURCE_DEAD_HOSTS_MAX, "mutant seeds every other host dead");
_Static_assert(SIM_HOSTS_MAX < DELTA_DENSE_GAP, "host ids 1..H are always dense");

enum sim_fault {
	SIM_F_CRASH = 0,
	SIM_F_PAUSE,
	SIM_F_LATENCY,
	SIM_F_LATE,
	SIM_F_ERROR,
	SIM_F_HANG,
	SIM_F_TORN,
	SIM_F_CORRUPT,
	SIM_F_DISK,
	SIM_F_DRIFT,
	SIM_F_DUPID,
	SIM_F_COUNT,
};

enum sim_mutant {
	SIM_MUTANT_NONE = 0,
	SIM_MUTANT_TRUST_ONE_DISK,    /* every host takes one disk's answer for a majority */
	SIM_MUTANT_NO_HOST_DEAD_WAIT, /* an acquirer takes every other host for dead */
	SIM_MUTANT_STALE_CLOCK,       /* host 0's clock runs at 1/3 speed (beyond rho) */
	SIM_MUTANT_COUNT,
};

struct sim_range {
	uint32_t lo, hi;
};

struct sim_opts {
	struct sim_range hosts;
	struct sim_range resources;
	uint32_t disks_mask; /* bit n: n disks allowed (1, 3, 5) */
	uint64_t seed_lo, seed_hi;
	uint32_t faults; /* bit per enum sim_fault: may be switched on */
	uint32_t ticks;  /* safety-phase ticks per seed */
	bool trace;
	bool verbose; /* DLSIM_VERBOSE set: log every resource state change */
	enum sim_mutant mutant;
	char command[512]; /* the options as given, for replay lines */
};

/* The per-seed choices (swarm testing). */
struct sim_config {
	uint32_t hosts, disks, resources, max_hosts, sector_size;
	uint64_t tick_ns;
	uint32_t faults;         /* the subset of opts->faults on in this seed */
	uint64_t latency_max_ns; /* ordinary latency: [0, latency_max_ns] */
	uint64_t join_spread_ns; /* initial joins start within this */
	uint32_t error_ppm, hang_ppm, torn_ppm, late_ppm, corrupt_ppm;
	uint64_t crash_every_ns; /* mean gap between one host's crashes */
	uint64_t pause_every_ns;
	uint64_t disk_every_ns;
	uint32_t dup_a, dup_b; /* host indexes sharing dup_a's id (dupid) */
};

/* A host's CLOCK_BOOTTIME: offset + (global - base) * num / den. */
struct sim_clock {
	struct clock clk;
	const struct ioe_sim_clock *global;
	uint64_t base_ns;
	uint64_t offset_ns;
	uint64_t num, den;
};

enum sim_run {
	SIM_RUN_UP = 0,
	SIM_RUN_PAUSED, /* neither polled nor stepped; memory intact */
	SIM_RUN_DOWN,   /* crashed: engine emptied, protocol state gone */
};

/* The workload's view of one resource on one host, and what it last observed. */
struct sim_slot {
	bool contends;
	uint64_t next_try_ns;   /* global: earliest next acquire */
	uint64_t release_at_ns; /* global: release a held lease then (0: not held) */
	enum resource_state seen_state;
	bool seen_held;
	uint32_t seen_aborts;
};

struct sim_host {
	uint32_t index;
	uint32_t host_id;
	struct delta_identity id;
	uint32_t boots;
	struct ioe *ioe;
	struct space space;
	struct sim_clock clock;
	struct delta d;
	struct resource res[SIM_RESOURCES_MAX];
	bool started; /* d and res[] are initialised */
	struct sim_slot slot[SIM_RESOURCES_MAX];
	enum sim_run run;
	uint64_t run_until_ns; /* global: end of a pause, restart time (0: never) */
	uint64_t wake_ns;      /* host clock: step again then */
	uint64_t rejoin_at_ns; /* global */
	uint64_t leave_at_ns;  /* global: start leaving then (0: not planned) */
	bool leaving;
	uint64_t crash_at_ns; /* global (0: never) */
	uint64_t pause_at_ns;
	enum delta_state seen_dstate;
	uint32_t seen_renewals;
};

struct sim_event {
	uint64_t at_ns; /* global */
	int32_t host;   /* host index, -1 for the world */
	char text[SIM_EVENT_TEXT];
};

struct sim_holder {
	int32_t host; /* host index, -1: none yet */
	uint64_t generation;
	uint64_t token;
};

struct sim_world {
	const struct sim_opts *opts;
	uint64_t seed;
	struct sim_config cfg;
	struct rand rng;
	struct ioe_sim_clock clock;
	struct timing tm;
	struct ioe_sim_disk *disks[IOE_DISKS_MAX];
	uint64_t disk_size;
	struct sim_host host[SIM_HOSTS_MAX];
	uint64_t start_ns;

	/* faults */
	enum ioe_sim_disk_state disk_state[IOE_DISKS_MAX];
	uint64_t disk_until_ns[IOE_DISKS_MAX];
	uint64_t next_disk_fault_ns;
	uint64_t next_epoch_ns;

	/* checkers */
	uint64_t max_token[SIM_RESOURCES_MAX];
	struct sim_holder last[SIM_RESOURCES_MAX];
	bool liveness;
	uint64_t liveness_ns;               /* global start of the liveness phase */
	uint64_t ask_ns[SIM_RESOURCES_MAX]; /* liveness: a live contender asked (0: not yet) */
	bool satisfied[SIM_RESOURCES_MAX];  /* liveness: held since (or stuck) */
	bool reported[SIM_RESOURCES_MAX];   /* liveness: a contender failed -EBADMSG */
	bool stuck;                         /* a resource is stuck: needs an operator */
	char stuck_text[256];               /* the first stuck resource, for the report */
	uint64_t tick;
	uint64_t leader_seen[SIM_RESOURCES_MAX][IOE_DISKS_MAX]; /* DLSIM_VERBOSE only */

	bool violated;
	const char *invariant;
	char violation[768];

	struct sim_event ring[SIM_TRACE_RING];
	uint64_t event_count;
};

/* sim_world.c */
int sim_world_init(struct sim_world *w, const struct sim_opts *o, uint64_t seed);
void sim_world_free(struct sim_world *w);
uint64_t sim_now(const struct sim_world *w);
uint64_t sim_host_now(const struct sim_host *h);
/* Give host h fresh protocol state (a process start). Returns 0 or -errno. */
int sim_host_start(struct sim_world *w, struct sim_host *h);
/* A new boot for a crashed host: new boot id, new clock. */
void sim_host_reboot(struct sim_world *w, struct sim_host *h);
/* Host h crashes: in-flight writes land or not, its protocol state is gone. */
void sim_host_crash(struct sim_world *w, struct sim_host *h);
/* Redraw every host's per-disk faults; faults_on false: healthy disks, short latency. */
void sim_world_set_faults(struct sim_world *w, bool faults_on);
uint64_t sim_rand_range(struct rand *r, uint64_t lo, uint64_t hi);
const char *sim_fault_name(enum sim_fault f);
const char *sim_mutant_name(enum sim_mutant m);

/* sim_drive.c: run one world to the end or the first violation. */
void sim_run(struct sim_world *w);

/* sim_check.c */
void sim_check_tick(struct sim_world *w);
void sim_check_new_holder(struct sim_world *w, struct sim_host *h, uint32_t res_index);
void sim_check_liveness(struct sim_world *w);
/* Host h's op on resource i has failed: note a "needs an operator" report (liveness). */
void sim_check_failed(struct sim_world *w, const struct sim_host *h, uint32_t res_index);
bool sim_liveness_done(const struct sim_world *w);
bool sim_believes(const struct sim_host *h, uint32_t res_index);
DL_PRINTF(3, 4)
void sim_violation(struct sim_world *w, const char *invariant, const char *fmt, ...);

/* sim_trace.c */
DL_PRINTF(3, 4) void sim_event(struct sim_world *w, int32_t host, const char *fmt, ...);
void sim_trace_print(const struct sim_world *w, FILE *out, uint32_t count);
uint64_t sim_disk_hash(const struct sim_world *w);

#endif /* DL_SIM_H */
