/* SPDX-License-Identifier: MIT */
/*
 * space_format.c: writing a new lockspace onto 1..5 disks.
 *
 * Order (each step on every disk before the next starts):
 *   1. check: every disk opens, is large enough, accepts the sector size,
 *      and holds nothing at sector 0 (unless forced);
 *   2. zero sector 0 (an interrupted format is "unformatted", not "valid");
 *   3. zero the host slots, write a free leader (lver 0) at the head of the
 *      directory lease and of every resource area, zero their request and
 *      ballot slots, zero the directory table;
 *   4. write the headers (the commit), then read them back and agree.
 * Writes are batched under SPACE_FORMAT_BYTES_MAX bytes in flight.
 */
#include "base/compat.h"
#include "space.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/check.h"
#include "base/clock.h"
#include "base/log.h"
#include "banned.h"

#define SPACE_FORMAT_BYTES_MAX (32u * 1024u * 1024u)
#define SPACE_FORMAT_REQS_MAX  256u

struct format_ctx {
	struct space *s;
	const struct layout *l;
	uint8_t uuid[ONDISK_UUID_SIZE];
	uint8_t *zeros;   /* lease_area_size bytes of zeros, shared by every zeroing write */
	uint8_t *sectors; /* SPACE_FORMAT_REQS_MAX sectors for records */
	struct ioe_req reqs[SPACE_FORMAT_REQS_MAX];
	uint32_t req_count;
	uint64_t bytes;
	uint32_t disk_of[SPACE_FORMAT_REQS_MAX];
};

DL_PRINTF(2, 3) static void format_why(struct space *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static void format_size_text(uint64_t bytes, char *out, size_t out_size)
{
	if (bytes >= (1ull << 30))
		snprintf(out, out_size, "%.1f GiB", (double)bytes / (double)(1ull << 30));
	else
		snprintf(out, out_size, "%.1f MiB", (double)bytes / (double)(1ull << 20));
}

/* Run the queued writes; any failure names the disk. */
static int format_flush(struct format_ctx *f)
{
	struct ioe_batch b = {0};
	int rc;

	if (f->req_count == 0)
		return 0;
	b.reqs = f->reqs;
	b.req_count = f->req_count;
	b.deadline_ns = clock_now_ns(f->s->ioe->clk) + SPACE_FORMAT_DEADLINE_MS * DL_NS_PER_MS;
	rc = ioe_run(f->s->ioe, &b);
	if (rc < 0) {
		format_why(f->s, "cannot submit format writes: %s", strerror(-rc));
		return rc;
	}
	for (uint32_t k = 0; k < f->req_count; k++) {
		if (f->reqs[k].result != (int)f->reqs[k].len) {
			rc = f->reqs[k].result < 0 ? f->reqs[k].result : -EIO;
			format_why(f->s, "%s: write at offset %llu failed: %s",
			           f->s->disks[f->disk_of[k]].path,
			           (unsigned long long)f->reqs[k].offset, strerror(-rc));
			return rc;
		}
	}
	f->req_count = 0;
	f->bytes = 0;
	return 0;
}

/* Queue one write; flushes first when the batch is full. */
static int format_queue(struct format_ctx *f, uint32_t disk, uint64_t offset, uint32_t len,
                        void *buf)
{
	int rc;

	DL_ASSERT(offset % f->l->sector_size == 0);
	DL_ASSERT(len % f->l->sector_size == 0);
	if (f->req_count == SPACE_FORMAT_REQS_MAX || f->bytes + len > SPACE_FORMAT_BYTES_MAX) {
		rc = format_flush(f);
		if (rc < 0)
			return rc;
	}
	f->reqs[f->req_count] =
	        (struct ioe_req){.disk_index = (uint32_t)f->s->disks[disk].ioe_index,
	                         .op = IOE_WRITE,
	                         .offset = offset,
	                         .len = len,
	                         .buf = buf};
	f->disk_of[f->req_count] = disk;
	f->req_count++;
	f->bytes += len;
	return 0;
}

/* A free leader for lease area `index` (or the directory) on `disk`. */
static int format_queue_leader(struct format_ctx *f, uint32_t disk, uint32_t index)
{
	const struct layout *l = f->l;
	uint64_t offset = layout_leader_offset(l, index);
	uint8_t *sector;
	struct ondisk_leader ld;
	int rc;

	if (f->req_count == SPACE_FORMAT_REQS_MAX) {
		rc = format_flush(f);
		if (rc < 0)
			return rc;
	}
	sector = f->sectors + (size_t)f->req_count * l->sector_size;
	memset(&ld, 0, sizeof(ld));
	ondisk_hdr_init(&ld.hdr, ONDISK_KIND_LEADER, f->uuid, disk, layout_lba(l, offset));
	ld.resource_index = index;
	ld.reason = ONDISK_REASON_FORMAT;
	ld.since_wall_ms = clock_wall_ms();
	ondisk_leader_encode(&ld, l->sector_size, sector);
	return format_queue(f, disk, offset, l->sector_size, sector);
}

static int format_queue_area(struct format_ctx *f, uint32_t disk, uint32_t index)
{
	const struct layout *l = f->l;
	uint32_t rest = (1 + l->max_hosts) * l->sector_size; /* request + ballots */
	int rc;

	rc = format_queue_leader(f, disk, index);
	if (rc < 0)
		return rc;
	return format_queue(f, disk, layout_request_offset(l, index), rest, f->zeros);
}

static int format_queue_body(struct format_ctx *f, uint32_t disk)
{
	const struct layout *l = f->l;
	int rc;
	rc = format_queue(f, disk, l->host_area_offset, l->max_hosts * l->sector_size, f->zeros);
	if (rc == 0)
		rc = format_queue(f, disk, l->mailbox_offset, l->max_hosts * l->sector_size,
		                  f->zeros);
	if (rc < 0)
		return rc;
	rc = format_queue_area(f, disk, LAYOUT_DIRECTORY);
	for (uint32_t done = 0; rc == 0 && done < l->dir_sector_count;) {
		uint32_t n = DL_MIN(l->dir_sector_count - done,
		                    (uint32_t)(l->lease_area_size / l->sector_size));

		rc = format_queue(f, disk, layout_dir_sector_offset(l, done), n * l->sector_size,
		                  f->zeros);
		done += n;
	}
	for (uint32_t i = 0; rc == 0 && i < l->max_resources; i++)
		rc = format_queue_area(f, disk, i);
	return rc;
}

static void format_header(const struct format_ctx *f, const struct space_format_opts *o,
                          uint32_t disk, uint64_t wall_ms, struct ondisk_lockspace *h)
{
	const struct layout *l = f->l;

	memset(h, 0, sizeof(*h));
	ondisk_hdr_init(&h->hdr, ONDISK_KIND_LOCKSPACE, f->uuid, disk, 0);
	h->hdr.seq = 1;
	snprintf(h->name, sizeof(h->name), "%s", o->name);
	h->sector_size = l->sector_size;
	h->disk_count = f->s->path_count;
	h->max_hosts = l->max_hosts;
	h->max_resources = l->max_resources;
	h->io_timeout_ms = o->io_timeout_ms;
	h->align_size = l->align_size;
	h->host_area_offset = l->host_area_offset;
	h->mailbox_offset = l->mailbox_offset;
	h->dir_lease_offset = l->dir_lease_offset;
	h->dir_table_offset = l->dir_table_offset;
	h->resource_offset = l->resource_offset;
	h->lease_area_size = l->lease_area_size;
	h->disk_size_min = l->disk_size_min;
	h->format_wall_ms = wall_ms; /* the same on every disk: headers must agree */
}

static int format_check_name(struct space *s, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > ONDISK_NAME_SIZE) {
		format_why(s, "lockspace name must be 1 to %u bytes", ONDISK_NAME_SIZE);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f ||
		    name[i] == '/' || name[i] == ':') {
			format_why(
			        s,
			        "lockspace name '%s' may use printable ASCII except space, '/' and ':'",
			        name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Pick the sector size: the override if every disk accepts it, else the largest device size. */
static int format_sector_size(struct space *s, uint32_t wanted, uint32_t *out)
{
	uint32_t size = wanted;

	if (wanted && !ondisk_sector_size_ok(wanted)) {
		format_why(s, "sector size %u: must be 512 or 4096", wanted);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < s->path_count; i++) {
		const struct ioe_dev *dev = &s->disks[i].dev;

		if (!wanted) {
			size = DL_MAX(size, ioe_dev_sector_size(dev));
			continue;
		}
		if (ioe_dev_check_sector_size(dev, wanted) < 0) {
			format_why(
			        s,
			        "%s: sector size %u is smaller than the device's %u-byte logical sectors",
			        s->disks[i].path, wanted, dev->logical_sector_size);
			return -EINVAL;
		}
		if (wanted < dev->physical_sector_size)
			dl_warn("%s: %u-byte records on %u-byte physical sectors: a torn write may span a neighbour's slot",
			        s->disks[i].path, wanted, dev->physical_sector_size);
	}
	*out = size;
	return 0;
}

static int format_layout(struct space *s, const struct space_format_opts *o, uint32_t sector_size,
                         struct layout *l)
{
	uint64_t smallest = UINT64_MAX;
	uint32_t resources = o->max_resources;
	char have[32], need[32];
	int rc;

	for (uint32_t i = 0; i < s->path_count; i++)
		smallest = DL_MIN(smallest, s->disks[i].dev.size_bytes);
	if (o->max_hosts < 1 || o->max_hosts > LAYOUT_HOSTS_MAX) {
		format_why(s, "max-hosts %u: must be 1 to %u", o->max_hosts, LAYOUT_HOSTS_MAX);
		return -EINVAL;
	}
	if (resources == 0)
		resources = layout_resources_fit(sector_size, o->max_hosts, smallest);
	if (resources == 0)
		resources = 1; /* so the size message below names what one resource needs */
	rc = layout_compute(sector_size, o->max_hosts, resources, l);
	if (rc < 0) {
		format_why(s, "resources %u: must be 1 to %u", resources, LAYOUT_RESOURCES_MAX);
		return rc;
	}
	for (uint32_t i = 0; i < s->path_count; i++) {
		if (s->disks[i].dev.size_bytes >= l->disk_size_min)
			continue;
		format_size_text(s->disks[i].dev.size_bytes, have, sizeof(have));
		format_size_text(l->disk_size_min, need, sizeof(need));
		format_why(
		        s,
		        "%s: too small: %s, but %u hosts and %u resources with %u-byte sectors need at least %s (%llu bytes)",
		        s->disks[i].path, have, o->max_hosts, resources, sector_size, need,
		        (unsigned long long)l->disk_size_min);
		return -ENOSPC;
	}
	return 0;
}

/* Refuse disks whose sector 0 holds anything, unless forced. */
static int format_check_empty(struct space *s, bool force)
{
	char uuid[40];
	int rc = space_load(s);

	for (uint32_t i = 0; i < s->path_count; i++) {
		const struct space_disk *d = &s->disks[i];

		if (d->header_state == ONDISK_UNREADABLE) {
			format_why(s, "%s: cannot read sector 0", d->path);
			return -EIO;
		}
		if (d->header_state == ONDISK_EMPTY || force)
			continue;
		if (d->header_state == ONDISK_VALID) {
			ondisk_uuid_format(d->header.hdr.lockspace_uuid, uuid);
			format_why(
			        s,
			        "%s: already formatted: lockspace '%s' (uuid %s, disk %u of %u); use --force to overwrite",
			        d->path, d->header.name, uuid, d->header.hdr.disk_index + 1,
			        d->header.disk_count);
		} else {
			format_why(
			        s,
			        "%s: sector 0 is not empty (%s: not a dlease header); use --force to overwrite",
			        d->path, ondisk_state_name(d->header_state));
		}
		return -EEXIST;
	}
	(void)rc; /* -EUCLEAN here just means "no lockspace yet" */
	s->have_header = false;
	return 0;
}

static int format_write(struct format_ctx *f, const struct space_format_opts *o)
{
	uint64_t wall_ms = clock_wall_ms();
	struct ondisk_lockspace h;
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < f->s->path_count; i++)
		rc = format_queue(f, i, 0, f->l->sector_size, f->zeros);
	if (rc == 0)
		rc = format_flush(f);
	for (uint32_t i = 0; rc == 0 && i < f->s->path_count; i++)
		rc = format_queue_body(f, i);
	if (rc == 0)
		rc = format_flush(f);
	for (uint32_t i = 0; rc == 0 && i < f->s->path_count; i++) {
		format_header(f, o, i, wall_ms, &h);
		ondisk_lockspace_encode(&h, f->l->sector_size, f->sectors + i * f->l->sector_size);
		rc = format_queue(f, i, 0, f->l->sector_size, f->sectors + i * f->l->sector_size);
	}
	if (rc == 0)
		rc = format_flush(f);
	return rc;
}

int space_format(struct space *s, const struct space_format_opts *o)
{
	struct format_ctx *f;
	struct layout l;
	uint32_t sector_size = 0;
	int rc;

	for (uint32_t i = 0; i < s->path_count; i++) {
		if (s->disks[i].open_rc < 0) {
			format_why(s, "%s: cannot open: %s", s->disks[i].path,
			           strerror(-s->disks[i].open_rc));
			return s->disks[i].open_rc;
		}
	}
	rc = format_check_name(s, o->name);
	if (rc == 0 && s->path_count % 2 == 0) {
		/* 2 disks tolerate no loss and 4 no more than 3: an even count only adds risk. */
		format_why(s, "%u disks: a lockspace has 1, 3 or 5 disks (a majority must survive)",
		           s->path_count);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = format_sector_size(s, o->sector_size, &sector_size);
	if (rc == 0)
		rc = format_layout(s, o, sector_size, &l);
	if (rc == 0 && (o->io_timeout_ms < 100 || o->io_timeout_ms > 600000)) {
		format_why(s, "io-timeout %u ms: must be 0.1 to 600 seconds", o->io_timeout_ms);
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = format_check_empty(s, o->force);
	if (rc < 0)
		return rc;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->s = s;
	f->l = &l;
	f->zeros = calloc(1, l.lease_area_size);
	f->sectors = calloc(SPACE_FORMAT_REQS_MAX, l.sector_size);
	if (!f->zeros || !f->sectors) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (getrandom(f->uuid, sizeof(f->uuid), 0) != (ssize_t)sizeof(f->uuid)) {
		rc = -EIO;
		format_why(s, "cannot draw a lockspace uuid");
		goto out_free;
	}
	f->uuid[6] = (uint8_t)((f->uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	f->uuid[8] = (uint8_t)((f->uuid[8] & 0x3f) | 0x80);
	rc = format_write(f, o);
	if (rc == 0) {
		rc = space_load(s);
		if (rc < 0 || s->agree_count != s->path_count) {
			format_why(s, "format wrote the lockspace but reading it back failed: %s",
			           s->why);
			rc = rc < 0 ? rc : -EIO;
		}
	}
out_free:
	free(f->sectors);
	free(f->zeros);
	free(f);
	return rc;
}
