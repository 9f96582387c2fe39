/* export_csv.c — message events as CSV (RFC 4180), for pandas or a
 * spreadsheet: one row per send, dup, drop, deliver, recv, corrupt, delay
 * and held line, streamed as read.
 *
 * Columns: line, t_ns, event, mid, copy, src, dst, size, latency_ns,
 * corrupted, reason, channel, data, then what fault injection added:
 * cause, rule, cut, extra_ns, bits, hold. Empty cells mean "not
 * applicable" (size and data on the send; latency on deliveries whose
 * send was read; reason on drops and held copies; cause on the faults that
 * name one; rule, cut and hold when the line names them; extra_ns on
 * delays; bits on corruptions). For recv, dst is the receiving process.
 * The first thirteen columns came first and stay first, in that order. */
#include "reports_internal.h"

#include <string.h>

static void csv_field(GString *o, const char *s) {
  if (!s) return;
  if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && (s[0] == '\0' || s[strlen(s) - 1] != ' ')) {
    g_string_append(o, s);
    return;
  }
  g_string_append_c(o, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"') g_string_append_c(o, '"');
    g_string_append_c(o, *p);
  }
  g_string_append_c(o, '"');
}

static void opt_u64(GString *row, gboolean has, guint64 v) {
  g_string_append_c(row, ',');
  if (has) g_string_append_printf(row, "%" G_GUINT64_FORMAT, v);
}

/* cause, rule, cut, extra_ns, bits, hold */
static void append_faults(GString *row, const DsimTraceEvent *ev) {
  g_string_append_c(row, ',');
  csv_field(row, ev->kind == DSIM_EV_RECV || ev->kind == DSIM_EV_DELIVER ? NULL : ev->cause);
  opt_u64(row, ev->has_rule, ev->rule);
  opt_u64(row, ev->has_cut, ev->cut);
  opt_u64(row, ev->kind == DSIM_EV_DELAY, ev->extra);
  opt_u64(row, ev->kind == DSIM_EV_CORRUPT && json_object_has_member(ev->object, "bits"), ev->bits);
  opt_u64(row, ev->has_hold, ev->hold);
}

gboolean dsim_export_csv(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out, GError **error) {
  DsimTracker *tk = dsim_tracker_new();
  GString *row = g_string_new(NULL);
  fputs("line,t_ns,event,mid,copy,src,dst,size,latency_ns,corrupted,reason,channel,data,"
        "cause,rule,cut,extra_ns,bits,hold\r\n",
        out);
  DsimTraceEvent ev;
  GError *e = NULL;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    gboolean message = ev.kind == DSIM_EV_SEND || ev.kind == DSIM_EV_DUP || ev.kind == DSIM_EV_DROP ||
                       ev.kind == DSIM_EV_DELIVER || ev.kind == DSIM_EV_RECV || ev.kind == DSIM_EV_CORRUPT ||
                       ev.kind == DSIM_EV_DELAY || ev.kind == DSIM_EV_HELD;
    guint64 dst = ev.kind == DSIM_EV_RECV ? ev.pid : ev.dst;
    if (message && ev.t >= o->from_ns && (dsim_filter_match(f, tk, ev.src) || dsim_filter_match(f, tk, dst))) {
      g_string_printf(row, "%" G_GUINT64_FORMAT ",%" G_GINT64_FORMAT ",%s,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                           ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",",
                      ev.line, ev.t, ev.ev, ev.mid, ev.copy, ev.src, dst);
      if (ev.kind == DSIM_EV_SEND) g_string_append_printf(row, "%" G_GUINT64_FORMAT, ev.size);
      g_string_append_c(row, ',');
      if (ev.kind == DSIM_EV_DELIVER && copy && copy->sent_t >= 0)
        g_string_append_printf(row, "%" G_GINT64_FORMAT, ev.t - copy->sent_t);
      g_string_append_c(row, ',');
      if (ev.kind == DSIM_EV_DELIVER || ev.kind == DSIM_EV_CORRUPT)
        g_string_append(row, copy && copy->corrupted ? "1" : "0");
      g_string_append_c(row, ',');
      csv_field(row, ev.kind == DSIM_EV_DROP || ev.kind == DSIM_EV_HELD ? ev.reason : NULL);
      g_string_append_c(row, ',');
      csv_field(row, ev.kind == DSIM_EV_SEND ? ev.ch : NULL);
      g_string_append_c(row, ',');
      csv_field(row, ev.kind == DSIM_EV_SEND ? ev.data : NULL);
      append_faults(row, &ev);
      g_string_append(row, "\r\n");
      fwrite(row->str, 1, row->len, out);
    }
    dsim_tracker_release(tk, &ev, copy);
  }
  g_string_free(row, TRUE);
  dsim_tracker_free(tk);
  if (e) {
    g_propagate_error(error, e);
    return FALSE;
  }
  return TRUE;
}
