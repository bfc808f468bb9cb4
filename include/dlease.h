/* SPDX-License-Identifier: MIT */
/*
 * dlease.h: the public API of libdlease, the client library of dlease, a
 * leader-election and lease system for hosts that share block storage.
 *
 * A program talks to the local daemon, dleased, through a handle (one
 * connection to RUN_DIR/dleased.sock, docs/daemon.md): it registers, acquires
 * leases, watches events, and before each unit of work asks dlease_valid()
 * whether it may still act and with which fencing token. docs/client.md walks
 * through docs/example.c.
 *
 * Every function that can fail returns 0 on success and -errno on failure
 * (the daemon's own rc is passed on unchanged); dlease_strerror() turns any
 * return value into text and dlease_last_error() gives the daemon's sentence.
 * A handle is used by one thread at a time. The structs below have fixed
 * sizes (stated per struct) and are filled by the library; nothing the
 * library returns needs freeing except the handle.
 */
#ifndef DLEASE_H
#define DLEASE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLEASE_VERSION_MAJOR 0
#define DLEASE_VERSION_MINOR 1

#define DLEASE_RUN_DIR_DEFAULT "/run/dlease"
#define DLEASE_NAME_MAX        48u /* lockspace and resource names: 1..48 bytes, no control bytes */
#define DLEASE_NAME_SIZE       64u /* buffers holding a name and its NUL */
#define DLEASE_HOST_NAME_SIZE  72u /* host names: 1..64 bytes and a NUL */
#define DLEASE_DISKS_MAX       5u

/* "0.1.0". Never NULL. */
const char *dlease_version(void);

/* Text for a value returned by any dlease function (0 or -errno). Never NULL. */
const char *dlease_strerror(int rc);

/* The I/O engine this host would use: "uring" or "aio" (honours DLEASE_IO_ENGINE).
 * Returns 0 and fills name (at least 8 bytes), or -errno when no engine can run. */
int dlease_io_engine(char *name, unsigned name_size);

/* ---- connection ---- */

struct dlease;

/* Connect to the daemon of run_dir (NULL: $DLEASE_RUN_DIR, else /run/dlease).
 * Returns 0 and *out, or -errno: -ENOENT (no socket: daemon not running there),
 * -ECONNREFUSED (socket left by a dead daemon), -EACCES. On failure,
 * dlease_last_error(NULL) names the socket and asks whether dleased runs there. */
int dlease_connect(const char *run_dir, struct dlease **out);

/* Close the connection; leases of a registered process are released by the daemon,
 * host-owned leases stay. NULL is ignored. */
void dlease_close(struct dlease *h);

/* The socket, for poll(POLLIN): readable means dlease_next_event(h, ev, 0) has work.
 * Events can also arrive during other calls: drain with timeout 0 after each. Returns the fd,
 * or -1 once the connection is closed. */
int dlease_fd(const struct dlease *h);

/* The run directory this handle talks to. Never NULL. */
const char *dlease_run_dir(const struct dlease *h);

/* The last error sentence: the daemon's error= text, or the library's own (connection
 * lost, bad reply). h == NULL: the last failed dlease_connect() of this thread.
 * Never NULL ("" when there was none). */
const char *dlease_last_error(const struct dlease *h);

/* ---- lockspaces ---- */

/* A joined lockspace; 88 bytes. */
struct dlease_space {
	char lockspace[DLEASE_NAME_SIZE];
	uint64_t generation;    /* this host's generation in its slot: bumps at every join */
	uint32_t host_id;       /* 1..max_hosts */
	uint32_t io_timeout_ms; /* T: every protocol duration derives from it */
	uint64_t reserved;
};

/* Join the lockspace on disks (1..5 paths) as host_id. Waits until this host is live, at
 * most timeout_ms when > 0. Returns 0 and fills *space, or -errno: -EBUSY slot held by a
 * live host, -EADDRINUSE another host wrote our slot, -EUCLEAN not a lockspace, -ESTALE
 * disks disagree, -ENODEV no disk readable, -EEXIST already joined, -ETIMEDOUT. */
int dlease_join(struct dlease *h, const char *const *disks, unsigned disk_count, uint32_t host_id,
                int64_t timeout_ms, struct dlease_space *space);

#define DLEASE_LEAVE_FORCE 0x1u /* release this host's leases first */

/* Leave lockspace. Returns 0, -EBUSY (leases held; see DLEASE_LEAVE_FORCE) or -errno. */
int dlease_leave(struct dlease *h, const char *lockspace, unsigned flags);

/* ---- leases ---- */

/* From now on, leases acquired on this handle belong to process pid (0: the caller);
 * the daemon releases them when that process exits or the handle closes, and sends
 * `request` events here instead of releasing on request. Returns 0 or -errno. */
int dlease_register(struct dlease *h, int pid);

/* A lease held by this host; 176 bytes. Pass it to dlease_valid(). */
struct dlease_lease {
	char lockspace[DLEASE_NAME_SIZE];
	char resource[DLEASE_NAME_SIZE];
	uint64_t token;        /* fencing token (lver): grows at every change of holder */
	uint64_t generation;   /* this host's generation when the lease was won */
	uint64_t act_until_ns; /* CLOCK_BOOTTIME deadline when acquired; moves forward */
	uint32_t host_id;
	uint32_t slot; /* index in RUN_DIR/validity */
	uint64_t reserved[2];
};

#define DLEASE_ACQUIRE_CREATE 0x1u /* create the resource name when it does not exist */
#define DLEASE_WAIT_FOREVER   (-1)

/* Acquire resource in lockspace. timeout_ms: 0 try once, > 0 wait at most that long for
 * a live holder, DLEASE_WAIT_FOREVER. pid: 0 for the handle's owner (the registered
 * process, else the host: kept until released), else that process (admin for others').
 * Returns 0 and fills *lease, or -errno: -EBUSY held by a live host, -ETIMEDOUT,
 * -ENOENT no such resource (without CREATE), -ENOLINK not joined, -EALREADY held. */
int dlease_acquire(struct dlease *h, const char *lockspace, const char *resource,
                   int64_t timeout_ms, unsigned flags, int pid, struct dlease_lease *lease);

/* Release a lease this host holds. Returns 0 or -errno. */
int dlease_release(struct dlease *h, const char *lockspace, const char *resource);

/* Is the lease still this host's to act on? Reads RUN_DIR/validity (mapped read-only at the
 * first call) without a round trip: true only when the slot still names this lockspace,
 * resource and token, is held, and CLOCK_BOOTTIME is before its deadline. Fills *token
 * (may be NULL) when true. A frozen or dead daemon makes it false on time. */
bool dlease_valid(struct dlease *h, const struct dlease_lease *lease, uint64_t *token);

enum dlease_owner_state {
	DLEASE_OWNER_UNKNOWN = 0, /* not observed yet, or a state this library does not know */
	DLEASE_OWNER_FREE,        /* nobody holds it */
	DLEASE_OWNER_LIVE,
	DLEASE_OWNER_DEAD, /* the holder's delta lease expired: it can be taken over */
	DLEASE_OWNER_LEFT,
};

/* Who holds a resource, from the leader record; 256 bytes. */
struct dlease_owner {
	uint64_t token;         /* lver of the record */
	uint64_t owner_host_id; /* 0: free */
	uint64_t owner_generation;
	uint64_t since_ms; /* wall clock of the last change (for people) */
	uint64_t prev_host_id;
	uint64_t prev_generation;
	uint32_t owner_state; /* enum dlease_owner_state */
	uint32_t reserved;
	char owner_name[DLEASE_HOST_NAME_SIZE];
	char reason[64];       /* why the last change happened ("acquire", "takeover_dead" ...) */
	char request_mode[16]; /* "" or the pending request: "graceful", "force" */
	char state_name[24];   /* owner_state as the daemon spelled it */
	char reserved2[24];
};

/* Fill *owner for resource. Returns 0 or -errno (-ENOENT no such resource). */
int dlease_inquire(struct dlease *h, const char *lockspace, const char *resource,
                   struct dlease_owner *owner);

#define DLEASE_REQUEST_FORCE 0x1u /* take it even if the holder does not hand over */

/* Ask the holder of resource to hand it over (graceful unless DLEASE_REQUEST_FORCE).
 * Returns 0 and the token asked about in *token (may be NULL), or -errno. */
int dlease_request(struct dlease *h, const char *lockspace, const char *resource, unsigned flags,
                   uint64_t *token);

/* ---- events ---- */

enum dlease_event_kind {
	DLEASE_EVENT_OTHER = 0, /* a kind this library does not know: see kind_name */
	DLEASE_EVENT_JOINED,
	DLEASE_EVENT_LEFT,
	DLEASE_EVENT_LOCKSPACE_LOST,
	DLEASE_EVENT_ACQUIRED,
	DLEASE_EVENT_RELEASED,
	DLEASE_EVENT_LOST,           /* our lease ended without release: stop acting */
	DLEASE_EVENT_LEADER_CHANGED, /* a watched resource names a new holder or token */
	DLEASE_EVENT_REQUEST,        /* another host asks for a lease we hold */
	DLEASE_EVENT_HOST_DEAD,
	DLEASE_EVENT_HOST_LIVE,
	DLEASE_EVENT_REFUSED,
};

#define DLEASE_EVENT_GAP 0x1u /* flags: events before this one left the daemon's history */
#define DLEASE_SEQ_NOW   UINT64_MAX

/* One event of the daemon; 512 bytes. Fields the event does not carry are 0 or "". */
struct dlease_event {
	uint64_t seq; /* 1, 2, ... since the daemon started */
	uint64_t time_ms;
	uint32_t kind;  /* enum dlease_event_kind */
	uint32_t flags; /* DLEASE_EVENT_GAP */
	char kind_name[24];
	char lockspace[DLEASE_NAME_SIZE];
	char resource[DLEASE_NAME_SIZE];
	uint64_t old_host_id;
	uint64_t old_generation;
	uint64_t new_host_id;
	uint64_t new_generation;
	uint64_t token;
	char reason[256];
	char reserved[40];
};

/* Start receiving events with seq > since (DLEASE_SEQ_NOW: only new ones), optionally only
 * of lockspace and of resource (NULL: all). *seq_now (may be NULL) gets the daemon's current
 * sequence. Returns 0 or -errno. */
int dlease_watch(struct dlease *h, uint64_t since, const char *lockspace, const char *resource,
                 uint64_t *seq_now);

/* The next event, waiting at most timeout_ms (0: do not wait, -1: for ever). Returns 0,
 * -EAGAIN (none yet), -ECONNRESET (daemon closed the connection) or -errno. */
int dlease_next_event(struct dlease *h, struct dlease_event *ev, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* DLEASE_H */
