/* SPDX-License-Identifier: MIT */
/*
 * acquire.c: `dlctl acquire` -- take a lease for this host and print its
 * fencing token. Without --pid the lease belongs to the host: it stays after
 * dlctl exits, until `dlctl release`, leave or loss. With --pid it belongs
 * to that process and ends when the process exits. --wait SEC waits for a
 * live holder to let go (0: try once, the default); --no-create refuses a
 * resource name the directory does not have yet.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>

#include "client/client.h"
#include "banned.h"

int dlctl_acquire(int argc, char **argv)
{
	struct dlease_lease l;
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv,
	                     DLCTL_OPT_LOCKSPACE | DLCTL_OPT_RESOURCE | DLCTL_OPT_WAIT |
	                             DLCTL_OPT_NO_CREATE | DLCTL_OPT_PID | DLCTL_OPT_JSON,
	                     &a) < 0 ||
	    dlctl_need("acquire", "--lockspace", a.lockspace) < 0 ||
	    dlctl_need("acquire", "--resource", a.resource) < 0)
		return dlctl_usage("acquire");
	if (optind < argc) {
		dlctl_err("acquire takes no arguments");
		return dlctl_usage("acquire");
	}
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlease_acquire(h, a.lockspace, a.resource, a.wait_ms,
	                    a.no_create ? 0 : DLEASE_ACQUIRE_CREATE, (int)a.pid, &l);
	if (rc < 0) {
		dlctl_daemon_err(h, rc, "acquire %s/%s failed", a.lockspace, a.resource);
	} else if (a.json) {
		printf("{\"lockspace\": ");
		dlctl_json_str(stdout, l.lockspace);
		printf(", \"resource\": ");
		dlctl_json_str(stdout, l.resource);
		printf(", \"token\": %llu, \"generation\": %llu, \"host_id\": %u, \"slot\": %u, \"act_until_ns\": %llu}\n",
		       (unsigned long long)l.token, (unsigned long long)l.generation, l.host_id,
		       l.slot, (unsigned long long)l.act_until_ns);
	} else {
		printf("%llu\n", (unsigned long long)l.token);
	}
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
