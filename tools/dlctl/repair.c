/* SPDX-License-Identifier: MIT */
/*
 * repair.c: `dlctl repair` -- the operator's way out of a resource stuck on a
 * damaged ballot block (docs/design.md §4, "What an operator does"). It moves
 * the lease past every token that may have been granted: a free leader with
 * lver = max(every lver in a valid leader or ballot copy of the area, --above)
 * + 1 and reason operator_repair, and the blocker's ballot block as an empty
 * sector, on every disk of the lockspace.
 *
 * Checks, in order, each a refusal (exit 1) that writes nothing:
 *   1. every disk of the lockspace is given, open and agrees (the new leader
 *      must reach them all), each disk index exactly once;
 *   2. the blocker's ballot block is damaged (not valid, not empty) on at
 *      least one disk, every disk answered, and some copy of the leader is
 *      valid (it names the last holder);
 *   3. for host_dead (4.25T) the lease area stays byte for byte the same
 *      (no acquire or release in flight) and so does the last holder's host
 *      slot, unless the slot shows a newer generation (the holder rejoined:
 *      its old holding is over). Unchanged for 4.25T is the daemons' own
 *      proof of death (docs/design.md §2);
 *   4. without --force: print the plan and stop.
 * Then the leader first, the ballot second, each on every disk, both read
 * back. The leader goes first on purpose: an empty ballot under the old
 * leader is the deleted recovery rule (a contender re-deciding the instance
 * the lost block recorded), while a new leader over a damaged ballot is still
 * stuck, which is safe; an interrupted repair is simply run again.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "lease/timing.h"
#include "inspect.h"
#include "banned.h"

#define REPAIR_DEADLINE_MS  30000u
#define REPAIR_SLEEP_STEPS  100000u /* bound of the wait loop (each step sleeps >= 1 ms) */
#define REPAIR_OTHERS_SHOWN 8u

struct repair_args {
	const char *resource;
	bool have_index;
	uint32_t index;
	uint32_t blocker;
	uint64_t above;
	bool force;
	const char *engine;
};

/* One read of the lease area and of the last holder's host slot, per disk. */
struct repair_snap {
	uint8_t *area[IOE_DISKS_MAX]; /* 2 + max_hosts sectors: leader, request, ballots */
	uint8_t *owner[IOE_DISKS_MAX];
};

/* What one snapshot says, decoded. */
struct repair_view {
	enum ondisk_state leader_st[IOE_DISKS_MAX];
	struct ondisk_leader leader[IOE_DISKS_MAX];
	enum ondisk_state blocker_st[IOE_DISKS_MAX];
	struct ondisk_ballot blocker[IOE_DISKS_MAX];
	int last; /* disk whose valid leader has the highest lver; -1: none */
	uint32_t blocker_damaged;
	uint64_t lver_max;
	char lver_from[64];
	uint32_t others[REPAIR_OTHERS_SHOWN]; /* other hosts whose ballot is damaged */
	uint32_t other_count;
};

struct repair {
	struct space s;
	struct repair_args a;
	uint32_t index;
	char name[ONDISK_NAME_SIZE + 1];
	uint32_t area_len;
	uint64_t host_dead_ns;
	struct repair_snap snap[2];
	struct repair_view v;
	uint64_t owner; /* last holder named by the leader (0: free) */
	uint64_t new_lver;
	uint8_t sectors[IOE_DISKS_MAX][ONDISK_SECTOR_MAX];
};

static int repair_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v >= UINT64_MAX - 1)
		return -EINVAL;
	*out = v;
	return 0;
}

static int repair_parse_opt(int c, struct repair_args *a)
{
	switch (c) {
	case 'r':
		a->resource = optarg;
		return 0;
	case 'i':
		a->have_index = true;
		if (dlctl_parse_u32(optarg, 0, UINT32_MAX - 1, &a->index) == 0)
			return 0;
		dlctl_err("--index %s: must be a resource index", optarg);
		return -EINVAL;
	case 'b':
		if (dlctl_parse_u32(optarg, 1, 2000, &a->blocker) == 0)
			return 0;
		dlctl_err("--blocker %s: must be a host id from 1 to 2000", optarg);
		return -EINVAL;
	case 'a':
		if (repair_parse_u64(optarg, &a->above) == 0)
			return 0;
		dlctl_err("--above %s: must be a token (a number)", optarg);
		return -EINVAL;
	case 'f':
		a->force = true;
		return 0;
	case 'e':
		a->engine = optarg;
		return 0;
	default:
		return -EINVAL;
	}
}

static int repair_parse(int argc, char **argv, struct repair_args *a)
{
	static const struct option opts[] = {
	        {"resource", required_argument, NULL, 'r'},
	        {"index", required_argument, NULL, 'i'},
	        {"blocker", required_argument, NULL, 'b'},
	        {"above", required_argument, NULL, 'a'},
	        {"force", no_argument, NULL, 'f'},
	        {"engine", required_argument, NULL, 'e'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:i:b:a:fe:h", opts, NULL)) != -1) {
		if (repair_parse_opt(c, a) < 0)
			return -EINVAL;
	}
	if (!a->resource == !a->have_index || !a->blocker) {
		dlctl_err(
		        "repair needs --resource NAME or --index N (one of them), and --blocker HOST_ID");
		return -EINVAL;
	}
	if (optind >= argc) {
		dlctl_err("repair needs every DISK of the lockspace");
		return -EINVAL;
	}
	return 0;
}

/* Every disk of the lockspace, open, agreeing, each disk index once. */
static int repair_check_disks(struct repair *r)
{
	const struct space *s = &r->s;
	uint32_t seen = 0;

	for (uint32_t i = 0; i < s->path_count; i++) {
		const struct space_disk *d = &s->disks[i];

		if (d->open_rc < 0) {
			dlctl_err("repair refused: %s: cannot open: %s", d->path,
			          strerror(-d->open_rc));
			return -ENODEV;
		}
		if (!d->agrees && d->header_state == ONDISK_VALID) {
			dlctl_err(
			        "repair refused: %s: a disk of another lockspace or format than the others",
			        d->path);
			return -ESTALE;
		}
		if (!d->agrees) {
			dlctl_err("repair refused: %s: header %s: not a disk of lockspace %s",
			          d->path, ondisk_state_name(d->header_state), s->header.name);
			return -ESTALE;
		}
		if (d->header.hdr.disk_index >= s->header.disk_count ||
		    (seen & (1u << d->header.hdr.disk_index))) {
			dlctl_err(
			        "repair refused: %s: disk %u of %u is given twice (two paths to one LUN?)",
			        d->path, d->header.hdr.disk_index + 1, s->header.disk_count);
			return -EINVAL;
		}
		seen |= 1u << d->header.hdr.disk_index;
	}
	if (s->path_count != s->header.disk_count) {
		dlctl_err(
		        "repair refused: lockspace %s has %u disks and %u %s given: repair writes the new leader to every disk, so give them all",
		        s->header.name, s->header.disk_count, s->path_count,
		        s->path_count == 1 ? "was" : "were");
		return -ENODEV;
	}
	return 0;
}

struct repair_find {
	struct repair *r;
	uint32_t found;
};

/* inspect's directory walk, used only to match names and indexes: no area is read. */
static bool repair_find_want(void *ctx, uint32_t index, const char *name)
{
	struct repair_find *f = ctx;
	struct repair *r = f->r;

	if (index == LAYOUT_DIRECTORY)
		return false;
	if (r->a.resource ? !strcmp(name, r->a.resource) : index == r->a.index) {
		if (f->found++ == 0) {
			r->index = index;
			snprintf(r->name, sizeof(r->name), "%s", name);
		}
	}
	return false;
}

static int repair_find_resource(struct repair *r)
{
	static const struct inspect_ops ops = {.want_area = repair_find_want};
	struct repair_find f = {.r = r};
	int rc;

	if (r->a.have_index && r->a.index >= r->s.layout.max_resources) {
		dlctl_err("repair refused: --index %u: lockspace %s has resources 0..%u",
		          r->a.index, r->s.header.name, r->s.layout.max_resources - 1);
		return -ENOENT;
	}
	if (r->a.blocker > r->s.layout.max_hosts) {
		dlctl_err("repair refused: --blocker %u: lockspace %s has host ids 1..%u",
		          r->a.blocker, r->s.header.name, r->s.layout.max_hosts);
		return -EINVAL;
	}
	rc = inspect_run(&r->s, &ops, &f);
	if (rc < 0) {
		dlctl_err("reading the directory failed: %s", strerror(-rc));
		return rc;
	}
	if (r->a.have_index && f.found == 0)
		r->index = r->a.index; /* unnamed: the index alone */
	if (r->a.resource && f.found != 1) {
		dlctl_err("repair refused: lockspace %s has %s resource named %s", r->s.header.name,
		          f.found ? "more than one" : "no", r->a.resource);
		return -ENOENT;
	}
	return 0;
}

static int repair_alloc(struct repair *r)
{
	uint32_t ss = r->s.header.sector_size;

	r->area_len = (2 + r->s.layout.max_hosts) * ss;
	for (uint32_t k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < r->s.path_count; i++) {
			r->snap[k].area[i] = calloc(1, r->area_len);
			r->snap[k].owner[i] = calloc(1, ss);
			if (!r->snap[k].area[i] || !r->snap[k].owner[i])
				return -ENOMEM;
		}
	}
	return 0;
}

static void repair_free(struct repair *r)
{
	for (uint32_t k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < IOE_DISKS_MAX; i++) {
			free(r->snap[k].area[i]);
			free(r->snap[k].owner[i]);
		}
	}
}

/* Read count sectors at offset on every disk; every disk must answer. */
static int repair_read(struct repair *r, uint64_t offset, uint32_t count, uint8_t *const *bufs)
{
	uint64_t deadline = clock_now_ns(r->s.ioe->clk) + REPAIR_DEADLINE_MS * DL_NS_PER_MS;
	int results[IOE_DISKS_MAX];
	int rc = space_read_all(&r->s, offset, count, bufs, results, deadline);

	for (uint32_t i = 0; rc == 0 && i < r->s.path_count; i++) {
		if (results[i] < 0) {
			dlctl_err("repair refused: %s: read at byte %llu failed: %s",
			          r->s.disks[i].path, (unsigned long long)offset,
			          strerror(-results[i]));
			rc = results[i];
		}
	}
	return rc;
}

static void repair_lver_seen(struct repair_view *v, uint64_t lver, const char *what,
                             const struct space_disk *d)
{
	if (lver < v->lver_max || (lver == v->lver_max && v->lver_from[0]))
		return;
	v->lver_max = lver;
	snprintf(v->lver_from, sizeof(v->lver_from), "%s on disk %u", what,
	         d->header.hdr.disk_index + 1);
}

/* Leader copies: the freshest valid one names the last holder. */
static void repair_decode_leader(struct repair *r, const struct repair_snap *sn,
                                 struct repair_view *v)
{
	const struct layout *l = &r->s.layout;
	struct ondisk_expect ex;

	for (uint32_t i = 0; i < r->s.path_count; i++) {
		space_expect(&r->s, i, ONDISK_KIND_LEADER, layout_leader_offset(l, r->index), &ex);
		v->leader_st[i] = ondisk_leader_decode(sn->area[i], &ex, &v->leader[i]);
		if (v->leader_st[i] != ONDISK_VALID)
			continue;
		repair_lver_seen(v, v->leader[i].lver, "leader", &r->s.disks[i]);
		if (v->last < 0 || v->leader[i].lver > v->leader[v->last].lver)
			v->last = (int)i;
	}
}

/* Ballot copies of every host: lvers seen, the blocker's states, other damaged blocks. */
static void repair_decode_ballots(struct repair *r, const struct repair_snap *sn,
                                  struct repair_view *v)
{
	const struct layout *l = &r->s.layout;
	uint32_t ss = l->sector_size;
	struct ondisk_expect ex;
	char what[40];

	for (uint32_t h = 1; h <= l->max_hosts; h++) {
		bool damaged = false;

		snprintf(what, sizeof(what), "ballot of host %u", h);
		for (uint32_t i = 0; i < r->s.path_count; i++) {
			struct ondisk_ballot b = {0};
			enum ondisk_state st;

			space_expect(&r->s, i, ONDISK_KIND_BALLOT,
			             layout_ballot_offset(l, r->index, h), &ex);
			st = ondisk_ballot_decode(sn->area[i] + (size_t)(1 + h) * ss, &ex, &b);
			if (st == ONDISK_VALID)
				repair_lver_seen(v, b.lver, what, &r->s.disks[i]);
			damaged |= inspect_state_is_damage(st);
			if (h != r->a.blocker)
				continue;
			v->blocker_st[i] = st;
			v->blocker[i] = b;
			v->blocker_damaged += inspect_state_is_damage(st);
		}
		if (damaged && h != r->a.blocker && v->other_count++ < REPAIR_OTHERS_SHOWN)
			v->others[v->other_count - 1] = h;
	}
}

static void repair_decode(struct repair *r, const struct repair_snap *sn, struct repair_view *v)
{
	memset(v, 0, sizeof(*v));
	v->last = -1;
	repair_decode_leader(r, sn, v);
	repair_decode_ballots(r, sn, v);
}

/* Read the area (and the holder's slot, once known) into snapshot k. */
static int repair_snapshot(struct repair *r, uint32_t k)
{
	const struct layout *l = &r->s.layout;
	int rc = repair_read(r, layout_lease_base(l, r->index), 2 + l->max_hosts, r->snap[k].area);

	if (rc == 0 && r->owner)
		rc = repair_read(r, layout_host_offset(l, (uint32_t)r->owner), 1, r->snap[k].owner);
	return rc;
}

/* "disk 1 valid, disk 2 bad_checksum" */
static void repair_states_text(const struct repair *r, const enum ondisk_state *st, char *out,
                               size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < r->s.path_count && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%sdisk %u %s", i ? ", " : "",
		                      r->s.disks[i].header.hdr.disk_index + 1,
		                      ondisk_state_name(st[i]));
}

/* Refusals that need no waiting: nothing damaged, no leader, a leader naming no host. */
static int repair_check_area(struct repair *r)
{
	const struct repair_view *v = &r->v;
	const struct ondisk_leader *ld;
	char states[160];

	if (v->blocker_damaged == 0) {
		repair_states_text(r, v->blocker_st, states, sizeof(states));
		dlctl_err(
		        "repair refused: the ballot block of host %u in resource %u is not damaged (%s): nothing to repair",
		        r->a.blocker, r->index, states);
		return -EINVAL;
	}
	if (v->last < 0) {
		dlctl_err(
		        "repair refused: no valid copy of resource %u's leader record: the last holder is unknown, so repair cannot check that it is gone",
		        r->index);
		return -EBADMSG;
	}
	ld = &v->leader[v->last];
	if (ld->owner_host_id > r->s.layout.max_hosts) {
		dlctl_err("repair refused: the leader names host %llu, above max-hosts %u",
		          (unsigned long long)ld->owner_host_id, r->s.layout.max_hosts);
		return -EUCLEAN;
	}
	r->owner = ld->owner_host_id;
	return 0;
}

/* Sleep until the engine's clock reaches until_ns (CLOCK_BOOTTIME for the real clock). */
static void repair_sleep_until(struct repair *r, uint64_t until_ns)
{
	for (uint32_t step = 0; step < REPAIR_SLEEP_STEPS; step++) {
		uint64_t now = clock_now_ns(r->s.ioe->clk);
		struct timespec ts;

		if (now >= until_ns)
			return;
		ts.tv_sec = (time_t)((until_ns - now) / DL_NS_PER_SEC);
		ts.tv_nsec = (long)((until_ns - now) % DL_NS_PER_SEC);
		if (ts.tv_sec == 0 && ts.tv_nsec < 1000000)
			ts.tv_nsec = 1000000;
		nanosleep(&ts, NULL);
	}
}

/* The freshest valid copy of the holder's host slot in snapshot k: generation, or 0. */
static uint64_t repair_owner_generation(struct repair *r, uint32_t k)
{
	const struct layout *l = &r->s.layout;
	uint64_t gen = 0;

	for (uint32_t i = 0; i < r->s.path_count; i++) {
		struct ondisk_expect ex;
		struct ondisk_host h;

		space_expect(&r->s, i, ONDISK_KIND_HOST, layout_host_offset(l, (uint32_t)r->owner),
		             &ex);
		if (ondisk_host_decode(r->snap[k].owner[i], &ex, &h) == ONDISK_VALID)
			gen = DL_MAX(gen, h.hdr.writer_generation);
	}
	return gen;
}

/* The first sector of the area that differs between the two snapshots, or -1. */
static int repair_area_changed(const struct repair *r, uint32_t *disk)
{
	uint32_t ss = r->s.header.sector_size;

	for (uint32_t i = 0; i < r->s.path_count; i++) {
		for (uint32_t k = 0; k < 2 + r->s.layout.max_hosts; k++) {
			if (memcmp(r->snap[0].area[i] + (size_t)k * ss,
			           r->snap[1].area[i] + (size_t)k * ss, ss)) {
				*disk = i;
				return (int)k;
			}
		}
	}
	return -1;
}

static int repair_check_area_still(const struct repair *r)
{
	uint32_t disk = 0;
	int k = repair_area_changed(r, &disk);
	char what[40];

	if (k < 0)
		return 0;
	if (k < 2)
		snprintf(what, sizeof(what), "%s", k == 0 ? "leader" : "request");
	else
		snprintf(what, sizeof(what), "ballot of host %d", k - 1);
	dlctl_err(
	        "repair refused: resource %u's %s changed on %s while it was watched: a host is acquiring, releasing or requesting it; stop every acquire of it (docs/design.md §4, step 2) and run repair again",
	        r->index, what, r->s.disks[disk].path);
	return -EBUSY;
}

/* The holder's slot: unchanged for host_dead means dead or left; a newer generation means
 * the holding the leader names is over; any other change means it may still hold. */
static int repair_check_owner_still(struct repair *r)
{
	const struct ondisk_leader *ld = &r->v.leader[r->v.last];
	uint64_t gen = 0;
	bool changed = false;

	if (!r->owner)
		return 0;
	for (uint32_t i = 0; i < r->s.path_count; i++)
		changed |= memcmp(r->snap[0].owner[i], r->snap[1].owner[i],
		                  r->s.header.sector_size) != 0;
	if (!changed) {
		printf("holder host %llu: its host slot did not change: dead or left\n",
		       (unsigned long long)r->owner);
		return 0;
	}
	gen = repair_owner_generation(r, 1);
	if (gen > ld->owner_generation) {
		printf("holder host %llu: rejoined with generation %llu, newer than the leader's %llu: the holding the leader names is over\n",
		       (unsigned long long)r->owner, (unsigned long long)gen,
		       (unsigned long long)ld->owner_generation);
		return 0;
	}
	dlctl_err(
	        "repair refused: host %llu, which the leader names as holder (generation %llu), renewed its host slot while it was watched: it may hold the lease; release it, or stop that host, and run repair again",
	        (unsigned long long)r->owner, (unsigned long long)ld->owner_generation);
	return -EBUSY;
}

/* Watch the area and the holder's slot for host_dead: nobody may be writing them. */
static int repair_watch(struct repair *r)
{
	char dur[32];
	uint64_t read_done;
	int rc;

	dlctl_duration_text(r->host_dead_ns / DL_NS_PER_MS, dur, sizeof(dur));
	if (r->owner)
		printf("waiting %s (4.25 x io_timeout): the leader names host %llu as holder, and only a host slot unchanged that long proves its host dead; the lease area must not change either (no acquire in flight)\n",
		       dur, (unsigned long long)r->owner);
	else
		printf("waiting %s (4.25 x io_timeout): the lease area must not change that long (no acquire or release in flight)\n",
		       dur);
	fflush(stdout);
	rc = repair_snapshot(r, 0);
	read_done = clock_now_ns(r->s.ioe->clk);
	if (rc < 0)
		return rc;
	repair_sleep_until(r, read_done + r->host_dead_ns);
	rc = repair_snapshot(r, 1);
	if (rc == 0)
		rc = repair_check_area_still(r);
	if (rc == 0)
		rc = repair_check_owner_still(r);
	if (rc == 0)
		repair_decode(r, &r->snap[1], &r->v);
	return rc;
}

static void repair_print_state(const struct repair *r)
{
	const struct repair_view *v = &r->v;
	const struct ondisk_leader *ld = &v->leader[v->last];
	char states[160];

	printf("resource %s (index %u) of lockspace %s, %u disk%s\n", r->name[0] ? r->name : "-",
	       r->index, r->s.header.name, r->s.path_count, r->s.path_count == 1 ? "" : "s");
	printf("  leader: lver %llu, ", (unsigned long long)ld->lver);
	if (ld->owner_host_id)
		printf("holder host %llu generation %llu", (unsigned long long)ld->owner_host_id,
		       (unsigned long long)ld->owner_generation);
	else
		printf("free");
	repair_states_text(r, v->leader_st, states, sizeof(states));
	printf(", reason %s (%s)\n", ondisk_reason_name(ld->reason), states);
	repair_states_text(r, v->blocker_st, states, sizeof(states));
	printf("  ballot block of host %u: damaged on %u of %u disks (%s)\n", r->a.blocker,
	       v->blocker_damaged, r->s.path_count, states);
	printf("  highest lver on disk: %llu (%s); --above %llu\n", (unsigned long long)v->lver_max,
	       v->lver_from, (unsigned long long)r->a.above);
	for (uint32_t k = 0; k < DL_MIN(v->other_count, REPAIR_OTHERS_SHOWN); k++)
		printf("  note: the ballot block of host %u is damaged too; if acquire still fails naming it, repair it the same way\n",
		       v->others[k]);
}

static void repair_print_plan(const struct repair *r)
{
	const struct layout *l = &r->s.layout;
	const struct ondisk_leader *ld = &r->v.leader[r->v.last];
	uint64_t leader_off = layout_leader_offset(l, r->index);
	uint64_t ballot_off = layout_ballot_offset(l, r->index, r->a.blocker);

	printf("%s, on each of the %u disks, in this order:\n",
	       r->a.force ? "writing" : "would write", r->s.path_count);
	printf("  1. leader at lba %llu (byte %llu): lver %llu, owner free (host 0), previous owner host %llu generation %llu, reason %s\n",
	       (unsigned long long)layout_lba(l, leader_off), (unsigned long long)leader_off,
	       (unsigned long long)r->new_lver, (unsigned long long)ld->owner_host_id,
	       (unsigned long long)ld->owner_generation,
	       ondisk_reason_name(ONDISK_REASON_OPERATOR));
	printf("  2. ballot block of host %u at lba %llu (byte %llu): an empty (all-zero) sector\n",
	       r->a.blocker, (unsigned long long)layout_lba(l, ballot_off),
	       (unsigned long long)ballot_off);
	printf("  the damaged block may have recorded a token above every lver on disk: if a fenced service has seen a token above %llu, run again with --above THAT_TOKEN\n",
	       (unsigned long long)r->new_lver);
}

/* The new leader of disk i: free, past every lver seen, naming the last holder as previous. */
static void repair_fill_leader(struct repair *r, uint32_t i, uint8_t *sector)
{
	const struct layout *l = &r->s.layout;
	const struct ondisk_leader *last = &r->v.leader[r->v.last];
	uint64_t offset = layout_leader_offset(l, r->index);
	struct ondisk_leader ld;

	memset(&ld, 0, sizeof(ld));
	ondisk_hdr_init(&ld.hdr, ONDISK_KIND_LEADER, r->s.header.hdr.lockspace_uuid,
	                r->s.disks[i].header.hdr.disk_index, layout_lba(l, offset));
	ld.lver = ld.hdr.seq = r->new_lver;
	ld.resource_index = r->index;
	ld.reason = ONDISK_REASON_OPERATOR;
	ld.prev_owner_host_id = last->owner_host_id;
	ld.prev_owner_generation = last->owner_generation;
	ld.since_wall_ms = clock_wall_ms();
	snprintf(ld.name, sizeof(ld.name), "%s", r->name[0] ? r->name : last->name);
	ondisk_leader_encode(&ld, l->sector_size, sector);
}

/* One sector at offset on every disk (sectors[i] for disk i), in one batch. */
static int repair_write(struct repair *r, uint64_t offset, const char *what)
{
	struct ioe_req reqs[IOE_DISKS_MAX];
	struct ioe_batch b = {0};
	uint32_t ss = r->s.header.sector_size;
	int rc;

	for (uint32_t i = 0; i < r->s.path_count; i++)
		reqs[i] = (struct ioe_req){.disk_index = (uint32_t)r->s.disks[i].ioe_index,
		                           .op = IOE_WRITE,
		                           .offset = offset,
		                           .len = ss,
		                           .buf = r->sectors[i]};
	b.reqs = reqs;
	b.req_count = r->s.path_count;
	b.deadline_ns = clock_now_ns(r->s.ioe->clk) + REPAIR_DEADLINE_MS * DL_NS_PER_MS;
	rc = ioe_run(r->s.ioe, &b);
	for (uint32_t i = 0; rc == 0 && i < r->s.path_count; i++) {
		if (reqs[i].result != (int)ss)
			rc = reqs[i].result < 0 ? reqs[i].result : -EIO;
		if (rc < 0)
			dlctl_err(
			        "writing the %s to %s failed: %s; the repair is incomplete: run it again once the disk answers",
			        what, r->s.disks[i].path, strerror(-rc));
	}
	return rc;
}

/* Read back: the new leader and the empty ballot on every disk. */
static int repair_verify(struct repair *r)
{
	int rc = repair_read(r, layout_lease_base(&r->s.layout, r->index),
	                     2 + r->s.layout.max_hosts, r->snap[0].area);
	struct repair_view v;

	if (rc < 0)
		return rc;
	repair_decode(r, &r->snap[0], &v);
	for (uint32_t i = 0; i < r->s.path_count; i++) {
		const struct ondisk_leader *ld = &v.leader[i];

		if (v.leader_st[i] != ONDISK_VALID || ld->lver != r->new_lver ||
		    ld->owner_host_id != 0 || ld->reason != ONDISK_REASON_OPERATOR ||
		    v.blocker_st[i] != ONDISK_EMPTY) {
			dlctl_err(
			        "read back from %s: leader %s (lver %llu), ballot of host %u %s: not what was written; run repair again",
			        r->s.disks[i].path, ondisk_state_name(v.leader_st[i]),
			        (unsigned long long)ld->lver, r->a.blocker,
			        ondisk_state_name(v.blocker_st[i]));
			return -EIO;
		}
	}
	return 0;
}

static int repair_apply(struct repair *r)
{
	const struct layout *l = &r->s.layout;
	int rc;

	for (uint32_t i = 0; i < r->s.path_count; i++)
		repair_fill_leader(r, i, r->sectors[i]);
	rc = repair_write(r, layout_leader_offset(l, r->index), "leader");
	if (rc < 0)
		return rc;
	memset(r->sectors, 0, sizeof(r->sectors));
	rc = repair_write(r, layout_ballot_offset(l, r->index, r->a.blocker), "empty ballot");
	if (rc == 0)
		rc = repair_verify(r);
	return rc;
}

static void repair_audit(const struct repair *r)
{
	const struct ondisk_leader *ld = &r->v.leader[r->v.last];
	char when[32], uuid[40];

	dlctl_wall_text(clock_wall_ms(), when, sizeof(when));
	ondisk_uuid_format(r->s.header.hdr.lockspace_uuid, uuid);
	printf("audit: %s dlctl repair uid=%u lockspace=%s uuid=%s resource=%s index=%u blocker=%u damaged=%u/%u lver=%llu->%llu seen=%llu above=%llu prev_owner=%llu/g%llu disks=",
	       when, (unsigned)getuid(), r->s.header.name, uuid, r->name[0] ? r->name : "-",
	       r->index, r->a.blocker, r->v.blocker_damaged, r->s.path_count,
	       (unsigned long long)ld->lver, (unsigned long long)r->new_lver,
	       (unsigned long long)r->v.lver_max, (unsigned long long)r->a.above,
	       (unsigned long long)ld->owner_host_id, (unsigned long long)ld->owner_generation);
	for (uint32_t i = 0; i < r->s.path_count; i++)
		printf("%s%s", i ? "," : "", r->s.disks[i].path);
	printf("\n");
}

/* Checks 2 to 4 of the file comment, then the writes. */
static int repair_run(struct repair *r)
{
	struct timing t;
	int rc;

	timing_init(&t, r->s.header.io_timeout_ms);
	r->host_dead_ns = t.host_dead_ns;
	rc = repair_alloc(r);
	if (rc == 0)
		rc = repair_snapshot(r, 0);
	if (rc < 0)
		return rc;
	repair_decode(r, &r->snap[0], &r->v);
	rc = repair_check_area(r);
	if (rc == 0)
		rc = repair_watch(r);
	if (rc == 0)
		rc = repair_check_area(r); /* the second read is the one written over */
	if (rc < 0)
		return rc;
	r->new_lver = DL_MAX(r->v.lver_max, r->a.above) + 1;
	repair_print_state(r);
	repair_print_plan(r);
	if (!r->a.force) {
		printf("nothing written: add --force to write\n");
		return -EAGAIN;
	}
	rc = repair_apply(r);
	if (rc < 0)
		return rc;
	printf("repaired: resource %s (index %u) is free at lver %llu on every disk, and the ballot block of host %u is empty\n",
	       r->name[0] ? r->name : "-", r->index, (unsigned long long)r->new_lver, r->a.blocker);
	printf("fencing: the next holder's token will be %llu or more; fenced services must from now on refuse every token up to %llu\n",
	       (unsigned long long)r->new_lver + 1, (unsigned long long)r->new_lver);
	repair_audit(r);
	return 0;
}

int dlctl_repair(int argc, char **argv)
{
	struct repair *r = calloc(1, sizeof(*r));
	struct ioe *e;
	int rc;

	if (!r)
		return DLCTL_EXIT_FAIL;
	if (repair_parse(argc, argv, &r->a) < 0) {
		free(r);
		return dlctl_usage("repair");
	}
	rc = dlctl_engine(r->a.engine, &e);
	if (rc < 0)
		goto out_free;
	rc = space_open(&r->s, e, (const char *const *)argv + optind, (uint32_t)(argc - optind),
	                true);
	if (rc == 0)
		rc = space_load(&r->s);
	if (rc < 0 && rc != -ESTALE)
		dlctl_err("repair refused: %s", r->s.why[0] ? r->s.why : strerror(-rc));
	if (rc == 0 || rc == -ESTALE)
		rc = repair_check_disks(r); /* names the disagreeing disk */
	if (rc == 0)
		rc = repair_find_resource(r);
	if (rc == 0)
		rc = repair_run(r);
	space_close(&r->s);
	ioe_destroy(e);
out_free:
	repair_free(r);
	free(r);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
