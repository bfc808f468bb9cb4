/* SPDX-License-Identifier: MIT */
/*
 * resource.c: the resource lease state machine of resource.h.
 *
 * Every read round reads, per disk, the lease area from the leader through
 * the ballot of host `bound` (one request) and the host slots in the window
 * (bound, bound + RESOURCE_WINDOW] (another). Host ids are dense (delta.h),
 * and a new host waits join_wait >= (1 + rho) T after its join became
 * visible before it writes any ballot, so a window that shows no new host
 * proves that no block beyond `bound` was written before this round's reads
 * (docs/design.md, "Reading only the slots in use"). A window that shows a
 * new host raises `bound` and redoes the round's attempt.
 */
#include "base/compat.h"
#include "resource.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

DL_PRINTF(3, 4) static void res_fail(struct resource *r, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->state = RES_FAILED;
	r->error = error;
	dl_info("resource %u: %s", r->index, r->why);
}

static uint32_t res_ss(const struct resource *r)
{
	return r->space->header.sector_size;
}

static uint64_t res_now(const struct resource *r)
{
	return clock_now_ns(r->clk);
}

/* Sectors per disk in rbuf: leader, request, rbuf_bound ballots, the window. */
static size_t res_stride(const struct resource *r)
{
	return 2 + (size_t)r->rbuf_bound + RESOURCE_WINDOW;
}

static uint8_t *res_rsector(const struct resource *r, uint32_t disk, size_t index)
{
	DL_ASSERT(index < res_stride(r));
	return r->rbuf + ((size_t)disk * res_stride(r) + index) * res_ss(r);
}

/* Room for ballots 1..bound. */
static int res_reserve(struct resource *r, uint32_t bound)
{
	uint32_t ss = res_ss(r);
	size_t disks = IOE_DISKS_MAX;

	if (bound <= r->rbuf_bound)
		return 0;
	DL_ASSERT(!r->round.busy);
	free(r->rbuf);
	free(r->vstate);
	free(r->vblocks);
	r->rbuf_bound = bound;
	r->rbuf = calloc(disks * res_stride(r), ss);
	r->vstate = calloc(disks * bound, sizeof(*r->vstate));
	r->vblocks = calloc(disks * bound, sizeof(*r->vblocks));
	if (!r->rbuf || !r->vstate || !r->vblocks)
		return -ENOMEM;
	return 0;
}

int resource_init(struct resource *r, struct space *space, struct ioe *ioe, const struct timing *tm,
                  const struct clock *clk, struct delta *self, uint32_t index)
{
	uint32_t hosts = space->header.max_hosts;

	memset(r, 0, sizeof(*r));
	if (index >= space->header.max_resources && index != LAYOUT_DIRECTORY)
		return -EINVAL;
	r->space = space;
	r->tm = tm;
	r->clk = clk;
	r->self = self;
	r->index = index;
	r->bound = DL_MIN(hosts, DL_MAX(self->host_id, 1u));
	rand_seed(&r->rng, ((uint64_t)self->host_id << 32) ^ index ^ clock_now_ns(clk));
	round_init(&r->round, ioe, space);
	r->wbuf = calloc(IOE_DISKS_MAX, space->header.sector_size);
	if (!r->wbuf || res_reserve(r, DL_MIN(hosts, DL_MAX(r->bound, 64u))) < 0) {
		resource_free(r);
		return -ENOMEM;
	}
	return 0;
}

void resource_free(struct resource *r)
{
	DL_ASSERT(!r->round.busy);
	free(r->rbuf);
	free(r->wbuf);
	free(r->vstate);
	free(r->vblocks);
	r->rbuf = r->wbuf = NULL;
	r->vstate = NULL;
	r->vblocks = NULL;
}

const char *resource_state_name(enum resource_state s)
{
	static const char *const names[] = {
	        "idle",         "reading",     "watching",   "phase1-write", "phase1-read",
	        "phase2-write", "phase2-read", "committing", "backoff",      "held",
	        "releasing",    "failed",      "queueing",   "requesting",   "requesting",
	        "inquiring",    "inquiring",   "notifying"};

	DL_ASSERT((size_t)s < DL_ARRAY_SIZE(names));
	return names[s];
}

bool resource_is_held(const struct resource *r, uint64_t now_ns)
{
	return r->held && r->state == RES_HELD && delta_is_live(r->self, now_ns) &&
	       r->self->generation == r->held_generation;
}

static void res_submit(struct resource *r, int rc)
{
	if (rc < 0) {
		res_fail(r, rc, "cannot submit a round: %s", strerror(-rc));
		return;
	}
	r->pending = true;
	r->stats.rounds++;
}

/* Send the composed round. Everything but an inquiry needs our host lease live: a host
 * that paused past its lease, or is still joining, writes and decides nothing. */
static void res_send(struct resource *r)
{
	bool inquiry = r->state == RES_INQ_READ || r->state == RES_INQ_OWNER;

	if (!inquiry && !delta_is_live(r->self, res_now(r)))
		return res_fail(r, -ENOLINK, "our host lease is not live (%s)",
		                delta_state_name(r->self->state));
	res_submit(r, round_submit(&r->round, res_now(r), r->tm->io_timeout_ns));
}

/* Read round: lease area through ballot `bound`, plus the window of host slots. */
static void res_submit_read(struct resource *r)
{
	const struct layout *l = &r->space->layout;
	uint32_t hosts = l->max_hosts, ss = res_ss(r);
	uint32_t wlo = r->bound + 1, wcount = DL_MIN(hosts - r->bound, RESOURCE_WINDOW);

	if (res_reserve(r, r->bound) < 0)
		return res_fail(r, -ENOMEM, "out of memory for %u ballots", r->bound);
	round_reset(&r->round);
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		round_add(&r->round, i, IOE_READ, layout_lease_base(l, r->index),
		          res_rsector(r, i, 0), (2 + r->bound) * ss);
		if (wcount)
			round_add(&r->round, i, IOE_READ, layout_host_offset(l, wlo),
			          res_rsector(r, i, 2 + r->rbuf_bound), wcount * ss);
		r->stats.bytes_read += (uint64_t)(2 + r->bound + wcount) * ss;
	}
	res_send(r);
}

/* Is any host slot in the window in use? Raises bound to the highest one found. */
static bool res_window_grew(struct resource *r)
{
	const struct layout *l = &r->space->layout;
	uint32_t wcount = DL_MIN(l->max_hosts - r->bound, RESOURCE_WINDOW), top = r->bound;

	for (uint32_t i = 0; i < r->space->path_count; i++) {
		if (!round_disk_ok(&r->round, i))
			continue;
		for (uint32_t k = 0; k < wcount; k++) {
			uint32_t h = r->bound + 1 + k;
			struct ondisk_expect ex;
			struct ondisk_host rec;

			space_expect(r->space, i, ONDISK_KIND_HOST, layout_host_offset(l, h), &ex);
			if (ondisk_host_decode(res_rsector(r, i, 2 + r->rbuf_bound + k), &ex,
			                       &rec) != ONDISK_EMPTY)
				top = DL_MAX(top, h); /* valid or damaged: someone wrote it */
		}
	}
	if (top == r->bound)
		return false;
	r->bound = top;
	return true;
}

/* Decode the ballots 1..bound of the last read round into the view arrays. */
static void res_decode_blocks(struct resource *r, struct paxos_view *v)
{
	const struct layout *l = &r->space->layout;

	memset(v, 0, sizeof(*v));
	v->disk_count = r->space->path_count;
	v->majority = space_majority(r->space);
	v->bound = r->bound;
	v->state = r->vstate;
	v->blocks = r->vblocks;
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		v->disk_ok[i] = round_disk_ok(&r->round, i);
		for (uint32_t q = 1; q <= r->bound; q++) {
			size_t k = (size_t)i * r->bound + (q - 1);
			struct ondisk_expect ex;

			r->vstate[k] = ONDISK_UNREADABLE;
			if (!v->disk_ok[i])
				continue;
			space_expect(r->space, i, ONDISK_KIND_BALLOT,
			             layout_ballot_offset(l, r->index, q), &ex);
			r->vstate[k] =
			        ondisk_ballot_decode(res_rsector(r, i, 1 + q), &ex, &r->vblocks[k]);
		}
	}
}

/* The freshest leader copy among answering disks: highest lver, a released copy first. */
static bool res_decode_leader(struct resource *r)
{
	const struct layout *l = &r->space->layout;
	bool have = false;

	memset(&r->leader, 0, sizeof(r->leader));
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_leader rec;

		if (!round_disk_ok(&r->round, i))
			continue;
		space_expect(r->space, i, ONDISK_KIND_LEADER, layout_leader_offset(l, r->index),
		             &ex);
		if (ondisk_leader_decode(res_rsector(r, i, 0), &ex, &rec) != ONDISK_VALID)
			continue;
		if (!have || rec.lver > r->leader.lver ||
		    (rec.lver == r->leader.lver && rec.owner_host_id == 0)) {
			r->leader = rec;
			have = true;
		}
	}
	return have;
}

/* Is incarnation (host_id, generation) known to be over? */
static bool res_incarnation_over(const struct resource *r, uint64_t host_id, uint64_t generation)
{
	for (uint32_t k = 0; k < r->dead_count; k++) {
		if (r->dead[k].host_id == host_id &&
		    (generation == r->dead[k].generation || r->dead[k].generation == UINT64_MAX))
			return true;
	}
	return false;
}

static void res_note_dead(struct resource *r, uint32_t host_id, uint64_t generation)
{
	uint32_t k;

	/* exact incarnations only: a generation seen on a minority may exceed a later one */
	for (k = 0; k < r->dead_count &&
	            !(r->dead[k].host_id == host_id && r->dead[k].generation == generation);
	     k++)
		;
	if (k == RESOURCE_DEAD_HOSTS_MAX)
		k = r->dead_count = 0; /* start over: only costs another watch */
	r->dead[k].host_id = host_id;
	r->dead[k].generation = generation;
	r->dead_count = DL_MAX(r->dead_count, k + 1);
}

static void res_backoff(struct resource *r, const char *what)
{
	uint64_t now = res_now(r);

	r->stats.aborts++;
	if (++r->attempts >= RESOURCE_ATTEMPTS_MAX)
		return res_fail(r, -EAGAIN, "gave up after %u attempts (%s)", r->attempts, what);
	if (r->give_up_ns && now >= r->give_up_ns)
		return res_fail(r, -ETIMEDOUT, "timed out (%s)", what);
	r->state = RES_BACKOFF;
	r->backoff_until_ns = now + rand_below(&r->rng, r->tm->poll_interval_ns + 1);
	dl_debug("resource %u: backing off: %s", r->index, what);
}

/* Our block for the target instance, as this struct's memory of it (no per-disk fields). */
static void res_compose_block(struct resource *r, struct ondisk_ballot *b)
{
	DL_ASSERT(r->bal <= r->mbal);
	memset(b, 0, sizeof(*b));
	b->mbal = r->mbal;
	b->bal = r->bal;
	b->inp_owner_host_id = r->inp.owner_host_id;
	b->inp_owner_generation = r->inp.owner_generation;
	b->lver = r->target;
	b->wait_seq = r->wait_seq;
	b->hdr.flags = (r->wait_seq ? ONDISK_BALLOT_WAITING : 0) |
	               (r->state == RES_RELEASING || (r->released && r->target == r->token)
	                        ? ONDISK_BALLOT_RELEASED
	                        : 0);
	/* A block is never un-voted. No ballot of ours in the target yet (a waiting intent, a
	 * repair before any ballot): keep the instance, ballot and value our block holds, with
	 * its RELEASED flag, and only add the ticket. An intent at the new instance with mbal 0
	 * would erase the only record of what an earlier instance decided, and blocks with mbal
	 * 0 do not make a rerun of that instance abort (paxos_judge_host). */
	if (b->mbal == 0 && r->own_known && r->own_block.mbal > 0) {
		DL_ASSERT(r->own_block.lver <= r->target);
		b->lver = r->own_block.lver;
		b->mbal = r->own_block.mbal;
		b->bal = r->own_block.bal;
		b->inp_owner_host_id = r->own_block.inp_owner_host_id;
		b->inp_owner_generation = r->own_block.inp_owner_generation;
		b->hdr.flags = (b->hdr.flags & ONDISK_BALLOT_WAITING) |
		               (r->own_block.hdr.flags & ONDISK_BALLOT_RELEASED);
	}
}

/* Add the block `body`, encoded per disk into bufs, to the round, and remember it: from
 * now on this struct knows what its block says (own_known), whatever the disks show. */
static void res_add_block_body(struct resource *r, const struct ondisk_ballot *body, uint8_t *bufs)
{
	uint64_t offset = layout_ballot_offset(&r->space->layout, r->index, r->self->host_id);
	uint32_t ss = res_ss(r);

	DL_ASSERT(body->bal <= body->mbal);
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_ballot b = *body;

		space_expect(r->space, i, ONDISK_KIND_BALLOT, offset, &ex);
		ondisk_hdr_init(&b.hdr, ONDISK_KIND_BALLOT, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		b.hdr.flags = body->hdr.flags;
		b.hdr.writer_host_id = r->self->host_id;
		b.hdr.writer_generation = r->self->generation;
		b.hdr.seq = b.mbal;
		ondisk_ballot_encode(&b, ss, bufs + (size_t)i * ss);
		round_add(&r->round, i, IOE_WRITE, offset, bufs + (size_t)i * ss, ss);
		r->stats.bytes_written += ss;
	}
	if (body != &r->own_block)
		r->own_block = *body;
	r->own_known = true;
}

/* Add our block for the target instance, encoded per disk into bufs, to the round. */
static void res_add_block(struct resource *r, uint8_t *bufs)
{
	struct ondisk_ballot b;

	res_compose_block(r, &b);
	res_add_block_body(r, &b, bufs);
}

static void res_submit_block(struct resource *r)
{
	round_reset(&r->round);
	res_add_block(r, r->wbuf);
	res_send(r);
}

/* The leader record for instance `lver` naming `owner`, encoded per disk. */
static void res_submit_leader(struct resource *r, uint64_t lver, const struct paxos_value *owner,
                              uint32_t reason, bool clear_block)
{
	uint64_t offset = layout_leader_offset(&r->space->layout, r->index);
	uint32_t ss = res_ss(r);

	r->commit_wall_ms = clock_wall_ms(); /* one time for every copy */
	round_reset(&r->round);
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_leader ld;

		space_expect(r->space, i, ONDISK_KIND_LEADER, offset, &ex);
		memset(&ld, 0, sizeof(ld));
		ondisk_hdr_init(&ld.hdr, ONDISK_KIND_LEADER, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		ld.hdr.writer_host_id = r->self->host_id;
		ld.hdr.writer_generation = r->self->generation;
		ld.lver = ld.hdr.seq = lver;
		ld.owner_host_id = owner->owner_host_id;
		ld.owner_generation = owner->owner_generation;
		ld.resource_index = r->index;
		ld.reason = reason;
		ld.prev_owner_host_id = r->leader.owner_host_id;
		ld.prev_owner_generation = r->leader.owner_generation;
		ld.since_wall_ms = r->commit_wall_ms;
		memcpy(ld.name, r->leader.name, sizeof(ld.name));
		if (owner->owner_host_id == r->self->host_id &&
		    owner->owner_generation == r->self->generation)
			memcpy(ld.owner_uuid, r->self->id.host_uuid, ONDISK_UUID_SIZE);
		ondisk_leader_encode(&ld, ss, r->wbuf + (size_t)i * ss);
		round_add(&r->round, i, IOE_WRITE, offset, r->wbuf + (size_t)i * ss, ss);
		r->stats.bytes_written += ss;
	}
	if (clear_block)
		res_add_block(r, res_rsector(r, 0, 0)); /* drop our waiting flag with the release */
	res_send(r);
}

/* Begin a ballot for r->target with a ballot number above everything seen. */
static void res_begin_ballot(struct resource *r, uint64_t max_mbal_seen, bool same_instance)
{
	uint64_t floor = DL_MAX(max_mbal_seen, r->mbal);
	uint64_t allowed = r->self->join_ack_ns + r->tm->ballot_holdoff_ns;

	if (res_now(r) < allowed) {
		/* a new host: every read that started before our join was visible must end first */
		r->state = RES_BACKOFF;
		r->backoff_until_ns = allowed;
		return;
	}
	if (!same_instance) {
		r->bal = 0;
		memset(&r->inp, 0, sizeof(r->inp));
	}
	r->released = false;
	r->mbal = paxos_next_mbal(floor, r->self->host_id);
	DL_ASSERT(r->mbal > floor);
	r->stats.ballots++;
	r->state = RES_P1_WRITE;
	res_submit_block(r);
}

/* Adopt one copy of our own block if it is of the target instance. */
static void res_adopt_own(struct resource *r, const struct ondisk_ballot *b)
{
	if (b->lver != r->target)
		return;
	r->mbal = DL_MAX(r->mbal, b->mbal);
	if (b->bal > r->bal) {
		r->bal = b->bal;
		r->inp.owner_host_id = b->inp_owner_host_id;
		r->inp.owner_generation = b->inp_owner_generation;
	}
}

/* Phase 0 (Disk Paxos: a processor recovers its block before proposing again; model
 * PHASE0): our own copies in the target instance, and our memory of the last write, restore
 * mbal/bal/inp, so a restarted host re-proposes its vote instead of overwriting it. */
static void res_recover_own(struct resource *r, const struct paxos_view *v)
{
	for (uint32_t i = 0; i < v->disk_count; i++) {
		size_t k = (size_t)i * v->bound + (r->self->host_id - 1);

		if (v->disk_ok[i] && v->state[k] == ONDISK_VALID)
			res_adopt_own(r, &v->blocks[k]);
	}
	if (r->own_known)
		res_adopt_own(r, &r->own_block);
}

/* Phase 0 needs our own block: from memory, or read (valid or empty) on a majority of the
 * disks; with fewer we cannot know our vote, and any write of ours could erase it (model:
 * PHASE0, o_n >= M). Returns false after failing or backing off. */
static bool res_own_block_known(struct resource *r, const struct paxos_view *v)
{
	uint32_t readable = 0, damaged = 0;

	if (r->own_known)
		return true;
	for (uint32_t i = 0; i < v->disk_count; i++) {
		size_t k = (size_t)i * v->bound + (r->self->host_id - 1);

		if (!v->disk_ok[i])
			continue;
		if (v->state[k] == ONDISK_VALID || v->state[k] == ONDISK_EMPTY)
			readable++;
		else
			damaged++;
	}
	if (readable >= v->majority)
		return true;
	if (!paxos_damage_is_lasting(v->disk_count, v->majority, damaged)) {
		res_backoff(r, "our own ballot block was read on too few disks");
		return false;
	}
	res_fail(
	        r, -EBADMSG,
	        "our ballot block (host %u) is damaged on %u of %u disks and this process never wrote it: it cannot know its vote; an operator must act (docs/design.md §4)",
	        r->self->host_id, damaged, v->disk_count);
	return false;
}

static uint64_t res_max_block_lver(const struct paxos_view *v, uint64_t *max_mbal, uint64_t lver)
{
	uint64_t top = 0;

	*max_mbal = 0;
	for (uint32_t i = 0; i < v->disk_count; i++) {
		for (uint32_t q = 0; q < v->bound; q++) {
			size_t k = (size_t)i * v->bound + q;

			/* a block with mbal 0 (a waiting intent) never joined a ballot */
			if (!v->disk_ok[i] || v->state[k] != ONDISK_VALID || v->blocks[k].mbal == 0)
				continue;
			top = DL_MAX(top, v->blocks[k].lver);
			if (v->blocks[k].lver >= lver)
				*max_mbal = DL_MAX(*max_mbal, v->blocks[k].mbal);
		}
	}
	return top;
}

/* Is the owner the leader names gone (dead, left, or rejoined with a newer generation)? */
static bool res_owner_gone(struct resource *r)
{
	return r->leader.owner_host_id == 0 || r->leader.owner_host_id == r->self->host_id ||
	       res_incarnation_over(r, r->leader.owner_host_id, r->leader.owner_generation);
}

static void res_watch(struct resource *r, uint32_t host_id, uint64_t generation, bool blocker)
{
	r->state = RES_WATCH;
	if (r->watch_host != host_id || r->watch_generation != generation ||
	    r->watch_blocker != blocker) {
		hostwatch_reset(&r->watch);
		r->watch_host = host_id;
		r->watch_generation = generation;
		r->watch_blocker = blocker;
		r->foreign_since_ns = 0;
		r->notify_since_ns = 0;
	}
	r->backoff_until_ns = res_now(r); /* poll at once */
}

static void res_watch_owner(struct resource *r)
{
	res_watch(r, (uint32_t)r->leader.owner_host_id, r->leader.owner_generation, false);
}

/* Fairness (bakery-style): a waiter takes the ticket max(tickets seen) + 1 and writes it
 * into its own block; ties go to the lower host id. Only the order of waiting is at stake
 * here: Paxos alone keeps the lease exclusive. */
static void res_queue(struct resource *r, const struct paxos_view *v)
{
	uint64_t top = 0;

	for (size_t k = 0; k < (size_t)v->disk_count * v->bound; k++) {
		if (v->disk_ok[k / v->bound] && v->state[k] == ONDISK_VALID &&
		    (v->blocks[k].hdr.flags & ONDISK_BALLOT_WAITING))
			top = DL_MAX(top, v->blocks[k].wait_seq);
	}
	r->wait_seq = top + 1;
	r->state = RES_QUEUE;
	res_submit_block(r);
}

/* The lease is free: let an earlier waiter (a lower ticket) take it first, for up to T:
 * a live waiter polls every T/4, and failover stays within 6T. */
static bool res_yield_to_earlier_waiter(struct resource *r, const struct paxos_view *v)
{
	uint64_t now = res_now(r);

	if (r->wait_seq == 0)
		return false;
	for (size_t k = 0; k < (size_t)v->disk_count * v->bound; k++) {
		const struct ondisk_ballot *b = &v->blocks[k];
		uint64_t host = b->hdr.writer_host_id;

		if (!v->disk_ok[k / v->bound] || v->state[k] != ONDISK_VALID ||
		    !(b->hdr.flags & ONDISK_BALLOT_WAITING) || host == r->self->host_id ||
		    host == r->leader.owner_host_id)
			continue;
		if (b->wait_seq > r->wait_seq ||
		    (b->wait_seq == r->wait_seq && host > r->self->host_id))
			continue;
		if (r->defer_since_ns == 0)
			r->defer_since_ns = now;
		if (now - r->defer_since_ns >= r->tm->io_timeout_ns)
			break; /* that waiter did not come: it is gone or gave up */
		r->state = RES_BACKOFF;
		r->backoff_until_ns = now + r->tm->poll_interval_ns;
		return true;
	}
	r->defer_since_ns = 0;
	return false;
}

/* Instance `last` was decided for this incarnation of ours (another host may have finished
 * our ballot) and no later instance has begun, and we did not release it since. */
static bool res_decided_for_us(const struct resource *r, uint64_t top, uint64_t last)
{
	return last > 0 && r->proposed_lver == last &&
	       r->leader.owner_host_id == r->self->host_id &&
	       r->leader.owner_generation == r->self->generation && top <= last &&
	       !(r->released && r->token == last);
}

/* Make the leader naming us durable on every disk before we hold it (a copy read from one
 * disk may be all there is). */
static void res_recommit(struct resource *r, uint64_t lver, uint64_t max_mbal)
{
	uint32_t reason = r->leader.reason;

	r->target = lver;
	r->released = false;
	r->value.owner_host_id = r->self->host_id;
	r->value.owner_generation = r->self->generation;
	/* what our block says if we rewrite it (release, repair): the decided value, accepted at
	 * a ballot of ours, so the instance's history survives in it */
	r->inp = r->value;
	if (r->bal == 0) {
		r->mbal = paxos_next_mbal(DL_MAX(max_mbal, r->mbal), r->self->host_id);
		r->bal = r->mbal;
	}
	r->leader.owner_host_id = r->leader.prev_owner_host_id; /* keep who held it before */
	r->leader.owner_generation = r->leader.prev_owner_generation;
	r->state = RES_COMMIT;
	res_submit_leader(r, lver, &r->value, reason, false);
}

static void res_read_done(struct resource *r)
{
	uint64_t max_mbal, top, last;
	struct paxos_view v;
	bool same;

	if (round_ok_count(&r->round) < space_majority(r->space))
		return res_backoff(r, "too few disks answered");
	if (res_window_grew(r))
		return res_submit_read(r);
	res_decode_leader(r);
	res_decode_blocks(r, &v);
	if (!res_own_block_known(r, &v))
		return;
	last = r->leader.lver;
	top = res_max_block_lver(&v, &max_mbal, last + 1);
	/* never below an instance we won ourselves, or one our block joined a ballot of
	 * (OWNLVER), whatever a torn sector or a stale leader write hides */
	top = DL_MAX(top, r->token + (r->token > 0));
	if (r->own_known && r->own_block.mbal > 0)
		top = DL_MAX(top, r->own_block.lver);
	same = r->target == DL_MAX(last + 1, top);
	r->target = DL_MAX(last + 1, top);
	if (!same) {
		r->mbal = r->bal = 0; /* a new instance: our block of it starts empty */
		memset(&r->inp, 0, sizeof(r->inp));
	}
	res_recover_own(r, &v);
	if (res_decided_for_us(r, top, last))
		return res_recommit(r, last, max_mbal);
	/* A leader that names us for an instance we released (a release that reached only some
	 * disks) or an older generation of ours is ours to supersede. */
	if (!res_owner_gone(r)) {
		if (r->wait && r->wait_seq == 0)
			return res_queue(r, &v);
		return res_watch_owner(r);
	}
	if (res_yield_to_earlier_waiter(r, &v))
		return;
	r->reason = r->leader.owner_host_id == 0 ? ONDISK_REASON_ACQUIRE : r->reason;
	res_begin_ballot(r, max_mbal, true);
}

static void res_submit_watch(struct resource *r)
{
	const struct layout *l = &r->space->layout;
	uint32_t ss = res_ss(r);

	round_reset(&r->round);
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		round_add(&r->round, i, IOE_READ, layout_leader_offset(l, r->index),
		          res_rsector(r, i, 0), ss);
		round_add(&r->round, i, IOE_READ, layout_host_offset(l, r->watch_host),
		          res_rsector(r, i, 1), ss);
		r->stats.bytes_read += 2ull * ss;
	}
	res_send(r);
}

/* The owner's slot holds another incarnation now. The same machine rejoined (its uuid, a
 * new generation): its restarted daemon stopped the old holders, take over at once. Another
 * machine with the same host id overwrote it: the old incarnation learns at its next
 * renewal, but may act until its lease ends, so wait host_dead from the first sight. */
static bool res_incarnation_ended(struct resource *r, const struct ondisk_host *fresh)
{
	static const uint8_t zero[ONDISK_UUID_SIZE];

	if (memcmp(r->leader.owner_uuid, zero, ONDISK_UUID_SIZE) &&
	    !memcmp(r->leader.owner_uuid, fresh->host_uuid, ONDISK_UUID_SIZE)) {
		r->reason = ONDISK_REASON_TAKEOVER_REJOIN;
		return true;
	}
	if (r->foreign_since_ns == 0)
		r->foreign_since_ns = res_now(r);
	if (r->round.submit_ns < r->foreign_since_ns + r->tm->host_dead_ns)
		return false;
	r->reason = ONDISK_REASON_TAKEOVER_DEAD;
	return true;
}

/* A REPAIR note in the blocker's mailbox: it rewrites its block of this lease. */
static void res_notify_repair(struct resource *r)
{
	const struct layout *l = &r->space->layout;
	uint64_t offset = layout_mailbox_offset(l, r->watch_host);
	uint32_t ss = res_ss(r);

	round_reset(&r->round);
	r->req_seq++;
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_mailbox m = {0};
		struct ondisk_expect ex;

		space_expect(r->space, i, ONDISK_KIND_MAILBOX, offset, &ex);
		ondisk_hdr_init(&m.hdr, ONDISK_KIND_MAILBOX, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		m.hdr.writer_host_id = r->self->host_id;
		m.hdr.writer_generation = m.requester_generation = r->self->generation;
		m.hdr.seq = r->req_seq;
		m.resource_index = r->index;
		m.mode = ONDISK_REQUEST_REPAIR;
		m.lver = r->target;
		m.wall_ms = clock_wall_ms();
		ondisk_mailbox_encode(&m, ss, r->wbuf + (size_t)i * ss);
		round_add(&r->round, i, IOE_WRITE, offset, r->wbuf + (size_t)i * ss, ss);
	}
	r->state = RES_NOTIFY;
	res_send(r);
}

/* The watched host's ballot block stops our phase: damaged on blocker_damaged disks. Its
 * copies are never counted as empty (no recovery rule, docs/design.md 4): only their
 * writer can mend them, from its memory of what it wrote. Live: ask it (a REPAIR note),
 * and give up with -EBADMSG if it has not within host_dead (it restarted and has no
 * memory). Not live: give up with -EBADMSG, unless a disk that did not answer may still
 * hold a readable copy. Returns true if it acted; false: keep polling its slot. */
static bool res_watch_blocker_done(struct resource *r, enum hostwatch_verdict v,
                                   const struct ondisk_host *fresh)
{
	uint32_t disks = r->space->path_count, q = r->watch_host, damaged = r->blocker_damaged;
	bool lasting = paxos_damage_is_lasting(disks, space_majority(r->space), damaged);
	uint64_t now = res_now(r);

	if (v == HOSTWATCH_DEAD || v == HOSTWATCH_FREE) {
		res_note_dead(r, q, r->watch_generation);
		if (fresh)
			res_note_dead(r, q, fresh->hdr.writer_generation);
		if (!lasting)
			res_backoff(r, "a dead host's ballot block was read on too few disks");
		else
			res_fail(
			        r, -EBADMSG,
			        "ballot block of host %u is damaged on %u of %u disks and host %u is not live: the resource cannot be decided safely until host %u rejoins and rewrites it, or an operator acts (docs/design.md §4)",
			        q, damaged, disks, q, q);
		return true;
	}
	if (v != HOSTWATCH_LIVE || r->watch.changes == 0)
		return false;
	if (r->notify_since_ns == 0)
		r->notify_since_ns = now;
	if (lasting && now - r->notify_since_ns >= r->tm->host_dead_ns) {
		res_fail(
		        r, -EBADMSG,
		        "ballot block of host %u is damaged on %u of %u disks and host %u, though live, has not rewritten it: it has no memory of it (restarted); an operator must act (docs/design.md §4)",
		        q, damaged, disks, q);
		return true;
	}
	res_notify_repair(r); /* a live host: ask it to rewrite its block from memory */
	return true;
}

/* One poll of the owner's slot (and the leader: a release ends the wait at once). */
static void res_watch_done(struct resource *r)
{
	uint64_t offset = layout_host_offset(&r->space->layout, r->watch_host);
	struct ondisk_host fresh, rec;
	uint32_t answered = 0;
	uint64_t damage = 0;
	bool have = false;
	enum hostwatch_verdict v;

	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_expect ex;
		enum ondisk_state st;

		if (!round_disk_ok(&r->round, i))
			continue;
		space_expect(r->space, i, ONDISK_KIND_HOST, offset, &ex);
		st = ondisk_host_decode(res_rsector(r, i, 1), &ex, &rec);
		answered++; /* valid, empty, or damaged (judged by whether its bytes change) */
		if (st != ONDISK_VALID && st != ONDISK_EMPTY)
			damage = damage * 31 + ondisk_checksum(res_rsector(r, i, 1), res_ss(r));
		if (st == ONDISK_VALID &&
		    (!have || rec.hdr.writer_generation > fresh.hdr.writer_generation ||
		     (rec.hdr.writer_generation == fresh.hdr.writer_generation &&
		      rec.hdr.seq > fresh.hdr.seq))) {
			fresh = rec;
			have = true;
		}
	}
	v = hostwatch_update(&r->watch, r->tm, answered >= space_majority(r->space),
	                     have ? &fresh : NULL, damage, r->round.submit_ns, res_now(r));
	if (res_decode_leader(r) && !r->watch_blocker &&
	    (r->leader.owner_host_id != r->watch_host ||
	     r->leader.owner_generation != r->watch_generation)) {
		r->state = RES_READ; /* released or taken: start over */
		return res_submit_read(r);
	}
	if (r->watch_blocker && res_watch_blocker_done(r, v, have ? &fresh : NULL))
		return;
	if (v == HOSTWATCH_DEAD || v == HOSTWATCH_FREE) {
		r->reason = ONDISK_REASON_TAKEOVER_DEAD;
		res_note_dead(r, r->watch_host, r->watch_generation);
		if (have)
			res_note_dead(r, r->watch_host, fresh.hdr.writer_generation);
		r->state = RES_READ;
		return res_submit_read(r);
	}
	if (!r->watch_blocker && have && fresh.hdr.writer_generation != r->watch_generation &&
	    res_incarnation_ended(r, &fresh)) {
		res_note_dead(r, r->watch_host, r->watch_generation);
		r->state = RES_READ;
		return res_submit_read(r);
	}
	if (!r->wait && v == HOSTWATCH_LIVE && r->watch.changes > 0)
		return res_fail(r, -EBUSY,
		                "held by host %u ('%s', generation %llu) with token %llu",
		                r->watch_host, have ? fresh.host_name : "?",
		                (unsigned long long)r->watch_generation,
		                (unsigned long long)r->leader.lver);
	if (r->give_up_ns && res_now(r) >= r->give_up_ns)
		return res_fail(r, -ETIMEDOUT, "still held by host %u after waiting",
		                r->watch_host);
	r->backoff_until_ns = res_now(r) + r->tm->poll_interval_ns;
}

static void res_phase_write_done(struct resource *r)
{
	uint32_t ok = round_ok_count(&r->round);

	if (ok < space_majority(r->space))
		return res_backoff(r, "ballot write reached too few disks");
	r->state = r->state == RES_P1_WRITE ? RES_P1_READ : RES_P2_READ;
	res_submit_read(r);
}

/* Judge a phase read; on success move to the next phase (or the commit). */
static void res_phase_read_done(struct resource *r)
{
	struct paxos_result res;
	struct paxos_view v;

	if (round_ok_count(&r->round) < space_majority(r->space))
		return res_backoff(r, "too few disks answered the ballot read");
	if (res_window_grew(r))
		return res_backoff(r, "a new host joined: reading more ballots");
	res_decode_blocks(r, &v);
	paxos_judge(&v, r->target, r->self->host_id, r->mbal, &res);
	/* A leader copy of this instance or later, on any disk that answered: decided already. */
	if (res_decode_leader(r) && r->leader.lver >= r->target)
		res.verdict = PAXOS_LVER_MOVED;
	if (res.verdict == PAXOS_LVER_MOVED) {
		r->state = RES_READ;
		return res_submit_read(r);
	}
	if (res.verdict == PAXOS_DAMAGED) {
		/* Damaged copies are never empty (no recovery rule): only their writer can mend
		 * them, from memory. Find out if it lives (res_watch_done). */
		r->blocker_damaged = res.damaged_count;
		res_watch(r, res.blocker, 0, true);
		return;
	}
	if (res.verdict != PAXOS_OK)
		return res_backoff(r, paxos_verdict_name(res.verdict));
	if (r->state == RES_P1_READ) {
		/* Phase 1 done: propose the value of the highest ballot seen, else ourselves. */
		r->value.owner_host_id =
		        res.have_value ? res.value.owner_host_id : r->self->host_id;
		r->value.owner_generation =
		        res.have_value ? res.value.owner_generation : r->self->generation;
		r->bal = r->mbal;
		r->inp = r->value;
		if (r->value.owner_host_id == r->self->host_id &&
		    r->value.owner_generation == r->self->generation)
			r->proposed_lver = r->target; /* only we can have proposed this value */
		r->state = RES_P2_WRITE;
		return res_submit_block(r);
	}
	/* Phase 2 done: the value is chosen. Record it in the leader; if its owner has since
	 * released it (its block of this instance says so), record the release instead, so a
	 * re-run of a decided instance never hands a released lease back to its old owner. */
	r->state = RES_COMMIT;
	if (res.value_released) {
		struct paxos_value none = {0};

		r->value = none;
		r->reason = ONDISK_REASON_RELEASE;
	}
	res_submit_leader(r, r->target, &r->value, r->reason ? r->reason : ONDISK_REASON_ACQUIRE,
	                  false);
}

static void res_commit_done(struct resource *r)
{
	bool ours = r->value.owner_host_id == r->self->host_id &&
	            r->value.owner_generation == r->self->generation;

	if (round_ok_count(&r->round) < space_majority(r->space))
		return res_backoff(r, "leader write reached too few disks"); /* rerun finds it */
	if (!ours) {
		/* We finished another host's ballot: look again at who holds it now. */
		r->state = RES_READ;
		return res_submit_read(r);
	}
	r->held = true;
	r->token = r->target;
	r->held_generation = r->self->generation;
	r->state = RES_HELD;
	r->wait_seq = 0;     /* our block's waiting flag no longer counts: we are the owner */
	r->released = false; /* and our block must never say RELEASED for what we hold */
	r->requested = false;
	dl_info("resource %u acquired by host %u (generation %llu), token %llu", r->index,
	        r->self->host_id, (unsigned long long)r->self->generation,
	        (unsigned long long)r->token);
}

int resource_acquire(struct resource *r, bool wait, uint64_t give_up_ns)
{
	if (r->state != RES_IDLE && r->state != RES_FAILED)
		return -EALREADY;
	if (!delta_is_live(r->self, res_now(r)))
		return -ENOLINK;
	DL_ASSERT(!r->round.busy);
	r->wait = wait;
	r->give_up_ns = give_up_ns;
	r->attempts = 0;
	r->error = 0;
	r->why[0] = '\0';
	r->reason = 0;
	r->dead_count = 0;
	r->notify_since_ns = 0;
	r->held = false;
	r->state = RES_READ;
	res_submit_read(r);
	return r->state == RES_FAILED ? r->error : 0;
}

int resource_release(struct resource *r)
{
	struct paxos_value none = {0};

	if (r->state != RES_HELD)
		return -EINVAL;
	/* Stop acting first: from here on we never claim the lease, whatever the write does. */
	r->held = false;
	if (!delta_is_live(r->self, res_now(r)) || r->self->generation != r->held_generation) {
		r->state = RES_IDLE;
		return 0;
	}
	r->leader.owner_host_id = r->self->host_id;
	r->leader.owner_generation = r->held_generation;
	r->state = RES_RELEASING;
	r->released = true;
	r->reason = r->requested ? ONDISK_REASON_HANDOFF : ONDISK_REASON_RELEASE;
	/* Our block first (RELEASED), the leader after: never both in one round, so one torn
	 * write cannot take the instance's whole history with it. */
	(void)none;
	r->release_step = 0;
	res_submit_block(r);
	return 0;
}

/* ---- request, inquire, cancel ---- */

static void res_submit_sectors(struct resource *r, uint64_t offset, uint32_t count, size_t at)
{
	round_reset(&r->round);
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		round_add(&r->round, i, IOE_READ, offset, res_rsector(r, i, at), count * res_ss(r));
		r->stats.bytes_read += (uint64_t)count * res_ss(r);
	}
	res_send(r);
}

/* The request record and the holder's mailbox note, encoded per disk. */
static void res_submit_request(struct resource *r)
{
	const struct layout *l = &r->space->layout;
	uint32_t ss = res_ss(r), owner = (uint32_t)r->leader.owner_host_id;
	uint8_t *rq = res_rsector(r, 0, 0); /* reuse the read buffer: two sectors per disk */

	round_reset(&r->round);
	r->req_seq++;
	for (uint32_t i = 0; i < r->space->path_count; i++) {
		uint8_t *a = rq + (size_t)i * 2 * ss, *b = a + ss;
		struct ondisk_request q = {0};
		struct ondisk_mailbox m = {0};
		struct ondisk_expect ex;

		space_expect(r->space, i, ONDISK_KIND_REQUEST, layout_request_offset(l, r->index),
		             &ex);
		ondisk_hdr_init(&q.hdr, ONDISK_KIND_REQUEST, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		q.hdr.writer_host_id = q.requester_host_id = r->self->host_id;
		q.hdr.writer_generation = q.requester_generation = r->self->generation;
		q.lver = q.hdr.seq = r->leader.lver;
		q.mode = r->req_mode;
		q.wall_ms = clock_wall_ms();
		ondisk_request_encode(&q, ss, a);
		space_expect(r->space, i, ONDISK_KIND_MAILBOX, layout_mailbox_offset(l, owner),
		             &ex);
		ondisk_hdr_init(&m.hdr, ONDISK_KIND_MAILBOX, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		m.hdr.writer_host_id = r->self->host_id;
		m.hdr.writer_generation = m.requester_generation = r->self->generation;
		m.hdr.seq = r->req_seq;
		m.resource_index = r->index;
		m.mode = r->req_mode;
		m.lver = r->leader.lver;
		m.wall_ms = q.wall_ms;
		ondisk_mailbox_encode(&m, ss, b);
		round_add(&r->round, i, IOE_WRITE, layout_request_offset(l, r->index), a, ss);
		round_add(&r->round, i, IOE_WRITE, layout_mailbox_offset(l, owner), b, ss);
		r->stats.bytes_written += 2ull * ss;
	}
	res_send(r);
}

int resource_request(struct resource *r, uint32_t mode)
{
	if (r->state != RES_IDLE && r->state != RES_FAILED)
		return -EALREADY;
	if (!delta_is_live(r->self, res_now(r)))
		return -ENOLINK;
	DL_ASSERT(mode == ONDISK_REQUEST_GRACEFUL || mode == ONDISK_REQUEST_FORCE);
	r->req_mode = mode;
	r->error = 0;
	r->state = RES_REQ_READ;
	res_submit_sectors(r, layout_leader_offset(&r->space->layout, r->index), 1, 0);
	return r->state == RES_FAILED ? r->error : 0;
}

static void res_request_read_done(struct resource *r)
{
	if (round_ok_count(&r->round) < space_majority(r->space) || !res_decode_leader(r))
		return res_fail(r, -ETIMEDOUT, "request: the leader could not be read");
	if (r->leader.owner_host_id == 0)
		return res_fail(r, -ENOENT, "request: nobody holds it (lver %llu)",
		                (unsigned long long)r->leader.lver);
	if (r->leader.owner_host_id == r->self->host_id)
		return res_fail(r, -EINVAL, "request: we hold it ourselves");
	r->state = RES_REQ_WRITE;
	res_submit_request(r);
}

int resource_inquire(struct resource *r)
{
	if (r->state != RES_IDLE && r->state != RES_FAILED)
		return -EALREADY;
	r->error = 0;
	r->owner_valid = r->request_valid = false;
	r->state = RES_INQ_READ;
	res_submit_sectors(r, layout_leader_offset(&r->space->layout, r->index), 2, 0);
	return r->state == RES_FAILED ? r->error : 0;
}

/* The freshest valid request record (sector 1) among answering disks. */
static bool res_decode_request(struct resource *r, size_t at)
{
	uint64_t offset = layout_request_offset(&r->space->layout, r->index);
	bool have = false;

	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_request q;

		if (!round_disk_ok(&r->round, i))
			continue;
		space_expect(r->space, i, ONDISK_KIND_REQUEST, offset, &ex);
		if (ondisk_request_decode(res_rsector(r, i, at), &ex, &q) == ONDISK_VALID &&
		    (!have || q.lver > r->request.lver)) {
			r->request = q;
			have = true;
		}
	}
	return have;
}

static void res_inquire_read_done(struct resource *r)
{
	if (round_ok_count(&r->round) < space_majority(r->space))
		return res_fail(r, -ETIMEDOUT, "inquire: too few disks answered");
	if (!res_decode_leader(r))
		memset(&r->leader, 0, sizeof(r->leader));
	r->request_valid = res_decode_request(r, 1);
	if (r->leader.owner_host_id == 0) {
		r->state = RES_IDLE;
		return;
	}
	r->state = RES_INQ_OWNER;
	res_submit_sectors(
	        r, layout_host_offset(&r->space->layout, (uint32_t)r->leader.owner_host_id), 1, 2);
}

static void res_inquire_owner_done(struct resource *r)
{
	uint64_t offset = layout_host_offset(&r->space->layout, (uint32_t)r->leader.owner_host_id);

	for (uint32_t i = 0; i < r->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_host h;

		if (!round_disk_ok(&r->round, i))
			continue;
		space_expect(r->space, i, ONDISK_KIND_HOST, offset, &ex);
		if (ondisk_host_decode(res_rsector(r, i, 2), &ex, &h) == ONDISK_VALID &&
		    (!r->owner_valid || h.hdr.writer_generation > r->owner.hdr.writer_generation ||
		     (h.hdr.writer_generation == r->owner.hdr.writer_generation &&
		      h.hdr.seq > r->owner.hdr.seq))) {
			r->owner = h;
			r->owner_valid = true;
		}
	}
	r->state = RES_IDLE;
}

int resource_check_request(struct resource *r)
{
	if (r->state != RES_HELD)
		return -EINVAL;
	if (r->checking || r->pending)
		return -EALREADY;
	r->checking = true;
	res_submit_sectors(r, layout_request_offset(&r->space->layout, r->index), 1, 1);
	return 0;
}

static void res_check_done(struct resource *r)
{
	r->checking = false;
	if (res_decode_request(r, 1) && r->request.lver == r->token &&
	    r->request.requester_host_id != r->self->host_id) {
		r->requested = true;
		r->request_mode = r->request.mode;
		r->request_host = r->request.requester_host_id;
	}
}

void resource_repair(struct resource *r)
{
	r->repair_wanted = true;
}

/* Rewrite our block from memory (exactly what this struct last wrote), unless a ballot of
 * ours is running (it rewrites it). Without memory (a restarted process: own_known false)
 * nothing is written: the damaged copies may hold our only vote, and writing anything
 * else over them is the recovery rule that tests/model refutes (docs/design.md 4). */
static bool res_repair_now(struct resource *r)
{
	switch (r->state) {
	case RES_IDLE:
	case RES_FAILED:
	case RES_WATCH:
	case RES_BACKOFF:
	case RES_HELD:
		break;
	default:
		return false;
	}
	if (!r->repair_wanted || r->pending || !delta_is_live(r->self, res_now(r)))
		return false;
	r->repair_wanted = false;
	if (!r->own_known) {
		dl_warn("resource %u: our ballot block is reported damaged, but this process never "
		        "wrote it and cannot know its vote: not rewriting it (docs/design.md 4)",
		        r->index);
		return false;
	}
	r->repairing = true;
	round_reset(&r->round);
	res_add_block_body(r, &r->own_block, r->wbuf);
	res_send(r);
	return true;
}

int resource_cancel(struct resource *r)
{
	if (r->state == RES_HELD || r->state == RES_RELEASING)
		return -EINVAL;
	if (r->pending) {
		r->cancel_wanted = true;
		return 0;
	}
	r->state = RES_IDLE;
	return 0;
}

static void res_release_done(struct resource *r)
{
	struct paxos_value none = {0};
	bool ok = round_ok_count(&r->round) >= space_majority(r->space);

	if (r->release_step < 2 && !ok && r->release_step++ == 0)
		return res_submit_block(r); /* one more try: a torn write is not acknowledged */
	if (r->release_step < 2) {
		r->release_step = 2;
		return res_submit_leader(r, r->token, &none, r->reason, false);
	}
	if (!ok && r->release_step++ == 2)
		return res_submit_leader(r, r->token, &none, r->reason, false); /* once more */
	r->state = RES_IDLE;
}

static void res_judge(struct resource *r)
{
	r->pending = false;
	if (r->repairing) {
		r->repairing = false; /* our block is rewritten (or will be at the next note) */
		return;
	}
	if (r->cancel_wanted && r->state != RES_HELD && r->state != RES_RELEASING &&
	    r->state != RES_COMMIT) {
		r->cancel_wanted = false;
		r->state = RES_IDLE;
		return;
	}
	switch (r->state) {
	case RES_READ:
		return res_read_done(r);
	case RES_QUEUE:
		return res_watch_owner(r); /* the intent is best effort: watch either way */
	case RES_WATCH:
		return res_watch_done(r);
	case RES_P1_WRITE:
	case RES_P2_WRITE:
		return res_phase_write_done(r);
	case RES_P1_READ:
	case RES_P2_READ:
		return res_phase_read_done(r);
	case RES_COMMIT:
		return res_commit_done(r);
	case RES_HELD:
		return res_check_done(r);
	case RES_RELEASING:
		return res_release_done(r);
	case RES_REQ_READ:
		return res_request_read_done(r);
	case RES_REQ_WRITE:
		if (round_ok_count(&r->round) < space_majority(r->space))
			return res_fail(r, -EIO, "request: written to too few disks");
		r->state = RES_IDLE;
		return;
	case RES_INQ_READ:
		return res_inquire_read_done(r);
	case RES_INQ_OWNER:
		return res_inquire_owner_done(r);
	case RES_NOTIFY:
		return res_backoff(r, "waiting for a live host to repair its damaged ballot");
	default:
		return; /* failed while the round was in flight */
	}
}

uint64_t resource_step(struct resource *r)
{
	uint64_t now = res_now(r);

	if (r->pending && round_finished(&r->round)) {
		res_judge(r);
		now = res_now(r);
	}
	if (r->state == RES_HELD && !resource_is_held(r, now)) {
		r->held = false;
		res_fail(r, -ENOLINK, "lost with our host lease (generation %llu)",
		         (unsigned long long)r->held_generation);
		return 0;
	}
	if (r->pending)
		return now + r->tm->poll_interval_ns;
	if (res_repair_now(r))
		return now + r->tm->io_timeout_ns;
	if ((r->state == RES_BACKOFF || r->state == RES_WATCH) && now >= r->backoff_until_ns) {
		if (r->state == RES_BACKOFF) {
			r->state = RES_READ;
			res_submit_read(r);
		} else {
			res_submit_watch(r);
		}
		return now + r->tm->io_timeout_ns;
	}
	if (r->state == RES_BACKOFF || r->state == RES_WATCH)
		return r->backoff_until_ns;
	return 0;
}
