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

const char *const dsim_link_fault_names[DSIM_LF_COUNT] = {
    "loss", "partition", "link_down", "too_big", "rule_drop", "duplicate", "corrupt", "delay", "hold",
};

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
  s->version = h->version;
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

/* Adds an entry whose details are already written. */
static void timeline_add_text(DsimSummary *s, const DsimTraceEvent *ev, const char *what, gboolean bad, GString *text) {
  if (s->timeline->len >= DSIM_SUMMARY_TIMELINE_MAX) {
    s->timeline_more++;
    return;
  }
  DsimTimelineEntry *e = g_new0(DsimTimelineEntry, 1);
  e->t = ev->t;
  e->line = ev->line;
  e->what = g_strdup(what);
  e->bad = bad;
  e->text = g_strdup(text->str);
  g_ptr_array_add(s->timeline, e);
}

/* Adds an entry described from the event itself. */
static void timeline_add(DsimSummary *s, const DsimTraceEvent *ev, const char *what, gboolean bad) {
  GString *text = g_string_new(NULL);
  switch (ev->kind) {
  case DSIM_EV_CRASH:
    g_string_append_printf(text, "pid %" G_GUINT64_FORMAT " (", ev->pid);
    dsim_append_clean(text, ev->cause, 40);
    g_string_append_c(text, ')');
    break;
  case DSIM_EV_RESTART:
    g_string_append_printf(text, "pid %" G_GUINT64_FORMAT " (incarnation %" G_GUINT64_FORMAT, ev->pid,
                           ev->incarnation);
    if (ev->cause && strcmp(ev->cause, "scenario")) {
      g_string_append(text, ", ");
      dsim_append_clean(text, ev->cause, 40);
    }
    g_string_append_c(text, ')');
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
  timeline_add_text(s, ev, what, bad, text);
  g_string_free(text, TRUE);
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

static void append_cause(GString *text, const char *cause) {
  if (!cause) return;
  g_string_append(text, " (");
  dsim_append_clean(text, cause, 40);
  g_string_append_c(text, ')');
}

/* The end of a cut (heal, link_up, release): what it cut and for how long. */
static void timeline_cut_end(DsimSummary *s, const DsimTraceEvent *ev, DsimTracker *tk, DsimCutKind kind) {
  static const char *const verbs[] = {"cut", "down", "held"};
  char what[48], b[DSIM_TIME_BUF];
  g_snprintf(what, sizeof what, "%s #%" G_GUINT64_FORMAT, ev->ev, ev->id);
  DsimPartition *pt = dsim_tracker_cut(tk, kind, ev->id);
  GString *text = g_string_new(NULL);
  if (pt) g_string_append_printf(text, "%s, %s for %s", pt->text, verbs[kind], dsim_fmt_duration(ev->t - pt->t, b));
  if (ev->kind == DSIM_EV_RELEASE)
    g_string_append_printf(text, "%s%" G_GUINT64_FORMAT " message%s kept", text->len ? ": " : "", ev->messages,
                           ev->messages == 1 ? "" : "s");
  if (ev->cause && (ev->kind != DSIM_EV_HEAL || strcmp(ev->cause, "scenario"))) append_cause(text, ev->cause);
  if (!text->len) g_string_append(text, "(not seen starting)");
  timeline_add_text(s, ev, what, FALSE, text);
  g_string_free(text, TRUE);
}

/* The start of a partition, a link down or a hold (a partition made by
 * the scenario, the common case, does not say so). */
static void timeline_cut_start(DsimSummary *s, const DsimTraceEvent *ev) {
  char what[48];
  g_snprintf(what, sizeof what, "%s #%" G_GUINT64_FORMAT, ev->ev, ev->id);
  GString *text = g_string_new("{");
  dsim_describe_members(text, ev->a);
  g_string_append(text, ev->oneway ? "} -> {" : "} | {");
  dsim_describe_members(text, ev->b);
  g_string_append_c(text, '}');
  if (ev->cause && (ev->kind != DSIM_EV_PARTITION || strcmp(ev->cause, "scenario"))) append_cause(text, ev->cause);
  timeline_add_text(s, ev, what, TRUE, text);
  g_string_free(text, TRUE);
}

/* Rules added and removed: net.link (config), net.unlink (config with
 * "removed"), net.rule (rule), net.unrule (unrule). A removal says what
 * the rule was, from the tracker, which still holds it. */
/* "<what> removed", then ": <the rule>" when the tracker still knew it. */
static void append_removed(GString *text, const char *what, const char *rule) {
  g_string_append(text, what);
  g_string_append(text, " removed");
  if (rule) {
    g_string_append(text, ": ");
    g_string_append(text, rule);
  }
}

static void timeline_rule(DsimSummary *s, const DsimTraceEvent *ev, DsimTracker *tk) {
  char what[48];
  GString *text = g_string_new(NULL);
  if (ev->kind == DSIM_EV_CONFIG && ev->has_removed) {
    g_snprintf(what, sizeof what, "net.unlink #%" G_GUINT64_FORMAT, ev->removed);
    append_removed(text, "link rule", dsim_tracker_link_rule(tk, ev->removed));
    append_cause(text, ev->cause);
  } else if (ev->kind == DSIM_EV_CONFIG) {
    if (json_object_has_member(ev->object, "id"))
      g_snprintf(what, sizeof what, "net.link #%" G_GUINT64_FORMAT, ev->id);
    else
      g_strlcpy(what, "net.link", sizeof what);
    dsim_describe_rule(text, ev);
    if (ev->cause && strcmp(ev->cause, "scenario")) append_cause(text, ev->cause);
  } else if (ev->kind == DSIM_EV_RULE) {
    g_snprintf(what, sizeof what, "net.rule #%" G_GUINT64_FORMAT, ev->id);
    g_string_append(text, "message rule added: ");
    dsim_describe_rule(text, ev);
  } else {
    g_snprintf(what, sizeof what, "net.unrule #%" G_GUINT64_FORMAT, ev->id);
    append_removed(text, "message rule", dsim_tracker_msg_rule(tk, ev->id));
  }
  timeline_add_text(s, ev, what, FALSE, text);
  g_string_free(text, TRUE);
}

static void timeline_nemesis(DsimSummary *s, const DsimTraceEvent *ev) {
  char what[48], b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF];
  g_snprintf(what, sizeof what, "nemesis #%" G_GUINT64_FORMAT, ev->id);
  GString *text = g_string_new(NULL);
  if (ev->kind == DSIM_EV_NEMESIS_START)
    g_string_append_printf(text, "started: faults from %s to %s", dsim_fmt_time((gint64)ev->start, b1),
                           dsim_fmt_time((gint64)ev->stop, b2));
  else if (ev->kind == DSIM_EV_NEMESIS_STOP)
    g_string_append(text, "stopped");
  else {
    if (!ev->skipped) g_string_append(text, "chose ");
    dsim_describe_nemesis(text, ev);
  }
  timeline_add_text(s, ev, what, FALSE, text);
  g_string_free(text, TRUE);
}

/* Process faults: pause, resume, clock, lost and torn writes. */
static void process_fault(DsimSummary *s, const DsimTraceEvent *ev, DsimTracker *tk) {
  char b[DSIM_TIME_BUF];
  DsimProcStats *p = proc_stats(s, ev->pid);
  GString *text = g_string_new(NULL);
  g_string_append_printf(text, "pid %" G_GUINT64_FORMAT, ev->pid);
  gboolean bad = FALSE;
  switch (ev->kind) {
  case DSIM_EV_PAUSE:
    p->pauses++;
    bad = TRUE;
    break;
  case DSIM_EV_RESUME: {
    DsimProc *pr = dsim_tracker_proc(tk, ev->pid);
    if (pr && pr->paused && ev->t >= pr->paused_t) {
      p->paused_ns += ev->t - pr->paused_t;
      g_string_append_printf(text, ", paused for %s", dsim_fmt_duration(ev->t - pr->paused_t, b));
    }
    break;
  }
  case DSIM_EV_CLOCK:
    p->clocks++;
    g_string_append(text, ": ");
    dsim_describe_clock(text, ev->offset, ev->drift);
    break;
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
    bad = TRUE;
    if (ev->kind == DSIM_EV_STABLE_LOST)
      p->stable_lost++;
    else
      p->stable_torn++;
    g_string_append(text, ": unsynced write to \"");
    dsim_append_clean(text, ev->key, 40);
    if (ev->kind == DSIM_EV_STABLE_LOST)
      g_string_append(text, "\" lost");
    else
      g_string_append_printf(text, "\" torn, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " B kept", ev->kept, ev->size);
    break;
  default:
    break;
  }
  append_cause(text, ev->cause);
  timeline_add_text(s, ev, ev->ev, bad, text);
  g_string_free(text, TRUE);
}

/* The LINK FAULTS column a drop reason counts in, or -1 (a drop that is
 * not an injected fault: the destination was down, the queue full). */
static int drop_fault(const char *reason) {
  static const struct {
    const char *reason;
    DsimLinkFault fault;
  } map[] = {{"loss", DSIM_LF_LOSS},       {"partition", DSIM_LF_PARTITION}, {"link_down", DSIM_LF_LINK_DOWN},
             {"too_big", DSIM_LF_TOO_BIG}, {"rule", DSIM_LF_RULE_DROP}};
  for (guint i = 0; i < G_N_ELEMENTS(map); i++)
    if (strcmp(reason, map[i].reason) == 0) return (int)map[i].fault;
  return -1;
}

static void read_end_faults(DsimSummary *s, const DsimTraceEvent *ev) {
  JsonNode *n = json_object_get_member(ev->object, "faults");
  s->has_end_faults = n && JSON_NODE_HOLDS_OBJECT(n);
  memset(s->end_faults, 0, sizeof s->end_faults);
  if (s->has_end_faults) {
    JsonObject *o = json_node_get_object(n);
    for (guint i = 0; i < DSIM_LF_COUNT; i++) {
      JsonNode *v = json_object_get_member(o, dsim_link_fault_names[i]);
      if (v && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_INT64)
        s->end_faults[i] = (guint64)json_node_get_int(v);
    }
  }
  n = json_object_get_member(ev->object, "fault_links");
  s->has_fault_links = n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
  if (s->has_fault_links) s->end_fault_links = (guint64)json_node_get_int(n);
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
    link_stats(s, ev->src, ev->dst)->faults[DSIM_LF_DUP]++;
    break;
  case DSIM_EV_CORRUPT:
  case DSIM_EV_DELAY:
  case DSIM_EV_HELD: {
    if (!sel_src && !sel_dst) break;
    /* an old-style corrupt line names only the copy: its ends come from the send */
    DsimLinkStats *l = copy ? link_stats(s, copy->src, copy->dst) : link_stats(s, ev->src, ev->dst);
    l->faults[ev->kind == DSIM_EV_CORRUPT ? DSIM_LF_CORRUPT : ev->kind == DSIM_EV_DELAY ? DSIM_LF_DELAY : DSIM_LF_HELD]++;
    if (ev->kind == DSIM_EV_HELD && ev->has_hold) l->held_hold++;
    break;
  }
  case DSIM_EV_DROP: {
    if (!sel_src && !sel_dst) break;
    s->dropped++;
    count_name(s->drop_reasons, ev->reason);
    DsimLinkStats *l = link_stats(s, ev->src, ev->dst);
    l->dropped++;
    int fault = drop_fault(ev->reason);
    if (fault >= 0) l->faults[fault]++;
    if (sel_dst) proc_stats(s, ev->dst)->dropped_to++;
    rate_add(&s->rate, RATE_DROPPED, ev->t);
    break;
  }
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
  case DSIM_EV_PARTITION:
  case DSIM_EV_LINK_DOWN:
  case DSIM_EV_HOLD:
    timeline_cut_start(s, ev);
    break;
  case DSIM_EV_HEAL:
    timeline_cut_end(s, ev, tk, DSIM_CUT_PARTITION);
    break;
  case DSIM_EV_LINK_UP:
    timeline_cut_end(s, ev, tk, DSIM_CUT_LINK_DOWN);
    break;
  case DSIM_EV_RELEASE:
    timeline_cut_end(s, ev, tk, DSIM_CUT_HOLD);
    break;
  case DSIM_EV_CONFIG:
    if (json_object_has_member(ev->object, "defaults"))
      timeline_add(s, ev, "net.configure", FALSE);
    else
      timeline_rule(s, ev, tk);
    break;
  case DSIM_EV_RULE:
  case DSIM_EV_UNRULE:
    timeline_rule(s, ev, tk);
    break;
  case DSIM_EV_NEMESIS_START:
  case DSIM_EV_NEMESIS:
  case DSIM_EV_NEMESIS_STOP:
    timeline_nemesis(s, ev);
    break;
  case DSIM_EV_PAUSE:
  case DSIM_EV_RESUME:
  case DSIM_EV_CLOCK:
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
    if (sel_pid) process_fault(s, ev, tk);
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
    read_end_faults(s, ev);
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

/* The end line's "faults" (kinds it leaves out count 0) and "fault_links"
 * against the LINK FAULTS counts. */
static void cross_check_faults(DsimSummary *s, GString *m) {
  guint64 total[DSIM_LF_COUNT] = {0}, links = 0;
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, s->links);
  while (g_hash_table_iter_next(&it, &k, NULL)) {
    const DsimLinkStats *l = k;
    gboolean any = l->held_hold > 0;
    for (guint i = 0; i < DSIM_LF_COUNT; i++) {
      guint64 v = i == DSIM_LF_HELD ? l->held_hold : l->faults[i];
      total[i] += v;
      if (i != DSIM_LF_HELD && v) any = TRUE;
    }
    if (any) links++;
  }
  for (guint i = 0; s->has_end_faults && i < DSIM_LF_COUNT; i++) {
    if (total[i] == s->end_faults[i]) continue;
    g_string_append_printf(m, "%sfaults.%s: %" G_GUINT64_FORMAT " lines, end line says %" G_GUINT64_FORMAT,
                           m->len ? "; " : "", dsim_link_fault_names[i], total[i], s->end_faults[i]);
  }
  if (s->has_fault_links && links != s->end_fault_links)
    g_string_append_printf(m, "%sfault_links: %" G_GUINT64_FORMAT " links, end line says %" G_GUINT64_FORMAT,
                           m->len ? "; " : "", links, s->end_fault_links);
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
  if (s->has_end_faults || s->has_fault_links) cross_check_faults(s, m);
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
    if (!dsim_filter_match(f, tk, p->pid)) continue;
    DsimProcStats *st = proc_stats(s, p->pid);
    /* still paused when the trace (or the window) ends */
    if (p->paused && s->events && s->last_t >= p->paused_t && st->pauses) st->paused_ns += s->last_t - p->paused_t;
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

guint64 dsim_link_fault_total(const DsimLinkStats *l) {
  guint64 n = 0;
  for (guint i = 0; i < DSIM_LF_COUNT; i++) n += l->faults[i];
  return n;
}

guint64 dsim_proc_fault_total(const DsimProcStats *p) {
  return p->crashes + p->restarts + p->pauses + p->clocks + p->stable_lost + p->stable_torn;
}

static gboolean link_has_faults(gconstpointer row) {
  return dsim_link_fault_total(row) > 0;
}

static gboolean proc_has_faults(gconstpointer row) {
  return dsim_proc_fault_total(row) > 0;
}

/* Keeps the rows for which keep() is TRUE, in order. */
static GPtrArray *keep_rows(GPtrArray *rows, gboolean (*keep)(gconstpointer)) {
  guint n = 0;
  for (guint i = 0; i < rows->len; i++)
    if (keep(g_ptr_array_index(rows, i))) rows->pdata[n++] = g_ptr_array_index(rows, i);
  g_ptr_array_set_size(rows, n);
  return rows;
}

GPtrArray *dsim_summary_link_fault_rows(const DsimSummary *s) {
  return keep_rows(dsim_summary_link_rows(s), link_has_faults);
}

GPtrArray *dsim_summary_proc_fault_rows(const DsimSummary *s) {
  return keep_rows(dsim_summary_proc_rows(s), proc_has_faults);
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
