/* time.c — conversions between virtual nanoseconds and what people write. */
#include "sim_internal.h"

#include <math.h>
#include <string.h>

gboolean dsim_time_from_seconds(double seconds, DsimTime *out) {
  if (!isfinite(seconds) || seconds < 0) return FALSE;
  double ns = seconds * 1e9;
  /* 9.2e18 is the largest double below INT64_MAX that is safe to convert. */
  if (ns >= 9.2e18) return FALSE;
  *out = (DsimTime)llround(ns);
  return TRUE;
}

static const struct {
  const char *suffix;
  double ns;
} units[] = {
    /* longest suffixes first so that "ms" is not read as "m" + "s" */
    {"min", 60e9}, {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"h", 3600e9},
};

gboolean dsim_time_parse(const char *text, DsimTime *out, GError **error) {
  const char *p = text;
  while (g_ascii_isspace(*p)) p++;
  char *end = NULL;
  double v = g_ascii_strtod(p, &end);
  if (end == p || !isfinite(v)) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID,
                "'%s' is not a duration (expected seconds such as 1.5, or a number with a unit: "
                "ns, us, ms, s, min, h)",
                text);
    return FALSE;
  }
  while (g_ascii_isspace(*end)) end++;
  double scale = 1e9; /* plain numbers are seconds */
  if (*end) {
    size_t i;
    for (i = 0; i < G_N_ELEMENTS(units); i++) {
      size_t n = strlen(units[i].suffix);
      if (strncmp(end, units[i].suffix, n) == 0) {
        const char *rest = end + n;
        while (g_ascii_isspace(*rest)) rest++;
        if (*rest == '\0') break;
      }
    }
    if (i == G_N_ELEMENTS(units)) {
      g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID,
                  "'%s' has an unknown time unit (expected ns, us, ms, s, min or h)", text);
      return FALSE;
    }
    scale = units[i].ns;
  }
  if (v < 0) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID, "'%s' is a negative duration", text);
    return FALSE;
  }
  if (!dsim_time_from_seconds(v * scale / 1e9, out)) {
    g_set_error(error, DSIM_SIM_ERROR, DSIM_SIM_ERROR_INVALID,
                "'%s' is too long (virtual time ends after about 292 years)", text);
    return FALSE;
  }
  return TRUE;
}

char *dsim_time_format(DsimTime t, char *buf, size_t size) {
  const char *sign = "";
  uint64_t u = (uint64_t)t;
  if (t < 0) {
    sign = "-";
    u = (uint64_t)0 - u;
  }
  g_snprintf(buf, size, "%s%" G_GUINT64_FORMAT ".%09" G_GUINT64_FORMAT "s", sign,
             u / DSIM_NS_PER_SEC, u % DSIM_NS_PER_SEC);
  return buf;
}
