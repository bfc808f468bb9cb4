/* SPDX-License-Identifier: MIT */
/*
 * main.c: dleased, one per host. Parses the command line and the config,
 * takes the run directory (lock, pid file, socket, validity page), derives
 * this host's identity (name, a uuid stable per machine and name, the boot
 * id), stops whatever a crashed predecessor left holding leases, joins the
 * configured lockspaces and runs the event loop until SIGTERM, after which
 * every lease is released and every lockspace left.
 *
 *   dleased --run-dir DIR [--host-name NAME] [--config FILE] [--foreground]
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/log.h"
#include "banned.h"

#define DLEASED_DEFAULT_CONFIG "/etc/dlease/dleased.conf"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: dleased --run-dir DIR [--host-name NAME] [--config FILE] [--foreground]\n"
	        "       dleased --version\n"
	        "One dleased per host: keeps this host's leases alive on shared storage and stops\n"
	        "local holders before another host may take them over. See dleased(8).\n");
}

static int read_text(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	return 0;
}

/* host uuid: a digest of the machine id and the host name; boot id: the kernel's. */
static void identity(struct dleased *dd)
{
	char machine[128] = "", boot[128] = "", key[256];
	XXH128_hash_t h;
	uint32_t k = 0;

	if (read_text("/etc/machine-id", machine, sizeof(machine)) < 0)
		gethostname(machine, sizeof(machine) - 1);
	snprintf(key, sizeof(key), "dlease:%s:%s", machine, dd->cfg.host_name);
	h = XXH3_128bits(key, strlen(key));
	memcpy(dd->host_uuid, &h.low64, 8);
	memcpy(dd->host_uuid + 8, &h.high64, 8);
	if (read_text("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) == 0) {
		for (const char *p = boot; *p && k < 2 * ONDISK_UUID_SIZE; p++) {
			int v = *p >= '0' && *p <= '9'   ? *p - '0'
			        : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
			                                 : -1;

			if (v < 0)
				continue;
			dd->boot_id[k / 2] = (uint8_t)(dd->boot_id[k / 2] << 4 | v);
			k++;
		}
	}
}

/* "<hostname>-<8 hex digits of the machine id>": stable across restarts, and two machines
 * cloned with the same host name still differ unless their machine ids do not. */
static void default_host_name(struct dleased *dd)
{
	char host[65] = "", machine[128] = "";

	gethostname(host, sizeof(host) - 1);
	if (read_text("/etc/machine-id", machine, sizeof(machine)) < 0 || strlen(machine) < 8)
		snprintf(machine, sizeof(machine), "00000000");
	snprintf(dd->cfg.host_name, sizeof(dd->cfg.host_name), "%.55s-%.8s",
	         host[0] ? host : "host", machine);
}

static int mkdir_p(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int take_run_dir(struct dleased *dd)
{
	char pid[32] = "";
	int rc = mkdir_p(dd->run_dir);

	if (rc < 0) {
		fprintf(stderr, "dleased: run directory %s: %s\n", dd->run_dir, strerror(-rc));
		return rc;
	}
	snprintf(dd->path_sock, sizeof(dd->path_sock), "%s/dleased.sock", dd->run_dir);
	snprintf(dd->path_pid, sizeof(dd->path_pid), "%s/dleased.pid", dd->run_dir);
	snprintf(dd->path_lock, sizeof(dd->path_lock), "%s/dleased.lock", dd->run_dir);
	snprintf(dd->path_validity, sizeof(dd->path_validity), "%s/validity", dd->run_dir);
	snprintf(dd->path_holders, sizeof(dd->path_holders), "%s/holders", dd->run_dir);
	dd->lock_fd = open(dd->path_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (dd->lock_fd < 0) {
		rc = -errno;
		fprintf(stderr, "dleased: %s: %s\n", dd->path_lock, strerror(-rc));
		return rc;
	}
	if (flock(dd->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		read_text(dd->path_pid, pid, sizeof(pid));
		fprintf(stderr, "dleased: another dleased (pid %s) runs with --run-dir %s\n",
		        pid[0] ? pid : "?", dd->run_dir);
		return -EBUSY;
	}
	return 0;
}

static int write_pid(struct dleased *dd)
{
	char line[32];
	int fd = open(dd->path_pid, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());

	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

static int setup_signals(struct dleased *dd)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	dd->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return dd->signal_fd < 0 ? -errno : 0;
}

/* Fork into the background; the parent exits once the child says it is ready (0) or not. */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c = 1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void ready(int *ready_fd, char status)
{
	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) != 1)
		dl_warn("cannot tell the parent we started");
	close(*ready_fd);
	*ready_fd = -1;
	if (status == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			close(null);
		}
	}
}

static int start(struct dleased *dd)
{
	char why[300];
	int rc;

	rc = ioe_create(&(struct ioe_config){.kind = dd->cfg.engine, .defer_submit = true},
	                &dd->ioe);
	if (rc < 0) {
		dl_err("no I/O engine can run here: %s", strerror(-rc));
		return rc;
	}
	dl_info("I/O engine %s (%s)", ioe_name(dd->ioe), ioe_why(dd->ioe));
	rc = validity_open(dd);
	if (rc < 0) {
		dl_err("validity page %s: %s", dd->path_validity, strerror(-rc));
		return rc;
	}
	snprintf(why, sizeof(why), "%s/audit.jsonl", dd->run_dir);
	rc = events_open_audit(dd, dd->cfg.audit_log ? dd->cfg.audit_log : why);
	if (rc < 0) {
		dl_err("audit log %s: %s", dd->cfg.audit_log ? dd->cfg.audit_log : why,
		       strerror(-rc));
		return rc;
	}
	rc = watchdog_open(dd);
	if (rc < 0)
		return rc;
	rc = holders_reap_previous(dd);
	if (rc > 0)
		dl_warn("stopped %d process(es) a previous dleased left holding leases", rc);
	holders_save(dd);
	rc = server_listen(dd);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < dd->cfg.space_count; i++) {
		const struct config_space *cs = &dd->cfg.spaces[i];
		struct lspace *ls;

		if (!cs->host_id)
			continue;
		rc = lspace_open(dd, (const char *const *)cs->disks, cs->disk_count, cs->host_id,
		                 &ls, why, sizeof(why));
		if (rc < 0)
			dl_err("lockspace %s from the config: %s", cs->name, why);
		else if (strcmp(ls->name, cs->name) != 0)
			dl_warn("config section [lockspace %s]: its disks hold lockspace %s",
			        cs->name, ls->name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"run-dir", required_argument, NULL, 'r'},
	                                     {"host-name", required_argument, NULL, 'n'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"foreground", no_argument, NULL, 'f'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	static struct dleased dd;
	const char *config = NULL, *host_name = NULL;
	bool foreground = false;
	int ready_fd = -1, rc, o;
	char why[512];

	dd.run_dir = getenv("DLEASE_RUN_DIR") ? getenv("DLEASE_RUN_DIR") : "/run/dlease";
	while ((o = getopt_long(argc, argv, "r:n:c:fVh", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			dd.run_dir = optarg;
			break;
		case 'n':
			host_name = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'V':
			printf("dleased %s\n", DLEASED_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "dleased: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	config_defaults(&dd.cfg);
	if (config || access(DLEASED_DEFAULT_CONFIG, F_OK) == 0) {
		rc = config_load(&dd.cfg, config ? config : DLEASED_DEFAULT_CONFIG, why,
		                 sizeof(why));
		if (rc < 0) {
			fprintf(stderr, "dleased: config: %s\n", why);
			return 2;
		}
	}
	if (host_name) {
		if (!*host_name || strlen(host_name) > ONDISK_HOST_NAME_SIZE) {
			fprintf(stderr, "dleased: --host-name must be 1..%u bytes\n",
			        ONDISK_HOST_NAME_SIZE);
			return 2;
		}
		snprintf(dd.cfg.host_name, sizeof(dd.cfg.host_name), "%s", host_name);
	}
	if (!dd.cfg.host_name[0])
		default_host_name(&dd);
	if (!getenv("DLEASE_LOG"))
		dl_log_set_level((enum dl_log_level)dd.cfg.log_level);
	dd.listen_fd = dd.signal_fd = dd.validity_fd = dd.watchdog_fd = dd.audit_fd = -1;
	dd.next_seq = 1;
	dd.clk = clock_real();
	dd.start_ns = clock_now_ns(dd.clk);
	identity(&dd);
	if (take_run_dir(&dd) < 0)
		return 1;
	if (!foreground && daemonize(&ready_fd) < 0) {
		fprintf(stderr, "dleased: cannot fork: %s\n", strerror(errno));
		return 1;
	}
	if (write_pid(&dd) < 0 || setup_signals(&dd) < 0 || start(&dd) < 0) {
		ready(&ready_fd, 1);
		return 1;
	}
	dl_info("dleased %s: host %s, run directory %s, pid %d", DLEASED_VERSION, dd.cfg.host_name,
	        dd.run_dir, (int)getpid());
	ready(&ready_fd, 0);
	rc = loop_run(&dd);
	server_close(&dd);
	watchdog_close(&dd, rc == 0);
	validity_close(&dd);
	holders_save(&dd);
	if (dd.ioe)
		ioe_destroy(dd.ioe);
	{
		char pid[32] = "", mine[32];

		/* only our own pid file: a successor may have written it already */
		snprintf(mine, sizeof(mine), "%d", (int)getpid());
		if (read_text(dd.path_pid, pid, sizeof(pid)) == 0 && strcmp(pid, mine) == 0)
			unlink(dd.path_pid);
	}
	config_free(&dd.cfg);
	dl_info("dleased stopped");
	return rc == 0 ? 0 : 1;
}
