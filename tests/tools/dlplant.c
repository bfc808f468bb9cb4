/* SPDX-License-Identifier: MIT */
/*
 * dlplant.c: a test-only tool that writes one well-formed record into one
 * slot of a formatted lockspace, on the disks named, so dump and verify can
 * be tested on hosts, leaders, requests, ballots and directory entries
 * before the protocols write them. Never installed.
 *
 *   dlplant host ID NAME GENERATION DISK...
 *   dlplant leader RESOURCE OWNER GENERATION LVER DISK...
 *   dlplant request RESOURCE REQUESTER LVER DISK...
 *   dlplant ballot RESOURCE HOST MBAL BAL LVER DISK... *   dlplant name RESOURCE NAME DISK...
 *   dlplant mailbox HOST REQUESTER RESOURCE LVER DISK...
 */
#include "base/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "io/ioe.h"
#include "lease/space.h"
#include "ondisk/layout.h"
#include "ondisk/ondisk.h"

struct plant {
	struct space s;
	uint8_t sector[ONDISK_SECTOR_MAX];
};

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

/* Encode one record per disk (identity differs per disk) and write it at offset. */
static int plant_write(struct plant *p, uint64_t offset,
                       void (*fill)(struct plant *p, uint32_t disk, uint64_t lba, char **args),
                       char **args)
{
	for (uint32_t i = 0; i < p->s.path_count; i++) {
		struct ioe_req req = {.op = IOE_WRITE, .offset = offset};
		struct ioe_batch b = {.reqs = &req, .req_count = 1};

		if (!p->s.disks[i].agrees)
			continue;
		fill(p, p->s.disks[i].header.hdr.disk_index, offset / p->s.header.sector_size,
		     args);
		req.disk_index = (uint32_t)p->s.disks[i].ioe_index;
		req.len = p->s.header.sector_size;
		req.buf = p->sector;
		b.deadline_ns = clock_now_ns(p->s.ioe->clk) + 10 * DL_NS_PER_SEC;
		if (ioe_run(p->s.ioe, &b) < 0 || req.result != (int)req.len) {
			fprintf(stderr, "dlplant: write to %s failed\n", p->s.disks[i].path);
			return -EIO;
		}
	}
	return 0;
}

static void fill_host(struct plant *p, uint32_t disk, uint64_t lba, char **a)
{
	struct ondisk_host h = {0};

	ondisk_hdr_init(&h.hdr, ONDISK_KIND_HOST, p->s.header.hdr.lockspace_uuid, disk, lba);
	h.hdr.writer_host_id = num(a[0]);
	h.hdr.writer_generation = num(a[2]);
	h.hdr.seq = 1;
	snprintf(h.host_name, sizeof(h.host_name), "%s", a[1]);
	h.state = ONDISK_HOST_LIVE;
	h.io_timeout_ms = p->s.header.io_timeout_ms;
	h.joined_wall_ms = h.renewed_wall_ms = clock_wall_ms();
	ondisk_host_encode(&h, p->s.header.sector_size, p->sector);
}

static void fill_leader(struct plant *p, uint32_t disk, uint64_t lba, char **a)
{
	struct ondisk_leader l = {0};

	ondisk_hdr_init(&l.hdr, ONDISK_KIND_LEADER, p->s.header.hdr.lockspace_uuid, disk, lba);
	l.resource_index = (uint32_t)num(a[0]);
	l.hdr.writer_host_id = l.owner_host_id = num(a[1]);
	l.hdr.writer_generation = l.owner_generation = num(a[2]);
	l.lver = l.hdr.seq = num(a[3]);
	l.reason = ONDISK_REASON_ACQUIRE;
	l.since_wall_ms = clock_wall_ms();
	ondisk_leader_encode(&l, p->s.header.sector_size, p->sector);
}

static void fill_request(struct plant *p, uint32_t disk, uint64_t lba, char **a)
{
	struct ondisk_request r = {0};

	ondisk_hdr_init(&r.hdr, ONDISK_KIND_REQUEST, p->s.header.hdr.lockspace_uuid, disk, lba);
	r.hdr.writer_host_id = r.requester_host_id = num(a[1]);
	r.lver = r.hdr.seq = num(a[2]);
	r.mode = ONDISK_REQUEST_GRACEFUL;
	r.wall_ms = clock_wall_ms();
	ondisk_request_encode(&r, p->s.header.sector_size, p->sector);
}

static void fill_ballot(struct plant *p, uint32_t disk, uint64_t lba, char **a)
{
	struct ondisk_ballot b = {0};

	ondisk_hdr_init(&b.hdr, ONDISK_KIND_BALLOT, p->s.header.hdr.lockspace_uuid, disk, lba);
	b.hdr.writer_host_id = b.inp_owner_host_id = num(a[1]);
	b.mbal = b.hdr.seq = num(a[2]);
	b.bal = num(a[3]);
	b.lver = num(a[4]);
	ondisk_ballot_encode(&b, p->s.header.sector_size, p->sector);
}

static void fill_mailbox(struct plant *p, uint32_t disk, uint64_t lba, char **a)
{
	struct ondisk_mailbox m = {0};

	ondisk_hdr_init(&m.hdr, ONDISK_KIND_MAILBOX, p->s.header.hdr.lockspace_uuid, disk, lba);
	m.hdr.writer_host_id = num(a[1]);
	m.hdr.seq = 1;
	m.resource_index = (uint32_t)num(a[2]);
	m.lver = num(a[3]);
	m.mode = ONDISK_REQUEST_GRACEFUL;
	m.wall_ms = clock_wall_ms();
	ondisk_mailbox_encode(&m, p->s.header.sector_size, p->sector);
}

static void fill_name(struct plant *p, uint32_t disk, uint64_t lba, char **a)
{
	static struct ondisk_dirent_sector d;
	const struct layout *l = &p->s.layout;
	uint32_t index = (uint32_t)num(a[0]), entry;

	memset(&d, 0, sizeof(d));
	layout_dirent_offset(l, index, &entry);
	ondisk_hdr_init(&d.hdr, ONDISK_KIND_DIRENT, p->s.header.hdr.lockspace_uuid, disk, lba);
	d.first_index = index - entry;
	d.count = DL_MIN(l->dirents_per_sector, l->max_resources - d.first_index);
	d.entries[entry].flags = ONDISK_DIRENT_USED;
	d.entries[entry].resource_index = index;
	snprintf(d.entries[entry].name, sizeof(d.entries[entry].name), "%s", a[1]);
	ondisk_dirent_sector_encode(&d, p->s.header.sector_size, p->sector);
}

int main(int argc, char **argv)
{
	static struct plant p;
	struct ioe_config cfg = {.kind = IOE_AUTO};
	const struct layout *l = &p.s.layout;
	struct ioe *e;
	int nargs, rc;

	if (argc < 3)
		return 2;
	nargs = !strcmp(argv[1], "host")      ? 3
	        : !strcmp(argv[1], "leader")  ? 4
	        : !strcmp(argv[1], "request") ? 3
	        : !strcmp(argv[1], "ballot")  ? 5
	        : !strcmp(argv[1], "name")    ? 2
	        : !strcmp(argv[1], "mailbox") ? 4
	                                      : -1;
	if (nargs < 0 || argc < 3 + nargs)
		return 2;
	if (ioe_create(&cfg, &e) < 0)
		return 1;
	rc = space_open(&p.s, e, (const char *const *)argv + 2 + nargs,
	                (uint32_t)(argc - 2 - nargs), true);
	if (rc == 0)
		rc = space_load(&p.s);
	if (rc < 0) {
		fprintf(stderr, "dlplant: %s\n", p.s.why);
		return 1;
	}
	if (!strcmp(argv[1], "host"))
		rc = plant_write(&p, layout_host_offset(l, (uint32_t)num(argv[2])), fill_host,
		                 argv + 2);
	else if (!strcmp(argv[1], "leader"))
		rc = plant_write(&p, layout_leader_offset(l, (uint32_t)num(argv[2])), fill_leader,
		                 argv + 2);
	else if (!strcmp(argv[1], "request"))
		rc = plant_write(&p, layout_request_offset(l, (uint32_t)num(argv[2])), fill_request,
		                 argv + 2);
	else if (!strcmp(argv[1], "ballot"))
		rc = plant_write(
		        &p, layout_ballot_offset(l, (uint32_t)num(argv[2]), (uint32_t)num(argv[3])),
		        fill_ballot, argv + 2);
	else if (!strcmp(argv[1], "mailbox"))
		rc = plant_write(&p, layout_mailbox_offset(l, (uint32_t)num(argv[2])), fill_mailbox,
		                 argv + 2);
	else
		rc = plant_write(&p, layout_dirent_offset(l, (uint32_t)num(argv[2]), NULL),
		                 fill_name, argv + 2);
	space_close(&p.s);
	ioe_destroy(e);
	return rc < 0 ? 1 : 0;
}
