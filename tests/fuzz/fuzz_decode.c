/* SPDX-License-Identifier: MIT */
/* fuzz_decode.c: run every record decoder over arbitrary bytes and check the round trip. */
#include "base/compat.h"
#include "fuzz_decode.h"

#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "ondisk/ondisk.h"

static void expect_from(const uint8_t *sector, uint32_t ss, enum ondisk_kind kind,
                        struct ondisk_expect *ex)
{
	struct ondisk_hdr h;

	memset(ex, 0, sizeof(*ex));
	ex->sector_size = ss;
	ex->kind = (uint16_t)kind;
	ex->any_lockspace = true;
	/* Use the sector's own identity so identity checks pass and the body gets parsed. */
	if (ondisk_classify(sector, ex, &h) == ONDISK_VALID) {
		memcpy(ex->lockspace_uuid, h.lockspace_uuid, ONDISK_UUID_SIZE);
		ex->disk_index = h.disk_index;
		ex->lba = h.lba;
		ex->any_lockspace = false;
	}
}

#define FUZZ_ROUND_TRIP(kind, type, decode, encode)                                                \
	do {                                                                                       \
		type rec;                                                                          \
		struct ondisk_expect ex;                                                           \
		expect_from(sector, ss, kind, &ex);                                                \
		if (decode(sector, &ex, &rec) == ONDISK_VALID) {                                   \
			encode(&rec, ss, again);                                                   \
			DL_ASSERT(memcmp(sector, again, ss) == 0);                                 \
			valid++;                                                                   \
		}                                                                                  \
	} while (0)

unsigned fuzz_decode_sector(const uint8_t *data, size_t size)
{
	static const uint32_t sizes[] = {512, 4096};
	uint8_t *sector = calloc(2, ONDISK_SECTOR_MAX);
	uint8_t *again = sector + ONDISK_SECTOR_MAX;
	unsigned valid = 0;

	DL_ASSERT(sector != NULL);
	for (unsigned k = 0; k < DL_ARRAY_SIZE(sizes); k++) {
		uint32_t ss = sizes[k];

		memset(sector, 0, ONDISK_SECTOR_MAX);
		memcpy(sector, data, DL_MIN(size, (size_t)ss));
		FUZZ_ROUND_TRIP(ONDISK_KIND_LOCKSPACE, struct ondisk_lockspace,
		                ondisk_lockspace_decode, ondisk_lockspace_encode);
		FUZZ_ROUND_TRIP(ONDISK_KIND_HOST, struct ondisk_host, ondisk_host_decode,
		                ondisk_host_encode);
		FUZZ_ROUND_TRIP(ONDISK_KIND_LEADER, struct ondisk_leader, ondisk_leader_decode,
		                ondisk_leader_encode);
		FUZZ_ROUND_TRIP(ONDISK_KIND_REQUEST, struct ondisk_request, ondisk_request_decode,
		                ondisk_request_encode);
		FUZZ_ROUND_TRIP(ONDISK_KIND_BALLOT, struct ondisk_ballot, ondisk_ballot_decode,
		                ondisk_ballot_encode);
		FUZZ_ROUND_TRIP(ONDISK_KIND_MAILBOX, struct ondisk_mailbox, ondisk_mailbox_decode,
		                ondisk_mailbox_encode);
		FUZZ_ROUND_TRIP(ONDISK_KIND_DIRENT, struct ondisk_dirent_sector,
		                ondisk_dirent_sector_decode, ondisk_dirent_sector_encode);
	}
	free(sector);
	return valid;
}
