/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: `dlctl metrics` -- the daemon's counters and histograms in the
 * Prometheus text format, as a scraper would read them. --json wraps the
 * text: {"text": "..."}.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

int dlctl_metrics(int argc, char **argv)
{
	struct proto_msg reply;
	struct dlctl_args a;
	struct dlease *h;
	const char *text;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_JSON, &a) < 0 || optind < argc)
		return dlctl_usage("metrics");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_call(h, "metrics", NULL, NULL, &reply);
	text = rc == 0 ? proto_get(&reply, "text") : NULL;
	if (rc == 0 && a.json) {
		dlctl_json_reply(stdout, &reply);
	} else if (rc == 0 && text) {
		size_t n = strlen(text);

		fputs(text, stdout);
		if (n && text[n - 1] != '\n')
			fputc('\n', stdout);
	}
	proto_msg_free(&reply);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
