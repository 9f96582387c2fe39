/* test_reports_text.c — formatting helpers and the terminal summary of a
 * hand-written trace: the numbers, the 80-column limit, colour only when
 * asked, the process filter and the end-line cross-check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "reports_fixture.h"
#include "reports_internal.h"

static void expect_duration(gint64 ns, const char *want) {
  char b[DSIM_TIME_BUF];
  if (strcmp(dsim_fmt_duration(ns, b), want) != 0) fail_msg("%" G_GINT64_FORMAT ": '%s', want '%s'", ns, b, want);
}

static void test_durations(void **state) {
  (void)state;
  expect_duration(0, "0ns");
  expect_duration(850, "850ns");
  expect_duration(1000, "1us");
  expect_duration(12345, "12.35us");
  expect_duration(999960, "1ms"); /* 999.96us rounds up into the next unit */
  expect_duration(2954321, "2.954ms");
  expect_duration(3100000, "3.1ms");
  expect_duration(59056817, "59.06ms");
  expect_duration(1500000000, "1.5s");
  expect_duration(12000000000, "12s");
  expect_duration(123456789012, "123.5s");
  expect_duration(1234567890123, "1235s");
  expect_duration(-5, "-5ns");
  char b[DSIM_TIME_BUF];
  assert_string_equal(dsim_fmt_time(0, b), "0s");
  assert_string_equal(dsim_fmt_time(59056817, b), "0.059056817s");
  assert_string_equal(dsim_fmt_time(1500000000, b), "1.5s");
  assert_string_equal(dsim_fmt_time(2000000000, b), "2s");
}

static void test_escaping(void **state) {
  (void)state;
  GString *s = g_string_new(NULL);
  dsim_html_escape(s, "<a href=\"x\">&'\x01\n");
  assert_string_equal(s->str, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\xef\xbf\xbd&#10;");
  g_string_truncate(s, 0);
  dsim_json_quote(s, "a\"b\\c\n\x02\xc3\xa9");
  assert_string_equal(s->str, "\"a\\\"b\\\\c\\n\\u0002\xc3\xa9\"");
  g_string_truncate(s, 0);
  dsim_append_clean(s, "h\xc3\xa9llo\nworld", 5);
  assert_string_equal(s->str, "h\xc3\xa9llo...");
  g_string_free(s, TRUE);
}

static const char TRACE[] =
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"fn\":\"t.lua:1\",\"parent\":0}\n"
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":2,\"kind\":\"lua\",\"fn\":\"t.lua:9\",\"parent\":0}\n"
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":3,\"kind\":\"lua\",\"fn\":\"t.lua:9\",\"parent\":0}\n"
    "{\"t\":0,\"ev\":\"join\",\"pid\":1,\"ch\":\"default\",\"group\":\"a-subgroup-with-a-long-name\"}\n"
    "{\"t\":0,\"ev\":\"join\",\"pid\":2,\"ch\":\"default\",\"group\":\"client\"}\n"
    "{\"t\":0,\"ev\":\"join\",\"pid\":3,\"ch\":\"default\",\"group\":\"client\"}\n"
    "{\"t\":0,\"ev\":\"send\",\"mid\":1,\"ch\":\"default\",\"src\":2,\"dst\":1,\"size\":5,\"data\":\"hello\"}\n"
    "{\"t\":0,\"ev\":\"dup\",\"mid\":1,\"copy\":1,\"src\":2,\"dst\":1}\n"
    "{\"t\":0,\"ev\":\"send\",\"mid\":2,\"ch\":\"default\",\"src\":3,\"dst\":1,\"size\":5,\"data\":\"hello\"}\n"
    "{\"t\":0,\"ev\":\"drop\",\"mid\":2,\"copy\":0,\"src\":3,\"dst\":1,\"reason\":\"loss\"}\n"
    "{\"t\":1000000,\"ev\":\"deliver\",\"mid\":1,\"copy\":0,\"src\":2,\"dst\":1}\n"
    "{\"t\":1000000,\"ev\":\"recv\",\"mid\":1,\"copy\":0,\"pid\":1,\"src\":2}\n"
    "{\"t\":3000000,\"ev\":\"deliver\",\"mid\":1,\"copy\":1,\"src\":2,\"dst\":1}\n"
    "{\"t\":4000000,\"ev\":\"crash\",\"pid\":1,\"cause\":\"scenario\"}\n"
    "{\"t\":4000000,\"ev\":\"drop\",\"mid\":1,\"copy\":1,\"src\":2,\"dst\":1,\"reason\":\"crash\"}\n"
    "{\"t\":5000000,\"ev\":\"timeout\",\"pid\":3,\"op\":\"recvFrom\",\"ch\":\"default\"}\n"
    "{\"t\":5000000,\"ev\":\"check\",\"pid\":3,\"ok\":false,\"msg\":\"no reply\",\"where\":\"t.lua:12\"}\n"
    "{\"t\":5000000,\"ev\":\"check\",\"pid\":2,\"ok\":true,\"msg\":\"reply\"}\n"
    "{\"t\":5000000,\"ev\":\"end\",\"reason\":\"quiescent\",\"events\":9,\"sent\":2,\"delivered\":2,\"received\":1,"
    "\"dropped\":2,\"duplicated\":1,\"checks_passed\":1,\"checks_failed\":1,\"blocked\":[2]}\n";

/* The report of a trace as a string. */
static char *report(const char *events, DsimReportOptions *o) {
  char *path = fixture_trace(events);
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  GError *error = NULL;
  gboolean ok = dsim_report_text(path, o, out, &error);
  fclose(out);
  if (!ok) fail_msg("report failed: %s", error->message);
  fixture_remove(path);
  return buf;
}

static void assert_contains(const char *text, const char *part) {
  if (!strstr(text, part)) fail_msg("'%s' not found in:\n%s", part, text);
}

static void test_summary(void **state) {
  (void)state;
  DsimReportOptions o;
  dsim_report_options_init(&o);
  char *text = report(TRACE, &o);
  /* 80 columns, no escape sequences */
  char **lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++)
    if (g_utf8_strlen(*l, -1) > 80) fail_msg("line longer than 80 columns: '%s'", *l);
  g_strfreev(lines);
  assert_null(strchr(text, '\033'));
  assert_contains(text, "2 sent, 2 delivered, 1 received, 2 dropped");
  assert_contains(text, "dropped by reason: crash 1, loss 1");
  assert_contains(text, "1 duplicated, 0 corrupted, 1 receive timeouts");
  assert_contains(text, "p50 1ms  p99 3ms  max 3ms  (2 deliveries, exact)");
  /* the processes: pid, group (cut), sent, delivered, received, dropped to it, timeouts, end state */
  assert_contains(text, "      1  a-subgrou...       0       2       1        2      0  crashed\n");
  assert_contains(text, "      2  client             1       0       0        0      0  blocked\n");
  assert_contains(text, "      3  client             1       0       0        0      1  running\n");
  /* the links: a duplicate delivered twice, latency p50/p99/max */
  assert_contains(text, "  2->1               1      2      1     1     0      1ms      3ms      3ms\n");
  assert_contains(text, "  3->1               1      0      1     0     0        -        -        -\n");
  assert_contains(text, "0.004s          crash          pid 1 (scenario)");
  assert_contains(text, "CHECKS  (1 passed, 1 failed)");
  assert_contains(text, "  FAIL  0.005s          pid 3     no reply (t.lua:12)");
  assert_contains(text, "  ok    0.005s          pid 2     reply");
  assert_contains(text, "digest    ");
  assert_null(strstr(text, "warning"));
  g_free(text);
}

static void test_color_and_filter(void **state) {
  (void)state;
  DsimReportOptions o;
  dsim_report_options_init(&o);
  o.color = TRUE;
  char *text = report(TRACE, &o);
  assert_contains(text, "\033[31mFAIL\033[0m");
  g_free(text);
  o.color = FALSE;
  guint64 pids[] = {3};
  o.pids = pids;
  o.n_pids = 1;
  text = report(TRACE, &o);
  assert_contains(text, "only      pid 3 (and messages to or from them)");
  assert_contains(text, "1 sent, 0 delivered, 0 received, 1 dropped");
  assert_contains(text, "PROCESSES  (1)");
  assert_contains(text, "LINKS  (1, sender->receiver)");
  assert_contains(text, "CHECKS  (0 passed, 1 failed)");
  assert_null(strstr(text, "warning")); /* no cross-check on a filtered view */
  g_free(text);
}

static void test_end_line_disagrees(void **state) {
  (void)state;
  GString *t = g_string_new(TRACE);
  /* claim three sends in the end line */
  char *p = strstr(t->str, "\"sent\":2");
  p[7] = '3';
  DsimReportOptions o;
  dsim_report_options_init(&o);
  char *text = report(t->str, &o);
  assert_contains(text, "warning   the end line disagrees with the trace: sent: 2 lines, end line says 3");
  g_free(text);
  g_string_free(t, TRUE);
}

/* Corruption is not in format version 1's tables: both spellings the
 * reader accepts mark the copy, and count once per delivered copy. */
static void test_corruption_and_unknown_kinds(void **state) {
  (void)state;
  GString *t = g_string_new(TRACE);
  g_string_replace(t, "{\"t\":1000000,\"ev\":\"deliver\",\"mid\":1,\"copy\":0,\"src\":2,\"dst\":1}",
                   "{\"t\":1000000,\"ev\":\"deliver\",\"mid\":1,\"copy\":0,\"src\":2,\"dst\":1,\"corrupted\":true}", 1);
  g_string_replace(t, "{\"t\":3000000,\"ev\":\"deliver\"",
                   "{\"t\":2000000,\"ev\":\"corrupt\",\"mid\":1,\"copy\":1}\n"
                   "{\"t\":2500000,\"ev\":\"quake\",\"pid\":3}\n"
                   "{\"t\":3000000,\"ev\":\"deliver\"",
                   1);
  DsimReportOptions o;
  dsim_report_options_init(&o);
  char *text = report(t->str, &o);
  assert_contains(text, "1 duplicated, 2 corrupted, 1 receive timeouts");
  assert_contains(text, "  2->1               1      2      1     1     2      1ms      3ms      3ms\n");
  assert_contains(text, "other     event kinds this dsim does not know: quake 1");
  g_free(text);
  g_string_free(t, TRUE);
}

static void test_window(void **state) {
  (void)state;
  DsimReportOptions o;
  dsim_report_options_init(&o);
  o.from_ns = 2000000;
  o.to_ns = 4000000;
  char *text = report(TRACE, &o);
  assert_contains(text, "window    0.002s .. 0.004s");
  assert_contains(text, "0 sent, 1 delivered, 0 received, 1 dropped");
  assert_contains(text, "end       not read");
  assert_contains(text, "digest    not computed");
  g_free(text);
  o.from_ns = 5;
  o.to_ns = 4;
  GError *e = NULL;
  assert_false(dsim_report_text("unused", &o, stdout, &e));
  assert_int_equal(e->code, DSIM_REPORTS_ERROR_INVALID);
  g_error_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_durations), cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_summary),   cmocka_unit_test(test_color_and_filter),
      cmocka_unit_test(test_end_line_disagrees), cmocka_unit_test(test_corruption_and_unknown_kinds),
      cmocka_unit_test(test_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
