/* SPDX-License-Identifier: MIT */
/*
 * lspace.c: one joined lockspace inside the daemon: the disks (space), this
 * host's delta lease (delta.c), the resource leases it uses (resource.c,
 * one struct per lease area, made on first use), the directory of names
 * (directory.c) and a scan of the other hosts' slots every T for `hosts`,
 * metrics and host events. lspace_step() advances all of them and turns
 * their state changes into the daemon's: leases held or lost, validity
 * deadlines, holders stopped, events.
 *
 *   JOINING -> LIVE     the delta lease became live (event joined)
 *   JOINING -> FAILED   the join failed (the waiting `join` gets the reason)
 *   LIVE    -> LEAVING  lspace_leave(): release every lease, then leave
 *   LEAVING -> LEFT     the delta lease left (event left)
 *   LIVE    -> LOST     the act deadline passed without a counted renewal:
 *                       every lease is lost, its holder stopped (event
 *                       lockspace_lost); once the holders are gone and the
 *                       validity has ended, the host joins again (JOINING)
 *
 * Enforcement invariant: a lease is marked held in the validity page only
 * with act_until_ns = the delta lease's act deadline; at that deadline,
 * without a later counted renewal, every holder is sent SIGTERM (or the
 * kill_command), and SIGKILL at last submission + kill_ns (2.5T).
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

#define LSPACE_SCAN_MAX 512u /* host slots scanned for `hosts` and host events */

const char *lspace_state_name(enum lspace_state s)
{
	static const char *const names[] = {"joining", "live", "leaving", "lost", "left", "failed"};

	return (size_t)s < DL_ARRAY_SIZE(names) ? names[s] : "?";
}

struct lspace *lspace_find(struct dleased *dd, const char *name)
{
	for (uint32_t i = 0; i < dd->space_count; i++) {
		if (strcmp(dd->spaces[i]->name, name) == 0)
			return dd->spaces[i];
	}
	return NULL;
}

static uint64_t lspace_now(const struct lspace *ls)
{
	return clock_now_ns(ls->dd->clk);
}

static void lspace_event(struct lspace *ls, enum event_kind kind, const struct lres *lr,
                         const char *fmt, ...) DL_PRINTF(4, 5);

static void lspace_event(struct lspace *ls, enum event_kind kind, const struct lres *lr,
                         const char *fmt, ...)
{
	struct event ev = {.kind = kind};
	va_list ap;

	snprintf(ev.lockspace, sizeof(ev.lockspace), "%s", ls->name);
	if (lr) {
		snprintf(ev.resource, sizeof(ev.resource), "%s", lr->name);
		ev.token = lr->token;
	}
	va_start(ap, fmt);
	vsnprintf(ev.reason, sizeof(ev.reason), fmt, ap);
	va_end(ap);
	if (kind == EV_ACQUIRED && lr) {
		/* r.leader is the record our commit replaced */
		ev.old_host_id = lr->r.leader.owner_host_id;
		ev.old_generation = lr->r.leader.owner_generation;
		ev.new_host_id = ls->host_id;
		ev.new_generation = ls->delta.generation;
	} else if ((kind == EV_RELEASED || kind == EV_LOST) && lr) {
		ev.old_host_id = ls->host_id;
		ev.old_generation = lr->r.held_generation;
	} else if (kind == EV_JOINED || kind == EV_LEFT || kind == EV_LOCKSPACE_LOST) {
		ev.new_host_id = ls->host_id;
		ev.new_generation = ls->delta.generation;
	}
	events_emit(ls->dd, &ev);
}

static int lspace_scan_init(struct lspace *ls)
{
	uint32_t n = DL_MIN(ls->space.header.max_hosts, LSPACE_SCAN_MAX);
	size_t ss = ls->space.header.sector_size;

	ls->scan_count = n;
	ls->scan_buf =
	        aligned_alloc(4096, DL_ROUND_UP((size_t)n * ss * ls->space.path_count, 4096));
	ls->scan_watch = calloc(n, sizeof(*ls->scan_watch));
	ls->scan_hosts = calloc(n, sizeof(*ls->scan_hosts));
	ls->scan_valid = calloc(n, sizeof(*ls->scan_valid));
	ls->scan_seen_ns = calloc(n, sizeof(*ls->scan_seen_ns));
	if (!ls->scan_buf || !ls->scan_watch || !ls->scan_hosts || !ls->scan_valid ||
	    !ls->scan_seen_ns)
		return -ENOMEM;
	for (uint32_t h = 0; h < n; h++)
		hostwatch_reset(&ls->scan_watch[h]);
	round_init(&ls->scan_round, ls->ioe, &ls->space);
	return 0;
}

int lspace_open(struct dleased *dd, const char *const *disks, uint32_t disk_count, uint32_t host_id,
                struct lspace **out, char *why, size_t why_size)
{
	struct delta_identity id = {0};
	struct lspace *ls;
	int rc;

	if (dd->space_count == DLEASED_LOCKSPACES_MAX) {
		snprintf(why, why_size, "this daemon has joined %u lockspaces already",
		         DLEASED_LOCKSPACES_MAX);
		return -ENOSPC;
	}
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->dd = dd;
	/* the daemon's one engine: every lockspace's rounds go out together at each flush */
	ls->ioe = dd->ioe;
	rc = space_open(&ls->space, ls->ioe, disks, disk_count, true);
	if (rc == 0)
		rc = space_load(&ls->space);
	if (rc < 0) {
		snprintf(why, why_size, "%s", ls->space.why[0] ? ls->space.why : strerror(-rc));
		goto out_close;
	}
	snprintf(ls->name, sizeof(ls->name), "%s", ls->space.header.name);
	if (lspace_find(dd, ls->name)) {
		snprintf(why, why_size, "lockspace %s is joined already", ls->name);
		rc = -EEXIST;
		goto out_close;
	}
	if (host_id == 0 || host_id > ls->space.header.max_hosts) {
		snprintf(why, why_size,
		         "host id %u is out of range: lockspace %s has host ids 1..%u", host_id,
		         ls->name, ls->space.header.max_hosts);
		rc = -EINVAL;
		goto out_close;
	}
	ls->host_id = host_id;
	ls->disk_count = disk_count;
	for (uint32_t i = 0; i < disk_count; i++)
		ls->disks[i] = strdup(disks[i]);
	timing_init(&ls->tm, ls->space.header.io_timeout_ms);
	ls->res_count = ls->space.header.max_resources;
	ls->res = calloc(ls->res_count ? ls->res_count : 1, sizeof(*ls->res));
	snprintf(id.host_name, sizeof(id.host_name), "%s", dd->cfg.host_name);
	memcpy(id.host_uuid, dd->host_uuid, sizeof(id.host_uuid));
	memcpy(id.boot_id, dd->boot_id, sizeof(id.boot_id));
	rc = ls->res ? delta_init(&ls->delta, &ls->space, ls->ioe, &ls->tm, dd->clk, host_id, &id)
	             : -ENOMEM;
	if (rc == 0) {
		rc = directory_init(&ls->dir, &ls->space, ls->ioe, &ls->tm, dd->clk, &ls->delta);
		ls->dir_inited = rc == 0;
	}
	if (rc == 0)
		rc = lspace_scan_init(ls);
	if (rc < 0) {
		snprintf(why, why_size, "%s", strerror(-rc));
		goto out_close;
	}
	/* prev_stopped: main() stopped whatever a previous daemon left holding leases */
	rc = delta_join(&ls->delta, true);
	if (rc < 0) {
		snprintf(why, why_size, "%s", ls->delta.why);
		goto out_close;
	}
	ls->state = LS_JOINING;
	ls->auto_rejoin = true;
	dd->spaces[dd->space_count++] = ls;
	dl_info("lockspace %s: joining as host %u (io_timeout %u ms, %u disks)", ls->name, host_id,
	        ls->space.header.io_timeout_ms, ls->space.path_count);
	*out = ls;
	return 0;
out_close:
	lspace_destroy(ls);
	return rc;
}

/* Wait for every round of ls to come back from the kernel (only at teardown). */
static void lspace_drain(struct lspace *ls)
{
	for (int i = 0; i < 100000; i++) {
		bool busy = ls->delta.round.busy || ls->scan_round.busy ||
		            (ls->dir_inited && (ls->dir.round.busy || ls->dir.lease.round.busy));

		for (uint32_t k = 0; k < ls->res_count && !busy; k++)
			busy = ls->res[k].inited && ls->res[k].r.round.busy;
		if (!busy)
			return;
		ioe_poll(ls->ioe, clock_now_ns(ls->dd->clk) + DL_NS_PER_MS);
		round_finished(&ls->delta.round);
		round_finished(&ls->scan_round);
		if (ls->dir_inited) {
			round_finished(&ls->dir.round);
			round_finished(&ls->dir.lease.round);
		}
		for (uint32_t k = 0; k < ls->res_count; k++) {
			if (ls->res[k].inited)
				round_finished(&ls->res[k].r.round);
		}
	}
}

void lspace_destroy(struct lspace *ls)
{
	struct dleased *dd = ls->dd;

	if (ls->delta.clk)
		lspace_drain(ls);
	for (uint32_t i = 0; i < dd->space_count; i++) {
		if (dd->spaces[i] == ls) {
			dd->spaces[i] = dd->spaces[--dd->space_count];
			break;
		}
	}
	for (uint32_t k = 0; ls->res && k < ls->res_count; k++) {
		if (ls->res[k].inited) {
			holders_detach(dd, &ls->res[k]);
			resource_free(&ls->res[k].r);
		}
	}
	if (ls->dir_inited)
		directory_free(&ls->dir);
	if (ls->delta.clk)
		delta_free(&ls->delta);
	space_close(&ls->space); /* its disks leave the engine's table, then their fds close */
	for (uint32_t i = 0; i < ls->disk_count; i++)
		free(ls->disks[i]);
	free(ls->res);
	free(ls->scan_buf);
	free(ls->scan_watch);
	free(ls->scan_hosts);
	free(ls->scan_valid);
	free(ls->scan_seen_ns);
	free(ls);
}

struct lres *lspace_res(struct lspace *ls, uint32_t index)
{
	struct lres *lr;

	if (index >= ls->res_count)
		return NULL;
	lr = &ls->res[index];
	if (!lr->inited) {
		memset(lr, 0, sizeof(*lr));
		if (resource_init(&lr->r, &ls->space, ls->ioe, &ls->tm, ls->dd->clk, &ls->delta,
		                  index) < 0)
			return NULL;
		lr->inited = true;
		lr->owner_pidfd = -1;
		lr->vslot = -1;
	}
	return lr;
}

bool lspace_has_leases(const struct lspace *ls)
{
	for (uint32_t k = 0; k < ls->res_count; k++) {
		if (ls->res[k].inited && ls->res[k].state == LRES_HELD)
			return true;
	}
	return false;
}

static bool lres_quiet(const struct lres *lr)
{
	return !lr->r.pending && !lr->r.round.busy && !lr->r.checking;
}

/* Stop an acquire in progress, saying why (the waiting client gets this text). */
static void lspace_cancel(struct lres *lr, const char *fmt, ...) DL_PRINTF(2, 3);

static void lspace_cancel(struct lres *lr, const char *fmt, ...)
{
	va_list ap;

	if (resource_cancel(&lr->r) < 0)
		return;
	lr->r.error = -ECANCELED;
	va_start(ap, fmt);
	vsnprintf(lr->r.why, sizeof(lr->r.why), fmt, ap);
	va_end(ap);
}

/* SIGTERM to SIGKILL for holders stopped on purpose (leave, shutdown, force request). */
static uint64_t lspace_grace_ns(const struct lspace *ls)
{
	uint32_t ms = ls->dd->cfg.kill_grace_ms;

	return ms ? (uint64_t)ms * DL_NS_PER_MS : ls->tm.io_timeout_ns / 2;
}

void lspace_release_all(struct lspace *ls)
{
	for (uint32_t k = 0; k < ls->res_count; k++) {
		struct lres *lr = &ls->res[k];

		if (!lr->inited)
			continue;
		if (lr->state == LRES_HELD && holders_alive(lr->owner_pid, lr->owner_start)) {
			/* never release under a running holder: stop it first, release once gone */
			if (!lr->term_at_ns) {
				if (lr->vslot >= 0)
					validity_set_state(ls->dd, lr->vslot, VALIDITY_LOST);
				holders_stop(ls->dd, ls, lr,
				             clock_now_ns(ls->dd->clk) + lspace_grace_ns(ls),
				             "this host leaves the lockspace");
			}
			continue;
		}
		if (lr->state == LRES_HELD && lres_quiet(lr)) {
			if (lr->vslot >= 0)
				validity_set_state(ls->dd, lr->vslot, VALIDITY_FREE);
			lr->state = LRES_RELEASING;
			if (resource_release(&lr->r) < 0 || lr->r.state == RES_IDLE) {
				lr->state = LRES_NONE;
				lspace_event(ls, EV_RELEASED, lr, "released (host leaving)");
				holders_detach(ls->dd, lr);
			}
		} else if (lr->state == LRES_ACQUIRING) {
			lspace_cancel(lr, "this host is leaving lockspace %s", ls->name);
		}
	}
}

/* ---- host scan ---- */

static void lspace_scan_submit(struct lspace *ls)
{
	const struct layout *l = &ls->space.layout;
	size_t ss = ls->space.header.sector_size;

	uint32_t top = ls->host_id, n;

	/* host ids are dense: read up to the highest id seen plus the join gap */
	for (uint32_t h = 0; h < ls->scan_count; h++) {
		if (ls->scan_valid[h])
			top = DL_MAX(top, h + 1);
	}
	n = DL_MIN(ls->scan_count, top + DELTA_DENSE_GAP);
	ls->scan_read = n;
	round_reset(&ls->scan_round);
	for (uint32_t i = 0; i < ls->space.path_count; i++)
		round_add(&ls->scan_round, i, IOE_READ, layout_host_offset(l, 1),
		          ls->scan_buf + (size_t)i * ls->scan_count * ss, (uint32_t)(n * ss));
	if (round_submit(&ls->scan_round, lspace_now(ls), ls->tm.io_timeout_ns) == 0)
		ls->scan_pending = true;
}

/* host_dead / host_live for slot h, from the freshest record the scan saw. */
static void lspace_host_event(struct lspace *ls, uint32_t h, enum event_kind kind, const char *what)
{
	struct event ev = {.kind = kind};
	uint64_t gen = ls->scan_hosts[h].hdr.writer_generation;

	snprintf(ev.lockspace, sizeof(ev.lockspace), "%s", ls->name);
	if (kind == EV_HOST_DEAD) {
		ev.old_host_id = h + 1;
		ev.old_generation = gen;
	} else {
		ev.new_host_id = h + 1;
		ev.new_generation = gen;
	}
	snprintf(ev.reason, sizeof(ev.reason), "host %u (%s) generation %" PRIu64 " %s", h + 1,
	         ls->scan_hosts[h].host_name, gen, what);
	events_emit(ls->dd, &ev);
}

static void lspace_scan_done(struct lspace *ls)
{
	const struct layout *l = &ls->space.layout;
	size_t ss = ls->space.header.sector_size;
	uint32_t majority = space_majority(&ls->space), ok = round_ok_count(&ls->scan_round);
	uint64_t now = lspace_now(ls);

	ls->scan_pending = false;
	if (ok < ls->space.path_count)
		ls->dd->metrics.io_timeouts++;
	for (uint32_t h = 0; h < ls->scan_read; h++) {
		struct ondisk_host best, rec;
		bool have = false;
		uint64_t damage = 0;
		enum hostwatch_verdict before = ls->scan_watch[h].verdict, after;

		for (uint32_t i = 0; i < ls->space.path_count; i++) {
			struct ondisk_expect ex;
			const uint8_t *sec = ls->scan_buf + ((size_t)i * ls->scan_count + h) * ss;
			enum ondisk_state st;

			if (!round_disk_ok(&ls->scan_round, i))
				continue;
			space_expect(&ls->space, i, ONDISK_KIND_HOST, layout_host_offset(l, h + 1),
			             &ex);
			st = ondisk_host_decode(sec, &ex, &rec);
			if (st == ONDISK_BAD_CHECKSUM)
				ls->dd->metrics.checksum_errors++;
			if (st != ONDISK_VALID) {
				if (st != ONDISK_EMPTY)
					damage = damage * 31 + ondisk_checksum(sec, (uint32_t)ss);
				continue;
			}
			if (!have || rec.hdr.writer_generation > best.hdr.writer_generation ||
			    (rec.hdr.writer_generation == best.hdr.writer_generation &&
			     rec.hdr.seq > best.hdr.seq)) {
				best = rec;
				have = true;
			}
		}
		if (have && (!ls->scan_valid[h] || best.hdr.seq != ls->scan_hosts[h].hdr.seq ||
		             best.hdr.writer_generation != ls->scan_hosts[h].hdr.writer_generation))
			ls->scan_seen_ns[h] = now;
		ls->scan_valid[h] = have;
		if (have)
			ls->scan_hosts[h] = best;
		after = hostwatch_update(&ls->scan_watch[h], &ls->tm, ok >= majority,
		                         have ? &best : NULL, damage, ls->scan_round.submit_ns,
		                         now);
		if (h + 1 == ls->host_id || before == after || before == HOSTWATCH_UNKNOWN)
			continue;
		if (after == HOSTWATCH_DEAD)
			lspace_host_event(ls, h, EV_HOST_DEAD, "stopped renewing");
		else if (after == HOSTWATCH_LIVE && ls->scan_watch[h].changes > 0)
			lspace_host_event(ls, h, EV_HOST_LIVE, "is live");
	}
}

/* ---- leases ---- */

static void lspace_mailbox(struct lspace *ls)
{
	const struct ondisk_mailbox *mb = &ls->delta.mailbox;
	struct lres *lr;

	ls->delta.mailbox_new = false;
	if (mb->resource_index >= ls->res_count)
		return;
	lr = lspace_res(ls, mb->resource_index);
	if (!lr)
		return;
	if (mb->mode == ONDISK_REQUEST_REPAIR) {
		dl_warn("%s: host %" PRIu64
		        " reports our ballot of resource %u damaged: rewriting it if this process wrote it",
		        ls->name, mb->hdr.writer_host_id, mb->resource_index);
		resource_repair(&lr->r);
	} else if (lr->state == LRES_HELD && resource_check_request(&lr->r) < 0) {
		dl_debug("%s/%s: request check deferred", ls->name, lr->name);
	}
}

static void lspace_lease_lost(struct lspace *ls, struct lres *lr, const char *why)
{
	uint64_t kill_at = ls->delta.last_submit_ns + ls->tm.kill_ns;

	lr->state = LRES_LOST;
	if (lr->vslot >= 0)
		validity_set_state(ls->dd, lr->vslot, VALIDITY_LOST);
	lspace_event(ls, EV_LOST, lr, "%s", why);
	holders_stop(ls->dd, ls, lr, DL_MAX(kill_at, lspace_now(ls)), why);
}

/* A leader record read for a lease we do not hold (an inquire, an acquire that failed, the
 * poll of lspace_poll_leaders): report a change of holder or token as leader_changed. */
static void lspace_leader_seen(struct lspace *ls, struct lres *lr)
{
	const struct ondisk_leader *ld = &lr->r.leader;
	struct event ev = {.kind = EV_LEADER_CHANGED};

	if (!lres_idle(lr) || !lr->name[0] || ld->hdr.seq == 0)
		return;
	if (ld->hdr.seq == lr->seen_lver && ld->owner_host_id == lr->seen_owner)
		return;
	if (lr->seen_lver != 0 && ld->hdr.seq >= lr->seen_lver) {
		snprintf(ev.lockspace, sizeof(ev.lockspace), "%s", ls->name);
		snprintf(ev.resource, sizeof(ev.resource), "%s", lr->name);
		ev.old_host_id = ld->prev_owner_host_id;
		ev.old_generation = ld->prev_owner_generation;
		ev.new_host_id = ld->owner_host_id;
		ev.new_generation = ld->owner_generation;
		ev.token = ld->hdr.seq;
		snprintf(ev.reason, sizeof(ev.reason), "%s (seen by this host)",
		         ondisk_reason_name(ld->reason));
		events_emit(ls->dd, &ev);
	}
	lr->seen_lver = ld->hdr.seq;
	lr->seen_owner = ld->owner_host_id;
}

/* Every T: read the leader of each lease this host has used but does not hold. */
static void lspace_poll_leaders(struct lspace *ls)
{
	for (uint32_t k = 0; k < ls->res_count; k++) {
		struct lres *lr = &ls->res[k];

		if (lr->inited && lr->state == LRES_NONE && lr->name[0] && lres_idle(lr))
			resource_inquire(&lr->r);
	}
}

static void lspace_lease_step(struct lspace *ls, struct lres *lr, uint64_t now)
{
	struct resource *r = &lr->r;

	switch (lr->state) {
	case LRES_ACQUIRING:
		if (r->state == RES_HELD) {
			lr->state = LRES_HELD;
			lr->token = r->token;
			lr->request_handled = 0;
			lr->seen_lver = lr->token;
			lr->seen_owner = ls->host_id;
			if (lr->vslot < 0)
				lr->vslot = validity_alloc(ls->dd);
			if (lr->vslot >= 0)
				validity_set(ls->dd, lr->vslot, VALIDITY_HELD, lr->token,
				             r->held_generation, ls->delta.act_until_ns,
				             ls->host_id, (uint32_t)lr->owner_pid, ls->name,
				             lr->name);
			ls->dd->metrics.acquires++;
			metrics_observe(&ls->dd->metrics.acquire_latency,
			                now - lr->acquire_start_ns);
			holders_save(ls->dd);
			lspace_event(ls, EV_ACQUIRED, lr, "%s (token %" PRIu64 ", %s)",
			             ondisk_reason_name(r->reason), lr->token,
			             lr->owner_pid ? "held by a local process"
			                           : "held by the host");
		} else if (r->state == RES_IDLE || r->state == RES_FAILED) {
			lr->state = LRES_NONE;
			ls->dd->metrics.acquire_failures++;
			holders_detach(ls->dd, lr);
		}
		break;
	case LRES_HELD:
		if (!resource_is_held(r, now)) {
			lspace_lease_lost(ls, lr, "the host's delta lease is no longer live");
			break;
		}
		if (r->requested && r->request_mode > lr->request_handled && lres_quiet(lr)) {
			bool force = r->request_mode == ONDISK_REQUEST_FORCE;
			struct event ev = {.kind = EV_REQUEST};

			/* r->requested stays set: the release then records a handoff */
			lr->request_handled = r->request_mode;
			snprintf(ev.lockspace, sizeof(ev.lockspace), "%s", ls->name);
			snprintf(ev.resource, sizeof(ev.resource), "%s", lr->name);
			ev.token = lr->token;
			ev.new_host_id = r->request_host;
			snprintf(ev.reason, sizeof(ev.reason), "host %" PRIu64 " asks for it (%s)",
			         r->request_host, force ? "force" : "graceful");
			events_emit(ls->dd, &ev);
			if (lr->owner_pid <= 0) {
				lr->release_wanted = true; /* the host's own lease: hand it over */
			} else if (force) {
				lr->stop_for_force = true;
				if (lr->vslot >= 0)
					validity_set_state(ls->dd, lr->vslot, VALIDITY_LOST);
				holders_stop(ls->dd, ls, lr, now + lspace_grace_ns(ls),
				             "a force request from another host");
			}
		}
		if ((lr->release_wanted ||
		     (lr->stop_for_force && !holders_alive(lr->owner_pid, lr->owner_start))) &&
		    lres_quiet(lr)) {
			lr->release_wanted = false;
			if (lr->vslot >= 0)
				/* nobody acts from here on */
				validity_set_state(ls->dd, lr->vslot, VALIDITY_FREE);
			lr->state = LRES_RELEASING;
			if (resource_release(r) < 0)
				lr->state = LRES_HELD;
		}
		if (lr->state == LRES_HELD && lr->vslot >= 0)
			validity_set_deadline(ls->dd, lr->vslot, ls->delta.act_until_ns);
		break;
	case LRES_RELEASING:
		if (r->state == RES_IDLE || r->state == RES_FAILED) {
			lr->state = LRES_NONE;
			lr->seen_owner = 0; /* the leader we wrote names nobody */
			lspace_event(ls, EV_RELEASED, lr, "%s",
			             r->state == RES_FAILED ? r->why
			                                    : ondisk_reason_name(r->reason));
			holders_detach(ls->dd, lr);
		}
		break;
	case LRES_LOST:
		/* forget the lease once its round is back and its holder is gone */
		if (!lres_quiet(lr) || holders_alive(lr->owner_pid, lr->owner_start))
			break;
		if (r->state == RES_HELD) {
			/* the delta lease may have come back: then the leader still names us */
			resource_release(r);
			break;
		}
		if (r->state == RES_RELEASING)
			break;
		/* the struct stays: it remembers the ballot block this process wrote, which only
		 * it may rewrite when the block is reported damaged (docs/design.md §4) */
		holders_detach(ls->dd, lr);
		lr->state = LRES_NONE;
		break;
	case LRES_NONE:
		lspace_leader_seen(ls, lr);
		break;
	}
}

bool lspace_holders_gone(const struct lspace *ls)
{
	for (uint32_t k = 0; k < ls->res_count; k++) {
		if (ls->res[k].inited && ls->res[k].state != LRES_NONE)
			return false;
	}
	return true;
}

static void lspace_renewed(struct lspace *ls)
{
	struct metrics *m = &ls->dd->metrics;

	if (ls->delta.renewals != ls->last_renewals) {
		m->renewals += ls->delta.renewals - ls->last_renewals;
		ls->last_renewals = ls->delta.renewals;
		if (ls->delta.last_submit_ns != ls->last_renew_submit_ns) {
			metrics_observe(&m->renewal_latency,
			                lspace_now(ls) - ls->delta.last_submit_ns);
			ls->last_renew_submit_ns = ls->delta.last_submit_ns;
		}
		metrics_write_file(ls->dd);
	}
	if (ls->delta.renew_failures) {
		m->renewal_failures += ls->delta.renew_failures;
		ls->delta.renew_failures = 0;
	}
}

uint64_t lspace_step(struct lspace *ls)
{
	uint64_t now, wake, t;
	bool was_pending = ls->delta.pending, renewal_started;

	wake = delta_step(&ls->delta);
	renewal_started = !was_pending && ls->delta.pending && ls->delta.state == DELTA_LIVE &&
	                  !ls->delta.renew_writing;
	now = lspace_now(ls);
	lspace_renewed(ls);
	if (ls->delta.mailbox_new)
		lspace_mailbox(ls);
	switch (ls->state) {
	case LS_JOINING:
		if (ls->delta.state == DELTA_LIVE) {
			ls->state = LS_LIVE;
			ls->scan_next_ns = now;
			lspace_event(ls, EV_JOINED, NULL, "joined as host %u generation %" PRIu64,
			             ls->host_id, ls->delta.generation);
		} else if (ls->delta.state == DELTA_FAILED) {
			ls->state = LS_FAILED;
		}
		break;
	case LS_LIVE:
		if (lspace_has_leases(ls) && now >= ls->delta.act_until_ns) {
			ls->state = LS_LOST;
		} else if (ls->delta.state == DELTA_FAILED) {
			ls->state = LS_LOST;
		}
		if (ls->state == LS_LOST) {
			ls->lost_at_ns = now;
			lspace_event(ls, EV_LOCKSPACE_LOST, NULL, "renewals failed: %s",
			             ls->delta.why[0] ? ls->delta.why : "act deadline passed");
			for (uint32_t k = 0; k < ls->res_count; k++) {
				struct lres *lr = &ls->res[k];

				if (lr->inited && lr->state == LRES_HELD)
					lspace_lease_lost(ls, lr,
					                  "renewals of the lockspace failed");
				else if (lr->inited && lr->state == LRES_ACQUIRING)
					lspace_cancel(lr, "lockspace %s was lost (renewals failed)",
					              ls->name);
			}
		}
		break;
	case LS_LEAVING:
		lspace_release_all(ls);
		if (lspace_holders_gone(ls) && ls->delta.state == DELTA_LIVE && !ls->delta.pending)
			delta_leave(&ls->delta);
		if (ls->delta.state == DELTA_LEFT || ls->delta.state == DELTA_FAILED) {
			ls->state = LS_LEFT;
			lspace_event(ls, EV_LEFT, NULL, "left");
		}
		break;
	case LS_LOST:
		/* join again once nothing of the old incarnation can act any more */
		if (ls->delta.state == DELTA_FAILED && ls->delta.error == -EADDRINUSE &&
		    ls->auto_rejoin) {
			/* another host wrote our slot: two hosts use one host id; never fight it */
			ls->auto_rejoin = false;
			dl_err("lockspace %s: %s; not joining again: check the host ids (dlctl dump)",
			       ls->name, ls->delta.why);
		}
		if (ls->auto_rejoin && lspace_holders_gone(ls) && !ls->delta.round.busy &&
		    now >= ls->delta.valid_until_ns && !ls->dd->stopping) {
			if (ls->delta.state == DELTA_LIVE)
				break; /* renewals recovered before the validity ended: keep the
				          lease */
			if (delta_join(&ls->delta, true) == 0) {
				ls->state = LS_JOINING;
				dl_warn("lockspace %s: joining again after the loss", ls->name);
			}
		}
		break;
	case LS_LEFT:
	case LS_FAILED:
		break;
	}
	if (ls->state == LS_LOST && ls->delta.state == DELTA_LIVE && lspace_holders_gone(ls))
		ls->state = LS_LIVE; /* renewals came back; the lost leases are already given up */
	for (uint32_t k = 0; k < ls->res_count; k++) {
		struct lres *lr = &ls->res[k];

		if (!lr->inited)
			continue;
		t = resource_step(&lr->r);
		if (t)
			wake = wake ? DL_MIN(wake, t) : t;
		lspace_lease_step(ls, lr, now);
	}
	if (ls->dir_inited) {
		t = directory_step(&ls->dir);
		if (t)
			wake = wake ? DL_MIN(wake, t) : t;
	}
	if (ls->scan_pending && round_finished(&ls->scan_round))
		lspace_scan_done(ls);
	/* the scan rides with a renewal read (same submission), or goes alone T/2 late */
	if (ls->state == LS_LIVE && !ls->scan_pending && now >= ls->scan_next_ns &&
	    (renewal_started || now >= ls->scan_next_ns + ls->tm.io_timeout_ns / 2)) {
		ls->scan_next_ns = now + ls->tm.io_timeout_ns - ls->tm.io_timeout_ns / 4;
		lspace_scan_submit(ls);
		lspace_poll_leaders(ls);
	}
	if (ls->state == LS_LIVE) {
		t = ls->scan_next_ns + ls->tm.io_timeout_ns / 2;
		wake = wake ? DL_MIN(wake, t) : t;
	}
	if (lspace_has_leases(ls))
		wake = wake ? DL_MIN(wake, ls->delta.act_until_ns) : ls->delta.act_until_ns;
	return wake;
}
