/* diff.c — where two traces stop agreeing.
 *
 * Both files are read in step, one event at a time; the n-th event of one
 * is compared with the n-th of the other as JSON values (json_node_equal on
 * every field not ignored), so formatting and field order do not matter.
 * Identical bytes skip the comparison. The last `context` events are kept
 * in a ring as one-line descriptions; at the first difference they are
 * printed, then the two diverging events with the fields that differ, then
 * `context` more events from each file. Memory: the ring and two parsed
 * lines.
 *
 * Header fields are compared separately and reported first: two seeds of
 * one scenario differ in "seed" and usually soon in their events too. */
#include "reports_internal.h"

#include <string.h>

typedef struct {
  const char *const *ignore;
} Cmp;

static gboolean ignored(const Cmp *c, const char *field) {
  for (const char *const *p = c->ignore; p && *p; p++)
    if (strcmp(*p, field) == 0) return TRUE;
  return FALSE;
}

static void value_text(GString *o, JsonNode *n) {
  if (!n) {
    g_string_append(o, "(absent)");
    return;
  }
  char *s = json_to_string(n, FALSE);
  dsim_append_clean(o, s, 60);
  g_free(s);
}

/* Appends "field: a vs b" for every field that differs; returns how many. */
static guint object_diff(const Cmp *c, JsonObject *a, JsonObject *b, GString *out, const char *indent) {
  guint n = 0;
  GList *ka = json_object_get_members(a), *kb = json_object_get_members(b);
  for (guint pass = 0; pass < 2; pass++) {
    for (GList *l = pass ? kb : ka; l; l = l->next) {
      const char *k = l->data;
      if (ignored(c, k)) continue;
      if (pass == 1 && json_object_has_member(a, k)) continue; /* seen in the first pass */
      JsonNode *x = json_object_get_member(a, k), *y = json_object_get_member(b, k);
      if (x && y && json_node_equal(x, y)) continue;
      n++;
      if (!out) continue;
      g_string_append_printf(out, "%s%-12s ", indent, k);
      value_text(out, x);
      g_string_append(out, "  vs  ");
      value_text(out, y);
      g_string_append_c(out, '\n');
    }
  }
  g_list_free(ka);
  g_list_free(kb);
  return n;
}

static void event_line(GString *o, const char *mark, const DsimTraceEvent *ev) {
  char b[DSIM_TIME_BUF];
  g_string_append_printf(o, "  %s line %-7" G_GUINT64_FORMAT " %-14s ", mark, ev->line, dsim_fmt_time(ev->t, b));
  dsim_describe_event(o, ev);
  g_string_append_c(o, '\n');
}

typedef struct {
  char **slots;
  guint size, next, count;
} Ring;

static void ring_push(Ring *r, char *s) {
  if (!r->size) {
    g_free(s);
    return;
  }
  g_free(r->slots[r->next]);
  r->slots[r->next] = s;
  r->next = (r->next + 1) % r->size;
  if (r->count < r->size) r->count++;
}

static void ring_write(Ring *r, GString *o) {
  for (guint i = 0; i < r->count; i++) {
    guint k = (r->next + r->size - r->count + i) % r->size;
    g_string_append(o, r->slots[k]);
  }
}

static void ring_clear(Ring *r) {
  for (guint i = 0; i < r->size; i++) g_free(r->slots[i]);
  g_free(r->slots);
}

/* After the divergence: up to n more events of one file. */
static gboolean follow(DsimTraceReader *r, guint n, GString *o, GError **error) {
  DsimTraceEvent ev;
  for (guint i = 0; i < n; i++) {
    GError *e = NULL;
    if (!dsim_trace_reader_next(r, &ev, &e)) {
      if (e) {
        g_propagate_error(error, e);
        return FALSE;
      }
      g_string_append(o, "    (end of file)\n");
      return TRUE;
    }
    event_line(o, " ", &ev);
  }
  return TRUE;
}

DsimDiffResult dsim_trace_diff(const char *path_a, const char *path_b, const DsimDiffOptions *options, FILE *out,
                               GError **error) {
  Cmp cmp = {options ? options->ignore_fields : NULL};
  guint context = options ? options->context : 3;
  DsimTraceReader *a = dsim_trace_reader_open(path_a, error);
  if (!a) return DSIM_DIFF_ERROR;
  DsimTraceReader *b = dsim_trace_reader_open(path_b, error);
  if (!b) {
    dsim_trace_reader_free(a);
    return DSIM_DIFF_ERROR;
  }
  DsimDiffResult result = DSIM_DIFF_SAME;
  GString *o = g_string_new(NULL);
  Ring ring = {g_new0(char *, context + 1), context, 0, 0};

  /* headers: every field, as JSON values */
  g_string_append_printf(o, "dsim diff: A = %s\n           B = %s\n", path_a, path_b);
  const DsimTraceHeader *ha = dsim_trace_reader_header(a), *hb = dsim_trace_reader_header(b);
  JsonObject *hoa = json_object_new(), *hob = json_object_new();
  /* rebuild comparable header objects from what the readers kept */
  json_object_set_string_member(hoa, "generator", ha->generator);
  json_object_set_string_member(hob, "generator", hb->generator);
  json_object_set_string_member(hoa, "scenario", ha->scenario);
  json_object_set_string_member(hob, "scenario", hb->scenario);
  json_object_set_int_member(hoa, "seed", (gint64)ha->seed);
  json_object_set_int_member(hob, "seed", (gint64)hb->seed);
  if (ha->has_until)
    json_object_set_int_member(hoa, "until", ha->until_ns);
  else
    json_object_set_null_member(hoa, "until");
  if (hb->has_until)
    json_object_set_int_member(hob, "until", hb->until_ns);
  else
    json_object_set_null_member(hob, "until");
  json_object_set_int_member(hoa, "max_events", (gint64)ha->max_events);
  json_object_set_int_member(hob, "max_events", (gint64)hb->max_events);
  if (ha->net) json_object_set_object_member(hoa, "net", json_object_ref(ha->net));
  if (hb->net) json_object_set_object_member(hob, "net", json_object_ref(hb->net));
  GString *hd = g_string_new(NULL);
  guint header_diffs = object_diff(&cmp, hoa, hob, hd, "  ");
  json_object_unref(hoa);
  json_object_unref(hob);
  if (header_diffs) {
    result = DSIM_DIFF_DIFFERENT;
    g_string_append_printf(o, "headers differ (%u field%s):      A  vs  B\n%s", header_diffs, header_diffs == 1 ? "" : "s",
                           hd->str);
  } else {
    g_string_append(o, "headers: the same\n");
  }
  g_string_free(hd, TRUE);

  DsimTraceEvent ea, eb;
  GError *e = NULL;
  guint64 same = 0;
  for (;;) {
    gboolean ga = dsim_trace_reader_next(a, &ea, &e);
    if (e) break;
    gboolean gb = dsim_trace_reader_next(b, &eb, &e);
    if (e) break;
    if (!ga && !gb) {
      const char *da = dsim_trace_reader_digest(a);
      g_string_append_printf(o, "events: the same %" G_GUINT64_FORMAT " events%s%s%s\n", same, da ? " (digest sha256:" : "",
                             da ? da : "", da ? ")" : "");
      break;
    }
    if (ga && gb) {
      gboolean equal = ea.raw_len == eb.raw_len && memcmp(ea.raw, eb.raw, ea.raw_len) == 0;
      if (!equal) equal = object_diff(&cmp, ea.object, eb.object, NULL, "") == 0;
      if (equal) {
        same++;
        GString *s = g_string_new(NULL);
        event_line(s, " ", &ea);
        ring_push(&ring, g_string_free(s, FALSE));
        continue;
      }
    }
    /* the first difference */
    result = DSIM_DIFF_DIFFERENT;
    char b1[DSIM_TIME_BUF];
    if (ga && gb)
      g_string_append_printf(o, "events: the first %" G_GUINT64_FORMAT " are the same; event %" G_GUINT64_FORMAT
                                " differs (A line %" G_GUINT64_FORMAT ", B line %" G_GUINT64_FORMAT ", t=%s)\n",
                             same, same + 1, ea.line, eb.line, dsim_fmt_time(MIN(ea.t, eb.t), b1));
    else
      g_string_append_printf(o, "events: the first %" G_GUINT64_FORMAT " are the same; then %s ends and %s goes on\n",
                             same, ga ? "B" : "A", ga ? "A" : "B");
    if (ring.count) {
      g_string_append(o, "before, in both:\n");
      ring_write(&ring, o);
    }
    g_string_append(o, "A:\n");
    if (ga) {
      event_line(o, ">", &ea);
    } else {
      g_string_append_printf(o, "  > (end of file%s)\n", dsim_trace_reader_complete(a) ? "" : ": stopped");
    }
    GString *fields = g_string_new(NULL);
    if (ga && gb && strcmp(ea.ev, eb.ev) != 0)
      g_string_printf(fields, "    different kinds of event: %s vs %s\n", ea.ev, eb.ev);
    else if (ga && gb)
      object_diff(&cmp, ea.object, eb.object, fields, "    ");
    if (ga && !follow(a, context, o, &e)) {
      g_string_free(fields, TRUE);
      break;
    }
    g_string_append(o, "B:\n");
    if (gb)
      event_line(o, ">", &eb);
    else
      g_string_append(o, "  > (end of file)\n");
    if (gb && !follow(b, context, o, &e)) {
      g_string_free(fields, TRUE);
      break;
    }
    if (fields->len) g_string_append_printf(o, "what differs (A vs B):\n%s", fields->str);
    g_string_free(fields, TRUE);
    break;
  }
  if (e) {
    g_propagate_error(error, e);
    result = DSIM_DIFF_ERROR;
  } else {
    fwrite(o->str, 1, o->len, out);
    GError *we = NULL;
    if (!dsim_report_check_output(out, &we)) {
      g_propagate_error(error, we);
      result = DSIM_DIFF_ERROR;
    }
  }
  ring_clear(&ring);
  g_string_free(o, TRUE);
  dsim_trace_reader_free(a);
  dsim_trace_reader_free(b);
  return result;
}
