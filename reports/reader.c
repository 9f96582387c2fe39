/* reader.c — streams a trace file line by line.
 *
 * Invariants: at most one line (bounded by DSIM_TRACE_MAX_LINE) plus one
 * read block is in memory; the JSON tree of the current line is the only
 * parsed data kept, and it is replaced by the next call. Every line handed
 * out has passed the strict syntax check (jsoncheck.c), UTF-8 validation,
 * json-glib and the per-kind field checks (event.c). Lines outside a window
 * may be skipped after reading only their {"t":N,"ev":"kind" prefix; such
 * lines are never handed out.
 *
 * Errors name the file and the line: "out.jsonl:17: not valid JSON: ...". */
#include "reports_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define READ_BLOCK (256 * 1024)

G_DEFINE_QUARK(dsim-reports-error-quark, dsim_reports_error)

struct DsimTraceReader {
  char *path;
  int fd;
  gboolean own_fd;
  char *buf;
  gsize cap, start, end, scanned; /* unread bytes are [start, end); [start, scanned) holds no newline */
  gboolean eof;
  guint64 line;
  JsonParser *parser;
  JsonNode *header_root; /* a copy: the parser's tree is replaced by each line */
  DsimTraceHeader header;
  gint64 from, to;
  gboolean windowed, stopped, complete;
  gint64 last_t;
  GChecksum *sha;
  char *digest;
  GString *why;
  char syntax_why[160];
};

/* ---------------------------------------------------------------- lines */

static gboolean set_error(DsimTraceReader *r, GError **error, int code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static gboolean set_error(DsimTraceReader *r, GError **error, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, DSIM_REPORTS_ERROR, code, "%s:%" G_GUINT64_FORMAT ": %s", r->path, r->line, msg);
  g_free(msg);
  return FALSE;
}

/* Makes room after end for at least one more read block. Keeps the
 * unconsumed bytes, moving them to the front first. */
static gboolean make_room(DsimTraceReader *r, GError **error) {
  if (r->start > 0) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->scanned -= r->start;
    r->start = 0;
  }
  if (r->cap - r->end >= READ_BLOCK) return TRUE;
  if (r->end > DSIM_TRACE_MAX_LINE) {
    r->line++;
    return set_error(r, error, DSIM_REPORTS_ERROR_PARSE, "line longer than %u MiB: not a dsim trace",
                     DSIM_TRACE_MAX_LINE >> 20);
  }
  r->cap = MAX(r->cap * 2, r->end + READ_BLOCK);
  r->buf = g_realloc(r->buf, r->cap);
  return TRUE;
}

/* Next line without its newline. Returns TRUE with *line and *len set; FALSE
 * at the end of the file (*error unset) or on error. */
static gboolean read_line(DsimTraceReader *r, const char **line, gsize *len, GError **error) {
  for (;;) {
    char *nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
    if (nl) {
      *line = r->buf + r->start;
      *len = (gsize)(nl - *line);
      r->start = r->scanned = (gsize)(nl - r->buf) + 1;
      r->line++;
      return TRUE;
    }
    r->scanned = r->end;
    if (r->eof) {
      if (r->start == r->end) return FALSE;
      r->line++;
      if (r->line == 1)
        return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT,
                         "no complete first line: not a dsim trace, or one cut short before its header was written");
      return set_error(r, error, DSIM_REPORTS_ERROR_PARSE,
                       "truncated line (no newline at the end of the file): the run was cut short");
    }
    if (!make_room(r, error)) return FALSE;
    ssize_t n;
    do n = read(r->fd, r->buf + r->end, r->cap - r->end);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      int e = errno;
      g_set_error(error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_IO, "%s: read failed: %s", r->path, g_strerror(e));
      return FALSE;
    }
    if (n == 0) r->eof = TRUE;
    r->end += (gsize)n;
  }
}

/* Parses one line into the parser's tree; returns its root object. On the
 * first line, a line that is not JSON means a file that is not a trace. */
static JsonObject *parse_line(DsimTraceReader *r, const char *line, gsize len, GError **error) {
  const char *what = r->line == 1 ? "not a dsim trace: not valid JSON" : "not valid JSON";
  int code = r->line == 1 ? DSIM_REPORTS_ERROR_FORMAT : DSIM_REPORTS_ERROR_PARSE;
  if (!dsim_json_check_syntax(line, len, r->syntax_why, sizeof r->syntax_why)) {
    set_error(r, error, code, "%s: %s", what, r->syntax_why);
    return NULL;
  }
  if (!g_utf8_validate_len(line, len, NULL)) {
    set_error(r, error, code, "%s: the line is not UTF-8", what);
    return NULL;
  }
  GError *e = NULL;
  if (!json_parser_load_from_data(r->parser, line, (gssize)len, &e)) {
    set_error(r, error, code, "%s: %s", what, e->message);
    g_error_free(e);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(r->parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    set_error(r, error, DSIM_REPORTS_ERROR_PARSE, "not a trace line: expected a JSON object");
    return NULL;
  }
  return json_node_get_object(root);
}

/* ---------------------------------------------------------------- header */

static const char *header_str(JsonObject *o, const char *name) {
  JsonNode *n = json_object_get_member(o, name);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) return json_node_get_string(n);
  return NULL;
}

static gboolean header_int(JsonObject *o, const char *name, gint64 *out) {
  JsonNode *n = json_object_get_member(o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) return FALSE;
  *out = json_node_get_int(n);
  return TRUE;
}

static gboolean read_header(DsimTraceReader *r, GError **error) {
  const char *line;
  gsize len;
  GError *e = NULL;
  if (!read_line(r, &line, &len, &e)) {
    if (e) {
      g_propagate_error(error, e);
      return FALSE;
    }
    r->line = 1;
    return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT, "empty file: expected a dsim trace header");
  }
  JsonObject *o = parse_line(r, line, len, error);
  if (!o) return FALSE;
  const char *ev = header_str(o, "ev");
  if (!ev || strcmp(ev, "header") != 0) {
    if (ev && json_object_has_member(o, "t"))
      return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT,
                       "missing header: the first line is a \"%s\" event, but a dsim trace starts with "
                       "{\"ev\":\"header\",...}",
                       ev);
    return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT,
                     "missing header: a dsim trace starts with {\"ev\":\"header\",\"format\":\"dsim-trace\",...}");
  }
  const char *format = header_str(o, "format");
  if (!format || strcmp(format, "dsim-trace") != 0)
    return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT, "not a dsim trace (format %s%s%s, expected \"dsim-trace\")",
                     format ? "\"" : "", format ? format : "missing", format ? "\"" : "");
  gint64 version;
  if (!header_int(o, "version", &version) || version < 1)
    return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT,
                     "unknown trace format version (expected an integer from 1 to %d)",
                     DSIM_TRACE_FORMAT_VERSION);
  if (version > DSIM_TRACE_FORMAT_VERSION)
    return set_error(r, error, DSIM_REPORTS_ERROR_FORMAT,
                     "trace format version %" G_GINT64_FORMAT " is newer than this dsim reads (versions 1 to %d): "
                     "use the dsim that wrote it, or a newer one",
                     version, DSIM_TRACE_FORMAT_VERSION);
  r->header_root = json_node_copy(json_parser_get_root(r->parser));
  o = json_node_get_object(r->header_root);
  DsimTraceHeader *h = &r->header;
  h->version = version;
  h->generator = header_str(o, "generator");
  if (!h->generator) h->generator = "";
  h->scenario = header_str(o, "scenario");
  if (!h->scenario) h->scenario = "";
  gint64 v;
  /* json-glib stores integers as gint64: a seed above 2^63 comes back
   * negative and is turned back into the unsigned value it was. */
  if (header_int(o, "seed", &v)) h->seed = (guint64)v;
  if (header_int(o, "until", &v)) {
    h->has_until = TRUE;
    h->until_ns = v;
  }
  if (header_int(o, "max_events", &v) && v >= 0) h->max_events = (guint64)v;
  JsonNode *net = json_object_get_member(o, "net");
  if (net && JSON_NODE_HOLDS_OBJECT(net)) h->net = json_node_get_object(net);
  if (r->sha == NULL) r->sha = g_checksum_new(G_CHECKSUM_SHA256);
  return TRUE;
}

/* ---------------------------------------------------------------- public */

DsimTraceReader *dsim_trace_reader_open(const char *path, GError **error) {
  DsimTraceReader *r = g_new0(DsimTraceReader, 1);
  r->path = g_strdup(path);
  if (strcmp(path, "-") == 0) {
    r->fd = 0;
  } else {
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
      int e = errno;
      g_set_error(error, DSIM_REPORTS_ERROR, DSIM_REPORTS_ERROR_IO, "cannot open trace '%s': %s", path,
                  g_strerror(e));
      dsim_trace_reader_free(r);
      return NULL;
    }
    r->own_fd = TRUE;
  }
  r->cap = 2 * READ_BLOCK;
  r->buf = g_malloc(r->cap);
  r->parser = json_parser_new_immutable();
  r->from = G_MININT64;
  r->to = G_MAXINT64;
  r->last_t = G_MININT64;
  r->why = g_string_new(NULL);
  if (!read_header(r, error)) {
    dsim_trace_reader_free(r);
    return NULL;
  }
  return r;
}

void dsim_trace_reader_free(DsimTraceReader *r) {
  if (!r) return;
  if (r->own_fd && r->fd >= 0) close(r->fd);
  g_free(r->buf);
  if (r->parser) g_object_unref(r->parser);
  if (r->header_root) json_node_unref(r->header_root);
  if (r->sha) g_checksum_free(r->sha);
  if (r->why) g_string_free(r->why, TRUE);
  g_free(r->digest);
  g_free(r->path);
  g_free(r);
}

const DsimTraceHeader *dsim_trace_reader_header(const DsimTraceReader *r) {
  return &r->header;
}

const char *dsim_trace_reader_path(const DsimTraceReader *r) {
  return r->path;
}

void dsim_trace_reader_set_window(DsimTraceReader *r, gint64 from_ns, gint64 to_ns) {
  r->from = from_ns;
  r->to = to_ns;
  r->windowed = from_ns != G_MININT64 || to_ns != G_MAXINT64;
  if (r->windowed && r->sha) {
    /* The digest covers every line; a window skips some unread. */
    g_checksum_free(r->sha);
    r->sha = NULL;
  }
}

/* The fast path: {"t":<digits>,"ev":"<kind>" as dsim writes it. Returns
 * FALSE if the line does not start that way (it is then parsed fully). */
static gboolean fast_prefix(const char *line, gsize len, gint64 *t, DsimEventKind *kind) {
  static const char head[] = "{\"t\":";
  static const char mid[] = ",\"ev\":\"";
  if (len < sizeof head + sizeof mid || memcmp(line, head, sizeof head - 1) != 0) return FALSE;
  gsize i = sizeof head - 1;
  guint64 v = 0;
  gsize digits = 0;
  while (i < len && g_ascii_isdigit(line[i]) && digits < 18) {
    v = v * 10 + (guint64)(line[i] - '0');
    i++;
    digits++;
  }
  if (digits == 0 || i >= len || line[i] != ',') return FALSE;
  if (len - i < sizeof mid - 1 || memcmp(line + i, mid, sizeof mid - 1) != 0) return FALSE;
  i += sizeof mid - 1;
  gsize k = i;
  while (k < len && line[k] != '"' && line[k] != '\\') k++;
  if (k >= len || line[k] != '"') return FALSE;
  *t = (gint64)v;
  *kind = dsim_event_kind_from_name(line + i, k - i);
  return TRUE;
}

static gboolean check_time(DsimTraceReader *r, gint64 t, GError **error) {
  if (t < r->last_t)
    return set_error(r, error, DSIM_REPORTS_ERROR_PARSE,
                     "time goes backwards (t=%" G_GINT64_FORMAT " after t=%" G_GINT64_FORMAT ")", t, r->last_t);
  r->last_t = t;
  return TRUE;
}

gboolean dsim_trace_reader_next(DsimTraceReader *r, DsimTraceEvent *ev, GError **error) {
  if (r->stopped || r->complete) return FALSE;
  for (;;) {
    const char *line;
    gsize len;
    GError *e = NULL;
    if (!read_line(r, &line, &len, &e)) {
      if (e) {
        g_propagate_error(error, e);
        return FALSE;
      }
      if (r->windowed) {
        r->stopped = TRUE;
        return FALSE;
      }
      r->complete = TRUE;
      if (r->sha) r->digest = g_strdup(g_checksum_get_string(r->sha));
      return FALSE;
    }
    if (r->sha) {
      g_checksum_update(r->sha, (const guchar *)line, (gssize)len);
      g_checksum_update(r->sha, (const guchar *)"\n", 1);
    }
    if (r->windowed) {
      gint64 t;
      DsimEventKind kind;
      if (fast_prefix(line, len, &t, &kind)) {
        if (!check_time(r, t, error)) return FALSE;
        if (t > r->to) {
          r->stopped = TRUE;
          return FALSE;
        }
        if (t < r->from && dsim_event_kind_is_skippable(kind)) continue;
      }
    }
    JsonObject *o = parse_line(r, line, len, error);
    if (!o) return FALSE;
    ev->line = r->line;
    ev->raw = line;
    ev->raw_len = len;
    if (!dsim_event_fill(o, r->header.version, ev, r->why)) return set_error(r, error, DSIM_REPORTS_ERROR_PARSE, "%s", r->why->str);
    if (!check_time(r, ev->t, error)) return FALSE;
    if (r->windowed) {
      if (ev->t > r->to) {
        r->stopped = TRUE;
        return FALSE;
      }
      if (ev->t < r->from && dsim_event_kind_is_skippable(ev->kind)) continue;
    }
    return TRUE;
  }
}

gboolean dsim_trace_reader_complete(const DsimTraceReader *r) {
  return r->complete;
}

const char *dsim_trace_reader_digest(const DsimTraceReader *r) {
  return r->digest;
}

guint64 dsim_trace_reader_lines(const DsimTraceReader *r) {
  return r->line;
}
