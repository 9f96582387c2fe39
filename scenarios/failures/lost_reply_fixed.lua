-- lost_reply_fixed.lua — the same lost reply, survived with request ids.
--
-- As in lost_reply.lua the network loses the bank's first reply and the
-- client retries. This time every request carries an id, and the bank
-- remembers the reply it gave to each id: a retry gets the same answer
-- again instead of a second withdrawal (at-most-once execution, the
-- "reply history" of Coulouris et al., section 4.2).
--
-- Expect: exit 0 — the account is debited exactly once.
-- Run:    dsim run scenarios/failures/lost_reply_fixed.lua --seed 1

local balance = 1000

local function bank()
  local ch = channel.new()
  ch:join("bank")
  local replies = {}                            -- request id -> reply sent
  while true do
    local client, req = ch:recvFromAny()
    if not replies[req.id] then
      balance = balance - req.amount
      replies[req.id] = {ok = true, balance = balance}
    end
    ch:sendTo(client, replies[req.id])
  end
end

local function client()
  local ch = channel.new()
  local me = ch:join("client")
  local bank_pid = ch:subgroup("bank")[1]
  local id = me .. ":1"                         -- unique per request
  repeat
    ch:sendTo(bank_pid, {op = "withdraw", amount = 100, id = id})
    local _, reply = ch:recvFrom(bank_pid, 0.050)
  until reply
end

sim.spawn(bank)
sim.spawn(client)

net.rule{ from = "bank", to = "client", name = "lose the first reply",
  action = function(m) if m.count == 1 then return "drop" end end }

sim.finally(function()
  sim.check(balance == 900, "the account was debited exactly once (balance " .. balance .. ")")
end)
