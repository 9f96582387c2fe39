-- W3 client-server with Lua processes.
--   dsim run bench/lua/w3.lua -D C=10000 -D R=100 -q
-- One server answers every request at once; C clients each make R
-- request-reply round trips. 2*C*R deliveries, virtual end 2*R ms.
local C, R = sim.param("C", 10000), sim.param("R", 100)
local MSG = "0123456789abcdef"
local ch = channel.new()
local done = 0

local server = sim.spawn(function()
  ch:join("server")
  while true do
    local src = ch:recvFromAny()
    ch:sendTo(src, MSG)
  end
end)

local function client()
  ch:join("client")
  for _ = 1, R do
    ch:sendTo(server, MSG)
    ch:recvFrom(server)
  end
  done = done + 1
end

for _ = 1, C do sim.spawn(client) end
sim.finally(function()
  sim.check(done == C, "all clients finished")
  sim.check(sim.now() == 2 * R * 0.001, "virtual end " .. sim.now())
end)
