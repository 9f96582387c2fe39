/* test_reports_reader.c — the trace reader: fields of each kind, the
 * header checks, every kind of bad input (each a one-line error naming the
 * file and the line), the strict JSON check, the window fast path and the
 * digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reports_fixture.h"
#include "reports_internal.h"

/* Reads every event of path; returns the error (or NULL) and the count. */
static GError *read_all(const char *path, guint *count) {
  GError *error = NULL;
  *count = 0;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  if (!r) return error;
  DsimTraceEvent ev;
  while (dsim_trace_reader_next(r, &ev, &error)) (*count)++;
  dsim_trace_reader_free(r);
  return error;
}

/* The error for content must name "path:line:" and contain `what`, in one line. */
static void expect_error(const char *content, gsize len, guint line, int code, const char *what) {
  char *path = fixture_write(content, len);
  guint n;
  GError *e = read_all(path, &n);
  assert_non_null(e);
  char *prefix = g_strdup_printf("%s:%u: ", path, line);
  if (!g_str_has_prefix(e->message, prefix) || !strstr(e->message, what) || e->code != code)
    fail_msg("for %s: got '%s' (code %d), expected prefix '%s', '%s', code %d", what, e->message, e->code, prefix, what,
             code);
  assert_null(strchr(e->message, '\n'));
  g_free(prefix);
  g_error_free(e);
  fixture_remove(path);
}

static void test_fields_of_each_kind(void **state) {
  (void)state;
  char *path = fixture_trace(
      "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"fn\":\"a.lua:3\",\"parent\":0}\n"
      "{\"t\":0,\"ev\":\"join\",\"pid\":1,\"ch\":\"default\",\"group\":\"server\",\"reserved\":true}\n"
      "{\"t\":5,\"ev\":\"send\",\"mid\":9,\"ch\":\"default\",\"src\":2,\"dst\":1,\"size\":3,\"data\":\"a\\u00e9\\n\",\"new\":[1]}\n"
      "{\"t\":6,\"ev\":\"drop\",\"mid\":9,\"copy\":1,\"src\":2,\"dst\":1,\"reason\":\"loss\"}\n"
      "{\"t\":7,\"ev\":\"deliver\",\"mid\":9,\"copy\":0,\"src\":2,\"dst\":1,\"corrupted\":true}\n"
      "{\"t\":8,\"ev\":\"recv\",\"mid\":9,\"copy\":0,\"pid\":1,\"src\":2}\n"
      "{\"t\":9,\"ev\":\"partition\",\"id\":1,\"a\":[1,\"server\"],\"b\":[2],\"oneway\":false}\n"
      "{\"t\":9,\"ev\":\"check\",\"pid\":0,\"ok\":false,\"msg\":\"m\",\"where\":\"a.lua:9\"}\n"
      "{\"t\":9,\"ev\":\"wobble\",\"x\":1}\n"
      "{\"t\":10,\"ev\":\"end\",\"reason\":\"quiescent\",\"events\":3,\"blocked\":[1]}\n");
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  assert_non_null(r);
  const DsimTraceHeader *h = dsim_trace_reader_header(r);
  assert_string_equal(h->scenario, "t.lua");
  assert_int_equal(h->seed, 7);
  assert_false(h->has_until);
  assert_non_null(h->net);
  DsimTraceEvent ev;
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_SPAWN);
  assert_int_equal(ev.line, 2);
  assert_string_equal(ev.proc_kind, "lua");
  assert_string_equal(ev.fn, "a.lua:3");
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_JOIN);
  assert_true(ev.reserved);
  assert_string_equal(ev.group, "server");
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_SEND);
  assert_int_equal(ev.t, 5);
  assert_int_equal(ev.mid, 9);
  assert_int_equal(ev.src, 2);
  assert_int_equal(ev.dst, 1);
  assert_int_equal(ev.size, 3);
  assert_string_equal(ev.data, "a\xc3\xa9\n");
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_DROP);
  assert_int_equal(ev.copy, 1);
  assert_string_equal(ev.reason, "loss");
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_DELIVER);
  assert_true(ev.corrupted);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_RECV);
  assert_int_equal(ev.pid, 1);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_PARTITION);
  assert_int_equal(json_array_get_length(ev.a), 2);
  assert_false(ev.oneway);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_CHECK);
  assert_false(ev.ok);
  assert_string_equal(ev.where, "a.lua:9");
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_OTHER); /* a kind from a later dsim: handed out, not refused */
  assert_string_equal(ev.ev, "wobble");
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_END);
  assert_int_equal(json_array_get_length(ev.blocked), 1);
  assert_false(dsim_trace_reader_next(r, &ev, &error));
  assert_null(error);
  assert_true(dsim_trace_reader_complete(r));
  assert_int_equal(dsim_trace_reader_lines(r), 11);
  dsim_trace_reader_free(r);
  fixture_remove(path);
}

static void test_bad_input(void **state) {
  (void)state;
  const char *ok_event = "{\"t\":1,\"ev\":\"exit\",\"pid\":1}\n";
  expect_error("", 0, 1, DSIM_REPORTS_ERROR_FORMAT, "empty file");
  /* a cut last line */
  char *cut = g_strconcat(FIXTURE_HEADER, ok_event, "{\"t\":2,\"ev\":\"ex", NULL);
  expect_error(cut, strlen(cut), 3, DSIM_REPORTS_ERROR_PARSE, "truncated line");
  g_free(cut);
  /* a cut header (no newline at all) */
  expect_error("{\"ev\":\"header\"", 14, 1, DSIM_REPORTS_ERROR_FORMAT, "no complete first line");
  /* not JSON */
  char *garbage = g_strconcat(FIXTURE_HEADER, ok_event, "hello\n", NULL);
  expect_error(garbage, strlen(garbage), 3, DSIM_REPORTS_ERROR_PARSE, "not valid JSON");
  g_free(garbage);
  /* missing header: the first line is an event */
  char *nohead = g_strconcat(ok_event, ok_event, NULL);
  expect_error(nohead, strlen(nohead), 1, DSIM_REPORTS_ERROR_FORMAT, "missing header");
  g_free(nohead);
  /* other format, unknown and newer versions */
  const char *other = "{\"ev\":\"header\",\"format\":\"otf\",\"version\":1}\n";
  expect_error(other, strlen(other), 1, DSIM_REPORTS_ERROR_FORMAT, "not a dsim trace");
  const char *v0 = "{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":0}\n";
  expect_error(v0, strlen(v0), 1, DSIM_REPORTS_ERROR_FORMAT, "unknown trace format version");
  const char *vs = "{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":\"1\"}\n";
  expect_error(vs, strlen(vs), 1, DSIM_REPORTS_ERROR_FORMAT, "unknown trace format version");
  const char *v3 = "{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":3}\n";
  expect_error(v3, strlen(v3), 1, DSIM_REPORTS_ERROR_FORMAT, "newer than this dsim reads");
  /* a known kind without a field it needs, or with the wrong type */
  char *missing = g_strconcat(FIXTURE_HEADER, "{\"t\":1,\"ev\":\"deliver\",\"mid\":1,\"copy\":0,\"src\":2}\n", NULL);
  expect_error(missing, strlen(missing), 2, DSIM_REPORTS_ERROR_PARSE, "missing field \"dst\"");
  g_free(missing);
  char *typed = g_strconcat(FIXTURE_HEADER, "{\"t\":1,\"ev\":\"exit\",\"pid\":\"one\"}\n", NULL);
  expect_error(typed, strlen(typed), 2, DSIM_REPORTS_ERROR_PARSE, "\"pid\" must be a non-negative integer");
  g_free(typed);
  char *neg = g_strconcat(FIXTURE_HEADER, "{\"t\":-5,\"ev\":\"exit\",\"pid\":1}\n", NULL);
  expect_error(neg, strlen(neg), 2, DSIM_REPORTS_ERROR_PARSE, "\"t\" must be a non-negative integer");
  g_free(neg);
  /* time going backwards, a second header, a line that is not an object */
  char *back = g_strconcat(FIXTURE_HEADER, "{\"t\":9,\"ev\":\"exit\",\"pid\":1}\n{\"t\":3,\"ev\":\"exit\",\"pid\":2}\n", NULL);
  expect_error(back, strlen(back), 3, DSIM_REPORTS_ERROR_PARSE, "time goes backwards");
  g_free(back);
  char *twice = g_strconcat(FIXTURE_HEADER, ok_event, FIXTURE_HEADER, NULL);
  expect_error(twice, strlen(twice), 3, DSIM_REPORTS_ERROR_PARSE, "second header");
  g_free(twice);
  char *array = g_strconcat(FIXTURE_HEADER, "[1,2]\n", NULL);
  expect_error(array, strlen(array), 2, DSIM_REPORTS_ERROR_PARSE, "expected a JSON object");
  g_free(array);
  /* bytes that are not UTF-8, and a NUL byte */
  char *latin = g_strconcat(FIXTURE_HEADER, "{\"t\":1,\"ev\":\"log\",\"pid\":1,\"msg\":\"caf\xe9\"}\n", NULL);
  expect_error(latin, strlen(latin), 2, DSIM_REPORTS_ERROR_PARSE, "not UTF-8");
  g_free(latin);
  char nul[sizeof FIXTURE_HEADER + 32];
  gsize hl = strlen(FIXTURE_HEADER);
  memcpy(nul, FIXTURE_HEADER, hl);
  memcpy(nul + hl, "{\"t\":1,\0\"ev\":1}\n", 17);
  expect_error(nul, hl + 17, 2, DSIM_REPORTS_ERROR_PARSE, "not valid JSON");
}

/* Version 2 leaves out `ch` on the default channel and `copy` on original
 * copies; the reader fills them in. Version 1 lines without them are an
 * error (see test_bad_input), version 2 lines with them read as written. */
static void test_version2_usual_values(void **state) {
  (void)state;
  const char *text =
      "{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":2,\"scenario\":\"t.lua\",\"seed\":1}\n"
      "{\"t\":0,\"ev\":\"join\",\"pid\":1,\"group\":\"g\"}\n"
      "{\"t\":0,\"ev\":\"join\",\"pid\":2,\"ch\":\"side\",\"group\":\"g\"}\n"
      "{\"t\":1,\"ev\":\"send\",\"mid\":1,\"src\":1,\"dst\":1,\"size\":1,\"data\":\"x\"}\n"
      "{\"t\":1,\"ev\":\"send\",\"mid\":2,\"ch\":\"side\",\"src\":2,\"dst\":2,\"size\":1,\"data\":\"y\"}\n"
      "{\"t\":2,\"ev\":\"dup\",\"mid\":1,\"copy\":1,\"src\":1,\"dst\":1}\n"
      "{\"t\":3,\"ev\":\"deliver\",\"mid\":1,\"src\":1,\"dst\":1}\n"
      "{\"t\":3,\"ev\":\"deliver\",\"mid\":1,\"copy\":1,\"src\":1,\"dst\":1}\n"
      "{\"t\":4,\"ev\":\"recv\",\"mid\":1,\"pid\":1,\"src\":1}\n"
      "{\"t\":5,\"ev\":\"drop\",\"mid\":2,\"src\":2,\"dst\":2,\"reason\":\"loss\"}\n"
      "{\"t\":6,\"ev\":\"timeout\",\"pid\":1,\"op\":\"recvFromAny\"}\n";
  char *path = fixture_write(text, strlen(text));
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  assert_non_null(r);
  assert_int_equal(dsim_trace_reader_header(r)->version, 2);
  static const struct {
    DsimEventKind kind;
    const char *ch; /* NULL: a kind without a channel */
    guint64 copy;
  } want[] = {{DSIM_EV_JOIN, "default", 0}, {DSIM_EV_JOIN, "side", 0},    {DSIM_EV_SEND, "default", 0},
              {DSIM_EV_SEND, "side", 0},    {DSIM_EV_DUP, NULL, 1},        {DSIM_EV_DELIVER, NULL, 0},
              {DSIM_EV_DELIVER, NULL, 1},   {DSIM_EV_RECV, NULL, 0},       {DSIM_EV_DROP, NULL, 0},
              {DSIM_EV_TIMEOUT, "default", 0}};
  DsimTraceEvent ev;
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    assert_true(dsim_trace_reader_next(r, &ev, &error));
    assert_int_equal(ev.kind, want[i].kind);
    if (want[i].ch) assert_string_equal(ev.ch, want[i].ch);
    assert_int_equal(ev.copy, want[i].copy);
  }
  assert_false(dsim_trace_reader_next(r, &ev, &error));
  assert_null(error);
  dsim_trace_reader_free(r);
  fixture_remove(path);
}

static void test_missing_file(void **state) {
  (void)state;
  GError *e = NULL;
  assert_null(dsim_trace_reader_open("/nonexistent/dir/t.jsonl", &e));
  assert_int_equal(e->code, DSIM_REPORTS_ERROR_IO);
  assert_non_null(strstr(e->message, "/nonexistent/dir/t.jsonl"));
  g_error_free(e);
}

static void check_syntax(const char *text, gboolean expected) {
  char why[160] = "";
  gboolean got = dsim_json_check_syntax(text, strlen(text), why, sizeof why);
  if (got != expected) fail_msg("'%s': expected %s, got %s (%s)", text, expected ? "valid" : "invalid", got ? "valid" : "invalid", why);
}

/* json-glib accepts all the invalid ones below: the strict check is what
 * makes the reader refuse them. */
static void test_strict_json(void **state) {
  (void)state;
  check_syntax("{\"a\":[1,-2.5e3,true,false,null,{\"b\":\"\\u00e9\\ud83d\\ude00\\n\"}]}", TRUE);
  check_syntax(" {} ", TRUE);
  check_syntax("{\"seed\":18446744073709551615}", TRUE);
  check_syntax("{\"t\":-9223372036854775808}", TRUE);
  check_syntax("{\"t\":18446744073709551616}", FALSE);
  check_syntax("{\"t\":-9223372036854775809}", FALSE);
  check_syntax("{'t':1}", FALSE);
  check_syntax("{\"t\":1}{\"t\":2}", FALSE);
  check_syntax("{\"t\":1,}", FALSE);
  check_syntax("{\"t\":01}", FALSE);
  check_syntax("{\"t\":1.}", FALSE);
  check_syntax("{\"t\":NaN}", FALSE);
  check_syntax("{\"s\":\"a\tb\"}", FALSE);
  check_syntax("{\"s\":\"\\ud800\"}", FALSE);
  check_syntax("{\"s\":\"\\udc00\"}", FALSE);
  check_syntax("{\"s\":\"\\x41\"}", FALSE);
  check_syntax("{\"s\":\"abc}", FALSE);
  check_syntax("", FALSE);
  check_syntax("{\"a\" 1}", FALSE);
  GString *deep = g_string_new(NULL);
  for (int i = 0; i < DSIM_JSON_MAX_DEPTH + 1; i++) g_string_append_c(deep, '[');
  for (int i = 0; i < DSIM_JSON_MAX_DEPTH + 1; i++) g_string_append_c(deep, ']');
  check_syntax(deep->str, FALSE);
  g_string_truncate(deep, 0);
  for (int i = 0; i < DSIM_JSON_MAX_DEPTH; i++) g_string_append_c(deep, '[');
  for (int i = 0; i < DSIM_JSON_MAX_DEPTH; i++) g_string_append_c(deep, ']');
  check_syntax(deep->str, TRUE);
  g_string_free(deep, TRUE);
}

static const char WINDOWED[] =
    "{\"t\":0,\"ev\":\"spawn\",\"pid\":1,\"kind\":\"lua\",\"parent\":0}\n"
    "{\"t\":1,\"ev\":\"send\",\"mid\":1,\"ch\":\"c\",\"src\":1,\"dst\":1,\"size\":0,\"data\":\"\"}\n"
    "{\"t\":2,\"ev\":\"send\", BROKEN but skipped unread\n"
    "{\"t\":3,\"ev\":\"crash\",\"pid\":1,\"cause\":\"scenario\"}\n"
    "{\"t\":10,\"ev\":\"restart\",\"pid\":1,\"incarnation\":1}\n"
    "{\"t\":11,\"ev\":\"log\",\"pid\":1,\"msg\":\"in\"}\n"
    "{\"t\":20,\"ev\":\"log\",\"pid\":1,\"msg\":\"in\"}\n"
    "{\"t\":21,\"ev\":\"log\",\"pid\":1,\"msg\":\"after\"}\n"
    "NOT EVEN JSON, after the window\n";

static void test_window(void **state) {
  (void)state;
  char *path = fixture_trace(WINDOWED);
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  dsim_trace_reader_set_window(r, 5, 20);
  DsimTraceEvent ev;
  /* before the window: the spawn and the crash (state), not the sends */
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_SPAWN);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_CRASH);
  assert_int_equal(ev.line, 5);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.kind, DSIM_EV_RESTART);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.t, 11);
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(ev.t, 20);
  assert_false(dsim_trace_reader_next(r, &ev, &error));
  assert_null(error);
  assert_false(dsim_trace_reader_complete(r));
  assert_null(dsim_trace_reader_digest(r));
  dsim_trace_reader_free(r);
  /* without a window the broken line is an error */
  guint n;
  GError *e = read_all(path, &n);
  assert_non_null(e);
  assert_non_null(strstr(e->message, ":4: not valid JSON"));
  g_error_free(e);
  fixture_remove(path);
}

static void test_digest(void **state) {
  (void)state;
  const char *events = "{\"t\":0,\"ev\":\"exit\",\"pid\":1}\n{\"t\":1,\"ev\":\"exit\",\"pid\":2}\n";
  char *path = fixture_trace(events);
  char *expected = g_compute_checksum_for_string(G_CHECKSUM_SHA256, events, -1);
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  DsimTraceEvent ev;
  assert_null(dsim_trace_reader_digest(r));
  while (dsim_trace_reader_next(r, &ev, &error)) {
  }
  assert_null(error);
  assert_string_equal(dsim_trace_reader_digest(r), expected);
  dsim_trace_reader_free(r);
  g_free(expected);
  fixture_remove(path);
}

/* A line longer than the read block, and more lines than fit in one. */
static void test_long_lines(void **state) {
  (void)state;
  GString *t = g_string_new(FIXTURE_HEADER);
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 300000; i++) g_string_append_c(big, 'x');
  g_string_append_printf(t, "{\"t\":1,\"ev\":\"log\",\"pid\":1,\"msg\":\"%s\"}\n", big->str);
  for (int i = 0; i < 20000; i++) g_string_append_printf(t, "{\"t\":%d,\"ev\":\"exit\",\"pid\":%d}\n", i + 2, i);
  char *path = fixture_write(t->str, t->len);
  GError *error = NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, &error);
  DsimTraceEvent ev;
  assert_true(dsim_trace_reader_next(r, &ev, &error));
  assert_int_equal(strlen(ev.msg), 300000);
  guint n = 0;
  while (dsim_trace_reader_next(r, &ev, &error)) {
    assert_int_equal(ev.pid, n);
    n++;
  }
  assert_null(error);
  assert_int_equal(n, 20000);
  dsim_trace_reader_free(r);
  fixture_remove(path);
  g_string_free(big, TRUE);
  g_string_free(t, TRUE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_of_each_kind), cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_missing_file),        cmocka_unit_test(test_strict_json),
      cmocka_unit_test(test_window),              cmocka_unit_test(test_digest),
      cmocka_unit_test(test_long_lines),          cmocka_unit_test(test_version2_usual_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
