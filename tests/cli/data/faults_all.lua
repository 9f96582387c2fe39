-- faults_all.lua — every kind of fault in one run, for tests/cli/test_faults.py:
-- random loss, duplication and corruption, a size limit, FIFO and bandwidth
-- on one link, a message rule, a partition, a link down, a hold, a pause, a
-- crash with lost and torn writes, a clock change, and a nemesis.
net.configure{ delay = {"lognormal", "2ms", 0.5}, loss = 0.05, duplicate = 0.05, copies = 2, corrupt = 0.05 }

local function server()
  local ch = channel.new()
  ch:join("server")
  while true do
    local src, msg = ch:recvFromAny()
    ch:sendTo(src, msg)
  end
end

local function client(n)
  local ch = channel.new()
  local me = ch:join("client")
  local srv = ch:subgroup("server")[1]
  for i = 1, n do
    local pad = (i % 10 == 0) and string.rep("x", 60) or "x"   -- every 10th is too big for c3
    ch:sendTo(srv, {i = i, from = me, pad = pad})
    ch:recvFrom(srv, 0.020)
    sim.stable.last = i                                     -- never synced
    sim.stable.note = "iteration " .. i
    sim.sleep(0.010)
  end
end

local s = sim.spawn(server)
local c1 = sim.spawn(client, 150)
local c2 = sim.spawn(client, 150)
local c3 = sim.spawn(client, 150)

net.link(c3, s, {max_size = 40})
net.link(c2, s, {ordering = "fifo", bandwidth = "1Mbps"})
net.rule{ from = c1, to = s, name = "every 7th dropped, 11th delayed and copied, 13th corrupted",
  action = function(m)
    if m.count % 7 == 0 then return "drop" end
    if m.count % 11 == 0 then return {delay = "5ms", duplicate = 1} end
    if m.count % 13 == 0 then return "corrupt" end
  end }

sim.storage_faults(c1, {lost = 1})
sim.storage_faults(c2, {torn = 1})

sim.at(0.05, function() sim.set_clock(s, {offset = 0.1, drift = 1e-4}) end)
sim.at(0.10, function() net.partition({c1}, {"server"}) end)
sim.at(0.15, function() net.heal() end)
sim.at(0.20, function() net.down(c2, s) end)
sim.at(0.25, function() net.up() end)
sim.at(0.30, function() net.hold(c3, s) end)
sim.at(0.35, function() net.release() end)
sim.at(0.40, function() sim.pause(s) end)
sim.at(0.45, function() sim.resume(s) end)
sim.at(0.50, function() sim.crash(c1); sim.crash(c2) end)
sim.at(0.55, function() sim.restart(c1); sim.restart(c2) end)

sim.nemesis{ start = 0.6, stop = 1.5, interval = {"exponential", "50ms"}, targets = {"client", "server"},
  faults = {
    {"partition", weight = 2, duration = {"uniform", "10ms", "50ms"}},
    {"crash", duration = "30ms"},
    {"pause", duration = "30ms"},
    {"loss", loss = 0.5, duration = "50ms"},
    {"link_down", duration = "30ms"},
  } }
