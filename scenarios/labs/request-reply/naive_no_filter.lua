-- Request-reply lab, naive variant: the same bank and faults as rr.lua, but
-- the server neither filters duplicate requests nor keeps a reply history:
-- every request that arrives is executed. When a reply is lost (or the
-- network duplicates a request) the client's retransmission deposits the
-- money a second time. The check "at-most-once" catches it, and the
-- balance check would too.
--
--   dsim run scenarios/labs/request-reply/naive_no_filter.lua --seed 1

local bank = require("bank")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.1 }

local obs = bank.run{ port = 6789, protocol = "RR", clients = 6, deposits = 5,
                      timeout = 0.05, attempts = 20, filter = false, history = false }

sim.finally(function()
  bank.check_at_most_once(obs, "RR without duplicate filtering")
  bank.check_replies(obs, "RR without duplicate filtering")
  bank.check_balances(obs, "RR without duplicate filtering")
end)
