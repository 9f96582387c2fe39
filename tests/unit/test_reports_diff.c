/* test_reports_diff.c — the first divergence between two traces: same
 * traces, a changed header, a changed event, one trace longer, ignored
 * fields, formatting that does not count, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "reports_fixture.h"
#include "reports_internal.h"

static const char BASE[] =
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"fn\":\"a.lua:1\",\"parent\":0}\n"
    "{\"t\":1,\"ev\":\"send\",\"mid\":1,\"ch\":\"c\",\"src\":1,\"dst\":1,\"size\":1,\"data\":\"a\"}\n"
    "{\"t\":2,\"ev\":\"deliver\",\"mid\":1,\"copy\":0,\"src\":1,\"dst\":1}\n"
    "{\"t\":3,\"ev\":\"log\",\"pid\":1,\"msg\":\"x\"}\n"
    "{\"t\":4,\"ev\":\"log\",\"pid\":1,\"msg\":\"y\"}\n";

typedef struct {
  DsimDiffResult result;
  char *text;
  GError *error;
} Outcome;

static Outcome diff_files(const char *a, const char *b, guint context, const char *const *ignore) {
  char *pa = fixture_write(a, strlen(a)), *pb = fixture_write(b, strlen(b));
  Outcome o = {0};
  size_t len = 0;
  FILE *out = open_memstream(&o.text, &len);
  DsimDiffOptions opts = {context, ignore};
  o.result = dsim_trace_diff(pa, pb, &opts, out, &o.error);
  fclose(out);
  fixture_remove(pa);
  fixture_remove(pb);
  return o;
}

static void assert_contains(const char *text, const char *part) {
  if (!strstr(text, part)) fail_msg("'%s' not found in:\n%s", part, text);
}

static char *trace(const char *header_seed, const char *events) {
  GString *h = g_string_new(FIXTURE_HEADER);
  if (header_seed) {
    char *p = strstr(h->str, "\"seed\":7");
    g_string_erase(h, p - h->str, 8);
    g_string_insert(h, p - h->str, header_seed);
  }
  g_string_append(h, events);
  return g_string_free(h, FALSE);
}

static void test_same(void **state) {
  (void)state;
  char *a = trace(NULL, BASE);
  /* the same events written differently: spaces and field order */
  GString *b = g_string_new(a);
  assert_int_equal(g_string_replace(b, "{\"t\":3,\"ev\":\"log\",\"pid\":1,\"msg\":\"x\"}",
                                    "{ \"ev\":\"log\",\"t\":3,\"msg\":\"x\",\"pid\":1}", 1),
                   1);
  Outcome o = diff_files(a, b->str, 3, NULL);
  assert_int_equal(o.result, DSIM_DIFF_SAME);
  assert_contains(o.text, "headers: the same");
  assert_contains(o.text, "events: the same 5 events (digest sha256:");
  g_free(o.text);
  g_string_free(b, TRUE);
  g_free(a);
}

static void test_header_and_event(void **state) {
  (void)state;
  char *a = trace(NULL, BASE);
  GString *ev = g_string_new(BASE);
  char *p = strstr(ev->str, "\"msg\":\"x\"");
  p[7] = 'z';
  char *b = trace("\"seed\":8", ev->str);
  Outcome o = diff_files(a, b, 1, NULL);
  assert_int_equal(o.result, DSIM_DIFF_DIFFERENT);
  assert_contains(o.text, "headers differ (1 field):");
  assert_contains(o.text, "  seed         7  vs  8\n");
  assert_contains(o.text, "events: the first 3 are the same; event 4 differs (A line 5, B line 5, t=0.000000003s)");
  assert_contains(o.text, "before, in both:\n    line 4 ");
  assert_contains(o.text, "A:\n  > line 5       0.000000003s   log pid 1: x\n    line 6 ");
  assert_contains(o.text, "B:\n  > line 5       0.000000003s   log pid 1: z\n");
  assert_contains(o.text, "    msg          \"x\"  vs  \"z\"\n");
  g_free(o.text);
  /* ignoring the field that differs, and the seed: the same */
  const char *ignore[] = {"msg", "seed", NULL};
  o = diff_files(a, b, 1, ignore);
  assert_int_equal(o.result, DSIM_DIFF_SAME);
  g_free(o.text);
  g_free(a);
  g_free(b);
  g_string_free(ev, TRUE);
}

static void test_one_longer(void **state) {
  (void)state;
  char *a = trace(NULL, BASE);
  char *b = trace(NULL, "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"fn\":\"a.lua:1\",\"parent\":0}\n");
  Outcome o = diff_files(a, b, 2, NULL);
  assert_int_equal(o.result, DSIM_DIFF_DIFFERENT);
  assert_contains(o.text, "events: the first 1 are the same; then B ends and A goes on");
  assert_contains(o.text, "B:\n  > (end of file)");
  g_free(o.text);
  g_free(a);
  g_free(b);
}

static void test_bad_input(void **state) {
  (void)state;
  char *a = trace(NULL, BASE);
  char *b = trace(NULL, "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"fn\":\"a.lua:1\",\"parent\":0}\n{oops\n");
  Outcome o = diff_files(a, b, 2, NULL);
  assert_int_equal(o.result, DSIM_DIFF_ERROR);
  assert_non_null(strstr(o.error->message, ":3: not valid JSON"));
  assert_string_equal(o.text, ""); /* nothing half-written */
  g_error_free(o.error);
  g_free(o.text);
  o = diff_files(a, "", 2, NULL);
  assert_int_equal(o.result, DSIM_DIFF_ERROR);
  assert_non_null(strstr(o.error->message, ":1: empty file"));
  g_error_free(o.error);
  g_free(o.text);
  g_free(a);
  g_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same),
      cmocka_unit_test(test_header_and_event),
      cmocka_unit_test(test_one_longer),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
