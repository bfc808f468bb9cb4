/* SPDX-License-Identifier: MIT */
/*
 * dlbench.c: `dlbench`, the command line, the safety checks and the run order.
 * It WRITES the first 64 MiB of the device it is given, so it refuses anything
 * but a regular file, or a block device with --destructive. Before measuring it
 * writes that region once with real data, so neither side reads holes of a
 * sparse file (which cost no device I/O). Then, per round, for each test:
 * engine warm-up (as long as fio's ramp_time), engine measurement (with --fio
 * as long as fio's runtime, unless counts are given), and with --fio the fio
 * profile of the same test; alternating the two over windows of the same
 * length keeps the device's drift out of the paired ratio. docs/performance.md
 * explains the method and the figures.
 */
#include "base/compat.h"
#include "dlbench.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "banned.h"

#define DLBENCH_PREPARE_CHUNK     (1u << 20)
#define DLBENCH_TIMED_IOS_MIN     20u /* with --seconds: at least this many qd1 I/Os */
#define DLBENCH_TIMED_BATCHES_MIN 2u

const struct dlbench_test_info dlbench_tests[DLBENCH_TESTS] = {
        [DLBENCH_WRITE_QD1] = {"write_qd1", "write", "write qd1", "randwrite", "qd1", "write", 1,
                               true},
        [DLBENCH_READ_QD1] = {"read_qd1", "read", "read qd1", "randread", "qd1", "read", 1, false},
        [DLBENCH_BATCH_READ] = {"batchread_2000", "batch", "batch read 2000", "batchread", "qd2000",
                                "read", DLBENCH_BATCH_SIZE, false},
};

static const char dlbench_usage_text[] =
        "usage: dlbench --dev PATH [--engine uring|aio] [--sector-size 512|4096]\n"
        "               [--iterations N] [--batches N] [--rounds N] [--fio] [--json] [--strict]\n"
        "               [--destructive] [--fio-profiles DIR] [--fio-runtime SEC]\n"
        "               [--fio-ioengine NAME] [--tests write,read,batch] [--warmup SEC]\n"
        "               [--seconds SEC] [--seed N] [--lease]\n"
        "\n"
        "Times single-sector durable writes (qd1), single-sector reads (qd1) and one batch of\n"
        "2000 single-sector reads with the dlease I/O engine; with --fio also runs the matching\n"
        "fio-profiles/ job on the same device and compares (target: ratio <= 1.10).\n"
        "With --lease: formats a small lockspace on PATH and times resource lease acquire and\n"
        "release (median, p99) against fio's write and read (target: acquire <= (3w+3r) x 1.15).\n"
        "WRITES the first 64 MiB of PATH: a regular file, or a block device with --destructive.\n"
        "  --iterations N   qd1 I/Os per test per round (default 2000)\n"
        "  --batches N      2000-read batches per round (default 50)\n"
        "  --seconds S      measure the engine for S per test per round instead of a count;\n"
        "                   default with --fio (unless --iterations or --batches is given):\n"
        "                   as long as fio runs, so both sides sample the same length of time\n"
        "  --rounds N       engine/fio alternations (default 3, max 16)\n"
        "  --tests LIST     which of write,read,batch to run (default all)\n"
        "  --warmup S       engine warm-up per test per round (default: fio's ramp_time)\n"
        "  --fio-runtime S  override the profiles' runtime (ramp_time becomes min(1 s, S/4))\n"
        "  --fio-ioengine E override the profiles' ioengine=io_uring (e.g. libaio)\n"
        "  --strict         exit 1 when a verdict is FAIL\n"
        "verdict: PASS when the median over rounds of engine/fio (per-I/O median for qd1,\n"
        "mean batch time for the batch) is <= 1.10\n"
        "exit codes: 0 measured, 1 failure, 2 bad command line\n"
        "environment: DLEASE_FIO_PROFILES (profile dir), DLEASE_FIO (fio binary)\n";

void dlbench_err(const char *fmt, ...)
{
	va_list ap;

	fputs("dlbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int dlbench_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int dlbench_parse_seconds_ms(const char *s, double min, uint32_t *out_ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > 3600)
		return -EINVAL;
	*out_ms = (uint32_t)(v * 1000 + 0.5);
	return 0;
}

enum {
	OPT_DESTRUCTIVE = 256,
	OPT_FIO_PROFILES,
	OPT_FIO_RUNTIME,
	OPT_FIO_IOENGINE,
	OPT_BATCHES,
	OPT_ROUNDS,
	OPT_SEED,
	OPT_TESTS,
	OPT_WARMUP,
	OPT_SECONDS,
	OPT_LEASE,
};

static const struct option dlbench_long_opts[] = {
        {"dev", required_argument, NULL, 'd'},
        {"engine", required_argument, NULL, 'e'},
        {"sector-size", required_argument, NULL, 's'},
        {"iterations", required_argument, NULL, 'n'},
        {"batches", required_argument, NULL, OPT_BATCHES},
        {"rounds", required_argument, NULL, OPT_ROUNDS},
        {"fio", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"strict", no_argument, NULL, 'S'},
        {"destructive", no_argument, NULL, OPT_DESTRUCTIVE},
        {"fio-profiles", required_argument, NULL, OPT_FIO_PROFILES},
        {"fio-runtime", required_argument, NULL, OPT_FIO_RUNTIME},
        {"fio-ioengine", required_argument, NULL, OPT_FIO_IOENGINE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"tests", required_argument, NULL, OPT_TESTS},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"seconds", required_argument, NULL, OPT_SECONDS},
        {"lease", no_argument, NULL, OPT_LEASE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* "write,read,batch" (any subset, any order) -> bit mask. 0 or -EINVAL. */
static int dlbench_parse_tests(const char *arg, uint32_t *mask)
{
	const char *p = arg;

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		int t;

		for (t = 0; t < DLBENCH_TESTS; t++) {
			if (strlen(dlbench_tests[t].key) == len &&
			    !strncmp(p, dlbench_tests[t].key, len))
				break;
		}
		if (t == DLBENCH_TESTS)
			return -EINVAL;
		*mask |= 1u << t;
		p += len + (p[len] == ',');
	}
	return *mask ? 0 : -EINVAL;
}

/* One option with an argument; 0 or -EINVAL. */
static int dlbench_parse_arg(struct dlbench_opts *o, int c, const char *arg)
{
	uint32_t v;

	switch (c) {
	case 'd':
		o->dev_path = arg;
		return 0;
	case 'e':
		o->engine_name = arg;
		return 0;
	case 's':
		if (dlbench_parse_u32(arg, 512, 4096, &v) < 0 || (v != 512 && v != 4096))
			return -EINVAL;
		o->sector_size = v;
		return 0;
	case 'n':
		o->count_set = true;
		return dlbench_parse_u32(arg, 1, 10000000, &o->iterations);
	case OPT_BATCHES:
		o->count_set = true;
		return dlbench_parse_u32(arg, 1, 1000000, &o->batches);
	case OPT_ROUNDS:
		return dlbench_parse_u32(arg, 1, DLBENCH_ROUNDS_MAX, &o->rounds);
	case OPT_FIO_PROFILES:
		o->fio_profiles = arg;
		return 0;
	case OPT_FIO_RUNTIME:
		return dlbench_parse_seconds_ms(arg, 0.1, &o->fio_runtime_ms);
	case OPT_WARMUP:
		o->warmup_set = true;
		return dlbench_parse_seconds_ms(arg, 0, &o->warmup_ms);
	case OPT_SECONDS:
		o->seconds_set = true;
		return dlbench_parse_seconds_ms(arg, 0, &o->seconds_ms);
	case OPT_TESTS:
		return dlbench_parse_tests(arg, &o->test_mask);
	case OPT_FIO_IOENGINE:
		o->fio_ioengine = arg;
		return 0;
	case OPT_SEED:
		if (dlbench_parse_u32(arg, 0, UINT32_MAX, &v) < 0)
			return -EINVAL;
		o->seed = v;
		return 0;
	}
	return -EINVAL;
}

static const char *dlbench_opt_name(int c)
{
	for (size_t i = 0; dlbench_long_opts[i].name; i++) {
		if (dlbench_long_opts[i].val == c)
			return dlbench_long_opts[i].name;
	}
	return "?";
}

/* Returns 0 to run, 1 after printing --help, -EINVAL on a bad command line (usage printed). */
static int dlbench_parse(int argc, char **argv, struct dlbench_opts *o)
{
	int c;

	*o = (struct dlbench_opts){.iterations = 2000,
	                           .batches = 50,
	                           .rounds = 3,
	                           .seed = 1,
	                           .test_mask = (1u << DLBENCH_TESTS) - 1};
	while ((c = getopt_long(argc, argv, "h", dlbench_long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(dlbench_usage_text, stdout);
			return 1;
		}
		if (c == 'f' || c == 'j' || c == 'S' || c == OPT_DESTRUCTIVE || c == OPT_LEASE) {
			o->lease |= c == OPT_LEASE;
			o->fio |= c == 'f';
			o->json |= c == 'j';
			o->strict |= c == 'S';
			o->destructive |= c == OPT_DESTRUCTIVE;
			continue;
		}
		if (c == '?' || dlbench_parse_arg(o, c, optarg) < 0) {
			if (c != '?')
				dlbench_err("bad value for --%s: %s", dlbench_opt_name(c), optarg);
			fputs(dlbench_usage_text, stderr);
			return -EINVAL;
		}
	}
	if (!o->dev_path || optind != argc) {
		fputs(dlbench_usage_text, stderr);
		return -EINVAL;
	}
	/* Warm up as long as fio ramps up and, against fio, measure as long as fio does: both
	 * sides then sample the device over windows of the same length. */
	if (!o->warmup_set)
		o->warmup_ms = o->fio_runtime_ms ? DL_MIN(DLBENCH_RAMP_MS, o->fio_runtime_ms / 4)
		                                 : DLBENCH_RAMP_MS;
	if (!o->seconds_set && o->fio && !o->count_set)
		o->seconds_ms = o->fio_runtime_ms ? o->fio_runtime_ms : DLBENCH_RUNTIME_MS;
	return 0;
}

/* Refuse what must not be written: only regular files, and block devices with --destructive. */
static int dlbench_check_target(const struct dlbench_opts *o)
{
	struct stat st;

	if (stat(o->dev_path, &st) < 0) {
		int rc = -errno;

		dlbench_err("%s: %s (create a scratch file: truncate -s 256M %s)", o->dev_path,
		            strerror(-rc), o->dev_path);
		return rc;
	}
	if (S_ISBLK(st.st_mode) && !o->destructive) {
		dlbench_err("%s is a block device: dlbench overwrites its first 64 MiB; "
		            "add --destructive if that is intended",
		            o->dev_path);
		return -EPERM;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		dlbench_err("%s: neither a regular file nor a block device", o->dev_path);
		return -ENOTBLK;
	}
	return 0;
}

/* Open the device and the engine and register the disk. 0 or -errno (message printed). */
static int dlbench_open(struct dlbench *b)
{
	struct ioe_config cfg = {.kind = IOE_AUTO, .clk = clock_real()};
	int rc;

	rc = ioe_dev_open(b->o.dev_path, true, &b->dev);
	if (rc < 0) {
		dlbench_err("%s: cannot open for O_DIRECT writing: %s", b->o.dev_path,
		            strerror(-rc));
		return rc;
	}
	b->sector_size = b->o.sector_size ? b->o.sector_size : ioe_dev_sector_size(&b->dev);
	if (ioe_dev_check_sector_size(&b->dev, b->sector_size) < 0) {
		dlbench_err("%s: %u-byte sectors not usable (logical sector size %u)", b->dev.path,
		            b->sector_size, b->dev.logical_sector_size);
		return -EINVAL;
	}
	if (b->dev.size_bytes < DLBENCH_REGION_BYTES) {
		dlbench_err("%s: %llu bytes, need at least %llu (truncate -s 256M a scratch file)",
		            b->dev.path, (unsigned long long)b->dev.size_bytes,
		            DLBENCH_REGION_BYTES);
		return -ENOSPC;
	}
	if (b->o.engine_name && ioe_kind_parse(b->o.engine_name, &cfg.kind) < 0) {
		dlbench_err("--engine %s: must be uring or aio", b->o.engine_name);
		return -EINVAL;
	}
	b->clk = cfg.clk;
	rc = ioe_create(&cfg, &b->e);
	if (rc < 0) {
		dlbench_err("no I/O engine (%s): %s", b->o.engine_name ? b->o.engine_name : "auto",
		            strerror(-rc));
		return rc;
	}
	rc = ioe_disk_add(b->e, b->dev.fd, b->sector_size);
	if (rc < 0) {
		dlbench_err("ioe_disk_add: %s", strerror(-rc));
		return rc;
	}
	b->disk_index = (uint32_t)rc;
	return 0;
}

/* Write the whole region once (O_DIRECT, then fdatasync) so no read hits a hole. 0 or -errno. */
static int dlbench_prepare(struct dlbench *b)
{
	void *buf;
	int rc = 0;

	if (posix_memalign(&buf, 4096, DLBENCH_PREPARE_CHUNK) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < DLBENCH_PREPARE_CHUNK / sizeof(uint64_t); i++)
		((uint64_t *)buf)[i] = rand_next(&b->rng);
	for (uint64_t off = 0; off < DLBENCH_REGION_BYTES && rc == 0;
	     off += DLBENCH_PREPARE_CHUNK) {
		ssize_t n = pwrite(b->dev.fd, buf, DLBENCH_PREPARE_CHUNK, (off_t)off);

		if (n < 0)
			rc = -errno;
		else if (n != DLBENCH_PREPARE_CHUNK)
			rc = -EIO;
	}
	if (rc == 0 && fdatasync(b->dev.fd) < 0)
		rc = -errno;
	free(buf);
	if (rc < 0)
		dlbench_err("%s: writing the first %llu MiB: %s", b->dev.path,
		            DLBENCH_REGION_BYTES >> 20, strerror(-rc));
	return rc;
}

/* Timed units per segment: the count asked for, or with --seconds a floor for the statistics. */
static uint32_t dlbench_count(const struct dlbench *b, bool batch)
{
	if (b->o.seconds_ms)
		return batch ? DLBENCH_TIMED_BATCHES_MIN : DLBENCH_TIMED_IOS_MIN;
	return batch ? b->o.batches : b->o.iterations;
}

/* One round: each test on the engine (after a warm-up), then with --fio on fio. 0 or -errno.
 * Each segment's figure goes to stderr, so drift between rounds is visible. */
static int dlbench_round(struct dlbench *b, uint32_t round)
{
	for (int t = 0; t < DLBENCH_TESTS; t++) {
		struct dlbench_result *r = &b->res[t];
		bool batch = t == DLBENCH_BATCH_READ;
		uint64_t from = r->sample_count;
		struct dlbench_fio_run *f;
		int rc;

		if (!(b->o.test_mask & (1u << t)))
			continue;
		rc = dlbench_measure(b, t, batch ? 2 : 20, b->o.warmup_ms, false);
		if (rc == 0)
			rc = dlbench_measure(b, t, dlbench_count(b, batch), b->o.seconds_ms, true);
		if (rc == 0)
			rc = dlbench_report_segment(r, from);
		if (rc < 0)
			return rc;
		fprintf(stderr, "dlbench: round %u/%u: %-15s engine %-5s %s %9.1f us\n", round + 1,
		        b->o.rounds, dlbench_tests[t].label, ioe_name(b->e),
		        batch ? "mean  " : "median",
		        batch ? r->engine_rounds[round].mean_us
		              : r->engine_rounds[round].median_us);
		if (!b->o.fio)
			continue;
		f = &r->fio_runs[r->fio_run_count];
		rc = dlbench_fio_run(b, t, f);
		if (rc < 0)
			return rc;
		r->fio_run_count++;
		fprintf(stderr, "dlbench: round %u/%u: %-15s fio          %s %9.1f us\n", round + 1,
		        b->o.rounds, dlbench_tests[t].label, batch ? "mean  " : "median",
		        batch ? f->runtime_us / (f->ios / DLBENCH_BATCH_SIZE) : f->lat_median_us);
	}
	return 0;
}

static int dlbench_main(struct dlbench *b)
{
	int rc;

	rc = dlbench_open(b);
	if (rc == 0 && b->o.lease) {
		rc = dlbench_prepare(b); /* fio must read written sectors, not holes */
		return rc == 0 && dlbench_lease(b) == 0 ? DLBENCH_EXIT_OK : DLBENCH_EXIT_FAIL;
	}
	if (rc == 0 && b->o.fio)
		rc = dlbench_fio_locate(b);
	if (rc == 0)
		rc = dlbench_prepare(b);
	if (rc == 0)
		rc = dlbench_measure_init(b);
	for (uint32_t round = 0; rc == 0 && round < b->o.rounds; round++)
		rc = dlbench_round(b, round);
	if (rc < 0)
		return DLBENCH_EXIT_FAIL;
	b->all_pass = dlbench_report_finish(b);
	if (b->o.json)
		dlbench_report_json(b, stdout);
	else
		dlbench_report_text(b, stdout);
	if (fflush(stdout) != 0)
		return DLBENCH_EXIT_FAIL;
	return b->o.strict && b->o.fio && !b->all_pass ? DLBENCH_EXIT_FAIL : DLBENCH_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct dlbench *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return DLBENCH_EXIT_FAIL;
	b->dev.fd = -1;
	rc = dlbench_parse(argc, argv, &b->o);
	if (rc != 0) {
		free(b);
		return rc > 0 ? DLBENCH_EXIT_OK : DLBENCH_EXIT_USAGE;
	}
	if (dlbench_check_target(&b->o) < 0) {
		free(b);
		return DLBENCH_EXIT_FAIL;
	}
	rand_seed(&b->rng, b->o.seed);
	rc = dlbench_main(b);
	dlbench_measure_free(b);
	if (b->e)
		ioe_destroy(b->e);
	if (b->dev.fd >= 0)
		ioe_dev_close(&b->dev);
	free(b);
	return rc;
}
