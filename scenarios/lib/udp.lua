-- udp.lua: datagram sockets in the style of the chapter's UDP API
-- (Coulouris et al., chapter 4, "UDP datagram communication", Figures 3-4
-- and the multicast socket of Figure 18), built on the channel.
--
-- Model.
--   * Every process runs on a host with an internet address, by default
--     "10.0.H.L" where H.L is its pid (pid 1 -> "10.0.0.1"); several
--     processes may share a host (option `host`). A socket is bound to a
--     port on its process's host: the pair (address, port) is a message
--     destination. A port has exactly one receiver (binding a port that a
--     live socket holds is an error) but any number of senders.
--   * Datagrams travel as channel messages on the channel named "udp"
--     ({data, src address, src port, dst address, dst port}), so the
--     network's faults (loss, duplication, reordering through variable delay,
--     partitions, crashes) all apply: UDP gives no guarantee of delivery or
--     order.
--   * `send` is non-blocking. On arrival a datagram is put in the queue of
--     the socket bound to its destination port (dropped if no socket is bound
--     there any more, or if that queue is full). `receive` blocks, with an
--     optional timeout (setSoTimeout), and returns a datagram from any sender.
--   * Message size: a datagram larger than the socket's maximum (8192 bytes
--     by default: "most implementations restrict this to around 8 kbytes")
--     cannot be sent (error). A datagram longer than the receive buffer
--     (1000 bytes by default, as in Figures 3 and 4) is truncated to the
--     buffer's length when it is received, and the packet says so.
--   * Multicast: a socket may join class D groups (224.0.0.0 -
--     239.255.255.255); a datagram sent to (group, port) goes to every
--     socket that joined the group and is bound to that port.
--
-- The port tables of the hosts and the membership of multicast groups are
-- kept by this module for all processes (they stand for the hosts' operating
-- systems and the multicast routers); they are consulted when a datagram is
-- sent, to find which process the network must carry it to. All data goes
-- through the channel; no process ever reads another's socket.
--
-- A process crash discards its sockets with the rest of its memory; a
-- restarted process binds again (its old port is free once the process that
-- held it crashed). Ephemeral ports ("any free local port") are allocated per
-- host from 49152 upwards and are not reused while the range lasts, so a
-- restarted client does not receive replies meant for its previous
-- incarnation.
--
-- Errors are raised with error(msg, 2) (file:line of the caller) and start
-- with "udp: ".

local udp = {}

udp.MAX_MESSAGE = 8192       -- default largest datagram a socket may send, bytes
udp.DEFAULT_BUFFER = 1000    -- default receive buffer, bytes (Figures 3 and 4)
udp.DEFAULT_QUEUE = 1000     -- default receive queue length, datagrams
udp.CHANNEL = "udp"          -- the channel datagrams travel on
udp.EPHEMERAL_FIRST = 49152  -- first port handed out by socket() without a port
udp.EPHEMERAL_LAST = 65535

-- Shared tables: the hosts' port tables and the multicast routers.
local hosts = {}      -- address -> { ports = {[port] = binding}, next_ephemeral = n }
local groups = {}     -- group address -> array of bindings (join order)
local current = {}    -- pid -> the stack of that pid's current incarnation
local next_binding = 0 -- numbers group memberships (joinGroup), never reused
local stacks = setmetatable({}, { __mode = "k" }) -- coroutine -> stack

-- errorf(level, fmt, ...): raises "udp: ..." at the given level.
local function errorf(level, fmt, ...)
  error("udp: " .. string.format(fmt, ...), level + 1)
end

--- udp.address_of(pid) -> string: the default internet address of a process.
function udp.address_of(pid)
  return string.format("10.0.%d.%d", (pid >> 8) & 255, pid & 255)
end

-- parse_addr(a) -> the first octet of a dotted quad, nil if a is not one.
local function parse_addr(a)
  if type(a) ~= "string" then return nil end
  local x, y, z, w = a:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  x, y, z, w = tonumber(x), tonumber(y), tonumber(z), tonumber(w)
  if not x or x > 255 or y > 255 or z > 255 or w > 255 then return nil end
  return x
end

--- udp.is_multicast(addr) -> boolean: a class D address (224..239.x.x.x).
function udp.is_multicast(addr)
  local first = parse_addr(addr)
  return first ~= nil and first >= 224 and first <= 239
end

-- check_port(port, level, what): 1..65535 (error at the caller).
local function check_port(port, level, what)
  if math.type(port) ~= "integer" or port < 1 or port > 65535 then
    errorf(level + 1, "%s must be a port number 1..65535, got %s", what or "port", tostring(port))
  end
end

-- check_addr(addr, level, what): a dotted quad (error at the caller).
local function check_addr(addr, level, what)
  if not parse_addr(addr) then
    errorf(level + 1, "%s must be an internet address such as \"10.0.0.1\", got %s",
           what or "address", tostring(addr))
  end
end

-- is_live(binding) -> the socket is open and its process's current
-- incarnation is running.
local function is_live(b)
  if not b or b.sock.closed then return false end
  if current[b.pid] ~= b.stack then return false end
  local st = sim.state(b.pid)
  return st == "running" or st == "blocked"
end

-- host_table(addr) -> the port table of a host (created on first use).
local function host_table(addr)
  local h = hosts[addr]
  if not h then
    h = { ports = {}, next_ephemeral = udp.EPHEMERAL_FIRST }
    hosts[addr] = h
  end
  return h
end

----------------------------------------------------------------------------
-- The per-process stack: the channel endpoint, the sockets by port, and the
-- routing of arriving datagrams to sockets. One per process incarnation.

local Stack = {}
Stack.__index = Stack

-- get_stack(level [, host]) -> the calling process incarnation's stack
-- (created, and the channel joined, on first use).
local function get_stack(level, host)
  local pid = sim.self()
  if not pid then errorf(level + 1, "sockets exist only inside a process (called from scenario code)") end
  local co = coroutine.running()
  local st = stacks[co]
  if not st then
    local ch = channel.new(udp.CHANNEL)
    ch:join("udp")
    if host ~= nil then check_addr(host, level + 1, "host") end
    st = setmetatable({ pid = pid, ch = ch, addr = host or udp.address_of(pid), sockets = {},
                        nsockets = 0 }, Stack)
    stacks[co] = st
    current[pid] = st
  elseif host ~= nil and host ~= st.addr then
    errorf(level + 1, "this process already runs on host %s (cannot also use host %s)", st.addr, host)
  end
  return st
end

-- Routes one arrived datagram to its socket's queue (or drops it).
function Stack:route(d)
  local data, saddr, sport, daddr, dport = d[1], d[2], d[3], d[4], d[5]
  local sock = self.sockets[dport]
  if sock and udp.is_multicast(daddr) and not sock.groups[daddr] then sock = nil end
  if not sock or sock.closed then
    sim.log(string.format("udp: datagram %s:%d -> %s:%d dropped: no socket bound to that port",
                          saddr, sport, daddr, dport))
    return
  end
  if sock.peer_addr and (saddr ~= sock.peer_addr or sport ~= sock.peer_port) then
    sock.stats.filtered = sock.stats.filtered + 1
    return
  end
  local q = sock.queue
  if q.last - q.first + 1 >= sock.queue_limit then
    sock.stats.overflow = sock.stats.overflow + 1
    sim.log(string.format("udp: datagram %s:%d -> %s:%d dropped: receive queue full (%d)",
                          saddr, sport, daddr, dport, sock.queue_limit))
    return
  end
  q.last = q.last + 1
  q[q.last] = { data = data, address = saddr, port = sport, dest = daddr }
end

-- Takes one datagram from the channel and routes it. timeout: nil or 0 waits
-- for ever, > 0 waits that long, < 0 does not wait. True if one arrived.
function Stack:pump(timeout)
  if timeout and timeout < 0 then
    if self.ch:queued() == 0 then return false end
    timeout = nil
  end
  local src, d = self.ch:recvFromAny(timeout)
  if src == nil then return false end
  if type(d) == "table" and #d == 5 then
    self:route(d)
  else
    sim.log("udp: ignored a message on channel 'udp' that is not a datagram (from pid " .. src .. ")")
  end
  return true
end

----------------------------------------------------------------------------
-- Sockets.

local Socket = {}
Socket.__index = Socket

-- bind(stack, sock, port, level): binds port (nil/0: a free ephemeral one);
-- error if a live socket holds it.
local function bind(st, sock, port, level)
  local h = host_table(st.addr)
  if port == nil or port == 0 then
    local tried = 0
    port = h.next_ephemeral
    while is_live(h.ports[port]) or st.sockets[port] do
      port = port + 1
      if port > udp.EPHEMERAL_LAST then port = udp.EPHEMERAL_FIRST end
      tried = tried + 1
      if tried > udp.EPHEMERAL_LAST - udp.EPHEMERAL_FIRST then
        errorf(level + 1, "no free local port on host %s", st.addr)
      end
    end
    h.next_ephemeral = port + 1 > udp.EPHEMERAL_LAST and udp.EPHEMERAL_FIRST or port + 1
  else
    check_port(port, level + 1)
    local b = h.ports[port]
    if st.sockets[port] or is_live(b) then
      errorf(level + 1, "port %d on host %s is already bound (by pid %d): a port has exactly one receiver",
             port, st.addr, b and b.pid or st.pid)
    end
  end
  sock.port = port
  h.ports[port] = { pid = st.pid, stack = st, sock = sock, addr = st.addr, port = port }
  st.sockets[port] = sock
  st.nsockets = st.nsockets + 1
end

--- udp.socket([port [, opts]]) -> socket: a datagram socket bound to `port`
--- on the calling process's host, or to a free local port if port is nil or
--- 0 (a client "binds to any free local port"). opts:
---   host     internet address of the process's host (first socket only;
---            default udp.address_of(pid))
---   buffer   receive buffer size in bytes (default udp.DEFAULT_BUFFER)
---   max      largest datagram this socket may send (default udp.MAX_MESSAGE)
---   timeout  receive timeout in seconds, 0 = wait for ever (default 0)
---   queue    datagrams the receive queue holds before dropping (default 1000)
--- Errors: called outside a process, a bad port, a port already bound by a
--- live socket on the same host ("a port has exactly one receiver").
function udp.socket(port, opts)
  opts = opts or {}
  if type(opts) ~= "table" then errorf(2, "socket: options must be a table") end
  local st = get_stack(2, opts.host)
  local sock = setmetatable({
    stack = st, addr = st.addr, closed = false, groups = {},
    buffer = opts.buffer or udp.DEFAULT_BUFFER, max = opts.max or udp.MAX_MESSAGE,
    timeout = opts.timeout or 0, queue_limit = opts.queue or udp.DEFAULT_QUEUE,
    queue = { first = 1, last = 0 },
    stats = { sent = 0, received = 0, truncated = 0, unroutable = 0, overflow = 0, filtered = 0 },
  }, Socket)
  if math.type(sock.buffer) ~= "integer" or sock.buffer < 1 then errorf(2, "socket: buffer must be a positive integer") end
  if math.type(sock.max) ~= "integer" or sock.max < 1 then errorf(2, "socket: max must be a positive integer") end
  if type(sock.timeout) ~= "number" or sock.timeout < 0 then errorf(2, "socket: timeout must be a number >= 0") end
  bind(st, sock, port, 2)
  return sock
end

--- socket:localAddress() -> address, port: where this socket receives.
function Socket:localAddress() return self.addr, self.port end

--- socket:setSoTimeout(seconds): the receive timeout (0: wait for ever).
function Socket:setSoTimeout(t)
  if type(t) ~= "number" or t < 0 then errorf(2, "setSoTimeout: expected seconds >= 0, got %s", tostring(t)) end
  self.timeout = t
end

--- socket:getSoTimeout() -> seconds
function Socket:getSoTimeout() return self.timeout end

--- socket:setReceiveBufferSize(bytes): datagrams longer than this are truncated on receive.
function Socket:setReceiveBufferSize(n)
  if math.type(n) ~= "integer" or n < 1 then errorf(2, "setReceiveBufferSize: expected a positive integer") end
  self.buffer = n
end

--- socket:connect(address, port): from now on send() defaults to that
--- destination and only datagrams from it are received (others are
--- discarded), like DatagramSocket.connect.
function Socket:connect(addr, port)
  check_addr(addr, 2)
  check_port(port, 2)
  self.peer_addr, self.peer_port = addr, port
end

--- socket:disconnect(): undoes connect.
function Socket:disconnect() self.peer_addr, self.peer_port = nil, nil end

--- socket:send(data, address, port): sends one datagram (non-blocking).
--- `data` is a string of at most the socket's `max` bytes. Sending to an
--- address and port no socket is bound to loses the datagram (logged). For a
--- connected socket address and port may be omitted. Errors: closed socket,
--- bad arguments, a datagram over the maximum size.
function Socket:send(data, addr, port)
  if self.closed then errorf(2, "send on a closed socket (%s:%d)", self.addr, self.port or 0) end
  if type(data) ~= "string" then errorf(2, "send: data must be a string, got %s", type(data)) end
  if addr == nil and self.peer_addr then addr, port = self.peer_addr, self.peer_port end
  check_addr(addr, 2, "send: address")
  check_port(port, 2, "send: port")
  if self.peer_addr and (addr ~= self.peer_addr or port ~= self.peer_port) then
    errorf(2, "send: socket is connected to %s:%d, cannot send to %s:%d", self.peer_addr,
           self.peer_port, addr, port)
  end
  if #data > self.max then
    errorf(2, "send: a datagram of %d bytes exceeds the maximum message size of %d bytes "
              .. "(an application must fragment larger messages)", #data, self.max)
  end
  local targets = {}
  if udp.is_multicast(addr) then
    for _, b in ipairs(groups[addr] or {}) do
      if b.port == port and is_live(b) then targets[#targets + 1] = b.pid end
    end
  else
    local h = hosts[addr]
    local b = h and h.ports[port]
    -- a bound port whose process crashed still gets the datagram: the
    -- network carries it to the host, where it is lost (the trace shows it)
    if b and not b.sock.closed then targets[1] = b.pid end
  end
  self.stats.sent = self.stats.sent + 1
  if #targets == 0 then
    self.stats.unroutable = self.stats.unroutable + 1
    sim.log(string.format("udp: datagram %s:%d -> %s:%d lost: no socket bound there", self.addr,
                          self.port, addr, port))
    return
  end
  -- the data first: the trace's 64-byte preview of a send then shows it
  self.stack.ch:sendTo(targets, { data, self.addr, self.port, addr, port })
end

-- pop(sock) -> the oldest queued datagram, or nil.
local function pop(sock)
  local q = sock.queue
  if q.first > q.last then return nil end
  local d = q[q.first]
  q[q.first] = nil
  q.first = q.first + 1
  return d
end

-- The packet handed to the application: the datagram cut to the buffer.
local function packet(sock, d, buffer)
  sock.stats.received = sock.stats.received + 1
  local size, data = #d.data, d.data
  if size > buffer then
    data = data:sub(1, buffer)
    sock.stats.truncated = sock.stats.truncated + 1
  end
  return { data = data, length = #data, address = d.address, port = d.port,
           truncated = size > buffer, size = size, dest = d.dest }
end

--- socket:receive([timeout [, buffer]]) -> packet | nil, "timeout"
--- Blocks until a datagram from any sender is available for this socket and
--- returns it as a packet table:
---   data       the bytes received (at most `buffer` of them)
---   length     #data
---   address, port   the sender's socket
---   truncated  true if the datagram was longer than the buffer
---   size       the datagram's full length
--- timeout: seconds (default: the socket's setSoTimeout value; 0 waits for
--- ever); on expiry returns nil, "timeout". buffer: receive buffer size
--- (default: the socket's). Errors: closed socket.
function Socket:receive(timeout, buffer)
  if self.closed then errorf(2, "receive on a closed socket (%s:%d)", self.addr, self.port or 0) end
  timeout = timeout or self.timeout
  buffer = buffer or self.buffer
  if type(timeout) ~= "number" or timeout < 0 then errorf(2, "receive: timeout must be seconds >= 0") end
  if math.type(buffer) ~= "integer" or buffer < 1 then errorf(2, "receive: buffer must be a positive integer") end
  local deadline = timeout > 0 and sim.now() + timeout or nil
  local d = pop(self)
  while not d do
    if self.closed then errorf(2, "socket closed while receiving") end
    local wait = nil
    if deadline then
      wait = deadline - sim.now()
      if wait < 1e-9 then return nil, "timeout" end
    end
    self.stack:pump(wait)
    d = pop(self)
  end
  return packet(self, d, buffer)
end

--- socket:poll([buffer]) -> packet | nil: like receive, but never blocks:
--- nil if no datagram is waiting for this socket.
function Socket:poll(buffer)
  if self.closed then errorf(2, "poll on a closed socket (%s:%d)", self.addr, self.port or 0) end
  buffer = buffer or self.buffer
  local d = pop(self)
  if not d then
    while self.stack:pump(-1) do end
    d = pop(self)
    if not d then return nil end
  end
  return packet(self, d, buffer)
end

--- socket:available() -> n: datagrams waiting in this socket's queue (after
--- taking in, without blocking, every datagram already delivered to the process).
function Socket:available()
  while self.stack:pump(-1) do end
  return self.queue.last - self.queue.first + 1
end

--- socket:joinGroup(group) -> membership id: receive datagrams sent to the
--- multicast group address (class D) at this socket's port. The id is a
--- number unique to this membership (a later join gets a new one); group
--- layers use it to tell one membership from the next. Errors: not a class
--- D address.
function Socket:joinGroup(gaddr)
  if self.closed then errorf(2, "joinGroup on a closed socket") end
  if not udp.is_multicast(gaddr) then
    errorf(2, "joinGroup: %s is not a multicast (class D, 224.0.0.0-239.255.255.255) address", tostring(gaddr))
  end
  if self.groups[gaddr] then return self.groups[gaddr].id end
  local g = groups[gaddr] or {}
  groups[gaddr] = g
  next_binding = next_binding + 1
  local b = { pid = self.stack.pid, stack = self.stack, sock = self, addr = self.addr, port = self.port,
              id = next_binding }
  g[#g + 1] = b
  self.groups[gaddr] = b
  return b.id
end

--- socket:leaveGroup(group): stops receiving the group's datagrams.
function Socket:leaveGroup(gaddr)
  local b = self.groups[gaddr]
  if not b then return end
  self.groups[gaddr] = nil
  local g = groups[gaddr]
  for i = #g, 1, -1 do if g[i] == b then table.remove(g, i) end end
end

--- socket:close(): unbinds the port and leaves every group; queued
--- datagrams are discarded. Closing twice is harmless.
function Socket:close()
  if self.closed then return end
  for gaddr in pairs(self.groups) do self:leaveGroup(gaddr) end
  self.closed = true
  local st = self.stack
  st.sockets[self.port] = nil
  st.nsockets = st.nsockets - 1
  local h = hosts[self.addr]
  if h and h.ports[self.port] and h.ports[self.port].sock == self then h.ports[self.port] = nil end
  self.queue = { first = 1, last = 0 }
end

--- udp.members(group, port) -> array of {address=, port=, pid=, id=}: the
--- live sockets that joined `group` on `port`, in join order, with their
--- membership ids (what the multicast routers would deliver to).
function udp.members(gaddr, port)
  local out = {}
  for _, b in ipairs(groups[gaddr] or {}) do
    if (port == nil or b.port == port) and is_live(b) then
      out[#out + 1] = { address = b.addr, port = b.port, pid = b.pid, id = b.id }
    end
  end
  return out
end

--- udp.is_bound(address, port) -> boolean, pid: whether a live socket holds
--- that port (used by failure-aware layers and by checks).
function udp.is_bound(addr, port)
  local h = hosts[addr]
  local b = h and h.ports[port]
  if is_live(b) then return true, b.pid end
  return false
end

--- udp.wait([timeout]) -> boolean: waits until one datagram arrives for the
--- calling process (whatever socket it is for), routes it to its socket's
--- queue, and returns true; false after `timeout` seconds. nil waits for
--- ever; a timeout below one nanosecond (0 or negative) does not block.
--- For protocol layers (stream, group) that serve several sockets and
--- timers from one process: wait, then poll() each socket. Errors: called
--- outside a process.
function udp.wait(timeout)
  local st = get_stack(2)
  if timeout ~= nil and timeout < 1e-9 then return st:pump(-1) end
  return st:pump(timeout)
end

--- udp.host() -> address: the calling process's host address.
function udp.host()
  return get_stack(2).addr
end

return udp
