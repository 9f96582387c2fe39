/* test_faults_lua.c — the fault model as a scenario sees it: Lua message
 * rules, the corruption flag of a receive, a crash emptying a mailbox,
 * stable storage and clocks from Lua, and the errors bad fault arguments
 * give (each names the function and the argument). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dsim.h"
#include "runtime.h"
#include <lauxlib.h>
#include <lua.h>

typedef struct {
  DsimWorld *w;
  DsimLua *rt;
  gboolean loaded;
  char *error; /* the load error, or the world's error after the run */
} Run;

/* Runs a scenario to its end (finally functions included). */
static Run run(const char *code, uint64_t seed) {
  Run r = {0};
  DsimWorldConfig cfg = {.seed = seed, .until = 100 * DSIM_NS_PER_SEC, .max_events = 10000000};
  r.w = dsim_world_new(&cfg);
  dsim_world_set_trace(r.w, dsim_trace_new(NULL, NULL));
  r.rt = dsim_lua_new(r.w, NULL);
  GError *e = NULL;
  r.loaded = dsim_lua_run_string(r.rt, code, "scenario.lua", &e);
  if (!r.loaded) {
    r.error = g_strdup(e->message);
    g_error_free(e);
    return r;
  }
  DsimEndReason why = dsim_world_run(r.w);
  if (why != DSIM_END_ERROR && !dsim_lua_run_finally(r.rt, &e)) g_clear_error(&e);
  if (dsim_world_error(r.w)) r.error = g_strdup(dsim_world_error(r.w)->message);
  return r;
}

static void done(Run *r) {
  dsim_world_free(r->w);
  g_free(r->error);
}

static lua_Integer global_int(Run *r, const char *name) {
  lua_State *L = dsim_lua_state(r->rt);
  lua_getglobal(L, name);
  int isint;
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint) fail_msg("global %s is not an integer", name);
  lua_pop(L, 1);
  return v;
}

static char *global_str(Run *r, const char *name) {
  lua_State *L = dsim_lua_state(r->rt);
  lua_getglobal(L, name);
  char *s = g_strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  return s;
}

static void expect_ok(Run *r) {
  if (r->error) fail_msg("unexpected error: %s", r->error);
  assert_int_equal(dsim_world_checks_failed(r->w), 0);
}

/* ---------------------------------------------------------------- rules */

static const char every_third_prepare[] =
    "local got = {}\n"
    "local A, B\n"
    "A = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('A')\n"
    "  sim.sleep(0.001) -- let B join\n"
    "  local b = ch:subgroup('B')[1]\n"
    "  for i = 1, 12 do\n"
    "    ch:sendTo(b, {op = 'PREPARE', n = i})\n"
    "    ch:sendTo(b, {op = 'COMMIT', n = i})\n"
    "  end\n"
    "end)\n"
    "B = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('B')\n"
    "  while true do\n"
    "    local src, m = ch:recvFromAny(0.1)\n"
    "    if not src then break end\n"
    "    got[#got + 1] = m.op .. m.n\n"
    "  end\n"
    "end)\n"
    "net.rule{ from = 'A', to = 'B', name = 'every third PREPARE',\n"
    "  match = function(m) return m.data.op == 'PREPARE' end,\n"
    "  action = function(m) if m.count % 3 == 0 then return 'drop' end end }\n"
    "sim.finally(function() received = table.concat(got, ',') end)\n";

static void test_rule_drops_every_third_prepare(void **state) {
  (void)state;
  Run r = run(every_third_prepare, 1);
  expect_ok(&r);
  char *got = global_str(&r, "received");
  /* PREPARE 3, 6, 9, 12 are dropped; every COMMIT arrives. */
  assert_string_equal(got, "PREPARE1,COMMIT1,PREPARE2,COMMIT2,COMMIT3,PREPARE4,COMMIT4,PREPARE5,COMMIT5,COMMIT6,"
                           "PREPARE7,COMMIT7,PREPARE8,COMMIT8,COMMIT9,PREPARE10,COMMIT10,PREPARE11,COMMIT11,COMMIT12");
  assert_int_equal(dsim_net_stats(dsim_net_get(r.w))->dropped_rule, 4);
  g_free(got);
  done(&r);
}

static const char rule_actions[] =
    "local arrivals = {}\n"
    "local b = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('b')\n"
    "  while true do\n"
    "    local src, m, bad = ch:recvFromAny(0.5)\n"
    "    if not src then break end\n"
    "    local n = type(m) == 'table' and m.n or '?' -- a damaged table may not decode\n"
    "    arrivals[#arrivals + 1] = string.format('%s@%d%s', tostring(n), math.floor(sim.now() * 1000 + 0.5),\n"
    "                                          bad and '!' or '')\n"
    "  end\n"
    "end)\n"
    "sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('a')\n"
    "  for i = 1, 4 do ch:sendTo(b, {n = i}) end\n"
    "end)\n"
    "local seen = 0\n"
    "net.rule{ to = b, action = function(m)\n"
    "  seen = seen + 1\n"
    "  if m.data.n == 1 then return {delay = '10ms'} end\n"
    "  if m.data.n == 2 then return {duplicate = 2} end\n"
    "  if m.data.n == 3 then return 'corrupt' end\n"
    "  return 'pass'\n"
    "end }\n"
    "sim.finally(function() result = table.concat(arrivals, ' '); rule_seen = seen end)\n";

static void test_rule_actions(void **state) {
  (void)state;
  Run r = run(rule_actions, 2);
  expect_ok(&r);
  char *res = global_str(&r, "result");
  print_message("%s\n", res);
  /* 1 ms default delay; message 1 gets 10 ms more; 2 arrives three times;
   * 3 arrives corrupted (the receiver gets the third value true, and the
   * damaged table decodes, or arrives as bytes). */
  assert_non_null(strstr(res, "1@11"));
  assert_non_null(g_strrstr(res, "2@1 2@1 2@1"));
  assert_non_null(strstr(res, "@1!")); /* message 3, whatever it decodes to */
  assert_non_null(strstr(res, "4@1"));
  assert_int_equal(global_int(&r, "rule_seen"), 4);
  g_free(res);
  done(&r);
}

/* ---------------------------------------------------------------- receive, crash */

static const char corrupted_third_value[] =
    "net.configure{ corrupt = 1, corrupt_bits = 8 }\n"
    "local b = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('b')\n"
    "  local src, m, bad = ch:recvFromAny()\n"
    "  flag = bad\n"
    "  same = (m == 'a string of some length')\n"
    "end)\n"
    "local c = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('c')\n"
    "  clean = select('#', ch:recvFromAny())\n"
    "end)\n"
    "sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('a')\n"
    "  ch:sendTo(b, 'a string of some length')\n"
    "  ch:sendTo(c, 'clean')\n"
    "end)\n"
    "net.link('a', c, {corrupt = 0})\n";

static void test_recv_third_value(void **state) {
  (void)state;
  Run r = run(corrupted_third_value, 3);
  expect_ok(&r);
  lua_State *L = dsim_lua_state(r.rt);
  lua_getglobal(L, "flag");
  assert_true(lua_toboolean(L, -1));
  lua_getglobal(L, "same");
  assert_false(lua_toboolean(L, -1)); /* 8 bits of it were flipped */
  lua_pop(L, 2);
  assert_int_equal(global_int(&r, "clean"), 2); /* no third value when clean */
  done(&r);
}

static const char crash_empties_mailbox[] =
    "local b = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('b')\n"
    "  sim.sleep(1)\n"
    "  local _, m = ch:recvFromAny(0.01)\n"
    "  after_restart = m\n"
    "end)\n"
    "sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('a')\n"
    "  for i = 1, 5 do ch:sendTo(b, i) end\n"
    "  sim.sleep(0.5)\n"
    "  for i = 6, 7 do ch:sendTo(b, i) end\n"
    "end)\n"
    "sim.at(0.1, function() sim.crash(b) end)\n"
    "sim.at(0.2, function() sim.restart(b) end)\n"
    "sim.finally(function() local s = net.stats(); dropped = s.dropped_crashed; delivered = s.delivered end)\n";

static void test_crash_empties_the_mailbox(void **state) {
  (void)state;
  Run r = run(crash_empties_mailbox, 4);
  expect_ok(&r);
  /* The 5 queued messages are dropped at the crash; 6 and 7 arrive at the
   * restarted process, which takes 6 at t = 1.2 s and returns, leaving 7
   * to be dropped when it exits. */
  assert_int_equal(global_int(&r, "dropped"), 6);
  assert_int_equal(global_int(&r, "delivered"), 7);
  assert_int_equal(global_int(&r, "after_restart"), 6);
  done(&r);
}

/* ---------------------------------------------------------------- stable, clocks, pause */

static const char stable_storage[] =
    "local p\n"
    "p = sim.spawn(function()\n"
    "  local st = sim.stable\n"
    "  st.boots = (st.boots or 0) + 1\n"
    "  if st.boots == 1 then\n"
    "    st.log = {'a', 'b', n = 2}\n"
    "    sim.sync()\n"
    "    st.pending = 'unsynced'\n"
    "    sim.sleep(10)\n"
    "  end\n"
    "  local keys = {}\n"
    "  for k in pairs(sim.stable) do keys[#keys + 1] = k end\n"
    "  seen = table.concat(keys, ',') .. ':' .. st.log[2] .. st.log.n .. ':' .. tostring(st.pending)\n"
    "end)\n"
    "sim.storage_faults(p, {lost = 1})\n"
    "sim.at(1, function() sim.crash(p); sim.restart(p) end)\n"
    "sim.finally(function() boots = sim.stable_of(p).boots end)\n";

static void test_stable_from_lua(void **state) {
  (void)state;
  Run r = run(stable_storage, 5);
  expect_ok(&r);
  char *seen = global_str(&r, "seen");
  /* The write after the sync ('pending') is lost in the crash; the synced
   * ones survive, and the second boot counts itself. */
  assert_string_equal(seen, "boots,log:b2:nil");
  assert_int_equal(global_int(&r, "boots"), 2);
  g_free(seen);
  done(&r);
}

static const char clocks_and_pause[] =
    "local p = sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('p')\n"
    "  sim.sleep(1)\n"
    "  woke = sim.now()\n"
    "  local _, m = ch:recvFromAny()\n"
    "  got_at = sim.now()\n"
    "end)\n"
    "sim.spawn(function()\n"
    "  local ch = channel.new(); ch:join('q')\n"
    "  sim.sleep(1.5); ch:sendTo(p, 'x')\n"
    "end)\n"
    "sim.set_clock(p, {offset = 2, drift = 0.01})\n"
    "sim.at(0.5, function() sim.pause(p) end)\n"
    "sim.at(3, function() clock_at_3 = sim.clock(p); sim.resume(p); state_after = sim.state(p) end)\n";

static void test_clocks_and_pause_from_lua(void **state) {
  (void)state;
  Run r = run(clocks_and_pause, 6);
  expect_ok(&r);
  lua_State *L = dsim_lua_state(r.rt);
  lua_getglobal(L, "clock_at_3");
  assert_float_equal(lua_tonumber(L, -1), 3 + 2 + 0.03, 1e-9);
  lua_getglobal(L, "woke");
  assert_float_equal(lua_tonumber(L, -1), 3.0, 1e-9); /* its sleep ended during the pause */
  lua_getglobal(L, "got_at");
  assert_float_equal(lua_tonumber(L, -1), 3.0, 1e-9); /* the message waited for the resume */
  lua_pop(L, 3);
  char *st = global_str(&r, "state_after");
  assert_string_equal(st, "blocked"); /* back in its sleep, which fires next */
  g_free(st);
  done(&r);
}

/* ---------------------------------------------------------------- errors */

typedef struct {
  const char *code;
  const char *needle;
} BadCase;

static void test_bad_fault_arguments(void **state) {
  (void)state;
  static const BadCase cases[] = {
      {"net.configure{ loss = -0.1 }", "scenario.lua:1: net.configure: loss must be a probability between 0 and 1"},
      {"net.configure{ duplicate = 1.5 }", "scenario.lua:1: net.configure: duplicate must be a probability"},
      {"net.configure{ corrupt = 2 }", "net.configure: corrupt must be a probability"},
      {"net.configure{ delay = {'gamma', 1} }", "net.configure: unknown delay distribution 'gamma'"},
      {"net.configure{ delay = {'normal', '5ms'} }", "net.configure: delay {\"normal\", mean, sd} is missing its sd"},
      {"net.configure{ delay = {'pareto', '1ms', -2} }", "net.configure: delay: pareto alpha must be positive"},
      {"net.configure{ delay = {'exponential', '1ms', max = 3} }", "unexpected entry 'max'"},
      {"net.configure{ ordering = 'lifo' }", "net.configure: ordering must be \"datagram\" or \"fifo\""},
      {"net.configure{ copies = 0 }", "net.configure: copies must be an integer between 1 and 64"},
      {"net.configure{ bandwidth = '10 furlongs' }", "net.configure: bandwidth must be bytes per second"},
      {"net.configure{ jitter = 1 }", "net.configure: unknown field 'jitter'"},
      {"net.link(99, 1, {loss = 0.5})", "net.link: from: pid 99 does not exist"},
      {"sim.spawn(function() end)\nnet.partition(1, 42)", "scenario.lua:2: net.partition: the second set: pid 42 does not exist"},
      {"sim.spawn(function() local ch = channel.new(); ch:join('server') end)\nnet.link('sever', 1, {loss = 1})",
       "scenario.lua:2: net.link: from names subgroup 'sever', which no process joined"},
      {"net.down(1, 2)", "net.down: the first set: pid 1 does not exist"},
      {"net.up(5)", "net.up: 5 is not the id of a link down in force"},
      {"net.release(3)", "net.release: 3 is not the id of a hold in force"},
      {"net.rule{ action = 5 }", "net.rule: action must be a function"},
      {"net.rule{ action = function() end, when = 1 }", "net.rule: unknown field 'when'"},
      {"sim.pause(7)", "pause: pid 7 does not exist"},
      {"sim.resume(sim.spawn(function() end))", "resume: pid 1 is running, not paused"},
      {"sim.set_clock(sim.spawn(function() end), {drift = 2})", "sim.set_clock: clock: drift must be greater than -1"},
      {"sim.set_clock(sim.spawn(function() end), {skew = 2})", "sim.set_clock: unknown field 'skew'"},
      {"sim.storage_faults{ lost = 1.5 }", "sim.storage_faults: lost must be a probability"},
      {"sim.storage_faults{ torn = -1 }", "sim.storage_faults: torn must be a probability"},
      {"sim.nemesis{ interval = 1, faults = {{'crash', duration = 1}} }", "sim.nemesis: stop is missing"},
      {"sim.nemesis{ stop = 5, interval = 1, faults = {{'meteor', duration = 1}} }",
       "sim.nemesis: faults[1]: unknown fault kind meteor"},
      {"sim.nemesis{ stop = 5, interval = 1, faults = {{'loss', loss = 3, duration = 1}} }",
       "sim.nemesis: faults[1]: loss must be a probability"},
      {"sim.nemesis{ stop = 5, interval = 1, targets = {99}, faults = {{'crash', duration = 1}} }",
       "sim.nemesis: targets: pid 99 does not exist"},
      {"sim.stable.x = 1", "sim.stable is the calling process's storage"},
      /* A rule may not send, and a bad return value is reported. */
      {"local b = sim.spawn(function() local ch = channel.new(); ch:join('b'); ch:recvFromAny() end)\n"
       "sim.spawn(function() local ch = channel.new(); ch:join('a'); ch:sendTo(b, 1) end)\n"
       "net.rule{ action = function(m) channel.new():sendTo(m.src, 2) end }",
       "sendTo cannot be called from a net.rule function"},
      {"local b = sim.spawn(function() local ch = channel.new(); ch:join('b'); ch:recvFromAny() end)\n"
       "sim.spawn(function() local ch = channel.new(); ch:join('a'); ch:sendTo(b, 1) end)\n"
       "net.rule{ action = function(m) return 'explode' end }",
       "scenario.lua:3: net.rule: the action returned explode"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    Run r = run(cases[i].code, 1);
    print_message("%s\n  -> %s\n", cases[i].code, r.error ? r.error : "(no error)");
    if (!r.error) fail_msg("no error for: %s", cases[i].code);
    if (!strstr(r.error, cases[i].needle)) fail_msg("'%s' does not contain '%s'", r.error, cases[i].needle);
    done(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rule_drops_every_third_prepare),
      cmocka_unit_test(test_rule_actions),
      cmocka_unit_test(test_recv_third_value),
      cmocka_unit_test(test_crash_empties_the_mailbox),
      cmocka_unit_test(test_stable_from_lua),
      cmocka_unit_test(test_clocks_and_pause_from_lua),
      cmocka_unit_test(test_bad_fault_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
