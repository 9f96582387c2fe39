-- Figures 0.1 and 0.2 in their original shape: the parent creates the
-- Server and the ten Client objects first (each constructor joins the
-- channel), then forks one process per object, and each child binds to the
-- pid its object joined with before it runs.
--
-- In dsim a join made outside any process reserves a fresh pid; a process
-- adopts it with bind(pid), exactly like the textbook's bind after fork.

local Server = {}
Server.__index = Server

function Server.new()
  local self = setmetatable({}, Server)
  self.ci = channel.new()
  self.server = self.ci:join("server")       -- joined by the parent
  return self
end

function Server:run()
  self.ci:bind(self.server)                   -- in the child, after fork
  while true do
    local src, msg = self.ci:recvFromAny()
    self.ci:sendTo({src}, "Received " .. msg)
  end
end

local Client = {}
Client.__index = Client

local replies = {}

function Client.new()
  local self = setmetatable({}, Client)
  self.ci = channel.new()
  self.client = self.ci:join("client")
  self.server = self.ci:subgroup("server")
  return self
end

function Client:run()
  self.ci:bind(self.client)
  self.ci:sendTo(self.server, "Hello from " .. self.client)
  local src, reply = self.ci:recvFrom(self.server)
  print(reply)
  replies[self.client] = reply
end

-- Figure 0.2
local server = Server.new()
local clients = {}
for i = 1, 10 do clients[i] = Client.new() end

sim.spawn(function() server:run() end)              -- pid = os.fork(); server.run()
for i = 1, 10 do
  sim.spawn(function() clients[i]:run() end)         -- client[i].run() in a child
end

sim.finally(function()
  for _, c in ipairs(clients) do
    sim.check(replies[c.client] == "Received Hello from " .. c.client,
              "client " .. c.client .. " got " .. tostring(replies[c.client]))
  end
end)
