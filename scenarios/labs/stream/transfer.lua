-- Stream lab (reference): a byte stream arrives intact and in order over a
-- network that loses 30% of datagrams, duplicates 10% and reorders them
-- (delays drawn from 1-20 ms), and flow control keeps a slow reader's
-- buffer from overflowing.
--
-- A client connects to a server (port 7896, as in the chapter's TCP
-- example), writes 12 KB of numbered lines, and closes. The server reads
-- slowly: a small buffer (2 KB) and a pause after every read, so the
-- client's writes block and zero windows happen. Then the server writes the
-- data back reversed (the stream is two-way) and closes; the client reads
-- it to the end of stream.
--
-- Checks:
--   stream intact     what the server read equals what the client wrote,
--                     byte for byte, and likewise in the other direction;
--   flow control      the receiver never held more than its buffer, and no
--                     more than the window was ever in flight;
--   clean close       both sides saw the end of stream.
--
--   dsim run scenarios/labs/stream/transfer.lua --seed 1 --trace out.jsonl
-- In the trace, datagrams on channel "udp" carry segments: "S seq=..." to
-- open, "A seq=.. ack=.. win=.." with data, "FA" to close; look for `drop`
-- lines and the retransmissions that follow, and for "win=0".

local stream = require("stream")

net.configure{ delay = { "uniform", "1ms", "20ms" }, loss = 0.3, duplicate = 0.1 }

local SERVER, PORT = "10.0.5.1", 7896
local OPTS = { mss = 256, window = 2048, rcvbuf = 2048, max_retries = 20, rto_max = 0.4 }
local result = {}

local function make_data()
  local lines = {}
  for i = 1, 300 do lines[i] = string.format("line %04d of the stream lab: abcdefghij\n", i) end
  return table.concat(lines)
end
local DATA = make_data()

local function server()
  local l = stream.listen(PORT, { host = SERVER, mss = OPTS.mss, window = OPTS.window,
                                  rcvbuf = OPTS.rcvbuf, max_retries = OPTS.max_retries,
                                  rto_max = OPTS.rto_max })
  local c = l:accept()
  local parts = {}
  while true do
    local d = c:read(700)
    if not d then break end
    parts[#parts + 1] = d
    stream.sleep(0.06) -- a slow reader
  end
  result.server_got = table.concat(parts)
  result.server_eof = true
  c:write(result.server_got:reverse())
  result.server_close = { c:close() }
  result.server_stats = c:stats()
end

local function client()
  local c = stream.connect(SERVER, PORT, OPTS)
  for i = 1, #DATA, 1000 do c:write(DATA:sub(i, i + 999)) end
  c:shutdown() -- no more data from us; keep reading
  local parts = {}
  while true do
    local d = c:read()
    if not d then break end
    parts[#parts + 1] = d
  end
  result.client_got = table.concat(parts)
  result.client_eof = true
  result.client_close = { c:close() }
  result.client_stats = c:stats()
end

sim.spawn(server)
sim.spawn(client)

sim.finally(function()
  local got = result.server_got or ""
  local first_diff = nil
  for i = 1, math.max(#got, #DATA) do
    if got:byte(i) ~= DATA:byte(i) then first_diff = i break end
  end
  sim.check(got == DATA, string.format("stream intact: server read %d of %d bytes, first difference at byte %s",
                                       #got, #DATA, tostring(first_diff)))
  sim.check(result.client_got == DATA:reverse(),
            string.format("stream intact (reply): client read %d of %d bytes", #(result.client_got or ""), #DATA))
  local ss, cs = result.server_stats, result.client_stats
  if ss and cs then
    sim.check(ss.max_buffered <= OPTS.rcvbuf and cs.max_buffered <= OPTS.rcvbuf,
              string.format("flow control: receive buffers held at most %d and %d bytes (limit %d)",
                            ss.max_buffered, cs.max_buffered, OPTS.rcvbuf))
    sim.check(cs.max_inflight <= OPTS.window and ss.max_inflight <= OPTS.window,
              string.format("flow control: at most %d and %d bytes in flight (window %d)",
                            cs.max_inflight, ss.max_inflight, OPTS.window))
    print(string.format("client: %d segments, %d retransmissions (%d fast), %d zero-window probes",
                        cs.segments, cs.retransmissions, cs.fast_retransmits, cs.zero_window_probes))
    print(string.format("server: %d segments, %d duplicates and %d out-of-order segments received, "
                        .. "%d zero-window advertisements", ss.segments, ss.dup_segments, ss.ooo_segments,
                        ss.zero_windows))
  end
  sim.check(result.server_eof and result.client_eof, "clean close: both sides read to the end of stream")
end)
