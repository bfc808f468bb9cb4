/* SPDX-License-Identifier: MIT */
/*
 * ops.c: one function per control-socket operation (docs/daemon.md). An
 * operation either answers at once from memory (status, hosts, history,
 * metrics, watch) or starts a state machine and parks a struct wait, which
 * ops_step() finishes when the machine gets there: the client's reply is
 * sent then, and the connection's next request is read only after it.
 *
 *   join     open + load + access check, lspace_open()     -> WAIT_JOIN
 *   acquire  WAIT_DIR (lookup, maybe create) -> WAIT_ACQUIRE
 *   release  WAIT_RELEASE
 *   inquire  WAIT_DIR (lookup) -> WAIT_INQUIRE (answered from memory if we hold it)
 *   request  WAIT_DIR (lookup) -> WAIT_REQUEST
 *   leave    WAIT_LEAVE
 *   resource_create/delete/list   WAIT_DIR
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "banned.h"

static struct wait *ops_park(struct dleased *dd, struct client *c, enum wait_kind kind,
                             struct lspace *ls)
{
	struct wait *w = calloc(1, sizeof(*w));

	if (!w) {
		server_reply_error(c, -ENOMEM, "out of memory");
		return NULL;
	}
	w->kind = kind;
	w->c = c;
	w->ls = ls;
	w->pidfd = -1;
	w->next = dd->waits;
	dd->waits = w;
	c->waiting = true;
	return w;
}

static void ops_unpark(struct dleased *dd, struct wait *w)
{
	for (struct wait **p = &dd->waits; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	if (w->c)
		w->c->waiting = false;
	if (w->pidfd >= 0)
		close(w->pidfd);
	free(w);
}

static const char *ops_need(struct client *c, const struct proto_msg *m, const char *key)
{
	const char *v = proto_get(m, key);

	if (!v || !*v)
		server_reply_error(c, -EINVAL, "missing field \"%s\"", key);
	return v && *v ? v : NULL;
}

static struct lspace *ops_lspace(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	const char *name = ops_need(c, m, "lockspace");
	struct lspace *ls;

	if (!name)
		return NULL;
	ls = lspace_find(dd, name);
	if (!ls || ls->state == LS_LEFT || ls->state == LS_FAILED) {
		server_reply_error(
		        c, -ENOLINK,
		        "this host has not joined lockspace %s (dlctl join --host-id N DISK...)",
		        name);
		return NULL;
	}
	return ls;
}

static bool ops_allowed(struct dleased *dd, struct client *c, enum access_class cls,
                        const char *lockspace, const char *op)
{
	char why[256];
	struct event ev = {.kind = EV_REFUSED};

	if (access_allowed(dd, c->uid, c->gid, cls, lockspace, why, sizeof(why)))
		return true;
	dd->metrics.requests_refused++;
	snprintf(ev.lockspace, sizeof(ev.lockspace), "%s", lockspace ? lockspace : "");
	snprintf(ev.reason, sizeof(ev.reason), "%.30s refused: %.100s (pid %d)", op, why,
	         (int)c->pid);
	events_emit(dd, &ev);
	server_reply_error(c, -EACCES, "%s", why);
	return false;
}

static void ops_reply_ok(struct client *c, struct proto_buf *b)
{
	server_send(c, b);
	proto_buf_free(b);
}

static void ops_begin(struct proto_buf *b)
{
	proto_buf_init(b);
	proto_put(b, "rc", "0");
}

/* ---- answered at once ---- */

static void op_hello(struct dleased *dd, struct client *c)
{
	struct proto_buf b;

	ops_begin(&b);
	proto_put(&b, "version", DLEASED_VERSION);
	proto_put(&b, "host_name", dd->cfg.host_name);
	proto_put_u64(&b, "pid", (uint64_t)getpid());
	proto_put(&b, "engine", ioe_name(dd->ioe));
	proto_put_u64(&b, "protocol", PROTO_VERSION);
	ops_reply_ok(c, &b);
}

static const char *lres_state_name(enum lres_state s)
{
	static const char *const names[] = {"none", "acquiring", "held", "releasing", "lost"};

	return names[s];
}

static void op_status(struct dleased *dd, struct client *c)
{
	uint64_t now = clock_now_ns(dd->clk);
	struct proto_buf b;

	ops_begin(&b);
	proto_put(&b, "host_name", dd->cfg.host_name);
	proto_put_u64(&b, "pid", (uint64_t)getpid());
	proto_put(&b, "version", DLEASED_VERSION);
	proto_put(&b, "engine", ioe_name(dd->ioe));
	proto_put(&b, "watchdog", dd->watchdog_fd >= 0 ? dd->cfg.watchdog : "none");
	proto_put_u64(&b, "uptime_ms", (now - dd->start_ns) / DL_NS_PER_MS);
	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct lspace *ls = dd->spaces[i];
		uint64_t v = ls->delta.valid_until_ns;

		proto_put(&b, "record", "lockspace");
		proto_put(&b, "lockspace", ls->name);
		proto_put_u64(&b, "host_id", ls->host_id);
		proto_put_u64(&b, "generation", ls->delta.generation);
		proto_put(&b, "state", lspace_state_name(ls->state));
		proto_put(&b, "delta_state", delta_state_name(ls->delta.state));
		if (ls->delta.why[0])
			proto_put(&b, "why", ls->delta.why);
		proto_put_u64(&b, "io_timeout_ms", ls->space.header.io_timeout_ms);
		proto_put_u64(&b, "valid_ms_left", v > now ? (v - now) / DL_NS_PER_MS : 0);
		proto_put_u64(&b, "renewals", ls->delta.renewals);
		proto_put_u64(&b, "renew_failures", dd->metrics.renewal_failures);
		for (uint32_t d = 0; d < ls->disk_count; d++)
			proto_put(&b, "disk", ls->disks[d]);
	}
	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct lspace *ls = dd->spaces[i];

		for (uint32_t k = 0; k < ls->res_count; k++) {
			const struct lres *lr = &ls->res[k];

			if (!lr->inited || lr->state == LRES_NONE)
				continue;
			proto_put(&b, "record", "lease");
			proto_put(&b, "lockspace", ls->name);
			proto_put(&b, "resource", lr->name);
			proto_put_u64(&b, "token", lr->token);
			proto_put(&b, "state", lres_state_name(lr->state));
			proto_put_u64(&b, "owner_pid",
			              (uint64_t)(lr->owner_pid > 0 ? lr->owner_pid : 0));
		}
	}
	ops_reply_ok(c, &b);
}

static const char *ops_host_state(const struct lspace *ls, uint32_t h)
{
	const struct ondisk_host *rec = &ls->scan_hosts[h];

	if (h + 1 == ls->host_id)
		return ls->state == LS_LIVE ? "live" : lspace_state_name(ls->state);
	if (ls->scan_valid[h] && rec->state == ONDISK_HOST_FREE)
		return "left";
	switch (ls->scan_watch[h].verdict) {
	case HOSTWATCH_LIVE:
		return ls->scan_watch[h].changes > 0 ? "live" : "unknown";
	case HOSTWATCH_DEAD:
		return "dead";
	case HOSTWATCH_FREE:
		return "left";
	default:
		return "unknown";
	}
}

static void op_hosts(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	struct lspace *ls = ops_lspace(dd, c, m);
	uint64_t now = clock_now_ns(dd->clk);
	struct proto_buf b;

	if (!ls)
		return;
	ops_begin(&b);
	proto_put(&b, "lockspace", ls->name);
	for (uint32_t h = 0; h < ls->scan_count; h++) {
		const struct ondisk_host *rec = &ls->scan_hosts[h];

		if (!ls->scan_valid[h] && ls->scan_watch[h].verdict != HOSTWATCH_DEAD)
			continue;
		proto_put(&b, "record", "host");
		proto_put_u64(&b, "host_id", h + 1);
		proto_put(&b, "host_name", ls->scan_valid[h] ? rec->host_name : "");
		proto_put_u64(&b, "generation", ls->scan_valid[h] ? rec->hdr.writer_generation : 0);
		proto_put(&b, "state", ops_host_state(ls, h));
		proto_put_u64(&b, "renewed_ms_ago",
		              ls->scan_seen_ns[h] ? (now - ls->scan_seen_ns[h]) / DL_NS_PER_MS : 0);
		proto_put_u64(&b, "timestamp_ms", ls->scan_valid[h] ? rec->renewed_wall_ms : 0);
		proto_put_u64(&b, "joined_ms", ls->scan_valid[h] ? rec->joined_wall_ms : 0);
	}
	ops_reply_ok(c, &b);
}

static void op_history(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	uint64_t limit = 100;
	struct proto_buf b;

	if (proto_get(m, "limit") && proto_get_u64(m, "limit", &limit) < 0) {
		server_reply_error(c, -EINVAL, "limit must be a number");
		return;
	}
	ops_begin(&b);
	events_history(dd, &b, proto_get(m, "lockspace"), 0, (uint32_t)DL_MIN(limit, UINT32_MAX));
	ops_reply_ok(c, &b);
}

static void op_metrics(struct dleased *dd, struct client *c)
{
	struct proto_buf b;

	ops_begin(&b);
	metrics_text(dd, &b);
	ops_reply_ok(c, &b);
}

static void op_watch(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	uint64_t since = dd->next_seq - 1;
	uint64_t first =
	        dd->next_seq > DLEASED_HISTORY_MAX ? dd->next_seq - DLEASED_HISTORY_MAX : 1;
	const char *ls = proto_get(m, "lockspace"), *res = proto_get(m, "resource");
	struct proto_buf b, h;
	struct proto_msg hm;
	char why[128];

	if (proto_get(m, "since") && proto_get_u64(m, "since", &since) < 0) {
		server_reply_error(c, -EINVAL, "since must be a number");
		return;
	}
	ops_begin(&b);
	proto_put_u64(&b, "seq", dd->next_seq - 1);
	if (since + 1 < first && dd->next_seq > 1)
		proto_put(&b, "gap", "1");
	ops_reply_ok(c, &b);
	c->watching = true;
	snprintf(c->watch_ls, sizeof(c->watch_ls), "%s", ls ? ls : "");
	snprintf(c->watch_res, sizeof(c->watch_res), "%s", res ? res : "");
	/* the events after since, from the history, each in its own frame */
	proto_buf_init(&h);
	events_history(dd, &h, NULL, since, 0);
	if (!h.error && proto_parse(h.data + 4, h.len - 4, &hm, why, sizeof(why)) == 0) {
		for (uint32_t i = proto_next_record(&hm, 0); i < hm.count;) {
			uint32_t end = proto_next_record(&hm, i + 1);
			const char *kls = proto_get_in(&hm, i, end, "lockspace");
			const char *kres = proto_get_in(&hm, i, end, "resource");

			if ((!c->watch_ls[0] || (kls && !strcmp(kls, c->watch_ls))) &&
			    (!c->watch_res[0] || (kres && !strcmp(kres, c->watch_res)))) {
				proto_buf_reset(&b);
				proto_put(&b, "event", proto_get_in(&hm, i, end, "seq"));
				for (uint32_t k = i + 2; k < end; k++)
					proto_put(&b, hm.lines[k].key, hm.lines[k].value);
				server_send(c, &b);
			}
			i = end;
		}
		proto_msg_free(&hm);
	}
	c->watch_seq = dd->next_seq - 1;
	proto_buf_free(&h);
	proto_buf_free(&b);
}

/* ---- register ---- */

static int ops_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void op_register(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	uint64_t pid = (uint64_t)c->pid;
	struct proto_buf b;

	if (proto_get(m, "pid") &&
	    (proto_get_u64(m, "pid", &pid) < 0 || pid == 0 || pid > INT32_MAX)) {
		server_reply_error(c, -EINVAL, "pid must be a process id");
		return;
	}
	if (c->registered) {
		server_reply_error(c, -EALREADY, "this connection is registered already (pid %d)",
		                   (int)c->reg_pid);
		return;
	}
	if ((pid_t)pid != c->pid &&
	    !ops_allowed(dd, c, ACCESS_ADMIN, NULL, "register for another pid"))
		return;
	c->reg_pidfd = ops_pidfd((pid_t)pid);
	if (c->reg_pidfd < 0) {
		server_reply_error(c, -errno, "pid %" PRIu64 ": %s", pid, strerror(errno));
		return;
	}
	c->registered = true;
	c->reg_pid = (pid_t)pid;
	c->reg_start = holders_proc_start(c->reg_pid);
	ops_begin(&b);
	proto_put_u64(&b, "client_pid", pid);
	ops_reply_ok(c, &b);
}

/* ---- join, leave ---- */

static void op_join(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	const char *disks[IOE_DISKS_MAX];
	uint32_t n = 0;
	uint64_t host_id, timeout_ms = 0;
	struct space probe;
	struct ioe *probe_ioe;
	struct lspace *ls;
	struct wait *w;
	char why[SPACE_WHY_SIZE + 64];
	int rc;

	if (proto_get_u64(m, "host_id", &host_id) < 0 || host_id == 0 || host_id > UINT16_MAX) {
		server_reply_error(c, -EINVAL, "host_id must be 1..65535");
		return;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		if (strcmp(m->lines[i].key, "disk") != 0)
			continue;
		if (n == IOE_DISKS_MAX) {
			server_reply_error(c, -EINVAL, "more than %u disks", IOE_DISKS_MAX);
			return;
		}
		disks[n++] = m->lines[i].value;
	}
	if (n == 0) {
		server_reply_error(c, -EINVAL, "missing field \"disk\"");
		return;
	}
	if (proto_get(m, "timeout_ms") && proto_get_u64(m, "timeout_ms", &timeout_ms) < 0) {
		server_reply_error(c, -EINVAL, "timeout_ms must be a number");
		return;
	}
	/* the name (and so the access rule) comes from the disks' header */
	rc = ioe_create(&(struct ioe_config){.kind = dd->cfg.engine}, &probe_ioe);
	if (rc < 0) {
		server_reply_error(c, rc, "no I/O engine: %s", strerror(-rc));
		return;
	}
	rc = space_open(&probe, probe_ioe, disks, n, false);
	if (rc == 0)
		rc = space_load(&probe);
	snprintf(why, sizeof(why), "%s",
	         rc < 0 ? (probe.why[0] ? probe.why : strerror(-rc)) : probe.header.name);
	space_close(&probe);
	ioe_destroy(probe_ioe);
	if (rc < 0) {
		server_reply_error(c, rc, "%s", why);
		return;
	}
	if (!ops_allowed(dd, c, ACCESS_ADMIN, why, "join"))
		return;
	rc = lspace_open(dd, disks, n, (uint32_t)host_id, &ls, why, sizeof(why));
	if (rc < 0) {
		server_reply_error(c, rc, "%s", why);
		return;
	}
	w = ops_park(dd, c, WAIT_JOIN, ls);
	if (w && timeout_ms)
		w->give_up_ns = clock_now_ns(dd->clk) + timeout_ms * DL_NS_PER_MS;
}

static void op_leave(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	struct lspace *ls = ops_lspace(dd, c, m);
	const char *force = proto_get(m, "force");

	if (!ls || !ops_allowed(dd, c, ACCESS_ADMIN, ls->name, "leave"))
		return;
	if (lspace_has_leases(ls) && !(force && !strcmp(force, "1"))) {
		server_reply_error(
		        c, -EBUSY,
		        "this host holds leases in %s: release them, or leave with --force",
		        ls->name);
		return;
	}
	ls->auto_rejoin = false;
	ls->state = LS_LEAVING;
	ops_park(dd, c, WAIT_LEAVE, ls);
}

/* ---- acquire, release, inquire, request, directory ---- */

static bool ops_name_ok(struct client *c, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			len = 0;
	}
	if (len == 0 || len > ONDISK_NAME_SIZE) {
		server_reply_error(c, -EINVAL,
		                   "resource name \"%s\": 1..%u printable bytes without spaces",
		                   name, ONDISK_NAME_SIZE);
		return false;
	}
	return true;
}

static struct wait *ops_dir_wait(struct dleased *dd, struct client *c, struct lspace *ls,
                                 const char *name, enum directory_op op)
{
	struct wait *w;

	if (!ops_name_ok(c, name))
		return NULL;
	w = ops_park(dd, c, WAIT_DIR, ls);
	if (w) {
		w->dir_op = op;
		snprintf(w->name, sizeof(w->name), "%s", name);
	}
	return w;
}

static void op_acquire(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	struct lspace *ls = ops_lspace(dd, c, m);
	const char *name = ls ? ops_need(c, m, "resource") : NULL;
	const char *create = proto_get(m, "create");
	int64_t timeout_ms = 0;
	uint64_t pid = 0;
	struct wait *w;

	if (!name)
		return;
	if (proto_get(m, "timeout_ms") && proto_get_i64(m, "timeout_ms", &timeout_ms) < 0) {
		server_reply_error(c, -EINVAL, "timeout_ms must be a number (-1: for ever)");
		return;
	}
	if (proto_get(m, "pid") && (proto_get_u64(m, "pid", &pid) < 0 || !pid || pid > INT32_MAX)) {
		server_reply_error(c, -EINVAL, "pid must be a process id");
		return;
	}
	if (!ops_allowed(dd, c, pid && (pid_t)pid != c->pid ? ACCESS_ADMIN : ACCESS_ACQUIRE,
	                 ls->name, "acquire"))
		return;
	if (ls->state != LS_LIVE) {
		server_reply_error(c, -ENOLINK, "lockspace %s is %s, not live", ls->name,
		                   lspace_state_name(ls->state));
		return;
	}
	w = ops_dir_wait(dd, c, ls, name, DIR_OP_LOOKUP);
	if (!w)
		return;
	w->then_acquire = true;
	w->then = WAIT_ACQUIRE;
	w->create = !(create && !strcmp(create, "0"));
	w->wait = timeout_ms != 0;
	if (timeout_ms > 0)
		w->give_up_ns = clock_now_ns(dd->clk) + (uint64_t)timeout_ms * DL_NS_PER_MS;
	w->pid = pid ? (pid_t)pid : (c->registered ? c->reg_pid : 0);
	if (w->pid > 0) {
		w->pidfd = ops_pidfd(w->pid);
		w->pid_start = holders_proc_start(w->pid);
		if (w->pidfd < 0) {
			server_reply_error(c, -ESRCH, "pid %d: no such process", (int)w->pid);
			ops_unpark(dd, w);
		}
	}
}

static struct lres *ops_find_held(struct lspace *ls, const char *name)
{
	for (uint32_t k = 0; k < ls->res_count; k++) {
		struct lres *lr = &ls->res[k];

		if (lr->inited && lr->state != LRES_NONE && !strcmp(lr->name, name))
			return lr;
	}
	return NULL;
}

static void op_release(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	struct lspace *ls = ops_lspace(dd, c, m);
	const char *name = ls ? ops_need(c, m, "resource") : NULL;
	struct lres *lr;
	struct wait *w;

	if (!name || !ops_allowed(dd, c, ACCESS_ACQUIRE, ls->name, "release"))
		return;
	lr = ops_find_held(ls, name);
	if (!lr || lr->state != LRES_HELD) {
		server_reply_error(c, -ENOENT, "this host does not hold %s in %s%s", name, ls->name,
		                   lr ? " (it is acquiring, releasing or lost)" : "");
		return;
	}
	if (lr->owner_pid > 0 && lr->owner_pid != c->pid &&
	    !(c->registered && lr->owner_pid == c->reg_pid) &&
	    !access_allowed(dd, c->uid, c->gid, ACCESS_ADMIN, ls->name, (char[8]){0}, 8)) {
		server_reply_error(c, -EPERM, "%s is held by pid %d, not by you", name,
		                   (int)lr->owner_pid);
		return;
	}
	w = ops_park(dd, c, WAIT_RELEASE, ls);
	if (w)
		w->index = lr->r.index;
}

static void op_by_name(struct dleased *dd, struct client *c, const struct proto_msg *m,
                       enum wait_kind then)
{
	struct lspace *ls = ops_lspace(dd, c, m);
	const char *name = ls ? ops_need(c, m, "resource") : NULL;
	const char *mode = proto_get(m, "mode");
	struct wait *w;

	if (!name)
		return;
	if (then == WAIT_REQUEST) {
		if (!ops_allowed(dd, c, ACCESS_ACQUIRE, ls->name, "request"))
			return;
		if (mode && strcmp(mode, "graceful") && strcmp(mode, "force")) {
			server_reply_error(c, -EINVAL, "mode must be graceful or force");
			return;
		}
	}
	w = ops_dir_wait(dd, c, ls, name, DIR_OP_LOOKUP);
	if (!w)
		return;
	w->kind = WAIT_DIR;
	w->mode = then == WAIT_REQUEST ? (mode && !strcmp(mode, "force") ? ONDISK_REQUEST_FORCE
	                                                                 : ONDISK_REQUEST_GRACEFUL)
	                               : 0;
	w->then = then;
}

static void op_dir(struct dleased *dd, struct client *c, const struct proto_msg *m,
                   enum directory_op op)
{
	struct lspace *ls = ops_lspace(dd, c, m);
	const char *name = NULL;

	if (!ls)
		return;
	if (op != DIR_OP_NONE) {
		name = ops_need(c, m, "resource");
		if (!name || !ops_allowed(dd, c, ACCESS_ADMIN, ls->name, "resource change"))
			return;
	}
	if (ls->state != LS_LIVE && op != DIR_OP_NONE) {
		server_reply_error(c, -ENOLINK, "lockspace %s is %s, not live", ls->name,
		                   lspace_state_name(ls->state));
		return;
	}
	/* list: a lookup of a name no entry can have reads the whole table */
	ops_dir_wait(dd, c, ls, name ? name : "-", op == DIR_OP_NONE ? DIR_OP_LOOKUP : op);
	if (op == DIR_OP_NONE && dd->waits && dd->waits->c == c)
		dd->waits->list = true;
}

void ops_dispatch(struct dleased *dd, struct client *c, const struct proto_msg *m)
{
	const char *op = m->count ? m->lines[0].value : NULL;

	if (!m->count || strcmp(m->lines[0].key, "op") != 0) {
		server_reply_error(c, -EBADMSG, "the first line of a request must be op=NAME");
		return;
	}
	if (!strcmp(op, "hello"))
		op_hello(dd, c);
	else if (!strcmp(op, "status"))
		op_status(dd, c);
	else if (!strcmp(op, "hosts"))
		op_hosts(dd, c, m);
	else if (!strcmp(op, "history"))
		op_history(dd, c, m);
	else if (!strcmp(op, "metrics"))
		op_metrics(dd, c);
	else if (!strcmp(op, "watch"))
		op_watch(dd, c, m);
	else if (!strcmp(op, "register"))
		op_register(dd, c, m);
	else if (!strcmp(op, "join"))
		op_join(dd, c, m);
	else if (!strcmp(op, "leave"))
		op_leave(dd, c, m);
	else if (!strcmp(op, "acquire"))
		op_acquire(dd, c, m);
	else if (!strcmp(op, "release"))
		op_release(dd, c, m);
	else if (!strcmp(op, "inquire") || !strcmp(op, "leader"))
		op_by_name(dd, c, m, WAIT_INQUIRE);
	else if (!strcmp(op, "request"))
		op_by_name(dd, c, m, WAIT_REQUEST);
	else if (!strcmp(op, "resource_create"))
		op_dir(dd, c, m, DIR_OP_CREATE);
	else if (!strcmp(op, "resource_delete"))
		op_dir(dd, c, m, DIR_OP_DELETE);
	else if (!strcmp(op, "resource_list"))
		op_dir(dd, c, m, DIR_OP_NONE);
	else
		server_reply_error(c, -EBADMSG, "unknown op \"%s\"", op);
}

/* ---- finishing parked requests ---- */

static void ops_put_leader(struct dleased *dd, struct proto_buf *b, struct lspace *ls,
                           struct lres *lr)
{
	struct ondisk_leader mine, *ld = &lr->r.leader;
	uint64_t owner;

	if (lr->state == LRES_HELD) {
		/* ours: r.leader is the record our commit replaced */
		mine = *ld;
		mine.hdr.seq = lr->token;
		mine.owner_host_id = ls->host_id;
		mine.owner_generation = lr->r.held_generation;
		mine.prev_owner_host_id = ld->owner_host_id;
		mine.prev_owner_generation = ld->owner_generation;
		mine.reason = lr->r.reason;
		mine.since_wall_ms = lr->r.commit_wall_ms; /* the record our commit wrote */
		ld = &mine;
	}
	owner = ld->owner_host_id;
	const char *state = "unknown", *name = "";

	(void)dd;
	if (owner && owner <= ls->scan_count) {
		uint32_t h = (uint32_t)owner - 1;

		state = ops_host_state(ls, h);
		if (ls->scan_valid[h]) {
			name = ls->scan_hosts[h].host_name;
			if (ls->scan_hosts[h].hdr.writer_generation != ld->owner_generation &&
			    owner != ls->host_id)
				state = "dead"; /* the host rejoined: that generation is over */
		}
	}
	if (owner == ls->host_id) {
		name = ls->dd->cfg.host_name;
		state = lr->state == LRES_HELD ? "live" : state;
	}
	if (owner == 0 && ld->hdr.seq == 0)
		state = "free";
	proto_put(b, "lockspace", ls->name);
	proto_put(b, "resource", lr->name[0] ? lr->name : ld->name);
	proto_put_u64(b, "token", ld->hdr.seq);
	proto_put_u64(b, "owner_host_id", owner);
	proto_put_u64(b, "owner_generation", ld->owner_generation);
	proto_put(b, "owner_name", name);
	proto_put(b, "owner_state", owner ? state : "free");
	proto_put_u64(b, "since_ms", ld->since_wall_ms);
	proto_put(b, "reason", ondisk_reason_name(ld->reason));
	proto_put_u64(b, "prev_host_id", ld->prev_owner_host_id);
	proto_put_u64(b, "prev_generation", ld->prev_owner_generation);
	if (lr->r.request_valid && lr->r.request.hdr.seq == ld->hdr.seq && lr->r.request.mode)
		proto_put(b, "request_mode",
		          lr->r.request.mode == ONDISK_REQUEST_FORCE ? "force" : "graceful");
}

struct ops_list_ctx {
	struct proto_buf *b;
};

static void ops_list_one(const char *name, uint32_t index, void *ctx)
{
	struct ops_list_ctx *x = ctx;

	proto_put(x->b, "record", "resource");
	proto_put(x->b, "resource", name);
	proto_put_u64(x->b, "index", index);
}

static bool ops_dir_busy(const struct dleased *dd, const struct wait *me)
{
	for (const struct wait *w = dd->waits; w; w = w->next) {
		if (w != me && w->ls == me->ls && w->kind == WAIT_DIR && w->started)
			return true;
	}
	return false;
}

/* Returns true when w is finished (replied or dropped). */
static bool ops_step_dir(struct dleased *dd, struct wait *w)
{
	struct directory *d = &w->ls->dir;
	struct proto_buf b;
	int rc;

	if (!w->started) {
		if (ops_dir_busy(dd, w) || (d->state != DIR_IDLE && d->state != DIR_FAILED))
			return false;
		rc = w->dir_op == DIR_OP_CREATE   ? directory_create(d, w->name)
		     : w->dir_op == DIR_OP_DELETE ? directory_delete(d, w->name)
		                                  : directory_lookup(d, w->name);
		if (rc < 0) {
			if (w->c)
				server_reply_error(w->c, rc, "%s: %s", w->name,
				                   d->why[0] ? d->why : strerror(-rc));
			return true;
		}
		w->started = true;
		return false;
	}
	if (d->state == DIR_FAILED && d->error == -ENOENT && w->then_acquire && w->create &&
	    d->op == DIR_OP_LOOKUP && w->c &&
	    !ops_allowed(dd, w->c, ACCESS_CREATE, w->ls->name, "create (by acquiring a new name)"))
		return true;
	if (d->state == DIR_FAILED && d->error == -ENOENT && w->then_acquire && w->create &&
	    d->op == DIR_OP_LOOKUP) {
		rc = directory_create(d, w->name); /* acquiring a new name creates it */
		if (rc == 0)
			return false;
		d->error = rc;
	}
	if (d->state == DIR_FAILED) {
		if (w->list && d->error == -ENOENT) {
			/* fall through: the table was read, the name is absent by design */
		} else {
			if (w->c)
				server_reply_error(w->c, d->error, "%s%s",
				                   d->why[0] ? d->why : w->name,
				                   d->error == -ENOENT ? ": no such resource" : "");
			return true;
		}
	} else if (d->state != DIR_IDLE) {
		return false;
	}
	if (w->list) {
		struct ops_list_ctx x = {.b = &b};

		ops_begin(&b);
		proto_put(&b, "lockspace", w->ls->name);
		rc = directory_each(d, ops_list_one, &x);
		if (rc < 0) {
			proto_buf_free(&b);
			if (w->c)
				server_reply_error(w->c, rc, "part of the directory is unreadable");
			return true;
		}
		if (w->c)
			server_send(w->c, &b);
		proto_buf_free(&b);
		return true;
	}
	if (w->dir_op != DIR_OP_LOOKUP && !w->then_acquire) {
		ops_begin(&b);
		proto_put(&b, "resource", w->name);
		proto_put_u64(&b, "index", d->index);
		if (w->c)
			server_send(w->c, &b);
		proto_buf_free(&b);
		return true;
	}
	w->index = d->index;
	w->kind = w->then;
	w->started = false;
	return false;
}

/* The lease a parked request is about; NULL (and the client told) when out of memory. */
static struct lres *ops_lres(struct wait *w)
{
	struct lres *lr = lspace_res(w->ls, w->index);

	if (!lr && w->c)
		server_reply_error(w->c, -ENOMEM, "out of memory");
	return lr;
}

static bool ops_step_acquire(struct dleased *dd, struct wait *w, uint64_t now)
{
	struct lspace *ls = w->ls;
	struct lres *lr = ops_lres(w);
	struct proto_buf b;
	int rc;

	(void)dd;
	if (!lr)
		return true;
	if (!w->started) {
		if (!w->c)
			return true;
		if (lr->state == LRES_HELD && lr->owner_pid == w->pid) {
			server_reply_error(w->c, -EALREADY,
			                   "%s is held already (token %" PRIu64 ")", w->name,
			                   lr->token);
			return true;
		}
		if (lr->state != LRES_NONE || !lres_idle(lr)) {
			if (w->wait && (!w->give_up_ns || now < w->give_up_ns))
				return false;
			server_reply_error(w->c, -EBUSY, "%s is held by this host (%s)", w->name,
			                   lr->owner_pid > 0 ? "a local process"
			                                     : "the host itself");
			return true;
		}
		if (ls->state != LS_LIVE) {
			server_reply_error(w->c, -ENOLINK, "lockspace %s is %s, not live", ls->name,
			                   lspace_state_name(ls->state));
			return true;
		}
		rc = resource_acquire(&lr->r, w->wait, w->wait ? w->give_up_ns : 0);
		if (rc < 0) {
			server_reply_error(w->c, rc, "%s: %s", w->name,
			                   lr->r.why[0] ? lr->r.why : strerror(-rc));
			return true;
		}
		snprintf(lr->name, sizeof(lr->name), "%s", w->name);
		lr->state = LRES_ACQUIRING;
		lr->acquire_start_ns = now;
		lr->owner_pid = w->pid;
		lr->owner_pidfd = w->pidfd;
		lr->owner_start = w->pid_start;
		lr->owner = w->pid > 0 && w->c->registered && w->c->reg_pid == w->pid ? w->c : NULL;
		w->pidfd = -1;
		w->started = true;
		return false;
	}
	if (lr->state == LRES_ACQUIRING)
		return false;
	if (lr->state == LRES_HELD) {
		if (!w->c) {
			/* the asker went away while we acquired: give it back */
			lr->release_wanted = true;
			return true;
		}
		ops_begin(&b);
		proto_put(&b, "lockspace", ls->name);
		proto_put(&b, "resource", lr->name);
		proto_put_u64(&b, "token", lr->token);
		proto_put_u64(&b, "generation", lr->r.held_generation);
		proto_put_u64(&b, "host_id", ls->host_id);
		proto_put_i64(&b, "slot", lr->vslot);
		proto_put_u64(&b, "act_until_ns", ls->delta.act_until_ns);
		proto_put(&b, "reason", ondisk_reason_name(lr->r.reason));
		proto_put_u64(&b, "prev_host_id", lr->r.leader.owner_host_id);
		proto_put_u64(&b, "prev_generation", lr->r.leader.owner_generation);
		server_send(w->c, &b);
		proto_buf_free(&b);
		return true;
	}
	if (w->c) {
		int err = lr->r.error ? lr->r.error : -ECANCELED;

		if (err == -ETIMEDOUT && w->give_up_ns && now >= w->give_up_ns)
			server_reply_error(w->c, err,
			                   "%s: still held by another host after the wait",
			                   w->name);
		else
			server_reply_error(w->c, err, "%s: %s", w->name,
			                   lr->r.why[0] ? lr->r.why : strerror(-err));
	}
	return true;
}

static bool ops_step_release(struct dleased *dd, struct wait *w)
{
	struct lres *lr = lspace_res(w->ls, w->index);
	struct proto_buf b;

	if (!w->started) {
		if (!lr || lr->state != LRES_HELD) {
			if (w->c)
				server_reply_error(w->c, -ENOENT, "the lease is no longer held");
			return true;
		}
		if (!lres_idle(lr) && lr->r.state != RES_HELD)
			return false;
		if (lr->r.pending || lr->r.round.busy || lr->r.checking)
			return false;
		if (lr->vslot >= 0)
			validity_set_state(dd, lr->vslot,
			                   VALIDITY_FREE); /* nobody acts from here on */
		lr->state = LRES_RELEASING;
		if (resource_release(&lr->r) < 0) {
			lr->state = LRES_HELD;
			if (w->c)
				server_reply_error(w->c, -EIO, "cannot release: %s", lr->r.why);
			return true;
		}
		w->started = true;
		return false;
	}
	if (lr && lr->state == LRES_RELEASING)
		return false;
	if (w->c) {
		ops_begin(&b);
		server_send(w->c, &b);
		proto_buf_free(&b);
	}
	return true;
}

static bool ops_step_inquire(struct dleased *dd, struct wait *w)
{
	struct lres *lr = ops_lres(w);
	struct resource *r = lr ? &lr->r : NULL;
	struct proto_buf b;
	int rc;

	if (!lr)
		return true;
	if (!w->started && lr->state == LRES_NONE) {
		if (!lres_idle(lr))
			return false;
		rc = resource_inquire(r);
		if (rc < 0) {
			if (w->c)
				server_reply_error(w->c, rc, "%s", r->why);
			return true;
		}
		w->started = true;
		return false;
	}
	if (w->started && r->state != RES_IDLE && r->state != RES_FAILED)
		return false;
	if (!w->c)
		return true;
	if (w->started && r->state == RES_FAILED) {
		server_reply_error(w->c, r->error, "%s: %s", w->name, r->why);
		return true;
	}
	ops_begin(&b);
	if (!lr->name[0] || lr->state == LRES_NONE)
		snprintf(lr->name, sizeof(lr->name), "%s", w->name);
	ops_put_leader(dd, &b, w->ls, lr);
	server_send(w->c, &b);
	proto_buf_free(&b);
	return true;
}

static bool ops_step_request(struct dleased *dd, struct wait *w)
{
	struct lres *lr = ops_lres(w);
	struct proto_buf b;
	int rc;

	(void)dd;
	if (!lr)
		return true;
	if (!w->started) {
		if (lr->state == LRES_HELD) {
			if (w->c)
				server_reply_error(w->c, -EALREADY, "this host holds %s itself",
				                   w->name);
			return true;
		}
		if (lr->state != LRES_NONE || !lres_idle(lr))
			return false;
		rc = resource_request(&lr->r, w->mode);
		if (rc < 0) {
			if (w->c)
				server_reply_error(w->c, rc, "%s", lr->r.why);
			return true;
		}
		w->started = true;
		return false;
	}
	if (lr->r.state != RES_IDLE && lr->r.state != RES_FAILED)
		return false;
	if (!w->c)
		return true;
	if (lr->r.state == RES_FAILED) {
		server_reply_error(w->c, lr->r.error, "%s: %s", w->name,
		                   lr->r.error == -ENOENT ? "nobody holds it" : lr->r.why);
		return true;
	}
	ops_begin(&b);
	proto_put_u64(&b, "token", lr->r.leader.hdr.seq);
	proto_put_u64(&b, "owner_host_id", lr->r.leader.owner_host_id);
	server_send(w->c, &b);
	proto_buf_free(&b);
	return true;
}

static bool ops_step_join(struct dleased *dd, struct wait *w, uint64_t now)
{
	struct lspace *ls = w->ls;
	struct proto_buf b;

	if (ls->state == LS_JOINING) {
		if (w->give_up_ns && now >= w->give_up_ns) {
			if (w->c)
				server_reply_error(
				        w->c, -ETIMEDOUT,
				        "still joining %s (%s): the join goes on; see dlctl status",
				        ls->name, delta_state_name(ls->delta.state));
			return true;
		}
		return false;
	}
	if (ls->state == LS_LIVE) {
		if (w->c) {
			ops_begin(&b);
			proto_put(&b, "lockspace", ls->name);
			proto_put_u64(&b, "host_id", ls->host_id);
			proto_put_u64(&b, "generation", ls->delta.generation);
			proto_put_u64(&b, "io_timeout_ms", ls->space.header.io_timeout_ms);
			server_send(w->c, &b);
			proto_buf_free(&b);
		}
		return true;
	}
	if (w->c)
		server_reply_error(w->c, ls->delta.error ? ls->delta.error : -EIO, "%s: %s",
		                   ls->name,
		                   ls->delta.why[0] ? ls->delta.why : lspace_state_name(ls->state));
	if (ls->state == LS_FAILED) {
		ops_forget_lspace(dd, ls);
		lspace_destroy(ls);
	}
	return true;
}

static bool ops_step_leave(struct dleased *dd, struct wait *w)
{
	struct lspace *ls = w->ls;
	struct proto_buf b;

	if (ls->state != LS_LEFT)
		return false;
	if (w->c) {
		ops_begin(&b);
		proto_put(&b, "lockspace", ls->name);
		server_send(w->c, &b);
		proto_buf_free(&b);
	}
	w->ls = NULL;
	ops_forget_lspace(dd, ls);
	lspace_destroy(ls);
	return true;
}

uint64_t ops_step(struct dleased *dd)
{
	uint64_t now = clock_now_ns(dd->clk), wake = 0;
	bool again = true;

	for (int round = 0; again && round < 8; round++) {
		again = false;
		for (struct wait *w = dd->waits, *next; w; w = next) {
			enum wait_kind before = w->kind;
			bool done;

			next = w->next;
			switch (w->kind) {
			case WAIT_JOIN:
				done = ops_step_join(dd, w, now);
				break;
			case WAIT_LEAVE:
				done = ops_step_leave(dd, w);
				break;
			case WAIT_DIR:
				done = ops_step_dir(dd, w);
				break;
			case WAIT_ACQUIRE:
				done = ops_step_acquire(dd, w, now);
				break;
			case WAIT_RELEASE:
				done = ops_step_release(dd, w);
				break;
			case WAIT_INQUIRE:
				done = ops_step_inquire(dd, w);
				break;
			default:
				done = ops_step_request(dd, w);
				break;
			}
			if (done) {
				ops_unpark(dd, w);
				again = true;
				break; /* the list may have changed under us */
			}
			if (w->kind != before)
				again = true;
			if (w->give_up_ns)
				wake = wake ? DL_MIN(wake, w->give_up_ns) : w->give_up_ns;
		}
	}
	return wake;
}

void ops_forget_client(struct dleased *dd, struct client *c)
{
	for (struct wait *w = dd->waits; w; w = w->next) {
		if (w->c != c)
			continue;
		w->c = NULL;
		if (w->kind == WAIT_ACQUIRE && w->started) {
			struct lres *lr = lspace_res(w->ls, w->index);

			if (lr && lr->state == LRES_ACQUIRING)
				resource_cancel(&lr->r);
		}
	}
}

void ops_forget_lspace(struct dleased *dd, struct lspace *ls)
{
	for (struct wait *w = dd->waits, *next; w; w = next) {
		next = w->next;
		if (w->ls != ls)
			continue;
		if (w->c && w->kind != WAIT_JOIN && w->kind != WAIT_LEAVE)
			server_reply_error(w->c, -ENOLINK, "lockspace %s went away", ls->name);
		w->ls = NULL;
		if (w->kind != WAIT_JOIN && w->kind != WAIT_LEAVE)
			ops_unpark(dd, w);
	}
}
