/* SPDX-License-Identifier: MIT */
/*
 * join.c: `dlctl join` -- make this host (the daemon of --run-dir) a member of
 * the lockspace on DISK... with --host-id N. Returns once the host is live,
 * or with the daemon's reason it cannot be (slot held by a live host,
 * another host writing our slot, not a lockspace, disks disagree ...).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>

#include "client/client.h"
#include "banned.h"

int dlctl_join(int argc, char **argv)
{
	struct dlease_space sp;
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_HOST_ID | DLCTL_OPT_TIMEOUT | DLCTL_OPT_JSON,
	                     &a) < 0 ||
	    dlctl_need("join", "--host-id", a.host_id ? &a : NULL) < 0)
		return dlctl_usage("join");
	if (optind >= argc || argc - optind > (int)DLEASE_DISKS_MAX) {
		dlctl_err("join needs 1 to %u DISKs", DLEASE_DISKS_MAX);
		return dlctl_usage("join");
	}
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlease_join(h, (const char *const *)argv + optind, (unsigned)(argc - optind),
	                 a.host_id, a.have_timeout ? (int64_t)a.timeout_ms : -1, &sp);
	if (rc < 0) {
		dlctl_daemon_err(h, rc, "join as host %u failed", a.host_id);
		dlease_close(h);
		return DLCTL_EXIT_FAIL;
	}
	if (a.json) {
		printf("{\"lockspace\": ");
		dlctl_json_str(stdout, sp.lockspace);
		printf(", \"host_id\": %u, \"generation\": %llu, \"io_timeout_ms\": %u}\n",
		       sp.host_id, (unsigned long long)sp.generation, sp.io_timeout_ms);
	} else {
		printf("joined lockspace %s as host %u, generation %llu (io-timeout %.3f s)\n",
		       sp.lockspace, sp.host_id, (unsigned long long)sp.generation,
		       sp.io_timeout_ms / 1000.0);
	}
	dlease_close(h);
	return DLCTL_EXIT_OK;
}
