-- The external data representation lab's shared code: the record type,
-- hosts with different native byte orders, and a registry that receives
-- records over UDP.
--
-- Each sender host has a native byte order, drawn at random per seed
-- ("big" like a SPARC, "little" like an x86), and marshals in that order.
-- The reference marshals with cdr.marshal, which records the byte order in
-- the message; the receiver reads it and converts ("receiver makes it
-- right"). The naive variant writes the bare bytes (cdr.encode) and the
-- receiver assumes big-endian: a convention the little-endian hosts break.

local cdr = require("cdr")
local udp = require("udp")

local people = {}

people.REGISTRY, people.PORT = "10.0.9.1", 2809

--- people.Person: the chapter's struct (Figure 9).
people.Person = cdr.struct("Person", {
  { "name", cdr.string }, { "place", cdr.string }, { "year", cdr.ulong },
})

--- people.Record: what senders register: a Person with a remote object
--- reference (Figure 11) to the object that represents it, and fields of
--- every other primitive type.
people.Record = cdr.struct("Record", {
  { "seq", cdr.ulong },
  { "person", people.Person },
  { "ref", cdr.RemoteObjectRef },
  { "tags", cdr.sequence(cdr.string) },
  { "height", cdr.float },
  { "weight", cdr.double },
  { "shoe", cdr.short },
  { "floor", cdr.ushort },
  { "delta", cdr.long },
  { "initial", cdr.char },
  { "married", cdr.boolean },
  { "age", cdr.octet },
})

local NAMES = { "Smith", "Jones", "Brown", "Taylor", "Wilson", "Davies", "Evans" }
local PLACES = { "London", "Paris", "Delft", "Lisbon", "Oslo" }

--- people.record(host_index, seq) -> a record (deterministic per seed).
function people.record(sender, seq)
  local tags = {}
  for i = 1, sim.random(0, 12) do tags[i] = "tag" .. i .. string.rep("x", sim.random(0, 9)) end
  return {
    seq = seq,
    person = { name = NAMES[sim.random(#NAMES)], place = PLACES[sim.random(#PLACES)], year = sim.random(1900, 2005) },
    ref = { address = udp.host(), port = 4000 + sender, time = math.floor(sim.now() * 1000), object = seq,
            interface = "Person" },
    tags = tags,
    height = sim.random(140, 200) + 0.5,
    weight = sim.random() * 100,
    shoe = sim.random(-5, 50),
    floor = sim.random(0, 65535),
    delta = sim.random(-2000000000, 2000000000),
    initial = string.char(sim.random(65, 90)),
    married = sim.random(2) == 1,
    age = sim.random(0, 120),
  }
end

--- people.sender(index, order, count, naive, sent): a host process that
--- sends `count` records to the registry, marshalled in `order`.
function people.sender(index, order, count, naive, sent)
  local s = udp.socket(nil, { max = udp.MAX_MESSAGE })
  for seq = 1, count do
    local r = people.record(index, index * 1000 + seq)
    sent[r.seq] = r
    local msg
    if naive then
      msg = cdr.encode(people.Record, r, order) -- bare bytes, in the host's order
    else
      msg = cdr.marshal(people.Record, r, order) -- byte order recorded in the message
    end
    sent[r.seq].order = order
    s:send(msg, people.REGISTRY, people.PORT)
    sim.sleep(0.002)
  end
end

--- people.registry(buffer, naive, obs): receives records (with a receive
--- buffer of `buffer` bytes) and records what it made of each in obs:
--- obs.ok (decoded records by seq), obs.rejected (clear errors for
--- truncated messages), obs.misread (decoding errors or wrong values).
function people.registry(buffer, naive, obs)
  local s = udp.socket(people.PORT, { host = people.REGISTRY, buffer = buffer })
  while true do
    local p = s:receive(1.0)
    if not p then return end
    local ok, v, order
    if naive then
      ok, v = pcall(cdr.decode, people.Record, p.data, "big") -- "everybody is big-endian"
    else
      ok, v, order = pcall(cdr.unmarshal, people.Record, p.data)
    end
    if ok then
      obs.ok[#obs.ok + 1] = { value = v, order = order, truncated = p.truncated }
    elseif p.truncated and not naive then
      obs.rejected[#obs.rejected + 1] = tostring(v)
    else
      obs.misread[#obs.misread + 1] = tostring(v)
    end
  end
end

--- people.check(obs, sent): the lab's checks.
function people.check(obs, sent, naive)
  local wrong = {}
  for _, x in ipairs(obs.ok) do
    local want = sent[x.value.seq]
    local copy = want and {}
    if want then for k, v in pairs(want) do if k ~= "order" then copy[k] = v end end end
    -- a float keeps only 24 bits: compare what the sender's value becomes
    if copy then copy.height = string.unpack(">f", string.pack(">f", copy.height)) end
    if not (copy and cdr.equal(x.value, copy)) then
      wrong[#wrong + 1] = "record " .. tostring(x.value.seq) .. " decoded to other values"
    elseif not naive and x.order ~= want.order then
      wrong[#wrong + 1] = "record " .. x.value.seq .. " reports byte order " .. tostring(x.order)
    end
  end
  for _, e in ipairs(obs.misread) do wrong[#wrong + 1] = e end
  sim.check(#wrong == 0, string.format("cdr: every record received decodes to the value sent (%d misread: %s)",
                                       #wrong, table.concat(wrong, "; "):sub(1, 400)))
  local unclear = 0
  for _, e in ipairs(obs.rejected) do
    if not e:find("cdr: truncated input", 1, true) or not e:find("offset %d+") then unclear = unclear + 1 end
  end
  sim.check(unclear == 0, "cdr: truncated messages are rejected with a clear error naming the offset")
end

return people
