/* SPDX-License-Identifier: MIT */
/*
 * validity.c: the validity page of docs/daemon.md, RUN_DIR/validity, a
 * shared mapping that lets a holder ask "may I still act, and with which
 * token?" without a round trip. Each slot is written under a sequence lock:
 * seq is made odd, the fields change, seq is made even again, with release
 * ordering, so a reader that sees the same even seq before and after its
 * copy has a consistent slot. The deadline only moves when a renewal
 * counted; a frozen daemon leaves it where it was, and it runs out.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "banned.h"

static uint8_t *validity_slot(struct dleased *dd, int slot)
{
	DL_ASSERT(slot >= 0 && (uint32_t)slot < VALIDITY_SLOTS);
	return dd->validity + VALIDITY_HDR_SIZE + (size_t)slot * VALIDITY_SLOT_SIZE;
}

int validity_open(struct dleased *dd)
{
	char tmp[4200];
	int fd;

	/* a new file renamed over the old one: a client still mapping a predecessor's page
	 * keeps that page (whose deadlines run out), never a truncated one (SIGBUS) */
	snprintf(tmp, sizeof(tmp), "%s.new", dd->path_validity);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, VALIDITY_SIZE) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	dd->validity = mmap(NULL, VALIDITY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (dd->validity == MAP_FAILED) {
		int rc = -errno;

		dd->validity = NULL;
		close(fd);
		return rc;
	}
	dd->validity_fd = fd;
	memset(dd->validity, 0, VALIDITY_SIZE);
	memcpy(dd->validity, VALIDITY_MAGIC, 8);
	validity_put32(dd->validity + VALIDITY_HDR_VERSION, VALIDITY_VERSION);
	validity_put32(dd->validity + VALIDITY_HDR_SLOTS, VALIDITY_SLOTS);
	validity_put32(dd->validity + VALIDITY_HDR_CLOCK, CLOCK_BOOTTIME);
	validity_put32(dd->validity + VALIDITY_HDR_PID, (uint32_t)getpid());
	if (rename(tmp, dd->path_validity) < 0)
		return -errno;
	return 0;
}

void validity_close(struct dleased *dd)
{
	if (dd->validity) {
		/* nothing may be acted on once the daemon is gone */
		for (uint32_t i = 0; i < VALIDITY_SLOTS; i++) {
			if (dd->vslot_used[i])
				validity_set_state(dd, (int)i, VALIDITY_LOST);
		}
		munmap(dd->validity, VALIDITY_SIZE);
		dd->validity = NULL;
	}
	if (dd->validity_fd >= 0)
		close(dd->validity_fd);
	dd->validity_fd = -1;
}

int validity_alloc(struct dleased *dd)
{
	for (uint32_t i = 0; i < VALIDITY_SLOTS; i++) {
		if (!dd->vslot_used[i]) {
			dd->vslot_used[i] = true;
			return (int)i;
		}
	}
	return -ENOSPC;
}

static void validity_begin(uint8_t *s)
{
	uint32_t *seq = (uint32_t *)(void *)s;

	__atomic_store_n(seq, htole32(le32toh(*seq) + 1), __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	DL_ASSERT(le32toh(*seq) % 2 == 1);
}

static void validity_end(uint8_t *s)
{
	uint32_t *seq = (uint32_t *)(void *)s;

	__atomic_store_n(seq, htole32(le32toh(*seq) + 1), __ATOMIC_RELEASE);
	DL_ASSERT(le32toh(*seq) % 2 == 0);
}

void validity_set(struct dleased *dd, int slot, uint32_t state, uint64_t token, uint64_t generation,
                  uint64_t act_until_ns, uint32_t host_id, uint32_t pid, const char *lockspace,
                  const char *resource)
{
	uint8_t *s = validity_slot(dd, slot);

	validity_begin(s);
	validity_put32(s + VALIDITY_OFF_STATE, state);
	validity_put64(s + VALIDITY_OFF_TOKEN, token);
	validity_put64(s + VALIDITY_OFF_GEN, generation);
	validity_put64(s + VALIDITY_OFF_UNTIL, act_until_ns);
	validity_put32(s + VALIDITY_OFF_HOST, host_id);
	validity_put32(s + VALIDITY_OFF_PID, pid);
	memset(s + VALIDITY_OFF_LS, 0, 2 * VALIDITY_NAME_SIZE);
	strncpy((char *)s + VALIDITY_OFF_LS, lockspace, VALIDITY_NAME_SIZE);
	strncpy((char *)s + VALIDITY_OFF_RES, resource, VALIDITY_NAME_SIZE);
	validity_end(s);
}

void validity_set_deadline(struct dleased *dd, int slot, uint64_t act_until_ns)
{
	uint8_t *s = validity_slot(dd, slot);

	validity_begin(s);
	validity_put64(s + VALIDITY_OFF_UNTIL, act_until_ns);
	validity_end(s);
}

void validity_set_state(struct dleased *dd, int slot, uint32_t state)
{
	uint8_t *s = validity_slot(dd, slot);

	validity_begin(s);
	validity_put32(s + VALIDITY_OFF_STATE, state);
	if (state != VALIDITY_HELD)
		validity_put64(s + VALIDITY_OFF_UNTIL, 0);
	validity_end(s);
}

void validity_free(struct dleased *dd, int slot)
{
	if (slot < 0)
		return;
	validity_set_state(dd, slot, VALIDITY_FREE);
	dd->vslot_used[slot] = false;
}
