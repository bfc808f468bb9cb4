/* SPDX-License-Identifier: MIT */
/*
 * conn.c: one connection to dleased (docs/daemon.md, "Wire protocol"): the
 * Unix socket, frames in and out, one request answered by one reply, event
 * frames queued when they arrive in between, and the last error's sentence.
 * The socket is non-blocking; every wait is a poll() with a deadline, so a
 * half-received frame survives a timeout and is completed by the next call.
 *
 * A frame the daemon should never send (too long, unparsable, neither `rc=`
 * nor `event=` first) makes the stream untrustworthy: the connection is
 * closed and every later call returns -ENOTCONN.
 */
#include "base/compat.h"
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/check.h"
#include "banned.h"

#define CONN_PREFIX 4u

/* dlease_last_error(NULL): why this thread's last dlease_connect() failed. Like errno, the
 * one piece of per-thread state in the library: a failed connect has no handle to keep it. */
static _Thread_local char conn_connect_error[CLIENT_ERROR_SIZE];

int client_fail(struct dlease *h, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->last_error, sizeof(h->last_error), fmt, ap);
	va_end(ap);
	return rc;
}

void client_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int client_check_name(struct dlease *h, const char *what, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > DLEASE_NAME_MAX)
		return client_fail(h, -EINVAL, "%s name must be 1 to %u bytes", what,
		                   DLEASE_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return client_fail(h, -EINVAL, "%s name holds control byte 0x%02x", what,
			                   c);
	}
	return 0;
}

uint64_t client_u64(const struct proto_msg *m, const char *key)
{
	uint64_t v = 0;

	if (proto_get_u64(m, key, &v) < 0)
		return 0;
	return v;
}

int64_t client_wait_for(int64_t wait_ms)
{
	return wait_ms < 0 ? -1 : wait_ms + CLIENT_REPLY_MS;
}

static uint64_t conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* poll() timeout until deadline_ms (0: none, wait for ever). */
static int conn_poll_ms(uint64_t deadline_ms)
{
	uint64_t now = conn_now_ms();

	if (deadline_ms == 0)
		return -1;
	if (now >= deadline_ms)
		return 0;
	return (int)DL_MIN(deadline_ms - now, (uint64_t)INT32_MAX);
}

static int conn_broken(struct dlease *h, int rc, const char *what)
{
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	h->rx_len = 0;
	return client_fail(h, rc, "%s (connection to %s closed)", what, h->sock_path);
}

static int conn_run_dir(const char *run_dir, char *out, size_t size)
{
	const char *env = getenv("DLEASE_RUN_DIR");

	if (!run_dir || !*run_dir)
		run_dir = env && *env ? env : DLEASE_RUN_DIR_DEFAULT;
	if ((size_t)snprintf(out, size, "%s", run_dir) >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int conn_open(struct dlease *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int rc;

	if ((size_t)snprintf(h->sock_path, sizeof(h->sock_path), "%s/dleased.sock", h->run_dir) >=
	    sizeof(h->sock_path)) {
		snprintf(conn_connect_error, sizeof(conn_connect_error),
		         "run directory %.200s is too long for a socket path (at most %zu bytes)",
		         h->run_dir, sizeof(h->sock_path) - 14);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, h->sock_path, sizeof(h->sock_path));
	h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0)
		return -errno;
	if (connect(h->fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	rc = -errno;
	snprintf(conn_connect_error, sizeof(conn_connect_error),
	         "cannot reach dleased at %s: %s (is dleased running with --run-dir %.108s?)",
	         h->sock_path, strerror(-rc), h->run_dir);
	close(h->fd);
	h->fd = -1;
	return rc;
}

CLIENT_API int dlease_connect(const char *run_dir, struct dlease **out)
{
	struct dlease *h;
	int rc;

	*out = NULL;
	conn_connect_error[0] = '\0';
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -1;
	rc = conn_run_dir(run_dir, h->run_dir, sizeof(h->run_dir));
	if (rc < 0) {
		snprintf(conn_connect_error, sizeof(conn_connect_error),
		         "run directory name is too long");
		goto out_free;
	}
	proto_buf_init(&h->tx);
	h->events = calloc(CLIENT_EVENTS_MAX, sizeof(*h->events));
	if (h->tx.error || !h->events) {
		rc = -ENOMEM;
		goto out_free_tx;
	}
	rc = conn_open(h);
	if (rc < 0)
		goto out_free_tx;
	*out = h;
	return 0;
out_free_tx:
	free(h->events);
	proto_buf_free(&h->tx);
out_free:
	free(h);
	return rc;
}

CLIENT_API void dlease_close(struct dlease *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	for (uint32_t i = 0; i < h->event_count; i++)
		proto_msg_free(&h->events[(h->event_head + i) % CLIENT_EVENTS_MAX]);
	free(h->events);
	if (h->valid_map)
		client_valid_unmap(h);
	proto_buf_free(&h->tx);
	free(h->rx);
	free(h);
}

CLIENT_API int dlease_fd(const struct dlease *h)
{
	return h->fd;
}

CLIENT_API const char *dlease_run_dir(const struct dlease *h)
{
	return h->run_dir;
}

CLIENT_API const char *dlease_last_error(const struct dlease *h)
{
	return h ? h->last_error : conn_connect_error;
}

struct proto_buf *client_begin(struct dlease *h, const char *op)
{
	proto_buf_reset(&h->tx);
	proto_put(&h->tx, "op", op);
	return &h->tx;
}

static int conn_send(struct dlease *h, uint64_t deadline_ms)
{
	size_t off = 0;

	while (off < h->tx.len) {
		ssize_t n = send(h->fd, h->tx.data + off, h->tx.len - off, MSG_NOSIGNAL);
		struct pollfd p = {.fd = h->fd, .events = POLLOUT};

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return conn_broken(h, -errno, "sending the request failed");
		n = poll(&p, 1, conn_poll_ms(deadline_ms));
		if (n == 0)
			return conn_broken(h, -ETIMEDOUT, "dleased took no request in time");
		if (n < 0 && errno != EINTR)
			return conn_broken(h, -errno, "poll on the socket failed");
	}
	return 0;
}

/* Receive what is there into rx; waits until deadline_ms for at least one byte.
 * Returns 0, -EAGAIN (deadline passed), -ECONNRESET or -errno. */
static int conn_fill(struct dlease *h, uint64_t deadline_ms)
{
	struct pollfd p = {.fd = h->fd, .events = POLLIN};
	ssize_t n;
	int prc;

	if (h->rx_cap - h->rx_len < 65536) {
		size_t cap = DL_MAX(h->rx_cap * 2, h->rx_len + 65536);
		uint8_t *rx = realloc(h->rx, cap);

		if (!rx)
			return client_fail(h, -ENOMEM, "out of memory for a reply");
		h->rx = rx;
		h->rx_cap = cap;
	}
	for (;;) {
		n = recv(h->fd, h->rx + h->rx_len, h->rx_cap - h->rx_len, 0);
		if (n > 0) {
			h->rx_len += (size_t)n;
			return 0;
		}
		if (n == 0)
			return conn_broken(h, -ECONNRESET, "dleased closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return conn_broken(h, -errno, "reading from dleased failed");
		prc = poll(&p, 1, conn_poll_ms(deadline_ms));
		if (prc == 0)
			return -EAGAIN;
		if (prc < 0 && errno != EINTR)
			return conn_broken(h, -errno, "poll on the socket failed");
	}
}

/* Take one whole frame out of rx, parsed. Returns 1 (a frame), 0 (not whole yet), -errno. */
static int conn_take_frame(struct dlease *h, struct proto_msg *m)
{
	char why[160];
	uint32_t len;
	int rc;

	if (h->rx_len < CONN_PREFIX)
		return 0;
	len = proto_frame_len(h->rx);
	if (len > PROTO_REPLY_MAX)
		return conn_broken(h, -EBADMSG, "dleased sent a frame longer than 4 MiB");
	if (h->rx_len < CONN_PREFIX + (size_t)len)
		return 0;
	rc = proto_parse(h->rx + CONN_PREFIX, len, m, why, sizeof(why));
	memmove(h->rx, h->rx + CONN_PREFIX + len, h->rx_len - CONN_PREFIX - len);
	h->rx_len -= CONN_PREFIX + len;
	if (rc < 0) {
		char what[200];

		snprintf(what, sizeof(what), "dleased sent a malformed frame: %s", why);
		return conn_broken(h, rc, what);
	}
	if (m->count == 0 ||
	    (strcmp(m->lines[0].key, "rc") != 0 && strcmp(m->lines[0].key, "event") != 0)) {
		proto_msg_free(m);
		return conn_broken(h, -EBADMSG,
		                   "dleased sent a frame that is neither reply nor event");
	}
	return 1;
}

/* The next frame, waiting until deadline_ms (0: for ever). 0, -EAGAIN or -errno. */
static int conn_read_frame(struct dlease *h, struct proto_msg *m, uint64_t deadline_ms)
{
	int rc;

	if (h->fd < 0)
		return -ENOTCONN;
	for (;;) {
		rc = conn_take_frame(h, m);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		rc = conn_fill(h, deadline_ms);
		if (rc < 0)
			return rc;
	}
}

static bool conn_is_event(const struct proto_msg *m)
{
	return strcmp(m->lines[0].key, "event") == 0;
}

static void conn_queue_event(struct dlease *h, struct proto_msg *m)
{
	if (h->event_count == CLIENT_EVENTS_MAX) {
		proto_msg_free(m);
		h->gap_next = true; /* the reader learns it missed some */
		return;
	}
	h->events[(h->event_head + h->event_count) % CLIENT_EVENTS_MAX] = *m;
	h->event_count++;
	memset(m, 0, sizeof(*m));
}

/* The rc of a reply (its error= becomes the last error), or 1 when rc= is malformed. */
static int conn_reply_rc(struct dlease *h, const struct proto_msg *m)
{
	int64_t rc;

	if (proto_parse_i64(m->lines[0].value, &rc) < 0 || rc > 0 || rc < -4095)
		return 1;
	if (rc < 0)
		client_copy(h->last_error, sizeof(h->last_error), proto_get(m, "error"));
	return (int)rc;
}

int client_call(struct dlease *h, struct proto_msg *reply, int64_t wait_ms)
{
	uint64_t deadline_ms = wait_ms < 0 ? 0 : conn_now_ms() + (uint64_t)wait_ms;
	int rc;

	memset(reply, 0, sizeof(*reply));
	h->last_error[0] = '\0';
	if (h->fd < 0)
		return client_fail(h, -ENOTCONN, "the connection to %s is closed", h->sock_path);
	rc = proto_finish(&h->tx, PROTO_REQUEST_MAX);
	if (rc < 0)
		return client_fail(h, rc, "the request does not fit in a frame");
	rc = conn_send(h, deadline_ms);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = conn_read_frame(h, reply, deadline_ms);
		if (rc == -EAGAIN)
			return conn_broken(h, -ETIMEDOUT, "dleased did not reply in time");
		if (rc < 0)
			return rc;
		if (!conn_is_event(reply))
			break;
		conn_queue_event(h, reply);
	}
	rc = conn_reply_rc(h, reply);
	if (rc == 1) {
		proto_msg_free(reply);
		return conn_broken(h, -EBADMSG, "dleased replied with a malformed rc");
	}
	return rc;
}

int client_simple(struct dlease *h, const char *op, struct proto_msg *reply)
{
	client_begin(h, op);
	return client_call(h, reply, CLIENT_REPLY_MS);
}

int client_next_event_msg(struct dlease *h, struct proto_msg *m, int timeout_ms)
{
	uint64_t deadline_ms;
	int rc;

	memset(m, 0, sizeof(*m));
	if (h->event_count) {
		*m = h->events[h->event_head];
		memset(&h->events[h->event_head], 0, sizeof(*m));
		h->event_head = (h->event_head + 1) % CLIENT_EVENTS_MAX;
		h->event_count--;
		return 0;
	}
	if (timeout_ms < 0)
		deadline_ms = 0;
	else /* 0 means "do not wait": a deadline already passed, but never 0 (= for ever) */
		deadline_ms = DL_MAX(conn_now_ms() + (uint64_t)timeout_ms, (uint64_t)1);
	rc = conn_read_frame(h, m, deadline_ms);
	if (rc < 0)
		return rc;
	if (!conn_is_event(m)) {
		proto_msg_free(m);
		return conn_broken(h, -EBADMSG, "dleased sent a reply nobody asked for");
	}
	return 0;
}
