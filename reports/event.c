/* event.c — from one parsed trace line to a checked DsimTraceEvent.
 *
 * Each kind the format documents lists the fields it must have; a line of a
 * known kind that lacks one, or has one of the wrong type, is an error (the
 * message names the kind and the field). Fields a kind does not list are
 * ignored, as the format asks of readers. Kinds this reader does not know
 * only need "t" and "ev". */
#include "reports_internal.h"

#include <string.h>

static const char *const kind_names[] = {
    [DSIM_EV_OTHER] = "?",          [DSIM_EV_SPAWN] = "spawn",     [DSIM_EV_JOIN] = "join",
    [DSIM_EV_BIND] = "bind",        [DSIM_EV_EXIT] = "exit",       [DSIM_EV_CRASH] = "crash",
    [DSIM_EV_RESTART] = "restart",  [DSIM_EV_ERROR] = "error",     [DSIM_EV_SEND] = "send",
    [DSIM_EV_DUP] = "dup",          [DSIM_EV_DROP] = "drop",       [DSIM_EV_DELIVER] = "deliver",
    [DSIM_EV_RECV] = "recv",        [DSIM_EV_TIMEOUT] = "timeout", [DSIM_EV_CORRUPT] = "corrupt",
    [DSIM_EV_CONFIG] = "config",    [DSIM_EV_PARTITION] = "partition", [DSIM_EV_HEAL] = "heal",
    [DSIM_EV_LOG] = "log",          [DSIM_EV_CHECK] = "check",     [DSIM_EV_END] = "end",
};

const char *dsim_event_kind_name(DsimEventKind kind) {
  if ((guint)kind >= G_N_ELEMENTS(kind_names)) return "?";
  return kind_names[kind];
}

DsimEventKind dsim_event_kind_from_name(const char *name, gsize len) {
  for (guint k = 1; k < G_N_ELEMENTS(kind_names); k++)
    if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0) return (DsimEventKind)k;
  return DSIM_EV_OTHER;
}

gboolean dsim_event_kind_is_skippable(DsimEventKind kind) {
  switch (kind) {
  case DSIM_EV_SEND:
  case DSIM_EV_DUP:
  case DSIM_EV_DROP:
  case DSIM_EV_DELIVER:
  case DSIM_EV_RECV:
  case DSIM_EV_TIMEOUT:
  case DSIM_EV_CORRUPT:
  case DSIM_EV_LOG:
  case DSIM_EV_CHECK:
    return TRUE;
  default:
    return FALSE;
  }
}

/* ---------------------------------------------------------------- typed fields */

typedef struct {
  JsonObject *o;
  const char *kind;
  GString *why;
} Fields;

static JsonNode *member(Fields *f, const char *name, gboolean required) {
  JsonNode *n = json_object_get_member(f->o, name);
  if (!n && required) g_string_printf(f->why, "\"%s\" event: missing field \"%s\"", f->kind, name);
  return n;
}

static gboolean wrong_type(Fields *f, const char *name, const char *what) {
  g_string_printf(f->why, "\"%s\" event: field \"%s\" must be %s", f->kind, name, what);
  return FALSE;
}

static gboolean is_integer(JsonNode *n) {
  return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
}

/* An unsigned field (pid, mid, ...). json-glib keeps integers as gint64;
 * values above 2^63 would appear negative and are refused here, since no
 * pid or counter of a real run gets near that. */
static gboolean get_uint(Fields *f, const char *name, gboolean required, guint64 *out) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!is_integer(n) || json_node_get_int(n) < 0) return wrong_type(f, name, "a non-negative integer");
  *out = (guint64)json_node_get_int(n);
  return TRUE;
}

static gboolean get_str(Fields *f, const char *name, gboolean required, const char **out) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return wrong_type(f, name, "a string");
  *out = json_node_get_string(n);
  return TRUE;
}

static gboolean get_bool(Fields *f, const char *name, gboolean required, gboolean *out) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return wrong_type(f, name, "true or false");
  *out = json_node_get_boolean(n);
  return TRUE;
}

static gboolean get_array(Fields *f, const char *name, gboolean required, JsonArray **out) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!JSON_NODE_HOLDS_ARRAY(n)) return wrong_type(f, name, "an array");
  *out = json_node_get_array(n);
  return TRUE;
}

static gboolean get_object(Fields *f, const char *name, gboolean required) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!JSON_NODE_HOLDS_OBJECT(n)) return wrong_type(f, name, "an object");
  return TRUE;
}

/* A partition side or the end line's blocked list: pids (non-negative
 * integers) and, for sides, subgroup names. */
static gboolean check_members(Fields *f, const char *name, JsonArray *a, gboolean names_allowed) {
  guint n = json_array_get_length(a);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (is_integer(e) && json_node_get_int(e) >= 0) continue;
    if (names_allowed && JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING) continue;
    return wrong_type(f, name, names_allowed ? "a list of pids and subgroup names" : "a list of pids");
  }
  return TRUE;
}

/* A pid or subgroup name, or a list of those (config rules' from/to). */
static gboolean check_selector(Fields *f, const char *name) {
  JsonNode *n = member(f, name, TRUE);
  if (!n) return FALSE;
  if (JSON_NODE_HOLDS_ARRAY(n)) return check_members(f, name, json_node_get_array(n), TRUE);
  if (is_integer(n) && json_node_get_int(n) >= 0) return TRUE;
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) return TRUE;
  return wrong_type(f, name, "a pid, a subgroup name or a list of those");
}

/* ---------------------------------------------------------------- per kind */

static gboolean fill_fields(Fields *f, DsimTraceEvent *ev) {
  switch (ev->kind) {
  case DSIM_EV_SPAWN:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "kind", TRUE, &ev->proc_kind) &&
           get_str(f, "fn", FALSE, &ev->fn) && get_uint(f, "parent", TRUE, &ev->parent);
  case DSIM_EV_JOIN:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "ch", TRUE, &ev->ch) &&
           get_str(f, "group", TRUE, &ev->group) && get_bool(f, "reserved", FALSE, &ev->reserved);
  case DSIM_EV_BIND:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_uint(f, "from", TRUE, &ev->from);
  case DSIM_EV_EXIT:
    return get_uint(f, "pid", TRUE, &ev->pid);
  case DSIM_EV_CRASH:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_RESTART:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_uint(f, "incarnation", TRUE, &ev->incarnation);
  case DSIM_EV_ERROR:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "msg", TRUE, &ev->msg);
  case DSIM_EV_SEND:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_str(f, "ch", TRUE, &ev->ch) &&
           get_uint(f, "src", TRUE, &ev->src) && get_uint(f, "dst", TRUE, &ev->dst) &&
           get_uint(f, "size", TRUE, &ev->size) && get_str(f, "data", TRUE, &ev->data);
  case DSIM_EV_DUP:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_uint(f, "copy", TRUE, &ev->copy) &&
           get_uint(f, "src", TRUE, &ev->src) && get_uint(f, "dst", TRUE, &ev->dst);
  case DSIM_EV_DROP:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_uint(f, "copy", TRUE, &ev->copy) &&
           get_uint(f, "src", TRUE, &ev->src) && get_uint(f, "dst", TRUE, &ev->dst) &&
           get_str(f, "reason", TRUE, &ev->reason);
  case DSIM_EV_DELIVER:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_uint(f, "copy", TRUE, &ev->copy) &&
           get_uint(f, "src", TRUE, &ev->src) && get_uint(f, "dst", TRUE, &ev->dst) &&
           get_bool(f, "corrupted", FALSE, &ev->corrupted);
  case DSIM_EV_RECV:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_uint(f, "copy", TRUE, &ev->copy) &&
           get_uint(f, "pid", TRUE, &ev->pid) && get_uint(f, "src", TRUE, &ev->src);
  case DSIM_EV_TIMEOUT:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "op", TRUE, &ev->op) &&
           get_str(f, "ch", TRUE, &ev->ch);
  case DSIM_EV_CORRUPT:
    /* Not in format version 1's tables (SPEC.md names the kind): read the
     * fields a message event has, and only require the message id. */
    ev->corrupted = TRUE;
    return get_uint(f, "mid", TRUE, &ev->mid) && get_uint(f, "copy", FALSE, &ev->copy) &&
           get_uint(f, "src", FALSE, &ev->src) && get_uint(f, "dst", FALSE, &ev->dst);
  case DSIM_EV_CONFIG:
    if (json_object_has_member(f->o, "defaults")) return get_object(f, "defaults", TRUE);
    if (json_object_has_member(f->o, "removed")) { /* a link rule was removed */
      guint64 id;
      return get_uint(f, "removed", TRUE, &id);
    }
    if (!json_object_has_member(f->o, "link")) {
      g_string_printf(f->why, "\"config\" event: needs \"defaults\", \"removed\", or \"from\", \"to\" and \"link\"");
      return FALSE;
    }
    return check_selector(f, "from") && check_selector(f, "to") && get_object(f, "link", TRUE);
  case DSIM_EV_PARTITION:
    return get_uint(f, "id", TRUE, &ev->id) && get_array(f, "a", TRUE, &ev->a) &&
           check_members(f, "a", ev->a, TRUE) && get_array(f, "b", TRUE, &ev->b) &&
           check_members(f, "b", ev->b, TRUE) && get_bool(f, "oneway", TRUE, &ev->oneway);
  case DSIM_EV_HEAL:
    return get_uint(f, "id", TRUE, &ev->id);
  case DSIM_EV_LOG:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "msg", TRUE, &ev->msg);
  case DSIM_EV_CHECK:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_bool(f, "ok", TRUE, &ev->ok) &&
           get_str(f, "msg", TRUE, &ev->msg) && get_str(f, "where", FALSE, &ev->where);
  case DSIM_EV_END:
    return get_str(f, "reason", TRUE, &ev->reason) && get_array(f, "blocked", TRUE, &ev->blocked) &&
           check_members(f, "blocked", ev->blocked, FALSE);
  case DSIM_EV_OTHER:
    return TRUE;
  }
  return TRUE;
}

gboolean dsim_event_fill(JsonObject *o, DsimTraceEvent *ev, GString *why) {
  guint64 line = ev->line;
  const char *raw = ev->raw;
  gsize raw_len = ev->raw_len;
  memset(ev, 0, sizeof *ev);
  ev->line = line;
  ev->raw = raw;
  ev->raw_len = raw_len;
  ev->object = o;
  JsonNode *t = json_object_get_member(o, "t");
  JsonNode *k = json_object_get_member(o, "ev");
  if (!k || !JSON_NODE_HOLDS_VALUE(k) || json_node_get_value_type(k) != G_TYPE_STRING) {
    g_string_assign(why, "not a trace event: no \"ev\" string");
    return FALSE;
  }
  ev->ev = json_node_get_string(k);
  if (strcmp(ev->ev, "header") == 0) {
    g_string_assign(why, "a second header line (two traces concatenated?)");
    return FALSE;
  }
  if (!t) {
    g_string_printf(why, "\"%s\" event: missing field \"t\"", ev->ev);
    return FALSE;
  }
  if (!is_integer(t) || json_node_get_int(t) < 0) {
    g_string_printf(why, "\"%s\" event: field \"t\" must be a non-negative integer (nanoseconds)", ev->ev);
    return FALSE;
  }
  ev->t = json_node_get_int(t);
  ev->kind = dsim_event_kind_from_name(ev->ev, strlen(ev->ev));
  Fields f = {o, ev->ev, why};
  return fill_fields(&f, ev);
}
