-- Group lab (reference): causally ordered multicast (vector clocks). A
-- discussion: member 1 multicasts questions; members answer some of the
-- questions they deliver, and member 2 follows up on answers. An answer
-- happened after its question, a follow-up after its answer: every member
-- must deliver them in that order, though the network reorders (1-15 ms),
-- loses 20% and duplicates 5%; a member joins at t=0.03.
--
-- Checks: integrity, agreement, causal order (computed by the checker from
-- the log of multicasts and deliveries, independently of the protocol's
-- own vector clocks).
--
--   dsim run scenarios/labs/group/causal.lua --seed 1

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "15ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.discussion("causal", { members = 4, questions = 5, joiner = true })

sim.finally(function()
  print(checkers.summary(w.log))
  checkers.integrity(w.log)
  checkers.agreement(w.log, w.correct)
  checkers.causal(w.log, w.correct)
end)
