-- Group lab (reference): reliable multicast under loss, duplication and a
-- sender crash, with members joining and leaving.
--
-- Five members each multicast 5 messages to the group 228.5.6.7:6789 over a
-- network that loses 20% of datagrams, duplicates 5% and reorders them.
-- Member 1 crashes at a random moment, possibly half-way through a
-- multicast (some members have its message, others not yet); member 2
-- leaves at t=0.06; a sixth member joins at t=0.05.
--
-- Checks (the built-in checkers, over a log of every multicast and
-- delivery): integrity, validity, agreement among the correct members
-- (never crashed, never left).
--
--   dsim run scenarios/labs/group/reliable.lua --seed 1 --trace out.jsonl
-- In the trace: "DATA mid=..." copies, their "ACK m:..." answers, and the
-- forwarded copies each member sends on first receipt (R-multicast).

local checkers = require("checkers")
local workloads = require("workloads")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.05 }

local w = workloads.chat("reliable", { members = 5, count = 5, joiner = true, leaver = true, crash = true })

sim.finally(function()
  print(checkers.summary(w.log))
  checkers.integrity(w.log)
  checkers.validity(w.log, w.correct)
  checkers.agreement(w.log, w.correct)
end)
