/* SPDX-License-Identifier: MIT */
/* round.c: composing, sending and judging one batch across the disks of a lockspace. */
#include "base/compat.h"
#include "round.h"

#include <errno.h>
#include <string.h>

#include "base/check.h"
#include "base/clock.h"
#include "banned.h"

void round_init(struct round *r, struct ioe *ioe, const struct space *space)
{
	memset(r, 0, sizeof(*r));
	r->ioe = ioe;
	r->space = space;
}

void round_reset(struct round *r)
{
	DL_ASSERT(!r->busy);
	r->req_count = 0;
	memset(r->skipped, 0, sizeof(r->skipped));
	memset(&r->batch, 0, sizeof(r->batch));
}

static bool round_disk_usable(const struct round *r, uint32_t disk)
{
	const struct space_disk *d = &r->space->disks[disk];

	return d->agrees && d->ioe_index >= 0;
}

void round_add(struct round *r, uint32_t disk, enum ioe_op op, uint64_t offset, void *buf,
               uint32_t len)
{
	DL_ASSERT(!r->busy);
	DL_ASSERT(disk < r->space->path_count);
	DL_ASSERT(r->req_count < ROUND_REQS_MAX);
	DL_ASSERT(len > 0 && len % r->space->header.sector_size == 0);
	DL_ASSERT(offset % r->space->header.sector_size == 0);
	if (!round_disk_usable(r, disk))
		return;
	if (op == IOE_WRITE &&
	    ioe_write_pending(r->ioe, (uint32_t)r->space->disks[disk].ioe_index, offset, len)) {
		r->skipped[disk] = true;
		return;
	}
	r->reqs[r->req_count] = (struct ioe_req){
	        .disk_index = (uint32_t)r->space->disks[disk].ioe_index,
	        .op = op,
	        .offset = offset,
	        .len = len,
	        .buf = buf,
	};
	r->req_disk[r->req_count] = (uint8_t)disk;
	r->req_count++;
}

int round_submit(struct round *r, uint64_t now_ns, uint64_t io_timeout_ns)
{
	int rc;

	DL_ASSERT(!r->busy);
	r->submit_ns = now_ns;
	if (r->req_count == 0) {
		r->batch.finished = true; /* no disk usable: a round nobody answered */
		return 0;
	}
	r->batch.reqs = r->reqs;
	r->batch.req_count = r->req_count;
	r->batch.deadline_ns = clock_now_ns(r->ioe->clk) + io_timeout_ns;
	rc = ioe_submit(r->ioe, &r->batch);
	if (rc < 0)
		return rc;
	r->busy = true;
	return 0;
}

bool round_finished(struct round *r)
{
	if (r->busy && r->batch.finished)
		r->busy = false;
	return !r->busy && r->batch.finished;
}

bool round_disk_ok(const struct round *r, uint32_t disk)
{
	bool any = false;

	DL_ASSERT(!r->busy);
	if (r->skipped[disk])
		return false;
	for (uint32_t k = 0; k < r->req_count; k++) {
		if (r->req_disk[k] != disk)
			continue;
		if (r->reqs[k].result != (int)r->reqs[k].len)
			return false;
		any = true;
	}
	return any;
}

uint32_t round_ok_count(const struct round *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->space->path_count; i++)
		n += round_disk_ok(r, i);
	return n;
}
