/* SPDX-License-Identifier: MIT */
/*
 * directory.h: names for resources, kept on disk in the lockspace's
 * directory table (docs/format.md) so users name resources instead of
 * computing offsets. Lookups read the table without any lease; create and
 * delete hold the directory's own Paxos lease (a struct resource on
 * LAYOUT_DIRECTORY) while they change it, so the table has one writer at a
 * time. A state machine over rounds, like delta.h and resource.h.
 *
 *   IDLE -> LOCK (acquire the directory lease) -> READ (the table) ->
 *        [delete: CHECK (the resource's leader: not held)] ->
 *        WRITE (one directory sector) -> UNLOCK (release) -> IDLE
 *   lookup: IDLE -> READ -> IDLE
 *
 * Each sector's copies are judged like any record: the freshest valid copy
 * (highest directory version in hdr.seq) among a majority of answering disks.
 */
#ifndef DL_DIRECTORY_H
#define DL_DIRECTORY_H

#include "base/compat.h"
#include "lease/resource.h"

enum directory_op {
	DIR_OP_NONE = 0,
	DIR_OP_LOOKUP,
	DIR_OP_CREATE,
	DIR_OP_DELETE,
};

enum directory_state {
	DIR_IDLE = 0,
	DIR_LOCK,
	DIR_READ,
	DIR_CHECK,
	DIR_WRITE,
	DIR_UNLOCK,
	DIR_FAILED,
};

struct directory {
	struct space *space;
	const struct timing *tm;
	const struct clock *clk;
	struct delta *self;
	struct resource lease; /* the directory lease */
	enum directory_op op;
	enum directory_state state;
	int error;
	char why[160];
	char name[ONDISK_NAME_SIZE + 1];
	uint32_t index;   /* result: the resource index of name */
	bool existed;     /* create: the name was already there */
	uint64_t version; /* highest directory version seen */
	struct round round;
	uint8_t *rbuf;                    /* per disk: the whole table */
	uint8_t *wbuf;                    /* per disk: one sector */
	struct ondisk_dirent_sector *sec; /* decoded sector being changed */
	bool table_ok[IOE_DISKS_MAX];     /* disks that answered the last table read */
	bool pending;
};

int directory_init(struct directory *d, struct space *space, struct ioe *ioe,
                   const struct timing *tm, const struct clock *clk, struct delta *self);
void directory_free(struct directory *d);

/* Start an operation on name (1..48 printable bytes). Returns 0, -EINVAL, -EALREADY, or
 * -ENOLINK (create/delete need a live host lease). Done at IDLE (index) or FAILED (error):
 * lookup -ENOENT; create -ENOSPC (table full); delete -ENOENT, -EBUSY (held). */
int directory_lookup(struct directory *d, const char *name);
int directory_create(struct directory *d, const char *name);
int directory_delete(struct directory *d, const char *name);
uint64_t directory_step(struct directory *d);
/* After a lookup (any name) finished: call fn for every used entry of the table it read.
 * Returns 0, -EIO (a damaged sector hid part of the table), -EALREADY (an op runs). */
int directory_each(struct directory *d, void (*fn)(const char *name, uint32_t index, void *ctx),
                   void *ctx);

#endif /* DL_DIRECTORY_H */
