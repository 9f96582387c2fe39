/* format.c — times, numbers, escaping and one-line event descriptions
 * shared by every output. Integer arithmetic only for times, so the same
 * trace prints the same text on every machine. */
#include "reports_internal.h"

#include <string.h>

static const struct {
  gint64 ns;
  const char *suffix;
} units[] = {{1, "ns"}, {1000, "us"}, {1000000, "ms"}, {1000000000, "s"}};

char *dsim_fmt_duration(gint64 ns, char buf[DSIM_TIME_BUF]) {
  const char *sign = "";
  guint64 v = (guint64)ns;
  if (ns < 0) {
    sign = "-";
    v = (guint64)0 - v;
  }
  guint u = 0;
  while (u + 1 < G_N_ELEMENTS(units) && v >= (guint64)units[u + 1].ns) u++;
  for (;;) {
    guint64 unit = (guint64)units[u].ns;
    guint64 ip = v / unit;
    guint digits = 1;
    for (guint64 x = ip; x >= 10; x /= 10) digits++;
    guint dec = unit == 1 || digits >= 4 ? 0 : 4 - digits;
    guint64 scale = 1;
    for (guint i = 0; i < dec; i++) scale *= 10;
    guint64 rounded = (v * scale + unit / 2) / unit;
    /* 999.96us rounds to 1000.0us: say 1.000ms instead */
    if (dec > 0 && rounded >= 10000 && u + 1 < G_N_ELEMENTS(units)) {
      u++;
      continue;
    }
    /* "3.100ms" reads as "3.1ms": drop trailing zeros of the fraction */
    while (dec > 0 && rounded % 10 == 0) {
      rounded /= 10;
      scale /= 10;
      dec--;
    }
    if (dec == 0)
      g_snprintf(buf, DSIM_TIME_BUF, "%s%" G_GUINT64_FORMAT "%s", sign, rounded, units[u].suffix);
    else
      g_snprintf(buf, DSIM_TIME_BUF, "%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT "%s", sign, rounded / scale,
                 (int)dec, rounded % scale, units[u].suffix);
    return buf;
  }
}

char *dsim_fmt_time(gint64 ns, char buf[DSIM_TIME_BUF]) {
  const char *sign = "";
  guint64 v = (guint64)ns;
  if (ns < 0) {
    sign = "-";
    v = (guint64)0 - v;
  }
  guint64 s = v / 1000000000u, frac = v % 1000000000u;
  if (frac == 0) {
    g_snprintf(buf, DSIM_TIME_BUF, "%s%" G_GUINT64_FORMAT "s", sign, s);
    return buf;
  }
  int width = 9;
  while (frac % 10 == 0) {
    frac /= 10;
    width--;
  }
  g_snprintf(buf, DSIM_TIME_BUF, "%s%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT "s", sign, s, width, frac);
  return buf;
}

void dsim_html_escape(GString *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '&': g_string_append(out, "&amp;"); break;
    case '<': g_string_append(out, "&lt;"); break;
    case '>': g_string_append(out, "&gt;"); break;
    case '"': g_string_append(out, "&quot;"); break;
    case '\'': g_string_append(out, "&#39;"); break;
    case '\n': g_string_append(out, "&#10;"); break;
    case '\t': g_string_append_c(out, ' '); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        g_string_append(out, "\xef\xbf\xbd"); /* U+FFFD: control characters are not allowed in HTML text */
      else
        g_string_append_c(out, (char)*p);
    }
  }
}

void dsim_json_quote(GString *out, const char *s) {
  static const char hex[] = "0123456789abcdef";
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': g_string_append(out, "\\\""); break;
    case '\\': g_string_append(out, "\\\\"); break;
    case '\n': g_string_append(out, "\\n"); break;
    case '\r': g_string_append(out, "\\r"); break;
    case '\t': g_string_append(out, "\\t"); break;
    default:
      if (*p < 0x20 || *p == 0x7f) {
        g_string_append(out, "\\u00");
        g_string_append_c(out, hex[*p >> 4]);
        g_string_append_c(out, hex[*p & 15]);
      } else {
        g_string_append_c(out, (char)*p);
      }
    }
  }
  g_string_append_c(out, '"');
}

void dsim_append_clean(GString *out, const char *s, guint max) {
  guint n = 0;
  for (const char *p = s; *p; p = g_utf8_next_char(p)) {
    if (n == max) {
      g_string_append(out, "...");
      return;
    }
    gunichar c = g_utf8_get_char(p);
    if (c < 0x20 || c == 0x7f)
      g_string_append_c(out, ' ');
    else
      g_string_append_len(out, p, g_utf8_next_char(p) - p);
    n++;
  }
}

/* A JSON number as text: integers exactly, doubles in %.6g. */
static void append_number(GString *out, JsonNode *n) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (json_node_get_value_type(n) == G_TYPE_INT64)
    g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(n));
  else if (json_node_get_value_type(n) == G_TYPE_DOUBLE)
    g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.6g", json_node_get_double(n)));
  else if (json_node_get_value_type(n) == G_TYPE_BOOLEAN)
    g_string_append(out, json_node_get_boolean(n) ? "true" : "false");
  else if (json_node_get_value_type(n) == G_TYPE_STRING)
    dsim_append_clean(out, json_node_get_string(n), 60);
  else
    g_string_append(out, "null");
}

static void append_json(GString *out, JsonNode *n, guint max) {
  char *s = json_to_string(n, FALSE);
  dsim_append_clean(out, s, max);
  g_free(s);
}

void dsim_describe_members(GString *out, JsonArray *a) {
  guint n = json_array_get_length(a);
  for (guint i = 0; i < n; i++) {
    if (i) g_string_append(out, ", ");
    JsonNode *e = json_array_get_element(a, i);
    if (JSON_NODE_HOLDS_VALUE(e))
      append_number(out, e);
    else
      append_json(out, e, 40);
  }
}

void dsim_describe_delay(GString *out, JsonNode *delay) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF];
  if (JSON_NODE_HOLDS_ARRAY(delay)) {
    JsonArray *a = json_node_get_array(delay);
    guint n = json_array_get_length(a);
    JsonNode *kind = n ? json_array_get_element(a, 0) : NULL;
    if (kind && JSON_NODE_HOLDS_VALUE(kind) && json_node_get_value_type(kind) == G_TYPE_STRING) {
      gboolean ints = TRUE;
      for (guint i = 1; i < n; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64) ints = FALSE;
      }
      const char *name = json_node_get_string(kind);
      if (ints && strcmp(name, "constant") == 0 && n == 2) {
        g_string_append(out, dsim_fmt_duration(json_array_get_int_element(a, 1), b1));
        return;
      }
      if (ints && strcmp(name, "uniform") == 0 && n == 3) {
        g_string_append_printf(out, "uniform %s..%s", dsim_fmt_duration(json_array_get_int_element(a, 1), b1),
                               dsim_fmt_duration(json_array_get_int_element(a, 2), b2));
        return;
      }
    }
  }
  append_json(out, delay, 60);
}

static void describe_link_fields(GString *out, JsonObject *o) {
  gboolean first = TRUE;
  static const char *const keys[] = {"delay", "loss", "duplicate"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    JsonNode *n = json_object_get_member(o, keys[i]);
    if (!n) continue;
    g_string_append_printf(out, "%s%s ", first ? "" : ", ", keys[i]);
    first = FALSE;
    if (i == 0)
      dsim_describe_delay(out, n);
    else if (JSON_NODE_HOLDS_VALUE(n))
      append_number(out, n);
    else
      append_json(out, n, 40);
  }
  /* fields added by later versions, in the order written */
  GList *members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    if (!strcmp(k, "delay") || !strcmp(k, "loss") || !strcmp(k, "duplicate") || !strcmp(k, "links")) continue;
    g_string_append_printf(out, "%s%s ", first ? "" : ", ", k);
    first = FALSE;
    append_json(out, json_object_get_member(o, k), 40);
  }
  g_list_free(members);
  if (first) g_string_append(out, "(nothing)");
}

void dsim_describe_net(GString *out, JsonObject *net) {
  if (!net) {
    g_string_append(out, "(not recorded)");
    return;
  }
  describe_link_fields(out, net);
  JsonNode *links = json_object_get_member(net, "links");
  if (links && JSON_NODE_HOLDS_ARRAY(links)) {
    guint n = json_array_get_length(json_node_get_array(links));
    if (n) g_string_append_printf(out, "; %u link rule%s", n, n == 1 ? "" : "s");
  }
}

static void append_selector(GString *out, JsonNode *n) {
  if (!n || JSON_NODE_HOLDS_NULL(n)) {
    g_string_append(out, "any");
  } else if (JSON_NODE_HOLDS_ARRAY(n)) {
    g_string_append_c(out, '{');
    dsim_describe_members(out, json_node_get_array(n));
    g_string_append_c(out, '}');
  } else {
    append_number(out, n);
  }
}

/* " (nemesis)": who injected a fault, when the trace says. */
static void append_cause(GString *out, const char *cause) {
  if (!cause) return;
  g_string_append(out, " (");
  dsim_append_clean(out, cause, 40);
  g_string_append_c(out, ')');
}

static void append_copy(GString *out, const DsimTraceEvent *ev) {
  g_string_append_printf(out, "%s #%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "->%" G_GUINT64_FORMAT,
                         ev->ev, ev->mid, ev->copy, ev->src, ev->dst);
}

/* "(rule #1)", "(config)": what made a fault that touched a copy */
static void append_fault_cause(GString *out, const DsimTraceEvent *ev) {
  if (ev->has_rule)
    g_string_append_printf(out, " (rule #%" G_GUINT64_FORMAT ")", ev->rule);
  else
    append_cause(out, ev->cause);
}

static void append_sides(GString *out, const DsimTraceEvent *ev) {
  g_string_append_c(out, '{');
  dsim_describe_members(out, ev->a);
  g_string_append(out, ev->oneway ? "} -> {" : "} | {");
  dsim_describe_members(out, ev->b);
  g_string_append_c(out, '}');
}

void dsim_describe_clock(GString *out, gint64 offset, double drift) {
  char b[DSIM_TIME_BUF], d[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf(out, "offset %s%s, drift %s", offset > 0 ? "+" : "", dsim_fmt_duration(offset, b),
                         g_ascii_formatd(d, sizeof d, "%g", drift));
}

static void describe_stable(GString *out, const DsimTraceEvent *ev) {
  g_string_append_printf(out, "%s pid %" G_GUINT64_FORMAT ": ", ev->ev, ev->pid);
  if (ev->kind == DSIM_EV_STABLE) {
    dsim_append_clean(out, ev->op, 20);
    if (ev->key) {
      g_string_append(out, " \"");
      dsim_append_clean(out, ev->key, 40);
      g_string_append_c(out, '"');
    }
    if (!strcmp(ev->op, "set")) g_string_append_printf(out, " (%" G_GUINT64_FORMAT " B)", ev->size);
    if (!strcmp(ev->op, "sync")) g_string_append_printf(out, " %" G_GUINT64_FORMAT " keys", ev->keys);
    return;
  }
  g_string_append(out, "unsynced write to \"");
  dsim_append_clean(out, ev->key, 40);
  g_string_append_c(out, '"');
  if (ev->kind == DSIM_EV_STABLE_LOST)
    g_string_append(out, " lost");
  else
    g_string_append_printf(out, " torn, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " B kept", ev->kept, ev->size);
  append_cause(out, ev->cause);
}

void dsim_describe_nemesis(GString *out, const DsimTraceEvent *ev) {
  char b[DSIM_TIME_BUF];
  dsim_append_clean(out, ev->fault, 30);
  if (ev->skipped) {
    g_string_append(out, ": turn skipped, no target fitted");
    return;
  }
  JsonNode *targets = json_object_get_member(ev->object, "targets");
  JsonNode *loss = json_object_get_member(ev->object, "loss");
  if (ev->a && ev->b) {
    g_string_append(out, " {");
    dsim_describe_members(out, ev->a);
    g_string_append(out, "} | {");
    dsim_describe_members(out, ev->b);
    g_string_append_c(out, '}');
  } else if (json_object_has_member(ev->object, "src") && json_object_has_member(ev->object, "dst")) {
    g_string_append_printf(out, " %" G_GUINT64_FORMAT "->%" G_GUINT64_FORMAT, ev->src, ev->dst);
  } else if (json_object_has_member(ev->object, "pid")) {
    g_string_append_printf(out, " pid %" G_GUINT64_FORMAT, ev->pid);
  }
  if (loss && JSON_NODE_HOLDS_VALUE(loss)) {
    g_string_append(out, " ");
    append_number(out, loss);
  }
  if (targets && JSON_NODE_HOLDS_ARRAY(targets)) {
    g_string_append(out, " among {");
    dsim_describe_members(out, json_node_get_array(targets));
    g_string_append_c(out, '}');
  }
  if (json_object_has_member(ev->object, "duration"))
    g_string_append_printf(out, " for %s", dsim_fmt_duration((gint64)ev->duration, b));
}

void dsim_describe_rule(GString *out, const DsimTraceEvent *ev) {
  append_selector(out, json_object_get_member(ev->object, "from"));
  g_string_append(out, " -> ");
  append_selector(out, json_object_get_member(ev->object, "to"));
  if (ev->kind == DSIM_EV_CONFIG) {
    g_string_append(out, ": ");
    describe_link_fields(out, json_object_get_object_member(ev->object, "link"));
  } else if (ev->name) {
    g_string_append(out, " \"");
    dsim_append_clean(out, ev->name, 80);
    g_string_append_c(out, '"');
  }
}

static void describe_config(GString *out, const DsimTraceEvent *ev) {
  if (json_object_has_member(ev->object, "defaults")) {
    g_string_append(out, "net.configure ");
    describe_link_fields(out, json_object_get_object_member(ev->object, "defaults"));
    return;
  }
  if (ev->has_removed) {
    g_string_append_printf(out, "net.unlink rule #%" G_GUINT64_FORMAT, ev->removed);
    append_cause(out, ev->cause);
    return;
  }
  g_string_append(out, "net.link ");
  if (json_object_has_member(ev->object, "id")) g_string_append_printf(out, "#%" G_GUINT64_FORMAT " ", ev->id);
  dsim_describe_rule(out, ev);
  if (ev->cause && strcmp(ev->cause, "scenario") != 0) append_cause(out, ev->cause);
}

/* Kinds that fault injection added. */
static void describe_fault(GString *out, const DsimTraceEvent *ev) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF];
  switch (ev->kind) {
  case DSIM_EV_PAUSE:
  case DSIM_EV_RESUME:
    g_string_append_printf(out, "%s pid %" G_GUINT64_FORMAT, ev->ev, ev->pid);
    append_cause(out, ev->cause);
    break;
  case DSIM_EV_CLOCK:
    g_string_append_printf(out, "clock pid %" G_GUINT64_FORMAT ": ", ev->pid);
    dsim_describe_clock(out, ev->offset, ev->drift);
    append_cause(out, ev->cause);
    break;
  case DSIM_EV_STABLE:
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
    describe_stable(out, ev);
    break;
  case DSIM_EV_DELAY:
    append_copy(out, ev);
    g_string_append_printf(out, " +%s", dsim_fmt_duration((gint64)ev->extra, b1));
    append_fault_cause(out, ev);
    break;
  case DSIM_EV_HELD:
    append_copy(out, ev);
    if (ev->has_hold)
      g_string_append_printf(out, " (by hold #%" G_GUINT64_FORMAT ")", ev->hold);
    else if (!strcmp(ev->reason, "paused"))
      g_string_append_printf(out, " (pid %" G_GUINT64_FORMAT " paused)", ev->dst);
    else {
      g_string_append(out, " (");
      dsim_append_clean(out, ev->reason, 30);
      g_string_append_c(out, ')');
    }
    break;
  case DSIM_EV_LINK_DOWN:
  case DSIM_EV_HOLD:
    g_string_append_printf(out, "%s #%" G_GUINT64_FORMAT " ", ev->ev, ev->id);
    append_sides(out, ev);
    append_cause(out, ev->cause);
    break;
  case DSIM_EV_LINK_UP:
    g_string_append_printf(out, "link_up #%" G_GUINT64_FORMAT, ev->id);
    append_cause(out, ev->cause);
    break;
  case DSIM_EV_RELEASE:
    g_string_append_printf(out, "release #%" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " message%s kept", ev->id,
                           ev->messages, ev->messages == 1 ? "" : "s");
    append_cause(out, ev->cause);
    break;
  case DSIM_EV_RULE:
    g_string_append_printf(out, "rule #%" G_GUINT64_FORMAT " ", ev->id);
    dsim_describe_rule(out, ev);
    break;
  case DSIM_EV_UNRULE:
  case DSIM_EV_NEMESIS_STOP:
    g_string_append_printf(out, "%s #%" G_GUINT64_FORMAT, ev->ev, ev->id);
    break;
  case DSIM_EV_NEMESIS_START:
    g_string_append_printf(out, "nemesis_start #%" G_GUINT64_FORMAT " from %s to %s", ev->id,
                           dsim_fmt_time((gint64)ev->start, b1), dsim_fmt_time((gint64)ev->stop, b2));
    break;
  case DSIM_EV_NEMESIS:
    g_string_append_printf(out, "nemesis #%" G_GUINT64_FORMAT " ", ev->id);
    dsim_describe_nemesis(out, ev);
    break;
  default:
    break;
  }
}

void dsim_describe_event(GString *out, const DsimTraceEvent *ev) {
  switch (ev->kind) {
  case DSIM_EV_SPAWN:
    g_string_append_printf(out, "spawn pid %" G_GUINT64_FORMAT " (%s", ev->pid, ev->proc_kind);
    if (ev->fn) {
      g_string_append(out, ", ");
      dsim_append_clean(out, ev->fn, 60);
    }
    g_string_append_c(out, ')');
    if (ev->parent) g_string_append_printf(out, " by pid %" G_GUINT64_FORMAT, ev->parent);
    break;
  case DSIM_EV_JOIN:
    g_string_append_printf(out, "join pid %" G_GUINT64_FORMAT " to ", ev->pid);
    dsim_append_clean(out, ev->group, 40);
    if (ev->reserved) g_string_append(out, " (reserved)");
    break;
  case DSIM_EV_BIND:
    g_string_append_printf(out, "bind pid %" G_GUINT64_FORMAT " becomes %" G_GUINT64_FORMAT, ev->from, ev->pid);
    break;
  case DSIM_EV_EXIT:
    g_string_append_printf(out, "exit pid %" G_GUINT64_FORMAT, ev->pid);
    break;
  case DSIM_EV_CRASH:
    g_string_append_printf(out, "crash pid %" G_GUINT64_FORMAT " (", ev->pid);
    dsim_append_clean(out, ev->cause, 40);
    g_string_append_c(out, ')');
    break;
  case DSIM_EV_RESTART:
    g_string_append_printf(out, "restart pid %" G_GUINT64_FORMAT " (incarnation %" G_GUINT64_FORMAT ")", ev->pid,
                           ev->incarnation);
    break;
  case DSIM_EV_ERROR:
    g_string_append_printf(out, "error in pid %" G_GUINT64_FORMAT ": ", ev->pid);
    dsim_append_clean(out, ev->msg, 200);
    break;
  case DSIM_EV_SEND:
    g_string_append_printf(out, "send #%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "->%" G_GUINT64_FORMAT
                                " %" G_GUINT64_FORMAT " B \"",
                           ev->mid, ev->src, ev->dst, ev->size);
    dsim_append_clean(out, ev->data, 70);
    g_string_append_c(out, '"');
    break;
  case DSIM_EV_DUP:
  case DSIM_EV_DELIVER:
    append_copy(out, ev);
    if (ev->kind == DSIM_EV_DELIVER && ev->corrupted) g_string_append(out, " (corrupted)");
    if (ev->kind == DSIM_EV_DUP) append_fault_cause(out, ev);
    break;
  case DSIM_EV_CORRUPT:
    append_copy(out, ev);
    g_string_append_printf(out, ": %" G_GUINT64_FORMAT " bit%s flipped", ev->bits, ev->bits == 1 ? "" : "s");
    append_fault_cause(out, ev);
    break;
  case DSIM_EV_DROP:
    append_copy(out, ev);
    g_string_append(out, " (");
    dsim_append_clean(out, ev->reason, 40);
    if (ev->has_rule) g_string_append_printf(out, ", rule #%" G_GUINT64_FORMAT, ev->rule);
    if (ev->has_cut) g_string_append_printf(out, ", cut #%" G_GUINT64_FORMAT, ev->cut);
    if (ev->cause && strcmp(ev->cause, "config") && strcmp(ev->cause, "rule")) {
      g_string_append(out, ", by ");
      dsim_append_clean(out, ev->cause, 40);
    }
    g_string_append_c(out, ')');
    break;
  case DSIM_EV_RECV:
    g_string_append_printf(out, "recv #%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT " by %" G_GUINT64_FORMAT " from %" G_GUINT64_FORMAT,
                           ev->mid, ev->copy, ev->pid, ev->src);
    break;
  case DSIM_EV_TIMEOUT:
    g_string_append_printf(out, "timeout pid %" G_GUINT64_FORMAT " in ", ev->pid);
    dsim_append_clean(out, ev->op, 40);
    break;
  case DSIM_EV_CONFIG:
    describe_config(out, ev);
    break;
  case DSIM_EV_PARTITION:
    g_string_append_printf(out, "partition #%" G_GUINT64_FORMAT " ", ev->id);
    append_sides(out, ev);
    if (ev->cause && strcmp(ev->cause, "scenario")) append_cause(out, ev->cause);
    break;
  case DSIM_EV_HEAL:
    g_string_append_printf(out, "heal #%" G_GUINT64_FORMAT, ev->id);
    if (ev->cause && strcmp(ev->cause, "scenario")) append_cause(out, ev->cause);
    break;
  case DSIM_EV_LOG:
    g_string_append_printf(out, "log pid %" G_GUINT64_FORMAT ": ", ev->pid);
    dsim_append_clean(out, ev->msg, 200);
    break;
  case DSIM_EV_CHECK:
    g_string_append_printf(out, "check %s pid %" G_GUINT64_FORMAT ": ", ev->ok ? "ok" : "FAILED", ev->pid);
    dsim_append_clean(out, ev->msg, 200);
    if (ev->where) {
      g_string_append(out, " (");
      dsim_append_clean(out, ev->where, 80);
      g_string_append_c(out, ')');
    }
    break;
  case DSIM_EV_END:
    g_string_append(out, "end ");
    dsim_append_clean(out, ev->reason, 40);
    if (json_array_get_length(ev->blocked)) {
      g_string_append(out, ", blocked: ");
      dsim_describe_members(out, ev->blocked);
    }
    break;
  case DSIM_EV_PAUSE:
  case DSIM_EV_RESUME:
  case DSIM_EV_CLOCK:
  case DSIM_EV_STABLE:
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
  case DSIM_EV_DELAY:
  case DSIM_EV_HELD:
  case DSIM_EV_LINK_DOWN:
  case DSIM_EV_LINK_UP:
  case DSIM_EV_HOLD:
  case DSIM_EV_RELEASE:
  case DSIM_EV_RULE:
  case DSIM_EV_UNRULE:
  case DSIM_EV_NEMESIS_START:
  case DSIM_EV_NEMESIS:
  case DSIM_EV_NEMESIS_STOP:
    describe_fault(out, ev);
    break;
  case DSIM_EV_OTHER: {
    GString *raw = g_string_new_len(ev->raw, (gssize)ev->raw_len);
    dsim_append_clean(out, raw->str, 200);
    g_string_free(raw, TRUE);
    break;
  }
  }
}
