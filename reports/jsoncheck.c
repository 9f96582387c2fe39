/* jsoncheck.c — a strict JSON syntax check run before json-glib parses a line.
 *
 * Why it exists: json-glib 1.6 is lenient in ways that would let a line that
 * is not JSON through as if it were. It accepts single-quoted strings,
 * several values on one line ({"t":1}{"t":2} yields the first), raw control
 * characters inside strings, and integers too large for 64 bits (they wrap
 * silently). A trace reader must refuse such lines, so each line first goes
 * through this RFC 8259 grammar check; json-glib then builds the values.
 *
 * The check is iterative (an explicit stack of at most DSIM_JSON_MAX_DEPTH
 * open containers), linear in the length of the line and allocates
 * nothing. It checks bytes, not UTF-8: the reader validates UTF-8 separately
 * with g_utf8_validate_len(). */
#include "reports_internal.h"

#include <string.h>

typedef struct {
  const unsigned char *p, *start, *end;
  char *why;
  gsize why_size;
} Scan;

static gboolean fail(Scan *s, const char *what) {
  g_snprintf(s->why, s->why_size, "column %" G_GSIZE_FORMAT ": %s", (gsize)(s->p - s->start) + 1, what);
  return FALSE;
}

static void skip_ws(Scan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads \uXXXX at s->p (pointing at the 'u'); stores the code unit. */
static gboolean read_u_escape(Scan *s, unsigned *unit) {
  if (s->end - s->p < 5) return fail(s, "incomplete \\u escape");
  unsigned v = 0;
  for (int i = 1; i <= 4; i++) {
    int h = hex_value(s->p[i]);
    if (h < 0) return fail(s, "bad hex digit in \\u escape");
    v = v * 16 + (unsigned)h;
  }
  s->p += 5;
  *unit = v;
  return TRUE;
}

/* s->p points at the opening quote. */
static gboolean scan_string(Scan *s) {
  s->p++;
  while (s->p < s->end) {
    unsigned char c = *s->p;
    if (c == '"') {
      s->p++;
      return TRUE;
    }
    if (c < 0x20) return fail(s, "control character inside a string (must be escaped)");
    if (c != '\\') {
      s->p++;
      continue;
    }
    s->p++;
    if (s->p >= s->end) break;
    c = *s->p;
    if (c && strchr("\"\\/bfnrt", c)) {
      s->p++;
      continue;
    }
    if (c != 'u') return fail(s, "unknown escape in a string");
    unsigned unit;
    if (!read_u_escape(s, &unit)) return FALSE;
    if (unit >= 0xdc00 && unit <= 0xdfff) return fail(s, "lone low surrogate in a \\u escape");
    if (unit >= 0xd800 && unit <= 0xdbff) {
      if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
        return fail(s, "high surrogate not followed by a low surrogate");
      s->p++;
      if (!read_u_escape(s, &unit)) return FALSE;
      if (unit < 0xdc00 || unit > 0xdfff) return fail(s, "high surrogate not followed by a low surrogate");
    }
  }
  return fail(s, "unterminated string");
}

/* An integer literal must fit the 64-bit integers json-glib stores: up to
 * 2^64-1 (seeds are unsigned) and down to -2^63. */
static gboolean integer_in_range(const unsigned char *digits, gsize n, gboolean negative) {
  static const char max_u64[] = "18446744073709551615";
  static const char min_i64[] = "9223372036854775808";
  const char *limit = negative ? min_i64 : max_u64;
  gsize ln = strlen(limit);
  if (n != ln) return n < ln;
  return memcmp(digits, limit, n) <= 0;
}

static gboolean scan_number(Scan *s) {
  gboolean negative = FALSE;
  if (*s->p == '-') {
    negative = TRUE;
    s->p++;
  }
  const unsigned char *digits = s->p;
  if (s->p >= s->end || !g_ascii_isdigit(*s->p)) return fail(s, "bad number");
  if (*s->p == '0') {
    s->p++;
    if (s->p < s->end && g_ascii_isdigit(*s->p)) return fail(s, "number with a leading zero");
  } else {
    while (s->p < s->end && g_ascii_isdigit(*s->p)) s->p++;
  }
  gsize ndigits = (gsize)(s->p - digits);
  gboolean integer = TRUE;
  if (s->p < s->end && *s->p == '.') {
    integer = FALSE;
    s->p++;
    if (s->p >= s->end || !g_ascii_isdigit(*s->p)) return fail(s, "bad number (no digit after '.')");
    while (s->p < s->end && g_ascii_isdigit(*s->p)) s->p++;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    integer = FALSE;
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
    if (s->p >= s->end || !g_ascii_isdigit(*s->p)) return fail(s, "bad number (no digit in exponent)");
    while (s->p < s->end && g_ascii_isdigit(*s->p)) s->p++;
  }
  if (integer && !integer_in_range(digits, ndigits, negative)) {
    s->p = digits;
    return fail(s, "integer out of the 64-bit range");
  }
  return TRUE;
}

static gboolean scan_literal(Scan *s) {
  static const char *const words[] = {"true", "false", "null"};
  for (gsize i = 0; i < G_N_ELEMENTS(words); i++) {
    gsize n = strlen(words[i]);
    if ((gsize)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0) {
      s->p += n;
      return TRUE;
    }
  }
  return fail(s, "unexpected character (expected a JSON value)");
}

gboolean dsim_json_check_syntax(const char *text, gsize len, char *why, gsize why_size) {
  char stack[DSIM_JSON_MAX_DEPTH];
  int depth = 0;
  enum { VALUE, KEY, AFTER } state = VALUE;
  Scan s = {(const unsigned char *)text, (const unsigned char *)text, (const unsigned char *)text + len,
            why, why_size};
  for (;;) {
    skip_ws(&s);
    if (state == AFTER && depth == 0) break;
    if (s.p >= s.end) return fail(&s, depth ? "unexpected end of line inside a value" : "no JSON value");
    unsigned char c = *s.p;
    if (state == KEY) {
      if (c != '"') return fail(&s, "expected a string key");
      if (!scan_string(&s)) return FALSE;
      skip_ws(&s);
      if (s.p >= s.end || *s.p != ':') return fail(&s, "expected ':' after a key");
      s.p++;
      state = VALUE;
      continue;
    }
    if (state == AFTER) {
      char top = stack[depth - 1];
      if (c == ',') {
        s.p++;
        state = top == '{' ? KEY : VALUE;
      } else if ((top == '{' && c == '}') || (top == '[' && c == ']')) {
        s.p++;
        depth--;
      } else {
        return fail(&s, top == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
      continue;
    }
    /* state == VALUE */
    if (c == '{' || c == '[') {
      if (depth == DSIM_JSON_MAX_DEPTH) return fail(&s, "nested too deeply");
      stack[depth++] = (char)c;
      s.p++;
      skip_ws(&s);
      if (s.p < s.end && *s.p == (c == '{' ? '}' : ']')) {
        s.p++;
        depth--;
        state = AFTER;
      } else {
        state = c == '{' ? KEY : VALUE;
      }
      continue;
    }
    gboolean ok = c == '"' ? scan_string(&s) : (c == '-' || g_ascii_isdigit(c)) ? scan_number(&s) : scan_literal(&s);
    if (!ok) return FALSE;
    state = AFTER;
  }
  if (s.p != s.end) return fail(&s, "unexpected data after the JSON value");
  return TRUE;
}
