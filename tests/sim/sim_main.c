/* SPDX-License-Identifier: MIT */
/*
 * sim_main.c: the dlsim command. Parses the options, runs one fresh world
 * per seed of the range (sim_world.c builds it, sim_drive.c runs it,
 * sim_check.c judges it), prints each violation with its seed, config,
 * replay command and the last events of the run, and ends with exactly one
 * summary line "N seeds, V violations" (V counts violating seeds: a run
 * stops at its first violation). Exit 0 if V == 0, 1 if not, 2 on bad usage.
 * A seed whose world ends stuck for the one expected reason (sim.h, 4) is no
 * violation: it prints "seed S: stuck: needs operator: ...", and the line
 * "K seeds stuck: needs operator" comes just before the summary.
 *
 *   dlsim --hosts H|A-B --disks D|1,3,5 --resources R|A-B --seeds A[-B]
 *         [--faults all|none|LIST] [--trace] [--ticks N] [--mutant NAME]
 */
#include "base/compat.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "sim.h"
#include "banned.h"

#ifndef DLSIM_COMMIT
#define DLSIM_COMMIT "unknown"
#endif
#define SIM_TICKS_DEFAULT 3000u
#define SIM_TICKS_MAX     1000000u

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: dlsim --hosts H|A-B --disks D|LIST --resources R|A-B --seeds A[-B]\n"
	        "             [--faults all|none|LIST] [--trace] [--ticks N] [--mutant NAME]\n"
	        "  hosts 2..16, disks 1, 3 or 5 (a list draws one per seed), resources 1..8\n"
	        "  faults: crash,pause,latency,late,error,hang,torn,corrupt,disk,drift,dupid\n"
	        "  mutants: trust-one-disk, no-host-dead-wait, stale-clock\n"
	        "  prints \"N seeds, V violations\"; exit 0 if V == 0, 1 if not, 2 on bad usage\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* "N" or "A-B" within [min, max]. */
static bool parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *lo, uint64_t *hi)
{
	char buf[64];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (!parse_u64(buf, lo) || !parse_u64(dash ? dash + 1 : buf, hi))
		return false;
	return *lo <= *hi && *lo >= min && *hi <= max;
}

static bool parse_small_range(const char *s, uint32_t min, uint32_t max, struct sim_range *r)
{
	uint64_t lo, hi;

	if (!parse_range(s, min, max, &lo, &hi))
		return false;
	r->lo = (uint32_t)lo;
	r->hi = (uint32_t)hi;
	return true;
}

static bool parse_disks(const char *s, uint32_t *mask)
{
	*mask = 0;
	for (size_t k = 0; s[k]; k++) {
		if (s[k] == '1' || s[k] == '3' || s[k] == '5')
			*mask |= 1u << (s[k] - '0');
		else if (s[k] != ',' || k == 0 || !s[k + 1])
			return false;
		if (s[k] != ',' && s[k + 1] && s[k + 1] != ',')
			return false;
	}
	return *mask != 0;
}

static bool parse_faults(const char *s, uint32_t *faults)
{
	char buf[256];
	char *save = NULL;

	if (!strcmp(s, "all")) {
		*faults = (1u << SIM_F_COUNT) - 1;
		return true;
	}
	*faults = 0;
	if (!strcmp(s, "none"))
		return true;
	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t f;

		for (f = 0; f < SIM_F_COUNT && strcmp(tok, sim_fault_name(f)); f++)
			;
		if (f == SIM_F_COUNT)
			return false;
		*faults |= 1u << f;
	}
	return *faults != 0;
}

static bool parse_mutant(const char *s, enum sim_mutant *m)
{
	for (uint32_t k = 0; k < SIM_MUTANT_COUNT; k++) {
		if (!strcmp(s, sim_mutant_name(k))) {
			*m = k;
			return true;
		}
	}
	return false;
}

/* The options as given, for the replay line of a violation. */
static void remember_command(struct sim_opts *o, int argc, char **argv)
{
	size_t used = 0;

	o->command[0] = '\0';
	for (int k = 1; k < argc && used < sizeof(o->command); k++) {
		if (!strcmp(argv[k], "--seeds") || !strcmp(argv[k], "--trace")) {
			k += !strcmp(argv[k], "--seeds");
			continue;
		}
		used += (size_t)snprintf(o->command + used, sizeof(o->command) - used, " %s",
		                         argv[k]);
	}
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	static const struct option longopts[] = {
	        {"hosts", required_argument, NULL, 'h'},
	        {"disks", required_argument, NULL, 'd'},
	        {"resources", required_argument, NULL, 'r'},
	        {"seeds", required_argument, NULL, 's'},
	        {"faults", required_argument, NULL, 'f'},
	        {"trace", no_argument, NULL, 't'},
	        {"ticks", required_argument, NULL, 'k'},
	        {"mutant", required_argument, NULL, 'm'},
	        {"help", no_argument, NULL, '?'},
	        {NULL, 0, NULL, 0},
	};
	bool have_seeds = false, ok = true;
	uint64_t ticks;
	int c;

	*o = (struct sim_opts){.hosts = {3, 3},
	                       .resources = {2, 2},
	                       .disks_mask = 1u << 3,
	                       .faults = (1u << SIM_F_COUNT) - 1,
	                       .ticks = SIM_TICKS_DEFAULT};
	opterr = 0;
	for (int n = 0; ok && n < argc && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1;
	     n++) {
		if (c == 'h')
			ok = parse_small_range(optarg, SIM_HOSTS_MIN, SIM_HOSTS_MAX, &o->hosts);
		else if (c == 'd')
			ok = parse_disks(optarg, &o->disks_mask);
		else if (c == 'r')
			ok = parse_small_range(optarg, 1, SIM_RESOURCES_MAX, &o->resources);
		else if (c == 's')
			ok = have_seeds =
			        parse_range(optarg, 0, UINT64_MAX - 1, &o->seed_lo, &o->seed_hi);
		else if (c == 'f')
			ok = parse_faults(optarg, &o->faults);
		else if (c == 't')
			o->trace = true;
		else if (c == 'k')
			ok = parse_u64(optarg, &ticks) && ticks > 0 && ticks <= SIM_TICKS_MAX &&
			     (o->ticks = (uint32_t)ticks);
		else if (c == 'm')
			ok = parse_mutant(optarg, &o->mutant);
		else
			ok = false;
	}
	if (!ok || !have_seeds || optind != argc)
		return -EINVAL;
	remember_command(o, argc, argv);
	o->verbose = getenv("DLSIM_VERBOSE") != NULL;
	return 0;
}

static void print_config(const struct sim_world *w, FILE *out)
{
	const struct sim_config *c = &w->cfg;

	fprintf(out,
	        "  config: hosts %u (max %u) disks %u resources %u sector %u tick %llu ms"
	        " latency <= %.1f ms faults",
	        c->hosts, c->max_hosts, c->disks, c->resources, c->sector_size,
	        (unsigned long long)(c->tick_ns / DL_NS_PER_MS), (double)c->latency_max_ns / 1e6);
	for (uint32_t f = 0; f < SIM_F_COUNT; f++) {
		if (c->faults & (1u << f))
			fprintf(out, " %s", sim_fault_name(f));
	}
	if (!c->faults)
		fprintf(out, " none");
	if (c->faults & (1u << SIM_F_DUPID))
		fprintf(out, " (hosts %u and %u share id %u)", c->dup_a, c->dup_b, c->dup_a + 1);
	if (w->opts->mutant)
		fprintf(out, " mutant %s", sim_mutant_name(w->opts->mutant));
	fputc('\n', out);
}

/* One seed: build, run, report. Returns 1 for a violation, 2 for stuck (needs an operator),
 * 0 if neither, -errno on setup. */
static int run_seed(struct sim_world *w, const struct sim_opts *o, uint64_t seed)
{
	int rc = sim_world_init(w, o, seed);

	if (rc < 0) {
		fprintf(stderr, "dlsim: seed %" PRIu64 ": cannot build the world: %s\n", seed,
		        strerror(-rc));
		sim_world_free(w);
		return rc;
	}
	sim_run(w);
	if (w->violated) {
		printf("seed %" PRIu64 ": VIOLATION %s: %s\n", seed, w->invariant, w->violation);
		print_config(w, stdout);
		printf("  replay: dlsim%s --seeds %" PRIu64 " --trace  (commit %s)\n", o->command,
		       seed, DLSIM_COMMIT);
		sim_trace_print(w, stdout, o->trace ? SIM_TRACE_RING : SIM_TRACE_SHOW);
	} else if (w->stuck) {
		printf("seed %" PRIu64 ": stuck: needs operator: %s\n", seed, w->stuck_text);
		print_config(w, stdout);
		printf("  replay: dlsim%s --seeds %" PRIu64 " --trace\n", o->command, seed);
		if (o->trace)
			sim_trace_print(w, stdout, SIM_TRACE_RING);
	} else if (o->trace) {
		printf("seed %" PRIu64 ": ok\n", seed);
		print_config(w, stdout);
		sim_trace_print(w, stdout, SIM_TRACE_RING);
	}
	if (o->trace)
		printf("seed %" PRIu64 ": %s, %llu ticks, %llu events, disk hash %016" PRIx64 "\n",
		       seed,
		       w->violated ? "violation"
		       : w->stuck  ? "stuck"
		                   : "ok",
		       (unsigned long long)w->tick, (unsigned long long)w->event_count,
		       sim_disk_hash(w));
	rc = w->violated ? 1 : w->stuck ? 2 : 0;
	sim_world_free(w);
	return rc;
}

int main(int argc, char **argv)
{
	struct sim_opts o;
	struct sim_world *w;
	uint64_t seeds = 0, violations = 0, stuck = 0;
	int rc;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	dl_log_set_level(DL_LOG_ERROR); /* the protocol's warnings are expected here */
	w = calloc(1, sizeof(*w));
	if (!w) {
		fprintf(stderr, "dlsim: out of memory\n");
		return 1;
	}
	for (uint64_t seed = o.seed_lo; seed <= o.seed_hi; seed++) {
		rc = run_seed(w, &o, seed);
		seeds++;
		violations += rc != 0 && rc != 2;
		stuck += rc == 2;
		fflush(stdout);
		if (seed == UINT64_MAX - 1)
			break;
	}
	free(w);
	printf("%llu seeds stuck: needs operator\n", (unsigned long long)stuck);
	printf("%llu seeds, %llu violations\n", (unsigned long long)seeds,
	       (unsigned long long)violations);
	return violations == 0 ? 0 : 1;
}
