-- Group lab (reference): totally ordered multicast with a sequencer. Four
-- members multicast 5 messages each at about the same time, so their
-- messages are concurrent; member 1 (the oldest) is the sequencer. Over a
-- network that reorders (1-15 ms), loses 20% and duplicates 5%, with one
-- member joining at t=0.05, every two members must deliver any two
-- messages in the same order.
--
-- Checks: integrity, agreement, total order.
--
--   dsim run scenarios/labs/group/total.lua --seed 1
-- In the trace: "ORDER mid=... g=... prev=..." from the sequencer.

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "15ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.chat("total", { members = 4, count = 5, joiner = true })

sim.finally(function()
  print(checkers.summary(w.log))
  checkers.integrity(w.log)
  checkers.agreement(w.log, w.correct)
  checkers.total(w.log)
end)
