/* SPDX-License-Identifier: MIT */
/*
 * space.h: a lockspace as a set of 1..5 disks. Opens the disks, finds and
 * agrees on the lockspace header (disks may be given in any order and some
 * may be missing or damaged), formats new lockspaces, and reads runs of
 * sectors from every disk in one batch. It knows the layout and the record
 * codecs but no protocol: who owns what is decided elsewhere.
 *
 * Agreement rule: a header counts when it is VALID on its disk; the
 * lockspace is the uuid held by a majority of the disks that answered, and
 * a disk whose header disagrees with that majority in any field other than
 * its own disk index is reported, never used.
 */
#ifndef DL_SPACE_H
#define DL_SPACE_H

#include "base/compat.h"
#include "io/dev.h"
#include "io/ioe.h"
#include "ondisk/layout.h"
#include "ondisk/ondisk.h"

#define SPACE_WHY_SIZE           512
#define SPACE_FORMAT_DEADLINE_MS 30000u

struct space_disk {
	const char *path;
	int open_rc;   /* 0 or -errno from ioe_dev_open */
	int ioe_index; /* engine disk index, -1 if not open */
	struct ioe_dev dev;
	enum ondisk_state header_state; /* of sector 0, at the sector size tried last */
	struct ondisk_lockspace header; /* when header_state == VALID */
	bool agrees;                    /* VALID and matches the agreed header */
};

struct space {
	struct ioe *ioe;
	uint32_t path_count;
	struct space_disk disks[IOE_DISKS_MAX];
	bool have_header;
	struct ondisk_lockspace header; /* the agreed header (disk_index of its first holder) */
	struct layout layout;
	uint32_t agree_count;
	char why[SPACE_WHY_SIZE]; /* the last error, one line naming the disk and the problem */
};

struct space_format_opts {
	const char *name;
	uint32_t max_hosts;
	uint32_t max_resources; /* 0: as many as fit the smallest disk */
	uint32_t io_timeout_ms;
	uint32_t sector_size; /* 0: from the devices */
	bool force;
};

/* Open every path (O_DIRECT). A disk that fails to open is recorded, not fatal.
 * Returns 0, -EINVAL (no paths, more than IOE_DISKS_MAX, a path given twice). */
int space_open(struct space *s, struct ioe *ioe, const char *const *paths, uint32_t path_count,
               bool writable);
void space_close(struct space *s);

/* Use disks already attached to the engine (the simulator's in-memory disks): disk i is
 * engine index ioe_indexes[i], of size_bytes[i], named names[i]. Returns 0 or -EINVAL. */
int space_open_attached(struct space *s, struct ioe *ioe, const int *ioe_indexes,
                        const uint64_t *size_bytes, uint32_t sector_size, const char *const *names,
                        uint32_t count);

/* Read and classify every disk's header and agree on one. Returns 0, -EUCLEAN (no
 * valid header on any disk), -ENODEV (nothing readable), -ESTALE (disks disagree). */
int space_load(struct space *s);

/* Format the opened disks as a new lockspace. Returns 0 or -errno, s->why says why:
 * -EEXIST already formatted / holds data (without force), -ENOSPC a disk too small,
 * -EINVAL bad geometry or sector size. */
int space_format(struct space *s, const struct space_format_opts *o);

/* Read count sectors at offset from every agreeing disk in one batch. bufs[i] gets
 * count*S bytes for disks[i]; results[i] is 0, -errno, or -ENODEV for a disk not in use. */
int space_read_all(struct space *s, uint64_t offset, uint32_t count, uint8_t *const *bufs,
                   int *results, uint64_t deadline_ns);

/* The expectation for a record of kind at offset on disks[i]. */
void space_expect(const struct space *s, uint32_t disk, enum ondisk_kind kind, uint64_t offset,
                  struct ondisk_expect *ex);

/* Majority of the lockspace's disk count. */
uint32_t space_majority(const struct space *s);

#endif /* DL_SPACE_H */
