/* echo.c — request-reply in C: the server echoes every request back to its
 * sender; the client sends "req <n>" requests one at a time, retransmits the
 * current one when no reply arrives within the timeout, ignores stale or
 * duplicate replies, and records a check when all replies are in.
 *
 * Everything goes through the same channel as Lua processes use, so Lua and
 * C processes can talk to each other. */
#include "echo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- server */

typedef struct {
  DsimChannel *ch;
  uint64_t served;
} EchoServer;

static void server_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)argc;
  (void)argv;
  EchoServer *s = state;
  DsimPid pid;
  s->ch = dsim_channel_open(w, NULL);
  g_assert(dsim_channel_join(s->ch, "echo_server", &pid, NULL) && pid == self);
}

static void server_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)w;
  (void)self;
  EchoServer *s = state;
  DsimPid src = dsim_message_src(m);
  s->served++;
  /* The reply shares the request's payload: no copy. */
  dsim_channel_send_to(s->ch, &src, 1, dsim_message_payload(m), NULL);
}

const DsimProcClass dsim_echo_server_class = {
    .name = "echo_server",
    .state_size = sizeof(EchoServer),
    .start = server_start,
    .message = server_message,
};

/* ---------------------------------------------------------------- client */

typedef struct {
  DsimChannel *ch;
  DsimPid server;
  uint32_t total, next; /* requests to make; the one in flight (1-based) */
  uint32_t retransmissions;
  DsimTime timeout;
  DsimTimerId timer;
} EchoClient;

static void client_send(DsimWorld *w, EchoClient *c) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "req %u", c->next);
  DsimPayload *p = dsim_payload_new(buf, (size_t)n, NULL);
  dsim_channel_send_to(c->ch, &c->server, 1, p, NULL);
  dsim_payload_unref(p);
  c->timer = dsim_cproc_timer(w, c->timeout, c->next);
}

static void client_start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  EchoClient *c = state;
  DsimPid pid;
  c->ch = dsim_channel_open(w, NULL);
  g_assert(dsim_channel_join(c->ch, "echo_client", &pid, NULL) && pid == self);
  c->total = argc >= 1 ? (uint32_t)strtoul(argv[0], NULL, 10) : 3;
  c->timeout = 100 * DSIM_NS_PER_MS;
  if (argc >= 2 && !dsim_time_parse(argv[1], &c->timeout, NULL)) c->timeout = 100 * DSIM_NS_PER_MS;
  size_t n;
  const DsimPid *servers = dsim_channel_subgroup(c->ch, "echo_server", &n);
  if (n == 0) {
    dsim_world_check(w, self, false, "echo_client: no echo_server has joined", NULL);
    dsim_cproc_exit(w);
    return;
  }
  c->server = servers[0];
  c->next = 1;
  if (c->total == 0) {
    dsim_cproc_exit(w);
    return;
  }
  client_send(w, c);
}

static void client_message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  EchoClient *c = state;
  char expect[32];
  int n = snprintf(expect, sizeof expect, "req %u", c->next);
  const DsimPayload *p = dsim_message_payload(m);
  if (c->next > c->total || dsim_payload_len(p) != (size_t)n ||
      memcmp(dsim_payload_data(p), expect, (size_t)n) != 0)
    return; /* a late duplicate of an earlier reply */
  dsim_timer_cancel(w, c->timer);
  if (c->next == c->total) {
    char msg[96];
    snprintf(msg, sizeof msg, "echo_client got all %u replies (%u retransmissions)", c->total,
             c->retransmissions);
    dsim_world_check(w, self, true, msg, "examples/protocols/echo.c");
    c->next++;
    dsim_cproc_exit(w);
    return;
  }
  c->next++;
  client_send(w, c);
}

static void client_timer(DsimWorld *w, DsimPid self, void *state, uint64_t tag) {
  (void)self;
  EchoClient *c = state;
  if (tag != c->next) return;
  c->retransmissions++;
  client_send(w, c);
}

const DsimProcClass dsim_echo_client_class = {
    .name = "echo_client",
    .state_size = sizeof(EchoClient),
    .start = client_start,
    .message = client_message,
    .timer = client_timer,
};

void dsim_examples_register(DsimWorld *world) {
  g_assert(dsim_class_register(world, &dsim_echo_server_class, NULL));
  g_assert(dsim_class_register(world, &dsim_echo_client_class, NULL));
}
