/* SPDX-License-Identifier: MIT */
/*
 * rand.h: a seeded PRNG (xoshiro256** seeded by splitmix64). Everything random
 * in dlease -- ballot back-off, the simulator's choices, fuzz mutations -- draws
 * from one of these, so a seed replays a run bit for bit.
 */
#ifndef DL_RAND_H
#define DL_RAND_H

#include "compat.h"

struct rand {
	uint64_t s[4];
};

void rand_seed(struct rand *r, uint64_t seed);
uint64_t rand_next(struct rand *r);
/* Uniform in [0, bound); bound > 0. */
uint64_t rand_below(struct rand *r, uint64_t bound);
/* True with probability num/den. */
bool rand_chance(struct rand *r, uint64_t num, uint64_t den);

#endif /* DL_RAND_H */
