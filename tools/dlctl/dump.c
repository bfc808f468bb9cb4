/* SPDX-License-Identifier: MIT */
/*
 * dump.c: `dlctl dump` -- show every slot of a lockspace, from the slots
 * themselves, without a daemon and without writing. Works with disks
 * missing or damaged: what each disk says is shown per disk.
 *
 * Human output lists the header, each disk, every host slot in use, and every
 * resource that is named, held, has been used, or is damaged (--all: every
 * slot). --json prints one object: lockspace, sector_size, disks, hosts,
 * resources; every slot entry carries "slot" and "state".
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "base/clock.h"
#include "inspect.h"
#include "banned.h"

struct dump_ctx {
	struct space *s;
	bool json;
	bool all;
	bool first;      /* JSON: no comma before the first element of a list */
	int phase;       /* JSON: which list is open: 0 hosts, 1 directory sectors, 2 resources */
	bool hosts_done; /* human: the host table is finished */
	uint32_t hosts_shown, hosts_hidden, resources_shown, resources_hidden, damaged;
};

static const char *host_state_name(uint32_t state)
{
	switch (state) {
	case ONDISK_HOST_LIVE:
		return "joined";
	case ONDISK_HOST_JOINING:
		return "joining";
	default:
		return "left";
	}
}

/* "0:valid,1:bad_checksum" when the disks disagree, else "". */
static void disks_text(const struct space *s, const struct slot_view *v, char *out, size_t size)
{
	size_t o = 0;
	bool mixed = false;

	out[0] = '\0';
	for (uint32_t i = 1; i < s->path_count; i++)
		mixed |= v->per_disk[i] != v->per_disk[0];
	if (!mixed)
		return;
	for (uint32_t i = 0; i < s->path_count && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%u:%s", i ? "," : "",
		                      s->disks[i].header.hdr.disk_index,
		                      ondisk_state_name(v->per_disk[i]));
}

static void json_disks(const struct space *s, const struct slot_view *v)
{
	printf(", \"disks\": [");
	for (uint32_t i = 0; i < s->path_count; i++)
		printf("%s{\"disk\": %u, \"state\": \"%s\"}", i ? ", " : "", i,
		       ondisk_state_name(v->per_disk[i]));
	printf("]");
}

static void json_slot_begin(struct dump_ctx *c, uint64_t slot, const struct slot_view *v)
{
	printf("%s\n    {\"slot\": %llu, \"state\": \"%s\", \"lba\": %llu", c->first ? "" : ",",
	       (unsigned long long)slot, ondisk_state_name(v->state), (unsigned long long)v->lba);
	c->first = false;
}

static void dump_mailbox_json(const struct slot_view *mv, const struct ondisk_mailbox *m)
{
	printf(", \"mailbox\": {\"state\": \"%s\", \"lba\": %llu", ondisk_state_name(mv->state),
	       (unsigned long long)mv->lba);
	if (mv->best_disk >= 0)
		printf(", \"requester_host_id\": %llu, \"resource\": %u, \"lver\": %llu, \"mode\": %u",
		       (unsigned long long)m->hdr.writer_host_id, m->resource_index,
		       (unsigned long long)m->lver, m->mode);
	printf("}");
}

static void dump_mailbox_human(uint32_t host_id, const struct slot_view *mv,
                               const struct ondisk_mailbox *m)
{
	if (mv->state == ONDISK_EMPTY)
		return;
	if (mv->best_disk < 0)
		printf("        mailbox of host %u: %s\n", host_id, ondisk_state_name(mv->state));
	else
		printf("        mailbox of host %u: %s: host %llu asks for resource %u (lver %llu)\n",
		       host_id, ondisk_state_name(mv->state),
		       (unsigned long long)m->hdr.writer_host_id, m->resource_index,
		       (unsigned long long)m->lver);
}

static void dump_host(void *ctx, uint32_t host_id, const struct slot_view *v,
                      const struct ondisk_host *rec, const struct slot_view *mv,
                      const struct ondisk_mailbox *mailbox)
{
	struct dump_ctx *c = ctx;
	char when[32], joined[32], disks[128], uuid[40], boot[40];
	if (inspect_state_is_damage(v->state))
		c->damaged++;
	if (inspect_state_is_damage(mv->state))
		c->damaged++;
	if (c->json) {
		json_slot_begin(c, host_id, v);
		dump_mailbox_json(mv, mailbox);
		if (v->best_disk >= 0) {
			ondisk_uuid_format(rec->host_uuid, uuid);
			ondisk_uuid_format(rec->boot_id, boot);
			printf(", \"host_id\": %u, \"name\": ", host_id);
			dlctl_json_str(stdout, rec->host_name);
			printf(", \"host_uuid\": \"%s\", \"boot_id\": \"%s\", \"generation\": %llu, \"renewals\": %llu, \"timestamp_ns\": %llu, \"io_timeout_ms\": %u, \"host_state\": \"%s\", \"joined_wall_ms\": %llu, \"renewed_wall_ms\": %llu",
			       uuid, boot, (unsigned long long)rec->hdr.writer_generation,
			       (unsigned long long)rec->hdr.seq,
			       (unsigned long long)rec->timestamp_ns, rec->io_timeout_ms,
			       host_state_name(rec->state), (unsigned long long)rec->joined_wall_ms,
			       (unsigned long long)rec->renewed_wall_ms);
		}
		json_disks(c->s, v);
		printf("}");
		return;
	}
	if (v->state == ONDISK_EMPTY && mv->state == ONDISK_EMPTY && !c->all) {
		c->hosts_hidden++;
		return;
	}
	if (c->hosts_shown++ == 0)
		printf("  %-5s %-12s %-8s %-24s %-10s %-21s %s\n", "SLOT", "STATE", "HOST", "NAME",
		       "GENERATION", "RENEWED", "DISKS");
	disks_text(c->s, v, disks, sizeof(disks));
	if (v->best_disk < 0) {
		printf("  %-5u %-12s %-8s %-24s %-10s %-21s %s\n", host_id,
		       ondisk_state_name(v->state), "-", "-", "-", "-", disks);
	} else {
		dlctl_wall_text(rec->renewed_wall_ms, when, sizeof(when));
		dlctl_wall_text(rec->joined_wall_ms, joined, sizeof(joined));
		printf("  %-5u %-12s %-8s %-24s %-10llu %-21s %s\n", host_id,
		       ondisk_state_name(v->state), host_state_name(rec->state), rec->host_name,
		       (unsigned long long)rec->hdr.writer_generation, when, disks);
	}
	dump_mailbox_human(host_id, mv, mailbox);
}

/* Human output: close the host table before the first directory or resource line. */
static void dump_hosts_done(struct dump_ctx *c)
{
	if (c->hosts_done)
		return;
	c->hosts_done = true;
	if (c->hosts_hidden)
		printf("  (%u empty host slot%s not listed; --all lists them)\n", c->hosts_hidden,
		       c->hosts_hidden == 1 ? "" : "s");
	printf("directory and resources:\n");
}

static void dump_dir_sector(void *ctx, uint32_t dir_sector, const struct slot_view *v)
{
	struct dump_ctx *c = ctx;
	char disks[128];

	if (inspect_state_is_damage(v->state))
		c->damaged++;
	if (c->json) {
		if (c->phase == 0) {
			printf("\n  ],\n  \"directory_sectors\": [");
			c->phase = 1;
			c->first = true;
		}
		json_slot_begin(c, dir_sector, v);
		json_disks(c->s, v);
		printf("}");
		return;
	}
	dump_hosts_done(c);
	if (!inspect_state_is_damage(v->state))
		return;
	disks_text(c->s, v, disks, sizeof(disks));
	printf("  directory sector %u (lba %llu): %s %s\n", dir_sector, (unsigned long long)v->lba,
	       ondisk_state_name(v->state), disks);
}

static bool resource_interesting(const struct resource_view *r)
{
	if (r->name[0] || r->leader_v.state != ONDISK_VALID || r->request_v.state != ONDISK_EMPTY)
		return true;
	if (r->leader.lver != 0 || r->leader.owner_host_id != 0 || r->ballot_count != 0)
		return true;
	return false;
}

static void dump_resource_json(struct dump_ctx *c, const struct resource_view *r)
{
	if (r->index == LAYOUT_DIRECTORY) {
		printf("\n  ],\n  \"directory\": {\"slot\": \"directory\", \"state\": \"%s\", \"lba\": %llu",
		       ondisk_state_name(r->leader_v.state), (unsigned long long)r->leader_v.lba);
	} else {
		json_slot_begin(c, r->index, &r->leader_v);
		printf(", \"name\": ");
		dlctl_json_str(stdout, r->name);
	}
	if (r->leader_v.best_disk >= 0)
		printf(", \"owner_host_id\": %llu, \"owner_generation\": %llu, \"lver\": %llu, \"reason\": \"%s\", \"prev_owner_host_id\": %llu, \"prev_owner_generation\": %llu, \"since_wall_ms\": %llu",
		       (unsigned long long)r->leader.owner_host_id,
		       (unsigned long long)r->leader.owner_generation,
		       (unsigned long long)r->leader.lver, ondisk_reason_name(r->leader.reason),
		       (unsigned long long)r->leader.prev_owner_host_id,
		       (unsigned long long)r->leader.prev_owner_generation,
		       (unsigned long long)r->leader.since_wall_ms);
	json_disks(c->s, &r->leader_v);
	printf(", \"request\": {\"slot\": 1, \"state\": \"%s\"",
	       ondisk_state_name(r->request_v.state));
	if (r->request_v.best_disk >= 0)
		printf(", \"requester_host_id\": %llu, \"lver\": %llu, \"mode\": %u",
		       (unsigned long long)r->request.requester_host_id,
		       (unsigned long long)r->request.lver, r->request.mode);
	printf("}, \"ballots\": [");
	for (uint32_t k = 0; k < r->ballot_count; k++) {
		const struct ballot_view *b = &r->ballots[k];

		printf("%s{\"slot\": %u, \"state\": \"%s\"", k ? ", " : "", b->host_id,
		       ondisk_state_name(b->v.state));
		if (b->v.best_disk >= 0)
			printf(", \"mbal\": %llu, \"bal\": %llu, \"inp_owner_host_id\": %llu, \"inp_owner_generation\": %llu, \"lver\": %llu, \"flags\": %u",
			       (unsigned long long)b->rec.mbal, (unsigned long long)b->rec.bal,
			       (unsigned long long)b->rec.inp_owner_host_id,
			       (unsigned long long)b->rec.inp_owner_generation,
			       (unsigned long long)b->rec.lver, b->rec.hdr.flags);
		printf("}");
	}
	printf("]}");
	if (r->index == LAYOUT_DIRECTORY) {
		printf(",\n  \"resources\": [");
		c->phase = 2;
		c->first = true;
	}
}

static void dump_resource_human(struct dump_ctx *c, const struct resource_view *r)
{
	char since[32], disks[128], owner[48], req[48];
	const char *slot_name = r->index == LAYOUT_DIRECTORY ? "dir" : NULL;
	char slot_text[16];

	if (c->resources_shown++ == 0)
		printf("  %-5s %-20s %-12s %-10s %-6s %-21s %-24s %-10s %s\n", "SLOT", "NAME",
		       "STATE", "OWNER", "LVER", "SINCE", "REASON", "REQUEST", "DISKS");
	snprintf(slot_text, sizeof(slot_text), "%u", r->index);
	disks_text(c->s, &r->leader_v, disks, sizeof(disks));
	snprintf(owner, sizeof(owner), "-");
	snprintf(req, sizeof(req), "%s",
	         r->request_v.state == ONDISK_EMPTY ? "-" : ondisk_state_name(r->request_v.state));
	if (r->request_v.best_disk >= 0)
		snprintf(req, sizeof(req), "host %llu",
		         (unsigned long long)r->request.requester_host_id);
	if (r->leader_v.best_disk < 0) {
		printf("  %-5s %-20s %-12s %-10s %-6s %-21s %-24s %-10s %s\n",
		       slot_name ? slot_name : slot_text, r->name[0] ? r->name : "-",
		       ondisk_state_name(r->leader_v.state), "-", "-", "-", "-", req, disks);
		return;
	}
	if (r->leader.owner_host_id)
		snprintf(owner, sizeof(owner), "%llu/g%llu",
		         (unsigned long long)r->leader.owner_host_id,
		         (unsigned long long)r->leader.owner_generation);
	else
		snprintf(owner, sizeof(owner), "free");
	dlctl_wall_text(r->leader.since_wall_ms, since, sizeof(since));
	printf("  %-5s %-20s %-12s %-10s %-6llu %-21s %-24s %-10s %s\n",
	       slot_name ? slot_name : slot_text, r->name[0] ? r->name : "-",
	       ondisk_state_name(r->leader_v.state), owner, (unsigned long long)r->leader.lver,
	       since, ondisk_reason_name(r->leader.reason), req, disks);
	for (uint32_t k = 0; k < r->ballot_count; k++) {
		const struct ballot_view *b = &r->ballots[k];

		if (b->v.best_disk < 0)
			printf("        ballot host %u: %s\n", b->host_id,
			       ondisk_state_name(b->v.state));
		else
			printf("        ballot host %u: %s mbal %llu bal %llu inp %llu/g%llu lver %llu\n",
			       b->host_id, ondisk_state_name(b->v.state),
			       (unsigned long long)b->rec.mbal, (unsigned long long)b->rec.bal,
			       (unsigned long long)b->rec.inp_owner_host_id,
			       (unsigned long long)b->rec.inp_owner_generation,
			       (unsigned long long)b->rec.lver);
	}
}

static void dump_resource(void *ctx, const struct resource_view *r)
{
	struct dump_ctx *c = ctx;
	bool damaged = inspect_state_is_damage(r->leader_v.state) ||
	               inspect_state_is_damage(r->request_v.state);

	for (uint32_t k = 0; k < r->ballot_count; k++)
		damaged |= inspect_state_is_damage(r->ballots[k].v.state);
	c->damaged += damaged;
	if (c->json) {
		dump_resource_json(c, r);
		return;
	}
	dump_hosts_done(c);
	if (!c->all && !damaged && !resource_interesting(r)) {
		c->resources_hidden++;
		return;
	}
	dump_resource_human(c, r);
}

static void dump_header_json(const struct space *s)
{
	char uuid[40];

	ondisk_uuid_format(s->header.hdr.lockspace_uuid, uuid);
	printf("{\n  \"lockspace\": {\"name\": ");
	dlctl_json_str(stdout, s->header.name);
	printf(", \"uuid\": \"%s\", \"format_version\": %u, \"disk_count\": %u, \"max_hosts\": %u, \"max_resources\": %u, \"io_timeout_ms\": %u, \"align_size\": %u, \"lease_area_size\": %llu, \"disk_size_min\": %llu, \"format_wall_ms\": %llu},\n",
	       uuid, s->header.hdr.version, s->header.disk_count, s->header.max_hosts,
	       s->header.max_resources, s->header.io_timeout_ms, s->header.align_size,
	       (unsigned long long)s->header.lease_area_size,
	       (unsigned long long)s->header.disk_size_min,
	       (unsigned long long)s->header.format_wall_ms);
	printf("  \"sector_size\": %u,\n  \"engine\": \"%s\",\n  \"disks\": [",
	       s->header.sector_size, ioe_name(s->ioe));
	for (uint32_t i = 0; i < s->path_count; i++) {
		const struct space_disk *d = &s->disks[i];

		printf("%s\n    {\"slot\": %u, \"path\": ", i ? "," : "", i);
		dlctl_json_str(stdout, d->path);
		printf(", \"state\": \"%s\", \"in_use\": %s, \"disk_index\": %d, \"size_bytes\": %llu, \"error\": ",
		       ondisk_state_name(d->header_state), d->agrees ? "true" : "false",
		       d->header_state == ONDISK_VALID ? (int)d->header.hdr.disk_index : -1,
		       (unsigned long long)d->dev.size_bytes);
		dlctl_json_str(stdout, d->open_rc ? strerror(-d->open_rc) : "");
		printf("}");
	}
	printf("\n  ],\n  \"hosts\": [");
}

static void dump_header_human(const struct space *s)
{
	char uuid[40], when[32], size[32];

	ondisk_uuid_format(s->header.hdr.lockspace_uuid, uuid);
	dlctl_wall_text(s->header.format_wall_ms, when, sizeof(when));
	printf("lockspace %s  uuid %s  format v%u  formatted %s\n", s->header.name, uuid,
	       s->header.hdr.version, when);
	printf("  sector %u  max-hosts %u  resources %u  io-timeout %.3f s  disks %u (majority %u)  engine %s\n",
	       s->header.sector_size, s->header.max_hosts, s->header.max_resources,
	       s->header.io_timeout_ms / 1000.0, s->header.disk_count, space_majority(s),
	       ioe_name(s->ioe));
	printf("disks:\n  %-5s %-5s %-40s %-12s %s\n", "SLOT", "DISK", "PATH", "HEADER", "SIZE");
	for (uint32_t i = 0; i < s->path_count; i++) {
		const struct space_disk *d = &s->disks[i];
		char idx[16];

		snprintf(idx, sizeof(idx), "%u/%u", d->header.hdr.disk_index + 1,
		         d->header.disk_count);
		dlctl_size_text(d->dev.size_bytes, size, sizeof(size));
		if (d->open_rc)
			printf("  %-5u %-5s %-40s %-12s %s\n", i, "-", d->path, "unreadable",
			       strerror(-d->open_rc));
		else
			printf("  %-5u %-5s %-40s %-12s %s%s\n", i,
			       d->header_state == ONDISK_VALID ? idx : "-", d->path,
			       ondisk_state_name(d->header_state), size,
			       d->header_state == ONDISK_VALID && !d->agrees
			               ? "  (another lockspace: not used)"
			               : "");
	}
	printf("hosts:\n");
}

static int dump_parse(int argc, char **argv, struct dump_ctx *c, const char **engine)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"all", no_argument, NULL, 'a'},
	        {"engine", required_argument, NULL, 'e'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "jae:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			c->json = true;
			break;
		case 'a':
			c->all = true;
			break;
		case 'e':
			*engine = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		dlctl_err("%s needs at least one DISK", argv[0]);
		return -EINVAL;
	}
	return 0;
}

int dlctl_open_space(struct space *s, struct ioe *e, int argc, char **argv)
{
	int rc = space_open(s, e, (const char *const *)argv, (uint32_t)argc, false);

	if (rc == 0)
		rc = space_load(s);
	if (rc < 0 && rc != -ESTALE)
		dlctl_err("%s", s->why[0] ? s->why : strerror(-rc));
	if (rc == -ESTALE) {
		dlctl_err("warning: %s", s->why);
		rc = 0; /* shown per disk; the majority's lockspace is inspected */
	}
	return rc;
}

int dlctl_dump(int argc, char **argv)
{
	static const struct inspect_ops ops = {
	        .host = dump_host,
	        .dir_sector = dump_dir_sector,
	        .resource = dump_resource,
	};
	struct dump_ctx c = {.first = true};
	const char *engine = NULL;
	struct space s;
	struct ioe *e;
	int rc;

	if (dump_parse(argc, argv, &c, &engine) < 0)
		return dlctl_usage("dump");
	if (dlctl_engine(engine, &e) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_open_space(&s, e, argc - optind, argv + optind);
	if (rc < 0)
		goto out_close;
	c.s = &s;
	if (c.json)
		dump_header_json(&s);
	else
		dump_header_human(&s);
	rc = inspect_run(&s, &ops, &c);
	if (rc < 0) {
		dlctl_err("reading the lockspace failed: %s", strerror(-rc));
		goto out_close;
	}
	if (c.json) {
		printf("\n  ],\n  \"damaged_slots\": %u\n}\n", c.damaged);
	} else {
		if (c.resources_hidden)
			printf("  (%u resource%s free, unnamed and never used, not listed; --all lists them)\n",
			       c.resources_hidden, c.resources_hidden == 1 ? "" : "s");
		printf("damaged slots: %u\n", c.damaged);
	}
out_close:
	space_close(&s);
	ioe_destroy(e);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
