-- External data representation lab (reference): records marshalled in CORBA
-- CDR by hosts of different byte orders, sent over UDP, unmarshalled by a
-- registry.
--
-- Three hosts, each with a native byte order drawn at random per seed, send
-- 8 records each (a Person struct as in Figure 9, a remote object
-- reference as in Figure 11, a sequence of strings and one field of every
-- other primitive type). Each message records its byte order (cdr.marshal);
-- the registry reads it and decodes accordingly. The registry's receive
-- buffer is 200 bytes, so records with many tags arrive truncated (the UDP
-- lab's truncation): unmarshalling them must fail with a clear error, never
-- produce a wrong value. The network loses and duplicates datagrams (which
-- changes what arrives, not how it decodes).
--
-- The run first prints the chapter's Figure 9: the bytes of
-- {'Smith', 'London', 1934} in both byte orders.
--
-- Checks: every record received decodes to exactly the value sent, in the
-- byte order its sender used; every truncated record is rejected with a
-- clear "cdr: truncated input ... at offset N" error.
--
--   dsim run scenarios/labs/cdr/person.lua --seed 1

local cdr = require("cdr")
local people = require("people")

net.configure{ delay = { "uniform", "1ms", "10ms" }, loss = 0.1, duplicate = 0.1 }

local smith = { name = "Smith", place = "London", year = 1934 }
print("Figure 9, big-endian:\n" .. cdr.dump(cdr.encode(people.Person, smith, "big")))
print("Figure 9, little-endian:\n" .. cdr.dump(cdr.encode(people.Person, smith, "little")))
print("as a message (byte-order flag, then the struct at offset 4):\n"
      .. cdr.dump(cdr.marshal(people.Person, smith, "little")))

local sent, obs = {}, { ok = {}, rejected = {}, misread = {} }
local orders = {}
sim.spawn(people.registry, 200, false, obs)
for i = 1, 3 do
  orders[i] = sim.random(2) == 1 and "big" or "little"
  sim.spawn(people.sender, i, orders[i], 8, false, sent)
end

sim.finally(function()
  print(string.format("hosts' byte orders: %s; %d records decoded, %d truncated and rejected",
                      table.concat(orders, ", "), #obs.ok, #obs.rejected))
  if obs.rejected[1] then print("for example: " .. obs.rejected[1]) end
  people.check(obs, sent, false)
end)
