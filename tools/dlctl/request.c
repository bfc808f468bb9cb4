/* SPDX-License-Identifier: MIT */
/*
 * request.c: `dlctl request` -- ask the host holding a resource to hand it
 * over. The holder's daemon releases at once for a host-owned lease, or
 * tells its registered process, which decides. --force asks for it even if
 * the holder does not hand over (the holder is stopped, then it releases).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>

#include "client/client.h"
#include "banned.h"

int dlctl_request(int argc, char **argv)
{
	struct dlctl_args a;
	struct dlease *h;
	uint64_t token = 0;
	int rc;

	if (dlctl_args_parse(argc, argv,
	                     DLCTL_OPT_LOCKSPACE | DLCTL_OPT_RESOURCE | DLCTL_OPT_FORCE |
	                             DLCTL_OPT_JSON,
	                     &a) < 0 ||
	    dlctl_need("request", "--lockspace", a.lockspace) < 0 ||
	    dlctl_need("request", "--resource", a.resource) < 0 || optind < argc)
		return dlctl_usage("request");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlease_request(h, a.lockspace, a.resource, a.force ? DLEASE_REQUEST_FORCE : 0, &token);
	if (rc < 0)
		dlctl_daemon_err(h, rc, "request for %s/%s failed", a.lockspace, a.resource);
	else if (a.json)
		printf("{\"token\": %llu, \"mode\": \"%s\"}\n", (unsigned long long)token,
		       a.force ? "force" : "graceful");
	else
		printf("requested %s/%s (token %llu, %s); `dlctl leader` shows when it moves\n",
		       a.lockspace, a.resource, (unsigned long long)token,
		       a.force ? "force" : "graceful");
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
