/* test_faults_stats.c — the fault model is statistically honest: observed
 * loss, duplication and corruption rates over 200,000 messages, and delay
 * samples of every distribution (with and without a minimum), match what
 * the configuration says.
 *
 * Tolerances. Every test uses a fixed seed (printed), so each is
 * deterministic; the bounds say how far from the truth a correct
 * implementation may land, and were chosen so that a correct one fails
 * with negligible probability while a wrong formula (an off-by-one in the
 * threshold, a missed truncation, the wrong parameter) fails for sure:
 *  - counts: an observed count X of a Binomial(n, p) must satisfy
 *    |X - np| <= 5 sqrt(np(1-p)), a 5-sigma bound (two-sided false-alarm
 *    probability about 6e-7);
 *  - means: |mean - mu| <= 5 sd / sqrt(n), with the distribution's own sd;
 *  - shape: the Kolmogorov-Smirnov statistic D_n = sup |F_n(x) - F(x)|
 *    must stay below the asymptotic critical value at alpha = 0.001,
 *    sqrt(-ln(alpha/2) / 2) / sqrt(n) = 1.9495 / sqrt(n) (0.00616 for
 *    n = 100,000).
 * The reference CDFs below are written independently of the sampler (erfc,
 * exp, pow), so a shared mistake cannot cancel out. */
#include <math.h>

#include "faults_util.h"

#define N_MESSAGES 200000u
#define N_SAMPLES 100000u
#define SIGMAS 5.0
#define KS_COEFF 1.9495 /* alpha = 0.001 */

static void check_binomial(const char *what, uint64_t observed, double n, double p) {
  double mean = n * p, sd = sqrt(n * p * (1 - p));
  double dev = fabs((double)observed - mean);
  print_message("%s: observed %" G_GUINT64_FORMAT ", expected %.1f +- %.1f (bound %.1f)\n", what, observed, mean,
                sd, SIGMAS * sd);
  if (dev > SIGMAS * sd) fail_msg("%s: %" G_GUINT64_FORMAT " is %.1f sd from %.1f", what, observed, dev / sd, mean);
}

/* ---------------------------------------------------------------- message faults */

/* One sender sends N_MESSAGES 16-byte messages at t=0 to one receiver over
 * a link configured by cfg. Returns the world (run to the end). */
static DsimWorld *run_traffic(uint64_t seed, const DsimLinkConfig *cfg) {
  rec_reset();
  DsimWorld *w = world_with_seed(seed);
  set_defaults(w, cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, N_MESSAGES, 0, 16);
  assert_int_equal(dsim_world_run(w), DSIM_END_QUIESCENT);
  return w;
}

static void test_loss_rate(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.loss = 0.1;
  DsimWorld *w = run_traffic(11, &cfg);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(st->sent, N_MESSAGES);
  check_binomial("lost", st->dropped_loss, N_MESSAGES, 0.1);
  assert_int_equal(st->dropped, st->dropped_loss);
  assert_int_equal(st->delivered, N_MESSAGES - st->dropped_loss);
  assert_int_equal(rec.arrivals->len, st->delivered);
  dsim_world_free(w);
}

static void test_duplication_rate(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.duplicate = 0.05;
  cfg.copies = 2;
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = DSIM_NS_PER_MS, .b = 10 * DSIM_NS_PER_MS};
  DsimWorld *w = run_traffic(12, &cfg);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  /* Every duplication makes exactly `copies` extra copies. */
  assert_int_equal(st->duplicated % 2, 0);
  check_binomial("duplicated sends", st->duplicated / 2, N_MESSAGES, 0.05);
  assert_int_equal(st->delivered, N_MESSAGES + st->duplicated);
  /* Each copy has its own delay: the two extra copies of one send do not
   * all arrive at the same time as the original. */
  GHashTable *first = g_hash_table_new(g_direct_hash, g_direct_equal);
  uint64_t copies = 0, differing = 0;
  for (guint i = 0; i < rec.arrivals->len; i++) {
    const Arrival *a = arrival(i);
    if (a->copy == 0) g_hash_table_insert(first, GUINT_TO_POINTER(a->seq + 1), (gpointer)(intptr_t)a->at);
  }
  for (guint i = 0; i < rec.arrivals->len; i++) {
    const Arrival *a = arrival(i);
    if (a->copy == 0) continue;
    assert_true(a->copy <= 2);
    copies++;
    DsimTime orig = (DsimTime)(intptr_t)g_hash_table_lookup(first, GUINT_TO_POINTER(a->seq + 1));
    if (orig != a->at) differing++;
  }
  g_hash_table_unref(first);
  assert_int_equal(copies, st->duplicated);
  /* Delays are uniform over 9 ms of nanoseconds: equal arrival times are
   * all but impossible. */
  assert_true(differing >= copies - 2);
  dsim_world_free(w);
}

static void test_corruption_rate(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.corrupt = 0.02;
  cfg.corrupt_bits = 3;
  DsimWorld *w = run_traffic(13, &cfg);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  check_binomial("corrupted", st->corrupted, N_MESSAGES, 0.02);
  /* With a constant delay the copies arrive in the order sent, so the i-th
   * arrival is message i: compare its bytes with what was sent. */
  uint64_t flagged = 0;
  for (guint i = 0; i < rec.arrivals->len; i++) {
    const Arrival *a = arrival(i);
    unsigned char sent[16];
    fill_payload(sent, i, 16);
    uint32_t bits = 0;
    for (int k = 0; k < 16; k++) bits += (uint32_t)__builtin_popcount(sent[k] ^ a->head[k]);
    if (a->corrupted) {
      flagged++;
      assert_int_equal(bits, 3); /* exactly corrupt_bits distinct bits */
    } else {
      assert_int_equal(bits, 0);
    }
  }
  assert_int_equal(flagged, st->corrupted);
  dsim_world_free(w);
}

/* All three at once: each applies to what the one before left. */
static void test_combined_rates(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.loss = 0.2;
  cfg.duplicate = 0.1;
  cfg.corrupt = 0.05;
  DsimWorld *w = run_traffic(14, &cfg);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  check_binomial("lost", st->dropped_loss, N_MESSAGES, 0.2);
  double survivors = (double)(N_MESSAGES - st->dropped_loss);
  check_binomial("duplicated", st->duplicated, survivors, 0.1);
  check_binomial("corrupted", st->corrupted, survivors + (double)st->duplicated, 0.05);
  assert_int_equal(st->delivered, survivors + (double)st->duplicated);
  dsim_world_free(w);
}

/* A link rule's loss applies to its link only. */
static void test_loss_per_link(void **state) {
  (void)state;
  rec_reset();
  DsimWorld *w = world_with_seed(15);
  DsimPid r = spawn_receiver(w);
  DsimPid lossy = spawn_sender(w, r, N_MESSAGES / 2, 0, 16);
  DsimPid clean = spawn_sender(w, r, N_MESSAGES / 2, 0, 16);
  DsimLinkConfig cfg = {0};
  cfg.fields = DSIM_LINK_LOSS;
  cfg.loss = 0.3;
  DsimSelector from = {lossy, NULL}, to = {r, NULL};
  assert_true(dsim_net_set_link(dsim_net_get(w), &from, &to, &cfg, NULL));
  dsim_world_run(w);
  uint64_t from_lossy = 0, from_clean = 0;
  for (guint i = 0; i < rec.arrivals->len; i++) {
    if (arrival(i)->src == lossy) from_lossy++;
    if (arrival(i)->src == clean) from_clean++;
  }
  assert_int_equal(from_clean, N_MESSAGES / 2);
  check_binomial("lost on the lossy link", N_MESSAGES / 2 - from_lossy, N_MESSAGES / 2, 0.3);
  GArray *links = g_array_new(FALSE, FALSE, sizeof(DsimLinkFaults));
  dsim_net_link_faults(dsim_net_get(w), links);
  assert_int_equal(links->len, 1);
  const DsimLinkFaults *f = &g_array_index(links, DsimLinkFaults, 0);
  assert_int_equal(f->src, lossy);
  assert_int_equal(f->dst, r);
  assert_int_equal(f->count[DSIM_FAULT_LOSS], N_MESSAGES / 2 - from_lossy);
  g_array_unref(links);
  dsim_world_free(w);
}

/* ---------------------------------------------------------------- delays */

static double norm_cdf(double z) {
  return 0.5 * erfc(-z / M_SQRT2);
}

typedef struct {
  const char *name;
  DsimDelay d;                                   /* what is sampled */
  double (*cdf0)(const DsimDelay *d, double x); /* the untruncated CDF */
  double mean, sd;                               /* of the truncated distribution; sd 0: skip the mean */
} Case;

static double cdf_uniform(const DsimDelay *d, double x) {
  double lo = (double)d->a, hi = (double)d->b;
  return x <= lo ? 0 : x >= hi ? 1 : (x - lo) / (hi - lo);
}
static double cdf_normal(const DsimDelay *d, double x) {
  return norm_cdf((x - (double)d->a) / (double)d->b);
}
static double cdf_exponential(const DsimDelay *d, double x) {
  return x <= 0 ? 0 : 1 - exp(-x / (double)d->a);
}
static double cdf_lognormal(const DsimDelay *d, double x) {
  return x <= 0 ? 0 : norm_cdf(log(x / (double)d->a) / d->shape);
}
static double cdf_pareto(const DsimDelay *d, double x) {
  return x <= (double)d->a ? 0 : 1 - pow((double)d->a / x, d->shape);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The KS statistic of sorted samples against the CDF truncated below at
 * the case's min: F(x) = (F0(x) - F0(min)) / (1 - F0(min)). */
static double ks_statistic(const Case *c, const double *xs, size_t n) {
  const DsimDelay *r = &c->d;
  double f0min = c->cdf0(r, (double)r->min); /* 0 matters: the normal has mass below 0 */
  double dmax = 0;
  for (size_t i = 0; i < n; i++) {
    double f = (c->cdf0(r, xs[i]) - f0min) / (1 - f0min);
    double lo = f - (double)i / (double)n, hi = (double)(i + 1) / (double)n - f;
    if (lo > dmax) dmax = lo;
    if (hi > dmax) dmax = hi;
  }
  return dmax;
}

static void check_case(const Case *c, uint64_t seed) {
  DsimRng rng;
  dsim_rng_seed(&rng, seed);
  GError *e = NULL;
  if (!dsim_delay_validate(&c->d, &e)) fail_msg("%s: %s", c->name, e->message);
  double *xs = g_new(double, N_SAMPLES);
  double sum = 0;
  for (size_t i = 0; i < N_SAMPLES; i++) {
    DsimTime t = dsim_delay_sample(&c->d, &rng);
    assert_true(t >= c->d.min);
    assert_true(t <= DSIM_DELAY_CAP);
    xs[i] = (double)t;
    sum += xs[i];
  }
  qsort(xs, N_SAMPLES, sizeof *xs, cmp_double);
  double mean = sum / N_SAMPLES;
  double d = ks_statistic(c, xs, N_SAMPLES);
  double crit = KS_COEFF / sqrt((double)N_SAMPLES);
  print_message("%-28s seed %" G_GUINT64_FORMAT ": mean %.6g (expected %.6g), KS D = %.5f (critical %.5f)\n", c->name,
                seed, mean, c->mean, d, crit);
  if (c->sd > 0) {
    double bound = SIGMAS * c->sd / sqrt((double)N_SAMPLES);
    if (fabs(mean - c->mean) > bound)
      fail_msg("%s: mean %.6g is not within %.6g of %.6g", c->name, mean, bound, c->mean);
  }
  if (d > crit) fail_msg("%s: KS statistic %.5f above the critical value %.5f", c->name, d, crit);
  g_free(xs);
}

#define MS 1e6 /* ns */

/* Mean and sd of a normal(mu, s) truncated below at m. */
static void truncnorm_moments(double mu, double s, double m, double *mean, double *sd) {
  double a = (m - mu) / s;
  double phi = exp(-a * a / 2) / sqrt(2 * M_PI), tail = 1 - norm_cdf(a);
  double lambda = phi / tail;
  *mean = mu + s * lambda;
  *sd = s * sqrt(1 + a * lambda - lambda * lambda);
}

static void test_delay_distributions(void **state) {
  (void)state;
  double tm, ts, tm0, ts0;
  truncnorm_moments(10 * MS, 5 * MS, 8 * MS, &tm, &ts);
  truncnorm_moments(2 * MS, 3 * MS, 0, &tm0, &ts0);
  /* Log-normal moments: mean = m e^(s^2/2), var = (e^(s^2) - 1) m^2 e^(s^2). */
  double ln_s = 0.5, ln_mean = 20 * MS * exp(ln_s * ln_s / 2);
  double ln_sd = sqrt((exp(ln_s * ln_s) - 1) * exp(ln_s * ln_s)) * 20 * MS;
  Case cases[] = {
      {"uniform [1ms, 10ms)", {DSIM_DELAY_UNIFORM, (DsimTime)MS, (DsimTime)(10 * MS), 0, 0}, cdf_uniform,
       5.5 * MS, 9 * MS / sqrt(12)},
      /* Truncating a uniform at 4 ms gives the uniform on [4ms, 10ms). */
      {"uniform [1ms, 10ms) min 4ms", {DSIM_DELAY_UNIFORM, (DsimTime)MS, (DsimTime)(10 * MS), 0, (DsimTime)(4 * MS)},
       cdf_uniform, 7 * MS, 6 * MS / sqrt(12)},
      {"normal(10ms, 2ms)", {DSIM_DELAY_NORMAL, (DsimTime)(10 * MS), (DsimTime)(2 * MS), 0, 0}, cdf_normal, 10 * MS,
       2 * MS},
      /* Much of this one lies below 0: truncation at 0 matters. */
      {"normal(2ms, 3ms) at 0", {DSIM_DELAY_NORMAL, (DsimTime)(2 * MS), (DsimTime)(3 * MS), 0, 0}, cdf_normal, tm0,
       ts0},
      {"normal(10ms, 5ms) min 8ms", {DSIM_DELAY_NORMAL, (DsimTime)(10 * MS), (DsimTime)(5 * MS), 0, (DsimTime)(8 * MS)},
       cdf_normal, tm, ts},
      {"exponential(5ms)", {DSIM_DELAY_EXPONENTIAL, (DsimTime)(5 * MS), 0, 0, 0}, cdf_exponential, 5 * MS, 5 * MS},
      {"exponential(5ms) min 2ms", {DSIM_DELAY_EXPONENTIAL, (DsimTime)(5 * MS), 0, 0, (DsimTime)(2 * MS)},
       cdf_exponential, 7 * MS, 5 * MS},
      {"lognormal(20ms, 0.5)", {DSIM_DELAY_LOGNORMAL, (DsimTime)(20 * MS), 0, 0.5, 0}, cdf_lognormal, ln_mean, ln_sd},
      {"lognormal(20ms, 0.5) min 25ms", {DSIM_DELAY_LOGNORMAL, (DsimTime)(20 * MS), 0, 0.5, (DsimTime)(25 * MS)},
       cdf_lognormal, 0, 0},
      /* alpha 3: finite mean 1.5 scale and variance 0.75 scale^2. */
      {"pareto(2ms, 3)", {DSIM_DELAY_PARETO, (DsimTime)(2 * MS), 0, 3.0, 0}, cdf_pareto, 3 * MS, sqrt(0.75) * 2 * MS},
      {"pareto(2ms, 3) min 4ms", {DSIM_DELAY_PARETO, (DsimTime)(2 * MS), 0, 3.0, (DsimTime)(4 * MS)}, cdf_pareto,
       6 * MS, sqrt(0.75) * 4 * MS},
      /* Heavy tail: no finite mean; the shape test still applies. */
      {"pareto(1ms, 0.8)", {DSIM_DELAY_PARETO, (DsimTime)MS, 0, 0.8, 0}, cdf_pareto, 0, 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    Case c = cases[i];
    check_case(&c, 100 + i);
  }
}

/* A wrong parameter must be caught: the same KS test rejects samples of
 * normal(10ms, 2ms) as normal(10ms, 2.2ms). This keeps the test honest
 * about its own power. */
static void test_ks_rejects_a_wrong_sd(void **state) {
  (void)state;
  Case drawn = {"normal(10ms, 2ms)", {DSIM_DELAY_NORMAL, (DsimTime)(10 * MS), (DsimTime)(2 * MS), 0, 0}, cdf_normal, 0, 0};
  Case claimed = drawn;
  claimed.d.b = (DsimTime)(2.2 * MS);
  DsimRng rng;
  dsim_rng_seed(&rng, 7);
  double *xs = g_new(double, N_SAMPLES);
  for (size_t i = 0; i < N_SAMPLES; i++) xs[i] = (double)dsim_delay_sample(&drawn.d, &rng);
  qsort(xs, N_SAMPLES, sizeof *xs, cmp_double);
  double crit = KS_COEFF / sqrt((double)N_SAMPLES);
  assert_true(ks_statistic(&drawn, xs, N_SAMPLES) <= crit);
  assert_true(ks_statistic(&claimed, xs, N_SAMPLES) > crit);
  g_free(xs);
}

/* Delays seen through the network (deliver time - send time) follow the
 * configured distribution too. */
static void test_network_delays(void **state) {
  (void)state;
  DsimLinkConfig cfg;
  dsim_link_config_init(&cfg);
  cfg.delay = (DsimDelay){.kind = DSIM_DELAY_EXPONENTIAL, .a = (DsimTime)(3 * MS), .min = (DsimTime)MS};
  rec_reset();
  DsimWorld *w = world_with_seed(21);
  set_defaults(w, &cfg);
  DsimPid r = spawn_receiver(w);
  spawn_sender(w, r, N_SAMPLES, 0, 8);
  dsim_world_run(w);
  assert_int_equal(rec.arrivals->len, N_SAMPLES);
  double *xs = g_new(double, N_SAMPLES);
  double sum = 0;
  for (guint i = 0; i < N_SAMPLES; i++) {
    xs[i] = (double)(arrival(i)->at - arrival(i)->sent);
    sum += xs[i];
  }
  qsort(xs, N_SAMPLES, sizeof *xs, cmp_double);
  Case c = {"network exponential", cfg.delay, cdf_exponential, 4 * MS, 3 * MS};
  double d = ks_statistic(&c, xs, N_SAMPLES), crit = KS_COEFF / sqrt((double)N_SAMPLES);
  print_message("network exponential(3ms) min 1ms: mean %.6g, KS D = %.5f (critical %.5f)\n", sum / N_SAMPLES, d, crit);
  assert_true(d <= crit);
  assert_true(fabs(sum / N_SAMPLES - c.mean) <= SIGMAS * c.sd / sqrt((double)N_SAMPLES));
  g_free(xs);
  dsim_world_free(w);
}

/* Each continuous sample takes exactly one draw, whatever the values (the
 * documented draw order depends on it); a constant takes none. */
static void test_one_draw_per_sample(void **state) {
  (void)state;
  const DsimDelay ds[] = {
      {DSIM_DELAY_NORMAL, (DsimTime)(2 * MS), (DsimTime)(3 * MS), 0, (DsimTime)(9 * MS)},
      {DSIM_DELAY_EXPONENTIAL, (DsimTime)MS, 0, 0, 0},
      {DSIM_DELAY_LOGNORMAL, (DsimTime)MS, 0, 2.0, (DsimTime)(50 * MS)},
      {DSIM_DELAY_PARETO, (DsimTime)MS, 0, 0.5, 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(ds); i++) {
    DsimRng a, b;
    dsim_rng_seed(&a, 3);
    dsim_rng_seed(&b, 3);
    for (int k = 0; k < 1000; k++) {
      dsim_delay_sample(&ds[i], &a);
      dsim_rng_next(&b);
    }
    assert_memory_equal(&a, &b, sizeof a);
  }
  DsimRng a, b;
  dsim_rng_seed(&a, 3);
  b = a;
  DsimDelay c = {DSIM_DELAY_CONSTANT, (DsimTime)MS, (DsimTime)MS, 0, (DsimTime)(2 * MS)};
  assert_int_equal(dsim_delay_sample(&c, &a), (DsimTime)(2 * MS)); /* max(d, min) */
  assert_memory_equal(&a, &b, sizeof a);
}

/* A minimum far out in the tail still yields samples >= min (no endless
 * rejection loop, no NaN), and huge samples are capped. */
static void test_extreme_parameters(void **state) {
  (void)state;
  DsimRng rng;
  dsim_rng_seed(&rng, 5);
  DsimDelay far = {DSIM_DELAY_NORMAL, (DsimTime)MS, (DsimTime)MS, 0, (DsimTime)(100 * MS)}; /* 99 sd out */
  DsimDelay heavy = {DSIM_DELAY_PARETO, 1000, 0, 0.01, 0};
  for (int i = 0; i < 10000; i++) {
    DsimTime t = dsim_delay_sample(&far, &rng);
    assert_true(t >= (DsimTime)(100 * MS) && t < (DsimTime)(101 * MS));
    t = dsim_delay_sample(&heavy, &rng);
    assert_true(t >= 1000 && t <= DSIM_DELAY_CAP);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loss_rate),           cmocka_unit_test(test_duplication_rate),
      cmocka_unit_test(test_corruption_rate),     cmocka_unit_test(test_combined_rates),
      cmocka_unit_test(test_loss_per_link),       cmocka_unit_test(test_delay_distributions),
      cmocka_unit_test(test_ks_rejects_a_wrong_sd), cmocka_unit_test(test_network_delays),
      cmocka_unit_test(test_one_draw_per_sample), cmocka_unit_test(test_extreme_parameters),
  };
  int r = cmocka_run_group_tests(tests, NULL, NULL);
  rec_reset();
  g_array_unref(rec.arrivals);
  g_array_unref(rec.timer_tags);
  g_array_unref(rec.timer_times);
  return r;
}
