/* SPDX-License-Identifier: MIT */
/*
 * watchdog.c: the last line of enforcement. If the daemon hangs, or its
 * holders cannot be stopped, the host must reset before another host may
 * take its leases over. The device is armed with a timeout W no longer than
 * 2T of the smallest io_timeout in use, and petted only while every lockspace
 * that holds leases is within its act deadline (last counted renewal + 2T) and
 * no holder of a lease already lost is still running.
 * So the last pet is at most 2T after that renewal and the reset comes by
 * 4T < 4.25T, the time after which other hosts call this host dead
 * (docs/design.md). Without a device the daemon says so at start-up.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/log.h"
#include "banned.h"

#define WATCHDOG_TIMEOUT_DEFAULT_S 20u

int watchdog_open(struct dleased *dd)
{
	int timeout;

	dd->watchdog_fd = -1;
	if (!dd->cfg.watchdog) {
		dl_warn("no watchdog configured: if this daemon hangs, its holders are not stopped "
		        "(set watchdog = /dev/watchdog, e.g. with softdog)");
		return 0;
	}
	dd->watchdog_fd = open(dd->cfg.watchdog, O_WRONLY | O_CLOEXEC);
	if (dd->watchdog_fd < 0) {
		int rc = -errno;

		dl_err("watchdog %s: %s", dd->cfg.watchdog, strerror(-rc));
		return rc;
	}
	dd->watchdog_timeout_s = WATCHDOG_TIMEOUT_DEFAULT_S;
	timeout = (int)dd->watchdog_timeout_s;
	if (ioctl(dd->watchdog_fd, WDIOC_SETTIMEOUT, &timeout) < 0)
		dl_warn("watchdog %s: cannot set its timeout: %s", dd->cfg.watchdog,
		        strerror(errno));
	dl_info("watchdog %s armed, timeout %d s", dd->cfg.watchdog, timeout);
	return 0;
}

/* The timeout the lockspaces in use need: floor(2T) seconds of the smallest T, at least 1. */
static uint32_t watchdog_wanted_s(const struct dleased *dd)
{
	uint32_t want = WATCHDOG_TIMEOUT_DEFAULT_S;

	for (uint32_t i = 0; i < dd->space_count; i++) {
		uint64_t s = 2 * dd->spaces[i]->tm.io_timeout_ns / DL_NS_PER_SEC;

		want = DL_MIN(want, (uint32_t)DL_MAX(s, 1));
	}
	return want;
}

void watchdog_step(struct dleased *dd)
{
	uint64_t now = clock_now_ns(dd->clk);
	uint32_t want;

	if (dd->watchdog_fd < 0)
		return;
	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct lspace *ls = dd->spaces[i];

		if (lspace_has_leases(ls) && now >= ls->delta.act_until_ns)
			return; /* no pet: the reset comes unless a renewal counts */
		for (uint32_t k = 0; k < ls->res_count; k++) {
			const struct lres *lr = &ls->res[k];

			if (lr->inited && lr->state == LRES_LOST &&
			    holders_alive(lr->owner_pid, lr->owner_start))
				return; /* a holder of a lost lease still runs: no pet until it is
				           gone */
		}
	}
	want = watchdog_wanted_s(dd);
	if (want != dd->watchdog_timeout_s) {
		int timeout = (int)want;

		if (ioctl(dd->watchdog_fd, WDIOC_SETTIMEOUT, &timeout) == 0) {
			dd->watchdog_timeout_s = (uint32_t)timeout;
			dl_info("watchdog timeout now %d s", timeout);
		}
	}
	if (ioctl(dd->watchdog_fd, WDIOC_KEEPALIVE, 0) < 0 && write(dd->watchdog_fd, "1", 1) < 0)
		dl_warn("watchdog: cannot pet it: %s", strerror(errno));
}

void watchdog_close(struct dleased *dd, bool clean)
{
	if (dd->watchdog_fd < 0)
		return;
	/* the magic close disarms it; only after every lease is released */
	if (clean && write(dd->watchdog_fd, "V", 1) < 0)
		dl_warn("watchdog: magic close failed: %s", strerror(errno));
	close(dd->watchdog_fd);
	dd->watchdog_fd = -1;
}
