-- UDP lab, part 2: the failures the chapter says datagrams suffer from,
-- happening: omission (messages dropped), ordering (messages arrive out of
-- sender order) and duplication.
--
-- A sender sends 40 numbered datagrams, one every millisecond, to a
-- receiver. The network loses 15% of them, duplicates 5%, and delays each
-- by 1-30 ms, so later datagrams often overtake earlier ones. The receiver
-- prints what it saw; the checks state what UDP *does* guarantee: every
-- datagram that arrives is one that was sent, whole and unmodified (message
-- boundaries are preserved; a datagram is never split or merged).
--
--   dsim run scenarios/labs/udp/failures.lua --seed 3
--
-- In the trace: `drop` lines with reason "loss", `dup` lines, and `deliver`
-- lines whose order differs from the `send` order (compare their `mid`s).

local udp = require("udp")

net.configure{ delay = { "uniform", "1ms", "30ms" }, loss = 0.15, duplicate = 0.05 }

local N = 40
local sent = {}  -- number -> payload (what the sender sent, for the checks)
local SERVER = "10.0.2.1"

local function payload(i)
  return string.format("datagram %02d ", i) .. string.rep(string.char(65 + i % 26), i)
end

local function receiver()
  local s = udp.socket(9000, { host = SERVER })
  local arrivals, seen = {}, {}
  while true do
    local p = s:receive(0.5)
    if not p then break end
    local i = tonumber(p.data:match("^datagram (%d+) "))
    sim.check(i ~= nil and sent[i] == p.data,
              "integrity: datagram arrived whole and unmodified (" .. p.data:sub(1, 20) .. ")")
    arrivals[#arrivals + 1] = i
    seen[i] = (seen[i] or 0) + 1
  end
  local lost, dups, reordered, highest = {}, 0, 0, 0
  for i = 1, N do
    if not seen[i] then lost[#lost + 1] = i end
    if (seen[i] or 0) > 1 then dups = dups + seen[i] - 1 end
  end
  for _, i in ipairs(arrivals) do
    if i < highest then reordered = reordered + 1 end
    highest = math.max(highest, i)
  end
  print("arrival order: " .. table.concat(arrivals, " "))
  print(string.format("omission: %d of %d lost (%s)", #lost, N, table.concat(lost, " ")))
  print(string.format("ordering: %d arrived after a later-numbered one", reordered))
  print(string.format("duplication: %d extra copies", dups))
  sim.check(#arrivals == N - #lost + dups, "every arrival is accounted for")
end

local function sender()
  local s = udp.socket()
  for i = 1, N do
    sent[i] = payload(i)
    s:send(sent[i], SERVER, 9000)
    sim.sleep(0.001)
  end
end

sim.spawn(receiver)
sim.spawn(sender)
