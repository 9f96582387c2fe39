/* test_reports_causal.c — vector clocks over a small hand-written trace:
 * process order, a message learnt at recv (Lua) or at delivery (C), spawn
 * and bind edges, and events that belong to no process; and the tracker's
 * partitions, whose subgroup sides follow later joins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reports_fixture.h"
#include "reports_internal.h"

/* A = 1, B = 2, C = 3 and D = 4 are Lua processes, E = 5 is a C process. */
static const char TRACE[] =
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"parent\":0}\n"                             /* A1 */
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":2,\"kind\":\"lua\",\"parent\":0}\n"                             /* B1 */
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":3,\"kind\":\"lua\",\"parent\":0}\n"                             /* C1 */
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":4,\"kind\":\"lua\",\"parent\":0}\n"                             /* D1 */
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":5,\"kind\":\"c\",\"fn\":\"echo\",\"parent\":0}\n"               /* E1 */
    "{\"t\":1,\"ev\":\"send\",\"mid\":1,\"ch\":\"c\",\"src\":1,\"dst\":2,\"size\":1,\"data\":\"x\"}\n" /* A2 */
    "{\"t\":2,\"ev\":\"deliver\",\"mid\":1,\"copy\":0,\"src\":1,\"dst\":2}\n"                          /* B2 */
    "{\"t\":3,\"ev\":\"send\",\"mid\":2,\"ch\":\"c\",\"src\":4,\"dst\":3,\"size\":1,\"data\":\"y\"}\n" /* D2 */
    "{\"t\":3,\"ev\":\"recv\",\"mid\":1,\"copy\":0,\"pid\":2,\"src\":1}\n"                             /* B3 */
    "{\"t\":3,\"ev\":\"dup\",\"mid\":1,\"copy\":1,\"src\":1,\"dst\":2}\n"                              /* - */
    "{\"t\":4,\"ev\":\"send\",\"mid\":3,\"ch\":\"c\",\"src\":2,\"dst\":3,\"size\":1,\"data\":\"z\"}\n" /* B4 */
    "{\"t\":5,\"ev\":\"deliver\",\"mid\":3,\"copy\":0,\"src\":2,\"dst\":3}\n"                          /* C2 */
    "{\"t\":6,\"ev\":\"recv\",\"mid\":3,\"copy\":0,\"pid\":3,\"src\":2}\n"                             /* C3 */
    "{\"t\":7,\"ev\":\"check\",\"pid\":3,\"ok\":false,\"msg\":\"m\"}\n"                                /* C4 */
    "{\"t\":8,\"ev\":\"send\",\"mid\":4,\"ch\":\"c\",\"src\":1,\"dst\":5,\"size\":1,\"data\":\"w\"}\n" /* A3 */
    "{\"t\":9,\"ev\":\"deliver\",\"mid\":4,\"copy\":0,\"src\":1,\"dst\":5}\n"                          /* E2 */
    "{\"t\":9,\"ev\":\"partition\",\"id\":1,\"a\":[1],\"b\":[2],\"oneway\":false}\n"                   /* S1 */
    "{\"t\":10,\"ev\":\"spawn\",\"pid\":6,\"kind\":\"lua\",\"parent\":5}\n"                            /* F1 */
    "{\"t\":10,\"ev\":\"join\",\"pid\":7,\"ch\":\"c\",\"group\":\"g\",\"reserved\":true}\n"            /* - */
    "{\"t\":11,\"ev\":\"bind\",\"pid\":7,\"from\":6}\n"                                                /* G1 */
    "{\"t\":12,\"ev\":\"log\",\"pid\":0,\"msg\":\"scenario\"}\n";                                      /* S2 */

typedef struct {
  guint64 host;
  guint32 seq;
  gboolean has;
} Step;

static const Step expected[] = {
    {1, 1, TRUE}, {2, 1, TRUE}, {3, 1, TRUE}, {4, 1, TRUE}, {5, 1, TRUE}, {1, 2, TRUE}, {2, 2, TRUE},
    {4, 2, TRUE}, {2, 3, TRUE}, {0, 0, FALSE}, {2, 4, TRUE}, {3, 2, TRUE}, {3, 3, TRUE}, {3, 4, TRUE},
    {1, 3, TRUE}, {5, 2, TRUE}, {0, 1, TRUE}, {6, 1, TRUE}, {0, 0, FALSE}, {7, 1, TRUE}, {0, 2, TRUE},
};

static void expect_clock(DsimCausal *c, guint64 host, const guint64 *pairs, guint n) {
  GArray *clock = g_array_new(FALSE, FALSE, sizeof(guint64));
  dsim_causal_clock(c, host, clock);
  GString *got = g_string_new(NULL), *want = g_string_new(NULL);
  for (guint i = 0; i + 1 < clock->len; i += 2)
    g_string_append_printf(got, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT " ", g_array_index(clock, guint64, i),
                           g_array_index(clock, guint64, i + 1));
  for (guint i = 0; i + 1 < n; i += 2) g_string_append_printf(want, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT " ", pairs[i], pairs[i + 1]);
  if (strcmp(got->str, want->str) != 0) fail_msg("clock of %" G_GUINT64_FORMAT ": got %s, want %s", host, got->str, want->str);
  g_string_free(got, TRUE);
  g_string_free(want, TRUE);
  g_array_unref(clock);
}

static void test_clocks(void **state) {
  (void)state;
  char *path = fixture_trace(TRACE);
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  DsimTracker *tk = dsim_tracker_new();
  DsimCausal *c = dsim_causal_new();
  DsimTraceEvent ev;
  guint i = 0;
  while (dsim_trace_reader_next(r, &ev, &error)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    guint64 host = 99;
    guint32 seq = 99;
    gboolean has = dsim_causal_apply(c, &ev, tk, copy, &host, &seq);
    assert_true(i < G_N_ELEMENTS(expected));
    if (has != expected[i].has || (has && (host != expected[i].host || seq != expected[i].seq)))
      fail_msg("line %" G_GUINT64_FORMAT ": got %d %" G_GUINT64_FORMAT ":%u", ev.line, has, host, seq);
    if (ev.kind == DSIM_EV_CHECK) {
      /* the failing check knows A's send and B's events up to its send, not D */
      static const guint64 at_check[] = {1, 2, 2, 4, 3, 4};
      expect_clock(c, 3, at_check, G_N_ELEMENTS(at_check));
      assert_int_equal(dsim_causal_entry(c, 3, 4), 0);
      assert_int_equal(dsim_causal_entry(c, 3, 1), 2);
    }
    if (ev.kind == DSIM_EV_DELIVER && ev.dst == 2) {
      /* a Lua process does not learn the message at delivery */
      static const guint64 at_deliver[] = {2, 2};
      expect_clock(c, 2, at_deliver, G_N_ELEMENTS(at_deliver));
    }
    dsim_tracker_release(tk, &ev, copy);
    i++;
  }
  assert_null(error);
  assert_int_equal(i, G_N_ELEMENTS(expected));
  /* the C process learnt A's send on delivery; F was spawned by E; G is F bound */
  static const guint64 e_clock[] = {1, 3, 5, 2};
  expect_clock(c, 5, e_clock, G_N_ELEMENTS(e_clock));
  static const guint64 g_clock[] = {1, 3, 5, 2, 6, 1, 7, 1};
  expect_clock(c, 7, g_clock, G_N_ELEMENTS(g_clock));
  static const guint64 scenario_clock[] = {0, 2};
  expect_clock(c, 0, scenario_clock, G_N_ELEMENTS(scenario_clock));
  assert_int_equal(dsim_tracker_resolve(tk, 6), 7);
  dsim_causal_free(c);
  dsim_tracker_free(tk);
  dsim_trace_reader_free(r);
  fixture_remove(path);
}

/* The tracker: partition sides name subgroups, which the channel matches
 * when each message is checked, so a process that joins one after the
 * partition began is on that side too; a heal ends the partition. */
static void test_partition_sides_follow_joins(void **state) {
  (void)state;
  char *path = fixture_trace(
      "{\"t\":0,\"ev\":\"join\",\"pid\":1,\"ch\":\"c\",\"group\":\"s\"}\n"
      "{\"t\":0,\"ev\":\"join\",\"pid\":2,\"ch\":\"c\",\"group\":\"k\"}\n"
      "{\"t\":1,\"ev\":\"partition\",\"id\":4,\"a\":[\"s\"],\"b\":[\"k\",9],\"oneway\":true}\n"
      "{\"t\":2,\"ev\":\"join\",\"pid\":3,\"ch\":\"c\",\"group\":\"k\"}\n"
      "{\"t\":3,\"ev\":\"heal\",\"id\":4}\n");
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  DsimTracker *tk = dsim_tracker_new();
  DsimTraceEvent ev;
  while (dsim_trace_reader_next(r, &ev, &error)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    if (ev.kind == DSIM_EV_HEAL) {
      DsimPartition *pt = dsim_tracker_cut(tk, DSIM_CUT_PARTITION, 4);
      assert_non_null(pt); /* still there while the heal is handled */
      assert_true(pt->oneway);
      assert_string_equal(pt->text, "{s} -> {k, 9}");
      assert_int_equal(pt->a->len, 1);
      assert_int_equal(g_array_index(pt->a, guint64, 0), 1);
      assert_int_equal(pt->b->len, 3);
      assert_int_equal(g_array_index(pt->b, guint64, 0), 2);
      assert_int_equal(g_array_index(pt->b, guint64, 1), 9);
      assert_int_equal(g_array_index(pt->b, guint64, 2), 3);
    }
    dsim_tracker_release(tk, &ev, copy);
  }
  assert_null(error);
  assert_null(dsim_tracker_cut(tk, DSIM_CUT_PARTITION, 4));
  assert_int_equal(dsim_tracker_partitions(tk)->len, 0);
  dsim_tracker_free(tk);
  dsim_trace_reader_free(r);
  fixture_remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_clocks), cmocka_unit_test(test_partition_sides_follow_joins)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
