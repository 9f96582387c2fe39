-- The client-server example over a network that loses 20% of all messages
-- (requests and replies alike). A client that waits for ever, as in
-- Figure 0.1, may never get its answer; this client waits 50 ms for the
-- reply and sends its request again when none came. The server is the
-- textbook's, unchanged: answering a request twice does no harm here.
--
--   dsim run scenarios/textbook/clientserver_lossy.lua --seed 7

net.configure{ delay = {"uniform", "1ms", "5ms"}, loss = 0.2 }

local TIMEOUT = 0.050
local replies, attempts = {}, {}

local function server()
  local ci = channel.new()
  ci:join("server")
  while true do
    local src, msg = ci:recvFromAny()
    ci:sendTo({src}, "Received " .. msg)
  end
end

local function client()
  local ci = channel.new()
  local me = ci:join("client")
  local srv = ci:subgroup("server")
  local n = 0
  repeat
    n = n + 1
    ci:sendTo(srv, "Hello from " .. me)
    local src, reply = ci:recvFrom(srv, TIMEOUT)   -- nil after 50 ms
    replies[me] = reply
  until reply ~= nil
  attempts[me] = n
  print(replies[me] .. " after " .. n .. " attempt(s)")
end

sim.spawn(server)
local clients = {}
for i = 1, 10 do clients[i] = sim.spawn(client) end

sim.finally(function()
  for _, pid in ipairs(clients) do
    sim.check(replies[pid] == "Received Hello from " .. pid,
              "client " .. pid .. " got " .. tostring(replies[pid]))
  end
end)
