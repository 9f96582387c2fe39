/* pingpong.c — embedding dsim in a C program, without Lua.
 *
 * Builds a world, runs P ping-pong pairs of handler-based processes for M
 * round trips each over a lossy network, and prints what happened and the
 * trace digest. The pinger retransmits when a pong does not come back.
 *
 *   embed_pingpong [PAIRS] [ROUNDS] [SEED]
 *
 * Build against an installed dsim with
 *   cc pingpong.c $(pkg-config --cflags --libs dsim)
 * or, in CMake, find_package(dsim) and link dsim::dsim. */
#include <dsim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  DsimChannel *ch;
  DsimPid peer;
  uint32_t rounds, done;
} Pinger;

static void ping(DsimWorld *w, Pinger *p) {
  uint32_t round = p->done + 1;
  DsimPayload *msg = dsim_payload_new(&round, sizeof round, NULL);
  dsim_channel_send_to(p->ch, &p->peer, 1, msg, NULL);
  dsim_payload_unref(msg);
  dsim_cproc_timer(w, 10 * DSIM_NS_PER_MS, round); /* retransmit if no pong */
}

static void pinger_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  Pinger *p = state;
  DsimPid me;
  p->ch = dsim_channel_open(w, NULL);
  dsim_channel_join(p->ch, "pinger", &me, NULL);
  p->peer = (DsimPid)strtoul(argv[0], NULL, 10);
  p->rounds = (uint32_t)strtoul(argv[1], NULL, 10);
  (void)argc;
  (void)self;
  ping(w, p);
}

static void pinger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  Pinger *p = state;
  uint32_t round;
  memcpy(&round, dsim_payload_data(dsim_message_payload(m)), sizeof round);
  if (round != p->done + 1) return; /* a duplicate or a late pong */
  if (++p->done == p->rounds) {
    dsim_world_check(w, self, true, "all rounds done", NULL);
    dsim_cproc_exit(w);
  } else {
    ping(w, p);
  }
}

static void pinger_timer(DsimWorld *w, DsimPid self, void *state, uint64_t round) {
  Pinger *p = state;
  (void)self;
  if (round == p->done + 1) ping(w, p);
}

static void ponger_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  DsimPid me;
  (void)self, (void)state, (void)argc, (void)argv;
  dsim_channel_join(dsim_channel_open(w, NULL), "ponger", &me, NULL);
}

static void ponger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  DsimPid src = dsim_message_src(m);
  (void)self, (void)state;
  dsim_channel_send_to(dsim_message_channel(m), &src, 1, dsim_message_payload(m), NULL);
  (void)w;
}

static const DsimProcClass pinger = {"pinger", sizeof(Pinger), pinger_start, pinger_message, pinger_timer, NULL};
static const DsimProcClass ponger = {"ponger", 0, ponger_start, ponger_message, NULL, NULL};

int main(int argc, char **argv) {
  unsigned pairs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10;
  unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 100;
  uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  if (pairs == 0 || rounds == 0) {
    fprintf(stderr, "usage: %s [PAIRS>0] [ROUNDS>0] [SEED]\n", argv[0]);
    return 2;
  }

  DsimWorldConfig cfg = {.seed = seed, .until = DSIM_TIME_NEVER, .max_events = 0};
  DsimWorld *w = dsim_world_new(&cfg);
  dsim_world_set_trace(w, dsim_trace_new(NULL, NULL)); /* digest only */
  DsimLinkConfig link;
  dsim_link_config_init(&link);
  link.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = 1 * DSIM_NS_PER_MS, .b = 3 * DSIM_NS_PER_MS};
  link.loss = 0.05;
  dsim_net_set_defaults(dsim_net_get(w), &link, NULL);

  char peer[16], nrounds[16];
  snprintf(nrounds, sizeof nrounds, "%u", rounds);
  for (unsigned i = 0; i < pairs; i++) {
    DsimPid pong = dsim_cproc_spawn(w, &ponger, 0, NULL);
    snprintf(peer, sizeof peer, "%u", pong);
    const char *args[] = {peer, nrounds};
    dsim_cproc_spawn(w, &pinger, 2, args);
  }
  DsimEndReason why = dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  char t[32];
  dsim_trace_finish(dsim_world_trace(w), NULL);
  printf("end: %s at t=%s after %llu events\n", dsim_end_reason_name(why),
         dsim_time_format(dsim_world_now(w), t, sizeof t), (unsigned long long)dsim_world_events(w));
  printf("messages: %llu sent, %llu delivered, %llu dropped\n", (unsigned long long)st->sent,
         (unsigned long long)st->delivered, (unsigned long long)st->dropped);
  printf("pairs done: %llu of %u\n", (unsigned long long)dsim_world_checks_passed(w), pairs);
  printf("digest: sha256:%s\n", dsim_trace_digest(dsim_world_trace(w)));
  int ok = dsim_world_checks_passed(w) == pairs;
  dsim_world_free(w);
  return ok ? 0 : 1;
}
