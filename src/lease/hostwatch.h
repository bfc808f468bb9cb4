/* SPDX-License-Identifier: MIT */
/*
 * hostwatch.h: what one host concludes about another host's liveness from
 * successive reads of its slot. Pure: it is fed read results with their
 * times and never does I/O or reads a clock.
 *
 * The rule (docs/design.md, "host dead"): the watched slot's freshest record
 * (highest generation, then sequence) among the disks that answered is
 * compared across reads. A change restarts the clock at the completion time
 * of the read that saw it. The host is DEAD once a read that a majority of
 * disks answered, submitted at least host_dead_ns after that restart, still
 * shows the same record. FREE: the slot is empty or its owner left cleanly.
 */
#ifndef DL_HOSTWATCH_H
#define DL_HOSTWATCH_H

#include "base/compat.h"
#include "lease/timing.h"
#include "ondisk/ondisk.h"

enum hostwatch_verdict {
	HOSTWATCH_UNKNOWN = 0, /* no majority read yet */
	HOSTWATCH_LIVE,        /* changed within host_dead_ns, or not watched long enough */
	HOSTWATCH_DEAD,        /* unchanged for host_dead_ns on a majority */
	HOSTWATCH_FREE,        /* empty slot or left cleanly */
};

struct hostwatch {
	bool have;           /* a record (or emptiness) has been seen */
	bool empty;          /* the freshest view was an empty slot */
	uint64_t generation; /* of the freshest record */
	uint64_t seq;
	uint32_t state;       /* enum ondisk_host_state of the freshest record */
	uint64_t fingerprint; /* no valid record: a digest of the damaged copies */
	uint64_t since_ns;    /* completion of the first read that saw this value */
	uint32_t changes;     /* values seen after the first: > 0 proves the host was live */
	enum hostwatch_verdict verdict;
};

void hostwatch_reset(struct hostwatch *w);

/* Feed one read of the slot. majority: a majority of disks answered (valid, empty or
 * damaged). freshest: the freshest valid record among them, NULL if none. damage: a digest
 * of the damaged copies (0 if none): a slot damaged on a majority is judged by whether its
 * bytes change, so a torn slot nobody rewrites ends up dead instead of wedging forever.
 * Returns the new verdict. */
enum hostwatch_verdict hostwatch_update(struct hostwatch *w, const struct timing *tm, bool majority,
                                        const struct ondisk_host *freshest, uint64_t damage,
                                        uint64_t read_submit_ns, uint64_t read_done_ns);

const char *hostwatch_verdict_name(enum hostwatch_verdict v);

#endif /* DL_HOSTWATCH_H */
