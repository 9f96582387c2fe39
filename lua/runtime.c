/* runtime.c — the Lua state of a world, Lua processes as coroutines, and
 * the discipline around every entry into Lua.
 *
 * A Lua process is a coroutine created from the main state. The kernel starts
 * it (a start event), and it runs until it calls a blocking function
 * (recvFrom, recvFromAny, sleep), which records what will wake it and
 * yields. The kernel resumes it later with the results of that call as the
 * values of the yield. Nothing else resumes a process, so there is never more
 * than one coroutine running and never a nested resume.
 *
 * Every entry into Lua (the top level, sim.at callbacks, finally functions,
 * resumes) is protected: an error becomes a world failure with file:line and
 * a traceback, never a longjmp through C frames that hold resources. */
#include "lua_internal.h"

#include <string.h>

G_DEFINE_QUARK(dsim-lua-error-quark, dsim_lua_error)

const char dsim_lua_key_spawn = 0;
const char dsim_lua_key_threads = 0;
const char dsim_lua_key_ids = 0;
const char dsim_lua_key_channels = 0;
const char dsim_lua_key_loaded = 0;
const char dsim_lua_key_groups = 0;
const char dsim_lua_key_links = 0;
const char dsim_lua_key_rules = 0;
static const char key_rule_thread = 0;

#define DEFAULT_MAX_STEPS UINT64_C(100000000)
#define DEFAULT_MAX_MEMORY ((size_t)4 << 30)

/* ---------------------------------------------------------------- state */

static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  DsimLua *rt = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    rt->mem_used -= old;
    return NULL;
  }
  if (rt->limit_active && nsize > old && rt->mem_used + (nsize - old) > rt->mem_limit) {
    rt->mem_exhausted = true;
    return NULL; /* Lua raises a memory error */
  }
  void *n = realloc(ptr, nsize);
  if (n) rt->mem_used = rt->mem_used - old + nsize;
  return n;
}

int dsim_lua_push_message(lua_State *L, const DsimMessage *m) {
  DsimLua *rt = dsim_lua_from(L);
  bool saved = rt->limit_active;
  rt->limit_active = false;
  lua_pushinteger(L, dsim_message_src(m));
  dsim_lua_push_payload(L, dsim_message_payload(m));
  int n = 2;
  if (G_UNLIKELY(dsim_message_corrupted(m))) {
    lua_pushboolean(L, 1);
    n = 3;
  }
  rt->limit_active = saved;
  return n;
}

/* Reached only if Lua raises outside any protected call, which the runtime
 * avoids; say so clearly instead of aborting silently. */
static int panic_handler(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  g_printerr("dsim: internal error: unprotected Lua error: %s\n", msg ? msg : "?");
  abort();
}

DsimLua *dsim_lua_from(lua_State *L) {
  void *ud;
  lua_getallocf(L, &ud);
  return ud;
}

/* The runaway guard: called every DSIM_LUA_HOOK_STEP instructions. */
static void count_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  DsimLua *rt = dsim_lua_from(L);
  if (++rt->hooks > rt->max_hooks) {
    /* Level 0 is the Lua function that was running when the hook fired. */
    luaL_where(L, 0);
    lua_pushfstring(L,
                    "ran more than %I instructions without blocking (an endless loop?); "
                    "raise the limit with --max-steps",
                    (lua_Integer)(rt->max_hooks * DSIM_LUA_HOOK_STEP));
    lua_concat(L, 2);
    lua_error(L);
  }
}

static void runtime_free(void *obj) {
  DsimLua *rt = obj;
  lua_close(rt->L);
  dsim_payload_unref(rt->last_string);
  g_free(rt->scenario_dir);
  g_ptr_array_unref(rt->lib_dirs);
  g_array_unref(rt->finally_refs);
  g_hash_table_unref(rt->params);
  g_free(rt);
}

static void new_registry_table(lua_State *L, const char *key, const char *mode) {
  lua_newtable(L);
  if (mode) {
    lua_newtable(L);
    lua_pushstring(L, mode);
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

DsimLua *dsim_lua_new(DsimWorld *world, const DsimLuaOptions *opt) {
  g_assert(dsim_world_attached(world, DSIM_SLOT_LUA) == NULL);
  DsimLua *rt = g_new0(DsimLua, 1);
  rt->world = world;
  rt->mem_limit = opt && opt->max_memory ? opt->max_memory : DEFAULT_MAX_MEMORY;
  uint64_t steps = opt && opt->max_steps ? opt->max_steps : DEFAULT_MAX_STEPS;
  rt->max_hooks = steps / DSIM_LUA_HOOK_STEP ? steps / DSIM_LUA_HOOK_STEP : 1;
  rt->echo_print = opt ? opt->echo_print : false;
  rt->lib_dirs = g_ptr_array_new_with_free_func(g_free);
  if (opt && opt->lib_dirs)
    for (const char *const *d = opt->lib_dirs; *d; d++) g_ptr_array_add(rt->lib_dirs, g_strdup(*d));
  g_ptr_array_add(rt->lib_dirs, g_strdup(DSIM_SOURCE_LUA_LIB));
  g_ptr_array_add(rt->lib_dirs, g_strdup(DSIM_INSTALL_LUA_LIB));
  rt->finally_refs = g_array_new(FALSE, FALSE, sizeof(int));
  rt->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (opt && opt->params)
    for (const char *const *p = opt->params; *p; p++) {
      const char *eq = strchr(*p, '=');
      g_assert(eq); /* the caller validated NAME=VALUE */
      g_hash_table_insert(rt->params, g_strndup(*p, (gsize)(eq - *p)), g_strdup(eq + 1));
    }
  rt->L = lua_newstate(l_alloc, rt);
  g_assert(rt->L); /* only fails without memory */
  *(DsimLuaProc **)lua_getextraspace(rt->L) = NULL;
  lua_atpanic(rt->L, panic_handler);
  lua_State *L = rt->L;
  new_registry_table(L, &dsim_lua_key_spawn, NULL);
  new_registry_table(L, &dsim_lua_key_threads, NULL);
  new_registry_table(L, &dsim_lua_key_ids, "k");
  new_registry_table(L, &dsim_lua_key_channels, NULL);
  new_registry_table(L, &dsim_lua_key_loaded, NULL);
  new_registry_table(L, &dsim_lua_key_groups, NULL);
  new_registry_table(L, &dsim_lua_key_links, NULL);
  new_registry_table(L, &dsim_lua_key_rules, NULL);
  dsim_lua_open_sandbox(rt);
  dsim_lua_open_sim(L);
  dsim_lua_open_channel(L);
  dsim_lua_open_net(L);
  dsim_lua_open_faults(L);
  /* Threads created later inherit the hook from the main state. */
  lua_sethook(L, count_hook, LUA_MASKCOUNT, DSIM_LUA_HOOK_STEP);
  lua_gc(L, LUA_GCGEN, 0, 0);
  dsim_world_attach(world, DSIM_SLOT_LUA, rt, runtime_free);
  return rt;
}

lua_State *dsim_lua_state(DsimLua *rt) {
  return rt->L;
}

/* ---------------------------------------------------------------- errors */

G_NORETURN int dsim_lua_raise(lua_State *L, GError *error) {
  dsim_lua_raise_in(L, NULL, error);
}

G_NORETURN int dsim_lua_raise_in(lua_State *L, const char *fn, GError *error) {
  /* file:line of the Lua code that made the failing call, as luaL_error
   * gives: the message of a C-level error never says where it came from. */
  luaL_where(L, 1);
  if (fn)
    lua_pushfstring(L, "%s: %s", fn, error->message);
  else
    lua_pushstring(L, error->message);
  g_error_free(error);
  lua_concat(L, 2);
  lua_error(L);
  g_assert_not_reached();
}

/* Message handler for scenario-context calls: message plus traceback. */
static int traceback_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = dsim_lua_tostring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static char *memory_message(DsimLua *rt) {
  return g_strdup_printf("the scenario used more than %zu MiB of Lua memory (raise it with --max-memory)",
                         rt->mem_limit >> 20);
}

/* Fails the world with a scenario error. `msg` is the Lua message (with
 * file:line) and its traceback, `pid` the process it happened in. */
static void fail_world(DsimLua *rt, DsimPid pid, const char *msg, int status) {
  char tbuf[32];
  char *text;
  char *mem = status == LUA_ERRMEM || rt->mem_exhausted ? memory_message(rt) : NULL;
  const char *body = mem ? mem : msg;
  const char *nl = strchr(body, '\n');
  GString *s = g_string_new(NULL);
  g_string_append_len(s, body, nl ? nl - body : (gssize)strlen(body));
  if (pid)
    g_string_append_printf(s, " (in pid %u at t=%s)", pid,
                           dsim_time_format(dsim_world_now(rt->world), tbuf, sizeof tbuf));
  else
    g_string_append_printf(s, " (in scenario code at t=%s)",
                           dsim_time_format(dsim_world_now(rt->world), tbuf, sizeof tbuf));
  DsimTrace *tr = dsim_world_trace(rt->world);
  if (tr) {
    dsim_trace_begin(tr, dsim_world_now(rt->world), "error");
    dsim_trace_u64(tr, "pid", pid);
    dsim_trace_str(tr, "msg", s->str, s->len, 2000);
    dsim_trace_end(tr);
  }
  if (nl && !mem) g_string_append(s, nl);
  text = g_string_free(s, FALSE);
  dsim_world_fail(rt->world, g_error_new_literal(DSIM_LUA_ERROR, DSIM_LUA_ERROR_RUNTIME, text));
  g_free(text);
  g_free(mem);
}

bool dsim_lua_call_scenario(DsimLua *rt, int nargs, const char *what) {
  lua_State *L = rt->L;
  int base = lua_gettop(L) - nargs; /* the function's index */
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  rt->hooks = 0;
  DsimLuaProc *saved = rt->running;
  bool saved_limit = rt->limit_active;
  rt->running = NULL;
  rt->limit_active = true;
  int st = lua_pcall(L, nargs, 0, base);
  rt->limit_active = saved_limit;
  rt->running = saved;
  if (st != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    GString *m = g_string_new(msg ? msg : "(error object is not a string)");
    if (what && !msg) g_string_append_printf(m, " in %s", what);
    fail_world(rt, DSIM_PID_NONE, m->str, st);
    g_string_free(m, TRUE);
    lua_pop(L, 1);
  }
  lua_remove(L, base);
  return st == LUA_OK;
}

lua_State *dsim_lua_rule_thread(DsimLua *rt) {
  if (!rt->rule_thread) {
    rt->rule_thread = lua_newthread(rt->L); /* inherits the runaway hook */
    lua_rawsetp(rt->L, LUA_REGISTRYINDEX, &key_rule_thread);
  }
  return rt->rule_thread;
}

bool dsim_lua_call_rule(DsimLua *rt, int nargs, const char *what, const char *where) {
  lua_State *T = rt->rule_thread;
  int base = lua_gettop(T) - nargs; /* the function's index */
  lua_pushcfunction(T, traceback_handler);
  lua_insert(T, base);
  /* A rule runs inside a send, perhaps inside a resumed process: save what
   * the process's own run uses and give the rule a budget of its own. */
  DsimLuaProc *saved = rt->running;
  bool saved_limit = rt->limit_active, saved_in_rule = rt->in_rule;
  uint64_t saved_hooks = rt->hooks;
  rt->running = NULL;
  rt->in_rule = true;
  rt->hooks = 0;
  rt->limit_active = true;
  int st = lua_pcall(T, nargs, 1, base);
  rt->limit_active = saved_limit;
  rt->hooks = saved_hooks;
  rt->in_rule = saved_in_rule;
  rt->running = saved;
  if (st != LUA_OK) {
    const char *msg = lua_tostring(T, -1);
    GString *m = g_string_new(msg ? msg : "(error object is not a string)");
    if (!msg) g_string_append_printf(m, " in %s", what);
    if (where) {
      g_string_prepend(m, ": ");
      g_string_prepend(m, where);
    }
    fail_world(rt, dsim_world_self(rt->world), m->str, st);
    g_string_free(m, TRUE);
    lua_pop(T, 1);
  }
  lua_remove(T, base);
  return st == LUA_OK;
}

/* ---------------------------------------------------------------- processes */

static void thread_slot_set(lua_State *L, DsimPid spawn_pid, int idx) {
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_threads);
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, spawn_pid);
  lua_pop(L, 1);
}

/* Drops the coroutine of a process: it will be collected. */
static void abandon(DsimLuaProc *p) {
  lua_State *L = p->rt->L;
  lua_pushnil(L);
  thread_slot_set(L, p->spawn_pid, -1);
  lua_pop(L, 1);
  p->co = NULL;
  p->blocking = false;
  p->crash_pending = false;
}

static void resume(DsimLuaProc *p, int nargs) {
  DsimLua *rt = p->rt;
  DsimWorld *w = rt->world;
  lua_State *co = p->co;
  DsimPid pid = dsim_world_self(w);
  int nres = 0;
  rt->hooks = 0;
  rt->running = p;
  p->blocking = false;
  rt->limit_active = true;
  int st = lua_resume(co, rt->L, nargs, &nres);
  rt->limit_active = false;
  rt->running = NULL;
  if (p->crash_pending) { /* it crashed itself: stop here */
    abandon(p);
    return;
  }
  if (st == LUA_YIELD) {
    lua_pop(co, nres);
    if (!p->blocking) {
      fail_world(rt, pid,
                 "a process yielded outside a blocking call (coroutine.yield at the top level of "
                 "a process is not allowed; use it only in coroutines the process creates)",
                 LUA_ERRRUN);
      abandon(p);
    }
    return;
  }
  if (st == LUA_OK) {
    lua_pop(co, nres);
    abandon(p);
    dsim_proc_exit(w, pid);
    return;
  }
  const char *msg = lua_tostring(co, -1);
  if (!msg) msg = dsim_lua_tostring(co, -1, NULL);
  luaL_traceback(rt->L, co, msg, 0);
  fail_world(rt, pid, lua_tostring(rt->L, -1), st);
  lua_pop(rt->L, 1);
  abandon(p);
}

static void lproc_start(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  (void)ops;
  (void)w;
  (void)pid;
  DsimLuaProc *p = impl;
  lua_State *L = p->rt->L;
  lua_State *co = lua_newthread(L);
  *(DsimLuaProc **)lua_getextraspace(co) = p;
  thread_slot_set(L, p->spawn_pid, -1);
  lua_pop(L, 1);
  p->co = co;
  /* The spawn record: a function, or {fn, n=nargs, args...}. */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_spawn);
  lua_rawgeti(L, -1, p->spawn_pid);
  int nargs = 0;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "n");
    nargs = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_checkstack(L, nargs + 1, "spawn arguments");
    for (int i = 1; i <= nargs + 1; i++) lua_rawgeti(L, -1 - (i - 1), i);
    /* stack: spawn, record, fn, a1..an */
    lua_xmove(L, co, nargs + 1);
    lua_pop(L, 2);
  } else {
    lua_xmove(L, co, 1);
    lua_pop(L, 1);
  }
  resume(p, nargs);
}

static void lproc_wake(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl, DsimWakeKind kind,
                       void *data) {
  (void)ops;
  (void)w;
  (void)pid;
  DsimLuaProc *p = impl;
  lua_State *co = p->co;
  g_assert(co && p->blocking);
  switch (kind) {
  case DSIM_WAKE_MESSAGE:
    resume(p, dsim_lua_push_message(co, data));
    break;
  case DSIM_WAKE_TIMEOUT:
    lua_pushnil(co);
    resume(p, 1);
    break;
  case DSIM_WAKE_TIMER:
    p->sleep_timer = 0;
    resume(p, 0);
    break;
  }
}

static void lproc_crash(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  (void)ops;
  (void)w;
  (void)pid;
  DsimLuaProc *p = impl;
  p->sleep_timer = 0;
  if (p->rt->running == p)
    p->crash_pending = true; /* the running call yields right after this */
  else if (p->co)
    abandon(p);
}

static void lproc_destroy(const DsimProcOps *ops, void *impl) {
  (void)ops;
  g_free(impl);
}

static const DsimProcOps lproc_ops = {
    .kind = "lua",
    .direct_delivery = false,
    .start = lproc_start,
    .wake = lproc_wake,
    .crash = lproc_crash,
    .destroy = lproc_destroy,
};

DsimPid dsim_lua_spawn(lua_State *L, int fn_idx, int nargs) {
  DsimLua *rt = dsim_lua_from(L);
  fn_idx = lua_absindex(L, fn_idx);
  DsimLuaProc *p = g_new0(DsimLuaProc, 1);
  p->rt = rt;
  char label[256];
  lua_Debug ar;
  lua_pushvalue(L, fn_idx);
  lua_getinfo(L, ">S", &ar);
  g_snprintf(label, sizeof label, "%s:%d", ar.short_src, ar.linedefined);
  DsimPid pid = dsim_proc_spawn(rt->world, &lproc_ops, p, label);
  p->spawn_pid = pid;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_spawn);
  if (nargs == 0) {
    lua_pushvalue(L, fn_idx);
  } else {
    lua_createtable(L, nargs + 1, 1);
    for (int i = 0; i <= nargs; i++) {
      lua_pushvalue(L, fn_idx + i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_pushinteger(L, nargs);
    lua_setfield(L, -2, "n");
  }
  lua_rawseti(L, -2, pid);
  lua_pop(L, 1);
  return pid;
}

DsimLuaProc *dsim_lua_blocking_context(lua_State *L, const char *op) {
  if (dsim_lua_from(L)->in_rule)
    luaL_error(L, "%s cannot be called from a net.rule function (a rule only decides what happens to "
                  "a message)", op);
  DsimLuaProc *p = dsim_lua_proc_of(L);
  if (!p || p->co != L) {
    if (dsim_world_self(dsim_lua_from(L)->world) == DSIM_PID_NONE)
      luaL_error(L, "%s blocks, so it can only be called inside a process (not in scenario code, "
                    "sim.at/sim.every callbacks or finally functions)", op);
    luaL_error(L, "%s blocks, so it must be called from the process itself, not from a coroutine "
                  "the process created", op);
  }
  if (!lua_isyieldable(L))
    luaL_error(L, "%s cannot block here (inside a metamethod, iterator or sort comparator called "
                  "from C)", op);
  return p;
}

int dsim_lua_block(lua_State *L, DsimLuaProc *p) {
  p->blocking = true;
  return lua_yield(L, 0);
}

/* ---------------------------------------------------------------- scenarios */

static gboolean load_error(DsimLua *rt, int st, GError **error) {
  lua_State *L = rt->L;
  const char *msg = lua_tostring(L, -1);
  if (st == LUA_ERRMEM) {
    char *m = memory_message(rt);
    g_set_error_literal(error, DSIM_LUA_ERROR, DSIM_LUA_ERROR_LOAD, m);
    g_free(m);
  } else {
    g_set_error_literal(error, DSIM_LUA_ERROR, DSIM_LUA_ERROR_LOAD, msg ? msg : "cannot load scenario");
  }
  lua_pop(L, 1);
  return FALSE;
}

static gboolean run_loaded(DsimLua *rt, GError **error) {
  if (dsim_lua_call_scenario(rt, 0, "the scenario's top level")) return TRUE;
  const GError *e = dsim_world_error(rt->world);
  g_set_error_literal(error, DSIM_LUA_ERROR, DSIM_LUA_ERROR_RUNTIME, e ? e->message : "scenario error");
  return FALSE;
}

gboolean dsim_lua_run_file(DsimLua *rt, const char *path, GError **error) {
  lua_State *L = rt->L;
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, DSIM_LUA_ERROR, DSIM_LUA_ERROR_LOAD, "%s: no such scenario file", path);
    return FALSE;
  }
  g_free(rt->scenario_dir);
  rt->scenario_dir = g_path_get_dirname(path);
  int st = luaL_loadfilex(L, path, "t");
  if (st != LUA_OK) return load_error(rt, st, error);
  return run_loaded(rt, error);
}

gboolean dsim_lua_run_string(DsimLua *rt, const char *code, const char *name, GError **error) {
  char *chunk = g_strconcat("=", name, NULL);
  int st = luaL_loadbufferx(rt->L, code, strlen(code), chunk, "t");
  g_free(chunk);
  if (st != LUA_OK) return load_error(rt, st, error);
  return run_loaded(rt, error);
}

gboolean dsim_lua_run_finally(DsimLua *rt, GError **error) {
  lua_State *L = rt->L;
  GError *names = NULL;
  if (!dsim_lua_check_names(rt, &names)) {
    fail_world(rt, DSIM_PID_NONE, names->message, LUA_ERRRUN);
    g_propagate_error(error, names);
    return FALSE;
  }
  for (guint i = 0; i < rt->finally_refs->len; i++) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, g_array_index(rt->finally_refs, int, i));
    if (!dsim_lua_call_scenario(rt, 0, "a finally function")) {
      const GError *e = dsim_world_error(rt->world);
      g_set_error_literal(error, DSIM_LUA_ERROR, DSIM_LUA_ERROR_RUNTIME, e ? e->message : "error");
      return FALSE;
    }
  }
  return TRUE;
}
