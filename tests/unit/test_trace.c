/* test_trace.c — the trace writer: JSON escaping, truncation, the digest,
 * lines written before the header, write failures. */
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "dsim/sim.h"
#include "test_util.h"

static char *escaped(const char *s, size_t len, size_t max) {
  GString *g = g_string_new(NULL);
  dsim_json_escape(g, s, len, max);
  return g_string_free(g, FALSE);
}

static void json_escaping(void **state) {
  (void)state;
  char *e;
  e = escaped("plain", (size_t)-1, 100);
  assert_string_equal(e, "\"plain\"");
  g_free(e);
  e = escaped("q\"b\\n\nt\tc\x01", (size_t)-1, 100);
  assert_string_equal(e, "\"q\\\"b\\\\n\\nt\\tc\\u0001\"");
  g_free(e);
  /* Valid UTF-8 passes through; invalid bytes become \u00XX. */
  e = escaped("caf\xc3\xa9", (size_t)-1, 100);
  assert_string_equal(e, "\"caf\xc3\xa9\"");
  g_free(e);
  e = escaped("a\xff" "b\xc3", 4, 100);
  assert_string_equal(e, "\"a\\u00ffb\\u00c3\"");
  g_free(e);
  /* Embedded NUL bytes are kept (length-delimited strings). */
  e = escaped("a\0b", 3, 100);
  assert_string_equal(e, "\"a\\u0000b\"");
  g_free(e);
  /* Truncation adds "..." and never splits a UTF-8 character. */
  e = escaped("abcdef", (size_t)-1, 3);
  assert_string_equal(e, "\"abc...\"");
  g_free(e);
  e = escaped("ab\xc3\xa9z", (size_t)-1, 3);
  assert_string_equal(e, "\"ab...\"");
  g_free(e);
  e = escaped("", (size_t)-1, 3);
  assert_string_equal(e, "\"\"");
  g_free(e);
}

/* Frees a trace the public way: a world that owns it frees it. */
static void drop_trace(DsimTrace *tr) {
  DsimWorld *w = dsim_world_new(NULL);
  dsim_world_set_trace(w, tr);
  dsim_world_free(w);
}

static char *read_file(const char *path, size_t *len) {
  char *data = NULL;
  gsize n = 0;
  assert_true(g_file_get_contents(path, &data, &n, NULL));
  if (len) *len = n;
  return data;
}

static void emit_events(DsimTrace *tr, int n) {
  for (int i = 0; i < n; i++) {
    dsim_trace_begin(tr, (DsimTime)i * 1000, "log");
    dsim_trace_u64(tr, "pid", (uint64_t)i % 7);
    dsim_trace_i64(tr, "neg", -i);
    dsim_trace_bool(tr, "odd", i & 1);
    dsim_trace_double(tr, "p", 0.2);
    dsim_trace_str(tr, "msg", "hello \"world\"", (size_t)-1, 100);
    DsimPid pids[3] = {1, 2, 3};
    dsim_trace_pids(tr, "set", pids, 3);
    dsim_trace_raw(tr, "obj", "{\"a\":1}");
    dsim_trace_end(tr);
  }
}

static void digest_is_sha256_of_event_lines(void **state) {
  (void)state;
  char *dir = g_dir_make_tmp("dsim-trace-XXXXXX", NULL);
  char *path = g_build_filename(dir, "t.jsonl", NULL);
  DsimTrace *tr = dsim_trace_new(path, NULL);
  assert_non_null(tr);
  /* Lines before the header are kept and follow it. */
  emit_events(tr, 3);
  dsim_trace_start(tr, "x.lua", 7, DSIM_TIME_NEVER, 0, "{\"delay\":[\"constant\",1]}");
  emit_events(tr, 20000); /* several flushes */
  assert_true(dsim_trace_finish(tr, NULL));
  assert_true(dsim_trace_finish(tr, NULL)); /* idempotent */

  size_t len;
  char *data = read_file(path, &len);
  size_t header_len = strcspn(data, "\n");
  assert_true(header_len < len);
  assert_contains(data, "{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":2");
  assert_contains(data, "\"seed\":7,\"until\":null");
  /* Event lines in order: the first three are the pre-header ones. */
  const char *events = data + header_len + 1;
  gboolean in_order = g_str_has_prefix(events,
                               "{\"t\":0,\"ev\":\"log\",\"pid\":0,\"neg\":0,\"odd\":false,\"p\":0.2,"
                               "\"msg\":\"hello \\\"world\\\"\",\"set\":[1,2,3],\"obj\":{\"a\":1}}\n"
                               "{\"t\":1000,\"ev\":\"log\",\"pid\":1,\"neg\":-1,\"odd\":true,");
  assert_true(in_order);
  char *expect = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)events,
                                             len - (size_t)(events - data));
  assert_string_equal(dsim_trace_digest(tr), expect);
  /* Every line is a complete object. */
  unsigned lines = 0;
  for (char *p = data; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, 1 + 3 + 20000);
  g_free(expect);
  g_free(data);

  /* The same events without a file give the same digest. */
  DsimTrace *mem = dsim_trace_new(NULL, NULL);
  emit_events(mem, 3);
  dsim_trace_start(mem, "other.lua", 8, 5, 9, NULL); /* header differs: not hashed */
  emit_events(mem, 20000);
  assert_true(dsim_trace_finish(mem, NULL));
  assert_string_equal(dsim_trace_digest(mem), dsim_trace_digest(tr));

  drop_trace(tr);
  drop_trace(mem);
  unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

static void unwritable_trace(void **state) {
  (void)state;
  GError *e = NULL;
  assert_null(dsim_trace_new("/nonexistent-dir/x.jsonl", &e));
  assert_error(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_IO);
  assert_contains(e->message, "/nonexistent-dir/x.jsonl");
  g_clear_error(&e);
  if (access("/dev/full", W_OK) == 0) {
    DsimTrace *tr = dsim_trace_new("/dev/full", NULL);
    assert_non_null(tr);
    dsim_trace_start(tr, "x", 0, DSIM_TIME_NEVER, 0, NULL);
    emit_events(tr, 10000);
    assert_false(dsim_trace_finish(tr, &e));
    assert_error(e, DSIM_SIM_ERROR, DSIM_SIM_ERROR_IO);
    assert_contains(e->message, "/dev/full");
    g_clear_error(&e);
    drop_trace(tr);
  }
}

/* Count of this process's open files that were deleted: a replaced trace
 * file must not stay open after the trace is finished. */
static int deleted_open_files(void) {
  int n = 0;
  GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
  assert_non_null(d);
  const char *name;
  while ((name = g_dir_read_name(d))) {
    char *p = g_build_filename("/proc/self/fd", name, NULL);
    char *target = g_file_read_link(p, NULL);
    if (target && g_str_has_suffix(target, " (deleted)")) n++;
    g_free(target);
    g_free(p);
  }
  g_dir_close(d);
  return n;
}

static void write_trace(const char *path, int events) {
  DsimTrace *tr = dsim_trace_new(path, NULL);
  assert_non_null(tr);
  dsim_trace_start(tr, "x", 0, DSIM_TIME_NEVER, 0, NULL);
  emit_events(tr, events);
  assert_true(dsim_trace_finish(tr, NULL));
  assert_int_equal(deleted_open_files(), 0);
  drop_trace(tr);
}

/* An existing trace file is replaced, not truncated (see open_trace_file):
 * a hard link keeps the old contents, the permissions stay, and a symlink
 * is followed and its target rewritten. Short runs (the writer thread
 * never starts) and long ones both close the old file. */
static void existing_file_is_replaced(void **state) {
  (void)state;
  char *dir = g_dir_make_tmp("dsim-test-XXXXXX", NULL);
  assert_non_null(dir);
  char *path = g_build_filename(dir, "t.jsonl", NULL);
  char *hard = g_build_filename(dir, "old.jsonl", NULL);
  char *sym = g_build_filename(dir, "sym.jsonl", NULL);
  GString *old = g_string_new(NULL);
  while (old->len < (1u << 20)) g_string_append(old, "an old line, not a trace\n");
  for (int events = 3; events <= 30000; events *= 10000) {
    assert_true(g_file_set_contents(path, old->str, (gssize)old->len, NULL));
    assert_int_equal(g_chmod(path, 0600), 0);
    assert_int_equal(link(path, hard), 0);
    write_trace(path, events);
    char *got = read_file(path, NULL), *kept = read_file(hard, NULL);
    assert_true(g_str_has_prefix(got, "{\"ev\":\"header\""));
    assert_string_equal(kept, old->str);
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    g_free(got);
    g_free(kept);
    g_unlink(hard);
    /* through a symlink: the link stays, its target gets the trace */
    assert_int_equal(symlink(path, sym), 0);
    write_trace(sym, events);
    assert_int_equal(g_lstat(sym, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    got = read_file(path, NULL);
    assert_true(g_str_has_prefix(got, "{\"ev\":\"header\""));
    g_free(got);
    g_unlink(sym);
    g_unlink(path);
  }
  /* A read-only file is not replaced: the trace cannot be created, as
   * before. Root may write anyway, so this part runs in the CTest entry
   * unit.trace_unprivileged (tests/unit/run_unprivileged.sh). */
  if (geteuid() != 0) {
    assert_true(g_file_set_contents(path, old->str, (gssize)old->len, NULL));
    assert_int_equal(g_chmod(path, 0444), 0);
    GError *e = NULL;
    assert_null(dsim_trace_new(path, &e));
    assert_non_null(e);
    g_clear_error(&e);
    char *kept = read_file(path, NULL);
    assert_string_equal(kept, old->str);
    g_free(kept);
    g_unlink(path);
  }
  g_string_free(old, TRUE);
  g_rmdir(dir);
  g_free(sym);
  g_free(hard);
  g_free(path);
  g_free(dir);
}

/* Trace string fields take a fast path for plain text; every byte value at
 * every position of strings around the 8-byte block size must still come
 * out as dsim_json_escape() writes it. */
static void trace_strings_escape_like_json_escape(void **state) {
  (void)state;
  char *path = g_build_filename(g_get_tmp_dir(), "dsim-test-esc.jsonl", NULL);
  DsimTrace *tr = dsim_trace_new(path, NULL);
  assert_non_null(tr);
  dsim_trace_start(tr, "s", 1, DSIM_TIME_NEVER, 0, NULL);
  GString *expect = g_string_new(NULL);
  char buf[24];
  for (size_t len = 1; len <= sizeof buf; len++)
    for (size_t pos = 0; pos < len; pos++)
      for (unsigned c = 0; c < 256; c++) {
        for (size_t k = 0; k < len; k++) buf[k] = (char)('a' + k);
        buf[pos] = (char)c;
        size_t max = (c + pos) % 5 == 0 ? len - 1 : len; /* sometimes cut */
        dsim_trace_begin(tr, 0, "x");
        dsim_trace_str(tr, "s", buf, len, max);
        dsim_trace_end(tr);
        g_string_append(expect, "{\"t\":0,\"ev\":\"x\",\"s\":");
        dsim_json_escape(expect, buf, len, max);
        g_string_append(expect, "}\n");
      }
  assert_true(dsim_trace_finish(tr, NULL));
  size_t n;
  char *got = read_file(path, &n);
  char *body = strchr(got, '\n') + 1; /* after the header */
  assert_int_equal(n - (size_t)(body - got), expect->len);
  assert_memory_equal(body, expect->str, expect->len);
  g_free(got);
  g_string_free(expect, TRUE);
  drop_trace(tr);
  g_unlink(path);
  g_free(path);
}

/* The one-call message lines must give exactly the bytes of the
 * field-by-field calls, for extreme numbers, escaped channel names, cut and
 * binary payloads and the corrupted flag; `ch` is left out for the default
 * channel (NULL) and `copy` when it is 0. */
static void message_lines_match_field_calls(void **state) {
  (void)state;
  static const uint64_t nums[] = {0, 9, 10, 99, 100, 12345, 99999999, 100000000, UINT32_MAX, UINT64_MAX};
  static const DsimTime times[] = {0, 1, 999, 1000000, 1234567890123, INT64_MAX, -5, INT64_MIN};
  static const char *names[] = {"default", "a\"b", "caf\xc3\xa9", ""};
  static const char data[] = "0123456789abcdef\"\\\n\x01\xff rest of a longer payload that gets cut";
  char *fast_path = g_build_filename(g_get_tmp_dir(), "dsim-test-fast.jsonl", NULL);
  char *slow_path = g_build_filename(g_get_tmp_dir(), "dsim-test-slow.jsonl", NULL);
  DsimTrace *fast = dsim_trace_new(fast_path, NULL);
  DsimTrace *slow = dsim_trace_new(slow_path, NULL);
  assert_non_null(fast);
  assert_non_null(slow);
  dsim_trace_start(fast, "s", 1, DSIM_TIME_NEVER, 0, NULL);
  dsim_trace_start(slow, "s", 1, DSIM_TIME_NEVER, 0, NULL);
  size_t lines = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(nums); i++)
    for (size_t j = 0; j < G_N_ELEMENTS(times); j++) {
      const char *name = names[(i + j) % G_N_ELEMENTS(names)];
      uint32_t small = (uint32_t)nums[(i + j) % G_N_ELEMENTS(nums)];
      size_t len = (i * 7 + j) % sizeof data, max = 8 + j * 4;
      bool dflt = strcmp(name, "default") == 0;
      GString *ch = g_string_new(NULL);
      dsim_json_escape(ch, name, (size_t)-1, DSIM_TRACE_NAME_MAX);
      dsim_trace_send(fast, times[j], nums[i], dflt ? NULL : ch->str, dflt ? 0 : ch->len, small, (uint32_t)nums[i],
                      nums[j % 10], data, len, max);
      dsim_trace_begin(slow, times[j], "send");
      dsim_trace_u64(slow, "mid", nums[i]);
      if (!dflt) dsim_trace_str(slow, "ch", name, (size_t)-1, DSIM_TRACE_NAME_MAX);
      dsim_trace_u64(slow, "src", small);
      dsim_trace_u64(slow, "dst", (uint32_t)nums[i]);
      dsim_trace_u64(slow, "size", nums[j % 10]);
      dsim_trace_str(slow, "data", data, len, max);
      dsim_trace_end(slow);
      bool corrupted = (i + j) % 3 == 0;
      dsim_trace_deliver(fast, times[j], nums[i], small, (uint32_t)nums[j % 10], small, corrupted);
      dsim_trace_begin(slow, times[j], "deliver");
      dsim_trace_u64(slow, "mid", nums[i]);
      if (small) dsim_trace_u64(slow, "copy", small);
      dsim_trace_u64(slow, "src", (uint32_t)nums[j % 10]);
      dsim_trace_u64(slow, "dst", small);
      if (corrupted) dsim_trace_bool(slow, "corrupted", true);
      dsim_trace_end(slow);
      dsim_trace_recv(fast, times[j], nums[i], small, (uint32_t)nums[i], small);
      dsim_trace_begin(slow, times[j], "recv");
      dsim_trace_u64(slow, "mid", nums[i]);
      if (small) dsim_trace_u64(slow, "copy", small);
      dsim_trace_u64(slow, "pid", (uint32_t)nums[i]);
      dsim_trace_u64(slow, "src", small);
      dsim_trace_end(slow);
      g_string_free(ch, TRUE);
      lines += 3;
    }
  assert_true(dsim_trace_finish(fast, NULL));
  assert_true(dsim_trace_finish(slow, NULL));
  size_t fn, sn;
  char *f = read_file(fast_path, &fn), *s = read_file(slow_path, &sn);
  assert_int_equal(fn, sn);
  assert_memory_equal(f, s, fn);
  assert_string_equal(dsim_trace_digest(fast), dsim_trace_digest(slow));
  size_t nl = 0;
  for (size_t i = 0; i < fn; i++) nl += f[i] == '\n';
  assert_int_equal(nl, lines + 1); /* and the header */
  /* Spot checks that the extremes really are in there. */
  assert_non_null(strstr(f, "\"t\":-9223372036854775808,"));
  assert_non_null(strstr(f, "\"mid\":18446744073709551615,"));
  assert_non_null(strstr(f, "\"ch\":\"a\\\"b\""));
  assert_null(strstr(f, "\"ch\":\"default\""));
  assert_null(strstr(f, "\"copy\":0"));
  assert_non_null(strstr(f, "\"copy\":9,"));
  g_free(f);
  g_free(s);
  drop_trace(fast);
  drop_trace(slow);
  g_unlink(fast_path);
  g_unlink(slow_path);
  g_free(fast_path);
  g_free(slow_path);
}

static void doubles_are_short_and_exact(void **state) {
  (void)state;
  DsimTrace *tr = dsim_trace_new(NULL, NULL);
  dsim_trace_start(tr, NULL, 0, DSIM_TIME_NEVER, 0, NULL);
  dsim_trace_begin(tr, 0, "x");
  dsim_trace_double(tr, "a", 0.1);
  dsim_trace_double(tr, "b", 1.0 / 3.0);
  dsim_trace_end(tr);
  assert_true(dsim_trace_finish(tr, NULL));
  /* {"t":0,"ev":"x","a":0.1,"b":0.33333333333333331}\n */
  const char *line = "{\"t\":0,\"ev\":\"x\",\"a\":0.1,\"b\":0.33333333333333331}\n";
  char *expect = g_compute_checksum_for_string(G_CHECKSUM_SHA256, line, -1);
  assert_string_equal(dsim_trace_digest(tr), expect);
  g_free(expect);
  drop_trace(tr);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_escaping),
      cmocka_unit_test(digest_is_sha256_of_event_lines),
      cmocka_unit_test(unwritable_trace),
      cmocka_unit_test(doubles_are_short_and_exact),
      cmocka_unit_test(message_lines_match_field_calls),
      cmocka_unit_test(trace_strings_escape_like_json_escape),
      cmocka_unit_test(existing_file_is_replaced),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
