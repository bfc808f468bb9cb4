/* SPDX-License-Identifier: MIT */
/*
 * report.c: turns the engine's samples and fio's per-round figures into
 * median, p99 and mean microseconds, the engine/fio ratio and a verdict, and
 * prints them as a table or as JSON. What is compared, per test:
 *   qd1 write, qd1 read: engine median ioe_run() time / fio median lat
 *     (fio's lat = submission to reaped completion, the same span as one
 *     ioe_run() of one request; clat would leave out the submit syscall).
 *   batch of 2000 reads: engine mean ioe_run() time / fio mean batch time =
 *     fio job runtime / (total_ios / 2000). fio submits 2000, waits for all
 *     2000, reaps them, repeats, so its runtime is a sum of whole batches;
 *     fio reports no per-batch distribution, so means are compared.
 * Over several rounds both sides combine alike: median and p99 = median of
 * the rounds' values, means weighted by I/O count. The verdict uses the
 * paired ratio: the median over rounds of engine/fio within the round, as the
 * two run back to back there; a device whose latency drifts between rounds
 * (a virtual disk does, by tens of percent) then moves both sides together.
 * No I/O, no clock here.
 */
#include "base/compat.h"
#include "dlbench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

static int report_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double report_median(double *v, uint64_t n)
{
	qsort(v, n, sizeof(*v), report_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Figures of v[0..n) (sorts v): median, nearest-rank p99 (the ceil(0.99 n)-th), mean. */
static struct dlbench_stats report_stats(double *v, uint64_t n)
{
	struct dlbench_stats st = {.count = (double)n, -1, -1, -1};
	double sum = 0;

	if (n == 0)
		return st;
	for (uint64_t i = 0; i < n; i++)
		sum += v[i];
	st.median_us = report_median(v, n);
	st.p99_us = v[(n * 99 + 99) / 100 - 1];
	st.mean_us = sum / (double)n;
	return st;
}

int dlbench_report_segment(struct dlbench_result *r, uint64_t from)
{
	uint64_t n = r->sample_count - from;
	double *copy = malloc((n ? n : 1) * sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	memcpy(copy, r->samples_us + from, n * sizeof(*copy));
	r->engine_rounds[r->engine_round_count++] = report_stats(copy, n);
	free(copy);
	return 0;
}

/* Engine figures built like fio's: median and p99 are medians of the rounds' values. */
static void report_engine_stats(struct dlbench_result *r)
{
	double med[DLBENCH_ROUNDS_MAX], p99[DLBENCH_ROUNDS_MAX], sum = 0;
	uint32_t n = r->engine_round_count;

	r->engine = (struct dlbench_stats){.count = (double)r->sample_count, -1, -1, -1};
	if (n == 0 || r->sample_count == 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		med[i] = r->engine_rounds[i].median_us;
		p99[i] = r->engine_rounds[i].p99_us;
	}
	for (uint64_t i = 0; i < r->sample_count; i++)
		sum += r->samples_us[i];
	r->engine.median_us = report_median(med, n);
	r->engine.p99_us = report_median(p99, n);
	r->engine.mean_us = sum / (double)r->sample_count;
}

/* Median over rounds of engine/fio within the round: drift between rounds cancels out. */
static double report_paired_ratio(const struct dlbench_result *r, bool batch)
{
	double ratio[DLBENCH_ROUNDS_MAX];
	uint32_t n = DL_MIN(r->engine_round_count, r->fio_run_count);

	for (uint32_t i = 0; i < n; i++) {
		const struct dlbench_fio_run *f = &r->fio_runs[i];

		ratio[i] = batch ? r->engine_rounds[i].mean_us /
		                           (f->runtime_us / (f->ios / DLBENCH_BATCH_SIZE))
		                 : r->engine_rounds[i].median_us / f->lat_median_us;
	}
	return n ? report_median(ratio, n) : -1;
}

static void report_fio_stats(struct dlbench_result *r, bool batch)
{
	double med[DLBENCH_ROUNDS_MAX], p99[DLBENCH_ROUNDS_MAX], clat[DLBENCH_ROUNDS_MAX];
	double ios = 0, runtime_us = 0, lat_sum = 0;
	uint32_t n = r->fio_run_count;

	r->fio = (struct dlbench_stats){.count = 0, -1, -1, -1};
	r->fio_clat_median_us = -1;
	if (n == 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const struct dlbench_fio_run *f = &r->fio_runs[i];

		med[i] = f->lat_median_us;
		p99[i] = f->lat_p99_us;
		clat[i] = f->clat_median_us;
		ios += f->ios;
		runtime_us += f->runtime_us;
		lat_sum += f->lat_mean_us * f->ios;
	}
	if (batch) {
		r->fio.count = ios / DLBENCH_BATCH_SIZE;
		r->fio.mean_us = runtime_us / r->fio.count;
		r->fio_clat_median_us = report_median(clat, n);
		return;
	}
	r->fio.count = ios;
	r->fio.median_us = report_median(med, n);
	r->fio.p99_us = report_median(p99, n);
	r->fio.mean_us = lat_sum / ios;
}

bool dlbench_report_finish(struct dlbench *b)
{
	bool all_pass = true;

	for (int t = 0; t < DLBENCH_TESTS; t++) {
		struct dlbench_result *r = &b->res[t];
		bool batch = t == DLBENCH_BATCH_READ;
		double engine_us, fio_us;

		report_engine_stats(r);
		report_fio_stats(r, batch);
		engine_us = batch ? r->engine.mean_us : r->engine.median_us;
		fio_us = batch ? r->fio.mean_us : r->fio.median_us;
		r->overall_ratio = engine_us > 0 && fio_us > 0 ? engine_us / fio_us : -1;
		r->ratio = report_paired_ratio(r, batch);
		r->pass = r->ratio >= 0 && r->ratio <= DLBENCH_TARGET_RATIO;
		if (r->ratio >= 0 && !r->pass)
			all_pass = false;
	}
	return all_pass;
}

static void report_cell(FILE *f, double v, double div)
{
	if (v < 0)
		fprintf(f, " %9s", "-");
	else
		fprintf(f, " %9.1f", v / div);
}

static void report_row(FILE *f, const char *label, const struct dlbench_result *r, double div,
                       bool verdict, bool fio)
{
	fprintf(f, "%-28s", label);
	report_cell(f, r->engine.median_us, div);
	report_cell(f, r->engine.p99_us, div);
	report_cell(f, r->engine.mean_us, div);
	if (!fio) {
		fputc('\n', f);
		return;
	}
	fprintf(f, "  |");
	report_cell(f, r->fio.median_us, div);
	report_cell(f, r->fio.p99_us, div);
	report_cell(f, r->fio.mean_us, div);
	if (verdict && r->ratio >= 0)
		fprintf(f, "  | %7.2f  %6.2f  %s\n", r->overall_ratio, r->ratio,
		        r->pass ? "PASS" : "FAIL");
	else
		fprintf(f, "  |\n");
}

void dlbench_report_text(const struct dlbench *b, FILE *f)
{
	const struct dlbench_result *batch = &b->res[DLBENCH_BATCH_READ];
	bool fio = b->o.fio;

	fprintf(f, "dlbench: %s (%s), %u-byte sectors, random offsets in the first %llu MiB\n",
	        b->dev.path, b->dev.is_block ? "block device" : "regular file", b->sector_size,
	        DLBENCH_REGION_BYTES >> 20);
	fprintf(f, "engine %s (%s)", ioe_name(b->e), ioe_why(b->e));
	if (fio)
		fprintf(f, "; fio %s, profiles %s",
		        b->o.fio_ioengine ? b->o.fio_ioengine : "io_uring", b->profiles_dir);
	fprintf(f, "\n%u round(s)%s; per test and round the engine warms up %.2f s, then ",
	        b->o.rounds, fio ? " alternating engine and fio" : "", b->o.warmup_ms / 1e3);
	if (b->o.seconds_ms)
		fprintf(f, "measures for %.2f s\n\n", b->o.seconds_ms / 1e3);
	else
		fprintf(f, "measures %u I/Os (qd1) or %u batches of %u reads\n\n", b->o.iterations,
		        b->o.batches, DLBENCH_BATCH_SIZE);
	if (fio) {
		fprintf(f, "%-28s%30s  |%30s  |\n", "", "-------- dlease engine -------",
		        "------------- fio ------------");
		fprintf(f, "%-28s%10s%10s%10s  |%10s%10s%10s  | overall  paired  verdict\n",
		        "microseconds", "median", "p99", "mean", "median", "p99", "mean");
	} else {
		fprintf(f, "%-28s%30s\n%-28s%10s%10s%10s\n", "", "-------- dlease engine -------",
		        "microseconds", "median", "p99", "mean");
	}
	report_row(f, "write qd1 (per I/O)", &b->res[DLBENCH_WRITE_QD1], 1, true, fio);
	report_row(f, "read qd1 (per I/O)", &b->res[DLBENCH_READ_QD1], 1, true, fio);
	report_row(f, "batch of 2000 reads (each)", batch, 1, true, fio);
	report_row(f, "  same, per sector", batch, DLBENCH_BATCH_SIZE, false, fio);
	if (!fio)
		return;
	fprintf(f,
	        "\nengine/fio: qd1 = engine median / fio median lat (submission to completion);\n"
	        "  batch = engine mean ioe_run() / fio mean batch (job runtime / (ios / %u)).\n"
	        "  overall: of the figures above (median and p99: medians over rounds, both sides);\n"
	        "  paired: median over rounds of the ratio within each round, which cancels the\n"
	        "  device's drift between rounds. Verdict: paired <= %.2f.\n"
	        "fio clat median in the batch starts only after the submit call returns\n"
	        "(reference, not compared): %.1f us\n",
	        DLBENCH_BATCH_SIZE, DLBENCH_TARGET_RATIO, batch->fio_clat_median_us);
	fprintf(f, "verdict: %s\n", b->all_pass ? "PASS" : "FAIL");
}

static void report_json_num(FILE *f, const char *key, double v, bool comma)
{
	if (v < 0)
		fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
	else
		fprintf(f, "\"%s\": %.3f%s", key, v, comma ? ", " : "");
}

static void report_json_stats(FILE *f, const char *side, const struct dlbench_stats *s, bool batch)
{
	fprintf(f, "\"%s\": {", side);
	report_json_num(f, "count", s->count, true);
	report_json_num(f, "median_us", s->median_us, true);
	report_json_num(f, "p99_us", s->p99_us, true);
	report_json_num(f, "mean_us", s->mean_us, batch);
	if (batch) {
		report_json_num(f, "per_sector_median_us",
		                s->median_us < 0 ? -1 : s->median_us / DLBENCH_BATCH_SIZE, true);
		report_json_num(f, "per_sector_mean_us",
		                s->mean_us < 0 ? -1 : s->mean_us / DLBENCH_BATCH_SIZE, false);
	}
	fprintf(f, "}");
}

static void report_json_test(const struct dlbench *b, FILE *f, int t)
{
	const struct dlbench_result *r = &b->res[t];
	bool batch = t == DLBENCH_BATCH_READ;

	fprintf(f, "    {\"name\": \"%s\", \"requests_per_run\": %u, \"unit\": \"%s\",\n      ",
	        dlbench_tests[t].name, dlbench_tests[t].req_count,
	        batch ? "us per batch" : "us per I/O");
	report_json_stats(f, "engine", &r->engine, batch);
	fprintf(f, ",\n      ");
	if (b->o.fio) {
		report_json_stats(f, "fio", &r->fio, batch);
		if (batch) {
			fprintf(f, ",\n      ");
			report_json_num(f, "fio_clat_median_us", r->fio_clat_median_us, false);
		}
		fprintf(f, ",\n      \"compare\": \"%s\", ", batch ? "mean" : "median");
		report_json_num(f, "ratio", r->ratio, true);
		report_json_num(f, "overall_ratio", r->overall_ratio, true);
		fprintf(f, "\"target\": %.2f, \"verdict\": %s}", DLBENCH_TARGET_RATIO,
		        r->ratio < 0 ? "null"
		        : r->pass    ? "\"PASS\""
		                     : "\"FAIL\"");
	} else {
		fprintf(f,
		        "\"fio\": null, \"ratio\": null, \"overall_ratio\": null, \"verdict\": null}");
	}
}

void dlbench_report_json(const struct dlbench *b, FILE *f)
{

	fprintf(f, "{\n  \"dev\": \"");
	for (const char *p = b->dev.path; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fprintf(f, "\",\n  \"dev_kind\": \"%s\", \"sector_size\": %u, \"region_bytes\": %llu,\n",
	        b->dev.is_block ? "block" : "file", b->sector_size, DLBENCH_REGION_BYTES);
	fprintf(f, "  \"engine\": \"%s\", ", ioe_name(b->e));
	if (b->o.fio)
		fprintf(f, "\"fio_ioengine\": \"%s\",\n",
		        b->o.fio_ioengine ? b->o.fio_ioengine : "io_uring");
	else
		fprintf(f, "\"fio_ioengine\": null,\n");
	fprintf(f, "  \"iterations\": %u, \"batches\": %u, \"batch_size\": %u, \"rounds\": %u,\n",
	        b->o.iterations, b->o.batches, DLBENCH_BATCH_SIZE, b->o.rounds);
	fprintf(f, "  \"warmup_s\": %.3f, \"seconds\": %.3f,\n", b->o.warmup_ms / 1e3,
	        b->o.seconds_ms / 1e3);
	fprintf(f, "  \"tests\": [\n");
	for (int t = 0; t < DLBENCH_TESTS; t++) {
		report_json_test(b, f, t);
		fprintf(f, "%s\n", t + 1 < DLBENCH_TESTS ? "," : "");
	}
	fprintf(f, "  ],\n  \"verdict\": %s\n}\n",
	        !b->o.fio     ? "null"
	        : b->all_pass ? "\"PASS\""
	                      : "\"FAIL\"");
}
