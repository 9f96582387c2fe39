-- Clients that send once and never retransmit: with 5% loss, some seeds
-- lose a request or a reply and a check fails; most seeds pass.
net.configure{ loss = sim.param("LOSS", 0.05) }
local ch = channel.new()
local srv = sim.spawn(function()
  ch:join("server")
  while true do
    local src, m = ch:recvFromAny()
    ch:sendTo(src, m)
  end
end)
for i = 1, 3 do
  sim.spawn(function()
    ch:join("client")
    ch:sendTo(srv, "hi")
    local src, reply = ch:recvFrom(srv, 1.0)
    sim.check(reply == "hi", "client " .. sim.self() .. " got no reply")
  end)
end
