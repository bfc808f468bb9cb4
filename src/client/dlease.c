/* SPDX-License-Identifier: MIT */
/*
 * dlease.c: libdlease entry points that need no daemon. Only the names in
 * src/dlease.map leave the shared object; everything else is hidden.
 */
#include "base/compat.h"
#include "dlease.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/ioe.h"
#include "banned.h"

#define DLEASE_API __attribute__((visibility("default")))

DLEASE_API const char *dlease_version(void)
{
	return "0.1.0";
}

DLEASE_API const char *dlease_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case -ETIMEDOUT:
		return "I/O deadline passed";
	case -EBADMSG:
		return "sector checksum mismatch (torn or corrupted record)";
	case -EUCLEAN:
		return "not a dlease record (bad magic, version or geometry)";
	case -EBUSY:
		return "lease held by another host";
	case -EAGAIN:
		return "ballot lost to a concurrent host, retry";
	case -ESTALE:
		return "lease version moved on";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}

DLEASE_API int dlease_io_engine(char *name, unsigned name_size)
{
	struct ioe_config cfg = {.kind = IOE_AUTO};
	struct ioe *e;
	int rc;

	if (!name || name_size < 8)
		return -EINVAL;
	rc = ioe_create(&cfg, &e);
	if (rc < 0)
		return rc;
	snprintf(name, name_size, "%s", ioe_name(e));
	ioe_destroy(e);
	return 0;
}
