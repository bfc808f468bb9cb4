/* SPDX-License-Identifier: MIT */
/*
 * hosts.c: `dlctl hosts` -- the host slots of a lockspace as this daemon
 * sees them: name, generation, live/dead/left, and how long ago it last saw
 * each renewal (its own observation: another daemon may have seen later).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

static const char *hosts_get(const struct proto_msg *m, uint32_t from, uint32_t to, const char *key)
{
	const char *v = proto_get_in(m, from, to, key);

	return v ? v : "-";
}

static void hosts_human(const struct proto_msg *m, const char *lockspace)
{
	uint32_t n = 0;

	for (uint32_t i = proto_next_record(m, 0); i < m->count;) {
		uint32_t end = proto_next_record(m, i + 1);
		char ago[32] = "-", stamp[32];
		uint64_t v;

		if (strcmp(m->lines[i].value, "host") != 0) {
			i = end;
			continue;
		}
		if (n++ == 0)
			printf("hosts of lockspace %s:\n  %-5s %-24s %-10s %-8s %-12s %s\n",
			       lockspace, "HOST", "NAME", "GENERATION", "STATE", "RENEWED",
			       "TIMESTAMP");
		if (proto_parse_u64(hosts_get(m, i + 1, end, "renewed_ms_ago"), &v) == 0) {
			dlctl_duration_text(v, ago, sizeof(ago));
			snprintf(ago + strlen(ago), sizeof(ago) - strlen(ago), " ago");
		}
		if (proto_parse_u64(hosts_get(m, i + 1, end, "timestamp_ms"), &v) < 0)
			v = 0;
		dlctl_wall_text(v, stamp, sizeof(stamp));
		printf("  %-5s %-24s %-10s %-8s %-12s %s\n", hosts_get(m, i + 1, end, "host_id"),
		       hosts_get(m, i + 1, end, "host_name"),
		       hosts_get(m, i + 1, end, "generation"), hosts_get(m, i + 1, end, "state"),
		       ago, stamp);
		i = end;
	}
	if (n == 0)
		printf("hosts of lockspace %s: none seen\n", lockspace);
}

int dlctl_hosts(int argc, char **argv)
{
	struct proto_msg reply;
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_JSON | DLCTL_OPT_LOCKSPACE, &a) < 0 ||
	    dlctl_need("hosts", "--lockspace", a.lockspace) < 0 || optind < argc)
		return dlctl_usage("hosts");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_call(h, "hosts", a.lockspace, NULL, &reply);
	if (rc == 0 && a.json)
		dlctl_json_reply(stdout, &reply);
	else if (rc == 0)
		hosts_human(&reply, a.lockspace);
	proto_msg_free(&reply);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
