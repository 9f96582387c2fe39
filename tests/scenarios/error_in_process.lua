local function worker()
  sim.sleep(0.25)
  local cfg = nil
  return cfg.size   -- line 4: index a nil value
end
sim.spawn(worker)
