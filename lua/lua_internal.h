/* lua_internal.h — shared between the files of lua/: the runtime struct,
 * per-process records and the helpers the bindings use. */
#ifndef DSIM_LUA_INTERNAL_H
#define DSIM_LUA_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "dsim/channel.h"
#include "runtime.h"

/* Instructions between two calls of the runaway hook. */
#define DSIM_LUA_HOOK_STEP 100000

typedef struct DsimLuaProc DsimLuaProc;

struct DsimLua {
  DsimWorld *world;
  lua_State *L;
  size_t mem_used, mem_limit;
  uint64_t max_hooks;  /* max_steps / DSIM_LUA_HOOK_STEP */
  uint64_t hooks;      /* hook calls since the last resume or callback */
  bool echo_print;
  bool mem_exhausted;
  /* The memory cap applies only while scenario code runs (inside a resume or
   * a protected call), so that the runtime's own unprotected pushes never
   * fail because of it. */
  bool limit_active;
  char *scenario_dir;
  GPtrArray *lib_dirs;
  GArray *finally_refs; /* int registry refs, registration order */
  GHashTable *params;   /* name -> value, from -D (lookup only) */
  DsimLuaProc *running; /* the process being resumed, or NULL */
  bool in_rule;          /* a net.rule function is running */
  lua_State *rule_thread; /* where net.rule functions run (anchored in the registry) */
  uint64_t next_object_id; /* for tostring of tables and functions */
  /* The payload made for the last string sent (holding one reference): a
   * process that sends the same bytes again, as protocols often do, shares
   * it instead of allocating a copy. Payloads are immutable. */
  DsimPayload *last_string;
};

/* A Lua process. Its spawn record (function and arguments) and its current
 * coroutine are kept in registry tables indexed by spawn_pid, which never
 * changes even if the process binds to another pid. */
struct DsimLuaProc {
  DsimLua *rt;
  lua_State *co;     /* NULL when not started, crashed or exited */
  DsimPid spawn_pid;
  bool blocking;     /* yielded from a dsim blocking call */
  bool crash_pending; /* crashed while running: abandon at the next yield */
  DsimTimerId sleep_timer;
};

/* Registry keys (addresses of these bytes are the keys). */
extern const char dsim_lua_key_spawn;   /* table: spawn_pid -> {fn, args...} */
extern const char dsim_lua_key_threads; /* table: spawn_pid -> thread */
extern const char dsim_lua_key_ids;     /* weak table: object -> id */
extern const char dsim_lua_key_channels; /* table: name -> channel userdata */
extern const char dsim_lua_key_loaded;  /* table: module name -> value */
extern const char dsim_lua_key_groups;  /* table: subgroup named by net/nemesis -> "file:line: fn" */
extern const char dsim_lua_key_links;   /* table: net.link id -> {rule ids} */
extern const char dsim_lua_key_rules;   /* table: net.rule id -> {rule ids, ref=} */

DsimLua *dsim_lua_from(lua_State *L);
static inline DsimLuaProc *dsim_lua_proc_of(lua_State *L) {
  return *(DsimLuaProc **)lua_getextraspace(L);
}

/* Raises a Lua error carrying error->message, after the file:line of the
 * calling Lua code (and frees error). */
G_NORETURN int dsim_lua_raise(lua_State *L, GError *error);
/* Same, with "fn: " before the message. */
G_NORETURN int dsim_lua_raise_in(lua_State *L, const char *fn, GError *error);

/* Reads a duration argument: seconds as a number, or a string with a unit
 * ("5ms"). Raises a clear error naming `what` otherwise. */
DsimTime dsim_lua_checktime(lua_State *L, int idx, const char *what);
/* Same, but nil/none gives `dflt`. */
DsimTime dsim_lua_opttime(lua_State *L, int idx, const char *what, DsimTime dflt);

/* Reads a pid argument (a positive integer) and returns it. */
DsimPid dsim_lua_checkpid(lua_State *L, int idx, const char *what);

/* Reads a set of pids: a single pid or a list {p1, p2, ...}. The pids are
 * appended to `out`. */
void dsim_lua_checkpids(lua_State *L, int idx, const char *what, GArray *out);

/* Reads a set of processes (pid, subgroup name, or a list of those) into a
 * userdata array of selectors pushed on the stack; group names point into
 * Lua strings held by the argument. Pids must exist; subgroups are noted
 * for dsim_lua_check_names(). Raises errors naming `what`. */
DsimSelector *dsim_lua_checkselectors(lua_State *L, int idx, const char *what, size_t *n);

/* Reads a delay (a duration or a distribution table); errors name `fn`. */
void dsim_lua_checkdelay(lua_State *L, int idx, const char *fn, DsimDelay *d);

/* Reads a probability; errors name `fn` and `field`. */
double dsim_lua_checkprob(lua_State *L, int idx, const char *fn, const char *field);

/* The caller's "file:line" (level 1), for checks; static buffer in rt. */
void dsim_lua_where(lua_State *L, char *buf, size_t size);

/* Blocks the calling process: checks that it is allowed to (a process's own
 * coroutine, yieldable), marks it blocking and yields. The caller must have
 * registered what wakes it. Returns what lua_yield returns. */
DsimLuaProc *dsim_lua_blocking_context(lua_State *L, const char *op);
int dsim_lua_block(lua_State *L, DsimLuaProc *p);

/* Calls a Lua function (on top of L with nargs) in scenario context with a
 * traceback handler; on error fails the world and returns false. */
bool dsim_lua_call_scenario(DsimLua *rt, int nargs, const char *what);

/* The thread net.rule functions run on, created on first use. */
lua_State *dsim_lua_rule_thread(DsimLua *rt);
/* Calls the function on top of the rule thread (below it nargs arguments)
 * as a rule: protected, with a traceback, in_rule set, leaving one result.
 * On error fails the world (naming `what` and the sending pid; the message
 * starts with `where` if given, for errors raised by C code that has no
 * place of its own) and returns false with nothing left on the stack. */
bool dsim_lua_call_rule(DsimLua *rt, int nargs, const char *what, const char *where);

/* Checks, when the run ends, that every subgroup named by net.* or a
 * nemesis was joined by some process. The error names the first place a
 * missing one was used. */
gboolean dsim_lua_check_names(DsimLua *rt, GError **error);

/* Process creation from sim.spawn. */
DsimPid dsim_lua_spawn(lua_State *L, int fn_idx, int nargs);

/* Values <-> payloads (serialize.c). */
extern const DsimPayloadType dsim_lua_payload_type;
DsimPayload *dsim_lua_to_payload(lua_State *L, int idx);
/* Pushes the value a payload holds; on malformed bytes pushes the raw bytes
 * as a string and returns false. */
bool dsim_lua_push_payload(lua_State *L, const DsimPayload *p);
/* Pushes a received message's sender and value, and `true` if the network
 * corrupted it, exempt from the memory cap (so it cannot raise while the
 * caller still owns the message). Returns how many values it pushed (2 or
 * 3). */
int dsim_lua_push_message(lua_State *L, const DsimMessage *m);
/* Values <-> bytes for stable storage: every value (strings too) in the
 * tagged encoding. */
DsimPayload *dsim_lua_encode_value(lua_State *L, int idx);
bool dsim_lua_push_encoded(lua_State *L, const void *data, size_t len);
/* Total order used by pairs, next and serialisation; returns <0, 0, >0.
 * Both values must be of an orderable type (see dsim_lua_key_orderable). */
int dsim_lua_key_compare(lua_State *L, int a, int b);
bool dsim_lua_key_orderable(lua_State *L, int idx);
/* Pushes a table {k1, k2, ...} of t's keys in the deterministic order;
 * raises an error naming `op` if a key cannot be ordered. */
void dsim_lua_sorted_keys(lua_State *L, int t, const char *op);

/* The deterministic tostring: pushes the string. */
const char *dsim_lua_tostring(lua_State *L, int idx, size_t *len);

/* Library openers. */
void dsim_lua_open_sandbox(DsimLua *rt);
void dsim_lua_open_sim(lua_State *L);
void dsim_lua_open_channel(lua_State *L);
void dsim_lua_open_net(lua_State *L);
void dsim_lua_open_faults(lua_State *L);

#endif
