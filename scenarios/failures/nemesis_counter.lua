-- nemesis_counter.lua — a counter that survives random faults.
--
-- A client makes 30 increments on a counter server, retrying each until it
-- is acknowledged. A nemesis meanwhile injects random faults for 3 seconds:
-- partitions, loss bursts, a link down, pauses, and crashes of either
-- process (each restarted after a while). The protocol copes because
--  - each request has an id, and the server remembers its answer to each
--    id, so a retried request is not applied twice (see lost_reply.lua);
--  - the server keeps the count and the answers in stable storage and syncs
--    before it replies, so a crash forgets nothing it acknowledged (see
--    unsynced_write.lua);
--  - the client numbers its requests from what it has been told, so a
--    restarted client carries on instead of counting again.
-- Try other seeds (--seed 2, 3, ...): the nemesis does something different
-- each time, and the checks hold. Then break the protocol (drop the id
-- check in the server) and watch most seeds fail.
--
-- Expect: exit 0 — the counter ends at exactly 30.
-- Run:    dsim run scenarios/failures/nemesis_counter.lua --seed 1

local N = 30

local function server()
  local ch = channel.new()
  ch:join("server")
  local st = sim.stable
  while true do
    local client, req = ch:recvFromAny()
    local answers = st.answers or {}
    if not answers[req.id] then
      st.count = (st.count or 0) + 1
      answers[req.id] = st.count
      st.answers = answers
      sim.sync()                             -- durable before acknowledged
    end
    ch:sendTo(client, {id = req.id, count = answers[req.id]})
  end
end

local function client()
  local ch = channel.new()
  local me = ch:join("client")
  local srv = ch:subgroup("server")[1]
  local st = sim.stable                      -- the client's own storage
  local i = (st.done or 0) + 1
  while i <= N do
    local id = me .. ":" .. i
    ch:sendTo(srv, {op = "increment", id = id})
    local _, reply = ch:recvFrom(srv, 0.050)
    if reply and reply.id == id then
      st.done = i
      sim.sync()
      i = i + 1
      sim.sleep(0.1)                         -- one increment every 100 ms or so
    end
  end
end

local s = sim.spawn(server)
local c = sim.spawn(client)

sim.nemesis{
  stop = 3, interval = {"exponential", 0.1},
  faults = {
    {"partition", duration = {"uniform", 0.05, 0.3}},
    {"loss", loss = 0.5, duration = 0.3},
    {"link_down", duration = 0.2},
    {"pause", duration = 0.1},
    {"crash", duration = 0.2},
  },
}

sim.finally(function()
  sim.check(sim.stable_of(c).done == N, "the client finished its " .. N .. " increments")
  sim.check(sim.stable_of(s).count == N, "the counter ends at exactly " .. N ..
            " (it is " .. tostring(sim.stable_of(s).count) .. ")")
end)
