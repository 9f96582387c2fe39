-- HTTP lab (reference): HTTP/1.1 over the reliable stream, with persistent
-- connections, under 20% loss, 5% duplication and reordering.
--
-- One server process (site.lua's web site) serves three clients at once
-- with an event loop (stream.select). Each client opens ONE connection and
-- sends its 15 requests over it one after another — GET, HEAD, PUT, POST,
-- DELETE, OPTIONS, TRACE and an unknown method — checking each status
-- code, header and body; its last request says "Connection: close", and
-- the server closes after answering it.
--
-- Checks: every request got its response; every response is the expected
-- one (status, headers, body; HEAD has no body but GET's Content-Length;
-- TRACE echoes the request byte for byte); the bulletin board holds each
-- post once; and the connections were persistent: 3 connections carried
-- all 45 requests.
--
--   dsim run scenarios/labs/http/persistent.lua --seed 1 --trace out.jsonl
-- In the trace, search the `send` lines' data for "GET /index.html HTTP/1.1"
-- and "HTTP/1.1 200 OK": request and reply inside stream segments.

local http = require("http")
local site = require("site")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.05 }

local NCLIENTS = 3
local STREAM = { max_retries = 20, rto_max = 0.4 }
local obs = site.observer()
local srv = site.server()

local function server()
  local o = { host = site.HOST }
  for k, v in pairs(STREAM) do o[k] = v end
  srv:serve(site.PORT, o)
end

local function client(i)
  local conn = http.connect(site.HOST, site.PORT, STREAM)
  obs.clients = obs.clients + 1
  for _, step in ipairs(site.script(i)) do
    local sent = site.request_bytes(i, step)
    local resp = conn:request(step[1], step[2], { raw = sent, close = step[3] and step[3].close })
    site.record(obs, i, step, resp, sent)
  end
  conn:close()
end

sim.spawn(server)
for i = 1, NCLIENTS do sim.spawn(client, i) end

sim.finally(function()
  site.check(obs, NCLIENTS)
  local st = srv.stats
  print(string.format("server: %d connections, %d requests, at most %d on one connection",
                      st.connections, st.requests, st.max_per_connection))
  local codes = {}
  for code, n in pairs(st.by_status) do codes[#codes + 1] = code .. "x" .. n end
  print("status codes: " .. table.concat(codes, " "))
  sim.check(st.connections == NCLIENTS and st.max_per_connection == #site.script(1),
            string.format("http: persistent connections (%d connections for %d requests, %d at most on one)",
                          st.connections, st.requests, st.max_per_connection))
end)
