/* world.c — the simulation world: event heap, run loop, process table,
 * timers, checks and module slots.
 *
 * The event queue is a binary min-heap of DsimEvent values keyed by
 * (t, seq). seq comes from a per-world counter, so the order of events with
 * equal times is the order in which they were scheduled, in every run.
 *
 * Timers are slots with a generation number; a timer's heap event carries the
 * slot and the generation, so a cancelled timer's event is recognised as stale
 * when it reaches the top and is skipped (lazy deletion). When stale events
 * outnumber live ones the heap is rebuilt without them, which bounds memory
 * at twice the live events. */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(dsim-sim-error-quark, dsim_sim_error)

/* ---------------------------------------------------------------- heap */

static inline bool ev_less(const DsimEvent *a, const DsimEvent *b) {
  return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_sift_down(DsimEvent *heap, size_t n, size_t i, DsimEvent e) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && ev_less(&heap[c + 1], &heap[c])) c++;
    if (!ev_less(&heap[c], &e)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = e;
}

void dsim_world_schedule(DsimWorld *w, DsimTime at, DsimEventFn fn, void *obj) {
  g_assert(at >= w->now);
  if (w->heap_len == w->heap_cap) {
    w->heap_cap = w->heap_cap ? w->heap_cap * 2 : 1024;
    w->heap = g_renew(DsimEvent, w->heap, w->heap_cap);
  }
  DsimEvent e = {at, w->next_seq++, fn, obj};
  size_t i = w->heap_len++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!ev_less(&e, &w->heap[p])) break;
    w->heap[i] = w->heap[p];
    i = p;
  }
  w->heap[i] = e;
}

/* Bottom-up pop: the hole left by the root moves down along the smaller
 * children to a leaf (one comparison per level instead of two), then the
 * last element goes into it and moves up, rarely more than a level. The
 * last element is read only at the end: it is often the event just
 * scheduled, and reading it at once, in wider loads than the stores that
 * wrote it, stalled on store forwarding (a third of a one-message
 * ping-pong's time). Keys (t, seq) are unique, so the order of pops is the
 * same whatever the heap's layout. */
static DsimEvent heap_pop(DsimWorld *w) {
  DsimEvent *h = w->heap;
  DsimEvent top = h[0];
  size_t n = --w->heap_len; /* h[n] is the last element, to be placed */
  if (n == 0) return top;
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && ev_less(&h[c + 1], &h[c])) c++;
    h[i] = h[c];
    i = c;
  }
  DsimEvent e = h[n];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!ev_less(&e, &h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
  return top;
}

size_t dsim_world_pending(const DsimWorld *w) {
  return w->heap_len;
}

void dsim_world_discard_events(DsimWorld *w, DsimEventFn fn, void (*dispose)(DsimWorld *, void *)) {
  size_t n = 0;
  for (size_t i = 0; i < w->heap_len; i++) {
    if (w->heap[i].fn == fn)
      dispose(w, w->heap[i].obj);
    else
      w->heap[n++] = w->heap[i];
  }
  w->heap_len = n;
  for (size_t i = n / 2; i-- > 0;) heap_sift_down(w->heap, n, i, w->heap[i]);
}

/* ---------------------------------------------------------------- timers */

static bool timer_fire(DsimWorld *w, void *obj);

static inline uint32_t timer_slot_of(DsimTimerId id) {
  return (uint32_t)id;
}
static inline uint32_t timer_gen_of(DsimTimerId id) {
  return (uint32_t)(id >> 32);
}

static bool timer_event_is_stale(const DsimWorld *w, const DsimEvent *e) {
  if (e->fn != timer_fire) return false;
  DsimTimerId id = (DsimTimerId)(uintptr_t)e->obj;
  const DsimTimerSlot *s = &w->timers[timer_slot_of(id)];
  return s->gen != timer_gen_of(id) || !s->armed;
}

/* Rebuilds the heap without stale timer events (Floyd's heapify). The order
 * of the remaining events is unchanged because it depends on (t, seq) only. */
static void heap_compact(DsimWorld *w) {
  size_t n = 0;
  for (size_t i = 0; i < w->heap_len; i++)
    if (!timer_event_is_stale(w, &w->heap[i])) w->heap[n++] = w->heap[i];
  w->heap_len = n;
  w->stale_events = 0;
  for (size_t i = n / 2; i-- > 0;) heap_sift_down(w->heap, n, i, w->heap[i]);
}

static void timer_unlink_owner(DsimWorld *w, uint32_t slot) {
  DsimTimerSlot *s = &w->timers[slot];
  if (s->owner == DSIM_PID_NONE) return;
  DsimProc *p = dsim_proc_get(w, s->owner);
  if (s->prev)
    w->timers[s->prev - 1].next = s->next;
  else
    p->timer_head = s->next;
  if (s->next) w->timers[s->next - 1].prev = s->prev;
  s->prev = s->next = 0;
}

static void timer_release(DsimWorld *w, uint32_t slot) {
  DsimTimerSlot *s = &w->timers[slot];
  timer_unlink_owner(w, slot);
  s->armed = false;
  s->deferred = false;
  s->gen++;
  if (s->gen == 0) s->gen = 1; /* id 0 stays invalid */
  s->next_free = w->timer_free;
  w->timer_free = slot + 1;
}

DsimTimerId dsim_timer_start(DsimWorld *w, DsimPid owner, DsimTime delay, DsimTimerFn fn, void *data,
                             uint64_t tag) {
  g_assert(delay >= 0 && fn);
  g_assert(delay <= DSIM_TIME_NEVER - w->now);
  uint32_t slot;
  if (w->timer_free) {
    slot = w->timer_free - 1;
    w->timer_free = w->timers[slot].next_free;
  } else {
    if (w->timers_len == w->timers_cap) {
      w->timers_cap = w->timers_cap ? w->timers_cap * 2 : 256;
      w->timers = g_renew(DsimTimerSlot, w->timers, w->timers_cap);
    }
    slot = w->timers_len++;
    w->timers[slot].gen = 1;
  }
  DsimTimerSlot *s = &w->timers[slot];
  s->armed = true;
  s->deferred = false;
  s->owner = owner;
  s->fn = fn;
  s->data = data;
  s->tag = tag;
  s->prev = 0;
  s->next = 0;
  s->next_free = 0;
  if (owner != DSIM_PID_NONE) {
    DsimProc *p = dsim_proc_get(w, owner);
    s->next = p->timer_head;
    if (p->timer_head) w->timers[p->timer_head - 1].prev = slot + 1;
    p->timer_head = slot + 1;
  }
  DsimTimerId id = ((uint64_t)s->gen << 32) | slot;
  dsim_world_schedule(w, w->now + delay, timer_fire, (void *)(uintptr_t)id);
  return id;
}

bool dsim_timer_cancel(DsimWorld *w, DsimTimerId id) {
  uint32_t slot = timer_slot_of(id);
  if (id == 0 || slot >= w->timers_len) return false;
  DsimTimerSlot *s = &w->timers[slot];
  if (s->gen != timer_gen_of(id) || !s->armed) return false;
  bool in_heap = !s->deferred;
  timer_release(w, slot);
  if (!in_heap) return true; /* deferred by a pause: no event to skip */
  w->stale_events++;
  if (w->stale_events > 1024 && w->stale_events * 2 > w->heap_len) heap_compact(w);
  return true;
}

static void cancel_owned_timers(DsimWorld *w, DsimProc *p) {
  while (p->timer_head) {
    uint32_t slot = p->timer_head - 1;
    DsimTimerSlot *s = &w->timers[slot];
    dsim_timer_cancel(w, ((uint64_t)s->gen << 32) | slot);
  }
}

static bool timer_fire(DsimWorld *w, void *obj) {
  DsimTimerId id = (DsimTimerId)(uintptr_t)obj;
  uint32_t slot = timer_slot_of(id);
  DsimTimerSlot *s = &w->timers[slot];
  if (s->gen != timer_gen_of(id) || !s->armed) {
    g_assert(w->stale_events > 0);
    w->stale_events--;
    return false;
  }
  if (G_UNLIKELY(w->paused_count) && s->owner != DSIM_PID_NONE) {
    DsimProc *p = dsim_proc_get(w, s->owner);
    if (dsim_proc_hot(w, s->owner)->state == DSIM_PROC_PAUSED) {
      /* Keep it armed (it can still be cancelled) and fire it at resume. */
      DsimProcExtra *x = dsim_proc_extra(p);
      if (!x->deferred) x->deferred = g_array_new(FALSE, FALSE, sizeof(DsimTimerId));
      g_array_append_val(x->deferred, id);
      s->deferred = true;
      return false;
    }
  }
  DsimTimerFn fn = s->fn;
  void *data = s->data;
  uint64_t tag = s->tag;
  DsimPid owner = s->owner;
  timer_release(w, slot);
  DsimPid saved = w->self;
  w->self = owner;
  fn(w, owner, data, tag);
  w->self = saved;
  return true;
}

/* ---------------------------------------------------------------- world */

DsimWorld *dsim_world_new(const DsimWorldConfig *config) {
  DsimWorld *w = g_new0(DsimWorld, 1);
  if (config) {
    w->config = *config;
  } else {
    w->config.until = DSIM_TIME_NEVER;
  }
  dsim_rng_stream(&w->rng, w->config.seed, DSIM_STREAM_SCENARIO, 0);
  w->listeners = g_array_new(FALSE, FALSE, sizeof(DsimListenerEntry));
  w->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return w;
}

void dsim_world_free(DsimWorld *w) {
  if (!w) return;
  /* Processes first: their ops may live in a module (C processes' class
   * records belong to the net). Then modules, in reverse order of
   * attachment. */
  for (DsimPid pid = 1; pid <= w->proc_count; pid++) {
    DsimProcHot *h = dsim_proc_hot(w, pid);
    if (h->ops && h->ops->destroy) h->ops->destroy(h->ops, h->impl);
    h->ops = NULL;
  }
  for (int i = w->slots_attached; i-- > 0;) {
    int slot = w->slot_order[i];
    if (w->slots[slot].destroy) w->slots[slot].destroy(w->slots[slot].object);
    w->slots[slot].object = NULL;
  }
  for (DsimPid pid = 1; pid <= w->proc_count; pid++) {
    DsimProc *p = dsim_proc_get(w, pid);
    if (p->extra) {
      if (p->extra->deferred) g_array_unref(p->extra->deferred);
      dsim_stable_free(p->extra->stable);
      g_free(p->extra);
    }
  }
  for (size_t i = 0; i < w->proc_chunks_len; i++) {
    g_aligned_free(w->proc_chunks[i]);
    g_free(w->hot_chunks[i]);
  }
  g_free(w->proc_chunks);
  g_free(w->hot_chunks);
  if (w->trace) dsim_trace_free(w->trace);
  g_free(w->heap);
  g_free(w->timers);
  g_free(w->first_failure);
  g_array_unref(w->listeners);
  g_hash_table_unref(w->labels);
  if (w->error) g_error_free(w->error);
  g_free(w);
}

const DsimWorldConfig *dsim_world_config(const DsimWorld *w) {
  return &w->config;
}
DsimTime dsim_world_now(const DsimWorld *w) {
  return w->now;
}
DsimPid dsim_world_self(const DsimWorld *w) {
  return w->self;
}
DsimRng *dsim_world_rng(DsimWorld *w) {
  return &w->rng;
}
uint64_t dsim_world_events(const DsimWorld *w) {
  return w->events;
}
DsimTrace *dsim_world_trace(const DsimWorld *w) {
  return w->trace;
}

void dsim_world_set_trace(DsimWorld *w, DsimTrace *trace) {
  g_assert(w->trace == NULL);
  w->trace = trace;
}

void dsim_world_attach(DsimWorld *w, DsimSlot slot, void *object, void (*destroy)(void *)) {
  g_assert(slot < DSIM_SLOT_COUNT && w->slots[slot].object == NULL);
  w->slots[slot].object = object;
  w->slots[slot].destroy = destroy;
  w->slot_order[w->slots_attached++] = (int)slot;
}

void *dsim_world_attached(const DsimWorld *w, DsimSlot slot) {
  g_assert(slot < DSIM_SLOT_COUNT);
  return w->slots[slot].object;
}

void dsim_world_add_listener(DsimWorld *w, const DsimProcListener *listener, void *data) {
  DsimListenerEntry e = {*listener, data};
  g_array_append_val(w->listeners, e);
}

const char *dsim_end_reason_name(DsimEndReason r) {
  switch (r) {
  case DSIM_END_QUIESCENT: return "quiescent";
  case DSIM_END_UNTIL: return "until";
  case DSIM_END_MAX_EVENTS: return "max_events";
  case DSIM_END_STOPPED: return "stopped";
  case DSIM_END_ERROR: return "error";
  }
  return "?";
}

void dsim_world_set_prefetch(DsimWorld *w, DsimEventFn fn, void (*hook)(DsimWorld *, void *)) {
  w->prefetch_fn = hook ? fn : NULL;
  w->prefetch_hook = hook;
}

void dsim_world_prefetch_proc(const DsimWorld *w, DsimPid pid) {
  if (pid == DSIM_PID_NONE || pid > w->proc_count) return;
  __builtin_prefetch(dsim_proc_hot(w, pid));
  __builtin_prefetch(dsim_proc_get(w, pid));
}

/* A two-stage pipeline over the heap: the event after next is one of the
 * root's children, so their objects start loading now; the next event's
 * object was loaded that way while this one was being popped, so its hook
 * can read it (a message's destination) and prefetch one level further.
 * With 100,000 processes receiving at random, those records are cache
 * misses that would otherwise stall the event in turn. */
static void prefetch_ahead(DsimWorld *w) {
  const DsimEvent *h = w->heap;
  if (w->heap_len > 1 && h[1].fn == w->prefetch_fn) __builtin_prefetch(h[1].obj);
  if (w->heap_len > 2 && h[2].fn == w->prefetch_fn) __builtin_prefetch(h[2].obj);
  if (h[0].fn == w->prefetch_fn) w->prefetch_hook(w, h[0].obj);
}

DsimEndReason dsim_world_run(DsimWorld *w) {
  w->stop_requested = false;
  for (;;) {
    if (w->error) return DSIM_END_ERROR;
    if (w->heap_len == 0) return DSIM_END_QUIESCENT;
    if (w->stale_events && timer_event_is_stale(w, &w->heap[0])) {
      heap_pop(w);
      w->stale_events--;
      continue;
    }
    if (w->heap[0].t > w->config.until) {
      w->now = w->config.until;
      return DSIM_END_UNTIL;
    }
    if (w->config.max_events && w->events >= w->config.max_events) return DSIM_END_MAX_EVENTS;
    DsimEvent e = heap_pop(w);
    /* The next event's object (a message record, usually) is needed soon:
     * start loading it while this event runs. Prefetching a timer id, which
     * is not an address, is harmless. */
    if (w->heap_len) {
      __builtin_prefetch(w->heap[0].obj);
      if (w->prefetch_hook) prefetch_ahead(w);
    }
    w->now = e.t;
    if (e.fn(w, e.obj)) w->events++;
    if (G_UNLIKELY(w->stop_requested)) return w->error ? DSIM_END_ERROR : DSIM_END_STOPPED;
  }
}

void dsim_world_stop(DsimWorld *w) {
  w->stop_requested = true;
}

void dsim_world_fail(DsimWorld *w, GError *error) {
  if (w->error)
    g_error_free(error);
  else
    w->error = error;
  w->stop_requested = true;
}

const GError *dsim_world_error(const DsimWorld *w) {
  return w->error;
}

/* ---------------------------------------------------------------- processes */

static const char *intern_label(DsimWorld *w, const char *label) {
  if (!label) return NULL;
  const char *s = g_hash_table_lookup(w->labels, label);
  if (!s) {
    char *copy = g_strdup(label);
    g_hash_table_insert(w->labels, copy, copy);
    s = copy;
  }
  return s;
}

static DsimPid proc_new(DsimWorld *w, DsimProcState state) {
  g_assert(w->proc_count < UINT32_MAX - 1);
  uint32_t i = w->proc_count;
  size_t chunk = i >> DSIM_PROC_CHUNK_BITS;
  if (chunk == w->proc_chunks_len) {
    w->proc_chunks = g_renew(DsimProc *, w->proc_chunks, w->proc_chunks_len + 1);
    w->hot_chunks = g_renew(DsimProcHot *, w->hot_chunks, w->proc_chunks_len + 1);
    w->proc_chunks[w->proc_chunks_len] = g_aligned_alloc0(DSIM_PROC_CHUNK, sizeof(DsimProc), 64);
    w->hot_chunks[w->proc_chunks_len] = g_new0(DsimProcHot, DSIM_PROC_CHUNK);
    w->proc_chunks_len++;
  }
  DsimPid pid = ++w->proc_count;
  DsimProc *p = dsim_proc_get(w, pid);
  dsim_proc_hot(w, pid)->state = (uint8_t)state;
  dsim_rng_stream(&p->rng, w->config.seed, DSIM_STREAM_PROCESS, pid);
  dsim_rng_stream(&p->net_rng, w->config.seed, DSIM_STREAM_NETWORK, pid);
  return pid;
}

static inline void *start_token(DsimPid pid, uint32_t incarnation) {
  return (void *)(uintptr_t)(((uint64_t)incarnation << 32) | pid);
}

/* The start event of one incarnation; void if that incarnation crashed
 * before it started. */
static bool proc_start_event(DsimWorld *w, void *obj) {
  uint64_t tok = (uint64_t)(uintptr_t)obj;
  /* The process may have adopted a reserved pid since this was scheduled. */
  DsimPid pid = dsim_proc_resolve(w, (DsimPid)tok);
  DsimProcHot *h = dsim_proc_hot(w, pid);
  DsimProc *p = dsim_proc_get(w, pid);
  if (p->incarnation != (uint32_t)(tok >> 32)) return false;
  if (G_UNLIKELY(h->state == DSIM_PROC_PAUSED) && p->extra->paused_from == DSIM_PROC_RUNNING) {
    p->extra->start_pending = true; /* it starts when it resumes */
    return false;
  }
  if (h->state != DSIM_PROC_RUNNING) return false;
  DsimPid saved = w->self;
  w->self = pid;
  h->ops->start(w, pid, h->ops, h->impl);
  w->self = saved;
  return true;
}

DsimPid dsim_proc_spawn(DsimWorld *w, const DsimProcOps *ops, void *impl, const char *label) {
  g_assert(ops && ops->start && ops->wake);
  DsimPid pid = proc_new(w, DSIM_PROC_RUNNING);
  DsimProcHot *h = dsim_proc_hot(w, pid);
  h->ops = ops;
  h->impl = impl;
  dsim_proc_get(w, pid)->label = intern_label(w, label);
  DsimTrace *tr = w->trace;
  if (tr) {
    dsim_trace_begin(tr, w->now, "spawn");
    dsim_trace_u64(tr, "pid", pid);
    dsim_trace_str(tr, "kind", ops->kind, (size_t)-1, 64);
    if (label) dsim_trace_str(tr, "fn", label, (size_t)-1, 200);
    dsim_trace_u64(tr, "parent", w->self);
    dsim_trace_end(tr);
  }
  dsim_world_schedule(w, w->now, proc_start_event, start_token(pid, 0));
  return pid;
}

DsimPid dsim_proc_reserve(DsimWorld *w) {
  return proc_new(w, DSIM_PROC_RESERVED);
}

DsimPid dsim_proc_resolve(const DsimWorld *w, DsimPid pid) {
  if (pid == DSIM_PID_NONE || pid > w->proc_count) return DSIM_PID_NONE;
  /* Adoption targets are reserved pids, which never adopt anything
   * themselves, so one hop is always enough. */
  return dsim_proc_hot(w, pid)->state == DSIM_PROC_ADOPTED ? dsim_proc_get(w, pid)->alias : pid;
}

gboolean dsim_proc_adopt(DsimWorld *w, DsimPid self, DsimPid target, GError **error) {
  if (self == target) return TRUE;
  if (target == DSIM_PID_NONE || target > w->proc_count) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_NO_PROCESS, "pid %u does not exist", target);
    return FALSE;
  }
  DsimProcHot *mh = dsim_proc_hot(w, self), *th = dsim_proc_hot(w, target);
  DsimProc *me = dsim_proc_get(w, self), *t = dsim_proc_get(w, target);
  if (th->state != DSIM_PROC_RESERVED) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE,
                "pid %u is not a reserved pid (it is %s); bind takes a pid returned by a join "
                "made outside any process",
                target, dsim_proc_state_name(th->state));
    return FALSE;
  }
  g_assert(mh->state == DSIM_PROC_RUNNING);
  *th = *mh;
  t->label = me->label;
  t->incarnation = me->incarnation;
  /* Move the timer list: the owner field of each slot changes too. */
  t->timer_head = me->timer_head;
  for (uint32_t s = t->timer_head; s; s = w->timers[s - 1].next) w->timers[s - 1].owner = target;
  me->timer_head = 0;
  if (!t->extra) { /* a clock set or storage written before the bind */
    t->extra = me->extra;
    me->extra = NULL;
  }
  mh->state = DSIM_PROC_ADOPTED;
  mh->ops = NULL;
  mh->impl = NULL;
  me->alias = target;
  if (w->self == self) w->self = target;
  DsimTrace *tr = w->trace;
  if (tr) {
    dsim_trace_begin(tr, w->now, "bind");
    dsim_trace_u64(tr, "pid", target);
    dsim_trace_u64(tr, "from", self);
    dsim_trace_end(tr);
  }
  return TRUE;
}

bool dsim_proc_exists(const DsimWorld *w, DsimPid pid) {
  return pid != DSIM_PID_NONE && pid <= w->proc_count;
}

DsimProcState dsim_proc_state(const DsimWorld *w, DsimPid pid) {
  return (DsimProcState)dsim_proc_hot(w, pid)->state;
}

const char *dsim_proc_state_name(DsimProcState s) {
  switch (s) {
  case DSIM_PROC_RESERVED: return "reserved";
  case DSIM_PROC_RUNNING: return "running";
  case DSIM_PROC_BLOCKED: return "blocked";
  case DSIM_PROC_CRASHED: return "crashed";
  case DSIM_PROC_EXITED: return "exited";
  case DSIM_PROC_ADOPTED: return "bound to another pid";
  case DSIM_PROC_PAUSED: return "paused";
  }
  return "?";
}

const DsimProcOps *dsim_proc_ops(const DsimWorld *w, DsimPid pid) {
  return dsim_proc_hot(w, pid)->ops;
}
void *dsim_proc_impl(const DsimWorld *w, DsimPid pid) {
  return dsim_proc_hot(w, pid)->impl;
}
uint32_t dsim_proc_incarnation(const DsimWorld *w, DsimPid pid) {
  return dsim_proc_get(w, pid)->incarnation;
}
DsimRng *dsim_proc_rng(DsimWorld *w, DsimPid pid) {
  return &dsim_proc_get(w, pid)->rng;
}
DsimRng *dsim_proc_net_rng(DsimWorld *w, DsimPid pid) {
  return &dsim_proc_get(w, pid)->net_rng;
}
DsimPid dsim_world_proc_count(const DsimWorld *w) {
  return w->proc_count;
}

void dsim_proc_block(DsimWorld *w, DsimPid pid, DsimDescribeFn describe, void *arg) {
  DsimProcHot *h = dsim_proc_hot(w, pid);
  DsimProc *p = dsim_proc_get(w, pid);
  g_assert(h->state == DSIM_PROC_RUNNING);
  h->state = DSIM_PROC_BLOCKED;
  p->describe = describe;
  p->describe_arg = arg;
  p->blocked_since = w->now;
}

void dsim_proc_wake(DsimWorld *w, DsimPid pid, DsimWakeKind kind, void *data) {
  DsimProcHot *h = dsim_proc_hot(w, pid);
  g_assert(h->state == DSIM_PROC_BLOCKED || h->state == DSIM_PROC_RUNNING);
  h->state = DSIM_PROC_RUNNING;
  DsimPid saved = w->self;
  w->self = pid;
  h->ops->wake(w, pid, h->ops, h->impl, kind, data);
  w->self = saved;
}

static void notify_stopped(DsimWorld *w, DsimPid pid, bool crashed) {
  for (guint i = 0; i < w->listeners->len; i++) {
    DsimListenerEntry *e = &g_array_index(w->listeners, DsimListenerEntry, i);
    if (e->l.stopped) e->l.stopped(w, pid, crashed, e->data);
  }
}

void dsim_proc_exit(DsimWorld *w, DsimPid pid) {
  DsimProcHot *h = dsim_proc_hot(w, pid);
  g_assert(h->state == DSIM_PROC_RUNNING);
  h->state = DSIM_PROC_EXITED;
  cancel_owned_timers(w, dsim_proc_get(w, pid));
  DsimTrace *tr = w->trace;
  if (tr) {
    dsim_trace_begin(tr, w->now, "exit");
    dsim_trace_u64(tr, "pid", pid);
    dsim_trace_end(tr);
  }
  notify_stopped(w, pid, false);
}

DsimProcExtra *dsim_proc_extra(DsimProc *p) {
  if (G_UNLIKELY(!p->extra)) p->extra = g_new0(DsimProcExtra, 1);
  return p->extra;
}

/* Resolves pid for a fault operation `op`, or sets a NO_PROCESS error. */
static DsimProc *fault_target(DsimWorld *w, DsimPid pid, const char *op, DsimPid *real, GError **error) {
  *real = dsim_proc_resolve(w, pid);
  if (*real == DSIM_PID_NONE) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_NO_PROCESS, "%s: pid %u does not exist", op, pid);
    return NULL;
  }
  return dsim_proc_get(w, *real);
}

static void trace_proc_event(DsimWorld *w, const char *ev, DsimPid pid, const char *cause) {
  DsimTrace *tr = w->trace;
  if (!tr) return;
  dsim_trace_begin(tr, w->now, ev);
  dsim_trace_u64(tr, "pid", pid);
  dsim_trace_str(tr, "cause", cause ? cause : "scenario", (size_t)-1, 64);
  dsim_trace_end(tr);
}

gboolean dsim_proc_crash(DsimWorld *w, DsimPid pid, const char *cause, GError **error) {
  DsimPid real;
  DsimProc *p = fault_target(w, pid, "crash", &real, error);
  if (!p) return FALSE;
  DsimProcHot *h = dsim_proc_hot(w, real);
  if (h->state != DSIM_PROC_RUNNING && h->state != DSIM_PROC_BLOCKED && h->state != DSIM_PROC_PAUSED) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE,
                "crash: pid %u cannot crash because it is %s", real, dsim_proc_state_name(h->state));
    return FALSE;
  }
  if (h->state == DSIM_PROC_PAUSED) {
    w->paused_count--;
    p->extra->start_pending = false;
  }
  h->state = DSIM_PROC_CRASHED;
  p->describe = NULL;
  cancel_owned_timers(w, p);
  if (p->extra && p->extra->deferred) g_array_set_size(p->extra->deferred, 0);
  trace_proc_event(w, "crash", real, cause);
  if (p->extra && p->extra->stable) dsim_stable_crash(w, real, cause ? cause : "scenario");
  notify_stopped(w, real, true);
  if (h->ops->crash) h->ops->crash(w, real, h->ops, h->impl);
  return TRUE;
}

gboolean dsim_proc_restart_by(DsimWorld *w, DsimPid pid, const char *cause, GError **error) {
  DsimPid real;
  DsimProc *p = fault_target(w, pid, "restart", &real, error);
  if (!p) return FALSE;
  DsimProcHot *h = dsim_proc_hot(w, real);
  if (h->state != DSIM_PROC_CRASHED && h->state != DSIM_PROC_EXITED) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE,
                "restart: pid %u is %s; only a crashed or exited process can be restarted", real,
                dsim_proc_state_name(h->state));
    return FALSE;
  }
  p->incarnation++;
  h->state = DSIM_PROC_RUNNING;
  DsimTrace *tr = w->trace;
  if (tr) {
    dsim_trace_begin(tr, w->now, "restart");
    dsim_trace_u64(tr, "pid", real);
    dsim_trace_u64(tr, "incarnation", p->incarnation);
    dsim_trace_str(tr, "cause", cause ? cause : "scenario", (size_t)-1, 64);
    dsim_trace_end(tr);
  }
  dsim_world_schedule(w, w->now, proc_start_event, start_token(real, p->incarnation));
  return TRUE;
}

gboolean dsim_proc_restart(DsimWorld *w, DsimPid pid, GError **error) {
  return dsim_proc_restart_by(w, pid, "scenario", error);
}

gboolean dsim_proc_pause(DsimWorld *w, DsimPid pid, const char *cause, GError **error) {
  DsimPid real;
  DsimProc *p = fault_target(w, pid, "pause", &real, error);
  if (!p) return FALSE;
  DsimProcHot *h = dsim_proc_hot(w, real);
  if (h->state != DSIM_PROC_RUNNING && h->state != DSIM_PROC_BLOCKED) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE,
                "pause: pid %u cannot be paused because it is %s", real, dsim_proc_state_name(h->state));
    return FALSE;
  }
  if (real == w->self) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE,
                "pause: pid %u cannot pause itself (it would stop in the middle of its own code)", real);
    return FALSE;
  }
  DsimProcExtra *x = dsim_proc_extra(p);
  x->paused_from = (DsimProcState)h->state;
  x->start_pending = false;
  h->state = DSIM_PROC_PAUSED;
  w->paused_count++;
  trace_proc_event(w, "pause", real, cause);
  return TRUE;
}

gboolean dsim_proc_resume(DsimWorld *w, DsimPid pid, const char *cause, GError **error) {
  DsimPid real;
  DsimProc *p = fault_target(w, pid, "resume", &real, error);
  if (!p) return FALSE;
  DsimProcHot *h = dsim_proc_hot(w, real);
  if (h->state != DSIM_PROC_PAUSED) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE,
                "resume: pid %u is %s, not paused", real, dsim_proc_state_name(h->state));
    return FALSE;
  }
  DsimProcExtra *x = p->extra;
  h->state = x->paused_from;
  w->paused_count--;
  trace_proc_event(w, "resume", real, cause);
  /* What fell due meanwhile happens now, in the order it fell due: the
   * start first (nothing else can be due before it), then the timers, then
   * (through the listeners) the messages that arrived. */
  if (x->start_pending) {
    x->start_pending = false;
    dsim_world_schedule(w, w->now, proc_start_event, start_token(real, p->incarnation));
  }
  if (x->deferred) {
    for (guint i = 0; i < x->deferred->len; i++) {
      DsimTimerId id = g_array_index(x->deferred, DsimTimerId, i);
      DsimTimerSlot *s = &w->timers[timer_slot_of(id)];
      if (s->gen != timer_gen_of(id) || !s->armed || !s->deferred) continue; /* cancelled meanwhile */
      s->deferred = false;
      dsim_world_schedule(w, w->now, timer_fire, (void *)(uintptr_t)id);
    }
    g_array_set_size(x->deferred, 0);
  }
  for (guint i = 0; i < w->listeners->len; i++) {
    DsimListenerEntry *e = &g_array_index(w->listeners, DsimListenerEntry, i);
    if (e->l.resumed) e->l.resumed(w, real, e->data);
  }
  return TRUE;
}

/* ---------------------------------------------------------------- clocks */

DsimTime dsim_proc_clock(const DsimWorld *w, DsimPid pid) {
  const DsimProc *p = dsim_proc_get(w, dsim_proc_resolve(w, pid));
  if (!p->extra) return w->now;
  const DsimProcExtra *x = p->extra;
  DsimTime dt = w->now - x->clock_t0;
  return x->clock_l0 + dt + (DsimTime)llround(x->clock_drift * (double)dt);
}

double dsim_proc_clock_drift(const DsimWorld *w, DsimPid pid) {
  const DsimProc *p = dsim_proc_get(w, dsim_proc_resolve(w, pid));
  return p->extra ? p->extra->clock_drift : 0.0;
}

static void clock_piece(DsimWorld *w, DsimProc *p, DsimPid pid, DsimTime reading, double drift,
                        const char *cause) {
  DsimProcExtra *x = dsim_proc_extra(p);
  x->clock_t0 = w->now;
  x->clock_l0 = reading;
  x->clock_drift = drift;
  DsimTrace *tr = w->trace;
  if (tr) {
    dsim_trace_begin(tr, w->now, "clock");
    dsim_trace_u64(tr, "pid", pid);
    dsim_trace_i64(tr, "offset", reading - w->now);
    dsim_trace_double(tr, "drift", drift);
    dsim_trace_str(tr, "cause", cause ? cause : "scenario", (size_t)-1, 64);
    dsim_trace_end(tr);
  }
}

gboolean dsim_proc_clock_set(DsimWorld *w, DsimPid pid, DsimTime offset, double drift, const char *cause,
                             GError **error) {
  DsimPid real;
  DsimProc *p = fault_target(w, pid, "clock", &real, error);
  if (!p) return FALSE;
  if (!(drift > -1.0 && drift < 1.0)) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID,
                "clock: drift must be greater than -1 and less than 1 (got %g)", drift);
    return FALSE;
  }
  clock_piece(w, p, real, w->now + offset, drift, cause);
  return TRUE;
}

gboolean dsim_proc_clock_step(DsimWorld *w, DsimPid pid, DsimTime delta, const char *cause,
                              GError **error) {
  DsimPid real;
  DsimProc *p = fault_target(w, pid, "clock", &real, error);
  if (!p) return FALSE;
  clock_piece(w, p, real, dsim_proc_clock(w, real) + delta, p->extra ? p->extra->clock_drift : 0.0, cause);
  return TRUE;
}

void dsim_world_blocked_pids(const DsimWorld *w, GArray *out) {
  for (DsimPid pid = 1; pid <= w->proc_count; pid++)
    if (dsim_proc_hot(w, pid)->state == DSIM_PROC_BLOCKED) g_array_append_val(out, pid);
}

unsigned dsim_world_describe_blocked(DsimWorld *w, GString *out, unsigned max_lines) {
  unsigned count = 0;
  char tbuf[32];
  for (DsimPid pid = 1; pid <= w->proc_count; pid++) {
    DsimProc *p = dsim_proc_get(w, pid);
    DsimProcHot *h = dsim_proc_hot(w, pid);
    bool idle_handler = h->state == DSIM_PROC_RUNNING && h->ops && h->ops->direct_delivery;
    bool paused = h->state == DSIM_PROC_PAUSED;
    if (h->state != DSIM_PROC_BLOCKED && !idle_handler && !paused) continue;
    count++;
    if (count > max_lines) continue;
    g_string_append_printf(out, "pid %u (%s%s%s): ", pid, h->ops->kind, p->label ? " " : "",
                           p->label ? p->label : "");
    if (paused) {
      g_string_append(out, "paused");
      if (p->extra->paused_from == DSIM_PROC_BLOCKED && p->describe) {
        g_string_append(out, " in ");
        p->describe(w, pid, p->describe_arg, out);
      }
    } else if (idle_handler) {
      g_string_append(out, "waiting for messages or timers");
    } else {
      if (p->describe)
        p->describe(w, pid, p->describe_arg, out);
      else
        g_string_append(out, "blocked");
      g_string_append_printf(out, " since t=%s", dsim_time_format(p->blocked_since, tbuf, sizeof tbuf));
    }
    g_string_append_c(out, '\n');
  }
  if (count > max_lines) g_string_append_printf(out, "... and %u more\n", count - max_lines);
  return count;
}

/* ---------------------------------------------------------------- checks, logs */

void dsim_world_check(DsimWorld *w, DsimPid pid, bool ok, const char *message, const char *where) {
  if (ok)
    w->checks_passed++;
  else
    w->checks_failed++;
  DsimTrace *tr = w->trace;
  if (tr) {
    dsim_trace_begin(tr, w->now, "check");
    dsim_trace_u64(tr, "pid", pid);
    dsim_trace_bool(tr, "ok", ok);
    dsim_trace_str(tr, "msg", message ? message : "", (size_t)-1, 1000);
    if (where) dsim_trace_str(tr, "where", where, (size_t)-1, 300);
    dsim_trace_end(tr);
  }
  if (!ok && !w->first_failure) {
    char tbuf[32];
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "check failed: %s (at t=%s, ", message ? message : "(no message)",
                           dsim_time_format(w->now, tbuf, sizeof tbuf));
    if (pid)
      g_string_append_printf(s, "in pid %u", pid);
    else
      g_string_append(s, "in scenario code");
    if (where) g_string_append_printf(s, ", %s", where);
    g_string_append_c(s, ')');
    w->first_failure = g_string_free(s, FALSE);
  }
}

uint64_t dsim_world_checks_passed(const DsimWorld *w) {
  return w->checks_passed;
}
uint64_t dsim_world_checks_failed(const DsimWorld *w) {
  return w->checks_failed;
}
const char *dsim_world_first_failure(const DsimWorld *w) {
  return w->first_failure;
}

void dsim_world_log(DsimWorld *w, DsimPid pid, const char *message) {
  DsimTrace *tr = w->trace;
  if (!tr) return;
  dsim_trace_begin(tr, w->now, "log");
  dsim_trace_u64(tr, "pid", pid);
  dsim_trace_str(tr, "msg", message, (size_t)-1, 4000);
  dsim_trace_end(tr);
}
