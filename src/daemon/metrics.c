/* SPDX-License-Identifier: MIT */
/*
 * metrics.c: the daemon's counters and latency histograms in the Prometheus
 * text exposition format, for `dlctl metrics` and for a node-exporter
 * textfile collector (metrics_file, replaced by an atomic rename).
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "banned.h"

/* Bucket upper bounds in microseconds. */
static const uint64_t metrics_bounds_us[METRICS_BUCKETS] = {
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000, 10000000};

void metrics_observe(struct histogram *h, uint64_t ns)
{
	uint32_t i = 0;

	while (i < METRICS_BUCKETS && ns > metrics_bounds_us[i] * 1000)
		i++;
	h->counts[i]++;
	h->sum_ns += ns;
	h->count++;
}

static void metrics_line(char **text, size_t *len, size_t *cap, const char *fmt, ...)
        DL_PRINTF(4, 5);

static void metrics_line(char **text, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 512 > *cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(*text + *len, *cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

#define M(...) metrics_line(&text, &len, &cap, __VA_ARGS__)

static void metrics_histogram(char **textp, size_t *lenp, size_t *capp, const char *name,
                              const char *help, const struct histogram *h)
{
	char *text = *textp;
	size_t len = *lenp, cap = *capp;
	uint64_t cum = 0;

	M("# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (uint32_t i = 0; i < METRICS_BUCKETS; i++) {
		cum += h->counts[i];
		M("%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, (double)metrics_bounds_us[i] / 1e6,
		  cum);
	}
	cum += h->counts[METRICS_BUCKETS];
	M("%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n%s_count %" PRIu64 "\n", name, cum,
	  name, (double)h->sum_ns / 1e9, name, h->count);
	*lenp = len;
}

/* The whole exposition as one string (malloc'd; NULL when out of memory). */
static char *metrics_render(const struct dleased *dd)
{
	const struct metrics *m = &dd->metrics;
	size_t cap = 64 * 1024, len = 0;
	char *text = calloc(1, cap);
	uint64_t now = clock_now_ns(dd->clk);

	if (!text)
		return NULL;
#define COUNTER(n, h, v)                                                                           \
	M("# HELP dlease_" n " " h "\n# TYPE dlease_" n " counter\ndlease_" n " %" PRIu64 "\n",    \
	  (uint64_t)(v))
	COUNTER("leader_changes_total", "Leadership changes seen by this host.", m->leader_changes);
	COUNTER("acquires_total", "Leases acquired by this host.", m->acquires);
	COUNTER("acquire_failures_total", "Acquires that failed or timed out.",
	        m->acquire_failures);
	COUNTER("renewals_total", "Delta-lease renewals that counted.", m->renewals);
	COUNTER("renewal_failures_total", "Delta-lease renewal attempts that failed.",
	        m->renewal_failures);
	COUNTER("io_timeouts_total", "Protocol rounds in which a disk missed its deadline.",
	        m->io_timeouts);
	COUNTER("checksum_errors_total", "Sectors read that failed their checksum.",
	        m->checksum_errors);
	COUNTER("holders_killed_total", "Local holders stopped because their lease was lost.",
	        m->holders_killed);
	COUNTER("requests_refused_total", "Socket requests refused by access control.",
	        m->requests_refused);
	M("# HELP dlease_uptime_seconds Seconds since the daemon started.\n"
	  "# TYPE dlease_uptime_seconds gauge\ndlease_uptime_seconds %.3f\n",
	  (double)(now - dd->start_ns) / 1e9);
	M("# HELP dlease_hosts Hosts per lockspace and state (from this host's scans).\n"
	  "# TYPE dlease_hosts gauge\n");
	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct lspace *ls = dd->spaces[i];
		uint32_t live = 0, dead = 0;

		for (uint32_t h = 0; h < ls->scan_count; h++) {
			if (ls->scan_watch[h].verdict == HOSTWATCH_LIVE)
				live++;
			else if (ls->scan_watch[h].verdict == HOSTWATCH_DEAD)
				dead++;
		}
		M("dlease_hosts{lockspace=\"%s\",state=\"live\"} %u\n", ls->name, live);
		M("dlease_hosts{lockspace=\"%s\",state=\"dead\"} %u\n", ls->name, dead);
	}
	M("# HELP dlease_lockspace_valid_seconds Seconds left of this host's delta lease.\n"
	  "# TYPE dlease_lockspace_valid_seconds gauge\n");
	for (uint32_t i = 0; i < dd->space_count; i++) {
		const struct lspace *ls = dd->spaces[i];
		uint64_t v = ls->delta.valid_until_ns;

		M("dlease_lockspace_valid_seconds{lockspace=\"%s\"} %.3f\n", ls->name,
		  v > now ? (double)(v - now) / 1e9 : 0.0);
	}
	metrics_histogram(&text, &len, &cap, "dlease_acquire_seconds",
	                  "Time from an acquire request to the lease held.", &m->acquire_latency);
	metrics_histogram(&text, &len, &cap, "dlease_renewal_seconds",
	                  "Delta-lease renewal round time (submission to judged).",
	                  &m->renewal_latency);
	return text;
}

void metrics_text(const struct dleased *dd, struct proto_buf *b)
{
	char *text = metrics_render(dd);

	if (!text) {
		b->error = -ENOMEM;
		return;
	}
	proto_put(b, "text", text);
	free(text);
}

void metrics_write_file(struct dleased *dd)
{
	uint64_t now = clock_now_ns(dd->clk);
	char tmp[4200], *text;
	bool ok;
	int fd;

	/* a scrape file, not a log: at most every METRICS_FILE_INTERVAL_NS, off the renewal path's
	 * every beat */
	if (!dd->cfg.metrics_file || now < dd->metrics_next_ns)
		return;
	dd->metrics_next_ns = now + METRICS_FILE_INTERVAL_NS;
	text = metrics_render(dd);
	if (!text)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", dd->cfg.metrics_file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
		close(fd);
		if (!ok || rename(tmp, dd->cfg.metrics_file) < 0)
			dl_warn("metrics file %s: %s", dd->cfg.metrics_file,
			        ok ? strerror(errno) : "short write");
	}
	free(text);
}
