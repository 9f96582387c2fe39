-- Unit tests for the message layer of scenarios/lib/http.lua (no network):
--   dsim run tests/lua/test_http.lua -q      (exit 0: every check passed)
-- Figure 16/17 formats, incremental parsing (byte by byte, pipelined
-- messages, HEAD responses), malformed input, dates, and Server:respond for
-- every method and status code.

local http = require("http")

-- Figure 16: GET //www.dcs.qmw.ac.uk/index.html HTTP/1.1
local req = http.format_request{ method = "GET", url = "//www.dcs.qmw.ac.uk/index.html",
                                 headers = { { "Host", "www.dcs.qmw.ac.uk" } } }
sim.check(req == "GET //www.dcs.qmw.ac.uk/index.html HTTP/1.1\r\nHost: www.dcs.qmw.ac.uk\r\n\r\n",
          "Figure 16 request line and headers: " .. req)
local post = http.format_request{ method = "POST", url = "/board", body = "hello" }
sim.check(post == "POST /board HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", "POST gets a Content-Length")

-- Figure 17: HTTP/1.1 200 OK ... resource data
local resp = http.format_response{ status = 200, headers = { { "Content-Type", "text/html" } }, body = "<p>x</p>" }
sim.check(resp == "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 8\r\n\r\n<p>x</p>",
          "Figure 17 reply: " .. resp)
local head = http.format_response{ status = 200, body = "12345", head = true }
sim.check(head == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "a HEAD reply keeps the length, not the body")

-- byte-by-byte parsing of two pipelined requests
local p = http.parser("request")
local two = req .. post
local got = {}
for i = 1, #two do
  p:feed(two:sub(i, i))
  local m = p:next()
  sim.check(m ~= false, "no parse error at byte " .. i)
  if m then got[#got + 1] = m end
end
sim.check(#got == 2, "two pipelined requests parsed: " .. #got)
sim.check(got[1].method == "GET" and got[1].url == "//www.dcs.qmw.ac.uk/index.html" and got[1].version == "HTTP/1.1"
          and got[1].headers:get("host") == "www.dcs.qmw.ac.uk" and got[1].raw == req, "first request fields")
sim.check(got[2].method == "POST" and got[2].body == "hello" and got[2].raw == post, "second request body")
sim.check(p:buffered() == 0, "nothing left over")

-- responses: HEAD has no body even with a Content-Length
local rp = http.parser("response")
rp:feed(head .. resp)
local h1 = rp:next(true)
local h2 = rp:next(false)
sim.check(h1 and h1.status == 200 and h1.body == "" and h1.headers:get("Content-Length") == "5", "HEAD response parsed")
sim.check(h2 and h2.body == "<p>x</p>" and h2.reason == "OK", "following response parsed")

-- malformed input
for _, bad in ipairs({ "GET\r\n\r\n", "GET / HTTP/x\r\n\r\n", "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                       "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n" }) do
  local q = http.parser("request")
  q:feed(bad)
  local m, err = q:next()
  sim.check(m == false and type(err) == "string", "malformed request refused: " .. bad:gsub("\r\n", "|") .. " -> " .. tostring(err))
end
local big = http.parser("request")
big:feed(string.rep("x", http.MAX_HEADER + 1))
sim.check(big:next() == false, "an endless header section is refused")
local ok, err = pcall(function() local r = http.format_request{ method = "get me", url = "/" }; return r end)
sim.check(not ok and tostring(err):find("http: bad method"), "bad method refused at the caller: " .. tostring(err))

-- dates from the virtual clock
sim.check(http.date(0) == "Thu, 01 Jan 1970 00:00:00 GMT", http.date(0))
sim.check(http.date(86400 * 366 + 3661) == "Sat, 02 Jan 1971 01:01:01 GMT", http.date(86400 * 366 + 3661))
sim.check(http.date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT", http.date(951782400))

-- Server:respond, method by method
local srv = http.server()
srv:resource("/a.txt", "alpha", "text/plain")
srv:program("/count", function(r) return 200, { ["Content-Type"] = "text/plain" }, "n=" .. #r.body end)
local function ask(raw)
  local q = http.parser("request")
  q:feed(raw)
  local r = q:next()
  return srv:respond(r), r
end
local function req_of(m, url, body, hdrs)
  return http.format_request{ method = m, url = url, body = body, headers = hdrs }
end
local r = ask(req_of("GET", "/a.txt"))
sim.check(r.status == 200 and r.body == "alpha" and r.headers:get("Content-Type") == "text/plain", "GET a resource")
r = ask(req_of("HEAD", "/a.txt"))
sim.check(r.status == 200 and r.head and http.format_response(r):sub(-4) == "\r\n\r\n", "HEAD: headers only")
r = ask(req_of("GET", "/none"))
sim.check(r.status == 404, "GET missing: 404")
r = ask(req_of("PUT", "/b.txt", "beta", { ["Content-Type"] = "text/x" }))
sim.check(r.status == 201, "PUT new: 201")
r = ask(req_of("PUT", "/b.txt", "beta2"))
sim.check(r.status == 204, "PUT existing: 204")
r = ask(req_of("POST", "/a.txt", "+more"))
sim.check(r.status == 200 and srv.resources["/a.txt"].body == "alpha+more", "POST appends to a resource")
r = ask(req_of("POST", "/count", "abc"))
sim.check(r.status == 200 and r.body == "n=3", "POST runs a program with the data")
r = ask(req_of("DELETE", "/b.txt"))
sim.check(r.status == 200 and srv.resources["/b.txt"] == nil, "DELETE: 200")
r = ask(req_of("DELETE", "/count"))
sim.check(r.status == 405 and r.headers:get("Allow") == "GET, HEAD, POST, OPTIONS, TRACE", "DELETE a program: 405 with Allow")
r = ask(req_of("OPTIONS", "*"))
sim.check(r.status == 200 and r.headers:get("Allow") == "GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE", "OPTIONS *")
local raw = req_of("TRACE", "/t", nil, { ["X-Y"] = "z" })
r = ask(raw)
sim.check(r.status == 200 and r.body == raw and r.headers:get("Content-Type") == "message/http", "TRACE echoes the request")
r = ask(req_of("BREW", "/pot"))
sim.check(r.status == 501, "unknown method: 501")
r = ask("GET / HTTP/2.0\r\n\r\n")
sim.check(r.status == 505, "HTTP/2.0: 505")
r = ask("POST /count HTTP/1.1\r\n\r\n")
sim.check(r.status == 411, "POST without Content-Length: 411")
srv:program("/boom", function() error("kaput") end)
r = ask(req_of("GET", "/boom"))
sim.check(r.status == 500, "a failing program: 500")
sim.check(srv.stats.requests == 15 and srv.stats.by_status[200] >= 6, "server statistics count requests")
