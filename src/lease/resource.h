/* SPDX-License-Identifier: MIT */
/*
 * resource.h: one resource lease as seen by this host: acquire by Disk
 * Paxos (paxos.h) over the resource's lease area on every disk, hold it for
 * as long as our delta lease lives (no renewal of its own), release it. A
 * state machine over rounds and the injected clock, like delta.h.
 *
 * States and the function performing each transition:
 *   IDLE     -> READ      resource_acquire()
 *   READ     -> WATCH     res_read_done(): held by another host: watch its slot
 *   READ     -> P1_WRITE  res_read_done(): free, or owner dead / rejoined
 *   READ     -> HELD      res_read_done(): the leader already names us (same generation)
 *   READ     -> FAILED    res_read_done(): our own block unreadable on a majority and not
 *                         in our memory (phase 0 impossible: -EBADMSG, an operator acts)
 *   WATCH    -> READ      res_watch_done(): owner dead, left, rejoined, or released
 *   WATCH    -> FAILED    res_watch_done(): owner live and we may not wait (-EBUSY)
 *   WATCH    -> NOTIFY    res_watch_done(): a live ballot blocker: REPAIR note, then BACKOFF
 *   WATCH    -> FAILED    res_watch_done(): a ballot blocker's damaged block that its writer
 *                         cannot rewrite (not live, or no memory of it): -EBADMSG
 *   P1_WRITE -> P1_READ -> P2_WRITE -> P2_READ -> COMMIT: the ballot (res_phase_*)
 *   any ballot state -> BACKOFF -> READ: lost to a higher ballot, no quorum
 *   COMMIT   -> HELD      res_commit_done(): the leader names us on a majority
 *   COMMIT   -> READ      res_commit_done(): we decided another host's value
 *   HELD     -> RELEASING resource_release()
 *   RELEASING-> IDLE      res_release_done()
 *
 * The fencing token is the instance number (lver) that chose us: strictly
 * greater than every earlier holder's, whoever held it.
 * Invariants: mbal only grows; we write our block only for the instance we
 * are deciding, and only from what we know of it: our memory (own_known) or
 * our own copies read on a majority of the disks (phase 0); HELD implies the
 * leader was written to a majority naming (our host id, our generation) with
 * lver == token.
 */
#ifndef DL_RESOURCE_H
#define DL_RESOURCE_H

#include "base/compat.h"
#include "base/rand.h"
#include "lease/delta.h"
#include "lease/hostwatch.h"
#include "lease/paxos.h"
#include "lease/round.h"

#define RESOURCE_WINDOW         DELTA_DENSE_GAP /* host slots read past the ballot bound */
#define RESOURCE_ATTEMPTS_MAX   10000u
#define RESOURCE_DEAD_HOSTS_MAX 16u

enum resource_state {
	RES_IDLE = 0,
	RES_READ,
	RES_WATCH,
	RES_P1_WRITE,
	RES_P1_READ,
	RES_P2_WRITE,
	RES_P2_READ,
	RES_COMMIT,
	RES_BACKOFF,
	RES_HELD,
	RES_RELEASING,
	RES_FAILED,
	RES_QUEUE,     /* writing our waiting intent (wait_seq) into our block */
	RES_REQ_READ,  /* request: reading the leader */
	RES_REQ_WRITE, /* request: writing the request record and the holder's mailbox */
	RES_INQ_READ,  /* inquire: reading the leader and request */
	RES_INQ_OWNER, /* inquire: reading the owner's host slot */
	RES_NOTIFY,    /* a live host's damaged ballot blocks us: asking it to repair */
};

struct resource_stats {
	uint32_t rounds;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint32_t ballots;
	uint32_t aborts;
};

struct resource {
	struct space *space;
	const struct timing *tm;
	const struct clock *clk;
	struct delta *self; /* our host's delta lease: id, generation, liveness */
	uint32_t index;     /* resource index in the lockspace */
	enum resource_state state;
	int error;
	char why[200];

	bool wait;           /* wait for a live owner instead of failing -EBUSY */
	uint64_t give_up_ns; /* protocol clock; 0 = never */
	uint32_t attempts;
	uint64_t backoff_until_ns;
	struct rand rng;

	uint32_t bound;              /* ballots of hosts 1..bound are read */
	struct ondisk_leader leader; /* freshest leader seen */
	uint64_t target;             /* instance (lver) being decided */
	uint64_t mbal;               /* our ballot in target */
	uint64_t bal;
	struct paxos_value inp;   /* our block's value in target */
	struct paxos_value value; /* value being committed */
	uint32_t reason;          /* enum ondisk_reason for the leader we commit */

	struct hostwatch watch; /* WATCH: the owner's slot */
	uint32_t watch_host;
	uint64_t watch_generation; /* the owner generation the leader names */
	uint64_t foreign_since_ns; /* WATCH: another identity's generation first seen in the slot */
	struct {
		uint32_t host_id;
		uint64_t generation; /* this incarnation is over (UINT64_MAX: every one) */
	} dead[RESOURCE_DEAD_HOSTS_MAX];
	uint32_t dead_count;
	bool watch_blocker;       /* WATCH: the host is a ballot blocker, not the owner */
	uint32_t blocker_damaged; /* WATCH: disks on which the blocker's block is damaged */
	uint64_t notify_since_ns; /* first REPAIR note to watch_host in this op (0: none) */

	bool held;
	uint64_t token;           /* lver that chose us */
	uint64_t commit_wall_ms;  /* since_wall_ms of the last leader record we wrote */
	uint64_t held_generation; /* our generation when we won */

	struct resource_stats stats;
	struct round round;
	uint32_t rbuf_bound; /* ballots the buffers have room for */
	uint8_t *rbuf;       /* per disk: leader, request, ballots 1..rbuf_bound, window */
	uint8_t *wbuf;       /* per disk: one sector */
	enum ondisk_state *vstate;
	struct ondisk_ballot *vblocks;
	bool pending;

	uint64_t wait_seq;              /* our ticket in the waiting order (0: not waiting) */
	uint64_t defer_since_ns;        /* when we first yielded to an earlier waiter */
	bool requested;                 /* HELD: someone asked for our token's lease */
	uint32_t request_mode;          /* enum ondisk_request_mode of that request */
	uint64_t request_host;          /* who asked */
	bool checking;                  /* HELD: a request-record read is in flight */
	bool cancel_wanted;             /* resource_cancel() came while a round was in flight */
	bool own_known;                 /* own_block is what this struct last wrote: our memory */
	struct ondisk_ballot own_block; /* body and flags of that write (no per-disk fields) */
	bool repair_wanted;             /* our block was reported damaged: rewrite it when idle */
	bool repairing;                 /* the round in flight rewrites our block */
	bool released;            /* our block of target says RELEASED (kept across repairs) */
	uint64_t proposed_lver;   /* instance where this op proposed itself in phase 2 */
	uint32_t release_step;    /* RELEASING: 0-1 writing our block, 2 writing the leader */
	uint32_t req_mode;        /* request op: the mode we ask for */
	uint64_t req_seq;         /* our request counter (mailbox seq) */
	struct ondisk_host owner; /* inquire: the owner's host record */
	bool owner_valid;
	struct ondisk_request request; /* inquire: the request record */
	bool request_valid;
};

/* Returns 0, -EINVAL (index out of range), -ENOMEM. */
int resource_init(struct resource *r, struct space *space, struct ioe *ioe, const struct timing *tm,
                  const struct clock *clk, struct delta *self, uint32_t index);
void resource_free(struct resource *r);

/* Start acquiring. wait: wait for a live holder to go (until give_up_ns, 0 = never).
 * Returns 0, -EALREADY (busy or held), -ENOLINK (our delta lease is not live). */
int resource_acquire(struct resource *r, bool wait, uint64_t give_up_ns);
/* Ask the holder to hand the lease over: writes the request record and the holder's
 * mailbox. Returns 0 (op started), -EALREADY. Done when the state is back to IDLE;
 * FAILED with -ENOENT if nobody holds it. */
int resource_request(struct resource *r, uint32_t mode);
/* Read who holds the lease (leader, request, owner's host record). Done at IDLE. */
int resource_inquire(struct resource *r);
/* HELD: read our request record (call when the mailbox says a request arrived). */
int resource_check_request(struct resource *r);
/* Our ballot of this lease was reported damaged (a REPAIR note in our mailbox): rewrite it
 * from memory as soon as no round is in flight (a ballot in progress rewrites it anyway).
 * Only memory counts: a struct that has not written the block itself (a restarted
 * process) ignores the note, since it cannot know the vote it would overwrite. */
void resource_repair(struct resource *r);
/* Stop an acquire in progress (state back to IDLE; our waiting intent stays until our
 * next write). Returns 0 or -EINVAL if held. */
int resource_cancel(struct resource *r);
/* Release a held lease. Returns 0 or -EINVAL (not held). */
int resource_release(struct resource *r);
/* Advance; returns the protocol-clock time to call again if nothing else happens. */
uint64_t resource_step(struct resource *r);

/* We hold the lease at now: won it, and our delta lease is live in the same generation. */
bool resource_is_held(const struct resource *r, uint64_t now_ns);
const char *resource_state_name(enum resource_state s);

#endif /* DL_RESOURCE_H */
