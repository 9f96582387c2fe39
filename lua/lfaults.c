/* lfaults.c — process faults, local clocks, stable storage and the nemesis,
 * added to the `sim` table:
 *
 *   sim.pause(pid)  sim.resume(pid)
 *   sim.clock([pid]) -> seconds     sim.set_clock(pid, {offset=, drift=})
 *   sim.adjust_clock(delta [, pid])
 *   sim.stable.key = value   sim.stable.key   pairs(sim.stable)
 *   sim.stable_of(pid)       sim.sync()       sim.storage_faults([pid,] {lost=, torn=})
 *   sim.nemesis{...} -> id   sim.nemesis_stop(id)
 *
 * Stable storage values are serialised like messages (serialize.c, every
 * value tagged), so what comes back is a copy, as a received message is. */
#include "lua_internal.h"

#include <string.h>

static DsimWorld *world_of(lua_State *L) {
  return dsim_lua_from(L)->world;
}

/* A pid argument that must name a process that exists. */
static DsimPid check_existing_pid(lua_State *L, int idx, const char *what) {
  DsimPid pid = dsim_lua_checkpid(L, idx, what);
  if (!dsim_proc_resolve(world_of(L), pid)) luaL_error(L, "%s: pid %d does not exist", what, (int)pid);
  return pid;
}

/* Checks that a table argument has only the listed keys (in the fixed
 * order, so the first bad one reported is the same every run). */
static void check_keys(lua_State *L, int idx, const char *fn, const char *const *known, const char *list) {
  luaL_checktype(L, idx, LUA_TTABLE);
  dsim_lua_sorted_keys(L, idx, fn);
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    bool ok = false;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (const char *const *k = known; *k && !ok; k++) ok = strcmp(lua_tostring(L, -1), *k) == 0;
    if (!ok) luaL_error(L, "%s: unknown field '%s' (known: %s)", fn, dsim_lua_tostring(L, -1, NULL), list);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* ---------------------------------------------------------------- pause */

static int l_pause(lua_State *L) {
  GError *e = NULL;
  if (!dsim_proc_pause(world_of(L), dsim_lua_checkpid(L, 1, "sim.pause: the pid"), "scenario", &e))
    dsim_lua_raise(L, e);
  return 0;
}

static int l_resume(lua_State *L) {
  GError *e = NULL;
  if (!dsim_proc_resume(world_of(L), dsim_lua_checkpid(L, 1, "sim.resume: the pid"), "scenario", &e))
    dsim_lua_raise(L, e);
  return 0;
}

/* ---------------------------------------------------------------- clocks */

/* The pid argument at idx, or the caller; scenario code must name one. */
static DsimPid pid_or_self(lua_State *L, int idx, const char *fn) {
  if (!lua_isnoneornil(L, idx)) return check_existing_pid(L, idx, fn);
  DsimPid self = dsim_world_self(world_of(L));
  if (!self) luaL_error(L, "%s: give a pid (scenario code has no clock of its own)", fn);
  return self;
}

static int l_clock(lua_State *L) {
  DsimPid pid = pid_or_self(L, 1, "sim.clock");
  lua_pushnumber(L, (lua_Number)dsim_proc_clock(world_of(L), pid) / 1e9);
  return 1;
}

/* Seconds that may be negative (a clock offset or step). */
static DsimTime check_signed_seconds(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) == LUA_TSTRING && lua_tostring(L, idx)[0] == '-') {
    lua_pushstring(L, lua_tostring(L, idx) + 1);
    DsimTime t = dsim_lua_checktime(L, -1, what);
    lua_pop(L, 1);
    return -t;
  }
  if (lua_type(L, idx) == LUA_TNUMBER && lua_tonumber(L, idx) < 0) {
    lua_pushnumber(L, -lua_tonumber(L, idx));
    DsimTime t = dsim_lua_checktime(L, -1, what);
    lua_pop(L, 1);
    return -t;
  }
  return dsim_lua_checktime(L, idx, what);
}

static int l_set_clock(lua_State *L) {
  DsimWorld *w = world_of(L);
  DsimPid pid = check_existing_pid(L, 1, "sim.set_clock: the pid");
  static const char *const known[] = {"offset", "drift", NULL};
  check_keys(L, 2, "sim.set_clock", known, "offset, drift");
  DsimTime offset = dsim_proc_clock(w, pid) - dsim_world_now(w);
  double drift = dsim_proc_clock_drift(w, pid);
  if (lua_getfield(L, 2, "offset") != LUA_TNIL) offset = check_signed_seconds(L, -1, "sim.set_clock: offset");
  if (lua_getfield(L, 2, "drift") != LUA_TNIL) {
    int isnum;
    drift = lua_tonumberx(L, -1, &isnum);
    if (!isnum) return luaL_error(L, "sim.set_clock: drift must be a number (got %s)", luaL_typename(L, -1));
  }
  GError *e = NULL;
  if (!dsim_proc_clock_set(w, pid, offset, drift, "scenario", &e)) dsim_lua_raise_in(L, "sim.set_clock", e);
  return 0;
}

/* sim.adjust_clock(delta [, pid]): a process corrects its own clock (what
 * Cristian's or Berkeley's algorithm does); scenario code names the pid. */
static int l_adjust_clock(lua_State *L) {
  DsimTime delta = check_signed_seconds(L, 1, "sim.adjust_clock: the step");
  DsimPid pid = pid_or_self(L, 2, "sim.adjust_clock");
  DsimPid self = dsim_world_self(world_of(L));
  GError *e = NULL;
  if (!dsim_proc_clock_step(world_of(L), pid, delta, self == dsim_proc_resolve(world_of(L), pid) ? "process" : "scenario", &e))
    dsim_lua_raise(L, e);
  return 0;
}

/* ---------------------------------------------------------------- stable storage */

/* A handle on one pid's storage, or (pid 0) on the caller's. */
typedef struct {
  DsimPid pid;
} LStable;

static const char LSTABLE_MT[] = "dsim.stable";

static DsimPid stable_pid(lua_State *L, const LStable *s) {
  if (s->pid) return s->pid;
  DsimPid self = dsim_world_self(world_of(L));
  if (!self)
    luaL_error(L, "sim.stable is the calling process's storage: use it inside a process (scenario code "
                  "reads a process's with sim.stable_of(pid))");
  return self;
}

static const char *check_key(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_error(L, "sim.stable: keys must be strings (got %s)", luaL_typename(L, idx));
  size_t len;
  const char *k = lua_tolstring(L, idx, &len);
  if (strlen(k) != len) luaL_error(L, "sim.stable: a key must not contain a NUL byte");
  return k;
}

static int stable_index(lua_State *L) {
  LStable *s = luaL_checkudata(L, 1, LSTABLE_MT);
  DsimPid pid = stable_pid(L, s);
  GBytes *v = dsim_stable_get(world_of(L), pid, check_key(L, 2));
  if (!v) {
    lua_pushnil(L);
    return 1;
  }
  gsize len;
  const void *data = g_bytes_get_data(v, &len);
  dsim_lua_push_encoded(L, data, len);
  return 1;
}

static int stable_newindex(lua_State *L) {
  LStable *s = luaL_checkudata(L, 1, LSTABLE_MT);
  DsimPid pid = stable_pid(L, s);
  const char *key = check_key(L, 2);
  DsimWorld *w = world_of(L);
  if (lua_isnil(L, 3)) {
    dsim_stable_delete(w, pid, key);
    return 0;
  }
  DsimPayload *p = dsim_lua_encode_value(L, 3); /* may raise: nothing held yet */
  dsim_stable_put(w, pid, key, dsim_payload_data(p), dsim_payload_len(p));
  dsim_payload_unref(p);
  return 0;
}

/* pairs(sim.stable): keys in strcmp order (a snapshot taken at the start). */
static int stable_pairs_iter(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;
  for (;; i++) {
    if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) return 1;
    lua_pushinteger(L, i);
    lua_replace(L, lua_upvalueindex(2));
    lua_pushvalue(L, -1);
    lua_gettable(L, lua_upvalueindex(3)); /* stable_index */
    if (!lua_isnil(L, -1)) return 2;      /* skip keys deleted meanwhile */
    lua_pop(L, 2);
  }
}

static int stable_pairs(lua_State *L) {
  LStable *s = luaL_checkudata(L, 1, LSTABLE_MT);
  DsimPid pid = stable_pid(L, s);
  GPtrArray *keys = g_ptr_array_new();
  dsim_stable_keys(world_of(L), pid, keys);
  /* Exempt from the memory cap while the array is held, so that no error
   * can jump over its free (as dsim_lua_push_message does). */
  DsimLua *rt = dsim_lua_from(L);
  bool saved = rt->limit_active;
  rt->limit_active = false;
  lua_createtable(L, (int)keys->len, 0);
  for (guint i = 0; i < keys->len; i++) {
    lua_pushstring(L, g_ptr_array_index(keys, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  rt->limit_active = saved;
  g_ptr_array_unref(keys);
  lua_pushinteger(L, 0);
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, stable_pairs_iter, 3);
  return 1;
}

static int stable_tostring(lua_State *L) {
  LStable *s = luaL_checkudata(L, 1, LSTABLE_MT);
  if (s->pid)
    lua_pushfstring(L, "stable storage of pid %d", (int)s->pid);
  else
    lua_pushstring(L, "stable storage (of the calling process)");
  return 1;
}

static void push_stable(lua_State *L, DsimPid pid) {
  LStable *s = lua_newuserdatauv(L, sizeof *s, 0);
  s->pid = pid;
  luaL_setmetatable(L, LSTABLE_MT);
}

static int l_stable_of(lua_State *L) {
  push_stable(L, check_existing_pid(L, 1, "sim.stable_of: the pid"));
  return 1;
}

static int l_sync(lua_State *L) {
  DsimPid self = dsim_world_self(world_of(L));
  if (!self) return luaL_error(L, "sim.sync: call it inside a process (it syncs the caller's stable storage)");
  lua_pushinteger(L, dsim_stable_sync(world_of(L), self));
  return 1;
}

/* sim.storage_faults([pid,] {lost=p, torn=p}) */
static int l_storage_faults(lua_State *L) {
  DsimPid pid = DSIM_PID_NONE;
  int t = 1;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    pid = check_existing_pid(L, 1, "sim.storage_faults: the pid");
    t = 2;
  }
  static const char *const known[] = {"lost", "torn", NULL};
  check_keys(L, t, "sim.storage_faults", known, "lost, torn");
  double lost = 0, torn = 0;
  if (lua_getfield(L, t, "lost") != LUA_TNIL) lost = dsim_lua_checkprob(L, -1, "sim.storage_faults", "lost");
  if (lua_getfield(L, t, "torn") != LUA_TNIL) torn = dsim_lua_checkprob(L, -1, "sim.storage_faults", "torn");
  GError *e = NULL;
  if (!dsim_stable_set_faults(world_of(L), pid, lost, torn, &e)) dsim_lua_raise(L, e);
  return 0;
}

/* ---------------------------------------------------------------- nemesis */

static const struct {
  const char *name;
  DsimNemesisKind kind;
} nemesis_kinds[] = {
    {"partition", DSIM_NEMESIS_PARTITION}, {"crash", DSIM_NEMESIS_CRASH},         {"pause", DSIM_NEMESIS_PAUSE},
    {"loss", DSIM_NEMESIS_LOSS},           {"link_down", DSIM_NEMESIS_LINK_DOWN},
};

static void parse_nemesis_fault(lua_State *L, int idx, lua_Integer i, DsimNemesisFault *f) {
  char fn[64];
  g_snprintf(fn, sizeof fn, "sim.nemesis: faults[%d]", (int)i);
  if (!lua_istable(L, idx))
    luaL_error(L, "%s must be a table such as {\"crash\", duration = 1} (got %s)", fn, luaL_typename(L, idx));
  static const char *const known[] = {"weight", "duration", "loss", "restart", NULL};
  /* Key 1 is the kind; check the others by hand (check_keys wants strings). */
  dsim_lua_sorted_keys(L, idx, fn);
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer k = 1; k <= n; k++) {
    lua_rawgeti(L, -1, k);
    bool ok = lua_isinteger(L, -1) && lua_tointeger(L, -1) == 1;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (const char *const *kn = known; *kn && !ok; kn++) ok = strcmp(lua_tostring(L, -1), *kn) == 0;
    if (!ok)
      luaL_error(L, "%s: unknown field '%s' (known: the kind, weight, duration, loss, restart)", fn,
                 dsim_lua_tostring(L, -1, NULL));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_rawgeti(L, idx, 1);
  const char *kind = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  size_t k;
  for (k = 0; kind && k < G_N_ELEMENTS(nemesis_kinds); k++)
    if (strcmp(kind, nemesis_kinds[k].name) == 0) break;
  if (!kind || k == G_N_ELEMENTS(nemesis_kinds))
    luaL_error(L, "%s: unknown fault kind %s (known: partition, crash, pause, loss, link_down)", fn,
               dsim_lua_tostring(L, -1, NULL));
  lua_pop(L, 1);
  memset(f, 0, sizeof *f);
  f->kind = nemesis_kinds[k].kind;
  f->weight = 1;
  if (lua_getfield(L, idx, "weight") != LUA_TNIL) {
    int isint;
    lua_Integer wt = lua_tointegerx(L, -1, &isint);
    if (!isint || wt < 1 || wt > 1000000)
      luaL_error(L, "%s: weight must be an integer between 1 and 1000000", fn);
    f->weight = (uint32_t)wt;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "duration") == LUA_TNIL) luaL_error(L, "%s: duration is missing", fn);
  dsim_lua_checkdelay(L, -1, fn, &f->duration);
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "loss") != LUA_TNIL) {
    if (f->kind != DSIM_NEMESIS_LOSS) luaL_error(L, "%s: loss applies only to \"loss\" faults", fn);
    f->loss = dsim_lua_checkprob(L, -1, fn, "loss");
  } else if (f->kind == DSIM_NEMESIS_LOSS) {
    luaL_error(L, "%s: a \"loss\" fault needs loss = probability", fn);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, idx, "restart") != LUA_TNIL) {
    if (f->kind != DSIM_NEMESIS_CRASH) luaL_error(L, "%s: restart applies only to \"crash\" faults", fn);
    f->no_restart = !lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
}

/* sim.nemesis{ start=, stop=, interval=, targets=, faults={...} } -> id */
static int l_nemesis(lua_State *L) {
  DsimWorld *w = world_of(L);
  static const char *const known[] = {"start", "stop", "interval", "targets", "faults", NULL};
  check_keys(L, 1, "sim.nemesis", known, "start, stop, interval, targets, faults");
  lua_settop(L, 1);
  DsimNemesisConfig cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.start = dsim_world_now(w);
  if (lua_getfield(L, 1, "start") != LUA_TNIL) cfg.start = dsim_lua_checktime(L, -1, "sim.nemesis: start");
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "stop") == LUA_TNIL)
    return luaL_error(L, "sim.nemesis: stop is missing (a nemesis needs an end, or the run never would)");
  cfg.stop = dsim_lua_checktime(L, -1, "sim.nemesis: stop");
  lua_pop(L, 1);
  if (cfg.stop < cfg.start) return luaL_error(L, "sim.nemesis: stop is before start");
  if (lua_getfield(L, 1, "interval") == LUA_TNIL)
    return luaL_error(L, "sim.nemesis: interval is missing (the quiet time before each fault, e.g. "
                         "{\"exponential\", 2})");
  dsim_lua_checkdelay(L, -1, "sim.nemesis: interval", &cfg.interval);
  lua_pop(L, 1);
  lua_getfield(L, 1, "targets"); /* 2: kept on the stack, it holds the names */
  if (!lua_isnil(L, 2)) cfg.targets = dsim_lua_checkselectors(L, 2, "sim.nemesis: targets", &cfg.n_targets);
  if (lua_getfield(L, 1, "faults") != LUA_TTABLE)
    return luaL_error(L, "sim.nemesis: faults must be a list such as {{\"crash\", duration = 1}} (got %s)",
                      luaL_typename(L, -1));
  int faults = lua_gettop(L);
  lua_Integer nf = luaL_len(L, faults);
  if (nf == 0 || nf > 64) return luaL_error(L, "sim.nemesis: faults must list between 1 and 64 faults");
  DsimNemesisFault *fs = lua_newuserdatauv(L, (size_t)nf * sizeof *fs, 0);
  for (lua_Integer i = 1; i <= nf; i++) {
    lua_rawgeti(L, faults, i);
    parse_nemesis_fault(L, lua_gettop(L), i, &fs[i - 1]);
    lua_pop(L, 1);
  }
  cfg.faults = fs;
  cfg.n_faults = (size_t)nf;
  GError *e = NULL;
  uint32_t id = dsim_nemesis_start(dsim_net_get(w), &cfg, &e);
  if (!id) dsim_lua_raise(L, e);
  lua_pushinteger(L, id);
  return 1;
}

static int l_nemesis_stop(lua_State *L) {
  lua_Integer id = luaL_checkinteger(L, 1);
  if (id <= 0 || !dsim_nemesis_stop(dsim_net_get(world_of(L)), (uint32_t)id))
    return luaL_error(L, "sim.nemesis_stop: %d is not the id of a running nemesis", (int)id);
  return 0;
}

void dsim_lua_open_faults(lua_State *L) {
  static const luaL_Reg stable_mt[] = {{"__index", stable_index},
                                       {"__newindex", stable_newindex},
                                       {"__pairs", stable_pairs},
                                       {"__tostring", stable_tostring},
                                       {NULL, NULL}};
  luaL_newmetatable(L, LSTABLE_MT);
  luaL_setfuncs(L, stable_mt, 0);
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {
      {"pause", l_pause},
      {"resume", l_resume},
      {"clock", l_clock},
      {"set_clock", l_set_clock},
      {"adjust_clock", l_adjust_clock},
      {"stable_of", l_stable_of},
      {"sync", l_sync},
      {"storage_faults", l_storage_faults},
      {"nemesis", l_nemesis},
      {"nemesis_stop", l_nemesis_stop},
      {NULL, NULL},
  };
  lua_getglobal(L, "sim");
  luaL_setfuncs(L, fns, 0);
  push_stable(L, DSIM_PID_NONE);
  lua_setfield(L, -2, "stable");
  lua_pop(L, 1);
}
