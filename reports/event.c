/* event.c — from one parsed trace line to a checked DsimTraceEvent.
 *
 * Each kind the format documents lists the fields it must have; a line of a
 * known kind that lacks one, or has one of the wrong type, is an error (the
 * message names the kind and the field). Fields a kind does not list are
 * ignored, as the format asks of readers. Kinds this reader does not know
 * only need "t" and "ev".
 *
 * Fields that fault injection added to older kinds (cause on partition,
 * heal, restart, dup and drop) are optional, so traces written before it
 * still read; the kinds it added require what the format lists. */
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
    [DSIM_EV_PAUSE] = "pause",      [DSIM_EV_RESUME] = "resume",   [DSIM_EV_CLOCK] = "clock",
    [DSIM_EV_STABLE] = "stable",    [DSIM_EV_STABLE_LOST] = "stable_lost",
    [DSIM_EV_STABLE_TORN] = "stable_torn", [DSIM_EV_DELAY] = "delay", [DSIM_EV_HELD] = "held",
    [DSIM_EV_LINK_DOWN] = "link_down", [DSIM_EV_LINK_UP] = "link_up", [DSIM_EV_HOLD] = "hold",
    [DSIM_EV_RELEASE] = "release",  [DSIM_EV_RULE] = "rule",       [DSIM_EV_UNRULE] = "unrule",
    [DSIM_EV_NEMESIS_START] = "nemesis_start", [DSIM_EV_NEMESIS] = "nemesis",
    [DSIM_EV_NEMESIS_STOP] = "nemesis_stop",
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

/* Skippable: events about one message copy, logs, checks, stable-storage
 * operations and the nemesis's own announcements (the faults it injects
 * are separate events, which are not skipped). Not skippable: anything
 * whose state outlives the event — processes (crash, restart, pause,
 * resume, clock), cuts (partition, link_down, hold and their ends) and
 * rules (config, rule, unrule), whose ids later events refer to. */
gboolean dsim_event_kind_is_skippable(DsimEventKind kind) {
  switch (kind) {
  case DSIM_EV_STABLE:
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
  case DSIM_EV_DELAY:
  case DSIM_EV_HELD:
  case DSIM_EV_NEMESIS_START:
  case DSIM_EV_NEMESIS:
  case DSIM_EV_NEMESIS_STOP:
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

gboolean dsim_event_kind_is_network(DsimEventKind kind) {
  switch (kind) {
  case DSIM_EV_CONFIG:
  case DSIM_EV_PARTITION:
  case DSIM_EV_HEAL:
  case DSIM_EV_LINK_DOWN:
  case DSIM_EV_LINK_UP:
  case DSIM_EV_HOLD:
  case DSIM_EV_RELEASE:
  case DSIM_EV_RULE:
  case DSIM_EV_UNRULE:
  case DSIM_EV_NEMESIS_START:
  case DSIM_EV_NEMESIS:
  case DSIM_EV_NEMESIS_STOP:
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
  gint64 version; /* the trace's format version */
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

/* A signed integer (clock offsets may be negative). */
static gboolean get_int(Fields *f, const char *name, gboolean required, gint64 *out, gboolean *has) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!is_integer(n)) return wrong_type(f, name, "an integer");
  *out = json_node_get_int(n);
  if (has) *has = TRUE;
  return TRUE;
}

/* Any JSON number (drift, loss probabilities). */
static gboolean get_number(Fields *f, const char *name, gboolean required, double *out) {
  JsonNode *n = member(f, name, required);
  if (!n) return !required;
  if (!JSON_NODE_HOLDS_VALUE(n)) return wrong_type(f, name, "a number");
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64)
    *out = (double)json_node_get_int(n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double(n);
  else
    return wrong_type(f, name, "a number");
  return TRUE;
}

/* An optional unsigned field whose presence matters (rule, cut, hold). */
static gboolean get_opt_uint(Fields *f, const char *name, guint64 *out, gboolean *has) {
  if (!json_object_has_member(f->o, name)) return TRUE;
  if (!get_uint(f, name, TRUE, out)) return FALSE;
  *has = TRUE;
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

/* A message rule's from/to: a selector, or null for any process. */
static gboolean check_selector_or_null(Fields *f, const char *name) {
  JsonNode *n = member(f, name, TRUE);
  if (!n) return FALSE;
  if (JSON_NODE_HOLDS_NULL(n)) return TRUE;
  return check_selector(f, name);
}

static gboolean check_sides(Fields *f, DsimTraceEvent *ev) {
  return get_array(f, "a", TRUE, &ev->a) && check_members(f, "a", ev->a, TRUE) && get_array(f, "b", TRUE, &ev->b) &&
         check_members(f, "b", ev->b, TRUE) && get_bool(f, "oneway", TRUE, &ev->oneway);
}

/* Version 2 leaves `copy` out when it is 0 and `ch` for the default
 * channel; version 1 always wrote both. */
static gboolean get_copy(Fields *f, DsimTraceEvent *ev) {
  return get_uint(f, "copy", f->version < 2, &ev->copy);
}

static gboolean get_ch(Fields *f, DsimTraceEvent *ev) {
  if (!get_str(f, "ch", f->version < 2, &ev->ch)) return FALSE;
  if (!ev->ch) ev->ch = "default";
  return TRUE;
}

static gboolean copy_fields(Fields *f, DsimTraceEvent *ev) {
  return get_uint(f, "mid", TRUE, &ev->mid) && get_copy(f, ev) && get_uint(f, "src", TRUE, &ev->src) &&
         get_uint(f, "dst", TRUE, &ev->dst);
}

/* The cause of a fault that touched a message, and the rule behind it. A
 * rule's id is required when the cause says a rule did it. Traces written
 * before causes were recorded have neither. */
static gboolean fault_cause(Fields *f, DsimTraceEvent *ev, gboolean required) {
  if (!get_str(f, "cause", required, &ev->cause) || !get_opt_uint(f, "rule", &ev->rule, &ev->has_rule)) return FALSE;
  if (ev->cause && strcmp(ev->cause, "rule") == 0 && !ev->has_rule) return get_uint(f, "rule", TRUE, &ev->rule);
  return TRUE;
}

static gboolean fill_stable(Fields *f, DsimTraceEvent *ev) {
  if (!get_uint(f, "pid", TRUE, &ev->pid) || !get_str(f, "op", TRUE, &ev->op)) return FALSE;
  gboolean set = strcmp(ev->op, "set") == 0;
  if (set || strcmp(ev->op, "delete") == 0)
    return get_str(f, "key", TRUE, &ev->key) && get_uint(f, "size", set, &ev->size);
  if (strcmp(ev->op, "sync") == 0) return get_uint(f, "keys", TRUE, &ev->keys);
  return TRUE; /* an operation a later version added */
}

/* What a nemesis chose: which fields are there depends on the fault, so
 * each is checked only for its type. */
static gboolean fill_nemesis(Fields *f, DsimTraceEvent *ev) {
  JsonArray *targets = NULL;
  double loss = 0;
  if (!get_uint(f, "id", TRUE, &ev->id) || !get_str(f, "fault", TRUE, &ev->fault) ||
      !get_bool(f, "skipped", FALSE, &ev->skipped) || !get_uint(f, "duration", FALSE, &ev->duration) ||
      !get_uint(f, "pid", FALSE, &ev->pid) || !get_uint(f, "src", FALSE, &ev->src) ||
      !get_uint(f, "dst", FALSE, &ev->dst) || !get_number(f, "loss", FALSE, &loss) ||
      !get_array(f, "a", FALSE, &ev->a) || !get_array(f, "b", FALSE, &ev->b) ||
      !get_array(f, "targets", FALSE, &targets))
    return FALSE;
  return (!ev->a || check_members(f, "a", ev->a, TRUE)) && (!ev->b || check_members(f, "b", ev->b, TRUE)) &&
         (!targets || check_members(f, "targets", targets, TRUE));
}

/* ---------------------------------------------------------------- per kind */

static gboolean fill_fields(Fields *f, DsimTraceEvent *ev) {
  switch (ev->kind) {
  case DSIM_EV_SPAWN:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "kind", TRUE, &ev->proc_kind) &&
           get_str(f, "fn", FALSE, &ev->fn) && get_uint(f, "parent", TRUE, &ev->parent);
  case DSIM_EV_JOIN:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_ch(f, ev) && get_str(f, "group", TRUE, &ev->group) && get_bool(f, "reserved", FALSE, &ev->reserved);
  case DSIM_EV_BIND:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_uint(f, "from", TRUE, &ev->from);
  case DSIM_EV_EXIT:
    return get_uint(f, "pid", TRUE, &ev->pid);
  case DSIM_EV_CRASH:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_RESTART:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_uint(f, "incarnation", TRUE, &ev->incarnation) &&
           get_str(f, "cause", FALSE, &ev->cause);
  case DSIM_EV_ERROR:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "msg", TRUE, &ev->msg);
  case DSIM_EV_SEND:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_ch(f, ev) && get_uint(f, "src", TRUE, &ev->src) &&
           get_uint(f, "dst", TRUE, &ev->dst) && get_uint(f, "size", TRUE, &ev->size) && get_str(f, "data", TRUE, &ev->data);
  case DSIM_EV_DUP:
    return copy_fields(f, ev) && fault_cause(f, ev, FALSE);
  case DSIM_EV_DROP:
    return copy_fields(f, ev) && get_str(f, "reason", TRUE, &ev->reason) && fault_cause(f, ev, FALSE) &&
           get_opt_uint(f, "cut", &ev->cut, &ev->has_cut);
  case DSIM_EV_DELIVER:
    return copy_fields(f, ev) && get_bool(f, "corrupted", FALSE, &ev->corrupted);
  case DSIM_EV_RECV:
    return get_uint(f, "mid", TRUE, &ev->mid) && get_copy(f, ev) && get_uint(f, "pid", TRUE, &ev->pid) && get_uint(f, "src", TRUE, &ev->src);
  case DSIM_EV_TIMEOUT:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "op", TRUE, &ev->op) &&
           get_ch(f, ev);
  case DSIM_EV_CORRUPT:
    /* Corrupt lines predate fault injection (SPEC.md named the kind with
     * only the message id), so the fields the format now lists are read
     * when present and only the message id is required. */
    ev->corrupted = TRUE;
    return get_uint(f, "mid", TRUE, &ev->mid) && get_uint(f, "copy", FALSE, &ev->copy) &&
           get_uint(f, "src", FALSE, &ev->src) && get_uint(f, "dst", FALSE, &ev->dst) &&
           get_uint(f, "bits", FALSE, &ev->bits) && fault_cause(f, ev, FALSE);
  case DSIM_EV_DELAY:
    return copy_fields(f, ev) && get_uint(f, "extra", TRUE, &ev->extra) && fault_cause(f, ev, TRUE);
  case DSIM_EV_HELD:
    /* a copy held for a paused process has no hold id */
    if (!copy_fields(f, ev) || !get_str(f, "reason", TRUE, &ev->reason) ||
        !get_opt_uint(f, "hold", &ev->hold, &ev->has_hold))
      return FALSE;
    return ev->has_hold || strcmp(ev->reason, "hold") != 0 || get_uint(f, "hold", TRUE, &ev->hold);
  case DSIM_EV_CONFIG:
    if (json_object_has_member(f->o, "defaults")) return get_object(f, "defaults", TRUE);
    if (json_object_has_member(f->o, "removed")) { /* a link rule was removed */
      ev->has_removed = TRUE;
      return get_uint(f, "removed", TRUE, &ev->removed) && get_str(f, "cause", FALSE, &ev->cause);
    }
    if (!json_object_has_member(f->o, "link")) {
      g_string_printf(f->why, "\"config\" event: needs \"defaults\", \"removed\", or \"from\", \"to\" and \"link\"");
      return FALSE;
    }
    return check_selector(f, "from") && check_selector(f, "to") && get_object(f, "link", TRUE) &&
           get_uint(f, "id", FALSE, &ev->id) && get_str(f, "cause", FALSE, &ev->cause);
  case DSIM_EV_PARTITION:
    return get_uint(f, "id", TRUE, &ev->id) && check_sides(f, ev) && get_str(f, "cause", FALSE, &ev->cause);
  case DSIM_EV_HEAL:
    return get_uint(f, "id", TRUE, &ev->id) && get_str(f, "cause", FALSE, &ev->cause);
  case DSIM_EV_LINK_DOWN:
  case DSIM_EV_HOLD:
    return get_uint(f, "id", TRUE, &ev->id) && check_sides(f, ev) && get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_LINK_UP:
    return get_uint(f, "id", TRUE, &ev->id) && get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_RELEASE:
    return get_uint(f, "id", TRUE, &ev->id) && get_uint(f, "messages", TRUE, &ev->messages) &&
           get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_RULE:
    return get_uint(f, "id", TRUE, &ev->id) && check_selector_or_null(f, "from") &&
           check_selector_or_null(f, "to") && get_str(f, "name", FALSE, &ev->name);
  case DSIM_EV_UNRULE:
  case DSIM_EV_NEMESIS_STOP:
    return get_uint(f, "id", TRUE, &ev->id);
  case DSIM_EV_NEMESIS_START:
    return get_uint(f, "id", TRUE, &ev->id) && get_uint(f, "start", TRUE, &ev->start) &&
           get_uint(f, "stop", TRUE, &ev->stop);
  case DSIM_EV_NEMESIS:
    return fill_nemesis(f, ev);
  case DSIM_EV_PAUSE:
  case DSIM_EV_RESUME:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_CLOCK:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_int(f, "offset", TRUE, &ev->offset, &ev->has_offset) &&
           get_number(f, "drift", TRUE, &ev->drift) && get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_STABLE:
    return fill_stable(f, ev);
  case DSIM_EV_STABLE_LOST:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "key", TRUE, &ev->key) &&
           get_str(f, "cause", TRUE, &ev->cause);
  case DSIM_EV_STABLE_TORN:
    return get_uint(f, "pid", TRUE, &ev->pid) && get_str(f, "key", TRUE, &ev->key) &&
           get_uint(f, "size", TRUE, &ev->size) && get_uint(f, "kept", TRUE, &ev->kept) &&
           get_str(f, "cause", TRUE, &ev->cause);
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

gboolean dsim_event_fill(JsonObject *o, gint64 version, DsimTraceEvent *ev, GString *why) {
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
  Fields f = {o, ev->ev, why, version};
  return fill_fields(&f, ev);
}
