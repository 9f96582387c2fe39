/* export_shiviz.c — a ShiViz log (https://bestchai.bitbucket.io/shiviz/).
 *
 * ShiViz reads a file whose first line is the regular expression that
 * parses each event and whose second line is the delimiter between
 * executions (empty here: one execution). Each event is then one line:
 *
 *   p2 {"p2":3,"p1":2} 0.001s recv #1.0 by 2 from 1
 *
 * host, vector clock (JSON, hosts with a zero entry left out), then the
 * event. Hosts are "p<pid>" and "scenario" for scenario code. Clocks come
 * from causal.c: each host's own entry counts its events from 1 with no
 * gap (ShiViz checks that), and a clock names only hosts that have events
 * in the log. Network-only events (dup, drop, corrupt) belong to no host
 * and are left out: a lost message is a send with no receive.
 *
 * With a process filter, only the selected hosts' events are written and
 * the clocks are cut down to those hosts, which keeps them valid for ShiViz
 * (every entry still counts events that are in the log). */
#include "reports_internal.h"

#include <string.h>

#define SHIVIZ_REGEX "(?<host>\\S+) (?<clock>\\{[^}]*\\}) (?<event>.*)"

static void host_name(GString *o, guint64 pid) {
  if (pid == 0)
    g_string_append(o, "scenario");
  else
    g_string_append_printf(o, "p%" G_GUINT64_FORMAT, pid);
}

gboolean dsim_export_shiviz(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out, GError **error) {
  fputs(SHIVIZ_REGEX "\n\n", out);
  DsimTracker *tk = dsim_tracker_new();
  DsimCausal *c = dsim_causal_new();
  GArray *clock = g_array_new(FALSE, FALSE, sizeof(guint64));
  GString *line = g_string_new(NULL);
  DsimTraceEvent ev;
  GError *e = NULL;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    guint64 host;
    guint32 seq;
    if (ev.t >= o->from_ns && dsim_causal_apply(c, &ev, tk, copy, &host, &seq) && dsim_filter_match(f, tk, host)) {
      g_array_set_size(clock, 0);
      dsim_causal_clock(c, host, clock);
      g_string_truncate(line, 0);
      host_name(line, host);
      g_string_append(line, " {");
      gboolean first = TRUE;
      for (guint i = 0; i + 1 < clock->len; i += 2) {
        guint64 pid = g_array_index(clock, guint64, i);
        if (!dsim_filter_match(f, tk, pid)) continue;
        g_string_append(line, first ? "\"" : ",\"");
        first = FALSE;
        host_name(line, pid);
        g_string_append_printf(line, "\":%" G_GUINT64_FORMAT, g_array_index(clock, guint64, i + 1));
      }
      char b[DSIM_TIME_BUF];
      g_string_append_printf(line, "} %s ", dsim_fmt_time(ev.t, b));
      GString *what = g_string_new(NULL);
      dsim_describe_event(what, &ev);
      dsim_append_clean(line, what->str, 300);
      g_string_free(what, TRUE);
      g_string_append_c(line, '\n');
      fwrite(line->str, 1, line->len, out);
    }
    dsim_tracker_release(tk, &ev, copy);
  }
  g_string_free(line, TRUE);
  g_array_unref(clock);
  dsim_causal_free(c);
  dsim_tracker_free(tk);
  if (e) {
    g_propagate_error(error, e);
    return FALSE;
  }
  return TRUE;
}
