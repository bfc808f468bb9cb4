/* SPDX-License-Identifier: MIT */
/*
 * validity.h: the layout of the validity page (docs/daemon.md), the one
 * definition the daemon's writer (src/daemon/validity.c) and libdlease's
 * reader (src/client/valid.c) share. All values little-endian; the page is
 * shared memory, never on disk: a sequence lock, not a checksum, keeps a
 * reader from trusting a half-written slot.
 *
 *   header (64 bytes): magic "DLVALID1", u32 version, u32 slot count,
 *                      u32 clock id (CLOCK_BOOTTIME), u32 daemon pid
 *   slot (256 bytes):  u32 seq (odd while written), u32 state, u64 token,
 *                      u64 generation, u64 act_until_ns, u32 host id,
 *                      u32 owner pid, 48-byte lockspace, 48-byte resource
 */
#ifndef DL_PROTO_VALIDITY_H
#define DL_PROTO_VALIDITY_H

#include "base/compat.h"

#include <string.h>

#define VALIDITY_MAGIC       "DLVALID1"
#define VALIDITY_VERSION     1u
#define VALIDITY_SIZE        (64u * 1024u)
#define VALIDITY_HDR_SIZE    64u
#define VALIDITY_SLOT_SIZE   256u
#define VALIDITY_SLOTS       255u
#define VALIDITY_CLOCK_ID    7u /* CLOCK_BOOTTIME */
#define VALIDITY_NAME_SIZE   48u
#define VALIDITY_HDR_VERSION 8u
#define VALIDITY_HDR_SLOTS   12u
#define VALIDITY_HDR_CLOCK   16u
#define VALIDITY_HDR_PID     20u
#define VALIDITY_OFF_SEQ     0u
#define VALIDITY_OFF_STATE   4u
#define VALIDITY_OFF_TOKEN   8u
#define VALIDITY_OFF_GEN     16u
#define VALIDITY_OFF_UNTIL   24u
#define VALIDITY_OFF_HOST    32u
#define VALIDITY_OFF_PID     36u
#define VALIDITY_OFF_LS      40u
#define VALIDITY_OFF_RES     88u
#define VALIDITY_SLOT_USED   (VALIDITY_OFF_RES + VALIDITY_NAME_SIZE) /* 136 bytes */

enum validity_state { VALIDITY_FREE = 0, VALIDITY_HELD = 1, VALIDITY_LOST = 2 };

_Static_assert(VALIDITY_HDR_SIZE + VALIDITY_SLOTS * VALIDITY_SLOT_SIZE <= VALIDITY_SIZE,
               "the slots fit the page");
_Static_assert(VALIDITY_SLOT_USED <= VALIDITY_SLOT_SIZE, "a slot's fields fit the slot");

static inline uint32_t validity_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t validity_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void validity_put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void validity_put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

#endif /* DL_PROTO_VALIDITY_H */
