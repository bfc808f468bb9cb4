/* SPDX-License-Identifier: MIT */
/*
 * dlctl.h: shared pieces of the dlctl commands. Each command lives in its
 * own file as dlctl_<cmd>(argc, argv) and returns an exit code:
 * DLCTL_EXIT_OK, DLCTL_EXIT_FAIL (the operation failed, was refused, or
 * found damage) or DLCTL_EXIT_USAGE (bad command line).
 */
#ifndef DLCTL_H
#define DLCTL_H

#include "base/compat.h"

#include <stdio.h>

#include "io/ioe.h"

enum {
	DLCTL_EXIT_OK = 0,
	DLCTL_EXIT_FAIL = 1,
	DLCTL_EXIT_USAGE = 2,
};

struct dlctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

int dlctl_format(int argc, char **argv);
int dlctl_dump(int argc, char **argv);
int dlctl_verify(int argc, char **argv);
int dlctl_version(int argc, char **argv);
/* repair: move a resource stuck on a damaged ballot block past it (repair.c). */
int dlctl_repair(int argc, char **argv);
/* Commands that talk to dleased (daemon.c has their shared pieces). */
int dlctl_join(int argc, char **argv);
int dlctl_leave(int argc, char **argv);
int dlctl_acquire(int argc, char **argv);
int dlctl_release(int argc, char **argv);
int dlctl_status(int argc, char **argv);
int dlctl_hosts(int argc, char **argv);
int dlctl_leader(int argc, char **argv);
int dlctl_request(int argc, char **argv);
int dlctl_history(int argc, char **argv);
int dlctl_metrics(int argc, char **argv);
int dlctl_watch(int argc, char **argv);
int dlctl_resource(int argc, char **argv);
int dlctl_run(int argc, char **argv);
/* leader --direct: from the slots, without a daemon (leader_direct.c). */
int dlctl_leader_direct(int argc, char **argv, const char *resource, bool json, const char *engine);

/* Options of the daemon-facing commands; each command says which it takes. */
enum {
	DLCTL_OPT_JSON = 1u << 0,
	DLCTL_OPT_LOCKSPACE = 1u << 1,
	DLCTL_OPT_RESOURCE = 1u << 2,
	DLCTL_OPT_FORCE = 1u << 3,
	DLCTL_OPT_HOST_ID = 1u << 4,
	DLCTL_OPT_TIMEOUT = 1u << 5,
	DLCTL_OPT_WAIT = 1u << 6,
	DLCTL_OPT_NO_CREATE = 1u << 7,
	DLCTL_OPT_PID = 1u << 8,
	DLCTL_OPT_LIMIT = 1u << 9,
	DLCTL_OPT_SINCE = 1u << 10,
	DLCTL_OPT_COUNT = 1u << 11,
	DLCTL_OPT_GRACE = 1u << 12,
	DLCTL_OPT_DIRECT = 1u << 13,
	DLCTL_OPT_ENGINE = 1u << 14,
	DLCTL_OPT_STOP_AT_ARG = 1u << 30, /* options end at the first argument (run) */
};

struct dlctl_args {
	const char *run_dir; /* NULL: $DLEASE_RUN_DIR, else /run/dlease */
	const char *lockspace;
	const char *resource;
	const char *engine;
	bool json, force, no_create, direct;
	bool have_wait, have_timeout, have_since;
	uint32_t host_id;
	uint32_t wait_ms, timeout_ms, grace_ms;
	uint32_t pid;
	uint32_t limit;
	uint32_t count; /* 0: no limit */
	uint64_t since;
};

/* Parse argv[1..] for the options in allowed (--run-dir always). Leaves optind at the first
 * argument. 0, or -EINVAL with the problem printed (the caller prints the usage). */
int dlctl_args_parse(int argc, char **argv, unsigned allowed, struct dlctl_args *a);
/* 0 if value is set, else print "CMD needs OPTION" and return -EINVAL. */
int dlctl_need(const char *cmd, const char *option, const void *value);

struct dlease;
struct proto_msg;
/* Connect to dleased; prints why not. 0 or -errno. */
int dlctl_connect(const char *run_dir, struct dlease **out);
/* Print "dlctl: <what>: <daemon's sentence> (<errno text>)"; returns DLCTL_EXIT_FAIL. */
int dlctl_daemon_err(struct dlease *h, int rc, const char *fmt, ...) DL_PRINTF(3, 4);
/* Send op with lockspace/resource (each may be NULL) and wait for the reply; prints the error.
 * Returns 0 or -errno; always proto_msg_free(reply). */
int dlctl_call(struct dlease *h, const char *op, const char *lockspace, const char *resource,
               struct proto_msg *reply);
/* One JSON object of the fields in lines [from, to) (no braces): numbers as numbers,
 * repeated keys and "disk" as arrays, "record" and "rc" skipped. */
void dlctl_json_fields(FILE *f, const struct proto_msg *m, uint32_t from, uint32_t to);
/* The whole reply as one JSON object and a newline: fields, then "<type>s": [records]. */
void dlctl_json_reply(FILE *f, const struct proto_msg *m);
/* One event (a frame, or a record=event of history) in lines [from, to): human line or JSON. */
void dlctl_event_print(FILE *f, const struct proto_msg *m, uint32_t from, uint32_t to, bool json);
/* "1h02m", "3m12s", "4.250s" for a duration in ms. */
void dlctl_duration_text(uint64_t ms, char *out, size_t out_size);

struct space;
/* Open and load the lockspace on the disks named in argv (read-only); a disk that
 * disagrees with the majority is warned about, not fatal. 0 or -errno (message printed). */
int dlctl_open_space(struct space *s, struct ioe *e, int argc, char **argv);

/* Print "dlctl: <msg>" to stderr. */
void dlctl_err(const char *fmt, ...) DL_PRINTF(1, 2);
/* Print the usage line of cmd to stderr and return DLCTL_EXIT_USAGE. */
int dlctl_usage(const char *cmd);

/* Create the I/O engine named by --engine (NULL: automatic). 0 or -errno. */
int dlctl_engine(const char *name, struct ioe **out);

/* Parse "2", "0.5", "1500ms" as milliseconds. 0 or -EINVAL. */
int dlctl_parse_ms(const char *s, uint32_t *out);
/* Parse a decimal uint32 in [min, max]. 0 or -EINVAL. */
int dlctl_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* "2026-11-26T03:40:00Z" (or "-" for 0) into out (>= 24 bytes). */
void dlctl_wall_text(uint64_t wall_ms, char *out, size_t out_size);
/* "64.0 MiB". */
void dlctl_size_text(uint64_t bytes, char *out, size_t out_size);

/* Minimal JSON writing: strings are escaped. */
void dlctl_json_str(FILE *f, const char *s);

#endif /* DLCTL_H */
