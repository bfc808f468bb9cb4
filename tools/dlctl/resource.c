/* SPDX-License-Identifier: MIT */
/*
 * resource.c: `dlctl resource create|delete|list` -- the lockspace's
 * directory of resource names (names map to lease areas by index).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

static void resource_list_human(const struct proto_msg *m, const char *lockspace)
{
	uint32_t n = 0;

	for (uint32_t i = proto_next_record(m, 0); i < m->count;) {
		uint32_t end = proto_next_record(m, i + 1);
		const char *name = proto_get_in(m, i + 1, end, "resource");
		const char *index = proto_get_in(m, i + 1, end, "index");

		if (!strcmp(m->lines[i].value, "resource")) {
			if (n++ == 0)
				printf("resources of lockspace %s:\n  %-6s %s\n", lockspace,
				       "INDEX", "NAME");
			printf("  %-6s %s\n", index ? index : "-", name ? name : "-");
		}
		i = end;
	}
	if (n == 0)
		printf("lockspace %s has no named resources\n", lockspace);
}

int dlctl_resource(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "", *name, *op;
	struct proto_msg reply;
	struct dlctl_args a;
	struct dlease *h;
	bool list = !strcmp(verb, "list");
	int rc;

	if (!list && strcmp(verb, "create") && strcmp(verb, "delete")) {
		dlctl_err("resource needs create, delete or list");
		return dlctl_usage("resource");
	}
	/* parse the options after the verb */
	if (dlctl_args_parse(argc - 1, argv + 1, DLCTL_OPT_LOCKSPACE | (list ? DLCTL_OPT_JSON : 0),
	                     &a) < 0 ||
	    dlctl_need("resource", "--lockspace", a.lockspace) < 0)
		return dlctl_usage("resource");
	name = optind < argc - 1 ? argv[1 + optind] : NULL;
	if (list ? optind != argc - 1 : optind != argc - 2) {
		dlctl_err(list ? "resource list takes no NAME" : "resource %s needs one NAME",
		          verb);
		return dlctl_usage("resource");
	}
	op = list                      ? "resource_list"
	     : !strcmp(verb, "create") ? "resource_create"
	                               : "resource_delete";
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_call(h, op, a.lockspace, name, &reply);
	if (rc == 0 && list && a.json)
		dlctl_json_reply(stdout, &reply);
	else if (rc == 0 && list)
		resource_list_human(&reply, a.lockspace);
	else if (rc == 0)
		printf("%s resource %s in lockspace %s (index %s)\n",
		       !strcmp(verb, "create") ? "created" : "deleted", name, a.lockspace,
		       proto_get(&reply, "index") ? proto_get(&reply, "index") : "?");
	proto_msg_free(&reply);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
