/* SPDX-License-Identifier: MIT */
/*
 * dlease.h: the public API of libdlease, the client library of dlease, a
 * leader-election and lease system for hosts that share block storage.
 *
 * Every function that can fail returns 0 (or a documented count) on success
 * and -errno on failure; dlease_strerror() turns any return value into text.
 * This header grows with the daemon (register, acquire, release, watch);
 * today it carries what a program needs without a daemon.
 */
#ifndef DLEASE_H
#define DLEASE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLEASE_VERSION_MAJOR 0
#define DLEASE_VERSION_MINOR 1

/* "0.1.0". Never NULL. */
const char *dlease_version(void);

/* Text for a value returned by any dlease function (0 or -errno). Never NULL. */
const char *dlease_strerror(int rc);

/* The I/O engine this host would use: "uring" or "aio" (honours DLEASE_IO_ENGINE).
 * Returns 0 and fills name (at least 8 bytes), or -errno when no engine can run. */
int dlease_io_engine(char *name, unsigned name_size);

#ifdef __cplusplus
}
#endif

#endif /* DLEASE_H */
