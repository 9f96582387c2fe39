/* stable.c — per-process stable storage that survives crashes, with
 * optional torn and lost writes for the writes a crash catches before a
 * sync (the contract is in sim.h, at dsim_stable_put()).
 *
 * A store keeps two sorted maps (key -> GBytes): `durable`, what the disk
 * holds, and `current`, what the process reads (durable plus the writes
 * not yet synced); `pending` lists the keys written since the last sync,
 * each once, in the order first written. Values are refcounted GBytes, so
 * the two maps share what they have in common. Sorted maps (GTree) give
 * keys in a fixed order without a hash table. */
#include "sim_internal.h"

#include <string.h>

struct DsimStable {
  GTree *durable, *current; /* char* (owned) -> GBytes* (a reference) */
  GPtrArray *pending;       /* char*, owned */
};

static int key_cmp(gconstpointer a, gconstpointer b, gpointer data) {
  (void)data;
  return strcmp(a, b);
}

static GTree *map_new(void) {
  return g_tree_new_full(key_cmp, NULL, g_free, (GDestroyNotify)g_bytes_unref);
}

static DsimStable *store_of(DsimWorld *w, DsimPid pid) {
  DsimProcExtra *x = dsim_proc_extra(dsim_proc_get(w, dsim_proc_resolve(w, pid)));
  if (!x->stable) {
    x->stable = g_new0(DsimStable, 1);
    x->stable->durable = map_new();
    x->stable->current = map_new();
    x->stable->pending = g_ptr_array_new_with_free_func(g_free);
  }
  return x->stable;
}

void dsim_stable_free(DsimStable *st) {
  if (!st) return;
  g_tree_unref(st->durable);
  g_tree_unref(st->current);
  g_ptr_array_unref(st->pending);
  g_free(st);
}

static void map_set(GTree *map, const char *key, GBytes *value) {
  if (value)
    g_tree_replace(map, g_strdup(key), g_bytes_ref(value));
  else
    g_tree_remove(map, key);
}

static void note_pending(DsimStable *st, const char *key) {
  for (guint i = 0; i < st->pending->len; i++)
    if (strcmp(g_ptr_array_index(st->pending, i), key) == 0) return;
  g_ptr_array_add(st->pending, g_strdup(key));
}

static void trace_stable(DsimWorld *w, DsimPid pid, const char *op, const char *key, size_t size) {
  DsimTrace *tr = dsim_world_trace(w);
  if (!tr) return;
  dsim_trace_begin(tr, dsim_world_now(w), "stable");
  dsim_trace_u64(tr, "pid", pid);
  dsim_trace_str(tr, "op", op, (size_t)-1, 16);
  if (key) dsim_trace_str(tr, "key", key, (size_t)-1, 200);
  if (key && strcmp(op, "set") == 0) dsim_trace_u64(tr, "size", size);
  if (!key) dsim_trace_u64(tr, "keys", size);
  dsim_trace_end(tr);
}

void dsim_stable_put(DsimWorld *w, DsimPid pid, const char *key, const void *data, size_t len) {
  g_assert(key && (data || len == 0));
  DsimStable *st = store_of(w, pid);
  GBytes *v = g_bytes_new(data, len);
  map_set(st->current, key, v);
  g_bytes_unref(v);
  note_pending(st, key);
  trace_stable(w, dsim_proc_resolve(w, pid), "set", key, len);
}

void dsim_stable_delete(DsimWorld *w, DsimPid pid, const char *key) {
  DsimStable *st = store_of(w, pid);
  if (!g_tree_lookup(st->current, key)) return;
  g_tree_remove(st->current, key);
  note_pending(st, key);
  trace_stable(w, dsim_proc_resolve(w, pid), "delete", key, 0);
}

GBytes *dsim_stable_get(DsimWorld *w, DsimPid pid, const char *key) {
  return g_tree_lookup(store_of(w, pid)->current, key);
}

static gboolean collect_key(gpointer key, gpointer value, gpointer data) {
  (void)value;
  g_ptr_array_add(data, key);
  return FALSE;
}

void dsim_stable_keys(DsimWorld *w, DsimPid pid, GPtrArray *out) {
  g_tree_foreach(store_of(w, pid)->current, collect_key, out);
}

unsigned dsim_stable_sync(DsimWorld *w, DsimPid pid) {
  DsimStable *st = store_of(w, pid);
  unsigned n = st->pending->len;
  for (guint i = 0; i < n; i++) {
    const char *key = g_ptr_array_index(st->pending, i);
    map_set(st->durable, key, g_tree_lookup(st->current, key));
  }
  g_ptr_array_set_size(st->pending, 0);
  trace_stable(w, dsim_proc_resolve(w, pid), "sync", NULL, n);
  return n;
}

gboolean dsim_stable_set_faults(DsimWorld *w, DsimPid pid, double lost, double torn, GError **error) {
  if (!(lost >= 0 && lost <= 1) || !(torn >= 0 && torn <= 1)) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID,
                "storage faults: %s must be a probability between 0 and 1 (got %g)",
                !(lost >= 0 && lost <= 1) ? "lost" : "torn", !(lost >= 0 && lost <= 1) ? lost : torn);
    return FALSE;
  }
  if (pid == DSIM_PID_NONE) {
    w->storage_lost = lost;
    w->storage_torn = torn;
    return TRUE;
  }
  DsimProcExtra *x = dsim_proc_extra(dsim_proc_get(w, dsim_proc_resolve(w, pid)));
  x->has_storage_faults = true;
  x->storage_lost = lost;
  x->storage_torn = torn;
  return TRUE;
}

static gboolean copy_entry(gpointer key, gpointer value, gpointer data) {
  map_set(data, key, value);
  return FALSE;
}

void dsim_stable_crash(DsimWorld *w, DsimPid pid, const char *cause) {
  DsimProcExtra *x = dsim_proc_get(w, pid)->extra;
  DsimStable *st = x->stable;
  if (st->pending->len == 0) return;
  double lost = x->has_storage_faults ? x->storage_lost : w->storage_lost;
  double torn = x->has_storage_faults ? x->storage_torn : w->storage_torn;
  uint64_t lost_t = dsim_probability_threshold(lost), torn_t = dsim_probability_threshold(torn);
  if (!x->storage_rng_ready) {
    dsim_rng_stream(&x->storage_rng, w->config.seed, DSIM_STREAM_STORAGE, pid);
    x->storage_rng_ready = true;
  }
  DsimRng *rng = &x->storage_rng;
  DsimTrace *tr = dsim_world_trace(w);
  for (guint i = 0; i < st->pending->len; i++) {
    const char *key = g_ptr_array_index(st->pending, i);
    GBytes *v = g_tree_lookup(st->current, key);
    if (dsim_rng_chance(rng, lost_t)) {
      if (tr) {
        dsim_trace_begin(tr, w->now, "stable_lost");
        dsim_trace_u64(tr, "pid", pid);
        dsim_trace_str(tr, "key", key, (size_t)-1, 200);
        dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
        dsim_trace_end(tr);
      }
      continue;
    }
    if (v && g_bytes_get_size(v) > 0 && dsim_rng_chance(rng, torn_t)) {
      gsize size = g_bytes_get_size(v);
      gsize kept = (gsize)dsim_rng_below(rng, size);
      GBytes *cut = g_bytes_new_from_bytes(v, 0, kept);
      map_set(st->durable, key, cut);
      g_bytes_unref(cut);
      if (tr) {
        dsim_trace_begin(tr, w->now, "stable_torn");
        dsim_trace_u64(tr, "pid", pid);
        dsim_trace_str(tr, "key", key, (size_t)-1, 200);
        dsim_trace_u64(tr, "size", size);
        dsim_trace_u64(tr, "kept", kept);
        dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
        dsim_trace_end(tr);
      }
      continue;
    }
    map_set(st->durable, key, v);
  }
  g_ptr_array_set_size(st->pending, 0);
  /* What the restarted process reads is what the disk holds. */
  g_tree_unref(st->current);
  st->current = map_new();
  g_tree_foreach(st->durable, copy_entry, st->current);
}
