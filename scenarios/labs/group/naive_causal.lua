-- Group lab, naive variant: the discussion of causal.lua with FIFO
-- ordering only. FIFO keeps each member's own messages in order, but an
-- answer (from one member) can overtake its question (from another) on the
-- way to a third member, who then delivers the answer first: the check
-- "causal order" fails.
--
--   dsim run scenarios/labs/group/naive_causal.lua --seed 1

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "15ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.discussion("fifo", { members = 4, questions = 5, joiner = true })

sim.finally(function()
  checkers.causal(w.log, w.correct)
  checkers.integrity(w.log)
  checkers.agreement(w.log, w.correct)
end)
