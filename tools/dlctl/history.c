/* SPDX-License-Identifier: MIT */
/*
 * history.c: `dlctl history` -- the daemon's in-memory event history (the
 * last 1,024 events; the audit log keeps them all), oldest first, one line
 * per event as `dlctl watch` prints them. --json: one object with "events".
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

int dlctl_history(int argc, char **argv)
{
	struct proto_msg reply;
	struct dlctl_args a;
	struct proto_buf *b;
	struct dlease *h;
	uint32_t shown = 0;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_JSON | DLCTL_OPT_LOCKSPACE | DLCTL_OPT_LIMIT,
	                     &a) < 0 ||
	    optind < argc)
		return dlctl_usage("history");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	b = client_begin(h, "history");
	if (a.lockspace)
		proto_put(b, "lockspace", a.lockspace);
	if (a.limit)
		proto_put_u64(b, "limit", a.limit);
	rc = client_call(h, &reply, CLIENT_REPLY_MS);
	if (rc < 0) {
		dlctl_daemon_err(h, rc, "history failed");
	} else if (a.json) {
		dlctl_json_reply(stdout, &reply);
	} else {
		for (uint32_t i = proto_next_record(&reply, 0); i < reply.count;) {
			uint32_t end = proto_next_record(&reply, i + 1);

			if (!strcmp(reply.lines[i].value, "event")) {
				dlctl_event_print(stdout, &reply, i + 1, end, false);
				shown++;
			}
			i = end;
		}
		if (shown == 0)
			printf("no events%s%s\n", a.lockspace ? " in lockspace " : "",
			       a.lockspace ? a.lockspace : "");
	}
	proto_msg_free(&reply);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
