/* test_rng.c — the random generators: known answers, stream independence,
 * distributions of the helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "dsim/sim.h"

/* Published vector: xoshiro256** from state {1, 2, 3, 4} (the reference
 * implementation's first ten outputs, as used by rand_xoshiro's tests). */
static void xoshiro_known_answers(void **state) {
  (void)state;
  static const uint64_t expected[] = {
      11520u, 0u, 1509978240u, 1215971899390074240u, 1216172134540287360u,
      607988272756665600u, 16172922978634559625u, 8476171486693032832u,
      10595114339597558777u, 2904607092377533576u};
  DsimRng r = {{1, 2, 3, 4}};
  for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
    assert_int_equal(dsim_rng_next(&r), expected[i]);
}

/* splitmix64 from state 0 and from the benchmark seed 0x5eed. */
static void splitmix_known_answers(void **state) {
  (void)state;
  uint64_t s = 0;
  assert_int_equal(dsim_splitmix64(&s), UINT64_C(0xe220a8397b1dcdaf));
  assert_int_equal(dsim_splitmix64(&s), UINT64_C(0x6e789e6aa1b965f4));
  assert_int_equal(dsim_splitmix64(&s), UINT64_C(0x06c45d188009454f));
  assert_int_equal(dsim_splitmix64(&s), UINT64_C(0xf88bb8a8724c81ec));
  s = 0x5eed;
  assert_int_equal(dsim_splitmix64(&s), UINT64_C(0x09f1fd9d03f0a9b4));
  assert_int_equal(dsim_splitmix64(&s), UINT64_C(0x553274161bbf8475));
}

/* dsim_rng_seed is splitmix64 filling the four words. */
static void seeding_uses_splitmix(void **state) {
  (void)state;
  DsimRng r;
  dsim_rng_seed(&r, 0);
  assert_int_equal(r.s[0], UINT64_C(0xe220a8397b1dcdaf));
  assert_int_equal(r.s[3], UINT64_C(0xf88bb8a8724c81ec));
}

/* Streams are a pure function of (seed, domain, index), and distinct
 * (domain, index) pairs give unrelated sequences. */
static void streams_are_independent(void **state) {
  (void)state;
  DsimRng a, b, c, d;
  dsim_rng_stream(&a, 42, DSIM_STREAM_PROCESS, 1);
  dsim_rng_stream(&b, 42, DSIM_STREAM_PROCESS, 1);
  dsim_rng_stream(&c, 42, DSIM_STREAM_PROCESS, 2);
  dsim_rng_stream(&d, 42, DSIM_STREAM_NETWORK, 1);
  int same_ac = 0, same_ad = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = dsim_rng_next(&a);
    assert_int_equal(x, dsim_rng_next(&b));
    same_ac += x == dsim_rng_next(&c);
    same_ad += x == dsim_rng_next(&d);
  }
  assert_int_equal(same_ac, 0);
  assert_int_equal(same_ad, 0);
  /* Drawing from one stream does not move another. */
  DsimRng e, f;
  dsim_rng_stream(&e, 7, DSIM_STREAM_PROCESS, 3);
  dsim_rng_stream(&f, 7, DSIM_STREAM_PROCESS, 3);
  DsimRng other;
  dsim_rng_stream(&other, 7, DSIM_STREAM_PROCESS, 4);
  for (int i = 0; i < 100; i++) dsim_rng_next(&other);
  assert_int_equal(dsim_rng_next(&e), dsim_rng_next(&f));
  /* A different run seed changes the stream. */
  DsimRng g;
  dsim_rng_stream(&g, 8, DSIM_STREAM_PROCESS, 3);
  DsimRng h;
  dsim_rng_stream(&h, 7, DSIM_STREAM_PROCESS, 3);
  assert_int_not_equal(dsim_rng_next(&g), dsim_rng_next(&h));
}

/* below(n) is in range and unbiased: chi-square over 10 buckets, 100,000
 * draws; 9 degrees of freedom, 27.88 is the 0.999 quantile. */
static void below_is_uniform(void **state) {
  (void)state;
  DsimRng r;
  dsim_rng_seed(&r, 12345);
  enum { K = 10, N = 100000 };
  unsigned count[K] = {0};
  for (int i = 0; i < N; i++) {
    uint64_t v = dsim_rng_below(&r, K);
    assert_true(v < K);
    count[v]++;
  }
  double chi2 = 0, e = (double)N / K;
  for (int k = 0; k < K; k++) chi2 += (count[k] - e) * (count[k] - e) / e;
  assert_true(chi2 < 27.88);
  assert_int_equal(dsim_rng_below(&r, 1), 0);
  for (int i = 0; i < 1000; i++) assert_true(dsim_rng_below(&r, UINT64_MAX) < UINT64_MAX);
}

static void double_in_unit_interval(void **state) {
  (void)state;
  DsimRng r;
  dsim_rng_seed(&r, 99);
  double sum = 0;
  for (int i = 0; i < 100000; i++) {
    double d = dsim_rng_double(&r);
    assert_true(d >= 0.0 && d < 1.0);
    sum += d;
  }
  /* mean of U[0,1): 0.5, sd of the mean 0.29/sqrt(1e5) = 0.0009 */
  assert_true(fabs(sum / 100000 - 0.5) < 0.005);
}

static void probability_thresholds(void **state) {
  (void)state;
  assert_int_equal(dsim_probability_threshold(0.0), 0);
  assert_int_equal(dsim_probability_threshold(-1.0), 0);
  assert_int_equal(dsim_probability_threshold(NAN), 0);
  assert_int_equal(dsim_probability_threshold(1.0), UINT64_MAX);
  assert_int_equal(dsim_probability_threshold(0.5), UINT64_C(1) << 63);
  assert_true(dsim_probability_threshold(1e-30) >= 1); /* tiny but not never */
  DsimRng r;
  dsim_rng_seed(&r, 1);
  uint64_t before = r.s[0];
  assert_false(dsim_rng_chance(&r, 0));
  assert_true(dsim_rng_chance(&r, UINT64_MAX));
  assert_int_equal(r.s[0], before); /* certain outcomes draw nothing */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(xoshiro_known_answers), cmocka_unit_test(splitmix_known_answers),
      cmocka_unit_test(seeding_uses_splitmix), cmocka_unit_test(streams_are_independent),
      cmocka_unit_test(below_is_uniform),      cmocka_unit_test(double_in_unit_interval),
      cmocka_unit_test(probability_thresholds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
