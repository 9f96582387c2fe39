/* runtime.h — the Lua scenario runtime: runs a scenario file in a sandboxed,
 * deterministic Lua 5.4 state attached to a world, with processes as
 * coroutines over the blocking channel API (sim.*, channel.*, net.*).
 *
 * What the sandbox guarantees (docs/lua-api.md has the user-facing version):
 *  - only base, table, string, math, utf8 and coroutine are open; no io, no
 *    os beyond virtual os.time/os.clock, no debug, no binary chunks; require
 *    loads text modules from the scenario's directory and the library paths;
 *  - math.random/sim.random draw from the calling process's own stream (the
 *    scenario stream outside processes);
 *  - pairs/next iterate in a fixed order (numbers ascending, then strings
 *    bytewise, then booleans), whatever Lua's per-process hash seed is;
 *  - tostring/print/string.format never show addresses;
 *  - a process that runs too many instructions without blocking, or a state
 *    that uses too much memory, is a scenario error, not a hang.
 *
 * Ownership: the runtime is attached to its world (DSIM_SLOT_LUA) and freed
 * with it. */
#ifndef DSIM_LUA_RUNTIME_H
#define DSIM_LUA_RUNTIME_H

#include "dsim/sim.h"

G_BEGIN_DECLS

#define DSIM_LUA_ERROR (dsim_lua_error_quark())
GQuark dsim_lua_error_quark(void);
typedef enum {
  DSIM_LUA_ERROR_LOAD,    /* file missing, syntax error */
  DSIM_LUA_ERROR_RUNTIME, /* an error raised while running scenario code */
} DsimLuaError;

typedef struct DsimLua DsimLua;

typedef struct {
  /* Instructions a process (or a scenario callback) may run between two
   * blocking calls before it is stopped as a runaway; 0: the default
   * (100 million). */
  uint64_t max_steps;
  /* Bytes the Lua state may allocate; 0: the default (4 GiB). */
  size_t max_memory;
  /* Extra directories for require (searched after the scenario's own). */
  const char *const *lib_dirs;
  /* print() writes to stdout too (it always writes a log event). */
  bool echo_print;
  /* Scenario parameters for sim.param: "NAME=VALUE" strings, NULL-terminated
   * (may be NULL). Copied. */
  const char *const *params;
} DsimLuaOptions;

/* Creates the runtime on `world` (which must not have one yet). Cannot fail
 * except for memory exhaustion, which aborts. */
DsimLua *dsim_lua_new(DsimWorld *world, const DsimLuaOptions *options);

/* Loads and runs the scenario's top level (which usually spawns processes and
 * configures the network; nothing runs in virtual time yet). Fails with
 * DSIM_LUA_ERROR_LOAD for a missing file or a syntax error and with
 * DSIM_LUA_ERROR_RUNTIME for an error raised by the top level; the message
 * starts with file:line. */
gboolean dsim_lua_run_file(DsimLua *rt, const char *path, GError **error);

/* Same, for a chunk held in memory (tests); `name` is used in messages. */
gboolean dsim_lua_run_string(DsimLua *rt, const char *code, const char *name, GError **error);

/* Checks that every subgroup the scenario named in net.* calls or a nemesis
 * was joined by some process during the run (a name never joined is a
 * typo: the error names it and where it was first used), then runs the
 * sim.finally functions in registration order. Stops at the first error,
 * which also fails the world. */
gboolean dsim_lua_run_finally(DsimLua *rt, GError **error);

/* The Lua state (tests use it to inspect globals). */
struct lua_State *dsim_lua_state(DsimLua *rt);

G_END_DECLS

#endif
