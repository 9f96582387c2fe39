/* test_net.c — the network model: loss and duplication rates (statistical,
 * fixed seeds, bounds stated), delay ranges, per-link rules, validation,
 * and the independence of each sender's fault stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dsim/channel.h"
#include "test_util.h"

/* ---------------------------------------------------------------- processes */

/* A sink counts what it gets; a source sends `count` messages to pid 1 at
 * start, one every microsecond (so that arrival order shows reordering). */
typedef struct {
  uint64_t got;
  uint64_t by_copy[3];
  DsimTime min_latency, max_latency;
  double latency_sum;
  uint64_t last_seq;
  uint64_t reordered;
} Sink;

static Sink sink_stats; /* one sink per test world; reset by each test */

static void sink_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)state, (void)argc, (void)argv;
  DsimPid pid;
  assert_true(dsim_channel_join(dsim_channel_open(w, NULL), "sink", &pid, NULL));
  assert_int_equal(pid, self);
}

static void sink_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)self, (void)state;
  Sink *s = &sink_stats;
  DsimTime lat = dsim_world_now(w) - dsim_message_sent_at(m);
  if (s->got == 0 || lat < s->min_latency) s->min_latency = lat;
  if (lat > s->max_latency) s->max_latency = lat;
  s->latency_sum += (double)lat;
  s->got++;
  s->by_copy[MIN(dsim_message_copy(m), 2)]++;
  uint64_t seq;
  memcpy(&seq, dsim_payload_data(dsim_message_payload(m)), sizeof seq);
  if (seq < s->last_seq) s->reordered++;
  s->last_seq = seq;
}

static const DsimProcClass sink_class = {
    .name = "sink", .start = sink_start, .message = sink_message};

typedef struct {
  uint64_t next, count;
  DsimChannel *ch;
} Source;

static void source_send(DsimWorld *w, Source *s) {
  DsimPid sink = 1;
  DsimPayload *p = dsim_payload_new(&s->next, sizeof s->next, NULL);
  assert_true(dsim_channel_send_to(s->ch, &sink, 1, p, NULL));
  dsim_payload_unref(p);
  if (++s->next < s->count) dsim_cproc_timer(w, DSIM_NS_PER_US, 0);
}

static void source_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)self;
  Source *s = state;
  s->count = argc ? strtoull(argv[0], NULL, 10) : 1;
  s->ch = dsim_channel_open(w, NULL);
  DsimPid pid;
  assert_true(dsim_channel_join(s->ch, argc > 1 ? argv[1] : "source", &pid, NULL));
  source_send(w, s);
}

static void source_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)self, (void)tag;
  source_send(w, state);
}

static const DsimProcClass source_class = {.name = "source",
                                           .state_size = sizeof(Source),
                                           .start = source_start,
                                           .timer = source_timer};

static DsimWorld *make_world(uint64_t seed, const DsimLinkConfig *cfg) {
  DsimWorldConfig wc = {.seed = seed, .until = DSIM_TIME_NEVER};
  DsimWorld *w = dsim_world_new(&wc);
  memset(&sink_stats, 0, sizeof sink_stats);
  if (cfg) assert_true(dsim_net_set_defaults(dsim_net_get(w), cfg, NULL));
  dsim_cproc_spawn(w, &sink_class, 0, NULL);
  return w;
}

static void spawn_source(DsimWorld *w, uint64_t count, const char *group) {
  char n[32];
  g_snprintf(n, sizeof n, "%" G_GUINT64_FORMAT, count);
  const char *argv[] = {n, group};
  dsim_cproc_spawn(w, &source_class, group ? 2 : 1, argv);
}

/* |observed - n p| must stay within 5 standard deviations of a binomial:
 * a correct generator fails this with probability below 1e-6, a wrong rate
 * (off by 1% of p at n = 200,000) fails it every time. */
static void assert_binomial(uint64_t observed, uint64_t n, double p) {
  double mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));
  double z = ((double)observed - mean) / sd;
  if (fabs(z) > 5.0)
    fail_msg("observed %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ", expected %.0f +- %.0f (z=%.2f)",
             observed, n, mean, sd, z);
}

/* ---------------------------------------------------------------- rates */

static void loss_rate(void **state) {
  (void)state;
  const uint64_t N = 200000;
  const double probs[] = {0.01, 0.2, 0.5};
  for (size_t i = 0; i < G_N_ELEMENTS(probs); i++) {
    DsimLinkConfig cfg;
    dsim_link_config_init(&cfg);
    cfg.loss = probs[i];
    DsimWorld *w = make_world(11 + i, &cfg);
    spawn_source(w, N, NULL);
    dsim_world_run(w);
    const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
    assert_int_equal(st->sent, N);
    assert_int_equal(st->dropped, st->dropped_loss);
    assert_int_equal(st->delivered + st->dropped, N);
    assert_int_equal(sink_stats.got, st->delivered);
    assert_binomial(st->dropped_loss, N, probs[i]);
    dsim_world_free(w);
  }
}

static void duplication_rate(void **state) {
  (void)state;
  const uint64_t N = 200000;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.duplicate = 0.1;
  cfg.loss = 0.25;
  DsimWorld *w = make_world(5, &cfg);
  spawn_source(w, N, NULL);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  /* A copy that survives loss is duplicated with probability 0.1. */
  uint64_t survived = N - st->dropped_loss;
  assert_binomial(st->dropped_loss, N, 0.25);
  assert_binomial(st->duplicated, survived, 0.1);
  assert_int_equal(sink_stats.by_copy[0], survived);
  assert_int_equal(sink_stats.by_copy[1], st->duplicated);
  assert_int_equal(st->delivered, survived + st->duplicated);
  dsim_world_free(w);
}

static void certain_and_impossible(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.loss = 1.0;
  DsimWorld *w = make_world(1, &cfg);
  spawn_source(w, 1000, NULL);
  dsim_world_run(w);
  assert_int_equal(dsim_net_stats(dsim_net_get(w))->dropped_loss, 1000);
  dsim_world_free(w);
  cfg.loss = 0.0;
  cfg.duplicate = 1.0;
  w = make_world(1, &cfg);
  spawn_source(w, 1000, NULL);
  dsim_world_run(w);
  assert_int_equal(dsim_net_stats(dsim_net_get(w))->duplicated, 1000);
  assert_int_equal(sink_stats.got, 2000);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- delays */

static void constant_delay_is_exact(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_CONSTANT, .a = 3 * DSIM_NS_PER_MS, .b = 3 * DSIM_NS_PER_MS};
  DsimWorld *w = make_world(1, &cfg);
  spawn_source(w, 1000, NULL);
  dsim_world_run(w);
  assert_int_equal(sink_stats.min_latency, 3 * DSIM_NS_PER_MS);
  assert_int_equal(sink_stats.max_latency, 3 * DSIM_NS_PER_MS);
  assert_int_equal(sink_stats.reordered, 0);
  dsim_world_free(w);
  /* The default is 1 ms. */
  w = make_world(1, NULL);
  spawn_source(w, 10, NULL);
  dsim_world_run(w);
  assert_int_equal(sink_stats.max_latency, DSIM_NS_PER_MS);
  dsim_world_free(w);
}

static void uniform_delay_range_mean_and_reordering(void **state) {
  (void)state;
  const uint64_t N = 100000;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = 1 * DSIM_NS_PER_MS, .b = 5 * DSIM_NS_PER_MS};
  DsimWorld *w = make_world(9, &cfg);
  spawn_source(w, N, NULL);
  dsim_world_run(w);
  assert_true(sink_stats.min_latency >= 1 * DSIM_NS_PER_MS);
  assert_true(sink_stats.max_latency < 5 * DSIM_NS_PER_MS);
  /* mean of U[1ms, 5ms) is 3 ms; sd of one sample 4/sqrt(12) ms = 1.155 ms,
   * of the mean over 1e5 samples 3.65 us: allow 5 sd = 18 us. */
  double mean = sink_stats.latency_sum / (double)sink_stats.got;
  assert_true(fabs(mean - 3e6) < 18.3e3);
  /* Messages sent 1 us apart with delays spread over 4 ms overtake each
   * other: datagram semantics. */
  assert_true(sink_stats.reordered > N / 10);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- rules */

static void link_rules_by_pid_and_group(void **state) {
  (void)state;
  DsimWorld *w = make_world(1, NULL);
  DsimNet *net = dsim_net_get(w);
  spawn_source(w, 1, "a"); /* pid 2 */
  spawn_source(w, 1, "b"); /* pid 3 */
  dsim_world_run(w);       /* everyone has joined */
  DsimLinkConfig lossy;
  memset(&lossy, 0, sizeof lossy);
  lossy.fields = DSIM_LINK_LOSS;
  lossy.loss = 0.5;
  DsimSelector from_a = {.group = "a"}, to_sink = {.group = "sink"}, from3 = {.pid = 3}, to1 = {.pid = 1};
  assert_true(dsim_net_set_link(net, &from_a, &to_sink, &lossy, NULL));
  DsimLinkConfig slow;
  memset(&slow, 0, sizeof slow);
  slow.fields = DSIM_LINK_DELAY;
  slow.delay = (DsimDelay){.kind = DSIM_DELAY_CONSTANT, .a = 7, .b = 7};
  assert_true(dsim_net_set_link(net, &from3, &to1, &slow, NULL));
  DsimLinkConfig c;
  dsim_net_link_config(net, 2, 1, &c);
  assert_true(c.loss == 0.5);
  assert_int_equal(c.delay.a, DSIM_NS_PER_MS); /* not set by the rule: default */
  dsim_net_link_config(net, 3, 1, &c);
  assert_true(c.loss == 0.0);
  assert_int_equal(c.delay.a, 7);
  dsim_net_link_config(net, 1, 2, &c); /* other direction: untouched */
  assert_true(c.loss == 0.0);
  /* A later rule overrides an earlier one field by field. */
  lossy.loss = 0.1;
  assert_true(dsim_net_set_link(net, &from_a, &to1, &lossy, NULL));
  dsim_net_link_config(net, 2, 1, &c);
  assert_true(c.loss == 0.1);
  char *json = dsim_net_config_json(net);
  assert_string_equal(json,
                      "{\"delay\":[\"constant\",1000000],\"loss\":0,\"duplicate\":0,\"links\":["
                      "{\"from\":\"a\",\"to\":\"sink\",\"link\":{\"loss\":0.5}},"
                      "{\"from\":3,\"to\":1,\"link\":{\"delay\":[\"constant\",7]}},"
                      "{\"from\":\"a\",\"to\":1,\"link\":{\"loss\":0.1}}]}");
  g_free(json);
  dsim_world_free(w);
}

static void invalid_configs_name_the_field(void **state) {
  (void)state;
  DsimWorld *w = dsim_world_new(NULL);
  DsimNet *net = dsim_net_get(w);
  DsimLinkConfig c;
  GError *e = NULL;
  dsim_link_config_init(&c);
  c.loss = -0.1;
  assert_false(dsim_net_set_defaults(net, &c, &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID);
  assert_contains(e->message, "loss must be a probability between 0 and 1");
  g_clear_error(&e);
  dsim_link_config_init(&c);
  c.duplicate = 1.5;
  assert_false(dsim_net_set_defaults(net, &c, &e));
  assert_contains(e->message, "duplicate");
  g_clear_error(&e);
  dsim_link_config_init(&c);
  c.duplicate = NAN;
  assert_false(dsim_net_set_defaults(net, &c, &e));
  g_clear_error(&e);
  dsim_link_config_init(&c);
  c.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = 5, .b = 1};
  assert_false(dsim_net_set_defaults(net, &c, &e));
  assert_contains(e->message, "min <= max");
  g_clear_error(&e);
  c.delay = (DsimDelay){.kind = DSIM_DELAY_CONSTANT, .a = -5, .b = -5};
  assert_false(dsim_net_set_defaults(net, &c, &e));
  assert_contains(e->message, "must be between 0 and 2^53 ns");
  g_clear_error(&e);
  /* The defaults did not change. */
  assert_true(dsim_net_defaults(net)->loss == 0.0);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- independence */

/* The fate of pid 2's messages is drawn from pid 2's own stream: a third
 * process sending a lot of traffic does not change which of them arrive. */
typedef struct {
  uint64_t bits[8]; /* which of 500 sequence numbers from pid 2 arrived */
} Arrivals;
static Arrivals arrivals;

static void marking_sink(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w, (void)self, (void)state;
  if (dsim_message_src(m) != 2) return;
  uint64_t seq;
  memcpy(&seq, dsim_payload_data(dsim_message_payload(m)), sizeof seq);
  arrivals.bits[seq / 64] |= UINT64_C(1) << (seq % 64);
}

static const DsimProcClass marking_sink_class = {
    .name = "marking_sink", .start = sink_start, .message = marking_sink};

static Arrivals run_marked(bool with_noise) {
  DsimWorldConfig wc = {.seed = 77, .until = DSIM_TIME_NEVER};
  DsimWorld *w = dsim_world_new(&wc);
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.loss = 0.3;
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = 1000, .b = 900000};
  assert_true(dsim_net_set_defaults(dsim_net_get(w), &cfg, NULL));
  memset(&arrivals, 0, sizeof arrivals);
  dsim_cproc_spawn(w, &marking_sink_class, 0, NULL);
  spawn_source(w, 500, "a");
  if (with_noise) spawn_source(w, 5000, "noise");
  dsim_world_run(w);
  dsim_world_free(w);
  return arrivals;
}

static void fault_streams_are_per_sender(void **state) {
  (void)state;
  Arrivals quiet = run_marked(false), noisy = run_marked(true);
  assert_memory_equal(quiet.bits, noisy.bits, sizeof quiet.bits);
  unsigned n = 0;
  for (int i = 0; i < 8; i++) n += (unsigned)__builtin_popcountll(quiet.bits[i]);
  assert_true(n > 300 && n < 400); /* about 70% of 500 */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(loss_rate),
      cmocka_unit_test(duplication_rate),
      cmocka_unit_test(certain_and_impossible),
      cmocka_unit_test(constant_delay_is_exact),
      cmocka_unit_test(uniform_delay_range_mean_and_reordering),
      cmocka_unit_test(link_rules_by_pid_and_group),
      cmocka_unit_test(invalid_configs_name_the_field),
      cmocka_unit_test(fault_streams_are_per_sender),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
