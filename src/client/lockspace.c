/* SPDX-License-Identifier: MIT */
/*
 * lockspace.c: join and leave (docs/daemon.md, ops `join` and `leave`).
 * The daemon does the work; this file checks arguments and maps replies.
 */
#include "base/compat.h"
#include "client/client.h"

#include <errno.h>
#include <string.h>

#include "banned.h"

CLIENT_API int dlease_join(struct dlease *h, const char *const *disks, unsigned disk_count,
                           uint32_t host_id, int64_t timeout_ms, struct dlease_space *space)
{
	struct proto_msg reply;
	struct proto_buf *b;
	int rc;

	memset(space, 0, sizeof(*space));
	if (disk_count == 0 || disk_count > DLEASE_DISKS_MAX)
		return client_fail(h, -EINVAL, "join needs 1 to %u disks, not %u", DLEASE_DISKS_MAX,
		                   disk_count);
	if (host_id == 0)
		return client_fail(h, -EINVAL, "host id must be 1 or more");
	b = client_begin(h, "join");
	proto_put_u64(b, "host_id", host_id);
	for (unsigned i = 0; i < disk_count; i++)
		proto_put(b, "disk", disks[i]);
	if (timeout_ms > 0)
		proto_put_i64(b, "timeout_ms", timeout_ms);
	rc = client_call(h, &reply, client_wait_for(timeout_ms > 0 ? timeout_ms : -1));
	if (rc == 0) {
		client_copy(space->lockspace, sizeof(space->lockspace),
		            proto_get(&reply, "lockspace"));
		space->host_id = (uint32_t)client_u64(&reply, "host_id");
		space->generation = client_u64(&reply, "generation");
		space->io_timeout_ms = (uint32_t)client_u64(&reply, "io_timeout_ms");
	}
	proto_msg_free(&reply);
	return rc;
}

CLIENT_API int dlease_leave(struct dlease *h, const char *lockspace, unsigned flags)
{
	struct proto_msg reply;
	struct proto_buf *b;
	int rc = client_check_name(h, "lockspace", lockspace);

	if (rc < 0)
		return rc;
	b = client_begin(h, "leave");
	proto_put(b, "lockspace", lockspace);
	if (flags & DLEASE_LEAVE_FORCE)
		proto_put(b, "force", "1");
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	proto_msg_free(&reply);
	return rc;
}
