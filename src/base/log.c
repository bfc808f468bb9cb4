/* SPDX-License-Identifier: MIT */
/*
 * log.c: the threshold is the one piece of process-wide mutable state outside
 * a main.c; it is set once at start-up (from DLEASE_LOG or a flag) and only read after.
 */
#include "compat.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dl_log_level_current = -1;

static enum dl_log_level dl_log_level_from_env(void)
{
	const char *v = getenv("DLEASE_LOG");

	if (!v)
		return DL_LOG_WARN;
	if (!strcmp(v, "error"))
		return DL_LOG_ERROR;
	if (!strcmp(v, "info"))
		return DL_LOG_INFO;
	if (!strcmp(v, "debug"))
		return DL_LOG_DEBUG;
	return DL_LOG_WARN;
}

void dl_log_set_level(enum dl_log_level level)
{
	dl_log_level_current = (int)level;
}

enum dl_log_level dl_log_get_level(void)
{
	if (dl_log_level_current < 0)
		dl_log_level_current = (int)dl_log_level_from_env();
	return (enum dl_log_level)dl_log_level_current;
}

void dl_log(enum dl_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	va_list ap;

	if (level > dl_log_get_level())
		return;
	fprintf(stderr, "dlease %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
