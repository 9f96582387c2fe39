-- The HTTP lab's web site and client scripts, shared by persistent.lua
-- (HTTP over the reliable stream) and naive_udp.lua (HTTP messages over
-- bare datagrams).
--
-- The site: /index.html (text/html), /images/logo.gif (3 KB of binary
-- data: several segments), /board (a program: GET lists the posts, POST
-- adds one: "posting a message to a bulletin board"), /cgi/time (a program
-- that prints the server's clock; only GET/HEAD/OPTIONS). Clients PUT,
-- GET and DELETE their own /cN/notes.txt.
--
-- Each client runs the same script of 15 requests covering every method
-- and the status codes 200, 201, 204, 404, 405 and 501; the last request
-- says "Connection: close". `expect` functions state what each response
-- must be.

local http = require("http")

local site = {}

site.HOST, site.PORT = "10.0.8.1", 80

site.INDEX = "<html><head><title>dsim</title></head><body><h1>Interprocess communication</h1>"
             .. "<p>Chapter 4, as labs.</p></body></html>\n"
do
  local t = {}
  for i = 0, 3071 do t[#t + 1] = string.char((i * 7 + i // 256) % 256) end
  site.LOGO = "GIF89a" .. table.concat(t)
end

--- site.server(): the http.server with the site's resources and programs.
function site.server()
  local srv = http.server{ name = "dsim-lab" }
  srv:resource("/index.html", site.INDEX, "text/html")
  srv:resource("/images/logo.gif", site.LOGO, "image/gif")
  local posts = {}
  srv:program("/board", function(req)
    if req.method == "POST" then
      posts[#posts + 1] = req.body
      return 201, { ["Content-Type"] = "text/plain" }, "post " .. #posts .. " stored\n"
    end
    return 200, { ["Content-Type"] = "text/plain" }, table.concat(posts, "\n") .. "\n"
  end)
  srv:program("/cgi/time", function()
    return 200, { ["Content-Type"] = "text/plain" }, http.date(sim.now()) .. "\n"
  end, { "GET", "HEAD", "OPTIONS" })
  site.posts = posts
  return srv
end

local function status(want)
  return function(r) return r.status == want, "status " .. r.status .. ", want " .. want end
end

--- site.script(i) -> list of {method, url, opts, expect(resp) -> ok, why}
function site.script(i)
  local mine = "/c" .. i .. "/notes.txt"
  local note1 = "notes of client " .. i .. "\n"
  local note2 = string.rep("second version of the notes of client " .. i .. "\n", 20)
  local post = "hello from client " .. i
  local steps = {
    { "GET", "/index.html", nil, function(r)
      return r.status == 200 and r.body == site.INDEX and r.headers:get("Content-Type") == "text/html",
             "GET /index.html: " .. r.status .. " " .. #r.body .. " bytes"
    end },
    { "HEAD", "/index.html", nil, function(r)
      return r.status == 200 and r.body == "" and tonumber(r.headers:get("Content-Length")) == #site.INDEX,
             "HEAD: status " .. r.status .. ", body " .. #r.body .. ", length " .. tostring(r.headers:get("Content-Length"))
    end },
    { "GET", "/images/logo.gif", nil, function(r)
      return r.status == 200 and r.body == site.LOGO and r.headers:get("Content-Type") == "image/gif",
             "GET logo: " .. r.status .. ", " .. #r.body .. " bytes"
    end },
    { "PUT", mine, { body = note1, headers = { ["Content-Type"] = "text/plain" } }, status(201) },
    { "GET", mine, nil, function(r) return r.status == 200 and r.body == note1, "GET my notes: " .. r.status end },
    { "PUT", mine, { body = note2, headers = { ["Content-Type"] = "text/plain" } }, status(204) },
    { "GET", mine, nil, function(r) return r.status == 200 and r.body == note2, "GET my notes v2: " .. r.status end },
    { "POST", "/board", { body = post }, status(201) },
    { "DELETE", mine, nil, status(200) },
    { "GET", mine, nil, status(404) },
    { "OPTIONS", "*", nil, function(r)
      return r.status == 200 and r.headers:get("Allow") == "GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE",
             "OPTIONS *: " .. tostring(r.headers:get("Allow"))
    end },
    { "TRACE", "/trace/me", { headers = { ["X-Lab"] = "client " .. i } }, function(r, sent)
      return r.status == 200 and r.headers:get("Content-Type") == "message/http" and r.body == sent,
             "TRACE must echo the request exactly"
    end },
    { "BREW", "/coffee", nil, status(501) },
    { "DELETE", "/cgi/time", nil, function(r)
      return r.status == 405 and r.headers:get("Allow") == "GET, HEAD, OPTIONS", "DELETE a program: " .. r.status
    end },
    { "GET", "/board", { close = true }, function(r)
      return r.status == 200 and r.body:find(post, 1, true) ~= nil, "GET /board: my post is missing"
    end },
  }
  return steps
end

--- site.request_bytes(i, step) -> the exact request message a step sends.
function site.request_bytes(i, step)
  local h = { { "Host", site.HOST .. ":" .. site.PORT } }
  for k, v in pairs(step[3] and step[3].headers or {}) do h[#h + 1] = { k, v } end
  if step[3] and step[3].close then h[#h + 1] = { "Connection", "close" } end
  return http.format_request{ method = step[1], url = step[2], headers = h, body = step[3] and step[3].body }
end

--- site.observer() -> the records the checks use.
function site.observer()
  return { missing = {}, wrong = {}, answered = 0, asked = 0, clients = 0 }
end

--- site.record(obs, i, step, resp, sent): notes one exchange's outcome.
function site.record(obs, i, step, resp, sent)
  obs.asked = obs.asked + 1
  local what = string.format("client %d: %s %s", i, step[1], step[2])
  if not resp then
    obs.missing[#obs.missing + 1] = what
    return
  end
  obs.answered = obs.answered + 1
  local ok, why = step[4](resp, sent)
  if not ok then obs.wrong[#obs.wrong + 1] = what .. ": " .. tostring(why) end
end

--- site.check(obs, nclients): the lab's checks, in a fixed order.
function site.check(obs, nclients)
  sim.check(#obs.missing == 0, string.format("http: every request got its response (%d of %d missing: %s)",
                                             #obs.missing, obs.asked, table.concat(obs.missing, "; ")))
  sim.check(#obs.wrong == 0, "http: every response as expected: " .. table.concat(obs.wrong, "; "))
  local counts = {}
  for _, p in ipairs(site.posts or {}) do counts[p] = (counts[p] or 0) + 1 end
  local bad = {}
  for i = 1, nclients do
    local n = counts["hello from client " .. i] or 0
    if n ~= 1 then bad[#bad + 1] = string.format("client %d's post stored %d times", i, n) end
  end
  sim.check(#bad == 0, "http: the board holds each post exactly once: " .. table.concat(bad, "; "))
end

return site
