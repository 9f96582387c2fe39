/* summary.c — the numbers of a report, gathered in one pass.
 *
 * Per-process and per-link counters live in hash tables whose size is the
 * number of processes and links; latencies go into bounded histograms
 * (histogram.c); the message rate into DSIM_RATE_BINS bins whose width
 * doubles whenever the trace outgrows them; the fault timeline and the
 * checks keep a bounded number of entries and count the rest. Rows are
 * sorted before anything is printed.
 *
 * What counts: events inside the window; with a process filter, message
 * events with a selected end, process events of selected processes, and
 * every network and scenario event. "corrupted" counts delivered copies
 * that were corrupted. RECV of a C process counts its deliveries (C
 * processes take messages on delivery and have no recv lines). */
#include "reports_internal.h"

#include <string.h>

#define CHECKS_KEPT 200

static guint link_hash(gconstpointer p) {
  const DsimLinkStats *l = p;
  return g_int64_hash(&l->src) * 31u + g_int64_hash(&l->dst);
}

static gboolean link_equal(gconstpointer a, gconstpointer b) {
  const DsimLinkStats *x = a, *y = b;
  return x->src == y->src && x->dst == y->dst;
}

static void link_free(gpointer p) {
  DsimLinkStats *l = p;
  dsim_histogram_free(l->latency);
  g_free(l);
}

static void timeline_free(gpointer p) {
  DsimTimelineEntry *e = p;
  g_free(e->what);
  g_free(e->text);
  g_free(e);
}

static void check_free(gpointer p) {
  DsimCheckEntry *c = p;
  g_free(c->msg);
  g_free(c->where);
  g_free(c);
}

DsimSummary *dsim_summary_new(const DsimTraceReader *r, const DsimReportOptions *o) {
  DsimSummary *s = g_new0(DsimSummary, 1);
  const DsimTraceHeader *h = dsim_trace_reader_header(r);
  s->path = g_strdup(dsim_trace_reader_path(r));
  s->scenario = g_strdup(h->scenario);
  s->generator = g_strdup(h->generator);
  s->seed = h->seed;
  s->max_events = h->max_events;
  s->has_until = h->has_until;
  s->until_ns = h->until_ns;
  GString *net = g_string_new(NULL);
  dsim_describe_net(net, h->net);
  s->net_text = g_string_free(net, FALSE);
  s->from_ns = o->from_ns;
  s->to_ns = o->to_ns;
  s->windowed = o->from_ns != G_MININT64 || o->to_ns != G_MAXINT64;
  if (o->n_pids || (o->groups && o->groups[0])) {
    GString *f = g_string_new(NULL);
    if (o->n_pids) {
      g_string_append(f, o->n_pids == 1 ? "pid " : "pids ");
      for (guint i = 0; i < o->n_pids; i++) g_string_append_printf(f, "%s%" G_GUINT64_FORMAT, i ? ", " : "", o->pids[i]);
    }
    if (o->groups && o->groups[0]) {
      g_string_append(f, o->n_pids ? "; subgroups " : "subgroups ");
      for (const char *const *g = o->groups; *g; g++) {
        if (g != o->groups) g_string_append(f, ", ");
        dsim_append_clean(f, *g, 40);
      }
    }
    s->filter_text = g_string_free(f, FALSE);
  }
  s->first_t = s->last_t = -1;
  s->drop_reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->other_kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->procs = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
  s->links = g_hash_table_new_full(link_hash, link_equal, NULL, link_free);
  s->latency = dsim_histogram_new();
  s->timeline = g_ptr_array_new_with_free_func(timeline_free);
  s->checks = g_ptr_array_new_with_free_func(check_free);
  s->blocked = g_array_new(FALSE, FALSE, sizeof(guint64));
  /* A window with both ends fixes the rate bins; otherwise they grow. */
  s->rate.width = 1000;
  if (o->from_ns != G_MININT64 && o->to_ns != G_MAXINT64) {
    s->rate.started = s->rate.fixed = TRUE;
    s->rate.origin = o->from_ns;
    gint64 span = o->to_ns - o->from_ns + 1; /* no overflow: 0 <= from <= to < G_MAXINT64 */
    s->rate.width = MAX((gint64)1, span / DSIM_RATE_BINS + (span % DSIM_RATE_BINS != 0));
  }
  return s;
}

void dsim_summary_free(DsimSummary *s) {
  if (!s) return;
  g_free(s->path);
  g_free(s->scenario);
  g_free(s->generator);
  g_free(s->net_text);
  g_free(s->digest);
  g_free(s->filter_text);
  g_hash_table_destroy(s->drop_reasons);
  g_hash_table_destroy(s->other_kinds);
  g_hash_table_destroy(s->procs);
  g_hash_table_destroy(s->links);
  dsim_histogram_free(s->latency);
  g_ptr_array_unref(s->timeline);
  g_ptr_array_unref(s->checks);
  g_array_unref(s->blocked);
  g_free(s->end_reason);
  g_free(s->end_mismatch);
  g_free(s);
}

/* ---------------------------------------------------------------- counters */

static void count_name(GHashTable *t, const char *name) {
  guint64 *n = g_hash_table_lookup(t, name);
  if (!n) {
    if (g_hash_table_size(t) >= 64) name = "(other)"; /* bounded: a trace may invent names */
    n = g_hash_table_lookup(t, name);
    if (!n) {
      n = g_new0(guint64, 1);
      g_hash_table_insert(t, g_strdup(name), n);
    }
  }
  (*n)++;
}

static DsimProcStats *proc_stats(DsimSummary *s, guint64 pid) {
  DsimProcStats *p = g_hash_table_lookup(s->procs, &pid);
  if (!p) {
    p = g_new0(DsimProcStats, 1);
    p->pid = pid;
    g_hash_table_insert(s->procs, &p->pid, p);
  }
  return p;
}

static DsimLinkStats *link_stats(DsimSummary *s, guint64 src, guint64 dst) {
  DsimLinkStats key = {.src = src, .dst = dst};
  DsimLinkStats *l = g_hash_table_lookup(s->links, &key);
  if (!l) {
    l = g_new0(DsimLinkStats, 1);
    l->src = src;
    l->dst = dst;
    l->latency = dsim_histogram_new();
    g_hash_table_insert(s->links, l, l);
  }
  return l;
}

typedef enum { RATE_SENT, RATE_DELIVERED, RATE_DROPPED } RateKind;

static void rate_add(DsimRate *r, RateKind kind, gint64 t) {
  if (!r->started) {
    r->started = TRUE;
    r->origin = t;
  }
  if (t < r->origin) return;
  guint64 i = (guint64)(t - r->origin) / (guint64)r->width;
  while (i >= DSIM_RATE_BINS) {
    if (r->fixed) return; /* outside a fixed window (cannot happen: the reader stops) */
    /* halve the resolution: bin k takes bins 2k and 2k+1 */
    for (guint k = 0; k < DSIM_RATE_BINS / 2; k++) {
      r->sent[k] = r->sent[2 * k] + r->sent[2 * k + 1];
      r->delivered[k] = r->delivered[2 * k] + r->delivered[2 * k + 1];
      r->dropped[k] = r->dropped[2 * k] + r->dropped[2 * k + 1];
    }
    memset(r->sent + DSIM_RATE_BINS / 2, 0, sizeof r->sent / 2);
    memset(r->delivered + DSIM_RATE_BINS / 2, 0, sizeof r->delivered / 2);
    memset(r->dropped + DSIM_RATE_BINS / 2, 0, sizeof r->dropped / 2);
    r->width *= 2;
    r->used = (r->used + 1) / 2;
    i = (guint64)(t - r->origin) / (guint64)r->width;
  }
  guint64 *bins = kind == RATE_SENT ? r->sent : kind == RATE_DELIVERED ? r->delivered : r->dropped;
  bins[i]++;
  if (i + 1 > r->used) r->used = (guint)i + 1;
}

static void timeline_add(DsimSummary *s, const DsimTraceEvent *ev, const char *what, gboolean bad) {
  if (s->timeline->len >= DSIM_SUMMARY_TIMELINE_MAX) {
    s->timeline_more++;
    return;
  }
  DsimTimelineEntry *e = g_new0(DsimTimelineEntry, 1);
  e->t = ev->t;
  e->line = ev->line;
  e->what = g_strdup(what);
  e->bad = bad;
  GString *text = g_string_new(NULL);
  switch (ev->kind) {
  case DSIM_EV_CRASH:
    g_string_append_printf(text, "pid %" G_GUINT64_FORMAT " (", ev->pid);
    dsim_append_clean(text, ev->cause, 40);
    g_string_append_c(text, ')');
    break;
  case DSIM_EV_RESTART:
    g_string_append_printf(text, "pid %" G_GUINT64_FORMAT " (incarnation %" G_GUINT64_FORMAT ")", ev->pid,
                           ev->incarnation);
    break;
  case DSIM_EV_PARTITION:
    g_string_append_c(text, '{');
    dsim_describe_members(text, ev->a);
    g_string_append(text, ev->oneway ? "} -> {" : "} | {");
    dsim_describe_members(text, ev->b);
    g_string_append_c(text, '}');
    break;
  case DSIM_EV_ERROR:
    g_string_append_printf(text, "pid %" G_GUINT64_FORMAT ": ", ev->pid);
    dsim_append_clean(text, ev->msg, 300);
    break;
  default: {
    /* the description without its leading kind word */
    GString *d = g_string_new(NULL);
    dsim_describe_event(d, ev);
    const char *sp = strchr(d->str, ' ');
    g_string_append(text, sp ? sp + 1 : d->str);
    g_string_free(d, TRUE);
  }
  }
  e->text = g_string_free(text, FALSE);
  g_ptr_array_add(s->timeline, e);
}

static void check_add(DsimSummary *s, const DsimTraceEvent *ev) {
  if (ev->ok)
    s->checks_passed++;
  else
    s->checks_failed++;
  guint64 kept_kind = ev->ok ? s->checks_passed : s->checks_failed;
  if (kept_kind > CHECKS_KEPT) {
    s->checks_more++;
    return;
  }
  DsimCheckEntry *c = g_new0(DsimCheckEntry, 1);
  c->t = ev->t;
  c->line = ev->line;
  c->pid = ev->pid;
  c->ok = ev->ok;
  c->msg = g_strdup(ev->msg);
  c->where = g_strdup(ev->where);
  g_ptr_array_add(s->checks, c);
}

void dsim_summary_add(DsimSummary *s, const DsimTraceEvent *ev, DsimTracker *tk, const DsimCopy *copy,
                      const DsimFilter *f) {
  s->events++;
  if (s->first_t < 0) s->first_t = ev->t;
  s->last_t = ev->t;
  gboolean sel_pid = dsim_filter_match(f, tk, ev->pid);
  gboolean sel_src = dsim_filter_match(f, tk, ev->src), sel_dst = dsim_filter_match(f, tk, ev->dst);
  switch (ev->kind) {
  case DSIM_EV_SEND:
    if (!sel_src && !sel_dst) break;
    s->sent++;
    if (sel_src) proc_stats(s, ev->src)->sent++;
    link_stats(s, ev->src, ev->dst)->sent++;
    rate_add(&s->rate, RATE_SENT, ev->t);
    break;
  case DSIM_EV_DUP:
    if (!sel_src && !sel_dst) break;
    s->duplicated++;
    link_stats(s, ev->src, ev->dst)->duplicated++;
    break;
  case DSIM_EV_DROP:
    if (!sel_src && !sel_dst) break;
    s->dropped++;
    count_name(s->drop_reasons, ev->reason);
    link_stats(s, ev->src, ev->dst)->dropped++;
    if (sel_dst) proc_stats(s, ev->dst)->dropped_to++;
    rate_add(&s->rate, RATE_DROPPED, ev->t);
    break;
  case DSIM_EV_DELIVER: {
    if (!sel_src && !sel_dst) break;
    s->delivered++;
    DsimLinkStats *l = link_stats(s, ev->src, ev->dst);
    l->delivered++;
    if (copy && copy->corrupted) {
      l->corrupted++;
      s->corrupted++;
    }
    if (copy && copy->sent_t >= 0 && ev->t >= copy->sent_t) {
      dsim_histogram_add(l->latency, (guint64)(ev->t - copy->sent_t));
      dsim_histogram_add(s->latency, (guint64)(ev->t - copy->sent_t));
    }
    if (sel_dst) {
      DsimProcStats *p = proc_stats(s, ev->dst);
      p->delivered++;
      DsimProc *pr = dsim_tracker_proc(tk, ev->dst);
      if (pr && pr->is_c) {
        p->received++;
        s->received++;
      }
    }
    rate_add(&s->rate, RATE_DELIVERED, ev->t);
    break;
  }
  case DSIM_EV_RECV:
    s->recv_lines++;
    if (!sel_src && !sel_pid) break;
    s->received++;
    if (sel_pid) proc_stats(s, ev->pid)->received++;
    break;
  case DSIM_EV_TIMEOUT:
    if (!sel_pid) break;
    s->timeouts++;
    proc_stats(s, ev->pid)->timeouts++;
    break;
  case DSIM_EV_CRASH:
  case DSIM_EV_RESTART:
    if (!sel_pid) break;
    if (ev->kind == DSIM_EV_CRASH)
      proc_stats(s, ev->pid)->crashes++;
    else
      proc_stats(s, ev->pid)->restarts++;
    timeline_add(s, ev, ev->ev, ev->kind == DSIM_EV_CRASH);
    break;
  case DSIM_EV_PARTITION: {
    char what[40];
    g_snprintf(what, sizeof what, "partition #%" G_GUINT64_FORMAT, ev->id);
    timeline_add(s, ev, what, TRUE);
    break;
  }
  case DSIM_EV_HEAL: {
    char what[40];
    g_snprintf(what, sizeof what, "heal #%" G_GUINT64_FORMAT, ev->id);
    DsimPartition *pt = dsim_tracker_partition(tk, ev->id);
    if (!pt) {
      timeline_add(s, ev, what, FALSE);
      break;
    }
    if (s->timeline->len >= DSIM_SUMMARY_TIMELINE_MAX) {
      s->timeline_more++;
      break;
    }
    char b[DSIM_TIME_BUF];
    DsimTimelineEntry *e = g_new0(DsimTimelineEntry, 1);
    e->t = ev->t;
    e->line = ev->line;
    e->what = g_strdup(what);
    e->text = g_strdup_printf("%s, cut for %s", pt->text, dsim_fmt_duration(ev->t - pt->t, b));
    g_ptr_array_add(s->timeline, e);
    break;
  }
  case DSIM_EV_CONFIG:
    timeline_add(s, ev, json_object_has_member(ev->object, "defaults") ? "net.configure" : "net.link", FALSE);
    break;
  case DSIM_EV_ERROR:
    s->errors++;
    timeline_add(s, ev, "error", TRUE);
    break;
  case DSIM_EV_LOG:
    if (sel_pid) s->logs++;
    break;
  case DSIM_EV_CHECK:
    if (sel_pid) check_add(s, ev);
    break;
  case DSIM_EV_END: {
    s->has_end = TRUE;
    g_free(s->end_reason);
    s->end_reason = g_strdup(ev->reason);
    s->end_t = ev->t;
    JsonNode *n = json_object_get_member(ev->object, "events");
    if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
      s->end_events = (guint64)json_node_get_int(n);
    static const char *const totals[] = {"sent", "delivered", "received", "dropped", "duplicated", "checks_passed",
                                         "checks_failed"};
    for (guint i = 0; i < G_N_ELEMENTS(totals); i++) {
      n = json_object_get_member(ev->object, totals[i]);
      s->end_totals_seen[i] = n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
      if (s->end_totals_seen[i]) s->end_totals[i] = (guint64)json_node_get_int(n);
    }
    g_array_set_size(s->blocked, 0);
    guint nb = json_array_get_length(ev->blocked);
    for (guint i = 0; i < nb; i++) {
      guint64 pid = (guint64)json_array_get_int_element(ev->blocked, i);
      g_array_append_val(s->blocked, pid);
    }
    break;
  }
  case DSIM_EV_OTHER:
    count_name(s->other_kinds, ev->ev);
    break;
  default:
    break;
  }
}

/* The end line's totals against what the lines say, when both describe the
 * whole run (no window, no filter, every line read). A mismatch means the
 * trace is inconsistent: lines are missing, or the writer miscounted. */
static void cross_check(DsimSummary *s) {
  static const char *const names[] = {"sent", "delivered", "received", "dropped", "duplicated", "checks_passed",
                                      "checks_failed"};
  const guint64 counted[] = {s->sent, s->delivered, s->recv_lines, s->dropped, s->duplicated, s->checks_passed,
                             s->checks_failed};
  GString *m = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    if (!s->end_totals_seen[i] || s->end_totals[i] == counted[i]) continue;
    g_string_append_printf(m, "%s%s: %" G_GUINT64_FORMAT " lines, end line says %" G_GUINT64_FORMAT,
                           m->len ? "; " : "", names[i], counted[i], s->end_totals[i]);
  }
  if (m->len)
    s->end_mismatch = g_string_free(m, FALSE);
  else
    g_string_free(m, TRUE);
}

void dsim_summary_finish(DsimSummary *s, const DsimTraceReader *r, DsimTracker *tk, const DsimFilter *f) {
  s->complete = dsim_trace_reader_complete(r);
  s->lines = dsim_trace_reader_lines(r);
  s->digest = g_strdup(dsim_trace_reader_digest(r));
  dsim_tracker_in_flight(tk, &s->in_flight, &s->queued);
  /* One row per selected process the trace named, under the pid it ended
   * with: a pid that became another by bind has no row of its own. */
  GPtrArray *procs = dsim_tracker_procs(tk);
  for (guint i = 0; i < procs->len; i++) {
    DsimProc *p = g_ptr_array_index(procs, i);
    if (p->pid == 0) continue;
    if (p->alias_of) {
      g_hash_table_remove(s->procs, &p->pid);
      continue;
    }
    if (dsim_filter_match(f, tk, p->pid)) proc_stats(s, p->pid);
  }
  if (s->complete && !s->windowed && !f->active && s->has_end) cross_check(s);
}

/* ---------------------------------------------------------------- rows */

static gint cmp_proc_row(gconstpointer a, gconstpointer b) {
  const DsimProcStats *x = *(DsimProcStats *const *)a, *y = *(DsimProcStats *const *)b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

GPtrArray *dsim_summary_proc_rows(const DsimSummary *s) {
  GPtrArray *rows = g_ptr_array_new();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, s->procs);
  while (g_hash_table_iter_next(&it, NULL, &v)) g_ptr_array_add(rows, v);
  g_ptr_array_sort(rows, cmp_proc_row);
  return rows;
}

static gint cmp_link_row(gconstpointer a, gconstpointer b) {
  const DsimLinkStats *x = *(DsimLinkStats *const *)a, *y = *(DsimLinkStats *const *)b;
  if (x->src != y->src) return x->src < y->src ? -1 : 1;
  return x->dst < y->dst ? -1 : x->dst > y->dst;
}

GPtrArray *dsim_summary_link_rows(const DsimSummary *s) {
  GPtrArray *rows = g_ptr_array_new();
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, s->links);
  while (g_hash_table_iter_next(&it, &k, NULL)) g_ptr_array_add(rows, k);
  g_ptr_array_sort(rows, cmp_link_row);
  return rows;
}

typedef struct {
  const char *name;
  guint64 count;
} NameCount;

static gint cmp_name_count(gconstpointer a, gconstpointer b) {
  const NameCount *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return strcmp(x->name, y->name);
}

static char *names_text(GHashTable *t) {
  if (g_hash_table_size(t) == 0) return NULL;
  GArray *a = g_array_new(FALSE, FALSE, sizeof(NameCount));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    NameCount nc = {k, *(guint64 *)v};
    g_array_append_val(a, nc);
  }
  g_array_sort(a, cmp_name_count);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < a->len; i++) {
    NameCount *nc = &g_array_index(a, NameCount, i);
    if (i) g_string_append(out, ", ");
    dsim_append_clean(out, nc->name, 30);
    g_string_append_printf(out, " %" G_GUINT64_FORMAT, nc->count);
  }
  g_array_unref(a);
  return g_string_free(out, FALSE);
}

char *dsim_summary_drop_text(const DsimSummary *s) {
  return names_text(s->drop_reasons);
}

char *dsim_summary_other_text(const DsimSummary *s) {
  return names_text(s->other_kinds);
}

const char *dsim_summary_end_state(const DsimSummary *s, DsimTracker *tk, guint64 pid) {
  for (guint i = 0; i < s->blocked->len; i++)
    if (g_array_index(s->blocked, guint64, i) == pid) return "blocked";
  DsimProc *p = dsim_tracker_proc(tk, pid);
  if (!p) return "-";
  switch (p->state) {
  case DSIM_PROC_CRASHED: return "crashed";
  case DSIM_PROC_EXITED: return "exited";
  case DSIM_PROC_RUNNING: return s->has_end ? "running" : "-";
  default: return "-";
  }
}

char *dsim_proc_groups_text(DsimTracker *tk, guint64 pid) {
  DsimProc *p = dsim_tracker_proc(tk, pid);
  if (!p || p->groups->len == 0) return g_strdup("-");
  GString *g = g_string_new(NULL);
  for (guint i = 0; i < p->groups->len; i++) {
    if (i) g_string_append_c(g, ',');
    dsim_append_clean(g, g_ptr_array_index(p->groups, i), 40);
  }
  return g_string_free(g, FALSE);
}
