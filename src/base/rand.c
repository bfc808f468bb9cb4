/* SPDX-License-Identifier: MIT */
/* rand.c: xoshiro256** with splitmix64 seeding; no global state. */
#include "compat.h"
#include "rand.h"

#include "check.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void rand_seed(struct rand *r, uint64_t seed)
{
	for (unsigned i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t rand_next(struct rand *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rand_below(struct rand *r, uint64_t bound)
{
	DL_ASSERT(bound > 0);
	/* Rejection sampling keeps the result uniform for every bound. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t x;

	for (unsigned attempt = 0; attempt < 64; attempt++) {
		x = rand_next(r);
		if (x < limit)
			return x % bound;
	}
	return rand_next(r) % bound;
}

bool rand_chance(struct rand *r, uint64_t num, uint64_t den)
{
	DL_ASSERT(den > 0);
	return rand_below(r, den) < num;
}
