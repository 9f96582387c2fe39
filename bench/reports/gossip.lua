-- Gossip under faults: the load generator for the "Reports at scale"
-- benchmark (bench/README.md). Sixteen processes keep pushing rumours to
-- random peers and acknowledging what they hear, over a network that loses
-- and duplicates messages, while the scenario cuts partitions and crashes
-- and restarts processes. The run never becomes quiescent: stop it with
-- --max-events (about 3.3 trace lines per kernel event).
--
--   dsim run bench/reports/gossip.lua --max-events 3000000 --trace big.jsonl

local N = 16

net.configure{ delay = {"uniform", "1ms", "9ms"}, loss = 0.02, duplicate = 0.01 }

local function node(k)
  local ch = channel.new()
  local me = ch:join(k % 4 == 0 and "seed" or "peer")
  local heard = 0
  while true do
    local src, msg = ch:recvFromAny(0.004)
    if src == nil then
      local peer = sim.random(N)
      if peer ~= me then ch:sendTo({peer}, {rumour = me, n = heard}) end
    elseif type(msg) == "table" then
      heard = heard + 1
      ch:sendTo({src}, "ack " .. heard)
    end
  end
end

local pids = {}
for k = 1, N do pids[k] = sim.spawn(node, k) end

-- Every 2 s a partition separates the seeds from the peers for 300 ms.
sim.every(2.0, function()
  local id = net.partition({"seed"}, {"peer"})
  sim.after(0.3, function() net.heal(id) end)
end)

-- Every 1.5 s one process crashes and comes back 200 ms later.
local victim = 0
sim.every(1.5, function()
  victim = victim % N + 1
  local pid = pids[victim]
  sim.crash(pid)
  sim.after(0.2, function() sim.restart(pid) end)
end)

sim.every(10.0, function() sim.check(true, "still gossiping") end)
