/* SPDX-License-Identifier: MIT */
/*
 * sim_trace.c: the event ring of a run (the last SIM_TRACE_RING events:
 * virtual time, host, what happened), its printing, and a hash of the final
 * disk contents for comparing replays. The hash covers the decoded fields
 * that the protocol decides on (identities, generations, sequence numbers,
 * host-clock timestamps, leaders, ballots) and the state of every damaged
 * sector, and leaves out what differs between identical runs by design:
 * the lockspace uuid (getrandom at format) and wall-clock fields.
 */
#include "base/compat.h"
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "banned.h"

#define SIM_FNV_OFFSET 0xcbf29ce484222325ull
#define SIM_FNV_PRIME  0x100000001b3ull

void sim_event(struct sim_world *w, int32_t host, const char *fmt, ...)
{
	struct sim_event *e = &w->ring[w->event_count % SIM_TRACE_RING];
	va_list ap;

	e->at_ns = sim_now(w);
	e->host = host;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	w->event_count++;
}

void sim_trace_print(const struct sim_world *w, FILE *out, uint32_t count)
{
	uint64_t shown = DL_MIN((uint64_t)DL_MIN(count, SIM_TRACE_RING), w->event_count);

	fprintf(out, "  trace: last %llu of %llu events (virtual seconds since start)\n",
	        (unsigned long long)shown, (unsigned long long)w->event_count);
	for (uint64_t n = w->event_count - shown; n < w->event_count; n++) {
		const struct sim_event *e = &w->ring[n % SIM_TRACE_RING];
		double at = (double)(e->at_ns - w->start_ns) / 1e9;

		if (e->host < 0)
			fprintf(out, "  [%9.3f] world        %s\n", at, e->text);
		else
			fprintf(out, "  [%9.3f] h%-2d (id %2u)  %s\n", at, e->host,
			        w->host[e->host].host_id, e->text);
	}
}

static void hash_u64(uint64_t *h, uint64_t v)
{
	for (unsigned k = 0; k < 8; k++) {
		*h ^= (v >> (8 * k)) & 0xffu;
		*h *= SIM_FNV_PRIME;
	}
}

static void hash_bytes(uint64_t *h, const uint8_t *p, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		*h ^= p[k];
		*h *= SIM_FNV_PRIME;
	}
}

static void hash_host(uint64_t *h, const struct space *sp, const uint8_t *data, uint32_t disk,
                      uint32_t q)
{
	uint64_t off = layout_host_offset(&sp->layout, q);
	struct ondisk_expect ex;
	struct ondisk_host rec;
	enum ondisk_state st;

	space_expect(sp, disk, ONDISK_KIND_HOST, off, &ex);
	st = ondisk_host_decode(data + off, &ex, &rec);
	hash_u64(h, st);
	if (st != ONDISK_VALID)
		return;
	hash_u64(h, rec.hdr.writer_host_id);
	hash_u64(h, rec.hdr.writer_generation);
	hash_u64(h, rec.hdr.seq);
	hash_u64(h, rec.timestamp_ns);
	hash_u64(h, rec.state);
	hash_bytes(h, rec.host_uuid, sizeof(rec.host_uuid));
	hash_bytes(h, rec.boot_id, sizeof(rec.boot_id));
}

static void hash_lease(uint64_t *h, const struct space *sp, const uint8_t *data, uint32_t disk,
                       uint32_t i)
{
	uint64_t off = layout_leader_offset(&sp->layout, i);
	struct ondisk_expect ex;
	struct ondisk_leader ld;
	struct ondisk_ballot b;
	enum ondisk_state st;

	space_expect(sp, disk, ONDISK_KIND_LEADER, off, &ex);
	st = ondisk_leader_decode(data + off, &ex, &ld);
	hash_u64(h, st);
	if (st == ONDISK_VALID) {
		hash_u64(h, ld.owner_host_id);
		hash_u64(h, ld.owner_generation);
		hash_u64(h, ld.lver);
		hash_u64(h, ld.reason);
	}
	for (uint32_t q = 1; q <= sp->layout.max_hosts; q++) {
		off = layout_ballot_offset(&sp->layout, i, q);
		space_expect(sp, disk, ONDISK_KIND_BALLOT, off, &ex);
		st = ondisk_ballot_decode(data + off, &ex, &b);
		hash_u64(h, st);
		if (st != ONDISK_VALID)
			continue;
		hash_u64(h, b.mbal);
		hash_u64(h, b.bal);
		hash_u64(h, b.inp_owner_host_id);
		hash_u64(h, b.inp_owner_generation);
		hash_u64(h, b.lver);
	}
}

uint64_t sim_disk_hash(const struct sim_world *w)
{
	const struct space *sp = &w->host[0].space;
	uint64_t h = SIM_FNV_OFFSET;

	for (uint32_t k = 0; k < w->cfg.disks; k++) {
		const uint8_t *data = ioe_sim_disk_data(w->disks[k]);

		for (uint32_t q = 1; q <= sp->layout.max_hosts; q++)
			hash_host(&h, sp, data, k, q);
		for (uint32_t i = 0; i < w->cfg.resources; i++)
			hash_lease(&h, sp, data, k, i);
	}
	return h;
}
