/* SPDX-License-Identifier: MIT */
/*
 * test_ioe.c: the kernel engines (io_uring and libaio) on real files, loop
 * devices and pipes. Every engine test runs once per engine: struct fx holds
 * the engine and the scratch files, fds and loop devices to clean up. The
 * deadline path uses an empty pipe for io_uring and, for both engines, a loop
 * device over a frozen file system (root only): libaio cannot take a pipe (see
 * ioe_aio.c), and a write to a frozen file system queues without completing.
 * Engine choice (IOE_AUTO, DLEASE_IO_ENGINE) is checked at the end.
 */
#include "base/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "io/dev.h"
#include "io/ioe.h"
#include "testutil.h"

#define FX_FILES_MAX 4
#define FX_PATH_MAX  256
#define FX_TIMEOUT   (2 * DL_NS_PER_SEC)

/*
 * A loop device whose backing file sits on a frozen ext4 image: O_DIRECT writes
 * to it are queued by the block layer and complete only after the thaw.
 */
struct frozen {
	char image[FX_PATH_MAX];
	char mnt[FX_PATH_MAX + 8];
	char backing[FX_PATH_MAX + 24];
	char outer[64];
	char inner[64];
	bool mounted;
	bool frozen;
	struct ioe_dev dev;
};

struct fx {
	enum ioe_kind kind;
	struct ioe *e;
	int fds[FX_FILES_MAX];
	char paths[FX_FILES_MAX][FX_PATH_MAX];
	uint32_t file_count;
	char loopdev[64];
	struct ioe_dev dev;
	struct frozen *frozen; /* the frozen file system fixture, if the test uses one */
};

static enum ioe_kind fx_kind_uring = IOE_URING;
static enum ioe_kind fx_kind_aio = IOE_AIO;

static struct ioe *fx_engine(enum ioe_kind kind, uint32_t queue_depth)
{
	struct ioe_config cfg = {.kind = kind, .queue_depth = queue_depth};
	struct ioe *e = NULL;

	assert_int_equal(ioe_create(&cfg, &e), 0);
	return e;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->kind = *(enum ioe_kind *)*state;
	f->dev.fd = -1;
	*state = f;
	return 0;
}

static void frozen_thaw_quietly(struct frozen *z);
static void frozen_teardown(struct frozen *z);

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	/* Thaw before the engine waits for its requests; a failed assert lands here too. */
	if (f->frozen)
		frozen_thaw_quietly(f->frozen);
	ioe_destroy(f->e);
	if (f->frozen)
		frozen_teardown(f->frozen);
	free(f->frozen);
	ioe_dev_close(&f->dev);
	if (f->loopdev[0])
		testutil_loop_detach(f->loopdev);
	for (uint32_t i = 0; i < f->file_count; i++) {
		if (f->fds[i] >= 0)
			close(f->fds[i]);
		unlink(f->paths[i]);
	}
	free(f);
	return 0;
}

/* A scratch file of size_bytes opened O_DIRECT (or not); returns its fd. */
static int fx_file(struct fx *f, const char *stem, uint64_t size_bytes, bool direct)
{
	char *path = f->paths[f->file_count];
	char name[64];
	int fd;

	assert_true(f->file_count < FX_FILES_MAX);
	snprintf(name, sizeof(name), "ioe-%s-%s", ioe_name(f->e), stem);
	assert_int_equal(testutil_tmpfile(name, size_bytes, path, FX_PATH_MAX), 0);
	fd = open(path, O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0));
	assert_true(fd >= 0);
	f->fds[f->file_count++] = fd;
	return fd;
}

static int fx_disk(struct fx *f, int fd, uint32_t sector_size)
{
	int index = ioe_disk_add(f->e, fd, sector_size);

	assert_true(index >= 0);
	return index;
}

static int fx_run1(struct ioe *e, int disk, uint32_t op, uint64_t offset, void *buf, uint32_t len)
{
	struct ioe_req r = {
	        .disk_index = (uint32_t)disk, .op = op, .offset = offset, .len = len, .buf = buf};
	struct ioe_batch b = {
	        .reqs = &r, .req_count = 1, .deadline_ns = clock_now_ns(e->clk) + FX_TIMEOUT};

	assert_int_equal(ioe_run(e, &b), 0);
	assert_true(b.finished);
	return r.result;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 31u + seed * 17u + (i >> 8)) ^ seed);
}

/* Write len bytes at offset through the engine, read them back, and check the file itself. */
static void fx_round_trip(struct fx *f, int disk, int fd, uint64_t offset, uint32_t len,
                          size_t misalign)
{
	uint8_t *out = malloc(len + misalign), *in = malloc(len + misalign);
	uint8_t *check = malloc(len);

	assert_non_null(out);
	assert_non_null(in);
	assert_non_null(check);
	fill(out + misalign, len, (uint32_t)offset + len);
	memset(in + misalign, 0, len);
	assert_int_equal(fx_run1(f->e, disk, IOE_WRITE, offset, out + misalign, len), (int)len);
	assert_int_equal(fx_run1(f->e, disk, IOE_READ, offset, in + misalign, len), (int)len);
	assert_memory_equal(in + misalign, out + misalign, len);
	if (fd >= 0) {
		/* The bytes are really in the file, not only in some buffer. */
		int plain = -1;
		char fdpath[64];

		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		plain = open(fdpath, O_RDONLY | O_CLOEXEC);
		assert_true(plain >= 0);
		assert_int_equal(pread(plain, check, len, (off_t)offset), (ssize_t)len);
		assert_memory_equal(check, out + misalign, len);
		close(plain);
	}
	free(check);
	free(in);
	free(out);
}

static void test_ioe_round_trip(void **state)
{
	struct fx *f = *state;
	int fd, disk;

	f->e = fx_engine(f->kind, 0);
	fd = fx_file(f, "rt", 1u << 20, true);
	disk = fx_disk(f, fd, 512);
	fx_round_trip(f, disk, fd, 8192, 4096, 0);
	fx_round_trip(f, disk, fd, 512, 512, 0);
	fx_round_trip(f, disk, fd, (1u << 20) - 3 * 512, 3 * 512, 0);
}

static void test_ioe_unaligned_buffer(void **state)
{
	struct fx *f = *state;
	int fd, disk;

	f->e = fx_engine(f->kind, 0);
	fd = fx_file(f, "unal", 1u << 20, true);
	disk = fx_disk(f, fd, 512);
	fx_round_trip(f, disk, fd, 4096, 4096, 1);
	fx_round_trip(f, disk, fd, 0, 512, 7);
}

#define BIG_BATCH 2000u

static void test_ioe_batch_2000_reads(void **state)
{
	struct fx *f = *state;
	struct ioe_req *reqs = calloc(BIG_BATCH, sizeof(*reqs));
	uint8_t *bufs = malloc((size_t)BIG_BATCH * 512), sector[512];
	struct ioe_batch b = {.reqs = reqs, .req_count = BIG_BATCH};
	int fd, plain, disk;

	assert_non_null(reqs);
	assert_non_null(bufs);
	f->e = fx_engine(f->kind, 0);
	fd = fx_file(f, "big", (uint64_t)BIG_BATCH * 512, true);
	plain = open(f->paths[0], O_WRONLY | O_CLOEXEC);
	assert_true(plain >= 0);
	for (uint32_t i = 0; i < BIG_BATCH; i++) {
		fill(sector, sizeof(sector), i);
		assert_int_equal(pwrite(plain, sector, sizeof(sector), (off_t)i * 512), 512);
	}
	close(plain);
	disk = fx_disk(f, fd, 512);
	/* Request k reads sector (k * 7) mod 2000: every sector once, out of order. */
	for (uint32_t k = 0; k < BIG_BATCH; k++)
		reqs[k] = (struct ioe_req){.disk_index = (uint32_t)disk,
		                           .op = IOE_READ,
		                           .offset = (uint64_t)((k * 7u) % BIG_BATCH) * 512,
		                           .len = 512,
		                           .buf = bufs + (size_t)k * 512};
	b.deadline_ns = clock_now_ns(f->e->clk) + 10 * DL_NS_PER_SEC;
	assert_int_equal(ioe_run(f->e, &b), 0);
	for (uint32_t k = 0; k < BIG_BATCH; k++) {
		assert_int_equal(reqs[k].result, 512);
		fill(sector, sizeof(sector), (k * 7u) % BIG_BATCH);
		assert_memory_equal(bufs + (size_t)k * 512, sector, 512);
	}
	free(bufs);
	free(reqs);
}

static void test_ioe_three_disks(void **state)
{
	struct fx *f = *state;
	uint8_t out[3][4096], in[3][4096];
	struct ioe_req reqs[3];
	struct ioe_batch b = {.reqs = reqs, .req_count = 3};
	int disks[3];

	f->e = fx_engine(f->kind, 0);
	for (uint32_t i = 0; i < 3; i++) {
		char stem[16];

		snprintf(stem, sizeof(stem), "three%u", i);
		disks[i] = fx_disk(f, fx_file(f, stem, 1u << 16, true), 512);
		assert_int_equal(disks[i], (int)i);
		fill(out[i], sizeof(out[i]), 100 + i);
	}
	for (uint32_t pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < 3; i++)
			reqs[i] = (struct ioe_req){.disk_index = (uint32_t)disks[i],
			                           .op = pass == 0 ? IOE_WRITE : IOE_READ,
			                           .offset = 4096,
			                           .len = 4096,
			                           .buf = pass == 0 ? out[i] : in[i]};
		b.deadline_ns = clock_now_ns(f->e->clk) + FX_TIMEOUT;
		assert_int_equal(ioe_run(f->e, &b), 0);
		for (uint32_t i = 0; i < 3; i++)
			assert_int_equal(reqs[i].result, 4096);
	}
	for (uint32_t i = 0; i < 3; i++)
		assert_memory_equal(in[i], out[i], 4096);
}

static void test_ioe_results_independent(void **state)
{
	struct fx *f = *state;
	uint8_t bufs[5][4096];
	struct ioe_req reqs[5];
	struct ioe_batch b = {.reqs = reqs, .req_count = 5};
	int tiny, big, closed_fd;

	f->e = fx_engine(f->kind, 0);
	tiny = fx_disk(f, fx_file(f, "tiny", 512, true), 512);
	big = fx_disk(f, fx_file(f, "ok", 1u << 16, true), 512);
	closed_fd = open(f->paths[1], O_RDWR | O_DIRECT | O_CLOEXEC);
	assert_true(closed_fd >= 0);
	closed_fd = fx_disk(f, closed_fd, 512) >= 0 ? closed_fd : -1;
	assert_int_equal(close(closed_fd), 0);
	fill(bufs[3], 4096, 9);
	reqs[0] = (struct ioe_req){.disk_index = (uint32_t)tiny, .op = IOE_READ, .len = 512};
	reqs[1] = (struct ioe_req){
	        .disk_index = (uint32_t)tiny, .op = IOE_READ, .offset = 4096, .len = 512};
	reqs[2] = (struct ioe_req){.disk_index = 2, .op = IOE_READ, .len = 512};
	reqs[3] = (struct ioe_req){.disk_index = (uint32_t)big, .op = IOE_WRITE, .len = 4096};
	reqs[4] = (struct ioe_req){
	        .disk_index = (uint32_t)big, .op = IOE_READ, .offset = 8192, .len = 512};
	for (uint32_t i = 0; i < 5; i++)
		reqs[i].buf = bufs[i];
	b.deadline_ns = clock_now_ns(f->e->clk) + FX_TIMEOUT;
	assert_int_equal(ioe_run(f->e, &b), 0);
	assert_int_equal(reqs[0].result, 512);
	assert_int_equal(reqs[1].result, -EIO); /* past the end of a one-sector file: short read */
	assert_int_equal(reqs[2].result, -EBADF);
	assert_int_equal(reqs[3].result, 4096);
	assert_int_equal(reqs[4].result, 512);
	/* The engine is fine afterwards. */
	fx_round_trip(f, big, -1, 0, 4096, 0);
}

static void test_ioe_event_fd_signals(void **state)
{
	struct fx *f = *state;
	uint8_t buf[4096];
	struct ioe_req r = {.op = IOE_READ, .len = 4096, .buf = buf};
	struct ioe_batch b = {.reqs = &r, .req_count = 1};
	struct pollfd pfd = {.events = POLLIN};

	f->e = fx_engine(f->kind, 0);
	r.disk_index = (uint32_t)fx_disk(f, fx_file(f, "efd", 1u << 16, true), 512);
	pfd.fd = ioe_event_fd(f->e);
	assert_true(pfd.fd >= 0);
	assert_int_equal(ioe_event_fd(f->e), pfd.fd);
	b.deadline_ns = clock_now_ns(f->e->clk) + FX_TIMEOUT;
	assert_int_equal(ioe_submit(f->e, &b), 0);
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_true(pfd.revents & POLLIN);
	for (uint32_t i = 0; i < 100 && !b.finished; i++)
		assert_true(ioe_poll(f->e, clock_now_ns(f->e->clk) + 10 * DL_NS_PER_MS) >= 0);
	assert_true(b.finished);
	assert_int_equal(r.result, 4096);
	/* Polling drained it: quiet until the next completion. */
	assert_int_equal(ioe_poll(f->e, 0), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
}

/* An engine outlives the lockspaces that use it: disks leave its table and their indexes
 * are reused; more disks than one lockspace has fit at once. */
static void test_ioe_disk_remove_reuses_index(void **state)
{
	struct fx *f = *state;
	int fd = -1, disks[IOE_DISKS_MAX + 2], again;

	f->e = fx_engine(f->kind, 0);
	fd = fx_file(f, "rm", 1u << 16, true);
	for (uint32_t i = 0; i < DL_ARRAY_SIZE(disks); i++)
		disks[i] = fx_disk(f, fd, 512); /* the same fd, as several lockspaces could */
	assert_int_equal(disks[IOE_DISKS_MAX + 1], IOE_DISKS_MAX + 1);
	fx_round_trip(f, disks[IOE_DISKS_MAX + 1], fd, 4096, 512, 0);
	ioe_disk_remove(f->e, (uint32_t)disks[2]);
	again = fx_disk(f, fd, 512);
	assert_int_equal(again, disks[2]);
	fx_round_trip(f, again, fd, 8192, 512, 0);
}

/* defer_submit (io_uring): batches wait in the submission queue until a flush or a poll,
 * then go to the kernel together. */
static void test_ioe_uring_defer_submit(void **state)
{
	struct fx *f = *state;
	struct ioe_config cfg = {.kind = IOE_URING, .defer_submit = true};
	uint8_t buf[2][4096];
	struct ioe_req r[2] = {{.op = IOE_READ, .len = 4096, .buf = buf[0]},
	                       {.op = IOE_READ, .offset = 4096, .len = 4096, .buf = buf[1]}};
	struct ioe_batch b[2] = {{.reqs = &r[0], .req_count = 1}, {.reqs = &r[1], .req_count = 1}};
	struct pollfd pfd = {.events = POLLIN};

	assert_int_equal(ioe_create(&cfg, &f->e), 0);
	r[0].disk_index = r[1].disk_index =
	        (uint32_t)fx_disk(f, fx_file(f, "defer", 1u << 16, true), 512);
	pfd.fd = ioe_event_fd(f->e);
	assert_true(pfd.fd >= 0);
	for (int i = 0; i < 2; i++) {
		b[i].deadline_ns = clock_now_ns(f->e->clk) + FX_TIMEOUT;
		assert_int_equal(ioe_submit(f->e, &b[i]), 0);
	}
	/* nothing reached the kernel: no completion can come */
	assert_int_equal(poll(&pfd, 1, 200), 0);
	ioe_flush(f->e);
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	for (uint32_t i = 0; i < 100 && !(b[0].finished && b[1].finished); i++)
		assert_true(ioe_poll(f->e, clock_now_ns(f->e->clk) + 10 * DL_NS_PER_MS) >= 0);
	assert_true(b[0].finished && b[1].finished);
	assert_int_equal(r[0].result, 4096);
	assert_int_equal(r[1].result, 4096);
}

static void fx_loop_round_trip(struct fx *f, uint32_t sector_size)
{
	char path[FX_PATH_MAX];
	int disk;

	if (!testutil_can_loop())
		skip();
	f->e = fx_engine(f->kind, 0);
	assert_int_equal(testutil_tmpfile("ioe-loop", 1u << 20, path, sizeof(path)), 0);
	snprintf(f->paths[f->file_count], FX_PATH_MAX, "%s", path);
	f->fds[f->file_count++] = -1;
	assert_int_equal(testutil_loop_attach(path, sector_size, f->loopdev, sizeof(f->loopdev)),
	                 0);
	assert_int_equal(ioe_dev_open(f->loopdev, true, &f->dev), 0);
	assert_true(f->dev.is_block);
	assert_int_equal(f->dev.logical_sector_size, sector_size);
	disk = fx_disk(f, f->dev.fd, f->dev.logical_sector_size);
	fx_round_trip(f, disk, -1, 3 * sector_size, sector_size, 0);
	fx_round_trip(f, disk, -1, (1u << 20) - 2 * sector_size, 2 * sector_size, 3);
}

static void test_ioe_loop_512(void **state)
{
	fx_loop_round_trip(*state, 512);
}

static void test_ioe_loop_4096(void **state)
{
	fx_loop_round_trip(*state, 4096);
}

/* Submit a batch, polling while the engine answers -EBUSY (orphans not yet reaped), then run it. */
static int fx_submit_when_free(struct ioe *e, struct ioe_batch *b, uint32_t tries)
{
	int rc = -EBUSY;

	for (uint32_t i = 0; i < tries && rc == -EBUSY; i++) {
		b->deadline_ns = clock_now_ns(e->clk) + FX_TIMEOUT;
		rc = ioe_submit(e, b);
		if (rc == -EBUSY)
			assert_true(ioe_poll(e, clock_now_ns(e->clk) + 20 * DL_NS_PER_MS) >= 0);
	}
	for (uint32_t i = 0; rc == 0 && i < 1000 && !b->finished; i++)
		assert_true(ioe_poll(e, b->deadline_ns) >= 0);
	return rc;
}

/*
 * With queue depth 4 and one orphan, a 4-request batch is refused (-EBUSY), a
 * 3-request batch on disk works; after unblock() the orphan is reaped and the
 * 4-request batch goes through.
 */
static void fx_orphan_then_reaped(struct ioe *e, int disk, void (*unblock)(void *), void *ctx)
{
	uint8_t bufs[4][512];
	struct ioe_req reqs[4];
	struct ioe_batch b = {.reqs = reqs, .req_count = 4};

	for (uint32_t i = 0; i < 4; i++)
		reqs[i] = (struct ioe_req){.disk_index = (uint32_t)disk,
		                           .op = IOE_READ,
		                           .offset = (uint64_t)i * 512,
		                           .len = 512,
		                           .buf = bufs[i]};
	b.deadline_ns = clock_now_ns(e->clk) + FX_TIMEOUT;
	assert_int_equal(ioe_submit(e, &b), -EBUSY);
	assert_int_equal(ioe_poll(e, 0), 0);
	b.req_count = 3;
	assert_int_equal(ioe_run(e, &b), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(reqs[i].result, 512);
	b.req_count = 4;
	assert_int_equal(ioe_submit(e, &b), -EBUSY);
	unblock(ctx);
	assert_int_equal(fx_submit_when_free(e, &b, 100), 0);
	assert_true(b.finished);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(reqs[i].result, 512);
}

/* Run one request with a 60 ms deadline that cannot be met; check -ETIMEDOUT in time. */
static void fx_expect_timeout(struct ioe *e, int disk, uint32_t op, void *buf)
{
	struct ioe_req r = {.disk_index = (uint32_t)disk, .op = op, .len = 512, .buf = buf};
	uint64_t t0 = clock_now_ns(clock_real()), elapsed;
	struct ioe_batch b = {.reqs = &r, .req_count = 1, .deadline_ns = t0 + 60 * DL_NS_PER_MS};

	assert_int_equal(ioe_run(e, &b), 0);
	elapsed = clock_now_ns(clock_real()) - t0;
	assert_int_equal(r.result, -ETIMEDOUT);
	assert_true(elapsed >= 60 * DL_NS_PER_MS);
	assert_true(elapsed < 1000 * DL_NS_PER_MS);
}

static void fx_pipe_unblock(void *ctx)
{
	uint8_t byte[512] = {1};

	assert_int_equal(write(*(int *)ctx, byte, sizeof(byte)), (ssize_t)sizeof(byte));
}

static void test_ioe_uring_deadline_on_pipe(void **state)
{
	struct fx *f = *state;
	uint8_t buf[512];
	int p[2], pipe_disk, file_disk;

	f->e = fx_engine(IOE_URING, 4);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pipe_disk = fx_disk(f, p[0], 512);
	file_disk = fx_disk(f, fx_file(f, "pipe", 1u << 16, true), 512);
	assert_int_equal(pipe_disk, 0);
	fx_expect_timeout(f->e, pipe_disk, IOE_READ, buf);
	fx_orphan_then_reaped(f->e, file_disk, fx_pipe_unblock, &p[1]);
	close(p[0]);
	close(p[1]);
}

static void test_ioe_aio_refuses_blocking_fds(void **state)
{
	struct fx *f = *state;
	int p[2], buffered, dir;

	f->e = fx_engine(IOE_AIO, 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(ioe_disk_add(f->e, p[0], 512), -EINVAL);
	buffered = fx_file(f, "buffered", 1u << 16, false);
	assert_int_equal(ioe_disk_add(f->e, buffered, 512), -EINVAL);
	dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir >= 0);
	assert_int_equal(ioe_disk_add(f->e, dir, 512), -EINVAL);
	assert_int_equal(ioe_disk_add(f->e, 1000000, 512), -EBADF);
	/* Nothing was registered: the first good fd gets index 0. */
	assert_int_equal(ioe_disk_add(f->e, fx_file(f, "direct", 1u << 16, true), 512), 0);
	close(dir);
	close(p[0]);
	close(p[1]);
}

/* Run a shell command built from fmt; 0 if it exited 0. */
static int sh(const char *fmt, ...) DL_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -EIO;
}

static void frozen_thaw_quietly(struct frozen *z)
{
	if (z->frozen)
		sh("fsfreeze -u '%s'", z->mnt);
	z->frozen = false;
}

static void frozen_teardown(struct frozen *z)
{
	frozen_thaw_quietly(z);
	ioe_dev_close(&z->dev);
	if (z->inner[0])
		testutil_loop_detach(z->inner);
	if (z->mounted && sh("umount '%s' 2>/dev/null", z->mnt) != 0)
		sh("umount -l '%s'", z->mnt);
	if (z->outer[0])
		testutil_loop_detach(z->outer);
	if (z->mnt[0])
		rmdir(z->mnt);
	if (z->image[0])
		unlink(z->image);
}

/* Image, file system, mount, backing file, inner loop device: 0, or -EIO (then skip). */
static int frozen_setup(struct frozen *z)
{
	int fd;

	z->dev.fd = -1;
	if (!testutil_can_loop() || sh("command -v mkfs.ext4 fsfreeze >/dev/null 2>&1") != 0)
		return -EIO;
	if (testutil_tmpfile("ioe-frozen", 64u << 20, z->image, sizeof(z->image)) != 0 ||
	    sh("mkfs.ext4 -q -F '%s' >/dev/null 2>&1", z->image) != 0 ||
	    testutil_loop_attach(z->image, 512, z->outer, sizeof(z->outer)) != 0)
		return -EIO;
	snprintf(z->mnt, sizeof(z->mnt), "%s.mnt", z->image);
	if (mkdir(z->mnt, 0700) != 0)
		return -EIO;
	if (sh("mount -t ext4 '%s' '%s' 2>/dev/null", z->outer, z->mnt) != 0)
		return -EIO;
	z->mounted = true;
	snprintf(z->backing, sizeof(z->backing), "%s/backing", z->mnt);
	fd = open(z->backing, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -EIO;
	if (ftruncate(fd, 1u << 20) != 0 || fsync(fd) != 0) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (testutil_loop_attach(z->backing, 512, z->inner, sizeof(z->inner)) != 0)
		return -EIO;
	return ioe_dev_open(z->inner, true, &z->dev) == 0 ? 0 : -EIO;
}

static void frozen_thaw(void *ctx)
{
	struct frozen *z = ctx;

	assert_int_equal(sh("fsfreeze -u '%s'", z->mnt), 0);
	z->frozen = false;
}

/* Both engines: a write that cannot complete times out, its slot is reaped after the thaw. */
static void test_ioe_deadline_on_frozen_device(void **state)
{
	struct fx *f = *state;
	struct frozen *z = calloc(1, sizeof(*z));
	uint8_t out[512], in[512];
	int dev_disk, file_disk;

	assert_non_null(z);
	z->dev.fd = -1;
	f->frozen = z; /* fx_teardown undoes whatever got set up, even after a failed assert */
	if (frozen_setup(z) != 0)
		skip();
	f->e = fx_engine(f->kind, 4);
	dev_disk = fx_disk(f, z->dev.fd, 512);
	file_disk = fx_disk(f, fx_file(f, "frozen", 1u << 16, true), 512);
	assert_int_equal(sh("fsfreeze -f '%s'", z->mnt), 0);
	z->frozen = true;
	fill(out, sizeof(out), 77);
	fx_expect_timeout(f->e, dev_disk, IOE_WRITE, out);
	fx_orphan_then_reaped(f->e, file_disk, frozen_thaw, z);
	/* The timed-out write did land once the device came back. */
	assert_int_equal(fx_run1(f->e, dev_disk, IOE_READ, 0, in, sizeof(in)), 512);
	assert_memory_equal(in, out, sizeof(out));
}

static void test_ioe_auto_and_env_choice(void **state)
{
	struct ioe_config cfg = {.kind = IOE_AUTO};
	struct ioe *e = NULL, *probe = NULL, sentinel = {0};
	bool uring_ok;

	(void)state;
	uring_ok = ioe_uring_create(&cfg, &probe) == 0;
	ioe_destroy(probe);
	unsetenv("DLEASE_IO_ENGINE");
	assert_int_equal(ioe_create(&cfg, &e), 0);
	if (uring_ok) {
		assert_string_equal(ioe_name(e), "uring");
		assert_string_equal(ioe_why(e), "io_uring (default)");
	} else {
		assert_string_equal(ioe_name(e), "aio");
		assert_memory_equal(ioe_why(e), "libaio: io_uring_queue_init failed: ", 36);
	}
	ioe_destroy(e);
	setenv("DLEASE_IO_ENGINE", "aio", 1);
	assert_int_equal(ioe_create(&cfg, &e), 0);
	assert_string_equal(ioe_name(e), "aio");
	assert_string_equal(ioe_why(e), "libaio: DLEASE_IO_ENGINE=aio");
	ioe_destroy(e);
	setenv("DLEASE_IO_ENGINE", "sim", 1);
	assert_int_equal(ioe_create(&cfg, &e), 0);
	assert_string_equal(ioe_name(e), "sim");
	ioe_destroy(e);
	/* The environment only steers IOE_AUTO. */
	cfg.kind = IOE_AIO;
	setenv("DLEASE_IO_ENGINE", "uring", 1);
	assert_int_equal(ioe_create(&cfg, &e), 0);
	assert_string_equal(ioe_name(e), "aio");
	assert_string_equal(ioe_why(e), "libaio: requested by configuration");
	ioe_destroy(e);
	cfg.kind = IOE_AUTO;
	setenv("DLEASE_IO_ENGINE", "floppy", 1);
	e = &sentinel;
	assert_int_equal(ioe_create(&cfg, &e), -EINVAL);
	assert_null(e);
	unsetenv("DLEASE_IO_ENGINE");
}

static void test_ioe_kind_parse(void **state)
{
	enum ioe_kind kind = IOE_SIM;

	(void)state;
	assert_int_equal(ioe_kind_parse("uring", &kind), 0);
	assert_int_equal(kind, IOE_URING);
	assert_int_equal(ioe_kind_parse("aio", &kind), 0);
	assert_int_equal(kind, IOE_AIO);
	assert_int_equal(ioe_kind_parse("sim", &kind), 0);
	assert_int_equal(kind, IOE_SIM);
	assert_int_equal(ioe_kind_parse("auto", &kind), 0);
	assert_int_equal(kind, IOE_AUTO);
	assert_int_equal(ioe_kind_parse("URING", &kind), -EINVAL);
	assert_int_equal(ioe_kind_parse("", &kind), -EINVAL);
	assert_int_equal(ioe_kind_parse(NULL, &kind), -EINVAL);
	assert_int_equal(kind, IOE_AUTO);
}

/* One entry per kernel engine, named "test_x(uring)" and "test_x(aio)". */
#define BOTH(f)                                                                                    \
	{#f "(uring)", f, fx_setup, fx_teardown, &fx_kind_uring},                                  \
	{                                                                                          \
#f "(aio)", f, fx_setup, fx_teardown, &fx_kind_aio                                 \
	}
#define ONE(f, kind)                                                                               \
	{                                                                                          \
#f, f, fx_setup, fx_teardown, &(kind)                                              \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        BOTH(test_ioe_round_trip),
	        BOTH(test_ioe_unaligned_buffer),
	        BOTH(test_ioe_batch_2000_reads),
	        BOTH(test_ioe_three_disks),
	        BOTH(test_ioe_results_independent),
	        BOTH(test_ioe_event_fd_signals),
	        BOTH(test_ioe_disk_remove_reuses_index),
	        ONE(test_ioe_uring_defer_submit, fx_kind_uring),
	        BOTH(test_ioe_loop_512),
	        BOTH(test_ioe_loop_4096),
	        BOTH(test_ioe_deadline_on_frozen_device),
	        ONE(test_ioe_uring_deadline_on_pipe, fx_kind_uring),
	        ONE(test_ioe_aio_refuses_blocking_fds, fx_kind_aio),
	        cmocka_unit_test(test_ioe_auto_and_env_choice),
	        cmocka_unit_test(test_ioe_kind_parse),
	};

	return cmocka_run_group_tests_name("ioe", tests, NULL, NULL);
}
