-- UDP lab, part 1: what the datagram socket API promises (chapter 4, "UDP
-- datagram communication"), each property stated as a check.
--
--   * A port has exactly one receiver: a second bind of a port on the same
--     host fails; the same port on another host is a different destination.
--   * A datagram longer than the maximum message size cannot be sent.
--   * A datagram longer than the receive buffer is truncated on receipt.
--   * receive blocks; with a timeout it gives up after exactly that long.
--   * receive takes datagrams from any sender and tells who sent each.
--
-- The probes talk over links without faults (so the checks test the API,
-- not luck); the rest of the network is lossy, which part 2
-- (failures.lua) is about.
--
--   dsim run scenarios/labs/udp/sockets.lua --seed 1 --trace out.jsonl

local udp = require("udp")

net.configure{ delay = { "uniform", "1ms", "20ms" }, loss = 0.2, duplicate = 0.05 }

local HOST = "10.0.1.1"

-- A receiver on host 10.0.1.1, port 6789, with a 1000-byte buffer.
local function receiver()
  local s = udp.socket(6789, { host = HOST, buffer = 1000 })
  -- 1. receive-from-any: three senders, each sends one datagram.
  local from = {}
  for _ = 1, 3 do
    local p = s:receive(1.0)
    sim.check(p ~= nil, "receive-from-any: a datagram from each of the three senders")
    if p then from[#from + 1] = p end
  end
  local who = {}
  for _, p in ipairs(from) do who[p.data] = p.address .. ":" .. p.port end
  for i = 1, 3 do
    sim.check(who["hello " .. i] ~= nil, "receive-from-any: got sender " .. i .. "'s datagram")
  end
  -- 2. truncation: a 1500-byte datagram into a 1000-byte buffer.
  local p = s:receive(1.0)
  sim.check(p and p.truncated and p.length == 1000 and p.size == 1500
            and p.data == string.rep("x", 1000),
            "a 1500-byte datagram is truncated to the 1000-byte receive buffer")
  -- 3. the same size fits a larger buffer.
  p = s:receive(1.0, 2000)
  sim.check(p and not p.truncated and p.length == 1500, "with a 2000-byte buffer nothing is cut")
  -- 4. timeout: nobody sends any more.
  local t0 = sim.now()
  local q, why = s:receive(0.25)
  sim.check(q == nil and why == "timeout", "receive returns nil, \"timeout\" when nothing arrives")
  sim.check(math.abs(sim.now() - t0 - 0.25) < 1e-6, "the timeout lasts exactly 0.25 s")
  s:close()
end

-- Another process on the same host tries to take the same port.
local function intruder()
  sim.sleep(0.001)
  local ok, err = pcall(function() local s = udp.socket(6789, { host = HOST }); return s end)
  sim.check(not ok and tostring(err):find("already bound", 1, true) ~= nil,
            "one receiver per port: a second bind on the same host fails (" .. tostring(err) .. ")")
  -- another port on the same host is free
  local s = udp.socket(6790)
  sim.check(s:localAddress() == HOST, "port 6790 on the same host binds fine")
  -- after the receiver closes the port (at ~0.3 s), it may be bound again
  sim.sleep(1.5)
  sim.check(udp.is_bound(HOST, 6789) == false, "a closed port is free")
end

-- The same port number on another host is another destination.
local function elsewhere()
  sim.sleep(0.002)
  local s = udp.socket(6789)
  local addr, port = s:localAddress()
  sim.check(addr ~= HOST and port == 6789, "port 6789 on another host (" .. addr .. ") binds fine")
end

local function sender(i)
  sim.sleep(0.01 * i)
  local s = udp.socket() -- any free local port
  local _, port = s:localAddress()
  sim.check(port >= udp.EPHEMERAL_FIRST, "an unbound client gets an ephemeral port")
  s:send("hello " .. i, HOST, 6789)
  if i == 3 then
    sim.sleep(0.1)
    local ok, err = pcall(function() s:send(string.rep("y", udp.MAX_MESSAGE + 1), HOST, 6789) end)
    sim.check(not ok and tostring(err):find("exceeds the maximum message size", 1, true) ~= nil,
              "a datagram over the maximum size cannot be sent")
    s:send(string.rep("x", 1500), HOST, 6789)
    sim.sleep(0.05)
    s:send(string.rep("z", 1500), HOST, 6789)
  end
end

local r = sim.spawn(receiver)
local others = { sim.spawn(intruder), sim.spawn(elsewhere) }
for i = 1, 3 do others[#others + 1] = sim.spawn(sender, i) end
-- the probes' links are reliable and FIFO-ish (constant delay)
net.link(others, r, { loss = 0, duplicate = 0, delay = "2ms" })
