-- checkers.lua: property checkers for multicast and message delivery,
-- usable by any scenario (they know nothing about the protocol under test).
--
-- A scenario records what happened in a delivery log, from outside the
-- protocol (an observer, like a test harness watching a system):
--   local log = checkers.log()
--   log:multicast(pid, id, dests)  -- pid multicast message `id` to the
--                                  -- pids in `dests` (a list; include the
--                                  -- sender if it should deliver it too)
--   log:deliver(pid, id)           -- pid delivered message `id`
-- Records keep the order in which they are made (and the virtual time).
-- Message ids are any strings or numbers unique per multicast.
--
-- Then, typically in sim.finally, the checkers state the properties of the
-- chapter's group communication (and of reliable one-to-one communication:
-- a point-to-point message is a multicast with one destination):
--   checkers.integrity(log)           no process delivers a message twice,
--                                     nor one that was not multicast to it;
--   checkers.validity(log, correct)   a correct process that multicasts m
--                                     (to itself among others) delivers m;
--   checkers.agreement(log, correct)  if a correct process delivers m, every
--                                     correct destination of m delivers m;
--   checkers.fifo(log, correct)       if p multicast m before m', no process
--                                     delivers m' before m, and a correct
--                                     destination of both that delivers m'
--                                     delivers m;
--   checkers.causal(log, correct)     the same for m happened-before m'
--                                     (computed from the log: p's multicasts
--                                     and deliveries, in order, with vector
--                                     clocks), not only for one sender;
--   checkers.total(log)               any two processes that both deliver m
--                                     and m' deliver them in the same order.
-- `correct` says which processes count as correct (never crashed, never
-- left): a set {[pid] = true}, a list of pids, or a function(pid) -> bool;
-- nil means every pid that is not crashed when the check runs (pids that
-- are no process at all count as correct).
--
-- Each checker makes ONE sim.check named after the property ("agreement:
-- ...", "FIFO order: ..."). When the property is violated the message
-- describes the FIRST violating pair of deliveries (or delivery and missing
-- delivery), first meaning the one completed earliest in the log, with
-- pids, message ids and times; it returns false, else true. The find_*
-- functions return that description (or nil) without checking, for tests.

local checkers = {}

local Log = {}
Log.__index = Log

--- checkers.log() -> a new, empty delivery log.
function checkers.log()
  return setmetatable({ records = {}, msgs = {}, order = {} }, Log)
end

-- check_id(id, level): ids are strings or numbers (error at the caller).
local function check_id(id, level)
  if type(id) ~= "string" and type(id) ~= "number" then
    error("checkers: a message id must be a string or a number, got " .. type(id), level + 1)
  end
end

--- log:multicast(pid, id, dests [, data]): pid multicast message id to the
--- list of pids dests. Errors: a bad pid or id, the id used twice.
function Log:multicast(pid, id, dests, data)
  if math.type(pid) ~= "integer" then error("checkers: multicast: pid must be an integer", 2) end
  check_id(id, 2)
  if type(dests) ~= "table" then error("checkers: multicast: dests must be a list of pids", 2) end
  if self.msgs[id] then error("checkers: multicast: message id " .. tostring(id) .. " recorded twice", 2) end
  local set = {}
  for _, d in ipairs(dests) do set[d] = true end
  local r = { kind = "multicast", pid = pid, id = id, t = sim.now(), index = #self.records + 1 }
  self.records[r.index] = r
  self.msgs[id] = { id = id, sender = pid, dests = set, dest_list = dests, record = r, data = data }
  self.order[#self.order + 1] = id
end

--- log:deliver(pid, id): pid delivered message id.
function Log:deliver(pid, id)
  if math.type(pid) ~= "integer" then error("checkers: deliver: pid must be an integer", 2) end
  check_id(id, 2)
  local r = { kind = "deliver", pid = pid, id = id, t = sim.now(), index = #self.records + 1 }
  self.records[r.index] = r
end

--- log:size() -> number of records.
function Log:size() return #self.records end

-- correct_fn(correct) -> predicate(pid) from a set, a list, a function or nil.
local function correct_fn(correct)
  if correct == nil then
    return function(pid)
      local ok, st = pcall(sim.state, pid)
      return not ok or st ~= "crashed" -- a pid that is no process: only a name in the log
    end
  elseif type(correct) == "function" then
    return correct
  elseif type(correct) == "table" then
    local set = {}
    for k, v in pairs(correct) do
      if v == true then set[k] = true else set[v] = true end
    end
    return function(pid) return set[pid] == true end
  end
  error("checkers: correct must be nil, a set, a list or a function", 3)
end

-- name(log, id) -> "id (from pid N)" for reports.
local function name(log, id)
  local m = log.msgs[id]
  return string.format("%s (from pid %s)", tostring(id), m and tostring(m.sender) or "?")
end

-- at(t) -> "t=0.123456s".
local function at(t) return string.format("t=%.6fs", t) end

-- Deliveries per process: pid -> { id -> record (first delivery) }, and the
-- per-process sequences of records.
local function index(log)
  local first, seq = {}, {}
  for _, r in ipairs(log.records) do
    seq[r.pid] = seq[r.pid] or {}
    local s = seq[r.pid]
    s[#s + 1] = r
    if r.kind == "deliver" then
      first[r.pid] = first[r.pid] or {}
      if not first[r.pid][r.id] then first[r.pid][r.id] = r end
    end
  end
  return first, seq
end

-- sorted_keys(t) -> the keys of t, sorted.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

----------------------------------------------------------------------------

--- checkers.find_integrity(log) -> nil | description
function checkers.find_integrity(log)
  local seen = {}
  for _, r in ipairs(log.records) do
    if r.kind == "deliver" then
      local m = log.msgs[r.id]
      if not m then
        return string.format("pid %d delivered %s at %s, which nobody multicast", r.pid, tostring(r.id), at(r.t))
      end
      if not m.dests[r.pid] then
        return string.format("pid %d delivered %s at %s but is not one of its destinations", r.pid,
                             name(log, r.id), at(r.t))
      end
      seen[r.pid] = seen[r.pid] or {}
      local prev = seen[r.pid][r.id]
      if prev then
        return string.format("pid %d delivered %s twice, at %s and at %s", r.pid, name(log, r.id), at(prev.t), at(r.t))
      end
      seen[r.pid][r.id] = r
    end
  end
  return nil
end

--- checkers.find_validity(log [, correct]) -> nil | description
function checkers.find_validity(log, correct)
  local ok = correct_fn(correct)
  local first = index(log)
  for _, id in ipairs(log.order) do
    local m = log.msgs[id]
    if ok(m.sender) and m.dests[m.sender] and not (first[m.sender] and first[m.sender][id]) then
      return string.format("correct pid %d multicast %s at %s to itself among others but never delivered it",
                           m.sender, tostring(id), at(m.record.t))
    end
  end
  return nil
end

--- checkers.find_agreement(log [, correct]) -> nil | description
function checkers.find_agreement(log, correct)
  local ok = correct_fn(correct)
  local first = index(log)
  local done = {}
  for _, r in ipairs(log.records) do
    if r.kind == "deliver" and ok(r.pid) and not done[r.id] and log.msgs[r.id] then
      done[r.id] = true
      local m = log.msgs[r.id]
      for _, q in ipairs(m.dest_list) do
        if ok(q) and not (first[q] and first[q][r.id]) then
          return string.format("pid %d delivered %s at %s but correct pid %d, a destination, never delivered it",
                               r.pid, name(log, r.id), at(r.t), q)
        end
      end
    end
  end
  return nil
end

-- Ordering checks share one scan: for each delivery of m' at p, in log
-- order, every m that must come before m' (before(m, m') true) and has p
-- among its destinations must have been delivered at p earlier; if it was
-- delivered later the pair is a violation, if never, it is one when p is
-- correct.
local function find_order(log, correct, before, what)
  local ok = correct_fn(correct)
  local first = index(log)
  local delivered_at = {} -- pid -> set of ids delivered so far
  for _, r in ipairs(log.records) do
    if r.kind == "deliver" and log.msgs[r.id] then
      local p = r.pid
      delivered_at[p] = delivered_at[p] or {}
      local m2 = log.msgs[r.id]
      for _, id in ipairs(log.order) do
        local m1 = log.msgs[id]
        if m1.record.index >= m2.record.index then break end
        if m1.dests[p] and not delivered_at[p][id] and before(m1, m2) then
          local later = first[p] and first[p][id]
          if later then
            return string.format("%s: pid %d delivered %s at %s before %s (%s), which it delivered at %s",
                                 what, p, name(log, r.id), at(r.t), name(log, id), before(m1, m2), at(later.t))
          elseif ok(p) then
            return string.format("%s: correct pid %d delivered %s at %s but never %s (%s)", what, p,
                                 name(log, r.id), at(r.t), name(log, id), before(m1, m2))
          end
        end
      end
      delivered_at[p][r.id] = true
    end
  end
  return nil
end

--- checkers.find_fifo(log [, correct]) -> nil | description
function checkers.find_fifo(log, correct)
  return find_order(log, correct, function(m1, m2)
    if m1.sender == m2.sender and m1.record.index < m2.record.index then
      return "multicast earlier by the same sender"
    end
    return false
  end, "FIFO order")
end

-- Vector clocks over the log: each multicast gets the vector of its sender
-- at that moment (own entry incremented); a delivery merges the message's
-- vector into the deliverer's.
local function vector_clocks(log)
  local clocks, vc = {}, {}
  for _, r in ipairs(log.records) do
    local v = clocks[r.pid] or {}
    clocks[r.pid] = v
    if r.kind == "multicast" then
      v[r.pid] = (v[r.pid] or 0) + 1
      local copy = {}
      for k, x in pairs(v) do copy[k] = x end
      vc[r.id] = copy
    elseif log.msgs[r.id] and vc[r.id] then
      for k, x in pairs(vc[r.id]) do
        if (v[k] or 0) < x then v[k] = x end
      end
    end
  end
  return vc
end

--- checkers.find_causal(log [, correct]) -> nil | description
function checkers.find_causal(log, correct)
  local vc = vector_clocks(log)
  return find_order(log, correct, function(m1, m2)
    local v1, v2 = vc[m1.id], vc[m2.id]
    if m1.id ~= m2.id and (v2[m1.sender] or 0) >= v1[m1.sender] then
      if m1.sender == m2.sender then return "multicast earlier by the same sender" end
      return "which happened before it"
    end
    return false
  end, "causal order")
end

--- checkers.find_total(log) -> nil | description
function checkers.find_total(log)
  local pos = {}      -- pid -> id -> position in its delivery sequence
  local count = {}
  local pids = {}
  for _, r in ipairs(log.records) do
    if r.kind == "deliver" then
      local p = r.pid
      if not pos[p] then
        pos[p], count[p] = {}, 0
        pids[#pids + 1] = p
      end
      if not pos[p][r.id] then
        count[p] = count[p] + 1
        pos[p][r.id] = { n = count[p], t = r.t }
        -- r completes the pair (y before r.id) at p for every y delivered earlier
        for y, py in pairs(pos[p]) do
          if y ~= r.id then
            for _, q in ipairs(pids) do
              if q ~= p then
                local a, b = pos[q][r.id], pos[q][y]
                if a and b and a.n < b.n then
                  return string.format("total order: pid %d delivered %s at %s before %s at %s, but pid %d "
                                       .. "delivered them the other way round (at %s and %s)", p,
                                       name(log, y), at(py.t), name(log, r.id), at(r.t), q, at(a.t), at(b.t))
                end
              end
            end
          end
        end
      end
    end
  end
  return nil
end

----------------------------------------------------------------------------
-- The checks.

-- make_check(find, label) -> a checker: one sim.check prefixed with label.
local function make_check(find, label)
  return function(log, correct)
    local v = find(log, correct)
    sim.check(v == nil, v and (label and (label .. ": " .. v) or v)
                          or (label or "property") .. ": holds")
    return v == nil
  end
end

--- checkers.integrity(log) -> bool: sim.check "integrity: ..."
checkers.integrity = make_check(checkers.find_integrity, "integrity")
--- checkers.validity(log [, correct]) -> bool: sim.check "validity: ..."
checkers.validity = make_check(checkers.find_validity, "validity")
--- checkers.agreement(log [, correct]) -> bool: sim.check "agreement: ..."
checkers.agreement = make_check(checkers.find_agreement, "agreement")

--- checkers.fifo(log [, correct]) -> bool: sim.check "FIFO order: ..."
function checkers.fifo(log, correct)
  local v = checkers.find_fifo(log, correct)
  sim.check(v == nil, v or "FIFO order: holds")
  return v == nil
end

--- checkers.causal(log [, correct]) -> bool: sim.check "causal order: ..."
function checkers.causal(log, correct)
  local v = checkers.find_causal(log, correct)
  sim.check(v == nil, v or "causal order: holds")
  return v == nil
end

--- checkers.total(log) -> bool: sim.check "total order: ..."
function checkers.total(log)
  local v = checkers.find_total(log)
  sim.check(v == nil, v or "total order: holds")
  return v == nil
end

--- checkers.summary(log) -> string: counts of multicasts and deliveries per pid.
function checkers.summary(log)
  local d, m = {}, 0
  for _, r in ipairs(log.records) do
    if r.kind == "deliver" then d[r.pid] = (d[r.pid] or 0) + 1 else m = m + 1 end
  end
  local parts = {}
  for _, p in ipairs(sorted_keys(d)) do parts[#parts + 1] = "pid " .. p .. ": " .. d[p] end
  return string.format("%d multicasts; deliveries %s", m, table.concat(parts, ", "))
end

return checkers
