/* SPDX-License-Identifier: MIT */
/*
 * test_resource.c: resource leases by Disk Paxos on simulated disks: an
 * uncontended acquire in six rounds with token 1, release and a higher token
 * next time, two contenders of whom exactly one wins, takeover only after the
 * owner's host is dead, fast takeover from an owner that rejoined, a minority
 * of failed disks, damaged ballots (never counted as empty: a dead host's
 * stops the resource with a clear error; a live host rewrites its own from
 * memory, a restarted one cannot), phase 0 after a restart (the vote is
 * adopted, never overwritten), the lease lost with its host lease, and the
 * bytes read per acquire.
 */
#include "base/compat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lease/resource.h"
#include "simfix.h"

#define T_MS 1000u
#define T_NS (T_MS * 1000000ull)
#define MS   1000000ull

struct host {
	struct delta d;
	struct resource r;
	bool up;
};

struct ctx {
	struct simfix f;
	struct host h[3];
	uint32_t count;
	bool (*until)(struct ctx *c);
};

static void host_init(struct ctx *c, uint32_t e, uint32_t host_id, uint8_t uuid, uint8_t boot)
{
	struct delta_identity id;

	memset(&id, 0, sizeof(id));
	snprintf(id.host_name, sizeof(id.host_name), "host-%u", host_id);
	memset(id.host_uuid, uuid, 16);
	memset(id.boot_id, boot, 16);
	assert_int_equal(delta_init(&c->h[e].d, &c->f.space[e], c->f.ioe[e], &c->f.tm,
	                            &c->f.clock.clk, host_id, &id),
	                 0);
	assert_int_equal(resource_init(&c->h[e].r, &c->f.space[e], c->f.ioe[e], &c->f.tm,
	                               &c->f.clock.clk, &c->h[e].d, 0),
	                 0);
	c->h[e].up = true;
	c->count = DL_MAX(c->count, e + 1);
}

static bool step_all(void *p)
{
	struct ctx *c = p;

	for (uint32_t i = 0; i < c->count; i++) {
		struct delta *d = &c->h[i].d;

		if (!c->h[i].up)
			continue;
		delta_step(d);
		if (d->mailbox_new && d->mailbox.mode == ONDISK_REQUEST_REPAIR) {
			d->mailbox_new = false; /* what the daemon does with a REPAIR note */
			resource_repair(&c->h[i].r);
		}
		resource_step(&c->h[i].r);
	}
	return c->until ? c->until(c) : false;
}

static bool run_until(struct ctx *c, bool (*until)(struct ctx *), uint64_t for_ns)
{
	c->until = until;
	return simfix_run(&c->f, simfix_now(&c->f) + for_ns, MS, step_all, c);
}

static bool all_live(struct ctx *c)
{
	for (uint32_t i = 0; i < c->count; i++) {
		if (c->h[i].up && c->h[i].d.state != DELTA_LIVE)
			return false;
	}
	return true;
}

static bool r0_settled(struct ctx *c)
{
	return c->h[0].r.state == RES_HELD || c->h[0].r.state == RES_FAILED;
}

static bool r1_settled(struct ctx *c)
{
	return c->h[1].r.state == RES_HELD || c->h[1].r.state == RES_FAILED;
}

static bool both_settled(struct ctx *c)
{
	return r0_settled(c) && r1_settled(c);
}

static bool r0_idle(struct ctx *c)
{
	return c->h[0].r.state == RES_IDLE;
}

static bool never(struct ctx *c)
{
	(void)c;
	return false;
}

static void join_all(struct ctx *c)
{
	for (uint32_t i = 0; i < c->count; i++)
		assert_int_equal(delta_join(&c->h[i].d, false), 0);
	assert_true(run_until(c, all_live, 10 * T_NS));
	/* a host that just joined holds off its first ballot (timing.h): let that pass */
	run_until(c, never, c->f.tm.ballot_holdoff_ns);
}

static void teardown_ctx(struct ctx *c)
{
	for (uint32_t i = 0; i < c->count; i++) {
		for (int k = 0; k < 10000 && (c->h[i].d.round.busy || c->h[i].r.round.busy); k++) {
			ioe_sim_clock_advance(&c->f.clock, MS);
			ioe_poll(c->f.ioe[i], 0);
			round_finished(&c->h[i].d.round);
			round_finished(&c->h[i].r.round);
		}
		resource_free(&c->h[i].r);
		delta_free(&c->h[i].d);
	}
	simfix_free(&c->f);
}

/* The leader record of resource 0 on disk 0, as the disk holds it now. */
static void disk_leader(struct ctx *c, struct ondisk_leader *out)
{
	uint64_t off = layout_leader_offset(&c->f.space[0].layout, 0);
	struct ondisk_expect ex;

	space_expect(&c->f.space[0], 0, ONDISK_KIND_LEADER, off, &ex);
	assert_int_equal(ondisk_leader_decode(ioe_sim_disk_data(c->f.disks[0]) + off, &ex, out),
	                 ONDISK_VALID);
}

static void test_resource_uncontended_acquire_release(void **state)
{
	static struct ctx c;
	struct ondisk_leader ld;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 1, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_HELD);
	assert_true(resource_is_held(&c.h[0].r, simfix_now(&c.f)));
	assert_int_equal(c.h[0].r.token, 1);
	/* read, phase 1 write + read, phase 2 write + read, commit */
	assert_int_equal(c.h[0].r.stats.rounds, 6);
	disk_leader(&c, &ld);
	assert_int_equal(ld.owner_host_id, 1);
	assert_int_equal(ld.owner_generation, c.h[0].d.generation);
	assert_int_equal(ld.lver, 1);
	assert_int_equal(ld.reason, ONDISK_REASON_ACQUIRE);
	assert_int_equal(resource_release(&c.h[0].r), 0);
	assert_false(resource_is_held(&c.h[0].r, simfix_now(&c.f)));
	assert_true(run_until(&c, r0_idle, 5 * T_NS));
	disk_leader(&c, &ld);
	assert_int_equal(ld.owner_host_id, 0);
	assert_int_equal(ld.reason, ONDISK_REASON_RELEASE);
	assert_int_equal(ld.prev_owner_host_id, 1);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.token, 2); /* strictly greater, always */
	teardown_ctx(&c);
}

/* Two hosts try at once: exactly one holds, the other is told who. */
static void test_resource_two_contenders_one_winner(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 3, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_int_equal(resource_acquire(&c.h[1].r, false, 0), 0);
	assert_true(run_until(&c, both_settled, 20 * T_NS));
	assert_true((c.h[0].r.state == RES_HELD) != (c.h[1].r.state == RES_HELD));
	if (c.h[0].r.state == RES_HELD) {
		assert_int_equal(c.h[1].r.error, -EBUSY);
		assert_non_null(strstr(c.h[1].r.why, "held by host 1"));
	} else {
		assert_int_equal(c.h[0].r.error, -EBUSY);
	}
	teardown_ctx(&c);
}

/* The owner crashes: another host takes over only once the owner's lease is over. */
static void test_resource_takeover_after_owner_dies(void **state)
{
	static struct ctx c;
	uint64_t crash_valid, crash_submit, took;
	struct ondisk_leader ld;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 3, 2, 4096, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_HELD);
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	run_until(&c, never, 3 * T_NS);
	assert_int_equal(c.h[1].r.state, RES_WATCH); /* waits while the owner lives */
	c.h[0].up = false;                           /* crash */
	crash_valid = c.h[0].d.valid_until_ns;
	crash_submit = c.h[0].d.last_submit_ns;
	assert_true(run_until(&c, r1_settled, 20 * T_NS));
	took = simfix_now(&c.f);
	assert_int_equal(c.h[1].r.state, RES_HELD);
	assert_int_equal(c.h[1].r.token, 2);
	assert_true(took >= crash_valid);
	/* failover bound: host_dead after the last renewal, plus polling, plus one acquire */
	assert_true(took - crash_submit <= 6 * T_NS);
	disk_leader(&c, &ld);
	assert_int_equal(ld.owner_host_id, 2);
	assert_int_equal(ld.reason, ONDISK_REASON_TAKEOVER_DEAD);
	assert_int_equal(ld.prev_owner_host_id, 1);
	teardown_ctx(&c);
}

static bool r1_held(struct ctx *c)
{
	return c->h[1].r.state == RES_HELD;
}

/* An owner that rejoined with a newer generation lost its leases: take over at once. */
static void test_resource_takeover_from_rejoined_owner(void **state)
{
	static struct ctx c;
	uint64_t start;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	/* host 1 restarts after a reboot: new generation, the old lease is void */
	c.h[0].up = false;
	memset(c.h[0].d.id.boot_id, 0xbb, 16);
	c.h[0].d.state = DELTA_IDLE;
	c.h[0].up = true;
	c.h[0].r.state = RES_IDLE;
	c.h[0].r.held = false;
	assert_int_equal(delta_join(&c.h[0].d, false), 0);
	assert_true(run_until(&c, all_live, 5 * T_NS));
	assert_true(c.h[0].d.generation > c.h[0].r.held_generation);
	start = simfix_now(&c.f);
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_held, 10 * T_NS));
	assert_true(simfix_now(&c.f) - start < 2 * T_NS); /* no host_dead wait */
	assert_int_equal(c.h[1].r.token, 2);
	teardown_ctx(&c);
}

/* A minority of failed disks changes nothing. */
static void test_resource_minority_of_disks_failed(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 5, 1, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	join_all(&c);
	ioe_sim_disk_set_failed(c.f.disks[1], IOE_SIM_DISK_EIO);
	ioe_sim_disk_set_failed(c.f.disks[3], IOE_SIM_DISK_EIO);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_HELD);
	assert_int_equal(c.h[0].d.state, DELTA_LIVE);
	teardown_ctx(&c);
}

/* Host e's process stops: its rounds end (their writes landed or not), its memory is gone. */
static void host_crash(struct ctx *c, uint32_t e)
{
	struct host *h = &c->h[e];

	h->up = false;
	for (int k = 0; k < 10000 && (h->d.round.busy || h->r.round.busy); k++) {
		ioe_sim_clock_advance(&c->f.clock, MS);
		ioe_poll(c->f.ioe[e], 0);
		round_finished(&h->d.round);
		round_finished(&h->r.round);
	}
	assert_false(h->d.round.busy || h->r.round.busy);
}

/* Host e starts again after host_crash(): a new boot, fresh protocol state (no memory of
 * its ballots), joined with a new generation. */
static void host_restart(struct ctx *c, uint32_t e, uint32_t host_id, uint8_t uuid, uint8_t boot)
{
	uint64_t old = c->h[e].d.generation;

	resource_free(&c->h[e].r);
	delta_free(&c->h[e].d);
	host_init(c, e, host_id, uuid, boot);
	assert_int_equal(delta_join(&c->h[e].d, false), 0);
	assert_true(run_until(c, all_live, 10 * T_NS));
	assert_true(c->h[e].d.generation > old);
	run_until(c, never, c->f.tm.ballot_holdoff_ns);
}

/* Host q's ballot of resource 0 on disk d, as the disk holds it now. */
static enum ondisk_state disk_ballot(struct ctx *c, uint32_t d, uint32_t q, struct ondisk_ballot *b)
{
	uint64_t off = layout_ballot_offset(&c->f.space[0].layout, 0, q);
	struct ondisk_expect ex;

	space_expect(&c->f.space[0], d, ONDISK_KIND_BALLOT, off, &ex);
	return ondisk_ballot_decode(ioe_sim_disk_data(c->f.disks[d]) + off, &ex, b);
}

static uint8_t *ballot_bytes(struct ctx *c, uint32_t d, uint32_t q)
{
	return ioe_sim_disk_data(c->f.disks[d]) + layout_ballot_offset(&c->f.space[0].layout, 0, q);
}

/* A dead host's damaged ballot is never counted as empty (the recovery rule is gone:
 * tests/model/README.md, 2b): the acquire stops with -EBADMSG and says who and why. */
static void test_resource_damaged_ballot_of_dead_host(void **state)
{
	static struct ctx c;
	uint8_t before[512];
	struct ondisk_leader ld;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	c.h[0].up = false;                   /* host 1 dies holding it */
	ballot_bytes(&c, 0, 1)[100] ^= 0x40; /* its ballot is corrupted on the only disk */
	memcpy(before, ballot_bytes(&c, 0, 1), sizeof(before));
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_settled, 30 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_FAILED);
	assert_int_equal(c.h[1].r.error, -EBADMSG);
	assert_string_equal(
	        c.h[1].r.why,
	        "ballot block of host 1 is damaged on 1 of 1 disks and host 1 is not live: the resource cannot be decided safely until host 1 rejoins and rewrites it, or an operator acts (docs/design.md §4)");
	assert_memory_equal(before, ballot_bytes(&c, 0, 1), sizeof(before)); /* untouched */
	disk_leader(&c, &ld);
	assert_int_equal(ld.lver, 1); /* nothing decided */
	assert_int_equal(ld.owner_host_id, 1);
	teardown_ctx(&c);
}

/* What `dlctl repair` writes (tools/dlctl/repair.c): a free leader past every lver seen, reason
 * operator_repair, then the blocker's ballot as an empty sector. The stuck resource becomes
 * acquirable, with a token above the repair's lver (docs/design.md §4, "What an operator does"). */
static void test_resource_operator_repair_frees_stuck_resource(void **state)
{
	static struct ctx c;
	uint64_t off;
	struct ondisk_leader ld;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	c.h[0].up = false;
	ballot_bytes(&c, 0, 1)[100] ^= 0x40;
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_settled, 30 * T_NS));
	assert_int_equal(c.h[1].r.error, -EBADMSG);
	disk_leader(&c, &ld); /* lver 1 is the highest lver seen: the repair writes 2 */
	ld.hdr.writer_host_id = ld.hdr.writer_generation = 0;
	ld.prev_owner_host_id = ld.owner_host_id;
	ld.prev_owner_generation = ld.owner_generation;
	ld.owner_host_id = ld.owner_generation = 0;
	memset(ld.owner_uuid, 0, sizeof(ld.owner_uuid));
	ld.lver = ld.hdr.seq = 2;
	ld.reason = ONDISK_REASON_OPERATOR;
	off = layout_leader_offset(&c.f.space[0].layout, 0);
	ondisk_leader_encode(&ld, 512, ioe_sim_disk_data(c.f.disks[0]) + off);
	memset(ballot_bytes(&c, 0, 1), 0, 512);
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_settled, 30 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_HELD);
	assert_int_equal(c.h[1].r.token, 3); /* above the repair's lver */
	disk_leader(&c, &ld);
	assert_int_equal(ld.owner_host_id, 2);
	assert_int_equal(ld.lver, 3);
	teardown_ctx(&c);
}

/* The verdict itself: damaged copies are not empty, and say whether disks coming back
 * could help. */
static void test_resource_paxos_damaged_is_not_empty(void **state)
{
	enum ondisk_state st[3 * 2];
	struct ondisk_ballot blocks[3 * 2];
	struct paxos_view v = {
	        .disk_count = 3, .majority = 2, .bound = 2, .state = st, .blocks = blocks};
	struct paxos_result res;

	(void)state;
	memset(blocks, 0, sizeof(blocks));
	for (uint32_t d = 0; d < 3; d++) {
		v.disk_ok[d] = true;
		st[d * 2 + 0] = ONDISK_EMPTY;
		st[d * 2 + 1] = d == 0 ? ONDISK_EMPTY : ONDISK_BAD_CHECKSUM;
	}
	paxos_judge(&v, 1, 1, PAXOS_MBAL_STRIDE + 1, &res);
	assert_int_equal(res.verdict, PAXOS_DAMAGED);
	assert_int_equal(res.blocker, 2);
	assert_int_equal(res.damaged_count, 2);
	assert_true(paxos_damage_is_lasting(3, 2, 2));
	/* one damaged copy and one disk silent: the silent disk may still answer */
	v.disk_ok[2] = false;
	paxos_judge(&v, 1, 1, PAXOS_MBAL_STRIDE + 1, &res);
	assert_int_equal(res.verdict, PAXOS_DAMAGED);
	assert_int_equal(res.damaged_count, 1);
	assert_false(paxos_damage_is_lasting(3, 2, 1));
	/* our own damaged copies never stop our own phase: we know what we wrote */
	paxos_judge(&v, 1, 2, PAXOS_MBAL_STRIDE + 2, &res);
	assert_int_equal(res.verdict, PAXOS_OK);
}

static bool r0_in_p2_read(struct ctx *c)
{
	return c->h[0].r.state == RES_P2_READ;
}

static bool r0_in_p1_read(struct ctx *c)
{
	return c->h[0].r.state == RES_P1_READ || r0_settled(c);
}

/* Phase 0 after a restart (model PHASE0 + OWNLVER): host 1 votes for itself in instance 2
 * on every disk and crashes before its commit; a stale leader write puts lver 0 back on
 * every disk. The restarted host, with a fresh struct resource, must target instance 2
 * (its own block's lver, not leader + 1), carry its old vote into its phase-1 write, decide
 * instance 2 for the old incarnation again, and hold only with token 3. */
static void test_resource_restart_adopts_own_vote(void **state)
{
	static struct ctx c;
	static uint8_t stale[3][512];
	uint64_t off, g1, m2;
	struct ondisk_ballot b;
	struct ondisk_leader ld;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 3, 1, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	join_all(&c);
	off = layout_leader_offset(&c.f.space[0].layout, 0);
	for (uint32_t d = 0; d < 3; d++)
		memcpy(stale[d], ioe_sim_disk_data(c.f.disks[d]) + off, 512);
	g1 = c.h[0].d.generation;
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.token, 1);
	assert_int_equal(resource_release(&c.h[0].r), 0);
	assert_true(run_until(&c, r0_idle, 5 * T_NS));
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_in_p2_read, 5 * T_NS)); /* phase 2 written: the vote */
	host_crash(&c, 0);
	for (uint32_t d = 0; d < 3; d++) {
		assert_int_equal(disk_ballot(&c, d, 1, &b), ONDISK_VALID);
		assert_int_equal(b.lver, 2);
		assert_int_equal(b.bal, b.mbal);
		assert_int_equal(b.inp_owner_generation, g1);
		memcpy(ioe_sim_disk_data(c.f.disks[d]) + off, stale[d], 512); /* leader goes back */
	}
	m2 = b.bal;
	host_restart(&c, 0, 1, 0xa1, 0xb2);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_in_p1_read, 5 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_P1_READ);
	assert_int_equal(c.h[0].r.leader.lver, 0); /* the stale leader was read ... */
	assert_int_equal(c.h[0].r.target, 2);      /* ... and our block's lver won (OWNLVER) */
	for (uint32_t d = 0; d < 3; d++) {
		assert_int_equal(disk_ballot(&c, d, 1, &b), ONDISK_VALID);
		assert_int_equal(b.lver, 2);
		assert_true(b.mbal > m2);
		assert_int_equal(b.bal, m2); /* the vote is carried, not overwritten */
		assert_int_equal(b.inp_owner_host_id, 1);
		assert_int_equal(b.inp_owner_generation, g1);
	}
	assert_true(run_until(&c, r0_settled, 10 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_HELD);
	assert_int_equal(c.h[0].r.token, 3); /* instance 2 stays decided for the old one */
	disk_leader(&c, &ld);
	assert_int_equal(ld.lver, 3);
	assert_int_equal(ld.owner_generation, c.h[0].d.generation);
	assert_int_equal(ld.prev_owner_host_id, 1);
	assert_int_equal(ld.prev_owner_generation, g1);
	teardown_ctx(&c);
}

/* A restarted host whose own ballot is damaged on a majority cannot know its vote: it
 * neither ballots nor rewrites the block (even when asked to repair it), and a contender
 * gives up once the live host has not rewritten it within host_dead. */
static void test_resource_restart_cannot_repair_unknown_vote(void **state)
{
	static struct ctx c;
	uint8_t before[512];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	host_crash(&c, 0);
	ballot_bytes(&c, 0, 1)[100] ^= 0x40;
	memcpy(before, ballot_bytes(&c, 0, 1), sizeof(before));
	host_restart(&c, 0, 1, 0xa1, 0xb3);
	assert_int_equal(resource_acquire(&c.h[0].r, true, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_FAILED);
	assert_int_equal(c.h[0].r.error, -EBADMSG);
	assert_non_null(strstr(c.h[0].r.why, "our ballot block (host 1) is damaged on 1 of 1"));
	resource_repair(&c.h[0].r);
	run_until(&c, never, 2 * T_NS);
	assert_memory_equal(before, ballot_bytes(&c, 0, 1), sizeof(before));
	/* host 2: host 1 rejoined (same machine), so its lease is over; but its block stops
	 * the ballot, REPAIR notes go unanswered, and host 2 gives up */
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_settled, 30 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_FAILED);
	assert_int_equal(c.h[1].r.error, -EBADMSG);
	assert_non_null(strstr(c.h[1].r.why, "host 1, though live, has not rewritten it"));
	assert_memory_equal(before, ballot_bytes(&c, 0, 1), sizeof(before));
	teardown_ctx(&c);
}

/* A live host rewrites its damaged ballot from memory when asked: no operator needed. */
static void test_resource_live_host_repairs_its_ballot(void **state)
{
	static struct ctx c;
	struct ondisk_ballot b;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 3, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(resource_release(&c.h[0].r), 0);
	assert_true(run_until(&c, r0_idle, 5 * T_NS));
	ballot_bytes(&c, 0, 1)[100] ^= 0x40; /* damaged on 2 of 3 disks: a majority */
	ballot_bytes(&c, 1, 1)[100] ^= 0x40;
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_settled, 20 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_HELD);
	assert_int_equal(c.h[1].r.token, 2);
	for (uint32_t d = 0; d < 3; d++) {
		assert_int_equal(disk_ballot(&c, d, 1, &b), ONDISK_VALID);
		assert_int_equal(b.lver, 1);
		assert_true(b.hdr.flags & ONDISK_BALLOT_RELEASED);
	}
	teardown_ctx(&c);
}

static bool r2_held(struct ctx *c)
{
	return c->h[2].r.state == RES_HELD;
}

static bool r0_failed(struct ctx *c)
{
	return c->h[0].r.state == RES_FAILED;
}

/* The lease ends with the host lease: no renewal of its own, none needed. */
static void test_resource_lost_with_host_lease(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 1, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	run_until(&c, never, 10 * T_NS);
	assert_true(resource_is_held(&c.h[0].r, simfix_now(&c.f)));
	ioe_sim_disk_set_failed(c.f.disks[0], IOE_SIM_DISK_EIO);
	assert_true(run_until(&c, r0_failed, 10 * T_NS));
	assert_int_equal(c.h[0].r.error, -ENOLINK);
	assert_true(simfix_now(&c.f) >= c.h[0].d.valid_until_ns);
	ioe_sim_disk_set_failed(c.f.disks[0], IOE_SIM_DISK_OK);
	teardown_ctx(&c);
}

/* Only the slots in use are read: far below a tenth of sanlock's 3 MiB per acquire. */
static void test_resource_bytes_read_per_acquire(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 1, 512, 2000, 2, T_MS), 0);
	host_init(&c, 0, 3, 0xa1, 0xb1);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_HELD);
	printf("# acquire read %llu bytes in %u rounds (sanlock: 3 MiB)\n",
	       (unsigned long long)c.h[0].r.stats.bytes_read, c.h[0].r.stats.rounds);
	assert_true(c.h[0].r.stats.bytes_read * 10 <= 3u * 1024 * 1024);
	teardown_ctx(&c);
}

static bool mailbox_rang(struct ctx *c)
{
	return c->h[0].d.mailbox_new;
}

static bool r0_requested(struct ctx *c)
{
	return c->h[0].r.requested || c->h[0].r.state == RES_FAILED;
}

static bool r1_idle_or_failed(struct ctx *c)
{
	return c->h[1].r.state == RES_IDLE || c->h[1].r.state == RES_FAILED;
}

/* A request reaches the holder through its mailbox at its next renewal; it hands over. */
static void test_resource_request_and_handoff(void **state)
{
	static struct ctx c;
	struct ondisk_leader ld;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 3, 3, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	host_init(&c, 2, 3, 0xa3, 0xb3);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	/* inquire from a third host: who holds it, with which token */
	assert_int_equal(resource_inquire(&c.h[2].r), 0);
	for (int i = 0; i < 1000 && c.h[2].r.state != RES_IDLE; i++)
		run_until(&c, never, MS);
	assert_int_equal(c.h[2].r.leader.owner_host_id, 1);
	assert_int_equal(c.h[2].r.leader.lver, 1);
	assert_true(c.h[2].r.owner_valid);
	assert_string_equal(c.h[2].r.owner.host_name, "host-1");
	/* nobody is asked yet: sticky */
	run_until(&c, never, 3 * T_NS);
	assert_false(c.h[0].d.mailbox_new);
	assert_int_equal(resource_request(&c.h[1].r, ONDISK_REQUEST_GRACEFUL), 0);
	assert_true(run_until(&c, r1_idle_or_failed, 5 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_IDLE);
	assert_true(run_until(&c, mailbox_rang, 2 * T_NS)); /* within one renewal interval */
	assert_int_equal(c.h[0].d.mailbox.hdr.writer_host_id, 2);
	assert_int_equal(c.h[0].d.mailbox.resource_index, 0);
	c.h[0].d.mailbox_new = false;
	assert_int_equal(resource_check_request(&c.h[0].r), 0);
	assert_true(run_until(&c, r0_requested, 2 * T_NS));
	assert_true(c.h[0].r.requested);
	assert_int_equal(c.h[0].r.request_host, 2);
	assert_int_equal(resource_release(&c.h[0].r), 0);
	assert_true(run_until(&c, r0_idle, 5 * T_NS));
	disk_leader(&c, &ld);
	assert_int_equal(ld.reason, ONDISK_REASON_HANDOFF);
	assert_int_equal(resource_acquire(&c.h[1].r, false, 0), 0);
	assert_true(run_until(&c, r1_settled, 5 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_HELD);
	assert_int_equal(c.h[1].r.token, 2);
	teardown_ctx(&c);
}

static bool r1_watching(struct ctx *c)
{
	return c->h[1].r.state == RES_WATCH;
}

static bool r2_watching(struct ctx *c)
{
	return c->h[2].r.state == RES_WATCH;
}

static bool someone_else_held(struct ctx *c)
{
	return c->h[1].r.state == RES_HELD || c->h[2].r.state == RES_HELD;
}

/* Waiters are served in the order they started waiting: primary + ordered standbys. */
static void test_resource_waiters_served_in_order(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 3, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	/* The lower host id waits first: without the waiting order the higher ballot number
	 * (host 3) would win the race when the lease frees. */
	host_init(&c, 1, 2, 0xa2, 0xb2);
	host_init(&c, 2, 3, 0xa3, 0xb3);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(resource_acquire(&c.h[1].r, true, 0), 0);
	assert_true(run_until(&c, r1_watching, 5 * T_NS));
	assert_int_equal(c.h[1].r.wait_seq, 1);
	assert_int_equal(resource_acquire(&c.h[2].r, true, 0), 0);
	assert_true(run_until(&c, r2_watching, 5 * T_NS));
	assert_int_equal(c.h[2].r.wait_seq, 2);
	run_until(&c, never, 2 * T_NS);
	/* Let the later waiter look first once the lease is free: without the waiting
	 * order it would take the lease; with it, it yields to the earlier waiter. */
	c.h[1].r.backoff_until_ns = simfix_now(&c.f) + c.f.tm.poll_interval_ns;
	c.h[2].r.backoff_until_ns = simfix_now(&c.f) + 20 * MS;
	assert_int_equal(resource_release(&c.h[0].r), 0);
	assert_true(run_until(&c, someone_else_held, 10 * T_NS));
	assert_int_equal(c.h[1].r.state, RES_HELD); /* first come, first served */
	assert_int_not_equal(c.h[2].r.state, RES_HELD);
	run_until(&c, never, 3 * T_NS);
	assert_int_equal(c.h[2].r.state, RES_WATCH); /* now waiting for the new owner */
	assert_int_equal(resource_release(&c.h[1].r), 0);
	assert_true(run_until(&c, r2_held, 10 * T_NS));
	assert_int_equal(c.h[2].r.token, 3);
	teardown_ctx(&c);
}

/* A waiting intent never erases a vote: host 1 won instance 1 and released it; when it then
 * waits for host 2's instance 2, its block must still say what it voted in instance 1 (a
 * rerun of instance 1 after a stale leader write reads that block), with the ticket added. */
static void test_resource_waiting_intent_keeps_vote(void **state)
{
	static struct ctx c;
	struct ondisk_ballot b;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(simfix_init(&c.f, 1, 2, 512, 8, 4, T_MS), 0);
	host_init(&c, 0, 1, 0xa1, 0xb1);
	host_init(&c, 1, 2, 0xa2, 0xb2);
	join_all(&c);
	assert_int_equal(resource_acquire(&c.h[0].r, false, 0), 0);
	assert_true(run_until(&c, r0_settled, 5 * T_NS));
	assert_int_equal(c.h[0].r.token, 1);
	assert_int_equal(resource_release(&c.h[0].r), 0);
	assert_true(run_until(&c, r0_idle, 5 * T_NS));
	assert_int_equal(resource_acquire(&c.h[1].r, false, 0), 0);
	assert_true(run_until(&c, r1_settled, 5 * T_NS));
	assert_int_equal(c.h[1].r.token, 2);
	assert_int_equal(disk_ballot(&c, 0, 1, &b), ONDISK_VALID);
	assert_int_equal(b.lver, 1);
	assert_true(b.bal > 0);
	/* host 1 waits for the lease host 2 holds: it writes its ticket */
	assert_int_equal(resource_acquire(&c.h[0].r, true, 0), 0);
	run_until(&c, never, 2 * T_NS);
	assert_int_equal(c.h[0].r.state, RES_WATCH);
	assert_true(c.h[0].r.wait_seq > 0);
	assert_int_equal(disk_ballot(&c, 0, 1, &b), ONDISK_VALID);
	assert_true(b.hdr.flags & ONDISK_BALLOT_WAITING);
	assert_int_equal(b.wait_seq, c.h[0].r.wait_seq);
	assert_int_equal(b.lver, 1); /* the vote of instance 1 is still there */
	assert_true(b.mbal > 0 && b.bal > 0);
	assert_int_equal(b.inp_owner_host_id, 1);
	/* and the waiting order still works: host 2 releases, host 1 takes token 3 */
	assert_int_equal(resource_release(&c.h[1].r), 0);
	assert_true(run_until(&c, r0_settled, 10 * T_NS));
	assert_int_equal(c.h[0].r.state, RES_HELD);
	assert_int_equal(c.h[0].r.token, 3);
	teardown_ctx(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_resource_uncontended_acquire_release),
	        cmocka_unit_test(test_resource_two_contenders_one_winner),
	        cmocka_unit_test(test_resource_takeover_after_owner_dies),
	        cmocka_unit_test(test_resource_takeover_from_rejoined_owner),
	        cmocka_unit_test(test_resource_minority_of_disks_failed),
	        cmocka_unit_test(test_resource_damaged_ballot_of_dead_host),
	        cmocka_unit_test(test_resource_operator_repair_frees_stuck_resource),
	        cmocka_unit_test(test_resource_paxos_damaged_is_not_empty),
	        cmocka_unit_test(test_resource_restart_adopts_own_vote),
	        cmocka_unit_test(test_resource_restart_cannot_repair_unknown_vote),
	        cmocka_unit_test(test_resource_live_host_repairs_its_ballot),
	        cmocka_unit_test(test_resource_lost_with_host_lease),
	        cmocka_unit_test(test_resource_bytes_read_per_acquire),
	        cmocka_unit_test(test_resource_request_and_handoff),
	        cmocka_unit_test(test_resource_waiters_served_in_order),
	        cmocka_unit_test(test_resource_waiting_intent_keeps_vote),
	};

	return cmocka_run_group_tests_name("resource", tests, NULL, NULL);
}
