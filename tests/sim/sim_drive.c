/* SPDX-License-Identifier: MIT */
/*
 * sim_drive.c: the tick loop of one world and the workload of its hosts.
 * Each tick advances the shared virtual clock by tick_ns, applies the
 * world's faults (fault epochs, failing disks), then visits the hosts in a
 * PRNG order: crash, restart, pause or resume them, poll their engine, step
 * their delta and resource leases when a round finished or a wake time came,
 * and let their workload act (join, acquire with or without waiting, hold,
 * release, leave, rejoin). Every change of protocol state is logged as an
 * event, and the checkers run after every tick.
 *
 * Phases: a safety phase of opts->ticks ticks with the seed's faults on,
 * then a liveness phase with every fault off (paused hosts resume, crashed
 * hosts restart or stay dead, holders keep their leases, everyone else
 * asks for its resources, waiting) that ends when every resource with a
 * contender up was held, or with a liveness violation.
 *
 * The mutants reach into protocol state from here (never into src/): they
 * are the deliberately broken rules that prove the checkers find bugs.
 */
#include "base/compat.h"
#include "sim.h"

#include <errno.h>
#include <string.h>

#include "base/check.h"
#include "banned.h"

#define SIM_LIVENESS_NS                                                                            \
	(SIM_JOIN_BOUND + SIM_FAILOVER + SIM_ACQUIRE_BOUND + SIM_REPORT_BOUND + 2 * SIM_T_NS)

static bool drive_on(const struct sim_world *w, enum sim_fault f)
{
	return (w->cfg.faults & (1u << f)) != 0;
}

static uint64_t drive_rand(struct sim_world *w, uint64_t lo, uint64_t hi)
{
	return sim_rand_range(&w->rng, lo, hi);
}

/* Fault epochs and whole-disk failures (a minority at a time). */
static void drive_world_faults(struct sim_world *w, uint64_t now)
{
	const uint64_t T = SIM_T_NS;
	uint32_t failed = 0, pick;

	if (now >= w->next_epoch_ns) {
		sim_world_set_faults(w, true);
		w->next_epoch_ns = now + drive_rand(w, 2 * T, 8 * T);
	}
	for (uint32_t i = 0; i < w->cfg.disks; i++) {
		if (w->disk_state[i] != IOE_SIM_DISK_OK && now >= w->disk_until_ns[i]) {
			w->disk_state[i] = IOE_SIM_DISK_OK;
			ioe_sim_disk_set_failed(w->disks[i], IOE_SIM_DISK_OK);
			sim_event(w, -1, "disk %u is back (it missed the writes meanwhile)", i);
		}
		failed += w->disk_state[i] != IOE_SIM_DISK_OK;
	}
	if (!drive_on(w, SIM_F_DISK) || now < w->next_disk_fault_ns)
		return;
	w->next_disk_fault_ns =
	        now + drive_rand(w, w->cfg.disk_every_ns / 2, 3 * w->cfg.disk_every_ns / 2);
	pick = (uint32_t)rand_below(&w->rng, w->cfg.disks);
	if (failed + 1 > (w->cfg.disks - 1) / 2 || w->disk_state[pick] != IOE_SIM_DISK_OK)
		return;
	w->disk_state[pick] = rand_chance(&w->rng, 1, 2) ? IOE_SIM_DISK_EIO : IOE_SIM_DISK_HANG;
	w->disk_until_ns[pick] = now + drive_rand(w, T / 2, 10 * T);
	ioe_sim_disk_set_failed(w->disks[pick], w->disk_state[pick]);
	sim_event(w, -1, "disk %u fails (%s) for %.3f s", pick,
	          w->disk_state[pick] == IOE_SIM_DISK_EIO ? "EIO" : "hang",
	          (double)(w->disk_until_ns[pick] - now) / 1e9);
}

static void drive_restart(struct sim_world *w, struct sim_host *h, uint64_t now)
{
	bool new_boot = rand_chance(&w->rng, 1, 2);
	int rc;

	h->boots++;
	if (new_boot)
		sim_host_reboot(w, h);
	rc = sim_host_start(w, h);
	DL_ASSERT(rc == 0); /* only -ENOMEM could fail */
	h->rejoin_at_ns = now;
	h->leave_at_ns = 0;
	h->crash_at_ns = 0;
	if (!w->liveness && drive_on(w, SIM_F_CRASH))
		h->crash_at_ns = now + drive_rand(w, SIM_T_NS, 2 * w->cfg.crash_every_ns);
	sim_event(w, (int32_t)h->index, "restart (%s boot)", new_boot ? "new" : "same");
}

/* Crash, restart, pause and resume. Returns true if the host runs this tick. */
static bool drive_host_events(struct sim_world *w, struct sim_host *h, uint64_t now)
{
	if (h->run == SIM_RUN_DOWN) {
		if (!h->run_until_ns || now < h->run_until_ns)
			return false;
		drive_restart(w, h, now);
	}
	if (h->run == SIM_RUN_PAUSED) {
		if (now < h->run_until_ns)
			return false;
		h->run = SIM_RUN_UP;
		h->wake_ns = 0;
		h->pause_at_ns =
		        w->liveness ? 0 : now + drive_rand(w, SIM_T_NS, 2 * w->cfg.pause_every_ns);
		sim_event(w, (int32_t)h->index, "resume with its old memory");
	}
	if (h->crash_at_ns && now >= h->crash_at_ns) {
		sim_host_crash(w, h);
		h->run_until_ns = now + drive_rand(w, SIM_T_NS / 5, 8 * SIM_T_NS);
		sim_event(w, (int32_t)h->index, "crash (restart in %.3f s)",
		          (double)(h->run_until_ns - now) / 1e9);
		return false;
	}
	if (h->pause_at_ns && now >= h->pause_at_ns) {
		bool longer = rand_chance(&w->rng, 1, 2);

		h->run = SIM_RUN_PAUSED;
		h->pause_at_ns = 0;
		h->run_until_ns = now + (longer ? drive_rand(w, 3 * SIM_T_NS, 9 * SIM_T_NS)
		                                : drive_rand(w, SIM_T_NS / 10, 2 * SIM_T_NS));
		sim_event(w, (int32_t)h->index, "pause for %.3f s",
		          (double)(h->run_until_ns - now) / 1e9);
		return false;
	}
	return true;
}

/* The mutants that act on protocol state after each step (none today: trust-one-disk acts
 * on the lockspace view, the others on acquires and clocks). */
static void drive_mutate_step(struct sim_world *w, struct sim_host *h)
{
	(void)w;
	(void)h;
}

static void drive_step(struct sim_world *w, struct sim_host *h)
{
	uint64_t wake = UINT64_MAX, t;

	t = delta_step(&h->d);
	drive_mutate_step(w, h);
	if (h->d.mailbox_new) {
		/* what the daemon does with a note: a REPAIR asks us to rewrite our ballot */
		uint32_t i = h->d.mailbox.resource_index;

		h->d.mailbox_new = false;
		if (h->d.mailbox.mode == ONDISK_REQUEST_REPAIR && i < w->cfg.resources)
			resource_repair(&h->res[i]);
	}
	if (t)
		wake = t;
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		t = resource_step(&h->res[i]);
		if (t)
			wake = DL_MIN(wake, t);
	}
	h->wake_ns = wake;
}

/* no-host-dead-wait: every other host counts as dead from the start of an acquire. */
static void drive_mutate_acquire(struct sim_world *w, struct sim_host *h, struct resource *r)
{
	uint32_t k = 0;

	if (w->opts->mutant != SIM_MUTANT_NO_HOST_DEAD_WAIT)
		return;
	for (uint32_t q = 1; q <= w->cfg.hosts && k < RESOURCE_DEAD_HOSTS_MAX; q++) {
		if (q == h->host_id)
			continue;
		r->dead[k].host_id = q;
		r->dead[k].generation = UINT64_MAX;
		k++;
	}
	r->dead_count = k;
}

static bool drive_acquire(struct sim_world *w, struct sim_host *h, uint32_t i, uint64_t now)
{
	struct resource *r = &h->res[i];
	bool wait = w->liveness || rand_chance(&w->rng, 1, 2);
	uint64_t give_up = 0;
	int rc;

	if (!w->liveness)
		give_up = sim_host_now(h) + drive_rand(w, SIM_T_NS / 2, 12 * SIM_T_NS);
	rc = resource_acquire(r, wait, give_up);
	h->slot[i].next_try_ns =
	        now + (w->liveness ? SIM_T_NS / 4 : drive_rand(w, SIM_T_NS / 4, 4 * SIM_T_NS));
	if (rc < 0) {
		sim_event(w, (int32_t)h->index, "acquire r%u refused: %d", i, rc);
		return false;
	}
	drive_mutate_acquire(w, h, r);
	h->slot[i].seen_state = r->state;
	sim_event(w, (int32_t)h->index, "acquire r%u start (%s%s)", i, wait ? "wait" : "try",
	          give_up ? ", gives up" : "");
	return true;
}

/* One resource's workload: acquire when idle, release after the hold time. */
static bool drive_resource(struct sim_world *w, struct sim_host *h, uint32_t i, uint64_t now)
{
	struct resource *r = &h->res[i];
	struct sim_slot *s = &h->slot[i];

	if (r->state == RES_HELD) {
		if (w->liveness)
			return false;
		if (!s->release_at_ns) {
			bool longer = rand_chance(&w->rng, 1, 4);

			s->release_at_ns =
			        now + drive_rand(w, SIM_T_NS / 10, (longer ? 20 : 4) * SIM_T_NS);
		}
		if (now < s->release_at_ns && !h->leaving)
			return false;
		s->release_at_ns = 0;
		s->next_try_ns = now + drive_rand(w, 0, 3 * SIM_T_NS);
		sim_event(w, (int32_t)h->index, "release r%u token %llu", i,
		          (unsigned long long)r->token);
		return resource_release(r) == 0;
	}
	if ((r->state != RES_IDLE && r->state != RES_FAILED) || r->pending || r->round.busy ||
	    h->leaving || now < s->next_try_ns)
		return false;
	if (r->state == RES_FAILED)
		sim_check_failed(w, h, i); /* before the next acquire clears it */
	return drive_acquire(w, h, i, now);
}

/* Leaving: release everything, wait until no acquire runs, then leave. */
static bool drive_leave(struct sim_world *w, struct sim_host *h, uint64_t now)
{
	bool acted = false;

	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		const struct resource *r = &h->res[i];

		if (!h->slot[i].contends)
			continue;
		if (r->state == RES_HELD)
			acted |= drive_resource(w, h, i, now);
		if ((r->state != RES_IDLE && r->state != RES_FAILED) || r->pending)
			return acted;
	}
	h->leaving = false;
	h->leave_at_ns = 0;
	h->rejoin_at_ns = now + drive_rand(w, 0, 5 * SIM_T_NS);
	sim_event(w, (int32_t)h->index, "leave");
	return delta_leave(&h->d) == 0 || acted;
}

static bool drive_join(struct sim_world *w, struct sim_host *h, uint64_t now)
{
	int rc;

	if (h->d.pending || now < h->rejoin_at_ns)
		return false;
	rc = delta_join(&h->d, false);
	h->rejoin_at_ns = now + drive_rand(w, SIM_T_NS / 10, 3 * SIM_T_NS);
	h->leave_at_ns = 0;
	if (!w->liveness && rand_chance(&w->rng, 1, 3))
		h->leave_at_ns = now + drive_rand(w, 5 * SIM_T_NS, 40 * SIM_T_NS);
	sim_event(w, (int32_t)h->index, "join%s", rc < 0 ? " refused" : "");
	return true;
}

/* The host's workload. Returns true if it called into the protocol. */
static bool drive_workload(struct sim_world *w, struct sim_host *h, uint64_t now)
{
	enum delta_state ds = h->d.state;
	bool acted = false;

	if (ds == DELTA_IDLE || ds == DELTA_LEFT || ds == DELTA_FAILED)
		return drive_join(w, h, now);
	if (!delta_is_live(&h->d, sim_host_now(h)) || h->d.leave_wanted)
		return false;
	if (!h->leaving && h->leave_at_ns && now >= h->leave_at_ns) {
		h->leaving = true;
		sim_event(w, (int32_t)h->index, "wants to leave");
	}
	if (h->leaving)
		return drive_leave(w, h, now);
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		if (h->slot[i].contends)
			acted |= drive_resource(w, h, i, now);
	}
	return acted;
}

static void drive_observe_delta(struct sim_world *w, struct sim_host *h)
{
	const struct delta *d = &h->d;
	int32_t who = (int32_t)h->index;

	if (d->renewals != h->seen_renewals) {
		h->seen_renewals = d->renewals;
		sim_event(w, who, "renew (act until +%.3f s)",
		          (double)(d->act_until_ns - sim_host_now(h)) / 1e9);
	}
	if (d->state == h->seen_dstate)
		return;
	h->seen_dstate = d->state;
	if (d->state == DELTA_LIVE)
		sim_event(w, who, "live, generation %llu", (unsigned long long)d->generation);
	else if (d->state == DELTA_FAILED && d->error == -ETIMEDOUT && strstr(d->why, "lapsed"))
		sim_event(w, who, "lapse: %s", d->why);
	else if (d->state == DELTA_FAILED)
		sim_event(w, who, "delta failed: %s", d->why);
	else
		sim_event(w, who, "delta %s", delta_state_name(d->state));
}

static void drive_observe_resource(struct sim_world *w, struct sim_host *h, uint32_t i)
{
	const struct resource *r = &h->res[i];
	struct sim_slot *s = &h->slot[i];
	int32_t who = (int32_t)h->index;
	bool held = r->state == RES_HELD && r->held;

	if (r->stats.aborts != s->seen_aborts) {
		s->seen_aborts = r->stats.aborts;
		sim_event(w, who, "r%u ballot abort (lver %llu, mbal %llu)", i,
		          (unsigned long long)r->target, (unsigned long long)r->mbal);
	}
	if (held && !s->seen_held) {
		sim_event(w, who, "r%u held, token %llu, generation %llu", i,
		          (unsigned long long)r->token, (unsigned long long)r->held_generation);
		sim_check_new_holder(w, h, i);
	}
	s->seen_held = held;
	if (r->state == s->seen_state)
		return;
	if (w->opts->verbose)
		sim_event(w, who,
		          "r%u %s -> %s (target %llu, mbal %llu, leader lver %llu %llu/%llu)", i,
		          resource_state_name(s->seen_state), resource_state_name(r->state),
		          (unsigned long long)r->target, (unsigned long long)r->mbal,
		          (unsigned long long)r->leader.lver,
		          (unsigned long long)r->leader.owner_host_id,
		          (unsigned long long)r->leader.owner_generation);
	if (r->state == RES_IDLE && s->seen_state == RES_RELEASING)
		sim_event(w, who, "r%u released", i);
	else if (r->state == RES_FAILED)
		sim_event(w, who, "r%u failed: %s", i, r->why);
	if (r->state == RES_FAILED)
		sim_check_failed(w, h, i);
	else if (r->state == RES_WATCH)
		sim_event(w, who, "r%u watching host id %u gen %llu (%s; leader lver %llu)", i,
		          r->watch_host, (unsigned long long)r->watch_generation,
		          r->watch_blocker ? "ballot blocker" : "owner",
		          (unsigned long long)r->leader.lver);
	else if (r->state == RES_P1_WRITE && s->seen_state != RES_BACKOFF)
		sim_event(w, who, "r%u ballot for lver %llu", i, (unsigned long long)r->target);
	s->seen_state = r->state;
}

static void drive_host(struct sim_world *w, struct sim_host *h, uint64_t now)
{
	bool step;

	if (!drive_host_events(w, h, now))
		return;
	step = ioe_poll(h->ioe, 0) > 0 || sim_host_now(h) >= h->wake_ns;
	if (step)
		drive_step(w, h);
	if (drive_workload(w, h, now))
		drive_step(w, h);
	drive_observe_delta(w, h);
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		if (h->slot[i].contends)
			drive_observe_resource(w, h, i);
	}
}

/* Debugging aid (DLSIM_VERBOSE): log every change of a leader copy on a disk. */
static void drive_watch_leaders(struct sim_world *w)
{
	const struct space *sp = &w->host[0].space;

	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		uint64_t off = layout_leader_offset(&sp->layout, i);

		for (uint32_t k = 0; k < w->cfg.disks; k++) {
			struct ondisk_expect ex;
			struct ondisk_leader ld;
			uint64_t key;

			space_expect(sp, k, ONDISK_KIND_LEADER, off, &ex);
			if (ondisk_leader_decode(ioe_sim_disk_data(w->disks[k]) + off, &ex, &ld) !=
			    ONDISK_VALID)
				continue;
			key = ld.lver << 20 ^ ld.owner_host_id << 10 ^ ld.hdr.writer_host_id;
			if (key == w->leader_seen[i][k])
				continue;
			w->leader_seen[i][k] = key;
			sim_event(
			        w, -1,
			        "disk %u r%u leader now lver %llu owner %llu/%llu (by id %llu gen %llu)",
			        k, i, (unsigned long long)ld.lver,
			        (unsigned long long)ld.owner_host_id,
			        (unsigned long long)ld.owner_generation,
			        (unsigned long long)ld.hdr.writer_host_id,
			        (unsigned long long)ld.hdr.writer_generation);
		}
	}
}

static void drive_tick(struct sim_world *w)
{
	uint32_t order[SIM_HOSTS_MAX];
	uint64_t now;

	ioe_sim_clock_advance(&w->clock, w->cfg.tick_ns);
	now = sim_now(w);
	if (!w->liveness)
		drive_world_faults(w, now);
	for (uint32_t k = 0; k < w->cfg.hosts; k++)
		order[k] = k;
	for (uint32_t k = w->cfg.hosts; k > 1; k--) {
		uint32_t j = (uint32_t)rand_below(&w->rng, k), t = order[k - 1];

		order[k - 1] = order[j];
		order[j] = t;
	}
	for (uint32_t k = 0; k < w->cfg.hosts && !w->violated; k++)
		drive_host(w, &w->host[order[k]], now);
	if (w->opts->verbose)
		drive_watch_leaders(w);
	if (!w->violated)
		sim_check_tick(w);
}

/* Faults off, paused hosts back, crashed hosts restarted or left dead for good. */
static void drive_liveness_begin(struct sim_world *w)
{
	uint64_t now = sim_now(w);

	w->liveness = true;
	w->liveness_ns = now;
	sim_event(w, -1, "liveness phase: faults off");
	sim_world_set_faults(w, false);
	for (uint32_t i = 0; i < w->cfg.disks; i++) {
		w->disk_state[i] = IOE_SIM_DISK_OK;
		ioe_sim_disk_set_failed(w->disks[i], IOE_SIM_DISK_OK);
	}
	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		struct sim_host *h = &w->host[k];

		if (h->ioe)
			ioe_sim_fail_hung(h->ioe); /* stuck I/O ends, as a SCSI timeout ends it */
		h->crash_at_ns = h->pause_at_ns = h->leave_at_ns = 0;
		h->leaving = false;
		h->rejoin_at_ns = now;
		for (uint32_t i = 0; i < w->cfg.resources; i++)
			h->slot[i].next_try_ns = now;
		if (h->run == SIM_RUN_PAUSED)
			h->run_until_ns = now;
		if (h->run == SIM_RUN_DOWN) {
			h->run_until_ns = rand_chance(&w->rng, 1, 2) ? now : 0;
			if (!h->run_until_ns)
				sim_event(w, (int32_t)k, "stays dead");
		}
	}
}

void sim_run(struct sim_world *w)
{
	uint64_t liveness_ticks = SIM_LIVENESS_NS / w->cfg.tick_ns + 1;

	for (w->tick = 0; w->tick < w->opts->ticks && !w->violated; w->tick++)
		drive_tick(w);
	if (w->violated)
		return;
	drive_liveness_begin(w);
	for (uint64_t k = 0; k < liveness_ticks && !w->violated; k++, w->tick++) {
		drive_tick(w);
		if (!w->violated)
			sim_check_liveness(w);
		if (sim_liveness_done(w))
			break;
	}
}
