/* SPDX-License-Identifier: MIT */
/*
 * proto.h: the control socket's wire format (docs/daemon.md), shared by the
 * daemon and libdlease. A frame is a 4-byte little-endian payload length and
 * a payload of "key=value\n" lines; values escape backslash and newline. This
 * module only builds and parses messages in memory: no socket, no I/O.
 *
 * Invariants: a parsed message's keys match [a-z0-9_]+ and its values hold no
 * byte below 0x20; a built message always parses back to the same lines.
 */
#ifndef DL_PROTO_H
#define DL_PROTO_H

#include "base/compat.h"

#define PROTO_VERSION     1
#define PROTO_REQUEST_MAX (64u * 1024u)
#define PROTO_REPLY_MAX   (4u * 1024u * 1024u)
#define PROTO_KEY_MAX     32u
#define PROTO_LINES_MAX   4096u

/* A message being built: the payload grows; frame_* gives it its length prefix. */
struct proto_buf {
	char *data; /* 4 bytes of length prefix, then the payload */
	size_t len; /* bytes used, prefix included */
	size_t cap;
	int error; /* -ENOMEM or -EMSGSIZE once anything failed: the message is void */
};

void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
/* Start over with an empty payload (keeps the memory). */
void proto_buf_reset(struct proto_buf *b);
/* Append one line; value is escaped. The key must be valid (asserted). */
void proto_put(struct proto_buf *b, const char *key, const char *value);
void proto_put_u64(struct proto_buf *b, const char *key, uint64_t value);
void proto_put_i64(struct proto_buf *b, const char *key, int64_t value);
void proto_putf(struct proto_buf *b, const char *key, const char *fmt, ...) DL_PRINTF(3, 4);
/* Seal the frame: writes the length prefix. Returns 0, or b->error. Then send data[0..len). */
int proto_finish(struct proto_buf *b, size_t max_payload);

/* A parsed message: lines point into a private copy of the payload. */
struct proto_line {
	const char *key;
	const char *value;
};
struct proto_msg {
	char *text;
	struct proto_line *lines;
	uint32_t count;
};

/* Parse a payload (without the length prefix). Returns 0 or -EBADMSG, with why (one line,
 * naming the line number and the problem) filled in. */
int proto_parse(const void *payload, size_t len, struct proto_msg *m, char *why, size_t why_size);
void proto_msg_free(struct proto_msg *m);

/* The first value of key in lines [from, to) (to = m->count for the whole message), or NULL. */
const char *proto_get_in(const struct proto_msg *m, uint32_t from, uint32_t to, const char *key);
const char *proto_get(const struct proto_msg *m, const char *key);
/* Decimal numbers: 0, -ENOENT (absent) or -EINVAL (malformed, out of range). */
int proto_get_u64(const struct proto_msg *m, const char *key, uint64_t *out);
int proto_get_i64(const struct proto_msg *m, const char *key, int64_t *out);
int proto_parse_u64(const char *s, uint64_t *out);
int proto_parse_i64(const char *s, int64_t *out);
/* Records: the index of the next line with key "record" at or after from, or m->count. */
uint32_t proto_next_record(const struct proto_msg *m, uint32_t from);

/* Length prefix of a frame (4 bytes, little-endian). */
uint32_t proto_frame_len(const void *prefix4);
bool proto_key_ok(const char *key);

#endif /* DL_PROTO_H */
