-- Stream lab (reference): a broken connection is reported, not hung on.
--
-- Over a network losing 20% of datagrams:
--   * a writer streams data to a server that crashes after reading 20 KB: its
--     retransmissions go unanswered, and after max_retries (8) timeouts in a
--     row the connection is broken: write/close raise an error;
--   * a reader waits for a reply from a server that crashes after reading
--     the request, before answering: with keepalive probes (every 0.5 s of silence) the read raises the
--     error too (without keepalive it would wait for ever, as a TCP reader
--     does);
--   * connecting to a port where nobody listens fails with an error after
--     the SYN's retransmissions;
--   * and the other way round: an idle connection whose peer is alive is
--     NOT declared broken — its keepalive probes are answered — and works
--     after 5 s of silence.
-- Each error is caught with pcall and checked: it must name the broken
-- connection and come within the time the retransmission budget allows.
--
--   dsim run scenarios/labs/stream/broken.lua --seed 1

local stream = require("stream")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2 }

local OPTS = { max_retries = 8, rto_max = 0.4 }
local BUDGET = OPTS.max_retries * OPTS.rto_max + 1.0 -- seconds to notice, at most
local seen, crashed_at = {}, {}

local function sink_server(port, host)
  local l = stream.listen(port, { host = host, max_retries = 8, rto_max = 0.4 })
  local c = l:accept()
  local n = 0
  while n < 20000 do n = n + #c:read() end
  crashed_at.writer = sim.now()
  sim.crash(sim.self())
end

local function writer()
  local c = stream.connect("10.0.6.1", 7001, OPTS)
  local ok, err = pcall(function()
    for _ = 1, 2000 do c:write(string.rep("w", 512)) end
    c:close()
  end)
  seen.writer = { ok = ok, err = tostring(err), t = sim.now() }
end

local function silent_server()
  local l = stream.listen(7002, { host = "10.0.6.2", max_retries = 8, rto_max = 0.4 })
  local c = l:accept()
  c:read() -- the request; then it crashes before answering
  crashed_at.reader = sim.now()
  sim.crash(sim.self())
end

local function reader()
  local c = stream.connect("10.0.6.2", 7002,
                           { max_retries = OPTS.max_retries, rto_max = OPTS.rto_max, keepalive = 0.5 })
  c:write("please answer\n")
  local ok, err = pcall(function() return c:read() end)
  seen.reader = { ok = ok, err = tostring(err), t = sim.now() }
end

local function idle_server()
  local l = stream.listen(7004, { host = "10.0.6.4", max_retries = 8, rto_max = 0.4 })
  local c = l:accept()
  local d = c:read() -- waits, alive, through the client's silence
  c:write("echo " .. d)
  c:close()
end

local function idle_client()
  local c = stream.connect("10.0.6.4", 7004, { max_retries = 8, rto_max = 0.4, keepalive = 0.2 })
  local ok, err = pcall(function()
    stream.sleep(5.0) -- 25 keepalive periods of silence
    c:write("still there?")
    local r = c:read()
    c:close()
    return r
  end)
  seen.idle = { ok = ok, err = tostring(err), t = sim.now(), probes = c:stats().keepalive_probes }
end

local function nobody_home()
  local ok, err = pcall(function() return stream.connect("10.0.6.3", 7003, OPTS) end)
  seen.connect = { ok = ok, err = tostring(err), t = sim.now() }
end

sim.spawn(sink_server, 7001, "10.0.6.1")
sim.spawn(silent_server)
sim.spawn(writer)
sim.spawn(reader)
sim.spawn(nobody_home)
sim.spawn(idle_server)
sim.spawn(idle_client)

sim.finally(function()
  local w, r, c = seen.writer, seen.reader, seen.connect
  sim.check(w and not w.ok and w.err:find("stream: connection .* broken: the peer stopped answering") ~= nil,
            "broken connection: the writer gets a clear error (" .. (w and w.err or "none") .. ")")
  local wt = w and crashed_at.writer and w.t - crashed_at.writer or -1
  sim.check(wt >= 0 and wt <= BUDGET,
            string.format("broken connection: the writer learns it within %.1f s of the crash (%.3f s)", BUDGET, wt))
  -- (keepalive probes notice, or the request's own retransmissions if it
  -- was not acknowledged before the crash)
  sim.check(r and not r.ok and r.err:find("stream: connection .* broken: the peer stopped answering") ~= nil,
            "broken connection: the waiting reader gets a clear error (" .. (r and r.err or "none") .. ")")
  local rt = r and crashed_at.reader and r.t - crashed_at.reader or -1
  sim.check(rt >= 0 and rt <= BUDGET + 0.5,
            string.format("broken connection: the reader learns it within %.1f s of the crash (%.3f s)",
                          BUDGET + 0.5, rt))
  sim.check(c and not c.ok and c.err:find("connect to 10.0.6.3:7003 failed") ~= nil,
            "connecting to a port nobody listens on fails clearly (" .. (c and c.err or "none") .. ")")
  local i = seen.idle
  sim.check(i and i.ok and i.err == "echo still there?" and i.probes > 0,
            string.format("an idle connection to a live peer survives (%s, %s keepalive probes)",
                          i and i.err or "none", i and i.probes or "no"))
  for what, x in pairs(seen) do print(string.format("%-8s t=%.3f %s", what, x.t, x.err)) end
end)
