-- Unit tests for scenarios/lib/cdr.lua, run through the simulator:
--   dsim run tests/lua/test_cdr.lua -q        (exit 0: every check passed)
-- Every assertion is a sim.check, so a failure names the line and the run
-- exits 1. Covered: a round trip for every type in both byte orders, the
-- exact byte layout of the chapter's Figure 9 ({'Smith', 'London', 1934}),
-- alignment and padding, the byte-order flag of marshalled messages, remote
-- object references (Figure 11), and malformed or truncated input, which must
-- raise a clear "cdr: ..." error naming the offset and never anything else.

local cdr = require("cdr")

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function unhex(h)
  h = h:gsub("%s", "")
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local function eq(got, want, what)
  sim.check(cdr.equal(got, want), what .. ": got " .. tostring(got) .. ", want " .. tostring(want))
end

local function bytes_eq(got, want_hex, what)
  local want = unhex(want_hex)
  sim.check(got == want, what .. ": got " .. hex(got) .. ", want " .. hex(want))
end

-- Expects f(...) to raise a cdr error whose message contains every pattern
-- (plain text), raised at this file (the caller of the cdr function).
local function fails(what, patterns, f, ...)
  local args = table.pack(...)
  -- called from a Lua function in this file, so file:line must be this file
  local ok, err = pcall(function()
    local r = table.pack(f(table.unpack(args, 1, args.n))) -- not a tail call
    return r
  end)
  if ok then
    sim.check(false, what .. ": expected an error, got none")
    return
  end
  err = tostring(err)
  sim.check(err:find("test_cdr.lua:%d+: cdr: ") ~= nil,
            what .. ": error should start with test_cdr.lua:LINE: cdr: (got " .. err .. ")")
  for _, p in ipairs(patterns) do
    sim.check(err:find(p, 1, true) ~= nil, what .. ": error should mention '" .. p .. "' (got " .. err .. ")")
  end
end

local orders = { cdr.BIG, cdr.LITTLE }

local function roundtrip(t, v, what, no_any)
  for _, o in ipairs(orders) do
    local b = cdr.encode(t, v, o)
    eq(cdr.decode(t, b, o), v, what .. " encode/decode (" .. o .. ")")
    local m = cdr.marshal(t, v, o)
    local back, order = cdr.unmarshal(t, m)
    eq(back, v, what .. " marshal/unmarshal (" .. o .. ")")
    sim.check(order == o, what .. ": unmarshal reports byte order " .. tostring(order))
    sim.check(cdr.order_of(m) == o, what .. ": order_of")
    -- the same value wrapped in `any`
    if no_any then goto continue end
    local a = cdr.decode(cdr.any, cdr.encode(cdr.any, { type = t, value = v }, o), o)
    eq(a.value, v, what .. " inside any (" .. o .. ")")
    sim.check(a.type.name == t.name and a.type.kind == t.kind, what .. ": any rebuilds the type")
    ::continue::
  end
end

------------------------------------------------------------------ Figure 9

local Person = cdr.struct("Person", {
  { "name", cdr.string }, { "place", cdr.string }, { "year", cdr.ulong },
})
local smith = { name = "Smith", place = "London", year = 1934 }

-- Figure 9: index 0-3: 5 | 4-7: "Smit" | 8-11: "h___" | 12-15: 6 |
-- 16-19: "Lond" | 20-23: "on__" | 24-27: 1934
local FIG9_BIG = "00000005 536d6974 68000000 00000006 4c6f6e64 6f6e0000 0000078e"
local FIG9_LITTLE = "05000000 536d6974 68000000 06000000 4c6f6e64 6f6e0000 8e070000"
bytes_eq(cdr.encode(Person, smith), FIG9_BIG, "Figure 9, big-endian (default)")
bytes_eq(cdr.encode(Person, smith, "little"), FIG9_LITTLE, "Figure 9, little-endian")
sim.check(#cdr.encode(Person, smith) == 28, "Figure 9 is 28 bytes")
-- A message records the byte order in its first octet; the struct then
-- starts at offset 4, so its bytes are Figure 9's, unchanged.
bytes_eq(cdr.marshal(Person, smith, "big"), "00000000 " .. FIG9_BIG, "Figure 9 message, big")
bytes_eq(cdr.marshal(Person, smith, "little"), "01000000 " .. FIG9_LITTLE, "Figure 9 message, little")
eq(cdr.unmarshal(Person, unhex("01000000 " .. FIG9_LITTLE)), smith, "unmarshal little Person")
eq(cdr.unmarshal(Person, unhex("00000000 " .. FIG9_BIG)), smith, "unmarshal big Person")
eq(cdr.decode(Person, unhex(FIG9_BIG)), smith, "decode Figure 9")
roundtrip(Person, smith, "Person")
sim.check(cdr.dump(cdr.encode(Person, smith)):find("4-7 +53 6d 69 74 +Smit") ~= nil, "dump shows Figure 9's rows")

------------------------------------------------------------------ primitives

bytes_eq(cdr.encode(cdr.short, 1), "0001", "short 1 big")
bytes_eq(cdr.encode(cdr.short, 1, "little"), "0100", "short 1 little")
bytes_eq(cdr.encode(cdr.short, -2), "fffe", "short -2")
bytes_eq(cdr.encode(cdr.long, -2, "little"), "feffffff", "long -2 little")
bytes_eq(cdr.encode(cdr.ulong, 4294967295), "ffffffff", "ulong max")
bytes_eq(cdr.encode(cdr.float, 1.5), "3fc00000", "float 1.5")
bytes_eq(cdr.encode(cdr.double, 1.5), "3ff8000000000000", "double 1.5")
bytes_eq(cdr.encode(cdr.double, 1.5, "little"), "000000000000f83f", "double 1.5 little")
bytes_eq(cdr.encode(cdr.boolean, true), "01", "boolean true")
bytes_eq(cdr.encode(cdr.char, "A"), "41", "char A")
bytes_eq(cdr.encode(cdr.octet, 255), "ff", "octet 255")

for _, v in ipairs({ -32768, -1, 0, 1, 32767 }) do roundtrip(cdr.short, v, "short " .. v) end
for _, v in ipairs({ 0, 1, 65535 }) do roundtrip(cdr.ushort, v, "unsigned short " .. v) end
for _, v in ipairs({ -2147483648, -1, 0, 1934, 2147483647 }) do roundtrip(cdr.long, v, "long " .. v) end
for _, v in ipairs({ 0, 1934, 4294967295 }) do roundtrip(cdr.ulong, v, "unsigned long " .. v) end
for _, v in ipairs({ 0.0, 1.5, -0.25, 2.0 ^ 100, -(2.0 ^ -100), 1 / 0, -1 / 0 }) do roundtrip(cdr.float, v, "float " .. v) end
roundtrip(cdr.float, 0 / 0, "float NaN")
for _, v in ipairs({ 0.0, math.pi, -1e300, 4.9e-324, 1 / 0 }) do roundtrip(cdr.double, v, "double " .. v) end
roundtrip(cdr.double, 0 / 0, "double NaN")
for _, v in ipairs({ "A", "\0", "\255" }) do roundtrip(cdr.char, v, "char " .. hex(v)) end
roundtrip(cdr.boolean, true, "boolean true")
roundtrip(cdr.boolean, false, "boolean false")
for _, v in ipairs({ 0, 7, 255 }) do roundtrip(cdr.octet, v, "octet " .. v) end
-- float is 32 bits: a double value comes back rounded, not equal
sim.check(cdr.decode(cdr.float, cdr.encode(cdr.float, 0.1)) ~= 0.1, "float rounds 0.1")
sim.check(math.abs(cdr.decode(cdr.float, cdr.encode(cdr.float, 0.1)) - 0.1) < 1e-7, "float keeps 0.1 to 7 digits")

------------------------------------------------------------------ constructed types

for _, v in ipairs({ "", "Smith", "with\0nul and \255 bytes", string.rep("x", 1000) }) do
  roundtrip(cdr.string, v, "string of " .. #v)
end
bytes_eq(cdr.encode(cdr.string, ""), "00000000", "empty string")
roundtrip(cdr.octets, "\0\1\2\255", "sequence<octet>")
bytes_eq(cdr.encode(cdr.octets, "\1\2"), "00000002 0102", "sequence<octet> layout")

local seq_long = cdr.sequence(cdr.long)
roundtrip(seq_long, {}, "empty sequence<long>")
roundtrip(seq_long, { 1, -2, 3 }, "sequence<long>")
bytes_eq(cdr.encode(seq_long, { 1, 2 }), "00000002 00000001 00000002", "sequence<long> layout")
roundtrip(cdr.sequence(cdr.string), { "a", "bc", "" }, "sequence<string>")
roundtrip(cdr.sequence(cdr.sequence(cdr.short)), { { 1 }, {}, { 2, 3 } }, "sequence<sequence<short>>")
roundtrip(cdr.sequence(Person), { smith, { name = "Jones", place = "Paris", year = 2000 } }, "sequence<Person>")

local arr = cdr.array(cdr.short, 3)
roundtrip(arr, { 1, 2, 3 }, "short[3]")
bytes_eq(cdr.encode(arr, { 1, 2, 3 }), "0001 0002 0003", "array has no length")

local Mixed = cdr.struct("Mixed", {
  { "o", cdr.octet }, { "d", cdr.double }, { "c", cdr.char }, { "s", cdr.short },
  { "b", cdr.boolean }, { "l", cdr.long }, { "f", cdr.float }, { "u", cdr.ushort },
})
local mixed = { o = 1, d = 2.5, c = "z", s = -3, b = true, l = 7, f = 0.5, u = 9 }
roundtrip(Mixed, mixed, "struct with every primitive")
-- o@0, pad 1-7, d@8, c@16, pad 17, s@18, b@20, pad 21-23, l@24, f@28, u@32
bytes_eq(cdr.encode(Mixed, mixed),
         "01000000 00000000 4004000000000000 7a00fffd 01000000 00000007 3f000000 0009",
         "alignment: each primitive on a multiple of its size")
-- In a message the flag takes offset 0, so o is at 1 and d still at 8.
bytes_eq(cdr.marshal(Mixed, { o = 1, d = 2.5, c = "z", s = -3, b = false, l = 7, f = 0.5, u = 9 }, "big"):sub(1, 16),
         "00010000 00000000 4004000000000000", "alignment is relative to the message start")

local Color = cdr.enum("Color", { "red", "green", "blue" })
roundtrip(Color, "red", "enum first")
roundtrip(Color, "blue", "enum last")
bytes_eq(cdr.encode(Color, "blue"), "00000002", "enum is the label's index")

local Shape = cdr.union("Shape", cdr.long, {
  { 1, "radius", cdr.double }, { 2, "sides", cdr.sequence(cdr.float) }, { 3, "label", cdr.string },
})
roundtrip(Shape, { tag = 1, value = 2.0 }, "union case 1")
roundtrip(Shape, { tag = 2, value = { 1.0, 2.0 } }, "union case 2")
roundtrip(Shape, { tag = 3, value = "square" }, "union case 3")
bytes_eq(cdr.encode(Shape, { tag = 3, value = "ab" }), "00000003 00000002 6162", "union: tag then member")
local ByColor = cdr.union("ByColor", Color, { { "red", "r", cdr.octet }, { "blue", "b", cdr.string } })
roundtrip(ByColor, { tag = "blue", value = "sky" }, "union with an enum discriminant")

local Nested = cdr.struct("Nested", {
  { "who", Person }, { "tags", cdr.sequence(cdr.string) }, { "pos", cdr.array(cdr.double, 2) },
  { "shape", Shape }, { "color", Color }, { "extra", cdr.any },
})
roundtrip(Nested, { who = smith, tags = { "x" }, pos = { 1.0, -1.0 }, shape = { tag = 3, value = "s" },
                    color = "green", extra = { type = cdr.long, value = 5 } }, "nested struct")

-- any carries the type: the decoder rebuilds struct/member names
local a = cdr.decode(cdr.any, cdr.encode(cdr.any, { type = Person, value = smith }))
sim.check(a.type.name == "Person" and a.type.members[3][1] == "year", "any keeps struct and member names")
eq(a.value, smith, "any Person value")
roundtrip(cdr.any, { type = cdr.string, value = "hi" }, "any string")

------------------------------------------------------------------ Figure 11

local ref = cdr.ror("10.0.0.3", 6789, 1200, 4, "Account")
-- (inside `any` a reference travels as the plain struct, address as a number)
roundtrip(cdr.RemoteObjectRef, ref, "remote object reference", true)
bytes_eq(cdr.encode(cdr.RemoteObjectRef, ref),
         "0a000003 00001a85 000004b0 00000004 00000007 4163636f756e74",
         "remote object reference: address | port | time | object number | interface")
sim.check(cdr.inet_aton("10.0.0.3") == 0x0a000003 and cdr.inet_ntoa(0x0a000003) == "10.0.0.3", "inet_aton/ntoa")
sim.check(cdr.ror_equal(ref, cdr.decode(cdr.RemoteObjectRef, cdr.encode(cdr.RemoteObjectRef, ref))), "ror_equal")
sim.check(not cdr.ror_equal(ref, cdr.ror("10.0.0.3", 6789, 1201, 4, "Account")), "time distinguishes references")
sim.check(cdr.ror_tostring(ref) == "10.0.0.3:6789 t=1200 #4 Account", "ror_tostring")

------------------------------------------------------------------ bad values to encode

fails("short out of range", { "short", "-32768..32767", "40000" }, cdr.encode, cdr.short, 40000)
fails("ulong negative", { "unsigned long", "-1" }, cdr.encode, cdr.ulong, -1)
fails("long not an integer", { "long", "1.5" }, cdr.encode, cdr.long, 1.5)
fails("octet 256", { "octet", "256" }, cdr.encode, cdr.octet, 256)
fails("float out of range", { "float", "out of the range" }, cdr.encode, cdr.float, 1e39)
fails("double from a string", { "double", "expected a number" }, cdr.encode, cdr.double, "1")
fails("char of two bytes", { "char", "one-byte string" }, cdr.encode, cdr.char, "ab")
fails("boolean from a number", { "boolean", "true or false" }, cdr.encode, cdr.boolean, 1)
fails("string from a number", { "string", "expected a string" }, cdr.encode, cdr.string, 5)
fails("missing field", { "missing field Person.year" }, cdr.encode, Person, { name = "Smith", place = "London" })
fails("bad field", { "Person.year", "unsigned long" }, cdr.encode, Person, { name = "S", place = "L", year = -5 })
fails("nested path", { "Nested.who.name" }, cdr.encode, Nested,
      { who = { name = 1, place = "", year = 0 }, tags = {}, pos = { 0, 0 }, shape = { tag = 3, value = "" },
        color = "red", extra = { type = cdr.long, value = 1 } })
fails("sequence element", { "[2]", "long" }, cdr.encode, seq_long, { 1, "two" })
fails("array length", { "exactly 3 elements", "2 elements" }, cdr.encode, arr, { 1, 2 })
fails("enum label", { "enum Color", "purple" }, cdr.encode, Color, "purple")
fails("union tag", { "union Shape", "no case for tag 9" }, cdr.encode, Shape, { tag = 9, value = 1 })
fails("any without type", { "any" }, cdr.encode, cdr.any, { value = 1 })
fails("bad byte order", { "byte order", "middle" }, cdr.encode, cdr.long, 1, "middle")
fails("not a type", { "cdr type" }, cdr.encode, "long", 1)
fails("bad address", { "RemoteObjectRef.address", "10.0.0.300" }, cdr.encode, cdr.RemoteObjectRef,
      { address = "10.0.0.300", port = 1, time = 0, object = 1, interface = "I" })
fails("ror port", { "RemoteObjectRef.port" }, cdr.ror, "10.0.0.1", -1, 0, 1, "I")

------------------------------------------------------------------ malformed and truncated input

local fig9 = unhex(FIG9_BIG)
-- every proper prefix of Figure 9 is truncated, with an offset in the message
for n = 0, #fig9 - 1 do
  fails("Figure 9 cut to " .. n .. " bytes", { "truncated input", "offset" }, cdr.decode, Person, fig9:sub(1, n))
end
fails("year cut short", { "truncated input: unsigned long 'Person.year' at offset 24 needs 4 bytes, only 2 left" },
      cdr.decode, Person, fig9:sub(1, 26))
fails("string length beyond the input", { "string 'Person.place' at offset 12 claims 6 bytes, only 3 left" },
      cdr.decode, Person, fig9:sub(1, 19))
fails("trailing bytes", { "1 unexpected trailing byte at offset 28" }, cdr.decode, Person, fig9 .. "\0")
fails("empty message", { "empty message", "offset 0" }, cdr.unmarshal, Person, "")
fails("bad byte-order flag", { "byte-order flag at offset 0 is 7" }, cdr.unmarshal, Person, "\7\0\0\0" .. fig9)
fails("message cut short", { "truncated input", "offset 28" }, cdr.unmarshal, Person, "\0\0\0\0" .. fig9:sub(1, 26))
fails("little message read as big", { "claims 83886080 bytes" }, cdr.unmarshal, Person, "\0\0\0\0" .. unhex(FIG9_LITTLE))
fails("bad boolean", { "boolean at offset 0 is 2" }, cdr.decode, cdr.boolean, "\2")
fails("bad enum", { "enum Color", "offset 0 has value 3" }, cdr.decode, Color, "\0\0\0\3")
fails("bad union tag", { "union Shape at offset 0 has discriminant 7" }, cdr.decode, Shape, "\0\0\0\7\0\0\0\0")
fails("huge sequence count", { "claims 4294967295 elements" }, cdr.decode, seq_long, "\255\255\255\255\0\0\0\0")
fails("padding missing", { "padding before double", "offset 1" }, cdr.decode, cdr.struct("OD", { { "o", cdr.octet }, { "d", cdr.double } }), "\1\0\0")
fails("unknown TypeCode", { "unknown TypeCode kind 99 at offset 0" }, cdr.decode, cdr.any, "\0\0\0\99")
do -- a TypeCode nested 40 sequences deep
  local tc = string.rep("\0\0\0\19", 40) .. "\0\0\0\3"
  fails("deep TypeCode", { "nested deeper than 32 levels" }, cdr.decode, cdr.any, tc)
end
fails("decode from a table", { "string of bytes" }, cdr.decode, Person, {})

-- Random and mutated input: decoding either succeeds or raises a cdr error;
-- never a Lua error from inside the module.
local samples = {
  cdr.encode(Person, smith),
  cdr.encode(cdr.any, { type = Nested, value = { who = smith, tags = { "a", "b" }, pos = { 1.0, 2.0 },
                        shape = { tag = 2, value = { 1.0 } }, color = "blue",
                        extra = { type = cdr.sequence(Person), value = { smith } } } }),
}
local ok_count, err_count, bad = 0, 0, nil
for i = 1, 3000 do
  local s
  if i % 3 == 0 then
    local len = sim.random(0, 64)
    local t = {}
    for j = 1, len do t[j] = string.char(sim.random(0, 255)) end
    s = table.concat(t)
  else
    local base = samples[(i % 3)]
    local t = { base:byte(1, -1) }
    for _ = 1, sim.random(1, 4) do t[sim.random(1, #t)] = sim.random(0, 255) end
    s = string.char(table.unpack(t)):sub(1, sim.random(1, #t))
  end
  for _, ty in ipairs({ Person, cdr.any, Nested }) do
    local ok, err = pcall(function() local v = cdr.decode(ty, s); return v end)
    if ok then
      ok_count = ok_count + 1
    else
      err_count = err_count + 1
      if not tostring(err):find("test_cdr.lua:%d+: cdr: ") then bad = bad or (hex(s) .. " -> " .. tostring(err)) end
    end
  end
end
sim.check(bad == nil, "malformed input raised a non-cdr error: " .. tostring(bad))
sim.check(err_count > 1000, "the fuzz loop produced malformed inputs (" .. err_count .. ")")
print(string.format("fuzz: %d decoded, %d rejected with a cdr error", ok_count, err_count))

-- the module's own constructors reject nonsense at the caller
local ok, err = pcall(function() local t = cdr.sequence("long"); return t end)
sim.check(not ok and tostring(err):find("test_cdr.lua") and tostring(err):find("element type"), "sequence of a non-type")
ok, err = pcall(function() local t = cdr.struct("Empty", {}); return t end)
sim.check(not ok and tostring(err):find("at least one member"), "empty struct refused")
