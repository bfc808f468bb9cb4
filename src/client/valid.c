/* SPDX-License-Identifier: MIT */
/*
 * valid.c: dlease_valid(), the nanosecond "may I still act?" check. It reads
 * the daemon's validity page (docs/daemon.md, "Validity page") through a
 * read-only mapping made at the first call; no system call but
 * clock_gettime(CLOCK_BOOTTIME), which the vDSO answers.
 *
 * Layout (little-endian): a 64-byte header (magic "DLVALID1", u32 version 1,
 * u32 slot_count, u32 clock id 7, u32 daemon pid), then slot_count slots of
 * 256 bytes: u32 seq, u32 state, u64 token, u64 generation, u64 act_until_ns,
 * u32 host_id, u32 owner pid, 48-byte lockspace, 48-byte resource.
 *
 * Seqlock read: load seq (acquire); odd means the daemon is writing, retry;
 * copy the slot's first 136 bytes word by word; acquire fence; load seq
 * again; a different value means the copy may be torn, retry. At most
 * VALID_ATTEMPTS tries, then "no": a slot rewritten that often is not
 * stable enough to act on.
 *
 * Invariant: true only when every check below passed on one consistent copy;
 * any doubt (no page, bad header, torn reads, other names) answers false.
 */
#include "base/compat.h"
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/validity.h"
#include "banned.h"

#define VALID_COPY_WORDS (VALIDITY_SLOT_USED / 8) /* seq .. resource name */
#define VALID_ATTEMPTS   64u

_Static_assert(VALIDITY_SLOT_USED % 8 == 0, "the copy is whole words");
_Static_assert(VALIDITY_NAME_SIZE == DLEASE_NAME_MAX, "slot names are lease names");
_Static_assert(VALIDITY_CLOCK_ID == CLOCK_BOOTTIME, "the page's clock is CLOCK_BOOTTIME");

void client_valid_unmap(struct dlease *h)
{
	if (h->valid_map)
		munmap((void *)h->valid_map, h->valid_size);
	h->valid_map = NULL;
}

static int valid_map(struct dlease *h)
{
	char path[CLIENT_RUN_DIR_MAX + 16];
	const uint8_t *map;
	struct stat st;
	uint32_t slots;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/validity", h->run_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return client_fail(h, -errno, "cannot open the validity page %s: %s", path,
		                   strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)VALIDITY_HDR_SIZE) {
		rc = client_fail(h, -EUCLEAN, "%s is too short for a validity page", path);
		goto out_close;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = client_fail(h, -errno, "cannot map %s: %s", path, strerror(errno));
		goto out_close;
	}
	slots = validity_get32(map + VALIDITY_HDR_SLOTS);
	if (memcmp(map, VALIDITY_MAGIC, 8) ||
	    validity_get32(map + VALIDITY_HDR_VERSION) != VALIDITY_VERSION ||
	    validity_get32(map + VALIDITY_HDR_CLOCK) != VALIDITY_CLOCK_ID ||
	    (uint64_t)VALIDITY_HDR_SIZE + (uint64_t)slots * VALIDITY_SLOT_SIZE >
	            (uint64_t)st.st_size) {
		munmap((void *)map, (size_t)st.st_size);
		rc = client_fail(h, -EUCLEAN, "%s is not a version 1 validity page", path);
		goto out_close;
	}
	h->valid_map = map;
	h->valid_size = (size_t)st.st_size;
	h->valid_slots = slots;
out_close:
	close(fd);
	return rc;
}

/* One consistent copy of the slot's first 136 bytes into out; false when none was had. */
static bool valid_copy(const uint8_t *slot, uint8_t *out)
{
	const uint32_t *seq = (const uint32_t *)(const void *)slot;
	const uint64_t *words = (const uint64_t *)(const void *)slot;

	for (uint32_t attempt = 0; attempt < VALID_ATTEMPTS; attempt++) {
		uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE), s2;

		if (le32toh(s1) & 1u)
			continue;
		for (uint32_t i = 0; i < VALID_COPY_WORDS; i++) {
			uint64_t w = __atomic_load_n(&words[i], __ATOMIC_RELAXED);

			memcpy(out + i * 8u, &w, sizeof(w));
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return true;
	}
	return false;
}

static bool valid_name_is(const uint8_t *field, const char *name)
{
	uint8_t want[VALIDITY_NAME_SIZE] = {0};
	size_t n = strnlen(name, DLEASE_NAME_SIZE);

	if (n == 0 || n > VALIDITY_NAME_SIZE)
		return false;
	memcpy(want, name, n);
	return memcmp(field, want, VALIDITY_NAME_SIZE) == 0;
}

CLIENT_API bool dlease_valid(struct dlease *h, const struct dlease_lease *lease, uint64_t *token)
{
	uint8_t s[VALID_COPY_WORDS * 8];
	struct timespec ts;
	uint64_t now_ns;

	if (!h->valid_map && valid_map(h) < 0)
		return false;
	if (lease->slot >= h->valid_slots || lease->token == 0)
		return false;
	if (!valid_copy(h->valid_map + VALIDITY_HDR_SIZE + (size_t)lease->slot * VALIDITY_SLOT_SIZE,
	                s))
		return false;
	if (validity_get32(s + VALIDITY_OFF_STATE) != VALIDITY_HELD ||
	    validity_get64(s + VALIDITY_OFF_TOKEN) != lease->token ||
	    validity_get64(s + VALIDITY_OFF_GEN) != lease->generation ||
	    validity_get32(s + VALIDITY_OFF_HOST) != lease->host_id ||
	    !valid_name_is(s + VALIDITY_OFF_LS, lease->lockspace) ||
	    !valid_name_is(s + VALIDITY_OFF_RES, lease->resource))
		return false;
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return false;
	now_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (now_ns >= validity_get64(s + VALIDITY_OFF_UNTIL))
		return false;
	if (token)
		*token = lease->token;
	return true;
}
