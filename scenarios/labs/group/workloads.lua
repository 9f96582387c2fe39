-- The group communication lab's workloads, shared by its scenarios. Each
-- function spawns the members of one group, feeds a checkers.log() with
-- every multicast and delivery, and returns what the checks need:
--   { log = <checkers log>, correct = <set of pids that never crashed or left>,
--     members = <list of pids> }
-- The scenarios choose the ordering and the faults, and run the checkers.

local group = require("group")
local checkers = require("checkers")

local workloads = {}

workloads.GROUP, workloads.PORT = "228.5.6.7", 6789

-- A member that joins at `start`, multicasts `count` messages at random
-- intervals, keeps delivering until things go quiet, and possibly leaves
-- at `leave_at` (its pid then is not "correct").
local function chatter(ordering, log, count, leave_at, rec)
  local g = group.join(workloads.GROUP, workloads.PORT, { ordering = ordering, log = log })
  rec.joined = true
  for i = 1, count do
    g:sleep(sim.random() * 0.03)
    g:multicast(string.format("message %d from pid %d", i, sim.self()))
    if leave_at and sim.now() >= leave_at then break end
  end
  if leave_at then
    g:sleep(math.max(0, leave_at - sim.now()))
    g:leave()
    rec.left = true
    return
  end
  g:drain(1.0)
end

--- workloads.chat(ordering, opts): `opts.members` members start at t=0,
--- each multicasting `opts.count` messages; `opts.joiner` adds one that
--- joins at t=0.05; `opts.leaver` makes member 2 leave at t=0.06;
--- `opts.crash` crashes member 1 at a random time in [0.01, 0.06] s.
function workloads.chat(ordering, opts)
  local log = checkers.log()
  local pids, recs = {}, {}
  for i = 1, opts.members do
    recs[i] = {}
    local leave_at = (opts.leaver and i == 2) and 0.06 or nil
    pids[i] = sim.spawn(chatter, ordering, log, opts.count, leave_at, recs[i])
  end
  if opts.joiner then
    local i = #pids + 1
    recs[i] = {}
    sim.at(0.05, function() pids[i] = sim.spawn(chatter, ordering, log, opts.count, nil, recs[i]) end)
  end
  local crashed = {}
  if opts.crash then
    local t = 0.01 + sim.random() * 0.05
    sim.at(t, function() sim.crash(pids[1]); crashed[pids[1]] = true end)
  end
  local correct = function(pid)
    for i, p in ipairs(pids) do
      if p == pid then return not crashed[pid] and not recs[i].left end
    end
    return false
  end
  return { log = log, correct = correct, members = pids }
end

-- A discussion: member 1 multicasts questions; whoever delivers a question
-- may multicast an answer to it (so the answer happened after the
-- question), and a follow-up to an answer. Anyone who delivers an answer
-- before its question has seen causality violated.
local function discussant(ordering, log, index, nquestions, rec)
  local g = group.join(workloads.GROUP, workloads.PORT, { ordering = ordering, log = log })
  rec.joined = true
  if index == 1 then
    for q = 1, nquestions do
      g:multicast("question " .. q)
      g:sleep(0.02)
    end
  end
  g:drain(1.0, function(m)
    local q = m.data:match("^question (%d+)$")
    if q and (tonumber(q) + index) % 3 == 0 then
      g:multicast(string.format("answer to question %s by pid %d", q, sim.self()))
    end
    local a = m.data:match("^answer to question (%d+) by")
    if a and index == 2 and m.sender ~= sim.self() then
      g:multicast("follow-up on an answer to question " .. a)
    end
  end)
end

--- workloads.discussion(ordering, opts): opts.members members (member 1
--- asks opts.questions questions); opts.joiner adds a member at t=0.03.
function workloads.discussion(ordering, opts)
  local log = checkers.log()
  local pids, recs = {}, {}
  for i = 1, opts.members do
    recs[i] = {}
    pids[i] = sim.spawn(discussant, ordering, log, i, opts.questions, recs[i])
  end
  if opts.joiner then
    local i = #pids + 1
    recs[i] = {}
    sim.at(0.03, function() pids[i] = sim.spawn(discussant, ordering, log, i, opts.questions, recs[i]) end)
  end
  return { log = log, correct = nil, members = pids }
end

return workloads
