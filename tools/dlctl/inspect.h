/* SPDX-License-Identifier: MIT */
/*
 * inspect.h: walks every slot of a lockspace on all its disks, read-only,
 * and hands each slot to a visitor with its state on every disk and the
 * freshest valid copy. dump prints what it is given; verify judges it.
 *
 * A slot's overall state: damage on any in-use disk wins (bad_checksum,
 * bad_magic, foreign, wrong_disk, misplaced, unreadable in that order);
 * otherwise "valid" if any disk holds a valid copy, else "empty". Disks
 * that are missing or belong elsewhere are reported once, per disk, and are
 * not counted against every slot.
 */
#ifndef DLCTL_INSPECT_H
#define DLCTL_INSPECT_H

#include "base/compat.h"
#include "lease/space.h"
#include "ondisk/ondisk.h"

struct slot_view {
	enum ondisk_state state;
	enum ondisk_state per_disk[IOE_DISKS_MAX];
	int best_disk; /* disk whose valid copy is shown; -1 if none */
	uint64_t lba;
};

struct ballot_view {
	uint32_t host_id;
	struct slot_view v;
	struct ondisk_ballot rec;
};

struct resource_view {
	uint32_t index;   /* LAYOUT_DIRECTORY for the directory lease */
	const char *name; /* from the directory ("" if unnamed) */
	struct slot_view leader_v;
	struct ondisk_leader leader;
	struct slot_view request_v;
	struct ondisk_request request;
	uint32_t ballot_count; /* non-empty ballots only */
	struct ballot_view *ballots;
};

struct inspect_ops {
	void (*host)(void *ctx, uint32_t host_id, const struct slot_view *v,
	             const struct ondisk_host *rec, const struct slot_view *mv,
	             const struct ondisk_mailbox *mailbox);
	void (*dir_sector)(void *ctx, uint32_t dir_sector, const struct slot_view *v);
	void (*resource)(void *ctx, const struct resource_view *r);
	/* Optional: read lease area index (name from the directory) only if this says so. */
	bool (*want_area)(void *ctx, uint32_t index, const char *name);
};

/* Visit every host slot, directory sector and lease area. Returns 0 or -errno. */
int inspect_run(struct space *s, const struct inspect_ops *ops, void *ctx);

bool inspect_state_is_damage(enum ondisk_state st);

#endif /* DLCTL_INSPECT_H */
