/* SPDX-License-Identifier: MIT */
/* release.c: `dlctl release` -- give up a lease this host holds. */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>

#include "client/client.h"
#include "banned.h"

int dlctl_release(int argc, char **argv)
{
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_LOCKSPACE | DLCTL_OPT_RESOURCE, &a) < 0 ||
	    dlctl_need("release", "--lockspace", a.lockspace) < 0 ||
	    dlctl_need("release", "--resource", a.resource) < 0)
		return dlctl_usage("release");
	if (optind < argc) {
		dlctl_err("release takes no arguments");
		return dlctl_usage("release");
	}
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlease_release(h, a.lockspace, a.resource);
	if (rc < 0)
		dlctl_daemon_err(h, rc, "release %s/%s failed", a.lockspace, a.resource);
	else
		printf("released %s/%s\n", a.lockspace, a.resource);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
