-- http.lua: HTTP as a request-reply protocol over the reliable stream
-- (stream.lua), as chapter 4 presents it ("HTTP: an example of a
-- request-reply protocol", Figures 16 and 17).
--
-- Messages (Figure 16, request; Figure 17, reply):
--   request:  method URL version CRLF, headers (Name: value CRLF), CRLF, body
--   reply:    version status-code reason CRLF, headers, CRLF, body
-- The body's length is given by the Content-Length header; a stream has no
-- message boundaries, so that header is what lets several requests and
-- replies follow each other on one connection.
--
-- Methods (the chapter's list): GET (the resource, or the output of the
-- program the URL names), HEAD (like GET, headers only), POST (data for a
-- program, or appended to a resource), PUT (store the body under the URL),
-- DELETE, OPTIONS (the methods allowed on the URL, or on the server for
-- "*"), TRACE (the server sends back the request message it received).
-- Status codes used: 200 OK, 201 Created, 204 No Content, 400 Bad Request,
-- 404 Not Found, 405 Method Not Allowed, 411 Length Required, 413 Payload
-- Too Large, 500 Internal Server Error, 501 Not Implemented, 505 HTTP
-- Version Not Supported.
--
-- Connections are persistent (HTTP/1.1): a connection stays open over a
-- series of request-reply exchanges until a message says
-- "Connection: close" (or an HTTP/1.0 request does not ask to keep it).
--
-- Parts:
--   http.format_request / http.format_response / http.parser: the message
--     layer alone (usable over any transport, e.g. a datagram);
--   http.connect(address, port [, stream_opts]) -> connection with
--     conn:request(method, url [, {headers=, body=, close=}]) -> response;
--   http.server([opts]) -> server with resources and programs,
--     server:respond(request) -> response (transport-free) and
--     server:serve(port [, stream_opts]) (an event loop over stream.select
--     serving many persistent connections from one process).
--
-- Errors raised at the caller start with "http: " (bad arguments, a
-- malformed response, a connection closed before the response). Network
-- failures surface as the stream's "stream: ... broken" errors.

local stream = require("stream")

local http = {}

http.VERSION = "HTTP/1.1"
http.METHODS = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE" }
http.REASONS = {
  [200] = "OK", [201] = "Created", [204] = "No Content", [400] = "Bad Request",
  [404] = "Not Found", [405] = "Method Not Allowed", [411] = "Length Required",
  [413] = "Payload Too Large", [500] = "Internal Server Error", [501] = "Not Implemented",
  [505] = "HTTP Version Not Supported",
}
http.MAX_HEADER = 8192       -- bytes of request line + headers a parser accepts
http.MAX_BODY = 1024 * 1024  -- largest body a parser accepts

local KNOWN = {}
for _, m in ipairs(http.METHODS) do KNOWN[m] = true end

-- errorf(level, fmt, ...): raises "http: ..." at the given level.
local function errorf(level, fmt, ...)
  error("http: " .. string.format(fmt, ...), level + 1)
end

----------------------------------------------------------------------------
-- Dates (RFC 1123 form), from the virtual clock: t = 0 is 1970-01-01.

local DAYS = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

--- http.date(seconds) -> "Thu, 01 Jan 1970 00:00:05 GMT"
function http.date(t)
  local s = math.floor(t)
  local days, rem = s // 86400, s % 86400
  -- civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
  local z = days + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return string.format("%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[days % 7 + 1], d, MONTHS[m], y,
                       rem // 3600, rem % 3600 // 60, rem % 60)
end

----------------------------------------------------------------------------
-- Headers: an ordered list of {name, value}; lookups ignore case.

local Headers = {}
Headers.__index = Headers

-- new_headers(init, level) -> headers from a list of {name, value} or a map.
local function new_headers(init, level)
  local h = setmetatable({ list = {} }, Headers)
  if init == nil then return h end
  if type(init) ~= "table" then errorf(level + 1, "headers must be a table") end
  if #init > 0 then
    for _, pair in ipairs(init) do h:add(pair[1], pair[2]) end
  else
    for k, v in pairs(init) do h:add(k, v) end -- (pairs is in a fixed order in dsim)
  end
  return h
end

--- headers:get(name) -> value | nil (the first one; case-insensitive)
function Headers:get(name)
  local n = name:lower()
  for _, p in ipairs(self.list) do if p[1]:lower() == n then return p[2] end end
  return nil
end

--- headers:set(name, value): replaces every header of that name.
function Headers:set(name, value)
  self:remove(name)
  self:add(name, value)
end

--- headers:add(name, value): appends a header (names: token characters;
--- values: no CR or LF).
function Headers:add(name, value)
  name, value = tostring(name), tostring(value)
  if not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then errorf(3, "bad header name %q", name) end
  if value:find("[\r\n]") then errorf(3, "header %s: value must not contain CR or LF", name) end
  self.list[#self.list + 1] = { name, value }
end

--- headers:remove(name)
function Headers:remove(name)
  local n = name:lower()
  for i = #self.list, 1, -1 do
    if self.list[i][1]:lower() == n then table.remove(self.list, i) end
  end
end

-- format_headers(h) -> "Name: value\r\n..." in order.
local function format_headers(h)
  local t = {}
  for _, p in ipairs(h.list) do t[#t + 1] = p[1] .. ": " .. p[2] .. "\r\n" end
  return table.concat(t)
end

----------------------------------------------------------------------------
-- Formatting.

--- http.format_request{method, url, version?, headers?, body?} -> string.
--- Adds Content-Length when there is a body (or the method is POST/PUT).
--- Errors: bad method token, URL with spaces, bad headers.
function http.format_request(r)
  if type(r) ~= "table" then errorf(2, "format_request: expected a table") end
  local method, url = r.method, r.url
  if type(method) ~= "string" or not method:match("^%u+$") then errorf(2, "bad method %s", tostring(method)) end
  if type(url) ~= "string" or url == "" or url:find("%s") then errorf(2, "bad URL %s", tostring(url)) end
  local h = getmetatable(r.headers) == Headers and r.headers or new_headers(r.headers, 2)
  local body = r.body or ""
  if #body > 0 or method == "POST" or method == "PUT" then h:set("Content-Length", #body) end
  return string.format("%s %s %s\r\n", method, url, r.version or http.VERSION) .. format_headers(h)
         .. "\r\n" .. body
end

--- http.format_response{status, reason?, version?, headers?, body?,
--- head = bool} -> string. Sets Content-Length to #body (for a response to
--- HEAD, pass head = true and the body GET would have: the length is kept,
--- the body left out).
function http.format_response(r)
  if type(r) ~= "table" or math.type(r.status) ~= "integer" or r.status < 100 or r.status > 999 then
    errorf(2, "format_response: expected a table with an integer status")
  end
  local h = getmetatable(r.headers) == Headers and r.headers or new_headers(r.headers, 2)
  local body = r.body or ""
  h:set("Content-Length", #body)
  return string.format("%s %d %s\r\n", r.version or http.VERSION, r.status,
                       r.reason or http.REASONS[r.status] or "Unknown")
         .. format_headers(h) .. "\r\n" .. (r.head and "" or body)
end

----------------------------------------------------------------------------
-- Incremental parsing: feed bytes as they come off the stream, take whole
-- messages out.

local Parser = {}
Parser.__index = Parser

--- http.parser(kind) -> parser, kind = "request" or "response".
function http.parser(kind)
  if kind ~= "request" and kind ~= "response" then errorf(2, "parser: kind must be \"request\" or \"response\"") end
  return setmetatable({ kind = kind, buf = "" }, Parser)
end

--- parser:feed(bytes): appends received bytes.
function Parser:feed(s) self.buf = self.buf .. s end

--- parser:buffered() -> n: bytes received and not yet consumed.
function Parser:buffered() return #self.buf end

--- parser:next([no_body]) -> message | nil (need more bytes) | false, err
--- Takes one complete message off the front of the buffer. A request is
--- {method, url, version, headers, body, raw}; a response is {version,
--- status, reason, headers, body, raw} (raw: the message's exact bytes).
--- no_body: the response answers a HEAD request (no body follows, whatever
--- Content-Length says). A malformed message gives false and a reason (the
--- buffer is then useless: close the connection).
function Parser:next(no_body)
  local hend = self.buf:find("\r\n\r\n", 1, true)
  if not hend then
    if #self.buf > http.MAX_HEADER then return false, "header section too long" end
    return nil
  end
  local head = self.buf:sub(1, hend - 1)
  local first = head:match("^[^\r\n]*")
  local rest = head:sub(#first + 3) -- after the first CRLF (empty if there is none)
  local msg = { headers = new_headers() }
  if self.kind == "request" then
    local method, url, version = first:match("^(%S+) (%S+) (HTTP/%d+%.%d+)$")
    if not method then return false, "malformed request line: " .. first:sub(1, 80) end
    msg.method, msg.url, msg.version = method, url, version
  else
    local version, status, reason = first:match("^(HTTP/%d+%.%d+) (%d%d%d) ?(.*)$")
    if not version then return false, "malformed status line: " .. first:sub(1, 80) end
    msg.version, msg.status, msg.reason = version, math.tointeger(tonumber(status)), reason
  end
  for line in (rest .. "\r\n"):gmatch("(.-)\r\n") do
    if line ~= "" then
      local name, value = line:match("^([%w!#$%%&'*+%-.^_`|~]+):[ \t]*(.-)[ \t]*$")
      if not name then return false, "malformed header line: " .. line:sub(1, 80) end
      msg.headers.list[#msg.headers.list + 1] = { name, value }
    end
  end
  local len = 0
  local cl = msg.headers:get("Content-Length")
  if cl then
    len = math.tointeger(tonumber(cl:match("^%d+$") or ""))
    if not len then return false, "bad Content-Length: " .. cl end
    if len > http.MAX_BODY then return false, "body too large (" .. len .. " bytes)" end
  end
  if no_body or (msg.status and (msg.status == 204 or msg.status < 200)) then len = 0 end
  local total = hend + 3 + len
  if #self.buf < total then return nil end
  msg.body = self.buf:sub(hend + 4, total)
  msg.raw = self.buf:sub(1, total)
  self.buf = self.buf:sub(total + 1)
  return msg
end

----------------------------------------------------------------------------
-- Client.

local Client = {}
Client.__index = Client

--- http.connect(address, port [, stream_opts]) -> connection: opens a
--- persistent connection to a web server. Errors: as stream.connect.
function http.connect(addr, port, opts)
  local c = stream.connect(addr, port, opts)
  return setmetatable({ conn = c, host = addr .. ":" .. port, parser = http.parser("response"),
                        requests = 0 }, Client)
end

--- connection:request(method, url [, opts]) -> response
--- Sends one request and waits for its response: {version, status, reason,
--- headers (headers:get(name)), body, raw}. opts: headers (a table),
--- body (a string), close = true to ask the server to close the connection
--- after this exchange, raw = a complete request message to send as is
--- (method and url are then only used to interpret the reply).
--- Errors: the connection was closed by the server ("http: connection
--- closed before the response"), a malformed response, a broken stream.
function Client:request(method, url, opts)
  opts = opts or {}
  if self.closed then errorf(2, "request on a closed connection to %s", self.host) end
  local raw = opts.raw
  if not raw then
    local h = new_headers(opts.headers, 2)
    if not h:get("Host") then h:set("Host", self.host) end
    if opts.close then h:set("Connection", "close") end
    raw = http.format_request{ method = method, url = url, headers = h, body = opts.body }
  end
  self.conn:write(raw)
  self.requests = self.requests + 1
  while true do
    local resp, err = self.parser:next(method == "HEAD")
    if resp then
      local conn_hdr = (resp.headers:get("Connection") or ""):lower()
      if conn_hdr == "close" or opts.close then self.server_closing = true end
      return resp
    end
    if resp == false then errorf(2, "malformed response from %s: %s", self.host, err) end
    local data = self.conn:read()
    if not data then
      self.closed = true
      errorf(2, "connection to %s closed before the response to %s %s", self.host, method, url)
    end
    self.parser:feed(data)
  end
end

--- connection:close() -> true | false, reason: closes the connection (see
--- stream's close).
function Client:close()
  self.closed = true
  return self.conn:close()
end

--- connection:stream() -> the underlying stream connection (for its stats).
function Client:stream() return self.conn end

----------------------------------------------------------------------------
-- Server.

local Server = {}
Server.__index = Server

--- http.server([opts]) -> server. opts.name: the Server header ("dsim-http").
function http.server(opts)
  opts = opts or {}
  return setmetatable({
    name = opts.name or "dsim-http", resources = {}, programs = {},
    stats = { connections = 0, requests = 0, by_method = {}, by_status = {}, max_per_connection = 0 },
  }, Server)
end

--- server:resource(path, body [, type]): a stored resource (data), served
--- by GET/HEAD, replaced by PUT, extended by POST (append), removed by
--- DELETE.
function Server:resource(path, body, ctype)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then errorf(2, "resource: path must start with /") end
  if type(body) ~= "string" then errorf(2, "resource: body must be a string") end
  self.resources[path] = { body = body, type = ctype or "text/plain", modified = sim.now() }
end

--- server:program(path, fn [, methods]): a URL that names a program. fn(req)
--- returns status, headers (table or nil), body; it runs for GET (and HEAD:
--- its body is then dropped) and for POST (the request's body is the
--- program's input). methods: the methods it accepts (default GET, HEAD,
--- POST, OPTIONS, TRACE).
function Server:program(path, fn, methods)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then errorf(2, "program: path must start with /") end
  if type(fn) ~= "function" then errorf(2, "program: fn must be a function") end
  local allowed = {}
  for _, m in ipairs(methods or { "GET", "HEAD", "POST", "OPTIONS", "TRACE" }) do allowed[m] = true end
  self.programs[path] = { fn = fn, allowed = allowed }
end

-- allowed_methods(server, path) -> the methods OPTIONS and 405 replies list.
local function allowed_methods(self, path)
  local list = {}
  local p, r = self.programs[path], self.resources[path]
  for _, m in ipairs(http.METHODS) do
    local ok
    if path == "*" then
      ok = true
    elseif p then
      ok = p.allowed[m]
    elseif r then
      ok = true
    else
      ok = (m == "PUT" or m == "OPTIONS" or m == "TRACE")
    end
    if ok then list[#list + 1] = m end
  end
  return list
end

-- response(server, status, headers, body, head) -> a response table with
-- Date and Server headers.
local function response(self, status, headers, body, head)
  local h = new_headers(headers, 3)
  if not h:get("Date") then h:set("Date", http.date(sim.now())) end
  h:set("Server", self.name)
  return { status = status, headers = h, body = body or "", head = head }
end

-- The answer to one request (see the file comment for the methods).
local function dispatch(self, req)
  local m, path = req.method, req.url
  if not req.version:match("^HTTP/1%.%d$") then
    return response(self, 505, nil, "only HTTP/1.x is spoken here\n")
  end
  if not KNOWN[m] then
    return response(self, 501, { Allow = table.concat(http.METHODS, ", ") }, "method " .. m .. " is not implemented\n")
  end
  if m == "TRACE" then
    return response(self, 200, { ["Content-Type"] = "message/http" }, req.raw)
  end
  if m == "OPTIONS" then
    return response(self, 200, { Allow = table.concat(allowed_methods(self, path), ", ") }, "")
  end
  local allowed = {}
  for _, x in ipairs(allowed_methods(self, path)) do allowed[x] = true end
  local prog, res = self.programs[path], self.resources[path]
  if not prog and not res and m ~= "PUT" then
    return response(self, 404, { ["Content-Type"] = "text/plain" }, path .. " not found\n")
  end
  if not allowed[m] then
    return response(self, 405, { Allow = table.concat(allowed_methods(self, path), ", ") },
                    m .. " is not allowed on " .. path .. "\n")
  end
  if (m == "POST" or m == "PUT") and not req.headers:get("Content-Length") then
    return response(self, 411, nil, "a " .. m .. " needs a Content-Length\n")
  end
  if prog then
    local ok, status, headers, body = pcall(prog.fn, req)
    if not ok then
      sim.log("http: program " .. path .. " failed: " .. tostring(status))
      return response(self, 500, nil, "the program failed\n")
    end
    return response(self, status, headers, body, m == "HEAD")
  end
  if m == "GET" or m == "HEAD" then
    return response(self, 200, { ["Content-Type"] = res.type, ["Last-Modified"] = http.date(res.modified) },
                    res.body, m == "HEAD")
  elseif m == "PUT" then
    local existed = res ~= nil
    self.resources[path] = { body = req.body, type = req.headers:get("Content-Type") or "application/octet-stream",
                             modified = sim.now() }
    if existed then return response(self, 204, nil, "") end
    return response(self, 201, { Location = path }, "")
  elseif m == "POST" then
    res.body = res.body .. req.body -- extending a dataset with an append operation
    res.modified = sim.now()
    return response(self, 200, { ["Content-Type"] = "text/plain" }, "appended; " .. #res.body .. " bytes now\n")
  elseif m == "DELETE" then
    self.resources[path] = nil
    return response(self, 200, { ["Content-Type"] = "text/plain" }, path .. " deleted\n")
  end
  return response(self, 500, nil, "unhandled\n")
end

--- server:respond(request) -> response table (for http.format_response):
--- what the server answers to a parsed request (the message layer alone;
--- serve() and a datagram transport both use it). Never raises for a bad
--- request: that is a 4xx/5xx response.
function Server:respond(req)
  self.stats.requests = self.stats.requests + 1
  local m = req.method
  self.stats.by_method[m] = (self.stats.by_method[m] or 0) + 1
  local resp = dispatch(self, req)
  self.stats.by_status[resp.status] = (self.stats.by_status[resp.status] or 0) + 1
  return resp
end

-- Whether the connection stays open after answering req.
local function keep_alive(req)
  local c = (req.headers:get("Connection") or ""):lower()
  if req.version == "HTTP/1.0" then return c == "keep-alive" end
  return c ~= "close"
end

--- server:serve(port [, stream_opts]): listens on `port` and serves every
--- connection, many at once, until the process is stopped: reads requests
--- (pipelined ones too), answers each, keeps connections open unless asked
--- to close. A malformed request gets 400 and the connection is closed; a
--- broken connection is dropped. Never returns.
function Server:serve(port, opts)
  local l = stream.listen(port, opts)
  local conns = {} -- { conn, parser, closing, served }
  while true do
    local items = { l }
    for _, x in ipairs(conns) do items[#items + 1] = x.conn end
    local ready = stream.select(items)
    if ready == l then
      local c = l:accept()
      self.stats.connections = self.stats.connections + 1
      conns[#conns + 1] = { conn = c, parser = http.parser("request"), served = 0 }
    else
      local x, idx
      for i, y in ipairs(conns) do if y.conn == ready then x, idx = y, i end end
      local ok, data = pcall(function() return x.conn:read() end)
      if not ok or data == nil then
        -- peer closed (or the connection broke): finish our side and forget it
        if ok and not x.closing then pcall(function() x.conn:shutdown() end) end
        table.remove(conns, idx)
      elseif not x.closing then
        x.parser:feed(data)
        while not x.closing do
          local req, err = x.parser:next()
          if req == nil then break end
          local resp
          if req == false then
            resp = response(self, 400, nil, "bad request: " .. err .. "\n")
            resp.headers:set("Connection", "close")
            x.closing = true
          else
            resp = self:respond(req)
            x.served = x.served + 1
            if x.served > self.stats.max_per_connection then self.stats.max_per_connection = x.served end
            if not keep_alive(req) then
              resp.headers:set("Connection", "close")
              x.closing = true
            end
          end
          local wok = pcall(function() x.conn:write(http.format_response(resp)) end)
          if not wok then x.closing = true end
          if x.closing then pcall(function() x.conn:shutdown() end) end
        end
      end
    end
  end
end

return http
