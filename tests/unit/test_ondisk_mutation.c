/* SPDX-License-Identifier: MIT */
/*
 * test_ondisk_mutation.c: seeded random mutation of valid records of every
 * kind (byte flips, splices, truncations, re-sealed checksums so the
 * semantic checks are reached), fed to every decoder through the fuzzing
 * oracle. The seed is printed; DLEASE_FUZZ_SEED and DLEASE_FUZZ_ITERATIONS
 * override it and the count.
 */
#include "base/compat.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/rand.h"
#include "fuzz_decode.h"
#include "ondisk/ondisk.h"

static const uint8_t uuid[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2,  0x43, 4,
                                 0x85, 6,    7,    8,    9, 10, 11,   12};

/* A valid record of a random kind at a random sector size. */
static uint32_t make_seed_record(struct rand *r, uint8_t *sector)
{
	uint32_t ss = rand_chance(r, 1, 2) ? 512 : 4096;
	uint64_t lba = rand_below(r, 1000);

	switch (rand_below(r, 3)) {
	case 0: {
		struct ondisk_leader l = {0};

		ondisk_hdr_init(&l.hdr, ONDISK_KIND_LEADER, uuid, 1, lba);
		l.lver = l.hdr.seq = rand_next(r);
		l.owner_host_id = rand_below(r, 2000);
		snprintf(l.name, sizeof(l.name), "r%llu", (unsigned long long)rand_below(r, 99999));
		ondisk_leader_encode(&l, ss, sector);
		break;
	}
	case 1: {
		struct ondisk_ballot b = {0};

		ondisk_hdr_init(&b.hdr, ONDISK_KIND_BALLOT, uuid, 1, lba);
		b.mbal = b.hdr.seq = rand_below(r, 1u << 20) + 10;
		b.bal = b.mbal - rand_below(r, 10);
		ondisk_ballot_encode(&b, ss, sector);
		break;
	}
	default: {
		struct ondisk_host h = {0};

		ondisk_hdr_init(&h.hdr, ONDISK_KIND_HOST, uuid, 1, lba);
		h.hdr.writer_host_id = rand_below(r, 2000) + 1;
		snprintf(h.host_name, sizeof(h.host_name), "host-%llu",
		         (unsigned long long)rand_below(r, 99999));
		h.state = ONDISK_HOST_LIVE;
		ondisk_host_encode(&h, ss, sector);
		break;
	}
	}
	return ss;
}

static void mutate(struct rand *r, uint8_t *sector, uint32_t ss)
{
	unsigned flips = (unsigned)rand_below(r, 8);

	for (unsigned i = 0; i < flips; i++)
		sector[rand_below(r, ss)] ^= (uint8_t)(1u + rand_below(r, 255));
	if (rand_chance(r, 1, 8)) {
		/* a short read or torn write: the tail never arrived */
		uint32_t cut = (uint32_t)rand_below(r, ss);

		memset(sector + cut, 0, ss - cut);
	}
	if (rand_chance(r, 1, 2)) {
		/* re-seal so decoding goes past the checksum to the semantic checks */
		uint64_t c = htole64(ondisk_checksum(sector, ss));

		memcpy(sector + ss - 8, &c, 8);
	}
}

static void test_ondisk_mutation_never_trusts_garbage(void **state)
{
	const char *seed_env = getenv("DLEASE_FUZZ_SEED");
	const char *iter_env = getenv("DLEASE_FUZZ_ITERATIONS");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 20261126u;
	unsigned iterations = iter_env ? (unsigned)strtoul(iter_env, NULL, 0) : 200000u;
	static uint8_t sector[ONDISK_SECTOR_MAX];
	unsigned valid_after = 0, seeds_valid = 0;
	struct rand r;

	(void)state;
	printf("# mutation seed %llu, %u iterations\n", (unsigned long long)seed, iterations);
	rand_seed(&r, seed);
	for (unsigned i = 0; i < iterations; i++) {
		uint32_t ss;

		memset(sector, 0, sizeof(sector));
		ss = make_seed_record(&r, sector);
		/* the unmutated record is valid for exactly one decoder */
		seeds_valid += fuzz_decode_sector(sector, ss) == 1;
		mutate(&r, sector, ss);
		valid_after += fuzz_decode_sector(sector, ss);
	}
	assert_int_equal(seeds_valid, iterations);
	/* some mutations are no-ops or re-sealed harmless changes; most must be rejected */
	assert_true(valid_after < iterations);
	printf("# %u of %u mutated sectors still decoded valid (round trip checked)\n", valid_after,
	       iterations);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ondisk_mutation_never_trusts_garbage),
	};

	return cmocka_run_group_tests_name("ondisk_mutation", tests, NULL, NULL);
}
