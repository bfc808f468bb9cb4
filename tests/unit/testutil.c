/* SPDX-License-Identifier: MIT */
/* testutil.c: scratch files and loop devices for unit tests (losetup drives the loop driver). */
#include "base/compat.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int testutil_tmpfile(const char *stem, uint64_t size_bytes, char *out, size_t out_size)
{
	const char *dir = getenv("DLEASE_TEST_TMPDIR");
	int fd, n;

	if (!dir || !*dir)
		dir = "/var/tmp";
	mkdir(dir, 0755);
	n = snprintf(out, out_size, "%s/%s.%d.img", dir, stem, (int)getpid());
	if (n < 0 || (size_t)n >= out_size)
		return -ENAMETOOLONG;
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size_bytes) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

bool testutil_can_loop(void)
{
	return geteuid() == 0 && access("/dev/loop-control", F_OK) == 0 &&
	       system("command -v losetup >/dev/null 2>&1") == 0;
}

int testutil_loop_attach(const char *file, uint32_t sector_size, char *out, size_t out_size)
{
	char cmd[1024];
	FILE *p;
	size_t len;

	if (!testutil_can_loop())
		return -EPERM;
	snprintf(cmd, sizeof(cmd), "losetup --find --show --direct-io=on --sector-size %u '%s'",
	         sector_size, file);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	if (!fgets(out, (int)out_size, p)) {
		pclose(p);
		return -EIO;
	}
	if (pclose(p) != 0)
		return -EIO;
	len = strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	return len ? 0 : -EIO;
}

void testutil_loop_detach(const char *loopdev)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "losetup -d '%s' 2>/dev/null", loopdev);
	if (system(cmd) != 0)
		fprintf(stderr, "testutil: could not detach %s\n", loopdev);
}
