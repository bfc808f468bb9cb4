/* SPDX-License-Identifier: MIT */
/*
 * sim_world.c: building one simulated world from a seed and tearing it
 * down. It owns the swarm choices (sizes, sector size, tick, latencies,
 * which faults are on and at what rates), the shared disks and clock, each
 * host's engine, lockspace view, identity and drifting clock, and the two
 * host events that replace protocol state: a crash and a (re)start. It
 * never steps the protocol: sim_drive.c does.
 *
 * Every choice draws from the world's PRNG in a fixed order, and every
 * engine is reseeded from it, so one seed and one set of options always
 * build the same world. The lockspace uuid comes from getrandom() in
 * space_format(); nothing decides on it, and sim_disk_hash() leaves it out.
 */
#include "base/compat.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "ondisk/layout.h"
#include "banned.h"

#define SIM_START_NS DL_NS_PER_SEC
#define SIM_PPM      1000000u

static const char *const sim_fault_names[SIM_F_COUNT] = {
        "crash", "pause",   "latency", "late",  "error", "hang",
        "torn",  "corrupt", "disk",    "drift", "dupid",
};

static const char *const sim_mutant_names[SIM_MUTANT_COUNT] = {
        "none",
        "trust-one-disk",
        "no-host-dead-wait",
        "stale-clock",
};

const char *sim_fault_name(enum sim_fault f)
{
	DL_ASSERT((size_t)f < DL_ARRAY_SIZE(sim_fault_names));
	return sim_fault_names[f];
}

const char *sim_mutant_name(enum sim_mutant m)
{
	DL_ASSERT((size_t)m < DL_ARRAY_SIZE(sim_mutant_names));
	return sim_mutant_names[m];
}

uint64_t sim_rand_range(struct rand *r, uint64_t lo, uint64_t hi)
{
	DL_ASSERT(lo <= hi);
	return lo + rand_below(r, hi - lo + 1);
}

uint64_t sim_now(const struct sim_world *w)
{
	return w->clock.now_ns;
}

static uint64_t sim_clock_now(const struct clock *clk)
{
	const struct sim_clock *c = clk->ctx;
	uint64_t elapsed = c->global->now_ns - c->base_ns;

	return c->offset_ns + (uint64_t)((unsigned __int128)elapsed * c->num / c->den);
}

uint64_t sim_host_now(const struct sim_host *h)
{
	return clock_now_ns(&h->clock.clk);
}

/* A fresh clock for host h (a boot): random offset, rate within the drift bound. */
static void world_host_clock(struct sim_world *w, struct sim_host *h)
{
	struct sim_clock *c = &h->clock;
	int64_t ppm = 0;

	c->clk.now_ns = sim_clock_now;
	c->clk.ctx = c;
	c->global = &w->clock;
	c->base_ns = sim_now(w);
	c->offset_ns = sim_rand_range(&w->rng, DL_NS_PER_SEC, 1000 * DL_NS_PER_SEC);
	if (w->cfg.faults & (1u << SIM_F_DRIFT)) {
		uint64_t pick = rand_below(&w->rng, 3);

		/* the extremes of the bound a third of the time each: that is where bugs live */
		ppm = pick == 0   ? -(int64_t)TIMING_DRIFT_PPM
		      : pick == 1 ? (int64_t)TIMING_DRIFT_PPM
		                  : (int64_t)sim_rand_range(&w->rng, 0, 2 * TIMING_DRIFT_PPM) -
		                            (int64_t)TIMING_DRIFT_PPM;
	}
	c->num = (uint64_t)((int64_t)SIM_PPM + ppm);
	c->den = SIM_PPM;
	if (w->opts->mutant == SIM_MUTANT_STALE_CLOCK && h->index == 0) {
		c->num = 1; /* a third of real time: far outside [1 - rho, 1 + rho] */
		c->den = 3;
	}
}

static uint32_t world_pick_range(struct rand *r, struct sim_range range)
{
	return (uint32_t)sim_rand_range(r, range.lo, range.hi);
}

static uint32_t world_pick_disks(struct rand *r, uint32_t mask)
{
	uint32_t options[3], count = 0;

	for (uint32_t n = 1; n <= 5; n += 2) {
		if (mask & (1u << n))
			options[count++] = n;
	}
	DL_ASSERT(count > 0);
	return options[rand_below(r, count)];
}

/* Swarm testing: each allowed fault is on with probability 1/2, at least one. */
static uint32_t world_pick_faults(struct rand *r, uint32_t allowed)
{
	uint32_t on = 0, count = 0, pick;

	for (uint32_t f = 0; f < SIM_F_COUNT; f++) {
		if (!(allowed & (1u << f)))
			continue;
		count++;
		if (rand_chance(r, 1, 2))
			on |= 1u << f;
	}
	if (on || count == 0)
		return on;
	pick = (uint32_t)rand_below(r, count);
	for (uint32_t f = 0; f < SIM_F_COUNT; f++) {
		if ((allowed & (1u << f)) && pick-- == 0)
			return 1u << f;
	}
	return 0;
}

static void world_config(struct sim_world *w)
{
	static const uint64_t ticks_ms[] = {5, 10, 20};
	static const uint64_t latency_us[] = {200, 2000, 10000, 50000};
	static const uint64_t spread_ms[] = {0, 100, 2000};
	struct sim_config *c = &w->cfg;
	struct rand *r = &w->rng;
	const uint64_t T = SIM_T_NS;

	c->hosts = world_pick_range(r, w->opts->hosts);
	c->resources = world_pick_range(r, w->opts->resources);
	c->disks = world_pick_disks(r, w->opts->disks_mask);
	c->max_hosts = c->hosts + (uint32_t)rand_below(r, 5);
	c->sector_size = rand_chance(r, 1, 2) ? 512 : 4096;
	c->tick_ns = ticks_ms[rand_below(r, DL_ARRAY_SIZE(ticks_ms))] * DL_NS_PER_MS;
	c->latency_max_ns = latency_us[rand_below(r, DL_ARRAY_SIZE(latency_us))] * 1000u;
	c->join_spread_ns = spread_ms[rand_below(r, DL_ARRAY_SIZE(spread_ms))] * DL_NS_PER_MS;
	c->faults = world_pick_faults(r, w->opts->faults);
	c->error_ppm = (uint32_t)sim_rand_range(r, 1000, 50000);
	c->hang_ppm = (uint32_t)sim_rand_range(r, 100, 5000);
	c->torn_ppm = (uint32_t)sim_rand_range(r, 1000, 20000);
	c->late_ppm = (uint32_t)sim_rand_range(r, 1000, 20000);
	c->corrupt_ppm = (uint32_t)sim_rand_range(r, 500, 10000);
	c->crash_every_ns = sim_rand_range(r, 8 * T, 40 * T);
	c->pause_every_ns = sim_rand_range(r, 8 * T, 40 * T);
	c->disk_every_ns = sim_rand_range(r, 4 * T, 20 * T);
	c->dup_a = (uint32_t)rand_below(r, c->hosts);
	c->dup_b = (c->dup_a + 1 + (uint32_t)rand_below(r, c->hosts - 1)) % c->hosts;
}

/* Engine, disks and a loaded lockspace view for host h; host 0 formats first. */
static int world_host_engine(struct sim_world *w, struct sim_host *h)
{
	static const char *const names[] = {"sim0", "sim1", "sim2", "sim3", "sim4"};
	struct ioe_config cfg = {.kind = IOE_SIM, .queue_depth = SIM_QDEPTH, .clk = &w->clock.clk};
	struct space_format_opts o = {.name = "sim",
	                              .max_hosts = w->cfg.max_hosts,
	                              .max_resources = w->cfg.resources,
	                              .io_timeout_ms = SIM_T_MS,
	                              .sector_size = w->cfg.sector_size};
	uint64_t sizes[IOE_DISKS_MAX];
	int idx[IOE_DISKS_MAX];
	int rc;

	rc = ioe_create(&cfg, &h->ioe);
	if (rc < 0)
		return rc;
	ioe_sim_set_seed(h->ioe, rand_next(&w->rng));
	for (uint32_t i = 0; i < w->cfg.disks; i++) {
		idx[i] = ioe_sim_attach(h->ioe, w->disks[i]);
		sizes[i] = w->disk_size;
		if (idx[i] < 0)
			return idx[i];
	}
	rc = space_open_attached(&h->space, h->ioe, idx, sizes, w->cfg.sector_size, names,
	                         w->cfg.disks);
	if (rc == 0 && h->index == 0)
		rc = space_format(&h->space, &o);
	if (rc == 0)
		rc = space_load(&h->space);
	if (rc == 0 && w->opts->mutant == SIM_MUTANT_TRUST_ONE_DISK)
		h->space.header.disk_count = 1; /* majority 1: one disk's answer decides */
	return rc;
}

static void world_host_identity(struct sim_world *w, struct sim_host *h)
{
	snprintf(h->id.host_name, sizeof(h->id.host_name), "sim-host-%u", h->index);
	for (uint32_t k = 0; k < ONDISK_UUID_SIZE; k++) {
		h->id.host_uuid[k] = (uint8_t)rand_next(&w->rng);
		h->id.boot_id[k] = (uint8_t)rand_next(&w->rng);
	}
	h->id.host_uuid[0] = (uint8_t)h->index; /* distinct per host whatever the draws */
	h->host_id = h->index + 1;
	if ((w->cfg.faults & (1u << SIM_F_DUPID)) && h->index == w->cfg.dup_b)
		h->host_id = w->cfg.dup_a + 1;
}

/* Which resources host h contends for (one to three of them: enough contention, bounded
 * work), and its first join and faults. */
static void world_host_plan(struct sim_world *w, struct sim_host *h)
{
	const struct sim_config *c = &w->cfg;
	uint32_t want = 1 + (uint32_t)rand_below(&w->rng, DL_MIN(c->resources, 3u));

	for (uint32_t n = 0; n < want; n++) {
		uint32_t i = (uint32_t)rand_below(&w->rng, c->resources);

		for (uint32_t k = 0; k < c->resources && h->slot[i].contends; k++)
			i = (i + 1) % c->resources;
		h->slot[i].contends = true;
	}
	h->rejoin_at_ns = sim_now(w) + rand_below(&w->rng, c->join_spread_ns + 1);
	if (c->faults & (1u << SIM_F_CRASH))
		h->crash_at_ns =
		        sim_now(w) + sim_rand_range(&w->rng, 2 * SIM_T_NS, 2 * c->crash_every_ns);
	if (c->faults & (1u << SIM_F_PAUSE))
		h->pause_at_ns =
		        sim_now(w) + sim_rand_range(&w->rng, 2 * SIM_T_NS, 2 * c->pause_every_ns);
}

static int world_disks(struct sim_world *w)
{
	struct layout l;
	int rc;

	rc = layout_compute(w->cfg.sector_size, w->cfg.max_hosts, w->cfg.resources, &l);
	if (rc < 0)
		return rc;
	w->disk_size = l.disk_size_min;
	for (uint32_t i = 0; i < w->cfg.disks; i++) {
		w->disks[i] = ioe_sim_disk_create(w->disk_size, w->cfg.sector_size);
		if (!w->disks[i])
			return -ENOMEM;
	}
	return 0;
}

int sim_world_init(struct sim_world *w, const struct sim_opts *o, uint64_t seed)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->opts = o;
	w->seed = seed;
	rand_seed(&w->rng, seed);
	world_config(w);
	ioe_sim_clock_init(&w->clock, SIM_START_NS, false);
	w->start_ns = SIM_START_NS;
	timing_init(&w->tm, SIM_T_MS);
	for (uint32_t i = 0; i < SIM_RESOURCES_MAX; i++)
		w->last[i].host = -1;
	rc = world_disks(w);
	if (rc < 0)
		return rc;
	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		struct sim_host *h = &w->host[k];

		h->index = k;
		rc = world_host_engine(w, h);
		if (rc < 0)
			return rc;
		world_host_identity(w, h);
		world_host_clock(w, h);
		world_host_plan(w, h);
		rc = sim_host_start(w, h);
		if (rc < 0)
			return rc;
	}
	sim_world_set_faults(w, true);
	w->next_epoch_ns = sim_now(w) + sim_rand_range(&w->rng, 2 * SIM_T_NS, 8 * SIM_T_NS);
	w->next_disk_fault_ns =
	        sim_now(w) + sim_rand_range(&w->rng, SIM_T_NS, 2 * w->cfg.disk_every_ns);
	return 0;
}

int sim_host_start(struct sim_world *w, struct sim_host *h)
{
	int rc;

	DL_ASSERT(!h->started);
	rc = delta_init(&h->d, &h->space, h->ioe, &w->tm, &h->clock.clk, h->host_id, &h->id);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		struct sim_slot *s = &h->slot[i];

		s->seen_state = RES_IDLE;
		s->seen_held = false;
		s->seen_aborts = 0;
		s->release_at_ns = 0;
		/* every resource gets an op, so that REPAIR notes always find one; an op that
		 * has not written its ballot in this life ignores them (it has no memory of the
		 * block: docs/design.md 4) */
		rc = resource_init(&h->res[i], &h->space, h->ioe, &w->tm, &h->clock.clk, &h->d, i);
		DL_ASSERT(rc == 0); /* index in range; only -ENOMEM could fail */
	}
	h->started = true;
	h->run = SIM_RUN_UP;
	h->wake_ns = 0;
	h->leaving = false;
	h->seen_dstate = DELTA_IDLE;
	h->seen_renewals = 0;
	return 0;
}

/* Free d and res[]; their rounds are no longer in any engine (crashed or destroyed). */
static void world_host_forget(struct sim_world *w, struct sim_host *h)
{
	if (!h->started)
		return;
	h->d.round.busy = false;
	for (uint32_t i = 0; i < w->cfg.resources; i++) {
		h->res[i].round.busy = false;
		resource_free(&h->res[i]);
	}
	delta_free(&h->d);
	h->started = false;
}

void sim_host_reboot(struct sim_world *w, struct sim_host *h)
{
	for (uint32_t k = 0; k < ONDISK_UUID_SIZE; k++)
		h->id.boot_id[k] = (uint8_t)rand_next(&w->rng);
	world_host_clock(w, h); /* CLOCK_BOOTTIME starts over */
}

void sim_host_crash(struct sim_world *w, struct sim_host *h)
{
	ioe_sim_crash(h->ioe); /* in-flight writes land or vanish; no batch is reported */
	world_host_forget(w, h);
	h->run = SIM_RUN_DOWN;
}

void sim_world_free(struct sim_world *w)
{
	for (uint32_t k = 0; k < SIM_HOSTS_MAX; k++) {
		struct sim_host *h = &w->host[k];

		if (!h->ioe)
			continue;
		ioe_destroy(h->ioe);
		h->ioe = NULL;
		world_host_forget(w, h);
	}
	for (uint32_t i = 0; i < IOE_DISKS_MAX; i++) {
		ioe_sim_disk_destroy(w->disks[i]);
		w->disks[i] = NULL;
	}
}

static bool world_on(const struct sim_world *w, enum sim_fault f)
{
	return (w->cfg.faults & (1u << f)) != 0;
}

/* One engine-disk pair's faults for the next epoch. */
static void world_draw_faults(struct sim_world *w, struct ioe_sim_faults *f)
{
	const struct sim_config *c = &w->cfg;
	struct rand *r = &w->rng;

	memset(f, 0, sizeof(*f));
	f->latency_max_ns = c->latency_max_ns;
	if (world_on(w, SIM_F_LATENCY) && rand_chance(r, 1, 4)) {
		/* up to and beyond io_timeout: rounds time out, renewals miss */
		f->latency_max_ns = sim_rand_range(r, SIM_T_NS / 4, 3 * SIM_T_NS / 2);
		f->latency_min_ns = rand_below(r, f->latency_max_ns / 2 + 1);
	}
	if (world_on(w, SIM_F_ERROR) && rand_chance(r, 1, 2))
		f->error_ppm = c->error_ppm;
	if (world_on(w, SIM_F_HANG) && rand_chance(r, 1, 2))
		f->hang_ppm = c->hang_ppm;
	if (world_on(w, SIM_F_TORN) && rand_chance(r, 1, 2))
		f->torn_ppm = c->torn_ppm;
	if (world_on(w, SIM_F_LATE) && rand_chance(r, 1, 2))
		f->late_ppm = c->late_ppm;
	if (world_on(w, SIM_F_CORRUPT) && rand_chance(r, 1, 2))
		f->corrupt_ppm = c->corrupt_ppm;
}

void sim_world_set_faults(struct sim_world *w, bool faults_on)
{
	for (uint32_t k = 0; k < w->cfg.hosts; k++) {
		for (uint32_t i = 0; i < w->cfg.disks; i++) {
			struct ioe_sim_faults f;

			if (faults_on) {
				world_draw_faults(w, &f);
			} else {
				memset(&f, 0, sizeof(f));
				f.latency_max_ns = DL_MIN(w->cfg.latency_max_ns, 5 * DL_NS_PER_MS);
			}
			ioe_sim_set_faults(w->host[k].ioe, (uint32_t)i, &f);
		}
	}
}
