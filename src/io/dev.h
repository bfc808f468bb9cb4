/* SPDX-License-Identifier: MIT */
/*
 * dev.h: opening a shared disk for O_DIRECT I/O and learning its geometry.
 * A disk is a block device or a regular file (e.g. on NFS). For a block
 * device the sector sizes come from BLKSSZGET (logical) and BLKPBSZGET
 * (physical); for a regular file from statx STATX_DIOALIGN where the kernel
 * reports it, else by probing O_DIRECT reads of 512 and 4096 bytes.
 * This module opens and inspects; it never writes.
 */
#ifndef DL_IOE_DEV_H
#define DL_IOE_DEV_H

#include "base/compat.h"

#define IOE_PATH_MAX 1024

struct ioe_dev {
	char path[IOE_PATH_MAX];
	int fd;
	bool is_block;
	bool writable;
	uint32_t logical_sector_size;  /* smallest O_DIRECT unit the device accepts */
	uint32_t physical_sector_size; /* atomic write unit as reported (>= logical) */
	uint64_t size_bytes;
};

/* Open path with O_DIRECT (O_RDWR | O_DSYNC if writable, else O_RDONLY): every write is
 * durable when acknowledged, as the engines' RWF_DSYNC also asks; on regular files the
 * open flag keeps io_uring from a slower per-write path (docs/performance.md). 0 or -errno:
 * -ENOENT no such path, -ENOTBLK neither a block device nor a regular file,
 * -EINVAL O_DIRECT refused by the file system. */
int ioe_dev_open(const char *path, bool writable, struct ioe_dev *out);
void ioe_dev_close(struct ioe_dev *dev);

/* The record size to format with: max(logical, physical), 512 or 4096. */
uint32_t ioe_dev_sector_size(const struct ioe_dev *dev);

/* 0 if records of sector_size can be written atomically and O_DIRECT-aligned on dev,
 * else -EINVAL (smaller than the logical sector size, or not 512/4096). */
int ioe_dev_check_sector_size(const struct ioe_dev *dev, uint32_t sector_size);

#endif /* DL_IOE_DEV_H */
