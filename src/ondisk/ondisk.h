/* SPDX-License-Identifier: MIT */
/*
 * ondisk.h: the sector records of a dlease lockspace and their codecs.
 *
 * Every record fills exactly one sector (512 or 4096 bytes) that exactly one
 * writer owns, and is self-describing: a 64-byte common header (magic,
 * format version, record kind, lockspace uuid, disk index, the sector's own
 * address, writer host id and generation, a sequence field), a kind-specific
 * body, zero bytes up to the last 8, and an XXH3-64 checksum of every byte
 * before it. All integers are little-endian and are encoded field by field
 * (no struct is ever cast onto a buffer). docs/format.md has the byte tables.
 *
 * This module owns the byte layout and the classification of a sector read
 * from disk; it does no I/O and never reads the clock.
 *
 * Invariants:
 *  1. A record is trusted only after magic, checksum, version, identity
 *     (lockspace uuid, disk index, sector address, kind) and zero padding all
 *     check out; anything else is classified and never parsed.
 *  2. An all-zero sector is EMPTY (never written since format) - the only
 *     non-VALID state the protocol may read as "nothing there".
 *  3. encode(decode(x)) == x for every VALID x, byte for byte.
 */
#ifndef DL_ONDISK_H
#define DL_ONDISK_H

#include "base/compat.h"

#define ONDISK_MAGIC          0x45534c44u /* "DLSE" as little-endian bytes */
#define ONDISK_VERSION        1u
#define ONDISK_SECTOR_MIN     512u
#define ONDISK_SECTOR_MAX     4096u
#define ONDISK_UUID_SIZE      16u
#define ONDISK_NAME_SIZE      48u /* lockspace and resource names, NUL-padded */
#define ONDISK_HOST_NAME_SIZE 64u
#define ONDISK_HDR_SIZE       64u
#define ONDISK_CHECKSUM_SIZE  8u
#define ONDISK_BODY_MAX(s)    ((s)-ONDISK_HDR_SIZE - ONDISK_CHECKSUM_SIZE)
#define ONDISK_DIRENT_SIZE    64u
#define ONDISK_DIRENTS_PER(s) ((ONDISK_BODY_MAX(s) - 8u) / ONDISK_DIRENT_SIZE)

enum ondisk_kind {
	ONDISK_KIND_NONE = 0,
	ONDISK_KIND_LOCKSPACE = 1, /* sector 0 of every disk: the lockspace header */
	ONDISK_KIND_HOST = 2,      /* one per host id: the delta lease */
	ONDISK_KIND_LEADER = 3,    /* sector 0 of a lease area: the decided owner */
	ONDISK_KIND_REQUEST = 4,   /* sector 1 of a lease area: "please hand over" */
	ONDISK_KIND_BALLOT = 5,
	/* one per host id in a lease area: Disk Paxos dblock */ ONDISK_KIND_DIRENT =
	        6,               /* directory table sector: names of resources */
	ONDISK_KIND_MAILBOX = 7, /* one per host id: "a request for you is waiting" */
	ONDISK_KIND_COUNT = 8,
};

/* How a sector read from disk looks; the names are what dump prints. */
enum ondisk_state {
	ONDISK_VALID = 0,
	ONDISK_EMPTY,        /* all zero */
	ONDISK_BAD_CHECKSUM, /* dlease magic, checksum mismatch (torn or corrupted) */
	ONDISK_BAD_MAGIC,    /* not a dlease record, unknown version, or non-zero padding */
	ONDISK_FOREIGN,      /* another lockspace's record */
	ONDISK_WRONG_DISK,   /* this lockspace, but written for another disk of it */
	ONDISK_MISPLACED,    /* this lockspace and disk, but another sector's record or kind */
	ONDISK_UNREADABLE,   /* the read failed or timed out (set by callers, never by decode) */
	ONDISK_STATE_COUNT,
};

/* The common header, in CPU order. */
struct ondisk_hdr {
	uint16_t version;
	uint16_t kind; /* enum ondisk_kind */
	uint8_t lockspace_uuid[ONDISK_UUID_SIZE];
	uint32_t disk_index;
	uint32_t flags; /* kind-specific */
	uint64_t lba;   /* this record's sector number on its disk */
	uint64_t writer_host_id;
	uint64_t writer_generation;
	uint64_t seq; /* kind-specific sequence: see each body */
};

/* What the reader expects a sector to be; classification checks against it. */
struct ondisk_expect {
	uint32_t sector_size;
	uint16_t kind;
	bool any_lockspace; /* format's probe of an unknown disk: skip uuid/disk checks */
	uint8_t lockspace_uuid[ONDISK_UUID_SIZE];
	uint32_t disk_index;
	uint64_t lba;
};

/* Lockspace header, sector 0 of every disk. seq = format count of this lockspace id. */
struct ondisk_lockspace {
	struct ondisk_hdr hdr;
	char name[ONDISK_NAME_SIZE + 1];
	uint32_t sector_size;
	uint32_t disk_count;
	uint32_t max_hosts;
	uint32_t max_resources;
	uint32_t io_timeout_ms;
	uint32_t align_size;
	uint64_t host_area_offset;
	uint64_t mailbox_offset;
	uint64_t dir_lease_offset;
	uint64_t dir_table_offset;
	uint64_t resource_offset;
	uint64_t lease_area_size;
	uint64_t disk_size_min;
	uint64_t format_wall_ms;
};

enum ondisk_host_state {
	ONDISK_HOST_FREE = 0, /* left cleanly */
	ONDISK_HOST_LIVE = 1, /* joined and renewing */
	ONDISK_HOST_JOINING = 2,
};

/* Delta lease of one host id. hdr.writer_host_id = slot, hdr.writer_generation = generation,
 * hdr.seq = renewal counter (changes at every write). */
struct ondisk_host {
	struct ondisk_hdr hdr;
	char host_name[ONDISK_HOST_NAME_SIZE + 1];
	uint8_t host_uuid[ONDISK_UUID_SIZE]; /* stable identity: pins the slot to one machine */
	uint64_t timestamp_ns;               /* writer's CLOCK_BOOTTIME at submission */
	uint32_t io_timeout_ms;
	uint32_t state; /* enum ondisk_host_state */
	uint64_t joined_wall_ms;
	uint64_t renewed_wall_ms;
	uint8_t boot_id[ONDISK_UUID_SIZE]; /* the writer's boot: timestamps compare only within one
	                                    */
};

enum ondisk_reason {
	ONDISK_REASON_NONE = 0,
	ONDISK_REASON_ACQUIRE = 1,         /* resource was free */
	ONDISK_REASON_TAKEOVER_DEAD = 2,   /* owner's delta lease expired */
	ONDISK_REASON_TAKEOVER_REJOIN = 3, /* owner rejoined with a newer generation */
	ONDISK_REASON_RELEASE = 4,         /* owner released */
	ONDISK_REASON_HANDOFF = 5,         /* owner released after a request */
	ONDISK_REASON_FORMAT = 6,          /* written by format */
	ONDISK_REASON_OPERATOR = 7, /* written by dlctl repair: moved past a damaged ballot */
	ONDISK_REASON_COUNT = 8,
};

/* Leader record: the decided owner of a lease area. hdr.seq = lver (fencing token). */
struct ondisk_leader {
	struct ondisk_hdr hdr;
	uint64_t owner_host_id; /* 0 = free */
	uint64_t owner_generation;
	uint64_t lver;
	uint32_t resource_index;
	uint32_t reason; /* enum ondisk_reason: why the last change happened */
	uint64_t prev_owner_host_id;
	uint64_t prev_owner_generation;
	uint64_t since_wall_ms;
	char name[ONDISK_NAME_SIZE + 1];
	uint8_t owner_uuid[ONDISK_UUID_SIZE]; /* the owner's host uuid, zero if unknown */
};

enum ondisk_request_mode {
	ONDISK_REQUEST_NONE = 0,
	ONDISK_REQUEST_GRACEFUL = 1,
	ONDISK_REQUEST_FORCE = 2,
	ONDISK_REQUEST_REPAIR = 3, /* mailbox only: "your ballot of this lease is damaged" */
};

/* Request record: asks the holder of lver to hand over. hdr.seq = lver asked about. */
struct ondisk_request {
	struct ondisk_hdr hdr;
	uint64_t requester_host_id;
	uint64_t requester_generation;
	uint64_t lver;
	uint32_t mode; /* enum ondisk_request_mode */
	uint64_t wall_ms;
};

/* Mailbox of a host: written by any host that requests one of its leases (advisory, so
 * several writers are harmless: the holder re-reads the request records it names).
 * hdr.writer_host_id = requester, hdr.seq = the requester's request counter. */
struct ondisk_mailbox {
	struct ondisk_hdr hdr;
	uint64_t requester_generation;
	uint32_t resource_index;
	uint32_t mode; /* enum ondisk_request_mode */
	uint64_t lver;
	uint64_t wall_ms;
};

#define ONDISK_BALLOT_RELEASED 0x1u /* hdr.flags: the writer released what it held */
#define ONDISK_BALLOT_WAITING  0x2u /* hdr.flags: the writer waits for this lease (wait_seq) */

/* Disk Paxos block of one host in one lease area. hdr.seq = mbal. */
struct ondisk_ballot {
	struct ondisk_hdr hdr;
	uint64_t mbal;
	uint64_t bal;
	uint64_t inp_owner_host_id;
	uint64_t inp_owner_generation;
	uint64_t lver;
	uint64_t wait_seq;
};

#define ONDISK_DIRENT_USED 0x1u

struct ondisk_dirent {
	char name[ONDISK_NAME_SIZE + 1];
	uint32_t flags; /* ONDISK_DIRENT_USED */
	uint32_t resource_index;
	uint64_t created_wall_ms;
};

/* Directory table sector: entries for resources [first_index, first_index + count).
 * hdr.seq = directory version that last wrote it. */
struct ondisk_dirent_sector {
	struct ondisk_hdr hdr;
	uint32_t first_index;
	uint32_t count;
	struct ondisk_dirent entries[ONDISK_DIRENTS_PER(ONDISK_SECTOR_MAX)];
};

/* "valid", "empty", "bad_checksum", ... as dump prints them. */
const char *ondisk_state_name(enum ondisk_state state);
const char *ondisk_kind_name(enum ondisk_kind kind);
const char *ondisk_reason_name(enum ondisk_reason reason);
bool ondisk_sector_size_ok(uint32_t sector_size);

/* XXH3-64 of bytes [0, sector_size - 8). */
uint64_t ondisk_checksum(const void *sector, uint32_t sector_size);

/* Classify a sector against what was expected; fills *hdr when VALID (hdr may be NULL). */
enum ondisk_state ondisk_classify(const void *sector, const struct ondisk_expect *ex,
                                  struct ondisk_hdr *hdr);

/* Encoders: zero the sector, write every field little-endian, append the checksum. */
void ondisk_lockspace_encode(const struct ondisk_lockspace *in, uint32_t sector_size, void *sector);
void ondisk_host_encode(const struct ondisk_host *in, uint32_t sector_size, void *sector);
void ondisk_leader_encode(const struct ondisk_leader *in, uint32_t sector_size, void *sector);
void ondisk_request_encode(const struct ondisk_request *in, uint32_t sector_size, void *sector);
void ondisk_ballot_encode(const struct ondisk_ballot *in, uint32_t sector_size, void *sector);
void ondisk_mailbox_encode(const struct ondisk_mailbox *in, uint32_t sector_size, void *sector);
void ondisk_dirent_sector_encode(const struct ondisk_dirent_sector *in, uint32_t sector_size,
                                 void *sector);

/* Decoders: classify, and parse the body only when VALID. Return the state. */
enum ondisk_state ondisk_lockspace_decode(const void *sector, const struct ondisk_expect *ex,
                                          struct ondisk_lockspace *out);
enum ondisk_state ondisk_host_decode(const void *sector, const struct ondisk_expect *ex,
                                     struct ondisk_host *out);
enum ondisk_state ondisk_leader_decode(const void *sector, const struct ondisk_expect *ex,
                                       struct ondisk_leader *out);
enum ondisk_state ondisk_request_decode(const void *sector, const struct ondisk_expect *ex,
                                        struct ondisk_request *out);
enum ondisk_state ondisk_ballot_decode(const void *sector, const struct ondisk_expect *ex,
                                       struct ondisk_ballot *out);
enum ondisk_state ondisk_mailbox_decode(const void *sector, const struct ondisk_expect *ex,
                                        struct ondisk_mailbox *out);
enum ondisk_state ondisk_dirent_sector_decode(const void *sector, const struct ondisk_expect *ex,
                                              struct ondisk_dirent_sector *out);

/* Fill a header for a record this lockspace writes at lba on disk_index. */
void ondisk_hdr_init(struct ondisk_hdr *hdr, enum ondisk_kind kind, const uint8_t *lockspace_uuid,
                     uint32_t disk_index, uint64_t lba);

/* uuid as 36 characters "xxxxxxxx-xxxx-..." plus NUL (out >= 37 bytes). */
void ondisk_uuid_format(const uint8_t *uuid, char *out);
int ondisk_uuid_parse(const char *s, uint8_t *uuid);

#endif /* DL_ONDISK_H */
