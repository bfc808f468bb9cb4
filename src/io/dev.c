/* SPDX-License-Identifier: MIT */
/*
 * dev.c: opening a shared disk with O_DIRECT and learning its geometry, as
 * declared in dev.h. It owns only the fd it opens. A block device reports its
 * sector sizes through BLKSSZGET (logical), BLKPBSZGET (physical) and its size
 * through BLKGETSIZE64. A regular file reports its O_DIRECT offset alignment
 * through statx(STATX_DIOALIGN) (Linux 6.1+, ext4/xfs/f2fs/...); where the
 * kernel or file system does not (e.g. NFS), an O_DIRECT read of 512 bytes at
 * offset 0 decides: accepted -> 512, refused with EINVAL -> 4096 (confirmed by
 * a 4096-byte read). An empty file cannot answer (reads at EOF succeed at any
 * size), so it gets 4096, the size that works everywhere. A file's physical
 * sector size is taken to equal its logical one. This module never writes.
 */
#include "base/compat.h"
#include "io/dev.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "base/log.h"
#include "banned.h"

/*
 * glibc takes struct statx from <linux/stat.h> when the kernel headers are
 * there; older ones carry their own copy without the DIOALIGN fields. Then ask
 * for STATX_DIOALIGN anyway and read stx_dio_offset_align at its uapi offset
 * (the struct is 256 bytes and the kernel zero-fills what it does not report).
 */
#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN              0x00002000U
#define DEV_STX_DIO_OFFSET_ALIGN_AT 156u /* offsetof(struct statx, stx_dio_offset_align) */
#endif

#define DEV_SECTOR_MIN 512u
#define DEV_SECTOR_MAX 4096u

static uint32_t dev_stx_dio_offset_align(const struct statx *stx)
{
#ifdef DEV_STX_DIO_OFFSET_ALIGN_AT
	uint32_t align;

	_Static_assert(sizeof(struct statx) >= DEV_STX_DIO_OFFSET_ALIGN_AT + sizeof(uint32_t),
	               "struct statx too small for stx_dio_offset_align");
	memcpy(&align, (const unsigned char *)stx + DEV_STX_DIO_OFFSET_ALIGN_AT, sizeof(align));
	return align;
#else
	return stx->stx_dio_offset_align;
#endif
}

static int dev_block_geometry(struct ioe_dev *dev)
{
	int logical = 0;
	unsigned int physical = 0;
	uint64_t size = 0;

	if (ioctl(dev->fd, BLKSSZGET, &logical) != 0)
		return -errno;
	if (ioctl(dev->fd, BLKPBSZGET, &physical) != 0)
		return -errno;
	if (ioctl(dev->fd, BLKGETSIZE64, &size) != 0)
		return -errno;
	if (logical <= 0)
		return -EINVAL;
	dev->logical_sector_size = (uint32_t)logical;
	dev->physical_sector_size = DL_MAX((uint32_t)physical, (uint32_t)logical);
	dev->size_bytes = size;
	return 0;
}

/* STATX_DIOALIGN: *align_out = the offset alignment, or 0 if the kernel did not say. */
static int dev_statx_dio_align(int fd, uint32_t *align_out)
{
	struct statx stx;

	*align_out = 0;
	memset(&stx, 0, sizeof(stx));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) != 0)
		return errno == ENOSYS ? 0 : -errno;
	if (!(stx.stx_mask & STATX_DIOALIGN))
		return 0;
	*align_out = dev_stx_dio_offset_align(&stx);
	/* Reported, but zero: this file cannot do direct I/O at all. */
	return *align_out ? 0 : -EINVAL;
}

/* One O_DIRECT read at offset 0: 0 if accepted, -EINVAL if refused as misaligned. */
static int dev_probe_read(int fd, void *buf, uint32_t len)
{
	ssize_t n = pread(fd, buf, len, 0);

	return n < 0 ? -errno : 0;
}

static int dev_probe_logical(const struct ioe_dev *dev, uint32_t *logical_out)
{
	void *buf;
	int rc;

	if (dev->size_bytes == 0) {
		*logical_out = DEV_SECTOR_MAX;
		dl_debug("dev %s: empty file, assuming %u-byte O_DIRECT alignment", dev->path,
		         DEV_SECTOR_MAX);
		return 0;
	}
	if (posix_memalign(&buf, DEV_SECTOR_MAX, DEV_SECTOR_MAX) != 0)
		return -ENOMEM;
	*logical_out = DEV_SECTOR_MIN;
	rc = dev_probe_read(dev->fd, buf, DEV_SECTOR_MIN);
	if (rc == -EINVAL) {
		*logical_out = DEV_SECTOR_MAX;
		rc = dev_probe_read(dev->fd, buf, DEV_SECTOR_MAX);
	}
	free(buf);
	return rc;
}

static int dev_file_geometry(struct ioe_dev *dev, const struct stat *st)
{
	uint32_t align;
	int rc;

	dev->size_bytes = (uint64_t)st->st_size;
	rc = dev_statx_dio_align(dev->fd, &align);
	if (rc < 0)
		return rc;
	if (align == 0) {
		rc = dev_probe_logical(dev, &align);
		if (rc < 0)
			return rc;
	}
	dev->logical_sector_size = DL_MAX(align, DEV_SECTOR_MIN);
	dev->physical_sector_size = dev->logical_sector_size;
	return 0;
}

int ioe_dev_open(const char *path, bool writable, struct ioe_dev *out)
{
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (strlen(path) >= sizeof(out->path))
		return -ENAMETOOLONG;
	snprintf(out->path, sizeof(out->path), "%s", path);
	/* stat first: opening a directory O_RDWR says EISDIR, a char device may ignore O_DIRECT. */
	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return -ENOTBLK;
	out->fd = open(path, (writable ? O_RDWR | O_DSYNC : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (out->fd < 0)
		return -errno;
	if (fstat(out->fd, &st) != 0) {
		rc = -errno;
		goto out_close;
	}
	out->is_block = S_ISBLK(st.st_mode);
	out->writable = writable;
	if (out->is_block)
		rc = dev_block_geometry(out);
	else if (S_ISREG(st.st_mode))
		rc = dev_file_geometry(out, &st);
	else
		rc = -ENOTBLK; /* replaced between stat() and open() */
	if (rc < 0)
		goto out_close;
	return 0;

out_close:
	close(out->fd);
	out->fd = -1;
	return rc;
}

void ioe_dev_close(struct ioe_dev *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

uint32_t ioe_dev_sector_size(const struct ioe_dev *dev)
{
	uint32_t size = DL_MAX(dev->logical_sector_size, dev->physical_sector_size);

	return size <= DEV_SECTOR_MIN ? DEV_SECTOR_MIN : DEV_SECTOR_MAX;
}

int ioe_dev_check_sector_size(const struct ioe_dev *dev, uint32_t sector_size)
{
	if (sector_size != DEV_SECTOR_MIN && sector_size != DEV_SECTOR_MAX)
		return -EINVAL;
	if (sector_size < dev->logical_sector_size)
		return -EINVAL;
	return 0;
}
