/* SPDX-License-Identifier: MIT */
/*
 * ioe.c: choosing an engine and the thin dispatch in front of its vtable.
 * ioe_create() picks the engine (IOE_AUTO: DLEASE_IO_ENGINE, else io_uring,
 * else libaio when io_uring cannot be set up, e.g. -EPERM from
 * kernel.io_uring_disabled or a seccomp filter, -ENOSYS on an old kernel),
 * writes the reason into e->why and logs it at info level. ioe_run() is the
 * synchronous helper: submit, then poll until the batch is finished; the batch
 * deadline bounds the wait. This file owns no I/O and no state of its own.
 */
#include "base/compat.h"
#include "io/ioe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

/*
 * ioe_run() polls until the deadline; each real poll sleeps until a completion
 * or the deadline, each simulated poll (auto-advance) moves virtual time to the
 * next event, so a batch finishes in at most a few polls per request. The cap
 * only catches an engine whose time never moves (a simulator clock without
 * auto-advance driven by ioe_run), which is a programmer error.
 */
#define IOE_RUN_POLLS_MAX (1u << 24)

static const char *ioe_kind_label(enum ioe_kind kind)
{
	switch (kind) {
	case IOE_URING:
		return "io_uring";
	case IOE_AIO:
		return "libaio";
	case IOE_SIM:
		return "sim";
	case IOE_AUTO:
		break;
	}
	return "auto";
}

int ioe_kind_parse(const char *s, enum ioe_kind *out)
{
	static const struct {
		const char *name;
		enum ioe_kind kind;
	} kinds[] = {
	        {"auto", IOE_AUTO},
	        {"uring", IOE_URING},
	        {"aio", IOE_AIO},
	        {"sim", IOE_SIM},
	};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < DL_ARRAY_SIZE(kinds); i++) {
		if (!strcmp(s, kinds[i].name)) {
			*out = kinds[i].kind;
			return 0;
		}
	}
	return -EINVAL;
}

static int ioe_create_kind(const struct ioe_config *cfg, enum ioe_kind kind, struct ioe **out)
{
	switch (kind) {
	case IOE_URING:
		return ioe_uring_create(cfg, out);
	case IOE_AIO:
		return ioe_aio_create(cfg, out);
	case IOE_SIM:
		return ioe_sim_create(cfg, out);
	case IOE_AUTO:
		break;
	}
	return -EINVAL;
}

/* IOE_AUTO without an override: io_uring, else libaio with the reason io_uring failed. */
static int ioe_create_auto(const struct ioe_config *cfg, struct ioe **out, char *why,
                           size_t why_size)
{
	int rc;

	rc = ioe_uring_create(cfg, out);
	if (rc == 0) {
		snprintf(why, why_size, "io_uring (default)");
		return 0;
	}
	dl_info("ioe: io_uring_queue_init failed: %s; trying libaio", strerror(-rc));
	snprintf(why, why_size, "libaio: io_uring_queue_init failed: %s", strerror(-rc));
	return ioe_aio_create(cfg, out);
}

int ioe_create(const struct ioe_config *cfg, struct ioe **out)
{
	const char *env = getenv("DLEASE_IO_ENGINE");
	enum ioe_kind kind = cfg->kind;
	char why[sizeof(((struct ioe *)0)->why)];
	int rc;

	*out = NULL;
	if (kind == IOE_AUTO && env && *env) {
		if (ioe_kind_parse(env, &kind) < 0) {
			dl_err("ioe: DLEASE_IO_ENGINE=%s: expected uring, aio, sim or auto", env);
			return -EINVAL;
		}
	}
	if (kind == IOE_AUTO) {
		rc = ioe_create_auto(cfg, out, why, sizeof(why));
	} else {
		if (cfg->kind == IOE_AUTO)
			snprintf(why, sizeof(why), "%s: DLEASE_IO_ENGINE=%s", ioe_kind_label(kind),
			         env);
		else
			snprintf(why, sizeof(why), "%s: requested by configuration",
			         ioe_kind_label(kind));
		rc = ioe_create_kind(cfg, kind, out);
	}
	if (rc < 0) {
		dl_err("ioe: no I/O engine (%s): %s", why, strerror(-rc));
		return rc;
	}
	snprintf((*out)->why, sizeof((*out)->why), "%s", why);
	dl_info("ioe: engine %s, %s", ioe_name(*out), why);
	return 0;
}

void ioe_destroy(struct ioe *e)
{
	if (!e)
		return;
	e->ops->destroy(e);
}

const char *ioe_name(const struct ioe *e)
{
	return e->ops->name;
}

const char *ioe_why(const struct ioe *e)
{
	return e->why;
}

int ioe_disk_add(struct ioe *e, int fd, uint32_t sector_size)
{
	return e->ops->disk_add(e, fd, sector_size);
}

int ioe_submit(struct ioe *e, struct ioe_batch *batch)
{
	DL_ASSERT(batch->reqs || batch->req_count == 0);
	return e->ops->submit(e, batch);
}

int ioe_poll(struct ioe *e, uint64_t wait_until_ns)
{
	return e->ops->poll(e, wait_until_ns);
}

bool ioe_write_pending(struct ioe *e, uint32_t disk_index, uint64_t offset, uint32_t len)
{
	return e->ops->write_pending ? e->ops->write_pending(e, disk_index, offset, len) : false;
}

void ioe_disk_remove(struct ioe *e, uint32_t disk_index)
{
	if (e->ops->disk_remove)
		e->ops->disk_remove(e, disk_index);
}

void ioe_flush(struct ioe *e)
{
	if (e->ops->flush)
		e->ops->flush(e);
}

int ioe_event_fd(struct ioe *e)
{
	return e->ops->event_fd(e);
}

int ioe_run(struct ioe *e, struct ioe_batch *batch)
{
	uint32_t poll_index, poll_errors = 0;
	int rc;

	rc = ioe_submit(e, batch);
	if (rc < 0)
		return rc;
	for (poll_index = 0; !batch->finished && poll_index < IOE_RUN_POLLS_MAX; poll_index++) {
		/* A failing wait still expires the batch at its deadline; say so once. */
		rc = ioe_poll(e, batch->deadline_ns);
		if (rc < 0 && poll_errors++ == 0)
			dl_warn("ioe: %s poll failed: %s", ioe_name(e), strerror(-rc));
	}
	/* The batch's memory is the caller's; returning early would let it go while in flight. */
	DL_ASSERT(batch->finished);
	return 0;
}
