-- Group lab (reference): FIFO-ordered reliable multicast. Four members
-- multicast 5 messages each, quickly, over a network that reorders (delay
-- 1-15 ms), loses 20% and duplicates 5%; one joins at t=0.05. Each
-- member's messages must be delivered everywhere in the order it sent them.
--
-- Checks: integrity, agreement, FIFO order.
--
--   dsim run scenarios/labs/group/fifo.lua --seed 1

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "15ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.chat("fifo", { members = 4, count = 5, joiner = true })

sim.finally(function()
  print(checkers.summary(w.log))
  checkers.integrity(w.log)
  checkers.agreement(w.log, w.correct)
  checkers.fifo(w.log, w.correct)
end)
