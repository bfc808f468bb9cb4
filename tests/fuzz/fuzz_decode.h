/* SPDX-License-Identifier: MIT */
/*
 * fuzz_decode.h: the one fuzzing oracle shared by the libFuzzer target and
 * the seeded mutation test. Given any bytes, every decoder must return a
 * state without crashing, and a sector it calls VALID must re-encode to the
 * very same bytes (ondisk.h invariant 3: nothing unparsed slips through).
 */
#ifndef DL_FUZZ_DECODE_H
#define DL_FUZZ_DECODE_H

#include "base/compat.h"

/* Returns the number of decoders that said VALID; aborts on an invariant breach. */
unsigned fuzz_decode_sector(const uint8_t *data, size_t size);

#endif /* DL_FUZZ_DECODE_H */
