/* SPDX-License-Identifier: MIT */
/*
 * watch.c: the event stream (docs/daemon.md, "Events"). dlease_watch() asks
 * for events after a sequence number; the daemon then sends one frame per
 * event on the same connection, and dlease_next_event() turns each into a
 * struct dlease_event. A gap (events gone from the daemon's history, or
 * dropped from our own full queue) is flagged on the next event handed out.
 */
#include "base/compat.h"
#include "client/client.h"

#include <errno.h>
#include <string.h>

#include "banned.h"

static const char *const watch_kind_names[] = {
        [DLEASE_EVENT_OTHER] = "",
        [DLEASE_EVENT_JOINED] = "joined",
        [DLEASE_EVENT_LEFT] = "left",
        [DLEASE_EVENT_LOCKSPACE_LOST] = "lockspace_lost",
        [DLEASE_EVENT_ACQUIRED] = "acquired",
        [DLEASE_EVENT_RELEASED] = "released",
        [DLEASE_EVENT_LOST] = "lost",
        [DLEASE_EVENT_LEADER_CHANGED] = "leader_changed",
        [DLEASE_EVENT_REQUEST] = "request",
        [DLEASE_EVENT_HOST_DEAD] = "host_dead",
        [DLEASE_EVENT_HOST_LIVE] = "host_live",
        [DLEASE_EVENT_REFUSED] = "refused",
};

static uint32_t watch_kind(const char *name)
{
	for (uint32_t i = 1; name && i < DL_ARRAY_SIZE(watch_kind_names); i++) {
		if (!strcmp(name, watch_kind_names[i]))
			return i;
	}
	return DLEASE_EVENT_OTHER;
}

CLIENT_API int dlease_watch(struct dlease *h, uint64_t since, const char *lockspace,
                            const char *resource, uint64_t *seq_now)
{
	struct proto_msg reply;
	struct proto_buf *b;
	int rc = 0;

	if (lockspace)
		rc = client_check_name(h, "lockspace", lockspace);
	if (rc == 0 && resource)
		rc = client_check_name(h, "resource", resource);
	if (rc < 0)
		return rc;
	b = client_begin(h, "watch");
	if (since != DLEASE_SEQ_NOW)
		proto_put_u64(b, "since", since);
	if (lockspace)
		proto_put(b, "lockspace", lockspace);
	if (resource)
		proto_put(b, "resource", resource);
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	if (rc == 0) {
		if (seq_now)
			*seq_now = client_u64(&reply, "seq");
		if (client_u64(&reply, "gap"))
			h->gap_next = true;
	}
	proto_msg_free(&reply);
	return rc;
}

static int watch_fill(struct dlease *h, const struct proto_msg *m, struct dlease_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (proto_parse_u64(m->lines[0].value, &ev->seq) < 0)
		return client_fail(h, -EBADMSG, "event frame with a malformed seq \"%.40s\"",
		                   m->lines[0].value);
	ev->time_ms = client_u64(m, "time_ms");
	client_copy(ev->kind_name, sizeof(ev->kind_name), proto_get(m, "kind"));
	ev->kind = watch_kind(ev->kind_name);
	client_copy(ev->lockspace, sizeof(ev->lockspace), proto_get(m, "lockspace"));
	client_copy(ev->resource, sizeof(ev->resource), proto_get(m, "resource"));
	ev->old_host_id = client_u64(m, "old_host_id");
	ev->old_generation = client_u64(m, "old_generation");
	ev->new_host_id = client_u64(m, "new_host_id");
	ev->new_generation = client_u64(m, "new_generation");
	ev->token = client_u64(m, "token");
	client_copy(ev->reason, sizeof(ev->reason), proto_get(m, "reason"));
	if (h->gap_next)
		ev->flags |= DLEASE_EVENT_GAP;
	h->gap_next = false;
	return 0;
}

CLIENT_API int dlease_next_event(struct dlease *h, struct dlease_event *ev, int timeout_ms)
{
	struct proto_msg m;
	int rc;

	memset(ev, 0, sizeof(*ev));
	rc = client_next_event_msg(h, &m, timeout_ms);
	if (rc < 0)
		return rc;
	rc = watch_fill(h, &m, ev);
	proto_msg_free(&m);
	return rc;
}
