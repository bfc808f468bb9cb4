/* SPDX-License-Identifier: MIT */
/*
 * lease.c: `dlbench --lease`: the latency of acquiring and releasing a
 * resource lease on a real device, next to fio's single-sector write and read
 * round trips on the same device. It formats a small lockspace over the
 * start of the device (the device must be scratch: a regular file, or a block
 * device with --destructive), joins it as host 1, and repeats try-acquire +
 * release of one resource, driving the very state machines the daemon runs
 * (src/lease/delta.c, resource.c) with the real engine and clock.
 *
 * Target (issue 3): acquire <= (its round trips x fio latency) x 1.15, where
 * an uncontended acquire is 3 write rounds (phase 1, phase 2, commit) and 3
 * read rounds (first read, phase 1, phase 2): predicted = 3 w + 3 r with w, r
 * fio's median single-sector write and read latency.
 */
#include "base/compat.h"
#include "dlbench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lease/delta.h"
#include "lease/resource.h"
#include "lease/space.h"
#include "banned.h"

#define LEASE_TARGET_RATIO 1.15
#define LEASE_HOSTS        8u
#define LEASE_RESOURCES    4u
#define LEASE_T_MS         2000u

struct lease_bench {
	struct space s;
	struct timing tm;
	struct delta d;
	struct resource r;
	double *acq_us, *rel_us;
	uint32_t n;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Step the state machines, sleeping in the engine until something is due. */
static int lease_pump(struct dlbench *b, struct lease_bench *lb, bool (*done)(struct lease_bench *),
                      uint64_t limit_ns)
{
	uint64_t start = clock_now_ns(b->clk);

	for (uint32_t i = 0; i < 10000000u; i++) {
		uint64_t a = delta_step(&lb->d), c = resource_step(&lb->r);
		uint64_t now = clock_now_ns(b->clk), wake = a && c ? DL_MIN(a, c) : (a ? a : c);

		if (done(lb))
			return 0;
		if (lb->d.state == DELTA_FAILED || lb->r.state == RES_FAILED)
			return -EIO;
		if (now - start > limit_ns)
			return -ETIMEDOUT;
		ioe_poll(b->e, wake > now ? DL_MIN(wake, now + 1000000) : now);
	}
	return -ETIMEDOUT;
}

static bool lb_live(struct lease_bench *lb)
{
	return lb->d.state == DELTA_LIVE;
}

static bool lb_holdoff_over(struct lease_bench *lb)
{
	return clock_now_ns(lb->d.clk) >= lb->d.join_ack_ns + lb->tm.ballot_holdoff_ns;
}

static bool lb_held(struct lease_bench *lb)
{
	return lb->r.state == RES_HELD;
}

static bool lb_idle(struct lease_bench *lb)
{
	return lb->r.state == RES_IDLE;
}

static bool lb_left(struct lease_bench *lb)
{
	return lb->d.state == DELTA_LEFT;
}

/* Leave the lockspace cleanly and free what setup made. */
static void lease_teardown(struct dlbench *b, struct lease_bench *lb)
{
	if (lb->d.state == DELTA_LIVE && delta_leave(&lb->d) == 0)
		lease_pump(b, lb, lb_left, 10ull * LEASE_T_MS * 1000000ull);
	for (int i = 0; i < 100000 && (lb->d.round.busy || lb->r.round.busy); i++) {
		ioe_poll(b->e, clock_now_ns(b->clk) + 1000000);
		round_finished(&lb->d.round);
		round_finished(&lb->r.round);
	}
	if (lb->r.clk)
		resource_free(&lb->r);
	if (lb->d.clk)
		delta_free(&lb->d);
	space_close(&lb->s);
}

static int lease_setup(struct dlbench *b, struct lease_bench *lb)
{
	struct space_format_opts fo = {.name = "dlbench",
	                               .max_hosts = LEASE_HOSTS,
	                               .max_resources = LEASE_RESOURCES,
	                               .io_timeout_ms = LEASE_T_MS,
	                               .sector_size = b->sector_size,
	                               .force = true};
	struct delta_identity id = {0};
	const char *paths[1] = {b->o.dev_path};
	int rc;

	rc = space_open(&lb->s, b->e, paths, 1, true);
	if (rc == 0)
		rc = space_format(&lb->s, &fo);
	if (rc < 0) {
		dlbench_err("lease: %s", lb->s.why);
		return rc;
	}
	timing_init(&lb->tm, LEASE_T_MS);
	snprintf(id.host_name, sizeof(id.host_name), "dlbench");
	memset(id.host_uuid, 0x42, sizeof(id.host_uuid));
	memset(id.boot_id, 0x43, sizeof(id.boot_id));
	rc = delta_init(&lb->d, &lb->s, b->e, &lb->tm, b->clk, 1, &id);
	if (rc == 0)
		rc = resource_init(&lb->r, &lb->s, b->e, &lb->tm, b->clk, &lb->d, 0);
	if (rc == 0)
		rc = delta_join(&lb->d, true);
	if (rc == 0)
		rc = lease_pump(b, lb, lb_live, 10ull * LEASE_T_MS * 1000000ull);
	/* a host that just joined holds off its first ballot (timing.h): time a settled host */
	if (rc == 0)
		rc = lease_pump(b, lb, lb_holdoff_over, 10ull * LEASE_T_MS * 1000000ull);
	if (rc < 0)
		dlbench_err("lease: cannot join: %s", lb->d.why[0] ? lb->d.why : strerror(-rc));
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, uint32_t n, double p)
{
	uint32_t k;

	qsort(v, n, sizeof(*v), cmp_double);
	k = (uint32_t)(p / 100.0 * (n - 1) + 0.5);
	return v[DL_MIN(k, n - 1)];
}

/* N acquire + release pairs; each latency from the call to the state that ends it. */
static int lease_measure(struct dlbench *b, struct lease_bench *lb)
{
	uint64_t limit = 10ull * LEASE_T_MS * 1000000ull;

	for (uint32_t i = 0; i < lb->n; i++) {
		uint64_t t0 = mono_ns(), t1;
		int rc = resource_acquire(&lb->r, false, 0);

		if (rc == 0)
			rc = lease_pump(b, lb, lb_held, limit);
		t1 = mono_ns();
		if (rc == 0)
			rc = resource_release(&lb->r);
		if (rc == 0)
			rc = lease_pump(b, lb, lb_idle, limit);
		if (rc < 0) {
			dlbench_err("lease: iteration %u: %s", i,
			            lb->r.why[0] ? lb->r.why : strerror(-rc));
			return rc;
		}
		lb->acq_us[i] = (double)(t1 - t0) / 1000.0;
		lb->rel_us[i] = (double)(mono_ns() - t1) / 1000.0;
	}
	return 0;
}

static void lease_report(const struct dlbench *b, struct lease_bench *lb,
                         const struct dlbench_fio_run *w, const struct dlbench_fio_run *r,
                         bool have_fio)
{
	double acq_med = pct(lb->acq_us, lb->n, 50), acq_p99 = pct(lb->acq_us, lb->n, 99);
	double rel_med = pct(lb->rel_us, lb->n, 50), rel_p99 = pct(lb->rel_us, lb->n, 99);
	double rounds = (double)lb->r.stats.rounds / (2.0 * lb->n);
	double predicted = have_fio ? 3 * w->lat_median_us + 3 * r->lat_median_us : -1;
	double ratio = have_fio ? acq_med / predicted : -1;

	if (b->o.json) {
		printf("{\"test\": \"lease\", \"device\": \"%s\", \"engine\": \"%s\", \"sector_size\": %u, "
		       "\"iterations\": %u, \"acquire_median_us\": %.1f, \"acquire_p99_us\": %.1f, "
		       "\"release_median_us\": %.1f, \"release_p99_us\": %.1f, "
		       "\"rounds_per_acquire_and_release\": %.2f, \"bytes_read_per_acquire\": %.0f",
		       b->o.dev_path, ioe_name(b->e), b->sector_size, lb->n, acq_med, acq_p99,
		       rel_med, rel_p99, rounds * 2, (double)lb->r.stats.bytes_read / lb->n);
		if (have_fio)
			printf(", \"fio_write_median_us\": %.1f, \"fio_read_median_us\": %.1f, "
			       "\"predicted_acquire_us\": %.1f, \"ratio\": %.3f, \"pass\": %s",
			       w->lat_median_us, r->lat_median_us, predicted, ratio,
			       ratio <= LEASE_TARGET_RATIO ? "true" : "false");
		printf("}\n");
		return;
	}
	printf("lease on %s (engine %s, %u-byte sectors, %u iterations)\n", b->o.dev_path,
	       ioe_name(b->e), b->sector_size, lb->n);
	printf("  acquire  median %8.1f us  p99 %8.1f us  (%u write + %u read rounds)\n", acq_med,
	       acq_p99, 3u, 3u);
	printf("  release  median %8.1f us  p99 %8.1f us  (2 write rounds: our block, then the leader)\n",
	       rel_med, rel_p99);
	printf("  bytes read per acquire: %.0f\n", (double)lb->r.stats.bytes_read / lb->n);
	if (!have_fio)
		return;
	printf("  fio      write %8.1f us  read %8.1f us  (median, single sector, qd1)\n",
	       w->lat_median_us, r->lat_median_us);
	printf("  target   acquire <= (3 w + 3 r) x %.2f = %.1f us: ratio %.3f  %s\n",
	       LEASE_TARGET_RATIO, predicted * LEASE_TARGET_RATIO, ratio,
	       ratio <= LEASE_TARGET_RATIO ? "PASS" : "FAIL");
}

int dlbench_lease(struct dlbench *b)
{
	static struct lease_bench lb;
	struct dlbench_fio_run w = {0}, r = {0};
	bool have_fio = false;
	int rc;

	memset(&lb, 0, sizeof(lb));
	lb.n = b->o.iterations ? b->o.iterations : 200;
	lb.acq_us = calloc(lb.n, sizeof(double));
	lb.rel_us = calloc(lb.n, sizeof(double));
	if (!lb.acq_us || !lb.rel_us)
		return -ENOMEM;
	rc = lease_setup(b, &lb);
	if (rc == 0)
		rc = lease_measure(b, &lb);
	lease_teardown(b, &lb); /* before fio: nothing renews our host lease while fio runs */
	if (rc == 0 && b->o.fio) {
		rc = dlbench_fio_locate(b);
		if (rc == 0)
			rc = dlbench_fio_run(b, DLBENCH_WRITE_QD1, &w);
		if (rc == 0)
			rc = dlbench_fio_run(b, DLBENCH_READ_QD1, &r);
		have_fio = rc == 0;
	}
	if (rc == 0)
		lease_report(b, &lb, &w, &r, have_fio);
	free(lb.acq_us);
	free(lb.rel_us);
	return rc;
}
