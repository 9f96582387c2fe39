-- The chapter's Figures 3 and 4 in Lua, shared by echo.lua (reference) and
-- naive_echo.lua (the figures as printed).
--
-- Figure 4: a UDP server bound to port 6789 repeatedly receives a request
-- and sends it back to the client. Figure 3: a UDP client sends a message
-- to the server and waits for the reply. As printed, Figure 3's receive has
-- no timeout: if the request or the reply is lost, the client waits for
-- ever. The reference client sets a timeout (setSoTimeout) and sends again.
--
-- figures.run{timeout = seconds (0: wait for ever), attempts = n,
--             clients = n, loss = p, duplicate = p}
-- spawns one server and `clients` clients under those faults, and at the end
-- checks "udp echo: every client got its reply".

local udp = require("udp")

local figures = {}

figures.SERVER_HOST = "10.0.3.1"
figures.SERVER_PORT = 6789

--- figures.server(): Figure 4. Never returns.
function figures.server()
  local aSocket = udp.socket(figures.SERVER_PORT, { host = figures.SERVER_HOST, buffer = 1000 })
  while true do
    local request = aSocket:receive()
    aSocket:send(request.data, request.address, request.port)
  end
end

--- figures.client(message, timeout, attempts, results): Figure 3, with a
--- receive timeout (0: none) and up to `attempts` sends. Records the reply
--- (or nil) in results[pid].
function figures.client(message, timeout, attempts, results)
  local me = sim.self()
  results[me] = { message = message }
  local aSocket = udp.socket()                       -- any free local port
  aSocket:setSoTimeout(timeout)
  for attempt = 1, attempts do
    aSocket:send(message, figures.SERVER_HOST, figures.SERVER_PORT)
    local reply = aSocket:receive()                  -- blocks (until the timeout, if any)
    if reply then
      print("Reply: " .. reply.data .. " (attempt " .. attempt .. ")")
      results[me].reply = reply.data
      results[me].attempts = attempt
      break
    end
  end
  aSocket:close()
end

--- figures.run(opts): the whole scenario (see the file comment).
function figures.run(opts)
  net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = opts.loss or 0.2,
                 duplicate = opts.duplicate or 0.05 }
  local results = {}
  sim.spawn(figures.server)
  local clients = {}
  for i = 1, opts.clients or 6 do
    clients[i] = sim.spawn(figures.client, "message " .. i, opts.timeout, opts.attempts, results)
  end
  sim.finally(function()
    local missing = {}
    for i, pid in ipairs(clients) do
      local r = results[pid]
      if not (r and r.reply == r.message) then
        missing[#missing + 1] = string.format("client %d (pid %d, %s)", i, pid, sim.state(pid))
      end
    end
    sim.check(#missing == 0, "udp echo: every client got its reply; missing: " .. table.concat(missing, ", "))
  end)
end

return figures
