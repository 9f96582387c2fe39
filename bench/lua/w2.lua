-- W2 all-to-all gossip with Lua processes.
--   dsim run bench/lua/w2.lua -D N=100000 -D K=10000000 -q
-- N processes; each starts by sending one 16-byte message to a random other
-- process; whoever receives one counts it and forwards it to a random other
-- process. Latency is uniform in [1 ms, 10 ms). The run stops at the K-th
-- delivery (sim.stop). Every pid is joined before the processes start (the
-- textbook's join before fork), so that the first sends find their peers.
local N, K = sim.param("N", 100000), sim.param("K", 10000000)
local MSG = "0123456789abcdef"
net.configure{ delay = {"uniform", "1ms", "10ms"} }
local ch = channel.new()
local count = 0

local pids = {}
for i = 1, N do pids[i] = ch:join("g") end
local first = pids[1]

local function gossip(me)
  ch:bind(me)
  local function other()
    local r = math.random(N - 1) + first - 1     -- a pid other than me
    if r >= me then r = r + 1 end
    return r
  end
  ch:sendTo(other(), MSG)
  while true do
    ch:recvFromAny()
    count = count + 1
    if count == K then sim.stop() return end
    ch:sendTo(other(), MSG)
  end
end

for i = 1, N do sim.spawn(gossip, pids[i]) end
sim.finally(function() sim.check(count == K, "deliveries " .. count) end)
