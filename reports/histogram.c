/* histogram.c — latency distributions in bounded memory.
 *
 * Up to DSIM_HISTOGRAM_EXACT samples are kept as they are, and percentiles
 * are exact. Past that the samples move into log-linear buckets (the idea of
 * HdrHistogram): values below 64 ns have a bucket each; above, every power
 * of two [2^k, 2^(k+1)) is split into 64 equal buckets, so a bucket is at
 * most 1/64 of its lower bound wide. A percentile is reported as the middle
 * of its bucket, clamped to the exact minimum and maximum, so its relative
 * error is at most 1/128 (0.8%). The minimum, the maximum and the count are
 * always exact. Memory: the 64 counters of a power of two are allocated
 * when a value first falls in it, so a link whose latencies span three
 * powers of two uses about 2 KiB whatever the number of samples.
 *
 * Percentiles use the nearest-rank definition in integer arithmetic, so
 * they are the same on every machine. */
#include "reports_internal.h"

#include <string.h>

#define SUB_BITS 6
#define SUB (1u << SUB_BITS) /* buckets per power of two */
#define OCTAVES (64 - SUB_BITS + 1)

struct DsimHistogram {
  guint64 count, min, max;
  GArray *exact;           /* guint64 samples while count <= DSIM_HISTOGRAM_EXACT; NULL after */
  gboolean sorted;
  guint64 *octave[OCTAVES]; /* octave 0: values 0..63 one by one; octave j >= 1: [2^(j+5), 2^(j+6)) */
};

DsimHistogram *dsim_histogram_new(void) {
  DsimHistogram *h = g_new0(DsimHistogram, 1);
  h->exact = g_array_new(FALSE, FALSE, sizeof(guint64));
  h->sorted = TRUE;
  return h;
}

void dsim_histogram_free(DsimHistogram *h) {
  if (!h) return;
  if (h->exact) g_array_unref(h->exact);
  for (guint i = 0; i < OCTAVES; i++) g_free(h->octave[i]);
  g_free(h);
}

/* Bucket of v: octave j and sub-bucket s. */
static void locate(guint64 v, guint *j, guint *s) {
  if (v < SUB) {
    *j = 0;
    *s = (guint)v;
    return;
  }
  guint k = 63u - (guint)__builtin_clzll(v); /* 2^k <= v < 2^(k+1), k >= SUB_BITS */
  *j = k - SUB_BITS + 1;
  *s = (guint)((v >> (k - SUB_BITS)) - SUB);
}

/* [lo, hi) of bucket (j, s). */
static void bucket_bounds(guint j, guint s, guint64 *lo, guint64 *hi) {
  if (j == 0) {
    *lo = s;
    *hi = (guint64)s + 1;
    return;
  }
  guint shift = j - 1;
  *lo = ((guint64)SUB + s) << shift;
  *hi = *lo + ((guint64)1 << shift); /* wraps to 0 only for the very last bucket */
  if (*hi == 0) *hi = G_MAXUINT64;
}

static void bucket_add(DsimHistogram *h, guint64 v, guint64 n) {
  guint j, s;
  locate(v, &j, &s);
  if (!h->octave[j]) h->octave[j] = g_new0(guint64, SUB);
  h->octave[j][s] += n;
}

void dsim_histogram_add(DsimHistogram *h, guint64 v) {
  if (h->count == 0 || v < h->min) h->min = v;
  if (h->count == 0 || v > h->max) h->max = v;
  h->count++;
  if (h->exact) {
    if (h->exact->len < DSIM_HISTOGRAM_EXACT) {
      if (h->exact->len && v < g_array_index(h->exact, guint64, h->exact->len - 1)) h->sorted = FALSE;
      g_array_append_val(h->exact, v);
      return;
    }
    for (guint i = 0; i < h->exact->len; i++) bucket_add(h, g_array_index(h->exact, guint64, i), 1);
    g_array_unref(h->exact);
    h->exact = NULL;
  }
  bucket_add(h, v, 1);
}

guint64 dsim_histogram_count(const DsimHistogram *h) {
  return h->count;
}
guint64 dsim_histogram_min(const DsimHistogram *h) {
  return h->min;
}
guint64 dsim_histogram_max(const DsimHistogram *h) {
  return h->max;
}
gboolean dsim_histogram_is_exact(const DsimHistogram *h) {
  return h->exact != NULL;
}

static gint cmp_u64(gconstpointer a, gconstpointer b) {
  guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
  return x < y ? -1 : x > y;
}

guint64 dsim_histogram_percentile(DsimHistogram *h, guint per_mille) {
  g_return_val_if_fail(per_mille <= 1000, 0);
  if (h->count == 0) return 0;
  /* nearest rank: the smallest value with at least ceil(n * p) samples at or below it */
  guint64 rank = (h->count * per_mille + 999) / 1000;
  if (rank == 0) rank = 1;
  /* the extremes are known exactly */
  if (rank == 1) return h->min;
  if (rank == h->count) return h->max;
  if (h->exact) {
    if (!h->sorted) {
      g_array_sort(h->exact, cmp_u64);
      h->sorted = TRUE;
    }
    return g_array_index(h->exact, guint64, rank - 1);
  }
  guint64 seen = 0;
  for (guint j = 0; j < OCTAVES; j++) {
    if (!h->octave[j]) continue;
    for (guint s = 0; s < SUB; s++) {
      seen += h->octave[j][s];
      if (seen < rank) continue;
      guint64 lo, hi;
      bucket_bounds(j, s, &lo, &hi);
      guint64 mid = lo + (hi - lo) / 2;
      return CLAMP(mid, h->min, h->max);
    }
  }
  return h->max;
}

void dsim_histogram_foreach(const DsimHistogram *h, DsimHistogramFunc fn, gpointer data) {
  if (h->exact) {
    /* Each sample as a bucket of width 1, in sample order sorted. */
    GArray *copy = g_array_copy(h->exact);
    g_array_sort(copy, cmp_u64);
    for (guint i = 0; i < copy->len;) {
      guint64 v = g_array_index(copy, guint64, i);
      guint k = i;
      while (k < copy->len && g_array_index(copy, guint64, k) == v) k++;
      fn(v, v == G_MAXUINT64 ? v : v + 1, k - i, data);
      i = k;
    }
    g_array_unref(copy);
    return;
  }
  for (guint j = 0; j < OCTAVES; j++) {
    if (!h->octave[j]) continue;
    for (guint s = 0; s < SUB; s++) {
      if (!h->octave[j][s]) continue;
      guint64 lo, hi;
      bucket_bounds(j, s, &lo, &hi);
      fn(lo, hi, h->octave[j][s], data);
    }
  }
}
