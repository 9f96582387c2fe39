/* test_cproc.c — handler-based C processes: start arguments, message and
 * timer handlers, crash/restart (zeroed state, cleanup), registration, and
 * the example echo protocol end to end. */
#include <stdlib.h>
#include <string.h>

#include "dsim/channel.h"
#include "echo.h"
#include "test_util.h"

typedef struct {
  int starts, messages, timers, cleanups;
  char last_arg[16];
  uint64_t last_tag;
} Counters;

static Counters counters;

typedef struct {
  int *heap_thing; /* allocated at start, released by cleanup */
  int seen;
} CountState;

static void c_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  CountState *s = state;
  assert_int_equal(s->seen, 0); /* zeroed at every (re)start */
  assert_null(s->heap_thing);
  s->heap_thing = g_new0(int, 1);
  counters.starts++;
  assert_int_equal(dsim_world_self(w), self);
  if (argc > 0) g_strlcpy(counters.last_arg, argv[argc - 1], sizeof counters.last_arg);
  DsimPid pid;
  assert_true(dsim_channel_join(dsim_channel_open(w, NULL), "c", &pid, NULL));
  dsim_cproc_timer(w, 10, 42);
}

static void c_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w, (void)self;
  CountState *s = state;
  s->seen++;
  counters.messages++;
  assert_int_equal(dsim_message_dst(m), self);
}

static void c_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)w, (void)self, (void)state;
  counters.timers++;
  counters.last_tag = tag;
}

static void c_cleanup(void *state) {
  CountState *s = state;
  if (s->heap_thing) counters.cleanups++;
  g_free(s->heap_thing);
  s->heap_thing = NULL;
}

static const DsimProcClass counting = {.name = "counting",
                                       .state_size = sizeof(CountState),
                                       .start = c_start,
                                       .message = c_message,
                                       .timer = c_timer,
                                       .cleanup = c_cleanup};

static void poke(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)state, (void)argc;
  DsimChannel *ch = dsim_channel_open(w, NULL);
  DsimPid pid, to = (DsimPid)atoi(argv[0]);
  assert_true(dsim_channel_join(ch, "poker", &pid, NULL));
  assert_int_equal(pid, self);
  DsimPayload *p = dsim_payload_new("hi", 2, NULL);
  assert_true(dsim_channel_send_to(ch, &to, 1, p, NULL));
  dsim_payload_unref(p);
}
static const DsimProcClass poker = {.name = "poker", .start = poke};

static bool crash_it(DsimWorld *w, void *obj) {
  assert_true(dsim_proc_crash(w, (DsimPid)(uintptr_t)obj, "test", NULL));
  return true;
}

static void handlers_crash_and_restart(void **state) {
  (void)state;
  memset(&counters, 0, sizeof counters);
  DsimWorld *w = dsim_world_new(NULL);
  const char *args[] = {"x", "last"};
  DsimPid c = dsim_cproc_spawn(w, &counting, 2, args);
  const char *to[] = {"1"};
  dsim_cproc_spawn(w, &poker, 1, to);
  dsim_world_run(w);
  assert_int_equal(counters.starts, 1);
  assert_string_equal(counters.last_arg, "last");
  assert_int_equal(counters.messages, 1);
  assert_int_equal(counters.timers, 1);
  assert_int_equal(counters.last_tag, 42);
  /* Idle handler processes are reported as waiting, not blocked. */
  GString *out = g_string_new(NULL);
  assert_int_equal(dsim_world_describe_blocked(w, out, 5), 2);
  assert_contains(out->str, "waiting for messages or timers");
  g_string_free(out, TRUE);

  /* Crash: the pending timer is cancelled, state cleaned up; restart runs
   * start again on a zeroed state with the same arguments. */
  dsim_proc_restart(w, c, NULL); /* not crashed: refused */
  dsim_world_schedule(w, dsim_world_now(w), crash_it, (void *)(uintptr_t)c);
  dsim_world_run(w);
  assert_int_equal(counters.cleanups, 1);
  assert_true(dsim_proc_restart(w, c, NULL));
  dsim_world_run(w);
  assert_int_equal(counters.starts, 2);
  assert_int_equal(counters.timers, 2);
  dsim_world_free(w); /* cleanup runs for the live process */
  assert_int_equal(counters.cleanups, 2);
}

static void crash_before_timer(DsimWorld *w, DsimPid self, void *state, int argc,
                               const char *const *argv) {
  c_start(w, self, state, argc, argv);
  assert_true(dsim_proc_crash(w, self, "itself", NULL));
}
static const DsimProcClass self_crasher = {.name = "self_crasher",
                                           .state_size = sizeof(CountState),
                                           .start = crash_before_timer,
                                           .timer = c_timer,
                                           .cleanup = c_cleanup};

static void crash_from_own_handler(void **state) {
  (void)state;
  memset(&counters, 0, sizeof counters);
  DsimWorld *w = dsim_world_new(NULL);
  DsimPid p = dsim_cproc_spawn(w, &self_crasher, 0, NULL);
  dsim_world_run(w);
  assert_int_equal(dsim_proc_state(w, p), DSIM_PROC_CRASHED);
  assert_int_equal(counters.timers, 0);
  assert_int_equal(counters.cleanups, 1);
  dsim_world_free(w);
}

static void registry(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  GError *e = NULL;
  assert_null(dsim_class_lookup(w, "counting"));
  assert_true(dsim_class_register(w, &counting, NULL));
  assert_ptr_equal(dsim_class_lookup(w, "counting"), &counting);
  assert_false(dsim_class_register(w, &counting, &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID);
  assert_contains(e->message, "'counting' is already registered");
  g_clear_error(&e);
  /* Two worlds have separate registries. */
  DsimWorld *other = dsim_world_new(NULL);
  assert_null(dsim_class_lookup(other, "counting"));
  dsim_world_free(other);
  dsim_world_free(w);
}

static void echo_protocol_under_loss(void **state) {
  (void)state;
  DsimWorldConfig cfg = {.seed = 4, .until = DSIM_TIME_NEVER};
  DsimWorld *w = dsim_world_new(&cfg);
  dsim_examples_register(w);
  DsimLinkConfig link;
  dsim_link_config_init(&link);
  link.loss = 0.3;
  link.duplicate = 0.2;
  link.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = DSIM_NS_PER_MS, .b = 20 * DSIM_NS_PER_MS};
  assert_true(dsim_net_set_defaults(dsim_net_get(w), &link, NULL));
  dsim_cproc_spawn(w, dsim_class_lookup(w, "echo_server"), 0, NULL);
  const char *args[] = {"50", "50ms"};
  DsimPid clients[5];
  for (int i = 0; i < 5; i++) clients[i] = dsim_cproc_spawn(w, dsim_class_lookup(w, "echo_client"), 2, args);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  assert_int_equal(dsim_world_checks_passed(w), 5);
  assert_int_equal(dsim_world_checks_failed(w), 0);
  for (int i = 0; i < 5; i++) assert_int_equal(dsim_proc_state(w, clients[i]), DSIM_PROC_EXITED);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_true(st->dropped_loss > 0 && st->duplicated > 0); /* the faults did happen */
  dsim_world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(handlers_crash_and_restart),
      cmocka_unit_test(crash_from_own_handler),
      cmocka_unit_test(registry),
      cmocka_unit_test(echo_protocol_under_loss),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
