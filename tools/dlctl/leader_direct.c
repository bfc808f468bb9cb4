/* SPDX-License-Identifier: MIT */
/*
 * leader_direct.c: `dlctl leader --direct [--resource R] DISK...` -- who
 * holds what, from the slots alone: no daemon, no writes. It opens the
 * lockspace read-only (as dump does), finds the resource by name in the
 * directory table (every used or named resource without --resource), reads
 * its leader record (the decided holder, fencing token = lver, since, why,
 * previous holder) and the holder's host slot (its delta lease).
 *
 * What one read can and cannot say: a host is live while its timestamp keeps
 * changing, and dead only once it stayed unchanged for host_dead (4.25T).
 * One read sees one timestamp, so this prints how old it is -- by
 * CLOCK_BOOTTIME when the holder is this machine (same boot id), else by the
 * wall clocks, which may differ between hosts -- and never claims "live".
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "lease/timing.h"
#include "inspect.h"
#include "banned.h"

struct direct_host {
	bool valid;
	struct ondisk_host rec;
};

struct direct_ctx {
	const struct space *s;
	const char *resource; /* NULL: all */
	bool json;
	bool first;
	uint32_t shown;
	struct direct_host *hosts; /* by host id - 1 */
	bool have_boot_id;
	uint8_t boot_id[ONDISK_UUID_SIZE];
	uint64_t host_dead_ms;
};

/* How old the holder's timestamp is, and by which clock. */
struct direct_age {
	bool known;
	bool by_boottime;
	uint64_t age_ms;
};

static void direct_read_boot_id(struct direct_ctx *c)
{
	char text[64] = {0};
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 36)
		return;
	text[36] = '\0';
	c->have_boot_id = ondisk_uuid_parse(text, c->boot_id) == 0;
}

static void direct_host(void *ctx, uint32_t host_id, const struct slot_view *v,
                        const struct ondisk_host *rec, const struct slot_view *mv,
                        const struct ondisk_mailbox *mailbox)
{
	struct direct_ctx *c = ctx;

	(void)mv;
	(void)mailbox;
	if (v->best_disk < 0)
		return;
	c->hosts[host_id - 1].valid = true;
	c->hosts[host_id - 1].rec = *rec;
}

static bool direct_want(void *ctx, uint32_t index, const char *name)
{
	struct direct_ctx *c = ctx;

	if (index == LAYOUT_DIRECTORY)
		return false;
	return !c->resource || !strcmp(name, c->resource);
}

static struct direct_age direct_age(const struct direct_ctx *c, const struct ondisk_host *rec)
{
	struct direct_age a = {0};
	struct timespec ts;

	if (c->have_boot_id && !memcmp(rec->boot_id, c->boot_id, ONDISK_UUID_SIZE) &&
	    clock_gettime(CLOCK_BOOTTIME, &ts) == 0) {
		uint64_t now = (uint64_t)ts.tv_sec * DL_NS_PER_SEC + (uint64_t)ts.tv_nsec;

		a.known = true;
		a.by_boottime = true;
		a.age_ms = now > rec->timestamp_ns ? (now - rec->timestamp_ns) / DL_NS_PER_MS : 0;
	} else if (rec->renewed_wall_ms) {
		uint64_t now = clock_wall_ms();

		a.known = true;
		a.age_ms = now > rec->renewed_wall_ms ? now - rec->renewed_wall_ms : 0;
	}
	return a;
}

static const char *direct_slot_state(const struct ondisk_host *rec, uint64_t generation)
{
	if (rec->hdr.writer_generation != generation)
		return "rejoined"; /* the slot's generation moved on: the holder's is gone */
	if (rec->state == ONDISK_HOST_LIVE)
		return "joined";
	if (rec->state == ONDISK_HOST_JOINING)
		return "joining";
	return "left";
}

static void direct_json(struct direct_ctx *c, const struct resource_view *r,
                        const struct direct_host *dh, const struct direct_age *age)
{
	const struct ondisk_leader *l = &r->leader;

	printf("%s\n    {\"resource\": ", c->first ? "" : ",");
	c->first = false;
	dlctl_json_str(stdout, r->name);
	printf(", \"index\": %u, \"record\": \"%s\"", r->index,
	       ondisk_state_name(r->leader_v.state));
	if (r->leader_v.best_disk < 0) {
		printf("}");
		return;
	}
	printf(", \"owner_host_id\": %llu, \"owner_generation\": %llu, \"token\": %llu, \"since_ms\": %llu, \"reason\": \"%s\", \"prev_host_id\": %llu, \"prev_generation\": %llu",
	       (unsigned long long)l->owner_host_id, (unsigned long long)l->owner_generation,
	       (unsigned long long)l->lver, (unsigned long long)l->since_wall_ms,
	       ondisk_reason_name(l->reason), (unsigned long long)l->prev_owner_host_id,
	       (unsigned long long)l->prev_owner_generation);
	if (dh) {
		printf(", \"owner_name\": ");
		dlctl_json_str(stdout, dh->rec.host_name);
		printf(", \"owner_slot\": {\"state\": \"%s\", \"generation\": %llu, \"renewed_ms\": %llu",
		       direct_slot_state(&dh->rec, l->owner_generation),
		       (unsigned long long)dh->rec.hdr.writer_generation,
		       (unsigned long long)dh->rec.renewed_wall_ms);
		if (age->known)
			printf(", \"timestamp_age_ms\": %llu, \"age_clock\": \"%s\"",
			       (unsigned long long)age->age_ms,
			       age->by_boottime ? "boottime" : "wall");
		printf(", \"host_dead_ms\": %llu}", (unsigned long long)c->host_dead_ms);
	}
	printf("}");
}

static void direct_human_owner(const struct direct_ctx *c, const struct ondisk_leader *l,
                               const struct direct_host *dh, const struct direct_age *age)
{
	const char *state;

	if (!dh) {
		printf("  holder's host slot %llu: empty or unreadable\n",
		       (unsigned long long)l->owner_host_id);
		return;
	}
	state = direct_slot_state(&dh->rec, l->owner_generation);
	printf("  holder's host slot: %s, generation %llu", state,
	       (unsigned long long)dh->rec.hdr.writer_generation);
	if (age->known)
		printf(", timestamp %llu ms old (%s)", (unsigned long long)age->age_ms,
		       age->by_boottime ? "same machine, by CLOCK_BOOTTIME"
		                        : "by the wall clocks, which may differ between hosts");
	printf("\n");
	if (!strcmp(state, "joined"))
		printf("  (one read cannot tell live from dead: a daemon declares the host dead once its timestamp stays unchanged for %llu ms)\n",
		       (unsigned long long)c->host_dead_ms);
}

static void direct_human(struct direct_ctx *c, const struct resource_view *r,
                         const struct direct_host *dh, const struct direct_age *age)
{
	const struct ondisk_leader *l = &r->leader;
	char since[32];

	if (r->leader_v.best_disk < 0) {
		printf("%s (index %u): leader record %s\n", r->name[0] ? r->name : "-", r->index,
		       ondisk_state_name(r->leader_v.state));
		return;
	}
	dlctl_wall_text(l->since_wall_ms, since, sizeof(since));
	if (l->owner_host_id == 0)
		printf("%s (index %u): free\n", r->name[0] ? r->name : "-", r->index);
	else
		printf("%s (index %u): held by host %llu (%s), generation %llu\n",
		       r->name[0] ? r->name : "-", r->index, (unsigned long long)l->owner_host_id,
		       dh ? dh->rec.host_name : "?", (unsigned long long)l->owner_generation);
	printf("  token %llu, since %s, reason %s\n", (unsigned long long)l->lver, since,
	       ondisk_reason_name(l->reason));
	if (l->prev_owner_host_id)
		printf("  previous holder host %llu, generation %llu\n",
		       (unsigned long long)l->prev_owner_host_id,
		       (unsigned long long)l->prev_owner_generation);
	if (l->owner_host_id)
		direct_human_owner(c, l, dh, age);
}

static void direct_resource(void *ctx, const struct resource_view *r)
{
	struct direct_ctx *c = ctx;
	const struct ondisk_leader *l = &r->leader;
	const struct direct_host *dh = NULL;
	struct direct_age age = {0};

	/* without --resource: only what is named or has been used */
	if (!c->resource && !r->name[0] && r->leader_v.best_disk >= 0 && l->lver == 0 &&
	    l->owner_host_id == 0)
		return;
	if (r->leader_v.best_disk >= 0 && l->owner_host_id >= 1 &&
	    l->owner_host_id <= c->s->layout.max_hosts && c->hosts[l->owner_host_id - 1].valid)
		dh = &c->hosts[l->owner_host_id - 1];
	if (dh)
		age = direct_age(c, &dh->rec);
	c->shown++;
	if (c->json)
		direct_json(c, r, dh, &age);
	else
		direct_human(c, r, dh, &age);
}

static int direct_run(struct space *s, struct direct_ctx *c)
{
	static const struct inspect_ops ops = {
	        .host = direct_host,
	        .resource = direct_resource,
	        .want_area = direct_want,
	};
	struct timing t;
	int rc;

	timing_init(&t, s->header.io_timeout_ms);
	c->host_dead_ms = t.host_dead_ns / DL_NS_PER_MS;
	c->hosts = calloc(s->layout.max_hosts, sizeof(*c->hosts));
	if (!c->hosts)
		return -ENOMEM;
	if (c->json) {
		printf("{\"lockspace\": ");
		dlctl_json_str(stdout, s->header.name);
		printf(", \"resources\": [");
	}
	rc = inspect_run(s, &ops, c);
	if (c->json)
		printf("\n  ]}\n");
	free(c->hosts);
	return rc;
}

int dlctl_leader_direct(int argc, char **argv, const char *resource, bool json, const char *engine)
{
	struct direct_ctx c = {.resource = resource, .json = json, .first = true};
	struct space s;
	struct ioe *e;
	int rc;

	if (dlctl_engine(engine, &e) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_open_space(&s, e, argc, argv);
	if (rc < 0)
		goto out_close;
	c.s = &s;
	direct_read_boot_id(&c);
	rc = direct_run(&s, &c);
	if (rc < 0)
		dlctl_err("reading the lockspace failed: %s", strerror(-rc));
	else if (resource && c.shown == 0)
		rc = -ENOENT;
	if (rc == -ENOENT)
		dlctl_err("lockspace %s has no resource named %s", s.header.name, resource);
	else if (rc == 0 && c.shown == 0 && !json)
		printf("lockspace %s: no resource named or ever held\n", s.header.name);
out_close:
	space_close(&s);
	ioe_destroy(e);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
