-- One check passes, one fails inside a process at t = 1.5 s.
sim.check(true, "fine")
sim.spawn(function()
  sim.sleep(1.5)
  sim.check(1 + 1 == 3, "arithmetic is broken")
end)
