-- The channel package's first example (Figures 0.1 and 0.2): one server and
-- ten clients on the default channel.
--
-- Figure 0.1: the server joins the channel in subgroup "server" and answers
-- every message with "Received " .. message; each client joins subgroup
-- "client", sends "Hello from <its pid>" to the server and waits for the
-- answer. Figure 0.2: start the server, then ten clients.
--
-- Run it:  dsim run scenarios/textbook/clientserver.lua --trace out.jsonl

local function server()
  local ci = channel.new()             -- self.ci = channel.Channel()
  local me = ci:join("server")         -- self.server = self.ci.join('server')
  while true do
    local src, msg = ci:recvFromAny()  -- msg = self.ci.recvAny(self.server)
    ci:sendTo({src}, "Received " .. msg)
  end
end

local replies = {}

local function client()
  local ci = channel.new()
  local me = ci:join("client")
  local srv = ci:subgroup("server")    -- self.server = self.ci.subgroup('server')
  ci:sendTo(srv, "Hello from " .. me)
  local src, reply = ci:recvFrom(srv)  -- print self.ci.recvFrom(self.client, self.server[0])
  print(reply)
  replies[me] = reply
end

-- Figure 0.2: one server, then ten clients.
sim.spawn(server)
local clients = {}
for i = 1, 10 do clients[i] = sim.spawn(client) end

sim.finally(function()
  for _, pid in ipairs(clients) do
    sim.check(replies[pid] == "Received Hello from " .. pid,
              "client " .. pid .. " got " .. tostring(replies[pid]))
  end
end)
