/* SPDX-License-Identifier: MIT */
/*
 * fio.c: runs the fio profile that matches a dlbench test on the same device
 * and reads its figures. The profile is fio-profiles/<pattern>-<bs>-<qd>.fio,
 * found through --fio-profiles, $DLEASE_FIO_PROFILES, the source tree this
 * binary was built from, or <prefix>/share/dlease/fio-profiles. fio gets the
 * device through $DLEASE_BENCH_DEV (the profiles say filename=${DLEASE_BENCH_DEV})
 * and writes JSON to a pipe; its stderr passes through. --fio-runtime and
 * --fio-ioengine are applied to a temporary copy of the profile, because fio
 * lets a job file override its command line, not the reverse. $DLEASE_FIO names
 * the fio binary (default: fio from PATH).
 */
#include "base/compat.h"
#include "dlbench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "banned.h"

#define DLBENCH_FIO_OUTPUT_MAX (64u << 20)

static bool fio_dir_has_profiles(const char *dir, uint32_t sector_size)
{
	char path[PATH_MAX];

	if (!dir || !*dir)
		return false;
	if (snprintf(path, sizeof(path), "%s/randread-%u-qd1.fio", dir, sector_size) >=
	    (int)sizeof(path))
		return false;
	return access(path, R_OK) == 0;
}

#define DLBENCH_FIO_CANDIDATES 4

struct fio_dirs {
	char dir[DLBENCH_FIO_CANDIDATES][PATH_MAX];
	int count;
};

static void fio_dirs_add(struct fio_dirs *d, const char *fmt, ...) DL_PRINTF(2, 3);
static void fio_dirs_add(struct fio_dirs *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->count == DLBENCH_FIO_CANDIDATES)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->dir[d->count], PATH_MAX, fmt, ap);
	va_end(ap);
	if (n > 0 && n < PATH_MAX)
		d->count++;
}

/* The candidate directories, in order of preference. */
static void fio_candidates(const struct dlbench *b, struct fio_dirs *d)
{
	const char *src = __FILE__, *tail = strstr(src, "tools/dlbench/");
	char exe[PATH_MAX];
	ssize_t n;

	d->count = 0;
	if (b->o.fio_profiles)
		fio_dirs_add(d, "%s", b->o.fio_profiles);
	if (getenv("DLEASE_FIO_PROFILES"))
		fio_dirs_add(d, "%s", getenv("DLEASE_FIO_PROFILES"));
	if (tail && src[0] == '/')
		fio_dirs_add(d, "%.*sfio-profiles", (int)(tail - src), src);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (strrchr(exe, '/'))
			*strrchr(exe, '/') = '\0';
		fio_dirs_add(d, "%s/../share/dlease/fio-profiles", exe);
	}
}

int dlbench_fio_locate(struct dlbench *b)
{
	struct fio_dirs *d = malloc(sizeof(*d));
	bool explicit = b->o.fio_profiles || getenv("DLEASE_FIO_PROFILES");

	if (!d)
		return -ENOMEM;
	fio_candidates(b, d);
	for (int i = 0; i < d->count; i++) {
		if (fio_dir_has_profiles(d->dir[i], b->sector_size)) {
			memcpy(b->profiles_dir, d->dir[i], sizeof(b->profiles_dir));
			free(d);
			return 0;
		}
		/* An explicit choice that does not hold the profiles is an error, not a hint. */
		if (i == 0 && explicit)
			break;
	}
	dlbench_err("no fio profiles for %u-byte sectors found (first tried: %s; set "
	            "DLEASE_FIO_PROFILES)",
	            b->sector_size, d->count ? d->dir[0] : "nothing");
	free(d);
	return -ENOENT;
}

/* Copy profile to a temporary file with runtime, ramp_time and ioengine overridden. */
static int fio_rewrite(const struct dlbench *b, const char *profile, char *tmp, size_t tmp_size)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	bool uring = !b->o.fio_ioengine || !strcmp(b->o.fio_ioengine, "io_uring");
	uint32_t ms = b->o.fio_runtime_ms;
	char line[1024];
	FILE *in, *out;
	int fd, rc = 0;

	snprintf(tmp, tmp_size, "%s/dlbench-XXXXXX.fio", dir);
	fd = mkstemps(tmp, 4);
	if (fd < 0)
		return -errno;
	out = fdopen(fd, "w");
	in = fopen(profile, "r");
	if (!out || !in) {
		rc = -errno;
		goto out_close;
	}
	while (fgets(line, sizeof(line), in)) {
		if (ms && !strncmp(line, "runtime=", 8))
			fprintf(out, "runtime=%ums\n", ms);
		else if (ms && !strncmp(line, "ramp_time=", 10))
			fprintf(out, "ramp_time=%ums\n", DL_MIN(DLBENCH_RAMP_MS, ms / 4));
		else if (b->o.fio_ioengine && !strncmp(line, "ioengine=", 9))
			fprintf(out, "ioengine=%s\n", b->o.fio_ioengine);
		else if (!uring &&
		         (!strncmp(line, "hipri=", 6) || !strncmp(line, "fixedbufs=", 10)))
			continue; /* io_uring-only options */
		else
			fputs(line, out);
	}
	if (ferror(in) || fflush(out) != 0)
		rc = -EIO;
out_close:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	else
		close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Run fio on profile; *out gets its stdout (NUL-terminated, caller frees). 0 or -errno. */
static int fio_exec(const struct dlbench *b, const char *profile, char **out)
{
	const char *fio = getenv("DLEASE_FIO") ? getenv("DLEASE_FIO") : "fio";
	size_t len = 0, cap = 1u << 16;
	char *buf = malloc(cap);
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (!buf || pipe(pfd) < 0) {
		free(buf);
		return -ENOMEM;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		free(buf);
		close(pfd[0]);
		close(pfd[1]);
		return -EAGAIN;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		setenv("DLEASE_BENCH_DEV", b->dev.path, 1);
		execlp(fio, fio, "--output-format=json", profile, (char *)NULL);
		fprintf(stderr, "dlbench: cannot run %s: %s\n", fio, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + len, cap - len - 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
		if (len + 1 == cap && cap < DLBENCH_FIO_OUTPUT_MAX) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		dlbench_err("%s %s failed (status %d)", fio, profile, status);
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

/* Read one job's figures out of fio's JSON (nanoseconds and ms there, us here). 0 or -EBADMSG. */
static int fio_parse(const char *json, const char *dir, struct dlbench_fio_run *r)
{
	const char *job = dlbench_json_index(dlbench_json_get(strchr(json, '{'), "jobs"), 0);
	const char *d = dlbench_json_get(job, dir);
	double error = -1, runtime_ms = 0, p50 = 0, p99 = 0, mean = 0, c50 = 0;
	const struct {
		const char *keys[4];
		double *out;
	} fields[] = {
	        {{"total_ios"}, &r->ios},
	        {{"runtime"}, &runtime_ms},
	        {{"lat_ns", "percentile", "50.000000"}, &p50},
	        {{"lat_ns", "percentile", "99.000000"}, &p99},
	        {{"lat_ns", "mean"}, &mean},
	        {{"clat_ns", "percentile", "50.000000"}, &c50},
	};
	uint32_t missing = 0;

	dlbench_json_path_number(job, (const char *const[]){"error", NULL}, &error);
	for (size_t i = 0; i < DL_ARRAY_SIZE(fields); i++)
		missing += dlbench_json_path_number(d, fields[i].keys, fields[i].out) < 0;
	if (missing || error != 0 || r->ios <= 0 || runtime_ms <= 0) {
		dlbench_err(
		        "fio output lacks %s figures (job error %.0f; profiles need lat_percentiles=1)",
		        dir, error);
		return -EBADMSG;
	}
	r->runtime_us = runtime_ms * 1e3;
	r->lat_median_us = p50 / 1e3;
	r->lat_p99_us = p99 / 1e3;
	r->lat_mean_us = mean / 1e3;
	r->clat_median_us = c50 / 1e3;
	return 0;
}

int dlbench_fio_run(struct dlbench *b, enum dlbench_test t, struct dlbench_fio_run *out)
{
	const struct dlbench_test_info *ti = &dlbench_tests[t];
	char profile[PATH_MAX], tmp[PATH_MAX] = "";
	char *json = NULL;
	int rc;

	rc = snprintf(profile, sizeof(profile), "%s/%s-%u-%s.fio", b->profiles_dir, ti->pattern,
	              b->sector_size, ti->qd);
	if (rc >= (int)sizeof(profile) || access(profile, R_OK) < 0) {
		rc = rc >= (int)sizeof(profile) ? -ENAMETOOLONG : -errno;
		dlbench_err("fio profile %s: %s", profile, strerror(-rc));
		return rc;
	}
	if (b->o.fio_runtime_ms || b->o.fio_ioengine) {
		rc = fio_rewrite(b, profile, tmp, sizeof(tmp));
		if (rc < 0) {
			dlbench_err("copying %s: %s", profile, strerror(-rc));
			return rc;
		}
	}
	rc = fio_exec(b, tmp[0] ? tmp : profile, &json);
	if (tmp[0])
		unlink(tmp);
	if (rc < 0)
		return rc;
	rc = fio_parse(json, ti->fio_dir, out);
	free(json);
	return rc;
}
