/* faults_util.h — C processes and helpers shared by the test_faults_*
 * executables: a sender that sends numbered messages, a receiver that
 * records every arrival, and a chatter that talks to its whole channel.
 *
 * Each test executable is single-threaded and runs one world at a time,
 * so the processes report into one static `Recorder` that each test
 * resets. Every payload starts with the message's sequence number (4 bytes,
 * little-endian) followed by filler. */
#ifndef DSIM_TEST_FAULTS_UTIL_H
#define DSIM_TEST_FAULTS_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsim.h"

typedef struct {
  uint32_t seq;
  uint32_t copy;
  DsimPid src, dst;
  DsimTime sent, at;
  bool corrupted;
  uint32_t len;
  uint32_t flipped; /* bits of the filler (after the seq) that differ from what was sent */
  unsigned char head[16]; /* the first bytes of the payload */
} Arrival;

typedef struct {
  GArray *arrivals; /* Arrival, in delivery order */
  uint32_t timers;  /* timer callbacks seen */
  GArray *timer_tags; /* uint64_t, in firing order */
  GArray *timer_times; /* DsimTime */
  uint32_t starts;  /* start callbacks seen */
} Recorder;

static Recorder rec;

static void rec_reset(void) {
  if (rec.arrivals) g_array_unref(rec.arrivals);
  if (rec.timer_tags) g_array_unref(rec.timer_tags);
  if (rec.timer_times) g_array_unref(rec.timer_times);
  memset(&rec, 0, sizeof rec);
  rec.arrivals = g_array_new(FALSE, FALSE, sizeof(Arrival));
  rec.timer_tags = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  rec.timer_times = g_array_new(FALSE, FALSE, sizeof(DsimTime));
}

/* The bytes message `seq` of `len` bytes holds (len >= 4). */
static void fill_payload(unsigned char *buf, uint32_t seq, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) buf[i] = (unsigned char)(0xa5 ^ (i * 7));
  buf[0] = (unsigned char)seq;
  buf[1] = (unsigned char)(seq >> 8);
  buf[2] = (unsigned char)(seq >> 16);
  buf[3] = (unsigned char)(seq >> 24);
}

/* ---------------------------------------------------------------- sender */

/* argv: destination pid, count, gap (ns; 0: all at once at start), size
 * (bytes, >= 4). */
typedef struct {
  DsimChannel *ch;
  DsimPid dst;
  uint32_t count, next, size;
  DsimTime gap;
} Sender;

static void sender_send(DsimWorld *w, Sender *s) {
  void *buf;
  DsimPayload *p = dsim_payload_new_uninit(s->size, NULL, &buf);
  fill_payload(buf, s->next++, s->size);
  g_assert(dsim_channel_send_to(s->ch, &s->dst, 1, p, NULL));
  dsim_payload_unref(p);
  (void)w;
}

static void sender_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  Sender *s = state;
  DsimPid me;
  (void)self;
  g_assert(argc == 4);
  s->ch = dsim_channel_open(w, NULL);
  g_assert(dsim_channel_join(s->ch, "senders", &me, NULL));
  s->dst = (DsimPid)strtoul(argv[0], NULL, 10);
  s->count = (uint32_t)strtoul(argv[1], NULL, 10);
  s->gap = (DsimTime)strtoll(argv[2], NULL, 10);
  s->size = (uint32_t)strtoul(argv[3], NULL, 10);
  rec.starts++;
  if (s->gap == 0) {
    while (s->next < s->count) sender_send(w, s);
  } else if (s->count) {
    dsim_cproc_timer(w, s->gap, 0);
  }
}

static void sender_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  Sender *s = state;
  (void)self;
  (void)tag;
  sender_send(w, s);
  if (s->next < s->count) dsim_cproc_timer(w, s->gap, 0);
}

static const DsimProcClass sender_class = {"sender", sizeof(Sender), sender_start, NULL, sender_timer, NULL};

/* ---------------------------------------------------------------- receiver */

static void record_arrival(DsimWorld *w, const DsimMessage *m) {
  const DsimPayload *p = dsim_message_payload(m);
  const unsigned char *b = dsim_payload_data(p);
  Arrival a = {0};
  uint32_t len = (uint32_t)dsim_payload_len(p);
  unsigned char expect[4096];
  a.len = len;
  if (len >= 4) a.seq = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  if (len <= sizeof expect && len >= 4) {
    /* Compare with what was sent; a flipped bit in the sequence number
     * itself shows up as a different seq, so rebuild from the filler. */
    fill_payload(expect, a.seq, len);
    for (uint32_t i = 4; i < len; i++) a.flipped += (uint32_t)__builtin_popcount(expect[i] ^ b[i]);
  }
  memcpy(a.head, b, len < sizeof a.head ? len : sizeof a.head);
  a.copy = dsim_message_copy(m);
  a.src = dsim_message_src(m);
  a.dst = dsim_message_dst(m);
  a.sent = dsim_message_sent_at(m);
  a.at = dsim_world_now(w);
  a.corrupted = dsim_message_corrupted(m);
  g_array_append_val(rec.arrivals, a);
}

static void receiver_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  DsimPid me;
  (void)self;
  (void)state;
  rec.starts++;
  g_assert(dsim_channel_join(dsim_channel_open(w, NULL), argc ? argv[0] : "receivers", &me, NULL));
}

static void receiver_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)self;
  (void)state;
  record_arrival(w, m);
}

static void receiver_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)self;
  (void)state;
  rec.timers++;
  DsimTime now = dsim_world_now(w);
  g_array_append_val(rec.timer_tags, tag);
  g_array_append_val(rec.timer_times, now);
}

static const DsimProcClass receiver_class = {"receiver", 0, receiver_start, receiver_message, receiver_timer,
                                             NULL};

/* ---------------------------------------------------------------- chatter */

/* argv: group. Joins it; 1 ms after starting, and every ms for `rounds`
 * (argv[1]) rounds, sends one message to every member of the channel. */
typedef struct {
  DsimChannel *ch;
  uint32_t rounds, done;
} Chatter;

static void chatter_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  Chatter *c = state;
  DsimPid me;
  (void)self;
  g_assert(argc == 2);
  c->ch = dsim_channel_open(w, NULL);
  g_assert(dsim_channel_join(c->ch, argv[0], &me, NULL));
  c->rounds = (uint32_t)strtoul(argv[1], NULL, 10);
  dsim_cproc_timer(w, DSIM_NS_PER_MS, 0);
}

static void chatter_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  Chatter *c = state;
  (void)self;
  (void)tag;
  unsigned char buf[8];
  fill_payload(buf, c->done, sizeof buf);
  DsimPayload *p = dsim_payload_new(buf, sizeof buf, NULL);
  g_assert(dsim_channel_send_to_all(c->ch, p, NULL));
  dsim_payload_unref(p);
  if (++c->done < c->rounds) dsim_cproc_timer(w, DSIM_NS_PER_MS, 0);
}

static const DsimProcClass chatter_class = {"chatter", sizeof(Chatter), chatter_start, receiver_message,
                                            chatter_timer, NULL};

/* ---------------------------------------------------------------- helpers */

/* A world with that seed, which is printed (every randomized test says
 * which seed it used). */
G_GNUC_UNUSED static DsimWorld *world_with_seed(uint64_t seed) {
  print_message("seed %" G_GUINT64_FORMAT "\n", seed);
  DsimWorldConfig cfg = {.seed = seed, .until = DSIM_TIME_NEVER, .max_events = 0};
  return dsim_world_new(&cfg);
}

G_GNUC_UNUSED static DsimPid spawn_sender(DsimWorld *w, DsimPid dst, uint32_t count, DsimTime gap, uint32_t size) {
  char a[4][32];
  g_snprintf(a[0], sizeof a[0], "%u", dst);
  g_snprintf(a[1], sizeof a[1], "%u", count);
  g_snprintf(a[2], sizeof a[2], "%" G_GINT64_FORMAT, gap);
  g_snprintf(a[3], sizeof a[3], "%u", size);
  const char *argv[] = {a[0], a[1], a[2], a[3]};
  return dsim_cproc_spawn(w, &sender_class, 4, argv);
}

G_GNUC_UNUSED static DsimPid spawn_receiver(DsimWorld *w) {
  return dsim_cproc_spawn(w, &receiver_class, 0, NULL);
}

G_GNUC_UNUSED static const Arrival *arrival(guint i) {
  return &g_array_index(rec.arrivals, Arrival, i);
}

/* Sets the defaults of w's net from a config made by `edit`. */
G_GNUC_UNUSED static void set_defaults(DsimWorld *w, const DsimLinkConfig *cfg) {
  GError *e = NULL;
  gboolean ok = dsim_net_set_defaults(dsim_net_get(w), cfg, &e);
  if (!ok) fail_msg("set_defaults: %s", e->message);
}

#endif
