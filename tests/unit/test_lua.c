/* test_lua.c — the Lua runtime in one process: the sandbox, deterministic
 * iteration and tostring, random, messages between processes, blocking
 * rules, runaway and memory limits, error positions. Scenarios are inline
 * strings; each assertion inside Lua is a sim.check, so a test passes when
 * the run ends with no failed check and no error. */
#include <glib/gstdio.h>
#include <lua.h>
#include <string.h>

#include "runtime.h"
#include "dsim/channel.h"
#include "test_util.h"

typedef struct {
  DsimWorld *w;
  DsimLua *rt;
} Env;

static Env env_new(uint64_t seed, const DsimLuaOptions *opt) {
  DsimWorldConfig cfg = {.seed = seed, .until = DSIM_TIME_NEVER, .max_events = 10000000};
  Env e;
  e.w = dsim_world_new(&cfg);
  dsim_world_set_trace(e.w, dsim_trace_new(NULL, NULL));
  e.rt = dsim_lua_new(e.w, opt);
  return e;
}

/* Runs code as a scenario; asserts it loads, runs without error and every
 * check passes (and at least one check ran). */
static void run_ok(const char *code) {
  Env e = env_new(1, NULL);
  GError *err = NULL;
  if (!dsim_lua_run_string(e.rt, code, "test.lua", &err)) fail_msg("load: %s", err->message);
  DsimEndReason r = dsim_world_run(e.w);
  if (r == DSIM_END_ERROR) fail_msg("run: %s", dsim_world_error(e.w)->message);
  if (!dsim_lua_run_finally(e.rt, &err)) fail_msg("finally: %s", err->message);
  if (dsim_world_checks_failed(e.w)) fail_msg("%s", dsim_world_first_failure(e.w));
  assert_true(dsim_world_checks_passed(e.w) > 0);
  dsim_world_free(e.w);
}

/* Runs code and returns the error message (load or run), or NULL. */
static char *run_err(const char *code, const DsimLuaOptions *opt) {
  Env e = env_new(1, opt);
  GError *err = NULL;
  char *msg = NULL;
  if (!dsim_lua_run_string(e.rt, code, "test.lua", &err)) {
    msg = g_strdup(err->message);
    g_error_free(err);
  } else if (dsim_world_run(e.w) == DSIM_END_ERROR) {
    msg = g_strdup(dsim_world_error(e.w)->message);
  }
  dsim_world_free(e.w);
  return msg;
}

static void expect_err(const char *code, const char *needle) {
  char *m = run_err(code, NULL);
  if (!m) fail_msg("expected an error containing '%s'", needle);
  assert_contains(m, needle);
  g_free(m);
}

/* ---------------------------------------------------------------- sandbox */

static void sandbox_contents(void **state) {
  (void)state;
  run_ok("sim.check(io == nil, 'no io')\n"
         "sim.check(debug == nil, 'no debug')\n"
         "sim.check(package == nil, 'no package')\n"
         "sim.check(dofile == nil and loadfile == nil, 'no file loading')\n"
         "sim.check(collectgarbage == nil, 'no collectgarbage')\n"
         "sim.check(os.execute == nil and os.getenv == nil and os.exit == nil and os.date == nil, 'os is virtual')\n"
         "sim.check(string.dump == nil, 'no string.dump')\n"
         "sim.check(type(table.sort) == 'function' and type(utf8.char) == 'function', 'std libs')\n"
         "sim.check(type(coroutine.wrap) == 'function', 'coroutine')\n"
         "sim.check(os.time() == 0 and os.clock() == 0, 'virtual clock at start')\n"
         "sim.at(2.5, function() sim.check(os.time() == 2 and os.clock() == 2.5 and sim.now() == 2.5, 'virtual time') end)\n"
         "local f = load('return 1 + 1'); sim.check(f() == 2, 'load text')\n"
         "local ok, err = pcall(load, 'x', 'c', 'b'); sim.check(not ok and err:find('binary chunks'), 'no binary load')\n"
         "local ok2, err2 = pcall(setmetatable, {}, {__gc = function() end})\n"
         "sim.check(not ok2 and err2:find('__gc'), 'no finalizers')\n"
         "sim.check(getmetatable(setmetatable({}, {__index = {a = 1}})) ~= nil, 'setmetatable works')\n");
}

static void deterministic_pairs_and_next(void **state) {
  (void)state;
  run_ok("local t = {zeta = 1, alpha = 2, [3] = 'c', [1] = 'a', [2.5] = 'x', [-7] = 'n', [true] = 't',\n"
         "           [false] = 'f', beta = 3, [''] = 'empty', B = 4}\n"
         "local keys = {}\n"
         "for k in pairs(t) do keys[#keys + 1] = tostring(k) end\n"
         "local got = table.concat(keys, ',')\n"
         "sim.check(got == '-7,1,2.5,3,,B,alpha,beta,zeta,false,true', got)\n"
         "-- next walks the same order\n"
         "local k, n = nil, 0\n"
         "repeat k = next(t, k); n = n + 1 until k == nil\n"
         "sim.check(n == 12, 'next visits every key once, then nil')\n"
         "sim.check(next({}) == nil, 'next of empty table')\n"
         "sim.check(next(t) == -7, 'first key is the smallest number')\n"
         "-- removing entries during traversal is allowed\n"
         "local u = {a = 1, b = 2, c = 3}\n"
         "for k2 in pairs(u) do u[k2] = nil end\n"
         "sim.check(next(u) == nil, 'cleared during pairs')\n"
         "-- __pairs is honoured\n"
         "local p = setmetatable({}, {__pairs = function(s) return function(_, i) if not i then return 1, 'one' end end, s, nil end})\n"
         "for k3, v3 in pairs(p) do sim.check(k3 == 1 and v3 == 'one', '__pairs') end\n"
         "-- integer and float keys that compare equal as numbers cannot both exist; 1 < 1.5 < 2\n"
         "local m = {[2] = 'b', [1.5] = 'h', [1] = 'a'}\n"
         "local o = {}\n"
         "for k4 in pairs(m) do o[#o + 1] = k4 end\n"
         "sim.check(o[1] == 1 and o[2] == 1.5 and o[3] == 2, 'mixed numbers ascending')\n");
  expect_err("for k in pairs({[{}] = 1}) do end", "a key of type table has no reproducible iteration order");
  expect_err("next({[print] = 1})", "no reproducible iteration order");
}

static void tostring_has_no_addresses(void **state) {
  (void)state;
  run_ok("local a, b = {}, {}\n"
         "sim.check(tostring(a) == 'table: #1', tostring(a))\n"
         "sim.check(tostring(b) == 'table: #2', tostring(b))\n"
         "sim.check(tostring(a) == 'table: #1', 'stable id')\n"
         "sim.check(tostring(print):match('^function: #%d+$') ~= nil, tostring(print))\n"
         "sim.check(string.format('%s|%d|%5.1f', a, 3, 2.25) == 'table: #1|3|  2.2', string.format('%s|%d|%5.1f', a, 3, 2.25))\n"
         "sim.check(tostring(setmetatable({}, {__tostring = function() return 'custom' end})) == 'custom', '__tostring')\n"
         "sim.check(tostring(setmetatable({}, {__name = 'Thing'})):match('^Thing: #') ~= nil, '__name')\n"
         "sim.check(tostring(channel.new()) == \"channel 'default'\", 'channel tostring')\n"
         "sim.check(tostring(nil) == 'nil' and tostring(1.5) == '1.5' and tostring(true) == 'true', 'plain values')\n");
  expect_err("return string.format('%p', {})", "%p shows memory addresses");
}

static void random_is_seeded_and_in_range(void **state) {
  (void)state;
  run_ok("local lo, hi, f = math.huge, -math.huge, 0\n"
         "for i = 1, 10000 do\n"
         "  local x = math.random(3, 7); lo = math.min(lo, x); hi = math.max(hi, x)\n"
         "  local y = sim.random(); sim.check(y >= 0 and y < 1, 'float range')\n"
         "  local z = math.random(4); sim.check(z >= 1 and z <= 4 and math.type(z) == 'integer', 'int range')\n"
         "end\n"
         "sim.check(lo == 3 and hi == 7, 'covers the range')\n"
         "sim.check(math.type(math.random(0)) == 'integer', 'random(0)')\n"
         "local ok, err = pcall(math.random, 5, 1); sim.check(not ok and err:find('interval is empty'), 'empty interval')\n"
         "math.randomseed(42); local a = math.random(1000000)\n"
         "math.randomseed(42); sim.check(math.random(1000000) == a, 'randomseed(x) is reproducible')\n"
         "local s1 = sim.spawn(function() SEQ1 = {math.random(1 << 30), math.random(1 << 30)} end)\n"
         "local s2 = sim.spawn(function() SEQ2 = {math.random(1 << 30), math.random(1 << 30)} end)\n"
         "sim.finally(function() sim.check(SEQ1[1] ~= SEQ2[1] or SEQ1[2] ~= SEQ2[2], 'per-process streams') end)\n");
  /* Same seed, same draws; another seed, other draws. */
  char *vals[3];
  uint64_t seeds[3] = {5, 5, 6};
  for (int i = 0; i < 3; i++) {
    Env e = env_new(seeds[i], NULL);
    assert_true(dsim_lua_run_string(e.rt, "X = math.random(1 << 40) .. ':' .. math.random(1 << 40)", "t", NULL));
    lua_State *L = dsim_lua_state(e.rt);
    lua_getglobal(L, "X");
    vals[i] = g_strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    dsim_world_free(e.w);
  }
  assert_string_equal(vals[0], vals[1]);
  assert_string_not_equal(vals[0], vals[2]);
  for (int i = 0; i < 3; i++) g_free(vals[i]);
}

/* ---------------------------------------------------------------- messages */

static void messages_are_copied_values(void **state) {
  (void)state;
  run_ok("local ch = channel.new()\n"
         "local sent = {op = 'PUT', key = 'k', n = 3, f = 2.5, ok = true, list = {1, 2, {deep = 'x'}},\n"
         "              [10] = 'ten', ['with space'] = -1, big = math.maxinteger}\n"
         "local got, got_str, got_num, got_nil\n"
         "local r = sim.spawn(function()\n"
         "  ch:join('r')\n"
         "  local _, m = ch:recvFromAny(); got = m\n"
         "  m.op = 'CHANGED'\n"
         "  local _, s = ch:recvFromAny(); got_str = s\n"
         "  local _, n = ch:recvFromAny(); got_num = n\n"
         "  local src, z = ch:recvFromAny(); got_nil = {src, z}\n"
         "end)\n"
         "sim.spawn(function()\n"
         "  local me = ch:join('s')\n"
         "  ch:sendTo(r, sent)\n"
         "  ch:sendTo({r}, 'plain \\0 bytes')\n"
         "  ch:sendTo(r, 42)\n"
         "  ch:sendTo(r, nil)\n"
         "end)\n"
         "sim.finally(function()\n"
         "  sim.check(got ~= sent and sent.op == 'PUT', 'receiver got a copy')\n"
         "  sim.check(got.key == 'k' and got.n == 3 and got.f == 2.5 and got.ok == true, 'fields')\n"
         "  sim.check(math.type(got.n) == 'integer' and math.type(got.f) == 'float', 'number subtypes')\n"
         "  sim.check(got.list[3].deep == 'x' and #got.list == 3 and got[10] == 'ten', 'nesting')\n"
         "  sim.check(got['with space'] == -1 and got.big == math.maxinteger, 'odd keys, big ints')\n"
         "  sim.check(got_str == 'plain \\0 bytes', 'string bytes')\n"
         "  sim.check(got_num == 42, 'number')\n"
         "  sim.check(got_nil[1] == 2 and got_nil[2] == nil, 'nil message')\n"
         "end)\n");
  expect_err("local ch = channel.new()\n"
             "sim.spawn(function() local me = ch:join('a'); ch:sendTo(me, {f = print}) end)",
             "cannot send a value of type function");
  expect_err("local ch = channel.new()\n"
             "sim.spawn(function() local me = ch:join('a'); local t = {}; t.t = t; ch:sendTo(me, t) end)",
             "nested more than 64 levels");
  expect_err("local ch = channel.new()\n"
             "sim.spawn(function() local me = ch:join('a'); ch:sendTo(me, {[{}] = 1}) end)",
             "no reproducible iteration order");
}

/* ---------------------------------------------------------------- blocking */

static void blocking_rules(void **state) {
  (void)state;
  expect_err("sim.sleep(1)", "sim.sleep blocks, so it can only be called inside a process");
  expect_err("sim.at(1, function() channel.new():recvFromAny() end)", "recvFromAny blocks");
  expect_err("sim.spawn(function()\n"
             "  local ch = channel.new(); ch:join('x')\n"
             "  local co = coroutine.wrap(function() ch:recvFromAny() end); co()\n"
             "end)",
             "not from a coroutine the process created");
  expect_err("sim.spawn(function() coroutine.yield() end)", "yielded outside a blocking call");
  expect_err("sim.spawn(function() table.sort({3, 2, 1}, function(a, b) sim.sleep(1) return a < b end) end)",
             "cannot block here");
  /* A process may use coroutines that do not block, and pcall around
   * blocking calls. */
  run_ok("local ch = channel.new()\n"
         "sim.spawn(function()\n"
         "  local me = ch:join('x')\n"
         "  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)\n"
         "  sim.check(gen() + gen() + gen() == 6, 'generator')\n"
         "  local ok, src, msg = pcall(function() ch:sendTo(me, 'hi'); return ch:recvFromAny(1) end)\n"
         "  sim.check(ok and src == me and msg == 'hi', 'blocking inside pcall')\n"
         "  sim.sleep('5ms')\n"
         "  sim.check(sim.now() == 0.006, 'slept: ' .. sim.now())\n"
         "  sim.check(ch:recvFromAny(0.5) == nil and sim.now() == 0.506, 'timeout returns nil')\n"
         "  local t0 = sim.now()\n"
         "  sim.check(ch:recvFromAny(1e-10) == nil and sim.now() - t0 < 1e-6, 'a tiny timeout still expires')\n"
         "end)\n");
}

static void crash_restart_from_lua(void **state) {
  (void)state;
  run_ok("local ch = channel.new()\n"
         "local starts, after_crash = 0, false\n"
         "local p = sim.spawn(function(tag)\n"
         "  starts = starts + 1\n"
         "  sim.check(sim.incarnation() == starts - 1, 'incarnation ' .. sim.incarnation())\n"
         "  sim.check(tag == 'arg', 'arguments survive restart')\n"
         "  ch:join('p')\n"
         "  if starts == 1 then sim.crash(sim.self()); after_crash = true end\n"
         "  ch:recvFromAny()\n"
         "end, 'arg')\n"
         "sim.at(1, function()\n"
         "  sim.check(sim.state(p) == 'crashed', 'crashed itself: ' .. sim.state(p))\n"
         "  sim.restart(p)\n"
         "end)\n"
         "sim.at(2, function()\n"
         "  sim.check(sim.state(p) == 'blocked' and starts == 2 and not after_crash, 'restarted')\n"
         "  sim.crash(p)\n"
         "  local ok, err = pcall(sim.crash, p)\n"
         "  sim.check(not ok and err:find('cannot crash because it is crashed'), err)\n"
         "  local ok2, err2 = pcall(sim.restart, 999)\n"
         "  sim.check(not ok2 and err2:find('does not exist'), err2)\n"
         "end)\n");
}

static void timers_from_lua(void **state) {
  (void)state;
  run_ok("local ticks = {}\n"
         "local h = sim.every('10ms', function() ticks[#ticks + 1] = sim.now() end)\n"
         "sim.at(0.035, function() sim.check(h:cancel() == true, 'cancel pending') end)\n"
         "local once = sim.after(1, function() sim.check(false, 'cancelled callback ran') end)\n"
         "sim.check(once:cancel() and not once:cancel(), 'cancel twice')\n"
         "sim.finally(function()\n"
         "  sim.check(#ticks == 3 and ticks[1] == 0.01 and ticks[3] == 0.03, 'every: ' .. #ticks)\n"
         "end)\n");
  expect_err("sim.at(-1, function() end)", "must not be negative");
  expect_err("sim.at('soon', function() end)", "'soon' is not a duration");
  expect_err("sim.every(0, function() end)", "period must be positive");
  expect_err("sim.at(1, function() sim.at(0.5, function() end) end)", "is in the past");
}

/* ---------------------------------------------------------------- errors */

static void errors_name_file_and_line(void **state) {
  (void)state;
  expect_err("local x = 1\nlocal y = = 2\n", "test.lua:2:");
  expect_err("local x = 1\n\nerror('boom')\n", "test.lua:3: boom (in scenario code at t=0.000000000s)");
  expect_err("sim.spawn(function()\n  sim.sleep(1)\n  local t = nil\n  return t.x\nend)",
             "test.lua:4: attempt to index a nil value (local 't') (in pid 1 at t=1.000000000s)");
  expect_err("channel.new():sendTo({1}, 'x')", "sendTo must be called from inside a process");
  expect_err("sim.spawn(function() channel.new():join('a'); channel.new():sendTo({7}, 'x') end)",
             "sendTo: destination pid 7 does not exist");
  expect_err("sim.spawn(function() channel.new():join('a'); channel.new():recvFromAny(-1) end)",
             "recvFromAny: the timeout must not be negative");
  expect_err("sim.spawn(function() channel.new():join('a'); channel.new():recvFrom({}, 1) end)",
             "set of senders is empty");
  expect_err("sim.spawn(function() channel.new():join('a'); channel.new():recvFrom({'x'}) end)",
             "recvFrom: the senders must be a pid");
  expect_err("net.configure{loss = 1.5}", "net.configure: loss must be a probability between 0 and 1");
  expect_err("net.configure{loss = -0.1}", "loss must be a probability");
  expect_err("net.configure{lose = 0.1}", "net.configure: unknown field 'lose'");
  expect_err("net.configure{delay = {'gauss', 1}}", "unknown delay distribution 'gauss'");
  expect_err("net.configure{delay = {'uniform', '5ms', '1ms'}}", "min <= max");
  expect_err("net.link('a', 'b', {duplicate = 'often'})", "duplicate must be a number");
  expect_err("net.partition({}, {'b'})", "is an empty list");
  expect_err("net.partition({'a'}, {'b'}, {oneway = true, twoway = 1})", "unknown option 'twoway'");
  expect_err("sim.spawn('no_such_class')", "no C process class named 'no_such_class'");
  expect_err("sim.spawn(42)", "bad argument #1 to 'spawn'");
  expect_err("require('no_such_module')", "module 'no_such_module' not found");
  expect_err("local ch = channel.new()\nlocal r = ch:join('x')\n"
             "sim.spawn(function() ch:join('y'); ch:bind(r) end)",
             "bind must come before any join");
  /* Errors raised in a finally function stop the run too. */
  Env e = env_new(1, NULL);
  assert_true(dsim_lua_run_string(e.rt, "sim.finally(function() error('late') end)", "f.lua", NULL));
  dsim_world_run(e.w);
  GError *err = NULL;
  assert_false(dsim_lua_run_finally(e.rt, &err));
  assert_contains(err->message, "f.lua:1: late");
  g_error_free(err);
  dsim_world_free(e.w);
}

static void runaway_and_memory_limits(void **state) {
  (void)state;
  DsimLuaOptions steps = {.max_steps = 1000000};
  char *m = run_err("sim.spawn(function() while true do end end)", &steps);
  assert_contains(m, "ran more than 1000000 instructions without blocking");
  assert_contains(m, "in pid 1");
  g_free(m);
  m = run_err("local x = 0\nwhile true do x = x + 1 end", &steps);
  assert_contains(m, "instructions without blocking");
  g_free(m);
  /* A process that blocks regularly may run for ever: 5,000 wake-ups of
   * 1,000 loop iterations each add up to well over the per-resume limit. */
  DsimWorldConfig cfg = {.seed = 1, .until = DSIM_TIME_NEVER, .max_events = 5000};
  DsimWorld *w = dsim_world_new(&cfg);
  DsimLua *rt = dsim_lua_new(w, &steps);
  assert_true(dsim_lua_run_string(rt,
                                  "sim.spawn(function() while true do for i = 1, 1000 do end sim.sleep(1) end end)",
                                  "t", NULL));
  assert_int_equal(dsim_world_run(w), DSIM_END_MAX_EVENTS);
  dsim_world_free(w);

  DsimLuaOptions mem = {.max_memory = 8 << 20};
  m = run_err("local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end", &mem);
  assert_contains(m, "more than 8 MiB of Lua memory");
  g_free(m);
  m = run_err("sim.spawn(function() local s = 'x' while true do s = s .. s end end)", &mem);
  assert_contains(m, "more than 8 MiB");
  g_free(m);
}

static void require_from_lib_dirs(void **state) {
  (void)state;
  char *dir = g_dir_make_tmp("dsim-lua-XXXXXX", NULL);
  char *file = g_build_filename(dir, "mymod.lua", NULL);
  assert_true(g_file_set_contents(file, "local M = {}\nM.loaded = (M.loaded or 0) + 1\nfunction M.twice(x) return 2 * x end\nreturn M\n", -1, NULL));
  const char *dirs[] = {dir, NULL};
  DsimLuaOptions opt = {.lib_dirs = dirs};
  Env e = env_new(1, &opt);
  assert_true(dsim_lua_run_string(e.rt,
                                  "local m = require('mymod'); local m2 = require('mymod')\n"
                                  "sim.check(m == m2 and m.twice(21) == 42 and m.loaded == 1, 'require caches')\n",
                                  "t.lua", NULL));
  assert_int_equal(dsim_world_checks_passed(e.w), 1);
  assert_int_equal(dsim_world_checks_failed(e.w), 0);
  dsim_world_free(e.w);
  expect_err("require('../etc/passwd')", "bad module name");
  g_unlink(file);
  g_rmdir(dir);
  g_free(file);
  g_free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sandbox_contents),
      cmocka_unit_test(deterministic_pairs_and_next),
      cmocka_unit_test(tostring_has_no_addresses),
      cmocka_unit_test(random_is_seeded_and_in_range),
      cmocka_unit_test(messages_are_copied_values),
      cmocka_unit_test(blocking_rules),
      cmocka_unit_test(crash_restart_from_lua),
      cmocka_unit_test(timers_from_lua),
      cmocka_unit_test(errors_name_file_and_line),
      cmocka_unit_test(runaway_and_memory_limits),
      cmocka_unit_test(require_from_lib_dirs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
