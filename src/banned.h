/* SPDX-License-Identifier: MIT */
/*
 * banned.h: functions with better replacements in this code base. Included
 * last by every .c file (after system headers) so a use fails to compile.
 */
#ifndef DL_BANNED_H
#define DL_BANNED_H

#define DL_BANNED(f) sorry_##f##_is_banned_in_dlease

#undef strcpy
#define strcpy(a, b) DL_BANNED(strcpy)
#undef strcat
#define strcat(a, b) DL_BANNED(strcat)
#undef sprintf
#define sprintf(...) DL_BANNED(sprintf)
#undef strtok
#define strtok(a, b) DL_BANNED(strtok)
#undef gmtime
#define gmtime(t) DL_BANNED(gmtime)
#undef localtime
#define localtime(t) DL_BANNED(localtime)

#endif /* DL_BANNED_H */
