/* SPDX-License-Identifier: MIT */
/*
 * loop.c: the one event loop. Every wake-up source is a file descriptor in
 * one ppoll: the signalfd, the listening socket, the engine's completion
 * eventfd (io_uring or libaio), every connection, and the pidfd of every
 * process that holds a lease or registered. The poll timeout is the nearest
 * protocol deadline any state machine asked for. After each wake-up the
 * engine is reaped and every state machine is stepped, in layer order:
 * lockspaces (delta, resources, directory, scan), parked requests, holder
 * deadlines, the watchdog.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "banned.h"

#define LOOP_FDS_MAX     (4 + DLEASED_LOCKSPACES_MAX + 2 * DLEASED_CLIENTS_MAX + VALIDITY_SLOTS)
#define LOOP_MAX_WAIT_NS (100ull * DL_NS_PER_MS)

enum loop_fd_kind { FD_SIGNAL, FD_LISTEN, FD_IOE, FD_CLIENT, FD_CLIENT_PID, FD_HOLDER_PID };

struct loop_fd {
	enum loop_fd_kind kind;
	struct client *c;
	struct lres *lr;
};

static void loop_signals(struct dleased *dd)
{
	struct signalfd_siginfo si;

	while (read(dd->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (!dd->stopping)
				dl_info("signal %u: releasing every lease and leaving",
				        si.ssi_signo);
			dd->stopping = true;
			break;
		case SIGHUP:
			events_reopen_audit(dd);
			break;
		case SIGCHLD:
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			break;
		default:
			break;
		}
	}
}

/* When one lockspace's renewal is due, renew those due within T/4 with it (earlier is always
 * safe: validity counts from the submission), so their rounds share one submission. */
static void loop_align_renewals(struct dleased *dd)
{
	uint64_t now = clock_now_ns(dd->clk);
	bool due = false;

	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct delta *d = &dd->spaces[i]->delta;

		due |= d->state == DELTA_LIVE && !d->pending && d->next_renew_ns <= now;
	}
	if (!due)
		return;
	for (uint32_t i = 0; i < dd->space_count; i++) {
		struct delta *d = &dd->spaces[i]->delta;

		if (d->state == DELTA_LIVE && !d->pending && !d->leave_wanted &&
		    d->next_renew_ns <= now + d->tm->io_timeout_ns / 4)
			d->next_renew_ns = DL_MIN(d->next_renew_ns, now);
	}
}

static uint64_t loop_step(struct dleased *dd)
{
	uint64_t wake = 0, t;

	loop_align_renewals(dd);
	for (uint32_t i = 0; i < dd->space_count; i++) {
		t = lspace_step(dd->spaces[i]);
		if (t)
			wake = wake ? DL_MIN(wake, t) : t;
	}
	t = ops_step(dd);
	if (t)
		wake = wake ? DL_MIN(wake, t) : t;
	t = holders_step(dd);
	if (t)
		wake = wake ? DL_MIN(wake, t) : t;
	watchdog_step(dd);
	for (struct client *c = dd->clients, *next; c; c = next) {
		next = c->next;
		if (c->closing && c->out_len == 0)
			server_drop(dd, c);
	}
	return wake;
}

/* Stopping: release and leave every lockspace; true once all are gone. */
static bool loop_stopping(struct dleased *dd)
{
	for (uint32_t i = 0; i < dd->space_count; i++) {
		struct lspace *ls = dd->spaces[i];

		ls->auto_rejoin = false;
		if (ls->state == LS_LIVE)
			ls->state = LS_LEAVING;
		if (ls->state == LS_LEFT || ls->state == LS_FAILED ||
		    (ls->state == LS_LOST && lspace_holders_gone(ls))) {
			ops_forget_lspace(dd, ls);
			lspace_destroy(ls);
			return false; /* the array changed: look again next time */
		}
	}
	return dd->space_count == 0;
}

int loop_run(struct dleased *dd)
{
	static struct pollfd pfd[LOOP_FDS_MAX];
	static struct loop_fd what[LOOP_FDS_MAX];
	uint64_t stop_deadline = 0;

	for (;;) {
		uint64_t wake = loop_step(dd), now = clock_now_ns(dd->clk);
		struct timespec ts;
		nfds_t n = 0;
		int ioe_fd, rc;

		if (dd->stopping) {
			if (!stop_deadline) {
				uint64_t t = 0;

				for (uint32_t i = 0; i < dd->space_count; i++)
					t = DL_MAX(t, dd->spaces[i]->tm.io_timeout_ns);
				stop_deadline = now + 4 * t + DL_NS_PER_SEC;
			}
			if (loop_stopping(dd))
				return 0;
			if (now >= stop_deadline) {
				bool holders = false;

				for (uint32_t i = 0; i < dd->space_count; i++) {
					struct lspace *ls = dd->spaces[i];

					for (uint32_t k = 0; k < ls->res_count; k++)
						holders |= ls->res[k].inited &&
						           holders_alive(ls->res[k].owner_pid,
						                         ls->res[k].owner_start);
				}
				dl_warn("stopping: lockspaces did not leave in time; exiting anyway%s",
				        holders ? " with holders still running: the watchdog stays armed"
				                : "");
				while (dd->space_count)
					lspace_destroy(dd->spaces[0]);
				return holders ? -ETIMEDOUT : 0;
			}
		}
		pfd[n] = (struct pollfd){.fd = dd->signal_fd, .events = POLLIN};
		what[n++].kind = FD_SIGNAL;
		if (!dd->stopping) {
			pfd[n] = (struct pollfd){.fd = dd->listen_fd, .events = POLLIN};
			what[n++].kind = FD_LISTEN;
		}
		ioe_fd = ioe_event_fd(dd->ioe);
		if (ioe_fd >= 0) {
			pfd[n] = (struct pollfd){.fd = ioe_fd, .events = POLLIN};
			what[n++].kind = FD_IOE;
		}
		for (struct client *c = dd->clients; c && n + 2 < LOOP_FDS_MAX; c = c->next) {
			pfd[n] = (struct pollfd){.fd = c->fd,
			                         .events = (short)((c->closing ? 0 : POLLIN) |
			                                           (c->out_len ? POLLOUT : 0))};
			what[n].kind = FD_CLIENT;
			what[n++].c = c;
			if (c->reg_pidfd >= 0) {
				pfd[n] = (struct pollfd){.fd = c->reg_pidfd, .events = POLLIN};
				what[n].kind = FD_CLIENT_PID;
				what[n++].c = c;
			}
		}
		for (uint32_t i = 0; i < dd->space_count; i++) {
			struct lspace *ls = dd->spaces[i];

			for (uint32_t k = 0; k < ls->res_count && n < LOOP_FDS_MAX; k++) {
				struct lres *lr = &ls->res[k];

				if (!lr->inited || lr->owner_pidfd < 0 || lr->state != LRES_HELD ||
				    lr->release_wanted)
					continue;
				pfd[n] = (struct pollfd){.fd = lr->owner_pidfd, .events = POLLIN};
				what[n].kind = FD_HOLDER_PID;
				what[n++].lr = lr;
			}
		}
		if (!wake || wake > now + LOOP_MAX_WAIT_NS)
			wake = now + LOOP_MAX_WAIT_NS;
		wake = wake > now ? wake - now : 0;
		ts.tv_sec = (time_t)(wake / DL_NS_PER_SEC);
		ts.tv_nsec = (long)(wake % DL_NS_PER_SEC);
		ioe_flush(dd->ioe); /* every round this pass made: one io_uring_enter */
		rc = ppoll(pfd, n, &ts, NULL);
		if (rc < 0 && errno != EINTR) {
			dl_err("ppoll: %s", strerror(errno));
			return -errno;
		}
		ioe_poll(dd->ioe, 0);
		for (nfds_t i = 0; rc > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			switch (what[i].kind) {
			case FD_SIGNAL:
				loop_signals(dd);
				break;
			case FD_LISTEN:
				server_accept(dd);
				break;
			case FD_IOE:
				break;
			case FD_CLIENT:
				server_client_io(dd, what[i].c, pfd[i].revents);
				break;
			case FD_CLIENT_PID:
				/* the registered process exited: its leases go at once */
				dl_info("registered pid %d exited", (int)what[i].c->reg_pid);
				server_client_exited(dd, what[i].c);
				close(what[i].c->reg_pidfd);
				what[i].c->reg_pidfd = -1;
				break;
			case FD_HOLDER_PID:
				what[i].lr->release_wanted = true;
				break;
			}
		}
	}
}
