/* export_perfetto.c — the Chrome trace event format (JSON), which
 * ui.perfetto.dev and chrome://tracing open.
 *
 * Mapping: the run is one Chrome process (pid 1); each dsim process is a
 * thread whose tid is its pid (tid 0: scenario code). Sends and deliveries
 * are zero-length slices ("X"); every delivered copy is a flow arrow from
 * its send slice to its delivery slice (flow events "s"/"f" with a fresh
 * id, written when the delivery is read, since the format does not need
 * events in time order). Crashed periods are slices from crash to restart,
 * paused periods slices from pause to resume (or crash). Everything else
 * (receive, drop, duplicate, corrupt, delay, held, timeout, log, check,
 * spawn, exit, clock, stable storage) is an instant event on its process
 * (held on the receiver, delay on the sender); partitions, heals, links
 * down and up, holds, releases, rules, configuration changes and the
 * nemesis are global instants. Times are microseconds with three decimals, i.e.
 * exact nanoseconds. Thread names are written at the end, sorted by pid.
 *
 * Memory: the tracker's copies in flight, and one crash and one pause time
 * per process. */
#include "reports_internal.h"

#include <string.h>

typedef struct {
  FILE *out;
  GString *buf;
  gboolean first;
  guint64 next_flow;
  GHashTable *crashed; /* pid → crash time (gint64*) */
  GHashTable *paused;  /* pid → pause time (gint64*) */
  GHashTable *tids;    /* pids written (set) */
} Out;

static void ts(GString *o, const char *key, gint64 ns) {
  guint64 u = ns < 0 ? (guint64)0 - (guint64)ns : (guint64)ns;
  g_string_append_printf(o, ",\"%s\":%s%" G_GUINT64_FORMAT ".%03u", key, ns < 0 ? "-" : "", u / 1000, (guint)(u % 1000));
}

/* Starts an event object; finish it with end_event(). */
static void begin_event(Out *w, const char *ph, const char *name, guint64 tid, gint64 t) {
  g_string_truncate(w->buf, 0);
  g_string_append(w->buf, w->first ? "\n" : ",\n");
  w->first = FALSE;
  g_string_append_printf(w->buf, "{\"ph\":\"%s\",\"name\":", ph);
  dsim_json_quote(w->buf, name);
  g_string_append_printf(w->buf, ",\"pid\":1,\"tid\":%" G_GUINT64_FORMAT, tid);
  ts(w->buf, "ts", t);
  g_hash_table_add(w->tids, g_memdup2(&tid, sizeof tid));
}

static void end_event(Out *w) {
  g_string_append_c(w->buf, '}');
  fwrite(w->buf->str, 1, w->buf->len, w->out);
}

static void arg_str(GString *o, gboolean *first, const char *k, const char *v) {
  g_string_append_printf(o, "%s\"%s\":", *first ? "" : ",", k);
  dsim_json_quote(o, v ? v : "");
  *first = FALSE;
}

static void arg_u64(GString *o, gboolean *first, const char *k, guint64 v) {
  g_string_append_printf(o, "%s\"%s\":%" G_GUINT64_FORMAT, *first ? "" : ",", k, v);
  *first = FALSE;
}

static void instant(Out *w, const DsimTraceEvent *ev, guint64 tid, gboolean global) {
  GString *name = g_string_new(NULL);
  dsim_describe_event(name, ev);
  /* the name is the kind; the description goes to the arguments */
  begin_event(w, "i", ev->ev, tid, ev->t);
  g_string_append_printf(w->buf, ",\"s\":\"%s\",\"cat\":\"%s\",\"args\":{", global ? "g" : "t", ev->ev);
  gboolean first = TRUE;
  arg_str(w->buf, &first, "event", name->str);
  arg_u64(w->buf, &first, "line", ev->line);
  g_string_append_c(w->buf, '}');
  end_event(w);
  g_string_free(name, TRUE);
}

static void slice(Out *w, const char *name, const char *cat, guint64 tid, gint64 t, gint64 dur, GString *args) {
  begin_event(w, "X", name, tid, t);
  ts(w->buf, "dur", dur);
  g_string_append_printf(w->buf, ",\"cat\":\"%s\",\"args\":{%s}", cat, args ? args->str : "");
  end_event(w);
}

static void flow(Out *w, const char *ph, guint64 id, guint64 tid, gint64 t) {
  begin_event(w, ph, "message", tid, t);
  g_string_append_printf(w->buf, ",\"cat\":\"msg\",\"id\":%" G_GUINT64_FORMAT, id);
  if (ph[0] == 'f') g_string_append(w->buf, ",\"bp\":\"e\"");
  end_event(w);
}

static void crashed_slice(Out *w, guint64 pid, gint64 from, gint64 to) {
  slice(w, "crashed", "fault", pid, from, to - from, NULL);
}

/* Ends pid's paused period at t, if it is paused. */
static void end_pause(Out *w, guint64 pid, gint64 t) {
  gint64 *since = g_hash_table_lookup(w->paused, &pid);
  if (!since) return;
  slice(w, "paused", "fault", pid, *since, t - *since, NULL);
  g_hash_table_remove(w->paused, &pid);
}

static gint cmp_u64(gconstpointer a, gconstpointer b) {
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
  return x < y ? -1 : x > y;
}

static GArray *sorted_keys(GHashTable *t) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(guint64));
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, NULL)) g_array_append_val(a, *(guint64 *)k);
  g_array_sort(a, cmp_u64);
  return a;
}

gboolean dsim_export_perfetto(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out, GError **error) {
  const DsimTraceHeader *h = dsim_trace_reader_header(r);
  Out w = {out,
           g_string_new(NULL),
           TRUE,
           0,
           g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free),
           g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free),
           g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL)};
  GString *head = g_string_new("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"scenario\":");
  dsim_json_quote(head, h->scenario);
  g_string_append_printf(head, ",\"seed\":\"%" G_GUINT64_FORMAT "\",\"generator\":", h->seed);
  dsim_json_quote(head, h->generator);
  g_string_append(head, ",\"source\":\"dsim report --format perfetto\"},\"traceEvents\":[");
  fwrite(head->str, 1, head->len, out);
  g_string_free(head, TRUE);

  DsimTracker *tk = dsim_tracker_new();
  GString *args = g_string_new(NULL);
  GString *name = g_string_new(NULL);
  DsimTraceEvent ev;
  GError *e = NULL;
  gint64 last_t = 0;
  while (dsim_trace_reader_next(r, &ev, &e)) {
    DsimCopy *copy = dsim_tracker_apply(tk, &ev);
    if (ev.t < o->from_ns) goto next;
    last_t = ev.t;
    gboolean sel_pid = dsim_filter_match(f, tk, ev.pid);
    gboolean sel_src = dsim_filter_match(f, tk, ev.src), sel_dst = dsim_filter_match(f, tk, ev.dst);
    gboolean first = TRUE;
    g_string_truncate(args, 0);
    switch (ev.kind) {
    case DSIM_EV_SEND:
      if (!sel_src) break;
      g_string_printf(name, "send #%" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, ev.mid, ev.dst);
      arg_u64(args, &first, "mid", ev.mid);
      arg_u64(args, &first, "dst", ev.dst);
      arg_u64(args, &first, "size", ev.size);
      arg_str(args, &first, "data", ev.data);
      arg_u64(args, &first, "line", ev.line);
      slice(&w, name->str, "msg", ev.src, ev.t, 0, args);
      break;
    case DSIM_EV_DELIVER:
      if (!sel_dst) break;
      g_string_printf(name, "deliver #%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT " from %" G_GUINT64_FORMAT, ev.mid,
                      ev.copy, ev.src);
      arg_u64(args, &first, "mid", ev.mid);
      arg_u64(args, &first, "copy", ev.copy);
      arg_u64(args, &first, "src", ev.src);
      if (copy && copy->sent_t >= 0) arg_u64(args, &first, "latency_ns", (guint64)(ev.t - copy->sent_t));
      if (copy && copy->corrupted) arg_u64(args, &first, "corrupted", 1);
      if (copy && copy->extra_ns) arg_u64(args, &first, "extra_delay_ns", copy->extra_ns);
      if (copy && copy->held) arg_str(args, &first, "held", copy->held_paused ? "receiver paused" : "by a hold");
      if (copy && copy->held && !copy->held_paused) arg_u64(args, &first, "hold", copy->hold_id);
      arg_u64(args, &first, "line", ev.line);
      slice(&w, name->str, "msg", ev.dst, ev.t, 0, args);
      /* the arrow: from the send slice (if it was written) to this one */
      if (copy && copy->sent_t >= 0 && copy->sent_t >= o->from_ns && sel_src) {
        guint64 id = ++w.next_flow;
        flow(&w, "s", id, ev.src, copy->sent_t);
        flow(&w, "f", id, ev.dst, ev.t);
      }
      break;
    case DSIM_EV_RECV:
      if (sel_pid) instant(&w, &ev, ev.pid, FALSE);
      break;
    case DSIM_EV_DUP:
    case DSIM_EV_DELAY:
      if (sel_src) instant(&w, &ev, ev.src, FALSE);
      break;
    case DSIM_EV_HELD:
      if (sel_dst) instant(&w, &ev, ev.dst, FALSE);
      break;
    case DSIM_EV_PAUSE:
      if (!sel_pid) break;
      instant(&w, &ev, ev.pid, FALSE);
      if (!g_hash_table_contains(w.paused, &ev.pid))
        g_hash_table_replace(w.paused, g_memdup2(&ev.pid, sizeof ev.pid), g_memdup2(&ev.t, sizeof ev.t));
      break;
    case DSIM_EV_RESUME:
      if (!sel_pid) break;
      end_pause(&w, ev.pid, ev.t);
      instant(&w, &ev, ev.pid, FALSE);
      break;
    case DSIM_EV_CLOCK:
    case DSIM_EV_STABLE:
    case DSIM_EV_STABLE_LOST:
    case DSIM_EV_STABLE_TORN:
      if (sel_pid) instant(&w, &ev, ev.pid, FALSE);
      break;
    case DSIM_EV_DROP:
    case DSIM_EV_CORRUPT:
      /* a loss happens at the sender; other drops where the copy arrived */
      if (ev.kind == DSIM_EV_DROP && !strcmp(ev.reason, "loss")) {
        if (sel_src) instant(&w, &ev, ev.src, FALSE);
      } else if (sel_dst) {
        instant(&w, &ev, ev.dst, FALSE);
      }
      break;
    case DSIM_EV_CRASH:
      if (!sel_pid) break;
      end_pause(&w, ev.pid, ev.t); /* a crash ends a pause */
      instant(&w, &ev, ev.pid, FALSE);
      g_hash_table_replace(w.crashed, g_memdup2(&ev.pid, sizeof ev.pid), g_memdup2(&ev.t, sizeof ev.t));
      break;
    case DSIM_EV_RESTART: {
      if (!sel_pid) break;
      gint64 *since = g_hash_table_lookup(w.crashed, &ev.pid);
      if (since) {
        crashed_slice(&w, ev.pid, *since, ev.t);
        g_hash_table_remove(w.crashed, &ev.pid);
      }
      instant(&w, &ev, ev.pid, FALSE);
      break;
    }
    case DSIM_EV_SPAWN:
    case DSIM_EV_BIND:
    case DSIM_EV_TIMEOUT:
    case DSIM_EV_LOG:
    case DSIM_EV_CHECK:
    case DSIM_EV_ERROR:
      if (sel_pid) instant(&w, &ev, ev.pid, FALSE);
      break;
    case DSIM_EV_EXIT:
      if (!sel_pid) break;
      end_pause(&w, ev.pid, ev.t);
      instant(&w, &ev, ev.pid, FALSE);
      break;
    case DSIM_EV_JOIN:
      if (sel_pid && !ev.reserved) instant(&w, &ev, ev.pid, FALSE);
      break;
    default:
      if (dsim_event_kind_is_network(ev.kind)) instant(&w, &ev, 0, TRUE);
      break;
    }
  next:
    dsim_tracker_release(tk, &ev, copy);
  }
  if (!e) {
    /* processes still down at the end */
    GArray *down = sorted_keys(w.crashed);
    for (guint i = 0; i < down->len; i++) {
      guint64 pid = g_array_index(down, guint64, i);
      crashed_slice(&w, pid, *(gint64 *)g_hash_table_lookup(w.crashed, &pid), last_t);
    }
    g_array_unref(down);
    GArray *paused = sorted_keys(w.paused);
    for (guint i = 0; i < paused->len; i++) end_pause(&w, g_array_index(paused, guint64, i), last_t);
    g_array_unref(paused);
    /* names, in pid order */
    GArray *tids = sorted_keys(w.tids);
    GString *title = g_string_new(NULL);
    g_string_printf(title, "dsim %s, seed %" G_GUINT64_FORMAT, h->scenario, h->seed);
    begin_event(&w, "M", "process_name", 0, 0);
    g_string_append(w.buf, ",\"args\":{\"name\":");
    dsim_json_quote(w.buf, title->str);
    g_string_append_c(w.buf, '}');
    end_event(&w);
    for (guint i = 0; i < tids->len; i++) {
      guint64 pid = g_array_index(tids, guint64, i);
      char *groups = dsim_proc_groups_text(tk, pid);
      if (pid == 0)
        g_string_assign(title, "scenario code");
      else
        g_string_printf(title, "%" G_GUINT64_FORMAT " %s", pid, strcmp(groups, "-") ? groups : "");
      g_free(groups);
      begin_event(&w, "M", "thread_name", pid, 0);
      g_string_append(w.buf, ",\"args\":{\"name\":");
      dsim_json_quote(w.buf, g_strchomp(title->str));
      g_string_append_c(w.buf, '}');
      end_event(&w);
      begin_event(&w, "M", "thread_sort_index", pid, 0);
      g_string_append_printf(w.buf, ",\"args\":{\"sort_index\":%" G_GUINT64_FORMAT "}", pid);
      end_event(&w);
    }
    g_string_free(title, TRUE);
    g_array_unref(tids);
    fputs("\n]}\n", out);
  }
  g_string_free(args, TRUE);
  g_string_free(name, TRUE);
  g_string_free(w.buf, TRUE);
  g_hash_table_destroy(w.crashed);
  g_hash_table_destroy(w.paused);
  g_hash_table_destroy(w.tids);
  dsim_tracker_free(tk);
  if (e) {
    g_propagate_error(error, e);
    return FALSE;
  }
  return TRUE;
}
