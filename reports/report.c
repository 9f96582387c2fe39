/* report.c — options, the process filter, and the text and export entry
 * points (html.c has the HTML one): each opens the trace with the window
 * applied, feeds every event to the tracker and the events inside the
 * window to its consumers, and turns a failed read into one GError. */
#include "reports_internal.h"

#include <errno.h>
#include <string.h>

void dsim_report_options_init(DsimReportOptions *o) {
  memset(o, 0, sizeof *o);
  o->from_ns = G_MININT64;
  o->to_ns = G_MAXINT64;
  o->max_rows = DSIM_REPORT_DEFAULT_MAX_ROWS;
  o->diagram_limit = DSIM_REPORT_DEFAULT_DIAGRAM_LIMIT;
  o->mermaid_limit = DSIM_REPORT_DEFAULT_MERMAID_LIMIT;
}

gboolean dsim_report_options_check(const DsimReportOptions *o, GError **error) {
  if ((o->from_ns != G_MININT64 && o->from_ns < 0) || o->to_ns < 0) {
    g_set_error(error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_INVALID, "the window must be at non-negative times");
    return FALSE;
  }
  if (o->from_ns != G_MININT64 && o->to_ns != G_MAXINT64 && o->from_ns > o->to_ns) {
    g_set_error(error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_INVALID, "the window is empty: --from is after --to");
    return FALSE;
  }
  return TRUE;
}

DsimTraceReader *dsim_report_open(const char *path, const DsimReportOptions *o, GError **error) {
  if (!dsim_report_options_check(o, error)) return NULL;
  DsimTraceReader *r = dsim_trace_reader_open(path, error);
  if (r && (o->from_ns != G_MININT64 || o->to_ns != G_MAXINT64)) dsim_trace_reader_set_window(r, o->from_ns, o->to_ns);
  return r;
}

gboolean dsim_report_check_output(FILE *out, GError **error) {
  if (fflush(out) != 0 || ferror(out)) {
    int e = errno;
    g_set_error(error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_IO, "writing the report failed: %s",
                e ? g_strerror(e) : "I/O error");
    return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------- filter */

void dsim_filter_init(DsimFilter *f, const DsimReportOptions *o) {
  memset(f, 0, sizeof *f);
  f->pids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  f->groups = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < o->n_pids; i++) g_hash_table_add(f->pids, g_memdup2(&o->pids[i], sizeof(guint64)));
  for (const char *const *g = o->groups; g && *g; g++) g_ptr_array_add(f->groups, g_strdup(*g));
  f->active = o->n_pids > 0 || f->groups->len > 0;
}

void dsim_filter_clear(DsimFilter *f) {
  if (f->pids) g_hash_table_destroy(f->pids);
  if (f->groups) g_ptr_array_unref(f->groups);
  memset(f, 0, sizeof *f);
}

gboolean dsim_filter_match(const DsimFilter *f, const DsimTracker *tk, guint64 pid) {
  if (!f->active || pid == 0) return TRUE;
  guint64 real = dsim_tracker_resolve(tk, pid);
  if (g_hash_table_contains(f->pids, &real)) return TRUE;
  /* membership, not a cache: a process may join a subgroup at any time,
   * and the lists are short (the processes of one subgroup) */
  for (guint i = 0; i < f->groups->len; i++) {
    GArray *members = dsim_tracker_group(tk, g_ptr_array_index(f->groups, i));
    for (guint k = 0; members && k < members->len; k++) {
      guint64 m = g_array_index(members, guint64, k);
      if (m == real || m == pid) return TRUE;
    }
  }
  return FALSE;
}

/* ---------------------------------------------------------------- text */

gboolean dsim_report_text(const char *path, const DsimReportOptions *o, FILE *out, GError **error) {
  DsimTraceReader *r = dsim_report_open(path, o, error);
  if (!r) return FALSE;
  DsimTracker *tk = dsim_tracker_new();
  DsimFilter f;
  dsim_filter_init(&f, o);
  DsimSummary *s = dsim_summary_new(r, o);
  DsimTraceEvent ev;
  GError *e = NULL;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    if (ev.t >= o->from_ns) dsim_summary_add(s, &ev, tk, copy, &f);
    dsim_tracker_release(tk, &ev, copy);
  }
  gboolean ok = e == NULL;
  if (ok) {
    dsim_summary_finish(s, r, tk, &f);
    dsim_text_write(s, tk, o, out);
    ok = dsim_report_check_output(out, &e);
  }
  if (e) g_propagate_error(error, e);
  dsim_summary_free(s);
  dsim_filter_clear(&f);
  dsim_tracker_free(tk);
  dsim_trace_reader_free(r);
  return ok;
}

/* ---------------------------------------------------------------- exports */

gboolean dsim_export_format_parse(const char *name, DsimExportFormat *format, GError **error) {
  static const struct {
    const char *name;
    DsimExportFormat format;
  } names[] = {{"perfetto", DSIM_EXPORT_PERFETTO},
               {"chrome", DSIM_EXPORT_PERFETTO},
               {"shiviz", DSIM_EXPORT_SHIVIZ},
               {"mermaid", DSIM_EXPORT_MERMAID},
               {"csv", DSIM_EXPORT_CSV}};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    if (g_ascii_strcasecmp(name, names[i].name) == 0) {
      *format = names[i].format;
      return TRUE;
    }
  }
  g_set_error(error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_INVALID,
              "unknown export format '%s' (expected perfetto, shiviz, mermaid or csv)", name);
  return FALSE;
}

gboolean dsim_report_export(const char *path, DsimExportFormat format, const DsimReportOptions *o, FILE *out,
                            GError **error) {
  DsimTraceReader *r = dsim_report_open(path, o, error);
  if (!r) return FALSE;
  DsimFilter f;
  dsim_filter_init(&f, o);
  gboolean ok = FALSE;
  switch (format) {
  case DSIM_EXPORT_PERFETTO: ok = dsim_export_perfetto(r, o, &f, out, error); break;
  case DSIM_EXPORT_SHIVIZ: ok = dsim_export_shiviz(r, o, &f, out, error); break;
  case DSIM_EXPORT_MERMAID: ok = dsim_export_mermaid(r, o, &f, out, error); break;
  case DSIM_EXPORT_CSV: ok = dsim_export_csv(r, o, &f, out, error); break;
  }
  if (ok) ok = dsim_report_check_output(out, error);
  dsim_filter_clear(&f);
  dsim_trace_reader_free(r);
  return ok;
}
