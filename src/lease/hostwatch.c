/* SPDX-License-Identifier: MIT */
/* hostwatch.c: the host-dead rule of hostwatch.h. */
#include "base/compat.h"
#include "hostwatch.h"

#include <string.h>

#include "base/check.h"
#include "banned.h"

void hostwatch_reset(struct hostwatch *w)
{
	memset(w, 0, sizeof(*w));
	w->verdict = HOSTWATCH_UNKNOWN;
}

static bool hostwatch_same(const struct hostwatch *w, const struct ondisk_host *r, uint64_t damage)
{
	if (!r)
		return w->empty && w->fingerprint == damage;
	return !w->empty && w->generation == r->hdr.writer_generation && w->seq == r->hdr.seq &&
	       w->state == r->state;
}

enum hostwatch_verdict hostwatch_update(struct hostwatch *w, const struct timing *tm, bool majority,
                                        const struct ondisk_host *freshest, uint64_t damage,
                                        uint64_t read_submit_ns, uint64_t read_done_ns)
{
	DL_ASSERT(read_submit_ns <= read_done_ns);
	if (!majority)
		return w->verdict; /* a minority view proves nothing either way */
	if (!w->have || !hostwatch_same(w, freshest, freshest ? 0 : damage)) {
		w->changes += w->have;
		w->have = true;
		w->empty = freshest == NULL;
		w->generation = freshest ? freshest->hdr.writer_generation : 0;
		w->seq = freshest ? freshest->hdr.seq : 0;
		w->state = freshest ? freshest->state : ONDISK_HOST_FREE;
		w->fingerprint = freshest ? 0 : damage;
		w->since_ns = read_done_ns;
		/* free: empty or left; a damaged slot may hide a live host: watch it */
		w->verdict = ((w->empty && !damage) || (freshest && w->state == ONDISK_HOST_FREE))
		                     ? HOSTWATCH_FREE
		                     : HOSTWATCH_LIVE;
		return w->verdict;
	}
	if (w->verdict == HOSTWATCH_LIVE && read_submit_ns >= w->since_ns + tm->host_dead_ns)
		w->verdict = HOSTWATCH_DEAD;
	return w->verdict;
}

const char *hostwatch_verdict_name(enum hostwatch_verdict v)
{
	switch (v) {
	case HOSTWATCH_LIVE:
		return "live";
	case HOSTWATCH_DEAD:
		return "dead";
	case HOSTWATCH_FREE:
		return "free";
	default:
		return "unknown";
	}
}
