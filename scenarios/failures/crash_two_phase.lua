-- crash_two_phase.lua — the coordinator crashes in the middle of two-phase
-- commit.
--
-- A coordinator asks three participants to PREPARE a transaction. Each
-- votes YES and, having promised, must now wait for the decision: it may
-- neither commit nor abort on its own. The coordinator collects the votes,
-- takes 5 ms to write its decision down, and crashes at t = 4 ms, before
-- sending COMMIT. The participants are stuck "uncertain" for ever — the
-- blocking problem of two-phase commit. (Logging the decision to stable
-- storage before acting, and a recovery that re-sends it after a restart,
-- fixes this: see sim.stable.)
--
-- Expect: exit 1 — the check "every participant decided" fails, and the
--         summary lists the three participants still waiting.
-- Run:    dsim run scenarios/failures/crash_two_phase.lua --seed 1

local decided = {}

local function participant()
  local ch = channel.new()
  local me = ch:join("participant")
  local coord, msg = ch:recvFromAny()
  assert(msg == "PREPARE")
  ch:sendTo(coord, "YES")                    -- promised: now it must wait
  local _, decision = ch:recvFrom(coord)     -- blocks until COMMIT or ABORT
  decided[me] = decision
end

local function coordinator()
  local ch = channel.new()
  ch:join("coordinator")
  sim.sleep(0.001)                           -- let the participants join
  local ps = ch:subgroup("participant")
  ch:sendTo(ps, "PREPARE")
  for _ = 1, #ps do
    local _, vote = ch:recvFrom(ps)
    assert(vote == "YES")
  end
  sim.sleep(0.005)                           -- writing the decision down
  ch:sendTo(ps, "COMMIT")
end

local c = sim.spawn(coordinator)
local parts = {}
for i = 1, 3 do parts[i] = sim.spawn(participant) end

sim.at(0.004, function() sim.crash(c) end)   -- votes are in, COMMIT not sent

sim.finally(function()
  for _, p in ipairs(parts) do
    sim.check(decided[p] ~= nil, "every participant decided (pid " .. p .. " is still uncertain)")
  end
end)
