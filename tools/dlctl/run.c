/* SPDX-License-Identifier: MIT */
/*
 * run.c: `dlctl run --lockspace LS --resource R [--wait SEC] [--grace SEC]
 * -- COMMAND...` -- run COMMAND only while this host holds the lease.
 *
 * dlctl registers (the lease is dlctl's: if dlctl dies, the daemon releases
 * it), watches the resource, acquires (waiting --wait seconds, default: try
 * once), then forks COMMAND with DLEASE_TOKEN, DLEASE_RESOURCE,
 * DLEASE_LOCKSPACE, DLEASE_HOST_ID and DLEASE_RUN_DIR in its environment. The
 * child dies with dlctl (PR_SET_PDEATHSIG SIGKILL, set before exec, with the
 * getppid() check for a parent that died first).
 *
 * Supervision: one poll over a signalfd, both daemon connections and a
 * 100 ms timer. COMMAND is stopped -- SIGTERM, then SIGKILL after --grace
 * (default 2 s) -- when any of these happens:
 *   - a `lost` event for the lease;
 *   - dlease_valid() says no (checked at every wake, at least every 100 ms):
 *     the daemon froze or its renewals failed and the deadline passed;
 *   - a daemon connection closes (the daemon died: its holders must stop);
 *   - a `request` event for our token: the lease is handed over (released
 *     once COMMAND is gone).
 * SIGTERM, SIGINT and SIGHUP sent to dlctl are forwarded to COMMAND (only to
 * COMMAND: it stays in dlctl's process group, so it keeps the terminal).
 *
 * Exit status: COMMAND's own (128+N when killed by signal N) when it ended
 * while the lease was valid, after the lease is released; 75 (EX_TEMPFAIL)
 * when COMMAND was stopped because the lease was lost, ran out or was
 * requested -- the cause is printed on stderr; 1 when the lease was not
 * acquired; 2 for a bad command line; 126/127 from the child when COMMAND
 * cannot be executed.
 */
#include "base/compat.h"
#include "dlctl.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "banned.h"

#define RUN_EXIT_LOST 75
#define RUN_CHECK_MS  100
#define RUN_WHY_SIZE  320

struct run {
	struct dlctl_args a;
	char **cmd;
	struct dlease *h; /* registered: acquire, release */
	struct dlease *w; /* watching the resource */
	struct dlease_lease lease;
	sigset_t sigs;
	int sfd;
	pid_t child;
	bool child_done;
	int child_status;
	bool stopping; /* the lease is gone: COMMAND is being stopped */
	bool requested;
	char why[RUN_WHY_SIZE];
	uint64_t kill_at_ms; /* SIGKILL due (0: not yet) */
};

static uint64_t run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The lease is gone (or asked for): stop COMMAND, once. */
static void run_stop(struct run *r, bool requested, const char *fmt, ...) DL_PRINTF(3, 4);
static void run_stop(struct run *r, bool requested, const char *fmt, ...)
{
	va_list ap;

	if (r->stopping || r->child_done)
		return;
	r->stopping = true;
	r->requested = requested;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	dlctl_err("%s: sending SIGTERM to %s (pid %d), SIGKILL in %.1f s", r->why, r->cmd[0],
	          (int)r->child, r->a.grace_ms / 1000.0);
	kill(r->child, SIGTERM);
	r->kill_at_ms = run_now_ms() + r->a.grace_ms;
}

static void run_child(struct run *r, pid_t parent)
{
	char num[32];

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127); /* dlctl died before the death signal was armed */
	sigprocmask(SIG_UNBLOCK, &r->sigs, NULL);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->lease.token);
	setenv("DLEASE_TOKEN", num, 1);
	snprintf(num, sizeof(num), "%u", r->lease.host_id);
	setenv("DLEASE_HOST_ID", num, 1);
	setenv("DLEASE_LOCKSPACE", r->lease.lockspace, 1);
	setenv("DLEASE_RESOURCE", r->lease.resource, 1);
	setenv("DLEASE_RUN_DIR", dlease_run_dir(r->h), 1);
	execvp(r->cmd[0], r->cmd);
	dlctl_err("cannot run %s: %s", r->cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Register, watch, acquire and check the validity page. 0 or DLCTL_EXIT_FAIL (printed). */
static int run_acquire(struct run *r)
{
	const char *ls = r->a.lockspace, *res = r->a.resource;
	int rc;

	if (dlctl_connect(r->a.run_dir, &r->h) < 0 || dlctl_connect(r->a.run_dir, &r->w) < 0)
		return DLCTL_EXIT_FAIL;
	rc = dlease_register(r->h, 0);
	if (rc < 0)
		return dlctl_daemon_err(r->h, rc, "register failed");
	rc = dlease_watch(r->w, DLEASE_SEQ_NOW, ls, res, NULL);
	if (rc < 0)
		return dlctl_daemon_err(r->w, rc, "watch %s/%s failed", ls, res);
	rc = dlease_acquire(r->h, ls, res, r->a.have_wait ? (int64_t)r->a.wait_ms : 0,
	                    DLEASE_ACQUIRE_CREATE, 0, &r->lease);
	if (rc < 0)
		return dlctl_daemon_err(r->h, rc, "acquire %s/%s failed", ls, res);
	if (!dlease_valid(r->h, &r->lease, NULL)) {
		dlctl_err(
		        "acquired %s/%s (token %llu) but the validity page says it may not act%s%s",
		        ls, res, (unsigned long long)r->lease.token,
		        dlease_last_error(r->h)[0] ? ": " : "", dlease_last_error(r->h));
		dlease_release(r->h, ls, res);
		return DLCTL_EXIT_FAIL;
	}
	return 0;
}

static void run_signals(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int sig = (int)si.ssi_signo;

		if (sig != SIGCHLD && !r->child_done)
			kill(r->child, sig); /* forward TERM, INT, HUP */
	}
	if (!r->child_done && waitpid(r->child, &r->child_status, WNOHANG) == r->child)
		r->child_done = true;
}

/* Drain the events of one connection; a closed connection means the daemon is gone. */
static void run_events(struct run *r, struct dlease *h)
{
	struct dlease_event ev;
	int rc;

	while ((rc = dlease_next_event(h, &ev, 0)) == 0) {
		if (strcmp(ev.lockspace, r->lease.lockspace) ||
		    strcmp(ev.resource, r->lease.resource))
			continue;
		if (ev.kind == DLEASE_EVENT_LOST)
			run_stop(r, false, "lease %s/%s lost (%s)", ev.lockspace, ev.resource,
			         ev.reason[0] ? ev.reason : "no reason given");
		else if (ev.kind == DLEASE_EVENT_REQUEST &&
		         (ev.token == 0 || ev.token == r->lease.token))
			run_stop(r, true, "host %llu requests lease %s/%s, handing it over",
			         (unsigned long long)ev.new_host_id, ev.lockspace, ev.resource);
	}
	if (rc == -ECONNRESET)
		run_stop(
		        r, false,
		        "dleased closed the connection (it stopped or died): its leases end with it");
	else if (rc != -EAGAIN)
		run_stop(r, false, "lost contact with dleased (%s): its leases end with it",
		         dlease_last_error(h)[0] ? dlease_last_error(h) : dlease_strerror(rc));
}

/* Supervise until COMMAND has exited. */
static void run_loop(struct run *r)
{
	while (!r->child_done) {
		struct pollfd p[3] = {
		        {.fd = r->sfd, .events = POLLIN},
		        {.fd = dlease_fd(r->h), .events = POLLIN},
		        {.fd = dlease_fd(r->w), .events = POLLIN},
		};
		int timeout = RUN_CHECK_MS;
		uint64_t now = run_now_ms();

		if (r->kill_at_ms)
			timeout = now >= r->kill_at_ms ? 0
			                               : (int)DL_MIN(r->kill_at_ms - now,
			                                             (uint64_t)RUN_CHECK_MS);
		poll(p, 3, timeout); /* fds of closed connections are -1: poll skips them */
		run_signals(r);
		if (r->child_done)
			break;
		if (p[1].fd >= 0)
			run_events(r, r->h);
		if (p[2].fd >= 0)
			run_events(r, r->w);
		if (!r->stopping && !dlease_valid(r->h, &r->lease, NULL))
			run_stop(
			        r, false,
			        "lease %s/%s is no longer valid (renewals failed or dleased froze)",
			        r->lease.lockspace, r->lease.resource);
		if (r->kill_at_ms && run_now_ms() >= r->kill_at_ms) {
			dlctl_err("%s (pid %d) outlived the %.1f s grace: SIGKILL", r->cmd[0],
			          (int)r->child, r->a.grace_ms / 1000.0);
			kill(r->child, SIGKILL);
			r->kill_at_ms = 0;
		}
	}
}

static int run_finish(struct run *r)
{
	int st = r->child_status, rc;

	/* COMMAND may have died of a signal the daemon sent us (it stops holders at shutdown,
	 * leave --force or a force request, and we forward): if the lease ended meanwhile,
	 * that is a loss, not COMMAND's own exit */
	if (!r->stopping && !dlease_valid(r->h, &r->lease, NULL)) {
		r->stopping = true;
		snprintf(r->why, sizeof(r->why), "lease %s/%s ended while %s ran",
		         r->lease.lockspace, r->lease.resource, r->cmd[0]);
	}
	if (!r->stopping || r->requested) {
		rc = dlease_release(r->h, r->lease.lockspace, r->lease.resource);
		if (rc < 0)
			dlctl_daemon_err(r->h, rc, "release %s/%s failed", r->lease.lockspace,
			                 r->lease.resource);
	}
	if (r->stopping) {
		dlctl_err("%s stopped: %s", r->cmd[0], r->why);
		return RUN_EXIT_LOST;
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int dlctl_run(int argc, char **argv)
{
	struct run r = {.sfd = -1};
	pid_t parent;
	int rc;

	if (dlctl_args_parse(argc, argv,
	                     DLCTL_OPT_LOCKSPACE | DLCTL_OPT_RESOURCE | DLCTL_OPT_WAIT |
	                             DLCTL_OPT_GRACE | DLCTL_OPT_STOP_AT_ARG,
	                     &r.a) < 0 ||
	    dlctl_need("run", "--lockspace", r.a.lockspace) < 0 ||
	    dlctl_need("run", "--resource", r.a.resource) < 0 ||
	    dlctl_need("run", "-- COMMAND...", optind < argc ? argv[optind] : NULL) < 0)
		return dlctl_usage("run");
	r.cmd = argv + optind;
	rc = run_acquire(&r);
	if (rc)
		goto out_close;
	sigemptyset(&r.sigs);
	sigaddset(&r.sigs, SIGCHLD);
	sigaddset(&r.sigs, SIGTERM);
	sigaddset(&r.sigs, SIGINT);
	sigaddset(&r.sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &r.sigs, NULL);
	r.sfd = signalfd(-1, &r.sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.sfd < 0) {
		rc = dlctl_daemon_err(NULL, -errno, "signalfd");
		goto out_release;
	}
	fflush(NULL);
	parent = getpid();
	r.child = fork();
	if (r.child < 0) {
		rc = dlctl_daemon_err(NULL, -errno, "fork");
		goto out_release;
	}
	if (r.child == 0)
		run_child(&r, parent);
	run_loop(&r);
	rc = run_finish(&r);
	goto out_close;
out_release:
	dlease_release(r.h, r.lease.lockspace, r.lease.resource);
out_close:
	if (r.sfd >= 0)
		close(r.sfd);
	dlease_close(r.w);
	dlease_close(r.h);
	return rc;
}
