/* tracker.c — what the trace has said so far.
 *
 * The tracker follows processes (spawn, join, bind, crash, restart, exit),
 * subgroup membership, pauses, active cuts (partitions, links down,
 * holds), the rules in force, and every message copy between
 * its send and its end, so that a consumer looking at a deliver line knows
 * when the copy was sent and what it carried. Memory is bounded by the
 * number of processes, subgroups, active partitions and copies in flight or
 * waiting in an input queue; a copy is freed when it is received, dropped,
 * or delivered to a C process (which takes messages on delivery).
 *
 * Lookups use hash tables; anything listed (processes, partitions) is
 * sorted by number first, so hash order never reaches an output. */
#include "reports_internal.h"

#include <string.h>

struct DsimTracker {
  GHashTable *procs;       /* &proc->pid → DsimProc* */
  GPtrArray *proc_list;    /* every DsimProc, sorted by pid when sorted is TRUE */
  gboolean sorted;
  GHashTable *groups;      /* name (string chunk) → GArray of guint64 pids */
  GHashTable *copies;      /* DsimCopy* as key and value, by (mid, copy) */
  GHashTable *partitions;  /* DsimPartition* as key and value, by (kind, id) */
  GPtrArray *part_list;    /* active cuts sorted by id, then kind */
  GHashTable *link_rules;  /* &id → "from -> to: fields" (owned), for net.link rules in force */
  GHashTable *msg_rules;   /* &id → "from -> to \"name\"", for message rules in force */
  GStringChunk *strings;
};

static guint copy_hash(gconstpointer p) {
  const DsimCopy *c = p;
  return g_int64_hash(&c->mid) * 31u + (guint)c->copy;
}

static gboolean copy_equal(gconstpointer a, gconstpointer b) {
  const DsimCopy *x = a, *y = b;
  return x->mid == y->mid && x->copy == y->copy;
}

static guint cut_hash(gconstpointer p) {
  const DsimPartition *c = p;
  return g_int64_hash(&c->id) * 3u + (guint)c->kind;
}

static gboolean cut_equal(gconstpointer a, gconstpointer b) {
  const DsimPartition *x = a, *y = b;
  return x->id == y->id && x->kind == y->kind;
}

static void copy_free(gpointer p) {
  DsimCopy *c = p;
  g_free(c->data);
  g_free(c->vclock);
  g_free(c);
}

static void proc_free(gpointer p) {
  DsimProc *pr = p;
  g_free(pr->fn);
  g_ptr_array_unref(pr->groups);
  g_free(pr);
}

static void partition_free(gpointer p) {
  DsimPartition *pt = p;
  g_array_unref(pt->a);
  g_array_unref(pt->b);
  g_ptr_array_unref(pt->a_groups);
  g_ptr_array_unref(pt->b_groups);
  g_free(pt->text);
  g_free(pt->cause);
  g_free(pt);
}

DsimTracker *dsim_tracker_new(void) {
  DsimTracker *tk = g_new0(DsimTracker, 1);
  tk->procs = g_hash_table_new(g_int64_hash, g_int64_equal);
  tk->proc_list = g_ptr_array_new_with_free_func(proc_free);
  tk->sorted = TRUE;
  tk->groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
  tk->copies = g_hash_table_new_full(copy_hash, copy_equal, NULL, copy_free);
  tk->partitions = g_hash_table_new(cut_hash, cut_equal);
  tk->part_list = g_ptr_array_new_with_free_func(partition_free);
  tk->link_rules = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  tk->msg_rules = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  tk->strings = g_string_chunk_new(4096);
  return tk;
}

void dsim_tracker_free(DsimTracker *tk) {
  if (!tk) return;
  g_hash_table_destroy(tk->procs);
  g_ptr_array_unref(tk->proc_list);
  g_hash_table_destroy(tk->groups);
  g_hash_table_destroy(tk->copies);
  g_hash_table_destroy(tk->partitions);
  g_ptr_array_unref(tk->part_list);
  g_hash_table_destroy(tk->link_rules);
  g_hash_table_destroy(tk->msg_rules);
  g_string_chunk_free(tk->strings);
  g_free(tk);
}

DsimProc *dsim_tracker_proc(const DsimTracker *tk, guint64 pid) {
  return g_hash_table_lookup(tk->procs, &pid);
}

static DsimProc *proc_get(DsimTracker *tk, guint64 pid) {
  DsimProc *p = dsim_tracker_proc(tk, pid);
  if (p) return p;
  p = g_new0(DsimProc, 1);
  p->pid = pid;
  p->spawn_t = -1;
  p->groups = g_ptr_array_new();
  g_hash_table_insert(tk->procs, &p->pid, p);
  g_ptr_array_add(tk->proc_list, p);
  tk->sorted = FALSE;
  return p;
}

guint64 dsim_tracker_resolve(const DsimTracker *tk, guint64 pid) {
  /* bind chains are short (one step in practice); the bound keeps a
   * malformed trace with an alias cycle from looping */
  for (int i = 0; i < 16; i++) {
    DsimProc *p = dsim_tracker_proc(tk, pid);
    if (!p || !p->alias_of) break;
    pid = p->alias_of;
  }
  return pid;
}

static gint cmp_proc(gconstpointer a, gconstpointer b) {
  const DsimProc *x = *(DsimProc *const *)a, *y = *(DsimProc *const *)b;
  return x->pid < y->pid ? -1 : x->pid > y->pid;
}

GPtrArray *dsim_tracker_procs(DsimTracker *tk) {
  if (!tk->sorted) {
    g_ptr_array_sort(tk->proc_list, cmp_proc);
    tk->sorted = TRUE;
  }
  return tk->proc_list;
}

GArray *dsim_tracker_group(const DsimTracker *tk, const char *name) {
  return g_hash_table_lookup(tk->groups, name);
}

static void add_unique_pid(GArray *a, guint64 pid) {
  for (guint i = 0; i < a->len; i++)
    if (g_array_index(a, guint64, i) == pid) return;
  g_array_append_val(a, pid);
}

static gboolean names_contain(GPtrArray *names, const char *interned) {
  for (guint i = 0; i < names->len; i++)
    if (g_ptr_array_index(names, i) == interned) return TRUE;
  return FALSE;
}

static void join(DsimTracker *tk, guint64 pid, const char *group) {
  DsimProc *p = proc_get(tk, pid);
  char *name = g_string_chunk_insert_const(tk->strings, group);
  GArray *members = g_hash_table_lookup(tk->groups, name);
  if (!members) {
    members = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_hash_table_insert(tk->groups, name, members);
  }
  add_unique_pid(members, pid);
  /* The channel matches a partition's subgroups when each message is
   * checked, so a process joining one later is cut off too. */
  for (guint i = 0; i < tk->part_list->len; i++) {
    DsimPartition *pt = g_ptr_array_index(tk->part_list, i);
    if (names_contain(pt->a_groups, name)) add_unique_pid(pt->a, pid);
    if (names_contain(pt->b_groups, name)) add_unique_pid(pt->b, pid);
  }
  for (guint i = 0; i < p->groups->len; i++)
    if (g_ptr_array_index(p->groups, i) == name) return;
  g_ptr_array_add(p->groups, name);
}

/* A partition side: pids as they are, subgroup names as their members
 * (kept up to date by join()), and the names themselves in names. */
static GArray *resolve_side(DsimTracker *tk, JsonArray *side, GString *text, GPtrArray *names) {
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(guint64));
  g_string_append_c(text, '{');
  dsim_describe_members(text, side);
  g_string_append_c(text, '}');
  guint n = json_array_get_length(side);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(side, i);
    if (json_node_get_value_type(e) == G_TYPE_INT64) {
      add_unique_pid(pids, dsim_tracker_resolve(tk, (guint64)json_node_get_int(e)));
    } else {
      char *name = g_string_chunk_insert_const(tk->strings, json_node_get_string(e));
      g_ptr_array_add(names, name);
      GArray *members = dsim_tracker_group(tk, name);
      for (guint k = 0; members && k < members->len; k++) add_unique_pid(pids, g_array_index(members, guint64, k));
    }
  }
  return pids;
}

static gint cmp_partition(gconstpointer a, gconstpointer b) {
  const DsimPartition *x = *(DsimPartition *const *)a, *y = *(DsimPartition *const *)b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return (int)x->kind - (int)y->kind;
}

gboolean dsim_cut_kind_of(DsimEventKind ev, DsimCutKind *kind, gboolean *ends) {
  switch (ev) {
  case DSIM_EV_PARTITION: *kind = DSIM_CUT_PARTITION; *ends = FALSE; return TRUE;
  case DSIM_EV_HEAL: *kind = DSIM_CUT_PARTITION; *ends = TRUE; return TRUE;
  case DSIM_EV_LINK_DOWN: *kind = DSIM_CUT_LINK_DOWN; *ends = FALSE; return TRUE;
  case DSIM_EV_LINK_UP: *kind = DSIM_CUT_LINK_DOWN; *ends = TRUE; return TRUE;
  case DSIM_EV_HOLD: *kind = DSIM_CUT_HOLD; *ends = FALSE; return TRUE;
  case DSIM_EV_RELEASE: *kind = DSIM_CUT_HOLD; *ends = TRUE; return TRUE;
  default: return FALSE;
  }
}

static void partition_begin(DsimTracker *tk, const DsimTraceEvent *ev, DsimCutKind kind) {
  if (dsim_tracker_cut(tk, kind, ev->id)) return; /* a repeated id: keep the first */
  DsimPartition *pt = g_new0(DsimPartition, 1);
  pt->id = ev->id;
  pt->kind = kind;
  pt->t = ev->t;
  pt->oneway = ev->oneway;
  pt->cause = g_strdup(ev->cause);
  GString *text = g_string_new(NULL);
  pt->a_groups = g_ptr_array_new();
  pt->b_groups = g_ptr_array_new();
  pt->a = resolve_side(tk, ev->a, text, pt->a_groups);
  g_string_append(text, ev->oneway ? " -> " : " | ");
  pt->b = resolve_side(tk, ev->b, text, pt->b_groups);
  pt->text = g_string_free(text, FALSE);
  g_hash_table_insert(tk->partitions, pt, pt);
  g_ptr_array_add(tk->part_list, pt);
  g_ptr_array_sort(tk->part_list, cmp_partition);
}

GPtrArray *dsim_tracker_partitions(const DsimTracker *tk) {
  return tk->part_list;
}

DsimPartition *dsim_tracker_cut(const DsimTracker *tk, DsimCutKind kind, guint64 id) {
  DsimPartition key = {.id = id, .kind = kind};
  return g_hash_table_lookup(tk->partitions, &key);
}

const char *dsim_tracker_link_rule(const DsimTracker *tk, guint64 id) {
  return g_hash_table_lookup(tk->link_rules, &id);
}

const char *dsim_tracker_msg_rule(const DsimTracker *tk, guint64 id) {
  return g_hash_table_lookup(tk->msg_rules, &id);
}

static void rule_add(GHashTable *rules, const DsimTraceEvent *ev) {
  GString *text = g_string_new(NULL);
  dsim_describe_rule(text, ev);
  g_hash_table_replace(rules, g_memdup2(&ev->id, sizeof ev->id), g_string_free(text, FALSE));
}

static DsimCopy *copy_lookup(DsimTracker *tk, guint64 mid, guint64 copy) {
  DsimCopy key = {.mid = mid, .copy = copy};
  return g_hash_table_lookup(tk->copies, &key);
}

static DsimCopy *copy_new(DsimTracker *tk, guint64 mid, guint64 copy, guint64 src, guint64 dst) {
  DsimCopy *c = g_new0(DsimCopy, 1);
  c->mid = mid;
  c->copy = copy;
  c->src = src;
  c->dst = dst;
  c->sent_t = -1;
  c->delivered_t = -1;
  g_hash_table_replace(tk->copies, c, c);
  return c;
}

/* The copy an event is about; a copy whose send was not read (it came
 * before a window) is created with what the event says. */
static DsimCopy *copy_get(DsimTracker *tk, guint64 mid, guint64 copy, guint64 src, guint64 dst) {
  DsimCopy *c = copy_lookup(tk, mid, copy);
  return c ? c : copy_new(tk, mid, copy, src, dst);
}

DsimCopy *dsim_tracker_apply(DsimTracker *tk, const DsimTraceEvent *ev) {
  DsimProc *p;
  DsimCopy *c;
  switch (ev->kind) {
  case DSIM_EV_SPAWN:
    p = proc_get(tk, ev->pid);
    p->spawned = TRUE;
    p->spawn_t = ev->t;
    p->is_c = strcmp(ev->proc_kind, "c") == 0;
    g_free(p->fn);
    p->fn = g_strdup(ev->fn);
    p->state = DSIM_PROC_RUNNING;
    p->state_t = ev->t;
    return NULL;
  case DSIM_EV_JOIN:
    join(tk, ev->pid, ev->group);
    return NULL;
  case DSIM_EV_BIND: {
    DsimProc *from = proc_get(tk, ev->from);
    p = proc_get(tk, ev->pid);
    if (ev->from == ev->pid) return NULL;
    from->alias_of = ev->pid;
    /* the process that was `from` goes on as `pid` */
    p->spawned = from->spawned;
    p->spawn_t = from->spawn_t;
    p->is_c = from->is_c;
    if (!p->fn && from->fn) p->fn = g_strdup(from->fn);
    p->state = from->state;
    p->state_t = ev->t;
    for (guint i = 0; i < from->groups->len; i++) join(tk, ev->pid, g_ptr_array_index(from->groups, i));
    return NULL;
  }
  case DSIM_EV_EXIT:
  case DSIM_EV_CRASH:
  case DSIM_EV_RESTART:
    p = proc_get(tk, ev->pid);
    p->state = ev->kind == DSIM_EV_EXIT ? DSIM_PROC_EXITED : ev->kind == DSIM_EV_CRASH ? DSIM_PROC_CRASHED : DSIM_PROC_RUNNING;
    p->state_t = ev->t;
    p->paused = FALSE; /* a stopped process is no longer paused; a restarted one starts afresh */
    if (ev->kind == DSIM_EV_RESTART) p->incarnation = ev->incarnation;
    return NULL;
  case DSIM_EV_PAUSE:
    p = proc_get(tk, ev->pid);
    if (!p->paused) p->paused_t = ev->t;
    p->paused = TRUE;
    return NULL;
  case DSIM_EV_RESUME:
    proc_get(tk, ev->pid); /* cleared on release, so that the resume still knows how long */
    return NULL;
  case DSIM_EV_HELD:
    c = copy_get(tk, ev->mid, ev->copy, ev->src, ev->dst);
    c->held = TRUE;
    c->held_t = ev->t;
    c->held_paused = !ev->has_hold;
    c->hold_id = ev->hold;
    return c;
  case DSIM_EV_DELAY:
    c = copy_get(tk, ev->mid, ev->copy, ev->src, ev->dst);
    c->extra_ns += ev->extra;
    c->delay_rule = ev->rule;
    return c;
  case DSIM_EV_CONFIG:
    if (!json_object_has_member(ev->object, "link") || !json_object_has_member(ev->object, "id")) return NULL;
    rule_add(tk->link_rules, ev);
    return NULL;
  case DSIM_EV_RULE:
    rule_add(tk->msg_rules, ev);
    return NULL;
  case DSIM_EV_SEND:
    c = copy_new(tk, ev->mid, 0, ev->src, ev->dst);
    c->sent_t = ev->t;
    c->size = ev->size;
    c->data = g_strdup(ev->data);
    return c;
  case DSIM_EV_DUP: {
    /* copy 0 is the original; a dup line claiming copy 0 replaces it */
    DsimCopy *orig = ev->copy ? copy_lookup(tk, ev->mid, 0) : NULL;
    c = copy_new(tk, ev->mid, ev->copy, ev->src, ev->dst);
    if (orig) {
      c->sent_t = orig->sent_t;
      c->size = orig->size;
      c->data = g_strdup(orig->data);
      c->diag_send = orig->diag_send;
      c->send_seq = orig->send_seq;
      if (orig->vclock) {
        c->vclock = g_memdup2(orig->vclock, orig->vclock_len * sizeof(guint32));
        c->vclock_len = orig->vclock_len;
      }
    }
    return c;
  }
  case DSIM_EV_DROP:
    c = copy_get(tk, ev->mid, ev->copy, ev->src, ev->dst);
    c->done = TRUE;
    return c;
  case DSIM_EV_DELIVER:
    c = copy_get(tk, ev->mid, ev->copy, ev->src, ev->dst);
    c->delivered_t = ev->t;
    if (ev->corrupted) c->corrupted = TRUE;
    p = dsim_tracker_proc(tk, ev->dst);
    if (p && p->is_c) c->done = TRUE;
    return c;
  case DSIM_EV_RECV:
    c = copy_get(tk, ev->mid, ev->copy, ev->src, ev->pid);
    if (c->delivered_t < 0) c->delivered_t = ev->t;
    c->done = TRUE;
    return c;
  case DSIM_EV_CORRUPT:
    c = copy_get(tk, ev->mid, ev->copy, ev->src, ev->dst);
    c->corrupted = TRUE;
    return c;
  case DSIM_EV_PARTITION:
    partition_begin(tk, ev, DSIM_CUT_PARTITION);
    return NULL;
  case DSIM_EV_LINK_DOWN:
    partition_begin(tk, ev, DSIM_CUT_LINK_DOWN);
    return NULL;
  case DSIM_EV_HOLD:
    partition_begin(tk, ev, DSIM_CUT_HOLD);
    return NULL;
  default:
    return NULL;
  }
}

void dsim_tracker_release(DsimTracker *tk, const DsimTraceEvent *ev, DsimCopy *copy) {
  if (copy && copy->done) g_hash_table_remove(tk->copies, copy);
  DsimCutKind kind;
  gboolean ends;
  if (dsim_cut_kind_of(ev->kind, &kind, &ends) && ends) {
    DsimPartition *pt = dsim_tracker_cut(tk, kind, ev->id);
    if (pt) {
      g_hash_table_remove(tk->partitions, pt);
      g_ptr_array_remove(tk->part_list, pt); /* keeps the order; frees pt */
    }
  }
  if (ev->kind == DSIM_EV_RESUME) {
    DsimProc *p = dsim_tracker_proc(tk, ev->pid);
    if (p) p->paused = FALSE;
  }
  if (ev->kind == DSIM_EV_CONFIG && ev->has_removed) g_hash_table_remove(tk->link_rules, &ev->removed);
  if (ev->kind == DSIM_EV_UNRULE) g_hash_table_remove(tk->msg_rules, &ev->id);
}

void dsim_tracker_in_flight(const DsimTracker *tk, guint64 *on_network, guint64 *queued) {
  *on_network = *queued = 0;
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, tk->copies);
  while (g_hash_table_iter_next(&it, &k, NULL)) {
    const DsimCopy *c = k;
    if (c->delivered_t < 0)
      (*on_network)++;
    else
      (*queued)++;
  }
}
