/* SPDX-License-Identifier: MIT */
/*
 * ioe_aio.c: the libaio engine, the fallback where io_uring cannot be set up.
 * Same contract as ioe_uring.c: one io context of queue_depth events, a disk
 * table of up to IOE_DISKS_MAX fds, a slot table of queue_depth requests with
 * engine-owned 4096-aligned bounce buffers (grown lazily), iocb->data = slot
 * index, one io_submit() per batch, writes with iocb->aio_rw_flags = RWF_DSYNC
 * (libaio 0.3.113 names the field aio_rw_flags; Linux 4.13+ honours it), and
 * the slot states FREE -> BUSY -> FREE, or BUSY -> ORPHAN (deadline passed,
 * -ETIMEDOUT reported, buffer still the kernel's) -> FREE when the event
 * finally arrives. Waiting is io_getevents(min_nr 1) with a relative timeout
 * up to min(wait_until_ns, earliest active deadline).
 *
 * Linux AIO is only asynchronous for O_DIRECT I/O on block devices and on
 * regular files of file systems with async direct I/O. Anything else runs
 * synchronously inside io_submit(). Measured on this kernel (6.18): a read
 * from an empty pipe blocks in io_submit() until a signal arrives (the event
 * then carries -EINTR), a buffered regular-file read completes inside
 * io_submit(), and with RWF_NOWAIT the pipe read completes at once with
 * -EAGAIN. A blocked io_submit() would stall the daemon past every deadline,
 * and RWF_NOWAIT would turn a slow device into spurious errors, so
 * aio_disk_add() refuses (-EINVAL) any fd that is not an O_DIRECT regular
 * file or block device. Even then io_submit() can block: an O_DIRECT write to
 * a file on a frozen file system waits in io_submit() (file_start_write) until
 * the thaw, whereas a block device (e.g. a loop device over that file) queues
 * the bio and returns. io_uring has no such hole: it punts to its workers.
 * The test for the deadline path therefore uses a loop device over a frozen
 * file system.
 */
#include "base/compat.h"
#include "io/ioe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libaio.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

#define AIO_QDEPTH_MAX      32768u
#define AIO_BUF_ALIGN       4096u
#define AIO_EXIT_WAIT_NS    (100 * DL_NS_PER_MS)
#define AIO_EXIT_WAITS_MAX  20u /* destroy waits at most 2 s for the kernel */
#define AIO_GETEVENTS_TRIES 4u
#define AIO_SLOT_NONE       UINT32_MAX

enum aio_slot_state {
	AIO_SLOT_FREE = 0,
	AIO_SLOT_BUSY = 1,
	AIO_SLOT_ORPHAN = 2,
};

struct aio_slot {
	struct iocb iocb;
	uint32_t w_disk; /* what the request was, kept while it is an orphan */
	uint32_t w_len;
	uint64_t w_offset;
	bool w_write;
	void *buf;         /* bounce buffer, AIO_BUF_ALIGN-aligned */
	uint32_t buf_size; /* bytes allocated at buf */
	uint32_t state;    /* enum aio_slot_state */
	uint32_t next;     /* free-list link when FREE */
	struct ioe_req *req;
	struct ioe_batch *batch;
};

struct aio_disk {
	int fd;
	uint32_t sector_size;
};

struct aio_engine {
	struct ioe base; /* first: struct ioe * converts to struct aio_engine * */
	io_context_t ctx;
	uint32_t queue_depth;
	struct aio_disk disks[IOE_ENGINE_DISKS_MAX]; /* fd -1: removed */
	uint32_t disk_count;
	struct aio_slot *slots;
	struct iocb **iocbs;     /* queue_depth: the batch being submitted */
	struct io_event *events; /* queue_depth: one io_getevents() harvest */
	uint32_t free_head;
	uint32_t free_count;
	uint32_t orphan_count;
	struct ioe_batch *active; /* submitted, not yet finished, linked by next_active */
	uint32_t active_count;
	struct ioe_batch *done_head; /* finished, done() not yet called (FIFO) */
	struct ioe_batch *done_tail;
	int event_fd;
};

static struct aio_engine *aio_of(struct ioe *e)
{
	return (struct aio_engine *)e;
}

static uint32_t aio_slot_get(struct aio_engine *a)
{
	uint32_t index = a->free_head;

	DL_ASSERT(index != AIO_SLOT_NONE);
	DL_ASSERT(a->slots[index].state == AIO_SLOT_FREE);
	a->free_head = a->slots[index].next;
	a->free_count--;
	a->slots[index].state = AIO_SLOT_BUSY;
	return index;
}

static void aio_slot_put(struct aio_engine *a, uint32_t index)
{
	struct aio_slot *s = &a->slots[index];

	s->state = AIO_SLOT_FREE;
	s->req = NULL;
	s->batch = NULL;
	s->next = a->free_head;
	a->free_head = index;
	a->free_count++;
}

static int aio_slot_reserve_buf(struct aio_slot *s, uint32_t len)
{
	uint32_t size = DL_ROUND_UP(len, AIO_BUF_ALIGN);
	void *buf;

	if (s->buf_size >= len)
		return 0;
	if (posix_memalign(&buf, AIO_BUF_ALIGN, size) != 0)
		return -ENOMEM;
	free(s->buf);
	s->buf = buf;
	s->buf_size = size;
	return 0;
}

/* Move a batch from the active list to the done FIFO; done() runs in aio_drain_done. */
static void aio_finish(struct aio_engine *a, struct ioe_batch *batch)
{
	struct ioe_batch **link = &a->active;

	for (uint32_t i = 0; *link && i < a->active_count; i++) {
		if (*link == batch)
			break;
		link = &(*link)->next_active;
	}
	DL_ASSERT(*link == batch);
	*link = batch->next_active;
	a->active_count--;
	batch->next_active = NULL;
	if (a->done_tail)
		a->done_tail->next_active = batch;
	else
		a->done_head = batch;
	a->done_tail = batch;
}

static int aio_drain_done(struct aio_engine *a)
{
	struct ioe_batch *batch;
	int finished = 0;

	/* Bounded by the batches queued so far: done() may submit, never finish, a batch. */
	while ((batch = a->done_head) != NULL) {
		a->done_head = batch->next_active;
		if (!a->done_head)
			a->done_tail = NULL;
		batch->next_active = NULL;
		batch->finished = true;
		finished++;
		if (batch->done)
			batch->done(batch, batch->ctx); /* may reuse or free the batch */
	}
	return finished;
}

static void aio_complete(struct aio_engine *a, uint32_t index, long res)
{
	struct aio_slot *s;
	struct ioe_req *req;
	struct ioe_batch *batch;

	DL_ASSERT(index < a->queue_depth);
	s = &a->slots[index];
	if (s->state == AIO_SLOT_ORPHAN) {
		/* Its batch reported -ETIMEDOUT long ago; only the buffer comes back. */
		a->orphan_count--;
		aio_slot_put(a, index);
		return;
	}
	DL_ASSERT(s->state == AIO_SLOT_BUSY);
	req = s->req;
	batch = s->batch;
	if (res >= 0 && (uint64_t)res != req->len)
		res = -EIO; /* short transfer: end of file or device */
	if (res >= 0 && req->op == IOE_READ)
		memcpy(req->buf, s->buf, req->len);
	req->result = (int)res;
	aio_slot_put(a, index);
	DL_ASSERT(batch->pending > 0);
	if (--batch->pending == 0)
		aio_finish(a, batch);
}

/* Harvest events; min_nr 0 returns at once, min_nr 1 sleeps up to ts. Returns count or -errno. */
static int aio_reap(struct aio_engine *a, long min_nr, struct timespec *ts)
{
	int n = 0;

	for (uint32_t attempt = 0; attempt < AIO_GETEVENTS_TRIES; attempt++) {
		n = io_getevents(a->ctx, min_nr, (long)a->queue_depth, a->events, ts);
		if (n != -EINTR)
			break;
	}
	if (n == -EINTR)
		return 0;
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		aio_complete(a, (uint32_t)(uintptr_t)a->events[i].data, (long)a->events[i].res);
	return n;
}

/* Every request of batch still in flight gets result; its slot stays reserved as an orphan. */
static void aio_orphan_batch(struct aio_engine *a, struct ioe_batch *batch, int result)
{
	for (uint32_t i = 0; i < a->queue_depth && batch->pending > 0; i++) {
		struct aio_slot *s = &a->slots[i];

		if (s->state != AIO_SLOT_BUSY || s->batch != batch)
			continue;
		s->req->result = result;
		s->state = AIO_SLOT_ORPHAN;
		s->req = NULL;
		s->batch = NULL;
		a->orphan_count++;
		batch->pending--;
	}
	DL_ASSERT(batch->pending == 0);
}

static void aio_expire(struct aio_engine *a, uint64_t now_ns)
{
	struct ioe_batch *batch = a->active, *next;
	uint32_t count = a->active_count;

	for (uint32_t i = 0; batch && i < count; i++, batch = next) {
		next = batch->next_active;
		if (batch->pending > 0 && batch->deadline_ns > now_ns)
			continue;
		aio_orphan_batch(a, batch, -ETIMEDOUT);
		aio_finish(a, batch);
	}
}

static uint64_t aio_earliest_deadline(const struct aio_engine *a, uint64_t limit_ns)
{
	const struct ioe_batch *batch = a->active;

	for (uint32_t i = 0; batch && i < a->active_count; i++, batch = batch->next_active)
		limit_ns = DL_MIN(limit_ns, batch->deadline_ns);
	return limit_ns;
}

/* Only fds on which Linux AIO is really asynchronous (see the top of this file). */
static int aio_fd_check(int fd)
{
	struct stat st;
	int flags;

	if (fd < 0 || fstat(fd, &st) != 0)
		return -EBADF;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -EBADF;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		dl_warn("ioe aio: fd %d is neither a regular file nor a block device", fd);
		return -EINVAL;
	}
	if (!(flags & O_DIRECT)) {
		dl_warn("ioe aio: fd %d is not open with O_DIRECT; io_submit would block", fd);
		return -EINVAL;
	}
	return 0;
}

/* A request the kernel may still hold (busy, or timed out and orphaned) names the disk. */
static bool aio_disk_referenced(const struct aio_engine *a, uint32_t disk_index)
{
	for (uint32_t i = 0; i < a->queue_depth; i++) {
		const struct aio_slot *s = &a->slots[i];

		if (s->state != AIO_SLOT_FREE && s->w_disk == disk_index)
			return true;
	}
	return false;
}

static int aio_disk_add(struct ioe *e, int fd, uint32_t sector_size)
{
	struct aio_engine *a = aio_of(e);
	int rc;

	DL_ASSERT(sector_size >= 512 && (sector_size & (sector_size - 1)) == 0);
	rc = aio_fd_check(fd);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < a->disk_count; i++) {
		if (a->disks[i].fd < 0 && !aio_disk_referenced(a, i)) {
			a->disks[i] = (struct aio_disk){.fd = fd, .sector_size = sector_size};
			return (int)i;
		}
	}
	if (a->disk_count == IOE_ENGINE_DISKS_MAX)
		return -ENOSPC;
	a->disks[a->disk_count] = (struct aio_disk){.fd = fd, .sector_size = sector_size};
	return (int)a->disk_count++;
}

static void aio_disk_remove(struct ioe *e, uint32_t disk_index)
{
	struct aio_engine *a = aio_of(e);

	DL_ASSERT(disk_index < a->disk_count && a->disks[disk_index].fd >= 0);
	for (uint32_t i = 0; i < a->queue_depth; i++)
		DL_ASSERT(a->slots[i].state != AIO_SLOT_BUSY || a->slots[i].w_disk != disk_index);
	a->disks[disk_index].fd = -1;
}

static void aio_check_req(const struct aio_engine *a, const struct ioe_req *req)
{
	const struct aio_disk *disk;

	DL_ASSERT(req->disk_index < a->disk_count);
	disk = &a->disks[req->disk_index];
	DL_ASSERT(disk->fd >= 0);
	DL_ASSERT(req->op == IOE_READ || req->op == IOE_WRITE);
	DL_ASSERT(req->len > 0);
	DL_ASSERT(req->buf != NULL);
	DL_ASSERT(req->offset % disk->sector_size == 0);
	DL_ASSERT(req->len % disk->sector_size == 0);
}

static uint32_t aio_iocb_index(const struct aio_engine *a, const struct iocb *iocb)
{
	/* iocb is the first member of struct aio_slot. */
	return (uint32_t)(((const char *)iocb - (const char *)a->slots) / sizeof(struct aio_slot));
}

/* Reserve a slot and bounce buffer per request into a->iocbs[0..req_count). */
static int aio_reserve(struct aio_engine *a, struct ioe_batch *batch)
{
	for (uint32_t i = 0; i < batch->req_count; i++) {
		struct ioe_req *req = &batch->reqs[i];
		uint32_t index;

		aio_check_req(a, req);
		index = aio_slot_get(a);
		a->iocbs[i] = &a->slots[index].iocb;
		if (aio_slot_reserve_buf(&a->slots[index], req->len) < 0) {
			for (uint32_t k = 0; k <= i; k++)
				aio_slot_put(a, aio_iocb_index(a, a->iocbs[k]));
			return -ENOMEM;
		}
		a->slots[index].req = req;
		a->slots[index].w_disk = req->disk_index;
		a->slots[index].w_offset = req->offset;
		a->slots[index].w_len = req->len;
		a->slots[index].w_write = req->op == IOE_WRITE;
		a->slots[index].batch = batch;
	}
	return 0;
}

static void aio_prep(struct aio_engine *a, struct iocb *iocb)
{
	uint32_t index = aio_iocb_index(a, iocb);
	struct aio_slot *s = &a->slots[index];
	struct ioe_req *req = s->req;
	int fd = a->disks[req->disk_index].fd;

	/* io_prep_* zero the iocb first, so data and the eventfd come after. */
	if (req->op == IOE_READ) {
		io_prep_pread(iocb, fd, s->buf, req->len, (long long)req->offset);
	} else {
		memcpy(s->buf, req->buf, req->len);
		io_prep_pwrite(iocb, fd, s->buf, req->len, (long long)req->offset);
		iocb->aio_rw_flags = RWF_DSYNC;
	}
	iocb->data = (void *)(uintptr_t)index;
	if (a->event_fd >= 0)
		io_set_eventfd(iocb, a->event_fd);
	req->result = 0;
}

/*
 * io_submit() takes a prefix of the array and stops at the first iocb it
 * refuses (returning the count taken, or -errno if it refused the first one,
 * e.g. -EBADF for a closed fd). The refused request alone gets that error and
 * submission resumes after it, so the loop advances at least once per call.
 */
static void aio_submit_iocbs(struct aio_engine *a, uint32_t count)
{
	uint32_t done = 0;

	for (uint32_t call = 0; done < count && call < count; call++) {
		int rc = io_submit(a->ctx, (long)(count - done), &a->iocbs[done]);

		if (rc > 0) {
			done += (uint32_t)rc;
			continue;
		}
		aio_complete(a, aio_iocb_index(a, a->iocbs[done]), rc < 0 ? rc : -EIO);
		done++;
	}
	DL_ASSERT(done == count);
}

static int aio_submit(struct ioe *e, struct ioe_batch *batch)
{
	struct aio_engine *a = aio_of(e);
	int rc;

	if (batch->req_count > a->free_count)
		return -EBUSY;
	rc = aio_reserve(a, batch);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < batch->req_count; i++)
		aio_prep(a, a->iocbs[i]);
	batch->pending = batch->req_count;
	batch->finished = false;
	batch->next_active = a->active;
	a->active = batch;
	a->active_count++;
	if (batch->req_count == 0)
		return 0;
	aio_submit_iocbs(a, batch->req_count);
	return 0;
}

static void aio_eventfd_drain(struct aio_engine *a)
{
	uint64_t count;
	ssize_t n;

	if (a->event_fd < 0)
		return;
	n = read(a->event_fd, &count, sizeof(count)); /* non-blocking; -EAGAIN when clear */
	(void)n;
}

/* Sleep in io_getevents until an event arrives or until target_ns on the engine's clock. */
static int aio_wait(struct aio_engine *a, uint64_t target_ns)
{
	uint64_t now_ns = clock_now_ns(a->base.clk), rel_ns;
	struct timespec ts;

	if (target_ns <= now_ns)
		return 0;
	rel_ns = target_ns - now_ns;
	ts.tv_sec = (time_t)(rel_ns / DL_NS_PER_SEC);
	ts.tv_nsec = (long)(rel_ns % DL_NS_PER_SEC);
	return aio_reap(a, 1, &ts);
}

static int aio_poll(struct ioe *e, uint64_t wait_until_ns)
{
	struct aio_engine *a = aio_of(e);
	struct timespec zero = {0, 0};
	int rc, finished;

	aio_eventfd_drain(a);
	rc = aio_reap(a, 0, &zero);
	aio_expire(a, clock_now_ns(e->clk));
	if (rc >= 0 && !a->done_head && wait_until_ns > 0) {
		rc = aio_wait(a, aio_earliest_deadline(a, wait_until_ns));
		aio_expire(a, clock_now_ns(e->clk));
	}
	finished = aio_drain_done(a);
	return finished > 0 || rc >= 0 ? finished : rc;
}

static int aio_event_fd(struct ioe *e)
{
	struct aio_engine *a = aio_of(e);
	int fd;

	if (a->event_fd >= 0)
		return a->event_fd;
	/* Requests already in flight do not signal it; every later one does (io_set_eventfd). */
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		dl_warn("ioe aio: eventfd: %s", strerror(errno));
		return -1;
	}
	a->event_fd = fd;
	return fd;
}

/* Report -ECANCELED for everything in flight, try io_cancel, and wait a while for the rest. */
static void aio_cancel_all(struct aio_engine *a)
{
	uint32_t count = a->active_count;

	for (uint32_t i = 0; a->active && i < count; i++) {
		struct ioe_batch *batch = a->active;

		aio_orphan_batch(a, batch, -ECANCELED);
		aio_finish(a, batch);
	}
	aio_drain_done(a);
	for (uint32_t i = 0; i < a->queue_depth && a->orphan_count > 0; i++) {
		struct io_event ev;

		/*
		 * Block and file I/O refuse (-EINVAL); a request that can be cancelled
		 * answers -EINPROGRESS and its event arrives through the ring below.
		 */
		if (a->slots[i].state == AIO_SLOT_ORPHAN)
			(void)io_cancel(a->ctx, &a->slots[i].iocb, &ev);
	}
	for (uint32_t wait = 0; a->orphan_count > 0 && wait < AIO_EXIT_WAITS_MAX; wait++) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = AIO_EXIT_WAIT_NS};

		aio_reap(a, 1, &ts);
	}
}

static void aio_destroy(struct ioe *e)
{
	struct aio_engine *a = aio_of(e);

	aio_cancel_all(a);
	/*
	 * io_destroy() blocks until every outstanding request completes. With requests
	 * still on a hung device that would hang the caller's shutdown, so the context
	 * and those buffers are leaked instead (the kernel may still DMA into them;
	 * freeing them could let a later malloc() see the memory overwritten).
	 */
	if (a->orphan_count == 0)
		io_destroy(a->ctx);
	else
		dl_warn("ioe aio: %u requests still held by the kernel at exit; leaking their buffers",
		        a->orphan_count);
	if (a->event_fd >= 0)
		close(a->event_fd);
	for (uint32_t i = 0; i < a->queue_depth; i++) {
		if (a->slots[i].state != AIO_SLOT_ORPHAN)
			free(a->slots[i].buf);
	}
	free(a->slots); /* the kernel copied each iocb at io_submit() */
	free(a->events);
	free(a->iocbs);
	free(a);
}

static bool aio_write_pending(struct ioe *e, uint32_t disk, uint64_t offset, uint32_t len)
{
	struct aio_engine *a = (struct aio_engine *)e;

	for (uint32_t i = 0; i < a->queue_depth; i++) {
		const struct aio_slot *s = &a->slots[i];

		if (s->state == AIO_SLOT_ORPHAN && s->w_write && s->w_disk == disk &&
		    s->w_offset < offset + len && offset < s->w_offset + s->w_len)
			return true;
	}
	return false;
}

static const struct ioe_ops aio_ops = {
        .name = "aio",
        .disk_add = aio_disk_add,
        .disk_remove = aio_disk_remove,
        .submit = aio_submit,
        .poll = aio_poll,
        .event_fd = aio_event_fd,
        .write_pending = aio_write_pending,
        .destroy = aio_destroy,
};

int ioe_aio_create(const struct ioe_config *cfg, struct ioe **out)
{
	uint32_t queue_depth = cfg->queue_depth ? cfg->queue_depth : IOE_QDEPTH_DEFAULT;
	struct aio_engine *a;
	int rc;

	if (queue_depth > AIO_QDEPTH_MAX)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->slots = calloc(queue_depth, sizeof(*a->slots));
	a->iocbs = calloc(queue_depth, sizeof(*a->iocbs));
	a->events = calloc(queue_depth, sizeof(*a->events));
	if (!a->slots || !a->iocbs || !a->events) {
		rc = -ENOMEM;
		goto out_free_tables;
	}
	rc = io_setup((int)queue_depth, &a->ctx); /* libaio returns -errno */
	if (rc < 0)
		goto out_free_tables;
	a->base.ops = &aio_ops;
	a->base.clk = cfg->clk ? cfg->clk : clock_real();
	a->queue_depth = queue_depth;
	a->event_fd = -1;
	a->free_head = AIO_SLOT_NONE;
	for (uint32_t i = queue_depth; i-- > 0;)
		aio_slot_put(a, i);
	*out = &a->base;
	return 0;

out_free_tables:
	free(a->events);
	free(a->iocbs);
	free(a->slots);
	free(a);
	return rc;
}
