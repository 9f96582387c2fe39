-- split_brain.lua — two leaders at once under a partition.
--
-- Three nodes. Node 1 leads and sends a heartbeat every 100 ms. Node 2 is
-- the backup: when it hears no heartbeat for 300 ms it concludes the
-- leader is dead and takes over. At t = 1 s a partition cuts node 1 off
-- from nodes 2 and 3. Node 1 is alive and still believes it leads; node 2
-- cannot tell "dead" from "unreachable" and takes over too. Both now
-- accept writes: split brain. (A majority quorum, or a lease the old leader
-- must renew, prevents it.)
--
-- Expect: exit 1 — the check "at most one node leads" fails at t = 1.2 s.
-- Run:    dsim run scenarios/failures/split_brain.lua --seed 1

local leading = {}          -- pid -> true while that node believes it leads
local END = 3.0

local function leaders()
  local n = 0
  for _, yes in pairs(leading) do if yes then n = n + 1 end end
  return n
end

local function become_leader(me)
  leading[me] = true
  sim.check(leaders() <= 1, "at most one node leads (node " .. me .. " took over)")
end

local function node(role)
  local ch = channel.new()
  local me = ch:join("node")
  sim.sleep(0.001)                           -- let everyone join
  if role == "leader" then become_leader(me) end
  while sim.now() < END do
    if leading[me] then
      for _, p in ipairs(ch:subgroup("node")) do
        if p ~= me then ch:sendTo(p, "heartbeat") end
      end
      sim.sleep(0.100)
    else
      local src = ch:recvFromAny(0.300)      -- nil: no heartbeat for 300 ms
      if not src and role == "backup" then become_leader(me) end
    end
  end
end

sim.spawn(node, "leader")
sim.spawn(node, "backup")
sim.spawn(node, "follower")

sim.at(1.0, function() net.partition({1}, {2, 3}) end)
