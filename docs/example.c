/* SPDX-License-Identifier: MIT */
/*
 * example.c: a worker that acts only while it holds a lease (docs/client.md).
 *
 *   dlease_example LOCKSPACE RESOURCE [UNITS]
 *
 * The operator has started dleased and joined the lockspace (dlctl join).
 * The worker registers, so the lease is its own and dies with it; watches
 * its resource, so it hears when another host asks for the lease; waits for
 * the lease; then does UNITS units of work (default 10), one a second. Before
 * each unit it asks dlease_valid() whether it may still act, and passes the
 * fencing token along with the work, so storage can refuse a stale holder.
 * A `request` event makes it hand the lease over; `lost` makes it stop.
 * Exit: 0 all units done, 1 error, 75 lease lost or handed over.
 *
 * Built with every build (target dlease_example) so it cannot rot.
 */
#include <dlease.h>

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#define EXIT_LEASE_GONE 75

static int fail(struct dlease *h, const char *what, int rc)
{
	fprintf(stderr, "example: %s: %s (%s)\n", what, dlease_strerror(rc), dlease_last_error(h));
	return 1;
}

/* Handle what the daemon told us; false when the worker must stop acting. */
static bool keep_going(struct dlease *h, const struct dlease_lease *lease)
{
	struct dlease_event ev;

	while (dlease_next_event(h, &ev, 0) == 0) {
		if (ev.kind == DLEASE_EVENT_REQUEST && ev.token == lease->token) {
			printf("host %" PRIu64 " asks for %s: handing it over\n", ev.new_host_id,
			       lease->resource);
			return false;
		}
		if (ev.kind == DLEASE_EVENT_LOST) {
			printf("lease lost: %s\n", ev.reason);
			return false;
		}
	}
	return true;
}

/* One unit of work. A real worker sends the token with every write it makes. */
static void do_work(unsigned unit, uint64_t token)
{
	printf("unit %u under token %" PRIu64 "\n", unit, token);
}

int main(int argc, char **argv)
{
	struct dlease_lease lease;
	struct dlease *h;
	unsigned units = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 10;
	unsigned unit;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: dlease_example LOCKSPACE RESOURCE [UNITS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = dlease_connect(NULL, &h); /* $DLEASE_RUN_DIR, else /run/dlease */
	if (rc < 0) {
		fprintf(stderr, "example: %s\n", dlease_last_error(NULL));
		return 1;
	}
	rc = dlease_register(h, 0);
	if (rc == 0)
		rc = dlease_watch(h, DLEASE_SEQ_NOW, argv[1], argv[2], NULL);
	if (rc < 0) {
		fail(h, "register/watch", rc);
		dlease_close(h);
		return 1;
	}
	rc = dlease_acquire(h, argv[1], argv[2], DLEASE_WAIT_FOREVER, DLEASE_ACQUIRE_CREATE, 0,
	                    &lease);
	if (rc < 0) {
		fail(h, "acquire", rc);
		dlease_close(h);
		return 1;
	}
	printf("acquired %s/%s, token %" PRIu64 "\n", lease.lockspace, lease.resource, lease.token);
	for (unit = 0; unit < units; unit++) {
		struct pollfd p = {.fd = dlease_fd(h), .events = POLLIN};
		uint64_t token;

		if (!keep_going(h, &lease))
			break;
		if (!dlease_valid(h, &lease, &token)) {
			printf("lease no longer valid: stopping\n");
			break;
		}
		do_work(unit, token);
		poll(&p, 1, 1000); /* the pace of work; wakes early for an event */
	}
	rc = dlease_release(h, lease.lockspace, lease.resource);
	if (rc < 0 && unit == units)
		fail(h, "release", rc);
	dlease_close(h);
	return unit == units ? 0 : EXIT_LEASE_GONE;
}
