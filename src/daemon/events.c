/* SPDX-License-Identifier: MIT */
/*
 * events.c: every leadership change and notable happening, numbered. An
 * event goes to three places at once: the in-memory history (the last
 * DLEASED_HISTORY_MAX), the audit log (JSON lines, flushed per event), and
 * every connection watching it. Sequence numbers start at 1 and never repeat
 * within one daemon's life, so a watcher that reconnects with since=N misses
 * nothing while N is still in the history.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

const char *event_kind_name(enum event_kind k)
{
	static const char *const names[] = {
	        "joined",         "left",    "lockspace_lost", "acquired",  "released", "lost",
	        "leader_changed", "request", "host_dead",      "host_live", "refused",
	};

	return (size_t)k < DL_ARRAY_SIZE(names) ? names[k] : "unknown";
}

void events_put(struct proto_buf *b, const struct event *ev)
{
	proto_put_u64(b, "time_ms", ev->time_ms);
	proto_put(b, "kind", event_kind_name(ev->kind));
	proto_put(b, "lockspace", ev->lockspace);
	if (ev->resource[0])
		proto_put(b, "resource", ev->resource);
	if (ev->old_host_id || ev->old_generation) {
		proto_put_u64(b, "old_host_id", ev->old_host_id);
		proto_put_u64(b, "old_generation", ev->old_generation);
	}
	if (ev->new_host_id || ev->new_generation) {
		proto_put_u64(b, "new_host_id", ev->new_host_id);
		proto_put_u64(b, "new_generation", ev->new_generation);
	}
	if (ev->token)
		proto_put_u64(b, "token", ev->token);
	proto_put(b, "reason", ev->reason);
}

static bool events_match(const struct event *ev, const char *lockspace, const char *resource)
{
	if (lockspace && *lockspace && strcmp(ev->lockspace, lockspace) != 0)
		return false;
	return !(resource && *resource && strcmp(ev->resource, resource) != 0);
}

static void events_json_str(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, size - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
}

static void events_audit(struct dleased *dd, const struct event *ev)
{
	char line[1024], ts[32], reason[400];
	time_t t = (time_t)(ev->time_ms / 1000);
	struct tm tm;
	int n;

	if (dd->audit_fd < 0)
		return;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	events_json_str(reason, sizeof(reason), ev->reason);
	n = snprintf(
	        line, sizeof(line),
	        "{\"seq\":%" PRIu64 ",\"time\":\"%s.%03uZ\",\"time_ms\":%" PRIu64
	        ",\"kind\":\"%s\",\"lockspace\":\"%s\",\"resource\":\"%s\",\"old_host_id\":%" PRIu64
	        ",\"old_generation\":%" PRIu64 ",\"new_host_id\":%" PRIu64
	        ",\"new_generation\":%" PRIu64 ",\"token\":%" PRIu64 ",\"reason\":\"%s\"}\n",
	        ev->seq, ts, (unsigned)(ev->time_ms % 1000), ev->time_ms, event_kind_name(ev->kind),
	        ev->lockspace, ev->resource, ev->old_host_id, ev->old_generation, ev->new_host_id,
	        ev->new_generation, ev->token, reason);
	if (n > 0 && write(dd->audit_fd, line, DL_MIN((size_t)n, sizeof(line) - 1)) < 0)
		dl_warn("audit log: %s", strerror(errno));
}

void events_emit(struct dleased *dd, struct event *ev)
{
	struct proto_buf b;

	ev->seq = dd->next_seq++;
	ev->time_ms = clock_wall_ms();
	dd->history[ev->seq % DLEASED_HISTORY_MAX] = *ev;
	if (ev->kind == EV_ACQUIRED || ev->kind == EV_LEADER_CHANGED)
		dd->metrics.leader_changes++;
	dl_info("event %" PRIu64 " %s %s %s: %s", ev->seq, event_kind_name(ev->kind), ev->lockspace,
	        ev->resource, ev->reason);
	events_audit(dd, ev);
	proto_buf_init(&b);
	for (struct client *c = dd->clients; c; c = c->next) {
		if (!c->watching || c->closing || c->watch_seq >= ev->seq ||
		    !events_match(ev, c->watch_ls, c->watch_res))
			continue;
		proto_buf_reset(&b);
		proto_put_u64(&b, "event", ev->seq);
		events_put(&b, ev);
		server_send(c, &b);
		c->watch_seq = ev->seq;
	}
	proto_buf_free(&b);
}

void events_history(const struct dleased *dd, struct proto_buf *b, const char *lockspace,
                    uint64_t since, uint32_t limit)
{
	uint64_t first =
	        dd->next_seq > DLEASED_HISTORY_MAX ? dd->next_seq - DLEASED_HISTORY_MAX : 1;
	uint64_t from = DL_MAX(first, since + 1);
	uint32_t n = 0;

	/* the newest `limit` matching events, oldest first: count back, then emit */
	if (limit) {
		uint64_t s = dd->next_seq;

		while (s > from && n < limit) {
			s--;
			if (events_match(&dd->history[s % DLEASED_HISTORY_MAX], lockspace, NULL))
				n++;
		}
		from = DL_MAX(from, s);
	}
	for (uint64_t s = from; s < dd->next_seq; s++) {
		const struct event *ev = &dd->history[s % DLEASED_HISTORY_MAX];

		DL_ASSERT(ev->seq == s);
		if (!events_match(ev, lockspace, NULL))
			continue;
		proto_put(b, "record", "event");
		proto_put_u64(b, "seq", ev->seq);
		events_put(b, ev);
	}
}

int events_open_audit(struct dleased *dd, const char *path)
{
	snprintf(dd->audit_path, sizeof(dd->audit_path), "%s", path);
	dd->audit_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	return dd->audit_fd < 0 ? -errno : 0;
}

void events_reopen_audit(struct dleased *dd)
{
	int fd = open(dd->audit_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0) {
		dl_warn("audit log %s: cannot reopen: %s", dd->audit_path, strerror(errno));
		return;
	}
	if (dd->audit_fd >= 0)
		close(dd->audit_fd);
	dd->audit_fd = fd;
	dl_info("audit log %s reopened", dd->audit_path);
}
