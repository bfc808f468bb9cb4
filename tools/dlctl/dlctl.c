/* SPDX-License-Identifier: MIT */
/*
 * dlctl.c: the command table and the helpers every dlctl command shares.
 * Each command is one file (format.c, dump.c, verify.c ...), git-builtin style.
 * Exit codes: 0 success, 1 failure or damage found, 2 bad command line.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "banned.h"

static const struct dlctl_cmd dlctl_cmds[] = {
        {"format", dlctl_format,
         "format --lockspace NAME --max-hosts N --resources R|max [--io-timeout SEC] [--sector-size 512|4096] [--force] DISK...",
         "write a new lockspace onto 1 to 5 disks"},
        {"dump", dlctl_dump, "dump [--json] [--all] [--engine uring|aio] DISK...",
         "show every slot of a lockspace, read-only"},
        {"verify", dlctl_verify, "verify [--engine uring|aio] DISK...",
         "check every slot; exit 1 naming each damaged slot"},
        {"repair", dlctl_repair,
         "repair --resource NAME|--index N --blocker HOST_ID [--above TOKEN] [--force] [--engine uring|aio] DISK...",
         "free a resource stuck on a damaged ballot block, past every token (docs/design.md §4)"},
        {"version", dlctl_version, "version [--engine uring|aio]",
         "print the version and the I/O engine this host uses, and why"},
        {"join", dlctl_join, "join [--run-dir DIR] [--json] [--timeout SEC] --host-id N DISK...",
         "make this host (the daemon of --run-dir) a member of the lockspace on DISK..."},
        {"leave", dlctl_leave, "leave [--run-dir DIR] --lockspace LS [--force]",
         "leave a lockspace (--force releases this host's leases first)"},
        {"acquire", dlctl_acquire,
         "acquire [--run-dir DIR] [--json] --lockspace LS --resource R [--wait SEC] [--no-create] [--pid PID]",
         "take a lease for this host (or for process PID) and print its token"},
        {"release", dlctl_release, "release [--run-dir DIR] --lockspace LS --resource R",
         "give up a lease this host holds"},
        {"status", dlctl_status, "status [--run-dir DIR] [--json]",
         "the daemon, its lockspaces and the leases it holds"},
        {"hosts", dlctl_hosts, "hosts [--run-dir DIR] [--json] --lockspace LS",
         "the hosts of a lockspace as this daemon sees them"},
        {"leader", dlctl_leader,
         "leader [--run-dir DIR] [--json] --lockspace LS --resource R | leader --direct [--json] [--resource R] DISK...",
         "who holds a resource: from the daemon, or --direct from the slots"},
        {"request", dlctl_request, "request [--run-dir DIR] --lockspace LS --resource R [--force]",
         "ask the holder of a resource to hand it over"},
        {"history", dlctl_history, "history [--run-dir DIR] [--json] [--lockspace LS] [--limit N]",
         "the daemon's recent events"},
        {"metrics", dlctl_metrics, "metrics [--run-dir DIR] [--json]",
         "the daemon's counters, Prometheus text format"},
        {"watch", dlctl_watch,
         "watch [--run-dir DIR] [--json] [--lockspace LS] [--resource R] [--since SEQ] [--count N]",
         "print events as they happen"},
        {"resource", dlctl_resource,
         "resource create|delete|list [--run-dir DIR] [--json] --lockspace LS [NAME]",
         "create, delete or list resource names"},
        {"run", dlctl_run,
         "run [--run-dir DIR] --lockspace LS --resource R [--wait SEC] [--grace SEC] -- COMMAND...",
         "run COMMAND while holding the lease; stop it when the lease is lost (exit 75)"},
};

void dlctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("dlctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int dlctl_usage(const char *cmd)
{
	for (size_t i = 0; i < DL_ARRAY_SIZE(dlctl_cmds); i++) {
		if (!strcmp(dlctl_cmds[i].name, cmd))
			fprintf(stderr, "usage: dlctl %s\n", dlctl_cmds[i].usage);
	}
	return DLCTL_EXIT_USAGE;
}

static void dlctl_help(FILE *f)
{
	fprintf(f, "usage: dlctl COMMAND [OPTIONS] ...\n\ncommands:\n");
	for (size_t i = 0; i < DL_ARRAY_SIZE(dlctl_cmds); i++)
		fprintf(f, "  %-8s %s\n           dlctl %s\n", dlctl_cmds[i].name,
		        dlctl_cmds[i].summary, dlctl_cmds[i].usage);
	fprintf(f, "\nexit codes: 0 success, 1 failure or damage found, 2 bad command line;\n"
	           "  run: COMMAND's status, or 75 when the lease was lost and COMMAND stopped\n"
	           "environment: DLEASE_RUN_DIR (default --run-dir, else /run/dlease),\n"
	           "  DLEASE_IO_ENGINE=uring|aio, DLEASE_LOG=error|warn|info|debug\n");
}

int dlctl_engine(const char *name, struct ioe **out)
{
	struct ioe_config cfg = {.kind = IOE_AUTO};
	int rc;

	if (name && ioe_kind_parse(name, &cfg.kind) < 0) {
		dlctl_err("--engine %s: must be uring or aio", name);
		return -EINVAL;
	}
	rc = ioe_create(&cfg, out);
	if (rc < 0)
		dlctl_err("no I/O engine available (%s): %s", name ? name : "auto", strerror(-rc));
	return rc;
}

int dlctl_parse_ms(const char *s, uint32_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (v * 1000.0 > (double)UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)(v * 1000.0 + 0.5);
	return 0;
}

int dlctl_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

void dlctl_wall_text(uint64_t wall_ms, char *out, size_t out_size)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (wall_ms == 0 || !gmtime_r(&t, &tm)) {
		snprintf(out, out_size, "-");
		return;
	}
	strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void dlctl_size_text(uint64_t bytes, char *out, size_t out_size)
{
	if (bytes >= (1ull << 30))
		snprintf(out, out_size, "%.1f GiB", (double)bytes / (double)(1ull << 30));
	else if (bytes >= (1ull << 20))
		snprintf(out, out_size, "%.1f MiB", (double)bytes / (double)(1ull << 20));
	else
		snprintf(out, out_size, "%llu B", (unsigned long long)bytes);
}

void dlctl_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		dlctl_help(stderr);
		return DLCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		dlctl_help(stdout);
		return DLCTL_EXIT_OK;
	}
	for (size_t i = 0; i < DL_ARRAY_SIZE(dlctl_cmds); i++) {
		if (!strcmp(dlctl_cmds[i].name, argv[1]))
			return dlctl_cmds[i].fn(argc - 1, argv + 1);
	}
	dlctl_err("unknown command '%s' (dlctl --help lists them)", argv[1]);
	return DLCTL_EXIT_USAGE;
}
