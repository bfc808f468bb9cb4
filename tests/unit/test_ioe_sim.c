/* SPDX-License-Identifier: MIT */
/*
 * test_ioe_sim.c: the in-memory engine. Round trips, virtual time (auto-advance
 * and a simulator-driven clock), every fault kind at a 100% rate, crashes, two
 * engines sharing one disk, failed disks, -EBUSY, and seed determinism. Each
 * test owns its clock, disk and engines through struct simfx.
 */
#include "base/compat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/ioe.h"
#include "io/ioe_sim.h"

#define SIMFX_START_NS (1000 * DL_NS_PER_SEC)
#define SIMFX_SECTOR   4096u
#define SIMFX_SIZE     (256u * SIMFX_SECTOR)

struct simfx {
	struct ioe_sim_clock clk;
	struct ioe_sim_disk *disk;
	struct ioe *e;
	int disk_index;
};

static struct ioe *simfx_engine(struct simfx *f, uint32_t queue_depth)
{
	struct ioe_config cfg = {.kind = IOE_SIM, .queue_depth = queue_depth, .clk = &f->clk.clk};
	struct ioe *e = NULL;

	assert_int_equal(ioe_create(&cfg, &e), 0);
	assert_non_null(e);
	return e;
}

static struct simfx *simfx_new(bool auto_advance, uint32_t queue_depth)
{
	struct simfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ioe_sim_clock_init(&f->clk, SIMFX_START_NS, auto_advance);
	f->disk = ioe_sim_disk_create(SIMFX_SIZE, SIMFX_SECTOR);
	assert_non_null(f->disk);
	f->e = simfx_engine(f, queue_depth);
	f->disk_index = ioe_sim_attach(f->e, f->disk);
	assert_int_equal(f->disk_index, 0);
	ioe_sim_set_seed(f->e, 42);
	return f;
}

static void simfx_free(struct simfx *f)
{
	ioe_destroy(f->e);
	ioe_sim_disk_destroy(f->disk);
	free(f);
}

static void simfx_faults(struct simfx *f, const struct ioe_sim_faults *faults)
{
	ioe_sim_set_faults(f->e, (uint32_t)f->disk_index, faults);
}

/* One request through ioe_run with a deadline timeout_ns from now; returns its result. */
static int simfx_run1(struct simfx *f, uint32_t op, uint64_t offset, void *buf, uint32_t len,
                      uint64_t timeout_ns)
{
	struct ioe_req r = {.disk_index = (uint32_t)f->disk_index,
	                    .op = op,
	                    .offset = offset,
	                    .len = len,
	                    .buf = buf};
	struct ioe_batch b = {
	        .reqs = &r, .req_count = 1, .deadline_ns = f->clk.now_ns + timeout_ns};

	assert_int_equal(ioe_run(f->e, &b), 0);
	assert_true(b.finished);
	return r.result;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != v)
			return false;
	}
	return true;
}

static void test_ioe_sim_round_trip(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	uint8_t out[SIMFX_SECTOR], in[SIMFX_SECTOR];

	(void)state;
	assert_string_equal(ioe_name(f->e), "sim");
	assert_int_equal(ioe_event_fd(f->e), -1);
	assert_int_equal(ioe_disk_add(f->e, 0, 512), -EOPNOTSUPP);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(
	        simfx_run1(f, IOE_WRITE, 2 * SIMFX_SECTOR, out, SIMFX_SECTOR, DL_NS_PER_MS),
	        SIMFX_SECTOR);
	/* Zero latency: done without virtual time passing. */
	assert_int_equal(f->clk.now_ns, SIMFX_START_NS);
	assert_memory_equal(ioe_sim_disk_data(f->disk) + 2 * SIMFX_SECTOR, out, SIMFX_SECTOR);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk) + SIMFX_SECTOR, SIMFX_SECTOR, 0));
	memset(in, 0xee, sizeof(in));
	assert_int_equal(simfx_run1(f, IOE_READ, 2 * SIMFX_SECTOR, in, SIMFX_SECTOR, DL_NS_PER_MS),
	                 SIMFX_SECTOR);
	assert_memory_equal(in, out, SIMFX_SECTOR);
	/* Past the end of the disk: -EIO, not a crash. */
	assert_int_equal(simfx_run1(f, IOE_READ, SIMFX_SIZE, in, SIMFX_SECTOR, DL_NS_PER_MS), -EIO);
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	simfx_free(f);
}

static void test_ioe_sim_latency_auto_advance(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.latency_min_ns = 3 * DL_NS_PER_MS,
	                                .latency_max_ns = 3 * DL_NS_PER_MS};
	struct ioe_req reqs[50];
	struct ioe_batch b = {.reqs = reqs, .req_count = 50};
	uint8_t buf[50][SIMFX_SECTOR];
	uint64_t t1;

	(void)state;
	simfx_faults(f, &faults);
	assert_int_equal(simfx_run1(f, IOE_WRITE, 0, buf[0], SIMFX_SECTOR, DL_NS_PER_SEC),
	                 SIMFX_SECTOR);
	assert_int_equal(f->clk.now_ns, SIMFX_START_NS + 3 * DL_NS_PER_MS);
	faults.latency_min_ns = 1 * DL_NS_PER_MS;
	faults.latency_max_ns = 5 * DL_NS_PER_MS;
	simfx_faults(f, &faults);
	t1 = f->clk.now_ns;
	for (uint32_t i = 0; i < 50; i++)
		reqs[i] = (struct ioe_req){.disk_index = 0,
		                           .op = IOE_READ,
		                           .offset = (uint64_t)i * SIMFX_SECTOR,
		                           .len = SIMFX_SECTOR,
		                           .buf = buf[i]};
	b.deadline_ns = t1 + DL_NS_PER_SEC;
	assert_int_equal(ioe_run(f->e, &b), 0);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(reqs[i].result, SIMFX_SECTOR);
	/* Time moved to the slowest completion, no further. */
	assert_true(f->clk.now_ns >= t1 + 1 * DL_NS_PER_MS);
	assert_true(f->clk.now_ns <= t1 + 5 * DL_NS_PER_MS);
	simfx_free(f);
}

static void simfx_count_done(struct ioe_batch *batch, void *ctx)
{
	(void)batch;
	(*(int *)ctx)++;
}

static void test_ioe_sim_manual_clock(void **state)
{
	struct simfx *f = simfx_new(false, 0);
	struct ioe_sim_faults faults = {.latency_min_ns = 2 * DL_NS_PER_MS,
	                                .latency_max_ns = 2 * DL_NS_PER_MS};
	uint8_t buf[SIMFX_SECTOR];
	int done_calls = 0;
	struct ioe_req r = {.op = IOE_READ, .len = SIMFX_SECTOR, .buf = buf};
	struct ioe_batch b = {.reqs = &r,
	                      .req_count = 1,
	                      .deadline_ns = SIMFX_START_NS + DL_NS_PER_SEC,
	                      .done = simfx_count_done,
	                      .ctx = &done_calls};

	(void)state;
	simfx_faults(f, &faults);
	assert_int_equal(ioe_submit(f->e, &b), 0);
	/* Without auto-advance, poll never moves time, however long it may wait. */
	assert_int_equal(ioe_poll(f->e, SIMFX_START_NS + DL_NS_PER_SEC), 0);
	assert_int_equal(f->clk.now_ns, SIMFX_START_NS);
	ioe_sim_clock_advance(&f->clk, DL_NS_PER_MS);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_false(b.finished);
	assert_int_equal(done_calls, 0);
	ioe_sim_clock_advance(&f->clk, DL_NS_PER_MS);
	assert_int_equal(ioe_poll(f->e, 0), 1);
	assert_true(b.finished);
	assert_int_equal(done_calls, 1);
	assert_int_equal(r.result, SIMFX_SECTOR);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_int_equal(done_calls, 1);
	simfx_free(f);
}

static void test_ioe_sim_fault_error(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.error_ppm = IOE_SIM_RATE_ALWAYS};
	uint8_t buf[SIMFX_SECTOR];

	(void)state;
	simfx_faults(f, &faults);
	memset(buf, 0x5a, sizeof(buf));
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(
		        simfx_run1(f, IOE_WRITE, i * SIMFX_SECTOR, buf, SIMFX_SECTOR, DL_NS_PER_MS),
		        -EIO);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), 8 * SIMFX_SECTOR, 0));
	assert_int_equal(simfx_run1(f, IOE_READ, 0, buf, SIMFX_SECTOR, DL_NS_PER_MS), -EIO);
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	simfx_free(f);
}

static void test_ioe_sim_fault_hang_times_out(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.hang_ppm = IOE_SIM_RATE_ALWAYS};
	uint8_t buf[SIMFX_SECTOR];

	(void)state;
	simfx_faults(f, &faults);
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(simfx_run1(f, IOE_WRITE, 0, buf, SIMFX_SECTOR, 10 * DL_NS_PER_MS),
	                 -ETIMEDOUT);
	/* The deadline, not a completion, ended the wait. */
	assert_int_equal(f->clk.now_ns, SIMFX_START_NS + 10 * DL_NS_PER_MS);
	assert_int_equal(ioe_sim_slots_busy(f->e), 1);
	ioe_sim_clock_advance(&f->clk, DL_NS_PER_SEC);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_int_equal(ioe_sim_slots_busy(f->e), 1); /* never completes */
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), SIMFX_SECTOR, 0));
	ioe_sim_crash(f->e);
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	simfx_free(f);
}

static void test_ioe_sim_fault_torn_write(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.torn_ppm = IOE_SIM_RATE_ALWAYS};
	uint8_t buf[SIMFX_SECTOR];
	uint32_t aligned = 0, unaligned = 0;

	(void)state;
	simfx_faults(f, &faults);
	memset(buf, 0xab, sizeof(buf));
	for (uint32_t i = 0; i < 32; i++) {
		const uint8_t *sector = ioe_sim_disk_data(f->disk) + (uint64_t)i * SIMFX_SECTOR;
		uint32_t prefix = 0;

		assert_int_equal(
		        simfx_run1(f, IOE_WRITE, i * SIMFX_SECTOR, buf, SIMFX_SECTOR, DL_NS_PER_MS),
		        -EIO);
		while (prefix < SIMFX_SECTOR && sector[prefix] == 0xab)
			prefix++;
		/* A strict, non-empty prefix landed; the rest kept its old bytes. */
		assert_true(prefix > 0 && prefix < SIMFX_SECTOR);
		assert_true(all_bytes(sector + prefix, SIMFX_SECTOR - prefix, 0));
		if (prefix % 512 == 0)
			aligned++;
		else
			unaligned++;
	}
	assert_true(aligned > 0);
	assert_true(unaligned > 0);
	simfx_free(f);
}

static void test_ioe_sim_fault_corrupt_bit(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.corrupt_ppm = IOE_SIM_RATE_ALWAYS};
	uint8_t buf[SIMFX_SECTOR];

	(void)state;
	simfx_faults(f, &faults);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	for (uint32_t i = 0; i < 8; i++) {
		const uint8_t *sector = ioe_sim_disk_data(f->disk) + (uint64_t)i * SIMFX_SECTOR;
		uint32_t flipped = 0;

		/* Silent corruption: acknowledged as a full write. */
		assert_int_equal(
		        simfx_run1(f, IOE_WRITE, i * SIMFX_SECTOR, buf, SIMFX_SECTOR, DL_NS_PER_MS),
		        SIMFX_SECTOR);
		for (uint32_t k = 0; k < SIMFX_SECTOR; k++)
			flipped += (uint32_t)__builtin_popcount((unsigned)(sector[k] ^ buf[k]));
		assert_int_equal(flipped, 1);
	}
	simfx_free(f);
}

static void test_ioe_sim_fault_late_write_lands_after_timeout(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.latency_min_ns = 2 * DL_NS_PER_MS,
	                                .latency_max_ns = 2 * DL_NS_PER_MS,
	                                .late_ppm = IOE_SIM_RATE_ALWAYS};
	uint8_t buf[SIMFX_SECTOR];
	uint64_t deadline_ns = SIMFX_START_NS + 5 * DL_NS_PER_MS;

	(void)state;
	simfx_faults(f, &faults);
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(simfx_run1(f, IOE_WRITE, 0, buf, SIMFX_SECTOR, 5 * DL_NS_PER_MS),
	                 -ETIMEDOUT);
	assert_int_equal(f->clk.now_ns, deadline_ns);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), SIMFX_SECTOR, 0));
	assert_int_equal(ioe_sim_slots_busy(f->e), 1);
	/* Due at deadline + 1 ns + latency: not a nanosecond earlier. */
	f->clk.now_ns = deadline_ns + 2 * DL_NS_PER_MS;
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), SIMFX_SECTOR, 0));
	ioe_sim_clock_advance(&f->clk, 1);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), SIMFX_SECTOR, 0x77));
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	simfx_free(f);
}

static void test_ioe_sim_crash_lands_or_drops(void **state)
{
	struct simfx *f = simfx_new(false, 0);
	struct ioe_sim_faults faults = {.latency_min_ns = DL_NS_PER_MS,
	                                .latency_max_ns = DL_NS_PER_MS};
	struct ioe_req reqs[32];
	struct ioe_batch b = {.reqs = reqs, .req_count = 32};
	uint8_t buf[SIMFX_SECTOR], in[SIMFX_SECTOR];
	int done_calls = 0;
	uint32_t landed = 0, dropped = 0;

	(void)state;
	simfx_faults(f, &faults);
	memset(buf, 0xcd, sizeof(buf));
	for (uint32_t i = 0; i < 32; i++)
		reqs[i] = (struct ioe_req){.op = IOE_WRITE,
		                           .offset = (uint64_t)i * SIMFX_SECTOR,
		                           .len = SIMFX_SECTOR,
		                           .buf = buf};
	b.deadline_ns = SIMFX_START_NS + DL_NS_PER_SEC;
	b.done = simfx_count_done;
	b.ctx = &done_calls;
	assert_int_equal(ioe_submit(f->e, &b), 0);
	ioe_sim_crash(f->e);
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	ioe_sim_clock_advance(&f->clk, 10 * DL_NS_PER_MS);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_false(b.finished);
	assert_int_equal(done_calls, 0);
	for (uint32_t i = 0; i < 32; i++) {
		const uint8_t *sector = ioe_sim_disk_data(f->disk) + (uint64_t)i * SIMFX_SECTOR;

		if (all_bytes(sector, SIMFX_SECTOR, 0xcd))
			landed++;
		else if (all_bytes(sector, SIMFX_SECTOR, 0))
			dropped++;
	}
	assert_int_equal(landed + dropped, 32); /* whole writes only */
	assert_true(landed > 0);
	assert_true(dropped > 0);
	/* The restarted host reads what the crash left. */
	faults.latency_min_ns = faults.latency_max_ns = 0;
	simfx_faults(f, &faults);
	assert_int_equal(simfx_run1(f, IOE_READ, 0, in, SIMFX_SECTOR, DL_NS_PER_MS), SIMFX_SECTOR);
	assert_memory_equal(in, ioe_sim_disk_data(f->disk), SIMFX_SECTOR);
	simfx_free(f);
}

static void test_ioe_sim_two_engines_share_disk(void **state)
{
	struct simfx *f = simfx_new(false, 0);
	struct ioe_sim_faults slow = {.latency_min_ns = 10 * DL_NS_PER_MS,
	                              .latency_max_ns = 10 * DL_NS_PER_MS};
	struct ioe *host_b = simfx_engine(f, 0);
	uint8_t out[SIMFX_SECTOR], in[SIMFX_SECTOR];
	struct ioe_req w = {.op = IOE_WRITE, .offset = 0, .len = SIMFX_SECTOR, .buf = out};
	struct ioe_batch wb = {
	        .reqs = &w, .req_count = 1, .deadline_ns = SIMFX_START_NS + DL_NS_PER_SEC};
	struct ioe_req r = {.op = IOE_READ, .offset = 0, .len = SIMFX_SECTOR, .buf = in};
	struct ioe_batch rb = {.reqs = &r, .req_count = 1};

	(void)state;
	assert_int_equal(ioe_sim_attach(host_b, f->disk), 0);
	simfx_faults(f, &slow);
	memset(out, 0x3c, sizeof(out));
	assert_int_equal(ioe_submit(f->e, &wb), 0);
	/* Host B reads at +5 ms: A's write has not landed. */
	ioe_sim_clock_advance(&f->clk, 5 * DL_NS_PER_MS);
	rb.deadline_ns = f->clk.now_ns + DL_NS_PER_MS;
	assert_int_equal(ioe_run(host_b, &rb), 0);
	assert_int_equal(r.result, SIMFX_SECTOR);
	assert_true(all_bytes(in, SIMFX_SECTOR, 0));
	/* At +10 ms it has, though host A has not polled yet. */
	ioe_sim_clock_advance(&f->clk, 5 * DL_NS_PER_MS);
	rb.deadline_ns = f->clk.now_ns + DL_NS_PER_MS;
	assert_int_equal(ioe_run(host_b, &rb), 0);
	assert_int_equal(r.result, SIMFX_SECTOR);
	assert_memory_equal(in, out, SIMFX_SECTOR);
	assert_false(wb.finished);
	assert_int_equal(ioe_poll(f->e, 0), 1);
	assert_int_equal(w.result, SIMFX_SECTOR);
	ioe_destroy(host_b);
	simfx_free(f);
}

static void test_ioe_sim_disk_failed(void **state)
{
	struct simfx *f = simfx_new(true, 0);
	uint8_t buf[SIMFX_SECTOR];

	(void)state;
	memset(buf, 0x42, sizeof(buf));
	ioe_sim_disk_set_failed(f->disk, IOE_SIM_DISK_EIO);
	assert_int_equal(simfx_run1(f, IOE_WRITE, 0, buf, SIMFX_SECTOR, DL_NS_PER_MS), -EIO);
	ioe_sim_disk_set_failed(f->disk, IOE_SIM_DISK_HANG);
	assert_int_equal(simfx_run1(f, IOE_WRITE, 0, buf, SIMFX_SECTOR, 10 * DL_NS_PER_MS),
	                 -ETIMEDOUT);
	assert_int_equal(ioe_sim_slots_busy(f->e), 1);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_int_equal(ioe_sim_slots_busy(f->e), 1);
	/* Back: the held request completes (-EIO, reaped as an orphan) without landing. */
	ioe_sim_disk_set_failed(f->disk, IOE_SIM_DISK_OK);
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), SIMFX_SECTOR, 0));
	assert_int_equal(simfx_run1(f, IOE_WRITE, 0, buf, SIMFX_SECTOR, DL_NS_PER_MS),
	                 SIMFX_SECTOR);
	assert_true(all_bytes(ioe_sim_disk_data(f->disk), SIMFX_SECTOR, 0x42));
	simfx_free(f);
}

static void test_ioe_sim_busy_when_slots_run_out(void **state)
{
	struct simfx *f = simfx_new(true, 2);
	uint8_t buf[3][SIMFX_SECTOR];
	struct ioe_req reqs[3];
	struct ioe_batch b = {.reqs = reqs, .req_count = 3};

	(void)state;
	for (uint32_t i = 0; i < 3; i++)
		reqs[i] = (struct ioe_req){.op = IOE_READ,
		                           .offset = (uint64_t)i * SIMFX_SECTOR,
		                           .len = SIMFX_SECTOR,
		                           .buf = buf[i]};
	b.deadline_ns = f->clk.now_ns + DL_NS_PER_MS;
	assert_int_equal(ioe_submit(f->e, &b), -EBUSY);
	assert_int_equal(ioe_sim_slots_busy(f->e), 0);
	b.req_count = 2;
	assert_int_equal(ioe_run(f->e, &b), 0);
	assert_int_equal(reqs[0].result, SIMFX_SECTOR);
	assert_int_equal(reqs[1].result, SIMFX_SECTOR);
	simfx_free(f);
}

#define TRACE_BATCHES 60u
#define TRACE_REQS    4u

struct sim_trace {
	int results[TRACE_BATCHES][TRACE_REQS];
	uint64_t times_ns[TRACE_BATCHES];
	uint64_t disk_hash;
};

/* A mixed workload under every fault at 20%; records every result, time and the disk's bytes. */
static void sim_trace_run(uint64_t seed, struct sim_trace *t)
{
	struct simfx *f = simfx_new(true, 0);
	struct ioe_sim_faults faults = {.latency_min_ns = 0,
	                                .latency_max_ns = 3 * DL_NS_PER_MS,
	                                .error_ppm = 200000,
	                                .hang_ppm = 200000,
	                                .torn_ppm = 200000,
	                                .late_ppm = 200000,
	                                .corrupt_ppm = 200000};
	uint8_t buf[TRACE_REQS][SIMFX_SECTOR];
	const uint8_t *data;

	ioe_sim_set_seed(f->e, seed);
	simfx_faults(f, &faults);
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < TRACE_BATCHES; i++) {
		struct ioe_req reqs[TRACE_REQS];
		struct ioe_batch b = {.reqs = reqs,
		                      .req_count = TRACE_REQS,
		                      .deadline_ns = f->clk.now_ns + 2 * DL_NS_PER_MS};

		for (uint32_t k = 0; k < TRACE_REQS; k++) {
			memset(buf[k], (int)(i * TRACE_REQS + k), SIMFX_SECTOR);
			reqs[k] = (struct ioe_req){.op = (i + k) % 2 ? IOE_READ : IOE_WRITE,
			                           .offset = (uint64_t)((i * 7 + k) % 16) *
			                                     SIMFX_SECTOR,
			                           .len = SIMFX_SECTOR,
			                           .buf = buf[k]};
		}
		assert_int_equal(ioe_run(f->e, &b), 0);
		for (uint32_t k = 0; k < TRACE_REQS; k++)
			t->results[i][k] = reqs[k].result;
		t->times_ns[i] = f->clk.now_ns;
	}
	ioe_sim_clock_advance(&f->clk, DL_NS_PER_SEC);
	assert_true(ioe_poll(f->e, 0) >= 0);
	data = ioe_sim_disk_data(f->disk);
	t->disk_hash = 1469598103934665603ull;
	for (uint64_t i = 0; i < SIMFX_SIZE; i++)
		t->disk_hash = (t->disk_hash ^ data[i]) * 1099511628211ull;
	simfx_free(f);
}

static void test_ioe_sim_same_seed_same_outcome(void **state)
{
	struct sim_trace *a = calloc(3, sizeof(*a));
	bool saw[3] = {false};

	(void)state;
	assert_non_null(a);
	sim_trace_run(7, &a[0]);
	sim_trace_run(7, &a[1]);
	sim_trace_run(8, &a[2]);
	assert_memory_equal(a[0].results, a[1].results, sizeof(a[0].results));
	assert_memory_equal(a[0].times_ns, a[1].times_ns, sizeof(a[0].times_ns));
	assert_int_equal(a[0].disk_hash, a[1].disk_hash);
	assert_true(memcmp(a[0].results, a[2].results, sizeof(a[0].results)) != 0 ||
	            a[0].disk_hash != a[2].disk_hash);
	/* The workload really mixed outcomes: success, -EIO and -ETIMEDOUT all occur. */
	for (uint32_t i = 0; i < TRACE_BATCHES; i++) {
		for (uint32_t k = 0; k < TRACE_REQS; k++) {
			int r = a[0].results[i][k];

			saw[0] |= r == (int)SIMFX_SECTOR;
			saw[1] |= r == -EIO;
			saw[2] |= r == -ETIMEDOUT;
		}
	}
	assert_true(saw[0] && saw[1] && saw[2]);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ioe_sim_round_trip),
	        cmocka_unit_test(test_ioe_sim_latency_auto_advance),
	        cmocka_unit_test(test_ioe_sim_manual_clock),
	        cmocka_unit_test(test_ioe_sim_fault_error),
	        cmocka_unit_test(test_ioe_sim_fault_hang_times_out),
	        cmocka_unit_test(test_ioe_sim_fault_torn_write),
	        cmocka_unit_test(test_ioe_sim_fault_corrupt_bit),
	        cmocka_unit_test(test_ioe_sim_fault_late_write_lands_after_timeout),
	        cmocka_unit_test(test_ioe_sim_crash_lands_or_drops),
	        cmocka_unit_test(test_ioe_sim_two_engines_share_disk),
	        cmocka_unit_test(test_ioe_sim_disk_failed),
	        cmocka_unit_test(test_ioe_sim_busy_when_slots_run_out),
	        cmocka_unit_test(test_ioe_sim_same_seed_same_outcome),
	};

	return cmocka_run_group_tests_name("ioe_sim", tests, NULL, NULL);
}
