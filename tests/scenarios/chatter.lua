-- Two processes exchange messages for as long as the run lasts (--until):
-- the trace grows with the run, memory must not.
local ch = channel.new()
local echo = sim.spawn(function()
  ch:join("x")
  while true do
    local src, m = ch:recvFromAny()
    ch:sendTo(src, m)
  end
end)
sim.spawn(function()
  ch:join("x")
  while true do
    ch:sendTo(echo, "ping ping ping ping")
    ch:recvFromAny()
  end
end)
