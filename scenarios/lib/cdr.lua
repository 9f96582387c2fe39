-- cdr.lua: CORBA Common Data Representation (CDR), as described in
-- Coulouris et al., "Distributed Systems", chapter 4 ("External data
-- representation", Figures 8 and 9, and remote object references, Figure 11).
--
-- What it does. A *type* (a descriptor built from the constructors below)
-- turns a Lua value into a sequence of bytes and back. The primitive types
-- are short, long, unsigned short, unsigned long, float, double, char,
-- boolean and octet; the constructed types of Figure 8 are string, sequence,
-- array, struct, enumerated and union; `any` carries a type description with
-- its value. Values are written in the byte order the sender chooses
-- ("big" or "little"): CDR's "receiver makes it right" rule.
--
-- Layout rules (these make the chapter's Figure 9 come out exactly):
--   * every primitive is aligned to its own size (2, 4 or 8 bytes) relative
--     to the start of the byte sequence; padding bytes are zero;
--   * a string is an unsigned long length followed by its characters, with
--     no terminating NUL (as in Figure 9: 'Smith' has length 5; real CORBA
--     counts a NUL, the chapter does not);
--   * a sequence is an unsigned long count followed by the elements; an array
--     is its elements only (the length is part of the type); a struct is its
--     members in declaration order; an enum is an unsigned long (the index of
--     the label, from 0); a union is its discriminant followed by the selected
--     member.
--
-- Messages. `cdr.encode` produces the bare byte sequence (Figure 9 exactly).
-- `cdr.marshal` produces a *message*: one octet recording the byte order
-- (0 = big-endian, 1 = little-endian, as in a CORBA encapsulation), then the
-- value, aligned relative to the start of the message. The receiver reads
-- the flag and decodes in that order: the byte order is recorded in the
-- message, so sender and receiver need not agree on one in advance.
--
-- Errors. A bad value to encode (a number out of range, a missing struct
-- field, a wrong Lua type) and malformed or truncated input to decode both
-- raise a Lua error whose message starts with "cdr: ", names what is wrong
-- (the type, the member path such as Person.year) and, when decoding, the
-- byte offset; the error is raised at the level of the caller of the cdr
-- function, so file:line points at the scenario. Decoding never reads past
-- the input, never loops on a length it has not checked against the bytes
-- left, and never crashes on arbitrary bytes.
--
-- `any` uses a simplified TypeCode (a TCKind number followed by the type's
-- parameters written inline); the kind numbers are CORBA's, but the
-- parameter layout is not GIOP's encapsulated form: it is meant for the labs,
-- not for talking to a real ORB.

local cdr = {}

cdr.BIG, cdr.LITTLE = "big", "little"

----------------------------------------------------------------------------
-- Failure plumbing: internal code throws a tagged table; every public entry
-- point turns it into error("cdr: ...", 2) so that the error names the
-- caller's file and line.

local Failure = {}

-- fail(fmt, ...): raises a cdr failure (turned into "cdr: ..." at the API).
local function fail(fmt, ...)
  error(setmetatable({ msg = string.format(fmt, ...) }, Failure), 0)
end

-- public(fn): wraps fn so that a cdr failure raised inside becomes an error
-- at the caller of the returned function. Other errors pass unchanged.
local function public(fn)
  return function(...)
    local res = table.pack(pcall(fn, ...))
    if res[1] then return table.unpack(res, 2, res.n) end
    local e = res[2]
    if getmetatable(e) == Failure then error("cdr: " .. e.msg, 2) end
    error(e, 0)
  end
end

-- check_order(order) -> "big" | "little" (nil means big); fails otherwise.
local function check_order(order)
  if order == nil then return cdr.BIG end
  if order ~= cdr.BIG and order ~= cdr.LITTLE then
    fail("byte order must be \"big\" or \"little\" (got %s)", tostring(order))
  end
  return order
end

----------------------------------------------------------------------------
-- Writer and reader. Both count offsets from the start of their byte
-- sequence, which is what alignment is relative to.

local Writer = {}
Writer.__index = Writer

-- new_writer(order [, start]) -> a writer; `start` bytes (the flag) come first.
local function new_writer(order, start)
  local w = setmetatable({ parts = {}, pos = 0, order = order }, Writer)
  w.fmt = order == cdr.BIG and ">" or "<"
  if start then
    w.parts[1] = start
    w.pos = #start
  end
  return w
end

-- writer:raw(s): appends bytes as they are.
function Writer:raw(s)
  self.parts[#self.parts + 1] = s
  self.pos = self.pos + #s
end

-- writer:align(n): zero padding up to a multiple of n.
function Writer:align(n)
  local pad = (-self.pos) % n
  if pad > 0 then self:raw(string.rep("\0", pad)) end
end

-- writer:pack(fmt, n, v): aligns to n, then string.pack(fmt) in the writer's order.
function Writer:pack(fmt, n, v)
  self:align(n)
  self:raw(string.pack(self.fmt .. fmt, v))
end

-- writer:result() -> the bytes written.
function Writer:result()
  return table.concat(self.parts)
end

local Reader = {}
Reader.__index = Reader

-- new_reader(bytes, order [, pos]) -> a reader at offset pos (0-based).
local function new_reader(s, order, pos)
  local r = setmetatable({ s = s, pos = pos or 0, order = order }, Reader)
  r.fmt = order == cdr.BIG and ">" or "<"
  return r
end

-- reader:need(n, what, path): fails with "truncated input" unless n bytes are left.
function Reader:need(n, what, path)
  local left = #self.s - self.pos
  if n > left then
    fail("truncated input: %s%s at offset %d needs %d byte%s, only %d left", what,
         path ~= "" and (" '" .. path .. "'") or "", self.pos, n, n == 1 and "" or "s", left)
  end
end

-- reader:align(n, what, path): skips padding up to a multiple of n.
function Reader:align(n, what, path)
  local pad = (-self.pos) % n
  if pad > 0 then
    self:need(pad, "padding before " .. what, path)
    self.pos = self.pos + pad
  end
end

-- reader:unpack(fmt, n, what, path) -> an aligned primitive.
function Reader:unpack(fmt, n, what, path)
  self:align(n, what, path)
  self:need(n, what, path)
  local v = string.unpack(self.fmt .. fmt, self.s, self.pos + 1)
  self.pos = self.pos + n
  return v
end

-- reader:bytes(n, what, path) -> the next n bytes.
function Reader:bytes(n, what, path)
  self:need(n, what, path)
  local v = string.sub(self.s, self.pos + 1, self.pos + n)
  self.pos = self.pos + n
  return v
end

----------------------------------------------------------------------------
-- Type descriptors. Each type is a table with:
--   name        how errors and dumps call it ("unsigned long", "Person")
--   kind        the CORBA TCKind number (used by `any`)
--   minsize     the fewest bytes one value can take (bounds sequence counts)
--   enc(w, v, path)   writes v; path names the value in error messages
--   dec(r, path)      reads a value
--   tc(w, depth)      writes the type's TypeCode (for `any`)

local Type = {}
Type.__index = Type
Type.__tostring = function(t) return "cdr type " .. t.name end

-- is_type(t) -> whether t is a type descriptor.
local function is_type(t) return getmetatable(t) == Type end

-- describe(v) -> a short text for a value in error messages.
local function describe(v)
  if type(v) == "string" then
    if #v > 20 then return string.format("a string of %d bytes", #v) end
    return string.format("%q", v)
  end
  return type(v) == "table" and "a table" or tostring(v)
end

-- pathname(path) -> the member path, or "value" at the top.
local function pathname(path) return path ~= "" and path or "value" end

local TK = {
  short = 2, long = 3, ushort = 4, ulong = 5, float = 6, double = 7, boolean = 8,
  char = 9, octet = 10, any = 11, struct = 15, union = 16, enum = 17, string = 18,
  sequence = 19, array = 20,
}
cdr.TCKind = TK

-- integer_type(...) -> a descriptor for an integer type of `size` bytes in lo..hi.
local function integer_type(name, kind, fmt, size, lo, hi)
  return setmetatable({
    name = name, kind = kind, minsize = size,
    enc = function(w, v, path)
      local i = math.type(v) == "integer" and v or (type(v) == "number" and math.tointeger(v))
      if not i or i < lo or i > hi then
        fail("bad value for %s (%s): expected an integer in %d..%d, got %s", pathname(path),
             name, lo, hi, describe(v))
      end
      w:pack(fmt, size, i)
    end,
    dec = function(r, path) return r:unpack(fmt, size, name, path) end,
    tc = function(w) w:pack("I4", 4, kind) end,
  }, Type)
end

--- Primitive types (Figure 8's primitives). Values are Lua integers for the
--- integer types, numbers for float/double, a one-byte string for char and a
--- boolean for boolean.
cdr.short = integer_type("short", TK.short, "i2", 2, -32768, 32767)
cdr.ushort = integer_type("unsigned short", TK.ushort, "I2", 2, 0, 65535)
cdr.long = integer_type("long", TK.long, "i4", 4, -2147483648, 2147483647)
cdr.ulong = integer_type("unsigned long", TK.ulong, "I4", 4, 0, 4294967295)
cdr.octet = integer_type("octet", TK.octet, "B", 1, 0, 255)

-- float_type(...) -> a descriptor for float or double.
local function float_type(name, kind, fmt, size)
  return setmetatable({
    name = name, kind = kind, minsize = size,
    enc = function(w, v, path)
      if type(v) ~= "number" then
        fail("bad value for %s (%s): expected a number, got %s", pathname(path), name, describe(v))
      end
      if kind == TK.float and v == v and v ~= math.huge and v ~= -math.huge
         and math.abs(v) > 3.4028234663852886e38 then
        fail("bad value for %s (float): %s is out of the range of a 32-bit float", pathname(path),
             describe(v))
      end
      w:pack(fmt, size, v + 0.0)
    end,
    dec = function(r, path) return r:unpack(fmt, size, name, path) end,
    tc = function(w) w:pack("I4", 4, kind) end,
  }, Type)
end

cdr.float = float_type("float", TK.float, "f", 4)
cdr.double = float_type("double", TK.double, "d", 8)

cdr.char = setmetatable({
  name = "char", kind = TK.char, minsize = 1,
  enc = function(w, v, path)
    if type(v) ~= "string" or #v ~= 1 then
      fail("bad value for %s (char): expected a one-byte string, got %s", pathname(path), describe(v))
    end
    w:raw(v)
  end,
  dec = function(r, path) return r:bytes(1, "char", path) end,
  tc = function(w) w:pack("I4", 4, TK.char) end,
}, Type)

cdr.boolean = setmetatable({
  name = "boolean", kind = TK.boolean, minsize = 1,
  enc = function(w, v, path)
    if type(v) ~= "boolean" then
      fail("bad value for %s (boolean): expected true or false, got %s", pathname(path), describe(v))
    end
    w:raw(v and "\1" or "\0")
  end,
  dec = function(r, path)
    local at = r.pos
    local b = string.byte(r:bytes(1, "boolean", path))
    if b > 1 then
      fail("malformed input: boolean%s at offset %d is %d (must be 0 or 1)",
           path ~= "" and (" '" .. path .. "'") or "", at, b)
    end
    return b == 1
  end,
  tc = function(w) w:pack("I4", 4, TK.boolean) end,
}, Type)

-- A length-prefixed run of bytes: the chapter's string, and sequence<octet>.
local function counted_bytes(name, kind)
  return setmetatable({
    name = name, kind = kind, minsize = 4,
    enc = function(w, v, path)
      if type(v) ~= "string" then
        fail("bad value for %s (%s): expected a string, got %s", pathname(path), name, describe(v))
      end
      if #v > 4294967295 then fail("%s too long for %s: %d bytes", pathname(path), name, #v) end
      w:pack("I4", 4, #v)
      w:raw(v)
    end,
    dec = function(r, path)
      local n = r:unpack("I4", 4, name .. " length", path)
      local left = #r.s - r.pos
      if n > left then
        fail("truncated input: %s%s at offset %d claims %d bytes, only %d left", name,
             path ~= "" and (" '" .. path .. "'") or "", r.pos - 4, n, left)
      end
      return r:bytes(n, name, path)
    end,
    tc = function(w)
      w:pack("I4", 4, kind)
      if kind == TK.string then
        w:pack("I4", 4, 0) -- bound: 0 = unbounded
      else
        cdr.octet.tc(w)
        w:pack("I4", 4, 0)
      end
    end,
  }, Type)
end

--- cdr.string: a string value (Lua string; any bytes), written as its
--- length (unsigned long) and its characters, without a terminating NUL.
cdr.string = counted_bytes("string", TK.string)

--- cdr.octets: sequence<octet> whose Lua value is a string of raw bytes
--- (marshalled arguments inside a request message, for instance). Same
--- layout as a sequence of octets; far cheaper than a table of numbers.
cdr.octets = counted_bytes("sequence<octet>", TK.sequence)

-- check_type(t, what, level): a constructor's argument must be a type (error at the caller).
local function check_type(t, what, level)
  if not is_type(t) then
    error(string.format("cdr: %s must be a cdr type (such as cdr.long), got %s", what,
                        describe(t)), level + 1)
  end
end

--- cdr.sequence(elem [, name]) -> type: a variable-length sequence of `elem`
--- values; the Lua value is an array (1..n). Written as an unsigned long
--- count followed by the elements.
function cdr.sequence(elem, name)
  check_type(elem, "cdr.sequence: the element type", 2)
  local tname = name or ("sequence<" .. elem.name .. ">")
  return setmetatable({
    name = tname, kind = TK.sequence, minsize = 4, elem = elem,
    enc = function(w, v, path)
      if type(v) ~= "table" then
        fail("bad value for %s (%s): expected an array, got %s", pathname(path), tname, describe(v))
      end
      local n = #v
      w:pack("I4", 4, n)
      for i = 1, n do elem.enc(w, v[i], path .. "[" .. i .. "]") end
    end,
    dec = function(r, path)
      local at = r.pos
      local n = r:unpack("I4", 4, tname .. " count", path)
      local left = #r.s - r.pos
      if n * elem.minsize > left then
        fail("truncated input: %s%s at offset %d claims %d elements, only %d bytes left", tname,
             path ~= "" and (" '" .. path .. "'") or "", at, n, left)
      end
      local out = {}
      for i = 1, n do out[i] = elem.dec(r, path .. "[" .. i .. "]") end
      return out
    end,
    tc = function(w, depth)
      w:pack("I4", 4, TK.sequence)
      elem.tc(w, depth + 1)
      w:pack("I4", 4, 0)
    end,
  }, Type)
end

--- cdr.array(elem, n [, name]) -> type: exactly n values of `elem` with no
--- count on the wire (the length is part of the type). Encoding a Lua array
--- of another length is an error.
function cdr.array(elem, n, name)
  check_type(elem, "cdr.array: the element type", 2)
  if math.type(n) ~= "integer" or n < 1 then
    error("cdr.array: the length must be a positive integer, got " .. describe(n), 2)
  end
  local tname = name or (elem.name .. "[" .. n .. "]")
  return setmetatable({
    name = tname, kind = TK.array, minsize = n * elem.minsize, elem = elem, length = n,
    enc = function(w, v, path)
      if type(v) ~= "table" or #v ~= n then
        fail("bad value for %s (%s): expected an array of exactly %d elements, got %s",
             pathname(path), tname, n, type(v) == "table" and (#v .. " elements") or describe(v))
      end
      for i = 1, n do elem.enc(w, v[i], path .. "[" .. i .. "]") end
    end,
    dec = function(r, path)
      local out = {}
      for i = 1, n do out[i] = elem.dec(r, path .. "[" .. i .. "]") end
      return out
    end,
    tc = function(w, depth)
      w:pack("I4", 4, TK.array)
      elem.tc(w, depth + 1)
      w:pack("I4", 4, n)
    end,
  }, Type)
end

--- cdr.struct(name, members) -> type: `members` is a list of {fieldname, type}
--- pairs; the value is a table with those fields, written in declaration order.
--- Example (Figure 9):
---   local Person = cdr.struct("Person", {{"name", cdr.string},
---                                        {"place", cdr.string},
---                                        {"year", cdr.ulong}})
function cdr.struct(name, members)
  if type(name) ~= "string" then error("cdr.struct: the name must be a string", 2) end
  if type(members) ~= "table" then error("cdr.struct: members must be a list of {name, type}", 2) end
  if #members == 0 then error("cdr.struct " .. name .. ": needs at least one member", 2) end
  local minsize = 0
  for i, m in ipairs(members) do
    if type(m) ~= "table" or type(m[1]) ~= "string" or not is_type(m[2]) then
      error(string.format("cdr.struct %s: member %d must be {name, cdr type}", name, i), 2)
    end
    minsize = minsize + m[2].minsize
  end
  return setmetatable({
    name = name, kind = TK.struct, minsize = minsize, members = members,
    enc = function(w, v, path)
      local here = path ~= "" and path or name
      if type(v) ~= "table" then
        fail("bad value for %s (struct %s): expected a table, got %s", here, name, describe(v))
      end
      for _, m in ipairs(members) do
        local f = v[m[1]]
        if f == nil then fail("missing field %s.%s (%s)", here, m[1], m[2].name) end
        m[2].enc(w, f, here .. "." .. m[1])
      end
    end,
    dec = function(r, path)
      local here = path ~= "" and path or name
      local out = {}
      for _, m in ipairs(members) do out[m[1]] = m[2].dec(r, here .. "." .. m[1]) end
      return out
    end,
    tc = function(w, depth)
      w:pack("I4", 4, TK.struct)
      cdr.string.enc(w, name, "")
      w:pack("I4", 4, #members)
      for _, m in ipairs(members) do
        cdr.string.enc(w, m[1], "")
        m[2].tc(w, depth + 1)
      end
    end,
  }, Type)
end

--- cdr.enum(name, labels) -> type: the value is one of the label strings;
--- written as an unsigned long, the label's position counting from 0.
function cdr.enum(name, labels)
  if type(name) ~= "string" or type(labels) ~= "table" or #labels == 0 then
    error("cdr.enum: needs a name and a non-empty list of labels", 2)
  end
  local index = {}
  for i, l in ipairs(labels) do
    if type(l) ~= "string" then error("cdr.enum " .. name .. ": labels must be strings", 2) end
    index[l] = i - 1
  end
  return setmetatable({
    name = name, kind = TK.enum, minsize = 4, labels = labels,
    enc = function(w, v, path)
      local i = index[v]
      if not i then
        fail("bad value for %s (enum %s): %s is not one of %s", pathname(path), name, describe(v),
             table.concat(labels, ", "))
      end
      w:pack("I4", 4, i)
    end,
    dec = function(r, path)
      local at = r.pos
      local i = r:unpack("I4", 4, "enum " .. name, path)
      if i >= #labels then
        fail("malformed input: enum %s%s at offset %d has value %d (only %d labels)", name,
             path ~= "" and (" '" .. path .. "'") or "", at, i, #labels)
      end
      return labels[i + 1]
    end,
    tc = function(w)
      w:pack("I4", 4, TK.enum)
      cdr.string.enc(w, name, "")
      w:pack("I4", 4, #labels)
      for _, l in ipairs(labels) do cdr.string.enc(w, l, "") end
    end,
  }, Type)
end

--- cdr.union(name, disc, cases) -> type: a discriminated union. `disc` is
--- the discriminant type (an integer type, boolean, char or enum); `cases`
--- is a list of {label, membername, type}. The Lua value is
--- {tag = <label>, value = <member value>}; written as the discriminant
--- followed by the selected member (Figure 8: "type tag followed by the
--- selected member").
function cdr.union(name, disc, cases)
  if type(name) ~= "string" then error("cdr.union: the name must be a string", 2) end
  check_type(disc, "cdr.union " .. tostring(name) .. ": the discriminant type", 2)
  if type(cases) ~= "table" or #cases == 0 then
    error("cdr.union " .. name .. ": needs a non-empty list of {label, name, type}", 2)
  end
  local by_label = {}
  local minsize = math.huge
  for i, c in ipairs(cases) do
    if type(c) ~= "table" or c[1] == nil or c[1] ~= c[1] or type(c[2]) ~= "string"
       or not is_type(c[3]) then
      error(string.format("cdr.union %s: case %d must be {label, name, cdr type}", name, i), 2)
    end
    by_label[c[1]] = c
    minsize = math.min(minsize, c[3].minsize)
  end
  return setmetatable({
    name = name, kind = TK.union, minsize = disc.minsize + minsize, disc = disc, cases = cases,
    enc = function(w, v, path)
      local here = path ~= "" and path or name
      if type(v) ~= "table" then
        fail("bad value for %s (union %s): expected {tag=..., value=...}, got %s", here, name,
             describe(v))
      end
      local c = by_label[v.tag]
      if not c then fail("bad value for %s (union %s): no case for tag %s", here, name, describe(v.tag)) end
      disc.enc(w, v.tag, here .. ".tag")
      c[3].enc(w, v.value, here .. "." .. c[2])
    end,
    dec = function(r, path)
      local here = path ~= "" and path or name
      local at = r.pos
      local tag = disc.dec(r, here .. ".tag")
      local c = by_label[tag]
      if not c then
        fail("malformed input: union %s at offset %d has discriminant %s, which selects no case",
             here, at, describe(tag))
      end
      return { tag = tag, value = c[3].dec(r, here .. "." .. c[2]) }
    end,
    tc = function(w, depth)
      w:pack("I4", 4, TK.union)
      cdr.string.enc(w, name, "")
      disc.tc(w, depth + 1)
      w:pack("I4", 4, #cases)
      for _, c in ipairs(cases) do
        disc.enc(w, c[1], "")
        cdr.string.enc(w, c[2], "")
        c[3].tc(w, depth + 1)
      end
    end,
  }, Type)
end

----------------------------------------------------------------------------
-- any: a TypeCode followed by the value.

local MAX_TC_DEPTH = 32
local MAX_TC_MEMBERS = 4096
local read_tc

local simple_kinds = {
  [TK.short] = "short", [TK.long] = "long", [TK.ushort] = "ushort", [TK.ulong] = "ulong",
  [TK.float] = "float", [TK.double] = "double", [TK.boolean] = "boolean", [TK.char] = "char",
  [TK.octet] = "octet", [TK.any] = "any",
}

-- read_count(r, what, per, path, min) -> a TypeCode count, checked against
-- the bytes left (each item takes at least `per` bytes) and a sane maximum.
local function read_count(r, what, per, path, min)
  local at = r.pos
  local n = r:unpack("I4", 4, what, path)
  if n < (min or 0) then
    fail("malformed input: TypeCode %s at offset %d is %d (must be at least %d)", what, at, n, min)
  end
  if n > MAX_TC_MEMBERS or n * per > #r.s - r.pos then
    fail("malformed input: TypeCode %s at offset %d is %d, more than the input can hold", what, at, n)
  end
  return n
end

read_tc = function(r, depth, path)
  if depth > MAX_TC_DEPTH then
    fail("malformed input: TypeCode nested deeper than %d levels at offset %d", MAX_TC_DEPTH, r.pos)
  end
  local at = r.pos
  local kind = r:unpack("I4", 4, "TypeCode kind", path)
  if simple_kinds[kind] then return cdr[simple_kinds[kind]] end
  if kind == TK.string then
    r:unpack("I4", 4, "string bound", path)
    return cdr.string
  elseif kind == TK.sequence then
    local elem = read_tc(r, depth + 1, path)
    r:unpack("I4", 4, "sequence bound", path)
    if elem == cdr.octet then return cdr.octets end
    return cdr.sequence(elem)
  elseif kind == TK.array then
    local elem = read_tc(r, depth + 1, path)
    local n = read_count(r, "array length", elem.minsize, path, 1)
    return cdr.array(elem, n)
  elseif kind == TK.struct then
    local name = cdr.string.dec(r, "struct name")
    local n = read_count(r, "member count", 8, path, 1)
    local members = {}
    for i = 1, n do
      local mname = cdr.string.dec(r, "member name")
      members[i] = { mname, read_tc(r, depth + 1, path) }
    end
    return cdr.struct(name, members)
  elseif kind == TK.enum then
    local name = cdr.string.dec(r, "enum name")
    local n = read_count(r, "label count", 4, path, 1)
    local labels = {}
    for i = 1, n do labels[i] = cdr.string.dec(r, "enum label") end
    return cdr.enum(name, labels)
  elseif kind == TK.union then
    local name = cdr.string.dec(r, "union name")
    local disc = read_tc(r, depth + 1, path)
    local n = read_count(r, "case count", 8, path, 1)
    local cases = {}
    for i = 1, n do
      local lat = r.pos
      local label = disc.dec(r, "union label")
      if label ~= label then fail("malformed input: union %s case label at offset %d is NaN", name, lat) end
      local mname = cdr.string.dec(r, "case name")
      cases[i] = { label, mname, read_tc(r, depth + 1, path) }
    end
    return cdr.union(name, disc, cases)
  end
  fail("malformed input: unknown TypeCode kind %d at offset %d", kind, at)
end

--- cdr.any: a value that carries its own type. The Lua value is
--- {type = <cdr type>, value = <value>}; decoding rebuilds an equivalent type
--- from the TypeCode (struct and enum names and member names included).
cdr.any = setmetatable({
  name = "any", kind = TK.any, minsize = 4,
  enc = function(w, v, path)
    if type(v) ~= "table" or not is_type(v.type) then
      fail("bad value for %s (any): expected {type = <cdr type>, value = ...}, got %s",
           pathname(path), describe(v))
    end
    v.type.tc(w, 0)
    v.type.enc(w, v.value, path)
  end,
  dec = function(r, path)
    local t = read_tc(r, 0, path)
    return { type = t, value = t.dec(r, path) }
  end,
  tc = function(w) w:pack("I4", 4, TK.any) end,
}, Type)

----------------------------------------------------------------------------
-- Internet addresses and remote object references (Figure 11).

--- cdr.inet_aton(addr) -> integer: "10.0.0.7" as a 32-bit unsigned integer.
--- Raises an error (at the caller) for anything that is not a dotted quad.
local function aton(addr)
  if type(addr) ~= "string" then fail("internet address must be a string like \"10.0.0.1\", got %s", describe(addr)) end
  local a, b, c, d = addr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if not a or a > 255 or b > 255 or c > 255 or d > 255 then
    fail("bad internet address %q (expected four numbers 0..255 separated by dots)", addr)
  end
  return ((a * 256 + b) * 256 + c) * 256 + d
end
cdr.inet_aton = public(aton)

--- cdr.inet_ntoa(n) -> string: the dotted form of a 32-bit address.
cdr.inet_ntoa = public(function(n)
  if math.type(n) ~= "integer" or n < 0 or n > 4294967295 then
    fail("internet address must be a 32-bit unsigned integer, got %s", describe(n))
  end
  return string.format("%d.%d.%d.%d", n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)
end)

local ror_struct = cdr.struct("RemoteObjectRef", {
  { "address", cdr.ulong }, { "port", cdr.ulong }, { "time", cdr.ulong },
  { "object", cdr.ulong }, { "interface", cdr.string },
})

--- cdr.RemoteObjectRef: the chapter's remote object reference, Figure 11:
--- 32-bit internet address | 32-bit port number | 32-bit time | 32-bit
--- object number | interface of remote object. The Lua value is
--- {address = "10.0.0.3", port = 6789, time = <creation time>,
---  object = <number>, interface = "Account"}: address/port name the process
--- that created the object, time its creation time (so a restarted process
--- on the same address and port makes different references), object a
--- counter local to that process, interface the remote interface's name.
cdr.RemoteObjectRef = setmetatable({
  name = "RemoteObjectRef", kind = TK.struct, minsize = ror_struct.minsize,
  enc = function(w, v, path)
    local here = path ~= "" and path or "RemoteObjectRef"
    if type(v) ~= "table" then
      fail("bad value for %s (RemoteObjectRef): expected a table, got %s", here, describe(v))
    end
    local addr = v.address
    if type(addr) == "string" then
      local ok, n = pcall(aton, addr)
      if not ok then
        if getmetatable(n) ~= Failure then error(n, 0) end
        fail("bad value for %s.address: %s", here, n.msg)
      end
      addr = n
    end
    ror_struct.enc(w, { address = addr, port = v.port, time = v.time, object = v.object,
                        interface = v.interface }, here)
  end,
  dec = function(r, path)
    local v = ror_struct.dec(r, path ~= "" and path or "RemoteObjectRef")
    local n = v.address
    v.address = string.format("%d.%d.%d.%d", n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)
    return v
  end,
  tc = ror_struct.tc,
}, Type)

--- cdr.ror(address, port, time, object, interface) -> reference table.
--- Checks every field the way marshalling would (error at the caller).
cdr.ror = public(function(address, port, time, object, interface)
  local ref = { address = address, port = port, time = time, object = object, interface = interface }
  cdr.RemoteObjectRef.enc(new_writer(cdr.BIG), ref, "RemoteObjectRef")
  return ref
end)

--- cdr.ror_tostring(ref) -> "10.0.0.3:6789 t=1200 #4 Account", for logs.
function cdr.ror_tostring(ref)
  return string.format("%s:%d t=%d #%d %s", tostring(ref.address), ref.port or -1,
                       ref.time or -1, ref.object or -1, tostring(ref.interface))
end

--- cdr.ror_equal(a, b) -> boolean: the same remote object.
function cdr.ror_equal(a, b)
  return a.address == b.address and a.port == b.port and a.time == b.time
     and a.object == b.object and a.interface == b.interface
end

----------------------------------------------------------------------------
-- Public entry points.

--- cdr.encode(t, value [, order]) -> bytes: the bare CDR form of `value`
--- (no byte-order flag), aligned from offset 0. `order` is "big" (default)
--- or "little". Errors: a bad type, order or value (named with its member
--- path and type).
cdr.encode = public(function(t, value, order)
  if not is_type(t) then fail("encode: the first argument must be a cdr type, got %s", describe(t)) end
  local w = new_writer(check_order(order))
  t.enc(w, value, "")
  return w:result()
end)

--- cdr.decode(t, bytes [, order]) -> value: the inverse of encode. The whole
--- input must be consumed. Errors: truncated input, malformed values (bad
--- boolean, enum or union discriminant), or trailing bytes, each naming the
--- offset.
cdr.decode = public(function(t, bytes, order)
  if not is_type(t) then fail("decode: the first argument must be a cdr type, got %s", describe(t)) end
  if type(bytes) ~= "string" then fail("decode: input must be a string of bytes, got %s", describe(bytes)) end
  local r = new_reader(bytes, check_order(order))
  local v = t.dec(r, "")
  if r.pos ~= #bytes then
    fail("malformed input: %d unexpected trailing byte%s at offset %d after the %s", #bytes - r.pos,
         #bytes - r.pos == 1 and "" or "s", r.pos, t.name)
  end
  return v
end)

--- cdr.marshal(t, value [, order]) -> message: a byte-order flag octet
--- (0 big-endian, 1 little-endian) followed by the value, aligned relative
--- to the start of the message. Errors as for encode.
cdr.marshal = public(function(t, value, order)
  if not is_type(t) then fail("marshal: the first argument must be a cdr type, got %s", describe(t)) end
  order = check_order(order)
  local w = new_writer(order, order == cdr.BIG and "\0" or "\1")
  t.enc(w, value, "")
  return w:result()
end)

--- cdr.unmarshal(t, message) -> value, order: reads the byte-order flag and
--- decodes the value in that order; the whole message must be consumed.
--- Errors: empty message, a flag other than 0 or 1, then as for decode.
cdr.unmarshal = public(function(t, msg)
  if not is_type(t) then fail("unmarshal: the first argument must be a cdr type, got %s", describe(t)) end
  if type(msg) ~= "string" then fail("unmarshal: input must be a string of bytes, got %s", describe(msg)) end
  if #msg == 0 then fail("truncated input: empty message (no byte-order flag at offset 0)") end
  local flag = string.byte(msg, 1)
  if flag > 1 then
    fail("malformed input: byte-order flag at offset 0 is %d (must be 0 for big-endian or 1 for little-endian)", flag)
  end
  local order = flag == 0 and cdr.BIG or cdr.LITTLE
  local r = new_reader(msg, order, 1)
  local v = t.dec(r, "")
  if r.pos ~= #msg then
    fail("malformed input: %d unexpected trailing byte%s at offset %d after the %s", #msg - r.pos,
         #msg - r.pos == 1 and "" or "s", r.pos, t.name)
  end
  return v, order
end)

--- cdr.order_of(message) -> "big" | "little" | nil: the byte order a
--- marshalled message records (nil if the flag is missing or invalid).
function cdr.order_of(msg)
  local f = type(msg) == "string" and string.byte(msg, 1)
  return f == 0 and cdr.BIG or f == 1 and cdr.LITTLE or nil
end

--- cdr.is_type(x) -> boolean: whether x is a cdr type descriptor.
cdr.is_type = is_type

--- cdr.equal(a, b) -> boolean: deep equality of decoded values (tables
--- compared field by field, numbers by value; cdr types by identity, or by
--- name and kind for types rebuilt by `any`).
function cdr.equal(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if a ~= a and b ~= b then return true end -- NaN
    return a == b
  end
  if is_type(a) or is_type(b) then
    return a == b or (is_type(a) and is_type(b) and a.name == b.name and a.kind == b.kind)
  end
  for k, v in pairs(a) do if not cdr.equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

--- cdr.dump(bytes [, base]) -> string: the bytes four to a line in the style
--- of Figure 9: "index  hex bytes  characters", offsets counted from `base`
--- (default 0). For handouts and logs.
function cdr.dump(bytes, base)
  base = base or 0
  local lines = {}
  for i = 1, #bytes, 4 do
    local chunk = bytes:sub(i, i + 3)
    local hex = chunk:gsub(".", function(c) return string.format("%02x ", c:byte()) end)
    local txt = chunk:gsub(".", function(c)
      local b = c:byte()
      return (b >= 32 and b < 127) and c or (b == 0 and "_" or ".")
    end)
    lines[#lines + 1] = string.format("%3d-%-3d  %-12s %s", base + i - 1, base + i - 1 + #chunk - 1,
                                      hex, txt)
  end
  return table.concat(lines, "\n")
end

return cdr
