/* SPDX-License-Identifier: MIT */
/*
 * measure.c: times the dlease engine doing exactly what the fio profiles do.
 * Every timed unit is one ioe_run(): a batch of one single-sector durable
 * write, of one single-sector read, or of DLBENCH_BATCH_SIZE single-sector
 * reads, at random sector offsets in the first DLBENCH_REGION_BYTES. Offsets
 * come from a shuffled map of the region's sectors, used up before it is
 * reshuffled, as fio's random map does. The time is CLOCK_MONOTONIC around
 * ioe_run() alone; picking offsets is outside it. Any request that does not
 * return its full length aborts the run: a figure from failed I/O means nothing.
 */
#include "base/compat.h"
#include "dlbench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "banned.h"

/* A deadline far beyond any healthy I/O: the benchmark measures, it does not time out. */
#define DLBENCH_DEADLINE_NS (60ull * DL_NS_PER_SEC)

static double dlbench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void dlbench_shuffle(struct dlbench *b)
{
	for (uint32_t i = b->perm_count - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rand_below(&b->rng, (uint64_t)i + 1);
		uint32_t t = b->perm[i];

		b->perm[i] = b->perm[j];
		b->perm[j] = t;
	}
	b->perm_pos = 0;
}

static uint64_t dlbench_next_offset(struct dlbench *b)
{
	if (b->perm_pos == b->perm_count)
		dlbench_shuffle(b);
	return (uint64_t)b->perm[b->perm_pos++] * b->sector_size;
}

int dlbench_measure_init(struct dlbench *b)
{
	b->perm_count = (uint32_t)(DLBENCH_REGION_BYTES / b->sector_size);
	b->perm = calloc(b->perm_count, sizeof(*b->perm));
	b->bufs = malloc((size_t)DLBENCH_BATCH_SIZE * b->sector_size);
	if (!b->perm || !b->bufs) {
		dlbench_measure_free(b);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < b->perm_count; i++)
		b->perm[i] = i;
	dlbench_shuffle(b);
	for (size_t i = 0; i < (size_t)DLBENCH_BATCH_SIZE * b->sector_size; i++)
		b->bufs[i] = (uint8_t)rand_next(&b->rng);
	return 0;
}

void dlbench_measure_free(struct dlbench *b)
{
	free(b->perm);
	free(b->bufs);
	b->perm = NULL;
	b->bufs = NULL;
	for (int t = 0; t < DLBENCH_TESTS; t++) {
		free(b->res[t].samples_us);
		b->res[t].samples_us = NULL;
	}
}

static int dlbench_record(struct dlbench_result *r, double us)
{
	if (r->sample_count == r->sample_cap) {
		uint64_t cap = r->sample_cap ? r->sample_cap * 2 : 1024;
		double *s = realloc(r->samples_us, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		r->samples_us = s;
		r->sample_cap = cap;
	}
	r->samples_us[r->sample_count++] = us;
	return 0;
}

/* One timed ioe_run() of the requests in reqs; *us gets its duration. 0 or -errno. */
static int dlbench_run_once(struct dlbench *b, struct ioe_req *reqs, uint32_t count, double *us)
{
	struct ioe_batch batch = {.reqs = reqs, .req_count = count};
	double t0, t1;
	int rc;

	batch.deadline_ns = clock_now_ns(b->clk) + DLBENCH_DEADLINE_NS;
	t0 = dlbench_now_us();
	rc = ioe_run(b->e, &batch);
	t1 = dlbench_now_us();
	if (rc < 0) {
		dlbench_err("ioe_run: %s", strerror(-rc));
		return rc;
	}
	for (uint32_t i = 0; i < count; i++) {
		if (reqs[i].result != (int)reqs[i].len) {
			rc = reqs[i].result < 0 ? reqs[i].result : -EIO;
			dlbench_err("%s of %u bytes at offset %llu: %s",
			            reqs[i].op == IOE_WRITE ? "write" : "read", reqs[i].len,
			            (unsigned long long)reqs[i].offset, strerror(-rc));
			return rc;
		}
	}
	*us = t1 - t0;
	return 0;
}

int dlbench_measure(struct dlbench *b, enum dlbench_test t, uint32_t count, uint32_t min_ms,
                    bool record)
{
	const struct dlbench_test_info *ti = &dlbench_tests[t];
	struct ioe_req *reqs = calloc(ti->req_count, sizeof(*reqs));
	double start_us = dlbench_now_us(), us;
	int rc = 0;

	if (!reqs)
		return -ENOMEM;
	for (uint64_t n = 0; rc == 0; n++) {
		if (n >= count && dlbench_now_us() - start_us >= min_ms * 1e3)
			break;
		for (uint32_t i = 0; i < ti->req_count; i++) {
			reqs[i] = (struct ioe_req){
			        .disk_index = b->disk_index,
			        .op = ti->write ? IOE_WRITE : IOE_READ,
			        .offset = dlbench_next_offset(b),
			        .len = b->sector_size,
			        .buf = b->bufs + (size_t)i * b->sector_size,
			};
		}
		rc = dlbench_run_once(b, reqs, ti->req_count, &us);
		if (rc == 0 && record)
			rc = dlbench_record(&b->res[t], us);
	}
	free(reqs);
	return rc;
}
