-- W1 ping-pong (../shared/bench/WORKLOADS.md) with Lua processes.
--   dsim run bench/lua/w1.lua -D P=1000 -D M=1000 -q
-- P pairs; each pinger sends a 16-byte ping, the ponger answers, M round
-- trips per pair; 1 ms per message (the default network). 2*P*M deliveries,
-- virtual end 2*M ms.
local P, M = sim.param("P", 1000), sim.param("M", 1000)
local MSG = "0123456789abcdef"
local ch = channel.new()
local done = 0

local function ponger()
  ch:join("pong")
  while true do
    local src = ch:recvFromAny()
    ch:sendTo(src, MSG)
  end
end

local function pinger(peer)
  ch:join("ping")
  for _ = 1, M do
    ch:sendTo(peer, MSG)
    ch:recvFromAny()
  end
  done = done + 1
end

for _ = 1, P do
  local pong = sim.spawn(ponger)
  sim.spawn(pinger, pong)
end
sim.finally(function()
  sim.check(done == P, "all pairs finished")
  sim.check(sim.now() == 2 * M * 0.001, "virtual end " .. sim.now())
end)
