-- Sends one message per key of a string-keyed table, in pairs() order.
-- Plain Lua 5.4 would visit these keys in a different order in every
-- process (its string hash is seeded per process); dsim's pairs must not.
local keys = {}
for i = 1, 40 do keys["key" .. i] = i end
keys.alpha, keys.omega, keys[""] = 1, 2, 3

local ch = channel.new()
local sink = sim.spawn(function()
  ch:join("sink")
  while true do ch:recvFromAny() end
end)
sim.spawn(function()
  ch:join("source")
  for k, v in pairs(keys) do ch:sendTo(sink, k .. "=" .. v) end
end)
