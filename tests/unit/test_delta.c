/* SPDX-License-Identifier: MIT */
/*
 * test_delta.c: the delta lease on simulated disks and virtual time: join on
 * a free slot, renewals, leave and rejoin with a new generation, a joiner
 * that backs off from a live host, takeover of a dead host's slot only after
 * host_dead, a foreign write found at renewal, fast rejoin of our own
 * identity, lapse when the disks stop answering, majority of 3 disks, and
 * the dense host id rule.
 */
#include "base/compat.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lease/delta.h"
#include "simfix.h"

#define T_MS 1000u
#define T_NS (T_MS * 1000000ull)
#define MS   1000000ull

struct ctx {
	struct simfix f;
	struct delta d[3];
	bool stepping[3]; /* a crashed host is no longer stepped */
	uint32_t count;
	bool (*until)(struct ctx *c);
};

static void identity(struct delta_identity *id, const char *name, uint8_t uuid, uint8_t boot)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->host_name, sizeof(id->host_name), "%s", name);
	memset(id->host_uuid, uuid, sizeof(id->host_uuid));
	memset(id->boot_id, boot, sizeof(id->boot_id));
}

static void setup_hosts(struct ctx *c, uint32_t disks, uint32_t max_hosts)
{
	assert_int_equal(simfix_init(&c->f, disks, 3, 512, max_hosts, 4, T_MS), 0);
}

static void add_delta(struct ctx *c, uint32_t engine, uint32_t host_id, const char *name,
                      uint8_t uuid, uint8_t boot)
{
	struct delta_identity id;

	identity(&id, name, uuid, boot);
	assert_int_equal(delta_init(&c->d[engine], &c->f.space[engine], c->f.ioe[engine], &c->f.tm,
	                            &c->f.clock.clk, host_id, &id),
	                 0);
	c->stepping[engine] = true;
	c->count = DL_MAX(c->count, engine + 1);
}

static bool step_all(void *p)
{
	struct ctx *c = p;

	for (uint32_t i = 0; i < c->count; i++) {
		if (c->stepping[i])
			delta_step(&c->d[i]);
	}
	return c->until ? c->until(c) : false;
}

static bool run_until(struct ctx *c, bool (*until)(struct ctx *), uint64_t for_ns)
{
	c->until = until;
	return simfix_run(&c->f, simfix_now(&c->f) + for_ns, MS, step_all, c);
}

static bool d0_live(struct ctx *c)
{
	return c->d[0].state == DELTA_LIVE;
}

static bool d1_settled(struct ctx *c)
{
	return c->d[1].state == DELTA_LIVE || c->d[1].state == DELTA_FAILED;
}

static bool d0_failed(struct ctx *c)
{
	return c->d[0].state == DELTA_FAILED;
}

static bool never(struct ctx *c)
{
	(void)c;
	return false;
}

static void teardown_ctx(struct ctx *c)
{
	for (uint32_t i = 0; i < c->count; i++) {
		/* let rounds in flight finish before freeing their buffers */
		for (int k = 0; k < 10000 && c->d[i].round.busy; k++) {
			ioe_sim_clock_advance(&c->f.clock, MS);
			ioe_poll(c->f.ioe[i], 0);
			round_finished(&c->d[i].round);
		}
		delta_free(&c->d[i]);
	}
	simfix_free(&c->f);
}

/* A free slot: live after one read, one write, join_wait and one read. */
static void test_delta_join_free_slot_and_renew(void **state)
{
	static struct ctx c;
	uint64_t start, valid0;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 1, 8);
	add_delta(&c, 0, 1, "alpha", 0xa1, 0xb1);
	start = simfix_now(&c.f);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	assert_true(c.d[0].generation >= 1);
	/* join costs join_wait plus a few I/Os: far below 2T */
	assert_true(simfix_now(&c.f) - start <= c.f.tm.join_wait_ns + 20 * MS);
	valid0 = c.d[0].valid_until_ns;
	run_until(&c, never, 20 * T_NS);
	assert_int_equal(c.d[0].state, DELTA_LIVE);
	assert_true(c.d[0].valid_until_ns > valid0 + 15 * T_NS);
	assert_true(c.d[0].renewals >= 30);
	assert_true(delta_is_live(&c.d[0], simfix_now(&c.f)));
	teardown_ctx(&c);
}

static bool d0_left(struct ctx *c)
{
	return c->d[0].state == DELTA_LEFT;
}

/* Leave writes FREE; joining again takes generation + 1. */
static void test_delta_leave_and_rejoin_new_generation(void **state)
{
	static struct ctx c;
	uint64_t first;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 1, 8);
	add_delta(&c, 0, 2, "alpha", 0xa1, 0xb1);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	first = c.d[0].generation;
	assert_int_equal(delta_leave(&c.d[0]), 0);
	assert_true(run_until(&c, d0_left, 5 * T_NS));
	assert_false(delta_is_live(&c.d[0], simfix_now(&c.f)));
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	assert_true(c.d[0].generation > first); /* grows at every join */
	teardown_ctx(&c);
}

/* Another identity joining a live host's id watches it renew and backs off. */
static void test_delta_joiner_backs_off_from_live_host(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 1, 8);
	add_delta(&c, 0, 3, "alpha", 0xa1, 0xb1);
	add_delta(&c, 1, 3, "beta", 0xa2, 0xb2);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	assert_int_equal(delta_join(&c.d[1], false), 0);
	assert_true(run_until(&c, d1_settled, 10 * T_NS));
	assert_int_equal(c.d[1].state, DELTA_FAILED);
	assert_int_equal(c.d[1].error, -EBUSY);
	assert_non_null(strstr(c.d[1].why, "alpha"));
	assert_int_equal(c.d[0].state, DELTA_LIVE);
	teardown_ctx(&c);
}

/* A crashed host's slot is taken by another identity only after host_dead. */
static void test_delta_takeover_of_dead_slot_after_host_dead(void **state)
{
	static struct ctx c;
	uint64_t crash, live;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 3, 8);
	add_delta(&c, 0, 4, "alpha", 0xa1, 0xb1);
	add_delta(&c, 1, 4, "beta", 0xa2, 0xb2);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	run_until(&c, never, 3 * T_NS);
	c.stepping[0] = false; /* crash: no more renewals */
	crash = c.d[0].last_submit_ns;
	assert_int_equal(delta_join(&c.d[1], false), 0);
	assert_true(run_until(&c, d1_settled, 20 * T_NS));
	live = simfix_now(&c.f);
	assert_int_equal(c.d[1].state, DELTA_LIVE);
	assert_true(c.d[1].generation > c.d[0].generation);
	/* never before the crashed host's validity (and host_dead) has passed */
	assert_true(live >= crash + c.f.tm.host_dead_ns);
	assert_true(live >= c.d[0].valid_until_ns);
	teardown_ctx(&c);
}

/* A live host that finds another host's record in its slot stops: its leases are lost. */
static void test_delta_foreign_write_found_at_renewal(void **state)
{
	static struct ctx c;
	struct ondisk_host rec;
	struct ondisk_expect ex;
	uint64_t off;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 1, 8);
	add_delta(&c, 0, 5, "alpha", 0xa1, 0xb1);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	off = layout_host_offset(&c.f.space[0].layout, 5);
	space_expect(&c.f.space[0], 0, ONDISK_KIND_HOST, off, &ex);
	memset(&rec, 0, sizeof(rec));
	ondisk_hdr_init(&rec.hdr, ONDISK_KIND_HOST, ex.lockspace_uuid, 0, ex.lba);
	rec.hdr.writer_host_id = 5;
	rec.hdr.writer_generation = 9;
	rec.hdr.seq = 1;
	snprintf(rec.host_name, sizeof(rec.host_name), "intruder");
	memset(rec.host_uuid, 0xee, 16);
	rec.state = ONDISK_HOST_LIVE;
	ondisk_host_encode(&rec, 512, ioe_sim_disk_data(c.f.disks[0]) + off);
	assert_true(run_until(&c, d0_failed, 3 * T_NS));
	assert_int_equal(c.d[0].error, -EADDRINUSE);
	assert_non_null(strstr(c.d[0].why, "intruder"));
	assert_false(delta_is_live(&c.d[0], simfix_now(&c.f)));
	teardown_ctx(&c);
}

/* Our own identity after an unclean stop: same boot waits out the old validity unless the
 * old holders are known stopped; another boot rejoins at once. */
static void test_delta_rejoin_own_identity(void **state)
{
	static struct ctx c;
	uint64_t start;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 1, 8);
	add_delta(&c, 0, 6, "alpha", 0xa1, 0xb1);
	add_delta(&c, 1, 6, "alpha", 0xa1, 0xb1); /* same machine, same boot */
	add_delta(&c, 2, 6, "alpha", 0xa1, 0xb9); /* same machine, rebooted */
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	c.stepping[0] = false;
	start = simfix_now(&c.f);
	assert_int_equal(delta_join(&c.d[1], false), 0);
	assert_true(run_until(&c, d1_settled, 10 * T_NS));
	assert_int_equal(c.d[1].state, DELTA_LIVE);
	assert_true(simfix_now(&c.f) >= c.d[0].valid_until_ns);
	assert_true(c.d[1].generation > c.d[0].generation);
	c.stepping[1] = false;
	start = simfix_now(&c.f);
	assert_int_equal(delta_join(&c.d[2], false), 0);
	c.until = NULL;
	for (int i = 0; i < 100000 && c.d[2].state != DELTA_LIVE; i++)
		simfix_run(&c.f, simfix_now(&c.f) + MS, MS, step_all, &c);
	assert_int_equal(c.d[2].state, DELTA_LIVE);
	assert_true(simfix_now(&c.f) - start <= 2 * T_NS);
	assert_true(c.d[2].generation > c.d[1].generation);
	teardown_ctx(&c);
}

/* Disks that stop answering: the lease lapses exactly at last submission + validity. */
static void test_delta_lapses_when_disks_fail(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 3, 8);
	add_delta(&c, 0, 1, "alpha", 0xa1, 0xb1);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_live, 10 * T_NS));
	/* one disk of three failing changes nothing */
	ioe_sim_disk_set_failed(c.f.disks[2], IOE_SIM_DISK_EIO);
	run_until(&c, never, 10 * T_NS);
	assert_int_equal(c.d[0].state, DELTA_LIVE);
	/* two of three: no majority, the lease must lapse */
	ioe_sim_disk_set_failed(c.f.disks[1], IOE_SIM_DISK_HANG);
	assert_true(run_until(&c, d0_failed, 10 * T_NS));
	assert_int_equal(c.d[0].error, -ETIMEDOUT);
	assert_true(simfix_now(&c.f) >= c.d[0].valid_until_ns);
	assert_true(simfix_now(&c.f) <= c.d[0].valid_until_ns + c.f.tm.poll_interval_ns + MS);
	ioe_sim_disk_set_failed(c.f.disks[1], IOE_SIM_DISK_OK);
	teardown_ctx(&c);
}

/* Host ids are dense: 100 cannot join while none of 36..99 ever did. */
static void test_delta_dense_host_ids(void **state)
{
	static struct ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	setup_hosts(&c, 1, 200);
	add_delta(&c, 0, 100, "far", 0xa1, 0xb1);
	assert_int_equal(delta_join(&c.d[0], false), 0);
	assert_true(run_until(&c, d0_failed, 5 * T_NS));
	assert_int_equal(c.d[0].error, -EPERM);
	assert_non_null(strstr(c.d[0].why, "36..99"));
	teardown_ctx(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_delta_join_free_slot_and_renew),
	        cmocka_unit_test(test_delta_leave_and_rejoin_new_generation),
	        cmocka_unit_test(test_delta_joiner_backs_off_from_live_host),
	        cmocka_unit_test(test_delta_takeover_of_dead_slot_after_host_dead),
	        cmocka_unit_test(test_delta_foreign_write_found_at_renewal),
	        cmocka_unit_test(test_delta_rejoin_own_identity),
	        cmocka_unit_test(test_delta_lapses_when_disks_fail),
	        cmocka_unit_test(test_delta_dense_host_ids),
	};

	return cmocka_run_group_tests_name("delta", tests, NULL, NULL);
}
