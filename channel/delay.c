/* delay.c — delay distributions of the network model: validation, sampling
 * and their JSON form.
 *
 * Every continuous distribution is sampled by inverting its survival
 * function S(x) = P(X > x) at a single uniform draw, restricted to the part
 * of the distribution at or above the minimum:
 *
 *   u = dsim_rng_double(rng)           in [0, 1)
 *   v = (1 - u) * S(min)               in (0, S(min)]
 *   x = S^-1(v)                        >= min
 *
 * which is an exact sample of X conditioned on X >= min, using one draw
 * whatever the parameters (no rejection loop, so the number of draws per
 * message never depends on the values drawn). Inverting S rather than the
 * CDF keeps full precision in the tail, where S is small. The normal
 * quantile is Wichura's algorithm AS241 (PPND16, relative error below
 * 1e-16), the normal tail is erfc from libm.
 *
 * Constant and uniform delays keep their integer definitions (uniform is
 * dsim_rng_below over the nanoseconds of [max(a, min), b)), so traces made
 * before the other kinds existed are unchanged. */
#include "channel_internal.h"

#include <math.h>

static const char *const kind_names[] = {"constant", "uniform", "normal", "exponential", "lognormal",
                                         "pareto"};

const char *dsim_delay_kind_name(DsimDelayKind kind) {
  return (unsigned)kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : NULL;
}

static gboolean bad(GError **error, const char *kind, const char *what) {
  g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "delay: %s %s", kind, what);
  return FALSE;
}

gboolean dsim_delay_validate(const DsimDelay *d, GError **error) {
  const char *name = dsim_delay_kind_name(d->kind);
  if (!name) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "delay: unknown kind %d",
                (int)d->kind);
    return FALSE;
  }
  if (d->min < 0 || d->min > DSIM_DELAY_CAP) return bad(error, name, "min must be between 0 and 2^53 ns");
  if (d->a < 0 || d->a > DSIM_DELAY_CAP) return bad(error, name, "parameters must be between 0 and 2^53 ns");
  switch (d->kind) {
  case DSIM_DELAY_CONSTANT:
  case DSIM_DELAY_EXPONENTIAL: break;
  case DSIM_DELAY_UNIFORM:
    if (d->b < d->a || d->b > DSIM_DELAY_CAP) return bad(error, name, "needs min <= max");
    break;
  case DSIM_DELAY_NORMAL:
    if (d->b < 0 || d->b > DSIM_DELAY_CAP) return bad(error, name, "sd must not be negative");
    break;
  case DSIM_DELAY_LOGNORMAL:
    if (d->a == 0) return bad(error, name, "median must be positive");
    if (!(d->shape >= 0 && d->shape <= 100)) return bad(error, name, "sigma must be between 0 and 100");
    break;
  case DSIM_DELAY_PARETO:
    if (d->a == 0) return bad(error, name, "scale must be positive");
    if (!(d->shape > 0 && d->shape <= 1e6)) return bad(error, name, "alpha must be positive");
    break;
  }
  return TRUE;
}

/* The standard normal quantile: Wichura, "Algorithm AS241: The percentage
 * points of the normal distribution", Applied Statistics 37 (1988),
 * PPND16. p in (0, 1). */
static double norm_quantile(double p) {
  double q = p - 0.5, r, num, den;
  if (fabs(q) <= 0.425) {
    r = 0.180625 - q * q;
    num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r +
               45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r +
            133.14166789178437745) * r + 3.387132872796366608) * q;
    den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r +
               21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r +
            42.313330701600911252) * r + 1.0);
    return num / den;
  }
  r = sqrt(-log(q < 0 ? p : 1.0 - p));
  if (r <= 5.0) {
    r -= 1.6;
    num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
               1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
            4.6303378461565452959) * r + 1.42343711074968357734);
    den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
               0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
            2.05319162663775882187) * r + 1.0);
  } else {
    r -= 5.0;
    num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
               0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
            5.4637849111641143699) * r + 6.6579046435011037772);
    den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
               7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
            0.59983220655588793769) * r + 1.0);
  }
  double x = num / den;
  return q < 0 ? -x : x;
}

/* P(Z > z) for a standard normal Z. */
static double norm_sf(double z) {
  return 0.5 * erfc(z / M_SQRT2);
}

/* The point x with P(Z > x) = v, v in (0, 1]. */
static double norm_isf(double v) {
  if (v >= 1.0) return -INFINITY;
  return -norm_quantile(v);
}

/* Rounds a sample to nanoseconds within [min, DSIM_DELAY_CAP]. Rounding
 * can fall just below min, and an infinite quantile (a draw at the very edge
 * of the range) lands on the bound it points at. */
static DsimTime to_time(double x, DsimTime min) {
  if (!(x >= (double)min)) return min; /* also NaN and -inf */
  if (!(x < (double)DSIM_DELAY_CAP)) return DSIM_DELAY_CAP;
  DsimTime t = (DsimTime)llround(x);
  return t < min ? min : t;
}

DsimTime dsim_delay_sample(const DsimDelay *d, DsimRng *rng) {
  const DsimTime min = d->min;
  const double a = (double)d->a, lo = (double)min;
  switch (d->kind) {
  case DSIM_DELAY_CONSTANT: return d->a > min ? d->a : min;
  case DSIM_DELAY_UNIFORM: {
    DsimTime from = d->a > min ? d->a : min;
    if (d->b <= from) return from;
    return from + (DsimTime)dsim_rng_below(rng, (uint64_t)(d->b - from));
  }
  case DSIM_DELAY_NORMAL: {
    const double sd = (double)d->b;
    if (sd == 0) return d->a > min ? d->a : min;
    double s_min = norm_sf((lo - a) / sd);
    double v = (1.0 - dsim_rng_double(rng)) * s_min;
    if (!(v > 0)) return min; /* min lies beyond the tail doubles can express */
    return to_time(a + sd * norm_isf(v), min);
  }
  case DSIM_DELAY_EXPONENTIAL:
    /* Memoryless: conditioned on X >= min it is min + Exp(mean). */
    return to_time(lo - a * log(1.0 - dsim_rng_double(rng)), min);
  case DSIM_DELAY_LOGNORMAL: {
    const double sigma = d->shape;
    if (sigma == 0) return d->a > min ? d->a : min;
    double s_min = min > 0 ? norm_sf(log(lo / a) / sigma) : 1.0;
    double v = (1.0 - dsim_rng_double(rng)) * s_min;
    if (!(v > 0)) return min;
    return to_time(a * exp(sigma * norm_isf(v)), min);
  }
  case DSIM_DELAY_PARETO: {
    /* Conditioned on X >= L (L >= scale) a Pareto is a Pareto of scale L. */
    double scale = lo > a ? lo : a;
    return to_time(scale * pow(1.0 - dsim_rng_double(rng), -1.0 / d->shape), min);
  }
  }
  g_assert_not_reached();
}

static void append_double(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.15g", v);
  if (g_ascii_strtod(buf, NULL) != v) g_ascii_formatd(buf, sizeof buf, "%.17g", v);
  g_string_append(out, buf);
}

void dsim_delay_to_json(const DsimDelay *d, GString *out) {
  g_string_append_printf(out, "[\"%s\",%" G_GINT64_FORMAT, dsim_delay_kind_name(d->kind), d->a);
  switch (d->kind) {
  case DSIM_DELAY_CONSTANT:
  case DSIM_DELAY_EXPONENTIAL: break;
  case DSIM_DELAY_UNIFORM:
  case DSIM_DELAY_NORMAL: g_string_append_printf(out, ",%" G_GINT64_FORMAT, d->b); break;
  case DSIM_DELAY_LOGNORMAL:
  case DSIM_DELAY_PARETO:
    g_string_append_c(out, ',');
    append_double(out, d->shape);
    break;
  }
  if (d->min) g_string_append_printf(out, ",{\"min\":%" G_GINT64_FORMAT "}", d->min);
  g_string_append_c(out, ']');
}
