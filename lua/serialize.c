/* serialize.c — Lua values as message payloads.
 *
 * Processes share nothing: a message is copied into bytes when it is sent and
 * rebuilt when it is received, so a receiver that changes a table it got
 * cannot change the sender's. A plain string travels as its bytes (and a C
 * process receives exactly those bytes); any other value is encoded as below
 * and marked with the payload type "lua":
 *
 *   'n' nil   'f' false   't' true
 *   'i' int64, little-endian        'd' IEEE double, little-endian
 *   's' length (LEB128) + bytes     'T' count (LEB128) + count (key, value)
 *
 * Table entries are written in the deterministic key order of pairs, so equal
 * tables encode to equal bytes in every run. Functions, userdata, threads,
 * keys without a reproducible order, and nesting deeper than 64 levels (a
 * cycle, usually) are errors at the sendTo that tried to send them. */
#include "lua_internal.h"

#include <string.h>

#define MAX_DEPTH 64

/* ---------------------------------------------------------------- encoding */

/* The bytes being built live in a GByteArray owned by a userdata with a __gc
 * metamethod, so an error raised halfway (a function inside the table) does
 * not leak them. */
typedef struct {
  GByteArray *bytes;
} EncBox;

static const char ENCBOX_MT = 0;

static int encbox_gc(lua_State *L) {
  EncBox *b = lua_touserdata(L, 1);
  if (b->bytes) g_byte_array_unref(b->bytes);
  b->bytes = NULL;
  return 0;
}

static void put_varint(GByteArray *a, uint64_t v) {
  uint8_t buf[10];
  int n = 0;
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    buf[n++] = c | (v ? 0x80 : 0);
  } while (v);
  g_byte_array_append(a, buf, (guint)n);
}

static void put_u64le(GByteArray *a, uint64_t v) {
  uint8_t buf[8];
  for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(v >> (8 * i));
  g_byte_array_append(a, buf, 8);
}

static void encode(lua_State *L, int idx, GByteArray *a, int depth) {
  idx = lua_absindex(L, idx);
  uint8_t tag;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: tag = 'n'; g_byte_array_append(a, &tag, 1); return;
  case LUA_TBOOLEAN:
    tag = lua_toboolean(L, idx) ? 't' : 'f';
    g_byte_array_append(a, &tag, 1);
    return;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      tag = 'i';
      g_byte_array_append(a, &tag, 1);
      put_u64le(a, (uint64_t)lua_tointeger(L, idx));
    } else {
      double d = lua_tonumber(L, idx);
      uint64_t bits;
      memcpy(&bits, &d, sizeof bits);
      tag = 'd';
      g_byte_array_append(a, &tag, 1);
      put_u64le(a, bits);
    }
    return;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    tag = 's';
    g_byte_array_append(a, &tag, 1);
    put_varint(a, len);
    g_byte_array_append(a, (const guint8 *)s, (guint)len);
    return;
  }
  case LUA_TTABLE: {
    if (depth >= MAX_DEPTH)
      luaL_error(L, "cannot send a message nested more than %d levels deep (does a table contain "
                    "itself?)", MAX_DEPTH);
    luaL_checkstack(L, 4, "message too deep");
    dsim_lua_sorted_keys(L, idx, "sendTo");
    int keys = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
    tag = 'T';
    g_byte_array_append(a, &tag, 1);
    put_varint(a, (uint64_t)n);
    for (lua_Integer k = 1; k <= n; k++) {
      lua_rawgeti(L, keys, k);
      encode(L, -1, a, depth + 1);
      lua_rawget(L, idx);
      encode(L, -1, a, depth + 1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return;
  }
  default:
    luaL_error(L, "cannot send a value of type %s in a message (only nil, booleans, numbers, "
                  "strings and tables of those travel between processes)",
               luaL_typename(L, idx));
  }
}

static DsimPayload *encode_boxed(lua_State *L, int idx);

DsimPayload *dsim_lua_to_payload(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    DsimLua *rt = dsim_lua_from(L);
    DsimPayload *last = rt->last_string;
    if (last && dsim_payload_len(last) == len && memcmp(dsim_payload_data(last), s, len) == 0)
      return dsim_payload_ref(last);
    DsimPayload *p = dsim_payload_new(s, len, NULL);
    dsim_payload_unref(last);
    rt->last_string = dsim_payload_ref(p);
    return p;
  }
  return encode_boxed(L, idx);
}

DsimPayload *dsim_lua_encode_value(lua_State *L, int idx) {
  return encode_boxed(L, lua_absindex(L, idx));
}

static DsimPayload *encode_boxed(lua_State *L, int idx) {
  EncBox *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->bytes = NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ENCBOX_MT) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, encbox_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ENCBOX_MT);
  }
  lua_setmetatable(L, -2);
  box->bytes = g_byte_array_sized_new(64);
  encode(L, idx, box->bytes, 0);
  DsimPayload *p = dsim_payload_new(box->bytes->data, box->bytes->len, &dsim_lua_payload_type);
  g_byte_array_unref(box->bytes);
  box->bytes = NULL;
  lua_pop(L, 1);
  return p;
}

/* ---------------------------------------------------------------- decoding */

typedef struct {
  const uint8_t *p, *end;
} Reader;

static bool get_varint(Reader *r, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) return false;
    uint8_t c = *r->p++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

static bool get_u64le(Reader *r, uint64_t *out) {
  if (r->end - r->p < 8) return false;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
  r->p += 8;
  *out = v;
  return true;
}

/* Pushes one value; on malformed input pushes nothing and returns false. */
static bool decode(lua_State *L, Reader *r, int depth) {
  if (r->p >= r->end || depth > MAX_DEPTH || !lua_checkstack(L, 3)) return false;
  uint64_t u;
  switch (*r->p++) {
  case 'n': lua_pushnil(L); return true;
  case 'f': lua_pushboolean(L, 0); return true;
  case 't': lua_pushboolean(L, 1); return true;
  case 'i':
    if (!get_u64le(r, &u)) return false;
    lua_pushinteger(L, (lua_Integer)u);
    return true;
  case 'd': {
    if (!get_u64le(r, &u)) return false;
    double d;
    memcpy(&d, &u, sizeof d);
    lua_pushnumber(L, d);
    return true;
  }
  case 's':
    if (!get_varint(r, &u) || u > (uint64_t)(r->end - r->p)) return false;
    lua_pushlstring(L, (const char *)r->p, (size_t)u);
    r->p += u;
    return true;
  case 'T': {
    if (!get_varint(r, &u) || u > (uint64_t)(r->end - r->p) / 2) return false;
    lua_createtable(L, 0, (int)u);
    for (uint64_t i = 0; i < u; i++) {
      if (!decode(L, r, depth + 1)) goto bad;
      if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) != lua_tonumber(L, -1))) {
        lua_pop(L, 1);
        goto bad;
      }
      if (!decode(L, r, depth + 1)) {
        lua_pop(L, 1);
        goto bad;
      }
      lua_rawset(L, -3);
    }
    return true;
  bad:
    lua_pop(L, 1);
    return false;
  }
  default: return false;
  }
}

bool dsim_lua_push_encoded(lua_State *L, const void *data, size_t len) {
  Reader r = {data, (const uint8_t *)data + len};
  int top = lua_gettop(L);
  if (decode(L, &r, 0) && r.p == r.end) return true;
  lua_settop(L, top);
  lua_pushlstring(L, (const char *)data, len);
  return false;
}

bool dsim_lua_push_payload(lua_State *L, const DsimPayload *p) {
  const uint8_t *data = dsim_payload_data(p);
  size_t len = dsim_payload_len(p);
  if (dsim_payload_type(p) == &dsim_lua_payload_type) return dsim_lua_push_encoded(L, data, len);
  lua_pushlstring(L, (const char *)data, len);
  return true;
}

/* ---------------------------------------------------------------- rendering */

static bool is_identifier(const uint8_t *s, size_t n) {
  if (n == 0 || !(g_ascii_isalpha(s[0]) || s[0] == '_')) return false;
  for (size_t i = 1; i < n; i++)
    if (!(g_ascii_isalnum(s[i]) || s[i] == '_')) return false;
  return true;
}

static bool render_value(Reader *r, GString *out, size_t max, int depth, int64_t *as_int) {
  if (out->len > max) return false;
  if (r->p >= r->end || depth > MAX_DEPTH) return false;
  uint64_t u;
  uint8_t tag = *r->p++;
  if (as_int) *as_int = INT64_MIN;
  switch (tag) {
  case 'n': g_string_append(out, "nil"); return true;
  case 'f': g_string_append(out, "false"); return true;
  case 't': g_string_append(out, "true"); return true;
  case 'i':
    if (!get_u64le(r, &u)) return false;
    g_string_append_printf(out, "%" G_GINT64_FORMAT, (int64_t)u);
    if (as_int) *as_int = (int64_t)u;
    return true;
  case 'd': {
    if (!get_u64le(r, &u)) return false;
    double d;
    memcpy(&d, &u, sizeof d);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.14g", d));
    return true;
  }
  case 's':
    if (!get_varint(r, &u) || u > (uint64_t)(r->end - r->p)) return false;
    g_string_append_c(out, '"');
    g_string_append_len(out, (const char *)r->p, (gssize)(u < max ? u : max));
    g_string_append_c(out, '"');
    r->p += u;
    return true;
  case 'T': {
    if (!get_varint(r, &u)) return false;
    g_string_append_c(out, '{');
    int64_t next_index = 1;
    for (uint64_t i = 0; i < u; i++) {
      if (i) g_string_append_c(out, ',');
      if (r->p < r->end && *r->p == 's') {
        Reader k = *r;
        k.p++;
        uint64_t kl;
        if (get_varint(&k, &kl) && kl <= (uint64_t)(k.end - k.p) && is_identifier(k.p, kl)) {
          g_string_append_len(out, (const char *)k.p, (gssize)kl);
          g_string_append_c(out, '=');
          r->p = k.p + kl;
          goto value;
        }
      }
      {
        GString *key = g_string_new(NULL);
        int64_t ki;
        bool ok = render_value(r, key, max, depth + 1, &ki);
        if (ok && ki == next_index) {
          next_index++; /* array part: values only */
        } else if (ok) {
          g_string_append_printf(out, "[%s]=", key->str);
        }
        g_string_free(key, TRUE);
        if (!ok) return false;
      }
    value:
      if (!render_value(r, out, max, depth + 1, NULL)) return false;
      if (out->len > max) return false;
    }
    g_string_append_c(out, '}');
    return true;
  }
  default: return false;
  }
}

static void render(const void *data, size_t len, GString *out, size_t max) {
  Reader r = {data, (const uint8_t *)data + len};
  gsize start = out->len;
  if (!render_value(&r, out, start + max, 0, NULL) && out->len <= start + max) {
    g_string_truncate(out, start);
    g_string_append(out, "<malformed>");
  }
}

const DsimPayloadType dsim_lua_payload_type = {.name = "lua", .render = render};
