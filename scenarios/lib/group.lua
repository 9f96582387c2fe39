-- group.lua: group communication (chapter 4, "Group communication"):
-- processes join and leave a group (an IP multicast address and port, as
-- in Figure 18) and multicast messages to its members, with a choice of
-- guarantees:
--   "basic"     one IP multicast datagram (udp.lua): no guarantee at all —
--               a member may miss a message, or get it twice;
--   "reliable"  integrity (each message delivered at most once, only to its
--               destinations), validity (a correct sender delivers its own
--               message) and agreement (if one correct member delivers m,
--               every correct destination of m does), even when the sender
--               crashes half-way: R-multicast built on reliable one-to-one
--               sends (retransmitted until acknowledged) where each member,
--               on first receipt, forwards m to the other destinations
--               before delivering it;
--   "fifo"      reliable + messages of one sender delivered in the order it
--               sent them (per-sender sequence numbers and a hold-back queue);
--   "causal"    reliable + if m happened before m' (m was delivered at the
--               sender of m', or both come from one sender), m is delivered
--               before m' everywhere. Vector clocks: each message carries
--               its sender's knowledge of how many messages each member has
--               sent to each other member (one vector per destination; in a
--               group whose membership does not change all these vectors
--               are the book's single vector timestamp), so members that
--               join later wait only for messages that were addressed to
--               them (Raynal, Schiper & Toueg's algorithm);
--   "total"     reliable + every member delivers messages in the same order:
--               a sequencer (the oldest member at the time of the multicast)
--               numbers each message it receives and sends the number to the
--               message's destinations; members deliver in number order.
--
-- Membership. join() binds a socket to the group's port and joins the IP
-- multicast group; the members are the live sockets that joined, in join
-- order (udp.members: the multicast routers' view; a member that crashed,
-- exited or left drops out). A multicast goes to the members at the moment
-- it is sent (its destinations travel with it), so a member that joins
-- later does not get earlier messages, and one that left is not waited for.
-- The sequencer of "total" must stay in the group while it is used.
--
-- The protocol runs inside the member's process while it is in a group call
-- (deliver, flush, sleep): a member keeps calling deliver until it is done,
-- and uses g:sleep(d) rather than sim.sleep(d) to pause. One group per
-- process.
--
-- Wire format (datagrams, readable in the trace):
--   DATA mid=<origin id>#<n> from=<pid> order=<ordering>\n
--   dests=<addr:port/id>,...\n meta=<ordering data>\n <payload>
--   ACK <m|o>:<mid>           (to the sender of a DATA or ORDER copy)
--   ORDER mid=<mid> g=<global number> prev=<previous number sent to you>
--   BASIC mid=<mid> from=<pid>\n <payload>
--
-- An observer (a checkers.log()) passed as opts.log records each multicast
-- and delivery, for the property checkers.
--
-- Errors raised at the caller start with "group: " (bad arguments, use
-- after leave). Malformed datagrams are logged and ignored.

local udp = require("udp")

local group = {}

group.ORDERINGS = { basic = true, reliable = true, fifo = true, causal = true, total = true }

-- errorf(level, fmt, ...): raises "group: ..." at the given level.
local function errorf(level, fmt, ...)
  error("group: " .. string.format(fmt, ...), level + 1)
end

local Member = {}
Member.__index = Member

--- group.join(group_address, port [, opts]) -> member. opts:
---   ordering    "basic", "reliable" (default), "fifo", "causal", "total"
---   rto         retransmission timeout of one-to-one sends (0.05 s)
---   max_retries sends of one copy at most before giving up (30)
---   log         a checkers.log() to record multicasts and deliveries in
--- Errors: not a multicast address, bad options, the port is taken on
--- this host, outside a process.
function group.join(gaddr, port, opts)
  opts = opts or {}
  local ordering = opts.ordering or "reliable"
  if not group.ORDERINGS[ordering] then
    errorf(2, "ordering must be basic, reliable, fifo, causal or total; got %s", tostring(ordering))
  end
  if not udp.is_multicast(gaddr) then errorf(2, "%s is not a multicast (class D) address", tostring(gaddr)) end
  local sock = udp.socket(port, { buffer = udp.MAX_MESSAGE, queue = 100000 })
  local id = sock:joinGroup(gaddr)
  local addr = sock:localAddress()
  local g = setmetatable({
    gaddr = gaddr, port = port, sock = sock, ordering = ordering, id = id, addr = addr,
    pid = sim.self(), key = addr .. ":" .. port .. "/" .. id,
    rto = opts.rto or 0.05, max_retries = opts.max_retries or 30, log = opts.log,
    n = 0, seen = {}, pending = {}, plist = {}, npending = 0, queue = { first = 1, last = 0 },
    sentc = {}, fifo_next = {}, fifo_hold = {}, fifo_held = 0,      -- fifo
    SENT = {}, DELIV = {}, hold = {},                               -- causal
    got = {}, by_prev = {}, orders = {}, last_g = 0, gnext = 0, glast = {}, -- total
    stats = { multicasts = 0, delivered = 0, datagrams = 0, sent = 0, retransmissions = 0,
              relays = 0, duplicates = 0, gave_up = 0, malformed = 0 },
  }, Member)
  return g
end

--- member:members() -> the current view: array of {address, port, pid, id}.
function Member:members() return udp.members(self.gaddr, self.port) end

----------------------------------------------------------------------------
-- Encoding of the ordering data.

-- encode_map({[id] = n}) -> "id:n,..." (FIFO sequence numbers per destination).
local function encode_map(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = k .. ":" .. v end -- pairs: fixed order in dsim
  return table.concat(parts, ",")
end

-- decode_map(s) -> {[id] = n}.
local function decode_map(s)
  local t = {}
  for k, v in s:gmatch("(%d+):(%d+)") do t[tonumber(k)] = tonumber(v) end
  return t
end

-- encode_matrix({[k] = {[l] = n}}) -> "k>l=n,..." (causal: messages k sent to l).
local function encode_matrix(m)
  local parts = {}
  for k, row in pairs(m) do
    for l, n in pairs(row) do parts[#parts + 1] = k .. ">" .. l .. "=" .. n end
  end
  return table.concat(parts, ",")
end

-- decode_matrix(s) -> {[k] = {[l] = n}}.
local function decode_matrix(s)
  local m = {}
  for k, l, n in s:gmatch("(%d+)>(%d+)=(%d+)") do
    k, l = tonumber(k), tonumber(l)
    m[k] = m[k] or {}
    m[k][l] = tonumber(n)
  end
  return m
end

-- parse_data(s) -> a DATA message as a table (with its ordering data
-- decoded), or nil if malformed.
local function parse_data(s)
  local mid, from, ord, dests, meta, pos =
    s:match("^DATA mid=(%d+#%d+) from=(%d+) order=(%a+)\ndests=([^\n]*)\nmeta=([^\n]*)\n()")
  if not mid then return nil end
  local m = { mid = mid, from = math.tointeger(tonumber(from)), ordering = ord, meta = meta,
              payload = s:sub(pos), raw = s, dests = {}, origin = math.tointeger(tonumber(mid:match("^(%d+)#"))) }
  for a, p, b in dests:gmatch("([%d%.]+):(%d+)/(%d+)") do
    m.dests[#m.dests + 1] = { address = a, port = math.tointeger(tonumber(p)), id = math.tointeger(tonumber(b)) }
  end
  if ord == "fifo" then
    m.fifo = decode_map(meta)
  elseif ord == "causal" then
    m.ST = decode_matrix(meta)
  elseif ord == "total" then
    m.seq = math.tointeger(tonumber(meta:match("^seq=(%d+)$") or ""))
    if not m.seq then return nil end
  end
  return m
end

----------------------------------------------------------------------------
-- Reliable one-to-one sends: retransmitted until acknowledged, until the
-- destination is no longer a member, or max_retries sends.

-- g.pending maps "<ref>@<address>:<port>" to an entry; g.plist holds the
-- same entries in creation order (cheap to scan for timers; entries that
-- are done are skipped and compacted away).
local function rsend(g, d, data, ref)
  local k = ref .. "@" .. d.address .. ":" .. d.port
  if g.pending[k] then return end
  local e = { to = d, data = data, next_at = sim.now() + g.rto, tries = 1, key = k }
  g.pending[k] = e
  g.plist[#g.plist + 1] = e
  g.npending = g.npending + 1
  g.stats.sent = g.stats.sent + 1
  g.sock:send(data, d.address, d.port)
end

-- done(g, e): a one-to-one send is acknowledged or abandoned.
local function done(g, e)
  if e.done then return end
  e.done = true
  g.pending[e.key] = nil
  g.npending = g.npending - 1
end

-- next_timer(g) -> when the next retransmission is due (nil: none).
local function next_timer(g)
  local t
  local live = 0
  for _, e in ipairs(g.plist) do
    if not e.done then
      live = live + 1
      if not t or e.next_at < t then t = e.next_at end
    end
  end
  if #g.plist > 32 and live < #g.plist // 2 then
    local keep = {}
    for _, e in ipairs(g.plist) do if not e.done then keep[#keep + 1] = e end end
    g.plist = keep
  end
  return t
end

-- fire(g): retransmits what is due; abandons copies to non-members and
-- copies sent max_retries times.
local function fire(g)
  local now = sim.now() + 1e-9
  local due = {}
  for _, e in ipairs(g.plist) do
    if not e.done and e.next_at <= now then due[#due + 1] = e end
  end
  if #due == 0 then return end
  local live = {}
  for _, m in ipairs(udp.members(g.gaddr, g.port)) do live[m.id] = true end
  for _, e in ipairs(due) do
    if not live[e.to.id] or e.tries >= g.max_retries then
      if live[e.to.id] then
        g.stats.gave_up = g.stats.gave_up + 1
        sim.log(string.format("group: gave up sending to %s:%d after %d tries", e.to.address, e.to.port, e.tries))
      end
      done(g, e)
    else
      e.tries = e.tries + 1
      e.next_at = sim.now() + g.rto
      g.stats.retransmissions = g.stats.retransmissions + 1
      g.sock:send(e.data, e.to.address, e.to.port)
    end
  end
end

----------------------------------------------------------------------------
-- Delivery and the orderings.

-- deliver(g, m): m is delivered (logged, queued for deliver()).
local function deliver(g, m)
  g.stats.delivered = g.stats.delivered + 1
  if g.log then g.log:deliver(g.pid, m.mid) end
  local q = g.queue
  q.last = q.last + 1
  q[q.last] = { id = m.mid, sender = m.from, data = m.payload, t = sim.now() }
end

-- causal_try(g): delivers held-back messages whose causal predecessors
-- (the counts in their matrix for this member) have all been delivered.
local function causal_try(g)
  local progress = true
  while progress do
    progress = false
    for i, m in ipairs(g.hold) do
      local ready = true
      for k, row in pairs(m.ST) do
        local need = row[g.id]
        if need and (g.DELIV[k] or 0) < need then ready = false break end
      end
      if ready then
        table.remove(g.hold, i)
        g.DELIV[m.origin] = (g.DELIV[m.origin] or 0) + 1
        for k, row in pairs(m.ST) do
          local mine = g.SENT[k] or {}
          g.SENT[k] = mine
          for l, n in pairs(row) do if (mine[l] or 0) < n then mine[l] = n end end
        end
        local row = g.SENT[m.origin] or {}
        g.SENT[m.origin] = row
        local before = m.ST[m.origin] or {}
        for _, d in ipairs(m.dests) do
          local n = (before[d.id] or 0) + 1
          if (row[d.id] or 0) < n then row[d.id] = n end
        end
        deliver(g, m)
        progress = true
        break
      end
    end
  end
end

-- total_try(g): delivers messages whose sequence number follows the last one delivered.
local function total_try(g)
  while true do
    local mid = g.by_prev[g.last_g]
    if not mid or not g.got[mid] then return end
    g.by_prev[g.last_g] = nil
    g.last_g = g.orders[mid].g
    local m = g.got[mid]
    g.got[mid] = nil
    deliver(g, m)
  end
end

-- on_order(g, mid, gnum, prev): the sequencer's number for mid arrived.
local function on_order(g, mid, gnum, prev)
  if g.orders[mid] or gnum <= g.last_g then return end
  g.orders[mid] = { g = gnum, prev = prev }
  g.by_prev[prev] = mid
  total_try(g)
end

-- The sequencer numbers m and tells each destination; the number that
-- destination got last travels along, so it can tell a gap from a start.
local function sequence(g, m)
  g.gnext = g.gnext + 1
  for _, d in ipairs(m.dests) do
    local prev = g.glast[d.id] or 0
    g.glast[d.id] = g.gnext
    if d.id == g.id then
      on_order(g, m.mid, g.gnext, prev)
    else
      rsend(g, d, string.format("ORDER mid=%s g=%d prev=%d", m.mid, g.gnext, prev), "o:" .. m.mid)
    end
  end
end

-- m has been received (once): hand it to the ordering.
local function receipt(g, m)
  local o = g.ordering
  if o == "reliable" then
    deliver(g, m)
  elseif o == "fifo" then
    local n = m.fifo[g.id]
    if not n then return end
    local hold = g.fifo_hold[m.origin] or {}
    g.fifo_hold[m.origin] = hold
    hold[n] = m
    g.fifo_held = g.fifo_held + 1
    local nxt = g.fifo_next[m.origin] or 1
    while hold[nxt] do
      local x = hold[nxt]
      hold[nxt] = nil
      g.fifo_held = g.fifo_held - 1
      deliver(g, x)
      nxt = nxt + 1
    end
    g.fifo_next[m.origin] = nxt
  elseif o == "causal" then
    g.hold[#g.hold + 1] = m
    causal_try(g)
  elseif o == "total" then
    g.got[m.mid] = m
    if m.seq == g.id then sequence(g, m) end
    total_try(g)
  end
end

-- handle(g, p): one arriving datagram (ACK, DATA, ORDER or BASIC).
local function handle(g, p)
  local s = p.data
  g.stats.datagrams = g.stats.datagrams + 1
  local kind = s:match("^(%u+)")
  if kind == "ACK" then
    local ref = s:match("^ACK ([mo]:%d+#%d+)$")
    local e = ref and g.pending[ref .. "@" .. p.address .. ":" .. p.port]
    if e then done(g, e) end
  elseif kind == "DATA" then
    local m = parse_data(s)
    if not m or m.ordering ~= g.ordering then
      g.stats.malformed = g.stats.malformed + 1
      sim.log("group: ignored a malformed DATA datagram from " .. p.address .. ":" .. p.port)
      return
    end
    g.sock:send("ACK m:" .. m.mid, p.address, p.port)
    if g.seen[m.mid] then
      g.stats.duplicates = g.stats.duplicates + 1
      return
    end
    g.seen[m.mid] = true
    -- R-multicast: pass it on before delivering, in case its sender crashed
    for _, d in ipairs(m.dests) do
      if d.id ~= g.id and d.id ~= m.origin and not (d.address == p.address and d.port == p.port) then
        g.stats.relays = g.stats.relays + 1
        rsend(g, d, s, "m:" .. m.mid)
      end
    end
    receipt(g, m)
  elseif kind == "ORDER" and g.ordering == "total" then
    local mid, gnum, prev = s:match("^ORDER mid=(%d+#%d+) g=(%d+) prev=(%d+)$")
    if not mid then
      g.stats.malformed = g.stats.malformed + 1
      return
    end
    g.sock:send("ACK o:" .. mid, p.address, p.port)
    on_order(g, mid, math.tointeger(tonumber(gnum)), math.tointeger(tonumber(prev)))
  elseif kind == "BASIC" and g.ordering == "basic" then
    local mid, from, pos = s:match("^BASIC mid=(%d+#%d+) from=(%d+)\n()")
    if not mid then
      g.stats.malformed = g.stats.malformed + 1
      return
    end
    deliver(g, { mid = mid, from = math.tointeger(tonumber(from)), payload = s:sub(pos) })
  else
    g.stats.malformed = g.stats.malformed + 1
  end
end

----------------------------------------------------------------------------
-- Public operations.

--- member:multicast(data) -> id: sends `data` (a string) to the current
--- members (the sender included) with the member's ordering; returns the
--- message id. Does not block. Errors: after leave, data not a string.
function Member:multicast(data)
  if self.left then errorf(2, "multicast after leave") end
  if type(data) ~= "string" then errorf(2, "multicast: data must be a string") end
  local view = udp.members(self.gaddr, self.port)
  self.n = self.n + 1
  self.stats.multicasts = self.stats.multicasts + 1
  local mid = self.id .. "#" .. self.n
  local pids = {}
  for i, d in ipairs(view) do pids[i] = d.pid end
  if self.log then self.log:multicast(self.pid, mid, pids) end
  if self.ordering == "basic" then
    self.sock:send(string.format("BASIC mid=%s from=%d\n", mid, self.pid) .. data, self.gaddr, self.port)
    return mid
  end
  local meta = ""
  if self.ordering == "fifo" then
    local t = {}
    for _, d in ipairs(view) do
      self.sentc[d.id] = (self.sentc[d.id] or 0) + 1
      t[d.id] = self.sentc[d.id]
    end
    meta = encode_map(t)
  elseif self.ordering == "causal" then
    meta = encode_matrix(self.SENT)
    local row = self.SENT[self.id] or {}
    self.SENT[self.id] = row
    for _, d in ipairs(view) do row[d.id] = (row[d.id] or 0) + 1 end
  elseif self.ordering == "total" then
    meta = "seq=" .. view[1].id -- the oldest member sequences
  end
  local dl = {}
  for i, d in ipairs(view) do dl[i] = d.address .. ":" .. d.port .. "/" .. d.id end
  local s = string.format("DATA mid=%s from=%d order=%s\ndests=%s\nmeta=%s\n", mid, self.pid, self.ordering,
                          table.concat(dl, ","), meta) .. data
  local m = parse_data(s)
  self.seen[mid] = true
  for _, d in ipairs(m.dests) do
    if d.id ~= self.id then rsend(self, d, s, "m:" .. mid) end
  end
  receipt(self, m)
  return mid
end

-- pop(g) -> the next delivered message, or nil.
local function pop(g)
  local q = g.queue
  if q.first > q.last then return nil end
  local x = q[q.first]
  q[q.first] = nil
  q.first = q.first + 1
  return x
end

-- Runs the protocol until a datagram arrives, a retransmission is due, or
-- the deadline passes.
local function step(g, deadline)
  local t = next_timer(g)
  if deadline and (not t or deadline < t) then t = deadline end
  local p
  if t == nil then
    p = g.sock:receive(0) -- nothing to do but wait
  elseif t - sim.now() >= 1e-9 then
    p = g.sock:receive(t - sim.now())
  else
    p = g.sock:poll()
  end
  while p do
    handle(g, p)
    p = g.sock:poll()
  end
  fire(g)
end

--- member:deliver([timeout]) -> message | nil, "timeout"
--- The next message delivered by the ordering: {id, sender (pid), data,
--- t (delivery time)}. Meanwhile the member acknowledges, forwards and
--- retransmits. timeout: seconds (nil/0: wait for ever). Errors: after leave.
function Member:deliver(timeout)
  if self.left then errorf(2, "deliver after leave") end
  local deadline = timeout and timeout > 0 and sim.now() + timeout or nil
  while true do
    local x = pop(self)
    if x then return x end
    if deadline and deadline - sim.now() < 1e-9 then return nil, "timeout" end
    step(self, deadline)
  end
end

--- member:idle() -> boolean: no copy awaits an acknowledgement and nothing
--- is held back or waiting to be taken by deliver.
function Member:idle()
  return self.npending == 0 and #self.hold == 0 and self.fifo_held == 0 and next(self.got) == nil
     and self.queue.first > self.queue.last
end

--- member:sleep(seconds): pauses while the protocol keeps running;
--- messages delivered meanwhile wait for deliver().
function Member:sleep(d)
  if type(d) ~= "number" or d < 0 then errorf(2, "sleep: expected seconds >= 0") end
  local deadline = sim.now() + d
  while deadline - sim.now() >= 1e-9 do step(self, deadline) end
end

--- member:drain(quiet, on_deliver) : delivers messages (calling
--- on_deliver(msg) for each, if given) until nothing has been delivered
--- for `quiet` seconds and the member is idle.
function Member:drain(quiet, on_deliver)
  while true do
    local m = self:deliver(quiet)
    if m then
      if on_deliver then on_deliver(m) end
    elseif self:idle() then
      return
    end
  end
end

--- member:leave(): leaves the group (closes the socket): copies not yet
--- acknowledged are abandoned; the others stop sending to this member.
function Member:leave()
  if self.left then return end
  self.left = true
  self.sock:close()
end

return group
