-- Stream lab: goodput against loss rate. One client sends 16 KB over a
-- fresh connection, three times per loss rate, in phases; before each phase
-- it sets the network's loss rate (net.configure). Goodput is the application data
-- delivered per second of (virtual) time, from connect until the server's
-- confirmation arrives (so it includes the handshake and every
-- retransmission). The run prints the table; the checks require the stream
-- to arrive intact at every loss rate.
--
--   dsim run scenarios/labs/stream/goodput.lua --seed 1
--
-- Try: a larger window or mss (OPTS below), or a longer delay, and see
-- which loss rates they help.

local stream = require("stream")

local LOSSES = { 0.0, 0.05, 0.1, 0.2, 0.3, 0.4 }
local SIZE = 16 * 1024
local REPEAT = 3
local SERVER, PORT = "10.0.7.1", 7896
local OPTS = { mss = 512, window = 4096, rcvbuf = 8192, max_retries = 30, rto_max = 0.5 }

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0, duplicate = 0.05 }

local received = {} -- phase -> what the server read

local function payload(phase)
  local t = {}
  for i = 1, SIZE // 64 do t[i] = string.format("phase %d block %04d ", phase, i) .. string.rep(".", 45) .. "\n" end
  return table.concat(t):sub(1, SIZE)
end

local function server()
  local o = { host = SERVER }
  for k, v in pairs(OPTS) do o[k] = v end
  local l = stream.listen(PORT, o)
  for phase = 1, #LOSSES * REPEAT do
    local c = l:accept()
    local parts = {}
    while true do
      local d = c:read()
      if not d then break end
      parts[#parts + 1] = d
    end
    received[phase] = table.concat(parts)
    c:write("OK " .. #received[phase] .. "\n")
    c:close()
  end
end

local rows = {}

local function client()
  for i, loss in ipairs(LOSSES) do
    net.configure{ loss = loss }
    local r = { loss = loss, time = 0, segments = 0, retrans = 0, data = 0, wire = 0, phases = {} }
    rows[i] = r
    for k = 1, REPEAT do
      local phase = (i - 1) * REPEAT + k
      local data = payload(phase)
      local t0 = sim.now()
      local c = stream.connect(SERVER, PORT, OPTS)
      c:write(data)
      c:shutdown()
      local reply = c:read()
      r.time = r.time + (sim.now() - t0)
      local st = c:stats()
      r.segments = r.segments + st.segments
      r.retrans = r.retrans + st.retransmissions
      r.data = r.data + #data
      r.wire = r.wire + st.payload_bytes
      r.phases[k] = { phase = phase, reply = reply }
      c:close()
    end
  end
end

sim.spawn(server)
sim.spawn(client)

sim.finally(function()
  print(string.format("%5s %10s %14s %9s %8s %11s", "loss", "time (s)", "goodput (KB/s)", "segments",
                      "retrans", "efficiency"))
  for _, r in ipairs(rows) do
    -- goodput: data over the total time of the transfers at this loss rate;
    -- efficiency: data bytes over the payload bytes put on the network
    print(string.format("%5.2f %10.3f %14.1f %9d %8d %10.0f%%", r.loss, r.time, r.data / 1024 / r.time,
                        r.segments, r.retrans, 100 * r.data / r.wire))
    for _, p in ipairs(r.phases) do
      local got = received[p.phase]
      sim.check(got == payload(p.phase) and p.reply == "OK " .. SIZE .. "\n",
                string.format("stream intact at loss %.2f (transfer %d): server read %d of %d bytes", r.loss,
                              p.phase, #(got or ""), SIZE))
    end
  end
  sim.check(#rows == #LOSSES and #rows[#rows].phases == REPEAT, "every phase ran")
end)
