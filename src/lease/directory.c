/* SPDX-License-Identifier: MIT */
/* directory.c: the named-resource table of directory.h. */
#include "base/compat.h"
#include "directory.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

#define DIR_LOCK_WAIT_T 20u /* give up taking the directory lease after 20 T */

DL_PRINTF(3, 4) static void dir_error(struct directory *d, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	d->error = error;
}

static uint32_t dir_ss(const struct directory *d)
{
	return d->space->header.sector_size;
}

static uint8_t *dir_sector(const struct directory *d, uint32_t disk, uint32_t s)
{
	return d->rbuf + ((size_t)disk * d->space->layout.dir_sector_count + s) * dir_ss(d);
}

int directory_init(struct directory *d, struct space *space, struct ioe *ioe,
                   const struct timing *tm, const struct clock *clk, struct delta *self)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->space = space;
	d->tm = tm;
	d->clk = clk;
	d->self = self;
	rc = resource_init(&d->lease, space, ioe, tm, clk, self, LAYOUT_DIRECTORY);
	if (rc < 0)
		return rc;
	round_init(&d->round, ioe, space);
	d->rbuf = calloc((size_t)IOE_DISKS_MAX * space->layout.dir_sector_count,
	                 space->header.sector_size);
	d->wbuf = calloc(IOE_DISKS_MAX, space->header.sector_size);
	d->sec = calloc(1, sizeof(*d->sec));
	if (!d->rbuf || !d->wbuf || !d->sec) {
		directory_free(d);
		return -ENOMEM;
	}
	return 0;
}

void directory_free(struct directory *d)
{
	DL_ASSERT(!d->round.busy);
	resource_free(&d->lease);
	free(d->rbuf);
	free(d->wbuf);
	free(d->sec);
	d->rbuf = d->wbuf = NULL;
	d->sec = NULL;
}

static bool dir_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > ONDISK_NAME_SIZE)
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			return false;
	}
	return true;
}

static void dir_submit_read(struct directory *d)
{
	const struct layout *l = &d->space->layout;

	round_reset(&d->round);
	for (uint32_t i = 0; i < d->space->path_count; i++)
		round_add(&d->round, i, IOE_READ, l->dir_table_offset, dir_sector(d, i, 0),
		          l->dir_sector_count * dir_ss(d));
	d->state = DIR_READ;
	if (round_submit(&d->round, clock_now_ns(d->clk), d->tm->io_timeout_ns) < 0) {
		dir_error(d, -EIO, "cannot submit the directory read");
		d->state = DIR_FAILED;
		return;
	}
	d->pending = true;
}

static int dir_start(struct directory *d, enum directory_op op, const char *name)
{
	if (d->state != DIR_IDLE && d->state != DIR_FAILED)
		return -EALREADY;
	if (!dir_name_ok(name))
		return -EINVAL;
	d->op = op;
	d->error = 0;
	d->why[0] = '\0';
	d->existed = false;
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (op == DIR_OP_LOOKUP) {
		dir_submit_read(d);
		return 0;
	}
	if (!delta_is_live(d->self, clock_now_ns(d->clk)))
		return -ENOLINK;
	d->state = DIR_LOCK;
	return resource_acquire(&d->lease, true,
	                        clock_now_ns(d->clk) + DIR_LOCK_WAIT_T * d->tm->io_timeout_ns);
}

int directory_lookup(struct directory *d, const char *name)
{
	return dir_start(d, DIR_OP_LOOKUP, name);
}

int directory_create(struct directory *d, const char *name)
{
	return dir_start(d, DIR_OP_CREATE, name);
}

int directory_delete(struct directory *d, const char *name)
{
	return dir_start(d, DIR_OP_DELETE, name);
}

/* The freshest valid copy of directory sector s; false if damaged everywhere it answered. */
static bool dir_decode(struct directory *d, uint32_t s, struct ondisk_dirent_sector *out)
{
	const struct layout *l = &d->space->layout;
	uint32_t answered = 0;
	bool have = false;

	for (uint32_t i = 0; i < d->space->path_count; i++) {
		struct ondisk_expect ex;
		enum ondisk_state st;

		if (!d->table_ok[i])
			continue;
		space_expect(d->space, i, ONDISK_KIND_DIRENT, layout_dir_sector_offset(l, s), &ex);
		st = ondisk_dirent_sector_decode(dir_sector(d, i, s), &ex, d->sec);
		answered += st == ONDISK_VALID || st == ONDISK_EMPTY;
		if (st == ONDISK_VALID && (!have || d->sec->hdr.seq > out->hdr.seq)) {
			memcpy(out, d->sec, sizeof(*out));
			have = true;
		}
	}
	if (!have) {
		memset(out, 0, sizeof(*out));
		out->first_index = s * l->dirents_per_sector;
		out->count = DL_MIN(l->dirents_per_sector, l->max_resources - out->first_index);
	}
	d->version = DL_MAX(d->version, out->hdr.seq);
	return have || answered >= space_majority(d->space);
}

/* Find name (or, when free_out, the first free entry) in the table. Returns 0, -ENOENT,
 * or -EIO when a damaged sector hides part of the table. */
static int dir_search(struct directory *d, uint32_t *index, bool find_free)
{
	const struct layout *l = &d->space->layout;
	struct ondisk_dirent_sector cur;
	bool damaged = false;

	d->version = 0;
	for (uint32_t s = 0; s < l->dir_sector_count; s++) {
		if (!dir_decode(d, s, &cur)) {
			damaged = true;
			continue;
		}
		for (uint32_t e = 0; e < cur.count; e++) {
			bool used = cur.entries[e].flags & ONDISK_DIRENT_USED;

			if (find_free ? !used : (used && !strcmp(cur.entries[e].name, d->name))) {
				*index = cur.first_index + e;
				return 0;
			}
		}
	}
	return damaged ? -EIO : -ENOENT;
}

int directory_each(struct directory *d, void (*fn)(const char *name, uint32_t index, void *ctx),
                   void *ctx)
{
	const struct layout *l = &d->space->layout;
	struct ondisk_dirent_sector cur;
	bool damaged = false;

	if (d->state != DIR_IDLE && d->state != DIR_FAILED)
		return -EALREADY;
	for (uint32_t s = 0; s < l->dir_sector_count; s++) {
		if (!dir_decode(d, s, &cur)) {
			damaged = true;
			continue;
		}
		for (uint32_t e = 0; e < cur.count; e++) {
			if (cur.entries[e].flags & ONDISK_DIRENT_USED)
				fn(cur.entries[e].name, cur.first_index + e, ctx);
		}
	}
	return damaged ? -EIO : 0;
}

/* Change the entry of d->index (set to d->name, or clear) and write its sector. */
static void dir_submit_write(struct directory *d, bool set)
{
	const struct layout *l = &d->space->layout;
	uint32_t entry, s = d->index / l->dirents_per_sector, ss = dir_ss(d);
	uint64_t offset = layout_dirent_offset(l, d->index, &entry);
	struct ondisk_dirent_sector cur;
	struct ondisk_dirent *de;

	dir_decode(d, s, &cur);
	de = &cur.entries[entry];
	memset(de, 0, sizeof(*de));
	if (set) {
		de->flags = ONDISK_DIRENT_USED;
		de->resource_index = d->index;
		de->created_wall_ms = clock_wall_ms();
		snprintf(de->name, sizeof(de->name), "%s", d->name);
	}
	round_reset(&d->round);
	for (uint32_t i = 0; i < d->space->path_count; i++) {
		struct ondisk_expect ex;

		space_expect(d->space, i, ONDISK_KIND_DIRENT, offset, &ex);
		ondisk_hdr_init(&cur.hdr, ONDISK_KIND_DIRENT, ex.lockspace_uuid, ex.disk_index,
		                ex.lba);
		cur.hdr.writer_host_id = d->self->host_id;
		cur.hdr.writer_generation = d->self->generation;
		cur.hdr.seq = d->version + 1;
		ondisk_dirent_sector_encode(&cur, ss, d->wbuf + (size_t)i * ss);
		round_add(&d->round, i, IOE_WRITE, offset, d->wbuf + (size_t)i * ss, ss);
	}
	d->state = DIR_WRITE;
	if (round_submit(&d->round, clock_now_ns(d->clk), d->tm->io_timeout_ns) < 0)
		return dir_error(d, -EIO, "cannot submit the directory write");
	d->pending = true;
}

static void dir_unlock(struct directory *d)
{
	d->state = DIR_UNLOCK;
	if (resource_release(&d->lease) < 0)
		d->state = d->error ? DIR_FAILED : DIR_IDLE;
}

static void dir_read_done(struct directory *d)
{
	int rc;

	for (uint32_t i = 0; i < d->space->path_count; i++)
		d->table_ok[i] = round_disk_ok(&d->round, i);
	if (round_ok_count(&d->round) < space_majority(d->space)) {
		dir_error(d, -ETIMEDOUT, "directory: too few disks answered");
		return d->op == DIR_OP_LOOKUP ? (void)(d->state = DIR_FAILED) : dir_unlock(d);
	}
	rc = dir_search(d, &d->index, false);
	if (d->op == DIR_OP_LOOKUP) {
		if (rc < 0)
			dir_error(d, rc, "no resource named '%s'%s", d->name,
			          rc == -EIO ? " (part of the directory is damaged)" : "");
		d->state = rc < 0 ? DIR_FAILED : DIR_IDLE;
		return;
	}
	if (d->op == DIR_OP_CREATE && rc == 0) {
		d->existed = true;
		return dir_unlock(d);
	}
	if (d->op == DIR_OP_CREATE) {
		rc = dir_search(d, &d->index, true);
		if (rc < 0) {
			dir_error(d, rc == -ENOENT ? -ENOSPC : rc, "cannot create '%s': %s",
			          d->name,
			          rc == -ENOENT ? "every resource slot is named"
			                        : "directory damaged");
			return dir_unlock(d);
		}
		return dir_submit_write(d, true);
	}
	if (rc < 0) {
		dir_error(d, rc, "no resource named '%s'", d->name);
		return dir_unlock(d);
	}
	/* delete: only a resource nobody holds */
	round_reset(&d->round);
	for (uint32_t i = 0; i < d->space->path_count; i++)
		round_add(&d->round, i, IOE_READ, layout_leader_offset(&d->space->layout, d->index),
		          d->wbuf + (size_t)i * dir_ss(d), dir_ss(d));
	d->state = DIR_CHECK;
	if (round_submit(&d->round, clock_now_ns(d->clk), d->tm->io_timeout_ns) == 0)
		d->pending = true;
}

static void dir_check_done(struct directory *d)
{
	uint64_t offset = layout_leader_offset(&d->space->layout, d->index);
	struct ondisk_leader ld, best = {0};

	for (uint32_t i = 0; i < d->space->path_count; i++) {
		struct ondisk_expect ex;

		if (!round_disk_ok(&d->round, i))
			continue;
		space_expect(d->space, i, ONDISK_KIND_LEADER, offset, &ex);
		if (ondisk_leader_decode(d->wbuf + (size_t)i * dir_ss(d), &ex, &ld) ==
		            ONDISK_VALID &&
		    ld.lver >= best.lver)
			best = ld;
	}
	if (best.owner_host_id != 0) {
		dir_error(d, -EBUSY, "'%s' is held by host %llu: release it first", d->name,
		          (unsigned long long)best.owner_host_id);
		return dir_unlock(d);
	}
	dir_submit_write(d, false); /* the table read before the check is still in rbuf */
}

static void dir_judge(struct directory *d)
{
	d->pending = false;
	switch (d->state) {
	case DIR_READ:
		return dir_read_done(d);
	case DIR_CHECK:
		return dir_check_done(d);
	case DIR_WRITE:
		if (round_ok_count(&d->round) < space_majority(d->space))
			dir_error(d, -EIO, "directory write reached too few disks");
		return dir_unlock(d);
	default:
		return;
	}
}

uint64_t directory_step(struct directory *d)
{
	uint64_t now = clock_now_ns(d->clk), next = now + d->tm->poll_interval_ns;

	if (d->state == DIR_LOCK || d->state == DIR_UNLOCK) {
		next = resource_step(&d->lease);
		if (d->state == DIR_LOCK && d->lease.state == RES_HELD)
			dir_submit_read(d);
		else if (d->state == DIR_LOCK && d->lease.state == RES_FAILED) {
			dir_error(d, d->lease.error, "directory lease: %s", d->lease.why);
			d->state = DIR_FAILED;
		} else if (d->state == DIR_UNLOCK && d->lease.state != RES_RELEASING)
			d->state = d->error ? DIR_FAILED : DIR_IDLE;
		return next ? next : now + d->tm->poll_interval_ns;
	}
	if (d->pending && round_finished(&d->round))
		dir_judge(d);
	return d->pending ? now + d->tm->poll_interval_ns : 0;
}
