-- clock_drift_lease.lua — a slow clock outlives its lease.
--
-- A lock server grants 10-second leases. Client A gets the lease at t = 0
-- and uses the resource until its own clock says ten seconds have passed.
-- But A's clock runs 2% slow (drift = -0.02): when the server's lease ends
-- at t = 10 s, A's clock reads only 9.8 s. Client B asks at t = 10.05 s,
-- the server sees an expired lease and grants it, and for about 150 ms both
-- A and B use the resource. (A holder must give the lease up early by the
-- largest drift it may have: 10 s x 2% = 200 ms here.)
--
-- Expect: exit 1 — the check "one lease holder at a time" fails at
--         t = 10.052 s, when B starts using the resource.
-- Run:    dsim run scenarios/failures/clock_drift_lease.lua --seed 1

local LEASE = 10.0
local using = {}               -- pid -> true while it uses the resource

local function server()
  local ch = channel.new()
  ch:join("server")
  local lease_end = -math.huge
  while true do
    local client, req = ch:recvFromAny()
    if sim.clock() >= lease_end then                 -- free, or expired
      lease_end = sim.clock() + LEASE
      ch:sendTo(client, {granted = true, duration = LEASE})
    else
      ch:sendTo(client, {granted = false})
    end
  end
end

local function client(start)
  local ch = channel.new()
  local me = ch:join("client")
  sim.sleep(start)
  local srv = ch:subgroup("server")[1]
  ch:sendTo(srv, "lease please")
  local _, reply = ch:recvFrom(srv)
  if not reply.granted then return end
  local expires = sim.clock() + reply.duration       -- by its own clock
  while sim.clock() < expires do
    using[me] = true
    local n = 0
    for _ in pairs(using) do n = n + 1 end
    sim.check(n <= 1, "one lease holder at a time (pid " .. me .. " shares the resource)")
    sim.sleep(0.050)
  end
  using[me] = nil
end

sim.spawn(server)
local a = sim.spawn(client, 0)
sim.spawn(client, 10.05)
sim.set_clock(a, {drift = -0.02})
