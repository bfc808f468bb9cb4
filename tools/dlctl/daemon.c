/* SPDX-License-Identifier: MIT */
/*
 * daemon.c: what the commands that talk to dleased share: one option parser
 * (each command names the options it takes), connecting with an error that
 * names the socket and the run directory, printing the daemon's errors, and
 * turning replies and events into JSON or a human line.
 *
 * JSON conventions (as dump): one object per reply (watch: one per line);
 * field names are the protocol's keys; values that are decimal numbers are
 * JSON numbers except names and free text (NAME_KEYS below), which stay
 * strings; "disk" and any repeated key become arrays; a reply's records
 * become an array named after their type plus "s" ("hosts", "events").
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "proto/proto.h"
#include "banned.h"

#define DLCTL_PID_MAX 4194304u

/* Keys whose values are text even when they look like numbers. */
static const char *const dlctl_text_keys[] = {
        "host_name", "owner_name", "lockspace", "resource", "state",        "owner_state",
        "reason",    "kind",       "engine",    "watchdog", "version",      "error",
        "disk",      "text",       "mode",      "name",     "request_mode", "path",
};

static const struct option dlctl_opts[] = {
        {"run-dir", required_argument, NULL, 'R'},
        {"json", no_argument, NULL, 'j'},
        {"lockspace", required_argument, NULL, 'l'},
        {"resource", required_argument, NULL, 'r'},
        {"force", no_argument, NULL, 'f'},
        {"host-id", required_argument, NULL, 'H'},
        {"timeout", required_argument, NULL, 't'},
        {"wait", required_argument, NULL, 'w'},
        {"no-create", no_argument, NULL, 'N'},
        {"pid", required_argument, NULL, 'p'},
        {"limit", required_argument, NULL, 'L'},
        {"since", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'c'},
        {"grace", required_argument, NULL, 'g'},
        {"direct", no_argument, NULL, 'D'},
        {"engine", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static unsigned dlctl_opt_bit(int ch)
{
	switch (ch) {
	case 'j':
		return DLCTL_OPT_JSON;
	case 'l':
		return DLCTL_OPT_LOCKSPACE;
	case 'r':
		return DLCTL_OPT_RESOURCE;
	case 'f':
		return DLCTL_OPT_FORCE;
	case 'H':
		return DLCTL_OPT_HOST_ID;
	case 't':
		return DLCTL_OPT_TIMEOUT;
	case 'w':
		return DLCTL_OPT_WAIT;
	case 'N':
		return DLCTL_OPT_NO_CREATE;
	case 'p':
		return DLCTL_OPT_PID;
	case 'L':
		return DLCTL_OPT_LIMIT;
	case 's':
		return DLCTL_OPT_SINCE;
	case 'c':
		return DLCTL_OPT_COUNT;
	case 'g':
		return DLCTL_OPT_GRACE;
	case 'D':
		return DLCTL_OPT_DIRECT;
	case 'e':
		return DLCTL_OPT_ENGINE;
	default:
		return 0;
	}
}

static const char *dlctl_opt_name(int ch)
{
	for (size_t i = 0; dlctl_opts[i].name; i++) {
		if (dlctl_opts[i].val == ch)
			return dlctl_opts[i].name;
	}
	return "?";
}

static int dlctl_bad(const char *opt, const char *value, const char *want)
{
	dlctl_err("--%s %s: must be %s", opt, value, want);
	return -EINVAL;
}

/* Options with a value to check; 0 or -EINVAL (printed). */
static int dlctl_args_value(int ch, const char *v, struct dlctl_args *a)
{
	switch (ch) {
	case 'H':
		return dlctl_parse_u32(v, 1, 2000, &a->host_id)
		               ? dlctl_bad("host-id", v, "1 to 2000")
		               : 0;
	case 't':
		a->have_timeout = true;
		return dlctl_parse_ms(v, &a->timeout_ms) ? dlctl_bad("timeout", v, "seconds") : 0;
	case 'w':
		a->have_wait = true;
		return dlctl_parse_ms(v, &a->wait_ms)
		               ? dlctl_bad("wait", v, "seconds, e.g. 5 or 0.5")
		               : 0;
	case 'g':
		return dlctl_parse_ms(v, &a->grace_ms) ? dlctl_bad("grace", v, "seconds") : 0;
	case 'p':
		return dlctl_parse_u32(v, 1, DLCTL_PID_MAX, &a->pid) ? dlctl_bad("pid", v, "a pid")
		                                                     : 0;
	case 'L':
		return dlctl_parse_u32(v, 1, 1000000, &a->limit)
		               ? dlctl_bad("limit", v, "1 or more")
		               : 0;
	case 'c':
		return dlctl_parse_u32(v, 1, UINT32_MAX, &a->count)
		               ? dlctl_bad("count", v, "1 or more")
		               : 0;
	case 's':
		a->have_since = true;
		return proto_parse_u64(v, &a->since) ? dlctl_bad("since", v, "a sequence number")
		                                     : 0;
	default:
		return 0;
	}
}

int dlctl_args_parse(int argc, char **argv, unsigned allowed, struct dlctl_args *a)
{
	const char *shortopts = (allowed & DLCTL_OPT_STOP_AT_ARG) ? "+R:jl:r:fH:t:w:Np:L:s:c:g:De:h"
	                                                          : "R:jl:r:fH:t:w:Np:L:s:c:g:De:h";
	int ch, idx;

	memset(a, 0, sizeof(*a));
	a->grace_ms = 2000;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, dlctl_opts, &idx)) != -1) {
		unsigned bit = dlctl_opt_bit(ch);

		if (ch == '?' || ch == ':' || ch == 'h') {
			if (ch != 'h')
				dlctl_err("%s: unknown option or missing value: %s", argv[0],
				          argv[optind - 1]);
			return -EINVAL;
		}
		if (ch != 'R' && !(allowed & bit)) {
			dlctl_err("%s does not take --%s", argv[0], dlctl_opt_name(ch));
			return -EINVAL;
		}
		if (dlctl_args_value(ch, optarg, a) < 0)
			return -EINVAL;
		a->run_dir = ch == 'R' ? optarg : a->run_dir;
		a->json |= ch == 'j';
		a->lockspace = ch == 'l' ? optarg : a->lockspace;
		a->resource = ch == 'r' ? optarg : a->resource;
		a->engine = ch == 'e' ? optarg : a->engine;
		a->force |= ch == 'f';
		a->no_create |= ch == 'N';
		a->direct |= ch == 'D';
	}
	return 0;
}

int dlctl_need(const char *cmd, const char *option, const void *value)
{
	if (value)
		return 0;
	dlctl_err("%s needs %s", cmd, option);
	return -EINVAL;
}

int dlctl_connect(const char *run_dir, struct dlease **out)
{
	int rc = dlease_connect(run_dir, out);

	if (rc < 0)
		dlctl_err("%s", dlease_last_error(NULL)[0] ? dlease_last_error(NULL)
		                                           : dlease_strerror(rc));
	return rc;
}

int dlctl_daemon_err(struct dlease *h, int rc, const char *fmt, ...)
{
	const char *said = h ? dlease_last_error(h) : "";
	va_list ap;

	fputs("dlctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (said[0])
		fprintf(stderr, ": %s (%s)\n", said, dlease_strerror(rc));
	else
		fprintf(stderr, ": %s\n", dlease_strerror(rc));
	return DLCTL_EXIT_FAIL;
}

int dlctl_call(struct dlease *h, const char *op, const char *lockspace, const char *resource,
               struct proto_msg *reply)
{
	struct proto_buf *b = client_begin(h, op);
	int rc;

	if (lockspace)
		proto_put(b, "lockspace", lockspace);
	if (resource)
		proto_put(b, "resource", resource);
	rc = client_call(h, reply, CLIENT_REPLY_MS);
	if (rc < 0)
		dlctl_daemon_err(h, rc, "%s failed", op);
	return rc;
}

static bool dlctl_is_text_key(const char *key)
{
	for (size_t i = 0; i < DL_ARRAY_SIZE(dlctl_text_keys); i++) {
		if (!strcmp(key, dlctl_text_keys[i]))
			return true;
	}
	return false;
}

static void dlctl_json_value(FILE *f, const char *key, const char *value)
{
	int64_t n;

	if (!dlctl_is_text_key(key) && proto_parse_i64(value, &n) == 0)
		fprintf(f, "%lld", (long long)n);
	else
		dlctl_json_str(f, value);
}

void dlctl_json_fields(FILE *f, const struct proto_msg *m, uint32_t from, uint32_t to)
{
	bool first = true;

	for (uint32_t i = from; i < to && i < m->count; i++) {
		const char *key = m->lines[i].key;
		uint32_t repeats = 0;
		bool seen = false;

		if (!strcmp(key, "record") || !strcmp(key, "rc") || !strcmp(key, "event"))
			continue;
		for (uint32_t k = from; k < i && !seen; k++)
			seen = !strcmp(m->lines[k].key, key);
		if (seen)
			continue; /* printed with its first occurrence */
		for (uint32_t k = i; k < to && k < m->count; k++)
			repeats += !strcmp(m->lines[k].key, key);
		fprintf(f, "%s", first ? "" : ", ");
		first = false;
		dlctl_json_str(f, key);
		fputs(": ", f);
		if (repeats == 1 && strcmp(key, "disk") != 0) {
			dlctl_json_value(f, key, m->lines[i].value);
			continue;
		}
		fputc('[', f);
		for (uint32_t k = i, n = 0; k < to && k < m->count; k++) {
			if (strcmp(m->lines[k].key, key))
				continue;
			fprintf(f, "%s", n++ ? ", " : "");
			dlctl_json_value(f, key, m->lines[k].value);
		}
		fputc(']', f);
	}
}

/* The records of type in m as a JSON array "<type>s": [...]. */
static void dlctl_json_records(FILE *f, const struct proto_msg *m, const char *type, bool comma)
{
	bool first = true;

	fprintf(f, "%s\"%ss\": [", comma ? ", " : "", type);
	for (uint32_t i = proto_next_record(m, 0); i < m->count;) {
		uint32_t end = proto_next_record(m, i + 1);

		if (!strcmp(m->lines[i].value, type)) {
			fprintf(f, "%s{", first ? "" : ", ");
			dlctl_json_fields(f, m, i + 1, end);
			fputc('}', f);
			first = false;
		}
		i = end;
	}
	fputc(']', f);
}

void dlctl_json_reply(FILE *f, const struct proto_msg *m)
{
	uint32_t first_record = proto_next_record(m, 0);
	bool comma = false;

	fputc('{', f);
	dlctl_json_fields(f, m, 0, first_record);
	for (uint32_t k = 1; k < first_record && !comma; k++)
		comma = strcmp(m->lines[k].key, "rc") != 0;
	/* one array per record type, in the order the types first appear */
	for (uint32_t i = first_record; i < m->count; i = proto_next_record(m, i + 1)) {
		bool seen = false;

		for (uint32_t k = first_record; k < i && !seen; k = proto_next_record(m, k + 1))
			seen = !strcmp(m->lines[k].value, m->lines[i].value);
		if (seen || !proto_key_ok(m->lines[i].value))
			continue;
		dlctl_json_records(f, m, m->lines[i].value, comma);
		comma = true;
	}
	fputs("}\n", f);
}

void dlctl_duration_text(uint64_t ms, char *out, size_t out_size)
{
	if (ms >= 3600000u)
		snprintf(out, out_size, "%lluh%02llum", (unsigned long long)(ms / 3600000u),
		         (unsigned long long)(ms / 60000u % 60u));
	else if (ms >= 60000u)
		snprintf(out, out_size, "%llum%02llus", (unsigned long long)(ms / 60000u),
		         (unsigned long long)(ms / 1000u % 60u));
	else
		snprintf(out, out_size, "%.3fs", (double)ms / 1000.0);
}

/* "h2/g4" or "-" for host 0. */
static void dlctl_holder_text(const struct proto_msg *m, uint32_t from, uint32_t to,
                              const char *host_key, const char *gen_key, char *out, size_t size)
{
	const char *host = proto_get_in(m, from, to, host_key);
	const char *gen = proto_get_in(m, from, to, gen_key);

	if (!host || !strcmp(host, "0"))
		snprintf(out, size, "-");
	else if (!gen || !strcmp(gen, "0"))
		snprintf(out, size, "%s", host); /* e.g. the requester of a `request` event */
	else
		snprintf(out, size, "%s/g%s", host, gen);
}

static const char *dlctl_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

void dlctl_event_print(FILE *f, const struct proto_msg *m, uint32_t from, uint32_t to, bool json)
{
	const char *seq = proto_get_in(m, from, to, "event");
	const char *res = proto_get_in(m, from, to, "resource");
	const char *token = proto_get_in(m, from, to, "token");
	const char *reason = proto_get_in(m, from, to, "reason");
	char when[32], old[48], new[48];
	uint64_t time_ms = 0;

	if (json) {
		/* an event frame's seq is its first line "event=N"; history records carry seq= */
		fputc('{', f);
		if (seq && proto_parse_u64(seq, &time_ms) == 0)
			fprintf(f, "\"seq\": %s, ", seq);
		dlctl_json_fields(f, m, from, to);
		fputs("}\n", f);
		return;
	}
	seq = dlctl_or(seq, proto_get_in(m, from, to, "seq"));
	if (proto_parse_u64(dlctl_or(proto_get_in(m, from, to, "time_ms"), ""), &time_ms) < 0)
		time_ms = 0;
	dlctl_wall_text(time_ms, when, sizeof(when));
	dlctl_holder_text(m, from, to, "old_host_id", "old_generation", old, sizeof(old));
	dlctl_holder_text(m, from, to, "new_host_id", "new_generation", new, sizeof(new));
	fprintf(f, "%s #%s %-15s %s%s%s", when, dlctl_or(seq, "?"),
	        dlctl_or(proto_get_in(m, from, to, "kind"), "?"),
	        dlctl_or(proto_get_in(m, from, to, "lockspace"), "-"), res ? "/" : "",
	        dlctl_or(res, ""));
	if (strcmp(old, "-") || strcmp(new, "-"))
		fprintf(f, " %s -> %s", old, new);
	if (token && strcmp(token, "0"))
		fprintf(f, " token %s", token);
	if (reason && reason[0])
		fprintf(f, ": %s", reason);
	fputc('\n', f);
}
