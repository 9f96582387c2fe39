-- Reads parameters given with -D; checks their types.
local n = sim.param("N", 3)
local name = sim.param("NAME", "anon")
sim.check(math.type(n) == "integer", "N is a number")
sim.check(type(name) == "string", "NAME is a string")
print("N=" .. n .. " NAME=" .. name)
