-- lost_reply.lua — a lost reply to a non-idempotent request.
--
-- A client asks the bank to withdraw 100 from an account holding 1000 and
-- waits 50 ms for the answer. The bank debits the account and replies, but
-- the network loses that reply. The client cannot tell a lost request from
-- a lost reply, so it sends the request again, and the bank, which does
-- not remember what it already did, debits the account a second time.
-- (lost_reply_fixed.lua is the same exchange with request ids.)
--
-- Expect: exit 1 — the check "the account was debited exactly once" fails
--         (the balance ends at 800, not 900).
-- Run:    dsim run scenarios/failures/lost_reply.lua --seed 1

local balance = 1000

local function bank()
  local ch = channel.new()
  ch:join("bank")
  while true do
    local client, req = ch:recvFromAny()
    balance = balance - req.amount            -- not idempotent
    ch:sendTo(client, {ok = true, balance = balance})
  end
end

local function client()
  local ch = channel.new()
  ch:join("client")
  local bank_pid = ch:subgroup("bank")[1]
  repeat
    ch:sendTo(bank_pid, {op = "withdraw", amount = 100})
    local _, reply = ch:recvFrom(bank_pid, 0.050)   -- nil after 50 ms
  until reply
end

sim.spawn(bank)
sim.spawn(client)

-- The fault: the network loses the bank's first reply (and nothing else).
net.rule{ from = "bank", to = "client", name = "lose the first reply",
  action = function(m) if m.count == 1 then return "drop" end end }

sim.finally(function()
  sim.check(balance == 900, "the account was debited exactly once (balance " .. balance .. ")")
end)
