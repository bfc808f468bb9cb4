/* SPDX-License-Identifier: MIT */
/*
 * layout.h: where every record of a lockspace lives on each of its disks.
 * All disks of a lockspace have the same layout; the math is here and only
 * here (dump, format, the protocol and the tests all ask this module).
 *
 * Per disk, with S = sector size and A = 1 MiB alignment:
 * *   [0, LS)          lockspace area: sector 0 header, sector h host id h's
 *                    delta lease (h = 1..H), sector H+h host h's mailbox;
 *                    LS = roundup((1+2H)*S, A)
 *   [LS, LS+L)       directory lease area (same shape as a resource area)
 *   [.., +DT)        directory table: ceil(R/E) sectors of E entries each
 *   resource i       base = resource_offset + i*L, i = 0..R-1:
 *                    sector 0 leader, sector 1 request, sector 1+h ballot of host h
 *
 * where L = roundup((2+H)*S, A) and E = ONDISK_DIRENTS_PER(S).
 * Invariants (property-tested in tests/unit/test_layout.c): areas never
 * overlap, every area starts on A, every record is S-aligned, and every
 * record of the layout lies below disk_size_min.
 */
#ifndef DL_LAYOUT_H
#define DL_LAYOUT_H

#include "base/compat.h"

#define LAYOUT_ALIGN         (1024u * 1024u)
#define LAYOUT_HOSTS_MAX     2000u
#define LAYOUT_RESOURCES_MAX 100000u
#define LAYOUT_DIRECTORY     UINT32_MAX /* lease area index of the directory lease */

struct layout {
	uint32_t sector_size;
	uint32_t max_hosts;
	uint32_t max_resources;
	uint32_t align_size;
	uint32_t dirents_per_sector;
	uint32_t dir_sector_count;
	uint64_t host_area_offset; /* host id 1's slot */
	uint64_t mailbox_offset;   /* host id 1's mailbox */
	uint64_t dir_lease_offset;
	uint64_t dir_table_offset;
	uint64_t resource_offset; /* resource 0's area */
	uint64_t lease_area_size;
	uint64_t disk_size_min; /* bytes a disk needs for this layout */
};

/* Compute a layout. Returns 0 or -EINVAL (sector size not 512/4096, hosts not
 * 1..LAYOUT_HOSTS_MAX, resources not 1..LAYOUT_RESOURCES_MAX). */
int layout_compute(uint32_t sector_size, uint32_t max_hosts, uint32_t max_resources,
                   struct layout *out);

/* The most resources a disk of disk_size bytes holds with this geometry (0 if none fit). */
uint32_t layout_resources_fit(uint32_t sector_size, uint32_t max_hosts, uint64_t disk_size);

/* Byte offsets; ids and indexes are asserted in range. */
uint64_t layout_header_offset(const struct layout *l);
uint64_t layout_host_offset(const struct layout *l, uint32_t host_id);
uint64_t layout_mailbox_offset(const struct layout *l, uint32_t host_id);
uint64_t layout_lease_base(const struct layout *l,
                           uint32_t resource_index); /* or LAYOUT_DIRECTORY */
uint64_t layout_leader_offset(const struct layout *l, uint32_t resource_index);
uint64_t layout_request_offset(const struct layout *l, uint32_t resource_index);
uint64_t layout_ballot_offset(const struct layout *l, uint32_t resource_index, uint32_t host_id);
/* The directory sector holding resource_index's entry, and the entry's slot in it. */
uint64_t layout_dirent_offset(const struct layout *l, uint32_t resource_index, uint32_t *entry);
uint64_t layout_dir_sector_offset(const struct layout *l, uint32_t dir_sector);

/* offset / sector_size. */
uint64_t layout_lba(const struct layout *l, uint64_t offset);

#endif /* DL_LAYOUT_H */
