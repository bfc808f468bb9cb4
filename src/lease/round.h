/* SPDX-License-Identifier: MIT */
/*
 * round.h: one protocol round: a batch of sector reads and writes sent to
 * every disk of a lockspace at once, under one deadline (io_timeout), whose
 * outcome is judged per disk. A disk "answered" the round when every request
 * sent to it succeeded in time; the protocol counts answering disks against
 * the majority. A round never blocks: it is submitted, then the owner asks
 * round_finished() whenever the engine has made progress.
 *
 * Invariant: at most one write per (disk, sector) is ever outstanding from
 * this host: one round per owner in flight (round_add/submit assert !busy),
 * and a write whose sector still has an older write in the kernel's hands
 * (its round timed out) is held back; that disk does not answer the round.
 */
#ifndef DL_ROUND_H
#define DL_ROUND_H

#include "base/compat.h"
#include "io/ioe.h"
#include "lease/space.h"

#define ROUND_REQS_PER_DISK 4u
#define ROUND_REQS_MAX      (IOE_DISKS_MAX * ROUND_REQS_PER_DISK)

struct round {
	struct ioe *ioe;
	const struct space *space;
	struct ioe_req reqs[ROUND_REQS_MAX];
	uint8_t req_disk[ROUND_REQS_MAX];
	uint32_t req_count;
	bool skipped[IOE_DISKS_MAX]; /* a write held back: an older one may still land there */
	struct ioe_batch batch;
	bool busy;          /* submitted, not finished */
	uint64_t submit_ns; /* protocol clock at submission */
};

void round_init(struct round *r, struct ioe *ioe, const struct space *space);
/* Start composing a new round (the previous one must be finished). */
void round_reset(struct round *r);
/* Queue one request for disks[disk] of the space; skipped for disks not in use. */
void round_add(struct round *r, uint32_t disk, enum ioe_op op, uint64_t offset, void *buf,
               uint32_t len);
/* Send the round. now_ns is the protocol clock (recorded as submit_ns); the
 * deadline is io_timeout_ns after now on the engine's clock. Returns 0 or -errno. */
int round_submit(struct round *r, uint64_t now_ns, uint64_t io_timeout_ns);
/* True once every request has a result (polls nothing itself). */
bool round_finished(struct round *r);
/* disks[disk] answered: it was in use and every request sent to it succeeded. */
bool round_disk_ok(const struct round *r, uint32_t disk);
uint32_t round_ok_count(const struct round *r);

#endif /* DL_ROUND_H */
