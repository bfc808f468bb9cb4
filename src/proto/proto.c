/* SPDX-License-Identifier: MIT */
/*
 * proto.c: building and parsing control-socket messages (proto.h). Pure
 * memory work; the daemon and libdlease move the bytes.
 */
#include "base/compat.h"
#include "proto/proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "banned.h"

#define PROTO_PREFIX 4u

bool proto_key_ok(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > PROTO_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

void proto_buf_init(struct proto_buf *b)
{
	memset(b, 0, sizeof(*b));
	proto_buf_reset(b);
}

void proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void proto_reserve(struct proto_buf *b, size_t more)
{
	size_t want = b->len + more;
	char *p;

	if (b->error || want <= b->cap)
		return;
	if (want > PROTO_REPLY_MAX + PROTO_PREFIX) {
		b->error = -EMSGSIZE;
		return;
	}
	want = DL_MAX(want, DL_MAX(b->cap * 2, (size_t)256));
	p = realloc(b->data, want);
	if (!p) {
		b->error = -ENOMEM;
		return;
	}
	b->data = p;
	b->cap = want;
}

void proto_buf_reset(struct proto_buf *b)
{
	b->len = 0;
	b->error = 0;
	proto_reserve(b, PROTO_PREFIX);
	if (!b->error)
		b->len = PROTO_PREFIX;
}

static void proto_append(struct proto_buf *b, const char *s, size_t n)
{
	proto_reserve(b, n);
	if (b->error)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

void proto_put(struct proto_buf *b, const char *key, const char *value)
{
	DL_ASSERT(proto_key_ok(key));
	proto_append(b, key, strlen(key));
	proto_append(b, "=", 1);
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\\')
			proto_append(b, "\\\\", 2);
		else if (c == '\n')
			proto_append(b, "\\n", 2);
		else if (c < 0x20 || c == 0x7f)
			proto_append(b, "?", 1); /* control bytes never travel */
		else
			proto_append(b, p, 1);
	}
	proto_append(b, "\n", 1);
}

void proto_put_u64(struct proto_buf *b, const char *key, uint64_t value)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, value);
	proto_put(b, key, s);
}

void proto_put_i64(struct proto_buf *b, const char *key, int64_t value)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, value);
	proto_put(b, key, s);
}

void proto_putf(struct proto_buf *b, const char *key, const char *fmt, ...)
{
	char s[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	proto_put(b, key, s);
}

int proto_finish(struct proto_buf *b, size_t max_payload)
{
	size_t n;

	if (b->error)
		return b->error;
	DL_ASSERT(b->len >= PROTO_PREFIX);
	n = b->len - PROTO_PREFIX;
	if (n > max_payload)
		return -EMSGSIZE;
	b->data[0] = (char)(n & 0xff);
	b->data[1] = (char)((n >> 8) & 0xff);
	b->data[2] = (char)((n >> 16) & 0xff);
	b->data[3] = (char)((n >> 24) & 0xff);
	return 0;
}

uint32_t proto_frame_len(const void *prefix4)
{
	const unsigned char *p = prefix4;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Unescape value in place; false on a bad escape. */
static bool proto_unescape(char *v)
{
	char *w = v;

	for (char *r = v; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		r++;
		if (*r == '\\')
			*w++ = '\\';
		else if (*r == 'n')
			*w++ = '\n';
		else
			return false;
	}
	*w = '\0';
	return true;
}

int proto_parse(const void *payload, size_t len, struct proto_msg *m, char *why, size_t why_size)
{
	const unsigned char *in = payload;
	uint32_t lines = 0, n = 0;
	char *line;

	memset(m, 0, sizeof(*m));
	snprintf(why, why_size, "no error");
	if (len == 0 || in[len - 1] != '\n') {
		snprintf(why, why_size, "message is empty or does not end with a newline");
		return -EBADMSG;
	}
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n')
			lines++;
		else if (in[i] < 0x20 || in[i] == 0x7f) {
			snprintf(why, why_size, "control byte 0x%02x at offset %zu", in[i], i);
			return -EBADMSG;
		}
	}
	if (lines > PROTO_LINES_MAX) {
		snprintf(why, why_size, "%u lines, at most %u allowed", lines, PROTO_LINES_MAX);
		return -EBADMSG;
	}
	m->text = malloc(len + 1);
	m->lines = calloc(lines, sizeof(*m->lines));
	if (!m->text || !m->lines) {
		proto_msg_free(m);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	memcpy(m->text, in, len);
	m->text[len] = '\0';
	line = m->text;
	while (*line) {
		char *end = strchr(line, '\n'), *eq;

		DL_ASSERT(end);
		*end = '\0';
		eq = strchr(line, '=');
		if (!eq) {
			snprintf(why, why_size, "line %u has no '=': \"%.40s\"", n + 1, line);
			goto out_bad;
		}
		*eq = '\0';
		if (!proto_key_ok(line)) {
			snprintf(why, why_size, "line %u: bad key \"%.40s\" (want [a-z0-9_]{1,%u})",
			         n + 1, line, PROTO_KEY_MAX);
			goto out_bad;
		}
		if (!proto_unescape(eq + 1)) {
			snprintf(why, why_size, "line %u (%s): bad backslash escape", n + 1, line);
			goto out_bad;
		}
		m->lines[n].key = line;
		m->lines[n].value = eq + 1;
		n++;
		line = end + 1;
	}
	DL_ASSERT(n == lines);
	m->count = n;
	return 0;
out_bad:
	proto_msg_free(m);
	return -EBADMSG;
}

void proto_msg_free(struct proto_msg *m)
{
	free(m->text);
	free(m->lines);
	memset(m, 0, sizeof(*m));
}

const char *proto_get_in(const struct proto_msg *m, uint32_t from, uint32_t to, const char *key)
{
	for (uint32_t i = from; i < to && i < m->count; i++) {
		if (strcmp(m->lines[i].key, key) == 0)
			return m->lines[i].value;
	}
	return NULL;
}

const char *proto_get(const struct proto_msg *m, const char *key)
{
	return proto_get_in(m, 0, m->count, key);
}

int proto_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int proto_parse_i64(const char *s, int64_t *out)
{
	uint64_t v;
	bool neg = s && *s == '-';

	/* INT64_MIN's magnitude is one more than INT64_MAX: proto_put_i64 can write it */
	if (proto_parse_u64(neg ? s + 1 : s, &v) < 0 || v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return -EINVAL;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int proto_get_u64(const struct proto_msg *m, const char *key, uint64_t *out)
{
	const char *v = proto_get(m, key);

	return v ? proto_parse_u64(v, out) : -ENOENT;
}

int proto_get_i64(const struct proto_msg *m, const char *key, int64_t *out)
{
	const char *v = proto_get(m, key);

	return v ? proto_parse_i64(v, out) : -ENOENT;
}

uint32_t proto_next_record(const struct proto_msg *m, uint32_t from)
{
	uint32_t i = from;

	while (i < m->count && strcmp(m->lines[i].key, "record") != 0)
		i++;
	return i;
}
