/* SPDX-License-Identifier: MIT */
/*
 * log.h: one-line diagnostics to stderr with a level threshold. Library code
 * logs context here and returns -errno; it never exits.
 */
#ifndef DL_LOG_H
#define DL_LOG_H

#include "compat.h"

enum dl_log_level {
	DL_LOG_ERROR = 0,
	DL_LOG_WARN = 1,
	DL_LOG_INFO = 2,
	DL_LOG_DEBUG = 3,
};

/* Messages above this level are dropped; default DL_LOG_WARN, or DLEASE_LOG=error|warn|info|debug.
 */
void dl_log_set_level(enum dl_log_level level);
enum dl_log_level dl_log_get_level(void);
void dl_log(enum dl_log_level level, const char *fmt, ...) DL_PRINTF(2, 3);

#define dl_err(...)   dl_log(DL_LOG_ERROR, __VA_ARGS__)
#define dl_warn(...)  dl_log(DL_LOG_WARN, __VA_ARGS__)
#define dl_info(...)  dl_log(DL_LOG_INFO, __VA_ARGS__)
#define dl_debug(...) dl_log(DL_LOG_DEBUG, __VA_ARGS__)

#endif /* DL_LOG_H */
