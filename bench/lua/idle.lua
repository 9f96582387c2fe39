-- N Lua processes that join the channel and block in recvFromAny for ever:
-- the marginal memory of an idle Lua process.
--   dsim run bench/lua/idle.lua -D N=100000 -q
local N = sim.param("N", 100000)
local ch = channel.new()
for _ = 1, N do
  sim.spawn(function()
    ch:join("idle")
    ch:recvFromAny()
  end)
end
