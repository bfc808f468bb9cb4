/* SPDX-License-Identifier: MIT */
/*
 * simfix.h: a fixture for protocol unit tests: H simulated hosts (one sim
 * engine and one space each, sharing one virtual clock) over D in-memory
 * disks formatted as a lockspace. Tests drive time with simfix_run().
 */
#ifndef DL_SIMFIX_H
#define DL_SIMFIX_H

#include "base/compat.h"
#include "io/ioe.h"
#include "io/ioe_sim.h"
#include "lease/space.h"
#include "lease/timing.h"

#define SIMFIX_HOSTS_MAX 8

struct simfix {
	struct ioe_sim_clock clock;
	struct ioe_sim_disk *disks[IOE_DISKS_MAX];
	uint32_t disk_count;
	uint32_t host_count;
	struct ioe *ioe[SIMFIX_HOSTS_MAX];
	struct space space[SIMFIX_HOSTS_MAX];
	struct timing tm;
};

/* Format a lockspace (io_timeout_ms, max_hosts, resources) on disk_count sim disks and
 * give each of host_count hosts its own engine and loaded space. 0 or -errno. */
int simfix_init(struct simfix *f, uint32_t disk_count, uint32_t host_count, uint32_t sector_size,
                uint32_t max_hosts, uint32_t resources, uint32_t io_timeout_ms);
void simfix_free(struct simfix *f);

/* Advance virtual time by step_ns at a time until until_ns, polling every engine and
 * calling step(ctx) after each advance; stops early when step returns true. */
bool simfix_run(struct simfix *f, uint64_t until_ns, uint64_t step_ns, bool (*step)(void *ctx),
                void *ctx);

static inline uint64_t simfix_now(const struct simfix *f)
{
	return f->clock.now_ns;
}

#endif /* DL_SIMFIX_H */
