/* SPDX-License-Identifier: MIT */
/*
 * client.h: the inside of libdlease, shared by its files and by dlctl (which
 * links the static dlease_client library and so may use both the public API
 * and the raw request/reply call below). Never installed.
 *
 *   conn.c    socket, framing, request/reply, queued events, error text
 *   space.c   join, leave
 *   lease.c   register, acquire, release, inquire, request
 *   watch.c   watch, next_event
 *   valid.c   the validity page
 *   dlease.c  version, strerror, I/O engine
 *
 * A handle is one connection. Replies and event frames share it: an event
 * that arrives while a call waits for its reply is queued (at most
 * CLIENT_EVENTS_MAX; beyond that the next delivered event carries the gap
 * flag) and handed out by dlease_next_event() first.
 */
#ifndef DL_CLIENT_H
#define DL_CLIENT_H

#include "base/compat.h"
#include "dlease.h"

#include <sys/un.h>

#include "proto/proto.h"

#define CLIENT_API         __attribute__((visibility("default")))
#define CLIENT_EVENTS_MAX  4096u
#define CLIENT_REPLY_MS    60000 /* a reply later than this (past any wait asked for) is lost */
#define CLIENT_ERROR_SIZE  512u
#define CLIENT_RUN_DIR_MAX 4096u

struct dlease {
	int fd; /* -1 once the connection is gone */
	char run_dir[CLIENT_RUN_DIR_MAX];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct proto_buf tx;
	uint8_t *rx; /* bytes received, not yet a whole frame */
	size_t rx_len, rx_cap;
	char last_error[CLIENT_ERROR_SIZE];
	struct proto_msg *events; /* ring of CLIENT_EVENTS_MAX queued event frames */
	uint32_t event_head, event_count;
	bool gap_next; /* the next event handed out gets DLEASE_EVENT_GAP */
	/* validity page, mapped at the first dlease_valid() */
	const uint8_t *valid_map;
	size_t valid_size;
	uint32_t valid_slots;
};

/* Remember a sentence for dlease_last_error(); returns rc. */
int client_fail(struct dlease *h, int rc, const char *fmt, ...) DL_PRINTF(3, 4);

/* 0, or -EINVAL (with the error text) when name is not 1..48 bytes without control bytes. */
int client_check_name(struct dlease *h, const char *what, const char *name);

/* Start a request: reset the send buffer and put "op=NAME". Add fields with proto_put*(). */
struct proto_buf *client_begin(struct dlease *h, const char *op);

/* Send the request built since client_begin() and wait for its reply: at most wait_ms
 * (-1: for ever). Returns the reply's rc (0 or the daemon's -errno, its error= text kept as
 * the last error) with *reply filled, or a transport error (-ECONNRESET, -EBADMSG,
 * -ETIMEDOUT ...; the connection is closed) with *reply empty. Always proto_msg_free(reply). */
int client_call(struct dlease *h, struct proto_msg *reply, int64_t wait_ms);

/* The raw call for dlctl: op with no fields. Same contract as client_call(). */
int client_simple(struct dlease *h, const char *op, struct proto_msg *reply);

/* The next event frame: queued first, else read from the socket waiting at most timeout_ms
 * (-1: for ever). Returns 0, -EAGAIN (none in time), -ECONNRESET, -EBADMSG. */
int client_next_event_msg(struct dlease *h, struct proto_msg *m, int timeout_ms);

/* Wait time for a call that itself waits wait_ms (< 0: for ever): wait_ms plus margin. */
int64_t client_wait_for(int64_t wait_ms);

/* The inquire and leader ops (same fields). Returns 0 or -errno. */
int client_owner(struct dlease *h, const char *op, const char *lockspace, const char *resource,
                 struct dlease_owner *owner);

/* Drop the validity page mapping (valid.c). */
void client_valid_unmap(struct dlease *h);

/* Copy src into dst (size bytes, always NUL-terminated; NULL src gives ""). */
void client_copy(char *dst, size_t size, const char *src);

/* Number fields of a reply: absent or malformed read as 0. */
uint64_t client_u64(const struct proto_msg *m, const char *key);

#endif /* DL_CLIENT_H */
