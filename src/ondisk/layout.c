/* SPDX-License-Identifier: MIT */
/* layout.c: the offset arithmetic of layout.h; pure functions, no I/O. */
#include "base/compat.h"
#include "layout.h"

#include <errno.h>
#include <string.h>

#include "base/check.h"
#include "ondisk/ondisk.h"
#include "banned.h"

_Static_assert(LAYOUT_ALIGN % ONDISK_SECTOR_MAX == 0, "alignment is a whole number of sectors");
_Static_assert((uint64_t)(2 + LAYOUT_HOSTS_MAX) * ONDISK_SECTOR_MAX < UINT32_MAX,
               "a lease area fits 32-bit lengths");

int layout_compute(uint32_t sector_size, uint32_t max_hosts, uint32_t max_resources,
                   struct layout *out)
{
	struct layout l;

	if (!ondisk_sector_size_ok(sector_size))
		return -EINVAL;
	if (max_hosts < 1 || max_hosts > LAYOUT_HOSTS_MAX)
		return -EINVAL;
	if (max_resources < 1 || max_resources > LAYOUT_RESOURCES_MAX)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	l.sector_size = sector_size;
	l.max_hosts = max_hosts;
	l.max_resources = max_resources;
	l.align_size = LAYOUT_ALIGN;
	l.dirents_per_sector = ONDISK_DIRENTS_PER(sector_size);
	l.dir_sector_count = DL_DIV_ROUND_UP(max_resources, l.dirents_per_sector);
	l.host_area_offset = sector_size;
	l.lease_area_size = DL_ROUND_UP((uint64_t)(2 + max_hosts) * sector_size, LAYOUT_ALIGN);
	l.mailbox_offset = l.host_area_offset + (uint64_t)max_hosts * sector_size;
	l.dir_lease_offset = DL_ROUND_UP((uint64_t)(1 + 2 * max_hosts) * sector_size, LAYOUT_ALIGN);
	l.dir_table_offset = l.dir_lease_offset + l.lease_area_size;
	l.resource_offset = l.dir_table_offset +
	                    DL_ROUND_UP((uint64_t)l.dir_sector_count * sector_size, LAYOUT_ALIGN);
	l.disk_size_min = l.resource_offset + (uint64_t)max_resources * l.lease_area_size;
	DL_ASSERT(l.dir_lease_offset % LAYOUT_ALIGN == 0);
	DL_ASSERT(l.resource_offset % LAYOUT_ALIGN == 0);
	*out = l;
	return 0;
}

uint32_t layout_resources_fit(uint32_t sector_size, uint32_t max_hosts, uint64_t disk_size)
{
	uint32_t lo = 0, hi = LAYOUT_RESOURCES_MAX;
	struct layout l;

	/* Binary search: the directory grows with the count, so no closed form. */
	for (unsigned step = 0; step < 64 && lo < hi; step++) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (layout_compute(sector_size, max_hosts, mid, &l) != 0)
			return 0;
		if (l.disk_size_min <= disk_size)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

uint64_t layout_header_offset(const struct layout *l)
{
	(void)l;
	return 0;
}

uint64_t layout_host_offset(const struct layout *l, uint32_t host_id)
{
	DL_ASSERT(host_id >= 1 && host_id <= l->max_hosts);
	return l->host_area_offset + (uint64_t)(host_id - 1) * l->sector_size;
}

uint64_t layout_mailbox_offset(const struct layout *l, uint32_t host_id)
{
	DL_ASSERT(host_id >= 1 && host_id <= l->max_hosts);
	return l->mailbox_offset + (uint64_t)(host_id - 1) * l->sector_size;
}

uint64_t layout_lease_base(const struct layout *l, uint32_t resource_index)
{
	if (resource_index == LAYOUT_DIRECTORY)
		return l->dir_lease_offset;
	DL_ASSERT(resource_index < l->max_resources);
	return l->resource_offset + (uint64_t)resource_index * l->lease_area_size;
}

uint64_t layout_leader_offset(const struct layout *l, uint32_t resource_index)
{
	return layout_lease_base(l, resource_index);
}

uint64_t layout_request_offset(const struct layout *l, uint32_t resource_index)
{
	return layout_lease_base(l, resource_index) + l->sector_size;
}

uint64_t layout_ballot_offset(const struct layout *l, uint32_t resource_index, uint32_t host_id)
{
	DL_ASSERT(host_id >= 1 && host_id <= l->max_hosts);
	return layout_lease_base(l, resource_index) + (uint64_t)(1 + host_id) * l->sector_size;
}

uint64_t layout_dir_sector_offset(const struct layout *l, uint32_t dir_sector)
{
	DL_ASSERT(dir_sector < l->dir_sector_count);
	return l->dir_table_offset + (uint64_t)dir_sector * l->sector_size;
}

uint64_t layout_dirent_offset(const struct layout *l, uint32_t resource_index, uint32_t *entry)
{
	DL_ASSERT(resource_index < l->max_resources);
	if (entry)
		*entry = resource_index % l->dirents_per_sector;
	return layout_dir_sector_offset(l, resource_index / l->dirents_per_sector);
}

uint64_t layout_lba(const struct layout *l, uint64_t offset)
{
	DL_ASSERT(offset % l->sector_size == 0);
	return offset / l->sector_size;
}
