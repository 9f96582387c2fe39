/* sandbox.c — the deterministic, sandboxed Lua environment.
 *
 * Lua 5.4 seeds its string hash from the time and from addresses (ASLR), so
 * the order in which plain next()/pairs() visit a table's keys changes from
 * one process to the next. Here pairs and next visit keys in a fixed total
 * order instead: numbers ascending, then strings bytewise, then false, true.
 * Keys of other types (tables, functions, ...) have no reproducible order,
 * so iterating over them is an error that says so, rather than a silent
 * source of different traces.
 *
 * For the same reason tostring() (and print, string.format's %s) show
 * tables and functions as "table: #N" with N counted in the order objects are
 * first shown, never an address, and %p is refused. */
#include "lua_internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- key order */

static int type_rank(int t) {
  switch (t) {
  case LUA_TNUMBER: return 0;
  case LUA_TSTRING: return 1;
  case LUA_TBOOLEAN: return 2;
  default: return 3;
  }
}

bool dsim_lua_key_orderable(lua_State *L, int idx) {
  return type_rank(lua_type(L, idx)) < 3;
}

int dsim_lua_key_compare(lua_State *L, int a, int b) {
  int ta = lua_type(L, a), tb = lua_type(L, b);
  if (ta != tb) return type_rank(ta) - type_rank(tb);
  switch (ta) {
  case LUA_TNUMBER: {
    if (lua_isinteger(L, a) && lua_isinteger(L, b)) {
      lua_Integer x = lua_tointeger(L, a), y = lua_tointeger(L, b);
      return x < y ? -1 : x > y;
    }
    lua_Number x = lua_tonumber(L, a), y = lua_tonumber(L, b);
    if (x != y) return x < y ? -1 : 1;
    /* equal as doubles: an integer sorts before a float */
    return lua_isinteger(L, b) - lua_isinteger(L, a);
  }
  case LUA_TSTRING: {
    size_t la, lb;
    const char *sa = lua_tolstring(L, a, &la), *sb = lua_tolstring(L, b, &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    if (c) return c;
    return la < lb ? -1 : la > lb;
  }
  case LUA_TBOOLEAN: return lua_toboolean(L, a) - lua_toboolean(L, b);
  default: return 0;
  }
}

/* A key snapshot for sorting in C: numbers and strings are copied out of the
 * Lua values (string pointers stay valid: the keys table keeps them alive). */
typedef struct {
  int rank;
  bool is_int;
  lua_Integer i;
  lua_Number n;
  const char *s;
  size_t len;
  int slot; /* index in the unsorted keys table */
} KeyRec;

static int keyrec_cmp(const void *pa, const void *pb) {
  const KeyRec *a = pa, *b = pb;
  if (a->rank != b->rank) return a->rank - b->rank;
  switch (a->rank) {
  case 0:
    if (a->is_int && b->is_int) return a->i < b->i ? -1 : a->i > b->i;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    return (int)b->is_int - (int)a->is_int;
  case 1: {
    int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
  }
  default: return (int)a->i - (int)b->i;
  }
}

void dsim_lua_sorted_keys(lua_State *L, int t, const char *op) {
  t = lua_absindex(L, t);
  lua_newtable(L); /* unsorted */
  int raw = lua_gettop(L);
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (!dsim_lua_key_orderable(L, -1))
      luaL_error(L,
                 "%s: a key of type %s has no reproducible iteration order; use numbers, strings "
                 "or booleans as keys (keep objects in an array instead)",
                 op, luaL_typename(L, -1));
    lua_pushvalue(L, -1);
    lua_rawseti(L, raw, ++n);
  }
  KeyRec *recs = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(KeyRec), 0);
  for (int k = 1; k <= n; k++) {
    lua_rawgeti(L, raw, k);
    KeyRec *r = &recs[k - 1];
    memset(r, 0, sizeof *r);
    r->slot = k;
    switch (lua_type(L, -1)) {
    case LUA_TNUMBER:
      r->rank = 0;
      r->is_int = lua_isinteger(L, -1);
      r->i = lua_tointeger(L, -1);
      r->n = lua_tonumber(L, -1);
      break;
    case LUA_TSTRING:
      r->rank = 1;
      r->s = lua_tolstring(L, -1, &r->len);
      break;
    default:
      r->rank = 2;
      r->i = lua_toboolean(L, -1);
      break;
    }
    lua_pop(L, 1);
  }
  qsort(recs, (size_t)n, sizeof *recs, keyrec_cmp);
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lua_rawgeti(L, raw, recs[k].slot);
    lua_rawseti(L, -2, k + 1);
  }
  lua_replace(L, raw); /* sorted keys replace the unsorted ones */
  lua_pop(L, 1);       /* the records */
}

/* ---------------------------------------------------------------- pairs, next */

/* upvalues: 1 = table, 2 = sorted keys, 3 = position */
static int pairs_iter(lua_State *L) {
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
  for (;;) {
    pos++;
    if (lua_rawgeti(L, lua_upvalueindex(2), pos) == LUA_TNIL) return 1;
    lua_pushvalue(L, -1);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) { /* skip keys removed meanwhile */
      lua_pushinteger(L, pos);
      lua_replace(L, lua_upvalueindex(3));
      return 2;
    }
    lua_pop(L, 2);
  }
}

static int l_pairs(lua_State *L) {
  luaL_checkany(L, 1);
  if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, 1);
  dsim_lua_sorted_keys(L, 1, "pairs");
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, pairs_iter, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* next(t, k): the smallest key greater than k in the fixed order. One linear
 * pass per call; pairs is the efficient way to iterate. */
static int l_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  bool from_start = lua_isnil(L, 2);
  if (!from_start && !dsim_lua_key_orderable(L, 2))
    return luaL_error(L, "next: a key of type %s has no reproducible iteration order",
                      luaL_typename(L, 2));
  lua_pushnil(L); /* 3: the best key so far (keys are never nil) */
  lua_pushnil(L);
  while (lua_next(L, 1)) { /* key at 4, value at 5 */
    lua_pop(L, 1);
    if (!dsim_lua_key_orderable(L, 4))
      return luaL_error(L, "next: a key of type %s has no reproducible iteration order",
                        luaL_typename(L, 4));
    if ((from_start || dsim_lua_key_compare(L, 4, 2) > 0) &&
        (lua_isnil(L, 3) || dsim_lua_key_compare(L, 4, 3) < 0)) {
      lua_pushvalue(L, 4);
      lua_replace(L, 3);
    }
  }
  if (lua_isnil(L, 3)) return 1;
  lua_pushvalue(L, 3);
  lua_rawget(L, 1);
  return 2;
}

/* ---------------------------------------------------------------- tostring */

const char *dsim_lua_tostring(lua_State *L, int idx, size_t *len) {
  idx = lua_absindex(L, idx);
  if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
    return lua_tolstring(L, -1, len);
  }
  int t = lua_type(L, idx);
  switch (t) {
  case LUA_TNIL:
  case LUA_TBOOLEAN:
  case LUA_TNUMBER:
  case LUA_TSTRING: return luaL_tolstring(L, idx, len);
  default: break;
  }
  /* A reference type: name it by a counter, never by its address. */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_ids);
  lua_pushvalue(L, idx);
  lua_Integer id;
  if (lua_rawget(L, -2) == LUA_TNUMBER) {
    id = lua_tointeger(L, -1);
  } else {
    DsimLua *rt = dsim_lua_from(L);
    id = (lua_Integer)++rt->next_object_id;
    lua_pushvalue(L, idx);
    lua_pushinteger(L, id);
    lua_rawset(L, -4);
  }
  lua_pop(L, 2);
  int mt = luaL_getmetafield(L, idx, "__name"); /* pushes only if not nil */
  const char *name = mt == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, idx);
  lua_pushfstring(L, "%s: #%I", name, id);
  if (mt != LUA_TNIL) lua_remove(L, -2);
  return lua_tolstring(L, -1, len);
}

static int l_tostring(lua_State *L) {
  luaL_checkany(L, 1);
  dsim_lua_tostring(L, 1, NULL);
  return 1;
}

static int l_print(lua_State *L) {
  DsimLua *rt = dsim_lua_from(L);
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = dsim_lua_tostring(L, i, &len);
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_addlstring(&b, s, len);
    lua_pop(L, 1);
  }
  luaL_pushresult(&b);
  const char *text = lua_tostring(L, -1);
  DsimPid pid = dsim_world_self(rt->world);
  dsim_world_log(rt->world, pid, text);
  if (rt->echo_print) {
    char tbuf[32];
    printf("[%s pid %u] %s\n", dsim_time_format(dsim_world_now(rt->world), tbuf, sizeof tbuf), pid, text);
  }
  return 0;
}

/* ---------------------------------------------------------------- string.format */

/* string.format with %s arguments converted by the deterministic tostring,
 * and %p refused (it prints addresses). */
static int l_format(lua_State *L) {
  size_t flen;
  const char *fmt = luaL_checklstring(L, 1, &flen);
  int arg = 1;
  for (size_t i = 0; i < flen; i++) {
    if (fmt[i] != '%') continue;
    i++;
    if (i < flen && fmt[i] == '%') continue;
    while (i < flen && strchr("-+ #0123456789.", fmt[i])) i++;
    if (i >= flen) break;
    arg++;
    if (fmt[i] == 'p')
      return luaL_error(L, "string.format: %%p shows memory addresses, which differ between runs; "
                           "it is not available in scenarios");
    if (fmt[i] == 's' && arg <= lua_gettop(L)) {
      int t = lua_type(L, arg);
      if (t != LUA_TSTRING && t != LUA_TNUMBER) {
        dsim_lua_tostring(L, arg, NULL);
        lua_replace(L, arg);
      }
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1)); /* the original string.format */
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* ---------------------------------------------------------------- random */

static DsimRng *current_rng(lua_State *L) {
  DsimWorld *w = dsim_lua_from(L)->world;
  DsimPid self = dsim_world_self(w);
  return self ? dsim_proc_rng(w, self) : dsim_world_rng(w);
}

/* math.random's contract: () -> float in [0,1); (m) -> integer in [1,m];
 * (m, n) -> integer in [m,n]; (0) -> a whole random integer. */
static int l_random(lua_State *L) {
  DsimRng *rng = current_rng(L);
  lua_Integer lo, hi;
  switch (lua_gettop(L)) {
  case 0: lua_pushnumber(L, dsim_rng_double(rng)); return 1;
  case 1:
    lo = 1;
    hi = luaL_checkinteger(L, 1);
    if (hi == 0) {
      lua_pushinteger(L, (lua_Integer)dsim_rng_next(rng));
      return 1;
    }
    break;
  case 2:
    lo = luaL_checkinteger(L, 1);
    hi = luaL_checkinteger(L, 2);
    break;
  default: return luaL_error(L, "wrong number of arguments to 'random'");
  }
  luaL_argcheck(L, lo <= hi, lua_gettop(L), "interval is empty");
  uint64_t span = (uint64_t)hi - (uint64_t)lo;
  uint64_t r = span == UINT64_MAX ? dsim_rng_next(rng) : dsim_rng_below(rng, span + 1);
  lua_pushinteger(L, (lua_Integer)((uint64_t)lo + r));
  return 1;
}

/* math.randomseed(x): reseeds the caller's stream from x (deterministic);
 * without an argument it does nothing (the stream is already seeded from
 * the run seed, which is what --seed is for). */
static int l_randomseed(lua_State *L) {
  if (lua_gettop(L) >= 1) {
    lua_Integer x = luaL_checkinteger(L, 1);
    dsim_rng_seed(current_rng(L), (uint64_t)x);
  }
  return 0;
}

/* ---------------------------------------------------------------- os */

static int l_os_time(lua_State *L) {
  if (!lua_isnoneornil(L, 1))
    return luaL_error(L, "os.time: dates are not available in scenarios; os.time() returns the "
                         "virtual time in whole seconds");
  lua_pushinteger(L, dsim_world_now(dsim_lua_from(L)->world) / DSIM_NS_PER_SEC);
  return 1;
}

static int l_os_clock(lua_State *L) {
  lua_pushnumber(L, (double)dsim_world_now(dsim_lua_from(L)->world) / 1e9);
  return 1;
}

static int l_os_difftime(lua_State *L) {
  lua_pushnumber(L, luaL_checknumber(L, 1) - luaL_optnumber(L, 2, 0));
  return 1;
}

/* ---------------------------------------------------------------- load, require */

static int l_load(lua_State *L) {
  /* load(chunk, name, mode, env): text chunks only. */
  int n = lua_gettop(L);
  if (n >= 3 && !lua_isnil(L, 3)) {
    const char *mode = luaL_checkstring(L, 3);
    if (strchr(mode, 'b')) return luaL_error(L, "load: binary chunks are not allowed in scenarios");
  }
  lua_settop(L, n < 4 ? 4 : n);
  lua_pushstring(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static int l_setmetatable(lua_State *L) {
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "__gc");
    bool has_gc = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (has_gc)
      return luaL_error(L, "setmetatable: __gc finalizers are not supported in scenarios (they "
                           "would run at points the scenario does not control)");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static char *find_module(DsimLua *rt, const char *name, GString *tried) {
  char *rel = g_strdelimit(g_strdup(name), ".", G_DIR_SEPARATOR);
  char *file = g_strconcat(rel, ".lua", NULL);
  g_free(rel);
  char *found = NULL;
  for (guint i = 0; i <= rt->lib_dirs->len && !found; i++) {
    const char *dir = i == 0 ? rt->scenario_dir : g_ptr_array_index(rt->lib_dirs, i - 1);
    if (!dir) continue;
    char *path = g_build_filename(dir, file, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      found = path;
    else {
      g_string_append_printf(tried, "\n\tno file '%s'", path);
      g_free(path);
    }
  }
  g_free(file);
  return found;
}

static int l_require(lua_State *L) {
  DsimLua *rt = dsim_lua_from(L);
  const char *name = luaL_checkstring(L, 1);
  for (const char *c = name; *c; c++)
    if (!g_ascii_isalnum(*c) && *c != '_' && *c != '.' && *c != '-')
      return luaL_error(L, "require: bad module name '%s'", name);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_loaded);
  if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  GString *tried = g_string_new(NULL);
  char *path = find_module(rt, name, tried);
  if (!path) {
    lua_pushfstring(L, "module '%s' not found:%s", name, tried->str);
    g_string_free(tried, TRUE);
    return lua_error(L);
  }
  g_string_free(tried, TRUE);
  int st = luaL_loadfilex(L, path, "t");
  g_free(path);
  if (st != LUA_OK) return lua_error(L);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, name);
  return 1;
}

/* ---------------------------------------------------------------- setup */

static void wrap_with_original(lua_State *L, int table, const char *name, lua_CFunction f) {
  lua_getfield(L, table, name);
  lua_pushcclosure(L, f, 1);
  lua_setfield(L, table, name);
}

void dsim_lua_open_sandbox(DsimLua *rt) {
  lua_State *L = rt->L;
  static const luaL_Reg libs[] = {
      {LUA_GNAME, luaopen_base},         {LUA_TABLIBNAME, luaopen_table},
      {LUA_STRLIBNAME, luaopen_string},  {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},   {LUA_COLIBNAME, luaopen_coroutine},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(libs); i++) {
    luaL_requiref(L, libs[i].name, libs[i].func, 1);
    lua_pop(L, 1);
  }
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  static const char *const removed[] = {"dofile", "loadfile", "collectgarbage"};
  for (size_t i = 0; i < G_N_ELEMENTS(removed); i++) {
    lua_pushnil(L);
    lua_setfield(L, g, removed[i]);
  }
  static const luaL_Reg base[] = {
      {"pairs", l_pairs}, {"next", l_next}, {"tostring", l_tostring},
      {"print", l_print}, {"require", l_require}, {NULL, NULL},
  };
  luaL_setfuncs(L, base, 0);
  wrap_with_original(L, g, "load", l_load);
  wrap_with_original(L, g, "setmetatable", l_setmetatable);

  lua_getglobal(L, "string");
  wrap_with_original(L, lua_gettop(L), "format", l_format);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  lua_getglobal(L, "math");
  lua_pushcfunction(L, l_random);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, l_randomseed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);

  static const luaL_Reg os[] = {
      {"time", l_os_time}, {"clock", l_os_clock}, {"difftime", l_os_difftime}, {NULL, NULL}};
  luaL_newlib(L, os);
  lua_setfield(L, g, "os");
  lua_pop(L, 1);
}
