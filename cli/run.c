/* run.c — `dsim run FILE`: load a scenario, run it, print the summary and
 * the digest, exit 0 (checks passed), 1 (a check failed) or 2 (usage or
 * scenario error). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dsim/channel.h"
#include "echo.h"
#include "runtime.h"

typedef struct {
  guint64 seed;
  DsimTime until;
  guint64 max_events;
  guint64 max_steps;
  guint64 max_memory_mib;
  char *trace_path;
  char **lib_dirs;
  char **params;
  gboolean quiet;
  gboolean no_digest;
  gboolean result_line;
} RunOptions;

static RunOptions opts;

static gboolean parse_u64(const char *flag, const char *value, guint64 *out, GError **error) {
  gboolean hex = value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
  if (!g_ascii_string_to_unsigned(hex ? value + 2 : value, hex ? 16 : 10, 0, G_MAXUINT64, out, NULL)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s expects a non-negative integer (decimal, or hex with 0x), got '%s'", flag, value);
    return FALSE;
  }
  return TRUE;
}

static gboolean opt_u64(const char *name, const char *value, gpointer data, GError **error) {
  (void)data;
  guint64 *dst = strcmp(name, "--seed") == 0 || strcmp(name, "-s") == 0 ? &opts.seed
                 : strcmp(name, "--max-events") == 0                     ? &opts.max_events
                 : strcmp(name, "--max-steps") == 0                      ? &opts.max_steps
                                                                         : &opts.max_memory_mib;
  return parse_u64(name, value, dst, error);
}

static gboolean opt_until(const char *name, const char *value, gpointer data, GError **error) {
  (void)data;
  GError *e = NULL;
  if (!dsim_time_parse(value, &opts.until, &e)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s", name, e->message);
    g_error_free(e);
    return FALSE;
  }
  return TRUE;
}

static const GOptionEntry entries[] = {
    {"seed", 's', 0, G_OPTION_ARG_CALLBACK, (gpointer)opt_u64,
     "Seed of every random stream (default 0)", "N"},
    {"trace", 't', 0, G_OPTION_ARG_FILENAME, &opts.trace_path,
     "Write the JSON Lines trace to PATH", "PATH"},
    {"until", 'u', 0, G_OPTION_ARG_CALLBACK, (gpointer)opt_until,
     "Stop at this virtual time (seconds, or with a unit: 500ms, 2min)", "T"},
    {"max-events", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)opt_u64,
     "Stop after N events (default 100000000)", "N"},
    {"max-steps", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)opt_u64,
     "Lua instructions a process may run without blocking (default 100000000)", "N"},
    {"max-memory", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)opt_u64,
     "MiB of memory the Lua state may use (default 4096)", "MIB"},
    {"lib", 'L', 0, G_OPTION_ARG_FILENAME_ARRAY, &opts.lib_dirs,
     "Also look for require()d modules in DIR (repeatable)", "DIR"},
    {"define", 'D', 0, G_OPTION_ARG_STRING_ARRAY, &opts.params,
     "Scenario parameter NAME=VALUE, read with sim.param(NAME) (repeatable)", "NAME=VALUE"},
    {"no-digest", 0, 0, G_OPTION_ARG_NONE, &opts.no_digest,
     "Do not compute the digest (faster; only with no --trace)", NULL},
    {"result-line", 0, 0, G_OPTION_ARG_NONE, &opts.result_line,
     "Also print one machine-readable RESULT line (for tools)", NULL},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opts.quiet,
     "Print only failures and errors (no print() echo, no summary)", NULL},
    G_OPTION_ENTRY_NULL};

static int by_total_desc(const void *pa, const void *pb) {
  const DsimLinkFaults *a = pa, *b = pb;
  if (a->total != b->total) return a->total > b->total ? -1 : 1;
  if (a->src != b->src) return a->src < b->src ? -1 : 1;
  return a->dst < b->dst ? -1 : a->dst > b->dst;
}

/* The injected faults per directed link, the links with most faults first
 * (ties by pid), at most MAX_LINKS of them. */
#define MAX_LINKS 10
static void print_link_faults(DsimNet *net) {
  GArray *links = g_array_new(FALSE, FALSE, sizeof(DsimLinkFaults));
  dsim_net_link_faults(net, links);
  if (links->len) {
    g_array_sort(links, by_total_desc);
    printf("  faults    on %u link%s (src->dst, most first):\n", links->len, links->len == 1 ? "" : "s");
    for (guint i = 0; i < links->len && i < MAX_LINKS; i++) {
      const DsimLinkFaults *f = &g_array_index(links, DsimLinkFaults, i);
      char name[32];
      g_snprintf(name, sizeof name, "%u->%u", f->src, f->dst);
      printf("    %-9s", name);
      const char *sep = " ";
      for (int k = 0; k < DSIM_FAULT_KINDS; k++) {
        if (!f->count[k]) continue;
        printf("%s%s %" G_GUINT64_FORMAT, sep, dsim_fault_kind_name((DsimFaultKind)k), f->count[k]);
        sep = ", ";
      }
      putchar('\n');
    }
    if (links->len > MAX_LINKS) printf("    ... and %u more links\n", links->len - MAX_LINKS);
  }
  g_array_unref(links);
}

static void print_summary(DsimWorld *w, const char *file, DsimEndReason reason, const char *digest) {
  char tbuf[32];
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  printf("dsim: %s, seed %" G_GUINT64_FORMAT "\n", file, opts.seed);
  printf("  end       %s at t=%s after %" G_GUINT64_FORMAT " events\n",
         reason == DSIM_END_QUIESCENT   ? "quiescent (no event left)"
         : reason == DSIM_END_UNTIL     ? "stopped by --until"
         : reason == DSIM_END_MAX_EVENTS ? "stopped by --max-events"
         : reason == DSIM_END_STOPPED   ? "stopped by sim.stop()"
                                        : "error",
         dsim_time_format(dsim_world_now(w), tbuf, sizeof tbuf), dsim_world_events(w));
  printf("  messages  %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " delivered, %" G_GUINT64_FORMAT
         " received, %" G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT " duplicated\n",
         st->sent, st->delivered, st->received, st->dropped, st->duplicated);
  if (st->dropped) {
    printf("  drops     %" G_GUINT64_FORMAT " loss, %" G_GUINT64_FORMAT " partition, %" G_GUINT64_FORMAT
           " at stopped processes, %" G_GUINT64_FORMAT " mailbox overflow",
           st->dropped_loss, st->dropped_partition, st->dropped_crashed, st->dropped_overflow);
    if (st->dropped_link_down) printf(", %" G_GUINT64_FORMAT " link down", st->dropped_link_down);
    if (st->dropped_too_big) printf(", %" G_GUINT64_FORMAT " too big", st->dropped_too_big);
    if (st->dropped_rule) printf(", %" G_GUINT64_FORMAT " by rules", st->dropped_rule);
    putchar('\n');
  }
  print_link_faults(dsim_net_get(w));
  size_t held = dsim_net_held_now(dsim_net_get(w));
  if (held)
    printf("  held      %zu message%s still kept by the network (a hold never released, or a process "
           "still paused)\n", held, held == 1 ? "" : "s");
  printf("  checks    %" G_GUINT64_FORMAT " passed, %" G_GUINT64_FORMAT " failed\n",
         dsim_world_checks_passed(w), dsim_world_checks_failed(w));
  GString *b = g_string_new(NULL);
  unsigned nb = dsim_world_describe_blocked(w, b, 10);
  if (nb) {
    printf("  waiting   %u process%s at the end:\n", nb, nb == 1 ? "" : "es");
    char **lines = g_strsplit(b->str, "\n", -1);
    for (char **l = lines; *l; l++)
      if (**l) printf("            %s\n", *l);
    g_strfreev(lines);
  }
  g_string_free(b, TRUE);
  if (digest)
    printf("  digest    sha256:%s\n", digest);
  else
    printf("  digest    (not computed: --no-digest)\n");
}

/* Checks -D NAME=VALUE arguments; returns the header's "params" object. */
static char *check_params(GError **error) {
  GString *json = g_string_new("{");
  GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  gboolean ok = TRUE;
  for (char **p = opts.params; p && *p && ok; p++) {
    char *eq = strchr(*p, '=');
    gboolean ident = eq && eq > *p && (g_ascii_isalpha(**p) || **p == '_');
    for (const char *c = *p; ident && c < eq; c++) ident = g_ascii_isalnum(*c) || *c == '_';
    if (!ident) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "-D expects NAME=VALUE with NAME a Lua identifier, got '%s'", *p);
      ok = FALSE;
      break;
    }
    *eq = '\0';
    if (g_hash_table_contains(seen, *p)) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "-D %s is given twice", *p);
      ok = FALSE;
    } else {
      g_hash_table_add(seen, g_strdup(*p));
      if (json->len > 1) g_string_append_c(json, ',');
      dsim_json_escape(json, *p, (size_t)-1, 200);
      g_string_append_c(json, ':');
      dsim_json_escape(json, eq + 1, (size_t)-1, 4096);
    }
    *eq = '=';
  }
  g_hash_table_unref(seen);
  g_string_append_c(json, '}');
  if (!ok) {
    g_string_free(json, TRUE);
    return NULL;
  }
  return g_string_free(json, FALSE);
}

static void trace_end(DsimWorld *w, DsimEndReason reason) {
  DsimTrace *tr = dsim_world_trace(w);
  if (!tr) return;
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  GArray *blocked = g_array_new(FALSE, FALSE, sizeof(DsimPid));
  dsim_world_blocked_pids(w, blocked);
  dsim_trace_begin(tr, dsim_world_now(w), "end");
  dsim_trace_str(tr, "reason", dsim_end_reason_name(reason), (size_t)-1, 32);
  dsim_trace_u64(tr, "events", dsim_world_events(w));
  dsim_trace_u64(tr, "sent", st->sent);
  dsim_trace_u64(tr, "delivered", st->delivered);
  dsim_trace_u64(tr, "received", st->received);
  dsim_trace_u64(tr, "dropped", st->dropped);
  dsim_trace_u64(tr, "duplicated", st->duplicated);
  /* Written only when faults were injected, so that the end line of a
   * fault-free run stays as it was. */
  GArray *links = g_array_new(FALSE, FALSE, sizeof(DsimLinkFaults));
  dsim_net_link_faults(dsim_net_get(w), links);
  if (links->len) {
    uint64_t totals[DSIM_FAULT_KINDS] = {0};
    for (guint i = 0; i < links->len; i++)
      for (int k = 0; k < DSIM_FAULT_KINDS; k++) totals[k] += g_array_index(links, DsimLinkFaults, i).count[k];
    GString *j = g_string_new("{");
    for (int k = 0; k < DSIM_FAULT_KINDS; k++)
      if (totals[k])
        g_string_append_printf(j, "%s\"%s\":%" G_GUINT64_FORMAT, j->len > 1 ? "," : "",
                               dsim_fault_kind_name((DsimFaultKind)k), totals[k]);
    g_string_append_c(j, '}');
    dsim_trace_raw(tr, "faults", j->str);
    dsim_trace_u64(tr, "fault_links", links->len);
    g_string_free(j, TRUE);
  }
  g_array_unref(links);
  dsim_trace_u64(tr, "checks_passed", dsim_world_checks_passed(w));
  dsim_trace_u64(tr, "checks_failed", dsim_world_checks_failed(w));
  dsim_trace_pids(tr, "blocked", (const DsimPid *)(void *)blocked->data, blocked->len);
  dsim_trace_end(tr);
  g_array_unref(blocked);
}

int dsim_cli_run(int argc, char **argv) {
  memset(&opts, 0, sizeof opts);
  opts.until = DSIM_TIME_NEVER;
  opts.max_events = 100000000;
  GOptionContext *ctx = g_option_context_new("FILE - run a Lua scenario");
  g_option_context_set_summary(ctx, "Runs the scenario FILE in virtual time and prints a summary and "
                                    "the trace digest.\nExit status: 0 all checks passed, 1 a check "
                                    "failed, 2 usage or scenario error.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_help_enabled(ctx, TRUE);
  GError *error = NULL;
  int status = 2;
  DsimWorld *w = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "dsim run: %s (see dsim run --help)\n", error->message);
    goto out;
  }
  if (argc != 2) {
    fprintf(stderr, "dsim run: %s (see dsim run --help)\n",
            argc < 2 ? "expected a scenario FILE" : "expected exactly one scenario FILE");
    goto out;
  }
  const char *file = argv[1];

  if (opts.no_digest && opts.trace_path) {
    fprintf(stderr, "dsim run: --no-digest cannot be combined with --trace (see dsim run --help)\n");
    goto out;
  }
  char *params_json = check_params(&error);
  if (!params_json) {
    fprintf(stderr, "dsim run: %s (see dsim run --help)\n", error->message);
    goto out;
  }
  DsimWorldConfig cfg = {.seed = opts.seed, .until = opts.until, .max_events = opts.max_events};
  w = dsim_world_new(&cfg);
  DsimTrace *tr = NULL;
  if (!opts.no_digest) {
    tr = dsim_trace_new(opts.trace_path, &error);
    if (!tr) {
      fprintf(stderr, "dsim run: %s\n", error->message);
      g_free(params_json);
      goto out;
    }
    dsim_world_set_trace(w, tr);
    dsim_trace_header_field(tr, "params", params_json);
  }
  g_free(params_json);
  dsim_examples_register(w);
  DsimLuaOptions lopt = {.max_steps = opts.max_steps,
                         .max_memory = (size_t)opts.max_memory_mib << 20,
                         .lib_dirs = (const char *const *)opts.lib_dirs,
                         .echo_print = !opts.quiet,
                         .params = (const char *const *)opts.params};
  if (opts.max_memory_mib > (SIZE_MAX >> 21)) {
    fprintf(stderr, "dsim run: --max-memory is too large\n");
    goto out;
  }
  DsimLua *rt = dsim_lua_new(w, &lopt);
  if (!dsim_lua_run_file(rt, file, &error)) {
    fprintf(stderr, "dsim: %s\n", error->message);
    goto out;
  }
  if (tr) {
    char *net_json = dsim_net_config_json(dsim_net_get(w));
    dsim_trace_start(tr, file, opts.seed, opts.until, opts.max_events, net_json);
    g_free(net_json);
  }

  DsimEndReason reason = dsim_world_run(w);
  if (reason != DSIM_END_ERROR) {
    if (!dsim_lua_run_finally(rt, &error)) g_clear_error(&error); /* the world keeps the error */
  }
  const GError *werr = dsim_world_error(w);
  if (werr) reason = DSIM_END_ERROR;
  trace_end(w, reason);
  if (tr && !dsim_trace_finish(tr, &error)) {
    fprintf(stderr, "dsim: %s\n", error->message);
    goto out;
  }
  if (werr) {
    fprintf(stderr, "dsim: %s\n", werr->message);
    goto out;
  }
  if (!opts.quiet) print_summary(w, file, reason, tr ? dsim_trace_digest(tr) : NULL);
  if (opts.result_line)
    printf("RESULT status=%d reason=%s events=%" G_GUINT64_FORMAT " checks_passed=%" G_GUINT64_FORMAT
           " checks_failed=%" G_GUINT64_FORMAT " digest=%s\n",
           dsim_world_checks_failed(w) ? 1 : 0, dsim_end_reason_name(reason), dsim_world_events(w),
           dsim_world_checks_passed(w), dsim_world_checks_failed(w), tr ? dsim_trace_digest(tr) : "none");
  if (dsim_world_checks_failed(w)) {
    fprintf(stderr, "FAIL %s\n  replay: dsim run %s --seed %" G_GUINT64_FORMAT "\n",
            dsim_world_first_failure(w), file, opts.seed);
    status = 1;
  } else {
    status = 0;
  }
out:
  g_clear_error(&error);
  dsim_world_free(w);
  g_option_context_free(ctx);
  g_free(opts.trace_path);
  g_strfreev(opts.lib_dirs);
  g_strfreev(opts.params);
  return status;
}
