/* SPDX-License-Identifier: MIT */
/* version.c: `dlctl version` -- the version and the I/O engine this host would use, and why. */
#include "base/compat.h"
#include "dlctl.h"

#include <string.h>

#include "banned.h"

int dlctl_version(int argc, char **argv)
{
	const char *engine = argc > 2 && !strcmp(argv[1], "--engine") ? argv[2] : NULL;
	struct ioe *e;

	if (argc > 1 && !engine)
		return dlctl_usage("version");
	printf("dlctl 0.1.0 (on-disk format 1)\n");
	if (dlctl_engine(engine, &e) < 0)
		return DLCTL_EXIT_FAIL;
	printf("engine: %s (%s)\n", ioe_name(e), ioe_why(e));
	ioe_destroy(e);
	return DLCTL_EXIT_OK;
}
