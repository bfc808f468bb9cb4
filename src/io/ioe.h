/* SPDX-License-Identifier: MIT */
/*
 * ioe.h: sector I/O with deadlines, behind one small vtable.
 *
 * An engine ("ioe") owns a table of up to IOE_DISKS_MAX disks (file
 * descriptors opened by disk.c) and runs batches of sector reads and writes
 * on them. A batch carries one absolute deadline on the engine's clock; every
 * request of the batch gets its own result: the byte count, or -errno
 * (-EIO device error or short transfer, -ETIMEDOUT deadline passed,
 * -ECANCELED engine shutting down). A request past its deadline is reported
 * -ETIMEDOUT and the caller treats that disk as failed for that round.
 *
 * Memory rule: the engine copies through its own aligned bounce buffers, so a
 * caller's buffer is free again as soon as the batch is done, even if the
 * kernel still holds a timed-out request (its bounce buffer stays reserved
 * until the kernel completes it; a later ioe_poll reaps it).
 *
 * Writes are durable when acknowledged: engines issue them with RWF_DSYNC
 * (io_uring) or IOCB_FLAG... equivalent (libaio: RWF_DSYNC via aio_rw_flags).
 *
 * Engines: uring (liburing, default), aio (libaio, fallback), sim (in-memory,
 * for tests and the simulator). ioe_create(IOE_AUTO) picks uring, else aio,
 * honouring DLEASE_IO_ENGINE=uring|aio, and logs the choice and why.
 *
 * The engine holds no thread and no timer; it never reads the clock except
 * through the struct clock it was given.
 */
#ifndef DL_IOE_H
#define DL_IOE_H

#include "base/compat.h"
#include "base/clock.h"

#define IOE_DISKS_MAX        5  /* disks of one lockspace */
#define IOE_ENGINE_DISKS_MAX 64 /* disks one engine holds at once (several lockspaces) */
#define IOE_QDEPTH_DEFAULT   4096u

enum ioe_kind {
	IOE_AUTO = 0,
	IOE_URING = 1,
	IOE_AIO = 2,
	IOE_SIM = 3,
};

enum ioe_op {
	IOE_READ = 1,
	IOE_WRITE = 2,
};

struct ioe_req {
	uint32_t disk_index; /* index returned by ioe_disk_add() */
	uint32_t op;         /* enum ioe_op */
	uint64_t offset;     /* bytes; multiple of the disk's sector size */
	uint32_t len;        /* bytes; multiple of the sector size, > 0 */
	void *buf;           /* caller memory of len bytes, any alignment */
	int result;          /* out: len, or -errno (-EIO, -ETIMEDOUT, -ECANCELED, -EBADF) */
};

struct ioe_batch;
typedef void (*ioe_done_fn)(struct ioe_batch *batch, void *ctx);

struct ioe_batch {
	struct ioe_req *reqs;
	uint32_t req_count;
	uint64_t deadline_ns; /* absolute, on the engine's clock */
	ioe_done_fn done;     /* optional; called once every request has a result */
	void *ctx;
	/* engine-owned below */
	uint32_t pending;
	bool finished;
	struct ioe_batch *next_active;
};

struct ioe_config {
	enum ioe_kind kind;
	uint32_t queue_depth;    /* in-flight requests max (0: IOE_QDEPTH_DEFAULT) */
	const struct clock *clk; /* NULL: clock_real() */
	/* uring: ioe_submit() only queues; ioe_flush() or ioe_poll() sends everything queued in
	 * one io_uring_enter, so the rounds of several lockspaces go out as one batch */
	bool defer_submit;
};

struct ioe;

struct ioe_ops {
	const char *name;
	int (*disk_add)(struct ioe *e, int fd, uint32_t sector_size);
	void (*disk_remove)(struct ioe *e, uint32_t disk_index); /* NULL: not supported */
	void (*flush)(struct ioe *e);                            /* NULL: nothing deferred */
	int (*submit)(struct ioe *e, struct ioe_batch *batch);
	int (*poll)(struct ioe *e, uint64_t wait_until_ns);
	int (*event_fd)(struct ioe *e);
	bool (*write_pending)(struct ioe *e, uint32_t disk_index, uint64_t offset, uint32_t len);
	void (*destroy)(struct ioe *e);
};

struct ioe {
	const struct ioe_ops *ops;
	const struct clock *clk;
	char why[160]; /* how this engine was chosen, for logs and dlctl */
};

/* Create an engine. Returns 0 or -errno (-ENOSYS when the kind cannot run here). */
int ioe_create(const struct ioe_config *cfg, struct ioe **out);
/* Cancel what can be cancelled, wait for the kernel to return every buffer, free. */
void ioe_destroy(struct ioe *e);
/* "uring", "aio" or "sim". */
const char *ioe_name(const struct ioe *e);
/* Why this engine was chosen (e.g. "io_uring setup failed: Operation not permitted"). */
const char *ioe_why(const struct ioe *e);

/* Parse "uring"/"aio"/"sim"/"auto". Returns 0 or -EINVAL. */
int ioe_kind_parse(const char *s, enum ioe_kind *out);

/* Register an open fd; returns its disk index (>= 0) or -errno (-ENOSPC table full). */
int ioe_disk_add(struct ioe *e, int fd, uint32_t sector_size);

/* Forget a disk (no batch of it may be in flight; its fd is closed by the caller after).
 * Its index is reused only once no request the kernel still holds refers to it. */
void ioe_disk_remove(struct ioe *e, uint32_t disk_index);
/* Send what defer_submit queued (no-op otherwise). */
void ioe_flush(struct ioe *e);

/* Queue a batch. Returns 0 (every request will get a result) or -errno (nothing queued). */
int ioe_submit(struct ioe *e, struct ioe_batch *batch);
/* Reap completions and expire deadlines, waiting at most until wait_until_ns (0: don't wait).
 * Calls each finished batch's done(). Returns the number of batches finished, or -errno. */
int ioe_poll(struct ioe *e, uint64_t wait_until_ns);
/* Submit and wait until the batch is finished. Returns 0 or -errno from ioe_submit. */
int ioe_run(struct ioe *e, struct ioe_batch *batch);
/* Is an earlier write overlapping [offset, offset + len) of disk_index still in the kernel's
 * hands after its batch timed out? The protocol never sends a second write to a sector
 * while one is: an old write landing after a newer one would roll the sector back. */
bool ioe_write_pending(struct ioe *e, uint32_t disk_index, uint64_t offset, uint32_t len);
/* An fd that becomes readable when completions are waiting (-1 if the engine has none). */
int ioe_event_fd(struct ioe *e);

/* Engine constructors (ioe_create dispatches to these). */
int ioe_uring_create(const struct ioe_config *cfg, struct ioe **out);
int ioe_aio_create(const struct ioe_config *cfg, struct ioe **out);
int ioe_sim_create(const struct ioe_config *cfg, struct ioe **out);

#endif /* DL_IOE_H */
