/* SPDX-License-Identifier: MIT */
/*
 * inspect.c: the read-only walk behind dump and verify. Reads each area with
 * one request per disk (host area, directory table, then each lease area),
 * classifies every sector on every disk and merges them per slot.
 */
#include "base/compat.h"
#include "inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/clock.h"
#include "banned.h"

#define INSPECT_DEADLINE_MS 30000u

struct inspect {
	struct space *s;
	uint8_t *bufs[IOE_DISKS_MAX];
	int results[IOE_DISKS_MAX];
	char (*names)[ONDISK_NAME_SIZE + 1];
	struct ballot_view *ballots;
};

bool inspect_state_is_damage(enum ondisk_state st)
{
	return st != ONDISK_VALID && st != ONDISK_EMPTY;
}

static bool disk_in_use(const struct space *s, uint32_t i)
{
	return s->disks[i].agrees && s->disks[i].ioe_index >= 0;
}

/* Damage first (in enum order), then valid, then empty. */
static enum ondisk_state merge_state(enum ondisk_state cur, enum ondisk_state st)
{
	if (inspect_state_is_damage(st))
		return inspect_state_is_damage(cur) ? DL_MIN(cur, st) : st;
	if (inspect_state_is_damage(cur))
		return cur;
	return (cur == ONDISK_VALID || st == ONDISK_VALID) ? ONDISK_VALID : ONDISK_EMPTY;
}

/* Decode function shape shared by every record kind. */
typedef enum ondisk_state (*decode_fn)(const void *sector, const struct ondisk_expect *ex,
                                       void *out);

/* Classify sector k of the last read on every disk; keep the freshest valid copy in out. */
static void inspect_slot(struct inspect *in, uint32_t k, uint64_t offset, enum ondisk_kind kind,
                         decode_fn decode, void *out, void *tmp, size_t rec_size,
                         struct slot_view *v)
{
	struct space *s = in->s;
	uint32_t ss = s->header.sector_size;
	uint64_t best_seq = 0;

	v->state = ONDISK_EMPTY;
	v->best_disk = -1;
	v->lba = offset / ss;
	for (uint32_t i = 0; i < s->path_count; i++) {
		struct ondisk_expect ex;
		enum ondisk_state st;

		v->per_disk[i] = ONDISK_UNREADABLE;
		if (!disk_in_use(s, i))
			continue;
		if (in->results[i] < 0) {
			v->state = merge_state(v->state, ONDISK_UNREADABLE);
			continue;
		}
		space_expect(s, i, kind, offset, &ex);
		st = decode(in->bufs[i] + (size_t)k * ss, &ex, tmp);
		v->per_disk[i] = st;
		v->state = merge_state(v->state, st);
		if (st != ONDISK_VALID)
			continue;
		/* Every record's header is its first member, seq is the freshness order. */
		if (v->best_disk < 0 || ((const struct ondisk_hdr *)tmp)->seq > best_seq) {
			best_seq = ((const struct ondisk_hdr *)tmp)->seq;
			v->best_disk = (int)i;
			memcpy(out, tmp, rec_size);
		}
	}
}

static enum ondisk_state dec_host(const void *sector, const struct ondisk_expect *ex, void *out)
{
	return ondisk_host_decode(sector, ex, out);
}

static enum ondisk_state dec_mailbox(const void *sector, const struct ondisk_expect *ex, void *out)
{
	return ondisk_mailbox_decode(sector, ex, out);
}

static enum ondisk_state dec_dir(const void *sector, const struct ondisk_expect *ex, void *out)
{
	return ondisk_dirent_sector_decode(sector, ex, out);
}

static enum ondisk_state dec_leader(const void *sector, const struct ondisk_expect *ex, void *out)
{
	return ondisk_leader_decode(sector, ex, out);
}

static enum ondisk_state dec_request(const void *sector, const struct ondisk_expect *ex, void *out)
{
	return ondisk_request_decode(sector, ex, out);
}

static enum ondisk_state dec_ballot(const void *sector, const struct ondisk_expect *ex, void *out)
{
	return ondisk_ballot_decode(sector, ex, out);
}

static int inspect_read(struct inspect *in, uint64_t offset, uint32_t count)
{
	uint64_t deadline = clock_now_ns(in->s->ioe->clk) + INSPECT_DEADLINE_MS * DL_NS_PER_MS;

	return space_read_all(in->s, offset, count, in->bufs, in->results, deadline);
}

/* Host slots and mailboxes: two reads, the mailboxes kept in a second set of buffers. */
static int inspect_hosts(struct inspect *in, const struct inspect_ops *ops, void *ctx)
{
	const struct layout *l = &in->s->layout;
	struct ondisk_mailbox *mrecs;
	struct slot_view *mviews;
	struct ondisk_mailbox mtmp;
	struct ondisk_host rec, tmp;
	struct slot_view v;
	int rc;

	mrecs = calloc(l->max_hosts, sizeof(*mrecs));
	mviews = calloc(l->max_hosts, sizeof(*mviews));
	rc = (mrecs && mviews) ? inspect_read(in, l->mailbox_offset, l->max_hosts) : -ENOMEM;
	for (uint32_t h = 1; rc == 0 && h <= l->max_hosts; h++)
		inspect_slot(in, h - 1, layout_mailbox_offset(l, h), ONDISK_KIND_MAILBOX,
		             dec_mailbox, &mrecs[h - 1], &mtmp, sizeof(mtmp), &mviews[h - 1]);
	if (rc == 0)
		rc = inspect_read(in, l->host_area_offset, l->max_hosts);
	for (uint32_t h = 1; rc == 0 && h <= l->max_hosts; h++) {
		memset(&rec, 0, sizeof(rec));
		inspect_slot(in, h - 1, layout_host_offset(l, h), ONDISK_KIND_HOST, dec_host, &rec,
		             &tmp, sizeof(rec), &v);
		if (ops->host)
			ops->host(ctx, h, &v, &rec, &mviews[h - 1], &mrecs[h - 1]);
	}
	free(mviews);
	free(mrecs);
	return rc;
}

static int inspect_directory(struct inspect *in, const struct inspect_ops *ops, void *ctx)
{
	const struct layout *l = &in->s->layout;
	struct ondisk_dirent_sector *rec, *tmp;
	struct slot_view v;
	int rc = 0;

	rec = malloc(sizeof(*rec));
	tmp = malloc(sizeof(*tmp));
	if (!rec || !tmp) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (uint32_t d = 0; d < l->dir_sector_count; d++) {
		/* One read per lease-area-sized chunk keeps the buffers small. */
		uint32_t chunk = (uint32_t)(l->lease_area_size / l->sector_size);
		uint32_t k = d % chunk;

		if (k == 0) {
			rc = inspect_read(in, layout_dir_sector_offset(l, d),
			                  DL_MIN(chunk, l->dir_sector_count - d));
			if (rc < 0)
				goto out_free;
		}
		memset(rec, 0, sizeof(*rec));
		inspect_slot(in, k, layout_dir_sector_offset(l, d), ONDISK_KIND_DIRENT, dec_dir,
		             rec, tmp, sizeof(*rec), &v);
		for (uint32_t e = 0; v.best_disk >= 0 && e < rec->count; e++) {
			uint32_t index = rec->first_index + e;

			if ((rec->entries[e].flags & ONDISK_DIRENT_USED) &&
			    index < l->max_resources)
				memcpy(in->names[index], rec->entries[e].name,
				       ONDISK_NAME_SIZE + 1);
		}
		if (ops->dir_sector)
			ops->dir_sector(ctx, d, &v);
	}
out_free:
	free(tmp);
	free(rec);
	return rc;
}

static int inspect_area(struct inspect *in, uint32_t index, const struct inspect_ops *ops,
                        void *ctx)
{
	const struct layout *l = &in->s->layout;
	struct resource_view r = {.index = index, .ballots = in->ballots};
	union {
		struct ondisk_leader leader;
		struct ondisk_request request;
		struct ondisk_ballot ballot;
	} tmp;
	int rc;

	r.name = index == LAYOUT_DIRECTORY ? "(directory)" : in->names[index];
	if (ops->want_area && !ops->want_area(ctx, index, r.name))
		return 0;
	rc = inspect_read(in, layout_lease_base(l, index), 2 + l->max_hosts);
	if (rc < 0)
		return rc;
	inspect_slot(in, 0, layout_leader_offset(l, index), ONDISK_KIND_LEADER, dec_leader,
	             &r.leader, &tmp, sizeof(r.leader), &r.leader_v);
	inspect_slot(in, 1, layout_request_offset(l, index), ONDISK_KIND_REQUEST, dec_request,
	             &r.request, &tmp, sizeof(r.request), &r.request_v);
	for (uint32_t h = 1; h <= l->max_hosts; h++) {
		struct ballot_view *b = &in->ballots[r.ballot_count];

		memset(b, 0, sizeof(*b));
		b->host_id = h;
		inspect_slot(in, 1 + h, layout_ballot_offset(l, index, h), ONDISK_KIND_BALLOT,
		             dec_ballot, &b->rec, &tmp, sizeof(b->rec), &b->v);
		if (b->v.state != ONDISK_EMPTY)
			r.ballot_count++;
	}
	if (ops->resource)
		ops->resource(ctx, &r);
	return 0;
}

int inspect_run(struct space *s, const struct inspect_ops *ops, void *ctx)
{
	struct inspect in = {.s = s};
	size_t buf_size = s->layout.lease_area_size;
	int rc = -ENOMEM;

	DL_ASSERT(s->have_header);
	for (uint32_t i = 0; i < s->path_count; i++) {
		in.bufs[i] = malloc(buf_size);
		if (!in.bufs[i])
			goto out_free;
	}
	in.names = calloc(s->layout.max_resources, sizeof(*in.names));
	in.ballots = calloc(s->layout.max_hosts, sizeof(*in.ballots));
	if (!in.names || !in.ballots)
		goto out_free;
	rc = inspect_hosts(&in, ops, ctx);
	if (rc == 0)
		rc = inspect_directory(&in, ops, ctx);
	if (rc == 0)
		rc = inspect_area(&in, LAYOUT_DIRECTORY, ops, ctx);
	for (uint32_t i = 0; rc == 0 && i < s->layout.max_resources; i++)
		rc = inspect_area(&in, i, ops, ctx);
out_free:
	free(in.ballots);
	free(in.names);
	for (uint32_t i = 0; i < s->path_count; i++)
		free(in.bufs[i]);
	return rc;
}
