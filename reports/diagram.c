/* diagram.c — the space-time (Lamport) diagram.
 *
 * Collecting: each event worth drawing becomes an Item (a point, an arrow
 * end, a marker) with its hover text. At most `limit` items are kept: the
 * first ones (then the diagram says where it stopped), or with keep_last
 * the last ones (the causal view, where what led to the failure matters
 * most). An item keeps the pids it concerns, not rows: rows are decided
 * when drawing, after bind has told which pid a process ended up with.
 *
 * Drawing: one row per process, time flowing to the right in columns that
 * follow the trace's order. Events at the same virtual time share a column
 * unless they touch the same row or one is the other's message end, so a
 * column never holds two events of one process and every arrow points to
 * the right. The axis labels give virtual time. Message copies are arrows
 * from the send to the delivery; drops end in a cross where they happened
 * (next to the sender for a loss at send time, on the receiver's row for a
 * drop on arrival or from its queue); crashes, restarts, partitions,
 * checks, timeouts and logs are marks on the rows. A pause is a band on
 * the process's row from pause to resume; links down and holds are drawn
 * like partitions (bands on the rows of both sides). A copy that waited
 * in the network (held) or that a rule delayed has a mark at its arrow's
 * head. Everything has a <title>, which browsers show on hover.
 *
 * Causal past (dsim_causal_apply()): an item is in the past of the target
 * event if its process's entry in the target's vector clock is at least
 * the item's own; an arrow if both its send and its delivery are; a drop
 * if its send is. Partitions and heals before the target are kept as
 * context: they explain drops. */
#include "reports_internal.h"

#include <string.h>

#define OTHERS G_MAXUINT64

static const char *const cut_names[] = {"partition", "link down", "hold"};
static const char *const cut_classes[] = {"partition", "linkdown", "holdcut"};
static const char *const cut_labels[] = {"cut", "down", "hold"};
static const char *const cut_end_classes[] = {"", " linkup", " release"};

typedef enum {
  DI_SPAWN,
  DI_BIND,
  DI_EXIT,
  DI_CRASH,
  DI_RESTART,
  DI_SEND,
  DI_DELIVER,
  DI_RECV,
  DI_DROP,
  DI_TIMEOUT,
  DI_LOG,
  DI_CHECK,
  DI_ERROR,
  DI_PARTITION, /* also a link down or a hold: see cut */
  DI_HEAL,      /* also a link up or a release */
  DI_PAUSE,
  DI_RESUME,
  DI_CLOCK,
  DI_STORAGE,   /* stable_lost, stable_torn */
} ItemKind;

/* The mark for an event drawn on its process's line alone. */
static ItemKind process_mark(DsimEventKind kind) {
  switch (kind) {
  case DSIM_EV_SPAWN: return DI_SPAWN;
  case DSIM_EV_BIND: return DI_BIND;
  case DSIM_EV_EXIT: return DI_EXIT;
  case DSIM_EV_CRASH: return DI_CRASH;
  case DSIM_EV_RESTART: return DI_RESTART;
  case DSIM_EV_TIMEOUT: return DI_TIMEOUT;
  case DSIM_EV_LOG: return DI_LOG;
  case DSIM_EV_ERROR: return DI_ERROR;
  case DSIM_EV_PAUSE: return DI_PAUSE;
  case DSIM_EV_RESUME: return DI_RESUME;
  case DSIM_EV_CLOCK: return DI_CLOCK;
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN: return DI_STORAGE;
  case DSIM_EV_CHECK:
  default: return DI_CHECK;
  }
}

enum {
  F_DUP = 1,      /* a copy made by the network */
  F_CORRUPT = 2,  /* delivered corrupted */
  F_FAILED = 4,   /* a failed check */
  F_AT_SEND = 8,  /* a drop at the moment of the send */
  F_QUEUED = 16,  /* a drop from the receiver's input queue (it had arrived) */
  F_BEFORE = 32,  /* a partition already in force when the diagram starts */
  F_HELD = 64,    /* the copy waited in the network (hold or paused receiver) */
  F_DELAYED = 128, /* a message rule added delay */
};

typedef struct {
  guint64 no, line;
  gint64 t;
  gint64 ref_t;      /* deliver, drop: when the copy was sent (-1: unknown) */
  ItemKind kind;
  guint32 flags;
  guint64 pid, peer; /* the process the item is on; the other end of a message */
  guint64 ref;       /* deliver, drop: the send's item; recv: the delivery's */
  gboolean has_seq;
  guint64 host;
  guint32 seq, ref_seq;
  guint64 id;        /* partition, heal */
  DsimCutKind cut;   /* partition, heal: which kind of cut */
  GArray *side_a, *side_b;
  char *title;
  guint col;         /* scratch while drawing */
} Item;

struct DsimDiagram {
  guint limit;
  gboolean keep_last;
  GArray *items;
  guint64 next_no;
  gboolean truncated, begun;
  GHashTable *initial;  /* pid → DsimProcState + 1 (as a pointer) when the diagram began */
  GHashTable *paused;   /* pids paused when the diagram began → pause time (gint64*) */
  GHashTable *target;   /* pid → clock entry while collecting a causal past, or NULL */
  guint64 target_line;
  guint64 first_missing; /* line of the first item left out (G_MAXUINT64: none) */
};

static void item_clear(gpointer p) {
  Item *it = p;
  g_free(it->title);
  if (it->side_a) g_array_unref(it->side_a);
  if (it->side_b) g_array_unref(it->side_b);
}

DsimDiagram *dsim_diagram_new(guint limit, gboolean keep_last) {
  DsimDiagram *d = g_new0(DsimDiagram, 1);
  d->limit = MAX(limit, 1u);
  d->keep_last = keep_last;
  d->items = g_array_new(FALSE, TRUE, sizeof(Item));
  g_array_set_clear_func(d->items, item_clear);
  d->initial = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  d->paused = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  d->first_missing = G_MAXUINT64;
  return d;
}

void dsim_diagram_free(DsimDiagram *d) {
  if (!d) return;
  g_array_unref(d->items);
  g_hash_table_destroy(d->initial);
  g_hash_table_destroy(d->paused);
  if (d->target) g_hash_table_destroy(d->target);
  g_free(d);
}

gboolean dsim_diagram_truncated(const DsimDiagram *d) {
  return d->truncated;
}

guint64 dsim_diagram_first_missing_line(const DsimDiagram *d) {
  return d->first_missing;
}

guint64 dsim_diagram_items(const DsimDiagram *d) {
  return d->items->len;
}

guint64 dsim_diagram_arrows(const DsimDiagram *d) {
  guint64 n = 0;
  for (guint i = 0; i < d->items->len; i++)
    if (g_array_index(d->items, Item, i).kind == DI_DELIVER) n++;
  return n;
}

static GHashTable *clock_table(const DsimCausalTarget *target) {
  GHashTable *t = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i + 1 < target->clock->len; i += 2) {
    guint64 pid = g_array_index(target->clock, guint64, i);
    g_hash_table_insert(t, g_memdup2(&pid, sizeof pid),
                        GUINT_TO_POINTER((guint)g_array_index(target->clock, guint64, i + 1)));
  }
  return t;
}

static guint32 entry(GHashTable *clock, guint64 pid) {
  return GPOINTER_TO_UINT(g_hash_table_lookup(clock, &pid));
}

static gboolean in_past(const Item *it, GHashTable *clock, guint64 target_line) {
  if (it->line > target_line) return FALSE;
  switch (it->kind) {
  case DI_PARTITION:
  case DI_HEAL:
    return TRUE;
  case DI_DELIVER:
    return it->has_seq && it->seq <= entry(clock, it->host) && it->ref_seq && it->ref_seq <= entry(clock, it->peer);
  case DI_DROP:
    return it->ref_seq && it->ref_seq <= entry(clock, it->peer);
  default:
    return it->has_seq && it->seq <= entry(clock, it->host);
  }
}

void dsim_diagram_set_causal_filter(DsimDiagram *d, const DsimCausalTarget *target) {
  if (d->target) g_hash_table_destroy(d->target);
  d->target = clock_table(target);
  d->target_line = target->line;
}

static Item *find_item(DsimDiagram *d, guint64 no) {
  if (!no) return NULL;
  guint lo = 0, hi = d->items->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    Item *it = &g_array_index(d->items, Item, mid);
    if (it->no == no) return it;
    if (it->no < no)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void dsim_diagram_begin(DsimDiagram *d, DsimTracker *tk) {
  if (d->begun) return;
  d->begun = TRUE;
  GPtrArray *procs = dsim_tracker_procs(tk);
  for (guint i = 0; i < procs->len; i++) {
    DsimProc *p = g_ptr_array_index(procs, i);
    g_hash_table_insert(d->initial, g_memdup2(&p->pid, sizeof p->pid), GUINT_TO_POINTER((guint)p->state + 1));
    if (p->paused)
      g_hash_table_insert(d->paused, g_memdup2(&p->pid, sizeof p->pid), g_memdup2(&p->paused_t, sizeof p->paused_t));
  }
  /* partitions already in force are drawn from the left edge */
  GPtrArray *parts = dsim_tracker_partitions(tk);
  for (guint i = 0; i < parts->len && d->items->len < d->limit; i++) {
    DsimPartition *pt = g_ptr_array_index(parts, i);
    char b[DSIM_TIME_BUF];
    Item it = {0};
    it.no = ++d->next_no;
    it.kind = DI_PARTITION;
    it.flags = F_BEFORE;
    it.t = pt->t;
    it.ref_t = -1;
    it.id = pt->id;
    it.cut = pt->kind;
    it.side_a = g_array_ref(pt->a);
    it.side_b = g_array_ref(pt->b);
    it.title = g_strdup_printf("%s #%" G_GUINT64_FORMAT " %s, in force since %s", cut_names[pt->kind], pt->id, pt->text,
                               dsim_fmt_time(pt->t, b));
    g_array_append_val(d->items, it);
  }
}

/* What a held or delayed copy went through, for its arrow's hover text;
 * sets the flags that mark the arrow. */
static void copy_faults(Item *it, GString *title, const DsimCopy *copy) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF];
  if (!copy) return;
  if (copy->extra_ns) {
    it->flags |= F_DELAYED;
    g_string_append_printf(title, "\nextra delay %s", dsim_fmt_duration((gint64)copy->extra_ns, b1));
    if (copy->delay_rule) g_string_append_printf(title, " by rule #%" G_GUINT64_FORMAT, copy->delay_rule);
  }
  if (copy->held) {
    it->flags |= F_HELD;
    if (copy->held_paused)
      g_string_append_printf(title, "\nheld: pid %" G_GUINT64_FORMAT " was paused (from %s", copy->dst,
                             dsim_fmt_time(copy->held_t, b1));
    else
      g_string_append_printf(title, "\nheld by hold #%" G_GUINT64_FORMAT " (from %s", copy->hold_id,
                             dsim_fmt_time(copy->held_t, b1));
    if (it->t >= copy->held_t)
      g_string_append_printf(title, ", %s)", dsim_fmt_duration(it->t - copy->held_t, b2));
    else
      g_string_append_c(title, ')');
  }
}

/* "2.954ms after the send" etc. */
static void append_time(GString *s, const char *label, gint64 t) {
  char b[DSIM_TIME_BUF];
  g_string_append_printf(s, "%s %s", label, dsim_fmt_time(t, b));
}

static void message_title(GString *s, const DsimTraceEvent *ev, const DsimCopy *copy) {
  g_string_append_printf(s, "#%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                         ev->mid, ev->kind == DSIM_EV_SEND ? 0 : ev->copy, ev->src, ev->dst);
  if (copy && copy->data) {
    g_string_append(s, "  \"");
    dsim_append_clean(s, copy->data, 64);
    g_string_append_c(s, '"');
  }
  if (copy && copy->size) g_string_append_printf(s, " (%" G_GUINT64_FORMAT " B)", copy->size);
  g_string_append_c(s, '\n');
}

void dsim_diagram_add(DsimDiagram *d, const DsimTraceEvent *ev, DsimTracker *tk, DsimCopy *copy, const DsimFilter *f,
                      gboolean has_seq, guint64 host, guint32 seq) {
  if (ev->kind == DSIM_EV_SEND && copy && has_seq) copy->send_seq = seq;
  /* full: nothing more is kept, so skip building hover text for millions
   * of events (the first one left out is remembered below) */
  if (!d->keep_last && d->truncated) return;
  Item it = {0};
  it.line = ev->line;
  it.t = ev->t;
  it.ref_t = -1;
  it.has_seq = has_seq;
  it.host = host;
  it.seq = seq;
  GString *title = g_string_new(NULL);
  char b1[DSIM_TIME_BUF];
  gboolean message = ev->kind == DSIM_EV_SEND || ev->kind == DSIM_EV_DELIVER || ev->kind == DSIM_EV_DROP;
  if (message && !dsim_filter_match(f, tk, ev->src) && !dsim_filter_match(f, tk, ev->dst)) goto skip;
  gboolean selected = dsim_filter_match(f, tk, ev->pid);
  switch (ev->kind) {
  case DSIM_EV_SEND:
    it.kind = DI_SEND;
    it.pid = ev->src;
    it.peer = ev->dst;
    g_string_append(title, "send ");
    message_title(title, ev, copy);
    append_time(title, "sent at", ev->t);
    break;
  case DSIM_EV_DELIVER:
    it.kind = DI_DELIVER;
    it.pid = ev->dst;
    it.peer = ev->src;
    if (copy) {
      it.ref = copy->diag_send;
      it.ref_t = copy->sent_t;
      it.ref_seq = copy->send_seq;
      if (copy->corrupted) it.flags |= F_CORRUPT;
    }
    if (ev->copy) it.flags |= F_DUP;
    g_string_append(title, ev->copy ? "duplicate " : "message ");
    message_title(title, ev, copy);
    if (it.ref_t >= 0) {
      char b2[DSIM_TIME_BUF];
      append_time(title, "sent at", it.ref_t);
      g_string_append_printf(title, ", delivered at %s (latency %s)", dsim_fmt_time(ev->t, b1),
                             dsim_fmt_duration(ev->t - it.ref_t, b2));
    } else {
      append_time(title, "sent before the first event shown, delivered at", ev->t);
    }
    if (it.flags & F_CORRUPT) g_string_append(title, "\ndelivered CORRUPTED");
    copy_faults(&it, title, copy);
    break;
  case DSIM_EV_RECV:
    if (!selected) goto skip;
    it.kind = DI_RECV;
    it.pid = ev->pid;
    it.peer = ev->src;
    if (copy) it.ref = copy->diag_deliver;
    g_string_printf(title, "pid %" G_GUINT64_FORMAT " takes #%" G_GUINT64_FORMAT ".%" G_GUINT64_FORMAT
                           " (from %" G_GUINT64_FORMAT ") out of its input queue at %s",
                    ev->pid, ev->mid, ev->copy, ev->src, dsim_fmt_time(ev->t, b1));
    break;
  case DSIM_EV_DROP:
    it.kind = DI_DROP;
    it.pid = ev->dst;
    it.peer = ev->src;
    if (copy) {
      it.ref = copy->diag_send;
      it.ref_t = copy->sent_t;
      it.ref_seq = copy->send_seq;
    }
    if (ev->copy) it.flags |= F_DUP;
    if (!strcmp(ev->reason, "crash") || !strcmp(ev->reason, "exit"))
      it.flags |= F_QUEUED;
    else if (it.ref_t == ev->t)
      it.flags |= F_AT_SEND;
    g_string_append(title, "LOST ");
    message_title(title, ev, copy);
    g_string_append(title, "dropped (");
    dsim_append_clean(title, ev->reason, 40);
    g_string_append(title, ") at ");
    g_string_append(title, dsim_fmt_time(ev->t, b1));
    if (it.ref_t >= 0 && it.ref_t != ev->t) {
      g_string_append(title, ", sent at ");
      g_string_append(title, dsim_fmt_time(it.ref_t, b1));
    }
    copy_faults(&it, title, copy);
    it.flags &= ~(guint32)(F_HELD | F_DELAYED); /* said in the title; the cross needs no other mark */
    break;
  case DSIM_EV_SPAWN:
  case DSIM_EV_BIND:
  case DSIM_EV_EXIT:
  case DSIM_EV_CRASH:
  case DSIM_EV_RESTART:
  case DSIM_EV_TIMEOUT:
  case DSIM_EV_LOG:
  case DSIM_EV_ERROR:
  case DSIM_EV_CHECK:
  case DSIM_EV_PAUSE:
  case DSIM_EV_RESUME:
  case DSIM_EV_CLOCK:
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
    if (!selected) goto skip;
    it.kind = process_mark(ev->kind);
    it.pid = ev->pid;
    if (ev->kind == DSIM_EV_CHECK && !ev->ok) it.flags |= F_FAILED;
    dsim_describe_event(title, ev);
    g_string_append(title, "\nat ");
    g_string_append(title, dsim_fmt_time(ev->t, b1));
    break;
  case DSIM_EV_PARTITION:
  case DSIM_EV_LINK_DOWN:
  case DSIM_EV_HOLD:
  case DSIM_EV_HEAL:
  case DSIM_EV_LINK_UP:
  case DSIM_EV_RELEASE: {
    gboolean ends = FALSE;
    dsim_cut_kind_of(ev->kind, &it.cut, &ends);
    it.id = ev->id;
    if (ends) {
      it.kind = DI_HEAL;
      dsim_describe_event(title, ev);
      g_string_append_printf(title, "\nat %s", dsim_fmt_time(ev->t, b1));
      break;
    }
    DsimPartition *pt = dsim_tracker_cut(tk, it.cut, ev->id);
    if (!pt) goto skip;
    it.kind = DI_PARTITION;
    it.side_a = g_array_ref(pt->a);
    it.side_b = g_array_ref(pt->b);
    g_string_printf(title, "%s #%" G_GUINT64_FORMAT " %s", cut_names[it.cut], ev->id, pt->text);
    if (ev->cause) g_string_append_printf(title, " (%s)", ev->cause);
    g_string_append_printf(title, "\nat %s", dsim_fmt_time(ev->t, b1));
    break;
  }
  default:
    goto skip;
  }
  it.title = g_string_free(title, FALSE);
  title = NULL;
  if (d->target && !in_past(&it, d->target, d->target_line)) goto skip_item;
  if (!d->keep_last && d->items->len >= d->limit) {
    if (!d->truncated) d->first_missing = ev->line;
    d->truncated = TRUE;
    goto skip_item;
  }
  it.no = ++d->next_no;
  g_array_append_val(d->items, it);
  if (ev->kind == DSIM_EV_SEND && copy) copy->diag_send = it.no;
  if (ev->kind == DSIM_EV_DELIVER && copy) copy->diag_deliver = it.no;
  if (ev->kind == DSIM_EV_RECV) {
    Item *del = find_item(d, g_array_index(d->items, Item, d->items->len - 1).ref);
    if (del && del->kind == DI_DELIVER) {
      char *t = g_strdup_printf("%s\ntaken by pid %" G_GUINT64_FORMAT " at %s", del->title, ev->pid,
                                dsim_fmt_time(ev->t, b1));
      g_free(del->title);
      del->title = t;
    }
  }
  if (d->keep_last && d->items->len >= 2 * d->limit) {
    d->truncated = TRUE;
    g_array_remove_range(d->items, 0, d->items->len - d->limit);
  }
  return;
skip_item:
  item_clear(&it);
  return;
skip:
  if (title) g_string_free(title, TRUE);
}

/* ---------------------------------------------------------------- drawing */

#define LEFT 170
#define COLW 16
#define TOP 46
#define ROWH 36
#define RIGHT 24

typedef struct {
  GString *out;
  const char *id;
  DsimTracker *tk;
  const DsimFilter *f;
  GPtrArray *list;    /* Item* drawn, in order */
  GArray *rows;       /* guint64 row keys: 0 scenario, pids, OTHERS */
  GHashTable *row_of; /* key → index + 1 */
  guint ncols;
  GArray *col_t;      /* gint64 time of each column */
} Draw;

static guint64 row_key(Draw *dr, guint64 pid) {
  if (pid == 0) return 0;
  guint64 real = dsim_tracker_resolve(dr->tk, pid);
  return dsim_filter_match(dr->f, dr->tk, real) ? real : OTHERS;
}

static int row_y(Draw *dr, guint64 pid) {
  guint64 key = row_key(dr, pid);
  guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(dr->row_of, &key));
  g_assert(idx > 0);
  return TOP + (int)(idx - 1) * ROWH + ROWH / 2;
}

static int col_x(guint col) {
  return LEFT + (int)col * COLW + COLW / 2;
}

static Item *list_find(Draw *dr, guint64 no) {
  if (!no) return NULL;
  guint lo = 0, hi = dr->list->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    Item *it = g_ptr_array_index(dr->list, mid);
    if (it->no == no) return it;
    if (it->no < no)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static gint cmp_u64(gconstpointer a, gconstpointer b) {
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
  return x < y ? -1 : x > y;
}

static void add_row(GArray *keys, GHashTable *seen, guint64 key) {
  if (g_hash_table_contains(seen, &key)) return;
  guint64 *k = g_memdup2(&key, sizeof key);
  g_hash_table_add(seen, k);
  g_array_append_val(keys, key);
}

static void build_rows(Draw *dr, DsimDiagram *d, gboolean causal) {
  GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  GArray *keys = g_array_new(FALSE, FALSE, sizeof(guint64));
  for (guint i = 0; i < dr->list->len; i++) {
    Item *it = g_ptr_array_index(dr->list, i);
    if (it->kind == DI_PARTITION || it->kind == DI_HEAL) {
      for (guint s = 0; s < 2; s++) {
        GArray *side = s ? it->side_b : it->side_a;
        for (guint k = 0; side && k < side->len; k++) {
          guint64 key = row_key(dr, g_array_index(side, guint64, k));
          if (key != OTHERS && !causal) add_row(keys, seen, key);
        }
      }
      continue;
    }
    add_row(keys, seen, row_key(dr, it->pid));
    /* a message's other end gets a row too, except a send's receiver in
     * the causal view: the send is in the past, its arrival may not be */
    if (it->kind == DI_DELIVER || it->kind == DI_DROP || (it->kind == DI_SEND && !causal))
      add_row(keys, seen, row_key(dr, it->peer));
  }
  if (!causal) {
    /* every selected process alive in the window has a row, busy or not */
    GPtrArray *procs = dsim_tracker_procs(dr->tk);
    for (guint i = 0; i < procs->len; i++) {
      DsimProc *p = g_ptr_array_index(procs, i);
      if (p->pid == 0 || p->alias_of || !dsim_filter_match(dr->f, dr->tk, p->pid)) continue;
      gpointer st = g_hash_table_lookup(d->initial, &p->pid);
      if (st && GPOINTER_TO_UINT(st) - 1 == DSIM_PROC_RUNNING) add_row(keys, seen, p->pid);
    }
  }
  g_array_sort(keys, cmp_u64); /* scenario (0) first, OTHERS last */
  dr->rows = keys;
  dr->row_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < keys->len; i++)
    g_hash_table_insert(dr->row_of, g_memdup2(&g_array_index(keys, guint64, i), sizeof(guint64)), GUINT_TO_POINTER(i + 1));
  g_hash_table_destroy(seen);
}

/* Assigns columns: see the file comment. */
static void build_columns(Draw *dr) {
  dr->col_t = g_array_new(FALSE, FALSE, sizeof(gint64));
  guint nrows = dr->rows->len;
  guint8 *used = g_new0(guint8, nrows + 1);
  gint col = -1;
  for (guint i = 0; i < dr->list->len; i++) {
    Item *it = g_ptr_array_index(dr->list, i);
    gboolean global = it->kind == DI_PARTITION || it->kind == DI_HEAL;
    guint row = 0;
    gboolean at_peer = it->kind == DI_DROP && (it->flags & F_AT_SEND);
    if (!global) {
      guint64 key = row_key(dr, at_peer ? it->peer : it->pid);
      guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(dr->row_of, &key));
      g_assert(idx > 0); /* build_rows() gave every item's process a row */
      row = idx - 1;
    }
    gboolean fresh = col < 0 || g_array_index(dr->col_t, gint64, col) != it->t || global || used[row];
    if (!fresh && (it->kind == DI_DELIVER || it->kind == DI_RECV || it->kind == DI_DROP)) {
      Item *ref = list_find(dr, it->ref);
      if (ref && (gint)ref->col == col) fresh = TRUE;
    }
    if (!fresh && col >= 0 && used[nrows]) fresh = TRUE; /* the column holds a global mark */
    if (fresh) {
      col++;
      g_array_append_val(dr->col_t, it->t);
      memset(used, 0, nrows + 1);
    }
    it->col = (guint)col;
    if (global)
      used[nrows] = 1;
    else
      used[row] = 1;
  }
  dr->ncols = (guint)(col + 1);
  g_free(used);
}

static void open_title(Draw *dr, const char *title) {
  g_string_append(dr->out, "<title>");
  dsim_html_escape(dr->out, title);
  g_string_append(dr->out, "</title>");
}

/* Virtual time t in seconds with `decimals` digits after the point. */
static void fmt_tick(char *buf, gsize size, gint64 t, int decimals) {
  guint64 v = (guint64)MAX(t, (gint64)0), div = 1;
  for (int i = decimals; i < 9; i++) div *= 10;
  guint64 units = (v + div / 2) / div, scale = 1;
  for (int i = 0; i < decimals; i++) scale *= 10;
  if (decimals == 0)
    g_snprintf(buf, size, "%" G_GUINT64_FORMAT "s", units);
  else
    g_snprintf(buf, size, "%" G_GUINT64_FORMAT ".%0*" G_GUINT64_FORMAT "s", units / scale, decimals, units % scale);
}

/* Time labels at least 84 px apart, at columns whose time differs from
 * the previous label's. All show the same number of decimals, the fewest
 * that tell every label from the one before: a window of 0.2 s at 1.4 s
 * gets "1.4003s", a run of minutes "12.5s". */
static void draw_axis(Draw *dr, int height) {
  GString *o = dr->out;
  g_string_append_printf(o, "<text class=\"axis-label\" x=\"%d\" y=\"14\">virtual time (columns follow the trace order)</text>\n",
                         LEFT);
  GArray *cols = g_array_new(FALSE, FALSE, sizeof(guint));
  int last_x = -1000;
  for (guint c = 0; c < dr->ncols; c++) {
    gint64 t = g_array_index(dr->col_t, gint64, c);
    if (col_x(c) - last_x < 84) continue;
    if (cols->len && g_array_index(dr->col_t, gint64, g_array_index(cols, guint, cols->len - 1)) == t) continue;
    g_array_append_val(cols, c);
    last_x = col_x(c);
  }
  int d = 0;
  char a[48], b[48];
  for (guint i = 1; i < cols->len && d < 9; i++) {
    gint64 t0 = g_array_index(dr->col_t, gint64, g_array_index(cols, guint, i - 1));
    gint64 t1 = g_array_index(dr->col_t, gint64, g_array_index(cols, guint, i));
    for (;;) {
      fmt_tick(a, sizeof a, t0, d);
      fmt_tick(b, sizeof b, t1, d);
      if (strcmp(a, b) != 0 || d == 9) break;
      d++;
    }
  }
  for (guint i = 0; i < cols->len; i++) {
    guint c = g_array_index(cols, guint, i);
    int x = col_x(c);
    fmt_tick(a, sizeof a, g_array_index(dr->col_t, gint64, c), d);
    g_string_append_printf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x, TOP - 10, x, height - 8);
    g_string_append_printf(o, "<text class=\"tick\" x=\"%d\" y=\"%d\">%s</text>\n", x, TOP - 14, a);
  }
  g_array_unref(cols);
}

static void pause_band(Draw *dr, guint64 pid, int x1, int x2, int y, gint64 from, gint64 to) {
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF], b3[DSIM_TIME_BUF];
  g_string_append_printf(dr->out, "<rect class=\"paused-band\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\">", x1,
                         y - 6, MAX(x2 - x1, 2));
  GString *title = g_string_new(NULL);
  g_string_append_printf(title, "pid %" G_GUINT64_FORMAT " paused from %s", pid, dsim_fmt_time(from, b1));
  if (to >= 0)
    g_string_append_printf(title, " to %s (%s)", dsim_fmt_time(to, b2), dsim_fmt_duration(to - from, b3));
  else
    g_string_append(title, ", still paused where the diagram ends");
  g_string_append(title, ": it runs nothing; messages for it are held");
  open_title(dr, title->str);
  g_string_free(title, TRUE);
  g_string_append(dr->out, "</rect>\n");
}

/* Pause to resume (or crash, exit) as a band over the row's life line. */
static void draw_pauses(Draw *dr, DsimDiagram *d, gboolean causal, guint64 key, int y, int width) {
  gint64 *before = causal ? NULL : g_hash_table_lookup(d->paused, &key);
  gboolean paused = before != NULL;
  gint64 since = before ? *before : 0;
  int x1 = LEFT;
  for (guint i = 0; i < dr->list->len; i++) {
    Item *it = g_ptr_array_index(dr->list, i);
    if (it->kind == DI_PARTITION || it->kind == DI_HEAL || row_key(dr, it->pid) != key) continue;
    if (it->kind == DI_PAUSE && !paused) {
      paused = TRUE;
      since = it->t;
      x1 = col_x(it->col);
    } else if (paused && (it->kind == DI_RESUME || it->kind == DI_CRASH || it->kind == DI_EXIT)) {
      pause_band(dr, key, x1, col_x(it->col), y, since, it->t);
      paused = FALSE;
    }
  }
  if (paused) pause_band(dr, key, x1, width - RIGHT, y, since, -1);
}

static void draw_rows(Draw *dr, DsimDiagram *d, gboolean causal, int width) {
  GString *o = dr->out;
  for (guint r = 0; r < dr->rows->len; r++) {
    guint64 key = g_array_index(dr->rows, guint64, r);
    int y = TOP + (int)r * ROWH + ROWH / 2;
    if (r % 2 == 0)
      g_string_append_printf(o, "<rect class=\"band\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>", y - ROWH / 2, width, ROWH);
    GString *label = g_string_new(NULL);
    if (key == 0)
      g_string_append(label, "scenario code");
    else if (key == OTHERS)
      g_string_append(label, "other processes");
    else {
      char *g = dsim_proc_groups_text(dr->tk, key);
      g_string_append_printf(label, "%" G_GUINT64_FORMAT " %s", key, strcmp(g, "-") ? g : "");
      g_free(g);
    }
    GString *cut = g_string_new(NULL);
    dsim_append_clean(cut, label->str, 22);
    char pid_attr[24];
    if (key == OTHERS)
      g_strlcpy(pid_attr, "others", sizeof pid_attr);
    else
      g_snprintf(pid_attr, sizeof pid_attr, "%" G_GUINT64_FORMAT, key);
    g_string_append_printf(o, "<text class=\"proc-label\" data-pid=\"%s\" x=\"8\" y=\"%d\">", pid_attr, y + 4);
    dsim_html_escape(o, cut->str);
    open_title(dr, label->str);
    g_string_append(o, "</text>\n");
    g_string_free(cut, TRUE);
    g_string_free(label, TRUE);
    /* the life line: segments by state */
    if (key == 0 || key == OTHERS) {
      g_string_append_printf(o, "<line class=\"guide\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, y, width - RIGHT, y);
      continue;
    }
    DsimProcState state = DSIM_PROC_UNKNOWN;
    gpointer st = causal ? NULL : g_hash_table_lookup(d->initial, &key);
    if (st) state = (DsimProcState)(GPOINTER_TO_UINT(st) - 1);
    int seg_x = LEFT;
    gboolean started = state == DSIM_PROC_RUNNING || state == DSIM_PROC_CRASHED;
    for (guint i = 0; i < dr->list->len; i++) {
      Item *it = g_ptr_array_index(dr->list, i);
      if (it->kind == DI_PARTITION || it->kind == DI_HEAL) continue;
      if (row_key(dr, it->pid) != key) continue;
      int x = col_x(it->col);
      DsimProcState next = state;
      if (it->kind == DI_CRASH)
        next = DSIM_PROC_CRASHED;
      else if (it->kind == DI_EXIT)
        next = DSIM_PROC_EXITED;
      else if (it->kind == DI_RESTART || it->kind == DI_SPAWN || it->kind == DI_BIND || state == DSIM_PROC_UNKNOWN)
        next = DSIM_PROC_RUNNING;
      if (!started) {
        started = TRUE;
        seg_x = x;
        state = next == DSIM_PROC_EXITED ? DSIM_PROC_RUNNING : next;
      }
      if (next != state) {
        if (state == DSIM_PROC_RUNNING || state == DSIM_PROC_CRASHED)
          g_string_append_printf(o, "<line class=\"life%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                                 state == DSIM_PROC_CRASHED ? " down" : "", seg_x, y, x, y);
        state = next;
        seg_x = x;
      }
    }
    if (started && (state == DSIM_PROC_RUNNING || state == DSIM_PROC_CRASHED))
      g_string_append_printf(o, "<line class=\"life%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                             state == DSIM_PROC_CRASHED ? " down" : "", seg_x, y, width - RIGHT, y);
    draw_pauses(dr, d, causal, key, y, width);
  }
}

static void draw_partitions(Draw *dr, int width) {
  GString *o = dr->out;
  for (guint i = 0; i < dr->list->len; i++) {
    Item *it = g_ptr_array_index(dr->list, i);
    if (it->kind == DI_HEAL) {
      int x = col_x(it->col);
      g_string_append_printf(o, "<g class=\"heal%s\"><line", cut_end_classes[it->cut]);
      g_string_append_printf(o, " x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x, TOP - 8, x,
                             TOP + (int)dr->rows->len * ROWH);
      open_title(dr, it->title);
      g_string_append(o, "</g>\n");
      continue;
    }
    if (it->kind != DI_PARTITION) continue;
    int x1 = (it->flags & F_BEFORE) ? LEFT : col_x(it->col);
    int x2 = width - RIGHT;
    for (guint k = i + 1; k < dr->list->len; k++) {
      Item *h = g_ptr_array_index(dr->list, k);
      if (h->kind == DI_HEAL && h->id == it->id && h->cut == it->cut) {
        x2 = col_x(h->col);
        break;
      }
    }
    g_string_append_printf(o, "<g class=\"%s\">", cut_classes[it->cut]);
    open_title(dr, it->title);
    g_string_append_printf(o, "<line class=\"cutline\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x1, TOP - 8, x1,
                           TOP + (int)dr->rows->len * ROWH);
    g_string_append_printf(o, "<text class=\"cutlabel\" x=\"%d\" y=\"%d\">%s #%" G_GUINT64_FORMAT "</text>", x1 + 3,
                           TOP - 2, cut_labels[it->cut], it->id);
    for (guint s = 0; s < 2; s++) {
      GArray *side = s ? it->side_b : it->side_a;
      for (guint k = 0; side && k < side->len; k++) {
        guint64 key = row_key(dr, g_array_index(side, guint64, k));
        if (!g_hash_table_contains(dr->row_of, &key) || key == OTHERS) continue;
        int y = row_y(dr, key);
        g_string_append_printf(o, "<rect class=\"cut %s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"10\"/>",
                               s ? "side-b" : "side-a", x1, y - 5, MAX(x2 - x1, 2));
      }
    }
    g_string_append(o, "</g>\n");
  }
}

static void draw_cross(GString *o, int x, int y, const char *cls, const char *title, Draw *dr) {
  g_string_append_printf(o, "<g class=\"%s\">", cls);
  open_title(dr, title);
  g_string_append_printf(o, "<path d=\"M%d %dL%d %dM%d %dL%d %d\"/></g>\n", x - 5, y - 5, x + 5, y + 5, x - 5, y + 5,
                         x + 5, y - 5);
}

static void draw_items(Draw *dr, const DsimCausalTarget *target) {
  GString *o = dr->out;
  for (guint i = 0; i < dr->list->len; i++) {
    Item *it = g_ptr_array_index(dr->list, i);
    if (it->kind == DI_PARTITION || it->kind == DI_HEAL) continue;
    int x = col_x(it->col), y = row_y(dr, it->pid);
    Item *ref = list_find(dr, it->ref);
    switch (it->kind) {
    case DI_SEND:
      g_string_append_printf(o, "<circle class=\"send\" cx=\"%d\" cy=\"%d\" r=\"3\">", x, y);
      open_title(dr, it->title);
      g_string_append(o, "</circle>\n");
      break;
    case DI_DELIVER: {
      int yp = row_y(dr, it->peer);
      int xs = ref ? col_x(ref->col) : LEFT;
      const char *marker = (it->flags & F_CORRUPT) ? "ah-c" : (it->flags & F_DUP) ? "ah-d" : "ah";
      g_string_append_printf(o,
                             "<line class=\"arrow%s%s%s%s%s\" data-src=\"%" G_GUINT64_FORMAT "\" data-dst=\"%" G_GUINT64_FORMAT
                             "\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" marker-end=\"url(#%s-%s)\">",
                             (it->flags & F_DUP) ? " dup" : "", (it->flags & F_CORRUPT) ? " corrupt" : "",
                             ref ? "" : " from-before", (it->flags & F_HELD) ? " held" : "",
                             (it->flags & F_DELAYED) ? " delayed" : "", row_key(dr, it->peer), row_key(dr, it->pid), xs,
                             yp, x - 2, y, dr->id, marker);
      open_title(dr, it->title);
      g_string_append(o, "</line>\n");
      /* marks just before the head, where the copy waited or was slowed */
      if (it->flags & F_HELD) {
        g_string_append_printf(o, "<rect class=\"held-mark\" x=\"%d\" y=\"%d\" width=\"6\" height=\"8\">", x - 12,
                               y + (yp < y ? -12 : 4));
        open_title(dr, it->title);
        g_string_append(o, "</rect>\n");
      }
      if (it->flags & F_DELAYED) {
        g_string_append_printf(o, "<circle class=\"delay-mark\" cx=\"%d\" cy=\"%d\" r=\"3\">", x - 16,
                               y + (yp < y ? -8 : 8));
        open_title(dr, it->title);
        g_string_append(o, "</circle>\n");
      }
      if (it->flags & F_CORRUPT)
        g_string_append_printf(o, "<rect class=\"corrupt-mark\" x=\"%d\" y=\"%d\" width=\"7\" height=\"7\" transform=\"rotate(45 %d %d)\"/>\n",
                               x - 3, y - 14, x, y - 10);
      break;
    }
    case DI_RECV:
      g_string_append_printf(o, "<circle class=\"recv\" cx=\"%d\" cy=\"%d\" r=\"2.5\">", x, y);
      open_title(dr, it->title);
      g_string_append(o, "</circle>\n");
      break;
    case DI_DROP: {
      int ys = row_y(dr, it->peer);
      int xs = ref ? col_x(ref->col) : LEFT;
      if (it->flags & F_QUEUED) {
        draw_cross(o, x, y, (it->flags & F_DUP) ? "drop queued dup" : "drop queued", it->title, dr);
      } else if (it->flags & F_AT_SEND) {
        /* lost as it left: a stub from the sender a third of the way to the receiver */
        int xe = x + COLW / 2, ye = ys + (y - ys) / 3;
        if (ys == y) ye = y - ROWH / 3;
        g_string_append_printf(o, "<line class=\"lost\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", ref ? xs : x - COLW / 2, ys,
                               xe, ye);
        draw_cross(o, xe, ye, (it->flags & F_DUP) ? "drop dup" : "drop", it->title, dr);
      } else {
        g_string_append_printf(o, "<line class=\"lost\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", xs, ys, x, y);
        draw_cross(o, x, y, (it->flags & F_DUP) ? "drop dup" : "drop", it->title, dr);
      }
      break;
    }
    case DI_CRASH:
      g_string_append_printf(o, "<g class=\"crash\">");
      open_title(dr, it->title);
      g_string_append_printf(o, "<path d=\"M%d %dL%d %dM%d %dL%d %d\"/></g>\n", x - 7, y - 7, x + 7, y + 7, x - 7, y + 7,
                             x + 7, y - 7);
      break;
    case DI_RESTART:
      g_string_append_printf(o, "<path class=\"restart\" d=\"M%d %dL%d %dL%d %dZ\">", x - 5, y - 7, x + 7, y, x - 5, y + 7);
      open_title(dr, it->title);
      g_string_append(o, "</path>\n");
      break;
    case DI_SPAWN:
    case DI_BIND:
      g_string_append_printf(o, "<rect class=\"spawn\" x=\"%d\" y=\"%d\" width=\"3\" height=\"14\">", x - 1, y - 7);
      open_title(dr, it->title);
      g_string_append(o, "</rect>\n");
      break;
    case DI_EXIT:
      g_string_append_printf(o, "<rect class=\"exit\" x=\"%d\" y=\"%d\" width=\"4\" height=\"16\">", x - 2, y - 8);
      open_title(dr, it->title);
      g_string_append(o, "</rect>\n");
      break;
    case DI_TIMEOUT:
      g_string_append_printf(o, "<circle class=\"timeout\" cx=\"%d\" cy=\"%d\" r=\"4\">", x, y);
      open_title(dr, it->title);
      g_string_append(o, "</circle>\n");
      break;
    case DI_LOG:
      g_string_append_printf(o, "<rect class=\"log\" x=\"%d\" y=\"%d\" width=\"6\" height=\"6\">", x - 3, y - 12);
      open_title(dr, it->title);
      g_string_append(o, "</rect>\n");
      break;
    case DI_PAUSE:
    case DI_RESUME:
      g_string_append_printf(o, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"3\" height=\"16\">",
                             it->kind == DI_PAUSE ? "pause" : "resume", x - 1, y - 8);
      open_title(dr, it->title);
      g_string_append(o, "</rect>\n");
      break;
    case DI_CLOCK:
      g_string_append_printf(o, "<circle class=\"clock\" cx=\"%d\" cy=\"%d\" r=\"5\">", x, y - 11);
      open_title(dr, it->title);
      g_string_append(o, "</circle>\n");
      break;
    case DI_STORAGE:
      g_string_append_printf(o, "<rect class=\"storage-fault\" x=\"%d\" y=\"%d\" width=\"8\" height=\"6\">", x - 4,
                             y + 6);
      open_title(dr, it->title);
      g_string_append(o, "</rect>\n");
      break;
    case DI_ERROR:
      g_string_append_printf(o, "<rect class=\"error\" x=\"%d\" y=\"%d\" width=\"10\" height=\"10\">", x - 5, y - 5);
      open_title(dr, it->title);
      g_string_append(o, "</rect>\n");
      break;
    case DI_CHECK: {
      gboolean is_target = target && it->line == target->line;
      g_string_append_printf(o, "<g class=\"check%s%s\">", (it->flags & F_FAILED) ? " failed" : " ok",
                             is_target ? " target" : "");
      open_title(dr, it->title);
      if (it->flags & F_FAILED)
        g_string_append_printf(o, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\"/><text x=\"%d\" y=\"%d\">!</text>", x, y,
                               is_target ? 9 : 7, x, y + 4);
      else
        g_string_append_printf(o, "<circle cx=\"%d\" cy=\"%d\" r=\"3.5\"/>", x, y);
      g_string_append(o, "</g>\n");
      break;
    }
    default:
      break;
    }
  }
}

void dsim_diagram_write_svg(DsimDiagram *d, DsimTracker *tk, const DsimFilter *f, const DsimCausalTarget *target,
                            const char *id, GString *out) {
  Draw dr = {out, id, tk, f, g_ptr_array_new(), NULL, NULL, 0, NULL};
  GHashTable *clock = target ? clock_table(target) : NULL;
  for (guint i = 0; i < d->items->len; i++) {
    Item *it = &g_array_index(d->items, Item, i);
    if (clock && !in_past(it, clock, target->line)) continue;
    g_ptr_array_add(dr.list, it);
  }
  build_rows(&dr, d, target != NULL);
  build_columns(&dr);
  int width = LEFT + (int)(dr.ncols + 1) * COLW + RIGHT;
  int height = TOP + (int)dr.rows->len * ROWH + 12;
  g_string_append_printf(out,
                         "<svg class=\"spacetime\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                         "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
                         id, width, height, width, height);
  g_string_append_printf(out, "<defs>");
  static const char *const markers[][2] = {{"ah", "m-msg"}, {"ah-d", "m-dup"}, {"ah-c", "m-cor"}};
  for (guint i = 0; i < G_N_ELEMENTS(markers); i++)
    g_string_append_printf(out,
                           "<marker id=\"%s-%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                           "markerHeight=\"7\" orient=\"auto\"><path class=\"%s\" d=\"M0 0L10 5L0 10Z\"/></marker>",
                           id, markers[i][0], markers[i][1]);
  g_string_append(out, "</defs>\n");
  draw_rows(&dr, d, target != NULL, width);
  draw_axis(&dr, height);
  draw_partitions(&dr, width);
  draw_items(&dr, target);
  g_string_append(out, "</svg>\n");
  if (clock) g_hash_table_destroy(clock);
  g_ptr_array_unref(dr.list);
  g_array_unref(dr.rows);
  g_hash_table_destroy(dr.row_of);
  g_array_unref(dr.col_t);
}
