/* lchannel.c — the `channel` table and channel objects, with the textbook's
 * operation names: join, bind, subgroup, sendTo, sendToAll, recvFromAny,
 * recvFrom.
 *
 * channel.new(name) returns the same userdata for the same name (the default
 * channel when name is nil), so every process that opens "the" channel shares
 * it, as with the textbook's Redis-backed Channel(). */
#include "lua_internal.h"

static const char LCHANNEL_MT[] = "dsim.channel";

typedef struct {
  DsimChannel *ch; /* owned by the world's net */
} LChannel;

static DsimChannel *check_channel(lua_State *L) {
  return ((LChannel *)luaL_checkudata(L, 1, LCHANNEL_MT))->ch;
}

static int l_new(lua_State *L) {
  const char *name = luaL_optstring(L, 1, "default");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &dsim_lua_key_channels);
  if (lua_getfield(L, -1, name) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  LChannel *c = lua_newuserdatauv(L, sizeof *c, 0);
  c->ch = dsim_channel_open(dsim_lua_from(L)->world, name);
  luaL_setmetatable(L, LCHANNEL_MT);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, name);
  return 1;
}

static int l_join(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  const char *group = luaL_optstring(L, 2, "");
  DsimPid pid;
  GError *e = NULL;
  if (!dsim_channel_join(ch, group, &pid, &e)) dsim_lua_raise(L, e);
  lua_pushinteger(L, pid);
  return 1;
}

static int l_bind(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  DsimPid pid = dsim_lua_checkpid(L, 2, "bind: the pid");
  GError *e = NULL;
  if (!dsim_channel_bind(ch, pid, &e)) dsim_lua_raise(L, e);
  lua_pushinteger(L, pid);
  return 1;
}

static int l_subgroup(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  const char *name = luaL_checkstring(L, 2);
  size_t n;
  const DsimPid *pids = dsim_channel_subgroup(ch, name, &n);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, pids[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* Reads a pid or a list of pids. Small sets go into `local` (a caller's
 * stack array of LOCAL_PIDS entries: an error raised halfway just abandons
 * it); larger ones into a Lua userdata pushed on the stack, which the
 * collector frees whatever happens. */
#define LOCAL_PIDS 32

static DsimPid *read_pids(lua_State *L, int idx, const char *what, DsimPid *local, size_t *n) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    local[0] = dsim_lua_checkpid(L, idx, what);
    *n = 1;
    return local;
  }
  if (!lua_istable(L, idx))
    luaL_error(L, "%s must be a pid or a list of pids (got %s)", what, luaL_typename(L, idx));
  lua_Integer len = luaL_len(L, idx);
  DsimPid *pids = len <= LOCAL_PIDS ? local : lua_newuserdatauv(L, (size_t)len * sizeof(DsimPid), 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, idx, i);
    pids[i - 1] = dsim_lua_checkpid(L, -1, what);
    lua_pop(L, 1);
  }
  *n = (size_t)len;
  return pids;
}

/* A rule decides the fate of a message being sent; sending from inside it
 * would re-enter the send path. */
static void check_not_in_rule(lua_State *L, const char *op) {
  if (dsim_lua_from(L)->in_rule)
    luaL_error(L, "%s cannot be called from a net.rule function (a rule only decides what happens to "
                  "a message)", op);
}

static int l_send_to(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  check_not_in_rule(L, "sendTo");
  luaL_checkany(L, 3);
  lua_settop(L, 3); /* scratch values go above the arguments */
  size_t n;
  DsimPid local[LOCAL_PIDS];
  DsimPid *dsts = read_pids(L, 2, "sendTo: the destinations", local, &n);
  DsimPayload *p = dsim_lua_to_payload(L, 3); /* may raise: nothing held yet */
  GError *e = NULL;
  gboolean ok = dsim_channel_send_to(ch, dsts, n, p, &e);
  dsim_payload_unref(p);
  if (!ok) dsim_lua_raise(L, e);
  return 0;
}

static int l_send_to_all(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  check_not_in_rule(L, "sendToAll");
  luaL_checkany(L, 2);
  DsimPayload *p = dsim_lua_to_payload(L, 2);
  GError *e = NULL;
  gboolean ok = dsim_channel_send_to_all(ch, p, &e);
  dsim_payload_unref(p);
  if (!ok) dsim_lua_raise(L, e);
  return 0;
}

/* The common part of both receives. Returns src, message (and true if the
 * network corrupted it); or nil after the timeout. */
static int receive(lua_State *L, DsimChannel *ch, const DsimPid *senders, size_t n, int timeout_idx,
                   const char *op) {
  DsimTime timeout = dsim_lua_opttime(L, timeout_idx, n ? "recvFrom: the timeout"
                                                        : "recvFromAny: the timeout", 0);
  DsimLuaProc *p = dsim_lua_blocking_context(L, op);
  DsimMessage *m;
  GError *e = NULL;
  if (!dsim_channel_recv(ch, senders, n, &m, &e)) dsim_lua_raise(L, e);
  if (m) {
    int nres = dsim_lua_push_message(L, m);
    dsim_message_free(m);
    return nres;
  }
  if (!dsim_channel_wait(ch, senders, n, timeout, op, &e)) dsim_lua_raise(L, e);
  return dsim_lua_block(L, p);
}

static int l_recv_from_any(lua_State *L) {
  return receive(L, check_channel(L), NULL, 0, 2, "recvFromAny");
}

static int l_recv_from(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  lua_settop(L, 3); /* scratch values go above the arguments */
  size_t n;
  DsimPid local[LOCAL_PIDS];
  DsimPid *senders = read_pids(L, 2, "recvFrom: the senders", local, &n);
  if (n == 0) return luaL_error(L, "recvFrom: the set of senders is empty (use recvFromAny)");
  return receive(L, ch, senders, n, 3, "recvFrom");
}

static int l_name(lua_State *L) {
  lua_pushstring(L, dsim_channel_name(check_channel(L)));
  return 1;
}

static int l_queued(lua_State *L) {
  DsimChannel *ch = check_channel(L);
  DsimPid self = dsim_world_self(dsim_lua_from(L)->world);
  lua_pushinteger(L, self ? dsim_channel_queued(ch, self) : 0);
  return 1;
}

static int l_tostring(lua_State *L) {
  lua_pushfstring(L, "channel '%s'", dsim_channel_name(check_channel(L)));
  return 1;
}

void dsim_lua_open_channel(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"join", l_join},
      {"bind", l_bind},
      {"subgroup", l_subgroup},
      {"sendTo", l_send_to},
      {"sendToAll", l_send_to_all},
      {"recvFromAny", l_recv_from_any},
      {"recvFrom", l_recv_from},
      {"name", l_name},
      {"queued", l_queued},
      {NULL, NULL},
  };
  luaL_newmetatable(L, LCHANNEL_MT);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  static const luaL_Reg lib[] = {{"new", l_new}, {NULL, NULL}};
  luaL_newlib(L, lib);
  lua_setglobal(L, "channel");
}
