-- Request-reply lab (reference): the RR protocol with duplicate filtering
-- and a reply history, under omission, duplication, reordering and a
-- partition.
--
-- Six clients each deposit five amounts into one shared account at a bank
-- server (bank.lua). Deposits are not idempotent: executing one twice gives
-- the wrong balance. The network loses 20% of datagrams, duplicates 10%,
-- delays them 1-10 ms, and cuts the server off from 0.10 s to 0.25 s.
-- Clients time out after 50 ms and retransmit (up to 20 sends). The server
-- recognises a retransmitted request by (client address, port, requestId):
-- if it has replied already it sends the reply from its history again, if
-- not it ignores the duplicate.
--
-- Checks (the chapter's properties):
--   at-most-once       no request is executed twice;
--   every reply        every client gets a reply to every operation;
--   balance            the account holds exactly the sum of the deposits.
--
--   dsim run scenarios/labs/request-reply/rr.lua --seed 1 --trace out.jsonl

local bank = require("bank")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.1 }

local obs, server = bank.run{ port = 6789, protocol = "RR", clients = 6, deposits = 5,
                              timeout = 0.05, attempts = 20, history_ttl = 1.5 }

sim.at(0.10, function() net.partition({ server }, { "udp" }) end)
sim.at(0.25, function() net.heal() end)

sim.finally(function()
  local st = obs.server.stats
  print(string.format("server: %d requests received, %d executed, %d duplicates (%d answered from the history)",
                      st.received, st.executed, st.duplicates, st.resent))
  bank.check_at_most_once(obs, "RR")
  bank.check_replies(obs, "RR")
  bank.check_balances(obs, "RR")
end)
