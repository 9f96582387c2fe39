-- faults_edges.lua — the fault events faults_all.lua leaves out or shows
-- once, for tests/cli/test_report_faults.py: a link rule and a message
-- rule removed by the scenario, a hold released, a pause, a link down,
-- a clock stepped by its own process, synced and unsynced writes lost or
-- torn by a crash, and a nemesis stopped early (with a turn it skips).
--
--   dsim run tests/cli/data/faults_edges.lua --seed 3 --trace edges.jsonl

net.configure{ delay = {"uniform", "1ms", "2ms"} }

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
  ch:join("client")
  local srv = ch:subgroup("server")[1]
  for i = 1, n do
    ch:sendTo(srv, "ping " .. i)
    ch:recvFrom(srv, 0.02)
    sim.stable.last = i
    if i % 7 == 0 then sim.sync() end
    if i == 30 then sim.adjust_clock(-0.002) end
    sim.sleep(0.01)
  end
end

local s = sim.spawn(server)
local c1 = sim.spawn(client, 60)
local c2 = sim.spawn(client, 60)

local slow = net.link(c1, s, {delay = "5ms"})
local rule = net.rule{ from = c2, to = s, name = "delay every 3rd",
  action = function(m) if m.count % 3 == 0 then return {delay = "4ms"} end end }
local drop = net.rule{ name = "drop every 4th reply to c1", to = c1,
  action = function(m) if m.count % 4 == 0 then return "drop" end end }

sim.storage_faults(c1, {lost = 1})
sim.storage_faults(c2, {torn = 1})

sim.at(0.05, function() net.unlink(slow) end)
sim.at(0.08, function() net.unrule(rule) end)
sim.at(0.10, function() net.hold(s, c2) end)
sim.at(0.14, function() net.release() end)
sim.at(0.16, function() sim.pause(c1) end)
sim.at(0.20, function() sim.resume(c1) end)
sim.at(0.22, function() net.down(c1, s, {oneway = true}) end)
sim.at(0.26, function() net.up() end)
sim.at(0.28, function() sim.set_clock(c2, {offset = -0.05, drift = -1e-3}) end)
sim.at(0.33, function() sim.crash(c1); sim.crash(c2) end)
sim.at(0.36, function() sim.restart(c1); sim.restart(c2) end)
sim.at(0.37, function() net.unrule(drop) end)

local nem = sim.nemesis{ start = 0.40, stop = 2, interval = {"constant", "20ms"}, targets = {c1},
  faults = { {"partition", duration = "10ms"}, {"pause", duration = "10ms"} } }
sim.at(0.55, function() sim.nemesis_stop(nem) end)
