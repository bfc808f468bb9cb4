/* SPDX-License-Identifier: MIT */
/*
 * compat.h: the first include of every dlease source file. It selects the GNU
 * feature set in one place (so no .c file defines _GNU_SOURCE itself) and pulls
 * in the fixed-width, endian and bool headers every layer needs.
 */
#ifndef DL_COMPAT_H
#define DL_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DL_ARRAY_SIZE(a)      (sizeof(a) / sizeof((a)[0]))
#define DL_MIN(a, b)          ((a) < (b) ? (a) : (b))
#define DL_MAX(a, b)          ((a) > (b) ? (a) : (b))
#define DL_ROUND_UP(x, a)     ((((x) + (a)-1) / (a)) * (a))
#define DL_DIV_ROUND_UP(x, a) (((x) + (a)-1) / (a))
#define DL_UNUSED             __attribute__((unused))
#define DL_PRINTF(f, a)       __attribute__((format(printf, f, a)))

#endif /* DL_COMPAT_H */
