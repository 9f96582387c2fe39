/* test_reports_histogram.c — latency percentiles: exact while small,
 * within the documented 1/128 relative error beyond, in bounded memory.
 * The random samples come from a fixed seed, printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reports_internal.h"

#define SEED 20240611u

/* splitmix64: a fixed, documented generator, so the samples are the same
 * on every machine and every GLib version. */
static guint64 next_random(guint64 *s) {
  guint64 z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static gint cmp_u64(gconstpointer a, gconstpointer b) {
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
  return x < y ? -1 : x > y;
}

/* Nearest rank over sorted samples. */
static guint64 exact_percentile(GArray *sorted, guint per_mille) {
  guint64 rank = ((guint64)sorted->len * per_mille + 999) / 1000;
  if (rank == 0) rank = 1;
  return g_array_index(sorted, guint64, rank - 1);
}

static void test_empty(void **state) {
  (void)state;
  DsimHistogram *h = dsim_histogram_new();
  assert_int_equal(dsim_histogram_count(h), 0);
  assert_int_equal(dsim_histogram_percentile(h, 500), 0);
  dsim_histogram_free(h);
}

static void test_exact_when_small(void **state) {
  (void)state;
  guint64 s = SEED;
  DsimHistogram *h = dsim_histogram_new();
  GArray *all = g_array_new(FALSE, FALSE, sizeof(guint64));
  for (int i = 0; i < DSIM_HISTOGRAM_EXACT; i++) {
    guint64 v = 1000000 + next_random(&s) % 4000000;
    dsim_histogram_add(h, v);
    g_array_append_val(all, v);
  }
  g_array_sort(all, cmp_u64);
  assert_true(dsim_histogram_is_exact(h));
  static const guint pm[] = {0, 1, 100, 500, 900, 990, 999, 1000};
  for (guint i = 0; i < G_N_ELEMENTS(pm); i++)
    assert_int_equal(dsim_histogram_percentile(h, pm[i]), exact_percentile(all, pm[i]));
  assert_int_equal(dsim_histogram_min(h), g_array_index(all, guint64, 0));
  assert_int_equal(dsim_histogram_max(h), g_array_index(all, guint64, all->len - 1));
  g_array_unref(all);
  dsim_histogram_free(h);
}

typedef struct {
  guint64 total, last_hi;
  gboolean ordered;
} Walk;

static void walk(guint64 lo, guint64 hi, guint64 count, gpointer data) {
  Walk *w = data;
  if (lo < w->last_hi || hi <= lo) w->ordered = FALSE;
  w->last_hi = hi;
  w->total += count;
}

/* Heavy-tailed samples over nine orders of magnitude. */
static void test_bounded_error_when_large(void **state) {
  (void)state;
  guint64 s = SEED;
  print_message("seed %u\n", SEED);
  DsimHistogram *h = dsim_histogram_new();
  GArray *all = g_array_new(FALSE, FALSE, sizeof(guint64));
  for (int i = 0; i < 200000; i++) {
    guint64 r = next_random(&s);
    guint64 v = (r % 1000) << (r >> 58) % 30; /* 0 .. ~5e11 */
    dsim_histogram_add(h, v);
    g_array_append_val(all, v);
  }
  g_array_sort(all, cmp_u64);
  assert_false(dsim_histogram_is_exact(h));
  assert_int_equal(dsim_histogram_count(h), 200000);
  assert_int_equal(dsim_histogram_min(h), g_array_index(all, guint64, 0));
  assert_int_equal(dsim_histogram_max(h), g_array_index(all, guint64, all->len - 1));
  for (guint pm = 0; pm <= 1000; pm += 10) {
    double want = (double)exact_percentile(all, pm), got = (double)dsim_histogram_percentile(h, pm);
    /* values below 64 have a bucket each: exact; above, within 1/128 */
    double tol = want < 64 ? 0 : want / 128.0 + 1;
    if (got < want - tol || got > want + tol) fail_msg("p%u.%u: %.0f, exact %.0f", pm / 10, pm % 10, got, want);
  }
  Walk w = {0, 0, TRUE};
  dsim_histogram_foreach(h, walk, &w);
  assert_int_equal(w.total, 200000);
  assert_true(w.ordered);
  g_array_unref(all);
  dsim_histogram_free(h);
}

/* The same samples in another order give the same answers. */
static void test_order_does_not_matter(void **state) {
  (void)state;
  DsimHistogram *a = dsim_histogram_new(), *b = dsim_histogram_new();
  for (guint64 i = 0; i < 5000; i++) {
    dsim_histogram_add(a, i * 7919 % 100003);
    dsim_histogram_add(b, (4999 - i) * 7919 % 100003);
  }
  for (guint pm = 0; pm <= 1000; pm += 50)
    assert_int_equal(dsim_histogram_percentile(a, pm), dsim_histogram_percentile(b, pm));
  dsim_histogram_free(a);
  dsim_histogram_free(b);
}

static void test_extremes(void **state) {
  (void)state;
  DsimHistogram *h = dsim_histogram_new();
  for (int i = 0; i < DSIM_HISTOGRAM_EXACT + 10; i++) dsim_histogram_add(h, i % 2 ? G_MAXUINT64 : 0);
  assert_int_equal(dsim_histogram_percentile(h, 0), 0);
  assert_int_equal(dsim_histogram_percentile(h, 1000), G_MAXUINT64);
  Walk w = {0, 0, TRUE};
  dsim_histogram_foreach(h, walk, &w);
  assert_int_equal(w.total, DSIM_HISTOGRAM_EXACT + 10);
  dsim_histogram_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_exact_when_small),
      cmocka_unit_test(test_bounded_error_when_large),
      cmocka_unit_test(test_order_does_not_matter),
      cmocka_unit_test(test_extremes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
