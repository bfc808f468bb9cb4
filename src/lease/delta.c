/* SPDX-License-Identifier: MIT */
/*
 * delta.c: the delta lease state machine of delta.h. Each function either
 * composes and submits one round, or judges a finished round and moves to
 * the next state; delta_step() dispatches. Reads take the freshest record
 * (highest generation, then sequence) among disks that answered; a sector
 * that fails its checksum or identity checks counts as that disk not
 * answering for that slot, never as an empty slot.
 */
#include "base/compat.h"
#include "delta.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

#define DELTA_STRIDE (DELTA_DENSE_GAP + 2u) /* sectors per disk in rbuf */

struct slot_read {
	uint32_t answered;           /* disks whose slot read was valid or empty */
	uint32_t damaged;            /* disks whose slot read failed its checks */
	bool have;                   /* freshest is set */
	struct ondisk_host freshest; /* highest (generation, seq) */
	uint64_t max_generation;
	bool foreign;    /* a valid record that is not ours (see delta_is_ours) */
	uint64_t damage; /* digest of the damaged copies (hostwatch) */
};

DL_PRINTF(3, 4) static void delta_fail(struct delta *d, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	d->state = DELTA_FAILED;
	d->error = error;
	dl_warn("%s", d->why);
}

static uint32_t delta_ss(const struct delta *d)
{
	return d->space->header.sector_size;
}

static uint8_t *delta_rsector(const struct delta *d, uint32_t disk, uint32_t index)
{
	DL_ASSERT(index < DELTA_STRIDE);
	return d->rbuf + ((size_t)disk * DELTA_STRIDE + index) * delta_ss(d);
}

static uint64_t delta_now(const struct delta *d)
{
	return clock_now_ns(d->clk);
}

int delta_init(struct delta *d, struct space *space, struct ioe *ioe, const struct timing *tm,
               const struct clock *clk, uint32_t host_id, const struct delta_identity *id)
{
	uint32_t ss = space->header.sector_size;

	DL_ASSERT(space->have_header);
	memset(d, 0, sizeof(*d));
	if (host_id < 1 || host_id > space->header.max_hosts)
		return -EINVAL;
	d->space = space;
	d->tm = tm;
	d->clk = clk;
	d->host_id = host_id;
	d->id = *id;
	d->rbuf = calloc((size_t)IOE_DISKS_MAX * DELTA_STRIDE, ss);
	d->wbuf = calloc(IOE_DISKS_MAX, ss);
	if (!d->rbuf || !d->wbuf) {
		delta_free(d);
		return -ENOMEM;
	}
	round_init(&d->round, ioe, space);
	hostwatch_reset(&d->watch);
	return 0;
}

void delta_free(struct delta *d)
{
	DL_ASSERT(!d->round.busy);
	free(d->rbuf);
	free(d->wbuf);
	d->rbuf = d->wbuf = NULL;
}

/* Our record: same identity, same boot and the generation we wrote. */
static bool delta_is_ours(const struct delta *d, const struct ondisk_host *r)
{
	return !memcmp(r->host_uuid, d->id.host_uuid, ONDISK_UUID_SIZE) &&
	       !memcmp(r->boot_id, d->id.boot_id, ONDISK_UUID_SIZE) &&
	       r->hdr.writer_generation == d->generation;
}

/* Decode our slot (at sector index `index` of each disk's read) on every answering disk. */
static void delta_judge_slot(struct delta *d, uint32_t index, bool check_foreign,
                             struct slot_read *out)
{
	uint64_t offset = layout_host_offset(&d->space->layout, d->host_id);

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < d->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_host rec;
		enum ondisk_state st;

		if (!round_disk_ok(&d->round, i))
			continue;
		space_expect(d->space, i, ONDISK_KIND_HOST, offset, &ex);
		st = ondisk_host_decode(delta_rsector(d, i, index), &ex, &rec);
		if (st == ONDISK_EMPTY) {
			out->answered++;
			continue;
		}
		if (st != ONDISK_VALID) {
			out->damaged++;
			out->damage = out->damage * 31 +
			              ondisk_checksum(delta_rsector(d, i, index), delta_ss(d));
			continue;
		}
		out->answered++;
		out->max_generation = DL_MAX(out->max_generation, rec.hdr.writer_generation);
		if (check_foreign && !delta_is_ours(d, &rec))
			out->foreign = true;
		if (!out->have || rec.hdr.writer_generation > out->freshest.hdr.writer_generation ||
		    (rec.hdr.writer_generation == out->freshest.hdr.writer_generation &&
		     rec.hdr.seq > out->freshest.hdr.seq)) {
			out->freshest = rec;
			out->have = true;
		}
	}
}

/* Round: our slot (and, when joining, the DELTA_DENSE_GAP slots below it) plus our mailbox. */
static int delta_submit_read(struct delta *d, bool with_gap)
{
	const struct layout *l = &d->space->layout;
	uint32_t lo = with_gap && d->host_id > DELTA_DENSE_GAP ? d->host_id - DELTA_DENSE_GAP : 1;
	uint32_t count = with_gap ? d->host_id - lo + 1 : 1;
	uint32_t ss = delta_ss(d);

	if (!with_gap)
		lo = d->host_id;
	round_reset(&d->round);
	for (uint32_t i = 0; i < d->space->path_count; i++) {
		round_add(&d->round, i, IOE_READ, layout_host_offset(l, lo), delta_rsector(d, i, 0),
		          count * ss);
		round_add(&d->round, i, IOE_READ, layout_mailbox_offset(l, d->host_id),
		          delta_rsector(d, i, DELTA_STRIDE - 1), ss);
	}
	return round_submit(&d->round, delta_now(d), d->tm->io_timeout_ns);
}

/* Round: our record, encoded per disk (each copy names its disk and sector). */
static int delta_submit_write(struct delta *d, uint32_t state)
{
	uint64_t offset = layout_host_offset(&d->space->layout, d->host_id);
	uint64_t now = delta_now(d);
	struct ondisk_host rec;

	DL_ASSERT(d->generation > 0);
	round_reset(&d->round);
	for (uint32_t i = 0; i < d->space->path_count; i++) {
		struct ondisk_expect ex;

		space_expect(d->space, i, ONDISK_KIND_HOST, offset, &ex);
		memset(&rec, 0, sizeof(rec));
		ondisk_hdr_init(&rec.hdr, ONDISK_KIND_HOST, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		rec.hdr.writer_host_id = d->host_id;
		rec.hdr.writer_generation = d->generation;
		rec.hdr.seq = d->seq + 1; /* every attempt a new seq: see delta_submit */
		snprintf(rec.host_name, sizeof(rec.host_name), "%s", d->id.host_name);
		memcpy(rec.host_uuid, d->id.host_uuid, ONDISK_UUID_SIZE);
		memcpy(rec.boot_id, d->id.boot_id, ONDISK_UUID_SIZE);
		rec.timestamp_ns = now;
		rec.io_timeout_ms = d->space->header.io_timeout_ms;
		rec.state = state;
		rec.joined_wall_ms = d->joined_wall_ms;
		rec.renewed_wall_ms = clock_wall_ms();
		ondisk_host_encode(&rec, delta_ss(d), d->wbuf + (size_t)i * delta_ss(d));
		round_add(&d->round, i, IOE_WRITE, offset, d->wbuf + (size_t)i * delta_ss(d),
		          delta_ss(d));
	}
	return round_submit(&d->round, now, d->tm->io_timeout_ns);
}

const char *delta_state_name(enum delta_state s)
{
	static const char *const names[] = {"idle",    "reading", "watching",   "holdoff",
	                                    "writing", "waiting", "confirming", "live",
	                                    "leaving", "left",    "failed"};

	DL_ASSERT((size_t)s < DL_ARRAY_SIZE(names));
	return names[s];
}

bool delta_is_live(const struct delta *d, uint64_t now_ns)
{
	return d->state == DELTA_LIVE && now_ns < d->valid_until_ns;
}

/* Submit helpers that remember a round is pending; a failed submit fails the lease. */
static void delta_submit(struct delta *d, int rc, const char *what)
{
	if (rc < 0) {
		delta_fail(d, rc, "cannot submit the %s round: %s", what, strerror(-rc));
		return;
	}
	d->pending = true;
}

static void delta_write(struct delta *d, uint32_t state, const char *what)
{
	int rc = delta_submit_write(d, state);

	/* A write that fails may still land on some disk: never reuse its seq, or an
	 * observer could take two different writes for "unchanged". */
	d->seq++;
	delta_submit(d, rc, what);
}

/* A host may join only if one of the DELTA_DENSE_GAP ids below it ever joined, so that
 * every reader of ballots finds all hosts by looking that far past the highest it knows. */
static bool delta_dense_ok(struct delta *d)
{
	const struct layout *l = &d->space->layout;
	uint32_t lo;

	if (d->host_id <= DELTA_DENSE_GAP)
		return true;
	lo = d->host_id - DELTA_DENSE_GAP;
	for (uint32_t i = 0; i < d->space->path_count; i++) {
		if (!round_disk_ok(&d->round, i))
			continue;
		for (uint32_t h = lo; h < d->host_id; h++) {
			struct ondisk_expect ex;
			struct ondisk_host rec;

			space_expect(d->space, i, ONDISK_KIND_HOST, layout_host_offset(l, h), &ex);
			if (ondisk_host_decode(delta_rsector(d, i, h - lo), &ex, &rec) ==
			    ONDISK_VALID)
				return true;
		}
	}
	return false;
}

/* 0..65535 from our identity and the time: two hosts misconfigured with one host id that
 * join at once still end up with different generations, so a lease of one is never taken
 * for the other's (docs/design.md). */
static uint64_t delta_generation_spread(const struct delta *d)
{
	uint64_t x = delta_now(d);

	for (unsigned i = 0; i < ONDISK_UUID_SIZE; i++)
		x = (x ^ d->id.host_uuid[i] ^ ((uint64_t)d->id.boot_id[i] << 8)) *
		    0x9e3779b97f4a7c15ull;
	return (x >> 48) & 0xffffu;
}

static void delta_begin_write(struct delta *d, uint64_t max_generation)
{
	/* A damaged copy may hide a higher generation: jump far past anything it could hold,
	 * or leases of the incarnation it hides would seem to be ours. */
	d->generation = max_generation + 1 + delta_generation_spread(d) +
	                (d->slot_damaged ? DELTA_GENERATION_JUMP : 0);
	d->seq = 0;
	d->joined_wall_ms = clock_wall_ms();
	d->state = DELTA_WRITE;
	delta_write(d, ONDISK_HOST_JOINING, "join write");
}

static void delta_join_read_done(struct delta *d)
{
	uint32_t own = d->host_id > DELTA_DENSE_GAP ? DELTA_DENSE_GAP : d->host_id - 1;
	uint64_t now = delta_now(d);
	struct slot_read sr;

	delta_judge_slot(d, own, false, &sr);
	d->slot_damaged = sr.damaged > 0;
	if (sr.answered < space_majority(d->space) &&
	    sr.answered + sr.damaged >= space_majority(d->space) && delta_dense_ok(d)) {
		/* damaged on a majority: someone may be renewing it; wait until it stays put */
		d->generation = sr.max_generation;
		hostwatch_reset(&d->watch);
		hostwatch_update(&d->watch, d->tm, true, sr.have ? &sr.freshest : NULL, sr.damage,
		                 d->round.submit_ns, now);
		d->state = DELTA_WATCH;
		d->wait_until_ns = now + d->tm->poll_interval_ns;
		return;
	}
	if (sr.answered < space_majority(d->space))
		return delta_fail(d, -ETIMEDOUT,
		                  "host id %u: only %u of %u disks answered (%u damaged)",
		                  d->host_id, sr.answered, d->space->header.disk_count, sr.damaged);
	if (!delta_dense_ok(d))
		return delta_fail(
		        d, -EPERM,
		        "host id %u: host ids are given out densely, and none of %u..%u has ever joined",
		        d->host_id, d->host_id - DELTA_DENSE_GAP, d->host_id - 1);
	if (!sr.have || sr.freshest.state == ONDISK_HOST_FREE)
		return delta_begin_write(d, sr.max_generation);
	if (!memcmp(sr.freshest.host_uuid, d->id.host_uuid, ONDISK_UUID_SIZE)) {
		bool same_boot = !memcmp(sr.freshest.boot_id, d->id.boot_id, ONDISK_UUID_SIZE);

		/* Our own previous incarnation. Within one boot its clock is ours: wait out its
		 * validity unless its holders are known stopped. After a reboot none survive. */
		d->wait_until_ns = sr.freshest.timestamp_ns + d->tm->validity_ns;
		d->generation = sr.max_generation; /* remembered for the write */
		if (!same_boot || d->prev_stopped || d->wait_until_ns <= now)
			return delta_begin_write(d, sr.max_generation);
		d->state = DELTA_HOLDOFF;
		return;
	}
	/* Another identity's record: wait until it is seen unchanged for host_dead. */
	d->generation = sr.max_generation;
	hostwatch_reset(&d->watch);
	hostwatch_update(&d->watch, d->tm, true, &sr.freshest, 0, d->round.submit_ns, now);
	d->state = DELTA_WATCH;
	d->wait_until_ns = now + d->tm->poll_interval_ns;
	dl_info("host id %u: slot last written by '%s' (generation %llu); watching it", d->host_id,
	        sr.freshest.host_name, (unsigned long long)sr.freshest.hdr.writer_generation);
}

static void delta_watch_done(struct delta *d)
{
	uint64_t gen0 = d->watch.generation, seq0 = d->watch.seq;
	uint64_t now = delta_now(d);
	struct slot_read sr;
	enum hostwatch_verdict v;

	delta_judge_slot(d, 0, false, &sr);
	d->slot_damaged |= sr.damaged > 0;
	v = hostwatch_update(&d->watch, d->tm, sr.answered + sr.damaged >= space_majority(d->space),
	                     sr.have ? &sr.freshest : NULL, sr.damage, d->round.submit_ns, now);
	d->generation = DL_MAX(d->generation, sr.max_generation);
	if (v == HOSTWATCH_DEAD || v == HOSTWATCH_FREE)
		return delta_begin_write(d, d->generation);
	if (d->watch.generation != gen0 || d->watch.seq != seq0)
		return delta_fail(d, -EBUSY,
		                  "host id %u is in use by '%s' (it renewed while we watched)",
		                  d->host_id, sr.have ? sr.freshest.host_name : "?");
	d->wait_until_ns = now + d->tm->poll_interval_ns;
}

static void delta_join_write_done(struct delta *d)
{
	uint32_t ok = round_ok_count(&d->round);

	if (ok < space_majority(d->space))
		return delta_fail(d, -EIO, "host id %u: join write reached %u of %u disks",
		                  d->host_id, ok, d->space->header.disk_count);
	d->last_submit_ns = d->round.submit_ns;
	d->valid_until_ns = d->round.submit_ns + d->tm->validity_ns;
	d->act_until_ns = d->round.submit_ns + d->tm->act_ns;
	d->join_ack_ns = delta_now(d);
	d->wait_until_ns = d->join_ack_ns + d->tm->join_wait_ns;
	d->state = DELTA_WAIT;
}

static void delta_confirm_done(struct delta *d)
{
	uint64_t now = delta_now(d);
	struct slot_read sr;

	delta_judge_slot(d, 0, true, &sr);
	if (sr.foreign)
		return delta_fail(
		        d, -EADDRINUSE,
		        "host id %u: another host wrote our slot while we joined ('%s'): two hosts share this id",
		        d->host_id, sr.freshest.host_name);
	if (sr.answered < space_majority(d->space))
		return delta_fail(d, -ETIMEDOUT,
		                  "host id %u: confirming read answered by %u of %u disks",
		                  d->host_id, sr.answered, d->space->header.disk_count);
	if (now >= d->valid_until_ns)
		return delta_fail(d, -ETIMEDOUT,
		                  "host id %u: join took longer than the lease validity",
		                  d->host_id);
	d->state = DELTA_LIVE;
	d->next_renew_ns = d->last_submit_ns + d->tm->renew_interval_ns;
	dl_info("host id %u joined lockspace %s with generation %llu", d->host_id,
	        d->space->header.name, (unsigned long long)d->generation);
}

/* The freshest mailbox note among answering disks; a new one is flagged for the owner. */
static void delta_read_mailbox(struct delta *d)
{
	uint64_t offset = layout_mailbox_offset(&d->space->layout, d->host_id);

	for (uint32_t i = 0; i < d->space->path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_mailbox m;

		if (!round_disk_ok(&d->round, i))
			continue;
		space_expect(d->space, i, ONDISK_KIND_MAILBOX, offset, &ex);
		if (ondisk_mailbox_decode(delta_rsector(d, i, DELTA_STRIDE - 1), &ex, &m) !=
		    ONDISK_VALID)
			continue;
		if (m.hdr.writer_host_id != d->mailbox.hdr.writer_host_id ||
		    m.hdr.seq != d->mailbox.hdr.seq || m.lver != d->mailbox.lver ||
		    m.resource_index != d->mailbox.resource_index) {
			d->mailbox = m;
			d->mailbox_new = true;
		}
	}
}

static void delta_renew_read_done(struct delta *d)
{
	struct slot_read sr;

	delta_judge_slot(d, 0, true, &sr);
	if (sr.foreign)
		return delta_fail(
		        d, -EADDRINUSE,
		        "host id %u: a foreign record ('%s', generation %llu) in our slot: two hosts share this id; our leases are lost",
		        d->host_id, sr.freshest.host_name,
		        (unsigned long long)sr.freshest.hdr.writer_generation);
	delta_read_mailbox(d);
	d->renew_writing = true;
	delta_write(d, ONDISK_HOST_LIVE, "renewal write");
}

static void delta_renew_write_done(struct delta *d)
{
	uint64_t submit = d->round.submit_ns;
	uint32_t ok = round_ok_count(&d->round);

	d->renew_writing = false;
	/* Counts only if a majority took it and it was sent while the lease was valid. */
	if (ok >= space_majority(d->space) && submit < d->valid_until_ns) {
		DL_ASSERT(submit >= d->last_submit_ns);
		d->last_submit_ns = submit;
		d->valid_until_ns = submit + d->tm->validity_ns;
		d->act_until_ns = submit + d->tm->act_ns;
		d->next_renew_ns = submit + d->tm->renew_interval_ns;
		d->renewals++;
		return;
	}
	d->renew_failures++;
	d->next_renew_ns = delta_now(d) + d->tm->renew_retry_ns;
	dl_warn("host id %u: renewal reached %u of %u disks", d->host_id, ok,
	        d->space->header.disk_count);
}

int delta_join(struct delta *d, bool prev_stopped)
{
	if (d->state != DELTA_IDLE && d->state != DELTA_LEFT && d->state != DELTA_FAILED)
		return -EALREADY;
	DL_ASSERT(!d->round.busy);
	d->prev_stopped = prev_stopped;
	d->error = 0;
	d->why[0] = '\0';
	d->valid_until_ns = 0;
	d->state = DELTA_READ;
	delta_submit(d, delta_submit_read(d, true), "join read");
	return d->state == DELTA_FAILED ? d->error : 0;
}

int delta_leave(struct delta *d)
{
	if (d->state != DELTA_LIVE)
		return -EINVAL;
	d->leave_wanted = true;
	return 0;
}

/* Judge the finished round according to the state that submitted it. */
static void delta_judge(struct delta *d)
{
	d->pending = false;
	switch (d->state) {
	case DELTA_FAILED:
		return; /* failed while the round was in flight: its result no longer matters */
	case DELTA_READ:
		return delta_join_read_done(d);
	case DELTA_WATCH:
		return delta_watch_done(d);
	case DELTA_WRITE:
		return delta_join_write_done(d);
	case DELTA_CONFIRM:
		return delta_confirm_done(d);
	case DELTA_LIVE:
		return d->renew_writing ? delta_renew_write_done(d) : delta_renew_read_done(d);
	case DELTA_LEAVING:
		d->state = DELTA_LEFT;
		d->valid_until_ns = 0;
		if (round_ok_count(&d->round) < space_majority(d->space))
			dl_warn("host id %u: leave reached too few disks; others will see us dead after host_dead",
			        d->host_id);
		return;
	default:
		DL_ASSERT(!"a round finished in a state that submits none");
	}
}

/* Timers of the current state; may submit the next round. */
static uint64_t delta_timers(struct delta *d, uint64_t now)
{
	switch (d->state) {
	case DELTA_WATCH:
	case DELTA_WAIT:
	case DELTA_HOLDOFF:
		if (now < d->wait_until_ns)
			return d->wait_until_ns;
		if (d->state == DELTA_HOLDOFF) {
			delta_begin_write(d, d->generation);
		} else {
			if (d->state == DELTA_WAIT)
				d->state = DELTA_CONFIRM;
			delta_submit(d, delta_submit_read(d, false), "watch/confirm read");
		}
		return now + d->tm->io_timeout_ns;
	case DELTA_LIVE:
		if (d->leave_wanted) {
			d->leave_wanted = false;
			d->state = DELTA_LEAVING;
			delta_write(d, ONDISK_HOST_FREE, "leave write");
			return now + d->tm->io_timeout_ns;
		}
		if (now >= d->next_renew_ns) {
			delta_submit(d, delta_submit_read(d, false), "renewal read");
			return now + d->tm->io_timeout_ns;
		}
		return DL_MIN(d->next_renew_ns, d->valid_until_ns);
	default:
		return 0;
	}
}

uint64_t delta_step(struct delta *d)
{
	uint64_t now = delta_now(d);

	if (d->pending && round_finished(&d->round)) {
		delta_judge(d);
		now = delta_now(d);
	}
	/* A lapse is acted on at once, even with a renewal still in flight. */
	if (d->state == DELTA_LIVE && now >= d->valid_until_ns) {
		delta_fail(d, -ETIMEDOUT,
		           "host id %u: lease lapsed (last renewal submitted %.3f s ago)",
		           d->host_id, (double)(now - d->last_submit_ns) / 1e9);
		return 0;
	}
	if (d->pending)
		return d->state == DELTA_LIVE
		               ? DL_MIN(now + d->tm->poll_interval_ns, d->valid_until_ns)
		               : now + d->tm->poll_interval_ns;
	return delta_timers(d, now);
}
