/* dsim/reports.h — reading dsim traces and turning them into reports.
 *
 * The reports module reads a trace through the documented trace format
 * (docs/trace-format.md, versions 1 and 2) and nothing else: it neither links nor
 * includes the kernel or the channel, so anything it shows is something the
 * trace says. Its tools are GLib and json-glib.
 *
 * The header is laid out in three layers:
 *
 *   1. DsimTraceReader streams a trace file line by line and hands out one
 *      validated DsimTraceEvent at a time. Memory does not grow with the
 *      length of the trace. It can skip lines outside a time window without
 *      parsing them; every line it hands out has been fully parsed and
 *      checked.
 *   2. dsim_report_text(), dsim_report_html() and dsim_report_export() read a
 *      trace and write a terminal summary, a self-contained HTML page, or an
 *      export for another tool (Chrome/Perfetto, ShiViz, Mermaid, CSV). Their
 *      memory is bounded by the number of processes, links and messages in
 *      flight, never by the number of events (the HTML diagram and the
 *      Mermaid export draw at most a fixed number of events, and say so when
 *      they stop).
 *   3. dsim_trace_diff() finds the first event where two traces diverge.
 *
 * Output is deterministic: the same trace and options give the same bytes on
 * every run (no hash order, no wall clock reaches the output).
 *
 * Failure: every function that can fail takes a GError ** and reports in the
 * DSIM_REPORTS_ERROR domain, with a one-line message that names the file and,
 * for bad input, the line number ("out.jsonl:17: not valid JSON: ..."). No
 * input, however malformed, makes these functions abort.
 *
 * Ownership: strings and objects reachable from a DsimTraceEvent or a
 * DsimTraceHeader belong to the reader (see each function). Output goes to a
 * caller-owned FILE *, which these functions never close. */
#ifndef DSIM_REPORTS_H
#define DSIM_REPORTS_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* ---------------------------------------------------------------- errors */

#define DSIM_REPORTS_ERROR (dsim_reports_error_quark())
GQuark dsim_reports_error_quark(void);

typedef enum {
  DSIM_REPORTS_ERROR_IO,      /* a file cannot be opened, read or written */
  DSIM_REPORTS_ERROR_PARSE,   /* a line is not JSON, is cut short, or lacks a field */
  DSIM_REPORTS_ERROR_FORMAT,  /* not a dsim trace: no header, other format, unknown version */
  DSIM_REPORTS_ERROR_INVALID, /* a bad option (window, filter, export format) */
} DsimReportsError;

/* The newest trace format version this reader understands; it reads every
 * version from 1 up to this one. */
#define DSIM_TRACE_FORMAT_VERSION 2

/* Bound on one line of a trace. The writer bounds every string it writes,
 * so a longer line means the file is not a dsim trace. */
#define DSIM_TRACE_MAX_LINE (16u << 20)

/* ---------------------------------------------------------------- reading */

/* The header line. */
typedef struct {
  gint64 version;        /* 1..DSIM_TRACE_FORMAT_VERSION once opened */
  const char *generator; /* "dsim 0.1.0"; "" if absent */
  const char *scenario;  /* the scenario path as given to dsim run */
  guint64 seed;
  gboolean has_until;    /* FALSE when "until" is null */
  gint64 until_ns;
  guint64 max_events;
  JsonObject *net;       /* the network configuration, or NULL */
} DsimTraceHeader;

/* Event kinds the reader knows. Kinds it does not know are handed out as
 * DSIM_EV_OTHER (the format allows new kinds without a version change). */
typedef enum {
  DSIM_EV_OTHER = 0,
  DSIM_EV_SPAWN,
  DSIM_EV_JOIN,
  DSIM_EV_BIND,
  DSIM_EV_EXIT,
  DSIM_EV_CRASH,
  DSIM_EV_RESTART,
  DSIM_EV_ERROR,
  DSIM_EV_SEND,
  DSIM_EV_DUP,
  DSIM_EV_DROP,
  DSIM_EV_DELIVER,
  DSIM_EV_RECV,
  DSIM_EV_TIMEOUT,
  DSIM_EV_CORRUPT,
  DSIM_EV_CONFIG,
  DSIM_EV_PARTITION,
  DSIM_EV_HEAL,
  DSIM_EV_LOG,
  DSIM_EV_CHECK,
  DSIM_EV_END,
  /* kinds added with fault injection (same format version) */
  DSIM_EV_PAUSE,
  DSIM_EV_RESUME,
  DSIM_EV_CLOCK,
  DSIM_EV_STABLE,
  DSIM_EV_STABLE_LOST,
  DSIM_EV_STABLE_TORN,
  DSIM_EV_DELAY,
  DSIM_EV_HELD,
  DSIM_EV_LINK_DOWN,
  DSIM_EV_LINK_UP,
  DSIM_EV_HOLD,
  DSIM_EV_RELEASE,
  DSIM_EV_RULE,
  DSIM_EV_UNRULE,
  DSIM_EV_NEMESIS_START,
  DSIM_EV_NEMESIS,
  DSIM_EV_NEMESIS_STOP,
} DsimEventKind;

/* One event line. Which fields are meaningful depends on the kind (see
 * docs/trace-format.md); fields a kind requires are guaranteed present and
 * of the right type, the others are 0 / FALSE / NULL. Every pointer belongs
 * to the reader and stays valid until the next call to
 * dsim_trace_reader_next() or dsim_trace_reader_free(). */
typedef struct {
  guint64 line;           /* 1-based line number in the file */
  gint64 t;               /* virtual time in nanoseconds */
  DsimEventKind kind;
  const char *ev;         /* the kind as written (the name of an unknown kind too) */
  guint64 pid;            /* the process the event is about; 0 = scenario code.
                             recv: the receiver. */
  guint64 src, dst;       /* send, dup, drop, deliver, corrupt; recv: src */
  guint64 mid, copy;      /* message id and copy number (send: copy 0) */
  guint64 size;           /* send, stable set, stable_torn: bytes */
  guint64 parent;         /* spawn */
  guint64 from;           /* bind: the process's pid until now */
  guint64 id;             /* partition, heal, link_down, link_up, hold, release, rule,
                             unrule, nemesis*; config: the added rule's id */
  guint64 incarnation;    /* restart */
  gboolean ok;            /* check */
  gboolean reserved;      /* join made outside any process */
  gboolean oneway;        /* partition, link_down, hold */
  gboolean corrupted;     /* deliver with "corrupted":true, and corrupt events */
  /* faults (each has_* says whether the optional field was there) */
  gboolean has_rule, has_cut, has_hold, has_removed, has_offset;
  guint64 rule;           /* dup, drop, corrupt, delay: the message rule's id */
  guint64 cut;            /* drop (partition, link_down): the cut's id */
  guint64 hold;           /* held: the hold's id */
  guint64 removed;        /* config: the id of the link rule removed */
  guint64 extra;          /* delay: ns added */
  guint64 bits;           /* corrupt: bits flipped */
  guint64 messages;       /* release: messages it kept */
  guint64 kept;           /* stable_torn: bytes that reached the disk */
  guint64 keys;           /* stable sync: keys made durable */
  guint64 start, stop;    /* nemesis_start (ns) */
  guint64 duration;       /* nemesis: how long the fault lasts (ns), 0 if not given */
  gint64 offset;          /* clock: local minus true time (ns) */
  double drift;           /* clock */
  gboolean skipped;       /* nemesis: no target fitted */
  const char *key;        /* stable*, the key */
  const char *fault;      /* nemesis: the fault kind chosen */
  const char *name;       /* rule: its name, if given */
  const char *ch;         /* send, join, timeout: channel name */
  const char *group;      /* join */
  const char *data;       /* send: payload preview */
  const char *reason;     /* drop, held, end */
  const char *msg;        /* log, check, error */
  const char *where;      /* check: "file.lua:12" if known */
  const char *cause;      /* crash, restart, pause, resume, clock, dup, drop, ..., or NULL */
  const char *fn;         /* spawn: where the code is, if known */
  const char *proc_kind;  /* spawn: "lua" or "c" */
  const char *op;         /* timeout, stable */
  JsonArray *a, *b;       /* partition, link_down, hold, nemesis: the two sides (pids and subgroup names) */
  JsonArray *blocked;     /* end: pids still blocked */
  JsonObject *object;     /* the whole line, for fields not listed here */
  const char *raw;        /* the line's bytes, without the newline */
  gsize raw_len;
} DsimTraceEvent;

typedef struct DsimTraceReader DsimTraceReader;

/* Opens the trace at path ("-" reads standard input) and reads and checks
 * its header. Returns a new reader (free with dsim_trace_reader_free()), or
 * NULL with *error set if the file cannot be read, is empty, has no header,
 * is not a dsim trace, or has a format version this reader does not know. */
DsimTraceReader *dsim_trace_reader_open(const char *path, GError **error);

/* Frees the reader and everything it handed out. NULL is allowed. */
void dsim_trace_reader_free(DsimTraceReader *reader);

/* The header, owned by the reader. */
const DsimTraceHeader *dsim_trace_reader_header(const DsimTraceReader *reader);

/* The path as given to dsim_trace_reader_open(), owned by the reader. */
const char *dsim_trace_reader_path(const DsimTraceReader *reader);

/* Restricts what dsim_trace_reader_next() hands out to [from_ns, to_ns]
 * (G_MININT64 / G_MAXINT64 for an open end), before the first call to
 * next(). Message, log and check lines before the window are skipped after
 * looking only at their "t" and "ev" prefix; lines that change the state
 * of processes or the network (spawn, join, bind, crash, restart, exit,
 * partition, heal, config, ...) are still parsed and handed out, so a
 * reader of the window knows who exists and what is cut. Reading stops at
 * the first line after to_ns. */
void dsim_trace_reader_set_window(DsimTraceReader *reader, gint64 from_ns, gint64 to_ns);

/* Reads the next event into *ev. Returns TRUE with *ev filled in; FALSE
 * with *error unset at the end of the trace (or of the window); FALSE with
 * *error set if a line is bad (not JSON, cut short, a required field
 * missing or of the wrong type, time going backwards, a second header). */
gboolean dsim_trace_reader_next(DsimTraceReader *reader, DsimTraceEvent *ev, GError **error);

/* TRUE once next() has returned FALSE without error after reading every
 * line of the file (not stopped by a window). */
gboolean dsim_trace_reader_complete(const DsimTraceReader *reader);

/* The SHA-256 (hex) of every line after the header, the value `dsim run`
 * prints as its digest, once the whole file was read with no window set;
 * NULL otherwise. Owned by the reader. */
const char *dsim_trace_reader_digest(const DsimTraceReader *reader);

/* Number of lines read so far, the header included. */
guint64 dsim_trace_reader_lines(const DsimTraceReader *reader);

/* The name of a kind as written in traces ("send"); "?" for DSIM_EV_OTHER. */
const char *dsim_event_kind_name(DsimEventKind kind);

/* ---------------------------------------------------------------- reports */

/* What a report shows. Initialise with dsim_report_options_init(); the
 * arrays stay owned by the caller and must outlive the call they are
 * passed to. */
typedef struct {
  gint64 from_ns, to_ns;        /* time window; G_MININT64 / G_MAXINT64 for none */
  const guint64 *pids;          /* only these processes (n_pids of them) ... */
  guint n_pids;
  const char *const *groups;    /* ... or those in these subgroups (NULL-terminated) */
  gboolean color;               /* ANSI colours in the text summary */
  guint max_rows;               /* text tables: rows shown at most (0: all) */
  guint diagram_limit;          /* events drawn in a space-time diagram at most */
  guint mermaid_limit;          /* messages in a Mermaid diagram at most */
} DsimReportOptions;

#define DSIM_REPORT_DEFAULT_MAX_ROWS 40
#define DSIM_REPORT_DEFAULT_DIAGRAM_LIMIT 5000
#define DSIM_REPORT_DEFAULT_MERMAID_LIMIT 500

/* Fills *options with the defaults: no window, no filter, no colour,
 * DSIM_REPORT_DEFAULT_* limits. */
void dsim_report_options_init(DsimReportOptions *options);

/* Checks options that are wrong whatever the trace (a window at negative
 * times, or whose start is after its end). Returns FALSE with *error set. Every report function
 * calls it; a caller may call it first, before creating an output file. */
gboolean dsim_report_options_check(const DsimReportOptions *options, GError **error);

/* Writes the terminal summary of the trace at path to out: run header,
 * per-process and per-link tables, fault timeline, checks. Lines fit in 80
 * columns (long names are cut). Returns FALSE with *error set if the trace
 * is bad or out cannot be written; out may then hold part of the report. */
gboolean dsim_report_text(const char *path, const DsimReportOptions *options, FILE *out,
                          GError **error);

/* Writes a self-contained HTML page (inline SVG, CSS and JavaScript; no
 * network access needed to open it) with the space-time diagram, the causal
 * past of the first failed check made by a process, the latency histogram,
 * the message rate over time and the summary tables. Reads the trace once,
 * or twice when the causal past of a failed check is larger than the
 * diagram limit. Fails as dsim_report_text(). */
gboolean dsim_report_html(const char *path, const DsimReportOptions *options, FILE *out,
                          GError **error);

typedef enum {
  DSIM_EXPORT_PERFETTO, /* Chrome trace event JSON (chrome://tracing, ui.perfetto.dev) */
  DSIM_EXPORT_SHIVIZ,   /* ShiViz log with vector clocks */
  DSIM_EXPORT_MERMAID,  /* Mermaid sequenceDiagram */
  DSIM_EXPORT_CSV,      /* one row per message event */
} DsimExportFormat;

/* Parses "perfetto" (or "chrome"), "shiviz", "mermaid", "csv". Returns
 * FALSE with *error set (naming the formats) for anything else. */
gboolean dsim_export_format_parse(const char *name, DsimExportFormat *format, GError **error);

/* Writes the export of the trace at path to out, streaming (the Mermaid
 * export keeps at most mermaid_limit messages). Fails as
 * dsim_report_text(). */
gboolean dsim_report_export(const char *path, DsimExportFormat format,
                            const DsimReportOptions *options, FILE *out, GError **error);

/* ---------------------------------------------------------------- diff */

typedef struct {
  guint context;                    /* events shown before and after the divergence */
  const char *const *ignore_fields; /* NULL-terminated event fields not compared, or NULL */
} DsimDiffOptions;

typedef enum {
  DSIM_DIFF_ERROR = -1,   /* *error is set */
  DSIM_DIFF_SAME = 0,     /* same header, same events */
  DSIM_DIFF_DIFFERENT = 1 /* headers or events differ */
} DsimDiffResult;

/* Compares the traces at path_a and path_b and writes a description to
 * out: header fields that differ, then the first event where the event
 * streams diverge with `context` events before it (common to both) and
 * after it (from each), or a line saying the traces are identical. Events
 * are compared as JSON values, so formatting does not matter. Streams both
 * files; memory is bounded by the context. */
DsimDiffResult dsim_trace_diff(const char *path_a, const char *path_b, const DsimDiffOptions *options,
                               FILE *out, GError **error);

G_END_DECLS

#endif
