-- corruption_checksum.lua — corrupted messages caught by a checksum.
--
-- A sender transfers 50 numbered records over a link that damages 30% of
-- the messages (corrupt = 0.3 flips one bit of each damaged copy). Each
-- record carries a checksum of its text; the receiver recomputes it, and
-- asks again (NAK) when they differ, so what it stores is always intact.
-- The receive call also says when the network damaged a message (its third
-- value): the check compares what the checksum caught with that truth.
--
-- Expect: exit 0 — all 50 records arrive intact, and the checksum caught
--         every damaged message.
-- Run:    dsim run scenarios/failures/corruption_checksum.lua --seed 1

local N = 50
local stored, damaged, caught = {}, 0, 0

-- A Fletcher-16 checksum of a string.
local function checksum(s)
  local a, b = 0, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 255
    b = (b + a) % 255
  end
  return b * 256 + a
end

local function receiver()
  local ch = channel.new()
  ch:join("receiver")
  while true do
    local src, msg, corrupted = ch:recvFromAny()
    if corrupted then damaged = damaged + 1 end
    -- msg is "<n>:<text>|<checksum>"; a damaged one may not even parse
    local body, sum = tostring(msg):match("^(.*)|(%d+)$")
    if body and tonumber(sum) == checksum(body) then
      local n, text = body:match("^(%d+):(.*)$")
      stored[tonumber(n)] = text
      ch:sendTo(src, "ACK " .. n)
    else
      caught = caught + 1
      ch:sendTo(src, "NAK")
    end
  end
end

local function sender()
  local ch = channel.new()
  ch:join("sender")
  local r = ch:subgroup("receiver")[1]
  for n = 1, N do
    local body = n .. ":record number " .. n
    repeat                                     -- stop and wait
      ch:sendTo(r, body .. "|" .. checksum(body))
      local _, reply = ch:recvFrom(r, 0.050)
    until reply == "ACK " .. n
  end
end

sim.spawn(receiver)
sim.spawn(sender)
net.link("sender", "receiver", {corrupt = 0.3})

sim.finally(function()
  for n = 1, N do
    sim.check(stored[n] == "record number " .. n, "record " .. n .. " arrived intact")
  end
  sim.check(damaged > 0 and caught == damaged,
            "the checksum caught every damaged message (" .. caught .. " of " .. damaged .. ")")
end)
