-- Processes written in C, spawned and checked from Lua.
--
-- examples/protocols/echo.c defines two handler-based C processes: an echo
-- server and a client that sends numbered requests and retransmits on
-- timeout. They are registered in the dsim binary under the names used
-- below. A Lua process talks to the same C server over the same channel.
--
--   dsim run scenarios/examples/c_echo.lua --seed 3

net.configure{ delay = {"uniform", "1ms", "10ms"}, loss = 0.25, duplicate = 0.05 }

local server = sim.spawn("echo_server")
local clients = {}
for i = 1, 4 do
  clients[i] = sim.spawn("echo_client", 20, "40ms")  -- 20 requests, 40 ms timeout
end

-- A Lua client of the C server: same protocol, written in Lua.
local lua_ok = false
sim.spawn(function()
  local ch = channel.new()
  ch:join("lua_client")
  local srv = ch:subgroup("echo_server")
  for attempt = 1, 20 do
    ch:sendTo(srv, "from lua")
    local src, reply = ch:recvFrom(srv, 0.040)
    if reply == "from lua" then lua_ok = true; break end
  end
end)

sim.finally(function()
  for _, pid in ipairs(clients) do
    sim.check(sim.state(pid) == "exited", "C client " .. pid .. " finished (" .. sim.state(pid) .. ")")
  end
  sim.check(lua_ok, "the Lua client got an echo from the C server")
end)
