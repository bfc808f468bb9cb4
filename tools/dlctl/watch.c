/* SPDX-License-Identifier: MIT */
/*
 * watch.c: `dlctl watch` -- print the daemon's events as they happen, one
 * line each (--json: one object per line), optionally only of a lockspace or
 * resource. --since SEQ first replays the events after SEQ still in the
 * daemon's history; when some are gone a gap line says so ({"gap": true} in
 * JSON). --count N exits after N events. Exits 1 when the daemon closes the
 * connection (it stopped).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

static void watch_gap(struct dlease *h, bool json)
{
	if (!h->gap_next)
		return;
	h->gap_next = false;
	if (json)
		printf("{\"gap\": true}\n");
	else
		printf("(gap: events before the next one are no longer in the daemon's history)\n");
}

int dlctl_watch(int argc, char **argv)
{
	struct dlctl_args a;
	struct dlease *h;
	uint64_t seq = 0;
	uint32_t seen = 0;
	int rc;

	if (dlctl_args_parse(argc, argv,
	                     DLCTL_OPT_JSON | DLCTL_OPT_LOCKSPACE | DLCTL_OPT_RESOURCE |
	                             DLCTL_OPT_SINCE | DLCTL_OPT_COUNT,
	                     &a) < 0 ||
	    optind < argc)
		return dlctl_usage("watch");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = dlease_watch(h, a.have_since ? a.since : DLEASE_SEQ_NOW, a.lockspace, a.resource,
	                  &seq);
	if (rc < 0) {
		dlctl_daemon_err(h, rc, "watch failed");
		dlease_close(h);
		return DLCTL_EXIT_FAIL;
	}
	if (!a.json)
		fprintf(stderr, "dlctl: watching events after #%llu of %s\n",
		        (unsigned long long)(a.have_since ? a.since : seq), dlease_run_dir(h));
	while (a.count == 0 || seen < a.count) {
		struct proto_msg m;

		rc = client_next_event_msg(h, &m, -1);
		if (rc < 0)
			break;
		watch_gap(h, a.json);
		dlctl_event_print(stdout, &m, 0, m.count, a.json);
		proto_msg_free(&m);
		seen++;
	}
	if (rc < 0)
		dlctl_daemon_err(h, rc, "watch ended");
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
