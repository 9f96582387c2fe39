-- A small run with every mark the reports draw, for the report tests.
--
-- A Lua server answers three Lua clients over a network that loses and
-- duplicates messages; a C echo server answers a C echo client; a
-- bystander only logs. The scenario cuts the server off from the clients
-- for 18 ms and crashes the first client for 20 ms, so some clients miss
-- replies and their own check (made inside the process) fails.
--
--   dsim run tests/cli/data/report_faults.lua --seed 4 --trace faults.jsonl

net.configure{ delay = {"uniform", "1ms", "3ms"}, loss = 0.1, duplicate = 0.2 }

local function server()
  local ch = channel.new()
  ch:join("server")
  while true do
    local src, msg = ch:recvFromAny()
    ch:sendTo({src}, "ack " .. msg)
  end
end

local function client(n)
  local ch = channel.new()
  local me = ch:join("client")
  local srv = ch:subgroup("server")
  local got = 0
  for i = 1, n do
    ch:sendTo(srv, "req " .. me .. "." .. i)
    local _, reply = ch:recvFrom(srv, 0.01)
    if reply then got = got + 1 end
    sim.sleep(0.003)
  end
  sim.check(got == n, "client " .. me .. " got " .. got .. " of " .. n .. " replies")
end

local function bystander()
  local ch = channel.new()
  ch:join("other")
  for i = 1, 3 do
    sim.sleep(0.005)
    sim.log("bystander tick " .. i)
  end
end

sim.spawn(server)
local first = sim.spawn(client, 10)
for _ = 1, 2 do sim.spawn(client, 10) end
sim.spawn(bystander)
sim.spawn("echo_server")
sim.spawn("echo_client", 3, "20ms")

sim.at(0.012, function() net.partition({"server"}, {"client"}) end)
sim.at(0.030, function() net.heal() end)
sim.at(0.020, function() sim.crash(first) end)
sim.at(0.040, function() sim.restart(first) end)
