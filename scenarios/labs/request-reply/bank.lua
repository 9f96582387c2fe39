-- The request-reply lab's workload: a bank server with a binder, and
-- clients that deposit money through rpc.lua. Shared by the lab's
-- scenarios, which choose the protocol and switch mechanisms on or off.
--
-- Remote interfaces (method ids):
--   Binder  (object 0, the well-known reference bank.binder(port))
--     1 lookup(name: string) -> RemoteObjectRef   (creates the account)
--   Account
--     1 deposit(amount: long) -> balance: long    (NOT idempotent)
--     2 balance() -> balance: long                (idempotent)
-- Arguments and results are CDR messages (cdr.marshal) inside the
-- request-reply message's `arguments` field.
--
-- What the scenarios check with the records kept here (`obs`, observed
-- from outside the protocol):
--   obs.exec[requestKey]   how many times the server executed a request
--                          (requestKey = "address:port#requestId")
--   obs.balance[name]      the server's balance of each account
--   obs.deposited[name]    the sum clients asked to deposit
--   obs.ops / obs.replied  operations attempted / answered by clients
--   obs.deposits_asked     deposits clients requested
--   obs.deposits_done      deposits the server executed
--
-- The account "acme" exists from the server's start as object 1 with
-- creation time 0, so its reference is well known (bank.acme(port)):
-- clients of the R protocol, which has no replies and so cannot use the
-- binder, use that reference directly.

local cdr = require("cdr")
local rpc = require("rpc")

local bank = {}

bank.HOST = "10.0.4.1"
bank.LOOKUP, bank.DEPOSIT, bank.BALANCE = 1, 1, 2

--- bank.observer() -> a fresh record table for one server and its clients.
function bank.observer()
  return { exec = {}, balance = {}, deposited = {}, ops = 0, replied = 0, failed = {},
           deposits_asked = 0, deposits_done = 0, clients = {} }
end

--- bank.binder(port) -> the binder's well-known remote object reference.
function bank.binder(port)
  return { address = bank.HOST, port = port, time = 0, object = 0, interface = "Binder" }
end

--- bank.acme(port) -> the well-known reference of the account "acme".
function bank.acme(port)
  return { address = bank.HOST, port = port, time = 0, object = 1, interface = "Account" }
end

--- bank.server(port, opts, obs): the server process. opts are rpc.server
--- options (protocol, filter, history, ...). Never returns.
function bank.server(port, opts, obs)
  opts.host = bank.HOST
  local srv = rpc.server(port, opts)
  obs.server = srv
  local addr = srv:address()
  local started = math.floor(sim.now() * 1000) % 4294967296 -- creation time, ms
  local acme = { name = "acme", balance = 0, ref = bank.acme(port) }
  local accounts, by_name, nobjects = { acme }, { acme = acme }, 1
  obs.balance.acme = 0
  while true do
    local req = srv:getRequest()
    local rkey = req.key .. "#" .. req.requestId
    obs.exec[rkey] = (obs.exec[rkey] or 0) + 1
    local ref = req.objectReference
    local reply
    if ref.interface == "Binder" and req.methodId == bank.LOOKUP then
      local name = cdr.unmarshal(cdr.string, req.arguments)
      local acct = by_name[name]
      if not acct then
        nobjects = nobjects + 1
        acct = { name = name, balance = 0,
                 ref = cdr.ror(addr, port, started, nobjects, "Account") }
        accounts[nobjects], by_name[name] = acct, acct
        obs.balance[name] = 0
      end
      reply = cdr.marshal(cdr.RemoteObjectRef, acct.ref)
    elseif ref.interface == "Account" then
      local acct = accounts[ref.object]
      assert(acct and cdr.ror_equal(ref, acct.ref), "request for an unknown object " .. cdr.ror_tostring(ref))
      if req.methodId == bank.DEPOSIT then
        acct.balance = acct.balance + cdr.unmarshal(cdr.long, req.arguments)
        obs.balance[acct.name] = acct.balance
        obs.deposits_done = obs.deposits_done + 1
      end
      reply = cdr.marshal(cdr.long, acct.balance)
    else
      error("bank: no method " .. req.methodId .. " on " .. cdr.ror_tostring(ref))
    end
    if srv.protocol ~= "R" then srv:sendReply(req, reply) end
  end
end

--- bank.client(port, copts, account, amounts, obs): a client process that
--- looks `account` up through the binder (an RR exchange: the lookup has a
--- result; under R it uses the well-known reference of "acme" instead), then
--- deposits each amount with the protocol in copts (rpc.client options),
--- then (unless R) reads the balance.
function bank.client(port, copts, account, amounts, obs)
  local function op(c, ref, method, args, what)
    obs.ops = obs.ops + 1
    local r, err = c:doOperation(ref, method, args)
    if r then
      obs.replied = obs.replied + 1
    else
      obs.failed[#obs.failed + 1] = string.format("pid %d %s: %s", sim.self(), what, err)
    end
    return r
  end
  local ref
  if copts.protocol == "R" then
    assert(account == "acme", "R clients can only use the well-known account acme")
    ref = bank.acme(port)
  else
    local lookup = rpc.client{ protocol = "RR", timeout = copts.timeout, attempts = copts.attempts }
    local refbytes = op(lookup, bank.binder(port), bank.LOOKUP, cdr.marshal(cdr.string, account), "lookup")
    lookup:close()
    if not refbytes then return end
    ref = cdr.unmarshal(cdr.RemoteObjectRef, refbytes)
  end
  local c = rpc.client(copts)
  obs.clients[#obs.clients + 1] = c
  for _, amount in ipairs(amounts) do
    obs.deposited[account] = (obs.deposited[account] or 0) + amount
    obs.deposits_asked = obs.deposits_asked + 1
    if c.protocol == "R" then
      c:doOperation(ref, bank.DEPOSIT, cdr.marshal(cdr.long, amount, c.order))
      sim.sleep(copts.timeout) -- pace R requests like the others
    else
      op(c, ref, bank.DEPOSIT, cdr.marshal(cdr.long, amount, c.order), "deposit " .. amount)
    end
  end
  if c.protocol ~= "R" then op(c, ref, bank.BALANCE, "", "balance") end
  c:close()
end

--- bank.check_at_most_once(obs, label): every request executed at most once.
function bank.check_at_most_once(obs, label)
  local worst, count = nil, 0
  for k, n in pairs(obs.exec) do
    if n > 1 and not worst then worst, count = k, n end
  end
  sim.check(worst == nil, string.format("at-most-once (%s): request %s executed %d times",
                                        label, tostring(worst), count))
end

--- bank.check_replies(obs, label): every operation got its reply.
function bank.check_replies(obs, label)
  sim.check(#obs.failed == 0, string.format("every client gets its reply (%s): %d of %d operations failed: %s",
                                            label, #obs.failed, obs.ops, table.concat(obs.failed, "; ")))
end

--- bank.check_balances(obs, label): each account holds exactly what was deposited.
function bank.check_balances(obs, label)
  for name, want in pairs(obs.deposited) do
    sim.check(obs.balance[name] == want, string.format("balance (%s): account %s holds %s, deposits total %d",
                                                        label, name, tostring(obs.balance[name]), want))
  end
end

--- bank.run(opts): spawns a server on opts.port and opts.clients clients,
--- each depositing opts.deposits amounts into the shared account "acme".
--- Returns the observer and the server and client pids.
function bank.run(opts)
  local obs = bank.observer()
  local sopts = { protocol = opts.protocol, filter = opts.filter, history = opts.history,
                  history_ttl = opts.history_ttl, history_policy = opts.history_policy }
  local server = sim.spawn(bank.server, opts.port, sopts, obs)
  local clients = {}
  for i = 1, opts.clients do
    local amounts = {}
    for j = 1, opts.deposits do amounts[j] = 100 * i + j end
    clients[i] = sim.spawn(bank.client, opts.port, { protocol = opts.protocol, timeout = opts.timeout,
                                                     attempts = opts.attempts }, "acme", amounts, obs)
  end
  return obs, server, clients
end

return bank
