-- stream.lua: a reliable byte stream (TCP-like) over lossy datagrams
-- (udp.lua), for chapter 4's "TCP stream communication": a two-way stream of
-- bytes with no message boundaries, with the characteristics the chapter
-- lists — lost messages are retransmitted, flow control stops a fast writer
-- from overrunning a slow reader, data arrives in order and without
-- duplicates — and a broken-connection error when the other side stops
-- answering.
--
-- API (ServerSocket / Socket of the chapter's Java examples):
--   local l = stream.listen(port [, opts])     -- a listening socket
--   local c = l:accept([timeout])              -- an established connection
--   local c = stream.connect(address, port [, opts])
--   c:write(data)  c:read([n [, timeout]])  c:flush()  c:close()  c:shutdown()
--   stream.select(items [, timeout])  stream.sleep(seconds)
--
-- How it works (the mechanisms the lab is about):
--   * Segments are datagrams with a readable header line,
--       "<flags> seq=<n> ack=<n> win=<n>\n" followed by the payload,
--     flags being S (SYN), A (ACK), F (FIN). Sequence numbers count bytes;
--     SYN and FIN each take one number. The initial sequence number is drawn
--     at random (from the process's seeded stream).
--   * Connection set-up is a three-way handshake (S, SA, A), close is a FIN
--     from each side, each acknowledged; the side that closes first waits in
--     TIME_WAIT to acknowledge a retransmitted FIN.
--   * Acknowledgements are cumulative (ack = next byte expected); every
--     segment carrying data or FIN is acknowledged at once. The receiver
--     keeps segments that arrive out of order (within its window) and
--     delivers bytes to the application strictly in order, each once.
--   * The sender keeps one retransmission timer for the oldest
--     unacknowledged byte; the timeout (RTO) adapts to the measured round
--     trip time (Jacobson/Karels, Karn's rule) and doubles on each expiry.
--     Three duplicate acknowledgements trigger a fast retransmission, and a
--     partial acknowledgement after a loss retransmits the next hole.
--   * Sliding window with flow control: at most min(`window`, the receiver's
--     advertised window) bytes are in flight. The receiver advertises the
--     free space of its buffer (`rcvbuf`), so it never holds more than that;
--     a zero window is probed with one byte at the retransmission timeout.
--     A writer blocks while its send buffer (`sndbuf`) is full.
--   * Broken connection: when `max_retries` retransmission timeouts in a row
--     pass without hearing anything from the peer, the connection is broken
--     and every operation on it raises "stream: connection ... broken".
--     With `keepalive` set, an idle connection probes the peer too, so a
--     reader waiting for a crashed peer learns of it.
--
-- The protocol runs inside the process that owns the connections, whenever
-- that process is inside a stream call (one process may hold many
-- connections; while it blocks on one, the others are served too). A
-- process that wants to pause while keeping its connections alive calls
-- stream.sleep(d), not sim.sleep(d).
--
-- Errors (raised at the caller, messages start with "stream: "): bad
-- arguments, use of a closed connection, a broken connection, a failed
-- connect. A timeout is not an error: read/accept return nil, "timeout".

local udp = require("udp")

local stream = {}

--- stream.DEFAULTS: options for listen/connect (each may be overridden).
stream.DEFAULTS = {
  mss = 512,          -- most payload bytes per segment
  window = 8192,      -- most bytes in flight (the sender's own limit)
  rcvbuf = 8192,      -- receive buffer, bytes (the most the receiver holds)
  sndbuf = 16384,     -- send buffer, bytes (write blocks while it is full)
  rto = 0.1,          -- initial retransmission timeout, seconds
  rto_min = 0.02,     -- bounds of the adaptive timeout, seconds
  rto_max = 0.5,
  max_retries = 15,   -- timeouts in a row without a word from the peer = broken
  keepalive = nil,    -- seconds of silence before probing an idle peer (off)
  time_wait = nil,    -- TIME_WAIT duration (default rto_max * max_retries)
  backlog = 16,       -- connections waiting to be accepted, per listener
}

-- errorf(level, fmt, ...): raises "stream: ..." at the given level.
local function errorf(level, fmt, ...)
  error("stream: " .. string.format(fmt, ...), level + 1)
end

-- options(opts, level) -> stream.DEFAULTS overridden by opts, checked.
local function options(opts, level)
  if opts ~= nil and type(opts) ~= "table" then errorf(level + 1, "options must be a table") end
  local o = {}
  for k, v in pairs(stream.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if stream.DEFAULTS[k] == nil and k ~= "keepalive" and k ~= "time_wait" and k ~= "host" then
      errorf(level + 1, "unknown option '%s'", tostring(k))
    end
    o[k] = v
  end
  for _, k in ipairs({ "mss", "window", "rcvbuf", "sndbuf", "max_retries", "backlog" }) do
    if math.type(o[k]) ~= "integer" or o[k] < 1 then errorf(level + 1, "option %s must be a positive integer", k) end
  end
  for _, k in ipairs({ "rto", "rto_min", "rto_max" }) do
    if type(o[k]) ~= "number" or o[k] <= 0 then errorf(level + 1, "option %s must be > 0 seconds", k) end
  end
  o.time_wait = o.time_wait or o.rto_max * o.max_retries
  return o
end

----------------------------------------------------------------------------
-- The engine: one per process incarnation; all its connections and timers.

local Engine = {}
Engine.__index = Engine
local engines = setmetatable({}, { __mode = "k" })

-- get_engine(level) -> the calling process incarnation's engine.
local function get_engine(level)
  if not sim.self() then errorf(level + 1, "streams exist only inside a process") end
  local co = coroutine.running()
  local e = engines[co]
  if not e then
    e = setmetatable({ conns = {}, list = {}, socks = {} }, Engine)
    engines[co] = e
  end
  return e
end

local Conn = {}
Conn.__index = Conn
Conn.__tostring = function(c)
  return string.format("%s:%d -> %s:%d", c.laddr, c.lport, c.raddr, c.rport)
end

local Listener = {}
Listener.__index = Listener

-- add_socket(e, sock, listener): the engine polls this socket.
local function add_socket(e, sock, listener)
  e.socks[#e.socks + 1] = { sock = sock, listener = listener }
end

-- remove_socket(e, sock): stops polling it and closes it.
local function remove_socket(e, sock)
  for i, s in ipairs(e.socks) do
    if s.sock == sock then table.remove(e.socks, i) break end
  end
  sock:close()
end

-- new_conn(...) -> a connection record (state set by the caller).
local function new_conn(e, sock, raddr, rport, o, own_socket)
  local laddr, lport = sock:localAddress()
  local c = setmetatable({
    engine = e, sock = sock, own_socket = own_socket, laddr = laddr, lport = lport,
    raddr = raddr, rport = rport, key = lport .. "|" .. raddr .. ":" .. rport,
    mss = o.mss, window = o.window, rcvbuf = o.rcvbuf, sndbuf = o.sndbuf,
    rto = o.rto, rto_min = o.rto_min, rto_max = o.rto_max, max_retries = o.max_retries,
    keepalive = o.keepalive, time_wait = o.time_wait,
    iss = sim.random(1, 1000000) * 1000, retries = 0, dupacks = 0,
    sbuf = "", rbuf = "", ooo = {}, last_heard = sim.now(), last_adv = o.rcvbuf,
    counters = { segments = 0, data_segments = 0, retransmissions = 0, fast_retransmits = 0,
              timeouts = 0, bytes_written = 0, bytes_read = 0, dup_segments = 0, ooo_segments = 0,
              outside_window = 0, max_inflight = 0, max_buffered = 0, zero_window_probes = 0,
              keepalive_probes = 0, zero_windows = 0, payload_bytes = 0 },
  }, Conn)
  c.snd_una, c.snd_nxt = c.iss, c.iss + 1
  c.sbuf_seq = c.iss + 1
  c.snd_edge = c.iss + 1
  e.conns[c.key] = c
  e.list[#e.list + 1] = c
  return c
end

-- remove_conn(c): forgets a closed or broken connection and its timers.
local function remove_conn(c)
  local e = c.engine
  if e.conns[c.key] ~= c then return end
  e.conns[c.key] = nil
  for i, x in ipairs(e.list) do
    if x == c then table.remove(e.list, i) break end
  end
  c.retx_at, c.persist_at, c.ka_at, c.tw_at = nil, nil, nil, nil
  if c.own_socket then remove_socket(e, c.sock) end
end

----------------------------------------------------------------------------
-- Sending.

-- adv_window(c) -> the free receive buffer, the window we advertise.
local function adv_window(c)
  local w = c.rcvbuf - #c.rbuf
  return w > 0 and w or 0
end

-- send_segment(c, flags, seq [, payload]): one segment, with our ack and window.
local function send_segment(c, flags, seq, payload)
  payload = payload or ""
  local win = adv_window(c)
  c.last_adv = win
  if win == 0 then c.counters.zero_windows = c.counters.zero_windows + 1 end
  local hdr = string.format("%s seq=%d ack=%d win=%d\n", flags, seq, c.rcv_nxt or 0, win)
  if not c.sock.closed then c.sock:send(hdr .. payload, c.raddr, c.rport) end
  c.counters.segments = c.counters.segments + 1
  if #payload > 0 then
    c.counters.data_segments = c.counters.data_segments + 1
    c.counters.payload_bytes = c.counters.payload_bytes + #payload
  end
end

-- send_ack(c): a pure acknowledgement.
local function send_ack(c)
  send_segment(c, "A", c.snd_nxt)
end

-- data_end(c) -> the sequence number after the last byte written.
local function data_end(c) return c.sbuf_seq + #c.sbuf end

-- arm_retx(c): starts the retransmission timer unless it runs.
local function arm_retx(c)
  if not c.retx_at then c.retx_at = sim.now() + c.rto end
end

-- Sends the first unacknowledged segment again.
local function retransmit_first(c)
  c.counters.retransmissions = c.counters.retransmissions + 1
  if c.state == "SYN_SENT" then
    send_segment(c, "S", c.iss)
  elseif c.state == "SYN_RCVD" then
    send_segment(c, "SA", c.iss)
  elseif c.fin_seq and c.snd_una == c.fin_seq then
    send_segment(c, "FA", c.fin_seq)
  else
    local limit = c.fin_seq or c.snd_nxt
    local len = math.min(c.mss, limit - c.snd_una, data_end(c) - c.snd_una)
    if len > 0 then
      local off = c.snd_una - c.sbuf_seq
      send_segment(c, "A", c.snd_una, c.sbuf:sub(off + 1, off + len))
    end
  end
end

local SENDING = { ESTABLISHED = true, CLOSE_WAIT = true }

-- Sends whatever the windows allow, then the FIN if the application closed.
local function output(c)
  if not SENDING[c.state] then return end
  local dend = data_end(c)
  local limit = math.min(c.snd_edge, c.snd_una + c.window)
  while c.snd_nxt < dend do
    local unsent = dend - c.snd_nxt
    local len = math.min(c.mss, unsent, limit - c.snd_nxt)
    if len <= 0 then break end
    -- avoid silly small segments while others are in flight
    if len < c.mss and len < unsent and c.snd_nxt > c.snd_una then break end
    local off = c.snd_nxt - c.sbuf_seq
    send_segment(c, "A", c.snd_nxt, c.sbuf:sub(off + 1, off + len))
    if not c.rtt_seq then c.rtt_seq, c.rtt_time = c.snd_nxt + len, sim.now() end
    c.snd_nxt = c.snd_nxt + len
    arm_retx(c)
    local inflight = c.snd_nxt - c.snd_una
    if inflight > c.counters.max_inflight then c.counters.max_inflight = inflight end
  end
  if c.snd_nxt < dend and c.snd_nxt == c.snd_una and limit <= c.snd_nxt and not c.persist_at then
    c.persist_at = sim.now() + c.rto -- zero window: probe later
  end
  if c.fin_pending and not c.fin_seq and c.snd_nxt == dend then
    c.fin_seq = c.snd_nxt
    send_segment(c, "FA", c.fin_seq)
    c.snd_nxt = c.snd_nxt + 1
    arm_retx(c)
    c.state = c.state == "ESTABLISHED" and "FIN_WAIT_1" or "LAST_ACK"
  end
end

-- broken(c, why): the peer stopped answering; later calls raise c.error.
local function broken(c, why)
  if c.state == "BROKEN" or c.state == "CLOSED" then return end
  c.broken_from = c.state
  c.state = "BROKEN"
  c.error = string.format("stream: connection %s broken: %s", tostring(c), why)
  sim.log(c.error)
  remove_conn(c)
end

-- enter_time_wait(c): both FINs done; linger to re-acknowledge the peer's.
local function enter_time_wait(c)
  c.state = "TIME_WAIT"
  c.retx_at, c.persist_at, c.ka_at = nil, nil, nil
  c.tw_at = sim.now() + c.time_wait
end

----------------------------------------------------------------------------
-- Receiving.

-- take_ooo(c): moves out-of-order data that now continues the stream into rbuf.
local function take_ooo(c)
  -- move out-of-order data that now continues the stream into rbuf
  local progress = true
  while progress do
    progress = false
    for i = #c.ooo, 1, -1 do
      local o = c.ooo[i]
      local e = o.seq + #o.data
      if e <= c.rcv_nxt then
        table.remove(c.ooo, i)
      elseif o.seq <= c.rcv_nxt then
        c.rbuf = c.rbuf .. o.data:sub(c.rcv_nxt - o.seq + 1)
        c.rcv_nxt = e
        table.remove(c.ooo, i)
        progress = true
      end
    end
  end
end

-- buffered(c) -> bytes the receiver holds (unread data + out-of-order data).
local function buffered(c)
  -- bytes held: unread in-order data plus out-of-order data (union)
  local total, spans = #c.rbuf, {}
  for _, o in ipairs(c.ooo) do spans[#spans + 1] = { o.seq, o.seq + #o.data } end
  table.sort(spans, function(a, b) return a[1] < b[1] end)
  local cur_s, cur_e
  for _, s in ipairs(spans) do
    if cur_e and s[1] <= cur_e then
      if s[2] > cur_e then cur_e = s[2] end
    else
      if cur_e then total = total + cur_e - cur_s end
      cur_s, cur_e = s[1], s[2]
    end
  end
  if cur_e then total = total + cur_e - cur_s end
  return total
end

-- peer_fin_done(c): the peer's FIN came in order: end of stream.
local function peer_fin_done(c)
  c.rcv_nxt = c.rcv_nxt + 1
  c.eof = true
  if c.state == "ESTABLISHED" or c.state == "SYN_RCVD" then
    c.state = "CLOSE_WAIT"
  elseif c.state == "FIN_WAIT_1" then
    c.state = "CLOSING"
  elseif c.state == "FIN_WAIT_2" then
    enter_time_wait(c)
  end
end

-- receive_data(c, seq, payload, fin): accepts what fits the window, in
-- order or held back; acknowledges every data or FIN segment.
local function receive_data(c, seq, payload, fin)
  local len = #payload
  if len > 0 then
    local right = c.rcv_nxt + adv_window(c)
    local s, e = seq, seq + len
    if e <= c.rcv_nxt then
      c.counters.dup_segments = c.counters.dup_segments + 1
    elseif s >= right then
      c.counters.outside_window = c.counters.outside_window + 1
      fin = false
    else
      if s < c.rcv_nxt then
        payload = payload:sub(c.rcv_nxt - s + 1)
        s = c.rcv_nxt
      end
      if e > right then
        payload = payload:sub(1, right - s)
        e = right
        fin = false
      end
      if s == c.rcv_nxt then
        c.rbuf = c.rbuf .. payload
        c.rcv_nxt = e
        take_ooo(c)
      else
        c.counters.ooo_segments = c.counters.ooo_segments + 1
        local dup = false
        for _, o in ipairs(c.ooo) do
          if o.seq == s and #o.data >= #payload then dup = true end
        end
        if not dup then c.ooo[#c.ooo + 1] = { seq = s, data = payload } end
      end
      local b = buffered(c)
      if b > c.counters.max_buffered then c.counters.max_buffered = b end
    end
  end
  if fin then c.peer_fin_seq = seq + len end
  if c.peer_fin_seq and not c.eof and c.rcv_nxt == c.peer_fin_seq then peer_fin_done(c) end
  if len > 0 or fin then
    send_ack(c)
  elseif seq < c.rcv_nxt and not c.eof then
    send_ack(c) -- a segment below the window: a keepalive probe; answer it
  end
end

-- process_ack(c, ack, win, payload_len): advances the window, samples the
-- round trip, handles duplicate ACKs (fast retransmit) and our FIN's ACK.
local function process_ack(c, ack, win, payload_len)
  if ack > c.snd_una and ack <= c.snd_nxt then
    local acked_to = math.min(ack, data_end(c))
    if acked_to > c.sbuf_seq then
      c.sbuf = c.sbuf:sub(acked_to - c.sbuf_seq + 1)
      c.sbuf_seq = acked_to
    end
    c.snd_una = ack
    c.dupacks = 0
    c.persist_at = nil
    if c.rtt_seq and ack >= c.rtt_seq then
      local r = sim.now() - c.rtt_time
      if not c.srtt then
        c.srtt, c.rttvar = r, r / 2
      else
        c.rttvar = 0.75 * c.rttvar + 0.25 * math.abs(c.srtt - r)
        c.srtt = 0.875 * c.srtt + 0.125 * r
      end
      c.rto = math.min(c.rto_max, math.max(c.rto_min, c.srtt + 4 * c.rttvar))
      c.rtt_seq = nil
    end
    c.retx_at = nil
    if c.snd_una < c.snd_nxt then arm_retx(c) end
    if c.recover and c.snd_una < c.recover then
      retransmit_first(c) -- partial acknowledgement: the next hole
    else
      c.recover = nil
    end
    if c.fin_seq and ack > c.fin_seq then
      if c.state == "FIN_WAIT_1" then
        c.state = "FIN_WAIT_2"
      elseif c.state == "CLOSING" then
        enter_time_wait(c)
      elseif c.state == "LAST_ACK" then
        c.state = "CLOSED"
        remove_conn(c)
      end
    end
  elseif ack == c.snd_una and payload_len == 0 and c.snd_nxt > c.snd_una and ack + win <= c.snd_edge then
    -- a duplicate acknowledgement (not a window update: the edge did not move)
    c.dupacks = c.dupacks + 1
    if c.dupacks == 3 then
      c.counters.fast_retransmits = c.counters.fast_retransmits + 1
      c.rtt_seq = nil
      retransmit_first(c)
      c.recover = c.snd_nxt
    end
  end
  if ack >= c.snd_una and ack + win > c.snd_edge then c.snd_edge = ack + win end
end

-- One arriving datagram on an engine socket.
function Engine:segment(s, p)
  local flags, seq, ack, win, pos = p.data:match("^(%u+) seq=(%d+) ack=(%d+) win=(%d+)\n()")
  if not flags then
    sim.log(string.format("stream: malformed segment from %s:%d ignored", p.address, p.port))
    return
  end
  seq, ack, win = math.tointeger(tonumber(seq)), math.tointeger(tonumber(ack)), math.tointeger(tonumber(win))
  local payload = p.data:sub(pos)
  local key = s.sock.port .. "|" .. p.address .. ":" .. p.port
  local c = self.conns[key]
  local S, A, F = flags:find("S", 1, true), flags:find("A", 1, true), flags:find("F", 1, true)
  if not c then
    local l = s.listener
    if flags == "S" and l and not l.closed then
      if #l.queue + l.half_open >= l.opts.backlog then return end -- backlog full: the SYN is dropped
      c = new_conn(self, s.sock, p.address, p.port, l.opts, false)
      c.listener = l
      l.half_open = l.half_open + 1
      c.state = "SYN_RCVD"
      c.irs, c.rcv_nxt = seq, seq + 1
      c.snd_edge = c.iss + 1 + win
      send_segment(c, "SA", c.iss)
      arm_retx(c)
    end
    return
  end
  c.last_heard = sim.now()
  c.retries = 0
  c.ka_at = nil
  if c.state == "SYN_SENT" then
    if S and A and ack == c.iss + 1 then
      c.irs, c.rcv_nxt = seq, seq + 1
      c.snd_una = ack
      c.snd_edge = ack + win
      c.state = "ESTABLISHED"
      c.retx_at = nil
      if c.rtt_seq == nil and c.retransmitted_syn == nil then
        c.srtt = sim.now() - c.syn_time
        c.rttvar = c.srtt / 2
        c.rto = math.min(c.rto_max, math.max(c.rto_min, c.srtt + 4 * c.rttvar))
      end
      send_ack(c)
    end
    return
  end
  if S then
    -- a duplicate SYN or SYN-ACK: the other side missed our answer
    if c.state == "SYN_RCVD" then
      if seq == c.irs then send_segment(c, "SA", c.iss) end
    elseif seq == c.irs then
      send_ack(c)
    end
    return
  end
  if c.state == "SYN_RCVD" then
    if not (A and ack == c.iss + 1) then return end
    c.state = "ESTABLISHED"
    c.snd_una = ack
    c.retx_at = nil
    local l = c.listener
    l.half_open = l.half_open - 1
    l.queue[#l.queue + 1] = c
  end
  if A then process_ack(c, ack, win, #payload) end
  if c.state == "CLOSED" then
    return
  end
  receive_data(c, seq, payload, F ~= nil)
  output(c)
end

-- engine:poll(): handles every datagram waiting on the engine's sockets.
function Engine:poll()
  for i = 1, #self.socks do
    local s = self.socks[i]
    if s then
      while not s.sock.closed do -- (handling a segment may close the socket)
        local p = s.sock:poll()
        if not p then break end
        self:segment(s, p)
      end
    end
  end
end

-- engine:next_timer() -> when the next timer of any connection is due.
function Engine:next_timer()
  local t
  for _, c in ipairs(self.list) do
    for _, x in ipairs({ c.retx_at or false, c.persist_at or false, c.ka_at or false, c.tw_at or false }) do
      if x and (not t or x < t) then t = x end
    end
    if c.keepalive and not c.ka_at and (c.state == "ESTABLISHED" or c.state == "CLOSE_WAIT")
       and c.snd_una == c.snd_nxt then
      local x = c.last_heard + c.keepalive
      if not t or x < t then t = x end
    end
  end
  return t
end

-- engine:fire(): runs due timers: TIME_WAIT ends, retransmissions (or
-- broken), zero-window probes, keepalive probes (or broken).
function Engine:fire()
  local now = sim.now() + 1e-9
  local list = {}
  for i, c in ipairs(self.list) do list[i] = c end
  for _, c in ipairs(list) do
    if c.tw_at and c.tw_at <= now then
      c.state = "CLOSED"
      remove_conn(c)
    end
    if c.retx_at and c.retx_at <= now then
      c.retx_at = nil
      c.retries = c.retries + 1
      c.counters.timeouts = c.counters.timeouts + 1
      if c.retries > c.max_retries then
        broken(c, string.format("the peer stopped answering (%d retransmission timeouts, nothing heard for %.3f s)",
                                c.max_retries, sim.now() - c.last_heard))
      else
        c.rto = math.min(c.rto * 2, c.rto_max)
        c.rtt_seq = nil
        if c.state == "SYN_SENT" then c.retransmitted_syn = true end
        retransmit_first(c)
        c.recover = c.snd_nxt
        arm_retx(c)
      end
    end
    if c.persist_at and c.persist_at <= now and c.state ~= "BROKEN" then
      c.persist_at = nil
      if c.snd_nxt == c.snd_una and c.snd_nxt < data_end(c) then
        -- zero-window probe: one byte beyond the window, retransmitted like data
        local off = c.snd_nxt - c.sbuf_seq
        c.counters.zero_window_probes = c.counters.zero_window_probes + 1
        send_segment(c, "A", c.snd_nxt, c.sbuf:sub(off + 1, off + 1))
        c.snd_nxt = c.snd_nxt + 1
        arm_retx(c)
      end
    end
    if c.keepalive and c.state ~= "BROKEN" and c.state ~= "CLOSED" then
      if c.ka_at and c.ka_at <= now then
        c.ka_at = nil
        c.retries = c.retries + 1
        if c.retries > c.max_retries then
          broken(c, string.format("the peer stopped answering (%d keepalive probes unanswered, nothing heard for %.3f s)",
                                  c.max_retries, sim.now() - c.last_heard))
        end
      end
      if c.state ~= "BROKEN" and not c.ka_at and (c.state == "ESTABLISHED" or c.state == "CLOSE_WAIT")
         and c.snd_una == c.snd_nxt and sim.now() + 1e-9 >= c.last_heard + c.keepalive then
        -- a segment below the window makes the peer answer with an ACK
        c.counters.keepalive_probes = c.counters.keepalive_probes + 1
        send_segment(c, "A", c.snd_una - 1)
        c.ka_at = sim.now() + math.max(c.rto, c.keepalive / 4)
      end
    end
  end
end

-- Runs the protocol until a datagram arrives, a timer fires or `deadline`.
function Engine:step(deadline)
  local t = self:next_timer()
  if deadline and (not t or deadline < t) then t = deadline end
  local wait = t and (t - sim.now()) or nil
  if wait == nil or wait >= 1e-9 then udp.wait(wait) end
  self:poll()
  self:fire()
end

-- Blocks until cond() returns a true value (returned), the connection
-- breaks (returns nil, "broken") or the deadline passes (nil, "timeout").
local function block(e, cond, deadline, c)
  while true do
    local r = cond()
    if r then return r end
    if c and c.state == "BROKEN" then return nil, "broken" end
    if deadline and sim.now() >= deadline - 1e-9 then return nil, "timeout" end
    e:step(deadline)
  end
end

-- deadline_of(timeout, level) -> absolute deadline, nil for none.
local function deadline_of(timeout, level)
  if timeout == nil or timeout == 0 then return nil end
  if type(timeout) ~= "number" or timeout < 0 then errorf(level + 1, "timeout must be seconds >= 0") end
  return sim.now() + timeout
end

----------------------------------------------------------------------------
-- Public API.

--- stream.listen(port [, opts]) -> listener: a listening socket on `port` of
--- the process's host (opts: see stream.DEFAULTS, plus `host`). Errors: the
--- port is taken, bad options, outside a process.
function stream.listen(port, opts)
  local e = get_engine(2)
  local o = options(opts, 2)
  local sock = udp.socket(port, { buffer = udp.MAX_MESSAGE, host = o.host, queue = 100000 })
  local l = setmetatable({ engine = e, sock = sock, opts = o, queue = {}, half_open = 0 }, Listener)
  add_socket(e, sock, l)
  return l
end

--- listener:accept([timeout]) -> connection | nil, "timeout": waits for an
--- established connection (the handshake is done by the protocol).
function Listener:accept(timeout)
  if self.closed then errorf(2, "accept on a closed listener") end
  local c, why = block(self.engine, function() return table.remove(self.queue, 1) end, deadline_of(timeout, 2))
  return c, why
end

--- listener:address() -> address, port
function Listener:address() return self.sock:localAddress() end

--- listener:pending() -> n: established connections waiting for accept.
function Listener:pending() return #self.queue end

--- listener:close(): stops accepting; established connections go on.
function Listener:close()
  self.closed = true
end

--- stream.connect(address, port [, opts]) -> connection: opens a connection
--- (three-way handshake) from a fresh local port. Errors: "stream: connect to
--- A:P failed" when the SYN is not answered after max_retries timeouts.
function stream.connect(addr, port, opts)
  local e = get_engine(2)
  local o = options(opts, 2)
  local sock = udp.socket(nil, { buffer = udp.MAX_MESSAGE, host = o.host, queue = 100000 })
  add_socket(e, sock, nil)
  local c = new_conn(e, sock, addr, port, o, true)
  c.state = "SYN_SENT"
  c.syn_time = sim.now()
  send_segment(c, "S", c.iss)
  arm_retx(c)
  local ok = block(e, function() return c.state ~= "SYN_SENT" end, nil, c)
  if not ok or c.state == "BROKEN" then
    errorf(2, "connect to %s:%d failed: no answer after %d attempts", addr, port, c.max_retries + 1)
  end
  return c
end

--- conn:write(data): queues `data` (a string) for sending and returns when
--- it fits in the send buffer (it blocks while the buffer is full: flow
--- control reaches the writer). Errors: broken connection, writing after
--- close.
function Conn:write(data)
  if type(data) ~= "string" then errorf(2, "write: data must be a string") end
  if self.state == "BROKEN" then error(self.error, 2) end
  if self.fin_pending or not (SENDING[self.state]) then
    errorf(2, "write on a connection that is closing or closed (%s, state %s)", tostring(self), self.state)
  end
  self.sbuf = self.sbuf .. data
  self.counters.bytes_written = self.counters.bytes_written + #data
  output(self)
  local ok = block(self.engine, function() return #self.sbuf <= self.sndbuf end, nil, self)
  if not ok then error(self.error, 2) end
end

--- conn:flush(): waits until every byte written has been acknowledged.
--- Errors: broken connection.
function Conn:flush()
  local ok = block(self.engine, function() return self.snd_una >= data_end(self) end, nil, self)
  if not ok then error(self.error, 2) end
end

--- conn:read([n [, timeout]]) -> data | nil (end of stream) | nil, "timeout"
--- Waits until at least one byte is available and returns up to `n` bytes
--- (all that are buffered if n is nil), in order. Returns nil once the peer
--- has closed and every byte has been read. Errors: broken connection with
--- no data left to read.
function Conn:read(n, timeout)
  if n ~= nil and (math.type(n) ~= "integer" or n < 1) then errorf(2, "read: n must be a positive integer") end
  local deadline = deadline_of(timeout, 2)
  local ok, why = block(self.engine, function() return #self.rbuf > 0 or self.eof end, deadline, self)
  if not ok then
    if why == "timeout" then return nil, "timeout" end
    if #self.rbuf == 0 then error(self.error, 2) end
  end
  if #self.rbuf == 0 then return nil end -- end of stream
  local k = n and math.min(n, #self.rbuf) or #self.rbuf
  local out = self.rbuf:sub(1, k)
  self.rbuf = self.rbuf:sub(k + 1)
  self.counters.bytes_read = self.counters.bytes_read + k
  -- tell the sender when the window has opened enough to matter
  if self.state ~= "BROKEN" and self.state ~= "CLOSED" and self.engine.conns[self.key] == self then
    local w = adv_window(self)
    if w - self.last_adv >= math.min(self.mss, self.rcvbuf // 2) then send_ack(self) end
  end
  return out
end

--- conn:readable() -> boolean: read would not block (data, end of stream or broken).
function Conn:readable()
  return #self.rbuf > 0 or self.eof or self.state == "BROKEN"
end

--- conn:shutdown(): starts closing (FIN after the data already written) and
--- returns at once; the protocol finishes the close whenever the process is
--- inside a stream call. Errors: broken connection.
function Conn:shutdown()
  if self.state == "BROKEN" then error(self.error, 2) end
  if not self.fin_pending then
    self.fin_pending = true
    output(self)
  end
end

--- conn:close() -> true | false, reason: closes the connection and waits:
--- until everything written (and the FIN) is acknowledged, then for the
--- peer's FIN, then through TIME_WAIT if this side closed first. Returns
--- false with a reason when the peer did not acknowledge our FIN or did
--- not close its side in time. Errors: the connection broke before all data
--- written was acknowledged.
function Conn:close()
  if self.state == "CLOSED" or (self.state == "TIME_WAIT" and not self.engine.conns[self.key]) then return true end
  if self.state == "BROKEN" then
    if self.snd_una >= (self.fin_seq or data_end(self)) then return false, self.error end
    error(self.error, 2)
  end
  self:shutdown()
  local e = self.engine
  local ok = block(e, function() return self.fin_seq and self.snd_una > self.fin_seq end, nil, self)
  if not ok then
    if self.snd_una >= data_end(self) then return false, "FIN not acknowledged: " .. self.error end
    error(self.error, 2)
  end
  local give_up = sim.now() + self.rto_max * self.max_retries
  block(e, function() return self.eof end, give_up, nil)
  if not self.eof then
    remove_conn(self)
    self.state = "CLOSED"
    return false, "the peer did not close its side"
  end
  if self.state == "TIME_WAIT" then
    block(e, function() return self.state == "CLOSED" end, nil, nil)
  end
  return true
end

--- conn:state() -> string: ESTABLISHED, FIN_WAIT_1, CLOSE_WAIT, TIME_WAIT,
--- CLOSED, BROKEN, ...
function Conn:status() return self.state end

--- conn:stats() -> table: counters (segments, retransmissions,
--- fast_retransmits, timeouts, bytes_written, bytes_read, dup_segments,
--- ooo_segments, outside_window, max_inflight, max_buffered,
--- zero_window_probes, keepalive_probes, zero_windows = segments sent
--- advertising a zero window, payload_bytes = data bytes put on the network,
--- retransmissions included) and the current rto/srtt.
function Conn:stats()
  local s = {}
  for k, v in pairs(self.counters) do s[k] = v end
  s.rto, s.srtt = self.rto, self.srtt
  return s
end

--- conn:address() -> local address, local port, remote address, remote port
function Conn:address() return self.laddr, self.lport, self.raddr, self.rport end

--- stream.select(items [, timeout]) -> item | nil, "timeout": waits until one
--- of `items` (connections and listeners) is ready — a connection that can
--- be read without blocking, a listener with a connection to accept — and
--- returns the first ready one in list order. For servers that handle
--- several connections from one process.
function stream.select(items, timeout)
  local e = get_engine(2)
  if type(items) ~= "table" then errorf(2, "select: items must be a list") end
  return block(e, function()
    for _, it in ipairs(items) do
      if getmetatable(it) == Listener then
        if #it.queue > 0 then return it end
      elseif getmetatable(it) == Conn then
        if it:readable() then return it end
      end
    end
    return nil
  end, deadline_of(timeout, 2))
end

--- stream.sleep(seconds): pauses the calling process while its connections
--- go on working (acknowledgements, retransmissions, window updates).
function stream.sleep(d)
  if type(d) ~= "number" or d < 0 then errorf(2, "sleep: expected seconds >= 0") end
  local e = get_engine(2)
  local deadline = sim.now() + d
  block(e, function() return false end, deadline)
end

return stream
