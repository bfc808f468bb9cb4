/* SPDX-License-Identifier: MIT */
/* simfix.c: the simulated multi-host fixture of simfix.h. */
#include "base/compat.h"
#include "simfix.h"

#include <errno.h>
#include <string.h>

int simfix_init(struct simfix *f, uint32_t disk_count, uint32_t host_count, uint32_t sector_size,
                uint32_t max_hosts, uint32_t resources, uint32_t io_timeout_ms)
{
	static const char *const names[] = {"sim0", "sim1", "sim2", "sim3", "sim4"};
	struct space_format_opts o = {.name = "sim",
	                              .max_hosts = max_hosts,
	                              .max_resources = resources,
	                              .io_timeout_ms = io_timeout_ms};
	struct layout l;
	uint64_t sizes[IOE_DISKS_MAX];
	int idx[IOE_DISKS_MAX];
	int rc;

	memset(f, 0, sizeof(*f));
	if (host_count > SIMFIX_HOSTS_MAX || layout_compute(sector_size, max_hosts, resources, &l))
		return -EINVAL;
	ioe_sim_clock_init(&f->clock, 1000000000ull, false);
	f->disk_count = disk_count;
	f->host_count = host_count;
	timing_init(&f->tm, io_timeout_ms);
	for (uint32_t i = 0; i < disk_count; i++) {
		f->disks[i] = ioe_sim_disk_create(l.disk_size_min, sector_size);
		if (!f->disks[i])
			return -ENOMEM;
		sizes[i] = l.disk_size_min;
	}
	for (uint32_t h = 0; h < host_count; h++) {
		struct ioe_config cfg = {.kind = IOE_SIM, .clk = &f->clock.clk};

		rc = ioe_create(&cfg, &f->ioe[h]);
		if (rc < 0)
			return rc;
		ioe_sim_set_seed(f->ioe[h], 1000 + h);
		for (uint32_t i = 0; i < disk_count; i++)
			idx[i] = ioe_sim_attach(f->ioe[h], f->disks[i]);
		rc = space_open_attached(&f->space[h], f->ioe[h], idx, sizes, sector_size, names,
		                         disk_count);
		if (rc == 0 && h == 0)
			rc = space_format(&f->space[h], &o);
		if (rc == 0)
			rc = space_load(&f->space[h]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void simfix_free(struct simfix *f)
{
	for (uint32_t h = 0; h < f->host_count; h++) {
		if (f->ioe[h])
			ioe_destroy(f->ioe[h]);
	}
	for (uint32_t i = 0; i < f->disk_count; i++) {
		if (f->disks[i])
			ioe_sim_disk_destroy(f->disks[i]);
	}
}

bool simfix_run(struct simfix *f, uint64_t until_ns, uint64_t step_ns, bool (*step)(void *ctx),
                void *ctx)
{
	for (uint64_t tick = 0; f->clock.now_ns < until_ns && tick < 100000000ull; tick++) {
		ioe_sim_clock_advance(&f->clock, step_ns);
		for (uint32_t h = 0; h < f->host_count; h++)
			ioe_poll(f->ioe[h], 0);
		if (step(ctx))
			return true;
	}
	return false;
}
