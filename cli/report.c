/* report.c — `dsim report TRACE` and `dsim diff TRACE_A TRACE_B`: option
 * parsing around the reports module (reports/include/dsim/reports.h).
 *
 * report exits 0 when the report was written and 2 on a usage error or a
 * bad trace; diff exits 0 when the traces are the same, 1 when they differ
 * and 2 on a usage error or a bad trace. Errors are one line on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dsim/reports.h"
#include "dsim/sim.h"

/* ---------------------------------------------------------------- report */

typedef struct {
  char *html, *format, *output, *from, *to, *pids, *groups, *color;
  gboolean all;
  gint diagram_limit, mermaid_limit;
} ReportArgs;

static gboolean parse_time(const char *flag, const char *text, gint64 *out, GError **error) {
  DsimTime t;
  GError *e = NULL;
  if (!dsim_time_parse(text, &t, &e)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s", flag, e->message);
    g_error_free(e);
    return FALSE;
  }
  *out = t;
  return TRUE;
}

static gboolean parse_pids(const char *text, GArray *out, GError **error) {
  char **parts = g_strsplit(text, ",", -1);
  gboolean ok = TRUE;
  for (char **p = parts; *p; p++) {
    char *s = g_strstrip(*p);
    guint64 v;
    if (!g_ascii_string_to_unsigned(s, 10, 1, G_MAXUINT64, &v, NULL)) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "--pid expects pids (positive integers) separated by commas, got '%s'", text);
      ok = FALSE;
      break;
    }
    g_array_append_val(out, v);
  }
  g_strfreev(parts);
  return ok;
}

static char **parse_groups(const char *text, GError **error) {
  char **parts = g_strsplit(text, ",", -1);
  for (char **p = parts; *p; p++) {
    g_strstrip(*p);
    if (!**p) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "--group expects subgroup names separated by commas, got '%s'", text);
      g_strfreev(parts);
      return NULL;
    }
  }
  return parts;
}

static gboolean want_color(const char *when, gboolean to_stdout, GError **error) {
  if (!when || strcmp(when, "auto") == 0) {
    const char *term = g_getenv("TERM");
    return to_stdout && isatty(STDOUT_FILENO) && !g_getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
  }
  if (strcmp(when, "always") == 0) return TRUE;
  if (strcmp(when, "never") == 0) return FALSE;
  g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--color expects auto, always or never, got '%s'", when);
  return FALSE;
}

static int report_fail(const char *what, GError *e) {
  fprintf(stderr, "dsim report: %s%s%s\n", what ? what : "", what ? ": " : "", e->message);
  g_error_free(e);
  return 2;
}

int dsim_cli_report(int argc, char **argv) {
  ReportArgs a = {0};
  a.diagram_limit = DSIM_REPORT_DEFAULT_DIAGRAM_LIMIT;
  a.mermaid_limit = DSIM_REPORT_DEFAULT_MERMAID_LIMIT;
  const GOptionEntry entries[] = {
      {"html", 0, 0, G_OPTION_ARG_FILENAME, &a.html, "Write a self-contained HTML report to OUT", "OUT"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &a.format,
       "Export instead of summarising: perfetto (Chrome trace JSON), shiviz, mermaid or csv", "FMT"},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &a.output, "Write the summary or export to FILE (default: stdout)",
       "FILE"},
      {"from", 0, 0, G_OPTION_ARG_STRING, &a.from, "Only events at or after this virtual time (e.g. 1.5, 200ms)", "T"},
      {"to", 0, 0, G_OPTION_ARG_STRING, &a.to, "Only events at or before this virtual time", "T"},
      {"pid", 'p', 0, G_OPTION_ARG_STRING, &a.pids, "Only these processes (and messages to or from them), e.g. 1,2",
       "LIST"},
      {"group", 'g', 0, G_OPTION_ARG_STRING, &a.groups, "Only processes in these subgroups, e.g. server", "NAMES"},
      {"color", 0, 0, G_OPTION_ARG_STRING, &a.color, "Colour the summary: auto (on a terminal), always, never", "WHEN"},
      {"all", 'a', 0, G_OPTION_ARG_NONE, &a.all, "List every process, link and check (default: the busiest 40)", NULL},
      {"diagram-limit", 0, 0, G_OPTION_ARG_INT, &a.diagram_limit,
       "Events drawn in an HTML diagram at most (default 5000)", "N"},
      {"mermaid-limit", 0, 0, G_OPTION_ARG_INT, &a.mermaid_limit, "Messages in a Mermaid diagram at most (default 500)",
       "N"},
      G_OPTION_ENTRY_NULL};
  GOptionContext *ctx = g_option_context_new("TRACE - summarise, draw or export a trace (- reads standard input)");
  g_option_context_set_summary(
      ctx, "Reads a trace written by `dsim run --trace` and prints a summary (processes, links, faults, checks),\n"
           "writes an HTML report with a space-time diagram (--html), or exports it for other tools (--format).\n"
           "Exit status: 0 done, 2 usage error or bad trace (the message names the file and line).");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *error = NULL;
  int status = 2;
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(guint64));
  char **groups = NULL;
  FILE *out = NULL;
  const char *out_path = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "dsim report: %s (see dsim report --help)\n", error->message);
    goto done;
  }
  if (argc != 2) {
    fprintf(stderr, "dsim report: %s (see dsim report --help)\n",
            argc < 2 ? "expected a TRACE file" : "expected exactly one TRACE file");
    goto done;
  }
  DsimReportOptions o;
  dsim_report_options_init(&o);
  DsimExportFormat format = DSIM_EXPORT_CSV;
  if (a.html && a.format) {
    fprintf(stderr, "dsim report: --html and --format write different things: use one\n");
    goto done;
  }
  if (a.html && a.output) {
    fprintf(stderr, "dsim report: --html names its own output file: -o is for the summary and exports\n");
    goto done;
  }
  if (a.format && !dsim_export_format_parse(a.format, &format, &error)) {
    status = report_fail(NULL, error);
    error = NULL;
    goto done;
  }
  if ((a.from && !parse_time("--from", a.from, &o.from_ns, &error)) ||
      (a.to && !parse_time("--to", a.to, &o.to_ns, &error)) || (a.pids && !parse_pids(a.pids, pids, &error)) ||
      (a.groups && !(groups = parse_groups(a.groups, &error)))) {
    fprintf(stderr, "dsim report: %s\n", error->message);
    goto done;
  }
  if (a.diagram_limit < 1 || a.mermaid_limit < 1) {
    fprintf(stderr, "dsim report: --diagram-limit and --mermaid-limit must be at least 1\n");
    goto done;
  }
  o.pids = (const guint64 *)(const void *)pids->data;
  o.n_pids = pids->len;
  o.groups = (const char *const *)groups;
  o.max_rows = a.all ? 0 : DSIM_REPORT_DEFAULT_MAX_ROWS;
  o.diagram_limit = (guint)a.diagram_limit;
  o.mermaid_limit = (guint)a.mermaid_limit;
  out_path = a.html ? a.html : a.output;
  o.color = want_color(a.color, out_path == NULL, &error);
  if (error) {
    fprintf(stderr, "dsim report: %s\n", error->message);
    goto done;
  }
  /* check the window before creating an output file */
  if (!dsim_report_options_check(&o, &error)) {
    status = report_fail(NULL, error);
    error = NULL;
    goto done;
  }
  gboolean removable = FALSE; /* a regular file, which a failed report may delete (never /dev/null) */
  if (out_path) {
    out = fopen(out_path, "wb");
    if (!out) {
      int e = errno;
      fprintf(stderr, "dsim report: cannot create '%s': %s\n", out_path, g_strerror(e));
      goto done;
    }
    struct stat st;
    removable = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
  }
  FILE *dest = out ? out : stdout;
  gboolean ok = a.html     ? dsim_report_html(argv[1], &o, dest, &error)
                : a.format ? dsim_report_export(argv[1], format, &o, dest, &error)
                           : dsim_report_text(argv[1], &o, dest, &error);
  if (out && fclose(out) != 0 && ok) {
    int e = errno;
    g_set_error(&error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_IO, "writing '%s' failed: %s", out_path, g_strerror(e));
    ok = FALSE;
  }
  out = NULL;
  if (!ok) {
    if (removable) remove(out_path); /* no half-written report left behind */
    status = report_fail(NULL, error);
    error = NULL;
    goto done;
  }
  status = 0;
done:
  if (out) fclose(out);
  g_clear_error(&error);
  g_strfreev(groups);
  g_array_unref(pids);
  g_free(a.html);
  g_free(a.format);
  g_free(a.output);
  g_free(a.from);
  g_free(a.to);
  g_free(a.pids);
  g_free(a.groups);
  g_free(a.color);
  g_option_context_free(ctx);
  return status;
}

/* ---------------------------------------------------------------- diff */

int dsim_cli_diff(int argc, char **argv) {
  gint context = 3;
  char *ignore = NULL;
  const GOptionEntry entries[] = {
      {"context", 'C', 0, G_OPTION_ARG_INT, &context, "Events shown before and after the first difference (default 3)",
       "N"},
      {"ignore", 'i', 0, G_OPTION_ARG_STRING, &ignore,
       "Fields not compared, e.g. fn,where (code locations) or seed,scenario (header)", "FIELDS"},
      G_OPTION_ENTRY_NULL};
  GOptionContext *ctx = g_option_context_new("TRACE_A TRACE_B - the first event where two traces differ");
  g_option_context_set_summary(
      ctx, "Compares two traces event by event (as JSON values) and shows the first difference with the events\n"
           "around it from both, after the header fields that differ. Use it to see why two seeds, two versions\n"
           "of a protocol or two builds behave differently.\n"
           "Exit status: 0 the traces are the same, 1 they differ, 2 usage error or bad trace.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  GError *error = NULL;
  int status = 2;
  char **fields = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "dsim diff: %s (see dsim diff --help)\n", error->message);
    goto done;
  }
  if (argc != 3) {
    fprintf(stderr, "dsim diff: expected two TRACE files (see dsim diff --help)\n");
    goto done;
  }
  if (context < 0 || context > 1000) {
    fprintf(stderr, "dsim diff: --context must be between 0 and 1000\n");
    goto done;
  }
  if (ignore) {
    fields = g_strsplit(ignore, ",", -1);
    for (char **p = fields; *p; p++) g_strstrip(*p);
  }
  DsimDiffOptions o = {(guint)context, (const char *const *)fields};
  DsimDiffResult r = dsim_trace_diff(argv[1], argv[2], &o, stdout, &error);
  if (r == DSIM_DIFF_ERROR) {
    fprintf(stderr, "dsim diff: %s\n", error->message);
    goto done;
  }
  status = r == DSIM_DIFF_SAME ? 0 : 1;
done:
  g_clear_error(&error);
  g_strfreev(fields);
  g_free(ignore);
  g_option_context_free(ctx);
  return status;
}
