/* faults_cost.c — what fault injection costs: W1b-style ping-pong (P pairs
 * of handler-based C processes, M round trips each, 1 ms constant latency,
 * 16-byte messages) run on the fault-free path, or with one class of fault
 * switched on so that its price can be read next to the clean run.
 *
 *   bench_faults_cost [MODE] [PAIRS] [ROUNDS]
 *
 * MODE is `clean` (the default). The program prints the deliveries, the
 * virtual end time (a correctness check: 2 * ROUNDS ms when nothing is
 * lost) and the wall time of the simulation loop alone. No trace is
 * written: this measures the kernel and the network model. */
#include <dsim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  DsimChannel *ch;
  DsimPid peer;
  uint32_t rounds, done;
  unsigned char msg[16];
} Pinger;

static void send16(DsimChannel *ch, DsimPid dst, const unsigned char *bytes) {
  DsimPayload *p = dsim_payload_new(bytes, 16, NULL);
  dsim_channel_send_to(ch, &dst, 1, p, NULL);
  dsim_payload_unref(p);
}

static void pinger_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  Pinger *p = state;
  DsimPid me;
  (void)self, (void)argc;
  p->ch = dsim_channel_open(w, NULL);
  dsim_channel_join(p->ch, "pinger", &me, NULL);
  p->peer = (DsimPid)strtoul(argv[0], NULL, 10);
  p->rounds = (uint32_t)strtoul(argv[1], NULL, 10);
  send16(p->ch, p->peer, p->msg);
}

static void pinger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  Pinger *p = state;
  (void)w, (void)self, (void)m;
  if (++p->done < p->rounds) send16(p->ch, p->peer, p->msg);
}

static void ponger_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  DsimPid me;
  (void)self, (void)state, (void)argc, (void)argv;
  dsim_channel_join(dsim_channel_open(w, NULL), "ponger", &me, NULL);
}

static void ponger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  DsimPid src = dsim_message_src(m);
  (void)w, (void)self, (void)state;
  dsim_channel_send_to(dsim_message_channel(m), &src, 1, dsim_message_payload(m), NULL);
}

static const DsimProcClass pinger = {"pinger", sizeof(Pinger), pinger_start, pinger_message, NULL, NULL};
static const DsimProcClass ponger = {"ponger", 0, ponger_start, ponger_message, NULL, NULL};

static double seconds_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "clean";
  unsigned pairs = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
  unsigned rounds = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 1000;
  if (pairs == 0 || rounds == 0 || strcmp(mode, "clean") != 0) {
    fprintf(stderr, "usage: %s [clean] [PAIRS>0] [ROUNDS>0]\n", argv[0]);
    return 2;
  }
  DsimWorldConfig cfg = {.seed = 1, .until = DSIM_TIME_NEVER, .max_events = 0};
  DsimWorld *w = dsim_world_new(&cfg);
  DsimNet *net = dsim_net_get(w);
  char peer[16], nrounds[16];
  snprintf(nrounds, sizeof nrounds, "%u", rounds);
  for (unsigned i = 0; i < pairs; i++) {
    DsimPid pong = dsim_cproc_spawn(w, &ponger, 0, NULL);
    snprintf(peer, sizeof peer, "%u", pong);
    const char *args[] = {peer, nrounds};
    dsim_cproc_spawn(w, &pinger, 2, args);
  }
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dsim_world_run(w);
  double loop = seconds_since(&t0);
  char t[32];
  const DsimNetStats *st = dsim_net_stats(net);
  printf("mode %s pairs %u rounds %u: %llu delivered, %llu dropped, end t=%s, loop %.3f s, %.2f M msgs/s\n",
         mode, pairs, rounds, (unsigned long long)st->delivered, (unsigned long long)st->dropped,
         dsim_time_format(dsim_world_now(w), t, sizeof t), loop, (double)st->delivered / loop / 1e6);
  dsim_world_free(w);
  return 0;
}
