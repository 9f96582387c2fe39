/* export_mermaid.c — a Mermaid sequenceDiagram, to paste into Markdown.
 *
 * Mermaid draws messages as horizontal arrows in the order they are
 * written, so a message is written when it arrives (or is lost): solid
 * arrows for deliveries, dotted for duplicates, crossed for drops; a copy
 * that was held or delayed by a rule says so on its arrow. Crashes,
 * restarts, exits, pauses, resumes, clock changes, lost or torn writes,
 * timeouts and failed checks are notes over the process; partitions,
 * links down and holds (and their ends) notes across the diagram.
 * Participants are declared first, in pid order, which needs the whole
 * body: the body is kept in memory, and that is why the export stops after
 * mermaid_limit messages or four times as many lines (a diagram that long
 * is unreadable anyway) and says so in a last note.
 *
 * Text is made safe for Mermaid: ';' and '#' (which Mermaid reads as
 * statement end and entity start) and '<', '>' become #59; #35; #60; #62;,
 * control characters become spaces. */
#include "reports_internal.h"

#include <string.h>

typedef struct {
  GPtrArray *lines;     /* body lines; a partition note is "\001" + text, placed at output */
  GHashTable *parts;    /* participants: pid set */
  guint messages;
  guint64 left_out;
} Body;

static void safe(GString *o, const char *s, guint max) {
  GString *clean = g_string_new(NULL);
  dsim_append_clean(clean, s, max);
  for (const char *p = clean->str; *p; p++) {
    switch (*p) {
    case ';': g_string_append(o, "#59;"); break;
    case '#': g_string_append(o, "#35;"); break;
    case '<': g_string_append(o, "#60;"); break;
    case '>': g_string_append(o, "#62;"); break;
    default: g_string_append_c(o, *p);
    }
  }
  g_string_free(clean, TRUE);
}

static void participant(Body *b, guint64 pid) {
  if (!g_hash_table_contains(b->parts, &pid)) g_hash_table_add(b->parts, g_memdup2(&pid, sizeof pid));
}

static void add(Body *b, GString *line) {
  g_ptr_array_add(b->lines, g_strdup(line->str));
}

static void note(Body *b, guint64 pid, const char *text) {
  GString *l = g_string_new(NULL);
  g_string_printf(l, "    Note over p%" G_GUINT64_FORMAT ": ", pid);
  safe(l, text, 120);
  participant(b, pid);
  add(b, l);
  g_string_free(l, TRUE);
}

static gint cmp_u64(gconstpointer a, gconstpointer b) {
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
  return x < y ? -1 : x > y;
}

gboolean dsim_export_mermaid(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out, GError **error) {
  Body b = {g_ptr_array_new_with_free_func(g_free), g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL), 0, 0};
  guint limit = MAX(o->mermaid_limit, 1u);
  DsimTracker *tk = dsim_tracker_new();
  GString *l = g_string_new(NULL);
  char tb[DSIM_TIME_BUF];
  DsimTraceEvent ev;
  GError *e = NULL;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    if (ev.t < o->from_ns) goto next;
    gboolean msg = ev.kind == DSIM_EV_DELIVER || ev.kind == DSIM_EV_DROP;
    if (msg && !dsim_filter_match(f, tk, ev.src) && !dsim_filter_match(f, tk, ev.dst)) goto next;
    DsimCutKind cut_kind;
    gboolean cut_ends;
    gboolean global = dsim_cut_kind_of(ev.kind, &cut_kind, &cut_ends);
    if (!msg && !global && !dsim_filter_match(f, tk, ev.pid)) goto next;
    /* bounded: at most limit messages, and notes do not outgrow them */
    if (b.messages >= limit || b.lines->len >= 4 * limit) {
      if (msg) b.left_out++;
      goto next;
    }
    switch (ev.kind) {
    case DSIM_EV_DELIVER:
    case DSIM_EV_DROP: {
      gboolean drop = ev.kind == DSIM_EV_DROP;
      const char *arrow = drop ? (ev.copy ? "--x" : "-x") : (ev.copy ? "-->>" : "->>");
      /* the message id in parentheses: '#' would start a Mermaid entity */
      g_string_printf(l, "    p%" G_GUINT64_FORMAT "%sp%" G_GUINT64_FORMAT ": (%" G_GUINT64_FORMAT, ev.src, arrow, ev.dst,
                      ev.mid);
      if (ev.copy) g_string_append_printf(l, " copy %" G_GUINT64_FORMAT, ev.copy);
      g_string_append_c(l, ')');
      if (copy && copy->data) {
        g_string_append(l, " ");
        safe(l, copy->data, 48);
      }
      if (drop) {
        g_string_append(l, " (lost: ");
        safe(l, ev.reason, 30);
        g_string_append_c(l, ')');
      } else if (copy && copy->corrupted) {
        g_string_append(l, " (corrupted)");
      }
      if (copy && copy->held)
        g_string_append(l, copy->held_paused ? " (held: receiver paused)" : " (held by a hold)");
      if (copy && copy->extra_ns)
        g_string_append_printf(l, " (delayed %s by a rule)", dsim_fmt_duration((gint64)copy->extra_ns, tb));
      participant(&b, ev.src);
      participant(&b, ev.dst);
      add(&b, l);
      b.messages++;
      break;
    }
    case DSIM_EV_CRASH:
      note(&b, ev.pid, "crash");
      break;
    case DSIM_EV_RESTART:
      note(&b, ev.pid, "restart");
      break;
    case DSIM_EV_EXIT:
      note(&b, ev.pid, "exit");
      break;
    case DSIM_EV_TIMEOUT:
      g_string_printf(l, "timeout in %s at %s", ev.op, dsim_fmt_time(ev.t, tb));
      note(&b, ev.pid, l->str);
      break;
    case DSIM_EV_CHECK:
      if (ev.ok || ev.pid == 0) break;
      g_string_printf(l, "check FAILED: %s", ev.msg);
      note(&b, ev.pid, l->str);
      break;
    case DSIM_EV_PAUSE:
    case DSIM_EV_RESUME:
    case DSIM_EV_CLOCK:
    case DSIM_EV_STABLE_LOST:
    case DSIM_EV_STABLE_TORN: {
      GString *d = g_string_new(NULL);
      dsim_describe_event(d, &ev);
      g_string_append_printf(d, " at %s", dsim_fmt_time(ev.t, tb));
      note(&b, ev.pid, d->str);
      g_string_free(d, TRUE);
      break;
    }
    case DSIM_EV_PARTITION:
    case DSIM_EV_HEAL:
    case DSIM_EV_LINK_DOWN:
    case DSIM_EV_LINK_UP:
    case DSIM_EV_HOLD:
    case DSIM_EV_RELEASE: {
      GString *d = g_string_new(NULL);
      dsim_describe_event(d, &ev);
      g_string_assign(l, "\001");
      safe(l, d->str, 120);
      add(&b, l);
      g_string_free(d, TRUE);
      break;
    }
    default:
      break;
    }
  next:
    dsim_tracker_release(tk, &ev, copy);
  }
  if (!e) {
    GString *doc = g_string_new("sequenceDiagram\n");
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(guint64));
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, b.parts);
    while (g_hash_table_iter_next(&it, &k, NULL)) g_array_append_val(pids, *(guint64 *)k);
    g_array_sort(pids, cmp_u64);
    for (guint i = 0; i < pids->len; i++) {
      guint64 pid = g_array_index(pids, guint64, i);
      char *groups = dsim_proc_groups_text(tk, pid);
      g_string_append_printf(doc, "    participant p%" G_GUINT64_FORMAT " as %" G_GUINT64_FORMAT, pid, pid);
      if (strcmp(groups, "-")) {
        g_string_append_c(doc, ' ');
        safe(doc, groups, 30);
      }
      g_string_append_c(doc, '\n');
      g_free(groups);
    }
    for (guint i = 0; i < b.lines->len; i++) {
      const char *line = g_ptr_array_index(b.lines, i);
      if (line[0] != '\001') {
        g_string_append_printf(doc, "%s\n", line);
      } else if (pids->len) {
        /* a note across every participant */
        g_string_append_printf(doc, "    Note over p%" G_GUINT64_FORMAT, g_array_index(pids, guint64, 0));
        if (pids->len > 1) g_string_append_printf(doc, ",p%" G_GUINT64_FORMAT, g_array_index(pids, guint64, pids->len - 1));
        g_string_append_printf(doc, ": %s\n", line + 1);
      }
    }
    if (b.left_out && pids->len)
      g_string_append_printf(doc,
                             "    Note over p%" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                             " more messages not drawn (the limit is %u: use --from/--to or --pid)\n",
                             g_array_index(pids, guint64, 0), b.left_out, limit);
    fwrite(doc->str, 1, doc->len, out);
    g_string_free(doc, TRUE);
    g_array_unref(pids);
  }
  g_string_free(l, TRUE);
  g_ptr_array_unref(b.lines);
  g_hash_table_destroy(b.parts);
  dsim_tracker_free(tk);
  if (e) {
    g_propagate_error(error, e);
    return FALSE;
  }
  return TRUE;
}
