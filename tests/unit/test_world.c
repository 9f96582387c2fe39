/* test_world.c — the kernel: event order and ties, timers and cancellation,
 * run bounds, the process table, two worlds in one process. */
#include <string.h>

#include "dsim/sim.h"
#include "test_util.h"

/* ---------------------------------------------------------------- events */

typedef struct {
  DsimTime at[64];
  int id[64];
  int n;
} Log;

typedef struct {
  Log *log;
  int id;
} Tag;

static bool record(DsimWorld *w, void *obj) {
  Tag *t = obj;
  t->log->at[t->log->n] = dsim_world_now(w);
  t->log->id[t->log->n++] = t->id;
  return true;
}

static void events_run_in_time_then_schedule_order(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  Log log = {0};
  Tag tags[6];
  const DsimTime times[6] = {30, 10, 20, 10, 0, 10};
  for (int i = 0; i < 6; i++) {
    tags[i] = (Tag){&log, i};
    dsim_world_schedule(w, times[i], record, &tags[i]);
  }
  assert_int_equal(dsim_world_pending(w), 6);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  /* t=0: #4; t=10: #1, #3, #5 in the order scheduled; t=20: #2; t=30: #0 */
  const int expect[6] = {4, 1, 3, 5, 2, 0};
  assert_int_equal(log.n, 6);
  for (int i = 0; i < 6; i++) assert_int_equal(log.id[i], expect[i]);
  assert_int_equal(dsim_world_now(w), 30);
  assert_int_equal(dsim_world_events(w), 6);
  dsim_world_free(w);
}

/* The prefetch hook sees the next event's object, only for its callback,
 * and changes nothing: the same events run in the same order. */
static Log *hook_log;
static void hook_record(DsimWorld *w, void *obj) {
  (void)w;
  Tag *t = obj;
  hook_log->id[hook_log->n++] = t->id;
}
static bool other(DsimWorld *w, void *obj) {
  return record(w, obj);
}

static void prefetch_hook_sees_the_next_event(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  Log log = {0}, seen = {0};
  hook_log = &seen;
  Tag tags[5];
  const DsimTime times[5] = {10, 20, 30, 40, 50};
  for (int i = 0; i < 5; i++) {
    tags[i] = (Tag){&log, i};
    dsim_world_schedule(w, times[i], i == 2 ? other : record, &tags[i]);
  }
  dsim_world_set_prefetch(w, record, hook_record);
  dsim_world_prefetch_proc(w, 7); /* no such process: ignored */
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  assert_int_equal(log.n, 5);
  for (int i = 0; i < 5; i++) assert_int_equal(log.id[i], i);
  /* while #0 runs the next is #1; #1 → #2 (another callback: no call);
   * #2 → #3; #3 → #4; #4 → none */
  const int expect[3] = {1, 3, 4};
  assert_int_equal(seen.n, 3);
  for (int i = 0; i < 3; i++) assert_int_equal(seen.id[i], expect[i]);
  dsim_world_set_prefetch(w, record, NULL);
  dsim_world_free(w);
}

/* Many equal times scheduled from inside events keep FIFO order. */
typedef struct {
  DsimWorld *w;
  int next, *order, count;
} Chain;

static bool chain_step(DsimWorld *w, void *obj) {
  Chain *c = obj;
  c->order[c->count++] = c->next++;
  if (c->count < 1000) dsim_world_schedule(w, dsim_world_now(w), chain_step, c);
  return true;
}

static void same_time_events_scheduled_during_run(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  int order[1000];
  Chain c = {w, 0, order, 0};
  dsim_world_schedule(w, 5, chain_step, &c);
  dsim_world_run(w);
  assert_int_equal(c.count, 1000);
  for (int i = 0; i < 1000; i++) assert_int_equal(order[i], i);
  assert_int_equal(dsim_world_now(w), 5);
  dsim_world_free(w);
}

/* A large random schedule pops in sorted (t, seq) order. */
static bool check_monotonic(DsimWorld *w, void *obj) {
  DsimTime *last = obj;
  assert_true(dsim_world_now(w) >= *last);
  *last = dsim_world_now(w);
  return true;
}

static void heap_order_under_load(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  DsimRng r;
  dsim_rng_seed(&r, 3);
  DsimTime last = 0;
  for (int i = 0; i < 100000; i++)
    dsim_world_schedule(w, (DsimTime)dsim_rng_below(&r, 1000000), check_monotonic, &last);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  assert_int_equal(dsim_world_events(w), 100000);
  dsim_world_free(w);
}

/* Pops must follow (t, scheduling order) exactly, ties included, while
 * events keep scheduling others during the run: every event gets a serial
 * number when scheduled, and the run must see them sorted by (t, serial).
 * Times come from a small range, so ties are the rule, and the heap holds
 * thousands of events while it is popped and pushed in turn. */
typedef struct {
  DsimWorld *w;
  DsimRng rng;
  DsimTime *t_of; /* serial -> time scheduled for */
  uint64_t next, ran, spawned_left;
  DsimTime last_t;
  uint64_t last_serial;
  bool first;
} TieRun;

typedef struct {
  TieRun *run;
  uint64_t serial;
} TieEv;

static TieEv tie_evs[60000];

static void tie_schedule(TieRun *r, DsimTime at);

static bool tie_step(DsimWorld *w, void *obj) {
  TieEv *e = obj;
  TieRun *r = e->run;
  DsimTime now = dsim_world_now(w);
  assert_int_equal(now, r->t_of[e->serial]);
  if (!r->first) {
    assert_true(now > r->last_t || (now == r->last_t && e->serial > r->last_serial));
  }
  r->first = false;
  r->last_t = now;
  r->last_serial = e->serial;
  r->ran++;
  /* Schedule up to two more, some at this very time (after every event
   * already due now), some later. */
  for (int k = 0; k < 2 && r->spawned_left; k++, r->spawned_left--)
    tie_schedule(r, now + (DsimTime)dsim_rng_below(&r->rng, 4));
  return true;
}

static void tie_schedule(TieRun *r, DsimTime at) {
  TieEv *e = &tie_evs[r->next];
  e->run = r;
  e->serial = r->next;
  r->t_of[r->next++] = at;
  dsim_world_schedule(r->w, at, tie_step, e);
}

static void heap_ties_and_interleaving(void **state) {
  (void)state;
  TieRun r = {.w = dsim_world_new(NULL), .first = true, .spawned_left = 40000};
  r.t_of = g_new0(DsimTime, G_N_ELEMENTS(tie_evs));
  dsim_rng_seed(&r.rng, 11);
  for (int i = 0; i < 20000; i++) tie_schedule(&r, (DsimTime)dsim_rng_below(&r.rng, 50));
  assert_int_equal(dsim_world_run(r.w), DSIM_END_QUIESCENT);
  assert_int_equal(r.ran, 60000);
  assert_int_equal(r.next, 60000);
  g_free(r.t_of);
  dsim_world_free(r.w);
}

/* ---------------------------------------------------------------- bounds */

static bool forever(DsimWorld *w, void *obj) {
  dsim_world_schedule(w, dsim_world_now(w) + 1000, forever, obj);
  return true;
}

static void run_bounds(void **state) {
  (void)state;
  DsimWorldConfig cfg = {.seed = 1, .until = 10000, .max_events = 0};
  DsimWorld *w = dsim_world_new(&cfg);
  dsim_world_schedule(w, 0, forever, NULL);
  assert_int_equal(dsim_world_run(w), DSIM_END_UNTIL);
  assert_int_equal(dsim_world_now(w), 10000);
  assert_int_equal(dsim_world_events(w), 11); /* t = 0, 1000, ..., 10000 */
  dsim_world_free(w);

  cfg = (DsimWorldConfig){.seed = 1, .until = DSIM_TIME_NEVER, .max_events = 25};
  w = dsim_world_new(&cfg);
  dsim_world_schedule(w, 0, forever, NULL);
  assert_int_equal(dsim_world_run(w), DSIM_END_MAX_EVENTS);
  assert_int_equal(dsim_world_events(w), 25);
  dsim_world_free(w);
}

static bool stop_now(DsimWorld *w, void *obj) {
  (void)obj;
  dsim_world_stop(w);
  return true;
}

static void stop_and_continue(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  Log log = {0};
  Tag a = {&log, 1};
  dsim_world_schedule(w, 1, stop_now, NULL);
  dsim_world_schedule(w, 2, record, &a);
  assert_int_equal(dsim_world_run(w), DSIM_END_STOPPED);
  assert_int_equal(log.n, 0);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  assert_int_equal(log.n, 1);
  dsim_world_free(w);
}

static bool fail_now(DsimWorld *w, void *obj) {
  (void)obj;
  dsim_world_fail(w, g_error_new_literal(DSIM_SIM_ERROR, DSIM_SIM_ERROR_SCENARIO, "first"));
  dsim_world_fail(w, g_error_new_literal(DSIM_SIM_ERROR, DSIM_SIM_ERROR_SCENARIO, "second"));
  return true;
}

static void failure_stops_the_run(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  dsim_world_schedule(w, 1, fail_now, NULL);
  dsim_world_schedule(w, 2, forever, NULL);
  assert_int_equal(dsim_world_run(w), DSIM_END_ERROR);
  assert_string_equal(dsim_world_error(w)->message, "first");
  assert_int_equal(dsim_world_run(w), DSIM_END_ERROR); /* stays failed */
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- timers */

typedef struct {
  int fired[16];
  int n;
  DsimPid owners[16];
} Fired;

static void on_timer(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  Fired *f = data;
  assert_int_equal(dsim_world_self(w), owner);
  f->owners[f->n] = owner;
  f->fired[f->n++] = (int)tag;
}

static void timers_fire_and_cancel(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  Fired f = {0};
  DsimTimerId a = dsim_timer_start(w, DSIM_PID_NONE, 100, on_timer, &f, 1);
  DsimTimerId b = dsim_timer_start(w, DSIM_PID_NONE, 50, on_timer, &f, 2);
  DsimTimerId c = dsim_timer_start(w, DSIM_PID_NONE, 100, on_timer, &f, 3);
  assert_int_not_equal(a, 0);
  assert_int_not_equal(a, b);
  assert_true(dsim_timer_cancel(w, c));
  assert_false(dsim_timer_cancel(w, c)); /* already cancelled */
  assert_false(dsim_timer_cancel(w, 0));
  assert_false(dsim_timer_cancel(w, UINT64_C(0xffffffff00000000))); /* never issued */
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  assert_int_equal(f.n, 2);
  assert_int_equal(f.fired[0], 2);
  assert_int_equal(f.fired[1], 1);
  assert_false(dsim_timer_cancel(w, a)); /* already fired */
  /* Cancelled timers are not counted as events. */
  assert_int_equal(dsim_world_events(w), 2);
  /* A slot reused after firing gets a new id: the old id stays dead. */
  DsimTimerId d = dsim_timer_start(w, DSIM_PID_NONE, 1, on_timer, &f, 4);
  assert_int_not_equal(d, a);
  assert_int_not_equal(d, b);
  assert_false(dsim_timer_cancel(w, b));
  assert_true(dsim_timer_cancel(w, d));
  dsim_world_free(w);
}

static void cancelled_timers_do_not_pile_up(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  Fired f = {0};
  /* A million start/cancel pairs (like receives that get their message
   * before their timeout) keep the queue bounded by compaction. */
  size_t peak = 0;
  for (int i = 0; i < 1000000; i++) {
    DsimTimerId id = dsim_timer_start(w, DSIM_PID_NONE, 1000000, on_timer, &f, 0);
    assert_true(dsim_timer_cancel(w, id));
    if (dsim_world_pending(w) > peak) peak = dsim_world_pending(w);
  }
  assert_true(peak <= 4096);
  dsim_timer_start(w, DSIM_PID_NONE, 5, on_timer, &f, 9);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  assert_int_equal(f.n, 1);
  assert_int_equal(f.fired[0], 9);
  assert_int_equal(dsim_world_events(w), 1);
  dsim_world_free(w);
}

/* A stale timer at the head of the queue beyond --until does not make the
 * run end by "until" rather than quiescence. */
static void stale_timer_beyond_until(void **state) {
  (void)state;
  DsimWorldConfig cfg = {.seed = 0, .until = 10, .max_events = 0};
  DsimWorld *w = dsim_world_new(&cfg);
  Fired f = {0};
  DsimTimerId id = dsim_timer_start(w, DSIM_PID_NONE, 100, on_timer, &f, 0);
  dsim_timer_cancel(w, id);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- processes */

typedef struct {
  int starts, wakes, crashes;
  DsimWakeKind last_kind;
  uint64_t last_tag;
} Probe;

static void probe_start(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  (void)ops;
  Probe *p = impl;
  p->starts++;
  assert_int_equal(dsim_world_self(w), pid);
}
static void probe_wake(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl, DsimWakeKind kind,
                       void *data) {
  (void)ops;
  Probe *p = impl;
  (void)w;
  (void)pid;
  p->wakes++;
  p->last_kind = kind;
  p->last_tag = (uint64_t)(uintptr_t)data;
}
static void probe_crash(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  (void)ops;
  (void)w;
  (void)pid;
  ((Probe *)impl)->crashes++;
}
static const DsimProcOps probe_ops = {
    .kind = "probe", .start = probe_start, .wake = probe_wake, .crash = probe_crash, .destroy = NULL};

static void wake_timer(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)data;
  dsim_proc_wake(w, owner, DSIM_WAKE_TIMER, (void *)(uintptr_t)tag);
}

typedef struct {
  DsimPid pids[8];
  bool crashed[8];
  int n;
} Stops;

static void on_stopped(DsimWorld *w, DsimPid pid, bool crashed, void *data) {
  (void)w;
  Stops *s = data;
  s->pids[s->n] = pid;
  s->crashed[s->n++] = crashed;
}

static void process_lifecycle(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  Stops stops = {0};
  DsimProcListener l = {.stopped = on_stopped};
  dsim_world_add_listener(w, &l, &stops);
  Probe probe = {0};
  DsimPid pid = dsim_proc_spawn(w, &probe_ops, &probe, "probe");
  assert_int_equal(pid, 1);
  assert_int_equal(dsim_proc_state(w, pid), DSIM_PROC_RUNNING);
  assert_int_equal(probe.starts, 0); /* starts as an event, not at once */
  dsim_world_run(w);
  assert_int_equal(probe.starts, 1);

  /* Block, then a timer owned by the process wakes it. */
  dsim_proc_block(w, pid, NULL, NULL);
  assert_int_equal(dsim_proc_state(w, pid), DSIM_PROC_BLOCKED);
  dsim_timer_start(w, pid, 10, wake_timer, NULL, 77);
  dsim_world_run(w);
  assert_int_equal(probe.wakes, 1);
  assert_int_equal(probe.last_kind, DSIM_WAKE_TIMER);
  assert_int_equal(probe.last_tag, 77);
  assert_int_equal(dsim_proc_state(w, pid), DSIM_PROC_RUNNING);

  /* Crash cancels owned timers and tells the listeners. */
  Fired f = {0};
  dsim_timer_start(w, pid, 10, on_timer, &f, 1);
  dsim_timer_start(w, DSIM_PID_NONE, 20, on_timer, &f, 2);
  GError *e = NULL;
  assert_true(dsim_proc_crash(w, pid, "test", &e));
  assert_int_equal(dsim_proc_state(w, pid), DSIM_PROC_CRASHED);
  assert_int_equal(probe.crashes, 1);
  assert_int_equal(stops.n, 1);
  assert_true(stops.crashed[0]);
  assert_false(dsim_proc_crash(w, pid, "test", &e)); /* already crashed */
  assert_error(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE);
  g_clear_error(&e);
  dsim_world_run(w);
  assert_int_equal(f.n, 1);
  assert_int_equal(f.fired[0], 2);

  /* Restart runs start again, as a new incarnation. */
  assert_true(dsim_proc_restart(w, pid, NULL));
  assert_int_equal(dsim_proc_incarnation(w, pid), 1);
  assert_false(dsim_proc_restart(w, pid, &e)); /* running: must crash first */
  assert_error(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE);
  g_clear_error(&e);
  dsim_world_run(w);
  assert_int_equal(probe.starts, 2);

  /* Crash before the restart's start event ran: that start never runs. */
  assert_true(dsim_proc_crash(w, pid, NULL, NULL));
  assert_true(dsim_proc_restart(w, pid, NULL));
  assert_true(dsim_proc_crash(w, pid, NULL, NULL));
  dsim_world_run(w);
  assert_int_equal(probe.starts, 2);

  /* Exit notifies listeners too. */
  assert_true(dsim_proc_restart(w, pid, NULL));
  dsim_world_run(w);
  dsim_proc_exit(w, pid);
  assert_int_equal(dsim_proc_state(w, pid), DSIM_PROC_EXITED);
  assert_false(stops.crashed[stops.n - 1]);

  assert_false(dsim_proc_crash(w, 99, NULL, &e));
  assert_error(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_NO_PROCESS);
  g_clear_error(&e);
  dsim_world_free(w);
}

static void reserve_and_adopt(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  DsimPid r = dsim_proc_reserve(w);
  Probe probe = {0};
  DsimPid p = dsim_proc_spawn(w, &probe_ops, &probe, NULL);
  assert_int_equal(dsim_proc_state(w, r), DSIM_PROC_RESERVED);
  assert_null(dsim_proc_ops(w, r));
  GError *e = NULL;
  assert_false(dsim_proc_adopt(w, p, 42, &e));
  g_clear_error(&e);
  assert_false(dsim_proc_adopt(w, r, p, &e)); /* p is not reserved */
  g_clear_error(&e);
  assert_true(dsim_proc_adopt(w, p, p, NULL)); /* itself: no-op */
  assert_true(dsim_proc_adopt(w, p, r, NULL));
  assert_int_equal(dsim_proc_state(w, p), DSIM_PROC_ADOPTED);
  assert_int_equal(dsim_proc_resolve(w, p), r);
  assert_int_equal(dsim_proc_resolve(w, r), r);
  assert_int_equal(dsim_proc_resolve(w, 77), DSIM_PID_NONE);
  assert_ptr_equal(dsim_proc_impl(w, r), &probe);
  /* The start event was scheduled for p before the adoption (the textbook
   * binds in the child's first steps, but C code may adopt earlier): it
   * follows the process to r. */
  dsim_world_run(w);
  assert_int_equal(probe.starts, 1);
  assert_true(dsim_proc_crash(w, p, NULL, NULL)); /* via the old pid */
  assert_int_equal(dsim_proc_state(w, r), DSIM_PROC_CRASHED);
  dsim_world_free(w);
}

static void process_rng_streams_differ(void **state) {
  (void)state;
  DsimWorldConfig cfg = {.seed = 5, .until = DSIM_TIME_NEVER};
  DsimWorld *w = dsim_world_new(&cfg);
  Probe a = {0}, b = {0};
  DsimPid pa = dsim_proc_spawn(w, &probe_ops, &a, NULL);
  DsimPid pb = dsim_proc_spawn(w, &probe_ops, &b, NULL);
  DsimRng expect;
  dsim_rng_stream(&expect, 5, DSIM_STREAM_PROCESS, pa);
  assert_int_equal(dsim_rng_next(dsim_proc_rng(w, pa)), dsim_rng_next(&expect));
  assert_int_not_equal(dsim_rng_next(dsim_proc_rng(w, pa)), dsim_rng_next(dsim_proc_rng(w, pb)));
  dsim_rng_stream(&expect, 5, DSIM_STREAM_NETWORK, pb);
  assert_int_equal(dsim_rng_next(dsim_proc_net_rng(w, pb)), dsim_rng_next(&expect));
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- two worlds */

static void two_worlds_interleaved(void **state) {
  (void)state;
  DsimWorldConfig c1 = {.seed = 1, .until = DSIM_TIME_NEVER}, c2 = {.seed = 2, .until = DSIM_TIME_NEVER};
  DsimWorld *a = dsim_world_new(&c1), *b = dsim_world_new(&c2);
  Log la = {0}, lb = {0};
  Tag ta[3], tb[3];
  for (int i = 0; i < 3; i++) {
    ta[i] = (Tag){&la, i};
    tb[i] = (Tag){&lb, 10 + i};
    dsim_world_schedule(a, 10 * (3 - i), record, &ta[i]);
    dsim_world_schedule(b, 5 * (i + 1), record, &tb[i]);
  }
  dsim_world_schedule(a, 15, stop_now, NULL);
  assert_int_equal(dsim_world_run(a), DSIM_END_STOPPED);
  assert_int_equal(dsim_world_run(b), DSIM_END_QUIESCENT);
  assert_int_equal(dsim_world_run(a), DSIM_END_QUIESCENT);
  assert_int_equal(la.n, 3);
  assert_int_equal(lb.n, 3);
  assert_int_equal(la.id[0], 2);
  assert_int_equal(lb.id[0], 10);
  assert_int_equal(dsim_world_now(a), 30);
  assert_int_equal(dsim_world_now(b), 15);
  assert_int_not_equal(dsim_rng_next(dsim_world_rng(a)), dsim_rng_next(dsim_world_rng(b)));
  dsim_world_free(a);
  dsim_world_free(b);
}

/* ---------------------------------------------------------------- checks, time */

static void checks_are_counted(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  dsim_world_check(w, 0, true, "fine", NULL);
  assert_null(dsim_world_first_failure(w));
  dsim_world_check(w, 3, false, "broken", "x.lua:7");
  dsim_world_check(w, 4, false, "also broken", NULL);
  assert_int_equal(dsim_world_checks_passed(w), 1);
  assert_int_equal(dsim_world_checks_failed(w), 2);
  const char *first = dsim_world_first_failure(w);
  assert_non_null(strstr(first, "broken"));
  assert_non_null(strstr(first, "pid 3"));
  assert_non_null(strstr(first, "x.lua:7"));
  assert_null(strstr(first, "also"));
  dsim_world_free(w);
}

static void time_parsing(void **state) {
  (void)state;
  DsimTime t;
  GError *e = NULL;
  assert_true(dsim_time_parse("1.5", &t, NULL));
  assert_int_equal(t, 1500000000);
  assert_true(dsim_time_parse("5ms", &t, NULL));
  assert_int_equal(t, 5000000);
  assert_true(dsim_time_parse(" 100 us ", &t, NULL));
  assert_int_equal(t, 100000);
  assert_true(dsim_time_parse("10ns", &t, NULL));
  assert_int_equal(t, 10);
  assert_true(dsim_time_parse("2min", &t, NULL));
  assert_int_equal(t, 120 * DSIM_NS_PER_SEC);
  assert_true(dsim_time_parse("1h", &t, NULL));
  assert_int_equal(t, 3600 * DSIM_NS_PER_SEC);
  assert_true(dsim_time_parse("0.001", &t, NULL));
  assert_int_equal(t, 1000000);
  const char *bad[] = {"", "abc", "-1", "5 parsecs", "1e300", "nan", "inf", "3ms5"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    assert_false(dsim_time_parse(bad[i], &t, &e));
    assert_error(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID);
    g_clear_error(&e);
  }
  char buf[32];
  assert_string_equal(dsim_time_format(2000000001, buf, sizeof buf), "2.000000001s");
  assert_string_equal(dsim_time_format(0, buf, sizeof buf), "0.000000000s");
  assert_false(dsim_time_from_seconds(-0.5, &t));
  assert_false(dsim_time_from_seconds(1e19, &t));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(events_run_in_time_then_schedule_order),
      cmocka_unit_test(prefetch_hook_sees_the_next_event),
      cmocka_unit_test(same_time_events_scheduled_during_run),
      cmocka_unit_test(heap_order_under_load),
      cmocka_unit_test(heap_ties_and_interleaving),
      cmocka_unit_test(run_bounds),
      cmocka_unit_test(stop_and_continue),
      cmocka_unit_test(failure_stops_the_run),
      cmocka_unit_test(timers_fire_and_cancel),
      cmocka_unit_test(cancelled_timers_do_not_pile_up),
      cmocka_unit_test(stale_timer_beyond_until),
      cmocka_unit_test(process_lifecycle),
      cmocka_unit_test(reserve_and_adopt),
      cmocka_unit_test(process_rng_streams_differ),
      cmocka_unit_test(two_worlds_interleaved),
      cmocka_unit_test(checks_are_counted),
      cmocka_unit_test(time_parsing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
