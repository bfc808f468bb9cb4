/* SPDX-License-Identifier: MIT */
/*
 * status.c: `dlctl status` -- the daemon of --run-dir: version, engine,
 * watchdog and uptime, each joined lockspace (host id, generation, state, how
 * long its validity lasts without another renewal, renewals) and each lease
 * this host holds or is acquiring, with the process that owns it.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "client/client.h"
#include "banned.h"

static const char *status_get(const struct proto_msg *m, uint32_t from, uint32_t to,
                              const char *key)
{
	const char *v = proto_get_in(m, from, to, key);

	return v ? v : "-";
}

static void status_lockspace(const struct proto_msg *m, uint32_t from, uint32_t to, bool first)
{
	char left[32] = "-", disks[512];
	uint64_t ms;
	size_t o = 0;

	if (first)
		printf("lockspaces:\n  %-20s %-5s %-10s %-9s %-10s %-9s %-8s %s\n", "NAME", "HOST",
		       "GENERATION", "STATE", "VALID-LEFT", "RENEWALS", "FAILURES", "DISKS");
	if (proto_parse_u64(status_get(m, from, to, "valid_ms_left"), &ms) == 0)
		dlctl_duration_text(ms, left, sizeof(left));
	disks[0] = '\0';
	for (uint32_t i = from; i < to; i++) {
		if (!strcmp(m->lines[i].key, "disk") && o < sizeof(disks))
			o += (size_t)snprintf(disks + o, sizeof(disks) - o, "%s%s", o ? "," : "",
			                      m->lines[i].value);
	}
	printf("  %-20s %-5s %-10s %-9s %-10s %-9s %-8s %s\n", status_get(m, from, to, "lockspace"),
	       status_get(m, from, to, "host_id"), status_get(m, from, to, "generation"),
	       status_get(m, from, to, "state"), left, status_get(m, from, to, "renewals"),
	       status_get(m, from, to, "renew_failures"), disks);
}

static void status_lease(const struct proto_msg *m, uint32_t from, uint32_t to, bool first)
{
	const char *pid = status_get(m, from, to, "owner_pid");
	char owner[32];

	if (first)
		printf("leases:\n  %-20s %-20s %-8s %-10s %s\n", "LOCKSPACE", "RESOURCE", "TOKEN",
		       "STATE", "OWNER");
	snprintf(owner, sizeof(owner), "%s%s", strcmp(pid, "0") ? "pid " : "host",
	         strcmp(pid, "0") ? pid : "");
	printf("  %-20s %-20s %-8s %-10s %s\n", status_get(m, from, to, "lockspace"),
	       status_get(m, from, to, "resource"), status_get(m, from, to, "token"),
	       status_get(m, from, to, "state"), owner);
}

static void status_human(const struct proto_msg *m)
{
	uint32_t top = proto_next_record(m, 0), spaces = 0, leases = 0;
	char up[32] = "-";
	uint64_t ms;

	if (proto_parse_u64(status_get(m, 0, top, "uptime_ms"), &ms) == 0)
		dlctl_duration_text(ms, up, sizeof(up));
	printf("dleased %s on host %s: pid %s, engine %s, watchdog %s, up %s\n",
	       status_get(m, 0, top, "version"), status_get(m, 0, top, "host_name"),
	       status_get(m, 0, top, "pid"), status_get(m, 0, top, "engine"),
	       status_get(m, 0, top, "watchdog"), up);
	for (uint32_t i = top; i < m->count;) {
		uint32_t end = proto_next_record(m, i + 1);

		if (!strcmp(m->lines[i].value, "lockspace"))
			status_lockspace(m, i + 1, end, spaces++ == 0);
		i = end;
	}
	if (spaces == 0)
		printf("lockspaces: none joined (dlctl join)\n");
	for (uint32_t i = top; i < m->count;) {
		uint32_t end = proto_next_record(m, i + 1);

		if (!strcmp(m->lines[i].value, "lease"))
			status_lease(m, i + 1, end, leases++ == 0);
		i = end;
	}
	if (leases == 0)
		printf("leases: none held\n");
}

int dlctl_status(int argc, char **argv)
{
	struct proto_msg reply;
	struct dlctl_args a;
	struct dlease *h;
	int rc;

	if (dlctl_args_parse(argc, argv, DLCTL_OPT_JSON, &a) < 0 || optind < argc)
		return dlctl_usage("status");
	if (dlctl_connect(a.run_dir, &h) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlctl_call(h, "status", NULL, NULL, &reply);
	if (rc == 0 && a.json)
		dlctl_json_reply(stdout, &reply);
	else if (rc == 0)
		status_human(&reply);
	proto_msg_free(&reply);
	dlease_close(h);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
