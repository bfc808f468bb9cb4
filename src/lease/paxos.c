/* SPDX-License-Identifier: MIT */
/* paxos.c: the pure Disk Paxos phase judgement of paxos.h. */
#include "base/compat.h"
#include "paxos.h"

#include <string.h>

#include "base/check.h"
#include "banned.h"

uint64_t paxos_next_mbal(uint64_t max_seen, uint32_t self)
{
	uint64_t k = max_seen / PAXOS_MBAL_STRIDE + 1;

	DL_ASSERT(self >= 1 && self < PAXOS_MBAL_STRIDE);
	return k * PAXOS_MBAL_STRIDE + self;
}

struct block_count {
	uint32_t answered; /* valid or empty (or stale instance) */
	uint32_t damaged;
};

/* Count q's block over the disks and fold its content into the result. */
static enum paxos_verdict paxos_judge_host(const struct paxos_view *v, uint64_t lver, uint32_t self,
                                           uint64_t mbal, uint32_t q, struct block_count *c,
                                           struct paxos_result *out)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t d = 0; d < v->disk_count; d++) {
		size_t k = (size_t)d * v->bound + (q - 1);
		const struct ondisk_ballot *b = &v->blocks[k];

		if (!v->disk_ok[d])
			continue;
		if (v->state[k] == ONDISK_EMPTY) {
			c->answered++;
			continue;
		}
		if (v->state[k] != ONDISK_VALID) {
			c->damaged++;
			continue;
		}
		c->answered++;
		if (b->lver < lver || b->mbal == 0)
			continue; /* an earlier instance, or a waiting intent: empty for this one */
		if (b->lver > lver)
			return PAXOS_LVER_MOVED;
		out->max_mbal = DL_MAX(out->max_mbal, b->mbal);
		if (q != self && b->mbal > mbal)
			return PAXOS_MBAL_HIGHER;
		if (b->bal > 0 && (!out->have_value || b->bal > out->value_bal)) {
			out->have_value = true;
			out->value_bal = b->bal;
			out->value.owner_host_id = b->inp_owner_host_id;
			out->value.owner_generation = b->inp_owner_generation;
		}
	}
	return PAXOS_OK;
}

/* The owner's own block of instance lver carries RELEASED (it let go of what lver gave it). */
static bool paxos_owner_released(const struct paxos_view *v, uint64_t lver,
                                 const struct paxos_value *value)
{
	uint64_t q = value->owner_host_id;

	if (q < 1 || q > v->bound)
		return false;
	for (uint32_t d = 0; d < v->disk_count; d++) {
		size_t k = (size_t)d * v->bound + (q - 1);
		const struct ondisk_ballot *b = &v->blocks[k];

		if (v->disk_ok[d] && v->state[k] == ONDISK_VALID && b->lver == lver &&
		    b->hdr.writer_generation == value->owner_generation &&
		    (b->hdr.flags & ONDISK_BALLOT_RELEASED))
			return true;
	}
	return false;
}

bool paxos_damage_is_lasting(uint32_t disk_count, uint32_t majority, uint32_t damaged_count)
{
	DL_ASSERT(majority >= 1 && majority <= disk_count);
	DL_ASSERT(damaged_count <= disk_count);
	return disk_count - damaged_count < majority;
}

void paxos_judge(const struct paxos_view *v, uint64_t lver, uint32_t self, uint64_t mbal,
                 struct paxos_result *out)
{
	uint32_t answered_disks = 0, majority = v->majority;

	DL_ASSERT(self >= 1 && self <= v->bound);
	DL_ASSERT(v->majority >= 1 && v->majority <= v->disk_count);
	DL_ASSERT(mbal % PAXOS_MBAL_STRIDE == self);
	memset(out, 0, sizeof(*out));
	for (uint32_t d = 0; d < v->disk_count; d++)
		answered_disks += v->disk_ok[d];
	if (answered_disks < majority) {
		out->verdict = PAXOS_NO_QUORUM;
		return;
	}
	for (uint32_t q = 1; q <= v->bound; q++) {
		struct block_count c;
		enum paxos_verdict r = paxos_judge_host(v, lver, self, mbal, q, &c, out);

		if (r != PAXOS_OK) {
			out->verdict = r;
			out->blocker = q;
			return;
		}
		if (c.answered >= majority || q == self)
			continue; /* our own block: we know what we wrote; read only for its mbal */
		/* Short of a majority although a majority of disks answered: some copies are
		 * damaged. They are not empty, not even when q is dead (no recovery rule: a
		 * damaged copy may be the only record of a chosen value; docs/design.md 4). */
		DL_ASSERT(c.damaged > 0);
		out->verdict = PAXOS_DAMAGED;
		out->blocker = q;
		out->damaged_count = c.damaged;
		return;
	}
	out->verdict = PAXOS_OK;
	out->value_released = out->have_value && paxos_owner_released(v, lver, &out->value);
}

const char *paxos_verdict_name(enum paxos_verdict v)
{
	switch (v) {
	case PAXOS_OK:
		return "ok";
	case PAXOS_NO_QUORUM:
		return "no quorum";
	case PAXOS_MBAL_HIGHER:
		return "higher ballot";
	case PAXOS_LVER_MOVED:
		return "lease moved on";
	default:
		return "damaged ballot";
	}
}
