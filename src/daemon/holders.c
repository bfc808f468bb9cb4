/* SPDX-License-Identifier: MIT */
/*
 * holders.c: the local processes that hold leases. Each is tracked by a
 * pidfd (its exit releases its leases at once) and its start time (a reused
 * pid is never mistaken for it). When a lease must end without the holder's
 * consent (the lockspace's renewals failed, or a force request), the holder
 * gets SIGTERM, or the configured kill_command, and SIGKILL at the kill
 * deadline. RUN_DIR/holders lists them, so a daemon restarted after a crash
 * stops what its predecessor left running before it joins again.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "banned.h"

uint64_t holders_proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return 0;
	/* fields after the name: state(3) ... starttime(22) */
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start;
}

bool holders_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && holders_proc_start(pid) == start && start != 0;
}

void holders_detach(struct dleased *dd, struct lres *lr)
{
	if (lr->owner_pidfd >= 0)
		close(lr->owner_pidfd);
	lr->owner_pidfd = -1;
	lr->owner_pid = 0;
	lr->owner_start = 0;
	lr->owner = NULL;
	lr->term_at_ns = 0;
	lr->kill_at_ns = 0;
	lr->stop_for_force = false;
	validity_free(dd, lr->vslot);
	lr->vslot = -1;
	holders_save(dd);
}

static void holders_signal(struct lres *lr, int sig)
{
	if (lr->owner_pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, lr->owner_pidfd, sig, NULL, 0) == 0)
		return;
	if (holders_alive(lr->owner_pid, lr->owner_start))
		kill(lr->owner_pid, sig);
}

static void holders_run_kill_command(struct dleased *dd, struct lspace *ls, struct lres *lr)
{
	char pid[24];
	pid_t child;

	char cmd[4200];

	snprintf(pid, sizeof(pid), "%d", (int)lr->owner_pid);
	snprintf(cmd, sizeof(cmd), "%s \"$1\" \"$2\" \"$3\"", dd->cfg.kill_command);
	child = fork();
	if (child == 0) {
		execl("/bin/sh", "sh", "-c", cmd, "sh", ls->name, lr->name, pid, (char *)NULL);
		_exit(127);
	}
	if (child < 0)
		dl_err("kill_command: fork: %s", strerror(errno));
}

void holders_stop(struct dleased *dd, struct lspace *ls, struct lres *lr, uint64_t kill_at_ns,
                  const char *why)
{
	if (lr->term_at_ns)
		return;
	lr->term_at_ns = clock_now_ns(dd->clk);
	lr->kill_at_ns = kill_at_ns;
	if (lr->owner_pid <= 0 || !holders_alive(lr->owner_pid, lr->owner_start))
		return;
	dl_warn("%s/%s: stopping holder pid %d: %s", ls->name, lr->name, (int)lr->owner_pid, why);
	dd->metrics.holders_killed++;
	if (dd->cfg.kill_command)
		holders_run_kill_command(dd, ls, lr);
	else
		holders_signal(lr, SIGTERM);
}

uint64_t holders_step(struct dleased *dd)
{
	uint64_t now = clock_now_ns(dd->clk), wake = 0;

	for (uint32_t i = 0; i < dd->space_count; i++) {
		struct lspace *ls = dd->spaces[i];

		for (uint32_t k = 0; k < ls->res_count; k++) {
			struct lres *lr = &ls->res[k];

			if (!lr->kill_at_ns || lr->owner_pid <= 0)
				continue;
			if (now >= lr->kill_at_ns) {
				if (holders_alive(lr->owner_pid, lr->owner_start)) {
					dl_warn("%s/%s: SIGKILL to holder pid %d", ls->name,
					        lr->name, (int)lr->owner_pid);
					holders_signal(lr, SIGKILL);
				}
				lr->kill_at_ns = 0;
			} else {
				wake = wake ? DL_MIN(wake, lr->kill_at_ns) : lr->kill_at_ns;
			}
		}
	}
	return wake;
}

void holders_save(struct dleased *dd)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", dd->path_holders);
	f = fopen(tmp, "we");
	if (!f) {
		dl_warn("%s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "# pid start lockspace resource: processes holding leases of this daemon\n");
	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct lspace *ls = dd->spaces[i];

		for (uint32_t k = 0; k < ls->res_count; k++) {
			const struct lres *lr = &ls->res[k];

			if (lr->inited && lr->owner_pid > 0)
				fprintf(f, "%d %" PRIu64 " %s %s\n", (int)lr->owner_pid,
				        lr->owner_start, ls->name, lr->name);
		}
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		dl_warn("%s: %s", tmp, strerror(errno));
	fclose(f);
	if (rename(tmp, dd->path_holders) < 0)
		dl_warn("%s: %s", dd->path_holders, strerror(errno));
}

int holders_reap_previous(struct dleased *dd)
{
	char line[512];
	int count = 0;
	FILE *f = fopen(dd->path_holders, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		int pid;
		unsigned long long start;

		if (line[0] == '#' || sscanf(line, "%d %llu", &pid, &start) != 2)
			continue;
		if (!holders_alive(pid, start))
			continue;
		dl_warn("a previous dleased left pid %d holding a lease: SIGKILL", pid);
		kill(pid, SIGKILL);
		count++;
		for (int i = 0; i < 500 && holders_alive(pid, start); i++)
			usleep(10000);
	}
	fclose(f);
	return count;
}
