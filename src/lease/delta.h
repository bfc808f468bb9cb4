/* SPDX-License-Identifier: MIT */
/*
 * delta.h: this host's delta lease (liveness) in one lockspace, after
 * Chockler & Malkhi's light-weight leases: join, renew, leave, with
 * collision detection both ways. A state machine over rounds and the
 * injected clock: no thread, no timer, no syscall of its own. The owner calls
 * delta_step() when a round may have finished or the returned wake time came.
 *
 * States and the function performing each transition:
 *   IDLE      -> READ      delta_join()
 *   READ      -> WATCH     delta_join_read_done(): slot held by another identity
 *   READ      -> HOLDOFF   delta_join_read_done(): our own previous incarnation, same boot
 *   READ      -> WRITE     delta_join_read_done(): slot free, left, or ours from another boot
 *   WATCH     -> WRITE     delta_watch_done(): unchanged for host_dead (that host is dead)
 *   WATCH     -> FAILED    delta_watch_done(): renewed by someone (-EBUSY)
 *   HOLDOFF   -> WRITE     delta_step(): the old incarnation's validity has ended
 *   WRITE     -> WAIT      delta_join_write_done(): a majority took our record
 *   WAIT      -> CONFIRM   delta_step(): join_wait elapsed
 *   CONFIRM   -> LIVE      delta_confirm_done(): our record is intact
 *   CONFIRM   -> FAILED    delta_confirm_done(): another host wrote our slot (-EADDRINUSE)
 *   LIVE      -> LIVE      delta_renew_*(): renewal rounds extend valid_until
 *   LIVE      -> FAILED    delta_step(): validity lapsed (-ETIMEDOUT), or a foreign
 *                          record in our slot at renewal (-EADDRINUSE)
 *   LIVE      -> LEAVING   delta_leave()
 *   LEAVING   -> LEFT      delta_leave_done()
 *
 * Invariants: generation only grows (a join writes max seen + 1); valid_until
 * only moves forward, and only by a renewal submitted before it (a lapsed
 * lease is never revived: the host must join again, with a new generation).
 */
#ifndef DL_DELTA_H
#define DL_DELTA_H

#include "base/compat.h"
#include "base/clock.h"
#include "lease/hostwatch.h"
#include "lease/round.h"
#include "lease/space.h"
#include "lease/timing.h"

#define DELTA_DENSE_GAP 64u
#define DELTA_GENERATION_JUMP                                                                      \
	(1ull << 32) /* past any generation a damaged copy may hold */ /* a host id may join only  \
	                                                                  if one of the 64 below   \
	                                                                  it ever joined */

enum delta_state {
	DELTA_IDLE = 0,
	DELTA_READ,
	DELTA_WATCH,
	DELTA_HOLDOFF,
	DELTA_WRITE,
	DELTA_WAIT,
	DELTA_CONFIRM,
	DELTA_LIVE,
	DELTA_LEAVING,
	DELTA_LEFT,
	DELTA_FAILED,
};

struct delta_identity {
	char host_name[ONDISK_HOST_NAME_SIZE + 1];
	uint8_t host_uuid[ONDISK_UUID_SIZE]; /* stable per machine and host name */
	uint8_t boot_id[ONDISK_UUID_SIZE];   /* changes at every boot */
};

struct delta {
	struct space *space;
	const struct timing *tm;
	const struct clock *clk;
	uint32_t host_id;
	struct delta_identity id;
	enum delta_state state;
	int error; /* why FAILED: -EBUSY, -EADDRINUSE, -ETIMEDOUT, -EIO, -EPERM */
	char why[200];
	bool prev_stopped; /* the caller vouches our previous incarnation's holders are gone */
	bool slot_damaged; /* the join saw damaged copies of our slot: generation unknown */

	uint64_t generation;     /* ours, once written */
	uint64_t seq;            /* renewal counter of our record */
	uint64_t valid_until_ns; /* 0 until joined; see timing.h */
	uint64_t act_until_ns;
	uint64_t last_submit_ns; /* submission of the last write that counted */
	uint64_t next_renew_ns;
	uint64_t wait_until_ns;
	uint64_t joined_wall_ms;
	uint64_t join_ack_ns; /* when our join write was acknowledged (ballot holdoff) */
	bool renew_writing;   /* LIVE: the round in flight is the renewal write */
	bool pending;         /* a round was submitted and is not judged yet */
	bool leave_wanted;    /* delta_leave() came while a renewal was in flight */
	uint32_t renewals;
	uint32_t renew_failures;

	struct hostwatch watch;        /* WATCH: the foreign record we wait out */
	struct ondisk_mailbox mailbox; /* the freshest mailbox note seen */
	bool mailbox_new;              /* set when a new note arrives; the owner clears it */

	struct round round;
	uint8_t *rbuf; /* per disk: slot sector, mailbox sector, DELTA_DENSE_GAP slots below */
	uint8_t *wbuf; /* per disk: one sector */
};

/* Bind to a loaded space. Returns 0, -EINVAL (host id out of range), -ENOMEM. */
int delta_init(struct delta *d, struct space *space, struct ioe *ioe, const struct timing *tm,
               const struct clock *clk, uint32_t host_id, const struct delta_identity *id);
void delta_free(struct delta *d);

/* Begin joining. Returns 0 or -EALREADY. */
int delta_join(struct delta *d, bool prev_stopped);
/* Begin leaving (the caller has released every lease). Returns 0 or -EINVAL if not live. */
int delta_leave(struct delta *d);
/* Advance; returns the protocol-clock time at which to call again if nothing else happens. */
uint64_t delta_step(struct delta *d);

/* The lease is live at now: state LIVE and now < valid_until. */
bool delta_is_live(const struct delta *d, uint64_t now_ns);
const char *delta_state_name(enum delta_state s);

#endif /* DL_DELTA_H */
