/* SPDX-License-Identifier: MIT */
/*
 * leader.c: `dlctl leader` -- who holds a resource, asked of the daemon:
 * holder host id, name, generation and state, fencing token, since when and
 * why, the previous holder and any pending request. With --direct it reads
 * the slots instead, without a daemon (leader_direct.c).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

static const char *leader_get(const struct proto_msg *m, const char *key)
{
	const char *v = proto_get(m, key);

	return v ? v : "-";
}

static void leader_human(const struct proto_msg *m, const char *lockspace, const char *resource)
{
	const char *owner = leader_get(m, "owner_host_id"), *mode = proto_get(m, "request_mode");
	const char *prev = leader_get(m, "prev_host_id");
	char since[32];
	uint64_t ms;

	if (proto_parse_u64(leader_get(m, "since_ms"), &ms) < 0)
		ms = 0;
	dlctl_wall_text(ms, since, sizeof(since));
	if (!strcmp(owner, "0") || !strcmp(owner, "-"))
		printf("%s/%s: free\n", lockspace, resource);
	else
		printf("%s/%s: held by host %s (%s), generation %s, holder %s\n", lockspace,
		       resource, owner, leader_get(m, "owner_name"),
		       leader_get(m, "owner_generation"), leader_get(m, "owner_state"));
	printf("  token %s, since %s, reason %s\n", leader_get(m, "token"), since,
	       leader_get(m, "reason"));
	if (strcmp(prev, "0") && strcmp(prev, "-"))
		printf("  previous holder host %s, generation %s\n", prev,
		       leader_get(m, "prev_generation"));
	if (mode && mode[0] && strcmp(mode, "none"))
		printf("  pending request: %s\n", mode);
}

int dlctl_leader(int argc, char **argv)
{
	struct proto_msg reply;
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv,
	                     DLCTL_OPT_JSON | DLCTL_OPT_LOCKSPACE | DLCTL_OPT_RESOURCE |
	                             DLCTL_OPT_DIRECT | DLCTL_OPT_ENGINE,
	                     &a) < 0)
		return dlctl_usage("leader");
	if (a.direct) {
		if (a.lockspace || optind >= argc) {
			dlctl_err("leader --direct reads DISK...: it takes no --lockspace");
			return dlctl_usage("leader");
		}
		return dlctl_leader_direct(argc - optind, argv + optind, a.resource, a.json,
		                           a.engine);
	}
	if (dlctl_need("leader", "--lockspace", a.lockspace) < 0 ||
	    dlctl_need("leader", "--resource (or --direct DISK...)", a.resource) < 0 ||
	    optind < argc)
		return dlctl_usage("leader");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_call(h, "leader", a.lockspace, a.resource, &reply);
	if (rc == 0 && a.json)
		dlctl_json_reply(stdout, &reply);
	else if (rc == 0)
		leader_human(&reply, a.lockspace, a.resource);
	proto_msg_free(&reply);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
