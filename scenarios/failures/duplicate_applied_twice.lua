-- duplicate_applied_twice.lua — a duplicated message applied twice.
--
-- A client sends ten "add 10" messages to a counter, one every 10 ms. The
-- network sometimes delivers a message twice (duplicate = 0.2: one send in
-- five arrives two times). The counter adds whatever arrives, so each
-- duplicate is counted again. Numbering the messages and ignoring a number
-- seen before makes the counter correct.
--
-- Expect: exit 1 — the check "the counter saw each add once" fails
--         (it ends above 100).
-- Run:    dsim run scenarios/failures/duplicate_applied_twice.lua --seed 1

net.configure{ duplicate = 0.2, delay = {"uniform", "1ms", "3ms"} }

local total = 0

local function counter()
  local ch = channel.new()
  ch:join("counter")
  while true do
    local _, msg = ch:recvFromAny()
    total = total + msg.add                  -- naive: no duplicate detection
  end
end

local function client()
  local ch = channel.new()
  ch:join("client")
  local c = ch:subgroup("counter")[1]
  for seq = 1, 10 do
    ch:sendTo(c, {seq = seq, add = 10})
    sim.sleep(0.010)
  end
end

sim.spawn(counter)
sim.spawn(client)

sim.finally(function()
  sim.check(total == 100, "the counter saw each add once (total " .. total .. ")")
end)
