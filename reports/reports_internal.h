/* reports_internal.h — what the files of reports/ share; no other module
 * includes it (CMake keeps this directory private to dsim_reports).
 *
 * The pieces, in the order data flows through them:
 *   jsoncheck.c, event.c, reader.c  a trace line → a checked DsimTraceEvent
 *   tracker.c    what the trace has said so far: processes, subgroups,
 *                partitions, message copies in flight
 *   causal.c     vector clocks (happens-before over send → deliver/recv and
 *                process order), for ShiViz and the causal-past view
 *   summary.c    counters, tables, timeline, checks, latency, rate
 *   diagram.c    the space-time diagram: events kept, then drawn as SVG
 *   charts.c     latency histogram and rate-over-time SVG charts
 *   text.c, html.c, export_*.c, diff.c   the outputs
 *   report.c     options, the process filter, the read loop they share
 *   format.c     times, numbers and escaping used by every output
 *
 * Every structure here is bounded by the number of processes, links,
 * partitions and message copies in flight, never by the number of events,
 * except where a cap is stated (the diagram's items, the Mermaid lines). */
#ifndef DSIM_REPORTS_INTERNAL_H
#define DSIM_REPORTS_INTERNAL_H

#include "dsim/reports.h"

/* ---------------------------------------------------------------- jsoncheck.c */

#define DSIM_JSON_MAX_DEPTH 64

/* TRUE if text[0..len) is exactly one JSON value (RFC 8259) with integers
 * inside the 64-bit range. Otherwise FALSE and a reason ("column 12: ...")
 * in why. */
gboolean dsim_json_check_syntax(const char *text, gsize len, char *why, gsize why_size);

/* ---------------------------------------------------------------- event.c */

/* Fills *ev from the line's object (ev->line, ev->raw, ev->raw_len are kept).
 * On a missing or mistyped field returns FALSE with the reason in why. */
gboolean dsim_event_fill(JsonObject *o, gint64 version, DsimTraceEvent *ev, GString *why);
DsimEventKind dsim_event_kind_from_name(const char *name, gsize len);
/* Kinds a window may skip unread before it starts: they change no state
 * that later events depend on for their meaning. */
gboolean dsim_event_kind_is_skippable(DsimEventKind kind);
/* Kinds that change the network rather than one process: configuration,
 * partitions, links down, holds, rules and the nemesis (pid 0's events). */
gboolean dsim_event_kind_is_network(DsimEventKind kind);

/* ---------------------------------------------------------------- histogram.c */

#define DSIM_HISTOGRAM_EXACT 256

typedef struct DsimHistogram DsimHistogram;
typedef void (*DsimHistogramFunc)(guint64 lo, guint64 hi, guint64 count, gpointer data);

DsimHistogram *dsim_histogram_new(void);
void dsim_histogram_free(DsimHistogram *h);
void dsim_histogram_add(DsimHistogram *h, guint64 value);
guint64 dsim_histogram_count(const DsimHistogram *h);
guint64 dsim_histogram_min(const DsimHistogram *h);
guint64 dsim_histogram_max(const DsimHistogram *h);
/* TRUE while every sample is kept (percentiles exact). */
gboolean dsim_histogram_is_exact(const DsimHistogram *h);
/* Nearest-rank percentile, per_mille in 0..1000 (500: median). 0 if empty. */
guint64 dsim_histogram_percentile(DsimHistogram *h, guint per_mille);
/* Calls fn for each non-empty bucket [lo, hi) in increasing order. */
void dsim_histogram_foreach(const DsimHistogram *h, DsimHistogramFunc fn, gpointer data);

/* ---------------------------------------------------------------- format.c */

#define DSIM_TIME_BUF 32

/* "0ns", "850ns", "12.3us", "2.954ms", "59.06ms", "1.5s", "12s": at most
 * 4 significant digits, trailing zeros dropped, for tables. */
char *dsim_fmt_duration(gint64 ns, char buf[DSIM_TIME_BUF]);
/* A point in virtual time, exact to the nanosecond: "1.000000000s"-style
 * trimmed of trailing zeros ("0s", "1.5s", "0.059056817s"). */
char *dsim_fmt_time(gint64 ns, char buf[DSIM_TIME_BUF]);
/* Appends s HTML-escaped (also safe inside attributes); control
 * characters become U+FFFD. */
void dsim_html_escape(GString *out, const char *s);
/* Appends s as a JSON string literal (quotes included). */
void dsim_json_quote(GString *out, const char *s);
/* Appends s with newlines and other control characters replaced by
 * spaces, cut to at most max characters (UTF-8 aware, "..." added). */
void dsim_append_clean(GString *out, const char *s, guint max);
/* Appends a one-line human description of an event ("send #3 2->1 12 B
 * \"Hello\""). */
void dsim_describe_event(GString *out, const DsimTraceEvent *ev);
/* Appends a clock piece: "offset +100ms, drift 0.0001". */
void dsim_describe_clock(GString *out, gint64 offset, double drift);
/* Appends what a nemesis event chose: "crash pid 1 for 30ms". */
void dsim_describe_nemesis(GString *out, const DsimTraceEvent *ev);
/* Appends what a rule applies to: a config rule's "from -> to: fields",
 * a message rule's "from -> to \"name\"" (null selectors read "any"). */
void dsim_describe_rule(GString *out, const DsimTraceEvent *ev);
/* Appends the members of a partition side as text: "1, 2, server". */
void dsim_describe_members(GString *out, JsonArray *a);
/* Appends a short description of the header's network configuration. */
void dsim_describe_net(GString *out, JsonObject *net);
/* Appends a delay as written in traces (["uniform",1000000,5000000]) as
 * "uniform 1ms..5ms". */
void dsim_describe_delay(GString *out, JsonNode *delay);

/* ---------------------------------------------------------------- tracker.c */

typedef enum {
  DSIM_PROC_UNKNOWN, /* seen only as a message endpoint or in a reserved join */
  DSIM_PROC_RUNNING,
  DSIM_PROC_CRASHED,
  DSIM_PROC_EXITED,
} DsimProcState;

typedef struct {
  guint64 pid;
  guint64 alias_of;      /* after bind: the pid this process became (0: none) */
  char *fn;              /* where its code is, or NULL */
  gboolean is_c;         /* spawn kind "c": messages are taken on delivery */
  gboolean spawned;      /* a spawn line was seen */
  gint64 spawn_t;
  DsimProcState state;
  gint64 state_t;        /* when the state last changed */
  guint64 incarnation;
  gboolean paused;       /* between pause and resume (a crash or exit ends it too) */
  gint64 paused_t;       /* when it was paused */
  GPtrArray *groups;     /* subgroup names (owned by the tracker), in join order, no repeats */
} DsimProc;

/* One copy of a message, from its send (or dup) to its end: received,
 * dropped, or taken on delivery by a C process. Slots marked "for X" are
 * kept by that consumer; the tracker only frees them. */
typedef struct {
  guint64 mid, copy;
  guint64 src, dst;
  gint64 sent_t;         /* -1: the send was not read (before a window) */
  gint64 delivered_t;    /* -1 until delivered */
  guint64 size;
  char *data;            /* payload preview, or NULL */
  gboolean corrupted;
  gboolean held;         /* it waited in the network (held line) */
  gboolean held_paused;  /* ... because its destination was paused, not by a hold */
  guint64 hold_id;       /* the hold that kept it, if held by one */
  gint64 held_t;         /* when it started waiting */
  guint64 extra_ns;      /* delay added by message rules */
  guint64 delay_rule;    /* the (last) rule that added it */
  gboolean done;         /* this event ends the copy: free it on release */
  guint64 diag_send;     /* for diagram.c: item number of the send (0: none) */
  guint64 diag_deliver;  /* for diagram.c: item number of the delivery */
  guint32 send_seq;      /* for diagram.c: the send's entry in its sender's vector clock */
  guint64 flow_id;       /* for export_perfetto.c */
  guint32 *vclock;       /* for causal.c: the sender's clock at the send */
  guint vclock_len;
} DsimCopy;

/* What cuts or holds links: a partition, a link down, a hold. Their ids
 * share one space in the traces dsim writes, but a reader keys them by
 * (kind, id) so that nothing depends on that. */
typedef enum {
  DSIM_CUT_PARTITION,
  DSIM_CUT_LINK_DOWN,
  DSIM_CUT_HOLD,
} DsimCutKind;

typedef struct {
  guint64 id;
  DsimCutKind kind;
  gint64 t;
  gboolean oneway;
  char *cause;           /* "scenario", "nemesis", or NULL */
  GArray *a, *b;         /* guint64 pids of each side: its pids, and the members of its subgroups */
  GPtrArray *a_groups, *b_groups; /* the subgroup names of each side (owned by the tracker) */
  char *text;            /* "{server} | {client}" */
} DsimPartition;

typedef struct DsimTracker DsimTracker;

DsimTracker *dsim_tracker_new(void);
void dsim_tracker_free(DsimTracker *tk);
/* Updates the state with ev. For message events returns the copy the event
 * is about (owned by the tracker; valid until dsim_tracker_release()),
 * creating it if its send was not read; NULL for other events. */
DsimCopy *dsim_tracker_apply(DsimTracker *tk, const DsimTraceEvent *ev);
/* Ends the event: frees the copy if the event finished it, and a healed
 * partition. Must follow every dsim_tracker_apply(). */
void dsim_tracker_release(DsimTracker *tk, const DsimTraceEvent *ev, DsimCopy *copy);
/* The process, or NULL if the trace has not named it. */
DsimProc *dsim_tracker_proc(const DsimTracker *tk, guint64 pid);
/* Follows bind: the pid a process is known by now. */
guint64 dsim_tracker_resolve(const DsimTracker *tk, guint64 pid);
/* Every process seen, sorted by pid (the array belongs to the tracker and
 * changes as processes appear). */
GPtrArray *dsim_tracker_procs(DsimTracker *tk);
/* Pids that joined subgroup name, in join order, or NULL. */
GArray *dsim_tracker_group(const DsimTracker *tk, const char *name);
/* Active partitions, links down and holds, sorted by id then kind. The cut
 * that a heal, link_up or release ends is still there while that event is
 * being handled. */
GPtrArray *dsim_tracker_partitions(const DsimTracker *tk);
DsimPartition *dsim_tracker_cut(const DsimTracker *tk, DsimCutKind kind, guint64 id);
/* The kind of cut an event starts or ends; FALSE for other events. */
gboolean dsim_cut_kind_of(DsimEventKind ev, DsimCutKind *kind, gboolean *ends);
/* What a link rule (net.link) or a message rule (net.rule) still in force
 * says: "{client} -> server: loss 0.5", "2 -> 1 \"name\"", or NULL. The
 * rule of a removal is still there while the removal is being handled. */
const char *dsim_tracker_link_rule(const DsimTracker *tk, guint64 id);
const char *dsim_tracker_msg_rule(const DsimTracker *tk, guint64 id);
/* Copies sent but neither delivered nor dropped / delivered but not taken. */
void dsim_tracker_in_flight(const DsimTracker *tk, guint64 *on_network, guint64 *queued);

/* ---------------------------------------------------------------- causal.c */

/* Vector clocks over "hosts": every process, plus host 0 for scenario code
 * (logs and checks with pid 0, partitions, heals, configuration, links
 * down and up, holds and releases, rules, the nemesis). Pauses, resumes,
 * clock changes and stable-storage events belong to their process. An event
 * of a host increments its own entry; spawn merges the parent's clock, bind
 * the clock of the pid it replaces, recv (and deliver to a C process) the
 * sender's clock at the send. deliver to a Lua process is an event of the
 * receiver without a merge: the process learns the message only when it
 * takes it. Network-only events (dup, drop, corrupt, delay, held) and
 * reserved joins belong to no host. */
typedef struct DsimCausal DsimCausal;

DsimCausal *dsim_causal_new(void);
void dsim_causal_free(DsimCausal *c);
/* Applies ev. Returns TRUE if it is an event of a host, with the host's pid
 * (0: scenario) in *host and its own clock entry after the event in *seq. */
gboolean dsim_causal_apply(DsimCausal *c, const DsimTraceEvent *ev, DsimTracker *tk, DsimCopy *copy,
                           guint64 *host, guint32 *seq);
/* The current clock of host pid as pairs, sorted by pid, of hosts with a
 * non-zero entry: appended to out as guint64 pid, guint64 value. */
void dsim_causal_clock(const DsimCausal *c, guint64 pid, GArray *out);
/* The entry for host `of` in the clock of host `pid` (0 if none). */
guint32 dsim_causal_entry(const DsimCausal *c, guint64 pid, guint64 of);

/* ---------------------------------------------------------------- report.c */

/* Which processes a report shows. */
typedef struct {
  gboolean active;
  GHashTable *pids;    /* guint64 pid set (keys are pointers to guint64 owned by the table) */
  GPtrArray *groups;   /* subgroup names */
} DsimFilter;

void dsim_filter_init(DsimFilter *f, const DsimReportOptions *o);
void dsim_filter_clear(DsimFilter *f);
/* TRUE if the (resolved) pid is selected; pid 0 (scenario) always is. */
gboolean dsim_filter_match(const DsimFilter *f, const DsimTracker *tk, guint64 pid);
/* Opens the trace and applies the window. */
DsimTraceReader *dsim_report_open(const char *path, const DsimReportOptions *o, GError **error);
/* Sets *error for a failed write to out. */
gboolean dsim_report_check_output(FILE *out, GError **error);

/* ---------------------------------------------------------------- summary.c */

typedef struct {
  guint64 pid;
  guint64 sent, delivered, received, dropped_to, timeouts, crashes, restarts;
  guint64 pauses, clocks, stable_lost, stable_torn;
  gint64 paused_ns;      /* time spent paused (pause to resume) */
} DsimProcStats;

/* Faults that touched copies on a link, in the order of the LINK FAULTS
 * table. The first nine are the end line's "faults" kinds, except HELD,
 * which counts every held copy (the end line's "hold" only those kept by a
 * hold, not for a paused process: see held_hold). */
typedef enum {
  DSIM_LF_LOSS,
  DSIM_LF_PARTITION,
  DSIM_LF_LINK_DOWN,
  DSIM_LF_TOO_BIG,
  DSIM_LF_RULE_DROP,
  DSIM_LF_DUP,
  DSIM_LF_CORRUPT,
  DSIM_LF_DELAY,
  DSIM_LF_HELD,
  DSIM_LF_COUNT
} DsimLinkFault;

/* The end line's name of each DsimLinkFault ("hold" for HELD). */
extern const char *const dsim_link_fault_names[DSIM_LF_COUNT];

typedef struct {
  guint64 src, dst;
  guint64 sent, delivered, dropped, duplicated, corrupted;
  guint64 faults[DSIM_LF_COUNT];
  guint64 held_hold;     /* held by a hold (the rest: for a paused process) */
  DsimHistogram *latency;
} DsimLinkStats;

typedef struct {
  gint64 t;
  guint64 line;
  char *what;  /* "crash", "partition #1", ... */
  char *text;  /* details */
  gboolean bad;
} DsimTimelineEntry;

typedef struct {
  gint64 t;
  guint64 line;
  guint64 pid;
  gboolean ok;
  char *msg, *where;
} DsimCheckEntry;

#define DSIM_RATE_BINS 256

typedef struct {
  gboolean started, fixed;
  gint64 origin, width; /* bin i covers [origin + i*width, origin + (i+1)*width) */
  guint used;           /* bins up to the last one with a count */
  guint64 sent[DSIM_RATE_BINS], delivered[DSIM_RATE_BINS], dropped[DSIM_RATE_BINS];
} DsimRate;

#define DSIM_SUMMARY_TIMELINE_MAX 200
#define DSIM_SUMMARY_CHECKS_MAX 100

typedef struct {
  /* from the header and the reader */
  char *path, *scenario, *generator, *net_text, *digest;
  guint64 seed, max_events;
  gint64 version; /* the trace's format version */
  gboolean has_until, complete, windowed;
  gint64 until_ns, from_ns, to_ns;
  char *filter_text;     /* "pids 1, 2; groups server" or NULL */
  /* totals over selected events */
  guint64 events, lines;
  gint64 first_t, last_t;
  guint64 sent, delivered, received, dropped, duplicated, corrupted, timeouts, logs;
  guint64 checks_passed, checks_failed, errors;
  GHashTable *drop_reasons;   /* reason → guint64 count (owned strings) */
  GHashTable *other_kinds;    /* unknown kind → count */
  GHashTable *procs;          /* pid → DsimProcStats */
  GHashTable *links;          /* "src dst" key → DsimLinkStats */
  DsimHistogram *latency;
  DsimRate rate;
  GPtrArray *timeline;        /* DsimTimelineEntry, at most DSIM_SUMMARY_TIMELINE_MAX */
  guint64 timeline_more;
  GPtrArray *checks;          /* DsimCheckEntry: failed ones and the first passed ones */
  guint64 checks_more;
  /* the end line, if read */
  gboolean has_end;
  char *end_reason;
  gint64 end_t;
  guint64 end_events;
  guint64 end_totals[7];      /* sent, delivered, received, dropped, duplicated, checks passed, failed */
  gboolean end_totals_seen[7];
  guint64 recv_lines;         /* recv lines, to compare with the end line's "received" */
  GArray *blocked;            /* guint64 pids */
  gboolean has_end_faults;    /* the end line has "faults" */
  guint64 end_faults[DSIM_LF_COUNT];
  gboolean has_fault_links;
  guint64 end_fault_links;
  char *end_mismatch;         /* the end line's totals disagree with the lines, or NULL */
  guint64 in_flight, queued;  /* copies left at the end of what was read */
} DsimSummary;

DsimSummary *dsim_summary_new(const DsimTraceReader *r, const DsimReportOptions *o);
void dsim_summary_free(DsimSummary *s);
/* Counts ev (already applied to tk; copy as returned by the tracker). */
void dsim_summary_add(DsimSummary *s, const DsimTraceEvent *ev, DsimTracker *tk, const DsimCopy *copy,
                      const DsimFilter *f);
/* After the last event: digest, completeness, a row for every selected
 * process, end-line cross-check. */
void dsim_summary_finish(DsimSummary *s, const DsimTraceReader *r, DsimTracker *tk, const DsimFilter *f);
/* Rows sorted by pid / by (src, dst); arrays owned by the caller (free
 * with g_ptr_array_unref; the elements belong to the summary). */
GPtrArray *dsim_summary_proc_rows(const DsimSummary *s);
GPtrArray *dsim_summary_link_rows(const DsimSummary *s);
/* The same, only the links that saw a fault of the LINK FAULTS table /
 * the processes with one of the PROCESS FAULTS table. */
GPtrArray *dsim_summary_link_fault_rows(const DsimSummary *s);
GPtrArray *dsim_summary_proc_fault_rows(const DsimSummary *s);
/* The faults counted in a row of those tables, all kinds together. */
guint64 dsim_link_fault_total(const DsimLinkStats *l);
guint64 dsim_proc_fault_total(const DsimProcStats *p);
/* Drop reasons as "loss 3, partition 1" sorted by count then name. */
char *dsim_summary_drop_text(const DsimSummary *s);
/* Unknown kinds as "foo 3, bar 1", or NULL. */
char *dsim_summary_other_text(const DsimSummary *s);
/* The state of pid at the end: "blocked", "crashed", "exited", "running" or "-". */
const char *dsim_summary_end_state(const DsimSummary *s, DsimTracker *tk, guint64 pid);
/* Subgroups of pid as "server" or "a,b", or "-". Owned by the caller. */
char *dsim_proc_groups_text(DsimTracker *tk, guint64 pid);

/* ---------------------------------------------------------------- text.c */

void dsim_text_write(DsimSummary *s, DsimTracker *tk, const DsimReportOptions *o, FILE *out);

/* ---------------------------------------------------------------- diagram.c */

typedef struct DsimDiagram DsimDiagram;

typedef struct {
  guint64 host; /* 0 for scenario code */
  GArray *clock; /* pairs as dsim_causal_clock() */
  guint64 line;
  gint64 t;
} DsimCausalTarget;

/* Collects items from the events it is given, up to limit (then it stops
 * and remembers where). With keep_last, it keeps the last `limit` items
 * instead (the causal view, where the end matters most). */
DsimDiagram *dsim_diagram_new(guint limit, gboolean keep_last);
void dsim_diagram_free(DsimDiagram *d);
/* Records the state of processes and partitions when the diagram starts:
 * call once, before applying the first event inside the window. */
void dsim_diagram_begin(DsimDiagram *d, DsimTracker *tk);
/* Called for every event inside the window, after the tracker and the
 * causal clocks applied it; host/seq from dsim_causal_apply(). Keeps the
 * events whose process (or one of whose message ends) is selected. */
void dsim_diagram_add(DsimDiagram *d, const DsimTraceEvent *ev, DsimTracker *tk, DsimCopy *copy,
                      const DsimFilter *f, gboolean has_seq, guint64 host, guint32 seq);
/* Restricts the next dsim_diagram_add() calls to the causal past of
 * target (items of hosts not in the past are not kept). */
void dsim_diagram_set_causal_filter(DsimDiagram *d, const DsimCausalTarget *target);
gboolean dsim_diagram_truncated(const DsimDiagram *d);
/* The trace line of the first event left out because the diagram was
 * full (G_MAXUINT64 if none was). */
guint64 dsim_diagram_first_missing_line(const DsimDiagram *d);
guint64 dsim_diagram_items(const DsimDiagram *d);
guint64 dsim_diagram_arrows(const DsimDiagram *d);
/* Writes the diagram as an <svg> element; ids are prefixed with id. With
 * target non-NULL, draws only the causal past of target. */
void dsim_diagram_write_svg(DsimDiagram *d, DsimTracker *tk, const DsimFilter *f,
                            const DsimCausalTarget *target, const char *id, GString *out);

/* ---------------------------------------------------------------- charts.c */

void dsim_chart_latency(DsimHistogram *h, GString *out);
void dsim_chart_rate(const DsimRate *rate, GString *out);

/* ---------------------------------------------------------------- exports */

gboolean dsim_export_perfetto(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out,
                              GError **error);
gboolean dsim_export_shiviz(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out,
                            GError **error);
gboolean dsim_export_mermaid(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out,
                             GError **error);
gboolean dsim_export_csv(DsimTraceReader *r, const DsimReportOptions *o, DsimFilter *f, FILE *out,
                         GError **error);

#endif
