/* cproc.c — handler-based processes written in C (DsimProcClass).
 *
 * A C process has no coroutine and no mailbox: the kernel calls its handlers
 * directly (direct_delivery), which is what makes C protocols as fast as a
 * bare event loop. Its per-process cost is one DsimCProc plus the class's
 * state. */
#include "channel_internal.h"

#include <stddef.h>
#include <string.h>

/* One per class used in a world. The kernel's ops pointer of each process is
 * &kind->ops, so a handler is found from the ops alone: delivering to a C
 * process reads no per-process memory unless the handler does. */
typedef struct {
  DsimProcOps ops; /* first member: the kernel hands this pointer back */
  const DsimProcClass *cls;
} DsimCKind;

typedef struct {
  int argc;
  char **argv; /* NULL-terminated, owned */
  max_align_t state[];
} DsimCProc;

static inline const DsimProcClass *class_of(const DsimProcOps *ops) {
  return ((const DsimCKind *)ops)->cls;
}

static void cproc_start(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  DsimCProc *p = impl;
  const DsimProcClass *cls = class_of(ops);
  if (cls->start) cls->start(w, pid, p->state, p->argc, (const char *const *)p->argv);
}

static void cproc_wake(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl,
                       DsimWakeKind kind, void *data) {
  const DsimProcClass *cls = class_of(ops);
  void *state = ((DsimCProc *)impl)->state; /* an address, not a load */
  switch (kind) {
  case DSIM_WAKE_MESSAGE:
    if (cls->message) cls->message(w, pid, state, data);
    break;
  case DSIM_WAKE_TIMER:
    if (cls->timer) cls->timer(w, pid, state, (uint64_t)(uintptr_t)data);
    break;
  case DSIM_WAKE_TIMEOUT:
    break; /* C processes never block */
  }
}

static void cproc_reset(const DsimProcClass *cls, DsimCProc *p) {
  if (cls->cleanup) cls->cleanup(p->state);
  memset(p->state, 0, cls->state_size);
}

static void cproc_crash(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  (void)w;
  (void)pid;
  cproc_reset(class_of(ops), impl);
}

static void cproc_destroy(const DsimProcOps *ops, void *impl) {
  DsimCProc *p = impl;
  const DsimProcClass *cls = class_of(ops);
  if (cls->cleanup) cls->cleanup(p->state);
  g_strfreev(p->argv);
  g_free(p);
}

/* The kind record of a class in this world, made on first use. */
static const DsimCKind *kind_of(DsimNet *net, const DsimProcClass *cls) {
  DsimCKind *k = g_hash_table_lookup(net->kinds, cls);
  if (k) return k;
  k = g_new0(DsimCKind, 1);
  k->ops = (DsimProcOps){
      .kind = "c",
      .direct_delivery = true,
      .start = cproc_start,
      .wake = cproc_wake,
      .crash = cproc_crash,
      .destroy = cproc_destroy,
  };
  k->cls = cls;
  /* The table stores a const pointer as its key; it never writes through it. */
  g_hash_table_insert(net->kinds, (gpointer)(uintptr_t)cls, k);
  return k;
}

gboolean dsim_class_register(DsimWorld *world, const DsimProcClass *cls, GError **error) {
  DsimNet *net = dsim_net_get(world);
  g_assert(cls && cls->name);
  if (g_hash_table_contains(net->classes, cls->name)) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                "a process class named '%s' is already registered", cls->name);
    return FALSE;
  }
  /* The table stores const pointers; it never writes through them. */
  g_hash_table_insert(net->classes, (gpointer)(uintptr_t)cls->name, (gpointer)(uintptr_t)cls);
  return TRUE;
}

const DsimProcClass *dsim_class_lookup(DsimWorld *world, const char *name) {
  return g_hash_table_lookup(dsim_net_get(world)->classes, name);
}

DsimPid dsim_cproc_spawn(DsimWorld *world, const DsimProcClass *cls, int argc,
                         const char *const *argv) {
  DsimCProc *p = g_malloc0(sizeof *p + cls->state_size);
  p->argc = argc;
  p->argv = g_new0(char *, (gsize)argc + 1);
  for (int i = 0; i < argc; i++) p->argv[i] = g_strdup(argv[i]);
  const DsimCKind *k = kind_of(dsim_net_get(world), cls);
  return dsim_proc_spawn(world, &k->ops, p, cls->name);
}

static bool is_cproc(DsimWorld *world, DsimPid pid) {
  const DsimProcOps *ops = dsim_proc_ops(world, pid);
  return ops && ops->start == cproc_start;
}

static void cproc_timer_fired(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)data;
  dsim_proc_wake(w, owner, DSIM_WAKE_TIMER, (void *)(uintptr_t)tag);
}

DsimTimerId dsim_cproc_timer(DsimWorld *world, DsimTime delay, uint64_t tag) {
  DsimPid self = dsim_world_self(world);
  g_assert(self != DSIM_PID_NONE && is_cproc(world, self));
  return dsim_timer_start(world, self, delay, cproc_timer_fired, NULL, tag);
}

void dsim_cproc_exit(DsimWorld *world) {
  DsimPid self = dsim_world_self(world);
  g_assert(self != DSIM_PID_NONE && is_cproc(world, self));
  dsim_proc_exit(world, self);
  cproc_reset(class_of(dsim_proc_ops(world, self)), dsim_proc_impl(world, self));
}
