-- reordering_breaks_fifo.lua — a protocol that assumes FIFO delivery.
--
-- A writer sends three updates of one value, "x = 1", "x = 2", "x = 3",
-- one right after the other, and a replica applies each update as it
-- arrives. On a datagram network (the default) each message has its own
-- delay, here anything from 1 to 20 ms, so a later update can overtake an
-- earlier one and the replica ends with a stale value. The same scenario
-- with  net.configure{ ordering = "fifo" }  (a stream, like TCP) passes;
-- so does a replica that keeps the highest version it has seen.
--
-- Expect: exit 1 — the check "the replica ends with the last value" fails.
-- Run:    dsim run scenarios/failures/reordering_breaks_fifo.lua --seed 1

net.configure{ delay = {"uniform", "1ms", "20ms"} }

local x

local function replica()
  local ch = channel.new()
  ch:join("replica")
  while true do
    local _, update = ch:recvFromAny()
    x = update.x                             -- assumes updates arrive in order
    print("applied x = " .. x)
  end
end

local function writer()
  local ch = channel.new()
  ch:join("writer")
  local r = ch:subgroup("replica")[1]
  for v = 1, 3 do ch:sendTo(r, {x = v}) end
end

sim.spawn(replica)
sim.spawn(writer)

sim.finally(function()
  sim.check(x == 3, "the replica ends with the last value (x = " .. tostring(x) .. ")")
end)
