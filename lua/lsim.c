/* lsim.c — the `sim` table: processes, virtual time, timers, checks, logs.
 *
 * Times are seconds (numbers) or strings with a unit ("5ms"); they become
 * integer nanoseconds at this boundary and nowhere else. */
#include "lua_internal.h"

#include <string.h>

/* ---------------------------------------------------------------- argument helpers */

DsimTime dsim_lua_checktime(lua_State *L, int idx, const char *what) {
  DsimTime t;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number s = lua_tonumber(L, idx);
    if (s < 0) luaL_error(L, "%s must not be negative (got %f)", what, (double)s);
    if (!dsim_time_from_seconds(s, &t)) luaL_error(L, "%s is not a usable duration (got %f)", what, (double)s);
    /* A positive duration never rounds to zero: for timeouts 0 means "no
     * timeout", which a tiny remaining time must not turn into. */
    if (t == 0 && s > 0) t = 1;
    return t;
  }
  if (lua_type(L, idx) == LUA_TSTRING) {
    GError *e = NULL;
    if (!dsim_time_parse(lua_tostring(L, idx), &t, &e)) dsim_lua_raise_in(L, what, e);
    return t;
  }
  luaL_error(L, "%s must be a duration: seconds (a number) or a string such as \"5ms\" (got %s)",
             what, luaL_typename(L, idx));
  return 0;
}

DsimTime dsim_lua_opttime(lua_State *L, int idx, const char *what, DsimTime dflt) {
  return lua_isnoneornil(L, idx) ? dflt : dsim_lua_checktime(L, idx, what);
}

DsimPid dsim_lua_checkpid(lua_State *L, int idx, const char *what) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint || v <= 0 || v > UINT32_MAX)
    luaL_error(L, "%s must be a pid (a positive integer), got %s", what,
               lua_type(L, idx) == LUA_TNUMBER ? lua_pushfstring(L, "%s", lua_tostring(L, idx))
                                               : luaL_typename(L, idx));
  return (DsimPid)v;
}

void dsim_lua_checkpids(lua_State *L, int idx, const char *what, GArray *out) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    DsimPid p = dsim_lua_checkpid(L, idx, what);
    g_array_append_val(out, p);
    return;
  }
  if (!lua_istable(L, idx))
    luaL_error(L, "%s must be a pid or a list of pids, got %s", what, luaL_typename(L, idx));
  lua_Integer n = luaL_len(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    DsimPid p = dsim_lua_checkpid(L, -1, what);
    g_array_append_val(out, p);
    lua_pop(L, 1);
  }
}

void dsim_lua_where(lua_State *L, char *buf, size_t size) {
  lua_Debug ar;
  buf[0] = '\0';
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0) {
      g_snprintf(buf, size, "%s:%d", ar.short_src, ar.currentline);
      return;
    }
  }
}

static DsimWorld *world_of(lua_State *L) {
  return dsim_lua_from(L)->world;
}

/* ---------------------------------------------------------------- processes */

/* sim.spawn(fn, ...) or sim.spawn("c_class", args...) -> pid */
static int l_spawn(lua_State *L) {
  DsimWorld *w = world_of(L);
  int nargs = lua_gettop(L) - 1;
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *name = lua_tostring(L, 1);
    const DsimProcClass *cls = dsim_class_lookup(w, name);
    if (!cls) return luaL_error(L, "sim.spawn: no C process class named '%s'", name);
    const char **argv = g_newa(const char *, nargs + 1);
    for (int i = 0; i < nargs; i++) {
      int t = lua_type(L, i + 2);
      if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
        return luaL_error(L, "sim.spawn: arguments of a C process must be strings, numbers or "
                             "booleans (argument %d is a %s)", i + 2, luaL_typename(L, i + 2));
      argv[i] = dsim_lua_tostring(L, i + 2, NULL); /* kept alive on the stack */
    }
    argv[nargs] = NULL;
    lua_pushinteger(L, dsim_cproc_spawn(w, cls, nargs, argv));
    return 1;
  }
  luaL_argexpected(L, lua_type(L, 1) == LUA_TFUNCTION, 1, "function or C class name");
  dsim_net_get(w); /* processes receive messages: the net must listen to crashes */
  lua_pushinteger(L, dsim_lua_spawn(L, 1, nargs));
  return 1;
}

static int l_self(lua_State *L) {
  DsimPid self = dsim_world_self(world_of(L));
  if (self)
    lua_pushinteger(L, self);
  else
    lua_pushnil(L);
  return 1;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)dsim_world_now(world_of(L)) / 1e9);
  return 1;
}

static void sleep_fired(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)data;
  (void)tag;
  dsim_proc_wake(w, owner, DSIM_WAKE_TIMER, NULL);
}

static void describe_sleep(DsimWorld *w, DsimPid pid, void *arg, GString *out) {
  (void)w;
  (void)pid;
  (void)arg;
  g_string_append(out, "sim.sleep");
}

static int l_sleep(lua_State *L) {
  DsimTime d = dsim_lua_checktime(L, 1, "sim.sleep: the duration");
  DsimLuaProc *p = dsim_lua_blocking_context(L, "sim.sleep");
  DsimWorld *w = world_of(L);
  DsimPid self = dsim_world_self(w);
  if (d > DSIM_TIME_NEVER - dsim_world_now(w)) return luaL_error(L, "sim.sleep: duration too long");
  p->sleep_timer = dsim_timer_start(w, self, d, sleep_fired, NULL, 0);
  dsim_proc_block(w, self, describe_sleep, NULL);
  return dsim_lua_block(L, p);
}

static int l_crash(lua_State *L) {
  DsimWorld *w = world_of(L);
  DsimPid pid = dsim_lua_checkpid(L, 1, "sim.crash: the pid");
  DsimLuaProc *me = dsim_lua_proc_of(L);
  bool self = dsim_proc_resolve(w, pid) == dsim_world_self(w) && dsim_world_self(w) != DSIM_PID_NONE;
  if (self && (!me || me->co != L || !lua_isyieldable(L)))
    return luaL_error(L, "sim.crash: a process can crash itself only from its own code, not from a "
                         "coroutine it created or a callback called from C");
  GError *e = NULL;
  if (!dsim_proc_crash(w, pid, "scenario", &e)) dsim_lua_raise(L, e);
  if (self) return dsim_lua_block(L, me); /* never resumed: the coroutine is dropped */
  return 0;
}

static int l_restart(lua_State *L) {
  GError *e = NULL;
  if (!dsim_proc_restart(world_of(L), dsim_lua_checkpid(L, 1, "sim.restart: the pid"), &e))
    dsim_lua_raise(L, e);
  return 0;
}

/* sim.incarnation([pid]): 0 for a process's first run, 1 after its first
 * restart, ... (default: the calling process). */
static int l_incarnation(lua_State *L) {
  DsimWorld *w = world_of(L);
  DsimPid pid = lua_isnoneornil(L, 1) ? dsim_world_self(w) : dsim_lua_checkpid(L, 1, "sim.incarnation: the pid");
  if (pid == DSIM_PID_NONE) return luaL_error(L, "sim.incarnation: scenario code has no incarnation; give a pid");
  DsimPid real = dsim_proc_resolve(w, pid);
  if (!real) return luaL_error(L, "sim.incarnation: pid %d does not exist", (int)pid);
  lua_pushinteger(L, dsim_proc_incarnation(w, real));
  return 1;
}

static int l_state(lua_State *L) {
  DsimWorld *w = world_of(L);
  DsimPid pid = dsim_lua_checkpid(L, 1, "sim.state: the pid");
  DsimPid real = dsim_proc_resolve(w, pid);
  if (!real) return luaL_error(L, "sim.state: pid %d does not exist", (int)pid);
  lua_pushstring(L, dsim_proc_state_name(dsim_proc_state(w, real)));
  return 1;
}

/* ---------------------------------------------------------------- timers */

/* A scheduled callback (sim.at, sim.after, sim.every). The record is a
 * userdata; while armed it is anchored in the registry, so dropping the
 * handle does not cancel it. */
typedef struct {
  DsimTimerId id;
  DsimTime period; /* 0: one-shot */
  int anchor;      /* registry ref of this userdata while armed, else LUA_NOREF */
} LTimer;

static const char LTIMER_MT[] = "dsim.timer";

static void ltimer_disarm(lua_State *L, LTimer *t) {
  if (t->anchor != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, t->anchor);
  t->anchor = LUA_NOREF;
  t->id = 0;
}

static void ltimer_fired(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)owner;
  (void)tag;
  DsimLua *rt = dsim_world_attached(w, DSIM_SLOT_LUA);
  lua_State *L = rt->L;
  LTimer *t = data;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->anchor); /* keeps the record alive during the call */
  int rec = lua_gettop(L);
  if (t->period > 0)
    t->id = dsim_timer_start(w, DSIM_PID_NONE, t->period, ltimer_fired, t, 0);
  else
    ltimer_disarm(L, t);
  lua_getiuservalue(L, rec, 1);
  bool ok = dsim_lua_call_scenario(rt, 0, "a sim.at/sim.every callback");
  if (!ok && t->id) {
    dsim_timer_cancel(w, t->id);
    ltimer_disarm(L, t);
  }
  lua_pop(L, 1);
}

static int schedule_callback(lua_State *L, DsimTime delay, DsimTime period, int fn_idx) {
  luaL_checktype(L, fn_idx, LUA_TFUNCTION);
  DsimWorld *w = world_of(L);
  LTimer *t = lua_newuserdatauv(L, sizeof *t, 1);
  t->id = 0;
  t->period = period;
  t->anchor = LUA_NOREF;
  luaL_setmetatable(L, LTIMER_MT);
  lua_pushvalue(L, fn_idx);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, -1);
  t->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
  t->id = dsim_timer_start(w, DSIM_PID_NONE, delay, ltimer_fired, t, 0);
  return 1;
}

/* sim.at(t, fn): fn runs at absolute virtual time t. */
static int l_at(lua_State *L) {
  DsimWorld *w = world_of(L);
  DsimTime at = dsim_lua_checktime(L, 1, "sim.at: the time");
  DsimTime now = dsim_world_now(w);
  if (at < now) {
    char a[32], b[32];
    return luaL_error(L, "sim.at: time %s is in the past (now is %s); use sim.after for a delay",
                      dsim_time_format(at, a, sizeof a), dsim_time_format(now, b, sizeof b));
  }
  return schedule_callback(L, at - now, 0, 2);
}

/* sim.after(d, fn): fn runs d seconds from now. */
static int l_after(lua_State *L) {
  return schedule_callback(L, dsim_lua_checktime(L, 1, "sim.after: the delay"), 0, 2);
}

/* sim.every(period, fn [, first]): fn runs every period, first after `first`
 * (default: one period). */
static int l_every(lua_State *L) {
  DsimTime period = dsim_lua_checktime(L, 1, "sim.every: the period");
  if (period <= 0) return luaL_error(L, "sim.every: the period must be positive");
  DsimTime first = dsim_lua_opttime(L, 3, "sim.every: the first delay", period);
  return schedule_callback(L, first, period, 2);
}

static int ltimer_cancel(lua_State *L) {
  LTimer *t = luaL_checkudata(L, 1, LTIMER_MT);
  bool was = t->id && dsim_timer_cancel(world_of(L), t->id);
  ltimer_disarm(L, t);
  lua_pushboolean(L, was);
  return 1;
}

static int ltimer_tostring(lua_State *L) {
  LTimer *t = luaL_checkudata(L, 1, LTIMER_MT);
  lua_pushstring(L, t->id ? "timer (armed)" : "timer (done)");
  return 1;
}

/* ---------------------------------------------------------------- checks */

static int l_check(lua_State *L) {
  luaL_checkany(L, 1);
  bool ok = lua_toboolean(L, 1);
  const char *msg = luaL_optstring(L, 2, "sim.check failed");
  char where[256];
  dsim_lua_where(L, where, sizeof where);
  DsimWorld *w = world_of(L);
  dsim_world_check(w, dsim_world_self(w), ok, msg, where[0] ? where : NULL);
  lua_pushboolean(L, ok);
  return 1;
}

static int l_finally(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  DsimLua *rt = dsim_lua_from(L);
  lua_pushvalue(L, 1);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  g_array_append_val(rt->finally_refs, ref);
  return 0;
}

static int l_stop(lua_State *L) {
  dsim_world_stop(world_of(L));
  return 0;
}

/* sim.param(name [, default]): a value given with `dsim run -D name=value`.
 * With a number as default the value must be a number and is returned as
 * one; with a string default (or none) it is returned as a string. */
static int l_param(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const char *v = g_hash_table_lookup(dsim_lua_from(L)->params, name);
  if (!v) {
    if (lua_isnoneornil(L, 2))
      return luaL_error(L, "sim.param: no value for '%s' (give one with -D %s=VALUE)", name, name);
    lua_settop(L, 2);
    return 1;
  }
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_pushstring(L, v);
    if (!lua_stringtonumber(L, v))
      return luaL_error(L, "sim.param: '%s' must be a number (got -D %s=%s)", name, name, v);
    return 1;
  }
  lua_pushstring(L, v);
  return 1;
}

static int l_seed(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)dsim_world_config(world_of(L))->seed);
  return 1;
}

void dsim_lua_open_sim(lua_State *L) {
  static const luaL_Reg timer_methods[] = {{"cancel", ltimer_cancel}, {NULL, NULL}};
  luaL_newmetatable(L, LTIMER_MT);
  luaL_newlib(L, timer_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ltimer_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  static const luaL_Reg sim[] = {
      {"spawn", l_spawn},     {"self", l_self},   {"now", l_now},         {"sleep", l_sleep},
      {"crash", l_crash},     {"restart", l_restart}, {"state", l_state}, {"at", l_at},
      {"after", l_after},     {"every", l_every}, {"check", l_check},     {"finally", l_finally},
      {"stop", l_stop},       {"seed", l_seed},   {"param", l_param},
      {"incarnation", l_incarnation},   {NULL, NULL},
  };
  luaL_newlib(L, sim);
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "random");
  lua_setfield(L, -3, "random");
  lua_pop(L, 1);
  lua_getglobal(L, "print");
  lua_setfield(L, -2, "log");
  lua_setglobal(L, "sim");
}
