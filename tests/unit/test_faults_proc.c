/* test_faults_proc.c — process faults: a crash discards exactly the
 * process's timers and the messages that reach it while it is down; pause
 * defers timers, messages and even the start, then resumes in order;
 * stable storage survives crashes, with lost and torn writes when
 * configured; local clocks; and the nemesis is seeded and cleans up. */
#include "faults_util.h"

#define MS DSIM_NS_PER_MS

/* ---------------------------------------------------------------- a ticker */

/* A handler-based process that sets timers at 1..10 ms after each start
 * (tags 1..10) and logs timers (+tag) and messages (-(seq+1)) in order. */
static GArray *tick_log;  /* int64_t */
static GArray *tick_when; /* DsimTime, parallel to tick_log */

static void log_event(DsimWorld *w, int64_t v) {
  DsimTime now = dsim_world_now(w);
  g_array_append_val(tick_log, v);
  g_array_append_val(tick_when, now);
}

static void ticker_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)self, (void)state, (void)argc, (void)argv;
  DsimPid me;
  rec.starts++;
  dsim_channel_join(dsim_channel_open(w, NULL), "receivers", &me, NULL);
  for (uint64_t k = 1; k <= 10; k++) dsim_cproc_timer(w, (DsimTime)k * MS, k);
}
static void ticker_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)self, (void)state;
  record_arrival(w, m);
  log_event(w, -(int64_t)arrival(rec.arrivals->len - 1)->seq - 1);
}
static void ticker_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)self, (void)state;
  rec.timers++;
  log_event(w, (int64_t)tag);
}
static const DsimProcClass ticker_class = {"ticker", 0, ticker_start, ticker_message, ticker_timer, NULL};

static void reset_all(void) {
  rec_reset();
  if (tick_log) g_array_unref(tick_log);
  if (tick_when) g_array_unref(tick_when);
  tick_log = g_array_new(FALSE, FALSE, sizeof(int64_t));
  tick_when = g_array_new(FALSE, FALSE, sizeof(DsimTime));
}

typedef void (*Action)(DsimWorld *w, DsimPid pid);
typedef struct {
  Action fn;
  DsimPid pid;
} Scheduled;
static void scheduled_fire(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)owner, (void)tag;
  Scheduled *s = data;
  s->fn(w, s->pid);
  g_free(s);
}
static void at(DsimWorld *w, DsimTime t, Action fn, DsimPid pid) {
  Scheduled *s = g_new(Scheduled, 1);
  s->fn = fn;
  s->pid = pid;
  dsim_timer_start(w, DSIM_PID_NONE, t - dsim_world_now(w), scheduled_fire, s, 0);
}

static void do_crash(DsimWorld *w, DsimPid pid) {
  GError *e = NULL;
  if (!dsim_proc_crash(w, pid, DSIM_CAUSE_SCENARIO, &e)) fail_msg("crash: %s", e->message);
}
static void do_restart(DsimWorld *w, DsimPid pid) {
  assert_true(dsim_proc_restart(w, pid, NULL));
}
static void do_pause(DsimWorld *w, DsimPid pid) {
  GError *e = NULL;
  if (!dsim_proc_pause(w, pid, DSIM_CAUSE_SCENARIO, &e)) fail_msg("pause: %s", e->message);
}
static void do_resume(DsimWorld *w, DsimPid pid) {
  assert_true(dsim_proc_resume(w, pid, DSIM_CAUSE_SCENARIO, NULL));
}

/* ---------------------------------------------------------------- crash */

static void test_crash_discards_exactly(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(51);
  DsimPid t = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  DsimPid other = spawn_receiver(w);
  spawn_sender(w, t, 30, MS, 8);     /* arrivals at t at 2..31 ms */
  spawn_sender(w, other, 30, MS, 8); /* the other receiver is not touched */
  at(w, 5 * MS + MS / 2, do_crash, t);
  at(w, 8 * MS + MS / 2, do_restart, t);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  /* Down from 5.5 to 8.5 ms: the arrivals at 6, 7, 8 ms are dropped. */
  assert_int_equal(st->dropped_crashed, 3);
  assert_int_equal(st->dropped, 3);
  /* Timers: 1..5 fired before the crash, 6..10 were cancelled, then the
   * restart set 10 more. */
  assert_int_equal(rec.timers, 15);
  assert_int_equal(rec.starts, 2 + 1 + 2); /* the ticker twice, the receiver, the senders */
  uint32_t at_t = 0, at_other = 0;
  for (guint i = 0; i < rec.arrivals->len; i++) {
    const Arrival *a = arrival(i);
    if (a->dst == t) {
      at_t++;
      assert_false(a->at > 5 * MS + MS / 2 && a->at < 8 * MS + MS / 2);
    } else {
      assert_int_equal(a->dst, other);
      at_other++;
    }
  }
  assert_int_equal(at_t, 27);
  assert_int_equal(at_other, 30);
  for (guint i = 0; i < tick_log->len; i++) {
    int64_t v = g_array_index(tick_log, int64_t, i);
    DsimTime when = g_array_index(tick_when, DsimTime, i);
    if (v > 0 && when > 5 * MS + MS / 2) assert_true(when == 8 * MS + MS / 2 + v * MS); /* the second life */
  }
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- pause */

static void test_pause_defers_then_resumes_in_order(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(52);
  DsimPid t = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  spawn_sender(w, t, 30, MS, 8); /* arrivals at 2..31 ms */
  at(w, 3 * MS + MS / 2, do_pause, t);
  at(w, 20 * MS, do_resume, t);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(st->dropped, 0);
  assert_int_equal(st->held, 16); /* arrivals at 4..19 ms */
  assert_int_equal(rec.timers, 10);
  assert_int_equal(rec.arrivals->len, 30);
  /* Before the pause: timers 1..3 and messages 0, 1 on time. At 20 ms, in
   * this order: the deferred timers 4..10, the kept messages 2..17, then
   * message 18, which arrives at 20 ms by itself. */
  guint i = 0;
  for (; i < tick_log->len && g_array_index(tick_when, DsimTime, i) < 20 * MS; i++)
    assert_true(g_array_index(tick_when, DsimTime, i) <= 3 * MS + MS / 2);
  assert_int_equal(i, 5);
  for (int64_t tag = 4; tag <= 10; tag++, i++) {
    assert_int_equal(g_array_index(tick_log, int64_t, i), tag);
    assert_int_equal(g_array_index(tick_when, DsimTime, i), 20 * MS);
  }
  for (int64_t seq = 2; seq <= 18; seq++, i++) {
    assert_int_equal(g_array_index(tick_log, int64_t, i), -seq - 1);
    assert_int_equal(g_array_index(tick_when, DsimTime, i), 20 * MS);
  }
  dsim_world_free(w);
}

static void test_pause_before_start(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(53);
  DsimPid t = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  do_pause(w, t); /* before its start event ran */
  assert_int_equal(dsim_proc_state(w, t), DSIM_PROC_PAUSED);
  at(w, 5 * MS, do_resume, t);
  dsim_world_run(w);
  assert_int_equal(rec.starts, 1);
  assert_int_equal(rec.timers, 10);
  assert_int_equal(g_array_index(tick_when, DsimTime, 0), 6 * MS); /* started at 5 ms */
  dsim_world_free(w);
}

static void test_pause_errors(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(54);
  DsimPid t = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  GError *e = NULL;
  assert_false(dsim_proc_resume(w, t, NULL, &e));
  assert_true(g_error_matches(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_STATE));
  assert_non_null(strstr(e->message, "not paused"));
  g_clear_error(&e);
  assert_false(dsim_proc_pause(w, 99, NULL, &e));
  assert_true(g_error_matches(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_NO_PROCESS));
  assert_non_null(strstr(e->message, "pid 99"));
  g_clear_error(&e);
  do_pause(w, t);
  assert_false(dsim_proc_pause(w, t, NULL, &e));
  assert_non_null(strstr(e->message, "paused"));
  g_clear_error(&e);
  /* A paused process can crash, and then restart. */
  do_crash(w, t);
  assert_int_equal(dsim_proc_state(w, t), DSIM_PROC_CRASHED);
  do_restart(w, t);
  dsim_world_run(w);
  assert_int_equal(rec.starts, 1); /* the first start never happened: it was paused, then crashed */
  assert_int_equal(rec.timers, 10);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- stable storage */

static void put_str(DsimWorld *w, DsimPid p, const char *k, const char *v) {
  dsim_stable_put(w, p, k, v, strlen(v));
}

static char *get_str(DsimWorld *w, DsimPid p, const char *k) {
  GBytes *b = dsim_stable_get(w, p, k);
  if (!b) return NULL;
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  return g_strndup(d, n);
}

static void assert_value(DsimWorld *w, DsimPid p, const char *k, const char *expect) {
  char *v = get_str(w, p, k);
  if (expect)
    assert_string_equal(v, expect);
  else
    assert_null(v);
  g_free(v);
}

static void test_stable_survives_crash(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(55);
  DsimPid p = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  put_str(w, p, "term", "3");
  put_str(w, p, "vote", "2");
  assert_int_equal(dsim_stable_sync(w, p), 2);
  put_str(w, p, "log", "x");     /* not synced: survives anyway by default */
  dsim_stable_delete(w, p, "vote");
  do_crash(w, p);
  assert_value(w, p, "term", "3");
  assert_value(w, p, "log", "x");
  assert_value(w, p, "vote", NULL);
  do_restart(w, p);
  dsim_world_run(w);
  assert_value(w, p, "term", "3"); /* the restarted process reads it */
  GPtrArray *keys = g_ptr_array_new();
  dsim_stable_keys(w, p, keys);
  assert_int_equal(keys->len, 2);
  assert_string_equal(g_ptr_array_index(keys, 0), "log"); /* strcmp order */
  assert_string_equal(g_ptr_array_index(keys, 1), "term");
  g_ptr_array_unref(keys);
  dsim_world_free(w);
}

static void test_stable_lost_and_torn_writes(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(56);
  DsimPid p = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  DsimPid q = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  assert_true(dsim_stable_set_faults(w, p, 1.0, 0.0, NULL)); /* p loses every unsynced write */
  assert_true(dsim_stable_set_faults(w, 0, 0.0, 1.0, NULL)); /* others tear them */
  put_str(w, p, "a", "synced");
  put_str(w, q, "a", "synced");
  dsim_stable_sync(w, p);
  dsim_stable_sync(w, q);
  put_str(w, p, "a", "overwritten");
  put_str(w, p, "b", "new");
  dsim_stable_delete(w, p, "a"); /* a delete is a write too, and lost as well */
  put_str(w, q, "b", "hello world");
  do_crash(w, p);
  do_crash(w, q);
  assert_value(w, p, "a", "synced"); /* the last durable value */
  assert_value(w, p, "b", NULL);
  assert_value(w, q, "a", "synced"); /* synced: untouched */
  char *torn = get_str(w, q, "b");
  assert_non_null(torn);
  assert_true(strlen(torn) < strlen("hello world"));
  assert_true(g_str_has_prefix("hello world", torn));
  print_message("torn write kept '%s'\n", torn);
  g_free(torn);
  dsim_world_free(w);
}

/* Half the unsynced writes are lost, chosen by the pid's storage stream:
 * the same seed loses the same keys. */
static GString *survivors(uint64_t seed) {
  DsimWorld *w = world_with_seed(seed);
  DsimPid p = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  assert_true(dsim_stable_set_faults(w, p, 0.5, 0.0, NULL));
  for (int i = 0; i < 64; i++) {
    char k[8];
    g_snprintf(k, sizeof k, "k%02d", i);
    put_str(w, p, k, "v");
  }
  do_crash(w, p);
  GPtrArray *keys = g_ptr_array_new();
  dsim_stable_keys(w, p, keys);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < keys->len; i++) g_string_append(s, g_ptr_array_index(keys, i));
  g_ptr_array_unref(keys);
  print_message("seed %" G_GUINT64_FORMAT ": %zu of 64 survive\n", seed, s->len / 3);
  assert_true(s->len / 3 > 16 && s->len / 3 < 48); /* Binomial(64, 1/2): 8 sd */
  dsim_world_free(w);
  return s;
}

static void test_stable_faults_are_seeded(void **state) {
  (void)state;
  GString *a = survivors(57), *b = survivors(57), *c = survivors(58);
  assert_string_equal(a->str, b->str);
  assert_string_not_equal(a->str, c->str);
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  g_string_free(c, TRUE);
  GError *e = NULL;
  DsimWorld *w = world_with_seed(1);
  assert_false(dsim_stable_set_faults(w, 0, 1.5, 0, &e));
  assert_non_null(strstr(e->message, "lost"));
  g_clear_error(&e);
  assert_false(dsim_stable_set_faults(w, 0, 0, -0.5, &e));
  assert_non_null(strstr(e->message, "torn"));
  g_clear_error(&e);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- clocks */

static DsimTime clock_at_10s, clock_at_20s;
static void read_10(DsimWorld *w, DsimPid p) {
  clock_at_10s = dsim_proc_clock(w, p);
  assert_true(dsim_proc_clock_step(w, p, -500 * MS, DSIM_CAUSE_SCENARIO, NULL));
}
static void read_20(DsimWorld *w, DsimPid p) {
  clock_at_20s = dsim_proc_clock(w, p);
}

static void test_clocks(void **state) {
  (void)state;
  reset_all();
  DsimWorld *w = world_with_seed(59);
  DsimPid p = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  DsimPid q = dsim_cproc_spawn(w, &ticker_class, 0, NULL);
  assert_int_equal(dsim_proc_clock(w, p), 0);
  assert_true(dsim_proc_clock_set(w, p, DSIM_NS_PER_SEC, 1e-3, DSIM_CAUSE_SCENARIO, NULL));
  at(w, 10 * DSIM_NS_PER_SEC, read_10, p);
  at(w, 20 * DSIM_NS_PER_SEC, read_20, p);
  at(w, 15 * DSIM_NS_PER_SEC, do_crash, p); /* a crash does not reset the clock */
  dsim_world_run(w);
  /* 1 s ahead, then 1 ms per second: 10 s + 1 s + 10 ms. */
  assert_int_equal(clock_at_10s, 11010 * MS);
  /* Stepped back 0.5 s at 10 s, drifting on: 10.51 s + 10 s + 10 ms. */
  assert_int_equal(clock_at_20s, 20520 * MS);
  assert_int_equal(dsim_proc_clock(w, q), dsim_world_now(w)); /* untouched */
  GError *e = NULL;
  assert_false(dsim_proc_clock_set(w, q, 0, 1.0, NULL, &e));
  assert_non_null(strstr(e->message, "drift"));
  g_clear_error(&e);
  assert_false(dsim_proc_clock_set(w, 77, 0, 0, NULL, &e));
  assert_non_null(strstr(e->message, "pid 77"));
  g_clear_error(&e);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- nemesis */

static char *run_nemesis(uint64_t seed, bool *all_well) {
  reset_all();
  DsimWorld *w = world_with_seed(seed);
  dsim_world_set_trace(w, dsim_trace_new(NULL, NULL));
  for (int i = 0; i < 4; i++) {
    const char *argv[] = {"peers", "1000"};
    dsim_cproc_spawn(w, &chatter_class, 2, argv);
  }
  DsimNemesisFault faults[] = {
      {.kind = DSIM_NEMESIS_PARTITION, .weight = 2, .duration = {.kind = DSIM_DELAY_UNIFORM, .a = 5 * MS, .b = 20 * MS}},
      {.kind = DSIM_NEMESIS_CRASH, .duration = {.kind = DSIM_DELAY_CONSTANT, .a = 10 * MS}},
      {.kind = DSIM_NEMESIS_PAUSE, .duration = {.kind = DSIM_DELAY_CONSTANT, .a = 10 * MS}},
      {.kind = DSIM_NEMESIS_LOSS, .loss = 0.5, .duration = {.kind = DSIM_DELAY_CONSTANT, .a = 10 * MS}},
      {.kind = DSIM_NEMESIS_LINK_DOWN, .duration = {.kind = DSIM_DELAY_CONSTANT, .a = 10 * MS}},
  };
  DsimSelector peers = {0, "peers"};
  DsimNemesisConfig cfg = {.start = 10 * MS,
                           .stop = 900 * MS,
                           .interval = {.kind = DSIM_DELAY_EXPONENTIAL, .a = 5 * MS},
                           .targets = &peers,
                           .n_targets = 1,
                           .faults = faults,
                           .n_faults = G_N_ELEMENTS(faults)};
  assert_true(dsim_nemesis_start(dsim_net_get(w), &cfg, NULL) == 1);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  print_message("seed %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " dropped (%" G_GUINT64_FORMAT
                " partition, %" G_GUINT64_FORMAT " link down, %" G_GUINT64_FORMAT " loss, %" G_GUINT64_FORMAT
                " at stopped), %" G_GUINT64_FORMAT " held\n",
                seed, st->sent, st->dropped, st->dropped_partition, st->dropped_link_down, st->dropped_loss,
                st->dropped_crashed, st->held);
  /* Every kind of fault happened, and everything was undone by the end. */
  *all_well = st->dropped_partition > 0 && st->dropped_link_down > 0 && st->dropped_loss > 0 && st->held > 0 &&
              st->dropped_crashed > 0;
  for (DsimPid p = 1; p <= 4; p++) {
    DsimProcState s = dsim_proc_state(w, p);
    if (s != DSIM_PROC_RUNNING) *all_well = false;
  }
  dsim_trace_finish(dsim_world_trace(w), NULL);
  char *digest = g_strdup(dsim_trace_digest(dsim_world_trace(w)));
  dsim_world_free(w);
  return digest;
}

static void test_nemesis_is_seeded_and_undoes(void **state) {
  (void)state;
  bool ok1, ok2, ok3;
  char *a = run_nemesis(60, &ok1), *b = run_nemesis(60, &ok2), *c = run_nemesis(61, &ok3);
  assert_true(ok1 && ok2 && ok3);
  assert_string_equal(a, b);
  assert_string_not_equal(a, c);
  g_free(a);
  g_free(b);
  g_free(c);
}

static void test_nemesis_bad_config(void **state) {
  (void)state;
  DsimWorld *w = world_with_seed(1);
  DsimNet *net = dsim_net_get(w);
  DsimNemesisFault f = {.kind = DSIM_NEMESIS_LOSS, .loss = 1.5, .duration = {.kind = DSIM_DELAY_CONSTANT, .a = MS}};
  DsimNemesisConfig cfg = {.stop = DSIM_NS_PER_SEC, .interval = {.kind = DSIM_DELAY_CONSTANT, .a = MS}, .faults = &f, .n_faults = 1};
  GError *e = NULL;
  assert_int_equal(dsim_nemesis_start(net, &cfg, &e), 0);
  assert_non_null(strstr(e->message, "loss"));
  g_clear_error(&e);
  cfg.n_faults = 0;
  assert_int_equal(dsim_nemesis_start(net, &cfg, &e), 0);
  assert_non_null(strstr(e->message, "faults"));
  g_clear_error(&e);
  f.loss = 0.5;
  cfg.n_faults = 1;
  f.duration.kind = DSIM_DELAY_PARETO; /* scale 1 ms, alpha 0: invalid */
  assert_int_equal(dsim_nemesis_start(net, &cfg, &e), 0);
  assert_non_null(strstr(e->message, "duration"));
  g_clear_error(&e);
  f.duration.kind = DSIM_DELAY_CONSTANT;
  cfg.interval = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = 0, .b = 500}; /* 0.5 us */
  assert_int_equal(dsim_nemesis_start(net, &cfg, &e), 0);
  assert_non_null(strstr(e->message, "interval must be at least 1us"));
  g_clear_error(&e);
  assert_false(dsim_nemesis_stop(net, 1));
  dsim_world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crash_discards_exactly),
      cmocka_unit_test(test_pause_defers_then_resumes_in_order),
      cmocka_unit_test(test_pause_before_start),
      cmocka_unit_test(test_pause_errors),
      cmocka_unit_test(test_stable_survives_crash),
      cmocka_unit_test(test_stable_lost_and_torn_writes),
      cmocka_unit_test(test_stable_faults_are_seeded),
      cmocka_unit_test(test_clocks),
      cmocka_unit_test(test_nemesis_is_seeded_and_undoes),
      cmocka_unit_test(test_nemesis_bad_config),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  reset_all();
  g_array_unref(rec.arrivals);
  g_array_unref(rec.timer_tags);
  g_array_unref(rec.timer_times);
  g_array_unref(tick_log);
  g_array_unref(tick_when);
  return r;
}
