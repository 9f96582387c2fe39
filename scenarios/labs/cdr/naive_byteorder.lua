-- External data representation lab, naive variant: the same hosts and
-- records, but each host sends the bare bytes of its native representation
-- (no byte-order flag) and the registry assumes everybody is big-endian.
-- Records from a little-endian host are misread: 1934 comes out as
-- 2382823424, a string length of 5 as 83886080 (the decoder then reports
-- truncated input). The check "cdr: every record received decodes to the
-- value sent" fails whenever some host is little-endian — which the seed
-- decides, as it decides which machines a real system happens to mix.
--
--   dsim run scenarios/labs/cdr/naive_byteorder.lua --seed 1

local people = require("people")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.1, duplicate = 0.1 }

local sent, obs = {}, { ok = {}, rejected = {}, misread = {} }
local orders = {}
sim.spawn(people.registry, 8192, true, obs)
for i = 1, 3 do
  orders[i] = sim.random(2) == 1 and "big" or "little"
  sim.spawn(people.sender, i, orders[i], 8, true, sent)
end

sim.finally(function()
  print("hosts' byte orders: " .. table.concat(orders, ", "))
  people.check(obs, sent, true)
end)
