/* lnet.c — the `net` table: the network model and its faults.
 *
 *   net.configure{ delay=, loss=, duplicate=, copies=, corrupt=, corrupt_bits=,
 *                  ordering=, bandwidth=, max_size= }
 *   net.link(from, to, { same fields })      -> rule id
 *   net.unlink(id)
 *   net.partition(a, b [, {oneway=true}])   -> id     net.heal([id])
 *   net.down(a, b [, {oneway=true}])        -> id     net.up([id])
 *   net.hold(a, b [, {oneway=true}])        -> id     net.release([id])
 *   net.rule{ from=, to=, name=, match=fn, action=fn } -> id   net.unrule(id)
 *   net.stats()                             -> table of counters
 *
 * A delay is a duration (constant) or a table naming a distribution with
 * its parameters and an optional minimum: {"normal", "50ms", "10ms",
 * min = "5ms"}. A set of processes (from, to, a, b) is a pid, a subgroup
 * name, or a list of those. Every argument is checked before anything
 * changes; errors name the function and the field. A subgroup named here
 * must be joined by some process during the run: the names are recorded
 * with the place they were first used and checked when the run ends
 * (dsim_lua_check_names), since at the top level of a scenario no process
 * has joined anything yet. */
#include "lua_internal.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- delays */

typedef struct {
  const char *name;
  DsimDelayKind kind;
  int nparams;
  bool last_is_number; /* sigma, alpha: plain numbers, not durations */
  const char *params;  /* for messages */
  const char *pnames[2];
} DelayForm;

static const DelayForm delay_forms[] = {
    {"constant", DSIM_DELAY_CONSTANT, 1, false, "delay", {"delay", NULL}},
    {"uniform", DSIM_DELAY_UNIFORM, 2, false, "min, max", {"min", "max"}},
    {"normal", DSIM_DELAY_NORMAL, 2, false, "mean, sd", {"mean", "sd"}},
    {"exponential", DSIM_DELAY_EXPONENTIAL, 1, false, "mean", {"mean", NULL}},
    {"lognormal", DSIM_DELAY_LOGNORMAL, 2, true, "median, sigma", {"median", "sigma"}},
    {"pareto", DSIM_DELAY_PARETO, 2, true, "scale, alpha", {"scale", "alpha"}},
};

void dsim_lua_checkdelay(lua_State *L, int idx, const char *fn, DsimDelay *d) {
  idx = lua_absindex(L, idx);
  memset(d, 0, sizeof *d);
  if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TSTRING) {
    d->kind = DSIM_DELAY_CONSTANT;
    d->a = d->b = dsim_lua_checktime(L, idx, lua_pushfstring(L, "%s: delay", fn));
    lua_pop(L, 1);
    return;
  }
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: delay must be a duration or a table such as {\"uniform\", \"1ms\", \"5ms\"} "
                  "(got %s)", fn, luaL_typename(L, idx));
  int top = lua_gettop(L);
  lua_rawgeti(L, idx, 1);
  const char *kind = lua_tostring(L, -1);
  if (!kind || lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "%s: delay table must start with a distribution name", fn);
  const DelayForm *form = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(delay_forms); i++)
    if (strcmp(kind, delay_forms[i].name) == 0) form = &delay_forms[i];
  if (!form)
    luaL_error(L, "%s: unknown delay distribution '%s' (known: constant, uniform, normal, exponential, "
                  "lognormal, pareto)", fn, kind);
  d->kind = form->kind;
  /* Only the name, the parameters and `min` may be there. */
  dsim_lua_sorted_keys(L, idx, fn);
  lua_Integer nkeys = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= nkeys; i++) {
    lua_rawgeti(L, -1, i);
    bool ok = (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= form->nparams + 1) ||
              (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "min") == 0);
    if (!ok)
      luaL_error(L, "%s: delay {\"%s\", %s} has an unexpected entry '%s' (only min = ... may follow the "
                    "parameters)", fn, kind, form->params, dsim_lua_tostring(L, -1, NULL));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  for (int p = 1; p <= form->nparams; p++) {
    lua_rawgeti(L, idx, p + 1);
    const char *pname = form->pnames[p - 1];
    if (lua_isnil(L, -1))
      luaL_error(L, "%s: delay {\"%s\", %s} is missing its %s", fn, kind, form->params, pname);
    if (p == form->nparams && form->last_is_number) {
      int isnum;
      lua_Number v = lua_tonumberx(L, -1, &isnum);
      if (!isnum || !isfinite(v))
        luaL_error(L, "%s: delay %s %s must be a number (got %s)", fn, kind, pname, luaL_typename(L, -1));
      d->shape = v;
    } else {
      int vi = lua_gettop(L);
      DsimTime t = dsim_lua_checktime(L, vi, lua_pushfstring(L, "%s: delay %s %s", fn, kind, pname));
      lua_pop(L, 1);
      if (p == 1)
        d->a = t;
      else
        d->b = t;
    }
    lua_pop(L, 1);
  }
  if (d->kind == DSIM_DELAY_CONSTANT) d->b = d->a;
  if (lua_getfield(L, idx, "min") != LUA_TNIL) {
    int vi = lua_gettop(L);
    d->min = dsim_lua_checktime(L, vi, lua_pushfstring(L, "%s: delay min", fn));
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  GError *e = NULL;
  if (!dsim_delay_validate(d, &e)) dsim_lua_raise_in(L, fn, e);
}

/* ---------------------------------------------------------------- fields */

double dsim_lua_checkprob(lua_State *L, int idx, const char *fn, const char *field) {
  int isnum;
  lua_Number p = lua_tonumberx(L, idx, &isnum);
  if (!isnum) luaL_error(L, "%s: %s must be a number (got %s)", fn, field, luaL_typename(L, idx));
  if (!(p >= 0 && p <= 1))
    luaL_error(L, "%s: %s must be a probability between 0 and 1 (got %f)", fn, field, (double)p);
  return p;
}

static lua_Integer check_count(lua_State *L, int idx, const char *fn, const char *field, lua_Integer lo,
                               lua_Integer hi) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint || v < lo || v > hi)
    luaL_error(L, "%s: %s must be an integer between %I and %I (got %s)", fn, field, lo, hi,
               dsim_lua_tostring(L, idx, NULL));
  return v;
}

/* A bandwidth: bytes per second as a number, or a string with a unit
 * ("10Mbps", "1.5MB/s"). */
static uint64_t check_bandwidth(lua_State *L, int idx, const char *fn) {
  static const struct {
    const char *unit;
    double bytes;
  } units[] = {{"B/s", 1},     {"kB/s", 1e3},     {"MB/s", 1e6},     {"GB/s", 1e9},
               {"bps", 1 / 8.0}, {"kbps", 1e3 / 8}, {"Mbps", 1e6 / 8}, {"Gbps", 1e9 / 8}};
  double v;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    v = lua_tonumber(L, idx);
  } else if (lua_type(L, idx) == LUA_TSTRING) {
    const char *s = lua_tostring(L, idx);
    char *end;
    v = g_ascii_strtod(s, &end);
    if (end == s) goto bad;
    while (*end == ' ') end++;
    size_t i;
    for (i = 0; i < G_N_ELEMENTS(units); i++)
      if (strcmp(end, units[i].unit) == 0) break;
    if (i == G_N_ELEMENTS(units)) goto bad;
    v *= units[i].bytes;
  } else {
    goto bad;
  }
  if (!(v >= 0 && v < 1e18)) goto bad;
  if (v > 0 && v < 1) v = 1;
  return (uint64_t)llround(v);
bad:
  luaL_error(L, "%s: bandwidth must be bytes per second (a number >= 0, 0 for unlimited) or a string "
                "such as \"10Mbps\" or \"1MB/s\" (got %s)", fn, dsim_lua_tostring(L, idx, NULL));
  return 0;
}

static const char KNOWN_FIELDS[] = "delay, loss, duplicate, copies, corrupt, corrupt_bits, ordering, "
                                   "bandwidth, max_size";

/* Reads a config table; starts from *cfg, sets cfg->fields for what it saw. */
static void parse_config(lua_State *L, int idx, const char *fn, DsimLinkConfig *cfg) {
  luaL_checktype(L, idx, LUA_TTABLE);
  idx = lua_absindex(L, idx);
  /* Walk the fields in the fixed key order so that the first bad field
   * reported is the same in every run. */
  dsim_lua_sorted_keys(L, idx, fn);
  int keys = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
  cfg->fields = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, keys, i);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    lua_pushvalue(L, -1);
    lua_rawget(L, idx);
    if (strcmp(k, "delay") == 0) {
      dsim_lua_checkdelay(L, -1, fn, &cfg->delay);
      cfg->fields |= DSIM_LINK_DELAY;
    } else if (strcmp(k, "loss") == 0) {
      cfg->loss = dsim_lua_checkprob(L, -1, fn, "loss");
      cfg->fields |= DSIM_LINK_LOSS;
    } else if (strcmp(k, "duplicate") == 0) {
      cfg->duplicate = dsim_lua_checkprob(L, -1, fn, "duplicate");
      cfg->fields |= DSIM_LINK_DUPLICATE;
    } else if (strcmp(k, "copies") == 0) {
      cfg->copies = (uint32_t)check_count(L, -1, fn, "copies", 1, 64);
      cfg->fields |= DSIM_LINK_COPIES;
    } else if (strcmp(k, "corrupt") == 0) {
      cfg->corrupt = dsim_lua_checkprob(L, -1, fn, "corrupt");
      cfg->fields |= DSIM_LINK_CORRUPT;
    } else if (strcmp(k, "corrupt_bits") == 0) {
      cfg->corrupt_bits = (uint32_t)check_count(L, -1, fn, "corrupt_bits", 1, 64);
      cfg->fields |= DSIM_LINK_CORRUPT_BITS;
    } else if (strcmp(k, "ordering") == 0) {
      const char *o = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
      if (strcmp(o, "fifo") == 0)
        cfg->ordering = DSIM_ORDER_FIFO;
      else if (strcmp(o, "datagram") == 0)
        cfg->ordering = DSIM_ORDER_DATAGRAM;
      else
        luaL_error(L, "%s: ordering must be \"datagram\" or \"fifo\" (got %s)", fn,
                   dsim_lua_tostring(L, -1, NULL));
      cfg->fields |= DSIM_LINK_ORDERING;
    } else if (strcmp(k, "bandwidth") == 0) {
      cfg->bandwidth = check_bandwidth(L, -1, fn);
      cfg->fields |= DSIM_LINK_BANDWIDTH;
    } else if (strcmp(k, "max_size") == 0) {
      cfg->max_size = (uint32_t)check_count(L, -1, fn, "max_size (bytes, 0 for no limit)", 0, UINT32_MAX);
      cfg->fields |= DSIM_LINK_MAX_SIZE;
    } else {
      luaL_error(L, "%s: unknown field '%s' (known: %s)", fn, dsim_lua_tostring(L, -2, NULL), KNOWN_FIELDS);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

static DsimNet *net_of(lua_State *L) {
  return dsim_net_get(dsim_lua_from(L)->world);
}

static int l_configure(lua_State *L) {
  DsimNet *net = net_of(L);
  DsimLinkConfig cfg = *dsim_net_defaults(net);
  parse_config(L, 1, "net.configure", &cfg);
  GError *e = NULL;
  if (!dsim_net_set_defaults(net, &cfg, &e)) dsim_lua_raise(L, e);
  return 0;
}

/* ---------------------------------------------------------------- sets */

/* Records that `group` was named at the caller's file:line (the first use
 * is kept), for the end-of-run check. */
static void note_group(lua_State *L, const char *group, const char *what) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_groups);
  if (lua_getfield(L, -1, group) == LUA_TNIL) {
    char where[256];
    dsim_lua_where(L, where, sizeof where);
    lua_pushfstring(L, "%s%s%s", where, where[0] ? ": " : "", what);
    lua_setfield(L, -3, group);
  }
  lua_pop(L, 2);
}

static void check_selector_pid(lua_State *L, int idx, const char *what, DsimSelector *s) {
  s->group = NULL;
  s->pid = dsim_lua_checkpid(L, idx, what);
  if (!dsim_proc_exists(dsim_lua_from(L)->world, s->pid))
    luaL_error(L, "%s: pid %d does not exist", what, (int)s->pid);
}

DsimSelector *dsim_lua_checkselectors(lua_State *L, int idx, const char *what, size_t *n) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t == LUA_TNUMBER || t == LUA_TSTRING) {
    DsimSelector *s = lua_newuserdatauv(L, sizeof *s, 0);
    if (t == LUA_TSTRING) {
      s->group = lua_tostring(L, idx);
      s->pid = 0;
      note_group(L, s->group, what);
    } else {
      check_selector_pid(L, idx, what, s);
    }
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
      note_group(L, s[i - 1].group, what);
    } else {
      check_selector_pid(L, -1, what, &s[i - 1]);
    }
    lua_pop(L, 1);
  }
  *n = (size_t)len;
  return s;
}

gboolean dsim_lua_check_names(DsimLua *rt, GError **error) {
  lua_State *L = rt->L;
  DsimNet *net = dsim_net_get(rt->world);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_groups);
  dsim_lua_sorted_keys(L, -1, "subgroups");
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  gboolean ok = TRUE;
  for (lua_Integer i = 1; i <= n && ok; i++) {
    lua_rawgeti(L, -1, i);
    const char *name = lua_tostring(L, -1);
    if (!dsim_net_group_known(net, name)) {
      lua_pushvalue(L, -1);
      lua_rawget(L, -4);
      g_set_error(error, DSIM_LUA_ERROR, DSIM_LUA_ERROR_RUNTIME,
                  "%s names subgroup '%s', which no process joined during the run (a typo?)",
                  lua_tostring(L, -1), name);
      lua_pop(L, 1);
      ok = FALSE;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return ok;
}

/* ---------------------------------------------------------------- link rules */

static int l_link(lua_State *L) {
  DsimNet *net = net_of(L);
  lua_settop(L, 3); /* scratch values go above the arguments */
  size_t nf, nt;
  DsimSelector *from = dsim_lua_checkselectors(L, 1, "net.link: from", &nf);
  DsimSelector *to = dsim_lua_checkselectors(L, 2, "net.link: to", &nt);
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  parse_config(L, 3, "net.link", &cfg);
  /* One rule per (from, to) pair; they share the first id returned, which
   * net.unlink removes together with the others. */
  lua_createtable(L, (int)(nf * nt), 0);
  lua_Integer k = 0;
  for (size_t i = 0; i < nf; i++)
    for (size_t j = 0; j < nt; j++) {
      GError *e = NULL;
      uint32_t id = dsim_net_add_link(net, &from[i], &to[j], &cfg, DSIM_CAUSE_SCENARIO, &e);
      if (!id) dsim_lua_raise(L, e);
      lua_pushinteger(L, id);
      lua_rawseti(L, -2, ++k);
    }
  /* Remember the group of ids under the first one. */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_links);
  lua_rawgeti(L, -2, 1);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_rawgeti(L, -1, 1);
  return 1;
}

static int l_unlink(lua_State *L) {
  DsimNet *net = net_of(L);
  lua_Integer id = luaL_checkinteger(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_links);
  if (lua_rawgeti(L, -1, id) != LUA_TTABLE)
    return luaL_error(L, "net.unlink: %d is not the id of a rule made by net.link (or it was removed)", (int)id);
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    dsim_net_remove_link(net, (uint32_t)lua_tointeger(L, -1), DSIM_CAUSE_SCENARIO);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, id);
  return 0;
}

/* ---------------------------------------------------------------- topology faults */

static bool read_oneway(lua_State *L, int idx, const char *fn) {
  if (lua_isnoneornil(L, idx)) return false;
  luaL_checktype(L, idx, LUA_TTABLE);
  dsim_lua_sorted_keys(L, idx, fn);
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (!k || strcmp(k, "oneway") != 0)
      luaL_error(L, "%s: unknown option '%s' (known: oneway)", fn, dsim_lua_tostring(L, -1, NULL));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "oneway");
  bool oneway = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return oneway;
}

static int make_cut(lua_State *L, DsimCutKind kind, const char *fn) {
  DsimNet *net = net_of(L);
  lua_settop(L, 3); /* scratch values go above the arguments */
  size_t na, nb;
  char *wa = g_strdup_printf("%s: the first set", fn), *wb = g_strdup_printf("%s: the second set", fn);
  lua_pushstring(L, wa);
  lua_pushstring(L, wb);
  g_free(wa);
  g_free(wb);
  DsimSelector *a = dsim_lua_checkselectors(L, 1, lua_tostring(L, 4), &na);
  DsimSelector *b = dsim_lua_checkselectors(L, 2, lua_tostring(L, 5), &nb);
  bool oneway = read_oneway(L, 3, fn);
  lua_pushinteger(L, dsim_net_cut(net, kind, a, na, b, nb, oneway, DSIM_CAUSE_SCENARIO));
  return 1;
}

static int remove_cut(lua_State *L, DsimCutKind kind, const char *fn) {
  DsimNet *net = net_of(L);
  lua_Integer id = luaL_optinteger(L, 1, 0);
  DsimCutKind actual;
  if (id < 0 || (id > 0 && (!dsim_net_cut_kind(net, (uint32_t)id, &actual) || actual != kind)))
    return luaL_error(L, "%s: %d is not the id of a %s in force", fn, (int)id,
                      kind == DSIM_CUT_PARTITION ? "partition" : kind == DSIM_CUT_LINK_DOWN ? "link down" : "hold");
  lua_pushinteger(L, dsim_net_uncut(net, kind, (uint32_t)id, DSIM_CAUSE_SCENARIO));
  return 1;
}

static int l_partition(lua_State *L) {
  return make_cut(L, DSIM_CUT_PARTITION, "net.partition");
}

/* net.heal([id]): a partition healed twice, or never made, is harmless (the
 * textbook's heal-everything idiom), so an unknown id is not an error here,
 * only a bad one. */
static int l_heal(lua_State *L) {
  lua_Integer id = luaL_optinteger(L, 1, 0);
  if (id < 0) return luaL_error(L, "net.heal: bad partition id %d", (int)id);
  lua_pushinteger(L, dsim_net_uncut(net_of(L), DSIM_CUT_PARTITION, (uint32_t)id, DSIM_CAUSE_SCENARIO));
  return 1;
}

static int l_down(lua_State *L) {
  return make_cut(L, DSIM_CUT_LINK_DOWN, "net.down");
}
static int l_up(lua_State *L) {
  return remove_cut(L, DSIM_CUT_LINK_DOWN, "net.up");
}
static int l_hold(lua_State *L) {
  return make_cut(L, DSIM_CUT_HOLD, "net.hold");
}
static int l_release(lua_State *L) {
  return remove_cut(L, DSIM_CUT_HOLD, "net.release");
}

/* ---------------------------------------------------------------- message rules */

/* A Lua message rule: the registry holds {match = fn or nil, action = fn}
 * under `ref`. Freed by the net (destroy) without touching Lua: the
 * registry entry is released by net.unrule, or goes with the Lua state. */
typedef struct {
  DsimLua *rt;
  int ref;
  uint64_t count;
  uint32_t id;
} LRule;

static void push_message_table(lua_State *T, const DsimMessage *m) {
  lua_createtable(T, 0, 8);
  lua_pushinteger(T, dsim_message_src(m));
  lua_setfield(T, -2, "src");
  lua_pushinteger(T, dsim_message_dst(m));
  lua_setfield(T, -2, "dst");
  lua_pushinteger(T, (lua_Integer)dsim_message_id(m));
  lua_setfield(T, -2, "mid");
  lua_pushstring(T, dsim_channel_name(dsim_message_channel(m)));
  lua_setfield(T, -2, "channel");
  lua_pushinteger(T, (lua_Integer)dsim_payload_len(dsim_message_payload(m)));
  lua_setfield(T, -2, "size");
  dsim_lua_push_payload(T, dsim_message_payload(m));
  lua_setfield(T, -2, "data");
}

/* Reads what an action function returned (at the top of T). Returns
 * whether it decided; raises a Lua error on T for a bad value. */
static int parse_action(lua_State *T) {
  DsimRuleAction *a = lua_touserdata(T, 1);
  int v = 2;
  if (lua_isnil(T, v)) return 0;
  if (lua_type(T, v) == LUA_TSTRING) {
    const char *s = lua_tostring(T, v);
    if (strcmp(s, "pass") == 0) return 0;
    if (strcmp(s, "drop") == 0)
      a->drop = true;
    else if (strcmp(s, "corrupt") == 0)
      a->corrupt = true;
    else if (strcmp(s, "duplicate") == 0)
      a->duplicate = 1;
    else
      goto bad;
    lua_pushboolean(T, 1);
    return 1;
  }
  if (!lua_istable(T, v)) goto bad;
  dsim_lua_sorted_keys(T, v, "net.rule");
  lua_Integer n = (lua_Integer)lua_rawlen(T, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(T, -1, i);
    const char *k = lua_type(T, -1) == LUA_TSTRING ? lua_tostring(T, -1) : "";
    lua_pushvalue(T, -1);
    lua_rawget(T, v);
    if (strcmp(k, "drop") == 0)
      a->drop = lua_toboolean(T, -1);
    else if (strcmp(k, "corrupt") == 0)
      a->corrupt = lua_toboolean(T, -1);
    else if (strcmp(k, "duplicate") == 0)
      a->duplicate = (uint32_t)check_count(T, -1, "net.rule action", "duplicate", 0, 64);
    else if (strcmp(k, "delay") == 0)
      a->delay = dsim_lua_checktime(T, -1, "net.rule action: delay");
    else
      luaL_error(T, "net.rule action: unknown field '%s' (known: drop, delay, duplicate, corrupt)",
                 dsim_lua_tostring(T, -2, NULL));
    lua_pop(T, 2);
  }
  lua_pushboolean(T, 1);
  return 1;
bad:
  return luaL_error(T, "net.rule: the action returned %s; it must return nil or \"pass\", \"drop\", "
                       "\"corrupt\", \"duplicate\", or a table {drop=, delay=, duplicate=, corrupt=}",
                    dsim_lua_tostring(T, v, NULL));
}

static bool lrule_fn(DsimNet *net, const DsimMessage *m, void *data, DsimRuleAction *action) {
  (void)net;
  LRule *r = data;
  DsimLua *rt = r->rt;
  if (dsim_world_error(rt->world)) return false; /* the run is ending: run no more Lua */
  lua_State *T = dsim_lua_rule_thread(rt);
  lua_rawgeti(T, LUA_REGISTRYINDEX, r->ref);
  int rec = lua_gettop(T);
  push_message_table(T, m);
  int msg = lua_gettop(T);
  bool decided = false;
  if (lua_getfield(T, rec, "match") != LUA_TNIL) {
    lua_pushvalue(T, msg);
    if (!dsim_lua_call_rule(rt, 1, "a net.rule match function", NULL)) goto out;
    bool matched = lua_toboolean(T, -1);
    lua_pop(T, 1);
    if (!matched) goto out;
  } else {
    lua_pop(T, 1);
  }
  r->count++;
  lua_pushinteger(T, (lua_Integer)r->count);
  lua_setfield(T, msg, "count");
  lua_getfield(T, rec, "action");
  /* Where the action is defined, for errors about what it returned. */
  lua_Debug ar;
  lua_pushvalue(T, -1);
  lua_getinfo(T, ">S", &ar);
  char where[128];
  g_snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.linedefined);
  lua_pushvalue(T, msg);
  if (!dsim_lua_call_rule(rt, 1, "a net.rule action function", NULL)) goto out;
  /* Interpret the result in a protected call too: a bad value is a
   * scenario error with the rule's place, not a longjmp through C. */
  lua_pushcfunction(T, parse_action);
  lua_pushlightuserdata(T, action);
  lua_pushvalue(T, -3);
  if (dsim_lua_call_rule(rt, 2, "a net.rule action function", where)) {
    decided = lua_toboolean(T, -1);
    lua_pop(T, 1);
  }
  if (!decided) memset(action, 0, sizeof *action);
out:
  lua_settop(T, rec - 1);
  return decided;
}

static int l_rule(lua_State *L) {
  DsimLua *rt = dsim_lua_from(L);
  DsimNet *net = net_of(L);
  if (rt->in_rule) return luaL_error(L, "net.rule: rules cannot be added from inside a rule");
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  dsim_lua_sorted_keys(L, 1, "net.rule");
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (strcmp(k, "from") && strcmp(k, "to") && strcmp(k, "name") && strcmp(k, "match") && strcmp(k, "action"))
      luaL_error(L, "net.rule: unknown field '%s' (known: from, to, name, match, action)",
                 dsim_lua_tostring(L, -1, NULL));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  DsimSelector *from = NULL, *to = NULL;
  size_t nf = 1, nt = 1;
  lua_getfield(L, 1, "from"); /* 2 */
  lua_getfield(L, 1, "to");   /* 3 */
  if (!lua_isnil(L, 2)) from = dsim_lua_checkselectors(L, 2, "net.rule: from", &nf);
  if (!lua_isnil(L, 3)) to = dsim_lua_checkselectors(L, 3, "net.rule: to", &nt);
  if (lua_getfield(L, 1, "name") != LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
    return luaL_error(L, "net.rule: name must be a string (got %s)", luaL_typename(L, -1));
  int name_idx = lua_gettop(L);
  if (lua_getfield(L, 1, "action") != LUA_TFUNCTION)
    return luaL_error(L, "net.rule: action must be a function(msg) returning what to do (got %s)",
                      luaL_typename(L, -1));
  if (lua_getfield(L, 1, "match") != LUA_TNIL && !lua_isfunction(L, -1))
    return luaL_error(L, "net.rule: match must be a function(msg) returning true for the messages the "
                         "rule is about (got %s)", luaL_typename(L, -1));
  /* Nothing can fail from here on. One C rule per (from, to) pair; they
   * share the record, its count and the first id. */
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "match");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "action");
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  LRule *r = g_new0(LRule, 1);
  r->rt = rt;
  r->ref = ref;
  bool first = true;
  uint32_t id0 = 0;
  lua_createtable(L, (int)(nf * nt), 1);
  lua_Integer k = 0;
  for (size_t i = 0; i < nf; i++)
    for (size_t j = 0; j < nt; j++) {
      uint32_t id = dsim_net_add_rule(net, from ? &from[i] : NULL, to ? &to[j] : NULL,
                                      lua_tostring(L, name_idx), lrule_fn, r, first ? g_free : NULL);
      if (first) id0 = id;
      first = false;
      lua_pushinteger(L, id);
      lua_rawseti(L, -2, ++k);
    }
  r->id = id0;
  lua_pushinteger(L, ref);
  lua_setfield(L, -2, "ref");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_rules);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, id0);
  lua_pop(L, 2);
  lua_pushinteger(L, id0);
  return 1;
}

static int l_unrule(lua_State *L) {
  DsimLua *rt = dsim_lua_from(L);
  DsimNet *net = net_of(L);
  if (rt->in_rule) return luaL_error(L, "net.unrule: rules cannot be removed from inside a rule");
  lua_Integer id = luaL_checkinteger(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_rules);
  if (lua_rawgeti(L, -1, id) != LUA_TTABLE)
    return luaL_error(L, "net.unrule: %d is not the id of a rule made by net.rule (or it was removed)", (int)id);
  lua_getfield(L, -1, "ref");
  int ref = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  /* Remove the later pairs first: the first one owns the shared record. */
  for (lua_Integer i = (lua_Integer)lua_rawlen(L, -1); i >= 1; i--) {
    lua_rawgeti(L, -1, i);
    dsim_net_remove_rule(net, (uint32_t)lua_tointeger(L, -1));
    lua_pop(L, 1);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, ref);
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, id);
  return 0;
}

/* ---------------------------------------------------------------- stats */

static int l_stats(lua_State *L) {
  const DsimNetStats *st = dsim_net_stats(net_of(L));
  static const struct {
    const char *name;
    size_t offset;
  } fields[] = {
#define F(x) {#x, offsetof(DsimNetStats, x)}
      F(sent),           F(delivered),       F(received),          F(dropped),         F(duplicated),
      F(dropped_loss),   F(dropped_partition), F(dropped_crashed), F(dropped_overflow), F(dropped_link_down),
      F(dropped_too_big), F(dropped_rule),   F(corrupted),         F(held),            F(delayed),
#undef F
  };
  lua_createtable(L, 0, (int)G_N_ELEMENTS(fields));
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
    uint64_t v;
    memcpy(&v, (const char *)st + fields[i].offset, sizeof v);
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, fields[i].name);
  }
  return 1;
}

void dsim_lua_open_net(lua_State *L) {
  static const luaL_Reg lib[] = {
      {"configure", l_configure}, {"link", l_link},       {"unlink", l_unlink}, {"partition", l_partition},
      {"heal", l_heal},           {"down", l_down},       {"up", l_up},         {"hold", l_hold},
      {"release", l_release},     {"rule", l_rule},       {"unrule", l_unrule}, {"stats", l_stats},
      {NULL, NULL}};
  luaL_newlib(L, lib);
  lua_setglobal(L, "net");
}
