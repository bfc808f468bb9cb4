/* SPDX-License-Identifier: MIT */
/*
 * dlease.c: libdlease entry points that need no daemon. Only the names in
 * src/dlease.map leave the shared object; everything else is hidden.
 */
#include "base/compat.h"
#include "client/client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/ioe.h"
#include "banned.h"

CLIENT_API const char *dlease_version(void)
{
	return "0.1.0";
}

CLIENT_API const char *dlease_strerror(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case -ETIMEDOUT:
		return "deadline passed (an I/O, or the wait asked for)";
	case -EBADMSG:
		return "malformed or corrupted data (a sector checksum, or a message)";
	case -EUCLEAN:
		return "not a dlease record (bad magic, version or geometry)";
	case -EBUSY:
		return "held by another host (or leases still held)";
	case -EAGAIN:
		return "not yet: retry (ballot lost, or no event so far)";
	case -ESTALE:
		return "lease version moved on (or the disks disagree)";
	case -ENOLINK:
		return "this host has not joined the lockspace";
	case -EALREADY:
		return "this host holds the lease already";
	case -EADDRINUSE:
		return "another host wrote this host's slot";
	case -ECONNREFUSED:
		return "dleased is not running on that run directory (socket refused)";
	case -ECONNRESET:
		return "dleased closed the connection";
	case -ENOTCONN:
		return "the connection to dleased is closed";
	default:
		return strerror(rc < 0 ? -rc : rc);
	}
}

CLIENT_API int dlease_io_engine(char *name, unsigned name_size)
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
