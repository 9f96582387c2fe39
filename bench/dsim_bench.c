/* dsim_bench.c — the anchor workloads (../shared/bench/WORKLOADS.md) as
 * handler-based C processes on libdsim, through the real channel API:
 * every message is a sendTo on the default channel, carried by the network
 * model (1 ms constant delay, or uniform [1 ms, 10 ms) for W2) and
 * delivered to the destination's message handler.
 *
 *   dsim_bench w1 P M | w2 N K | w3 C R | idle N 0   [--trace FILE] [--digest]
 *
 * `idle N 0` spawns N processes that join the channel and then wait for
 * messages that never come: the marginal memory of an idle C process.
 *
 * Without options nothing is traced (the library default); --digest
 * formats every trace line and hashes it as `dsim run` does; --trace FILE
 * also writes it. Prints one RESULT line in the format bench/run.py reads
 * (the same keys as the anchor implementations). The wall clock is read
 * here, around the run loop only: the simulator itself never reads it. */
#define _POSIX_C_SOURCE 199309L
#include <dsim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char PAYLOAD[16] = "0123456789abcdef";

typedef struct {
  DsimChannel *ch;
  DsimPayload *payload; /* one shared 16-byte payload for every message */
  uint64_t delivered;
  uint64_t w2_k;
  uint32_t w1_m, w3_r;
  uint32_t n; /* W2: number of processes */
} Bench;

static Bench B;

static inline void send1(DsimPid dst) {
  dsim_channel_send_to(B.ch, &dst, 1, B.payload, NULL);
}

/* Every process joins at start; pids are 1..n in spawn order. */
static void join_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)state, (void)argc, (void)argv, (void)self;
  DsimPid pid;
  dsim_channel_join(B.ch, "p", &pid, NULL);
  (void)w;
}

/* ---------------------------------------------------------------- W1 */
/* Pairs (2i+1 pinger, 2i+2 ponger). The pinger's first ping is sent by a
 * timer at t=0, after every process has joined. */
typedef struct {
  uint32_t rounds;
} Pinger;

static void w1_pinger_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  join_start(w, self, state, argc, argv);
  dsim_cproc_timer(w, 0, 0);
}
static void w1_pinger_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)w, (void)state, (void)tag;
  send1(self + 1);
}
static void w1_pinger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w, (void)m;
  Pinger *p = state;
  B.delivered++;
  if (++p->rounds < B.w1_m) send1(self + 1);
}
static void w1_ponger_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w, (void)self, (void)state;
  B.delivered++;
  send1(dsim_message_src(m));
}
static const DsimProcClass w1_pinger = {"pinger", sizeof(Pinger), w1_pinger_start, w1_pinger_message,
                                        w1_pinger_timer, NULL};
static const DsimProcClass w1_ponger = {"ponger", 0, join_start, w1_ponger_message, NULL, NULL};

/* ---------------------------------------------------------------- W2 */
static inline DsimPid random_other(DsimWorld *w, DsimPid self) {
  uint32_t r = (uint32_t)dsim_rng_below(dsim_proc_rng(w, self), B.n - 1) + 1; /* 1..n-1 */
  return r >= self ? r + 1 : r;
}
static void w2_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  join_start(w, self, state, argc, argv);
  dsim_cproc_timer(w, 0, 0);
}
static void w2_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)state, (void)tag;
  send1(random_other(w, self));
}
static void w2_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)state, (void)m;
  if (++B.delivered == B.w2_k) {
    dsim_world_stop(w);
    return;
  }
  send1(random_other(w, self));
}
static const DsimProcClass w2_proc = {"gossip", 0, w2_start, w2_message, w2_timer, NULL};

/* ---------------------------------------------------------------- W3 */
typedef struct {
  uint32_t done;
} Client;
static void w3_server_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w, (void)self, (void)state;
  B.delivered++;
  send1(dsim_message_src(m));
}
static void w3_client_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  join_start(w, self, state, argc, argv);
  dsim_cproc_timer(w, 0, 0);
}
static void w3_client_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)w, (void)self, (void)state, (void)tag;
  send1(1);
}
static void w3_client_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w, (void)self, (void)m;
  Client *c = state;
  B.delivered++;
  if (++c->done < B.w3_r) send1(1);
}
static const DsimProcClass w3_server = {"server", 0, join_start, w3_server_message, NULL, NULL};
static const DsimProcClass w3_client = {"client", sizeof(Client), w3_client_start, w3_client_message,
                                        w3_client_timer, NULL};

/* ---------------------------------------------------------------- main */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s w1 P M | w2 N K | w3 C R  [--trace FILE] [--digest]\n", argv[0]);
    return 2;
  }
  const char *wl = argv[1];
  long a = atol(argv[2]), b = atol(argv[3]);
  const char *trace_path = NULL;
  bool digest = false;
  for (int i = 4; i < argc; i++) {
    if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
      trace_path = argv[++i];
      digest = true;
    } else if (strcmp(argv[i], "--digest") == 0) {
      digest = true;
    } else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (a <= 0 || b < 0) {
    fprintf(stderr, "sizes must be positive\n");
    return 2;
  }
  DsimWorldConfig cfg = {.seed = 0x5eed, .until = DSIM_TIME_NEVER, .max_events = 0};
  DsimWorld *w = dsim_world_new(&cfg);
  DsimTrace *tr = NULL;
  if (digest) {
    GError *e = NULL;
    tr = dsim_trace_new(trace_path, &e);
    if (!tr) {
      fprintf(stderr, "%s\n", e->message);
      return 2;
    }
    dsim_world_set_trace(w, tr);
  }
  B.ch = dsim_channel_open(w, NULL);
  B.payload = dsim_payload_new(PAYLOAD, sizeof PAYLOAD, NULL);
  DsimLinkConfig link;
  dsim_link_config_init(&link); /* 1 ms constant */
  long procs;
  if (strcmp(wl, "w1") == 0) {
    B.w1_m = (uint32_t)b;
    for (long i = 0; i < a; i++) {
      dsim_cproc_spawn(w, &w1_pinger, 0, NULL);
      dsim_cproc_spawn(w, &w1_ponger, 0, NULL);
    }
    procs = 2 * a;
  } else if (strcmp(wl, "w2") == 0) {
    if (a < 2) {
      fprintf(stderr, "w2 needs N >= 2\n");
      return 2;
    }
    B.n = (uint32_t)a;
    B.w2_k = (uint64_t)b;
    link.delay = (DsimDelay){.kind = DSIM_DELAY_UNIFORM, .a = DSIM_NS_PER_MS, .b = 10 * DSIM_NS_PER_MS};
    for (long i = 0; i < a; i++) dsim_cproc_spawn(w, &w2_proc, 0, NULL);
    procs = a;
  } else if (strcmp(wl, "w3") == 0) {
    B.w3_r = (uint32_t)b;
    dsim_cproc_spawn(w, &w3_server, 0, NULL);
    for (long i = 0; i < a; i++) dsim_cproc_spawn(w, &w3_client, 0, NULL);
    procs = a + 1;
  } else if (strcmp(wl, "idle") == 0) {
    static const DsimProcClass idle = {"idle", 0, join_start, NULL, NULL, NULL};
    for (long i = 0; i < a; i++) dsim_cproc_spawn(w, &idle, 0, NULL);
    procs = a;
  } else {
    fprintf(stderr, "unknown workload %s\n", wl);
    return 2;
  }
  dsim_net_set_defaults(dsim_net_get(w), &link, NULL);
  if (tr) {
    char *net = dsim_net_config_json(dsim_net_get(w));
    dsim_trace_start(tr, wl, cfg.seed, DSIM_TIME_NEVER, 0, net);
    g_free(net);
  }
  double t0 = now_s();
  dsim_world_run(w);
  /* A traced run is over when its trace is complete: include the flush. */
  if (tr && !dsim_trace_finish(tr, NULL)) {
    fprintf(stderr, "trace write failed\n");
    return 1;
  }
  double t1 = now_s();
  char vt[32];
  dsim_time_format(dsim_world_now(w), vt, sizeof vt);
  vt[strlen(vt) - 1] = '\0'; /* drop the unit */
  printf("RESULT system=dsim-c%s workload=%s a=%ld b=%ld procs=%ld delivered=%llu virtual_end=%s "
         "loop_s=%.6f events=%llu%s%s\n",
         trace_path ? "-trace" : digest ? "-digest" : "", wl, a, b, procs, (unsigned long long)B.delivered,
         vt, t1 - t0, (unsigned long long)dsim_world_events(w), tr ? " digest=" : "",
         tr ? dsim_trace_digest(tr) : "");
  dsim_payload_unref(B.payload);
  dsim_world_free(w);
  return 0;
}
