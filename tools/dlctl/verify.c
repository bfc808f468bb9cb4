/* SPDX-License-Identifier: MIT */
/*
 * verify.c: `dlctl verify` -- read every slot on every disk and exit 1,
 * naming each problem, when a slot is damaged (anything but valid or
 * empty), a disk is missing or unreadable, or the disks disagree on the
 * lockspace header. Never writes.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "inspect.h"
#include "banned.h"

struct verify_ctx {
	struct space *s;
	uint64_t checked;
	uint32_t problems;
};

static void verify_slot(struct verify_ctx *c, const char *what, const struct slot_view *v)
{
	c->checked++;
	if (!inspect_state_is_damage(v->state))
		return;
	c->problems++;
	for (uint32_t i = 0; i < c->s->path_count; i++) {
		if (inspect_state_is_damage(v->per_disk[i]) && c->s->disks[i].agrees)
			printf("damaged: %s (lba %llu) on %s: %s\n", what,
			       (unsigned long long)v->lba, c->s->disks[i].path,
			       ondisk_state_name(v->per_disk[i]));
	}
}

static void verify_host(void *ctx, uint32_t host_id, const struct slot_view *v,
                        const struct ondisk_host *rec, const struct slot_view *mv,
                        const struct ondisk_mailbox *mailbox)
{
	char what[64];

	(void)rec;
	(void)mailbox;
	snprintf(what, sizeof(what), "host slot %u", host_id);
	verify_slot(ctx, what, v);
	snprintf(what, sizeof(what), "mailbox of host %u", host_id);
	verify_slot(ctx, what, mv);
}

static void verify_dir_sector(void *ctx, uint32_t dir_sector, const struct slot_view *v)
{
	char what[64];

	snprintf(what, sizeof(what), "directory sector %u", dir_sector);
	verify_slot(ctx, what, v);
}

static void verify_resource(void *ctx, const struct resource_view *r)
{
	char area[40], what[96];

	if (r->index == LAYOUT_DIRECTORY)
		snprintf(area, sizeof(area), "directory lease");
	else
		snprintf(area, sizeof(area), "resource %u", r->index);
	snprintf(what, sizeof(what), "%s leader", area);
	verify_slot(ctx, what, &r->leader_v);
	snprintf(what, sizeof(what), "%s request", area);
	verify_slot(ctx, what, &r->request_v);
	for (uint32_t k = 0; k < r->ballot_count; k++) {
		snprintf(what, sizeof(what), "%s ballot of host %u", area, r->ballots[k].host_id);
		verify_slot(ctx, what, &r->ballots[k].v);
	}
}

/* Disks that are missing, unreadable or of another lockspace are problems too. */
static void verify_disks(struct verify_ctx *c)
{
	const struct space *s = c->s;

	for (uint32_t i = 0; i < s->path_count; i++) {
		const struct space_disk *d = &s->disks[i];

		if (d->open_rc)
			printf("damaged: disk %s: cannot open: %s\n", d->path,
			       strerror(-d->open_rc));
		else if (d->header_state != ONDISK_VALID)
			printf("damaged: disk %s: header %s\n", d->path,
			       ondisk_state_name(d->header_state));
		else if (!d->agrees)
			printf("damaged: disk %s: header disagrees with the other disks\n",
			       d->path);
		else
			continue;
		c->problems++;
	}
	if (s->path_count < s->header.disk_count) {
		printf("incomplete: %u of the lockspace's %u disks given\n", s->path_count,
		       s->header.disk_count);
		c->problems++;
	}
}

int dlctl_verify(int argc, char **argv)
{
	static const struct inspect_ops ops = {
	        .host = verify_host,
	        .dir_sector = verify_dir_sector,
	        .resource = verify_resource,
	};
	static const struct option opts[] = {
	        {"engine", required_argument, NULL, 'e'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct verify_ctx c = {0};
	const char *engine = NULL;
	struct space s;
	struct ioe *e;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
		if (ch != 'e')
			return dlctl_usage("verify");
		engine = optarg;
	}
	if (optind >= argc) {
		dlctl_err("verify needs at least one DISK");
		return dlctl_usage("verify");
	}
	if (dlctl_engine(engine, &e) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_open_space(&s, e, argc - optind, argv + optind);
	if (rc == 0) {
		c.s = &s;
		verify_disks(&c);
		rc = inspect_run(&s, &ops, &c);
		if (rc < 0)
			dlctl_err("reading the lockspace failed: %s", strerror(-rc));
	}
	if (rc == 0 && c.problems == 0)
		printf("ok: lockspace %s, %u disk%s agree, %llu slots checked\n", s.header.name,
		       s.agree_count, s.agree_count == 1 ? "" : "s", (unsigned long long)c.checked);
	else if (rc == 0)
		printf("%u problem%s found in lockspace %s\n", c.problems,
		       c.problems == 1 ? "" : "s", s.header.name);
	space_close(&s);
	ioe_destroy(e);
	return (rc < 0 || c.problems) ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
