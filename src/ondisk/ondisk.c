/* SPDX-License-Identifier: MIT */
/*
 * ondisk.c: byte-exact codecs for the records described in ondisk.h and
 * docs/format.md. Only this file knows byte offsets. Encoders zero the whole
 * sector first so no stale byte reaches the disk; decoders classify first
 * and parse only a VALID sector. No I/O, no clock.
 *
 * Common header (64 bytes), then the body, zeros, checksum in the last 8:
 *   0 magic u32 | 4 version u16 | 6 kind u16 | 8 lockspace uuid [16]
 *  24 disk_index u32 | 28 flags u32 | 32 lba u64 | 40 writer_host_id u64
 *  48 writer_generation u64 | 56 seq u64 | 64 body ... | S-8 xxh3_64 u64
 */
#include "base/compat.h"
#include "ondisk.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "base/check.h"
#include "banned.h"

/* Header offsets. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 4,
	OFF_KIND = 6,
	OFF_UUID = 8,
	OFF_DISK_INDEX = 24,
	OFF_FLAGS = 28,
	OFF_LBA = 32,
	OFF_WRITER_HOST_ID = 40,
	OFF_WRITER_GENERATION = 48,
	OFF_SEQ = 56,
	OFF_BODY = 64,
};

/* Lockspace body. */
enum {
	LS_NAME = 64,
	LS_SECTOR_SIZE = 112,
	LS_DISK_COUNT = 116,
	LS_MAX_HOSTS = 120,
	LS_MAX_RESOURCES = 124,
	LS_IO_TIMEOUT_MS = 128,
	LS_ALIGN_SIZE = 132,
	LS_HOST_AREA_OFFSET = 136,
	LS_DIR_LEASE_OFFSET = 144,
	LS_DIR_TABLE_OFFSET = 152,
	LS_RESOURCE_OFFSET = 160,
	LS_LEASE_AREA_SIZE = 168,
	LS_DISK_SIZE_MIN = 176,
	LS_FORMAT_WALL_MS = 184,
	LS_MAILBOX_OFFSET = 192,
	LS_END = 200,
};

/* Host body. */
enum {
	HOST_NAME = 64,
	HOST_UUID = 128,
	HOST_TIMESTAMP_NS = 144,
	HOST_IO_TIMEOUT_MS = 152,
	HOST_STATE = 156,
	HOST_JOINED_WALL_MS = 160,
	HOST_RENEWED_WALL_MS = 168,
	HOST_BOOT_ID = 176,
	HOST_END = 192,
};

/* Leader body. */
enum {
	LEADER_OWNER_HOST_ID = 64,
	LEADER_OWNER_GENERATION = 72,
	LEADER_LVER = 80,
	LEADER_RESOURCE_INDEX = 88,
	LEADER_REASON = 92,
	LEADER_PREV_OWNER_HOST_ID = 96,
	LEADER_PREV_OWNER_GENERATION = 104,
	LEADER_SINCE_WALL_MS = 112,
	LEADER_NAME = 120,
	LEADER_OWNER_UUID = 168,
	LEADER_END = 184,
};

/* Request body. */
enum {
	REQ_REQUESTER_HOST_ID = 64,
	REQ_REQUESTER_GENERATION = 72,
	REQ_LVER = 80,
	REQ_MODE = 88,
	REQ_RESERVED = 92,
	REQ_WALL_MS = 96,
	REQ_END = 104,
};

/* Ballot body. */
enum {
	BAL_MBAL = 64,
	BAL_BAL = 72,
	BAL_INP_OWNER_HOST_ID = 80,
	BAL_INP_OWNER_GENERATION = 88,
	BAL_LVER = 96,
	BAL_WAIT_SEQ = 104,
	BAL_END = 112,
};

/* Mailbox body. */
enum {
	MB_REQUESTER_GENERATION = 64,
	MB_RESOURCE_INDEX = 72,
	MB_MODE = 76,
	MB_LVER = 80,
	MB_WALL_MS = 88,
	MB_END = 96,
};

/* Directory sector body; entries of ONDISK_DIRENT_SIZE from DIR_ENTRIES. */
enum {
	DIR_FIRST_INDEX = 64,
	DIR_COUNT = 68,
	DIR_ENTRIES = 72,
	DE_NAME = 0,
	DE_FLAGS = 48,
	DE_RESOURCE_INDEX = 52,
	DE_CREATED_WALL_MS = 56,
	DE_END = 64,
};

_Static_assert(OFF_BODY == ONDISK_HDR_SIZE, "header is 64 bytes");
_Static_assert(LS_END <= ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE, "lockspace fits 512");
_Static_assert(HOST_END <= ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE, "host fits 512");
_Static_assert(LEADER_END <= ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE, "leader fits 512");
_Static_assert(REQ_END <= ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE, "request fits 512");
_Static_assert(BAL_END <= ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE, "ballot fits 512");
_Static_assert(MB_END <= ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE, "mailbox fits 512");
_Static_assert(DE_END == ONDISK_DIRENT_SIZE, "directory entry is 64 bytes");
_Static_assert(LS_SECTOR_SIZE - LS_NAME == ONDISK_NAME_SIZE, "lockspace name size");
_Static_assert(HOST_UUID - HOST_NAME == ONDISK_HOST_NAME_SIZE, "host name size");
_Static_assert(LEADER_OWNER_UUID - LEADER_NAME == ONDISK_NAME_SIZE, "leader name size");
_Static_assert(DE_FLAGS - DE_NAME == ONDISK_NAME_SIZE, "dirent name size");
_Static_assert(DIR_ENTRIES + ONDISK_DIRENTS_PER(ONDISK_SECTOR_MIN) * ONDISK_DIRENT_SIZE <=
                       ONDISK_SECTOR_MIN - ONDISK_CHECKSUM_SIZE,
               "directory entries fit 512");
_Static_assert(DIR_ENTRIES + ONDISK_DIRENTS_PER(ONDISK_SECTOR_MAX) * ONDISK_DIRENT_SIZE <=
                       ONDISK_SECTOR_MAX - ONDISK_CHECKSUM_SIZE,
               "directory entries fit 4096");

/* ---- little-endian primitives ---- */

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* A NUL-padded name field: the string, then zeros to the end of the field. */
static void put_name(uint8_t *p, const char *name, size_t field_size)
{
	size_t len = strnlen(name, field_size + 1);

	DL_ASSERT(len <= field_size);
	memcpy(p, name, len);
}

/* Copy a name out; false if bytes follow the first NUL (not what an encoder writes). */
static bool get_name(const uint8_t *p, size_t field_size, char *out)
{
	size_t len = strnlen((const char *)p, field_size);

	for (size_t i = len; i < field_size; i++) {
		if (p[i] != 0)
			return false;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

/* ---- names ---- */

const char *ondisk_state_name(enum ondisk_state state)
{
	static const char *const names[ONDISK_STATE_COUNT] = {
	        [ONDISK_VALID] = "valid",
	        [ONDISK_EMPTY] = "empty",
	        [ONDISK_BAD_CHECKSUM] = "bad_checksum",
	        [ONDISK_BAD_MAGIC] = "bad_magic",
	        [ONDISK_FOREIGN] = "foreign",
	        [ONDISK_WRONG_DISK] = "wrong_disk",
	        [ONDISK_MISPLACED] = "misplaced",
	        [ONDISK_UNREADABLE] = "unreadable",
	};

	DL_ASSERT((unsigned)state < ONDISK_STATE_COUNT);
	return names[state];
}

const char *ondisk_kind_name(enum ondisk_kind kind)
{
	static const char *const names[ONDISK_KIND_COUNT] = {
	        [ONDISK_KIND_NONE] = "none",        [ONDISK_KIND_LOCKSPACE] = "lockspace",
	        [ONDISK_KIND_HOST] = "host",        [ONDISK_KIND_LEADER] = "leader",
	        [ONDISK_KIND_REQUEST] = "request",  [ONDISK_KIND_BALLOT] = "ballot",
	        [ONDISK_KIND_DIRENT] = "directory", [ONDISK_KIND_MAILBOX] = "mailbox",
	};

	if ((unsigned)kind >= ONDISK_KIND_COUNT)
		return "unknown";
	return names[kind];
}

const char *ondisk_reason_name(enum ondisk_reason reason)
{
	static const char *const names[ONDISK_REASON_COUNT] = {
	        [ONDISK_REASON_NONE] = "none",
	        [ONDISK_REASON_ACQUIRE] = "acquire",
	        [ONDISK_REASON_TAKEOVER_DEAD] = "takeover_owner_dead",
	        [ONDISK_REASON_TAKEOVER_REJOIN] = "takeover_owner_rejoined",
	        [ONDISK_REASON_RELEASE] = "release",
	        [ONDISK_REASON_HANDOFF] = "handoff",
	        [ONDISK_REASON_FORMAT] = "format",
	        [ONDISK_REASON_OPERATOR] = "operator_repair",
	};

	if ((unsigned)reason >= ONDISK_REASON_COUNT)
		return "unknown";
	return names[reason];
}

bool ondisk_sector_size_ok(uint32_t sector_size)
{
	return sector_size == 512 || sector_size == 4096;
}

/* ---- header, checksum, classification ---- */

uint64_t ondisk_checksum(const void *sector, uint32_t sector_size)
{
	DL_ASSERT(ondisk_sector_size_ok(sector_size));
	return XXH3_64bits(sector, sector_size - ONDISK_CHECKSUM_SIZE);
}

void ondisk_hdr_init(struct ondisk_hdr *hdr, enum ondisk_kind kind, const uint8_t *lockspace_uuid,
                     uint32_t disk_index, uint64_t lba)
{
	DL_ASSERT(kind > ONDISK_KIND_NONE && kind < ONDISK_KIND_COUNT);
	memset(hdr, 0, sizeof(*hdr));
	hdr->version = ONDISK_VERSION;
	hdr->kind = (uint16_t)kind;
	memcpy(hdr->lockspace_uuid, lockspace_uuid, ONDISK_UUID_SIZE);
	hdr->disk_index = disk_index;
	hdr->lba = lba;
}

/* Zero the sector and write the common header; the caller writes the body. */
static uint8_t *encode_begin(const struct ondisk_hdr *hdr, enum ondisk_kind kind,
                             uint32_t sector_size, void *sector)
{
	uint8_t *p = sector;

	DL_ASSERT(ondisk_sector_size_ok(sector_size));
	DL_ASSERT(hdr->kind == kind);
	DL_ASSERT(hdr->version == ONDISK_VERSION);
	memset(p, 0, sector_size);
	put32(p + OFF_MAGIC, ONDISK_MAGIC);
	put16(p + OFF_VERSION, hdr->version);
	put16(p + OFF_KIND, hdr->kind);
	memcpy(p + OFF_UUID, hdr->lockspace_uuid, ONDISK_UUID_SIZE);
	put32(p + OFF_DISK_INDEX, hdr->disk_index);
	put32(p + OFF_FLAGS, hdr->flags);
	put64(p + OFF_LBA, hdr->lba);
	put64(p + OFF_WRITER_HOST_ID, hdr->writer_host_id);
	put64(p + OFF_WRITER_GENERATION, hdr->writer_generation);
	put64(p + OFF_SEQ, hdr->seq);
	return p;
}

static void encode_end(uint8_t *p, uint32_t sector_size)
{
	put64(p + sector_size - ONDISK_CHECKSUM_SIZE, ondisk_checksum(p, sector_size));
}

static void hdr_decode(const uint8_t *p, struct ondisk_hdr *hdr)
{
	hdr->version = get16(p + OFF_VERSION);
	hdr->kind = get16(p + OFF_KIND);
	memcpy(hdr->lockspace_uuid, p + OFF_UUID, ONDISK_UUID_SIZE);
	hdr->disk_index = get32(p + OFF_DISK_INDEX);
	hdr->flags = get32(p + OFF_FLAGS);
	hdr->lba = get64(p + OFF_LBA);
	hdr->writer_host_id = get64(p + OFF_WRITER_HOST_ID);
	hdr->writer_generation = get64(p + OFF_WRITER_GENERATION);
	hdr->seq = get64(p + OFF_SEQ);
}

/* Where the body of each kind ends; bytes from there to the checksum must be zero. */
static uint32_t body_end(uint16_t kind, uint32_t sector_size)
{
	switch (kind) {
	case ONDISK_KIND_LOCKSPACE:
		return LS_END;
	case ONDISK_KIND_HOST:
		return HOST_END;
	case ONDISK_KIND_LEADER:
		return LEADER_END;
	case ONDISK_KIND_REQUEST:
		return REQ_END;
	case ONDISK_KIND_BALLOT:
		return BAL_END;
	case ONDISK_KIND_MAILBOX:
		return MB_END;
	case ONDISK_KIND_DIRENT:
		return DIR_ENTRIES + ONDISK_DIRENTS_PER(sector_size) * ONDISK_DIRENT_SIZE;
	default:
		return 0;
	}
}

enum ondisk_state ondisk_classify(const void *sector, const struct ondisk_expect *ex,
                                  struct ondisk_hdr *hdr)
{
	const uint8_t *p = sector;
	uint32_t s = ex->sector_size;
	struct ondisk_hdr h;
	uint32_t end;

	DL_ASSERT(ondisk_sector_size_ok(s));
	if (all_zero(p, s))
		return ONDISK_EMPTY;
	if (get32(p + OFF_MAGIC) != ONDISK_MAGIC)
		return ONDISK_BAD_MAGIC;
	if (get64(p + s - ONDISK_CHECKSUM_SIZE) != ondisk_checksum(p, s))
		return ONDISK_BAD_CHECKSUM;
	hdr_decode(p, &h);
	if (h.version != ONDISK_VERSION)
		return ONDISK_BAD_MAGIC;
	end = body_end(h.kind, s);
	if (end == 0 || !all_zero(p + end, s - ONDISK_CHECKSUM_SIZE - end))
		return ONDISK_BAD_MAGIC;
	if (!ex->any_lockspace) {
		if (memcmp(h.lockspace_uuid, ex->lockspace_uuid, ONDISK_UUID_SIZE) != 0)
			return ONDISK_FOREIGN;
		if (h.disk_index != ex->disk_index)
			return ONDISK_WRONG_DISK;
		if (h.lba != ex->lba)
			return ONDISK_MISPLACED;
	}
	if (ex->kind != ONDISK_KIND_NONE && h.kind != ex->kind)
		return ONDISK_MISPLACED;
	if (hdr)
		*hdr = h;
	return ONDISK_VALID;
}

/* ---- lockspace header ---- */

void ondisk_lockspace_encode(const struct ondisk_lockspace *in, uint32_t sector_size, void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_LOCKSPACE, sector_size, sector);

	DL_ASSERT(in->sector_size == sector_size);
	DL_ASSERT(in->hdr.disk_index < in->disk_count);
	put_name(p + LS_NAME, in->name, ONDISK_NAME_SIZE);
	put32(p + LS_SECTOR_SIZE, in->sector_size);
	put32(p + LS_DISK_COUNT, in->disk_count);
	put32(p + LS_MAX_HOSTS, in->max_hosts);
	put32(p + LS_MAX_RESOURCES, in->max_resources);
	put32(p + LS_IO_TIMEOUT_MS, in->io_timeout_ms);
	put32(p + LS_ALIGN_SIZE, in->align_size);
	put64(p + LS_HOST_AREA_OFFSET, in->host_area_offset);
	put64(p + LS_DIR_LEASE_OFFSET, in->dir_lease_offset);
	put64(p + LS_DIR_TABLE_OFFSET, in->dir_table_offset);
	put64(p + LS_RESOURCE_OFFSET, in->resource_offset);
	put64(p + LS_LEASE_AREA_SIZE, in->lease_area_size);
	put64(p + LS_DISK_SIZE_MIN, in->disk_size_min);
	put64(p + LS_FORMAT_WALL_MS, in->format_wall_ms);
	put64(p + LS_MAILBOX_OFFSET, in->mailbox_offset);
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_lockspace_decode(const void *sector, const struct ondisk_expect *ex,
                                          struct ondisk_lockspace *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	if (!get_name(p + LS_NAME, ONDISK_NAME_SIZE, out->name))
		return ONDISK_BAD_MAGIC;
	out->sector_size = get32(p + LS_SECTOR_SIZE);
	out->disk_count = get32(p + LS_DISK_COUNT);
	out->max_hosts = get32(p + LS_MAX_HOSTS);
	out->max_resources = get32(p + LS_MAX_RESOURCES);
	out->io_timeout_ms = get32(p + LS_IO_TIMEOUT_MS);
	out->align_size = get32(p + LS_ALIGN_SIZE);
	out->host_area_offset = get64(p + LS_HOST_AREA_OFFSET);
	out->dir_lease_offset = get64(p + LS_DIR_LEASE_OFFSET);
	out->dir_table_offset = get64(p + LS_DIR_TABLE_OFFSET);
	out->resource_offset = get64(p + LS_RESOURCE_OFFSET);
	out->lease_area_size = get64(p + LS_LEASE_AREA_SIZE);
	out->disk_size_min = get64(p + LS_DISK_SIZE_MIN);
	out->format_wall_ms = get64(p + LS_FORMAT_WALL_MS);
	out->mailbox_offset = get64(p + LS_MAILBOX_OFFSET);
	/* A header is only useful with a geometry that matches how it was read. */
	if (out->sector_size != ex->sector_size || out->hdr.disk_index >= out->disk_count)
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- host (delta lease) ---- */

void ondisk_host_encode(const struct ondisk_host *in, uint32_t sector_size, void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_HOST, sector_size, sector);

	DL_ASSERT(in->hdr.writer_host_id > 0);
	DL_ASSERT(in->state <= ONDISK_HOST_JOINING);
	put_name(p + HOST_NAME, in->host_name, ONDISK_HOST_NAME_SIZE);
	memcpy(p + HOST_UUID, in->host_uuid, ONDISK_UUID_SIZE);
	put64(p + HOST_TIMESTAMP_NS, in->timestamp_ns);
	put32(p + HOST_IO_TIMEOUT_MS, in->io_timeout_ms);
	put32(p + HOST_STATE, in->state);
	put64(p + HOST_JOINED_WALL_MS, in->joined_wall_ms);
	put64(p + HOST_RENEWED_WALL_MS, in->renewed_wall_ms);
	memcpy(p + HOST_BOOT_ID, in->boot_id, ONDISK_UUID_SIZE);
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_host_decode(const void *sector, const struct ondisk_expect *ex,
                                     struct ondisk_host *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	if (!get_name(p + HOST_NAME, ONDISK_HOST_NAME_SIZE, out->host_name))
		return ONDISK_BAD_MAGIC;
	memcpy(out->host_uuid, p + HOST_UUID, ONDISK_UUID_SIZE);
	out->timestamp_ns = get64(p + HOST_TIMESTAMP_NS);
	out->io_timeout_ms = get32(p + HOST_IO_TIMEOUT_MS);
	out->state = get32(p + HOST_STATE);
	out->joined_wall_ms = get64(p + HOST_JOINED_WALL_MS);
	out->renewed_wall_ms = get64(p + HOST_RENEWED_WALL_MS);
	memcpy(out->boot_id, p + HOST_BOOT_ID, ONDISK_UUID_SIZE);
	if (out->state > ONDISK_HOST_JOINING || out->hdr.writer_host_id == 0)
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- leader ---- */

void ondisk_leader_encode(const struct ondisk_leader *in, uint32_t sector_size, void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_LEADER, sector_size, sector);

	DL_ASSERT(in->hdr.seq == in->lver);
	DL_ASSERT(in->reason < ONDISK_REASON_COUNT);
	put64(p + LEADER_OWNER_HOST_ID, in->owner_host_id);
	put64(p + LEADER_OWNER_GENERATION, in->owner_generation);
	put64(p + LEADER_LVER, in->lver);
	put32(p + LEADER_RESOURCE_INDEX, in->resource_index);
	put32(p + LEADER_REASON, in->reason);
	put64(p + LEADER_PREV_OWNER_HOST_ID, in->prev_owner_host_id);
	put64(p + LEADER_PREV_OWNER_GENERATION, in->prev_owner_generation);
	put64(p + LEADER_SINCE_WALL_MS, in->since_wall_ms);
	put_name(p + LEADER_NAME, in->name, ONDISK_NAME_SIZE);
	memcpy(p + LEADER_OWNER_UUID, in->owner_uuid, ONDISK_UUID_SIZE);
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_leader_decode(const void *sector, const struct ondisk_expect *ex,
                                       struct ondisk_leader *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	out->owner_host_id = get64(p + LEADER_OWNER_HOST_ID);
	out->owner_generation = get64(p + LEADER_OWNER_GENERATION);
	out->lver = get64(p + LEADER_LVER);
	out->resource_index = get32(p + LEADER_RESOURCE_INDEX);
	out->reason = get32(p + LEADER_REASON);
	out->prev_owner_host_id = get64(p + LEADER_PREV_OWNER_HOST_ID);
	out->prev_owner_generation = get64(p + LEADER_PREV_OWNER_GENERATION);
	out->since_wall_ms = get64(p + LEADER_SINCE_WALL_MS);
	if (!get_name(p + LEADER_NAME, ONDISK_NAME_SIZE, out->name))
		return ONDISK_BAD_MAGIC;
	memcpy(out->owner_uuid, p + LEADER_OWNER_UUID, ONDISK_UUID_SIZE);
	if (out->lver != out->hdr.seq || out->reason >= ONDISK_REASON_COUNT)
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- request ---- */

void ondisk_request_encode(const struct ondisk_request *in, uint32_t sector_size, void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_REQUEST, sector_size, sector);

	DL_ASSERT(in->hdr.seq == in->lver);
	DL_ASSERT(in->mode <= ONDISK_REQUEST_FORCE);
	put64(p + REQ_REQUESTER_HOST_ID, in->requester_host_id);
	put64(p + REQ_REQUESTER_GENERATION, in->requester_generation);
	put64(p + REQ_LVER, in->lver);
	put32(p + REQ_MODE, in->mode);
	put32(p + REQ_RESERVED, 0);
	put64(p + REQ_WALL_MS, in->wall_ms);
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_request_decode(const void *sector, const struct ondisk_expect *ex,
                                        struct ondisk_request *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	out->requester_host_id = get64(p + REQ_REQUESTER_HOST_ID);
	out->requester_generation = get64(p + REQ_REQUESTER_GENERATION);
	out->lver = get64(p + REQ_LVER);
	out->mode = get32(p + REQ_MODE);
	out->wall_ms = get64(p + REQ_WALL_MS);
	if (out->lver != out->hdr.seq || out->mode > ONDISK_REQUEST_FORCE ||
	    get32(p + REQ_RESERVED) != 0)
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- ballot (Disk Paxos dblock) ---- */

void ondisk_ballot_encode(const struct ondisk_ballot *in, uint32_t sector_size, void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_BALLOT, sector_size, sector);

	DL_ASSERT(in->bal <= in->mbal);
	DL_ASSERT(in->hdr.seq == in->mbal);
	put64(p + BAL_MBAL, in->mbal);
	put64(p + BAL_BAL, in->bal);
	put64(p + BAL_INP_OWNER_HOST_ID, in->inp_owner_host_id);
	put64(p + BAL_INP_OWNER_GENERATION, in->inp_owner_generation);
	put64(p + BAL_LVER, in->lver);
	put64(p + BAL_WAIT_SEQ, in->wait_seq);
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_ballot_decode(const void *sector, const struct ondisk_expect *ex,
                                       struct ondisk_ballot *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	out->mbal = get64(p + BAL_MBAL);
	out->bal = get64(p + BAL_BAL);
	out->inp_owner_host_id = get64(p + BAL_INP_OWNER_HOST_ID);
	out->inp_owner_generation = get64(p + BAL_INP_OWNER_GENERATION);
	out->lver = get64(p + BAL_LVER);
	out->wait_seq = get64(p + BAL_WAIT_SEQ);
	/* A checksummed record that breaks bal <= mbal was not written by dlease. */
	if (out->bal > out->mbal || out->mbal != out->hdr.seq)
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- mailbox ---- */

void ondisk_mailbox_encode(const struct ondisk_mailbox *in, uint32_t sector_size, void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_MAILBOX, sector_size, sector);

	DL_ASSERT(in->hdr.writer_host_id > 0);
	DL_ASSERT(in->mode <= ONDISK_REQUEST_REPAIR);
	put64(p + MB_REQUESTER_GENERATION, in->requester_generation);
	put32(p + MB_RESOURCE_INDEX, in->resource_index);
	put32(p + MB_MODE, in->mode);
	put64(p + MB_LVER, in->lver);
	put64(p + MB_WALL_MS, in->wall_ms);
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_mailbox_decode(const void *sector, const struct ondisk_expect *ex,
                                        struct ondisk_mailbox *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	out->requester_generation = get64(p + MB_REQUESTER_GENERATION);
	out->resource_index = get32(p + MB_RESOURCE_INDEX);
	out->mode = get32(p + MB_MODE);
	out->lver = get64(p + MB_LVER);
	out->wall_ms = get64(p + MB_WALL_MS);
	if (out->mode > ONDISK_REQUEST_REPAIR || out->hdr.writer_host_id == 0)
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- directory table sector ---- */

void ondisk_dirent_sector_encode(const struct ondisk_dirent_sector *in, uint32_t sector_size,
                                 void *sector)
{
	uint8_t *p = encode_begin(&in->hdr, ONDISK_KIND_DIRENT, sector_size, sector);

	DL_ASSERT(in->count <= ONDISK_DIRENTS_PER(sector_size));
	put32(p + DIR_FIRST_INDEX, in->first_index);
	put32(p + DIR_COUNT, in->count);
	for (uint32_t i = 0; i < in->count; i++) {
		const struct ondisk_dirent *de = &in->entries[i];
		uint8_t *e = p + DIR_ENTRIES + i * ONDISK_DIRENT_SIZE;

		if (!(de->flags & ONDISK_DIRENT_USED))
			continue; /* a free entry is all zero */
		DL_ASSERT(de->resource_index == in->first_index + i);
		put_name(e + DE_NAME, de->name, ONDISK_NAME_SIZE);
		put32(e + DE_FLAGS, de->flags);
		put32(e + DE_RESOURCE_INDEX, de->resource_index);
		put64(e + DE_CREATED_WALL_MS, de->created_wall_ms);
	}
	encode_end(p, sector_size);
}

enum ondisk_state ondisk_dirent_sector_decode(const void *sector, const struct ondisk_expect *ex,
                                              struct ondisk_dirent_sector *out)
{
	const uint8_t *p = sector;
	enum ondisk_state st = ondisk_classify(sector, ex, &out->hdr);

	if (st != ONDISK_VALID)
		return st;
	out->first_index = get32(p + DIR_FIRST_INDEX);
	out->count = get32(p + DIR_COUNT);
	if (out->count > ONDISK_DIRENTS_PER(ex->sector_size))
		return ONDISK_BAD_MAGIC;
	for (uint32_t i = 0; i < out->count; i++) {
		struct ondisk_dirent *de = &out->entries[i];
		const uint8_t *e = p + DIR_ENTRIES + i * ONDISK_DIRENT_SIZE;

		memset(de, 0, sizeof(*de));
		de->flags = get32(e + DE_FLAGS);
		if (!(de->flags & ONDISK_DIRENT_USED)) {
			if (!all_zero(e, ONDISK_DIRENT_SIZE))
				return ONDISK_BAD_MAGIC;
			continue;
		}
		if (!get_name(e + DE_NAME, ONDISK_NAME_SIZE, de->name) || de->name[0] == '\0')
			return ONDISK_BAD_MAGIC;
		de->resource_index = get32(e + DE_RESOURCE_INDEX);
		de->created_wall_ms = get64(e + DE_CREATED_WALL_MS);
		if (de->resource_index != out->first_index + i)
			return ONDISK_BAD_MAGIC;
	}
	/* Entries past count must be zero (checked by the padding rule up to the body end). */
	if (!all_zero(p + DIR_ENTRIES + out->count * ONDISK_DIRENT_SIZE,
	              (ONDISK_DIRENTS_PER(ex->sector_size) - out->count) * ONDISK_DIRENT_SIZE))
		return ONDISK_BAD_MAGIC;
	return ONDISK_VALID;
}

/* ---- uuid text ---- */

void ondisk_uuid_format(const uint8_t *uuid, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (unsigned i = 0; i < ONDISK_UUID_SIZE; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 0xf];
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ondisk_uuid_parse(const char *s, uint8_t *uuid)
{
	unsigned n = 0;

	for (size_t i = 0; s[i] && n < 2 * ONDISK_UUID_SIZE; i++) {
		int v;

		if (s[i] == '-')
			continue;
		v = hexval(s[i]);
		if (v < 0)
			return -EINVAL;
		if (n % 2 == 0)
			uuid[n / 2] = (uint8_t)(v << 4);
		else
			uuid[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 2 * ONDISK_UUID_SIZE ? 0 : -EINVAL;
}
