local ch = channel.new()
sim.spawn(function()
  ch:join("a")
  ch:sendTo({42}, "hello")   -- line 4: pid 42 does not exist
end)
