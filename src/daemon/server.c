/* SPDX-License-Identifier: MIT */
/*
 * server.c: the control socket. Accepts connections, takes each peer's
 * credentials (SO_PEERCRED), reads length-prefixed frames without blocking,
 * hands each parsed request to ops_dispatch(), and writes replies and events
 * from a per-connection output buffer. A connection has at most one request
 * in progress; frames behind it wait in the input buffer. Broken framing (a
 * length beyond PROTO_REQUEST_MAX) gets an error reply and the connection is
 * closed; a malformed payload gets an error reply only.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "banned.h"

int server_listen(struct dleased *dd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(dd->path_sock) >= sizeof(sa.sun_path)) {
		dl_err("socket path %s is too long for a Unix socket", dd->path_sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, dd->path_sock, strlen(dd->path_sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(dd->path_sock); /* we hold the run directory's lock: any old socket is stale */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		dl_err("socket %s: %s", dd->path_sock, strerror(-rc));
		close(fd);
		return rc;
	}
	{
		struct stat st;

		dd->sock_ino = stat(dd->path_sock, &st) == 0 ? st.st_ino : 0;
	}
	if (dd->cfg.socket_group) {
		struct group *gr = getgrnam(dd->cfg.socket_group);

		if (!gr || chown(dd->path_sock, (uid_t)-1, gr->gr_gid) < 0)
			dl_warn("socket %s: cannot give it to group %s", dd->path_sock,
			        dd->cfg.socket_group);
		chmod(dd->path_sock, 0660);
	} else {
		chmod(dd->path_sock, 0600);
	}
	dd->listen_fd = fd;
	return 0;
}

void server_close(struct dleased *dd)
{
	while (dd->clients)
		server_drop(dd, dd->clients);
	if (dd->listen_fd >= 0) {
		struct stat st;

		close(dd->listen_fd);
		/* only our own socket: a successor may have bound the path already */
		if (stat(dd->path_sock, &st) == 0 && st.st_ino == dd->sock_ino)
			unlink(dd->path_sock);
	}
	dd->listen_fd = -1;
}

void server_accept(struct dleased *dd)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *c;
		int fd = accept4(dd->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (dd->client_count >= DLEASED_CLIENTS_MAX ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			dl_warn("refusing a connection: %s", dd->client_count >= DLEASED_CLIENTS_MAX
			                                             ? "too many clients"
			                                             : strerror(errno));
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		c->reg_pidfd = -1;
		c->next = dd->clients;
		dd->clients = c;
		dd->client_count++;
	}
}

static int server_reserve(uint8_t **buf, size_t *cap, size_t want)
{
	uint8_t *p;

	if (want <= *cap)
		return 0;
	want = DL_MAX(want, *cap * 2);
	p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

static void server_flush(struct client *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			c->closing = true;
			c->out_len = 0;
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
}

void server_send(struct client *c, struct proto_buf *b)
{
	if (c->closing)
		return;
	if (proto_finish(b, PROTO_REPLY_MAX) < 0) {
		struct proto_buf e;

		proto_buf_init(&e);
		proto_put(&e, "rc", "-90");
		proto_put(&e, "error", "reply too large");
		proto_finish(&e, PROTO_REPLY_MAX);
		server_send(c, &e);
		proto_buf_free(&e);
		return;
	}
	if (c->out_len + b->len > 16u * PROTO_REPLY_MAX ||
	    server_reserve(&c->out, &c->out_cap, c->out_len + b->len) < 0) {
		dl_warn("client pid %d does not read its socket: dropping it", (int)c->pid);
		c->closing = true;
		return;
	}
	memcpy(c->out + c->out_len, b->data, b->len);
	c->out_len += b->len;
	server_flush(c);
}

void server_reply_error(struct client *c, int rc, const char *fmt, ...)
{
	struct proto_buf b;
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	proto_buf_init(&b);
	proto_put_i64(&b, "rc", rc < 0 ? rc : -EIO);
	proto_put(&b, "error", why);
	server_send(c, &b);
	proto_buf_free(&b);
}

/* Take whole frames from c->in while no request of c is in progress. */
static void server_frames(struct dleased *dd, struct client *c)
{
	while (!c->waiting && !c->closing && c->in_len >= 4) {
		uint32_t len = proto_frame_len(c->in);
		struct proto_msg m;
		char why[256];

		if (len > PROTO_REQUEST_MAX) {
			server_reply_error(
			        c, -EMSGSIZE,
			        "frame of %u bytes: requests are at most %u bytes (is this a "
			        "dlease client?)",
			        len, PROTO_REQUEST_MAX);
			c->closing = true;
			return;
		}
		if (c->in_len < 4 + (size_t)len)
			return;
		if (proto_parse(c->in + 4, len, &m, why, sizeof(why)) < 0) {
			server_reply_error(c, -EBADMSG, "malformed request: %s", why);
		} else {
			ops_dispatch(dd, c, &m);
			proto_msg_free(&m);
		}
		memmove(c->in, c->in + 4 + len, c->in_len - 4 - len);
		c->in_len -= 4 + (size_t)len;
	}
}

void server_client_io(struct dleased *dd, struct client *c, short revents)
{
	if (revents & POLLOUT)
		server_flush(c);
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		for (;;) {
			ssize_t n;

			if (server_reserve(&c->in, &c->in_cap, c->in_len + 65536) < 0) {
				c->closing = true;
				break;
			}
			n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
			if (n > 0) {
				c->in_len += (size_t)n;
				if (c->in_len > 2u * (PROTO_REQUEST_MAX + 4))
					break; /* let frames drain first */
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				c->closing = true; /* peer closed: answer nothing more */
				c->out_len = 0;
			}
			break;
		}
	}
	server_frames(dd, c);
}

/* Release the leases that belong to c (its connection closed or its process exited). */
void server_client_exited(struct dleased *dd, struct client *c)
{
	for (uint32_t i = 0; i < dd->space_count; i++) {
		struct lspace *ls = dd->spaces[i];

		for (uint32_t k = 0; k < ls->res_count; k++) {
			struct lres *lr = &ls->res[k];

			if (!lr->inited || lr->owner != c)
				continue;
			lr->owner = NULL;
			if (lr->state == LRES_HELD) {
				dl_info("%s/%s: holder pid %d is gone: releasing", ls->name,
				        lr->name, (int)lr->owner_pid);
				lr->release_wanted = true;
			} else if (lr->state == LRES_ACQUIRING) {
				resource_cancel(&lr->r);
			}
		}
	}
}

void server_drop(struct dleased *dd, struct client *c)
{
	ops_forget_client(dd, c);
	if (c->registered)
		server_client_exited(dd, c);
	for (struct client **p = &dd->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	dd->client_count--;
	if (c->reg_pidfd >= 0)
		close(c->reg_pidfd);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}
