/* SPDX-License-Identifier: MIT */
/*
 * lease.c: register, acquire, release, inquire and request (docs/daemon.md,
 * "Operations"). Each checks its names, sends one request and copies the
 * reply's fields into the caller's fixed-size struct.
 */
#include "base/compat.h"
#include "client/client.h"

#include <errno.h>
#include <string.h>

#include "banned.h"

_Static_assert(sizeof(struct dlease_space) == 88, "dlease_space layout changed");
_Static_assert(sizeof(struct dlease_lease) == 176, "dlease_lease layout changed");
_Static_assert(sizeof(struct dlease_owner) == 256, "dlease_owner layout changed");
_Static_assert(sizeof(struct dlease_event) == 512, "dlease_event layout changed");
_Static_assert(DLEASE_NAME_SIZE > DLEASE_NAME_MAX, "names need their NUL");

static int lease_begin(struct dlease *h, const char *op, const char *lockspace,
                       const char *resource)
{
	struct proto_buf *b;
	int rc = client_check_name(h, "lockspace", lockspace);

	if (rc == 0)
		rc = client_check_name(h, "resource", resource);
	if (rc < 0)
		return rc;
	b = client_begin(h, op);
	proto_put(b, "lockspace", lockspace);
	proto_put(b, "resource", resource);
	return 0;
}

CLIENT_API int dlease_register(struct dlease *h, int pid)
{
	struct proto_msg reply;
	struct proto_buf *b;
	int rc;

	if (pid < 0)
		return client_fail(h, -EINVAL, "pid %d is not a process id", pid);
	b = client_begin(h, "register");
	if (pid > 0)
		proto_put_u64(b, "pid", (uint64_t)pid);
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	proto_msg_free(&reply);
	return rc;
}

CLIENT_API int dlease_acquire(struct dlease *h, const char *lockspace, const char *resource,
                              int64_t timeout_ms, unsigned flags, int pid,
                              struct dlease_lease *lease)
{
	struct proto_msg reply;
	int rc;

	memset(lease, 0, sizeof(*lease));
	if (pid < 0)
		return client_fail(h, -EINVAL, "pid %d is not a process id", pid);
	if (timeout_ms < DLEASE_WAIT_FOREVER)
		return client_fail(h, -EINVAL, "timeout_ms %lld: must be -1, 0 or more",
		                   (long long)timeout_ms);
	rc = lease_begin(h, "acquire", lockspace, resource);
	if (rc < 0)
		return rc;
	if (timeout_ms != 0)
		proto_put_i64(&h->tx, "timeout_ms", timeout_ms);
	proto_put(&h->tx, "create", (flags & DLEASE_ACQUIRE_CREATE) ? "1" : "0");
	if (pid > 0)
		proto_put_u64(&h->tx, "pid", (uint64_t)pid);
	rc = client_call(h, &reply, client_wait_for(timeout_ms));
	if (rc == 0) {
		client_copy(lease->lockspace, sizeof(lease->lockspace), lockspace);
		client_copy(lease->resource, sizeof(lease->resource), resource);
		lease->token = client_u64(&reply, "token");
		lease->generation = client_u64(&reply, "generation");
		lease->act_until_ns = client_u64(&reply, "act_until_ns");
		lease->host_id = (uint32_t)client_u64(&reply, "host_id");
		lease->slot = (uint32_t)client_u64(&reply, "slot");
	}
	proto_msg_free(&reply);
	return rc;
}

CLIENT_API int dlease_release(struct dlease *h, const char *lockspace, const char *resource)
{
	struct proto_msg reply;
	int rc = lease_begin(h, "release", lockspace, resource);

	if (rc < 0)
		return rc;
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	proto_msg_free(&reply);
	return rc;
}

static uint32_t lease_owner_state(const char *s)
{
	static const char *const names[] = {
	        [DLEASE_OWNER_FREE] = "free",
	        [DLEASE_OWNER_LIVE] = "live",
	        [DLEASE_OWNER_DEAD] = "dead",
	        [DLEASE_OWNER_LEFT] = "left",
	};

	for (uint32_t i = 1; s && i < DL_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i]))
			return i;
	}
	return DLEASE_OWNER_UNKNOWN;
}

int client_owner(struct dlease *h, const char *op, const char *lockspace, const char *resource,
                 struct dlease_owner *owner)
{
	struct proto_msg reply;
	int rc;

	memset(owner, 0, sizeof(*owner));
	rc = lease_begin(h, op, lockspace, resource);
	if (rc < 0)
		return rc;
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	if (rc == 0) {
		owner->token = client_u64(&reply, "token");
		owner->owner_host_id = client_u64(&reply, "owner_host_id");
		owner->owner_generation = client_u64(&reply, "owner_generation");
		owner->since_ms = client_u64(&reply, "since_ms");
		owner->prev_host_id = client_u64(&reply, "prev_host_id");
		owner->prev_generation = client_u64(&reply, "prev_generation");
		owner->owner_state = lease_owner_state(proto_get(&reply, "owner_state"));
		client_copy(owner->owner_name, sizeof(owner->owner_name),
		            proto_get(&reply, "owner_name"));
		client_copy(owner->reason, sizeof(owner->reason), proto_get(&reply, "reason"));
		client_copy(owner->request_mode, sizeof(owner->request_mode),
		            proto_get(&reply, "request_mode"));
		client_copy(owner->state_name, sizeof(owner->state_name),
		            proto_get(&reply, "owner_state"));
	}
	proto_msg_free(&reply);
	return rc;
}

CLIENT_API int dlease_inquire(struct dlease *h, const char *lockspace, const char *resource,
                              struct dlease_owner *owner)
{
	return client_owner(h, "inquire", lockspace, resource, owner);
}

CLIENT_API int dlease_request(struct dlease *h, const char *lockspace, const char *resource,
                              unsigned flags, uint64_t *token)
{
	struct proto_msg reply;
	int rc = lease_begin(h, "request", lockspace, resource);

	if (rc < 0)
		return rc;
	proto_put(&h->tx, "mode", (flags & DLEASE_REQUEST_FORCE) ? "force" : "graceful");
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	if (rc == 0 && token)
		*token = client_u64(&reply, "token");
	proto_msg_free(&reply);
	return rc;
}
