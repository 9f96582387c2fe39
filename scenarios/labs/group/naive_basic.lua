-- Group lab, naive variant: basic multicast (one IP multicast datagram per
-- message, as in Figure 18) where reliable multicast is needed. With 20% of
-- datagrams lost, some members miss messages others delivered: the check
-- "agreement" fails (and with duplication, "integrity" can fail too).
--
--   dsim run scenarios/labs/group/naive_basic.lua --seed 1

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.chat("basic", { members = 5, count = 5 })

sim.finally(function()
  print(checkers.summary(w.log))
  checkers.agreement(w.log, w.correct)
  checkers.integrity(w.log)
  checkers.validity(w.log, w.correct)
end)
