/* html.c — the HTML report: one self-contained page.
 *
 * Everything is inline (SVG, CSS, a little JavaScript) and a
 * Content-Security-Policy forbids any network access, so the file opens
 * anywhere, offline, and shows the same thing in ten years. The first
 * script in the page counts JavaScript errors, console.error calls and
 * policy violations into the data-errors attribute of <html>; the last one
 * sets data-ready="1" once the page's own code has run. The browser test
 * reads both.
 *
 * The page is built in memory and written at the end (its size is bounded
 * by the diagram limit and the number of processes and links), because its
 * first sections need numbers known only after the last event. */
#include "reports_internal.h"

#include <string.h>

#define HTML_MAX_ROWS 2000

static const char ERROR_COUNTER_JS[] =
    "(function () {\n"
    "  var root = document.documentElement, n = 0;\n"
    "  function bump() { n++; root.setAttribute('data-errors', String(n)); }\n"
    "  root.setAttribute('data-errors', '0');\n"
    "  window.addEventListener('error', bump, true);\n"
    "  window.addEventListener('unhandledrejection', bump);\n"
    "  document.addEventListener('securitypolicyviolation', bump);\n"
    "  var original = console.error;\n"
    "  console.error = function () { bump(); return original.apply(console, arguments); };\n"
    "})();\n";

static const char PAGE_JS[] =
    "(function () {\n"
    "  /* click a process name: its messages stand out, the others fade */\n"
    "  document.querySelectorAll('svg.spacetime').forEach(function (svg) {\n"
    "    svg.querySelectorAll('.proc-label').forEach(function (label) {\n"
    "      label.addEventListener('click', function () {\n"
    "        var pid = label.getAttribute('data-pid');\n"
    "        var on = svg.getAttribute('data-focus') !== pid;\n"
    "        svg.setAttribute('data-focus', on ? pid : '');\n"
    "        svg.querySelectorAll('.arrow').forEach(function (a) {\n"
    "          var hit = on && (a.getAttribute('data-src') === pid || a.getAttribute('data-dst') === pid);\n"
    "          a.classList.toggle('hl', hit);\n"
    "          a.classList.toggle('dim', on && !hit);\n"
    "        });\n"
    "      });\n"
    "    });\n"
    "  });\n"
    "  /* the legend's check boxes show and hide kinds of marks */\n"
    "  document.querySelectorAll('input[data-hide]').forEach(function (box) {\n"
    "    box.addEventListener('change', function () {\n"
    "      var section = box.closest('section');\n"
    "      section.classList.toggle('hide-' + box.getAttribute('data-hide'), !box.checked);\n"
    "    });\n"
    "  });\n"
    "  document.documentElement.setAttribute('data-ready', '1');\n"
    "})();\n";

static const char PAGE_CSS[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1400px;"
    "padding:0 20px 40px;color:#1d2330;background:#fff}\n"
    "h1{font-size:22px;margin:18px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;"
    "padding-bottom:4px}\n"
    "nav a{margin-right:14px;color:#1f5fa8}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dl.facts dt{color:#5a6375}"
    "dl.facts dd{margin:0;word-break:break-all}\n"
    ".note{color:#5a6375;margin:4px 0}.warn{color:#9a5b00}.bad{color:#b3261e;font-weight:600}.good{color:#1e7b34}\n"
    ".scroll{overflow:auto;border:1px solid #dde2ea;border-radius:4px;max-height:80vh;background:#fff}\n"
    "table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:3px 10px;border-bottom:1px solid #eef1f5;text-align:right;white-space:nowrap}\n"
    "th{background:#f4f6f9;position:sticky;top:0}td.l,th.l{text-align:left}td.wrap{white-space:normal;text-align:left}\n"
    ".legend-box{display:flex;flex-wrap:wrap;gap:4px 18px;margin:6px 0;color:#3b4252}\n"
    ".legend-box svg{vertical-align:middle}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#3b4252}\n"
    "svg .band{fill:#f6f8fb}svg .grid{stroke:#e3e7ee;stroke-width:1}svg .tick{fill:#5a6375}\n"
    "svg .axis-label{fill:#5a6375;font-style:italic}\n"
    "svg .proc-label{cursor:pointer;font-weight:600}\n"
    "svg .life{stroke:#2d3748;stroke-width:2}svg .life.down{stroke:#c0392b;stroke-dasharray:3 4;stroke-width:1.5}\n"
    "svg .guide{stroke:#a0aec0;stroke-dasharray:2 6}\n"
    "svg .arrow{stroke:#1f5fa8;stroke-width:1.3}svg .arrow.dup{stroke:#d9822b}svg .arrow.corrupt{stroke:#8e44ad;"
    "stroke-dasharray:5 2}svg .arrow.from-before{stroke-dasharray:2 3}\n"
    "svg .arrow.hl{stroke-width:3}svg .arrow.dim{opacity:.15}\n"
    "svg .m-msg{fill:#1f5fa8}svg .m-dup{fill:#d9822b}svg .m-cor{fill:#8e44ad}\n"
    "svg .send{fill:#1f5fa8}svg .recv{fill:#1e7b34}svg .lost{stroke:#c0392b;stroke-dasharray:4 3;stroke-width:1.2}\n"
    "svg .drop path{stroke:#c0392b;stroke-width:2.2}svg .drop.dup path{stroke:#d9822b}svg .drop.queued path{stroke:#7b1fa2}\n"
    "svg .corrupt-mark{fill:#8e44ad}\n"
    "svg .crash path{stroke:#c0392b;stroke-width:3}svg .restart{fill:#1e7b34}svg .spawn{fill:#2d3748}svg .exit{fill:#718096}\n"
    "svg .timeout{fill:#fff;stroke:#d9822b;stroke-width:1.5}svg .log{fill:#a0aec0}svg .error{fill:#b3261e}\n"
    "svg .check.ok circle{fill:#1e7b34}svg .check.failed circle{fill:#b3261e}svg .check.failed text{fill:#fff;"
    "font-weight:700;text-anchor:middle}svg .check.target circle{stroke:#000;stroke-width:2}\n"
    "svg .cut.side-a{fill:#c0392b;opacity:.18}svg .cut.side-b{fill:#d9822b;opacity:.18}svg .cutline{stroke:#c0392b;"
    "stroke-dasharray:6 3}svg .cutlabel{fill:#c0392b}svg .heal line{stroke:#1e7b34;stroke-dasharray:6 3}\n"
    "svg .heal.linkup line{stroke:#6d4c41}svg .heal.release line{stroke:#2e86c1}svg .linkdown .cut{fill:#6d4c41}svg .linkdown .cutline{stroke:#6d4c41}svg .linkdown .cutlabel{fill:#6d4c41}"
    "svg .holdcut .cut{fill:#2e86c1}svg .holdcut .cutline{stroke:#2e86c1}svg .holdcut .cutlabel{fill:#2e86c1}\n"
    "svg .paused-band{fill:#f1c40f;opacity:.45}svg .pause,svg .resume{fill:#b7950b}svg .clock{fill:#fff;"
    "stroke:#16a085;stroke-width:1.5}svg .storage-fault{fill:#7b1fa2}\n"
    "svg .held-mark{fill:#2e86c1}svg .delay-mark{fill:#d35400}svg .arrow.held{stroke-dasharray:8 2 2 2}\n"
    ".hide-log svg .log,.hide-recv svg .recv,.hide-send svg .send,.hide-timeout svg .timeout{display:none}\n"
    "svg.chart .axis{stroke:#3b4252}svg.chart .bar{fill:#1f5fa8}svg.chart .axis-title{fill:#3b4252;font-size:12px}\n"
    "svg.chart .series{fill:none;stroke-width:1.6}svg.chart .series.sent,svg.chart .legend.sent line{stroke:#1f5fa8}"
    "svg.chart .series.delivered,svg.chart .legend.delivered line{stroke:#1e7b34}svg.chart .series.dropped,"
    "svg.chart .legend.dropped line{stroke:#c0392b}svg.chart .legend line{stroke-width:2}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}\n";

static void esc(GString *o, const char *s) {
  dsim_html_escape(o, s);
}

static void fact(GString *o, const char *label, const char *value) {
  g_string_append(o, "<dt>");
  esc(o, label);
  g_string_append(o, "</dt><dd>");
  esc(o, value);
  g_string_append(o, "</dd>\n");
}

static void legend(GString *o) {
  g_string_append(
      o, "<div class=\"legend-box\">"
         "<span><svg width=\"34\" height=\"12\"><line x1=\"2\" y1=\"6\" x2=\"30\" y2=\"6\" stroke=\"#1f5fa8\" stroke-width=\"2\"/></svg> message (send to delivery)</span>"
         "<span><svg width=\"34\" height=\"12\"><line x1=\"2\" y1=\"6\" x2=\"30\" y2=\"6\" stroke=\"#d9822b\" stroke-width=\"2\"/></svg> duplicate</span>"
         "<span><svg width=\"34\" height=\"12\"><line x1=\"2\" y1=\"6\" x2=\"30\" y2=\"6\" stroke=\"#8e44ad\" stroke-width=\"2\" stroke-dasharray=\"5 2\"/></svg> corrupted</span>"
         "<span><svg width=\"16\" height=\"12\"><path d=\"M3 1L13 11M3 11L13 1\" stroke=\"#c0392b\" stroke-width=\"2\"/></svg> dropped</span>"
         "<span><svg width=\"16\" height=\"16\"><path d=\"M2 2L14 14M2 14L14 2\" stroke=\"#c0392b\" stroke-width=\"3\"/></svg> crash</span>"
         "<span><svg width=\"14\" height=\"14\"><path d=\"M2 1L13 7L2 13Z\" fill=\"#1e7b34\"/></svg> restart</span>"
         "<span><svg width=\"30\" height=\"12\"><rect x=\"1\" y=\"2\" width=\"28\" height=\"8\" fill=\"#c0392b\" opacity=\".25\"/></svg> partitioned</span>"
         "<span><svg width=\"30\" height=\"12\"><rect x=\"1\" y=\"2\" width=\"28\" height=\"8\" fill=\"#6d4c41\" opacity=\".25\"/></svg> link down</span>"
         "<span><svg width=\"30\" height=\"12\"><rect x=\"1\" y=\"2\" width=\"28\" height=\"8\" fill=\"#2e86c1\" opacity=\".25\"/></svg> held link</span>"
         "<span><svg width=\"30\" height=\"12\"><rect x=\"1\" y=\"0\" width=\"28\" height=\"12\" fill=\"#f1c40f\" opacity=\".45\"/></svg> paused</span>"
         "<span><svg width=\"10\" height=\"12\"><rect x=\"2\" y=\"2\" width=\"6\" height=\"8\" fill=\"#2e86c1\"/></svg> held message</span>"
         "<span><svg width=\"10\" height=\"10\"><circle cx=\"5\" cy=\"5\" r=\"3\" fill=\"#d35400\"/></svg> delayed by a rule</span>"
         "<span><svg width=\"14\" height=\"14\"><circle cx=\"7\" cy=\"7\" r=\"5\" fill=\"#fff\" stroke=\"#16a085\" stroke-width=\"1.5\"/></svg> clock change</span>"
         "<span><svg width=\"12\" height=\"10\"><rect x=\"2\" y=\"2\" width=\"8\" height=\"6\" fill=\"#7b1fa2\"/></svg> write lost or torn</span>"
         "<span><svg width=\"14\" height=\"14\"><circle cx=\"7\" cy=\"7\" r=\"6\" fill=\"#b3261e\"/></svg> failed check</span>"
         "<span><svg width=\"12\" height=\"12\"><circle cx=\"6\" cy=\"6\" r=\"4\" fill=\"#fff\" stroke=\"#d9822b\" stroke-width=\"1.5\"/></svg> receive timeout</span>"
         "</div>\n"
         "<div class=\"legend-box\">show: "
         "<label><input type=\"checkbox\" data-hide=\"send\" checked> sends</label>"
         "<label><input type=\"checkbox\" data-hide=\"recv\" checked> receives</label>"
         "<label><input type=\"checkbox\" data-hide=\"timeout\" checked> timeouts</label>"
         "<label><input type=\"checkbox\" data-hide=\"log\" checked> logs</label>"
         " &#8212; hover over anything for details; click a process name to follow its messages</div>\n");
}

/* ---------------------------------------------------------------- tables */

static void th(GString *o, const char *cls, const char *text) {
  g_string_append_printf(o, "<th%s>", cls ? " class=\"l\"" : "");
  esc(o, text);
  g_string_append(o, "</th>");
}

static void td_num(GString *o, guint64 v) {
  g_string_append_printf(o, "<td>%" G_GUINT64_FORMAT "</td>", v);
}

static void td_text(GString *o, const char *cls, const char *text) {
  g_string_append_printf(o, "<td class=\"%s\">", cls);
  esc(o, text);
  g_string_append(o, "</td>");
}

static void procs_table(GString *o, DsimSummary *s, DsimTracker *tk) {
  GPtrArray *rows = dsim_summary_proc_rows(s);
  g_string_append_printf(o, "<section id=\"processes\"><h2>Processes (%u)</h2>\n<table><tr>", rows->len);
  th(o, NULL, "pid");
  th(o, "l", "subgroup");
  th(o, NULL, "sent");
  th(o, NULL, "delivered to it");
  th(o, NULL, "received");
  th(o, NULL, "dropped on the way to it");
  th(o, NULL, "receive timeouts");
  th(o, NULL, "crashes");
  th(o, NULL, "restarts");
  th(o, "l", "at the end");
  th(o, "l", "code");
  g_string_append(o, "</tr>\n");
  for (guint i = 0; i < rows->len && i < HTML_MAX_ROWS; i++) {
    DsimProcStats *p = g_ptr_array_index(rows, i);
    DsimProc *pr = dsim_tracker_proc(tk, p->pid);
    char *g = dsim_proc_groups_text(tk, p->pid);
    g_string_append(o, "<tr>");
    td_num(o, p->pid);
    td_text(o, "l", g);
    td_num(o, p->sent);
    td_num(o, p->delivered);
    td_num(o, p->received);
    td_num(o, p->dropped_to);
    td_num(o, p->timeouts);
    td_num(o, p->crashes);
    td_num(o, p->restarts);
    const char *state = dsim_summary_end_state(s, tk, p->pid);
    td_text(o, !strcmp(state, "crashed") ? "l bad" : "l", state);
    td_text(o, "wrap", pr && pr->fn ? pr->fn : "");
    g_string_append(o, "</tr>\n");
    g_free(g);
  }
  g_string_append(o, "</table>\n");
  if (rows->len > HTML_MAX_ROWS)
    g_string_append_printf(o, "<p class=\"note\">%u more processes not listed.</p>\n", rows->len - HTML_MAX_ROWS);
  g_string_append(o, "<p class=\"note\">Delivered: arrived in the process's input queue. Received: taken out of it "
                     "(a C process takes messages on delivery).</p></section>\n");
  g_ptr_array_unref(rows);
}

static void latency_td(GString *o, DsimLinkStats *l, guint per_mille) {
  char b[DSIM_TIME_BUF];
  if (!dsim_histogram_count(l->latency)) {
    g_string_append(o, "<td>-</td>");
    return;
  }
  guint64 v = per_mille > 1000 ? dsim_histogram_max(l->latency) : dsim_histogram_percentile(l->latency, per_mille);
  g_string_append_printf(o, "<td>%s</td>", dsim_fmt_duration((gint64)v, b));
}

static void links_table(GString *o, DsimSummary *s) {
  GPtrArray *rows = dsim_summary_link_rows(s);
  g_string_append_printf(o, "<section id=\"links\"><h2>Links (%u)</h2>\n<table><tr>", rows->len);
  th(o, "l", "sender → receiver");
  th(o, NULL, "sent");
  th(o, NULL, "delivered");
  th(o, NULL, "dropped");
  th(o, NULL, "duplicated");
  th(o, NULL, "corrupted");
  th(o, NULL, "latency p50");
  th(o, NULL, "p99");
  th(o, NULL, "max");
  g_string_append(o, "</tr>\n");
  for (guint i = 0; i < rows->len && i < HTML_MAX_ROWS; i++) {
    DsimLinkStats *l = g_ptr_array_index(rows, i);
    g_string_append_printf(o, "<tr><td class=\"l\">%" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT "</td>", l->src, l->dst);
    td_num(o, l->sent);
    td_num(o, l->delivered);
    td_num(o, l->dropped);
    td_num(o, l->duplicated);
    td_num(o, l->corrupted);
    latency_td(o, l, 500);
    latency_td(o, l, 990);
    latency_td(o, l, 1001);
    g_string_append(o, "</tr>\n");
  }
  g_string_append(o, "</table>\n");
  if (rows->len > HTML_MAX_ROWS)
    g_string_append_printf(o, "<p class=\"note\">%u more links not listed.</p>\n", rows->len - HTML_MAX_ROWS);
  g_string_append(o, "<p class=\"note\">Latency: delivery time minus send time of each delivered copy; exact up to "
                     "256 copies per link, within 0.8% beyond.</p></section>\n");
  g_ptr_array_unref(rows);
}

/* Shown only when some link saw a fault, like the text summary's table. */
static void link_faults_table(GString *o, DsimSummary *s) {
  static const char *const heads[DSIM_LF_COUNT] = {"lost (random)", "partition", "link down", "too big",
                                                   "dropped by a rule", "duplicated", "corrupted",
                                                   "delayed by a rule", "held"};
  GPtrArray *rows = dsim_summary_link_fault_rows(s);
  if (rows->len) {
    g_string_append_printf(o, "<section id=\"link-faults\"><h2>Link faults (%u)</h2>\n<table><tr>", rows->len);
    th(o, "l", "sender → receiver");
    for (guint k = 0; k < DSIM_LF_COUNT; k++) th(o, NULL, heads[k]);
    g_string_append(o, "</tr>\n");
    for (guint i = 0; i < rows->len && i < HTML_MAX_ROWS; i++) {
      DsimLinkStats *l = g_ptr_array_index(rows, i);
      g_string_append_printf(o, "<tr><td class=\"l\">%" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT "</td>", l->src,
                             l->dst);
      for (guint k = 0; k < DSIM_LF_COUNT; k++) td_num(o, l->faults[k]);
      g_string_append(o, "</tr>\n");
    }
    g_string_append(o, "</table>\n");
    if (rows->len > HTML_MAX_ROWS)
      g_string_append_printf(o, "<p class=\"note\">%u more links not listed.</p>\n", rows->len - HTML_MAX_ROWS);
    g_string_append(o, "<p class=\"note\">Copies of messages each injected fault touched. The first five columns "
                       "are drops by reason; held: copies that waited in the network, for a hold or for a paused "
                       "receiver.</p></section>\n");
  }
  g_ptr_array_unref(rows);
}

static void proc_faults_table(GString *o, DsimSummary *s) {
  GPtrArray *rows = dsim_summary_proc_fault_rows(s);
  if (rows->len) {
    g_string_append_printf(o, "<section id=\"process-faults\"><h2>Process faults (%u)</h2>\n<table><tr>", rows->len);
    th(o, NULL, "pid");
    th(o, NULL, "crashes");
    th(o, NULL, "restarts");
    th(o, NULL, "pauses");
    th(o, NULL, "time paused");
    th(o, NULL, "clock changes");
    th(o, NULL, "writes lost");
    th(o, NULL, "writes torn");
    g_string_append(o, "</tr>\n");
    for (guint i = 0; i < rows->len && i < HTML_MAX_ROWS; i++) {
      DsimProcStats *p = g_ptr_array_index(rows, i);
      char b[DSIM_TIME_BUF];
      g_string_append(o, "<tr>");
      td_num(o, p->pid);
      td_num(o, p->crashes);
      td_num(o, p->restarts);
      td_num(o, p->pauses);
      g_string_append_printf(o, "<td>%s</td>", p->pauses ? dsim_fmt_duration(p->paused_ns, b) : "-");
      td_num(o, p->clocks);
      td_num(o, p->stable_lost);
      td_num(o, p->stable_torn);
      g_string_append(o, "</tr>\n");
    }
    g_string_append(o, "</table>\n");
    if (rows->len > HTML_MAX_ROWS)
      g_string_append_printf(o, "<p class=\"note\">%u more processes not listed.</p>\n", rows->len - HTML_MAX_ROWS);
    g_string_append(o, "<p class=\"note\">Writes lost or torn: stable-storage writes not yet synced that a crash "
                       "lost, or cut short.</p></section>\n");
  }
  g_ptr_array_unref(rows);
}

static void faults_table(GString *o, DsimSummary *s) {
  g_string_append_printf(o, "<section id=\"faults\"><h2>Faults and network changes (%" G_GUINT64_FORMAT ")</h2>\n",
                         (guint64)s->timeline->len + s->timeline_more);
  if (!s->timeline->len) {
    g_string_append(o, "<p class=\"note\">None.</p></section>\n");
    return;
  }
  g_string_append(o, "<table><tr>");
  th(o, NULL, "time");
  th(o, "l", "what");
  th(o, "l", "details");
  th(o, NULL, "trace line");
  g_string_append(o, "</tr>\n");
  for (guint i = 0; i < s->timeline->len; i++) {
    DsimTimelineEntry *e = g_ptr_array_index(s->timeline, i);
    char b[DSIM_TIME_BUF];
    g_string_append_printf(o, "<tr><td>%s</td>", dsim_fmt_time(e->t, b));
    td_text(o, e->bad ? "l bad" : "l", e->what);
    td_text(o, "wrap", e->text);
    td_num(o, e->line);
    g_string_append(o, "</tr>\n");
  }
  g_string_append(o, "</table>\n");
  if (s->timeline_more)
    g_string_append_printf(o, "<p class=\"note\">%" G_GUINT64_FORMAT " more not listed.</p>\n", s->timeline_more);
  g_string_append(o, "</section>\n");
}

static void checks_table(GString *o, DsimSummary *s) {
  g_string_append_printf(o,
                         "<section id=\"checks\"><h2>Checks: <span class=\"good\">%" G_GUINT64_FORMAT
                         " passed</span>, <span class=\"%s\">%" G_GUINT64_FORMAT " failed</span></h2>\n",
                         s->checks_passed, s->checks_failed ? "bad" : "good", s->checks_failed);
  if (!s->checks->len) {
    g_string_append(o, "<p class=\"note\">No check was made.</p></section>\n");
    return;
  }
  g_string_append(o, "<table><tr>");
  th(o, "l", "outcome");
  th(o, NULL, "time");
  th(o, "l", "by");
  th(o, "l", "message");
  th(o, "l", "where");
  th(o, NULL, "trace line");
  g_string_append(o, "</tr>\n");
  for (guint i = 0; i < s->checks->len; i++) {
    DsimCheckEntry *c = g_ptr_array_index(s->checks, i);
    char b[DSIM_TIME_BUF], by[32];
    g_snprintf(by, sizeof by, c->pid ? "pid %" G_GUINT64_FORMAT : "scenario code", c->pid);
    g_string_append(o, "<tr>");
    td_text(o, c->ok ? "l good" : "l bad", c->ok ? "ok" : "FAILED");
    g_string_append_printf(o, "<td>%s</td>", dsim_fmt_time(c->t, b));
    td_text(o, "l", by);
    td_text(o, "wrap", c->msg);
    td_text(o, "l", c->where ? c->where : "");
    td_num(o, c->line);
    g_string_append(o, "</tr>\n");
  }
  g_string_append(o, "</table>\n");
  if (s->checks_more)
    g_string_append_printf(o, "<p class=\"note\">%" G_GUINT64_FORMAT " more not listed.</p>\n", s->checks_more);
  g_string_append(o, "</section>\n");
}

/* ---------------------------------------------------------------- page */

typedef struct {
  gboolean found;
  DsimCausalTarget target;
  char *text;           /* the failed check, described */
  gboolean scenario_failure; /* a check failed in scenario code (pid 0) */
} Causal;

static void overview(GString *o, DsimSummary *s, const DsimDiagram *d) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF], b3[DSIM_TIME_BUF];
  GString *v = g_string_new(NULL);
  g_string_append(o, "<section id=\"overview\"><dl class=\"facts\">\n");
  fact(o, "scenario", s->scenario);
  g_string_printf(v, "%" G_GUINT64_FORMAT, s->seed);
  fact(o, "seed", v->str);
  fact(o, "network", s->net_text);
  if (s->windowed) {
    g_string_printf(v, "%s to %s (events outside are not counted or drawn)",
                    s->from_ns == G_MININT64 ? "start" : dsim_fmt_time(s->from_ns, b1),
                    s->to_ns == G_MAXINT64 ? "end" : dsim_fmt_time(s->to_ns, b2));
    fact(o, "window", v->str);
  }
  if (s->filter_text) {
    g_string_printf(v, "%s, and messages to or from them", s->filter_text);
    fact(o, "only", v->str);
  }
  if (s->has_end)
    g_string_printf(v, "%s at %s after %" G_GUINT64_FORMAT " kernel events", s->end_reason, dsim_fmt_time(s->end_t, b1),
                    s->end_events);
  else if (s->complete)
    g_string_assign(v, "no end line: the run was cut short");
  else
    g_string_assign(v, "not read (the window stops before it)");
  fact(o, "end", v->str);
  g_string_printf(v, "%" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " delivered, %" G_GUINT64_FORMAT
                     " received, %" G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT " duplicated, %" G_GUINT64_FORMAT
                     " corrupted, %" G_GUINT64_FORMAT " receive timeouts",
                  s->sent, s->delivered, s->received, s->dropped, s->duplicated, s->corrupted, s->timeouts);
  fact(o, "messages", v->str);
  char *drops = dsim_summary_drop_text(s);
  if (drops) fact(o, "drops by reason", drops);
  g_free(drops);
  if (dsim_histogram_count(s->latency)) {
    g_string_printf(v, "p50 %s, p99 %s, max %s", dsim_fmt_duration((gint64)dsim_histogram_percentile(s->latency, 500), b1),
                    dsim_fmt_duration((gint64)dsim_histogram_percentile(s->latency, 990), b2),
                    dsim_fmt_duration((gint64)dsim_histogram_max(s->latency), b3));
    fact(o, "latency", v->str);
  }
  g_string_printf(v, "%" G_GUINT64_FORMAT " passed, %" G_GUINT64_FORMAT " failed", s->checks_passed, s->checks_failed);
  fact(o, "checks", v->str);
  g_string_printf(v, "%" G_GUINT64_FORMAT " events shown", s->events);
  if (s->events)
    g_string_append_printf(v, ", from %s to %s", dsim_fmt_time(s->first_t, b1), dsim_fmt_time(s->last_t, b2));
  g_string_append_printf(v, "; %" G_GUINT64_FORMAT " drawn in the diagram", dsim_diagram_items(d));
  fact(o, "events", v->str);
  if (s->digest) {
    g_string_printf(v, "sha256:%s", s->digest);
    fact(o, "digest", v->str);
  }
  g_string_append(o, "</dl>\n");
  if (s->end_mismatch) {
    g_string_append(o, "<p class=\"warn\">The end line disagrees with the trace: ");
    esc(o, s->end_mismatch);
    g_string_append(o, "</p>\n");
  }
  g_string_append(o, "</section>\n");
  g_string_free(v, TRUE);
}

/* Second pass, when the first one stopped keeping items before the target:
 * read the window again and keep only the target's causal past. */
static DsimDiagram *causal_pass(const char *path, const DsimReportOptions *o, DsimFilter *f, const DsimCausalTarget *target,
                                GError **error) {
  DsimTraceReader *r = dsim_report_open(path, o, error);
  if (!r) return NULL;
  DsimTracker *tk = dsim_tracker_new();
  DsimCausal *c = dsim_causal_new();
  DsimDiagram *d = dsim_diagram_new(o->diagram_limit, TRUE);
  dsim_diagram_set_causal_filter(d, target);
  DsimTraceEvent ev;
  GError *e = NULL;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    if (ev.line > target->line) break;
    gboolean in_window = ev.t >= o->from_ns;
    if (in_window) dsim_diagram_begin(d, tk);
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    if (in_window) {
      guint64 host = 0;
      guint32 seq = 0;
      gboolean has = dsim_causal_apply(c, &ev, tk, copy, &host, &seq);
      dsim_diagram_add(d, &ev, tk, copy, f, has, host, seq);
    }
    dsim_tracker_release(tk, &ev, copy);
  }
  dsim_causal_free(c);
  dsim_tracker_free(tk);
  dsim_trace_reader_free(r);
  if (e) {
    g_propagate_error(error, e);
    dsim_diagram_free(d);
    return NULL;
  }
  return d;
}

gboolean dsim_report_html(const char *path, const DsimReportOptions *o, FILE *out, GError **error) {
  DsimTraceReader *r = dsim_report_open(path, o, error);
  if (!r) return FALSE;
  DsimTracker *tk = dsim_tracker_new();
  DsimCausal *causal = dsim_causal_new();
  DsimFilter f;
  dsim_filter_init(&f, o);
  DsimSummary *s = dsim_summary_new(r, o);
  DsimDiagram *d = dsim_diagram_new(o->diagram_limit, FALSE);
  DsimDiagram *past = NULL;
  Causal cz = {0};
  DsimTraceEvent ev;
  GError *e = NULL;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    gboolean in_window = ev.t >= o->from_ns;
    if (in_window) dsim_diagram_begin(d, tk);
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    if (in_window) {
      guint64 host = 0;
      guint32 seq = 0;
      gboolean has = dsim_causal_apply(causal, &ev, tk, copy, &host, &seq);
      dsim_summary_add(s, &ev, tk, copy, &f);
      dsim_diagram_add(d, &ev, tk, copy, &f, has, host, seq);
      if (ev.kind == DSIM_EV_CHECK && !ev.ok && !cz.found && dsim_filter_match(&f, tk, ev.pid)) {
        if (ev.pid == 0) {
          cz.scenario_failure = TRUE;
        } else {
          cz.found = TRUE;
          cz.target.host = host;
          cz.target.line = ev.line;
          cz.target.t = ev.t;
          cz.target.clock = g_array_new(FALSE, FALSE, sizeof(guint64));
          dsim_causal_clock(causal, host, cz.target.clock);
          GString *t = g_string_new(NULL);
          dsim_describe_event(t, &ev);
          cz.text = g_string_free(t, FALSE);
        }
      }
    }
    dsim_tracker_release(tk, &ev, copy);
  }
  gboolean ok = e == NULL;
  if (ok) dsim_summary_finish(s, r, tk, &f);
  /* The first pass stopped keeping items before the failed check: read
   * again for its causal past. Standard input cannot be read twice; the
   * page then draws the part of the past the first pass kept, and says so. */
  gboolean past_cut = FALSE;
  if (ok && cz.found && dsim_diagram_first_missing_line(d) <= cz.target.line) {
    if (strcmp(path, "-") == 0) {
      past_cut = TRUE;
    } else {
      past = causal_pass(path, o, &f, &cz.target, &e);
      ok = past != NULL;
    }
  }
  if (ok) {
    GString *h = g_string_sized_new(1 << 16);
    char b1[DSIM_TIME_BUF];
    g_string_append(h, "<!DOCTYPE html>\n<html lang=\"en\" data-errors=\"0\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
                       "'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>dsim report: ");
    esc(h, s->scenario[0] ? s->scenario : s->path);
    g_string_append_printf(h, " (seed %" G_GUINT64_FORMAT ")</title>\n<script>\n%s</script>\n<style>\n%s</style>\n</head>\n<body>\n",
                           s->seed, ERROR_COUNTER_JS, PAGE_CSS);
    g_string_append(h, "<h1>dsim report</h1>\n<nav><a href=\"#diagram\">diagram</a>");
    if (cz.found || cz.scenario_failure) g_string_append(h, "<a href=\"#causal\">causal past of the failure</a>");
    g_string_append(h, "<a href=\"#charts\">charts</a><a href=\"#processes\">processes</a><a href=\"#links\">links</a>"
                       "<a href=\"#faults\">faults</a><a href=\"#checks\">checks</a></nav>\n");
    overview(h, s, d);

    g_string_append(h, "<section id=\"diagram\"><h2>Space-time diagram</h2>\n");
    g_string_append_printf(h, "<p class=\"note\">One line per process; %" G_GUINT64_FORMAT " messages delivered, "
                              "%" G_GUINT64_FORMAT " events drawn. Columns follow the order of the trace; the labels "
                              "above give virtual time.</p>\n",
                           dsim_diagram_arrows(d), dsim_diagram_items(d));
    if (dsim_diagram_truncated(d))
      g_string_append_printf(h, "<p class=\"warn\">The diagram stops after %u events (trace line %" G_GUINT64_FORMAT
                                "): use --from/--to, --pid or --group to look at the rest, or --diagram-limit.</p>\n",
                             o->diagram_limit, dsim_diagram_first_missing_line(d));
    legend(h);
    g_string_append(h, "<div class=\"scroll\">\n");
    dsim_diagram_write_svg(d, tk, &f, NULL, "main", h);
    g_string_append(h, "</div></section>\n");

    if (cz.found) {
      g_string_append(h, "<section id=\"causal\"><h2>Causal past of the first failed check</h2>\n<p>");
      esc(h, cz.text);
      g_string_append_printf(h, " at %s (trace line %" G_GUINT64_FORMAT ").</p>\n", dsim_fmt_time(cz.target.t, b1),
                             cz.target.line);
      g_string_append(h, "<p class=\"note\">Only what could have influenced it: events of a process up to the last one "
                         "the failing process could know of, through messages it received (happens-before over "
                         "send, delivery and receive, and each process's own order). Partitions and heals before it "
                         "are kept as context.</p>\n");
      if (past_cut)
        g_string_append(h, "<p class=\"warn\">The trace came from standard input, which cannot be read twice: only the "
                           "part of the causal past inside the diagram above is drawn.</p>\n");
      if (past && dsim_diagram_truncated(past))
        g_string_append_printf(h, "<p class=\"warn\">The causal past holds more than %u events: the last ones are "
                                  "drawn.</p>\n",
                               o->diagram_limit);
      g_string_append(h, "<div class=\"scroll\">\n");
      dsim_diagram_write_svg(past ? past : d, tk, &f, &cz.target, "past", h);
      g_string_append(h, "</div></section>\n");
    } else if (cz.scenario_failure) {
      g_string_append(h, "<section id=\"causal\"><h2>Causal past of the failed check</h2>\n<p class=\"note\">The first "
                         "failed check ran in scenario code (sim.finally, sim.at, ...), which reads every process's "
                         "state directly rather than through messages: everything before it is its causal past, which "
                         "is the diagram above. A check made inside a process gets a narrower view here.</p>"
                         "</section>\n");
    }

    g_string_append(h, "<section id=\"charts\"><h2>Latency and message rate</h2><div class=\"charts\">\n<div>");
    dsim_chart_latency(s->latency, h);
    g_string_append(h, "</div>\n<div>");
    dsim_chart_rate(&s->rate, h);
    g_string_append(h, "</div></div></section>\n");
    procs_table(h, s, tk);
    links_table(h, s);
    link_faults_table(h, s);
    proc_faults_table(h, s);
    faults_table(h, s);
    checks_table(h, s);
    g_string_append(h, "<footer><p class=\"note\">Made by dsim report from ");
    esc(h, s->path);
    g_string_append_printf(h, " (trace format %" G_GINT64_FORMAT ", written by ", s->version);
    esc(h, s->generator[0] ? s->generator : "an unknown writer");
    g_string_append_printf(h, ").</p></footer>\n<script>\n%s</script>\n</body>\n</html>\n", PAGE_JS);
    fwrite(h->str, 1, h->len, out);
    g_string_free(h, TRUE);
    ok = dsim_report_check_output(out, &e);
  }
  if (e) g_propagate_error(error, e);
  if (cz.target.clock) g_array_unref(cz.target.clock);
  g_free(cz.text);
  dsim_diagram_free(past);
  dsim_diagram_free(d);
  dsim_summary_free(s);
  dsim_filter_clear(&f);
  dsim_causal_free(causal);
  dsim_tracker_free(tk);
  dsim_trace_reader_free(r);
  return ok;
}
