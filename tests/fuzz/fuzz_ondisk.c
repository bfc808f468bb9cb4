/* SPDX-License-Identifier: MIT */
/* fuzz_ondisk.c: libFuzzer entry point for the record decoders (built with clang only). */
#include "base/compat.h"

#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_decode_sector(data, size);
	return 0;
}
