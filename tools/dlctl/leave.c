/* SPDX-License-Identifier: MIT */
/*
 * leave.c: `dlctl leave` -- this host leaves a lockspace. Refused while it
 * holds leases there, unless --force, which releases them first.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>

#include "client/client.h"
#include "banned.h"

int dlctl_leave(int argc, char **argv)
{
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_LOCKSPACE | DLCTL_OPT_FORCE, &a) < 0 ||
	    dlctl_need("leave", "--lockspace", a.lockspace) < 0)
		return dlctl_usage("leave");
	if (optind < argc) {
		dlctl_err("leave takes no arguments, only --lockspace");
		return dlctl_usage("leave");
	}
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlease_leave(h, a.lockspace, a.force ? DLEASE_LEAVE_FORCE : 0);
	if (rc == -EBUSY && !a.force)
		dlctl_daemon_err(h, rc, "leave %s refused (--force releases the leases first)",
		                 a.lockspace);
	else if (rc < 0)
		dlctl_daemon_err(h, rc, "leave %s failed", a.lockspace);
	else
		printf("left lockspace %s\n", a.lockspace);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
