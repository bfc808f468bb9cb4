/* SPDX-License-Identifier: MIT */
/*
 * sim_check.c: the invariants of sim.h, checked against the world after
 * every tick (one-holder, dupid), when a host first reports HELD
 * (token-order, majority-commit), and during the liveness phase (liveness).
 * It reads protocol state and the raw bytes of the simulated disks and
 * never changes either; the first violation stops the run. A resource that
 * is stuck for the one expected reason (a damaged ballot block that nobody
 * may rewrite: docs/design.md 4) is counted apart, as "stuck: needs
 * operator", and only once a contender has reported it.
 *
 * Why checking after every tick is exact for one-holder: a host's protocol
 * state changes only while it is stepped, which happens at tick instants,
 * and between steps its belief can only end (its clock passes act_until or
 * valid_until), never begin. So two beliefs that overlap at some instant
 * overlap at the tick that began the later one.
 */
#include "base/compat.h"
#include "sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "banned.h"

void sim_violation(struct sim_world *w, const char *invariant, const char *fmt, ...)
{
	va_list ap;

	if (w->violated)
		return;
	w->violated = true;
	w->invariant = invariant;
	va_start(ap, fmt);
	vsnprintf(w->violation, sizeof(w->violation), fmt, ap);
	va_end(ap);
	sim_event(w, -1, "VIOLATION %s: %s", invariant, w->violation);
}

bool sim_believes(const struct sim_host *h, uint32_t res_index)
{
	uint64_t now;

	if (!h->started || h->run == SIM_RUN_DOWN || !h->slot[res_index].contends)
		return false;
	now = sim_host_now(h);
	return resource_is_held(&h->res[res_index], now) && now < h->d.act_until_ns;
}

static bool check_holds_any(const struct sim_world *w, const struct sim_host *h)
{
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		if (sim_believes(h, i))
			return true;
	}
	return false;
}

static void check_two_holders(struct sim_world *w, uint32_t i, const struct sim_host *a,
                              const struct sim_host *b)
{
	sim_violation(
	        w, "one-holder",
	        "r%u held at once by host %u (id %u, gen %llu, token %llu, acts %.3f s more) and host %u (id %u, gen %llu, token %llu, acts %.3f s more)",
	        i, a->index, a->host_id, (unsigned long long)a->res[i].held_generation,
	        (unsigned long long)a->res[i].token,
	        (double)(a->d.act_until_ns - sim_host_now(a)) / 1e9, b->index, b->host_id,
	        (unsigned long long)b->res[i].held_generation, (unsigned long long)b->res[i].token,
	        (double)(b->d.act_until_ns - sim_host_now(b)) / 1e9);
}

void sim_check_tick(struct sim_world *w)
{
	const struct sim_host *a, *b;

	for (uint32_t i = 0; i < w->cfg.resources && !w->violated; i++) {
		const struct sim_host *first = NULL;

		for (uint32_t k = 0; k < w->cfg.hosts; k++) {
			if (!sim_believes(&w->host[k], i))
				continue;
			if (first) {
				check_two_holders(w, i, first, &w->host[k]);
				return;
			}
			first = &w->host[k];
		}
	}
	if (!(w->cfg.faults & (1u << SIM_F_DUPID)))
		return;
	a = &w->host[w->cfg.dup_a];
	b = &w->host[w->cfg.dup_b];
	if (check_holds_any(w, a) && check_holds_any(w, b))
		sim_violation(
		        w, "dupid",
		        "hosts %u and %u share host id %u and both hold leases (generations %llu and %llu)",
		        a->index, b->index, a->host_id, (unsigned long long)a->d.generation,
		        (unsigned long long)b->d.generation);
}

/* Disk k holds the decision itself: the holder's own phase-2 block of instance token
 * names it. A leader copy may be rolled back by another host's slower release or commit
 * (it is a hint); the blocks are what Disk Paxos decides with. */
static bool check_decided_on(const struct sim_world *w, const struct sim_host *h, uint32_t i,
                             uint32_t k)
{
	const struct space *sp = &h->space;
	const struct resource *r = &h->res[i];
	uint64_t off = layout_ballot_offset(&sp->layout, i, h->host_id);
	struct ondisk_expect ex;
	struct ondisk_ballot b;

	space_expect(sp, k, ONDISK_KIND_BALLOT, off, &ex);
	return ondisk_ballot_decode(ioe_sim_disk_data(w->disks[k]) + off, &ex, &b) ==
	               ONDISK_VALID &&
	       b.lver == r->token && b.bal > 0 && b.inp_owner_host_id == h->host_id &&
	       b.inp_owner_generation == r->held_generation;
}

/* Disks whose leader of resource i names (host id, generation) with lver token, or that hold
 * the decision in the holder's block;
 * *damaged counts copies that fail their checks (a corrupt fault may hide one there),
 * and what[] says what each disk holds, for the report. */
static uint32_t check_leader_copies(const struct sim_world *w, const struct sim_host *h, uint32_t i,
                                    uint32_t *damaged, uint32_t *older, char *what,
                                    size_t what_size)
{
	const struct space *sp = &h->space;
	uint64_t off = layout_leader_offset(&sp->layout, i);
	const struct resource *r = &h->res[i];
	uint32_t count = 0;
	size_t used = 0;

	*damaged = 0;
	*older = 0;
	what[0] = '\0';
	for (uint32_t k = 0; k < w->cfg.disks && used < what_size; k++) {
		struct ondisk_expect ex;
		struct ondisk_leader ld;
		enum ondisk_state st;

		space_expect(sp, k, ONDISK_KIND_LEADER, off, &ex);
		st = ondisk_leader_decode(ioe_sim_disk_data(w->disks[k]) + off, &ex, &ld);
		if ((st == ONDISK_VALID && ld.lver == r->token && ld.owner_host_id == h->host_id &&
		     ld.owner_generation == r->held_generation) ||
		    check_decided_on(w, h, i, k))
			count++;
		else if (st != ONDISK_VALID && st != ONDISK_EMPTY)
			(*damaged)++;
		else if (st == ONDISK_VALID && ld.lver < r->token)
			(*older)++;
		if (st == ONDISK_VALID)
			used += (size_t)snprintf(what + used, what_size - used,
			                         "%sdisk %u: lver %llu owner %llu/%llu",
			                         k ? ", " : "", k, (unsigned long long)ld.lver,
			                         (unsigned long long)ld.owner_host_id,
			                         (unsigned long long)ld.owner_generation);
		else
			used += (size_t)snprintf(what + used, what_size - used, "%sdisk %u: %s",
			                         k ? ", " : "", k, ondisk_state_name(st));
	}
	return count;
}

void sim_check_new_holder(struct sim_world *w, struct sim_host *h, uint32_t i)
{
	const struct resource *r = &h->res[i];
	struct sim_holder *last = &w->last[i];
	bool same = last->host == (int32_t)h->index && last->generation == r->held_generation &&
	            last->token == r->token;
	uint32_t majority = w->cfg.disks / 2 + 1, damaged, older, copies;
	char what[256];

	if (last->host >= 0 && !same && r->token <= w->max_token[i])
		sim_violation(
		        w, "token-order",
		        "host %u (id %u) holds r%u with token %llu, not above %llu held before by host %d",
		        h->index, h->host_id, i, (unsigned long long)r->token,
		        (unsigned long long)w->max_token[i], last->host);
	copies = check_leader_copies(w, h, i, &damaged, &older, what, sizeof(what));
	if (!(w->cfg.faults & (1u << SIM_F_CORRUPT)))
		damaged = 0; /* only a corrupt fault damages an acknowledged write */
	if (!(w->cfg.faults & (1u << SIM_F_LATE)))
		older = 0; /* only a write landing after its deadline rolls a leader copy back */
	if (copies + damaged + older < majority)
		sim_violation(
		        w, "majority-commit",
		        "host %u (id %u, gen %llu) reports r%u held with token %llu, but only %u of %u disks hold that leader (%s)",
		        h->index, h->host_id, (unsigned long long)r->held_generation, i,
		        (unsigned long long)r->token, copies, w->cfg.disks, what);
	last->host = (int32_t)h->index;
	last->generation = r->held_generation;
	last->token = r->token;
	w->max_token[i] = DL_MAX(w->max_token[i], r->token);
}

/* A dupid twin whose twin is live cannot join: it does not count as a contender. */
static bool check_can_join(const struct sim_world *w, const struct sim_host *h)
{
	uint32_t twin;

	if (!(w->cfg.faults & (1u << SIM_F_DUPID)))
		return true;
	if (h->index != w->cfg.dup_a && h->index != w->cfg.dup_b)
		return true;
	twin = h->index == w->cfg.dup_a ? w->cfg.dup_b : w->cfg.dup_a;
	return w->host[twin].run == SIM_RUN_DOWN ||
	       !delta_is_live(&w->host[twin].d, sim_host_now(&w->host[twin]));
}

/* Contenders of resource i: up (count), live (returned: the first live one, or -1). */
static int32_t check_contenders(const struct sim_world *w, uint32_t i, uint32_t *up)
{
	int32_t live = -1;

	*up = 0;
	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		const struct sim_host *h = &w->host[k];

		if (h->run == SIM_RUN_DOWN || !h->slot[i].contends)
			continue;
		if (check_can_join(w, h))
			(*up)++;
		if (live < 0 && delta_is_live(&h->d, sim_host_now(h)))
			live = (int32_t)k;
	}
	return live;
}

/* The world's host running incarnation (host id, generation), or NULL. */
static const struct sim_host *check_incarnation(const struct sim_world *w, uint64_t host_id,
                                                uint64_t generation)
{
	const struct sim_host *found = NULL;

	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		const struct sim_host *h = &w->host[k];

		if (!h->started || h->host_id != host_id || h->d.generation != generation)
			continue;
		if (h->d.state == DELTA_LIVE)
			return h; /* a dupid twin may carry the same number while it watches */
		found = found ? found : h;
	}
	return found;
}

/* A resource not held in time: say what a live contender sees and what the owner does. */
static void check_liveness_report(struct sim_world *w, uint32_t i, int32_t live)
{
	const struct sim_host *h = live >= 0 ? &w->host[live] : NULL, *o;
	const struct resource *r;
	char owner[160];

	if (!h) {
		sim_violation(
		        w, "liveness",
		        "r%u not held %.0f s (6T + one acquire) after a live host asked, and no contender is live now",
		        i, (double)(SIM_FAILOVER + SIM_ACQUIRE_BOUND) / 1e9);
		return;
	}
	r = &h->res[i];
	o = check_incarnation(w, r->leader.owner_host_id, r->leader.owner_generation);
	if (o && o->slot[i].contends)
		snprintf(owner, sizeof(owner), "that is host %u, delta %s, r%u %s (watching id %u)",
		         o->index, delta_state_name(o->d.state), i,
		         resource_state_name(o->res[i].state), o->res[i].watch_host);
	else
		snprintf(owner, sizeof(owner), "no running host is that incarnation");
	sim_violation(
	        w, "liveness",
	        "r%u not held %.0f s (6T + one acquire) after a live host asked; host %u (id %u) is %s, leader lver %llu names %llu/%llu: %s",
	        i, (double)(SIM_FAILOVER + SIM_ACQUIRE_BOUND) / 1e9, h->index, h->host_id,
	        resource_state_name(r->state), (unsigned long long)r->leader.lver,
	        (unsigned long long)r->leader.owner_host_id,
	        (unsigned long long)r->leader.owner_generation, owner);
}

/* 6T + one acquire; when the named owner's id is shared by dupid twins, one host_dead more:
 * a twin that overwrites the dead owner's slot restarts the wait (design.md, section 3). */
static uint64_t check_failover_bound(const struct sim_world *w, uint32_t i, int32_t live)
{
	uint64_t bound = SIM_FAILOVER + SIM_ACQUIRE_BOUND;

	if (live >= 0 && (w->cfg.faults & (1u << SIM_F_DUPID)) &&
	    w->host[live].res[i].leader.owner_host_id == w->host[w->cfg.dup_a].host_id)
		bound += w->tm.host_dead_ns;
	return bound;
}

/* Does a running host with host id q remember writing its ballot of resource i, and may
 * it join (a dupid twin may not)? Then it can rewrite the ballot from memory when asked. */
static bool check_remembers(const struct sim_world *w, uint32_t q, uint32_t i)
{
	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		const struct sim_host *h = &w->host[k];

		if (h->host_id == q && h->started && h->run != SIM_RUN_DOWN &&
		    h->res[i].own_known && check_can_join(w, h))
			return true;
	}
	return false;
}

/* The one expected way to be stuck: host q's ballot of resource i is damaged on so many
 * disks that it can never be read on a majority, and nobody remembers what it said. */
static bool check_stuck_block(const struct sim_world *w, uint32_t i, uint32_t *q, uint32_t *damaged)
{
	const struct space *sp = &w->host[0].space;
	uint32_t majority = w->cfg.disks / 2 + 1;

	for (uint32_t id = 1; id <= w->cfg.max_hosts; id++) {
		uint64_t off = layout_ballot_offset(&sp->layout, i, id);
		uint32_t bad = 0;

		for (uint32_t k = 0; k < w->cfg.disks; k++) {
			struct ondisk_expect ex;
			struct ondisk_ballot b;
			enum ondisk_state st;

			space_expect(sp, k, ONDISK_KIND_BALLOT, off, &ex);
			st = ondisk_ballot_decode(ioe_sim_disk_data(w->disks[k]) + off, &ex, &b);
			bad += st != ONDISK_VALID && st != ONDISK_EMPTY;
		}
		if (!paxos_damage_is_lasting(w->cfg.disks, majority, bad) ||
		    check_remembers(w, id, i))
			continue;
		*q = id;
		*damaged = bad;
		return true;
	}
	return false;
}

void sim_check_failed(struct sim_world *w, const struct sim_host *h, uint32_t i)
{
	const struct resource *r = &h->res[i];

	if (!w->liveness || r->error != -EBADMSG || w->reported[i])
		return;
	w->reported[i] = true;
	sim_event(w, (int32_t)h->index, "liveness: r%u reported: %.80s", i, r->why);
}

/* Past the failover bound: stuck on a damaged block nobody may rewrite, once reported, is
 * the expected outcome; unreported, or stuck for any other reason, is a violation. */
static void check_liveness_late(struct sim_world *w, uint32_t i, int32_t live, uint64_t late_ns)
{
	uint32_t q, damaged;

	if (!check_stuck_block(w, i, &q, &damaged))
		return check_liveness_report(w, i, live);
	if (!w->reported[i] && late_ns <= SIM_REPORT_BOUND)
		return; /* give a contender time to find out and say so */
	if (!w->reported[i]) {
		sim_violation(
		        w, "liveness",
		        "r%u stuck on host id %u's ballot (damaged on %u of %u disks, nobody remembers it) and no contender reported it within %.0f s",
		        i, q, damaged, w->cfg.disks, (double)SIM_REPORT_BOUND / 1e9);
		return;
	}
	w->satisfied[i] = true;
	if (!w->stuck)
		snprintf(
		        w->stuck_text, sizeof(w->stuck_text),
		        "r%u: ballot of host id %u damaged on %u of %u disks, and no running host remembers writing it",
		        i, q, damaged, w->cfg.disks);
	w->stuck = true;
	sim_event(w, -1, "liveness: r%u stuck: needs operator (host id %u's ballot)", i, q);
}

static void check_liveness_resource(struct sim_world *w, uint32_t i, uint64_t now)
{
	uint64_t bound;
	uint32_t up;
	int32_t live;

	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		if (sim_believes(&w->host[k], i)) {
			w->satisfied[i] = true;
			sim_event(w, (int32_t)k, "liveness: r%u held %.3f s into the phase", i,
			          (double)(now - w->liveness_ns) / 1e9);
			return;
		}
	}
	live = check_contenders(w, i, &up);
	if (live < 0 && w->ask_ns[i] && up > 0) {
		/* the contender that asked lost its own lease (a late effect of the faults): the
		 * bound holds for a live contender, so the clock restarts when one is live again */
		w->ask_ns[i] = 0;
	}
	if (!w->ask_ns[i] && live >= 0) {
		w->ask_ns[i] = now;
		sim_event(w, live, "liveness: asks for r%u", i);
	}
	if (!w->ask_ns[i] && up > 0 && now >= w->liveness_ns + SIM_JOIN_BOUND)
		sim_violation(
		        w, "liveness",
		        "none of the %u contenders of r%u up joined within %.0f s of the faults ending",
		        up, i, (double)SIM_JOIN_BOUND / 1e9);
	bound = w->ask_ns[i] ? w->ask_ns[i] + check_failover_bound(w, i, live) : 0;
	if (w->ask_ns[i] && now > bound)
		check_liveness_late(w, i, live, now - bound);
}

void sim_check_liveness(struct sim_world *w)
{
	uint64_t now = sim_now(w);

	for (uint32_t i = 0; i < w->cfg.resources && !w->violated; i++) {
		if (!w->satisfied[i])
			check_liveness_resource(w, i, now);
	}
}

bool sim_liveness_done(const struct sim_world *w)
{
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		uint32_t up;

		if (w->satisfied[i])
			continue;
		check_contenders(w, i, &up);
		if (up > 0)
			return false;
	}
	return true;
}
