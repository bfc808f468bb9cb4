/* SPDX-License-Identifier: MIT */
/*
 * dlbench.h: shared pieces of `dlbench`, the benchmark that times the dlease
 * I/O engine on a scratch file or device and, with --fio, runs the matching
 * fio-profiles/ job on the same device for comparison. dlbench.c owns the
 * command line, the safety checks and the run order; measure.c times the
 * engine; fio.c runs fio; json.c reads fio's JSON; report.c turns samples into
 * figures and prints them. It WRITES the first DLBENCH_REGION_BYTES of the
 * device. Timing uses CLOCK_MONOTONIC directly: this is a tool, not protocol
 * code. Exit codes: 0 measured, 1 failure (or a FAIL verdict with --strict),
 * 2 bad command line.
 */
#ifndef DLBENCH_H
#define DLBENCH_H

#include "base/compat.h"

#include <limits.h>
#include <stdio.h>

#include "base/rand.h"
#include "io/dev.h"
#include "io/ioe.h"

/* Must match the fio profiles: size=64m offset=0, iodepth=2000, ramp_time=1, runtime=3 (s). */
#define DLBENCH_REGION_BYTES (64ull << 20)
#define DLBENCH_RAMP_MS      1000u
#define DLBENCH_RUNTIME_MS   3000u
#define DLBENCH_BATCH_SIZE   2000u
#define DLBENCH_TARGET_RATIO 1.10
#define DLBENCH_ROUNDS_MAX   16u

enum {
	DLBENCH_EXIT_OK = 0,
	DLBENCH_EXIT_FAIL = 1,
	DLBENCH_EXIT_USAGE = 2,
};

enum dlbench_test {
	DLBENCH_WRITE_QD1 = 0,
	DLBENCH_READ_QD1 = 1,
	DLBENCH_BATCH_READ = 2,
	DLBENCH_TESTS = 3,
};

/* What each test is: its name, fio profile pattern, and how it is compared. */
struct dlbench_test_info {
	const char *name;    /* JSON name: write_qd1, read_qd1, batchread_2000 */
	const char *key;     /* --tests name: write, read, batch */
	const char *label;   /* human label */
	const char *pattern; /* fio-profiles/<pattern>-<bs>-<qd>.fio */
	const char *qd;
	const char *fio_dir; /* "read" or "write" object of fio's JSON */
	uint32_t req_count;  /* requests per ioe_run() */
	bool write;
};

extern const struct dlbench_test_info dlbench_tests[DLBENCH_TESTS];

struct dlbench_opts {
	const char *dev_path;
	const char *engine_name;  /* NULL: automatic */
	const char *fio_profiles; /* NULL: DLEASE_FIO_PROFILES, then the source tree */
	const char *fio_ioengine; /* NULL: as in the profile (io_uring) */
	uint32_t sector_size;     /* 0: ioe_dev_sector_size() */
	uint32_t iterations;      /* qd1 I/Os per test per round */
	uint32_t batches;         /* 2000-read batches per round */
	uint32_t rounds;          /* engine and fio alternate this many times */
	uint32_t fio_runtime_ms;  /* 0: as in the profile */
	uint32_t test_mask;       /* bit per enum dlbench_test: which tests run */
	uint32_t warmup_ms;       /* engine warm-up per test per round */
	uint32_t seconds_ms; /* > 0: engine measures this long per test per round, not a count */
	bool warmup_set;
	bool seconds_set;
	bool count_set; /* --iterations or --batches given */
	uint64_t seed;
	bool fio;
	bool json;
	bool strict;
	bool destructive;
	bool lease; /* --lease: acquire/release latency instead of the I/O tests */
};

/* One fio job's figures (microseconds; the lat_* fields from fio's lat_ns, submit to reap). */
struct dlbench_fio_run {
	double ios;
	double runtime_us;
	double lat_median_us;
	double lat_p99_us;
	double lat_mean_us;
	double clat_median_us;
};

/* Figures of one side; a field < 0 is not available (printed "-", JSON null). */
struct dlbench_stats {
	double count;
	double median_us;
	double p99_us;
	double mean_us;
};

struct dlbench_result {
	double *samples_us; /* engine: one per I/O (qd1) or per batch */
	uint64_t sample_count;
	uint64_t sample_cap;
	struct dlbench_stats engine_rounds[DLBENCH_ROUNDS_MAX];
	uint32_t engine_round_count;
	struct dlbench_fio_run fio_runs[DLBENCH_ROUNDS_MAX];
	uint32_t fio_run_count;
	/* filled by dlbench_report_finish() */
	struct dlbench_stats engine;
	struct dlbench_stats fio;
	double fio_clat_median_us; /* batch: fio's commit-to-reap window, for reference */
	double ratio; /* the verdict's: median over rounds of engine/fio in the round; < 0: none */
	double overall_ratio; /* engine figure / fio figure, as tabulated */
	bool pass;
};

struct dlbench {
	struct dlbench_opts o;
	struct ioe_dev dev;
	struct ioe *e;
	uint32_t disk_index;
	uint32_t sector_size;
	const struct clock *clk;
	struct rand rng;
	uint32_t *perm; /* shuffled sector indexes of the region, each once per pass (fio's random
	                   map) */
	uint32_t perm_count;
	uint32_t perm_pos;
	uint8_t *bufs; /* DLBENCH_BATCH_SIZE caller buffers of one sector each */
	char profiles_dir[PATH_MAX];
	struct dlbench_result res[DLBENCH_TESTS];
	bool all_pass; /* every compared test passed (dlbench_report_finish) */
};

/* measure.c */
/* Allocate the shuffled sector map and the buffers. 0 or -errno. */
int dlbench_measure_init(struct dlbench *b);
void dlbench_measure_free(struct dlbench *b);
/* Run ioe_run() calls of test t until count are done and min_ms have passed; record their
 * times unless this is a warm-up. 0 or -errno. */
int dlbench_measure(struct dlbench *b, enum dlbench_test t, uint32_t count, uint32_t min_ms,
                    bool record);

/* fio.c */
/* Find the profile directory (--fio-profiles, DLEASE_FIO_PROFILES, source tree, install). 0 or
 * -ENOENT. */
int dlbench_fio_locate(struct dlbench *b);
/* Run the profile of test t on the device and read its figures. 0 or -errno (message printed). */
int dlbench_fio_run(struct dlbench *b, enum dlbench_test t, struct dlbench_fio_run *out);

/* json.c: a read-only walk over JSON text; each returns a pointer to a value or NULL. */
const char *dlbench_json_get(const char *obj, const char *key);
const char *dlbench_json_index(const char *arr, uint32_t index);
/* Parse the number at v. 0 or -EINVAL. */
int dlbench_json_number(const char *v, double *out);
/* Number at obj.k1.k2... (NULL-terminated key list). 0 or -ENOENT. */
int dlbench_json_path_number(const char *obj, const char *const *keys, double *out);

/* report.c */
/* Compute the figures, ratios and verdicts. Returns true if every compared test passed. */
bool dlbench_report_finish(struct dlbench *b);
/* Close one engine segment (a round): figures of the samples since index from. 0 or -ENOMEM. */
int dlbench_report_segment(struct dlbench_result *r, uint64_t from);
void dlbench_report_text(const struct dlbench *b, FILE *f);
void dlbench_report_json(const struct dlbench *b, FILE *f);

/* lease.c: format a lockspace on the device and time acquire + release. 0 or -errno. */
int dlbench_lease(struct dlbench *b);

/* dlbench.c */
void dlbench_err(const char *fmt, ...) DL_PRINTF(1, 2);

#endif /* DLBENCH_H */
