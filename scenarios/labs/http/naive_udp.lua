-- HTTP lab, naive variant: the same web site and client scripts, but each
-- HTTP request and reply travels as a single UDP datagram, with no stream
-- underneath: nothing retransmits a lost message. (The messages are the
-- same bytes; only the transport changed.) With 20% loss a request or its
-- reply is soon lost: the client waits one second for the reply, gives up,
-- and the check "http: every request got its response" fails. This is why
-- HTTP runs over TCP; and a client that simply sent the request again
-- would post to the bulletin board twice (see the request-reply lab).
--
--   dsim run scenarios/labs/http/naive_udp.lua --seed 1

local http = require("http")
local udp = require("udp")
local site = require("site")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.2, duplicate = 0.05 }

local NCLIENTS = 3
local obs = site.observer()
local srv = site.server()

local function server()
  local s = udp.socket(site.PORT, { host = site.HOST, buffer = udp.MAX_MESSAGE })
  while true do
    local p = s:receive()
    local parser = http.parser("request")
    parser:feed(p.data)
    local req = parser:next()
    if req then s:send(http.format_response(srv:respond(req)), p.address, p.port) end
  end
end

local function client(i)
  local s = udp.socket(nil, { buffer = udp.MAX_MESSAGE })
  obs.clients = obs.clients + 1
  for _, step in ipairs(site.script(i)) do
    local sent = site.request_bytes(i, step)
    s:send(sent, site.HOST, site.PORT)
    local p = s:receive(1.0)
    local resp
    if p then
      local parser = http.parser("response")
      parser:feed(p.data)
      resp = parser:next(step[1] == "HEAD") or nil
    end
    site.record(obs, i, step, resp, sent)
  end
end

sim.spawn(server)
for i = 1, NCLIENTS do sim.spawn(client, i) end

sim.finally(function() site.check(obs, NCLIENTS) end)
