-- Request-reply lab, naive variant: duplicates are filtered but the server
-- keeps no reply history. When a reply is lost, the client's retransmitted
-- request is recognised as a duplicate and ignored, and since the reply is
-- gone the client never gets one: it gives up after its last attempt. The
-- check "every client gets its reply" catches it. (The server must either
-- keep the reply or execute the request again, which only idempotent
-- operations allow.)
--
--   dsim run scenarios/labs/request-reply/naive_no_history.lua --seed 1

local bank = require("bank")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.1 }

local obs = bank.run{ port = 6789, protocol = "RR", clients = 6, deposits = 5,
                      timeout = 0.05, attempts = 20, history = false }

sim.finally(function()
  bank.check_replies(obs, "RR without a reply history")
  bank.check_at_most_once(obs, "RR without a reply history")
  bank.check_balances(obs, "RR without a reply history")
end)
