/* trace.c — the JSON Lines trace writer and its digest.
 *
 * Lines are built directly in an output buffer (no intermediate strings).
 * Full buffers go to a writer thread that feeds them, in order, to SHA-256
 * (OpenSSL's libcrypto, which uses the CPU's SHA instructions where present:
 * about 15% faster here than nettle's) and to the file, while the
 * simulation goes on filling the next buffer. (A third thread for the file
 * writes, overlapping them with hashing, was about 10% slower on two
 * cores.) The digest is therefore the SHA-256 of the file minus its first
 * (header) line, exactly as if it were computed inline; the thread only
 * moves the work to another core.
 * Buffers come from a fixed pool, so memory stays bounded whatever the length
 * of the run (the simulation waits for the writer if it gets ahead).
 *
 * Until dsim_trace_start() writes the header, lines accumulate in memory:
 * scenario set-up (spawns, joins) happens before the header can say what the
 * network configuration is when the run starts. */
#include "sim_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024) /* hand a buffer to the writer when it is this full */
#define POOL 4                /* buffers in flight between the two threads */

typedef struct {
  char *data;
  size_t len, cap;
} Chunk;

struct DsimTrace {
  char *path; /* NULL: digest only */
  int fd;
  int old_fd; /* the replaced file, unlinked, until the writer closes it; or -1 */
  char *buf; /* the chunk being filled */
  size_t len, cap;
  bool started, finished;
  GString *extra_header; /* ,"key":value members added to the header */
  /* The start of the last line, {"t":<t>,"ev":" — consecutive lines
   * mostly share their time, and the digits of a time are the costliest
   * part of a short line. tstart_len 0: nothing cached yet. */
  DsimTime tstart_t;
  size_t tstart_len;
  char tstart[40];
  char digest[2 * 32 + 1];
  /* Writer thread (from the first full buffer after the header). */
  GThread *writer;
  GAsyncQueue *full;  /* Chunk* to hash and write, in order; data NULL ends */
  GAsyncQueue *empty; /* Chunk* free for reuse */
  int allocated;      /* chunks made so far, at most POOL */
  /* Used by the writer thread only (or before it starts), read after it
   * is joined. */
  EVP_MD_CTX *sha;
  int write_errno; /* first failed write, 0 if none */
};

static void write_all(DsimTrace *tr, const char *p, size_t n) {
  if (tr->fd < 0 || tr->write_errno) return;
  while (n > 0) {
    ssize_t k = write(tr->fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      tr->write_errno = errno;
      return;
    }
    p += k;
    n -= (size_t)k;
  }
}

static void consume(DsimTrace *tr, const char *data, size_t len) {
  if (!EVP_DigestUpdate(tr->sha, data, len)) g_error("SHA-256 update failed");
  write_all(tr, data, len);
}

static void close_old(DsimTrace *tr) {
  if (tr->old_fd >= 0) close(tr->old_fd); /* frees the old file's pages */
  tr->old_fd = -1;
}

static gpointer writer_main(gpointer data) {
  DsimTrace *tr = data;
  close_old(tr);
  for (;;) {
    Chunk *c = g_async_queue_pop(tr->full);
    if (c->data == NULL) { /* the end marker */
      g_free(c);
      return NULL;
    }
    consume(tr, c->data, c->len);
    c->len = 0;
    g_async_queue_push(tr->empty, c);
  }
}

static void trace_reserve(DsimTrace *tr, size_t extra) {
  if (G_LIKELY(tr->len + extra <= tr->cap)) return;
  size_t cap = tr->cap ? tr->cap : BUF_SIZE + 4096;
  while (cap < tr->len + extra) cap *= 2;
  tr->buf = g_realloc(tr->buf, cap);
  tr->cap = cap;
}

/* Hands the filled buffer to the writer and takes an empty one. */
static void trace_handoff(DsimTrace *tr) {
  if (!tr->len) return;
  if (!tr->writer) {
    tr->full = g_async_queue_new();
    tr->empty = g_async_queue_new();
    tr->writer = g_thread_new("dsim-trace", writer_main, tr);
  }
  Chunk *c = g_new(Chunk, 1);
  c->data = tr->buf;
  c->len = tr->len;
  c->cap = tr->cap;
  tr->allocated++;
  g_async_queue_push(tr->full, c);
  Chunk *next = tr->allocated < POOL ? NULL : g_async_queue_pop(tr->empty);
  if (next) {
    tr->allocated--;
    tr->buf = next->data;
    tr->cap = next->cap;
    g_free(next);
  } else {
    tr->buf = NULL;
    tr->cap = 0;
  }
  tr->len = 0;
}

/* Waits for the writer to finish everything handed to it so far. */
static void trace_drain(DsimTrace *tr) {
  trace_handoff(tr);
  if (!tr->writer) return;
  Chunk *end = g_new0(Chunk, 1);
  g_async_queue_push(tr->full, end);
  g_thread_join(tr->writer);
  tr->writer = NULL;
  Chunk *c;
  while ((c = g_async_queue_try_pop(tr->empty))) {
    g_free(c->data);
    g_free(c);
  }
  g_async_queue_unref(tr->full);
  g_async_queue_unref(tr->empty);
}

/* Opens the trace file. An existing regular file is replaced rather than
 * truncated, as GNU ld does with its output: truncating a trace of
 * hundreds of megabytes frees its cached pages on the spot, and ext4 then
 * flushes the new contents when the file is closed (its safeguard for
 * files rewritten by truncation), together about 0.2 s for a 377 MB trace.
 * The old file is unlinked while held open and the writer thread closes
 * it, so its pages are freed off the simulation's path. The new file gets
 * the old one's permissions. Anything else (a symlink, a FIFO, a device
 * such as /dev/stdout, a file in a directory we may not write, a file we
 * may not write) is opened and truncated in place, or refused. */
static int open_trace_file(DsimTrace *tr, const char *path) {
  struct stat st;
  /* A file we may not write stays protected: it goes to the plain open,
   * which refuses it. */
  if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && access(path, W_OK) == 0) {
    int old = open(path, O_RDONLY | O_CLOEXEC);
    if (old >= 0 && unlink(path) == 0) {
      int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
      if (fd >= 0) {
        tr->old_fd = old;
        return fd;
      }
    }
    if (old >= 0) close(old);
  }
  return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

DsimTrace *dsim_trace_new(const char *path, GError **error) {
  DsimTrace *tr = g_new0(DsimTrace, 1);
  tr->fd = -1;
  tr->old_fd = -1;
  if (path) {
    tr->fd = open_trace_file(tr, path);
    if (tr->fd < 0) {
      int e = errno;
      g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_IO, "cannot create trace file '%s': %s", path,
                  g_strerror(e));
      g_free(tr);
      return NULL;
    }
    tr->path = g_strdup(path);
  }
  tr->sha = EVP_MD_CTX_new();
  if (!tr->sha || !EVP_DigestInit_ex(tr->sha, EVP_sha256(), NULL)) g_error("SHA-256 is not available from libcrypto");
  return tr;
}

void dsim_trace_header_field(DsimTrace *tr, const char *key, const char *json) {
  g_assert(!tr->started);
  if (!tr->extra_header) tr->extra_header = g_string_new(NULL);
  g_string_append_printf(tr->extra_header, ",\"%s\":%s", key, json);
}

void dsim_trace_free(DsimTrace *tr) {
  if (!tr) return;
  dsim_trace_finish(tr, NULL);
  if (tr->extra_header) g_string_free(tr->extra_header, TRUE);
  EVP_MD_CTX_free(tr->sha);
  g_free(tr->buf);
  g_free(tr->path);
  g_free(tr);
}

/* ---------------------------------------------------------------- formatting */

static inline void put_raw(DsimTrace *tr, const char *s, size_t n) {
  trace_reserve(tr, n);
  memcpy(tr->buf + tr->len, s, n);
  tr->len += n;
}

static const char DIGITS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Two digits of d (0..99) at p. */
static inline void put2(char *p, unsigned d) {
  memcpy(p, DIGITS + 2 * d, 2);
}

/* Exactly four digits of v (0..9999), leading zeros included. */
static inline void put4(char *p, unsigned v) {
  put2(p, v / 100);
  put2(p + 2, v % 100);
}

/* Exactly eight digits of v (below 10^8). The two halves do not depend on
 * each other, so the CPU works on them at once; a digit-pair loop would
 * wait on each division in turn. */
static inline void put8(char *p, uint32_t v) {
  put4(p, v / 10000);
  put4(p + 4, v % 10000);
}

/* v (below 10^4) without leading zeros. */
static inline char *fmt_upto4(char *p, unsigned v) {
  if (v < 100) {
    if (v < 10) {
      *p = (char)('0' + v);
      return p + 1;
    }
    put2(p, v);
    return p + 2;
  }
  if (v < 1000) {
    *p = (char)('0' + v / 100);
    put2(p + 1, v % 100);
    return p + 3;
  }
  put4(p, v);
  return p + 4;
}

/* v (below 10^8) without leading zeros. */
static inline char *fmt_upto8(char *p, uint32_t v) {
  if (v < 10000) return fmt_upto4(p, v);
  p = fmt_upto4(p, v / 10000);
  put4(p, v % 10000);
  return p + 4;
}

/* Writes v in decimal at p and returns the end: groups of eight digits
 * from a table of digit pairs, no temporary and no libc call (a libc call
 * per number was a tenth of the cost of a traced C run). */
static G_ALWAYS_INLINE inline char *fmt_u64(char *p, uint64_t v) {
  if (v < 100000000) return fmt_upto8(p, (uint32_t)v);
  uint64_t hi = v / 100000000;
  uint32_t lo = (uint32_t)(v % 100000000);
  if (hi < 100000000) {
    p = fmt_upto8(p, (uint32_t)hi);
  } else {
    p = fmt_upto8(p, (uint32_t)(hi / 100000000));
    put8(p, (uint32_t)(hi % 100000000));
    p += 8;
  }
  put8(p, lo);
  return p + 8;
}

static inline char *fmt_i64(char *p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return fmt_u64(p, (uint64_t)0 - (uint64_t)v);
  }
  return fmt_u64(p, (uint64_t)v);
}

/* Copies a string literal: its length is a constant, so the copy compiles
 * to a few moves. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* Writes {"t":<t>,"ev":" at p (which has room for sizeof tr->tstart bytes)
 * and returns the end. */
static inline char *put_line_start(DsimTrace *tr, char *p, DsimTime t) {
  if (G_UNLIKELY(t != tr->tstart_t || tr->tstart_len == 0)) {
    char *e = PUT_LIT(tr->tstart, "{\"t\":");
    e = fmt_i64(e, t);
    e = PUT_LIT(e, ",\"ev\":\"");
    tr->tstart_t = t;
    tr->tstart_len = (size_t)(e - tr->tstart);
  }
  memcpy(p, tr->tstart, sizeof tr->tstart); /* a constant-size copy; the rest is overwritten */
  return p + tr->tstart_len;
}

static inline void put_u64(DsimTrace *tr, uint64_t v) {
  trace_reserve(tr, 20);
  tr->len = (size_t)(fmt_u64(tr->buf + tr->len, v) - tr->buf);
}

/* Keys and event names are short identifiers given as literals: a byte loop
 * beats strlen + memcpy calls for them. A name longer than NAME_FAST (the
 * public API allows any) takes the general path. */
#define NAME_FAST 32

static inline void put_name(DsimTrace *tr, const char *name) {
  trace_reserve(tr, NAME_FAST);
  char *o = tr->buf + tr->len;
  size_t i = 0;
  while (name[i] && i < NAME_FAST) {
    o[i] = name[i];
    i++;
  }
  tr->len += i;
  if (G_UNLIKELY(name[i])) put_raw(tr, name + i, strlen(name + i));
}

static inline void put_key(DsimTrace *tr, const char *key) {
  put_raw(tr, ",\"", 2);
  put_name(tr, key);
  put_raw(tr, "\":", 2);
}

void dsim_trace_begin(DsimTrace *tr, DsimTime t, const char *ev) {
  trace_reserve(tr, sizeof tr->tstart);
  tr->len = (size_t)(put_line_start(tr, tr->buf + tr->len, t) - tr->buf);
  put_name(tr, ev);
  put_raw(tr, "\"", 1);
}

void dsim_trace_u64(DsimTrace *tr, const char *key, uint64_t v) {
  put_key(tr, key);
  put_u64(tr, v);
}

void dsim_trace_i64(DsimTrace *tr, const char *key, int64_t v) {
  put_key(tr, key);
  trace_reserve(tr, 21);
  tr->len = (size_t)(fmt_i64(tr->buf + tr->len, v) - tr->buf);
}

void dsim_trace_bool(DsimTrace *tr, const char *key, bool v) {
  put_key(tr, key);
  if (v)
    put_raw(tr, "true", 4);
  else
    put_raw(tr, "false", 5);
}

/* Shortest of %.15g / %.17g that reads back as the same double, in the C
 * locale: deterministic, and "0.2" rather than "0.20000000000000001". */
static void format_double(double v, char *buf, size_t size) {
  if (!isfinite(v)) {
    g_strlcpy(buf, "null", size);
    return;
  }
  g_ascii_formatd(buf, (int)size, "%.15g", v);
  if (g_ascii_strtod(buf, NULL) != v) g_ascii_formatd(buf, (int)size, "%.17g", v);
}

void dsim_trace_double(DsimTrace *tr, const char *key, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  format_double(v, buf, sizeof buf);
  put_key(tr, key);
  put_raw(tr, buf, strlen(buf));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return len;
}

/* Escapes s into a JSON string literal at dst (which must have room for
 * 6 * max + 8 bytes). Returns the number of bytes written. */
static size_t escape_into(char *dst, const char *s, size_t len, size_t max) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  bool cut = len > max;
  size_t n = cut ? max : len;
  char *o = dst;
  *o++ = '"';
  size_t i = 0;
  while (i < n) {
    unsigned char c = u[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      *o++ = (char)c;
      i++;
      continue;
    }
    if (c >= 0x80) {
      size_t k = utf8_seq_len(u + i, n - i);
      if (k) {
        memcpy(o, u + i, k);
        o += k;
        i += k;
        continue;
      }
      if (cut && n - i < 4 && utf8_seq_len(u + i, len - i)) break; /* do not split a character */
    }
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
      *o++ = 'u';
      *o++ = '0';
      *o++ = '0';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
    i++;
  }
  if (cut) {
    memcpy(o, "...", 3);
    o += 3;
  }
  *o++ = '"';
  return (size_t)(o - dst);
}

/* True if none of the eight bytes in x needs escaping: all are printable
 * ASCII (0x20..0x7e) other than '"' and '\\'. Exact, with the usual
 * "has a zero byte" bit trick applied to each condition. */
static inline bool plain8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
  uint64_t bad = (x & highs)                 /* 0x80 and above */
                 | ((x - ones * 0x20) & ~x)  /* below 0x20 */
                 | ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d);
  return (bad & highs) == 0;
}

/* escape_into() for the common case, a short payload with nothing to
 * escape: checks and copies eight bytes at a time and falls back to the
 * general path at the first byte that needs care. dst has the same room
 * escape_into() asks for. */
static inline size_t escape_fast(char *dst, const char *s, size_t len, size_t max) {
  if (len > max) return escape_into(dst, s, len, max);
  char *o = dst;
  *o++ = '"';
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    if (!plain8(x)) return escape_into(dst, s, len, max);
    memcpy(o + i, &x, 8);
  }
  for (; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return escape_into(dst, s, len, max);
    o[i] = (char)c;
  }
  o[len] = '"';
  return len + 2;
}

void dsim_json_escape(GString *out, const char *s, size_t len, size_t max) {
  if (len == (size_t)-1) len = strlen(s);
  size_t n = len > max ? max : len;
  gsize old = out->len;
  g_string_set_size(out, old + 6 * n + 8);
  size_t w = escape_into(out->str + old, s, len, max);
  g_string_truncate(out, old + w);
}

void dsim_trace_str(DsimTrace *tr, const char *key, const char *s, size_t len, size_t max) {
  if (len == (size_t)-1) len = strlen(s);
  size_t n = len > max ? max : len;
  put_key(tr, key);
  trace_reserve(tr, 6 * n + 8);
  tr->len += escape_fast(tr->buf + tr->len, s, len, max);
}

void dsim_trace_pids(DsimTrace *tr, const char *key, const DsimPid *pids, size_t n) {
  put_key(tr, key);
  put_raw(tr, "[", 1);
  for (size_t i = 0; i < n; i++) {
    if (i) put_raw(tr, ",", 1);
    put_u64(tr, pids[i]);
  }
  put_raw(tr, "]", 1);
}

void dsim_trace_raw(DsimTrace *tr, const char *key, const char *json) {
  put_key(tr, key);
  put_raw(tr, json, strlen(json));
}

void dsim_trace_end(DsimTrace *tr) {
  put_raw(tr, "}\n", 2);
  if (tr->started && tr->len >= BUF_SIZE) trace_handoff(tr);
}

/* ---------------------------------------------------------------- message lines */

/* The message lines make up nearly all of a long trace, so each is written
 * in one call: one bounds check, keys copied as constants, no call per
 * field. The bytes are the same as the field-by-field calls would give
 * (tests/unit/test_trace.c compares them). */

/* Room for the numbers and fixed text of any message line. */
#define MSG_LINE_FIXED 192

/* Reserves room for a line and asks for the cache lines a few trace lines
 * ahead, for writing: the buffer was last read by the writer thread on the
 * other core, and without this each new cache line stalls the stores. */
/* Ends a message line at p and hands the chunk off when it is full. */
static inline void line_finish(DsimTrace *tr, char *p) {
  p = PUT_LIT(p, "}\n");
  tr->len = (size_t)(p - tr->buf);
  if (tr->started && tr->len >= BUF_SIZE) trace_handoff(tr);
}

/* "mid" and, unless it is the original, "copy" (format version 2). */
static inline char *put_mid_copy(char *p, uint64_t mid, uint32_t copy) {
  p = fmt_u64(p, mid);
  if (copy) {
    p = PUT_LIT(p, ",\"copy\":");
    p = fmt_u64(p, copy);
  }
  return p;
}

static inline char *line_start(DsimTrace *tr, size_t need) {
  trace_reserve(tr, need);
  char *p = tr->buf + tr->len;
  __builtin_prefetch(p + 512, 1, 3);
  return p;
}

void dsim_trace_send(DsimTrace *tr, DsimTime t, uint64_t mid, const char *ch_json, size_t ch_json_len,
                     DsimPid src, DsimPid dst, uint64_t size, const char *data, size_t len, size_t max) {
  size_t n = len > max ? max : len;
  char *p = put_line_start(tr, line_start(tr, MSG_LINE_FIXED + ch_json_len + 6 * n + 8), t);
  p = PUT_LIT(p, "send\",\"mid\":");
  p = fmt_u64(p, mid);
  if (ch_json) {
    p = PUT_LIT(p, ",\"ch\":");
    memcpy(p, ch_json, ch_json_len);
    p += ch_json_len;
  }
  p = PUT_LIT(p, ",\"src\":");
  p = fmt_u64(p, src);
  p = PUT_LIT(p, ",\"dst\":");
  p = fmt_u64(p, dst);
  p = PUT_LIT(p, ",\"size\":");
  p = fmt_u64(p, size);
  p = PUT_LIT(p, ",\"data\":");
  p += escape_fast(p, data, len, max);
  line_finish(tr, p);
}

void dsim_trace_deliver(DsimTrace *tr, DsimTime t, uint64_t mid, uint32_t copy, DsimPid src, DsimPid dst,
                        bool corrupted) {
  char *p = put_line_start(tr, line_start(tr, MSG_LINE_FIXED), t);
  p = put_mid_copy(PUT_LIT(p, "deliver\",\"mid\":"), mid, copy);
  p = PUT_LIT(p, ",\"src\":");
  p = fmt_u64(p, src);
  p = PUT_LIT(p, ",\"dst\":");
  p = fmt_u64(p, dst);
  if (G_UNLIKELY(corrupted)) p = PUT_LIT(p, ",\"corrupted\":true");
  line_finish(tr, p);
}

void dsim_trace_recv(DsimTrace *tr, DsimTime t, uint64_t mid, uint32_t copy, DsimPid pid, DsimPid src) {
  char *p = put_line_start(tr, line_start(tr, MSG_LINE_FIXED), t);
  p = put_mid_copy(PUT_LIT(p, "recv\",\"mid\":"), mid, copy);
  p = PUT_LIT(p, ",\"pid\":");
  p = fmt_u64(p, pid);
  p = PUT_LIT(p, ",\"src\":");
  p = fmt_u64(p, src);
  line_finish(tr, p);
}

/* ---------------------------------------------------------------- header, end */

void dsim_trace_start(DsimTrace *tr, const char *scenario, uint64_t seed, DsimTime until,
                      uint64_t max_events, const char *net_json) {
  g_assert(!tr->started);
  GString *h = g_string_new("{\"ev\":\"header\",\"format\":\"dsim-trace\",\"version\":" G_STRINGIFY(DSIM_TRACE_VERSION) ",\"generator\":");
  dsim_json_escape(h, "dsim " DSIM_VERSION, (size_t)-1, 100);
  g_string_append(h, ",\"scenario\":");
  dsim_json_escape(h, scenario ? scenario : "", (size_t)-1, 4096);
  g_string_append_printf(h, ",\"seed\":%" G_GUINT64_FORMAT, seed);
  if (until == DSIM_TIME_NEVER)
    g_string_append(h, ",\"until\":null");
  else
    g_string_append_printf(h, ",\"until\":%" G_GINT64_FORMAT, until);
  g_string_append_printf(h, ",\"max_events\":%" G_GUINT64_FORMAT, max_events);
  g_string_append_printf(h, ",\"net\":%s", net_json ? net_json : "{}");
  if (tr->extra_header) g_string_append(h, tr->extra_header->str);
  g_string_append(h, "}\n");
  write_all(tr, h->str, h->len); /* the header is not part of the digest */
  g_string_free(h, TRUE);
  tr->started = true;
  if (tr->len >= BUF_SIZE) trace_handoff(tr);
}

gboolean dsim_trace_finish(DsimTrace *tr, GError **error) {
  if (!tr->finished) {
    if (!tr->started) dsim_trace_start(tr, NULL, 0, DSIM_TIME_NEVER, 0, NULL);
    trace_drain(tr);
    close_old(tr); /* when the writer never started (an empty trace) */
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (!EVP_DigestFinal_ex(tr->sha, d, &dlen) || dlen != 32) g_error("SHA-256 final failed");
    for (size_t i = 0; i < dlen; i++) g_snprintf(tr->digest + 2 * i, 3, "%02x", d[i]);
    if (tr->fd >= 0) {
      if (close(tr->fd) != 0 && !tr->write_errno) tr->write_errno = errno;
      tr->fd = -1;
    }
    tr->finished = true;
  }
  if (tr->write_errno) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_IO, "writing trace file '%s' failed: %s",
                tr->path ? tr->path : "?", g_strerror(tr->write_errno));
    return FALSE;
  }
  return TRUE;
}

const char *dsim_trace_digest(const DsimTrace *tr) {
  return tr->digest;
}
