-- Request-reply lab: the R, RR and RRA protocols side by side (Figure 15),
-- and what RRA's acknowledgement buys: a smaller reply history.
--
-- Four bank servers run at once, each with four clients making six
-- deposits, under the same faults (15% loss, 5% duplication, 1-10 ms delay):
--   R          request only: a lost request is simply lost (maybe semantics)
--   RR         reply history, each entry kept until it expires (2 s)
--   RR-last    reply history holding only the last reply to each client
--              (its next request acknowledges the previous reply)
--   RRA        the client acknowledges each reply; the server drops the
--              entry (and every earlier one of that client) on the ack
-- The run prints one table row per protocol: deposits asked and executed
-- (lost = never executed), the deposit clients' and server's datagrams,
-- client retransmissions, replies resent from the history, acknowledgements
-- received, and the history's peak size and entry-seconds (the sum, over
-- all stored replies, of how long each was kept: the mean history size
-- times the time). Lookups through the binder (RR) and balance reads are
-- part of the history too.
--
-- Checks: at-most-once for every protocol; every reply for RR, RR-last and
-- RRA; and RRA keeps less history than RR (peak and entry-seconds).
--
--   dsim run scenarios/labs/request-reply/protocols.lua --seed 1

local bank = require("bank")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.15, duplicate = 0.05 }

local TTL = 2.0
local runs = {
  { label = "R", protocol = "R", port = 7001 },
  { label = "RR", protocol = "RR", port = 7002 },
  { label = "RR-last", protocol = "RR", port = 7003, history_policy = "last" },
  { label = "RRA", protocol = "RRA", port = 7004 },
}
for _, r in ipairs(runs) do
  r.obs = bank.run{ port = r.port, protocol = r.protocol, history_policy = r.history_policy,
                    clients = 4, deposits = 6, timeout = 0.05, attempts = 20, history_ttl = TTL }
end

sim.finally(function()
  print(string.format("%-8s %9s %9s %5s %8s %7s %7s %5s %9s %13s", "protocol", "deposits", "executed",
                      "lost", "messages", "retrans", "resent", "acks", "hist.peak", "entry-seconds"))
  for _, r in ipairs(runs) do
    local st = r.obs.server.stats
    local messages, retrans = r.obs.server.socket.stats.sent, 0
    for _, c in ipairs(r.obs.clients) do
      messages = messages + c.socket.stats.sent
      retrans = retrans + c.stats.retransmissions
    end
    r.entry_seconds = r.obs.server:history_entry_seconds()
    print(string.format("%-8s %9d %9d %5d %8d %7d %7d %5d %9d %13.3f", r.label, r.obs.deposits_asked,
                        r.obs.deposits_done, r.obs.deposits_asked - r.obs.deposits_done, messages, retrans,
                        st.resent, st.acks, st.history_peak, r.entry_seconds))
    bank.check_at_most_once(r.obs, r.label)
    if r.protocol ~= "R" then bank.check_replies(r.obs, r.label) end
  end
  local rr, rra = runs[2], runs[4]
  sim.check(rra.obs.server.stats.history_peak <= rr.obs.server.stats.history_peak,
            string.format("RRA's history peak (%d) is at most RR's (%d)", rra.obs.server.stats.history_peak,
                          rr.obs.server.stats.history_peak))
  sim.check(rra.entry_seconds < rr.entry_seconds,
            string.format("RRA keeps replies for less time than RR (%.3f vs %.3f entry-seconds)",
                          rra.entry_seconds, rr.entry_seconds))
end)
