/* cproc.c — handler-based processes written in C (DsimProcClass).
 *
 * A C process has no coroutine and no mailbox: the kernel calls its handlers
 * directly (direct_delivery), which is what makes C protocols as fast as a
 * bare event loop. Its per-process cost is one DsimCProc plus the class's
 * state. */
#include "channel_internal.h"

#include <string.h>

typedef struct {
  const DsimProcClass *cls;
  int argc;
  char **argv; /* NULL-terminated, owned */
  unsigned char state[];
} DsimCProc;

static void cproc_start(DsimWorld *w, DsimPid pid, void *impl) {
  DsimCProc *p = impl;
  if (p->cls->start) p->cls->start(w, pid, p->state, p->argc, (const char *const *)p->argv);
}

static void cproc_wake(DsimWorld *w, DsimPid pid, void *impl, DsimWakeKind kind, void *data) {
  DsimCProc *p = impl;
  switch (kind) {
  case DSIM_WAKE_MESSAGE:
    if (p->cls->message) p->cls->message(w, pid, p->state, data);
    break;
  case DSIM_WAKE_TIMER:
    if (p->cls->timer) p->cls->timer(w, pid, p->state, (uint64_t)(uintptr_t)data);
    break;
  case DSIM_WAKE_TIMEOUT:
    break; /* C processes never block */
  }
}

static void cproc_reset(DsimCProc *p) {
  if (p->cls->cleanup) p->cls->cleanup(p->state);
  memset(p->state, 0, p->cls->state_size);
}

static void cproc_crash(DsimWorld *w, DsimPid pid, void *impl) {
  (void)w;
  (void)pid;
  cproc_reset(impl);
}

static void cproc_destroy(void *impl) {
  DsimCProc *p = impl;
  if (p->cls->cleanup) p->cls->cleanup(p->state);
  g_strfreev(p->argv);
  g_free(p);
}

static const DsimProcOps cproc_ops = {
    .kind = "c",
    .direct_delivery = true,
    .start = cproc_start,
    .wake = cproc_wake,
    .crash = cproc_crash,
    .destroy = cproc_destroy,
};

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
  p->cls = cls;
  p->argc = argc;
  p->argv = g_new0(char *, (gsize)argc + 1);
  for (int i = 0; i < argc; i++) p->argv[i] = g_strdup(argv[i]);
  dsim_net_get(world); /* C processes receive messages: make sure the net listens */
  return dsim_proc_spawn(world, &cproc_ops, p, cls->name);
}

static void cproc_timer_fired(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)data;
  dsim_proc_wake(w, owner, DSIM_WAKE_TIMER, (void *)(uintptr_t)tag);
}

DsimTimerId dsim_cproc_timer(DsimWorld *world, DsimTime delay, uint64_t tag) {
  DsimPid self = dsim_world_self(world);
  g_assert(self != DSIM_PID_NONE && dsim_proc_ops(world, self) == &cproc_ops);
  return dsim_timer_start(world, self, delay, cproc_timer_fired, NULL, tag);
}

void dsim_cproc_exit(DsimWorld *world) {
  DsimPid self = dsim_world_self(world);
  g_assert(self != DSIM_PID_NONE && dsim_proc_ops(world, self) == &cproc_ops);
  dsim_proc_exit(world, self);
  cproc_reset(dsim_proc_impl(world, self));
}
