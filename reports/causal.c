/* causal.c — vector clocks over the events of a trace.
 *
 * Happens-before here is the usual one (Lamport 1978): the events of one
 * host are ordered as they appear, and a message orders its send before
 * the event where the receiver learns it: recv for a Lua process, the
 * delivery for a C process (which handles messages as they arrive). A
 * spawn follows its parent's earlier events (when the parent is a process)
 * and a bind follows the events of the pid it replaces. Scenario code is
 * one more host (pid 0): it has no incoming edges, since it cannot receive
 * messages.
 *
 * Clocks are arrays indexed by the order in which hosts first appear, so
 * their size is the number of hosts; a copy in flight keeps a snapshot of
 * its sender's clock (freed with the copy by the tracker). Nothing here is
 * iterated in hash order: outputs are sorted by pid. */
#include "reports_internal.h"

#include <stdlib.h>

typedef struct {
  guint64 pid;
  guint index;   /* position in hosts, and of this host's entry in every clock */
  GArray *clock; /* guint32 per host index */
} Host;

struct DsimCausal {
  GHashTable *index; /* &host->pid → Host* */
  GPtrArray *hosts;  /* by index */
};

static void host_free(gpointer p) {
  Host *h = p;
  g_array_unref(h->clock);
  g_free(h);
}

DsimCausal *dsim_causal_new(void) {
  DsimCausal *c = g_new0(DsimCausal, 1);
  c->index = g_hash_table_new(g_int64_hash, g_int64_equal);
  c->hosts = g_ptr_array_new_with_free_func(host_free);
  return c;
}

void dsim_causal_free(DsimCausal *c) {
  if (!c) return;
  g_hash_table_destroy(c->index);
  g_ptr_array_unref(c->hosts);
  g_free(c);
}

static Host *host_find(const DsimCausal *c, guint64 pid) {
  return g_hash_table_lookup(c->index, &pid);
}

static guint host_index(const DsimCausal *c, guint64 pid) {
  Host *h = host_find(c, pid);
  return h ? h->index : G_MAXUINT;
}

static Host *host_get(DsimCausal *c, guint64 pid) {
  Host *h = host_find(c, pid);
  if (h) return h;
  h = g_new0(Host, 1);
  h->pid = pid;
  h->index = c->hosts->len;
  h->clock = g_array_new(FALSE, TRUE, sizeof(guint32));
  g_hash_table_insert(c->index, &h->pid, h);
  g_ptr_array_add(c->hosts, h);
  return h;
}

static void merge(GArray *into, const guint32 *other, guint n) {
  if (into->len < n) g_array_set_size(into, n);
  guint32 *v = (guint32 *)(void *)into->data;
  for (guint i = 0; i < n; i++)
    if (other[i] > v[i]) v[i] = other[i];
}

gboolean dsim_causal_apply(DsimCausal *c, const DsimTraceEvent *ev, DsimTracker *tk, DsimCopy *copy,
                           guint64 *host, guint32 *seq) {
  guint64 pid;
  const guint32 *from = NULL;
  guint from_len = 0;
  switch (ev->kind) {
  case DSIM_EV_SPAWN:
    pid = ev->pid;
    if (ev->parent) {
      Host *p = host_find(c, ev->parent);
      if (p) {
        from = (const guint32 *)(const void *)p->clock->data;
        from_len = p->clock->len;
      }
    }
    break;
  case DSIM_EV_JOIN:
    if (ev->reserved) return FALSE; /* done by scenario code for a pid no process has yet */
    pid = ev->pid;
    break;
  case DSIM_EV_BIND: {
    pid = ev->pid;
    Host *p = host_find(c, ev->from);
    if (p) {
      from = (const guint32 *)(const void *)p->clock->data;
      from_len = p->clock->len;
    }
    break;
  }
  case DSIM_EV_EXIT:
  case DSIM_EV_CRASH:
  case DSIM_EV_RESTART:
  case DSIM_EV_ERROR:
  case DSIM_EV_TIMEOUT:
  case DSIM_EV_LOG:
  case DSIM_EV_CHECK:
    pid = ev->pid;
    break;
  case DSIM_EV_SEND:
    pid = ev->src;
    break;
  case DSIM_EV_DELIVER: {
    pid = ev->dst;
    DsimProc *p = dsim_tracker_proc(tk, ev->dst);
    if (p && p->is_c && copy && copy->vclock) {
      from = copy->vclock;
      from_len = copy->vclock_len;
    }
    break;
  }
  case DSIM_EV_RECV:
    pid = ev->pid;
    if (copy && copy->vclock) {
      from = copy->vclock;
      from_len = copy->vclock_len;
    }
    break;
  case DSIM_EV_PAUSE:
  case DSIM_EV_RESUME:
  case DSIM_EV_CLOCK:
  case DSIM_EV_STABLE:
  case DSIM_EV_STABLE_LOST:
  case DSIM_EV_STABLE_TORN:
    pid = ev->pid;
    break;
  default:
    if (!dsim_event_kind_is_network(ev->kind)) return FALSE;
    pid = 0;
  }
  Host *h = host_get(c, pid);
  if (from) merge(h->clock, from, from_len);
  guint idx = h->index;
  if (h->clock->len <= idx) g_array_set_size(h->clock, idx + 1);
  guint32 *own = &g_array_index(h->clock, guint32, idx);
  (*own)++;
  *host = pid;
  *seq = *own;
  if (ev->kind == DSIM_EV_SEND && copy) {
    g_free(copy->vclock);
    copy->vclock = g_memdup2(h->clock->data, h->clock->len * sizeof(guint32));
    copy->vclock_len = h->clock->len;
  }
  return TRUE;
}

static gint cmp_pair(gconstpointer a, gconstpointer b) {
  const guint64 *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

void dsim_causal_clock(const DsimCausal *c, guint64 pid, GArray *out) {
  Host *h = host_find(c, pid);
  if (!h) return;
  guint first = out->len;
  for (guint i = 0; i < h->clock->len; i++) {
    guint32 v = g_array_index(h->clock, guint32, i);
    if (!v) continue;
    guint64 pair[2] = {((Host *)g_ptr_array_index(c->hosts, i))->pid, v};
    g_array_append_vals(out, pair, 2);
  }
  /* sort the pairs just appended by pid */
  guint n = (out->len - first) / 2;
  qsort(&g_array_index(out, guint64, first), n, 2 * sizeof(guint64), cmp_pair);
}

guint32 dsim_causal_entry(const DsimCausal *c, guint64 pid, guint64 of) {
  Host *h = host_find(c, pid);
  if (!h) return 0;
  guint idx = host_index(c, of);
  if (idx == G_MAXUINT || idx >= h->clock->len) return 0;
  return g_array_index(h->clock, guint32, idx);
}
