/* SPDX-License-Identifier: MIT */
/*
 * space.c: opening, agreeing on and formatting the disks of a lockspace.
 *
 * Format is a two-step commit per disk: first every disk's sector 0 is
 * zeroed (an interrupted format leaves "unformatted", never a half-written
 * lockspace that looks valid), then the host area, the directory and every
 * lease area are written, and only then the headers. Nothing is written
 * before every disk has been checked (size, sector size, existing content).
 */
#include "base/compat.h"
#include "space.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/log.h"
#include "banned.h"

DL_PRINTF(2, 3) static void space_why(struct space *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static bool same_file(const struct ioe_dev *a, const struct ioe_dev *b)
{
	struct stat sa, sb;

	if (fstat(a->fd, &sa) != 0 || fstat(b->fd, &sb) != 0)
		return false;
	if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode))
		return sa.st_rdev == sb.st_rdev;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int space_open_disk(struct space *s, uint32_t i, bool writable)
{
	struct space_disk *d = &s->disks[i];
	int rc;

	d->ioe_index = -1;
	d->header_state = ONDISK_UNREADABLE;
	d->open_rc = ioe_dev_open(d->path, writable, &d->dev);
	if (d->open_rc < 0)
		return 0;
	for (uint32_t j = 0; j < i; j++) {
		if (s->disks[j].open_rc == 0 && same_file(&s->disks[j].dev, &d->dev)) {
			space_why(s, "%s: the same disk as %s, given twice", d->path,
			          s->disks[j].path);
			return -EINVAL;
		}
	}
	rc = ioe_disk_add(s->ioe, d->dev.fd, d->dev.logical_sector_size);
	if (rc < 0) {
		d->open_rc = rc;
		return 0;
	}
	d->ioe_index = rc;
	return 0;
}

int space_open(struct space *s, struct ioe *ioe, const char *const *paths, uint32_t path_count,
               bool writable)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->ioe = ioe;
	for (uint32_t i = 0; i < IOE_DISKS_MAX; i++) {
		s->disks[i].dev.fd = -1;
		s->disks[i].ioe_index = -1; /* space_close after a failed open removes none of these */
	}
	if (path_count == 0 || path_count > IOE_DISKS_MAX) {
		space_why(s, "a lockspace has 1 to %u disks, %u given", IOE_DISKS_MAX, path_count);
		return -EINVAL;
	}
	s->path_count = path_count;
	for (uint32_t i = 0; i < path_count; i++) {
		s->disks[i].path = paths[i];
		rc = space_open_disk(s, i, writable);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int space_open_attached(struct space *s, struct ioe *ioe, const int *ioe_indexes,
                        const uint64_t *size_bytes, uint32_t sector_size, const char *const *names,
                        uint32_t count)
{
	memset(s, 0, sizeof(*s));
	s->ioe = ioe;
	if (count == 0 || count > IOE_DISKS_MAX)
		return -EINVAL;
	s->path_count = count;
	for (uint32_t i = 0; i < count; i++) {
		struct space_disk *d = &s->disks[i];

		d->path = names[i];
		d->ioe_index = ioe_indexes[i];
		d->open_rc = 0;
		d->header_state = ONDISK_UNREADABLE;
		d->dev.fd = -1;
		d->dev.size_bytes = size_bytes[i];
		d->dev.logical_sector_size = sector_size;
		d->dev.physical_sector_size = sector_size;
	}
	return 0;
}

void space_close(struct space *s)
{
	for (uint32_t i = 0; i < s->path_count; i++) {
		/* out of the engine's table first: an engine may outlive this lockspace */
		if (s->disks[i].ioe_index >= 0 && s->ioe)
			ioe_disk_remove(s->ioe, (uint32_t)s->disks[i].ioe_index);
		s->disks[i].ioe_index = -1;
		if (s->disks[i].open_rc == 0 && s->disks[i].dev.fd >= 0)
			ioe_dev_close(&s->disks[i].dev);
	}
	s->path_count = 0;
}

static uint64_t deadline_after_ms(const struct space *s, uint32_t ms)
{
	return clock_now_ns(s->ioe->clk) + (uint64_t)ms * DL_NS_PER_MS;
}

/* Read sector 0 of every open disk (4096 bytes covers both sector sizes). */
static void space_read_headers(struct space *s, uint8_t (*bufs)[ONDISK_SECTOR_MAX], int *results)
{
	struct ioe_req reqs[IOE_DISKS_MAX];
	struct ioe_batch b = {0};
	uint32_t n = 0, map[IOE_DISKS_MAX];

	for (uint32_t i = 0; i < s->path_count; i++) {
		results[i] = s->disks[i].open_rc ? s->disks[i].open_rc : -EIO;
		if (s->disks[i].ioe_index < 0)
			continue;
		reqs[n] = (struct ioe_req){.disk_index = (uint32_t)s->disks[i].ioe_index,
		                           .op = IOE_READ,
		                           .offset = 0,
		                           .len = ONDISK_SECTOR_MAX,
		                           .buf = bufs[i]};
		map[n++] = i;
	}
	if (n == 0)
		return;
	b.reqs = reqs;
	b.req_count = n;
	b.deadline_ns = deadline_after_ms(s, SPACE_FORMAT_DEADLINE_MS);
	if (ioe_run(s->ioe, &b) < 0)
		return;
	for (uint32_t k = 0; k < n; k++) {
		int r = reqs[k].result;

		/* A file shorter than 4096 bytes still has a 512-byte sector 0 to classify. */
		results[map[k]] = r >= (int)ONDISK_SECTOR_MIN ? 0 : (r < 0 ? r : -EIO);
		if (r >= 0 && r < (int)ONDISK_SECTOR_MAX)
			memset(bufs[map[k]] + r, 0, ONDISK_SECTOR_MAX - (uint32_t)r);
	}
}

/* Classify one disk's sector 0 as a header of either sector size. The verdict for a
 * non-header prefers "bad_checksum" (a damaged header) over "bad_magic" (other data). */
static void space_classify_header(struct space_disk *d, const uint8_t *buf)
{
	static const uint32_t sizes[] = {512, 4096};
	struct ondisk_expect ex = {.kind = ONDISK_KIND_LOCKSPACE, .any_lockspace = true};
	enum ondisk_state verdict = ONDISK_EMPTY;

	for (unsigned k = 0; k < DL_ARRAY_SIZE(sizes); k++) {
		enum ondisk_state st;

		if (sizes[k] < d->dev.logical_sector_size)
			continue;
		ex.sector_size = sizes[k];
		st = ondisk_lockspace_decode(buf, &ex, &d->header);
		if (st == ONDISK_VALID) {
			d->header_state = st;
			return;
		}
		if (st == ONDISK_BAD_CHECKSUM)
			verdict = st;
		else if (st != ONDISK_EMPTY && verdict == ONDISK_EMPTY)
			verdict = st;
	}
	d->header_state = verdict;
}

/* Everything but the disk index must match for two disks to be one lockspace. */
static bool header_same_lockspace(const struct ondisk_lockspace *a,
                                  const struct ondisk_lockspace *b)
{
	return !memcmp(a->hdr.lockspace_uuid, b->hdr.lockspace_uuid, ONDISK_UUID_SIZE) &&
	       a->hdr.seq == b->hdr.seq && !strcmp(a->name, b->name) &&
	       a->sector_size == b->sector_size && a->disk_count == b->disk_count &&
	       a->max_hosts == b->max_hosts && a->max_resources == b->max_resources &&
	       a->io_timeout_ms == b->io_timeout_ms && a->align_size == b->align_size &&
	       a->host_area_offset == b->host_area_offset &&
	       a->mailbox_offset == b->mailbox_offset &&
	       a->dir_lease_offset == b->dir_lease_offset &&
	       a->dir_table_offset == b->dir_table_offset &&
	       a->resource_offset == b->resource_offset &&
	       a->lease_area_size == b->lease_area_size && a->disk_size_min == b->disk_size_min &&
	       a->format_wall_ms == b->format_wall_ms;
}

/* The header that most valid disks share. */
static int space_agree(struct space *s)
{
	uint32_t best = UINT32_MAX, best_votes = 0;

	for (uint32_t i = 0; i < s->path_count; i++) {
		uint32_t votes = 0;

		if (s->disks[i].header_state != ONDISK_VALID)
			continue;
		for (uint32_t j = 0; j < s->path_count; j++) {
			if (s->disks[j].header_state == ONDISK_VALID &&
			    header_same_lockspace(&s->disks[i].header, &s->disks[j].header))
				votes++;
		}
		if (votes > best_votes) {
			best = i;
			best_votes = votes;
		}
	}
	if (best == UINT32_MAX)
		return -EUCLEAN;
	s->header = s->disks[best].header;
	s->agree_count = best_votes;
	for (uint32_t j = 0; j < s->path_count; j++) {
		s->disks[j].agrees = s->disks[j].header_state == ONDISK_VALID &&
		                     header_same_lockspace(&s->header, &s->disks[j].header);
	}
	return 0;
}

int space_load(struct space *s)
{
	uint8_t bufs[IOE_DISKS_MAX][ONDISK_SECTOR_MAX];
	int results[IOE_DISKS_MAX];
	uint32_t readable = 0;
	int rc;

	space_read_headers(s, bufs, results);
	for (uint32_t i = 0; i < s->path_count; i++) {
		if (results[i] < 0) {
			s->disks[i].header_state = ONDISK_UNREADABLE;
			continue;
		}
		readable++;
		space_classify_header(&s->disks[i], bufs[i]);
	}
	if (readable == 0) {
		space_why(s, "%s: %s", s->disks[0].path, strerror(-results[0]));
		return -ENODEV;
	}
	rc = space_agree(s);
	if (rc < 0) {
		for (uint32_t i = 0; i < s->path_count; i++) {
			if (s->disks[i].header_state != ONDISK_UNREADABLE) {
				space_why(s, "%s: no dlease lockspace header (sector 0 is %s)",
				          s->disks[i].path,
				          ondisk_state_name(s->disks[i].header_state));
				break;
			}
		}
		return rc;
	}
	s->have_header = true;
	rc = layout_compute(s->header.sector_size, s->header.max_hosts, s->header.max_resources,
	                    &s->layout);
	if (rc < 0 || s->layout.disk_size_min != s->header.disk_size_min ||
	    s->layout.resource_offset != s->header.resource_offset ||
	    s->layout.mailbox_offset != s->header.mailbox_offset) {
		space_why(s, "lockspace header geometry is inconsistent (hosts %u, resources %u)",
		          s->header.max_hosts, s->header.max_resources);
		return -EUCLEAN;
	}
	for (uint32_t i = 0; i < s->path_count; i++) {
		if (s->disks[i].header_state == ONDISK_VALID && !s->disks[i].agrees) {
			space_why(s, "%s: belongs to another lockspace or format than the others",
			          s->disks[i].path);
			return -ESTALE;
		}
	}
	for (uint32_t i = 0; i < s->path_count; i++) {
		struct space_disk *d = &s->disks[i];

		/* a disk shrunk after format (a truncated file, a smaller LUN) would fail writes
		 * past its end: never use it */
		if (d->agrees && d->dev.size_bytes && d->dev.size_bytes < s->header.disk_size_min) {
			space_why(s,
			          "%s: %llu bytes, smaller than the %llu bytes lockspace %s was "
			          "formatted for (truncated or replaced?)",
			          d->path, (unsigned long long)d->dev.size_bytes,
			          (unsigned long long)s->header.disk_size_min, s->header.name);
			d->agrees = false;
			s->agree_count--;
			if (s->agree_count < space_majority(s))
				return -ENOSPC;
		}
	}
	return 0;
}

uint32_t space_majority(const struct space *s)
{
	return s->header.disk_count / 2 + 1;
}

void space_expect(const struct space *s, uint32_t disk, enum ondisk_kind kind, uint64_t offset,
                  struct ondisk_expect *ex)
{
	DL_ASSERT(disk < s->path_count);
	DL_ASSERT(s->have_header);
	memset(ex, 0, sizeof(*ex));
	ex->sector_size = s->header.sector_size;
	ex->kind = (uint16_t)kind;
	memcpy(ex->lockspace_uuid, s->header.hdr.lockspace_uuid, ONDISK_UUID_SIZE);
	ex->disk_index = s->disks[disk].agrees ? s->disks[disk].header.hdr.disk_index : disk;
	ex->lba = offset / s->header.sector_size;
}

int space_read_all(struct space *s, uint64_t offset, uint32_t count, uint8_t *const *bufs,
                   int *results, uint64_t deadline_ns)
{
	struct ioe_req reqs[IOE_DISKS_MAX];
	struct ioe_batch b = {0};
	uint32_t n = 0, map[IOE_DISKS_MAX];
	uint32_t len = count * s->header.sector_size;
	int rc;

	DL_ASSERT(s->have_header);
	DL_ASSERT(count > 0);
	for (uint32_t i = 0; i < s->path_count; i++) {
		results[i] = -ENODEV;
		if (!s->disks[i].agrees || s->disks[i].ioe_index < 0)
			continue;
		reqs[n] = (struct ioe_req){.disk_index = (uint32_t)s->disks[i].ioe_index,
		                           .op = IOE_READ,
		                           .offset = offset,
		                           .len = len,
		                           .buf = bufs[i]};
		map[n++] = i;
	}
	if (n == 0)
		return 0;
	b.reqs = reqs;
	b.req_count = n;
	b.deadline_ns = deadline_ns;
	rc = ioe_run(s->ioe, &b);
	if (rc < 0)
		return rc;
	for (uint32_t k = 0; k < n; k++)
		results[map[k]] = reqs[k].result == (int)len
		                          ? 0
		                          : (reqs[k].result < 0 ? reqs[k].result : -EIO);
	return 0;
}
