/* reports_fixture.h — small traces written to temporary files for the
 * reports unit tests. Header-only: each test executable includes it once. */
#ifndef DSIM_TESTS_REPORTS_FIXTURE_H
#define DSIM_TESTS_REPORTS_FIXTURE_H

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE_HEADER                                                                                          \
  "{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":1,\"generator\":\"dsim test\",\"scenario\":\"t.lua\"," \
  "\"seed\":7,\"until\":null,\"max_events\":0,\"net\":{\"delay\":[\"constant\",1000000],\"loss\":0,"            \
  "\"duplicate\":0,\"links\":[]}}\n"

/* Writes content to a new temporary file; returns its path (g_free it,
 * after g_unlink). Aborts the test on failure: the fixture, not the code
 * under test, would be broken. */
static G_GNUC_UNUSED char *fixture_write(const char *content, gsize len) {
  GError *error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp("dsim-reports-XXXXXX.jsonl", &path, &error);
  g_assert_no_error(error);
  gsize done = 0;
  while (done < len) {
    ssize_t n = write(fd, content + done, len - done);
    g_assert_cmpint(n, >, 0);
    done += (gsize)n;
  }
  close(fd);
  return path;
}

static G_GNUC_UNUSED char *fixture_trace(const char *events) {
  char *all = g_strconcat(FIXTURE_HEADER, events, NULL);
  char *path = fixture_write(all, strlen(all));
  g_free(all);
  return path;
}

static G_GNUC_UNUSED void fixture_remove(char *path) {
  g_unlink(path);
  g_free(path);
}

#endif
