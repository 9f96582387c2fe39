/* nemesis.c — the seeded random fault generator (the contract is in
 * channel.h, at DsimNemesisKind).
 *
 * A nemesis is a small state machine driven by one kernel timer at a time:
 * QUIET (waiting for the next fault) -> ACTIVE (a fault is in force,
 * waiting for its end) -> QUIET ... It is owned by the net and freed with
 * it; its timer is owned by no process, so crashes never cancel it. */
#include "channel_internal.h"

#include <string.h>

static const char *const kind_names[DSIM_NEMESIS_KINDS] = {
    [DSIM_NEMESIS_PARTITION] = "partition", [DSIM_NEMESIS_CRASH] = "crash",
    [DSIM_NEMESIS_PAUSE] = "pause",         [DSIM_NEMESIS_LOSS] = "loss",
    [DSIM_NEMESIS_LINK_DOWN] = "link_down",
};

const char *dsim_nemesis_kind_name(DsimNemesisKind kind) {
  return (unsigned)kind < DSIM_NEMESIS_KINDS ? kind_names[kind] : NULL;
}

struct DsimNemesis {
  DsimNet *net;
  uint32_t id;
  DsimRng rng;
  DsimTime stop;
  DsimDelay interval;
  DsimSelector *targets; /* group names point into names */
  char **names;          /* owned copies of the targets' group names */
  size_t n_targets;
  DsimNemesisFault *faults;
  size_t n_faults;
  uint64_t total_weight;
  DsimTimerId timer;
  bool stopped;
  /* The fault in force (ACTIVE), to undo it. */
  bool active;
  DsimNemesisKind kind;
  DsimPid pid;     /* crash, pause */
  bool no_restart; /* crash */
  uint32_t cut;    /* partition, link down */
  GArray *rules;   /* loss: uint32_t link rule ids */
};

static void nemesis_fire(DsimWorld *w, DsimPid owner, void *data, uint64_t tag);

static void dsim_nemesis_free(DsimNemesis *n) {
  for (size_t i = 0; i < n->n_targets; i++) g_free(n->names[i]);
  g_free(n->names);
  g_free(n->targets);
  g_free(n->faults);
  g_array_unref(n->rules);
  g_free(n);
}

static void arm(DsimNemesis *n, DsimTime delay) {
  n->timer = dsim_timer_start(n->net->world, DSIM_PID_NONE, delay, nemesis_fire, n, 0);
}

static void trace_begin(DsimNemesis *n, DsimTrace *tr, const char *fault) {
  dsim_trace_begin(tr, dsim_world_now(n->net->world), "nemesis");
  dsim_trace_u64(tr, "id", n->id);
  dsim_trace_str(tr, "fault", fault, (size_t)-1, 32);
}

/* The targets now, in a fixed order. */
static void targets_now(DsimNemesis *n, GArray *out) {
  static const DsimSelector everyone = {DSIM_PID_NONE, NULL};
  if (n->n_targets)
    dsim_net_resolve(n->net, n->targets, n->n_targets, out);
  else
    dsim_net_resolve(n->net, &everyone, 1, out);
}

/* Keeps the pids of processes (with code) whose state is one of those given. */
static void keep_states(DsimWorld *w, GArray *pids, DsimProcState a, DsimProcState b, DsimProcState c) {
  guint k = 0;
  for (guint i = 0; i < pids->len; i++) {
    DsimPid p = g_array_index(pids, DsimPid, i);
    if (!dsim_proc_ops(w, p)) continue; /* reserved or bound elsewhere: no code */
    DsimProcState s = dsim_proc_state(w, p);
    if (s == a || s == b || s == c) g_array_index(pids, DsimPid, k++) = p;
  }
  g_array_set_size(pids, k);
}

/* Injects one fault of kind f->kind: chooses its targets among pids, then
 * draws its duration (*duration), traces the choice and applies it. Returns
 * false, drawing no duration, if no target fits (the nemesis then skips
 * this turn). */
static bool inject(DsimNemesis *n, const DsimNemesisFault *f, GArray *pids, DsimTime *out) {
  DsimNet *net = n->net;
  DsimWorld *w = net->world;
  DsimTrace *tr = dsim_world_trace(w);
  DsimTime duration = 0;
#define DRAW_DURATION() (duration = *out = dsim_delay_sample(&f->duration, &n->rng))
  n->kind = f->kind;
  n->no_restart = f->no_restart;
  switch (f->kind) {
  case DSIM_NEMESIS_PARTITION: {
    if (pids->len < 2) return false;
    DsimPid *p = (DsimPid *)(void *)pids->data;
    for (guint i = pids->len - 1; i > 0; i--) {
      guint j = (guint)dsim_rng_below(&n->rng, (uint64_t)i + 1);
      DsimPid t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    guint k = 1 + (guint)dsim_rng_below(&n->rng, pids->len - 1);
    DRAW_DURATION();
    DsimSelector *sel = g_new0(DsimSelector, pids->len);
    for (guint i = 0; i < pids->len; i++) sel[i].pid = p[i];
    if (tr) {
      trace_begin(n, tr, "partition");
      dsim_trace_pids(tr, "a", p, k);
      dsim_trace_pids(tr, "b", p + k, pids->len - k);
      dsim_trace_i64(tr, "duration", duration);
      dsim_trace_end(tr);
    }
    n->cut = dsim_net_cut(net, DSIM_CUT_PARTITION, sel, k, sel + k, pids->len - k, false, DSIM_CAUSE_NEMESIS);
    g_free(sel);
    return true;
  }
  case DSIM_NEMESIS_LINK_DOWN: {
    if (pids->len < 2) return false;
    guint i = (guint)dsim_rng_below(&n->rng, pids->len);
    guint j = (guint)dsim_rng_below(&n->rng, pids->len - 1);
    if (j >= i) j++;
    DRAW_DURATION();
    DsimSelector a = {g_array_index(pids, DsimPid, i), NULL}, b = {g_array_index(pids, DsimPid, j), NULL};
    if (tr) {
      trace_begin(n, tr, "link_down");
      dsim_trace_u64(tr, "src", a.pid);
      dsim_trace_u64(tr, "dst", b.pid);
      dsim_trace_i64(tr, "duration", duration);
      dsim_trace_end(tr);
    }
    n->cut = dsim_net_cut(net, DSIM_CUT_LINK_DOWN, &a, 1, &b, 1, false, DSIM_CAUSE_NEMESIS);
    return true;
  }
  case DSIM_NEMESIS_CRASH:
  case DSIM_NEMESIS_PAUSE: {
    bool crash = f->kind == DSIM_NEMESIS_CRASH;
    if (crash)
      keep_states(w, pids, DSIM_PROC_RUNNING, DSIM_PROC_BLOCKED, DSIM_PROC_PAUSED);
    else
      keep_states(w, pids, DSIM_PROC_RUNNING, DSIM_PROC_BLOCKED, DSIM_PROC_BLOCKED);
    if (pids->len == 0) return false;
    n->pid = g_array_index(pids, DsimPid, dsim_rng_below(&n->rng, pids->len));
    DRAW_DURATION();
    if (tr) {
      trace_begin(n, tr, crash ? "crash" : "pause");
      dsim_trace_u64(tr, "pid", n->pid);
      dsim_trace_i64(tr, "duration", duration);
      dsim_trace_end(tr);
    }
    /* Neither can fail: the state was checked above, and a nemesis runs in
     * scenario context, never as the process itself. */
    gboolean ok = crash ? dsim_proc_crash(w, n->pid, DSIM_CAUSE_NEMESIS, NULL)
                        : dsim_proc_pause(w, n->pid, DSIM_CAUSE_NEMESIS, NULL);
    g_assert(ok);
    return true;
  }
  case DSIM_NEMESIS_LOSS: {
    DRAW_DURATION();
    if (tr) {
      trace_begin(n, tr, "loss");
      dsim_trace_pids(tr, "targets", (const DsimPid *)(void *)pids->data, pids->len);
      dsim_trace_double(tr, "loss", f->loss);
      dsim_trace_i64(tr, "duration", duration);
      dsim_trace_end(tr);
    }
    DsimLinkConfig cfg;
    dsim_link_config_init(&cfg);
    cfg.fields = DSIM_LINK_LOSS;
    cfg.loss = f->loss;
    static const DsimSelector everyone = {DSIM_PID_NONE, NULL};
    const DsimSelector *sel = n->n_targets ? n->targets : &everyone;
    size_t ns = n->n_targets ? n->n_targets : 1;
    g_array_set_size(n->rules, 0);
    for (size_t i = 0; i < ns; i++)
      for (size_t j = 0; j < ns; j++) {
        uint32_t id = dsim_net_add_link(net, &sel[i], &sel[j], &cfg, DSIM_CAUSE_NEMESIS, NULL);
        g_assert(id); /* the loss was validated when the nemesis started */
        g_array_append_val(n->rules, id);
      }
    return true;
  }
  case DSIM_NEMESIS_KINDS: break;
  }
#undef DRAW_DURATION
  g_assert_not_reached();
}

static void undo(DsimNemesis *n) {
  DsimNet *net = n->net;
  DsimWorld *w = net->world;
  n->active = false;
  switch (n->kind) {
  case DSIM_NEMESIS_PARTITION: dsim_net_uncut(net, DSIM_CUT_PARTITION, n->cut, DSIM_CAUSE_NEMESIS); break;
  case DSIM_NEMESIS_LINK_DOWN: dsim_net_uncut(net, DSIM_CUT_LINK_DOWN, n->cut, DSIM_CAUSE_NEMESIS); break;
  case DSIM_NEMESIS_CRASH:
    /* The scenario may have restarted it meanwhile: then there is nothing
     * to undo. */
    if (dsim_proc_state(w, n->pid) == DSIM_PROC_CRASHED && !n->no_restart)
      dsim_proc_restart_by(w, n->pid, DSIM_CAUSE_NEMESIS, NULL);
    break;
  case DSIM_NEMESIS_PAUSE:
    if (dsim_proc_state(w, n->pid) == DSIM_PROC_PAUSED) dsim_proc_resume(w, n->pid, DSIM_CAUSE_NEMESIS, NULL);
    break;
  case DSIM_NEMESIS_LOSS:
    for (guint i = 0; i < n->rules->len; i++)
      dsim_net_remove_link(net, g_array_index(n->rules, uint32_t, i), DSIM_CAUSE_NEMESIS);
    g_array_set_size(n->rules, 0);
    break;
  case DSIM_NEMESIS_KINDS: break;
  }
}

static void nemesis_fire(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)owner;
  (void)tag;
  DsimNemesis *n = data;
  n->timer = 0;
  if (n->active) { /* the fault's time is up */
    undo(n);
    if (dsim_world_now(w) < n->stop) arm(n, dsim_delay_sample(&n->interval, &n->rng));
    return;
  }
  if (dsim_world_now(w) >= n->stop) return;
  uint64_t pick = dsim_rng_below(&n->rng, n->total_weight);
  const DsimNemesisFault *f = n->faults;
  for (size_t i = 0; i < n->n_faults; i++) {
    uint64_t wt = n->faults[i].weight ? n->faults[i].weight : 1;
    if (pick < wt) {
      f = &n->faults[i];
      break;
    }
    pick -= wt;
  }
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(DsimPid));
  targets_now(n, pids);
  DsimTime duration;
  if (inject(n, f, pids, &duration)) {
    n->active = true;
    arm(n, duration);
  } else {
    DsimTrace *tr = dsim_world_trace(w);
    if (tr) {
      trace_begin(n, tr, dsim_nemesis_kind_name(f->kind));
      dsim_trace_bool(tr, "skipped", true); /* no target fits now */
      dsim_trace_end(tr);
    }
    arm(n, dsim_delay_sample(&n->interval, &n->rng));
  }
  g_array_unref(pids);
}

uint32_t dsim_nemesis_start(DsimNet *net, const DsimNemesisConfig *cfg, GError **error) {
  DsimWorld *w = net->world;
  GError *e = NULL;
  if (cfg->n_faults == 0) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "nemesis: faults: give at least one fault");
    return 0;
  }
  if (cfg->stop < cfg->start) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "nemesis: stop is before start");
    return 0;
  }
  if (!dsim_delay_validate(&cfg->interval, &e)) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "nemesis: interval: %s", e->message);
    g_error_free(e);
    return 0;
  }
  /* Virtual time must pass between faults, or a nemesis would cycle at one
   * instant until the event bound stops the run. Every distribution's
   * location parameter (or its minimum) says how long it usually waits. */
  const DsimDelay *iv = &cfg->interval;
  DsimTime typical = MAX(MAX(iv->a, iv->min), iv->kind == DSIM_DELAY_CONSTANT ? 0 : iv->b);
  if (typical < DSIM_NS_PER_US) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                "nemesis: interval must be at least 1us (faults would follow each other without time "
                "passing)");
    return 0;
  }
  uint64_t total = 0;
  for (size_t i = 0; i < cfg->n_faults; i++) {
    const DsimNemesisFault *f = &cfg->faults[i];
    const char *name = dsim_nemesis_kind_name(f->kind);
    if (!name) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "nemesis: faults[%zu]: unknown kind %d",
                  i + 1, (int)f->kind);
      return 0;
    }
    if (!dsim_delay_validate(&f->duration, &e)) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "nemesis: faults[%zu] (%s): duration: %s",
                  i + 1, name, e->message);
      g_error_free(e);
      return 0;
    }
    if (f->kind == DSIM_NEMESIS_LOSS && !(f->loss >= 0 && f->loss <= 1)) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                  "nemesis: faults[%zu] (loss): loss must be a probability between 0 and 1 (got %g)", i + 1, f->loss);
      return 0;
    }
    total += f->weight ? f->weight : 1;
  }
  DsimNemesis *n = g_new0(DsimNemesis, 1);
  n->net = net;
  n->id = ++net->next_nemesis;
  dsim_rng_stream(&n->rng, dsim_world_config(w)->seed, DSIM_STREAM_NEMESIS, n->id);
  n->stop = cfg->stop;
  n->interval = cfg->interval;
  n->n_targets = cfg->n_targets;
  n->targets = g_new0(DsimSelector, cfg->n_targets ? cfg->n_targets : 1);
  n->names = g_new0(char *, cfg->n_targets ? cfg->n_targets : 1);
  for (size_t i = 0; i < cfg->n_targets; i++) {
    n->targets[i].pid = cfg->targets[i].pid;
    n->targets[i].group = n->names[i] = g_strdup(cfg->targets[i].group);
  }
  n->faults = g_memdup2(cfg->faults, cfg->n_faults * sizeof *cfg->faults);
  n->n_faults = cfg->n_faults;
  n->total_weight = total;
  n->rules = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  if (!net->nemeses) net->nemeses = g_ptr_array_new_with_free_func((GDestroyNotify)dsim_nemesis_free);
  g_ptr_array_add(net->nemeses, n);
  DsimTrace *tr = dsim_world_trace(w);
  if (tr) {
    dsim_trace_begin(tr, dsim_world_now(w), "nemesis_start");
    dsim_trace_u64(tr, "id", n->id);
    dsim_trace_i64(tr, "start", cfg->start);
    dsim_trace_i64(tr, "stop", cfg->stop);
    dsim_trace_end(tr);
  }
  DsimTime now = dsim_world_now(w);
  DsimTime first = cfg->start > now ? cfg->start - now : 0;
  DsimTime gap = dsim_delay_sample(&n->interval, &n->rng);
  arm(n, gap <= DSIM_TIME_NEVER - now - first ? first + gap : DSIM_TIME_NEVER - now);
  return n->id;
}

bool dsim_nemesis_stop(DsimNet *net, uint32_t id) {
  if (!net->nemeses) return false;
  for (guint i = 0; i < net->nemeses->len; i++) {
    DsimNemesis *n = g_ptr_array_index(net->nemeses, i);
    if (n->id != id || n->stopped) continue;
    n->stopped = true;
    if (n->timer) dsim_timer_cancel(net->world, n->timer);
    n->timer = 0;
    if (n->active) undo(n);
    DsimTrace *tr = dsim_world_trace(net->world);
    if (tr) {
      dsim_trace_begin(tr, dsim_world_now(net->world), "nemesis_stop");
      dsim_trace_u64(tr, "id", n->id);
      dsim_trace_end(tr);
    }
    return true;
  }
  return false;
}
