/* rng.c — seeded random streams: splitmix64 for seeding, xoshiro256** for
 * draws (the xoshiro step itself is inline in sim.h).
 *
 * Reference: D. Blackman, S. Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 2021; https://prng.di.unimi.it/. The known-answer
 * tests in tests/unit/test_rng.c pin both algorithms. */
#include "sim_internal.h"

#include <math.h>

uint64_t dsim_splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void dsim_rng_seed(DsimRng *rng, uint64_t seed) {
  uint64_t sm = seed;
  for (int i = 0; i < 4; i++) rng->s[i] = dsim_splitmix64(&sm);
  /* splitmix64 outputs are a bijection of distinct inputs, so four of them
   * are never all zero; the all-zero state is the one xoshiro must avoid. */
  g_assert(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]);
}

/* One splitmix64 output of x: a strong 64-bit mixer. */
static uint64_t mix64(uint64_t x) {
  return dsim_splitmix64(&x);
}

void dsim_rng_stream(DsimRng *rng, uint64_t run_seed, uint32_t domain, uint32_t index) {
  dsim_rng_seed(rng, mix64(run_seed) ^ mix64(((uint64_t)domain << 32) | index));
}

uint64_t dsim_rng_below(DsimRng *rng, uint64_t n) {
  g_assert(n > 0);
  /* Lemire, "Fast random integer generation in an interval" (2019): the high
   * half of a 128-bit product, rejecting the few low values that would bias
   * it. */
  unsigned __int128 m = (unsigned __int128)dsim_rng_next(rng) * n;
  uint64_t low = (uint64_t)m;
  if (low < n) {
    uint64_t threshold = -n % n;
    while (low < threshold) {
      m = (unsigned __int128)dsim_rng_next(rng) * n;
      low = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

uint64_t dsim_probability_threshold(double p) {
  if (!(p > 0.0)) return 0; /* also catches NaN: callers validate first */
  if (p >= 1.0) return UINT64_MAX;
  /* p * 2^64, computed in long double for the extra bits; values that would
   * round up to 2^64 become the largest non-certain threshold. */
  long double t = ldexpl((long double)p, 64);
  if (t >= 18446744073709551615.0L) return UINT64_MAX - 1;
  uint64_t r = (uint64_t)t;
  return r ? r : 1;
}
