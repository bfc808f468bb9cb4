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
