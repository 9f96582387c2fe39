-- Many messages over a lossy, duplicating network with random delays: the
-- trace depends on the seed, and only on the seed.
net.configure{ delay = {"uniform", "1ms", "20ms"}, loss = 0.2, duplicate = 0.1 }
local ch = channel.new()
local n = 0
local sink = sim.spawn(function()
  ch:join("sink")
  while true do ch:recvFromAny(); n = n + 1 end
end)
for i = 1, 5 do
  sim.spawn(function()
    ch:join("source")
    for j = 1, 40 do
      ch:sendTo(sink, {from = i, seq = j, r = math.random(1000)})
      sim.sleep(math.random() * 0.01)
    end
  end)
end
sim.finally(function() sim.check(n > 0, "some messages arrived") end)
