/* sweep.c — `dsim sweep FILE --seeds A..B [-j N]`: run one scenario under
 * many seeds and report which fail, each with the command that replays it.
 *
 * Every seed runs as its own `dsim run` child process (at most -j at once),
 * so a seed that crashes or hangs cannot take the sweep down, and each run is
 * exactly what the replay command will do. Results are reported in seed
 * order whatever order the children finish in. */
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dsim/sim.h"

typedef struct {
  guint64 seed;
  int status; /* exit status of the run; -1 while running */
  char *digest;
  char *message; /* first line of what the run printed on stderr */
} SeedResult;

static GPtrArray *pass; /* options passed through to every run, flag then value */
static char **files;     /* the non-option arguments: the scenario FILE */
static char *seeds_spec;
static int jobs = 1;
static gboolean stop_on_fail;
static gboolean verbose;

static gboolean pass_option(const char *name, const char *value, gpointer data, GError **error) {
  (void)data, (void)error;
  g_ptr_array_add(pass, g_strdup(name));
  g_ptr_array_add(pass, g_strdup(value));
  return TRUE;
}

static const GOptionEntry entries[] = {
    {"seeds", 0, 0, G_OPTION_ARG_STRING, &seeds_spec,
     "Seeds to run: A..B (inclusive), a list 1,5,9, or both (1..100,500)", "SPEC"},
    {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Runs at once (default 1)", "N"},
    {"stop-on-fail", 0, 0, G_OPTION_ARG_NONE, &stop_on_fail, "Stop at the first failing seed", NULL},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "One line per seed", NULL},
    {"define", 'D', 0, G_OPTION_ARG_CALLBACK, (gpointer)pass_option, "Passed to every run (see dsim run --help)",
     "NAME=VALUE"},
    {"until", 'u', 0, G_OPTION_ARG_CALLBACK, (gpointer)pass_option, "Passed to every run", "T"},
    {"max-events", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)pass_option, "Passed to every run", "N"},
    {"max-steps", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)pass_option, "Passed to every run", "N"},
    {"max-memory", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)pass_option, "Passed to every run", "MIB"},
    {"lib", 'L', 0, G_OPTION_ARG_CALLBACK, (gpointer)pass_option, "Passed to every run", "DIR"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL},
    G_OPTION_ENTRY_NULL};

/* Parses "1..100,500,7..9" into an array of seeds (in the order given). */
static GArray *parse_seeds(const char *spec, GError **error) {
  GArray *seeds = g_array_new(FALSE, FALSE, sizeof(guint64));
  char **parts = g_strsplit(spec, ",", -1);
  for (char **p = parts; *p; p++) {
    char *part = g_strstrip(*p);
    char *dots = strstr(part, "..");
    guint64 a, b;
    gboolean ok;
    if (dots) {
      *dots = '\0';
      ok = g_ascii_string_to_unsigned(part, 10, 0, G_MAXUINT64, &a, NULL) &&
           g_ascii_string_to_unsigned(dots + 2, 10, 0, G_MAXUINT64, &b, NULL) && a <= b;
    } else {
      ok = g_ascii_string_to_unsigned(part, 10, 0, G_MAXUINT64, &a, NULL);
      b = a;
    }
    if (!ok || b - a >= 10000000 || seeds->len + (b - a) >= 10000000) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "--seeds expects A..B with A <= B, or a comma-separated list of such ranges and "
                  "seeds, at most 10,000,000 in all (got '%s')",
                  spec);
      g_strfreev(parts);
      g_array_unref(seeds);
      return NULL;
    }
    for (guint64 s = a;; s++) {
      g_array_append_val(seeds, s);
      if (s == b) break;
    }
  }
  g_strfreev(parts);
  if (seeds->len == 0) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--seeds is empty");
    g_array_unref(seeds);
    return NULL;
  }
  return seeds;
}

typedef struct {
  GMainLoop *loop;
  GArray *seeds;
  SeedResult *results;
  guint next, running, done;
  gboolean stopping;
  char *self_exe;
  const char *file;
  GError *spawn_error;
} Sweep;

static void start_next(Sweep *s);

/* A word as it must appear in a shell command: as is when it is plainly
 * safe, single-quoted otherwise. Newly allocated. */
static char *shell_word(const char *w) {
  gboolean plain = *w != '\0';
  for (const char *c = w; *c && plain; c++) plain = g_ascii_isalnum(*c) || strchr("_./=:,+-@%", *c);
  return plain ? g_strdup(w) : g_shell_quote(w);
}

static void child_done(GObject *source, GAsyncResult *res, gpointer data) {
  Sweep *s = data;
  GSubprocess *proc = G_SUBPROCESS(source);
  SeedResult *r = g_object_get_data(G_OBJECT(proc), "result");
  char *out = NULL, *err = NULL;
  GError *e = NULL;
  if (!g_subprocess_communicate_utf8_finish(proc, res, &out, &err, &e)) {
    r->status = 2;
    r->message = g_strdup(e->message);
    g_error_free(e);
  } else if (g_subprocess_get_if_exited(proc)) {
    r->status = g_subprocess_get_exit_status(proc);
  } else {
    r->status = 3; /* killed by a signal: a crash of dsim itself */
    r->message = g_strdup_printf("dsim run was killed by signal %d", g_subprocess_get_term_sig(proc));
  }
  if (out) {
    /* The run prints "RESULT digest=<hex>" with --result-line. */
    char *d = strstr(out, "digest=");
    if (d) r->digest = g_strndup(d + 7, strcspn(d + 7, " \n"));
  }
  if (!r->message && err && *err) {
    const char *line = err;
    if (g_str_has_prefix(line, "FAIL ")) line += 5;
    r->message = g_strndup(line, strcspn(line, "\n"));
  }
  g_free(out);
  g_free(err);
  if (verbose)
    fprintf(stderr, "seed %" G_GUINT64_FORMAT ": %s%s%s\n", r->seed,
            r->status == 0 ? "ok" : r->status == 1 ? "FAIL" : "ERROR", r->message ? "  " : "",
            r->message ? r->message : "");
  if (r->status != 0 && stop_on_fail) s->stopping = TRUE;
  s->running--;
  s->done++;
  g_object_unref(proc);
  start_next(s);
}

static void start_next(Sweep *s) {
  while (!s->stopping && s->running < (guint)jobs && s->next < s->seeds->len) {
    SeedResult *r = &s->results[s->next++];
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(s->self_exe));
    g_ptr_array_add(argv, g_strdup("run"));
    g_ptr_array_add(argv, g_strdup(s->file));
    g_ptr_array_add(argv, g_strdup("--seed"));
    g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT, r->seed));
    g_ptr_array_add(argv, g_strdup("-q"));
    g_ptr_array_add(argv, g_strdup("--result-line"));
    for (guint i = 0; i < pass->len; i++) g_ptr_array_add(argv, g_strdup(g_ptr_array_index(pass, i)));
    g_ptr_array_add(argv, NULL);
    GError *e = NULL;
    GSubprocess *proc = g_subprocess_newv((const char *const *)argv->pdata,
                                          G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &e);
    g_ptr_array_unref(argv);
    if (!proc) {
      s->spawn_error = e;
      s->stopping = TRUE;
      break;
    }
    g_object_set_data(G_OBJECT(proc), "result", r);
    s->running++;
    g_subprocess_communicate_utf8_async(proc, NULL, NULL, child_done, s);
  }
  if (s->running == 0) g_main_loop_quit(s->loop);
}

int dsim_cli_sweep(int argc, char **argv) {
  GOptionContext *ctx = g_option_context_new("FILE --seeds A..B [-j N] [RUN OPTIONS...] - many seeds");
  g_option_context_set_summary(ctx,
                               "Runs the scenario FILE once per seed (each run a separate dsim run, -j at a "
                               "time) and reports the seeds whose checks failed, with the command that "
                               "replays each.\nExit status: 0 every seed passed, 1 a check failed for some "
                               "seed, 2 a usage error or a scenario error for some seed.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *error = NULL;
  int status = 2;
  GArray *seeds = NULL;
  Sweep s = {0};
  pass = g_ptr_array_new_with_free_func(g_free);
  files = NULL;
  seeds_spec = NULL;
  jobs = 1;
  stop_on_fail = verbose = FALSE;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "dsim sweep: %s (see dsim sweep --help)\n", error->message);
    goto out;
  }
  if (!files || !files[0] || files[1]) {
    fprintf(stderr, "dsim sweep: expected exactly one scenario FILE (see dsim sweep --help)\n");
    goto out;
  }
  if (!seeds_spec) {
    fprintf(stderr, "dsim sweep: --seeds is required, e.g. --seeds 1..1000 (see dsim sweep --help)\n");
    goto out;
  }
  if (jobs < 1 || jobs > 1024) {
    fprintf(stderr, "dsim sweep: -j expects a number of runs from 1 to 1024, got %d\n", jobs);
    goto out;
  }
  seeds = parse_seeds(seeds_spec, &error);
  if (!seeds) {
    fprintf(stderr, "dsim sweep: %s\n", error->message);
    goto out;
  }
  s.file = files[0];
  if (!g_file_test(s.file, G_FILE_TEST_IS_REGULAR)) {
    fprintf(stderr, "dsim sweep: %s: no such scenario file\n", s.file);
    goto out;
  }
  s.self_exe = g_file_read_link("/proc/self/exe", &error);
  if (!s.self_exe) {
    fprintf(stderr, "dsim sweep: cannot find the dsim executable: %s\n", error->message);
    goto out;
  }
  s.seeds = seeds;
  s.results = g_new0(SeedResult, seeds->len);
  for (guint i = 0; i < seeds->len; i++) {
    s.results[i].seed = g_array_index(seeds, guint64, i);
    s.results[i].status = -1;
  }
  s.loop = g_main_loop_new(NULL, FALSE);
  start_next(&s);
  if (s.running) g_main_loop_run(s.loop);
  g_main_loop_unref(s.loop);
  if (s.spawn_error) {
    fprintf(stderr, "dsim sweep: cannot start dsim run: %s\n", s.spawn_error->message);
    g_error_free(s.spawn_error);
    goto out;
  }

  guint passed = 0, failed = 0, errors = 0, shown = 0;
  GHashTable *digests = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < seeds->len; i++) {
    SeedResult *r = &s.results[i];
    if (r->status < 0) continue; /* not run (stopped early) */
    if (r->status == 0) passed++;
    else if (r->status == 1) failed++;
    else errors++;
    if (r->digest) g_hash_table_add(digests, r->digest);
  }
  printf("dsim sweep: %s, %u seed%s run: %u passed, %u failed, %u error%s; %u distinct trace%s\n", s.file,
         s.done, s.done == 1 ? "" : "s", passed, failed, errors, errors == 1 ? "" : "s",
         g_hash_table_size(digests), g_hash_table_size(digests) == 1 ? "" : "s");
  g_hash_table_unref(digests);
  GString *extra = g_string_new(NULL);
  for (guint i = 0; i < pass->len; i++) {
    char *q = shell_word(g_ptr_array_index(pass, i));
    g_string_append_printf(extra, " %s", q);
    g_free(q);
  }
  char *file_word = shell_word(s.file);
  for (guint i = 0; i < seeds->len && shown < 20; i++) {
    SeedResult *r = &s.results[i];
    if (r->status <= 0) continue;
    shown++;
    printf("  seed %" G_GUINT64_FORMAT ": %s %s\n    replay: dsim run %s --seed %" G_GUINT64_FORMAT "%s\n",
           r->seed, r->status == 1 ? "FAIL" : "ERROR", r->message ? r->message : "", file_word, r->seed,
           extra->str);
  }
  g_free(file_word);
  if (failed + errors > shown) printf("  ... and %u more\n", failed + errors - shown);
  g_string_free(extra, TRUE);
  status = errors ? 2 : failed ? 1 : 0;
out:
  if (s.results)
    for (guint i = 0; s.seeds && i < s.seeds->len; i++) {
      g_free(s.results[i].digest);
      g_free(s.results[i].message);
    }
  g_free(s.results);
  g_free(s.self_exe);
  if (seeds) g_array_unref(seeds);
  g_clear_error(&error);
  g_ptr_array_unref(pass);
  g_strfreev(files);
  g_free(seeds_spec);
  g_option_context_free(ctx);
  return status;
}
