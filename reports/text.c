/* text.c — the terminal summary.
 *
 * Every line fits in 80 columns: cells are padded and cut by characters
 * (UTF-8 aware), not bytes, and the free-text column of each table is cut
 * to what is left. Colour (bold headings, red failures, green passes) is
 * added around cells after they are cut, and only when asked for (the CLI
 * asks when standard output is a terminal). Tables longer than max_rows
 * show their busiest rows, in pid order, and say how many were left out. */
#include "reports_internal.h"

#include <string.h>

#define WIDTH 80

typedef struct {
  FILE *out;
  gboolean color;
  GString *line;
} Text;

static const char *c_on(Text *t, const char *code) {
  return t->color ? code : "";
}
static const char *c_off(Text *t) {
  return t->color ? "\033[0m" : "";
}
#define BOLD "\033[1m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"

/* Appends s padded or cut to exactly width characters. */
static void cell(GString *out, const char *s, guint width, gboolean right) {
  glong n = g_utf8_strlen(s, -1);
  if ((guint)n > width) {
    const char *end = g_utf8_offset_to_pointer(s, width > 3 ? width - 3 : width);
    g_string_append_len(out, s, end - s);
    if (width > 3) g_string_append(out, "...");
    return;
  }
  if (right)
    for (glong i = n; i < (glong)width; i++) g_string_append_c(out, ' ');
  g_string_append(out, s);
  if (!right)
    for (glong i = n; i < (glong)width; i++) g_string_append_c(out, ' ');
}

static void num_cell(GString *out, guint64 v, guint width) {
  char buf[24];
  g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, v);
  cell(out, buf, width, TRUE);
}

/* Appends s cut so that the line does not pass WIDTH columns. */
static void rest(GString *line, const char *s) {
  glong used = g_utf8_strlen(line->str, -1);
  if (used >= WIDTH) return;
  guint room = (guint)(WIDTH - used);
  if ((guint)g_utf8_strlen(s, -1) <= room)
    g_string_append(line, s);
  else
    cell(line, s, room, FALSE);
}

static void flush(Text *t) {
  /* trailing spaces are noise in a terminal and in diffs */
  while (t->line->len && t->line->str[t->line->len - 1] == ' ') g_string_truncate(t->line, t->line->len - 1);
  fputs(t->line->str, t->out);
  fputc('\n', t->out);
  g_string_truncate(t->line, 0);
}

/* Ends a table: how many rows were left out, then the legend lines
 * (NULL-terminated; NULL for none). */
static void table_end(Text *t, guint left, const char *const *legend) {
  if (left) {
    g_string_append_printf(t->line, "  ... %u more (the busiest are shown; --all shows every row)", left);
    flush(t);
  }
  for (; legend && *legend; legend++) {
    g_string_append(t->line, *legend);
    flush(t);
  }
}

/* "label     value", the value cut to the line. */
static void field(Text *t, const char *label, const char *value) {
  cell(t->line, label, 10, FALSE);
  rest(t->line, value);
  flush(t);
}

/* Prints the line in colour code (NULL: none), if colours are on. */
static void flush_in(Text *t, const char *code) {
  if (!code || !t->color) {
    flush(t);
    return;
  }
  fprintf(t->out, "%s%s%s\n", code, t->line->str, c_off(t));
  g_string_truncate(t->line, 0);
}

/* "label     value" over as many lines as the value needs, broken after
 * ", " or "; " (a list must not lose its tail to the 80-column cut). */
static void field_wrapped(Text *t, const char *label, const char *value, const char *code) {
  const char *p = value;
  gboolean first = TRUE;
  while (*p) {
    cell(t->line, first ? label : "", 10, FALSE);
    first = FALSE;
    guint room = WIDTH - 10;
    const char *end = p, *cut = NULL;
    for (guint n = 0; *end && n < room; n++) end = g_utf8_next_char(end);
    if (!*end) {
      g_string_append(t->line, p);
      flush_in(t, code);
      return;
    }
    /* the last separator that fits; a line with none is cut as usual */
    for (const char *q = p; q + 1 < end; q++)
      if ((q[0] == ',' || q[0] == ';') && q[1] == ' ') cut = q + 1;
    if (!cut) {
      rest(t->line, p);
      flush_in(t, code);
      return;
    }
    g_string_append_len(t->line, p, cut - p);
    flush_in(t, code);
    p = cut + 1;
  }
}

static void heading(Text *t, const char *title, const char *extra) {
  fputc('\n', t->out);
  g_string_append(t->line, title);
  if (extra) {
    g_string_append(t->line, "  ");
    rest(t->line, extra);
  }
  /* colour the whole heading line after it was cut */
  fprintf(t->out, "%s%s%s\n", c_on(t, BOLD), t->line->str, c_off(t));
  g_string_truncate(t->line, 0);
}

/* ---------------------------------------------------------------- header */

static void write_header(Text *t, DsimSummary *s) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF];
  GString *v = g_string_new(NULL);
  g_string_append(t->line, "dsim report  ");
  rest(t->line, s->path);
  fprintf(t->out, "%s%s%s\n", c_on(t, BOLD), t->line->str, c_off(t));
  g_string_truncate(t->line, 0);
  field(t, "scenario", s->scenario[0] ? s->scenario : "(not recorded)");
  g_string_printf(v, "%" G_GUINT64_FORMAT "   (%s, trace format %" G_GINT64_FORMAT ")", s->seed,
                  s->generator[0] ? s->generator : "unknown writer", s->version);
  field(t, "seed", v->str);
  field(t, "network", s->net_text);
  if (s->windowed) {
    g_string_printf(v, "%s .. %s (events outside are not counted)",
                    s->from_ns == G_MININT64 ? "start" : dsim_fmt_time(s->from_ns, b1),
                    s->to_ns == G_MAXINT64 ? "end" : dsim_fmt_time(s->to_ns, b2));
    field(t, "window", v->str);
  }
  if (s->filter_text) {
    g_string_printf(v, "%s (and messages to or from them)", s->filter_text);
    field(t, "only", v->str);
  }
  if (s->has_end) {
    g_string_printf(v, "%s at %s, after %" G_GUINT64_FORMAT " kernel events", s->end_reason, dsim_fmt_time(s->end_t, b1),
                    s->end_events);
    field(t, "end", v->str);
  } else if (s->complete) {
    g_string_printf(v, "no end line: the run was cut short (last event at %s)",
                    s->last_t >= 0 ? dsim_fmt_time(s->last_t, b1) : "-");
    field(t, "end", v->str);
  } else {
    field(t, "end", "not read (the window stops before it)");
  }
  g_string_printf(v, "%" G_GUINT64_FORMAT " event%s shown", s->events, s->events == 1 ? "" : "s");
  if (s->events)
    g_string_append_printf(v, ", from %s to %s", dsim_fmt_time(s->first_t, b1), dsim_fmt_time(s->last_t, b2));
  if (s->complete) g_string_append_printf(v, "; %" G_GUINT64_FORMAT " lines", s->lines);
  field(t, "events", v->str);
  if (s->digest) {
    /* the SHA-256 that dsim run prints; "sha256:" would not fit in 80 columns */
    field(t, "digest", s->digest);
  } else {
    field(t, "digest", "not computed (only the whole trace has one)");
  }
  if (s->end_mismatch) {
    g_string_printf(v, "the end line disagrees with the trace: %s", s->end_mismatch);
    field_wrapped(t, "warning", v->str, YELLOW);
  }
  g_string_free(v, TRUE);
}

static void write_messages(Text *t, DsimSummary *s) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF], b3[DSIM_TIME_BUF];
  GString *v = g_string_new(NULL);
  g_string_printf(v,
                  "%" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " delivered, %" G_GUINT64_FORMAT
                  " received, %" G_GUINT64_FORMAT " dropped",
                  s->sent, s->delivered, s->received, s->dropped);
  field(t, "messages", v->str);
  char *drops = dsim_summary_drop_text(s);
  if (drops) {
    g_string_printf(v, "dropped by reason: %s", drops);
    field_wrapped(t, "", v->str, NULL);
    g_free(drops);
  }
  g_string_printf(v,
                  "%" G_GUINT64_FORMAT " duplicated, %" G_GUINT64_FORMAT " corrupted, %" G_GUINT64_FORMAT
                  " receive timeouts",
                  s->duplicated, s->corrupted, s->timeouts);
  field(t, "", v->str);
  g_string_printf(v, "at the end: %" G_GUINT64_FORMAT " on the network, %" G_GUINT64_FORMAT " waiting in input queues",
                  s->in_flight, s->queued);
  field(t, "", v->str);
  guint64 n = dsim_histogram_count(s->latency);
  if (n) {
    g_string_printf(v, "p50 %s  p99 %s  max %s  (%" G_GUINT64_FORMAT " deliveries, %s)",
                    dsim_fmt_duration((gint64)dsim_histogram_percentile(s->latency, 500), b1),
                    dsim_fmt_duration((gint64)dsim_histogram_percentile(s->latency, 990), b2),
                    dsim_fmt_duration((gint64)dsim_histogram_max(s->latency), b3), n,
                    dsim_histogram_is_exact(s->latency) ? "exact" : "within 0.8%");
    field(t, "latency", v->str);
  }
  char *other = dsim_summary_other_text(s);
  if (other) {
    g_string_printf(v, "event kinds this dsim does not know: %s", other);
    field(t, "other", v->str);
    g_free(other);
  }
  g_string_free(v, TRUE);
}

/* ---------------------------------------------------------------- tables */

typedef struct {
  gpointer row;
  guint64 weight;
  guint index;
} Ranked;

static gint cmp_ranked(gconstpointer a, gconstpointer b) {
  const Ranked *x = a, *y = b;
  if (x->weight != y->weight) return x->weight > y->weight ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static gint cmp_index(gconstpointer a, gconstpointer b) {
  const Ranked *x = a, *y = b;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Keeps the max rows with the largest weight(row), in their original order;
 * returns how many were left out. */
static guint keep_busiest(GPtrArray *rows, guint64 (*weight)(gconstpointer row), guint max) {
  if (max == 0 || rows->len <= max) return 0;
  GArray *r = g_array_sized_new(FALSE, FALSE, sizeof(Ranked), rows->len);
  for (guint i = 0; i < rows->len; i++) {
    Ranked k = {g_ptr_array_index(rows, i), weight(g_ptr_array_index(rows, i)), i};
    g_array_append_val(r, k);
  }
  g_array_sort(r, cmp_ranked);
  g_array_set_size(r, max);
  g_array_sort(r, cmp_index);
  guint left = rows->len - max;
  g_ptr_array_set_size(rows, 0);
  for (guint i = 0; i < r->len; i++) g_ptr_array_add(rows, g_array_index(r, Ranked, i).row);
  g_array_unref(r);
  return left;
}

/* What ranks the rows of each table when only the busiest are shown. */
static guint64 proc_traffic(gconstpointer row) {
  const DsimProcStats *p = row;
  return p->sent + p->delivered;
}

static guint64 link_traffic(gconstpointer row) {
  return ((const DsimLinkStats *)row)->sent;
}

static guint64 link_faults(gconstpointer row) {
  return dsim_link_fault_total(row);
}

static guint64 proc_faults(gconstpointer row) {
  return dsim_proc_fault_total(row);
}

static void write_procs(Text *t, DsimSummary *s, DsimTracker *tk, guint max_rows) {
  GPtrArray *rows = dsim_summary_proc_rows(s);
  char extra[64];
  g_snprintf(extra, sizeof extra, "(%u)", rows->len);
  heading(t, "PROCESSES", extra);
  guint left = keep_busiest(rows, proc_traffic, max_rows);
  g_string_append(t->line, "  ");
  cell(t->line, "PID", 5, TRUE);
  g_string_append(t->line, "  ");
  cell(t->line, "GROUP", 12, FALSE);
  cell(t->line, "SENT", 8, TRUE);
  cell(t->line, "DELIV", 8, TRUE);
  cell(t->line, "RECV", 8, TRUE);
  cell(t->line, "DROPPED", 9, TRUE);
  cell(t->line, "TMOUT", 7, TRUE);
  g_string_append(t->line, "  END");
  flush(t);
  for (guint i = 0; i < rows->len; i++) {
    DsimProcStats *p = g_ptr_array_index(rows, i);
    g_string_append(t->line, "  ");
    num_cell(t->line, p->pid, 5);
    g_string_append(t->line, "  ");
    char *g = dsim_proc_groups_text(tk, p->pid);
    cell(t->line, g, 12, FALSE);
    g_free(g);
    num_cell(t->line, p->sent, 8);
    num_cell(t->line, p->delivered, 8);
    num_cell(t->line, p->received, 8);
    num_cell(t->line, p->dropped_to, 9);
    num_cell(t->line, p->timeouts, 7);
    g_string_append(t->line, "  ");
    rest(t->line, dsim_summary_end_state(s, tk, p->pid));
    flush(t);
  }
  table_end(t, left, (const char *const[]){
      "  DELIV: arrived in its input queue; RECV: taken by the process; DROPPED: lost",
      "  on the way to it; END: its state when the trace ends",
      NULL});
  g_ptr_array_unref(rows);
}

static void latency_cell(GString *line, DsimLinkStats *l, guint per_mille) {
  char b[DSIM_TIME_BUF];
  if (!dsim_histogram_count(l->latency)) {
    cell(line, "-", 9, TRUE);
    return;
  }
  guint64 v = per_mille > 1000 ? dsim_histogram_max(l->latency) : dsim_histogram_percentile(l->latency, per_mille);
  cell(line, dsim_fmt_duration((gint64)v, b), 9, TRUE);
}

static void write_links(Text *t, DsimSummary *s, guint max_rows) {
  GPtrArray *rows = dsim_summary_link_rows(s);
  char extra[64];
  g_snprintf(extra, sizeof extra, "(%u, sender->receiver)", rows->len);
  heading(t, "LINKS", extra);
  guint left = keep_busiest(rows, link_traffic, max_rows);
  g_string_append(t->line, "  ");
  cell(t->line, "LINK", 13, FALSE);
  cell(t->line, "SENT", 7, TRUE);
  cell(t->line, "DELIV", 7, TRUE);
  cell(t->line, "DROP", 7, TRUE);
  cell(t->line, "DUP", 6, TRUE);
  cell(t->line, "CORR", 6, TRUE);
  cell(t->line, "P50", 9, TRUE);
  cell(t->line, "P99", 9, TRUE);
  cell(t->line, "MAX", 9, TRUE);
  flush(t);
  for (guint i = 0; i < rows->len; i++) {
    DsimLinkStats *l = g_ptr_array_index(rows, i);
    char name[48];
    g_snprintf(name, sizeof name, "%" G_GUINT64_FORMAT "->%" G_GUINT64_FORMAT, l->src, l->dst);
    g_string_append(t->line, "  ");
    cell(t->line, name, 13, FALSE);
    num_cell(t->line, l->sent, 7);
    num_cell(t->line, l->delivered, 7);
    num_cell(t->line, l->dropped, 7);
    num_cell(t->line, l->duplicated, 6);
    num_cell(t->line, l->corrupted, 6);
    latency_cell(t->line, l, 500);
    latency_cell(t->line, l, 990);
    latency_cell(t->line, l, 1001);
    flush(t);
  }
  table_end(t, left, NULL);
  g_ptr_array_unref(rows);
}

/* Only links that saw a fault; the columns are fixed so that the table
 * reads the same from one trace to the next. */
static void write_link_faults(Text *t, DsimSummary *s, guint max_rows) {
  static const char *const heads[DSIM_LF_COUNT] = {"LOSS", "PART", "DOWN", "BIG", "RULE", "DUP", "CORR", "DELAY", "HELD"};
  GPtrArray *rows = dsim_summary_link_fault_rows(s);
  if (rows->len == 0) {
    g_ptr_array_unref(rows);
    return;
  }
  char extra[64];
  g_snprintf(extra, sizeof extra, "(%u, sender->receiver: copies each fault touched)", rows->len);
  heading(t, "LINK FAULTS", extra);
  guint left = keep_busiest(rows, link_faults, max_rows);
  g_string_append(t->line, "  ");
  cell(t->line, "LINK", 11, FALSE);
  for (guint k = 0; k < DSIM_LF_COUNT; k++) cell(t->line, heads[k], 7, TRUE);
  flush(t);
  for (guint i = 0; i < rows->len; i++) {
    DsimLinkStats *l = g_ptr_array_index(rows, i);
    char name[48];
    g_snprintf(name, sizeof name, "%" G_GUINT64_FORMAT "->%" G_GUINT64_FORMAT, l->src, l->dst);
    g_string_append(t->line, "  ");
    cell(t->line, name, 11, FALSE);
    for (guint k = 0; k < DSIM_LF_COUNT; k++) num_cell(t->line, l->faults[k], 7);
    flush(t);
  }
  table_end(t, left, (const char *const[]){
      "  drops: LOSS random, PART partition, DOWN link down, BIG too big, RULE a rule;",
      "  DUP duplicated, CORR corrupted, DELAY delayed by a rule, HELD kept by a hold",
      "  or for a paused receiver",
      NULL});
  g_ptr_array_unref(rows);
}

static void write_proc_faults(Text *t, DsimSummary *s, guint max_rows) {
  GPtrArray *rows = dsim_summary_proc_fault_rows(s);
  if (rows->len == 0) {
    g_ptr_array_unref(rows);
    return;
  }
  char extra[64];
  g_snprintf(extra, sizeof extra, "(%u)", rows->len);
  heading(t, "PROCESS FAULTS", extra);
  guint left = keep_busiest(rows, proc_faults, max_rows);
  g_string_append(t->line, "  ");
  cell(t->line, "PID", 5, TRUE);
  cell(t->line, "CRASH", 8, TRUE);
  cell(t->line, "RESTART", 9, TRUE);
  cell(t->line, "PAUSE", 8, TRUE);
  cell(t->line, "PAUSED", 10, TRUE);
  cell(t->line, "CLOCK", 8, TRUE);
  cell(t->line, "LOST", 8, TRUE);
  cell(t->line, "TORN", 8, TRUE);
  flush(t);
  for (guint i = 0; i < rows->len; i++) {
    DsimProcStats *p = g_ptr_array_index(rows, i);
    char b[DSIM_TIME_BUF];
    g_string_append(t->line, "  ");
    num_cell(t->line, p->pid, 5);
    num_cell(t->line, p->crashes, 8);
    num_cell(t->line, p->restarts, 9);
    num_cell(t->line, p->pauses, 8);
    cell(t->line, p->pauses ? dsim_fmt_duration(p->paused_ns, b) : "-", 10, TRUE);
    num_cell(t->line, p->clocks, 8);
    num_cell(t->line, p->stable_lost, 8);
    num_cell(t->line, p->stable_torn, 8);
    flush(t);
  }
  table_end(t, left, (const char *const[]){
      "  PAUSED: time spent paused; CLOCK: clock changes; LOST, TORN: unsynced",
      "  stable-storage writes a crash lost or tore",
      NULL});
  g_ptr_array_unref(rows);
}

static void write_timeline(Text *t, DsimSummary *s, guint max_rows) {
  char extra[64];
  guint64 total = s->timeline->len + s->timeline_more;
  g_snprintf(extra, sizeof extra, "(%" G_GUINT64_FORMAT ")", total);
  heading(t, "FAULTS AND NETWORK CHANGES", extra);
  if (total == 0) {
    g_string_append(t->line, "  none");
    flush(t);
    return;
  }
  guint shown = 0;
  for (guint i = 0; i < s->timeline->len && (max_rows == 0 || shown < max_rows); i++, shown++) {
    DsimTimelineEntry *e = g_ptr_array_index(s->timeline, i);
    char b[DSIM_TIME_BUF];
    GString *head = g_string_new("  ");
    cell(head, dsim_fmt_time(e->t, b), 16, FALSE);
    GString *what = g_string_new(NULL);
    cell(what, e->what, 15, FALSE);
    g_string_append(t->line, head->str);
    g_string_append(t->line, what->str);
    rest(t->line, e->text);
    /* colour only the kind, which has a fixed width */
    if (t->color && e->bad) {
      fprintf(t->out, "%s%s%s%s%s\n", head->str, RED, what->str, c_off(t), t->line->str + head->len + what->len);
      g_string_truncate(t->line, 0);
    } else {
      flush(t);
    }
    g_string_free(head, TRUE);
    g_string_free(what, TRUE);
  }
  guint64 left = total - shown;
  if (left) {
    g_string_append_printf(t->line, "  ... %" G_GUINT64_FORMAT " more", left);
    flush(t);
  }
}

static void write_check(Text *t, DsimCheckEntry *c) {
  char b[DSIM_TIME_BUF], pid[32];
  const char *status = c->ok ? "ok" : "FAIL";
  GString *rest_text = g_string_new("  ");
  cell(rest_text, dsim_fmt_time(c->t, b), 16, FALSE);
  g_snprintf(pid, sizeof pid, c->pid ? "pid %" G_GUINT64_FORMAT : "scenario", c->pid);
  cell(rest_text, pid, 10, FALSE);
  g_string_append(t->line, "  ");
  cell(t->line, status, 4, FALSE);
  g_string_append(t->line, rest_text->str);
  GString *msg = g_string_new(NULL);
  dsim_append_clean(msg, c->msg, 400);
  if (c->where) {
    /* where it was checked, as file:line without the directories, if it fits */
    const char *slash = strrchr(c->where, '/');
    GString *with = g_string_new(msg->str);
    g_string_append(with, " (");
    dsim_append_clean(with, slash ? slash + 1 : c->where, 100);
    g_string_append_c(with, ')');
    if (g_utf8_strlen(t->line->str, -1) + g_utf8_strlen(with->str, -1) <= WIDTH) g_string_assign(msg, with->str);
    g_string_free(with, TRUE);
  }
  rest(t->line, msg->str);
  if (t->color) {
    fprintf(t->out, "  %s%s%s%s\n", c->ok ? GREEN : RED, c->ok ? "ok  " : "FAIL", c_off(t), t->line->str + 6);
    g_string_truncate(t->line, 0);
  } else {
    flush(t);
  }
  g_string_free(msg, TRUE);
  g_string_free(rest_text, TRUE);
}

static void write_checks(Text *t, DsimSummary *s, guint max_rows) {
  char extra[96];
  guint64 total = s->checks_passed + s->checks_failed;
  g_snprintf(extra, sizeof extra, "(%" G_GUINT64_FORMAT " passed, %" G_GUINT64_FORMAT " failed)", s->checks_passed,
             s->checks_failed);
  heading(t, "CHECKS", extra);
  if (total == 0) {
    g_string_append(t->line, "  none");
    flush(t);
    return;
  }
  /* all of them when they fit; otherwise the failures first */
  gboolean all = max_rows == 0 || (s->checks_more == 0 && total <= max_rows);
  guint shown = 0;
  for (guint i = 0; i < s->checks->len; i++) {
    DsimCheckEntry *c = g_ptr_array_index(s->checks, i);
    if (!all && c->ok) continue;
    if (max_rows && shown >= max_rows) break;
    write_check(t, c);
    shown++;
  }
  if (total > shown) {
    g_string_append_printf(t->line, "  ... %" G_GUINT64_FORMAT " more not listed (%s)", total - shown,
                           max_rows ? "--all lists them" : "a report keeps the first 200 of each outcome");
    flush(t);
  }
}

void dsim_text_write(DsimSummary *s, DsimTracker *tk, const DsimReportOptions *o, FILE *out) {
  Text t = {out, o->color, g_string_new(NULL)};
  write_header(&t, s);
  write_messages(&t, s);
  write_procs(&t, s, tk, o->max_rows);
  write_links(&t, s, o->max_rows);
  write_link_faults(&t, s, o->max_rows);
  write_proc_faults(&t, s, o->max_rows);
  write_timeline(&t, s, o->max_rows);
  write_checks(&t, s, o->max_rows);
  g_string_free(t.line, TRUE);
}
