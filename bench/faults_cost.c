/* faults_cost.c — what fault injection costs: W1b-style ping-pong (P pairs
 * of handler-based C processes, M round trips each, 1 ms constant latency,
 * 16-byte messages) run on the fault-free path, or with one class of fault
 * switched on so that its price can be read next to the clean run.
 *
 *   bench_faults_cost [MODE] [PAIRS] [ROUNDS]
 *
 * MODE is one of
 *   clean   the fault-free path (the default);
 *   noop    a link rule that injects nothing: the general path, no faults;
 *   lossy   1% loss and 1% duplication on every link (pingers resend what
 *           is lost after 10 ms);
 *   fifo    FIFO ordering on every link (per-link state on each send);
 *   rule    a C message rule that looks at every message and passes it.
 * The program prints the deliveries, the virtual end time (a correctness
 * check: 2 * ROUNDS ms when nothing is lost) and the wall time of the
 * simulation loop alone. No trace is written: this measures the kernel and
 * the network model. */
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

static bool lossy; /* pingers need a retransmission timer */

static void send16(DsimChannel *ch, DsimPid dst, const unsigned char *bytes) {
  DsimPayload *p = dsim_payload_new(bytes, 16, NULL);
  dsim_channel_send_to(ch, &dst, 1, p, NULL);
  dsim_payload_unref(p);
}

static void ping(DsimWorld *w, Pinger *p) {
  memcpy(p->msg, &p->done, sizeof p->done);
  send16(p->ch, p->peer, p->msg);
  if (lossy) dsim_cproc_timer(w, 10 * DSIM_NS_PER_MS, p->done);
}

static void pinger_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  Pinger *p = state;
  DsimPid me;
  (void)self, (void)argc;
  p->ch = dsim_channel_open(w, NULL);
  dsim_channel_join(p->ch, "pinger", &me, NULL);
  p->peer = (DsimPid)strtoul(argv[0], NULL, 10);
  p->rounds = (uint32_t)strtoul(argv[1], NULL, 10);
  ping(w, p);
}

static void pinger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  Pinger *p = state;
  uint32_t round;
  (void)self;
  memcpy(&round, dsim_payload_data(dsim_message_payload(m)), sizeof round);
  if (round != p->done) return; /* a duplicate, or a late pong */
  if (++p->done < p->rounds) ping(w, p);
}

static void pinger_timer(DsimWorld *w, DsimPid self, void *state, uint64_t round) {
  Pinger *p = state;
  (void)self;
  if (round == p->done && p->done < p->rounds) ping(w, p);
}

static bool pass_all(DsimNet *net, const DsimMessage *m, void *data, DsimRuleAction *action) {
  (void)net, (void)data, (void)action;
  return dsim_message_copy(m) == UINT32_MAX; /* never: looks, then passes */
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

static const DsimProcClass pinger = {"pinger", sizeof(Pinger), pinger_start, pinger_message, pinger_timer, NULL};
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
  static const char *const modes[] = {"clean", "noop", "lossy", "fifo", "rule"};
  size_t m;
  for (m = 0; m < sizeof modes / sizeof *modes; m++)
    if (strcmp(mode, modes[m]) == 0) break;
  if (pairs == 0 || rounds == 0 || m == sizeof modes / sizeof *modes) {
    fprintf(stderr, "usage: %s [clean|noop|lossy|fifo|rule] [PAIRS>0] [ROUNDS>0]\n", argv[0]);
    return 2;
  }
  DsimWorldConfig cfg = {.seed = 1, .until = DSIM_TIME_NEVER, .max_events = 0};
  DsimWorld *w = dsim_world_new(&cfg);
  DsimNet *net = dsim_net_get(w);
  DsimLinkConfig link;
  dsim_link_config_init(&link);
  DsimSelector any = {DSIM_PID_NONE, NULL};
  if (strcmp(mode, "noop") == 0) {
    link.fields = DSIM_LINK_LOSS; /* loss 0: a rule that changes nothing */
    dsim_net_set_link(net, &any, &any, &link, NULL);
  } else if (strcmp(mode, "lossy") == 0) {
    lossy = true;
    link.loss = 0.01;
    link.duplicate = 0.01;
    dsim_net_set_defaults(net, &link, NULL);
  } else if (strcmp(mode, "fifo") == 0) {
    link.ordering = DSIM_ORDER_FIFO;
    dsim_net_set_defaults(net, &link, NULL);
  } else if (strcmp(mode, "rule") == 0) {
    dsim_net_add_rule(net, NULL, NULL, "pass", pass_all, NULL, NULL);
  }
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
