/* SPDX-License-Identifier: MIT */
/*
 * paxos.h: the decision rules of Disk Paxos (Gafni & Lamport, 2003) for one
 * lease instance, as pure functions over the blocks a round has read. No
 * I/O, no clock: resource.c sends the rounds and asks these functions what
 * the blocks mean.
 *
 * One instance per lease version: the instance t = lver decides the owner
 * (host id, generation) that holds the lease with fencing token t. Host p's
 * block holds (lver, mbal, bal, inp). For target instance t, a block with
 * lver < t is an empty block of t; a block with lver > t means the lease has
 * moved on (abort, re-read).
 *
 * A phase (paper §4, "Phase 1: choosing a value", "Phase 2: committing it")
 * writes p's own block to every disk, then reads every block from every disk.
 * It succeeds when, for every host q in 1..bound, q's block was read (valid
 * or empty) on a majority of the lockspace's disks, and no block of another
 * host carries a larger mbal.
 *
 * Damaged blocks (checksum, identity) are never "empty", whoever wrote them
 * and whether or not that host is live: a damaged copy may be the only record
 * of a higher ballot or of a chosen value. There is no recovery rule any more
 * (docs/design.md section 4; tests/model/README.md, findings 1, 2 and 2b: a
 * dead host's damaged block counted as empty grants a token twice). A block
 * readable on too few disks blocks the phase (PAXOS_DAMAGED) until its writer
 * rewrites it from memory or an operator acts.
 */
#ifndef DL_PAXOS_H
#define DL_PAXOS_H

#include "base/compat.h"
#include "io/ioe.h"
#include "ondisk/ondisk.h"

#define PAXOS_MBAL_STRIDE 2048u /* mbal = k * stride + host id: unique per host */

_Static_assert(PAXOS_MBAL_STRIDE > 2000u, "stride exceeds every host id");

struct paxos_value {
	uint64_t owner_host_id;
	uint64_t owner_generation;
};

/* The blocks of hosts 1..bound as one round read them, per disk. */
struct paxos_view {
	uint32_t disk_count; /* disks of the lockspace */
	uint32_t majority;   /* how many of them decide (space_majority) */
	uint32_t bound;
	bool disk_ok[IOE_DISKS_MAX];
	enum ondisk_state *state;     /* [disk * bound + (q - 1)] */
	struct ondisk_ballot *blocks; /* same indexing; valid where state == VALID */
};

enum paxos_verdict {
	PAXOS_OK = 0,
	PAXOS_NO_QUORUM,   /* fewer than a majority of the disks answered: retry */
	PAXOS_MBAL_HIGHER, /* another host has joined a higher ballot: abort, retry higher */
	PAXOS_LVER_MOVED,  /* a block of a later instance: the lease moved on, re-read */
	PAXOS_DAMAGED,     /* blocker's block is readable on too few disks: damaged copies */
};

struct paxos_result {
	enum paxos_verdict verdict;
	bool have_value;          /* a block of instance t with bal > 0 was seen */
	struct paxos_value value; /* the inp of the block with the highest bal */
	uint64_t value_bal;
	uint64_t max_mbal;      /* highest mbal seen in instance t (for the next attempt) */
	bool value_released;    /* the value's owner marked its block of t RELEASED */
	uint32_t blocker;       /* the host behind MBAL_HIGHER / DAMAGED / LVER_MOVED */
	uint32_t damaged_count; /* DAMAGED: disks on which the blocker's copy is damaged */
};

/* Judge a phase read for instance lver by host self with ballot mbal. */
void paxos_judge(const struct paxos_view *v, uint64_t lver, uint32_t self, uint64_t mbal,
                 struct paxos_result *out);

/* A block damaged on damaged_count of disk_count disks can never be read on a majority,
 * even with every disk answering: only its writer (from memory) or an operator can mend
 * it, and waiting for disks to come back does not help. */
bool paxos_damage_is_lasting(uint32_t disk_count, uint32_t majority, uint32_t damaged_count);

/* The smallest ballot of host self above every mbal in max_seen. */
uint64_t paxos_next_mbal(uint64_t max_seen, uint32_t self);

const char *paxos_verdict_name(enum paxos_verdict v);

#endif /* DL_PAXOS_H */
