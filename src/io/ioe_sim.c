/* SPDX-License-Identifier: MIT */
/*
 * ioe_sim.c: the in-memory engine, virtual clock and shared disks described
 * in ioe_sim.h. It owns the disks' bytes and their pending events (writes to
 * land, reads to capture, ordered by time then submission), each engine's
 * slot table and PRNG. It performs no system I/O and never reads the real
 * clock unless the engine was given it.
 *
 * Slot states, as in the kernel engines: FREE -> BUSY (sim_submit) -> FREE
 * (sim_deliver, completion in time) or BUSY -> ORPHAN (sim_expire: deadline
 * passed, -ETIMEDOUT reported) -> FREE (sim_deliver at its completion time;
 * never for a hung request). A slot's buffer holds a write's bytes until they
 * land and receives a read's bytes when captured, so a disk event may point
 * into it only while the slot is not FREE; sim_crash and sim_destroy settle
 * an engine's disk events before freeing its slots.
 */
#include "base/compat.h"
#include "io/ioe_sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/rand.h"
#include "banned.h"

#define SIM_NEVER     UINT64_MAX
#define SIM_SLOT_NONE UINT32_MAX
#define SIM_PPM       1000000u

enum sim_slot_state {
	SIM_SLOT_FREE = 0,
	SIM_SLOT_BUSY = 1,
	SIM_SLOT_ORPHAN = 2,
};

struct sim_engine;

struct sim_slot {
	uint8_t *buf;        /* write bytes to land / read bytes captured */
	uint32_t buf_size;   /* bytes allocated at buf */
	uint32_t state;      /* enum sim_slot_state */
	uint32_t next;       /* free-list link when FREE */
	uint32_t disk_index; /* index into the engine's disks[] */
	uint64_t w_offset;   /* what the request was, kept while it is an orphan */
	uint32_t w_len;
	bool w_write;
	struct ioe_req *req;
	struct ioe_batch *batch;
	uint64_t complete_ns; /* SIM_NEVER while hung */
	uint64_t seq;         /* engine submission order, breaks ties */
	int result;           /* what the request reports at complete_ns */
	bool disk_hang;       /* waits for its disk to leave IOE_SIM_DISK_HANG */
};

struct sim_event {
	uint64_t at_ns;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint8_t *data; /* a slot buffer of owner */
	const struct sim_engine *owner;
};

struct ioe_sim_disk {
	uint8_t *data;
	uint64_t size_bytes;
	uint32_t sector_size;
	enum ioe_sim_disk_state state;
	uint32_t attach_count;
	struct sim_event *events; /* sorted by at_ns, then insertion order */
	uint32_t event_count;
	uint32_t event_cap;
};

struct sim_attachment {
	struct ioe_sim_disk *disk;
	struct ioe_sim_faults faults;
};

struct sim_engine {
	struct ioe base; /* first: struct ioe * converts to struct sim_engine * */
	struct rand rng;
	struct ioe_sim_clock *sclk; /* the engine's clock when it is a virtual one */
	uint32_t queue_depth;
	struct sim_attachment disks[IOE_DISKS_MAX];
	uint32_t disk_count;
	struct sim_slot *slots;
	uint32_t free_head;
	uint32_t free_count;
	uint32_t *inflight; /* indices of slots not FREE, unordered */
	uint32_t inflight_count;
	uint64_t seq;
	struct ioe_batch *active; /* submitted, not yet finished, linked by next_active */
	uint32_t active_count;
	struct ioe_batch *done_head; /* finished, done() not yet called (FIFO) */
	struct ioe_batch *done_tail;
};

static const struct ioe_ops sim_ops;

static struct sim_engine *sim_of(struct ioe *e)
{
	DL_ASSERT(e->ops == &sim_ops);
	return (struct sim_engine *)e;
}

static uint64_t sim_add_sat(uint64_t a, uint64_t b)
{
	return a > SIM_NEVER - b ? SIM_NEVER : a + b;
}

/* ---- virtual clock ---- */

static uint64_t sim_clock_now(const struct clock *clk)
{
	const struct ioe_sim_clock *c = clk->ctx;

	return c->now_ns;
}

void ioe_sim_clock_init(struct ioe_sim_clock *c, uint64_t start_ns, bool auto_advance)
{
	c->clk.now_ns = sim_clock_now;
	c->clk.ctx = c;
	c->now_ns = start_ns;
	c->auto_advance = auto_advance;
}

void ioe_sim_clock_advance(struct ioe_sim_clock *c, uint64_t delta_ns)
{
	c->now_ns = sim_add_sat(c->now_ns, delta_ns);
}

/* ---- shared disks ---- */

struct ioe_sim_disk *ioe_sim_disk_create(uint64_t size_bytes, uint32_t sector_size)
{
	struct ioe_sim_disk *d;

	DL_ASSERT(sector_size == 512 || sector_size == 4096);
	DL_ASSERT(size_bytes % sector_size == 0);
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->data = calloc(1, size_bytes ? size_bytes : 1);
	if (!d->data) {
		free(d);
		return NULL;
	}
	d->size_bytes = size_bytes;
	d->sector_size = sector_size;
	return d;
}

void ioe_sim_disk_destroy(struct ioe_sim_disk *d)
{
	if (!d)
		return;
	DL_ASSERT(d->attach_count == 0);
	free(d->events);
	free(d->data);
	free(d);
}

uint8_t *ioe_sim_disk_data(struct ioe_sim_disk *d)
{
	return d->data;
}

uint64_t ioe_sim_disk_size(const struct ioe_sim_disk *d)
{
	return d->size_bytes;
}

void ioe_sim_disk_set_failed(struct ioe_sim_disk *d, enum ioe_sim_disk_state state)
{
	d->state = state;
}

static int sim_disk_reserve_events(struct ioe_sim_disk *d, uint32_t extra)
{
	uint32_t need = d->event_count + extra;
	struct sim_event *events;

	if (need <= d->event_cap)
		return 0;
	need = DL_MAX(need, 2 * d->event_cap);
	events = realloc(d->events, (size_t)need * sizeof(*events));
	if (!events)
		return -ENOMEM;
	d->events = events;
	d->event_cap = need;
	return 0;
}

/* Insert after every event due no later; capacity was reserved in sim_reserve. */
static void sim_disk_push(struct ioe_sim_disk *d, const struct sim_event *ev)
{
	uint32_t pos = d->event_count;

	DL_ASSERT(d->event_count < d->event_cap);
	while (pos > 0 && d->events[pos - 1].at_ns > ev->at_ns)
		pos--;
	memmove(&d->events[pos + 1], &d->events[pos],
	        (size_t)(d->event_count - pos) * sizeof(*d->events));
	d->events[pos] = *ev;
	d->event_count++;
}

static void sim_event_apply(struct ioe_sim_disk *d, const struct sim_event *ev)
{
	if (ev->is_write)
		memcpy(d->data + ev->offset, ev->data, ev->len);
	else
		memcpy(ev->data, d->data + ev->offset, ev->len);
}

/* Land writes and capture reads due at or before now_ns, in order. */
static void sim_disk_advance(struct ioe_sim_disk *d, uint64_t now_ns)
{
	uint32_t due = 0;

	while (due < d->event_count && d->events[due].at_ns <= now_ns)
		sim_event_apply(d, &d->events[due++]);
	memmove(&d->events[0], &d->events[due],
	        (size_t)(d->event_count - due) * sizeof(*d->events));
	d->event_count -= due;
}

/* Settle owner's pending events on d now: writes land (with r: by a coin flip), reads go. */
static void sim_disk_settle(struct ioe_sim_disk *d, const struct sim_engine *owner, struct rand *r)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < d->event_count; i++) {
		struct sim_event *ev = &d->events[i];

		if (ev->owner != owner) {
			d->events[kept++] = *ev;
			continue;
		}
		if (ev->is_write && (!r || rand_chance(r, 1, 2)))
			sim_event_apply(d, ev);
	}
	d->event_count = kept;
}

/* ---- slots and batches ---- */

static uint32_t sim_slot_get(struct sim_engine *s)
{
	uint32_t index = s->free_head;

	DL_ASSERT(index != SIM_SLOT_NONE);
	DL_ASSERT(s->slots[index].state == SIM_SLOT_FREE);
	s->free_head = s->slots[index].next;
	s->free_count--;
	s->slots[index].state = SIM_SLOT_BUSY;
	s->inflight[s->inflight_count++] = index;
	return index;
}

static void sim_slot_put(struct sim_engine *s, uint32_t index)
{
	struct sim_slot *slot = &s->slots[index];

	slot->state = SIM_SLOT_FREE;
	slot->req = NULL;
	slot->batch = NULL;
	slot->next = s->free_head;
	s->free_head = index;
	s->free_count++;
}

static int sim_slot_reserve_buf(struct sim_slot *slot, uint32_t len)
{
	uint8_t *buf;

	if (slot->buf_size >= len)
		return 0;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	free(slot->buf);
	slot->buf = buf;
	slot->buf_size = len;
	return 0;
}

static void sim_finish(struct sim_engine *s, struct ioe_batch *batch)
{
	struct ioe_batch **link = &s->active;

	for (uint32_t i = 0; *link && i < s->active_count; i++) {
		if (*link == batch)
			break;
		link = &(*link)->next_active;
	}
	DL_ASSERT(*link == batch);
	*link = batch->next_active;
	s->active_count--;
	batch->next_active = NULL;
	if (s->done_tail)
		s->done_tail->next_active = batch;
	else
		s->done_head = batch;
	s->done_tail = batch;
}

static int sim_drain_done(struct sim_engine *s)
{
	struct ioe_batch *batch;
	int finished = 0;

	/* Bounded by the batches queued so far: done() may submit, never finish, a batch. */
	while ((batch = s->done_head) != NULL) {
		s->done_head = batch->next_active;
		if (!s->done_head)
			s->done_tail = NULL;
		batch->next_active = NULL;
		batch->finished = true;
		finished++;
		if (batch->done)
			batch->done(batch, batch->ctx); /* may reuse or free the batch */
	}
	return finished;
}

/* Complete inflight[k] at its time: report it (unless orphaned) and free its slot. */
static void sim_deliver(struct sim_engine *s, uint32_t k)
{
	uint32_t index = s->inflight[k];
	struct sim_slot *slot = &s->slots[index];
	struct ioe_batch *batch = slot->batch;
	struct ioe_req *req = slot->req;

	s->inflight[k] = s->inflight[--s->inflight_count];
	if (slot->state == SIM_SLOT_ORPHAN) {
		sim_slot_put(s, index);
		return;
	}
	DL_ASSERT(slot->state == SIM_SLOT_BUSY);
	if (slot->result >= 0 && req->op == IOE_READ)
		memcpy(req->buf, slot->buf, req->len);
	req->result = slot->result;
	sim_slot_put(s, index);
	DL_ASSERT(batch->pending > 0);
	if (--batch->pending == 0)
		sim_finish(s, batch);
}

/* Every request of batch still in flight gets result and its slot becomes an orphan. */
static void sim_orphan_batch(struct sim_engine *s, struct ioe_batch *batch, int result)
{
	for (uint32_t k = 0; k < s->inflight_count && batch->pending > 0; k++) {
		struct sim_slot *slot = &s->slots[s->inflight[k]];

		if (slot->state != SIM_SLOT_BUSY || slot->batch != batch)
			continue;
		slot->req->result = result;
		slot->state = SIM_SLOT_ORPHAN;
		slot->req = NULL;
		slot->batch = NULL;
		batch->pending--;
	}
	DL_ASSERT(batch->pending == 0);
}

/* The in-flight index due first at or before now_ns, or SIM_SLOT_NONE. */
static uint32_t sim_next_due(const struct sim_engine *s, uint64_t now_ns)
{
	uint32_t best = SIM_SLOT_NONE;

	for (uint32_t k = 0; k < s->inflight_count; k++) {
		const struct sim_slot *slot = &s->slots[s->inflight[k]];
		const struct sim_slot *b;

		if (slot->complete_ns > now_ns)
			continue;
		b = best == SIM_SLOT_NONE ? NULL : &s->slots[s->inflight[best]];
		if (!b || slot->complete_ns < b->complete_ns ||
		    (slot->complete_ns == b->complete_ns && slot->seq < b->seq))
			best = k;
	}
	return best;
}

/* The active batch to expire first at or before now_ns (empty batches at once), or NULL. */
static struct ioe_batch *sim_next_expired(const struct sim_engine *s, uint64_t now_ns)
{
	struct ioe_batch *batch = s->active, *best = NULL;
	uint64_t best_ns = SIM_NEVER, key_ns;

	for (uint32_t i = 0; batch && i < s->active_count; i++, batch = batch->next_active) {
		key_ns = batch->pending == 0 ? 0 : batch->deadline_ns;
		if (key_ns <= now_ns && (!best || key_ns < best_ns)) {
			best = batch;
			best_ns = key_ns;
		}
	}
	return best;
}

/* Deliver completions and expire deadlines due by now_ns, interleaved in time order. */
static void sim_process(struct sim_engine *s, uint64_t now_ns)
{
	uint32_t steps_max = s->inflight_count + s->active_count + 1;

	for (uint32_t i = 0; i < s->disk_count; i++)
		sim_disk_advance(s->disks[i].disk, now_ns);
	for (uint32_t step = 0; step < steps_max; step++) {
		uint32_t k = sim_next_due(s, now_ns);
		struct ioe_batch *batch = sim_next_expired(s, now_ns);

		if (k == SIM_SLOT_NONE && !batch)
			break;
		if (k != SIM_SLOT_NONE &&
		    (!batch || (batch->pending > 0 &&
		                s->slots[s->inflight[k]].complete_ns <= batch->deadline_ns))) {
			sim_deliver(s, k);
		} else {
			sim_orphan_batch(s, batch, -ETIMEDOUT);
			sim_finish(s, batch);
		}
	}
}

/* Requests held by a hung disk that is back complete now (-EIO, nothing landed). */
static void sim_wake_disk_hangs(struct sim_engine *s, uint64_t now_ns)
{
	for (uint32_t k = 0; k < s->inflight_count; k++) {
		struct sim_slot *slot = &s->slots[s->inflight[k]];

		if (slot->disk_hang &&
		    s->disks[slot->disk_index].disk->state != IOE_SIM_DISK_HANG) {
			slot->disk_hang = false;
			slot->complete_ns = now_ns;
		}
	}
}

/* The time of this engine's next event (completion or deadline), capped at limit_ns. */
static uint64_t sim_next_event(const struct sim_engine *s, uint64_t limit_ns)
{
	const struct ioe_batch *batch = s->active;

	for (uint32_t k = 0; k < s->inflight_count; k++)
		limit_ns = DL_MIN(limit_ns, s->slots[s->inflight[k]].complete_ns);
	for (uint32_t i = 0; batch && i < s->active_count; i++, batch = batch->next_active)
		limit_ns = DL_MIN(limit_ns, batch->deadline_ns);
	return limit_ns;
}

/* ---- engine ops ---- */

static int sim_disk_add(struct ioe *e, int fd, uint32_t sector_size)
{
	(void)e;
	(void)fd;
	(void)sector_size;
	return -EOPNOTSUPP; /* the sim engine has no fds: use ioe_sim_attach() */
}

static void sim_check_req(const struct sim_engine *s, const struct ioe_req *req)
{
	const struct ioe_sim_disk *d;

	DL_ASSERT(req->disk_index < s->disk_count);
	d = s->disks[req->disk_index].disk;
	DL_ASSERT(req->op == IOE_READ || req->op == IOE_WRITE);
	DL_ASSERT(req->len > 0);
	DL_ASSERT(req->buf != NULL);
	DL_ASSERT(req->offset % d->sector_size == 0);
	DL_ASSERT(req->len % d->sector_size == 0);
}

static void sim_unreserve(struct sim_engine *s, uint32_t first)
{
	while (s->inflight_count > first)
		sim_slot_put(s, s->inflight[--s->inflight_count]);
}

/* Slots and buffers for every request (inflight[first..]) and room for their disk events. */
static int sim_reserve(struct sim_engine *s, struct ioe_batch *batch, uint32_t first)
{
	for (uint32_t i = 0; i < batch->req_count; i++) {
		uint32_t index;

		sim_check_req(s, &batch->reqs[i]);
		index = sim_slot_get(s);
		if (sim_slot_reserve_buf(&s->slots[index], batch->reqs[i].len) < 0)
			goto out_unreserve;
	}
	for (uint32_t i = 0; i < s->disk_count; i++) {
		if (sim_disk_reserve_events(s->disks[i].disk, batch->req_count) < 0)
			goto out_unreserve;
	}
	return 0;

out_unreserve:
	sim_unreserve(s, first);
	return -ENOMEM;
}

static uint64_t sim_draw_latency(struct sim_engine *s, const struct ioe_sim_faults *f)
{
	uint64_t span = f->latency_max_ns - f->latency_min_ns;

	if (span == 0)
		return f->latency_min_ns;
	return f->latency_min_ns +
	       (span == UINT64_MAX ? rand_next(&s->rng) : rand_below(&s->rng, span + 1));
}

/* A strict prefix: half the time whole 512-byte sectors, else any byte count. */
static uint32_t sim_torn_len(struct sim_engine *s, uint32_t len)
{
	if (len > 512 && rand_chance(&s->rng, 1, 2))
		return 512u * (1u + (uint32_t)rand_below(&s->rng, len / 512u - 1u));
	return 1u + (uint32_t)rand_below(&s->rng, len - 1u);
}

struct sim_rolls {
	uint64_t latency_ns;
	uint32_t error, hang, torn, late, corrupt; /* each uniform in [0, SIM_PPM) */
};

static void sim_draw(struct sim_engine *s, const struct ioe_sim_faults *f, struct sim_rolls *r)
{
	/* Always the same draws per request, so one fault's rate does not shift another's. */
	r->latency_ns = sim_draw_latency(s, f);
	r->error = (uint32_t)rand_below(&s->rng, SIM_PPM);
	r->hang = (uint32_t)rand_below(&s->rng, SIM_PPM);
	r->torn = (uint32_t)rand_below(&s->rng, SIM_PPM);
	r->late = (uint32_t)rand_below(&s->rng, SIM_PPM);
	r->corrupt = (uint32_t)rand_below(&s->rng, SIM_PPM);
}

/* Decide a write's fate after error and hang: torn, late, corrupt or clean; queue its landing. */
static void sim_plan_write(struct sim_engine *s, struct sim_slot *slot, const struct sim_rolls *r,
                           uint64_t deadline_ns)
{
	const struct ioe_sim_faults *f = &s->disks[slot->disk_index].faults;
	struct ioe_req *req = slot->req;
	struct sim_event ev = {.offset = req->offset, .len = req->len, .is_write = true};

	memcpy(slot->buf, req->buf, req->len);
	if (r->torn < f->torn_ppm) {
		ev.len = sim_torn_len(s, req->len);
		slot->result = -EIO;
	} else if (r->late < f->late_ppm) {
		slot->complete_ns = sim_add_sat(sim_add_sat(deadline_ns, 1), r->latency_ns);
	} else if (r->corrupt < f->corrupt_ppm) {
		uint64_t bit = rand_below(&s->rng, (uint64_t)req->len * 8u);

		slot->buf[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
	}
	if (slot->complete_ns == SIM_NEVER)
		return; /* a late write past the end of time never lands */
	ev.at_ns = slot->complete_ns;
	ev.data = slot->buf;
	ev.owner = s;
	sim_disk_push(s->disks[slot->disk_index].disk, &ev);
}

static void sim_plan(struct sim_engine *s, uint32_t index, struct ioe_req *req,
                     struct ioe_batch *batch, uint64_t now_ns)
{
	struct sim_slot *slot = &s->slots[index];
	struct sim_attachment *at = &s->disks[req->disk_index];
	struct sim_rolls r;

	sim_draw(s, &at->faults, &r);
	*slot = (struct sim_slot){.buf = slot->buf,
	                          .buf_size = slot->buf_size,
	                          .state = SIM_SLOT_BUSY,
	                          .next = SIM_SLOT_NONE,
	                          .disk_index = req->disk_index,
	                          .w_offset = req->offset,
	                          .w_len = req->len,
	                          .w_write = req->op == IOE_WRITE,
	                          .req = req,
	                          .batch = batch,
	                          .complete_ns = sim_add_sat(now_ns, r.latency_ns),
	                          .seq = s->seq++,
	                          .result = (int)req->len};
	req->result = 0;
	if (req->offset > at->disk->size_bytes || req->len > at->disk->size_bytes - req->offset ||
	    at->disk->state == IOE_SIM_DISK_EIO) {
		slot->result = -EIO;
	} else if (at->disk->state == IOE_SIM_DISK_HANG) {
		slot->result = -EIO;
		slot->complete_ns = SIM_NEVER;
		slot->disk_hang = true;
	} else if (r.error < at->faults.error_ppm) {
		slot->result = -EIO;
	} else if (r.hang < at->faults.hang_ppm) {
		slot->complete_ns = SIM_NEVER;
	} else if (req->op == IOE_WRITE) {
		sim_plan_write(s, slot, &r, batch->deadline_ns);
	} else {
		struct sim_event ev = {.at_ns = slot->complete_ns,
		                       .offset = req->offset,
		                       .len = req->len,
		                       .data = slot->buf,
		                       .owner = s};

		sim_disk_push(at->disk, &ev);
	}
}

static int sim_submit(struct ioe *e, struct ioe_batch *batch)
{
	struct sim_engine *s = sim_of(e);
	uint32_t first = s->inflight_count;
	uint64_t now_ns = clock_now_ns(e->clk);
	int rc;

	if (batch->req_count > s->free_count)
		return -EBUSY;
	rc = sim_reserve(s, batch, first);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < batch->req_count; i++)
		sim_plan(s, s->inflight[first + i], &batch->reqs[i], batch, now_ns);
	batch->pending = batch->req_count;
	batch->finished = false;
	batch->next_active = s->active;
	s->active = batch;
	s->active_count++;
	return 0;
}

static int sim_poll(struct ioe *e, uint64_t wait_until_ns)
{
	struct sim_engine *s = sim_of(e);
	uint64_t now_ns = clock_now_ns(e->clk), next_ns;

	sim_wake_disk_hangs(s, now_ns);
	sim_process(s, now_ns);
	if (s->done_head || wait_until_ns <= now_ns || !s->sclk || !s->sclk->auto_advance)
		return sim_drain_done(s);
	next_ns = sim_next_event(s, wait_until_ns);
	if (next_ns > now_ns) {
		s->sclk->now_ns = next_ns;
		now_ns = next_ns;
	}
	sim_process(s, now_ns);
	return sim_drain_done(s);
}

static int sim_event_fd(struct ioe *e)
{
	(void)e;
	return -1;
}

static void sim_destroy(struct ioe *e)
{
	struct sim_engine *s = sim_of(e);
	uint64_t now_ns = clock_now_ns(e->clk);
	uint32_t count = s->active_count;

	for (uint32_t i = 0; s->active && i < count; i++) {
		struct ioe_batch *batch = s->active;

		sim_orphan_batch(s, batch, -ECANCELED);
		sim_finish(s, batch);
	}
	sim_drain_done(s);
	/* Like a kernel engine waiting for its requests: pending writes land now. */
	for (uint32_t i = 0; i < s->disk_count; i++) {
		sim_disk_advance(s->disks[i].disk, now_ns);
		sim_disk_settle(s->disks[i].disk, s, NULL);
		s->disks[i].disk->attach_count--;
	}
	for (uint32_t i = 0; i < s->queue_depth; i++)
		free(s->slots[i].buf);
	free(s->inflight);
	free(s->slots);
	free(s);
}

static bool sim_write_pending(struct ioe *e, uint32_t disk, uint64_t offset, uint32_t len)
{
	struct sim_engine *s = sim_of(e);

	for (uint32_t k = 0; k < s->inflight_count; k++) {
		const struct sim_slot *slot = &s->slots[s->inflight[k]];

		if (slot->state == SIM_SLOT_ORPHAN && slot->w_write && slot->disk_index == disk &&
		    slot->w_offset < offset + len && offset < slot->w_offset + slot->w_len)
			return true;
	}
	return false;
}

static const struct ioe_ops sim_ops = {
        .name = "sim",
        .disk_add = sim_disk_add,
        .submit = sim_submit,
        .poll = sim_poll,
        .event_fd = sim_event_fd,
        .write_pending = sim_write_pending,
        .destroy = sim_destroy,
};

int ioe_sim_create(const struct ioe_config *cfg, struct ioe **out)
{
	uint32_t queue_depth = cfg->queue_depth ? cfg->queue_depth : IOE_QDEPTH_DEFAULT;
	struct sim_engine *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->slots = calloc(queue_depth, sizeof(*s->slots));
	s->inflight = calloc(queue_depth, sizeof(*s->inflight));
	if (!s->slots || !s->inflight) {
		free(s->inflight);
		free(s->slots);
		free(s);
		return -ENOMEM;
	}
	s->base.ops = &sim_ops;
	s->base.clk = cfg->clk ? cfg->clk : clock_real();
	if (s->base.clk->now_ns == sim_clock_now)
		s->sclk = s->base.clk->ctx;
	s->queue_depth = queue_depth;
	s->free_head = SIM_SLOT_NONE;
	for (uint32_t i = queue_depth; i-- > 0;)
		sim_slot_put(s, i);
	rand_seed(&s->rng, 0);
	*out = &s->base;
	return 0;
}

/* ---- simulator controls ---- */

int ioe_sim_attach(struct ioe *e, struct ioe_sim_disk *d)
{
	struct sim_engine *s = sim_of(e);

	if (s->disk_count == IOE_DISKS_MAX)
		return -ENOSPC;
	s->disks[s->disk_count] = (struct sim_attachment){.disk = d};
	d->attach_count++;
	return (int)s->disk_count++;
}

void ioe_sim_set_seed(struct ioe *e, uint64_t seed)
{
	rand_seed(&sim_of(e)->rng, seed);
}

void ioe_sim_set_faults(struct ioe *e, uint32_t disk_index, const struct ioe_sim_faults *f)
{
	struct sim_engine *s = sim_of(e);

	DL_ASSERT(disk_index < s->disk_count);
	DL_ASSERT(f->latency_max_ns >= f->latency_min_ns);
	DL_ASSERT(f->error_ppm <= SIM_PPM && f->hang_ppm <= SIM_PPM && f->torn_ppm <= SIM_PPM);
	DL_ASSERT(f->late_ppm <= SIM_PPM && f->corrupt_ppm <= SIM_PPM);
	s->disks[disk_index].faults = *f;
}

void ioe_sim_fail_hung(struct ioe *e)
{
	struct sim_engine *s = sim_of(e);
	uint64_t now_ns = clock_now_ns(s->base.clk);

	for (uint32_t k = 0; k < s->inflight_count; k++) {
		struct sim_slot *slot = &s->slots[s->inflight[k]];

		if (slot->complete_ns == SIM_NEVER && !slot->disk_hang) {
			slot->complete_ns = now_ns;
			slot->result = -EIO;
		}
	}
}

void ioe_sim_crash(struct ioe *e)
{
	struct sim_engine *s = sim_of(e);
	uint64_t now_ns = clock_now_ns(e->clk);

	for (uint32_t i = 0; i < s->disk_count; i++) {
		sim_disk_advance(s->disks[i].disk, now_ns);
		sim_disk_settle(s->disks[i].disk, s, &s->rng);
	}
	while (s->inflight_count > 0)
		sim_slot_put(s, s->inflight[--s->inflight_count]);
	/* Nothing is reported: the batches are simply forgotten. */
	s->active = NULL;
	s->active_count = 0;
	s->done_head = NULL;
	s->done_tail = NULL;
}

uint32_t ioe_sim_slots_busy(const struct ioe *e)
{
	const struct sim_engine *s = (const struct sim_engine *)e;

	DL_ASSERT(e->ops == &sim_ops);
	return s->queue_depth - s->free_count;
}
