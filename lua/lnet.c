/* lnet.c — the `net` table: network configuration, per-link rules,
 * partitions.
 *
 *   net.configure{ delay = ..., loss = p, duplicate = p }
 *   net.link(from, to, { delay = ..., loss = p, duplicate = p })
 *   net.partition(a, b [, { oneway = true }]) -> id
 *   net.heal([id]) -> number healed
 *
 * A delay is a duration (constant) or a table naming a distribution:
 * {"constant", d} or {"uniform", min, max}. A set of processes (from, to,
 * a, b) is a pid, a subgroup name, or a list of those. Unknown fields and
 * out-of-range values are errors that name the field. */
#include "lua_internal.h"

#include <string.h>

static void parse_delay(lua_State *L, int idx, const char *fn, DsimDelay *d) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TSTRING) {
    d->kind = DSIM_DELAY_CONSTANT;
    d->a = d->b = dsim_lua_checktime(L, idx, lua_pushfstring(L, "%s: delay", fn));
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: delay must be a duration or a table such as {\"uniform\", \"1ms\", \"5ms\"} "
                  "(got %s)", fn, luaL_typename(L, idx));
  lua_rawgeti(L, idx, 1);
  const char *kind = lua_tostring(L, -1);
  if (!kind) luaL_error(L, "%s: delay table must start with a distribution name", fn);
  const char *what = lua_pushfstring(L, "%s: delay %s parameter", fn, kind);
  int what_idx = lua_gettop(L);
  if (strcmp(kind, "constant") == 0) {
    lua_rawgeti(L, idx, 2);
    d->kind = DSIM_DELAY_CONSTANT;
    d->a = d->b = dsim_lua_checktime(L, -1, what);
    lua_pop(L, 1);
  } else if (strcmp(kind, "uniform") == 0) {
    lua_rawgeti(L, idx, 2);
    lua_rawgeti(L, idx, 3);
    d->kind = DSIM_DELAY_UNIFORM;
    d->a = dsim_lua_checktime(L, -2, what);
    d->b = dsim_lua_checktime(L, -1, what);
    if (d->b < d->a) luaL_error(L, "%s: uniform delay needs min <= max", fn);
    lua_pop(L, 2);
  } else {
    luaL_error(L, "%s: unknown delay distribution '%s' (known: constant, uniform)", fn, kind);
  }
  lua_settop(L, what_idx - 2);
}

static double check_probability(lua_State *L, int idx, const char *fn, const char *field) {
  int isnum;
  lua_Number p = lua_tonumberx(L, idx, &isnum);
  if (!isnum) luaL_error(L, "%s: %s must be a number (got %s)", fn, field, luaL_typename(L, idx));
  if (!(p >= 0 && p <= 1))
    luaL_error(L, "%s: %s must be a probability between 0 and 1 (got %f)", fn, field, (double)p);
  return p;
}

/* Reads a config table; starts from *cfg, sets cfg->fields for what it saw. */
static void parse_config(lua_State *L, int idx, const char *fn, DsimLinkConfig *cfg) {
  luaL_checktype(L, idx, LUA_TTABLE);
  idx = lua_absindex(L, idx);
  /* Walk the fields in the fixed key order so that the first unknown field
   * reported is the same in every run. */
  dsim_lua_sorted_keys(L, idx, fn);
  int keys = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
  cfg->fields = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, keys, i);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pushvalue(L, -1);
    lua_rawget(L, idx);
    if (k && strcmp(k, "delay") == 0) {
      parse_delay(L, -1, fn, &cfg->delay);
      cfg->fields |= DSIM_LINK_DELAY;
    } else if (k && strcmp(k, "loss") == 0) {
      cfg->loss = check_probability(L, -1, fn, "loss");
      cfg->fields |= DSIM_LINK_LOSS;
    } else if (k && strcmp(k, "duplicate") == 0) {
      cfg->duplicate = check_probability(L, -1, fn, "duplicate");
      cfg->fields |= DSIM_LINK_DUPLICATE;
    } else {
      luaL_error(L, "%s: unknown field '%s' (known: delay, loss, duplicate)", fn,
                 dsim_lua_tostring(L, -2, NULL));
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

static int l_configure(lua_State *L) {
  DsimNet *net = dsim_net_get(dsim_lua_from(L)->world);
  DsimLinkConfig cfg = *dsim_net_defaults(net);
  parse_config(L, 1, "net.configure", &cfg);
  GError *e = NULL;
  if (!dsim_net_set_defaults(net, &cfg, &e)) dsim_lua_raise(L, e);
  return 0;
}

/* Reads a set of processes (pid, subgroup name, or a list of those) into a
 * userdata array of selectors whose group names point into Lua strings kept
 * on the stack by the caller's arguments. */
static DsimSelector *read_selectors(lua_State *L, int idx, const char *what, size_t *n) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t == LUA_TNUMBER || t == LUA_TSTRING) {
    DsimSelector *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->group = t == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
    s->pid = t == LUA_TNUMBER ? dsim_lua_checkpid(L, idx, what) : 0;
    *n = 1;
    return s;
  }
  if (t != LUA_TTABLE)
    luaL_error(L, "%s must be a pid, a subgroup name or a list of those (got %s)", what,
               luaL_typename(L, idx));
  lua_Integer len = luaL_len(L, idx);
  if (len == 0) luaL_error(L, "%s is an empty list", what);
  DsimSelector *s = lua_newuserdatauv(L, (size_t)len * sizeof *s, 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, idx, i);
    if (lua_type(L, -1) == LUA_TSTRING) {
      s[i - 1].group = lua_tostring(L, -1); /* the list keeps the string alive */
      s[i - 1].pid = 0;
    } else {
      s[i - 1].group = NULL;
      s[i - 1].pid = dsim_lua_checkpid(L, -1, what);
    }
    lua_pop(L, 1);
  }
  *n = (size_t)len;
  return s;
}

static int l_link(lua_State *L) {
  DsimNet *net = dsim_net_get(dsim_lua_from(L)->world);
  lua_settop(L, 3); /* scratch values go above the arguments */
  size_t nf, nt;
  DsimSelector *from = read_selectors(L, 1, "net.link: from", &nf);
  DsimSelector *to = read_selectors(L, 2, "net.link: to", &nt);
  DsimLinkConfig cfg = *dsim_net_defaults(net);
  parse_config(L, 3, "net.link", &cfg);
  for (size_t i = 0; i < nf; i++)
    for (size_t j = 0; j < nt; j++) {
      GError *e = NULL;
      if (!dsim_net_set_link(net, &from[i], &to[j], &cfg, &e)) dsim_lua_raise(L, e);
    }
  return 0;
}

static int l_partition(lua_State *L) {
  DsimNet *net = dsim_net_get(dsim_lua_from(L)->world);
  lua_settop(L, 3); /* scratch values go above the arguments */
  size_t na, nb;
  DsimSelector *a = read_selectors(L, 1, "net.partition: the first set", &na);
  DsimSelector *b = read_selectors(L, 2, "net.partition: the second set", &nb);
  bool oneway = false;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    dsim_lua_sorted_keys(L, 3, "net.partition");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *k = lua_tostring(L, -1);
      if (!k || strcmp(k, "oneway") != 0)
        luaL_error(L, "net.partition: unknown option '%s' (known: oneway)", dsim_lua_tostring(L, -1, NULL));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, 3, "oneway");
    oneway = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  lua_pushinteger(L, dsim_net_partition(net, a, na, b, nb, oneway));
  return 1;
}

static int l_heal(lua_State *L) {
  DsimNet *net = dsim_net_get(dsim_lua_from(L)->world);
  lua_Integer id = luaL_optinteger(L, 1, 0);
  if (id < 0) return luaL_error(L, "net.heal: bad partition id %d", (int)id);
  lua_pushinteger(L, dsim_net_heal(net, (uint32_t)id));
  return 1;
}

void dsim_lua_open_net(lua_State *L) {
  static const luaL_Reg lib[] = {
      {"configure", l_configure}, {"link", l_link}, {"partition", l_partition}, {"heal", l_heal}, {NULL, NULL}};
  luaL_newlib(L, lib);
  lua_setglobal(L, "net");
}
