/* test_faults_net.c — network faults, one behaviour per test: FIFO and
 * datagram ordering, partitions (symmetric, one-way, in flight), link
 * downs, holds, bandwidth, the size limit, copy-on-write corruption, C
 * message rules, bad arguments, and that a configuration that injects
 * nothing behaves exactly like the fault-free path. */
#include "faults_util.h"

#define MS DSIM_NS_PER_MS

static DsimLinkConfig base_config(void) {
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  return cfg;
}

/* Calls fn(net, data) at time `at` (scenario context). */
typedef void (*NetAction)(DsimWorld *w, void *data);
typedef struct {
  NetAction fn;
  void *data;
} Scheduled;

static void scheduled_fire(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)owner;
  (void)tag;
  Scheduled *s = data;
  s->fn(w, s->data);
  g_free(s);
}

static void at(DsimWorld *w, DsimTime t, NetAction fn, void *data) {
  Scheduled *s = g_new(Scheduled, 1);
  s->fn = fn;
  s->data = data;
  dsim_timer_start(w, DSIM_PID_NONE, t - dsim_world_now(w), scheduled_fire, s, 0);
}

static uint64_t inversions(void) {
  uint64_t n = 0;
  for (guint i = 1; i < rec.arrivals->len; i++)
    if (arrival(i)->seq < arrival(i - 1)->seq) n++;
  return n;
}

/* ---------------------------------------------------------------- ordering */

static void run_ordering(DsimOrdering ordering, double duplicate, uint64_t seed) {
  rec_reset();
  DsimWorld *w = world_with_seed(seed);
  DsimLinkConfig cfg = base_config();
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = MS, .b = 20 * MS};
  cfg.ordering = ordering;
  cfg.duplicate = duplicate;
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 20000, 10 * DSIM_NS_PER_US, 8);
  dsim_world_run(w);
  dsim_world_free(w);
}

static void test_fifo_never_reorders(void **state) {
  (void)state;
  run_ordering(DSIM_ORDER_FIFO, 0.1, 31);
  assert_true(rec.arrivals->len > 20000); /* duplicates included */
  assert_int_equal(inversions(), 0);
  /* Copies 0 arrive in exactly the order sent. */
  uint32_t next = 0;
  for (guint i = 0; i < rec.arrivals->len; i++)
    if (arrival(i)->copy == 0) assert_int_equal(arrival(i)->seq, next++);
  assert_int_equal(next, 20000);
}

static void test_datagram_reorders(void **state) {
  (void)state;
  run_ordering(DSIM_ORDER_DATAGRAM, 0, 31);
  assert_int_equal(rec.arrivals->len, 20000);
  uint64_t inv = inversions();
  print_message("datagram: %" G_GUINT64_FORMAT " inversions in 20000 arrivals\n", inv);
  /* Sends 10 us apart with delays spread over 19 ms: most neighbours swap. */
  assert_true(inv > 1000);
}

/* A FIFO link held and released stays in order: what the hold kept
 * arrives before anything that reaches the link at the release instant. */
static void hold_all(DsimWorld *w, void *data) {
  (void)data;
  static const DsimSelector any = {DSIM_PID_NONE, NULL};
  dsim_net_cut(dsim_net_get(w), DSIM_CUT_HOLD, &any, 1, &any, 1, false, DSIM_CAUSE_SCENARIO);
}
static void release_all(DsimWorld *w, void *data) {
  (void)data;
  dsim_net_uncut(dsim_net_get(w), DSIM_CUT_HOLD, 0, DSIM_CAUSE_SCENARIO);
}

static void test_fifo_across_hold(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(32);
  DsimLinkConfig cfg = base_config();
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = MS, .b = 5 * MS};
  cfg.ordering = DSIM_ORDER_FIFO;
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 3000, 10 * DSIM_NS_PER_US, 8); /* sends until 30 ms */
  at(w, 5 * MS, hold_all, NULL);
  at(w, 20 * MS, release_all, NULL);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_true(st->held > 100);
  assert_int_equal(rec.arrivals->len, 3000);
  assert_int_equal(inversions(), 0);
  /* Nothing arrived while the hold was in force; the burst came at 20 ms. */
  guint burst = 0;
  for (guint i = 0; i < rec.arrivals->len; i++) {
    DsimTime t = arrival(i)->at;
    assert_false(t > 5 * MS && t < 20 * MS);
    if (t == 20 * MS) burst++;
  }
  assert_int_equal(burst, st->held);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- partitions */

static DsimPid spawn_chatter(DsimWorld *w, const char *group, unsigned rounds) {
  char r[16];
  g_snprintf(r, sizeof r, "%u", rounds);
  const char *argv[] = {group, r};
  return dsim_cproc_spawn(w, &chatter_class, 2, argv);
}

static bool in_a(DsimPid p) {
  return p <= 3; /* pids 1-3 chat in A, 4-6 in B */
}

static void run_partition(bool oneway) {
  rec_reset();
  DsimWorld *w = world_with_seed(33);
  DsimNet *net = dsim_net_get(w);
  for (int i = 0; i < 3; i++) spawn_chatter(w, "A", 5);
  for (int i = 0; i < 3; i++) spawn_chatter(w, "B", 5);
  DsimSelector a = {0, "A"}, b = {0, "B"};
  dsim_net_partition(net, &a, 1, &b, 1, oneway);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(net);
  /* 5 rounds x 6 senders x 6 destinations = 180 copies: 90 inside a side,
   * 90 crossing (45 each way). */
  assert_int_equal(st->sent, 180);
  assert_int_equal(st->dropped, oneway ? 45 : 90);
  assert_int_equal(st->dropped_partition, oneway ? 45 : 90);
  assert_int_equal(st->delivered, oneway ? 135 : 90);
  for (guint i = 0; i < rec.arrivals->len; i++) {
    const Arrival *x = arrival(i);
    if (oneway)
      assert_false(in_a(x->src) && !in_a(x->dst)); /* nothing A -> B */
    else
      assert_int_equal(in_a(x->src), in_a(x->dst)); /* nothing crosses */
  }
  dsim_world_free(w);
}

static void test_partition_drops_crossing_only(void **state) {
  (void)state;
  run_partition(false);
}

static void test_oneway_partition(void **state) {
  (void)state;
  run_partition(true);
}

static void partition_1_2(DsimWorld *w, void *data) {
  (void)data;
  DsimSelector a = {1, NULL}, b = {2, NULL};
  dsim_net_partition(dsim_net_get(w), &a, 1, &b, 1, false);
}
static void heal_all(DsimWorld *w, void *data) {
  (void)data;
  dsim_net_heal(dsim_net_get(w), 0);
}

/* A message in flight when a partition starts is lost on arrival; one that
 * arrives after the heal is not. */
static void test_partition_in_flight(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(34);
  DsimLinkConfig cfg = base_config();
  cfg.delay.a = cfg.delay.b = 10 * MS;
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);      /* 1 */
  spawn_sender(w, r, 2, 15 * MS, 8);  /* 2: sends at 15 and 30 ms */
  at(w, 20 * MS, partition_1_2, NULL); /* the first, in flight, arrives at 25 ms: lost */
  at(w, 28 * MS, heal_all, NULL);      /* the second is sent after: delivered at 40 ms */
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(st->dropped_partition, 1);
  assert_int_equal(rec.arrivals->len, 1);
  assert_int_equal(arrival(0)->seq, 1);
  dsim_world_free(w);
}

static void down_1_2(DsimWorld *w, void *data) {
  (void)data;
  DsimSelector a = {1, NULL}, b = {2, NULL};
  *(uint32_t *)data = dsim_net_cut(dsim_net_get(w), DSIM_CUT_LINK_DOWN, &a, 1, &b, 1, false, DSIM_CAUSE_SCENARIO);
}
static void up_one(DsimWorld *w, void *data) {
  assert_int_equal(dsim_net_uncut(dsim_net_get(w), DSIM_CUT_LINK_DOWN, *(uint32_t *)data, DSIM_CAUSE_SCENARIO), 1);
}

static void test_link_down_and_up(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(35);
  DsimPid r = spawn_receiver(w);
  DsimPid s = spawn_sender(w, r, 30, MS, 8); /* sends at 1..30 ms, arrives 1 ms later */
  DsimPid other = spawn_sender(w, r, 30, MS, 8);
  static uint32_t id;
  at(w, 10 * MS + 500 * DSIM_NS_PER_US, down_1_2, &id);
  at(w, 20 * MS + 500 * DSIM_NS_PER_US, up_one, &id);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  /* s sends at k ms (k = 1..30), arriving at k+1 ms. The link is down from
   * 10.5 to 20.5 ms: the sends at 11..20 ms are dropped when sent, and the
   * one sent at 10 ms is in flight when the link goes down and is dropped
   * when it arrives at 11 ms: 11 in all, all from s. */
  assert_int_equal(st->dropped_link_down, 11);
  assert_int_equal(st->dropped, 11);
  uint32_t from_s = 0, from_other = 0;
  for (guint i = 0; i < rec.arrivals->len; i++) {
    if (arrival(i)->src == s) from_s++;
    if (arrival(i)->src == other) from_other++;
  }
  assert_int_equal(from_s, 19);
  assert_int_equal(from_other, 30);
  assert_false(dsim_net_cut_kind(dsim_net_get(w), id, &(DsimCutKind){0}));
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- hold */

static void test_hold_release_burst(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(36);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 10, MS, 8); /* arrivals at 2..11 ms */
  at(w, 0, hold_all, NULL);
  at(w, 50 * MS, release_all, NULL);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(st->held, 10);
  assert_int_equal(rec.arrivals->len, 10);
  for (guint i = 0; i < 10; i++) {
    assert_int_equal(arrival(i)->seq, i);
    assert_int_equal(arrival(i)->at, 50 * MS);
  }
  dsim_world_free(w);
}

/* A copy that reaches a link at the very instant its hold is released
 * (its arrival was scheduled before the release, so it would run first)
 * still arrives after what the hold kept: a FIFO link stays FIFO. */
static void test_release_goes_first(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(44);
  DsimLinkConfig cfg = base_config();
  cfg.delay.a = cfg.delay.b = 10 * MS;
  cfg.ordering = DSIM_ORDER_FIFO;
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 10, MS, 8); /* sends at 1..10 ms, arrivals at 11..20 ms */
  at(w, 5 * MS, hold_all, NULL);
  at(w, 20 * MS, release_all, NULL); /* scheduled before the last arrival */
  dsim_world_run(w);
  assert_int_equal(dsim_net_stats(dsim_net_get(w))->held, 9);
  assert_int_equal(rec.arrivals->len, 10);
  for (guint i = 0; i < 10; i++) {
    assert_int_equal(arrival(i)->seq, i);
    assert_int_equal(arrival(i)->at, 20 * MS);
  }
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- bandwidth, size */

static void test_bandwidth_queues_a_burst(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(37);
  DsimLinkConfig cfg = base_config();
  cfg.bandwidth = 1000000; /* 1 MB/s: 1000 bytes take 1 ms */
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 5, 0, 1000); /* a burst of 5 at t=0 */
  dsim_world_run(w);
  assert_int_equal(rec.arrivals->len, 5);
  for (guint i = 0; i < 5; i++) {
    assert_int_equal(arrival(i)->seq, i);
    /* transmitted one after the other, then 1 ms of delay each */
    assert_int_equal(arrival(i)->at, (DsimTime)(i + 1) * MS + MS);
  }
  dsim_world_free(w);
}

static void test_size_limit(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(38);
  DsimLinkConfig cfg = base_config();
  cfg.max_size = 100;
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 3, 0, 100); /* at the limit: delivered */
  spawn_sender(w, r, 4, 0, 101); /* above: dropped */
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(st->dropped_too_big, 4);
  assert_int_equal(rec.arrivals->len, 3);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- rules */

typedef struct {
  uint64_t seen;
  DsimRuleAction act;  /* returned when seq % every == phase */
  uint32_t every, phase;
} RuleData;

static bool every_nth(DsimNet *net, const DsimMessage *m, void *data, DsimRuleAction *action) {
  (void)net;
  RuleData *d = data;
  d->seen++;
  const unsigned char *b = dsim_payload_data(dsim_message_payload(m));
  uint32_t seq = (uint32_t)b[0] | (uint32_t)b[1] << 8;
  if (seq % d->every != d->phase) return false;
  *action = d->act;
  return true;
}

static void test_rule_drops_every_third(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(39);
  DsimNet *net = dsim_net_get(w);
  DsimPid r = spawn_receiver(w);
  DsimPid s = spawn_sender(w, r, 30, MS, 8);
  RuleData drop3 = {.act = {.drop = true}, .every = 3, .phase = 2};
  RuleData later = {.act = {.drop = true}, .every = 1, .phase = 1}; /* never decides */
  DsimSelector from = {s, NULL}, to = {r, NULL};
  dsim_net_add_rule(net, &from, &to, "every third", every_nth, &drop3, NULL);
  dsim_net_add_rule(net, NULL, NULL, "sees the rest", every_nth, &later, NULL);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(net);
  assert_int_equal(st->dropped_rule, 10);
  assert_int_equal(rec.arrivals->len, 20);
  for (guint i = 0; i < rec.arrivals->len; i++) assert_int_not_equal(arrival(i)->seq % 3, 2);
  assert_int_equal(drop3.seen, 30);
  assert_int_equal(later.seen, 20); /* the first rule decided the others */
  dsim_world_free(w);
}

static void test_rule_delay_duplicate_corrupt(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(40);
  DsimNet *net = dsim_net_get(w);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 1, 0, 64);
  RuleData d = {.act = {.delay = 5 * MS, .duplicate = 2, .corrupt = true}, .every = 1, .phase = 0};
  uint32_t id = dsim_net_add_rule(net, NULL, NULL, NULL, every_nth, &d, NULL);
  dsim_world_run(w);
  assert_int_equal(rec.arrivals->len, 3);
  unsigned char sent[64];
  fill_payload(sent, 0, 64);
  for (guint i = 0; i < 3; i++) {
    const Arrival *a = arrival(i);
    assert_int_equal(a->at, 6 * MS); /* 1 ms + the rule's 5 ms, for every copy */
    /* Bits that differ: in the sequence number, plus in the filler (which
     * the receiver compared). */
    uint32_t bits = a->flipped;
    for (int k = 0; k < 4; k++) bits += (uint32_t)__builtin_popcount(sent[k] ^ a->head[k]);
    if (a->copy == 0) {
      /* The rule corrupts the copy it saw (one bit: corrupt_bits 1)... */
      assert_true(a->corrupted);
      assert_int_equal(bits, 1);
    } else {
      /* ...and the duplicates are copies of what was sent, intact. */
      assert_false(a->corrupted);
      assert_int_equal(bits, 0);
    }
  }
  const DsimNetStats *st = dsim_net_stats(net);
  assert_int_equal(st->duplicated, 2);
  assert_int_equal(st->delayed, 3);
  assert_int_equal(st->corrupted, 1);
  assert_true(dsim_net_remove_rule(net, id));
  assert_false(dsim_net_remove_rule(net, id));
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- corruption */

/* Corruption never writes the shared payload: the sender's copy, the other
 * destination's copy and the duplicates keep the bytes that were sent. */
typedef struct {
  DsimPayload *sent;
  DsimPid dsts[2];
} Broadcast;
static Broadcast bcast;

static void bcast_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)self, (void)state, (void)argc, (void)argv;
  DsimPid me;
  DsimChannel *ch = dsim_channel_open(w, NULL);
  dsim_channel_join(ch, "senders", &me, NULL);
  assert_true(dsim_channel_send_to(ch, bcast.dsts, 2, bcast.sent, NULL));
}
static const DsimProcClass bcast_class = {"bcast", 0, bcast_start, NULL, NULL, NULL};

static void test_corruption_is_copy_on_write(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(41);
  DsimNet *net = dsim_net_get(w);
  DsimPid r1 = spawn_receiver(w), r2 = spawn_receiver(w);
  unsigned char bytes[32];
  fill_payload(bytes, 7, sizeof bytes);
  bcast.sent = dsim_payload_new(bytes, sizeof bytes, NULL);
  bcast.dsts[0] = r1;
  bcast.dsts[1] = r2;
  dsim_cproc_spawn(w, &bcast_class, 0, NULL);
  DsimLinkConfig cfg = {0};
  cfg.fields = DSIM_LINK_CORRUPT | DSIM_LINK_CORRUPT_BITS | DSIM_LINK_DUPLICATE;
  cfg.corrupt = 1.0;
  cfg.corrupt_bits = 5;
  cfg.duplicate = 1.0;
  DsimSelector any = {DSIM_PID_NONE, NULL}, to = {r1, NULL};
  assert_true(dsim_net_add_link(net, &any, &to, &cfg, DSIM_CAUSE_SCENARIO, NULL));
  dsim_world_run(w);
  assert_memory_equal(dsim_payload_data(bcast.sent), bytes, sizeof bytes);
  assert_int_equal(dsim_payload_refcount(bcast.sent), 1); /* every copy let go */
  assert_int_equal(rec.arrivals->len, 3);                  /* r1 twice (dup), r2 once */
  for (guint i = 0; i < 3; i++) {
    const Arrival *a = arrival(i);
    if (a->dst == r2) {
      assert_false(a->corrupted);
      assert_memory_equal(a->head, bytes, 16);
      assert_int_equal(a->flipped, 0);
    } else {
      /* corrupt = 1 applies to each copy on the link, independently */
      assert_true(a->corrupted);
      uint32_t bits = a->flipped;
      for (int k = 0; k < 4; k++) bits += (uint32_t)__builtin_popcount(bytes[k] ^ a->head[k]);
      assert_int_equal(bits, 5);
    }
  }
  dsim_payload_unref(bcast.sent);
  dsim_world_free(w);
}

/* An empty payload has no bit to flip: it is delivered as is. */
static void test_corrupting_nothing(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(42);
  DsimLinkConfig cfg = base_config();
  cfg.corrupt = 1.0;
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  bcast.sent = dsim_payload_new(NULL, 0, NULL);
  bcast.dsts[0] = bcast.dsts[1] = r;
  dsim_cproc_spawn(w, &bcast_class, 0, NULL);
  dsim_world_run(w);
  assert_int_equal(rec.arrivals->len, 2);
  assert_false(arrival(0)->corrupted);
  assert_int_equal(dsim_net_stats(dsim_net_get(w))->corrupted, 0);
  dsim_payload_unref(bcast.sent);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- the fault-free path */

/* A configuration that injects nothing takes the general path (a link rule
 * exists) but must draw and decide exactly as the fault-free path: the
 * same arrivals at the same times. */
static GArray *arrivals_with(bool rule) {
  rec_reset();
  DsimWorld *w = world_with_seed(43);
  DsimLinkConfig cfg = base_config();
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_LOGNORMAL, .a = 3 * MS, .shape = 0.7};
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, 2000, 50 * DSIM_NS_PER_US, 8);
  spawn_sender(w, r, 2000, 70 * DSIM_NS_PER_US, 8);
  if (rule) {
    DsimLinkConfig none = {0};
    none.fields = DSIM_LINK_LOSS | DSIM_LINK_CORRUPT;
    DsimSelector a = {2, NULL}, b = {r, NULL};
    assert_true(dsim_net_add_link(dsim_net_get(w), &a, &b, &none, DSIM_CAUSE_SCENARIO, NULL));
  }
  dsim_world_run(w);
  GArray *out = g_array_ref(rec.arrivals);
  dsim_world_free(w);
  return out;
}

static void test_no_fault_config_matches_fault_free_path(void **state) {
  (void)state;
  GArray *plain = arrivals_with(false);
  GArray *general = arrivals_with(true);
  assert_int_equal(plain->len, 4000);
  assert_int_equal(general->len, plain->len);
  for (guint i = 0; i < plain->len; i++) {
    const Arrival *a = &g_array_index(plain, Arrival, i), *b = &g_array_index(general, Arrival, i);
    assert_int_equal(a->at, b->at);
    assert_int_equal(a->src, b->src);
    assert_int_equal(a->seq, b->seq);
  }
  g_array_unref(plain);
  g_array_unref(general);
}

/* ---------------------------------------------------------------- bad arguments */

static void expect_invalid(const DsimLinkConfig *cfg, const char *needle) {
  GError *e = NULL;
  assert_false(dsim_link_config_validate(cfg, &e));
  assert_non_null(e);
  print_message("  %s\n", e->message);
  if (!strstr(e->message, needle)) fail_msg("'%s' does not mention '%s'", e->message, needle);
  g_error_free(e);
}

static void test_bad_link_config(void **state) {
  (void)state;
  DsimLinkConfig c = base_config();
  c.loss = -0.1;
  expect_invalid(&c, "loss");
  c = base_config();
  c.loss = 1.5;
  expect_invalid(&c, "loss");
  c = base_config();
  c.duplicate = 2;
  expect_invalid(&c, "duplicate");
  c = base_config();
  c.corrupt = -1;
  expect_invalid(&c, "corrupt");
  c = base_config();
  c.copies = 65;
  expect_invalid(&c, "copies");
  c = base_config();
  c.corrupt_bits = 100;
  expect_invalid(&c, "corrupt_bits");
  c = base_config();
  c.delay.kind = (DsimDelayKind)42;
  expect_invalid(&c, "unknown kind");
  c = base_config();
  c.delay = (DsimDelay){.kind = DSIM_DELAY_NORMAL, .a = MS, .b = -1};
  expect_invalid(&c, "sd");
  c = base_config();
  c.delay = (DsimDelay){.kind = DSIM_DELAY_PARETO, .a = MS, .shape = 0};
  expect_invalid(&c, "alpha");
  c = base_config();
  c.delay = (DsimDelay){.kind = DSIM_DELAY_LOGNORMAL, .a = 0, .shape = 1};
  expect_invalid(&c, "median");
  c = base_config();
  c.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = 2 * MS, .b = MS};
  expect_invalid(&c, "min <= max");
  c = base_config();
  c.delay.min = -5;
  expect_invalid(&c, "min");
  /* Nothing invalid reaches the net. */
  DsimWorld *w = world_with_seed(1);
  c = base_config();
  c.loss = 7;
  GError *e = NULL;
  assert_false(dsim_net_set_defaults(dsim_net_get(w), &c, &e));
  g_clear_error(&e);
  assert_true(dsim_net_defaults(dsim_net_get(w))->loss == 0);
  DsimSelector a = {1, NULL};
  assert_int_equal(dsim_net_add_link(dsim_net_get(w), &a, &a, &c, DSIM_CAUSE_SCENARIO, &e), 0);
  assert_non_null(e);
  g_clear_error(&e);
  dsim_world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_never_reorders),
      cmocka_unit_test(test_datagram_reorders),
      cmocka_unit_test(test_fifo_across_hold),
      cmocka_unit_test(test_partition_drops_crossing_only),
      cmocka_unit_test(test_oneway_partition),
      cmocka_unit_test(test_partition_in_flight),
      cmocka_unit_test(test_link_down_and_up),
      cmocka_unit_test(test_hold_release_burst),
      cmocka_unit_test(test_release_goes_first),
      cmocka_unit_test(test_bandwidth_queues_a_burst),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_rule_drops_every_third),
      cmocka_unit_test(test_rule_delay_duplicate_corrupt),
      cmocka_unit_test(test_corruption_is_copy_on_write),
      cmocka_unit_test(test_corrupting_nothing),
      cmocka_unit_test(test_no_fault_config_matches_fault_free_path),
      cmocka_unit_test(test_bad_link_config),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  rec_reset();
  g_array_unref(rec.arrivals);
  g_array_unref(rec.timer_tags);
  g_array_unref(rec.timer_times);
  return r;
}
