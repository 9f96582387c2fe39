-- rpc.lua: the request-reply protocol of chapter 4 ("Client-server
-- communication", Figures 12-15) over UDP datagrams (udp.lua), with its
-- messages marshalled in CORBA CDR (cdr.lua).
--
-- The three primitives of Figure 13:
--   client:doOperation(ref, methodId, arguments) -> reply arguments
--       sends a request to the remote object `ref` and waits for its reply;
--   server:getRequest() -> request
--       acquires a client request through the server port;
--   server:sendReply(request, reply)
--       sends the reply to the client that made the request.
-- `arguments` and `reply` are byte strings (marshal them with cdr).
--
-- Every message has the structure of Figure 14, marshalled as the CDR struct
-- rpc.Message (with a byte-order flag, see cdr.marshal):
--   messageType      enum: Request (0), Reply (1), Acknowledge (2, RRA only)
--   requestId        long: from an increasing sequence kept by each client
--   objectReference  RemoteObjectRef (Figure 11)
--   methodId         long
--   arguments        sequence<octet>
-- A request is identified by its requestId together with the sender's
-- internet address and port, as the chapter's "message identifier".
--
-- Protocols (Figure 15), chosen per client and server:
--   "R"    the client sends the request once and does not wait; nothing
--          comes back (for operations with no result and no confirmation).
--   "RR"   the reply acknowledges the request. The client retransmits the
--          request after `timeout` seconds without a reply, up to `attempts`
--          sends. The server filters duplicate requests and keeps a history
--          of the replies it sent, so a retransmitted request gets the
--          stored reply again instead of being executed again. Since the
--          server cannot know when a reply arrived, it discards history
--          entries only after `history_ttl` seconds (policy "all"), or keeps
--          only the last reply to each client (policy "last": a client makes
--          one request at a time, so its next request acknowledges the
--          previous reply).
--   "RRA"  as RR, and the client acknowledges each reply it receives; the
--          acknowledgement carries the requestId and also acknowledges every
--          earlier reply to that client, so the server discards those
--          history entries at once (history_ttl stays as a backstop for lost
--          acknowledgements).
-- Options `filter = false` and `history = false` switch off duplicate
-- filtering and the reply history, to show what they are for (the naive
-- variants of the request-reply lab).
--
-- The server is one process doing one request at a time: getRequest returns
-- a request, the caller executes it and calls sendReply before the next
-- getRequest. While it waits in getRequest the server also answers
-- duplicates from its history, takes acknowledgements and expires history
-- entries on time.
--
-- Errors (bad arguments, calling sendReply under R, a reply for a request
-- that is not in progress) are raised at the caller with "rpc: ".
-- Malformed messages from the network are not errors: they are counted,
-- logged and ignored.

local cdr = require("cdr")
local udp = require("udp")

local rpc = {}

--- rpc.MessageType: the CDR enum for Figure 14's messageType.
rpc.MessageType = cdr.enum("MessageType", { "Request", "Reply", "Acknowledge" })

--- rpc.Message: Figure 14's request-reply message as a CDR struct.
rpc.Message = cdr.struct("RequestReplyMessage", {
  { "messageType", rpc.MessageType },
  { "requestId", cdr.long },
  { "objectReference", cdr.RemoteObjectRef },
  { "methodId", cdr.long },
  { "arguments", cdr.octets },
})

local PROTOCOLS = { R = true, RR = true, RRA = true }

-- errorf(level, fmt, ...): raises "rpc: ..." at the given level.
local function errorf(level, fmt, ...)
  error("rpc: " .. string.format(fmt, ...), level + 1)
end

-- check_protocol(p, level): "R", "RR" or "RRA" (error at the caller).
local function check_protocol(p, level)
  if not PROTOCOLS[p] then errorf(level + 1, "protocol must be \"R\", \"RR\" or \"RRA\", got %s", tostring(p)) end
end

-- decode(packet) -> the message, or nil (malformed: logged).
local function decode(p)
  local ok, m = pcall(cdr.unmarshal, rpc.Message, p.data)
  if not ok then
    sim.log(string.format("rpc: malformed message from %s:%d ignored: %s", p.address, p.port,
                          tostring(m)))
    return nil
  end
  return m
end

----------------------------------------------------------------------------
-- Client

local Client = {}
Client.__index = Client

--- rpc.client([opts]) -> client. opts:
---   protocol  "R", "RR" (default) or "RRA"
---   timeout   seconds to wait for a reply before sending again (0.1)
---   attempts  how many times a request is sent at most (5)
---   order     byte order of the messages it marshals ("big")
---   port      local port (default: any free port)
--- Errors: bad options, called outside a process.
function rpc.client(opts)
  opts = opts or {}
  check_protocol(opts.protocol or "RR", 2)
  local c = setmetatable({
    protocol = opts.protocol or "RR", timeout = opts.timeout or 0.1, attempts = opts.attempts or 5,
    order = opts.order or cdr.BIG, rid = 0,
    stats = { requests = 0, sent = 0, retransmissions = 0, replies = 0, failures = 0, stale = 0,
              malformed = 0, acks = 0 },
  }, Client)
  if type(c.timeout) ~= "number" or c.timeout <= 0 then errorf(2, "client: timeout must be > 0 seconds") end
  if math.type(c.attempts) ~= "integer" or c.attempts < 1 then errorf(2, "client: attempts must be a positive integer") end
  c.socket = udp.socket(opts.port, { buffer = udp.MAX_MESSAGE })
  return c
end

--- client:doOperation(ref, methodId, arguments) -> reply | nil, err
--- Sends a request for method `methodId` of the remote object `ref` (a
--- RemoteObjectRef whose address and port name the server) with the
--- marshalled `arguments` (a string), and returns the reply's arguments.
--- R: returns true at once. RR/RRA: returns nil, "timeout: ..." when no reply
--- came after `attempts` sends (the server may or may not have executed the
--- request). Errors: bad arguments.
function Client:doOperation(ref, methodId, arguments)
  if type(ref) ~= "table" or type(ref.address) ~= "string" then
    errorf(2, "doOperation: ref must be a remote object reference, got %s", tostring(ref))
  end
  if math.type(methodId) ~= "integer" then errorf(2, "doOperation: methodId must be an integer") end
  if type(arguments) ~= "string" then errorf(2, "doOperation: arguments must be a string of bytes") end
  self.rid = self.rid + 1
  local rid = self.rid
  local ok, msg = pcall(cdr.marshal, rpc.Message, {
    messageType = "Request", requestId = rid, objectReference = ref, methodId = methodId,
    arguments = arguments }, self.order)
  if not ok then errorf(2, "doOperation: cannot marshal the request: %s", tostring(msg)) end
  self.stats.requests = self.stats.requests + 1
  local s = self.socket
  if self.protocol == "R" then
    s:send(msg, ref.address, ref.port)
    self.stats.sent = self.stats.sent + 1
    return true
  end
  for attempt = 1, self.attempts do
    s:send(msg, ref.address, ref.port)
    self.stats.sent = self.stats.sent + 1
    if attempt > 1 then self.stats.retransmissions = self.stats.retransmissions + 1 end
    local deadline = sim.now() + self.timeout
    while true do
      local left = deadline - sim.now()
      if left < 1e-9 then break end
      local p = s:receive(left)
      if not p then break end
      local m = decode(p)
      if not m then
        self.stats.malformed = self.stats.malformed + 1
      elseif m.messageType == "Reply" and m.requestId == rid then
        self.stats.replies = self.stats.replies + 1
        if self.protocol == "RRA" then
          s:send(cdr.marshal(rpc.Message, {
            messageType = "Acknowledge", requestId = rid, objectReference = ref,
            methodId = methodId, arguments = "" }, self.order), ref.address, ref.port)
          self.stats.acks = self.stats.acks + 1
        end
        return m.arguments
      else
        self.stats.stale = self.stats.stale + 1 -- a duplicate reply to an earlier request
      end
    end
  end
  self.stats.failures = self.stats.failures + 1
  return nil, string.format("timeout: no reply to request %d after %d attempts", rid, self.attempts)
end

--- client:close(): releases the client's port.
function Client:close() self.socket:close() end

----------------------------------------------------------------------------
-- Server

local Server = {}
Server.__index = Server

--- rpc.server(port [, opts]) -> server, bound to `port` on the process's
--- host. opts:
---   protocol        "R", "RR" (default) or "RRA"
---   filter          filter duplicate requests (default true)
---   history         keep a history of replies (default true; not for R)
---   history_ttl     seconds a reply stays in the history (default 2.0);
---                   must exceed the clients' timeout * attempts
---   history_policy  "all" (default): every reply until it expires or is
---                   acknowledged; "last": only the last reply per client
---   order           byte order of the replies ("big")
---   host            the process's host address (see udp.socket)
--- Errors: bad options, the port is taken.
function rpc.server(port, opts)
  opts = opts or {}
  check_protocol(opts.protocol or "RR", 2)
  local policy = opts.history_policy or "all"
  if policy ~= "all" and policy ~= "last" then errorf(2, "server: history_policy must be \"all\" or \"last\"") end
  local srv = setmetatable({
    protocol = opts.protocol or "RR",
    filter = opts.filter ~= false,
    history_on = opts.history ~= false and (opts.protocol or "RR") ~= "R",
    ttl = opts.history_ttl or 2.0, policy = policy, order = opts.order or cdr.BIG,
    history = {}, hcount = 0, done = {}, inprogress = {}, seen = {},
    stats = { received = 0, executed = 0, duplicates = 0, replies = 0, resent = 0, acks = 0,
              malformed = 0, history_peak = 0, history_entry_seconds = 0, history_added = 0,
              history_acked = 0, history_expired = 0, history_replaced = 0 },
    started = sim.now(),
  }, Server)
  srv.socket = udp.socket(port, { buffer = udp.MAX_MESSAGE, host = opts.host })
  return srv
end

--- server:address() -> address, port
function Server:address() return self.socket:localAddress() end

-- remove_entry(server, key, rid, why): drops a history entry, accounting
-- for how long it was kept and why it went (acked, expired, replaced).
local function remove_entry(self, key, rid, why)
  local h = self.history[key]
  local e = h and h[rid]
  if not e then return end
  h[rid] = nil
  if next(h) == nil then self.history[key] = nil end
  self.hcount = self.hcount - 1
  self.stats.history_entry_seconds = self.stats.history_entry_seconds + (sim.now() - e.added)
  self.stats["history_" .. why] = self.stats["history_" .. why] + 1
end

-- Removes expired entries; returns the earliest expiry still pending.
local function expire(self)
  local now, nxt = sim.now(), nil
  local dead = {}
  for key, h in pairs(self.history) do
    for rid, e in pairs(h) do
      if e.expires <= now + 1e-9 then
        dead[#dead + 1] = { key, rid }
      elseif not nxt or e.expires < nxt then
        nxt = e.expires
      end
    end
  end
  for _, d in ipairs(dead) do remove_entry(self, d[1], d[2], "expired") end
  return nxt
end

-- A new request to hand to the application (getRequest's result).
local function accept(self, m, p, key)
  self.stats.executed = self.stats.executed + 1
  if self.protocol ~= "R" then self.inprogress[key] = m.requestId end
  return { requestId = m.requestId, objectReference = m.objectReference, methodId = m.methodId,
           arguments = m.arguments, client = { address = p.address, port = p.port }, key = key }
end

--- server:getRequest([timeout]) -> request | nil, "timeout"
--- Waits for the next request that must be executed and returns
---   { requestId, objectReference, methodId, arguments,
---     client = {address =, port =}, key = "address:port" }.
--- Meanwhile it answers duplicates from the history, drops duplicates that
--- are being executed or were executed already, takes RRA
--- acknowledgements and expires history entries. timeout: seconds (nil/0:
--- wait for ever).
function Server:getRequest(timeout)
  local deadline = timeout and timeout > 0 and sim.now() + timeout or nil
  while true do
    local nxt = expire(self)
    local wait = deadline and deadline - sim.now()
    if wait and wait < 1e-9 then return nil, "timeout" end
    if nxt and (not wait or nxt - sim.now() < wait) then wait = nxt - sim.now() end
    local p = self.socket:receive(wait or 0)
    local m = p and decode(p)
    if p and not m then self.stats.malformed = self.stats.malformed + 1 end
    if m then
      local key = p.address .. ":" .. p.port
      local rid = m.requestId
      if m.messageType == "Request" then
        self.stats.received = self.stats.received + 1
        local h = self.history[key]
        if not self.filter then
          return accept(self, m, p, key)
        elseif h and h[rid] then
          self.stats.resent = self.stats.resent + 1
          self.stats.duplicates = self.stats.duplicates + 1
          self.socket:send(h[rid].message, p.address, p.port)
        elseif self.protocol == "R" then
          -- R requests are not acknowledged, so they may arrive in any
          -- order: remember every requestId seen from each client
          local seen = self.seen[key] or {}
          self.seen[key] = seen
          if seen[rid] then
            self.stats.duplicates = self.stats.duplicates + 1
          else
            seen[rid] = true
            return accept(self, m, p, key)
          end
        elseif self.inprogress[key] == rid or (self.done[key] and rid <= self.done[key]) then
          -- being executed, or executed and its reply no longer held
          self.stats.duplicates = self.stats.duplicates + 1
        else
          if self.policy == "last" and h then
            for old in pairs(h) do remove_entry(self, key, old, "replaced") end
          end
          return accept(self, m, p, key)
        end
      elseif m.messageType == "Acknowledge" and self.protocol == "RRA" then
        self.stats.acks = self.stats.acks + 1
        local h = self.history[key]
        if h then
          local acked = {}
          for old in pairs(h) do if old <= rid then acked[#acked + 1] = old end end
          for _, old in ipairs(acked) do remove_entry(self, key, old, "acked") end
        end
      end
    end
  end
end


--- server:sendReply(request, reply): sends `reply` (a string of bytes) to
--- the client of `request` in a Reply message, and records it in the
--- history (RR/RRA). Errors: under R; a request that is not in progress.
function Server:sendReply(req, reply)
  if self.protocol == "R" then errorf(2, "sendReply: the R protocol has no reply message") end
  if type(req) ~= "table" or not req.key then errorf(2, "sendReply: the first argument must be a request from getRequest") end
  if type(reply) ~= "string" then errorf(2, "sendReply: the reply must be a string of bytes") end
  if self.filter and self.inprogress[req.key] ~= req.requestId then
    errorf(2, "sendReply: request %d from %s is not in progress (replied already?)", req.requestId, req.key)
  end
  local msg = cdr.marshal(rpc.Message, {
    messageType = "Reply", requestId = req.requestId, objectReference = req.objectReference,
    methodId = req.methodId, arguments = reply }, self.order)
  self.socket:send(msg, req.client.address, req.client.port)
  self.stats.replies = self.stats.replies + 1
  self.inprogress[req.key] = nil
  self.done[req.key] = math.max(self.done[req.key] or 0, req.requestId)
  if self.history_on and self.filter then
    local h = self.history[req.key] or {}
    self.history[req.key] = h
    h[req.requestId] = { message = msg, added = sim.now(), expires = sim.now() + self.ttl }
    self.hcount = self.hcount + 1
    self.stats.history_added = self.stats.history_added + 1
    if self.hcount > self.stats.history_peak then self.stats.history_peak = self.hcount end
  end
end

--- server:history_size() -> n: replies held in the history now.
function Server:history_size() return self.hcount end

--- server:history_entry_seconds() -> seconds: the sum over all replies ever
--- stored of how long each stayed (entries still held count up to now).
--- Divided by the elapsed time it is the average history size.
function Server:history_entry_seconds()
  local total = self.stats.history_entry_seconds
  local now = sim.now()
  for _, h in pairs(self.history) do
    for _, e in pairs(h) do total = total + (now - e.added) end
  end
  return total
end

return rpc
