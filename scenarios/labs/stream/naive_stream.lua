-- Stream lab, naive variant: "reliable" transfer without sequence numbers.
--
-- The sender sends the data in 256-byte chunks, one datagram at a time,
-- and waits for an "ACK" datagram; when none comes within 50 ms it sends
-- the chunk again (stop-and-wait with retransmission). The receiver appends
-- every chunk it receives and answers "ACK". Nothing numbers the chunks or
-- the acknowledgements, so:
--   * when an ACK is lost, the retransmitted chunk is appended twice;
--   * when the network duplicates a chunk, it is appended twice;
--   * a late ACK for an earlier chunk is taken for the current one, and
--     the current chunk may then be lost for good.
-- Under the same faults as transfer.lua the check "stream intact" fails.
-- Sequence numbers (and acknowledging *which* bytes arrived) are what
-- stream.lua adds.
--
--   dsim run scenarios/labs/stream/naive_stream.lua --seed 1

local udp = require("udp")

net.configure{ delay = { "uniform", "1ms", "20ms" }, loss = 0.3, duplicate = 0.1 }

local SERVER, PORT = "10.0.5.1", 7896
local lines = {}
for i = 1, 100 do lines[i] = string.format("line %04d of the stream lab: abcdefghij\n", i) end
local DATA = table.concat(lines)
local got = {}

local function receiver()
  local s = udp.socket(PORT, { host = SERVER })
  while true do
    local p = s:receive(2.0)
    if not p then break end -- the sender has long finished
    got[#got + 1] = p.data
    s:send("ACK", p.address, p.port)
  end
end

local function sender()
  local s = udp.socket()
  for i = 1, #DATA, 256 do
    local chunk = DATA:sub(i, i + 255)
    repeat
      s:send(chunk, SERVER, PORT)
      local ack = s:receive(0.05)
    until ack and ack.data == "ACK"
  end
end

sim.spawn(receiver)
sim.spawn(sender)

sim.finally(function()
  local r = table.concat(got)
  local first_diff
  for i = 1, math.max(#r, #DATA) do
    if r:byte(i) ~= DATA:byte(i) then first_diff = i break end
  end
  sim.check(r == DATA, string.format("stream intact: server read %d of %d bytes, first difference at byte %s",
                                     #r, #DATA, tostring(first_diff)))
end)
