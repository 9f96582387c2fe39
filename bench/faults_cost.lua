-- faults_cost.lua — the Lua half of bench_faults_cost: W3-style client-server
-- (C clients, R request-reply rounds each, 1 ms each way) through the
-- blocking channel API, on the fault-free path. Measures the Lua receive
-- path, which fault injection also touches (the corruption flag).
--
--   dsim run bench/faults_cost.lua -q        (100 clients x 1000 rounds)
local CLIENTS, ROUNDS = 100, 1000

local function server()
  local ch = channel.new()
  ch:join("server")
  while true do
    local src, msg = ch:recvFromAny()
    ch:sendTo(src, msg)
  end
end

local done = 0
local function client()
  local ch = channel.new()
  ch:join("client")
  local srv = ch:subgroup("server")
  for i = 1, ROUNDS do
    ch:sendTo(srv, i)
    local _, r = ch:recvFrom(srv)
    assert(r == i)
  end
  done = done + 1
end

sim.spawn(server)
for _ = 1, CLIENTS do sim.spawn(client) end
sim.finally(function() sim.check(done == CLIENTS, "every client finished") end)
