-- Group lab, naive variant: the workload of total.lua with reliable
-- multicast but no sequencer: each member delivers messages in the order
-- they reach it. Concurrent messages reach different members in different
-- orders, and the check "total order" fails.
--
--   dsim run scenarios/labs/group/naive_total.lua --seed 1

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "15ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.chat("reliable", { members = 4, count = 5, joiner = true })

sim.finally(function()
  checkers.total(w.log)
  checkers.integrity(w.log)
  checkers.agreement(w.log, w.correct)
end)
