/* SPDX-License-Identifier: MIT */
/*
 * daemon.h: the state of one dleased process (one host) and the seams
 * between its files. One thread, one event loop (loop.c): disk I/O through
 * the engine (io_uring or libaio), the control socket, pidfds, a signalfd and
 * timers all wake the same ppoll; every state machine of src/lease is then
 * stepped. One engine serves every lockspace and submits lazily: the rounds
 * of one pass go to the kernel in one io_uring_enter (ioe_flush before the
 * ppoll). No file here blocks except joining (space_load) and the watchdog.
 *
 *   main.c      arguments, run directory (lock, pid file), start and stop
 *   config.c    the configuration file (docs/daemon.md)
 *   loop.c      the event loop
 *   server.c    control socket: connections, frames, dispatch, replies
 *   ops.c       one function per socket operation
 *   lspace.c    a joined lockspace: delta lease, resources, directory, host scan
 *   holders.c   leases held by local processes: pidfds, stopping them, holders file
 *   watchdog.c  the watchdog device
 *   validity.c  the validity page
 *   events.c    event history, watchers, audit log
 *   metrics.c   counters and histograms, Prometheus text
 *   access.c    who may do what (SO_PEERCRED against the config's rules)
 *
 * Invariants: a lease is in the validity page as held only while this host's
 * delta lease in its lockspace is live and the lease was won in the current
 * generation; a local holder is sent SIGTERM no later than the act deadline
 * (2T after the last counted renewal) and SIGKILL at 2.5T.
 */
#ifndef DL_DAEMON_H
#define DL_DAEMON_H

#include "base/compat.h"

#include <sys/types.h>

#include "base/clock.h"
#include "io/ioe.h"
#include "lease/delta.h"
#include "lease/directory.h"
#include "lease/resource.h"
#include "lease/space.h"
#include "lease/timing.h"
#include "proto/proto.h"
#include "proto/validity.h"

#define DLEASED_VERSION        "0.1.0"
#define DLEASED_LOCKSPACES_MAX 32u
#define DLEASED_RULES_MAX      32u
#define DLEASED_HISTORY_MAX    1024u
#define DLEASED_CLIENTS_MAX    1024u
#define DLEASED_NAME_SIZE      (ONDISK_NAME_SIZE + 1)

struct dleased;
struct client;

/* --- config.c --- */
enum access_kind { ACCESS_ANY, ACCESS_UID, ACCESS_GID };
struct access_rule {
	enum access_kind kind;
	uint32_t id;
};
struct access_list {
	bool set;
	uint32_t count;
	struct access_rule rules[DLEASED_RULES_MAX];
};
struct config_space {
	char name[DLEASED_NAME_SIZE];
	uint32_t host_id; /* 0: no join at start */
	uint32_t disk_count;
	char *disks[IOE_DISKS_MAX];
	struct access_list acquire;
	struct access_list create;
	struct access_list admin;
};
struct config {
	char host_name[ONDISK_HOST_NAME_SIZE + 1];
	enum ioe_kind engine;
	char *watchdog;
	char *kill_command;
	uint32_t kill_grace_ms; /* 0: T/2 */
	char *socket_group;
	char *audit_log;
	char *metrics_file;
	int log_level; /* enum dl_log_level */
	struct access_list acquire;
	struct access_list create;
	struct access_list admin;
	uint32_t space_count;
	struct config_space spaces[DLEASED_LOCKSPACES_MAX];
};
/* Parse path into cfg (defaults first). Returns 0, -ENOENT (absent), or -EINVAL with why
 * naming the line. */
int config_load(struct config *cfg, const char *path, char *why, size_t why_size);
void config_defaults(struct config *cfg);
void config_free(struct config *cfg);
const struct config_space *config_space_find(const struct config *cfg, const char *name);

/* --- access.c --- */
enum access_class { ACCESS_READ, ACCESS_ACQUIRE, ACCESS_CREATE, ACCESS_ADMIN };
/* May the peer (uid, gid, supplementary groups of uid) do class in lockspace (NULL: any)?
 * On refusal, why says who and what. */
bool access_allowed(const struct dleased *dd, uid_t uid, gid_t gid, enum access_class cls,
                    const char *lockspace, char *why, size_t why_size);

/* --- events.c --- */
enum event_kind {
	EV_JOINED,
	EV_LEFT,
	EV_LOCKSPACE_LOST,
	EV_ACQUIRED,
	EV_RELEASED,
	EV_LOST,
	EV_LEADER_CHANGED,
	EV_REQUEST,
	EV_HOST_DEAD,
	EV_HOST_LIVE,
	EV_REFUSED,
};
struct event {
	uint64_t seq;
	uint64_t time_ms;
	enum event_kind kind;
	char lockspace[DLEASED_NAME_SIZE];
	char resource[DLEASED_NAME_SIZE];
	uint64_t old_host_id, old_generation;
	uint64_t new_host_id, new_generation;
	uint64_t token;
	char reason[160];
};
const char *event_kind_name(enum event_kind k);
/* Record, audit and send to watchers. ev->seq and time_ms are filled in. */
void events_emit(struct dleased *dd, struct event *ev);
void events_put(struct proto_buf *b, const struct event *ev);
/* Events with seq > since matching the filters, oldest first, into b as records. */
void events_history(const struct dleased *dd, struct proto_buf *b, const char *lockspace,
                    uint64_t since, uint32_t limit);
int events_open_audit(struct dleased *dd, const char *path);
/* SIGHUP: reopen the audit log (after logrotate moved it). */
void events_reopen_audit(struct dleased *dd);

/* --- metrics.c --- */
#define METRICS_BUCKETS 12
struct histogram {
	uint64_t counts[METRICS_BUCKETS + 1];
	uint64_t sum_ns;
	uint64_t count;
};
struct metrics {
	uint64_t leader_changes;
	uint64_t acquires, acquire_failures;
	uint64_t renewals, renewal_failures;
	uint64_t io_timeouts;
	uint64_t checksum_errors;
	uint64_t holders_killed;
	uint64_t requests_refused;
	struct histogram acquire_latency;
	struct histogram renewal_latency;
};
void metrics_observe(struct histogram *h, uint64_t ns);
void metrics_text(const struct dleased *dd, struct proto_buf *b);
/* Write the text to cfg.metrics_file (atomic rename), if configured, at most every 10 s. */
#define METRICS_FILE_INTERVAL_NS (10ull * DL_NS_PER_SEC)
void metrics_write_file(struct dleased *dd);

/* --- validity.c --- */
int validity_open(struct dleased *dd);
void validity_close(struct dleased *dd);
/* A free slot index, or -ENOSPC. */
int validity_alloc(struct dleased *dd);
void validity_set(struct dleased *dd, int slot, uint32_t state, uint64_t token, uint64_t generation,
                  uint64_t act_until_ns, uint32_t host_id, uint32_t pid, const char *lockspace,
                  const char *resource);
void validity_set_deadline(struct dleased *dd, int slot, uint64_t act_until_ns);
void validity_set_state(struct dleased *dd, int slot, uint32_t state);
void validity_free(struct dleased *dd, int slot);

/* --- lspace.c --- */
enum lres_state { LRES_NONE, LRES_ACQUIRING, LRES_HELD, LRES_RELEASING, LRES_LOST };
struct lres {
	bool inited;
	struct resource r;
	char name[DLEASED_NAME_SIZE];
	enum lres_state state;
	pid_t owner_pid; /* 0: the host owns it */
	int owner_pidfd;
	uint64_t owner_start; /* owner's start time (clock ticks since boot), pid reuse guard */
	struct client *owner; /* registered connection, if any */
	int vslot;            /* validity page slot, -1 */
	uint64_t token;
	uint64_t acquire_start_ns;
	uint64_t term_at_ns;      /* SIGTERM sent (0: not yet) */
	uint64_t kill_at_ns;      /* SIGKILL due */
	bool stop_for_force;      /* a force request: stop the holder, then release */
	bool release_wanted;      /* release as soon as no round of it is in flight */
	uint32_t request_handled; /* the strongest request mode acted on for this token */
	uint64_t seen_lver;       /* watch: the last leader lver reported */
	uint64_t seen_owner;
};
/* No round in flight and no operation running: a new one may start. */
static inline bool lres_idle(const struct lres *lr)
{
	return !lr->r.pending && !lr->r.round.busy && !lr->r.checking &&
	       (lr->r.state == RES_IDLE || lr->r.state == RES_FAILED);
}
enum lspace_state { LS_JOINING, LS_LIVE, LS_LEAVING, LS_LOST, LS_LEFT, LS_FAILED };
struct lspace {
	struct dleased *dd;
	enum lspace_state state;
	char name[DLEASED_NAME_SIZE];
	uint32_t host_id;
	uint32_t disk_count;
	char *disks[IOE_DISKS_MAX];
	struct ioe *ioe; /* this lockspace's engine (io_uring or libaio) */
	struct space space;
	struct timing tm;
	struct delta delta;
	struct directory dir;
	bool dir_inited;
	uint32_t res_count; /* resources in the lockspace */
	struct lres *res;   /* res_count entries, inited on first use */
	bool auto_rejoin;
	uint64_t lost_at_ns;
	uint32_t last_renewals;
	uint64_t last_renew_submit_ns;
	/* host scan: the host slots 1..scan_read read every T */
	struct round scan_round;
	uint8_t *scan_buf;
	uint32_t scan_count; /* slots the buffers hold */
	uint32_t scan_read;  /* slots the last scan read: up to the highest id seen + 64 */
	uint64_t scan_next_ns;
	bool scan_pending;
	struct hostwatch *scan_watch;   /* scan_count */
	struct ondisk_host *scan_hosts; /* freshest record per host */
	bool *scan_valid;
	uint64_t *scan_seen_ns; /* last time the record changed (daemon clock) */
};
/* Open the disks, agree on the header, start joining. Returns 0 or -errno with why. */
int lspace_open(struct dleased *dd, const char *const *disks, uint32_t disk_count, uint32_t host_id,
                struct lspace **out, char *why, size_t why_size);
void lspace_destroy(struct lspace *ls);
/* Step everything of ls; returns the next wake time (0: none). */
uint64_t lspace_step(struct lspace *ls);
struct lspace *lspace_find(struct dleased *dd, const char *name);
/* The lres for index, initialised on first use. NULL on -ENOMEM. */
struct lres *lspace_res(struct lspace *ls, uint32_t index);
/* Release every lease of ls (used by leave --force and SIGTERM). */
void lspace_release_all(struct lspace *ls);
bool lspace_has_leases(const struct lspace *ls);
/* No lease of ls in any state but NONE (lost ones are kept until their holder is gone). */
bool lspace_holders_gone(const struct lspace *ls);
const char *lspace_state_name(enum lspace_state s);

/* --- holders.c --- */
/* A local lease ended: forget its owner, free its validity slot. */
void holders_detach(struct dleased *dd, struct lres *lr);
/* Stop the holder of lr: SIGTERM (or kill_command) now, SIGKILL at kill_at_ns. */
void holders_stop(struct dleased *dd, struct lspace *ls, struct lres *lr, uint64_t kill_at_ns,
                  const char *why);
/* Drive SIGKILL deadlines; returns the next wake time (0: none). */
uint64_t holders_step(struct dleased *dd);
/* Rewrite RUN_DIR/holders. */
void holders_save(struct dleased *dd);
/* At start: stop the processes a previous daemon left holding leases. Returns how many. */
int holders_reap_previous(struct dleased *dd);
uint64_t holders_proc_start(pid_t pid);
bool holders_alive(pid_t pid, uint64_t start);

/* --- watchdog.c --- */
int watchdog_open(struct dleased *dd);
/* Pet the watchdog if every lockspace with held leases is within its act deadline. */
void watchdog_step(struct dleased *dd);
void watchdog_close(struct dleased *dd, bool clean);

/* --- server.c --- */
struct client {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool registered;
	pid_t reg_pid; /* leases acquired on this connection belong to this process */
	int reg_pidfd;
	uint64_t reg_start;
	bool watching;
	uint64_t watch_seq; /* the last event sent */
	char watch_ls[DLEASED_NAME_SIZE];
	char watch_res[DLEASED_NAME_SIZE];
	bool waiting; /* a request is in progress: further frames wait */
	bool closing;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_cap;
	struct client *next;
};
int server_listen(struct dleased *dd);
void server_close(struct dleased *dd);
void server_accept(struct dleased *dd);
/* Read, parse and dispatch; returns false once the client is gone. */
void server_client_io(struct dleased *dd, struct client *c, short revents);
/* Queue a finished frame for c. */
void server_send(struct client *c, struct proto_buf *b);
void server_reply_error(struct client *c, int rc, const char *fmt, ...) DL_PRINTF(3, 4);
void server_drop(struct dleased *dd, struct client *c);
/* A registered client's process exited: release its leases. */
void server_client_exited(struct dleased *dd, struct client *c);

/* --- ops.c --- */
/* A request that waits on a state machine. */
enum wait_kind {
	WAIT_JOIN,
	WAIT_ACQUIRE,
	WAIT_RELEASE,
	WAIT_INQUIRE,
	WAIT_REQUEST,
	WAIT_DIR,
	WAIT_LEAVE
};
struct wait {
	enum wait_kind kind;
	struct client *c;
	struct lspace *ls;
	uint32_t index;
	enum directory_op dir_op;
	char name[DLEASED_NAME_SIZE];
	bool create;
	bool then_acquire; /* WAIT_DIR feeding an acquire */
	bool wait;         /* acquire: wait for a live holder */
	uint64_t give_up_ns;
	pid_t pid;
	int pidfd;
	uint64_t pid_start;
	uint32_t mode;       /* request mode */
	enum wait_kind then; /* WAIT_DIR: where to go after the lookup */
	bool list;           /* WAIT_DIR: resource_list */
	bool started;
	struct wait *next;
};
void ops_dispatch(struct dleased *dd, struct client *c, const struct proto_msg *m);
/* Advance waiting requests; returns the next wake time (0: none). */
uint64_t ops_step(struct dleased *dd);
/* A client went away: forget its waits. */
void ops_forget_client(struct dleased *dd, struct client *c);
void ops_forget_lspace(struct dleased *dd, struct lspace *ls);

/* --- loop.c --- */
/* Run until SIGTERM has released and left everything. Returns 0 or -errno. */
int loop_run(struct dleased *dd);

/* --- the daemon --- */
struct dleased {
	const char *run_dir;
	char path_sock[4096], path_pid[4096], path_lock[4096], path_validity[4096],
	        path_holders[4096];
	struct config cfg;
	const struct clock *clk;
	struct ioe *ioe;
	uint64_t start_ns;
	uint8_t host_uuid[ONDISK_UUID_SIZE];
	uint8_t boot_id[ONDISK_UUID_SIZE];
	int lock_fd;
	int listen_fd;
	uint64_t sock_ino; /* the socket file we bound (unlinked at exit only if still ours) */
	int signal_fd;
	bool stopping; /* SIGTERM: release, leave, exit */
	uint32_t space_count;
	struct lspace *spaces[DLEASED_LOCKSPACES_MAX];
	struct client *clients;
	uint32_t client_count;
	struct wait *waits;
	/* validity page */
	int validity_fd;
	uint8_t *validity;
	bool vslot_used[VALIDITY_SLOTS];
	/* watchdog */
	int watchdog_fd;
	uint32_t watchdog_timeout_s;
	/* events */
	struct event history[DLEASED_HISTORY_MAX];
	uint64_t next_seq; /* seq of the next event; history holds the last min(n, MAX) */
	int audit_fd;
	char audit_path[4096];
	struct metrics metrics;
	uint64_t metrics_next_ns;
};

#endif /* DL_DAEMON_H */
