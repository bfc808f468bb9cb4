/* SPDX-License-Identifier: MIT */
/*
 * format.c: `dlctl format` -- write a new lockspace onto 1..5 disks.
 * Refuses a disk that already holds anything at sector 0, a disk too small
 * for the layout (saying how large it must be) and a sector size the device
 * cannot write atomically, unless --force (which overrides only the first).
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "lease/space.h"
#include "banned.h"

#define FORMAT_IO_TIMEOUT_MS_DEFAULT 2000u

struct format_args {
	struct space_format_opts o;
	const char *engine;
	bool resources_max;
};

static int format_parse(int argc, char **argv, struct format_args *a)
{
	static const struct option opts[] = {
	        {"lockspace", required_argument, NULL, 'l'},
	        {"max-hosts", required_argument, NULL, 'H'},
	        {"resources", required_argument, NULL, 'r'},
	        {"io-timeout", required_argument, NULL, 't'},
	        {"sector-size", required_argument, NULL, 's'},
	        {"engine", required_argument, NULL, 'e'},
	        {"force", no_argument, NULL, 'f'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int c;

	a->o.io_timeout_ms = FORMAT_IO_TIMEOUT_MS_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:H:r:t:s:e:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			a->o.name = optarg;
			break;
		case 'H':
			if (dlctl_parse_u32(optarg, 1, 2000, &a->o.max_hosts) < 0) {
				dlctl_err("--max-hosts %s: must be a number from 1 to 2000",
				          optarg);
				return -EINVAL;
			}
			break;
		case 'r':
			if (!strcmp(optarg, "max")) {
				a->resources_max = true;
			} else if (dlctl_parse_u32(optarg, 1, 100000, &a->o.max_resources) < 0) {
				dlctl_err(
				        "--resources %s: must be a number from 1 to 100000, or max",
				        optarg);
				return -EINVAL;
			}
			break;
		case 't':
			if (dlctl_parse_ms(optarg, &a->o.io_timeout_ms) < 0) {
				dlctl_err("--io-timeout %s: must be seconds, e.g. 2 or 0.5",
				          optarg);
				return -EINVAL;
			}
			break;
		case 's':
			if (dlctl_parse_u32(optarg, 512, 4096, &a->o.sector_size) < 0 ||
			    (a->o.sector_size != 512 && a->o.sector_size != 4096)) {
				dlctl_err("--sector-size %s: must be 512 or 4096", optarg);
				return -EINVAL;
			}
			break;
		case 'e':
			a->engine = optarg;
			break;
		case 'f':
			a->o.force = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!a->o.name || !a->o.max_hosts || (!a->o.max_resources && !a->resources_max)) {
		dlctl_err("format needs --lockspace, --max-hosts and --resources");
		return -EINVAL;
	}
	if (optind >= argc) {
		dlctl_err("format needs at least one DISK");
		return -EINVAL;
	}
	return 0;
}

static void format_report(const struct space *s)
{
	char uuid[40], need[32];

	ondisk_uuid_format(s->header.hdr.lockspace_uuid, uuid);
	dlctl_size_text(s->header.disk_size_min, need, sizeof(need));
	printf("formatted lockspace '%s' uuid %s on %u disk%s\n", s->header.name, uuid,
	       s->path_count, s->path_count == 1 ? "" : "s");
	printf("  sector %u, max-hosts %u, resources %u, io-timeout %.3f s, %s used per disk, engine %s\n",
	       s->header.sector_size, s->header.max_hosts, s->header.max_resources,
	       s->header.io_timeout_ms / 1000.0, need, ioe_name(s->ioe));
	for (uint32_t i = 0; i < s->path_count; i++)
		printf("  disk %u of %u: %s\n", s->disks[i].header.hdr.disk_index + 1,
		       s->header.disk_count, s->disks[i].path);
}

int dlctl_format(int argc, char **argv)
{
	struct format_args a = {0};
	struct space s;
	struct ioe *e;
	int rc;

	if (format_parse(argc, argv, &a) < 0)
		return dlctl_usage("format");
	if (dlctl_engine(a.engine, &e) < 0)
		return DLCTL_EXIT_FAIL;
	rc = space_open(&s, e, (const char *const *)argv + optind, (uint32_t)(argc - optind), true);
	if (rc == 0)
		rc = space_format(&s, &a.o);
	if (rc < 0)
		dlctl_err("format refused: %s", s.why[0] ? s.why : strerror(-rc));
	else
		format_report(&s);
	space_close(&s);
	ioe_destroy(e);
	return rc < 0 ? DLCTL_EXIT_FAIL : DLCTL_EXIT_OK;
}
