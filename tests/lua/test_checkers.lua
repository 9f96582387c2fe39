-- Unit tests for scenarios/lib/checkers.lua, run through the simulator:
--   dsim run tests/lua/test_checkers.lua -q      (exit 0: every check passed)
-- Synthetic delivery logs, each with a known violation (or none); the
-- find_* functions must report exactly the first violating pair, and the
-- check functions must pass on correct logs. Records are made from
-- processes at chosen virtual times so the reported times are known.

local checkers = require("checkers")

local function expect(what, got, pattern)
  if pattern == nil then
    sim.check(got == nil, what .. ": expected no violation, got: " .. tostring(got))
  else
    sim.check(got ~= nil and got:find(pattern, 1, true) ~= nil,
              what .. ": expected a report containing '" .. pattern .. "', got: " .. tostring(got))
  end
end

-- Builds a log from a script of steps {time, pid, "m"|"d", id, dests} run
-- by one recorder process (the checkers take pids from the records, not
-- from the process that makes them).
local function build(steps, done)
  local log = checkers.log()
  sim.spawn(function()
    for _, s in ipairs(steps) do
      if s[1] > sim.now() then sim.sleep(s[1] - sim.now()) end
      if s[3] == "m" then log:multicast(s[2], s[4], s[5]) else log:deliver(s[2], s[4]) end
    end
    done(log)
  end)
end

local ALL = { 1, 2, 3 }

-- A correct run: 1 sends a, b; 2 sends c after delivering a (a -> c).
build({
  { 0.1, 1, "m", "a", ALL }, { 0.1, 1, "d", "a" },
  { 0.2, 2, "d", "a" }, { 0.2, 3, "d", "a" },
  { 0.3, 2, "m", "c", ALL }, { 0.3, 2, "d", "c" },
  { 0.4, 1, "m", "b", ALL }, { 0.4, 1, "d", "b" },
  { 0.5, 1, "d", "c" }, { 0.5, 3, "d", "c" },
  { 0.6, 2, "d", "b" }, { 0.6, 3, "d", "b" },
}, function(log)
  -- 2 delivered c before b, 1 delivered b before c: total order fails, the rest holds
  expect("correct run: integrity", checkers.find_integrity(log))
  expect("correct run: validity", checkers.find_validity(log))
  expect("correct run: agreement", checkers.find_agreement(log))
  expect("correct run: fifo", checkers.find_fifo(log))
  expect("correct run: causal", checkers.find_causal(log))
  expect("correct run: total order differs", checkers.find_total(log),
         "total order: pid 2 delivered c (from pid 2) at t=0.300000s before b (from pid 1) at t=0.600000s, but pid 1 delivered them the other way round")
  sim.check(checkers.integrity(log) and checkers.agreement(log) and checkers.causal(log),
            "the check functions pass on a correct log")
  sim.check(checkers.summary(log) == "3 multicasts; deliveries pid 1: 3, pid 2: 3, pid 3: 3", checkers.summary(log))
end)

-- Integrity: a duplicate delivery, a delivery to a non-destination, an unknown message.
build({
  { 0.1, 1, "m", "a", { 1, 2 } }, { 0.2, 2, "d", "a" }, { 0.3, 2, "d", "a" }, { 0.4, 3, "d", "a" },
}, function(log)
  expect("duplicate", checkers.find_integrity(log), "pid 2 delivered a (from pid 1) twice, at t=0.200000s and at t=0.300000s")
end)
build({ { 0.1, 1, "m", "a", { 1, 2 } }, { 0.2, 3, "d", "a" } }, function(log)
  expect("not a destination", checkers.find_integrity(log), "pid 3 delivered a (from pid 1) at t=0.200000s but is not one of its destinations")
end)
build({ { 0.1, 3, "d", "ghost" } }, function(log)
  expect("never multicast", checkers.find_integrity(log), "pid 3 delivered ghost at t=0.100000s, which nobody multicast")
end)

-- Validity and agreement, with a correct set.
build({
  { 0.1, 1, "m", "a", ALL }, { 0.2, 2, "d", "a" },
  { 0.3, 2, "m", "b", ALL }, { 0.3, 2, "d", "b" },
}, function(log)
  expect("validity", checkers.find_validity(log, ALL), "correct pid 1 multicast a at t=0.100000s to itself among others but never delivered it")
  expect("validity, 1 not correct", checkers.find_validity(log, { 2, 3 }))
  expect("agreement", checkers.find_agreement(log, ALL), "pid 2 delivered a (from pid 1) at t=0.200000s but correct pid 1, a destination, never delivered it")
  expect("agreement, only 2 correct", checkers.find_agreement(log, { [2] = true }))
  expect("agreement with a predicate", checkers.find_agreement(log, function(p) return p ~= 1 end),
         "pid 2 delivered a (from pid 1) at t=0.200000s but correct pid 3, a destination, never delivered it")
end)

-- FIFO: 3 delivers b before a (both from 1); then a later one where 3 never delivers a.
build({
  { 0.1, 1, "m", "a", ALL }, { 0.2, 1, "m", "b", ALL },
  { 0.3, 2, "d", "a" }, { 0.3, 2, "d", "b" },
  { 0.4, 3, "d", "b" }, { 0.5, 3, "d", "a" },
}, function(log)
  expect("fifo pair", checkers.find_fifo(log),
         "FIFO order: pid 3 delivered b (from pid 1) at t=0.400000s before a (from pid 1) (multicast earlier by the same sender), which it delivered at t=0.500000s")
  expect("fifo is also causal", checkers.find_causal(log), "causal order: pid 3 delivered b")
end)
build({
  { 0.1, 1, "m", "a", ALL }, { 0.2, 1, "m", "b", ALL }, { 0.4, 3, "d", "b" },
}, function(log)
  expect("fifo missing", checkers.find_fifo(log, ALL), "FIFO order: correct pid 3 delivered b (from pid 1) at t=0.400000s but never a (from pid 1)")
  expect("fifo missing, 3 crashed", checkers.find_fifo(log, { 1, 2 }))
end)
-- a message not addressed to p does not count for p (dynamic membership)
build({
  { 0.1, 1, "m", "a", { 1, 2 } }, { 0.2, 1, "m", "b", ALL }, { 0.4, 3, "d", "b" },
}, function(log)
  expect("fifo with a late joiner", checkers.find_fifo(log, ALL))
end)

-- Causal but not FIFO: 2 answers a (from 1) with c; 3 gets c before a.
build({
  { 0.1, 1, "m", "a", ALL }, { 0.2, 2, "d", "a" }, { 0.3, 2, "m", "c", ALL },
  { 0.4, 3, "d", "c" }, { 0.5, 3, "d", "a" }, { 0.6, 1, "d", "c" },
}, function(log)
  expect("causal: FIFO holds", checkers.find_fifo(log))
  expect("causal pair", checkers.find_causal(log),
         "causal order: pid 3 delivered c (from pid 2) at t=0.400000s before a (from pid 1) (which happened before it), which it delivered at t=0.500000s")
end)
-- transitivity: a -> (2 delivers a, sends b) -> (3 delivers b, sends c); 4 gets c before a
-- (3 is not a destination of a, so it need not deliver a)
build({
  { 0.1, 1, "m", "a", { 2, 4 } }, { 0.2, 2, "d", "a" }, { 0.2, 2, "m", "b", { 3, 4 } },
  { 0.3, 3, "d", "b" }, { 0.3, 3, "m", "c", { 4 } }, { 0.4, 4, "d", "c" }, { 0.5, 4, "d", "a" },
}, function(log)
  expect("causal, transitive", checkers.find_causal(log), "causal order: pid 4 delivered c (from pid 3) at t=0.400000s before a (from pid 1)")
end)
-- concurrent messages may be delivered in any order
build({
  { 0.1, 1, "m", "a", ALL }, { 0.1, 2, "m", "b", ALL },
  { 0.2, 3, "d", "a" }, { 0.2, 3, "d", "b" }, { 0.3, 1, "d", "b" }, { 0.3, 1, "d", "a" },
}, function(log)
  expect("concurrent: causal holds", checkers.find_causal(log))
  expect("concurrent: total fails", checkers.find_total(log), "total order: pid 1 delivered b (from pid 2) at t=0.300000s before a (from pid 1) at t=0.300000s, but pid 3 delivered them the other way round")
end)

-- The first violating pair is the one completed earliest in the log.
build({
  { 0.1, 1, "m", "a", ALL }, { 0.1, 1, "m", "b", ALL }, { 0.1, 1, "m", "c", ALL },
  { 0.2, 2, "d", "c" }, { 0.3, 3, "d", "b" }, { 0.4, 2, "d", "a" }, { 0.5, 3, "d", "a" },
}, function(log)
  expect("first pair", checkers.find_fifo(log), "pid 2 delivered c (from pid 1) at t=0.200000s before a (from pid 1)")
end)

-- Bad arguments are scenario errors at the caller.
sim.spawn(function()
  local log = checkers.log()
  log:multicast(1, "x", { 1 })
  local ok, err = pcall(function() log:multicast(1, "x", { 1 }); return 1 end)
  sim.check(not ok and tostring(err):find("recorded twice"), "an id recorded twice is refused: " .. tostring(err))
  ok, err = pcall(function() log:deliver("one", "x"); return 1 end)
  sim.check(not ok and tostring(err):find("pid must be an integer"), "a bad pid is refused")
end)
