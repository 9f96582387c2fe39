/* charts.c — the latency histogram and the message rate over time, as SVG
 * with labelled axes.
 *
 * Both are drawn from bounded summaries: the latency histogram from the
 * log-linear buckets of histogram.c (each bucket counted in the display bin
 * of its middle, so a bar may be off by the bucket's 0.8% width), the rate
 * from the DSIM_RATE_BINS bins of summary.c, summed into at most 64 points. The latency axis is linear,
 * or logarithmic when the largest latency is more than 20 times the
 * smallest (heavy tails would otherwise squash everything into one bar). */
#include "reports_internal.h"

#include <math.h>
#include <string.h>

#define W 640
#define H 260
#define ML 64
#define MR 16
#define MT 18
#define MB 46
#define PW (W - ML - MR)
#define PH (H - MT - MB)
#define NBINS 32
#define RATE_POINTS 64

/* A "nice" step (1, 2 or 5 times a power of ten) giving about n ticks up to max. */
static double nice_step(double max, int n) {
  if (max <= 0) return 1;
  double raw = max / n;
  double mag = pow(10, floor(log10(raw)));
  double norm = raw / mag;
  double step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * mag;
}

static void fmt_count(char *buf, gsize size, double v) {
  if (v >= 1e6)
    g_snprintf(buf, size, "%.3gM", v / 1e6);
  else if (v >= 1e4)
    g_snprintf(buf, size, "%.3gk", v / 1e3);
  else
    g_snprintf(buf, size, "%.4g", v);
}

static void frame(GString *o, const char *cls, const char *title, const char *xlabel, const char *ylabel) {
  g_string_append_printf(o,
                         "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                         "viewBox=\"0 0 %d %d\" role=\"img\"><title>",
                         cls, W, H, W, H);
  dsim_html_escape(o, title);
  g_string_append(o, "</title>\n");
  g_string_append_printf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", ML, MT, ML, MT + PH);
  g_string_append_printf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", ML, MT + PH, ML + PW,
                         MT + PH);
  g_string_append_printf(o, "<text class=\"axis-title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", ML + PW / 2, H - 6);
  dsim_html_escape(o, xlabel);
  g_string_append(o, "</text>\n");
  g_string_append_printf(o, "<text class=\"axis-title\" transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">",
                         MT + PH / 2);
  dsim_html_escape(o, ylabel);
  g_string_append(o, "</text>\n");
}

static void y_ticks(GString *o, double ymax) {
  double step = nice_step(ymax, 4);
  for (double v = 0; v <= ymax * 1.0001; v += step) {
    int y = MT + PH - (int)lround(v / ymax * PH);
    char b[32];
    fmt_count(b, sizeof b, v);
    g_string_append_printf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", ML, y, ML + PW, y);
    g_string_append_printf(o, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", ML - 4, y + 4, b);
  }
}

/* Tick k of 0..4 across the x axis; the end labels are anchored inside
 * the plot so they are not cut at the edges. */
static void x_tick(GString *o, int k, const char *label) {
  int x = ML + PW * k / 4;
  const char *anchor = k == 0 ? "start" : k == 4 ? "end" : "middle";
  g_string_append_printf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x, MT + PH, x, MT + PH + 4);
  g_string_append_printf(o, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"%s\">%s</text>\n", x, MT + PH + 16,
                         anchor, label);
}

/* ---------------------------------------------------------------- latency */

typedef struct {
  gboolean log_scale;
  double lo, hi; /* axis range, in ns (log10 of it on a log axis) */
  guint64 bins[NBINS];
} LatencyBins;

static double axis_pos(const LatencyBins *b, double v) {
  double x = b->log_scale ? log10(MAX(v, 1.0)) : v;
  return (x - b->lo) / (b->hi - b->lo);
}

static void add_bucket(guint64 lo, guint64 hi, guint64 count, gpointer data) {
  LatencyBins *b = data;
  double mid = (double)lo + ((double)hi - (double)lo) / 2;
  int i = (int)floor(axis_pos(b, mid) * NBINS);
  b->bins[CLAMP(i, 0, NBINS - 1)] += count;
}

void dsim_chart_latency(DsimHistogram *h, GString *o) {
  guint64 n = dsim_histogram_count(h);
  if (n == 0) {
    g_string_append(o, "<p class=\"empty\">No message was delivered: no latency to show.</p>\n");
    return;
  }
  LatencyBins b;
  memset(&b, 0, sizeof b);
  double min = (double)dsim_histogram_min(h), max = (double)dsim_histogram_max(h);
  b.log_scale = max > 20 * MAX(min, 1.0);
  if (b.log_scale) {
    b.lo = log10(MAX(min, 1.0));
    b.hi = log10(max) + 1e-9;
  } else {
    b.lo = min;
    b.hi = max + MAX((max - min) / NBINS, 1.0); /* room for the largest value in the last bin */
  }
  dsim_histogram_foreach(h, add_bucket, &b);
  guint64 top = 0;
  for (int i = 0; i < NBINS; i++) top = MAX(top, b.bins[i]);
  char title[160], b1[DSIM_TIME_BUF];
  g_snprintf(title, sizeof title, "Latency of %" G_GUINT64_FORMAT " delivered copies", n);
  frame(o, "latency", title, b.log_scale ? "latency, send to delivery (log scale)" : "latency, send to delivery",
        "delivered copies");
  double ymax = nice_step((double)top, 4) * ceil((double)top / nice_step((double)top, 4));
  if (ymax < (double)top || ymax <= 0) ymax = (double)MAX(top, (guint64)1);
  y_ticks(o, ymax);
  for (int i = 0; i < NBINS; i++) {
    if (!b.bins[i]) continue;
    int x = ML + (int)lround((double)i / NBINS * PW);
    int w = MAX((int)lround((double)PW / NBINS) - 2, 1);
    int bh = (int)lround((double)b.bins[i] / ymax * PH);
    double from = b.lo + (b.hi - b.lo) * i / NBINS, to = b.lo + (b.hi - b.lo) * (i + 1) / NBINS;
    if (b.log_scale) {
      from = pow(10, from);
      to = pow(10, to);
    }
    char b2[DSIM_TIME_BUF];
    g_string_append_printf(o, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"><title>%s to %s: %" G_GUINT64_FORMAT
                              "</title></rect>\n",
                           x + 1, MT + PH - bh, w, bh, dsim_fmt_duration((gint64)llround(from), b1),
                           dsim_fmt_duration((gint64)llround(to), b2), b.bins[i]);
  }
  /* five labelled ticks across the axis */
  for (int k = 0; k <= 4; k++) {
    double a = b.lo + (b.hi - b.lo) * k / 4;
    double v = b.log_scale ? pow(10, a) : a;
    x_tick(o, k, dsim_fmt_duration((gint64)llround(v), b1));
  }
  g_string_append(o, "</svg>\n");
}

/* ---------------------------------------------------------------- rate */

void dsim_chart_rate(const DsimRate *r, GString *o) {
  if (!r->started || r->used == 0) {
    g_string_append(o, "<p class=\"empty\">No message was sent: no rate to show.</p>\n");
    return;
  }
  /* At most RATE_POINTS points: adjacent bins are summed, so a point is a
   * rate over a span wide enough to hold a few messages. */
  guint used = r->fixed ? DSIM_RATE_BINS : r->used;
  guint group = (used + RATE_POINTS - 1) / RATE_POINTS;
  guint n = (used + group - 1) / group;
  gint64 width = r->width * (gint64)group;
  const guint64 *series[3] = {r->sent, r->delivered, r->dropped};
  static const char *const names[3] = {"sent", "delivered", "dropped"};
  guint64 points[3][RATE_POINTS];
  memset(points, 0, sizeof points);
  for (int s = 0; s < 3; s++)
    for (guint i = 0; i < used; i++) points[s][i / group] += series[s][i];
  double per_s = 1e9 / (double)width; /* count per point → messages per second */
  double top = 0;
  for (int s = 0; s < 3; s++)
    for (guint i = 0; i < n; i++) top = MAX(top, (double)points[s][i] * per_s);
  if (top <= 0) top = 1;
  double ymax = nice_step(top, 4) * ceil(top / nice_step(top, 4));
  char b1[DSIM_TIME_BUF], b2[DSIM_TIME_BUF], title[200];
  g_snprintf(title, sizeof title, "Messages per second of virtual time, averaged over %s", dsim_fmt_duration(width, b1));
  frame(o, "rate", title, "virtual time", "messages per second");
  y_ticks(o, ymax);
  for (int s = 0; s < 3; s++) {
    g_string_append_printf(o, "<polyline class=\"series %s\" points=\"", names[s]);
    for (guint i = 0; i < n; i++) {
      int x = ML + (int)lround(((double)i + 0.5) / n * PW);
      int y = MT + PH - (int)lround((double)points[s][i] * per_s / ymax * PH);
      g_string_append_printf(o, "%s%d,%d", i ? " " : "", x, y);
    }
    g_string_append_printf(o, "\"><title>%s</title></polyline>\n", names[s]);
  }
  for (int s = 0; s < 3; s++)
    g_string_append_printf(o, "<g class=\"legend %s\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><text x=\"%d\" y=\"%d\">%s</text></g>\n",
                           names[s], ML + 12 + s * 110, MT + 8, ML + 36 + s * 110, MT + 8, ML + 40 + s * 110, MT + 12,
                           names[s]);
  for (int k = 0; k <= 4; k++) {
    gint64 t = r->origin + (gint64)((double)n * (double)width * k / 4);
    x_tick(o, k, dsim_fmt_duration(t, b2));
  }
  g_string_append(o, "</svg>\n");
}
