/* SPDX-License-Identifier: MIT */
/*
 * test_proto.c: the control socket's message codec (src/proto). Every escape
 * survives a build/parse round trip; each kind of malformed payload is
 * rejected with a why that names the problem; records iterate; numbers
 * reject overflow, signs and junk and accept the extremes.
 */
#include "base/compat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/proto.h"

#define WHY_SIZE 160

/* Parse the payload of b (after its 4-byte prefix). */
static int parse_buf(struct proto_buf *b, struct proto_msg *m)
{
	char why[WHY_SIZE];

	assert_int_equal(proto_finish(b, PROTO_REPLY_MAX), 0);
	assert_int_equal(proto_frame_len(b->data), b->len - 4);
	return proto_parse(b->data + 4, b->len - 4, m, why, sizeof(why));
}

/* Parse text (a C string) and expect -EBADMSG with a why containing want. */
static void expect_bad(const char *text, size_t len, const char *want)
{
	struct proto_msg m;
	char why[WHY_SIZE];

	assert_int_equal(proto_parse(text, len, &m, why, sizeof(why)), -EBADMSG);
	if (!strstr(why, want))
		fail_msg("why \"%s\" does not name \"%s\"", why, want);
	assert_null(m.text);
	assert_null(m.lines);
	assert_int_equal(m.count, 0);
}

static void test_proto_escapes_round_trip(void **state)
{
	static const char *const values[] = {
	        "",
	        "plain",
	        "back\\slash",
	        "new\nline",
	        "\\n literal",
	        "\\\\",
	        "\n\n",
	        "end\\",
	        "a=b=c",
	        "utf-8 \xc3\xa9\xe2\x82\xac",
	        "trailing ",
	        " leading",
	        "#not a comment",
	};
	struct proto_buf b;
	struct proto_msg m;

	(void)state;
	proto_buf_init(&b);
	proto_put(&b, "op", "test");
	for (size_t i = 0; i < DL_ARRAY_SIZE(values); i++)
		proto_put(&b, "v", values[i]);
	assert_int_equal(parse_buf(&b, &m), 0);
	assert_int_equal(m.count, 1 + DL_ARRAY_SIZE(values));
	assert_string_equal(m.lines[0].key, "op");
	for (size_t i = 0; i < DL_ARRAY_SIZE(values); i++) {
		assert_string_equal(m.lines[1 + i].key, "v");
		assert_string_equal(m.lines[1 + i].value, values[i]);
	}
	/* the wire form: backslash and newline escaped, nothing else */
	assert_non_null(memmem(b.data + 4, b.len - 4, "v=back\\\\slash\n", 14));
	assert_non_null(memmem(b.data + 4, b.len - 4, "v=new\\nline\n", 12));
	proto_msg_free(&m);
	proto_buf_free(&b);
}

static void test_proto_control_bytes_never_travel(void **state)
{
	struct proto_buf b;
	struct proto_msg m;

	(void)state;
	proto_buf_init(&b);
	proto_put(&b, "v", "tab\there\r\x01\x7f");
	assert_int_equal(parse_buf(&b, &m), 0);
	assert_string_equal(m.lines[0].value, "tab?here???");
	proto_msg_free(&m);
	proto_buf_free(&b);
}

static void test_proto_numbers_round_trip(void **state)
{
	struct proto_buf b;
	struct proto_msg m;
	uint64_t u;
	int64_t i;

	(void)state;
	proto_buf_init(&b);
	proto_put_u64(&b, "umax", UINT64_MAX);
	proto_put_i64(&b, "imin", INT64_MIN);
	proto_put_i64(&b, "imax", INT64_MAX);
	proto_put_i64(&b, "neg", -95);
	proto_putf(&b, "f", "%s-%d", "x", 7);
	assert_int_equal(parse_buf(&b, &m), 0);
	assert_int_equal(proto_get_u64(&m, "umax", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(proto_get_i64(&m, "imin", &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(proto_get_i64(&m, "imax", &i), 0);
	assert_true(i == INT64_MAX);
	assert_int_equal(proto_get_i64(&m, "neg", &i), 0);
	assert_int_equal(i, -95);
	assert_string_equal(proto_get(&m, "f"), "x-7");
	assert_int_equal(proto_get_u64(&m, "absent", &u), -ENOENT);
	assert_int_equal(proto_get_u64(&m, "neg", &u), -EINVAL);
	proto_msg_free(&m);
	proto_buf_free(&b);
}

static void test_proto_parse_number_edges(void **state)
{
	static const char *const bad_u64[] = {
	        "",
	        "-1",
	        "+1",
	        " 1",
	        "1 ",
	        "1x",
	        "0x10",
	        "18446744073709551616",
	        "99999999999999999999",
	        "1.5",
	};
	static const char *const bad_i64[] = {
	        "", "-", "--1", "+1", "9223372036854775808", "-9223372036854775809", "1e3",
	};
	uint64_t u = 42;
	int64_t i = 42;

	(void)state;
	for (size_t k = 0; k < DL_ARRAY_SIZE(bad_u64); k++) {
		if (proto_parse_u64(bad_u64[k], &u) != -EINVAL)
			fail_msg("u64 \"%s\" accepted", bad_u64[k]);
	}
	assert_int_equal(u, 42); /* untouched on failure */
	for (size_t k = 0; k < DL_ARRAY_SIZE(bad_i64); k++) {
		if (proto_parse_i64(bad_i64[k], &i) != -EINVAL)
			fail_msg("i64 \"%s\" accepted", bad_i64[k]);
	}
	assert_int_equal(i, 42);
	assert_int_equal(proto_parse_u64(NULL, &u), -EINVAL);
	assert_int_equal(proto_parse_i64(NULL, &i), -EINVAL);
	assert_int_equal(proto_parse_u64("18446744073709551615", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(proto_parse_u64("007", &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(proto_parse_i64("-9223372036854775808", &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(proto_parse_i64("-0", &i), 0);
	assert_int_equal(i, 0);
}

static void test_proto_rejects_malformed(void **state)
{
	char many[(PROTO_LINES_MAX + 1) * 4];
	size_t n = 0;

	(void)state;
	expect_bad("op=x\nnoequals\n", 14, "line 2 has no '='");
	expect_bad("op=x\nBad=1\n", 11, "line 2: bad key \"Bad\"");
	expect_bad("=1\n", 3, "line 1: bad key");
	expect_bad("key-dash=1\n", 11, "bad key");
	expect_bad("a_very_long_key_of_more_than_32_chars=1\n", 40, "bad key");
	expect_bad("op=x\nv=a\\tb\n", 12, "line 2 (v): bad backslash escape");
	expect_bad("v=ends\\\n", 8, "bad backslash escape");
	expect_bad("v=a\tb\n", 6, "control byte 0x09 at offset 3");
	expect_bad("v=a\rb\n", 6, "control byte 0x0d");
	expect_bad("v=a\x7f\n", 5, "control byte 0x7f");
	expect_bad("v=nul\0x\n", 8, "control byte 0x00");
	expect_bad("op=x", 4, "does not end with a newline");
	expect_bad("", 0, "empty");
	expect_bad("op=x\n\n", 6, "line 2 has no '='");
	for (uint32_t k = 0; k < PROTO_LINES_MAX + 1; k++) {
		memcpy(many + n, "a=1\n", 4);
		n += 4;
	}
	expect_bad(many, n, "4097 lines, at most 4096");
}

static void test_proto_accepts_lines_max(void **state)
{
	char *many = malloc(PROTO_LINES_MAX * 4);
	struct proto_msg m;
	char why[WHY_SIZE];

	(void)state;
	assert_non_null(many);
	for (uint32_t k = 0; k < PROTO_LINES_MAX; k++)
		memcpy(many + 4 * k, "a=1\n", 4);
	assert_int_equal(proto_parse(many, PROTO_LINES_MAX * 4, &m, why, sizeof(why)), 0);
	assert_int_equal(m.count, PROTO_LINES_MAX);
	proto_msg_free(&m);
	free(many);
}

static void test_proto_records_iterate(void **state)
{
	static const char text[] = "rc=0\nhost_name=h1\nrecord=host\nhost_id=1\nstate=live\n"
	                           "record=host\nhost_id=2\nrecord=lease\nresource=r\ndisk=a\n"
	                           "disk=b\n";
	static const char *const types[] = {"host", "host", "lease"};
	static const char *const ids[] = {"1", "2", NULL};
	struct proto_msg m;
	char why[WHY_SIZE];
	uint32_t i, n = 0;

	(void)state;
	assert_int_equal(proto_parse(text, sizeof(text) - 1, &m, why, sizeof(why)), 0);
	i = proto_next_record(&m, 0);
	assert_int_equal(i, 2);
	/* top-level fields end at the first record */
	assert_string_equal(proto_get_in(&m, 0, i, "host_name"), "h1");
	assert_null(proto_get_in(&m, 0, i, "host_id"));
	while (i < m.count) {
		uint32_t end = proto_next_record(&m, i + 1);
		const char *id = proto_get_in(&m, i + 1, end, "host_id");

		assert_true(n < DL_ARRAY_SIZE(types));
		assert_string_equal(m.lines[i].value, types[n]);
		if (ids[n])
			assert_string_equal(id, ids[n]);
		else
			assert_null(id);
		n++;
		i = end;
	}
	assert_int_equal(n, 3);
	assert_int_equal(proto_next_record(&m, m.count), m.count);
	/* a repeated key: proto_get finds the first */
	assert_string_equal(proto_get(&m, "disk"), "a");
	proto_msg_free(&m);
}

static void test_proto_frame_limits(void **state)
{
	static const uint8_t prefix[4] = {0x10, 0x00, 0x01, 0x00};
	struct proto_buf b;
	char big[1000];

	(void)state;
	assert_int_equal(proto_frame_len(prefix), 0x10010);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	proto_buf_init(&b);
	for (int k = 0; k < 70; k++)
		proto_put(&b, "v", big);
	/* 70 KB: too big for a request, fine for a reply */
	assert_int_equal(proto_finish(&b, PROTO_REQUEST_MAX), -EMSGSIZE);
	assert_int_equal(proto_finish(&b, PROTO_REPLY_MAX), 0);
	proto_buf_reset(&b);
	assert_int_equal(b.len, 4);
	assert_true(proto_key_ok("a_9"));
	assert_false(proto_key_ok(""));
	assert_false(proto_key_ok("A"));
	proto_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_proto_escapes_round_trip),
	        cmocka_unit_test(test_proto_control_bytes_never_travel),
	        cmocka_unit_test(test_proto_numbers_round_trip),
	        cmocka_unit_test(test_proto_parse_number_edges),
	        cmocka_unit_test(test_proto_rejects_malformed),
	        cmocka_unit_test(test_proto_accepts_lines_max),
	        cmocka_unit_test(test_proto_records_iterate),
	        cmocka_unit_test(test_proto_frame_limits),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
