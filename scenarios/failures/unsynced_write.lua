-- unsynced_write.lua — an acknowledged write lost in a crash.
--
-- An account server keeps its balance in stable storage (sim.stable),
-- which survives crashes. For each deposit it writes the new balance and
-- replies "ok" at once, without waiting for the write to reach the disk
-- (no sim.sync()). This disk loses writes that a crash catches before a
-- sync (storage_faults lost = 1). The server crashes at t = 35 ms and
-- restarts: the deposits it acknowledged since its last sync are gone,
-- though the client was told they were done. Calling sim.sync() before
-- replying fixes it.
--
-- Expect: exit 1 — the check "every acknowledged deposit survived" fails.
-- Run:    dsim run scenarios/failures/unsynced_write.lua --seed 1

local acknowledged = 0

local function server()
  local ch = channel.new()
  ch:join("server")
  local st = sim.stable
  st.balance = st.balance or 0
  sim.sync()
  while true do
    local client, req = ch:recvFromAny()
    st.balance = st.balance + req.amount
    ch:sendTo(client, "ok")                  -- before the write is durable
  end
end

local function client()
  local ch = channel.new()
  ch:join("client")
  local srv = ch:subgroup("server")[1]
  for _ = 1, 10 do
    ch:sendTo(srv, {amount = 10})
    local _, reply = ch:recvFrom(srv, 0.050)
    if reply == "ok" then acknowledged = acknowledged + 10 end
    sim.sleep(0.005)
  end
end

local s = sim.spawn(server)
sim.spawn(client)
sim.storage_faults(s, {lost = 1})
sim.at(0.035, function() sim.crash(s); sim.restart(s) end)

sim.finally(function()
  local kept = sim.stable_of(s).balance
  sim.check(kept == acknowledged,
            "every acknowledged deposit survived (" .. acknowledged .. " acknowledged, " .. kept .. " kept)")
end)
