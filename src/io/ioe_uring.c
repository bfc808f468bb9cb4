/* SPDX-License-Identifier: MIT */
/*
 * ioe_uring.c: the io_uring engine (liburing). It owns one ring, a disk table
 * of up to IOE_DISKS_MAX fds, and a slot table of queue_depth in-flight
 * requests. Each slot holds an engine-owned bounce buffer (4096-aligned, grown
 * lazily to the largest len seen), so callers may pass any alignment and get
 * their buffer back when the batch is done. The SQE user_data is the slot
 * index. A whole batch goes out in one io_uring_submit(); writes carry
 * RWF_DSYNC, so an acknowledged write is durable.
 *
 * Slot states: FREE (on the free list) -> BUSY (uring_submit reserves it) ->
 * FREE (uring_complete, CQE arrived in time) or -> ORPHAN (uring_expire: the
 * batch deadline passed, the request was reported -ETIMEDOUT and the batch
 * finished, but the kernel still owns the bounce buffer) -> FREE (its CQE
 * arrives at last, uring_complete). A batch needing more slots than are free
 * gets -EBUSY and nothing is queued.
 *
 * Waiting uses io_uring_wait_cqe_timeout() with a relative timeout up to
 * min(wait_until_ns, earliest active deadline); with IORING_FEAT_EXT_ARG
 * (Linux 5.11+) liburing passes it without consuming an SQE. The engine never
 * spawns threads and reads time only through its struct clock.
 */
#include "base/compat.h"
#include "io/ioe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

#define URING_QDEPTH_MAX     32768u /* IORING_MAX_ENTRIES */
#define URING_BUF_ALIGN      4096u
#define URING_REAP_BATCH     64u
#define URING_SUBMIT_TRIES   8u
#define URING_CANCEL_TAG     UINT64_MAX
#define URING_EXIT_WAIT_NS   (100 * DL_NS_PER_MS)
#define URING_EXIT_WAITS_MAX 20u /* destroy waits at most 2 s for the kernel */
#define URING_SLOT_NONE      UINT32_MAX

enum uring_slot_state {
	URING_SLOT_FREE = 0,
	URING_SLOT_BUSY = 1,
	URING_SLOT_ORPHAN = 2,
};

struct uring_slot {
	void *buf;       /* bounce buffer, URING_BUF_ALIGN-aligned */
	uint32_t w_disk; /* what the request was, kept while it is an orphan */
	uint32_t w_len;
	uint64_t w_offset;
	bool w_write;
	uint32_t buf_size; /* bytes allocated at buf */
	uint32_t state;    /* enum uring_slot_state */
	uint32_t next;     /* free-list link when FREE; submit chain while reserving */
	struct ioe_req *req;
	struct ioe_batch *batch;
};

struct uring_disk {
	int fd;
	uint32_t sector_size;
};

struct uring_engine {
	struct ioe base; /* first: struct ioe * converts to struct uring_engine * */
	struct io_uring ring;
	uint32_t queue_depth;
	struct uring_disk disks[IOE_ENGINE_DISKS_MAX]; /* fd -1: removed */
	uint32_t disk_count;
	struct uring_slot *slots;
	uint32_t free_head;
	uint32_t free_count;
	uint32_t orphan_count;
	struct ioe_batch *active; /* submitted, not yet finished, linked by next_active */
	uint32_t active_count;
	struct ioe_batch *done_head; /* finished, done() not yet called (FIFO) */
	struct ioe_batch *done_tail;
	int event_fd;
	bool defer_submit; /* submit only queues; flush/poll send (ioe_config.defer_submit) */
};

static struct uring_engine *uring_of(struct ioe *e)
{
	return (struct uring_engine *)e;
}

static uint32_t uring_slot_get(struct uring_engine *u)
{
	uint32_t index = u->free_head;

	DL_ASSERT(index != URING_SLOT_NONE);
	DL_ASSERT(u->slots[index].state == URING_SLOT_FREE);
	u->free_head = u->slots[index].next;
	u->free_count--;
	u->slots[index].state = URING_SLOT_BUSY;
	return index;
}

static void uring_slot_put(struct uring_engine *u, uint32_t index)
{
	struct uring_slot *s = &u->slots[index];

	s->state = URING_SLOT_FREE;
	s->req = NULL;
	s->batch = NULL;
	s->next = u->free_head;
	u->free_head = index;
	u->free_count++;
}

static int uring_slot_reserve_buf(struct uring_slot *s, uint32_t len)
{
	uint32_t size = DL_ROUND_UP(len, URING_BUF_ALIGN);
	void *buf;

	if (s->buf_size >= len)
		return 0;
	if (posix_memalign(&buf, URING_BUF_ALIGN, size) != 0)
		return -ENOMEM;
	free(s->buf);
	s->buf = buf;
	s->buf_size = size;
	return 0;
}

/* Move a batch from the active list to the done FIFO; done() runs in uring_drain_done. */
static void uring_finish(struct uring_engine *u, struct ioe_batch *batch)
{
	struct ioe_batch **link = &u->active;

	for (uint32_t i = 0; *link && i < u->active_count; i++) {
		if (*link == batch)
			break;
		link = &(*link)->next_active;
	}
	DL_ASSERT(*link == batch);
	*link = batch->next_active;
	u->active_count--;
	batch->next_active = NULL;
	if (u->done_tail)
		u->done_tail->next_active = batch;
	else
		u->done_head = batch;
	u->done_tail = batch;
}

static int uring_drain_done(struct uring_engine *u)
{
	struct ioe_batch *batch;
	int finished = 0;

	/* Bounded by the batches queued so far: done() may submit, never finish, a batch. */
	while ((batch = u->done_head) != NULL) {
		u->done_head = batch->next_active;
		if (!u->done_head)
			u->done_tail = NULL;
		batch->next_active = NULL;
		batch->finished = true;
		finished++;
		if (batch->done)
			batch->done(batch, batch->ctx); /* may reuse or free the batch */
	}
	return finished;
}

static void uring_complete(struct uring_engine *u, uint64_t user_data, int res)
{
	struct uring_slot *s;
	struct ioe_req *req;
	struct ioe_batch *batch;

	if (user_data == URING_CANCEL_TAG)
		return;
	DL_ASSERT(user_data < u->queue_depth);
	s = &u->slots[user_data];
	if (s->state == URING_SLOT_ORPHAN) {
		/* Its batch reported -ETIMEDOUT long ago; only the buffer comes back. */
		u->orphan_count--;
		uring_slot_put(u, (uint32_t)user_data);
		return;
	}
	DL_ASSERT(s->state == URING_SLOT_BUSY);
	req = s->req;
	batch = s->batch;
	if (res >= 0 && (uint32_t)res != req->len)
		res = -EIO; /* short transfer: end of file or device */
	if (res >= 0 && req->op == IOE_READ)
		memcpy(req->buf, s->buf, req->len);
	req->result = res;
	uring_slot_put(u, (uint32_t)user_data);
	DL_ASSERT(batch->pending > 0);
	if (--batch->pending == 0)
		uring_finish(u, batch);
}

static uint32_t uring_reap(struct uring_engine *u)
{
	struct io_uring_cqe *cqes[URING_REAP_BATCH];
	uint32_t reaped = 0;
	/* Every slot (plus one cancel) yields one CQE, so this many rounds drain the ring. */
	uint32_t rounds_max = u->queue_depth / URING_REAP_BATCH + 2;

	for (uint32_t round = 0; round < rounds_max; round++) {
		unsigned n = io_uring_peek_batch_cqe(&u->ring, cqes, URING_REAP_BATCH);

		for (unsigned i = 0; i < n; i++)
			uring_complete(u, cqes[i]->user_data, cqes[i]->res);
		io_uring_cq_advance(&u->ring, n);
		reaped += n;
		if (n < URING_REAP_BATCH)
			break;
	}
	return reaped;
}

/* Every request of batch still in flight times out; its slot stays reserved as an orphan. */
static void uring_orphan_batch(struct uring_engine *u, struct ioe_batch *batch, int result)
{
	for (uint32_t i = 0; i < u->queue_depth && batch->pending > 0; i++) {
		struct uring_slot *s = &u->slots[i];

		if (s->state != URING_SLOT_BUSY || s->batch != batch)
			continue;
		s->req->result = result;
		s->state = URING_SLOT_ORPHAN;
		s->req = NULL;
		s->batch = NULL;
		u->orphan_count++;
		batch->pending--;
	}
	DL_ASSERT(batch->pending == 0);
}

static void uring_expire(struct uring_engine *u, uint64_t now_ns)
{
	struct ioe_batch *batch = u->active, *next;
	uint32_t count = u->active_count;

	for (uint32_t i = 0; batch && i < count; i++, batch = next) {
		next = batch->next_active;
		if (batch->pending > 0 && batch->deadline_ns > now_ns)
			continue;
		uring_orphan_batch(u, batch, -ETIMEDOUT);
		uring_finish(u, batch);
	}
}

static uint64_t uring_earliest_deadline(const struct uring_engine *u, uint64_t limit_ns)
{
	const struct ioe_batch *batch = u->active;

	for (uint32_t i = 0; batch && i < u->active_count; i++, batch = batch->next_active)
		limit_ns = DL_MIN(limit_ns, batch->deadline_ns);
	return limit_ns;
}

/* Push whatever sits in the SQ ring; a short submit leaves the rest there for the next try. */
static void uring_flush_sq(struct uring_engine *u)
{
	int rc = 0;

	for (uint32_t attempt = 0; attempt < URING_SUBMIT_TRIES; attempt++) {
		if (io_uring_sq_ready(&u->ring) == 0)
			return;
		rc = io_uring_submit(&u->ring);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			break;
	}
	/* The requests stay queued in the SQ ring and their batches still expire on time. */
	dl_warn("ioe uring: %u requests not yet accepted by the kernel: %s",
	        io_uring_sq_ready(&u->ring), rc < 0 ? strerror(-rc) : "short submit");
}

/* A request the kernel may still hold (busy, or timed out and orphaned) names the disk. */
static bool uring_disk_referenced(const struct uring_engine *u, uint32_t disk_index)
{
	for (uint32_t i = 0; i < u->queue_depth; i++) {
		const struct uring_slot *s = &u->slots[i];

		if (s->state != URING_SLOT_FREE && s->w_disk == disk_index)
			return true;
	}
	return false;
}

static int uring_disk_add(struct ioe *e, int fd, uint32_t sector_size)
{
	struct uring_engine *u = uring_of(e);

	DL_ASSERT(sector_size >= 512 && (sector_size & (sector_size - 1)) == 0);
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	for (uint32_t i = 0; i < u->disk_count; i++) {
		if (u->disks[i].fd < 0 && !uring_disk_referenced(u, i)) {
			u->disks[i] = (struct uring_disk){.fd = fd, .sector_size = sector_size};
			return (int)i;
		}
	}
	if (u->disk_count == IOE_ENGINE_DISKS_MAX)
		return -ENOSPC;
	u->disks[u->disk_count] = (struct uring_disk){.fd = fd, .sector_size = sector_size};
	return (int)u->disk_count++;
}

static void uring_disk_remove(struct ioe *e, uint32_t disk_index)
{
	struct uring_engine *u = uring_of(e);

	DL_ASSERT(disk_index < u->disk_count && u->disks[disk_index].fd >= 0);
	for (uint32_t i = 0; i < u->queue_depth; i++)
		DL_ASSERT(u->slots[i].state != URING_SLOT_BUSY || u->slots[i].w_disk != disk_index);
	u->disks[disk_index].fd = -1;
}

static void uring_check_req(const struct uring_engine *u, const struct ioe_req *req)
{
	const struct uring_disk *disk;

	DL_ASSERT(req->disk_index < u->disk_count);
	disk = &u->disks[req->disk_index];
	DL_ASSERT(disk->fd >= 0);
	DL_ASSERT(req->op == IOE_READ || req->op == IOE_WRITE);
	DL_ASSERT(req->len > 0);
	DL_ASSERT(req->buf != NULL);
	DL_ASSERT(req->offset % disk->sector_size == 0);
	DL_ASSERT(req->len % disk->sector_size == 0);
}

static void uring_unreserve(struct uring_engine *u, uint32_t chain_head)
{
	uint32_t index = chain_head, next;

	for (uint32_t i = 0; index != URING_SLOT_NONE && i < u->queue_depth; i++, index = next) {
		next = u->slots[index].next;
		uring_slot_put(u, index);
	}
}

/* Reserve one slot and bounce buffer per request, chained in request order. */
static int uring_reserve(struct uring_engine *u, struct ioe_batch *batch, uint32_t *chain_head)
{
	uint32_t tail = URING_SLOT_NONE;

	*chain_head = URING_SLOT_NONE;
	for (uint32_t i = 0; i < batch->req_count; i++) {
		struct ioe_req *req = &batch->reqs[i];
		uint32_t index;

		uring_check_req(u, req);
		index = uring_slot_get(u);
		u->slots[index].next = URING_SLOT_NONE;
		if (tail == URING_SLOT_NONE)
			*chain_head = index;
		else
			u->slots[tail].next = index;
		tail = index;
		if (uring_slot_reserve_buf(&u->slots[index], req->len) < 0) {
			uring_unreserve(u, *chain_head);
			return -ENOMEM;
		}
		u->slots[index].req = req;
		u->slots[index].batch = batch;
		u->slots[index].w_disk = req->disk_index;
		u->slots[index].w_offset = req->offset;
		u->slots[index].w_len = req->len;
		u->slots[index].w_write = req->op == IOE_WRITE;
	}
	return 0;
}

static void uring_prep(struct uring_engine *u, uint32_t index)
{
	struct uring_slot *s = &u->slots[index];
	struct ioe_req *req = s->req;
	int fd = u->disks[req->disk_index].fd;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	/* In-flight requests never exceed queue_depth == SQ entries, so the SQ has room. */
	DL_ASSERT(sqe != NULL);
	if (req->op == IOE_READ) {
		io_uring_prep_read(sqe, fd, s->buf, req->len, req->offset);
	} else {
		memcpy(s->buf, req->buf, req->len);
		io_uring_prep_write(sqe, fd, s->buf, req->len, req->offset);
		sqe->rw_flags = RWF_DSYNC;
	}
	io_uring_sqe_set_data64(sqe, index);
	req->result = 0;
}

static int uring_submit(struct ioe *e, struct ioe_batch *batch)
{
	struct uring_engine *u = uring_of(e);
	uint32_t chain_head, index, next;
	int rc;

	if (batch->req_count > u->free_count)
		return -EBUSY;
	rc = uring_reserve(u, batch, &chain_head);
	if (rc < 0)
		return rc;
	index = chain_head;
	for (uint32_t i = 0; i < batch->req_count; i++, index = next) {
		next = u->slots[index].next;
		uring_prep(u, index);
	}
	batch->pending = batch->req_count;
	batch->finished = false;
	batch->next_active = u->active;
	u->active = batch;
	u->active_count++;
	if (!u->defer_submit)
		uring_flush_sq(u);
	return 0;
}

static void uring_flush(struct ioe *e)
{
	uring_flush_sq(uring_of(e));
}

static void uring_eventfd_drain(struct uring_engine *u)
{
	uint64_t count;
	ssize_t n;

	if (u->event_fd < 0)
		return;
	n = read(u->event_fd, &count, sizeof(count)); /* non-blocking; -EAGAIN when clear */
	(void)n;
}

/* Sleep in the kernel until a CQE arrives or until target_ns on the engine's clock. */
static int uring_wait(struct uring_engine *u, uint64_t target_ns)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	uint64_t now_ns = clock_now_ns(u->base.clk), rel_ns;
	int rc;

	if (target_ns <= now_ns)
		return 0;
	rel_ns = target_ns - now_ns;
	ts.tv_sec = (long long)(rel_ns / DL_NS_PER_SEC);
	ts.tv_nsec = (long long)(rel_ns % DL_NS_PER_SEC);
	rc = io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
	if (rc == -ETIME || rc == -EINTR)
		return 0;
	return rc < 0 ? rc : 0;
}

static int uring_poll(struct ioe *e, uint64_t wait_until_ns)
{
	struct uring_engine *u = uring_of(e);
	int rc = 0, finished;

	uring_eventfd_drain(u);
	uring_flush_sq(u);
	uring_reap(u);
	uring_expire(u, clock_now_ns(e->clk));
	if (!u->done_head && wait_until_ns > 0) {
		rc = uring_wait(u, uring_earliest_deadline(u, wait_until_ns));
		uring_reap(u);
		uring_expire(u, clock_now_ns(e->clk));
	}
	finished = uring_drain_done(u);
	return finished > 0 || rc == 0 ? finished : rc;
}

static int uring_event_fd(struct ioe *e)
{
	struct uring_engine *u = uring_of(e);
	int fd, rc;

	if (u->event_fd >= 0)
		return u->event_fd;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		dl_warn("ioe uring: eventfd: %s", strerror(errno));
		return -1;
	}
	rc = io_uring_register_eventfd(&u->ring, fd);
	if (rc < 0) {
		dl_warn("ioe uring: io_uring_register_eventfd: %s", strerror(-rc));
		close(fd);
		return -1;
	}
	u->event_fd = fd;
	return fd;
}

/* Report -ECANCELED for everything in flight, then ask the kernel to cancel and wait a while. */
static void uring_cancel_all(struct uring_engine *u)
{
	struct io_uring_sqe *sqe;
	uint32_t count = u->active_count;

	for (uint32_t i = 0; u->active && i < count; i++) {
		struct ioe_batch *batch = u->active;

		uring_orphan_batch(u, batch, -ECANCELED);
		uring_finish(u, batch);
	}
	uring_drain_done(u);
	if (u->orphan_count == 0)
		return;
	sqe = io_uring_get_sqe(&u->ring);
	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe, URING_CANCEL_TAG);
	}
	uring_flush_sq(u);
	for (uint32_t wait = 0; u->orphan_count > 0 && wait < URING_EXIT_WAITS_MAX; wait++) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = URING_EXIT_WAIT_NS};

		io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
		uring_reap(u);
	}
}

static void uring_destroy(struct ioe *e)
{
	struct uring_engine *u = uring_of(e);

	uring_cancel_all(u);
	io_uring_queue_exit(&u->ring);
	if (u->event_fd >= 0)
		close(u->event_fd);
	if (u->orphan_count > 0)
		dl_warn("ioe uring: %u requests still held by the kernel at exit; leaking their buffers",
		        u->orphan_count);
	for (uint32_t i = 0; i < u->queue_depth; i++) {
		/*
		 * A request the kernel never completed (a hung device) may still DMA into
		 * its bounce buffer after the ring is gone; freeing that memory could let a
		 * later malloc() see it overwritten, so orphaned buffers are leaked.
		 */
		if (u->slots[i].state != URING_SLOT_ORPHAN)
			free(u->slots[i].buf);
	}
	free(u->slots);
	free(u);
}

static bool uring_write_pending(struct ioe *e, uint32_t disk, uint64_t offset, uint32_t len)
{
	struct uring_engine *u = (struct uring_engine *)e;

	for (uint32_t i = 0; u->orphan_count > 0 && i < u->queue_depth; i++) {
		const struct uring_slot *s = &u->slots[i];

		if (s->state == URING_SLOT_ORPHAN && s->w_write && s->w_disk == disk &&
		    s->w_offset < offset + len && offset < s->w_offset + s->w_len)
			return true;
	}
	return false;
}

static const struct ioe_ops uring_ops = {
        .name = "uring",
        .disk_add = uring_disk_add,
        .disk_remove = uring_disk_remove,
        .flush = uring_flush,
        .submit = uring_submit,
        .poll = uring_poll,
        .event_fd = uring_event_fd,
        .write_pending = uring_write_pending,
        .destroy = uring_destroy,
};

/* IORING_SETUP_SUBMIT_ALL (5.18+) keeps submitting past a bad SQE; older kernels reject it. */
static int uring_queue_init(struct io_uring *ring, uint32_t entries)
{
	int rc = io_uring_queue_init(entries, ring, IORING_SETUP_SUBMIT_ALL);

	if (rc == -EINVAL)
		rc = io_uring_queue_init(entries, ring, 0);
	return rc;
}

int ioe_uring_create(const struct ioe_config *cfg, struct ioe **out)
{
	uint32_t queue_depth = cfg->queue_depth ? cfg->queue_depth : IOE_QDEPTH_DEFAULT;
	struct uring_engine *u;
	int rc;

	if (queue_depth > URING_QDEPTH_MAX)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->slots = calloc(queue_depth, sizeof(*u->slots));
	if (!u->slots) {
		rc = -ENOMEM;
		goto out_free_engine;
	}
	rc = uring_queue_init(&u->ring, queue_depth);
	if (rc < 0)
		goto out_free_slots;
	u->base.ops = &uring_ops;
	u->base.clk = cfg->clk ? cfg->clk : clock_real();
	u->queue_depth = queue_depth;
	u->event_fd = -1;
	u->defer_submit = cfg->defer_submit;
	u->free_head = URING_SLOT_NONE;
	for (uint32_t i = queue_depth; i-- > 0;)
		uring_slot_put(u, i);
	*out = &u->base;
	return 0;

out_free_slots:
	free(u->slots);
out_free_engine:
	free(u);
	return rc;
}
