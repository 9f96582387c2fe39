/* test_channel.c — every channel operation of the textbook and its errors,
 * selective receive, blocking waits and timeouts, bind, crash discards,
 * overflow, partitions. Processes here are a test kind driven by callbacks
 * so that each test can script exactly what a process does. */
#include <string.h>

#include "dsim/channel.h"
#include "test_util.h"

/* ---------------------------------------------------------------- a scriptable process */

typedef struct TProc TProc;
typedef void (*TStep)(DsimWorld *w, TProc *p);

typedef struct {
  DsimWakeKind kind;
  DsimPid src;
  char data[64];
  DsimTime at;
} Wake;

struct TProc {
  DsimPid pid;
  DsimChannel *ch;
  TStep on_start;
  TStep on_wake; /* after the wake was recorded */
  Wake wakes[32];
  int nwakes;
  void *user;
};

static void t_start(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl) {
  (void)ops;
  TProc *p = impl;
  p->pid = pid;
  if (p->on_start) p->on_start(w, p);
}

static void t_wake(DsimWorld *w, DsimPid pid, const DsimProcOps *ops, void *impl, DsimWakeKind kind,
                   void *data) {
  (void)ops;
  (void)pid;
  TProc *p = impl;
  Wake *k = &p->wakes[p->nwakes++];
  k->kind = kind;
  k->at = dsim_world_now(w);
  if (kind == DSIM_WAKE_MESSAGE) {
    const DsimMessage *m = data;
    DsimPayload *pl = dsim_message_payload(m);
    k->src = dsim_message_src(m);
    size_t n = MIN(dsim_payload_len(pl), sizeof k->data - 1);
    memcpy(k->data, dsim_payload_data(pl), n);
    k->data[n] = '\0';
  }
  if (p->on_wake) p->on_wake(w, p);
}

static const DsimProcOps tproc_ops = {.kind = "test", .start = t_start, .wake = t_wake};

static TProc *tproc_spawn(DsimWorld *w, TStep on_start) {
  TProc *p = g_new0(TProc, 1);
  p->on_start = on_start;
  p->ch = dsim_channel_open(w, NULL);
  p->pid = dsim_proc_spawn(w, &tproc_ops, p, "test");
  return p;
}

/* Runs fn as if process p were running (the kernel sets self the same way). */
typedef struct {
  TProc *p;
  TStep fn;
} Act;
static bool act_event(DsimWorld *w, void *obj) {
  Act *a = obj;
  a->fn(w, a->p);
  g_free(a);
  return true;
}
static void act_at(DsimWorld *w, DsimTime t, TProc *p, TStep fn);

static DsimWorld *world_with_net(void) {
  DsimWorld *w = dsim_world_new(NULL);
  dsim_net_get(w);
  return w;
}

static void world_free_procs(DsimWorld *w, TProc **procs, int n) {
  dsim_world_free(w);
  for (int i = 0; i < n; i++) g_free(procs[i]);
}

/* The kernel only sets self while it runs a process's callbacks; scripted
 * actions borrow a zero-delay timer owned by the process for that. */
static void act_timer(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)owner;
  (void)tag;
  act_event(w, data);
}
static void act_at(DsimWorld *w, DsimTime t, TProc *p, TStep fn) {
  Act *a = g_new(Act, 1);
  a->p = p;
  a->fn = fn;
  dsim_timer_start(w, p->pid, t - dsim_world_now(w), act_timer, a, 0);
}

static void send_str(TProc *p, DsimPid dst, const char *s) {
  DsimPayload *pl = dsim_payload_new(s, strlen(s), NULL);
  GError *e = NULL;
  assert_true(dsim_channel_send_to(p->ch, &dst, 1, pl, &e));
  dsim_payload_unref(pl);
}

static void join_as(DsimWorld *w, TProc *p, const char *group) {
  (void)w;
  DsimPid pid;
  assert_true(dsim_channel_join(p->ch, group, &pid, NULL));
  assert_int_equal(pid, p->pid);
}
static void join_server(DsimWorld *w, TProc *p) {
  join_as(w, p, "server");
}
static void join_client(DsimWorld *w, TProc *p) {
  join_as(w, p, "client");
}

/* ---------------------------------------------------------------- join, subgroup */

static void join_and_subgroups(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  TProc *s = tproc_spawn(w, join_server);
  TProc *c1 = tproc_spawn(w, join_client);
  TProc *c2 = tproc_spawn(w, join_client);
  DsimChannel *ch = dsim_channel_open(w, NULL);
  assert_ptr_equal(ch, dsim_channel_open(w, "default"));
  assert_string_equal(dsim_channel_name(ch), "default");
  DsimPid reserved;
  assert_true(dsim_channel_join(ch, "client", &reserved, NULL)); /* outside a process */
  assert_int_equal(reserved, 4);
  assert_int_equal(dsim_proc_state(w, reserved), DSIM_PROC_RESERVED);
  dsim_world_run(w);
  size_t n;
  const DsimPid *clients = dsim_channel_subgroup(ch, "client", &n);
  assert_int_equal(n, 3); /* join order: reserved (joined first), c1, c2 */
  assert_int_equal(clients[0], reserved);
  assert_int_equal(clients[1], c1->pid);
  assert_int_equal(clients[2], c2->pid);
  assert_null(dsim_channel_subgroup(ch, "nobody", &n));
  assert_int_equal(n, 0);
  assert_string_equal(dsim_channel_group_of(ch, s->pid), "server");
  assert_null(dsim_channel_group_of(ch, 99));
  assert_true(dsim_channel_is_member(ch, c2->pid));
  /* Another channel has its own members. */
  DsimChannel *other = dsim_channel_open(w, "other");
  assert_ptr_not_equal(other, ch);
  assert_false(dsim_channel_is_member(other, s->pid));
  TProc *procs[] = {s, c1, c2};
  world_free_procs(w, procs, 3);
}

static void rejoin(DsimWorld *w, TProc *p) {
  DsimPid pid;
  GError *e = NULL;
  assert_true(dsim_channel_join(p->ch, "server", &pid, NULL));
  assert_true(dsim_channel_join(p->ch, "server", &pid, NULL)); /* idempotent */
  assert_int_equal(pid, p->pid);
  assert_false(dsim_channel_join(p->ch, "client", &pid, &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_STATE);
  assert_contains(e->message, "already joined");
  g_clear_error(&e);
  size_t n;
  dsim_channel_subgroup(p->ch, "server", &n);
  assert_int_equal(n, 1);
  (void)w;
}

static void join_is_idempotent(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  TProc *p = tproc_spawn(w, rejoin);
  dsim_world_run(w);
  world_free_procs(w, &p, 1);
}

/* ---------------------------------------------------------------- errors */

static void errors_name_pid_and_operation(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  DsimChannel *ch = dsim_channel_open(w, NULL);
  GError *e = NULL;
  DsimPayload *pl = dsim_payload_new("x", 1, NULL);
  DsimPid one = 1;
  /* From scenario code: no process. */
  assert_false(dsim_channel_send_to(ch, &one, 1, pl, &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NO_PROCESS);
  assert_contains(e->message, "sendTo");
  g_clear_error(&e);
  DsimMessage *m;
  assert_false(dsim_channel_recv(ch, NULL, 0, &m, &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NO_PROCESS);
  g_clear_error(&e);
  dsim_payload_unref(pl);
  dsim_world_free(w);
}

static void not_joined_errors(DsimWorld *w, TProc *p) {
  GError *e = NULL;
  DsimPayload *pl = dsim_payload_new("x", 1, NULL);
  DsimPid server = 1;
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  /* Caller has not joined. */
  assert_false(dsim_channel_send_to(p->ch, &server, 1, pl, &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NOT_JOINED);
  char *want = g_strdup_printf("sendTo: caller pid %u has not joined channel 'default'", p->pid);
  assert_string_equal(e->message, want);
  g_free(want);
  g_clear_error(&e);
  assert_false(dsim_channel_send_to_all(p->ch, pl, &e));
  assert_contains(e->message, "sendToAll: caller");
  g_clear_error(&e);
  DsimMessage *m;
  assert_false(dsim_channel_recv(p->ch, NULL, 0, &m, &e));
  assert_contains(e->message, "recvFromAny: caller");
  g_clear_error(&e);
  assert_false(dsim_channel_wait(p->ch, NULL, 0, 0, "recvFromAny", &e));
  g_clear_error(&e);
  join_as(w, p, "client");
  /* A destination that has not joined, and one that does not exist: nothing
   * is sent, not even to the valid destinations listed first. */
  DsimPid dsts[3] = {server, p->pid + 50, server};
  uint64_t sent = st->sent;
  assert_false(dsim_channel_send_to(p->ch, dsts, 3, pl, &e));
  assert_contains(e->message, "destination pid");
  assert_contains(e->message, "does not exist");
  g_clear_error(&e);
  DsimPid unjoined = 3;
  dsts[1] = unjoined;
  assert_false(dsim_channel_send_to(p->ch, dsts, 3, pl, &e));
  want = g_strdup_printf("sendTo: destination pid %u has not joined channel 'default'", unjoined);
  assert_string_equal(e->message, want);
  g_free(want);
  g_clear_error(&e);
  assert_int_equal(st->sent, sent);
  /* Senders named in recvFrom must have joined too. */
  assert_false(dsim_channel_recv(p->ch, &unjoined, 1, &m, &e));
  assert_contains(e->message, "recvFrom: sender pid 3 has not joined");
  g_clear_error(&e);
  assert_false(dsim_channel_wait(p->ch, &unjoined, 1, 0, "recvFrom", &e));
  assert_contains(e->message, "recvFrom: sender pid 3");
  g_clear_error(&e);
  /* Negative timeout. */
  assert_false(dsim_channel_wait(p->ch, NULL, 0, -1, "recvFromAny", &e));
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID);
  assert_contains(e->message, "timeout must not be negative");
  g_clear_error(&e);
  dsim_payload_unref(pl);
}

static void verification_errors(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  TProc *s = tproc_spawn(w, join_server);
  TProc *c = tproc_spawn(w, not_joined_errors);
  TProc *idle = tproc_spawn(w, NULL); /* exists, never joins */
  dsim_world_run(w);
  TProc *procs[] = {s, c, idle};
  world_free_procs(w, procs, 3);
}

/* ---------------------------------------------------------------- send, receive */

static void client_sends_three(DsimWorld *w, TProc *p) {
  join_as(w, p, "client");
  send_str(p, 1, "a");
  send_str(p, 1, "b");
  send_str(p, 1, "c");
}

static void second_sender(DsimWorld *w, TProc *p) {
  join_as(w, p, "client");
  send_str(p, 1, "x");
}

static void take(TProc *p, const DsimPid *senders, size_t n, const char *expect) {
  DsimMessage *m = NULL;
  assert_true(dsim_channel_recv(p->ch, senders, n, &m, NULL));
  if (!expect) {
    assert_null(m);
    return;
  }
  assert_non_null(m);
  DsimPayload *pl = dsim_message_payload(m);
  assert_int_equal(dsim_payload_len(pl), strlen(expect));
  assert_memory_equal(dsim_payload_data(pl), expect, strlen(expect));
  dsim_message_free(m);
}

static void server_drains(DsimWorld *w, TProc *p) {
  (void)w;
  /* Queue holds a, x, b, c (arrival order: sends at t=0 in pid order with
   * equal delays: a b c from pid 2 first, then x from pid 3). */
  assert_int_equal(dsim_channel_queued(p->ch, p->pid), 4);
  DsimPid from3 = 3;
  take(p, &from3, 1, "x"); /* selective: takes x, leaves a b c in order */
  take(p, &from3, 1, NULL);
  take(p, NULL, 0, "a");
  take(p, NULL, 0, "b");
  take(p, NULL, 0, "c");
  take(p, NULL, 0, NULL);
}

static void fifo_and_selective_receive(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  TProc *s = tproc_spawn(w, join_server);
  TProc *a = tproc_spawn(w, client_sends_three);
  TProc *b = tproc_spawn(w, second_sender);
  act_at(w, 10 * DSIM_NS_PER_MS, s, server_drains);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(st->sent, 4);
  assert_int_equal(st->delivered, 4);
  assert_int_equal(st->received, 4);
  TProc *procs[] = {s, a, b};
  world_free_procs(w, procs, 3);
}

/* sendToAll reaches everyone, the sender too, one payload shared. */
static void broadcast(DsimWorld *w, TProc *p) {
  join_as(w, p, "server");
  DsimPayload *pl = dsim_payload_new("all", 3, NULL);
  assert_true(dsim_channel_send_to_all(p->ch, pl, NULL));
  /* 1 (ours) + 4 copies in flight */
  assert_int_equal(dsim_payload_refcount(pl), 5);
  dsim_payload_unref(pl);
}

static void wait_any(DsimWorld *w, TProc *p) {
  DsimMessage *m;
  assert_true(dsim_channel_recv(p->ch, NULL, 0, &m, NULL));
  if (m) {
    Wake *k = &p->wakes[p->nwakes++];
    k->kind = DSIM_WAKE_MESSAGE;
    k->src = dsim_message_src(m);
    dsim_message_free(m);
    return;
  }
  assert_true(dsim_channel_wait(p->ch, NULL, 0, 0, "recvFromAny", NULL));
  (void)w;
}

static void join_then_wait(DsimWorld *w, TProc *p) {
  join_as(w, p, "client");
  wait_any(w, p);
}

static void send_to_all_includes_sender(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  TProc *c[3];
  for (int i = 0; i < 3; i++) c[i] = tproc_spawn(w, join_then_wait);
  TProc *s = tproc_spawn(w, broadcast);
  s->on_wake = NULL;
  act_at(w, 1, s, wait_any);
  dsim_world_run(w);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(c[i]->nwakes, 1);
    assert_int_equal(c[i]->wakes[0].src, s->pid);
    assert_string_equal(c[i]->wakes[0].data, "all");
  }
  assert_int_equal(s->nwakes, 1); /* its own copy */
  TProc *procs[] = {c[0], c[1], c[2], s};
  world_free_procs(w, procs, 4);
}

/* ---------------------------------------------------------------- blocking */

typedef struct {
  DsimPid from;
  DsimTime timeout;
} WaitSpec;

static void wait_from(DsimWorld *w, TProc *p) {
  WaitSpec *ws = p->user;
  GError *e = NULL;
  assert_true(dsim_channel_wait(p->ch, ws->from ? &ws->from : NULL, ws->from ? 1 : 0, ws->timeout,
                                ws->from ? "recvFrom" : "recvFromAny", &e));
  assert_int_equal(dsim_proc_state(w, p->pid), DSIM_PROC_BLOCKED);
}

/* Joins, then waits once everyone else has joined (a sender named in a
 * receive must be a member already). */
static void join_wait_from(DsimWorld *w, TProc *p) {
  join_as(w, p, "server");
  act_at(w, dsim_world_now(w) + DSIM_NS_PER_MS / 2, p, wait_from);
}

static void blocking_receive_and_timeout(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  /* pid 1 waits for pid 3 only, with a 20 ms timeout. */
  WaitSpec ws = {.from = 3, .timeout = 20 * DSIM_NS_PER_MS};
  TProc *s = tproc_spawn(w, join_wait_from);
  s->user = &ws;
  TProc *a = tproc_spawn(w, client_sends_three); /* pid 2: ignored by the wait */
  TProc *b = tproc_spawn(w, second_sender);      /* pid 3: wakes it at t=1ms */
  dsim_world_run(w);
  assert_int_equal(s->nwakes, 1);
  assert_int_equal(s->wakes[0].kind, DSIM_WAKE_MESSAGE);
  assert_int_equal(s->wakes[0].src, 3);
  assert_string_equal(s->wakes[0].data, "x");
  assert_int_equal(s->wakes[0].at, DSIM_NS_PER_MS);
  /* The timeout was cancelled: the run ended at 1 ms, not 20 ms. */
  assert_int_equal(dsim_world_now(w), DSIM_NS_PER_MS);
  assert_int_equal(dsim_channel_queued(s->ch, s->pid), 3);
  assert_int_equal(dsim_proc_state(w, s->pid), DSIM_PROC_RUNNING);
  /* Waiting again for pid 3 times out after 20 ms. */
  act_at(w, 2 * DSIM_NS_PER_MS, s, wait_from);
  dsim_world_run(w);
  assert_int_equal(s->nwakes, 2);
  assert_int_equal(s->wakes[1].kind, DSIM_WAKE_TIMEOUT);
  assert_int_equal(s->wakes[1].at, 22 * DSIM_NS_PER_MS);
  TProc *procs[] = {s, a, b};
  world_free_procs(w, procs, 3);
}

static void describe_blocked_lists_waits(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  WaitSpec ws = {.from = 0, .timeout = 0};
  TProc *s = tproc_spawn(w, join_wait_from);
  s->user = &ws;
  dsim_world_run(w);
  GString *out = g_string_new(NULL);
  assert_int_equal(dsim_world_describe_blocked(w, out, 10), 1);
  assert_contains(out->str, "pid 1 (test test): recvFromAny() on channel 'default' since t=0.000500000s");
  g_string_free(out, TRUE);
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(DsimPid));
  dsim_world_blocked_pids(w, pids);
  assert_int_equal(pids->len, 1);
  g_array_unref(pids);
  world_free_procs(w, &s, 1);
}

/* ---------------------------------------------------------------- bind */

typedef struct {
  DsimPid reserved;
} BindSpec;

static void binder(DsimWorld *w, TProc *p) {
  BindSpec *b = p->user;
  GError *e = NULL;
  DsimPid spawned = p->pid;
  assert_true(dsim_channel_bind(p->ch, b->reserved, &e));
  assert_int_equal(dsim_world_self(w), b->reserved);
  assert_int_equal(dsim_proc_resolve(w, spawned), b->reserved);
  p->pid = b->reserved;
  assert_true(dsim_channel_bind(p->ch, b->reserved, NULL)); /* idempotent */
  wait_any(w, p);
}

static void bad_binder(DsimWorld *w, TProc *p) {
  GError *e = NULL;
  join_as(w, p, "x");
  assert_false(dsim_channel_bind(p->ch, 1, &e)); /* joined before binding */
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_STATE);
  assert_contains(e->message, "bind must come before any join");
  g_clear_error(&e);
  assert_false(dsim_channel_bind(p->ch, 99, &e)); /* not a member */
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NOT_JOINED);
  g_clear_error(&e);
}

static void sender_to_reserved(DsimWorld *w, TProc *p) {
  join_as(w, p, "client");
  send_str(p, 1, "to reserved"); /* queued even before the bind */
}

static void bind_after_fork(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  DsimChannel *ch = dsim_channel_open(w, NULL);
  BindSpec b;
  assert_true(dsim_channel_join(ch, "server", &b.reserved, NULL));
  assert_int_equal(b.reserved, 1);
  TProc *snd = tproc_spawn(w, sender_to_reserved);
  TProc *p = tproc_spawn(w, NULL);
  p->user = &b;
  act_at(w, 5 * DSIM_NS_PER_MS, p, binder); /* binds after the message arrived */
  TProc *bad = tproc_spawn(w, bad_binder);
  dsim_world_run(w);
  assert_int_equal(p->nwakes, 1);
  assert_int_equal(p->wakes[0].src, snd->pid);
  GError *e = NULL;
  assert_false(dsim_channel_bind(ch, 1, &e)); /* from scenario code */
  assert_error(e, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NO_PROCESS);
  g_clear_error(&e);
  TProc *procs[] = {snd, p, bad};
  world_free_procs(w, procs, 3);
}

/* ---------------------------------------------------------------- crash */

static bool crash_event(DsimWorld *w, void *obj) {
  TProc *p = obj;
  assert_true(dsim_proc_crash(w, p->pid, "test", NULL));
  return true;
}

static bool restart_event(DsimWorld *w, void *obj) {
  TProc *p = obj;
  assert_true(dsim_proc_restart(w, p->pid, NULL));
  return true;
}

static void send_after_crash(DsimWorld *w, TProc *p) {
  (void)w;
  send_str(p, 1, "too late");
}

static void crash_discards_mailbox_and_wait(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  /* pid 1 waits for pid 3 (50 ms timeout) while pid 2's three messages
   * queue up; at 10 ms it crashes. */
  WaitSpec ws = {.from = 3, .timeout = 50 * DSIM_NS_PER_MS};
  TProc *s = tproc_spawn(w, join_wait_from);
  s->user = &ws;
  TProc *a = tproc_spawn(w, client_sends_three);
  TProc *b = tproc_spawn(w, join_client);
  dsim_world_schedule(w, 10 * DSIM_NS_PER_MS, crash_event, s);
  act_at(w, 20 * DSIM_NS_PER_MS, b, send_after_crash);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(s->nwakes, 0); /* the timeout never fired */
  assert_int_equal(dsim_proc_state(w, s->pid), DSIM_PROC_CRASHED);
  assert_int_equal(dsim_channel_queued(s->ch, s->pid), 0);
  assert_int_equal(st->dropped_crashed, 4); /* 3 queued + 1 arriving later */
  assert_int_equal(dsim_world_now(w), 21 * DSIM_NS_PER_MS);
  /* Restart: the process starts over (joins again, idempotently, and waits);
   * pid 3's next message wakes it. */
  dsim_world_schedule(w, dsim_world_now(w), restart_event, s);
  act_at(w, dsim_world_now(w) + 5 * DSIM_NS_PER_MS, b, send_after_crash);
  dsim_world_run(w);
  assert_int_equal(s->nwakes, 1);
  assert_int_equal(s->wakes[0].src, 3);
  assert_string_equal(s->wakes[0].data, "too late");
  TProc *procs[] = {s, a, b};
  world_free_procs(w, procs, 3);
}

/* ---------------------------------------------------------------- overflow */

static void flood(DsimWorld *w, TProc *p) {
  join_as(w, p, "client");
  for (int i = 0; i < 10; i++) send_str(p, 1, "m");
}

static void mailbox_overflow_drops(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  dsim_net_set_mailbox_limit(dsim_net_get(w), 4);
  TProc *s = tproc_spawn(w, join_server);
  TProc *a = tproc_spawn(w, flood);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(dsim_net_get(w));
  assert_int_equal(dsim_channel_queued(s->ch, s->pid), 4);
  assert_int_equal(st->dropped_overflow, 6);
  assert_int_equal(st->delivered, 4);
  TProc *procs[] = {s, a};
  world_free_procs(w, procs, 2);
}

/* ---------------------------------------------------------------- partitions */

static void send_to_everyone(DsimWorld *w, TProc *p) {
  (void)w;
  DsimPayload *pl = dsim_payload_new("p", 1, NULL);
  assert_true(dsim_channel_send_to_all(p->ch, pl, NULL));
  dsim_payload_unref(pl);
}

static void partition_cuts_crossing_links_only(void **state) {
  (void)state;
  DsimWorld *w = world_with_net();
  DsimNet *net = dsim_net_get(w);
  TProc *s1 = tproc_spawn(w, join_server); /* 1 */
  TProc *s2 = tproc_spawn(w, join_server); /* 2 */
  TProc *c1 = tproc_spawn(w, join_client); /* 3 */
  TProc *c2 = tproc_spawn(w, join_client); /* 4 */
  dsim_world_run(w);
  DsimSelector servers = {.group = "server"}, clients = {.group = "client"};
  uint32_t id = dsim_net_partition(net, &servers, 1, &clients, 1, false);
  assert_int_equal(id, 1);
  TProc *all[] = {s1, s2, c1, c2};
  for (int i = 0; i < 4; i++) act_at(w, dsim_world_now(w), all[i], send_to_everyone);
  dsim_world_run(w);
  const DsimNetStats *st = dsim_net_stats(net);
  /* 16 copies: 8 cross the cut (2x2 each way), 8 stay inside a side. */
  assert_int_equal(st->sent, 16);
  assert_int_equal(st->dropped_partition, 8);
  assert_int_equal(st->delivered, 8);
  for (int i = 0; i < 4; i++) assert_int_equal(dsim_channel_queued(all[i]->ch, all[i]->pid), 2);
  /* One-way: clients cannot reach servers, servers can reach clients. */
  assert_int_equal(dsim_net_heal(net, 0), 1);
  dsim_net_partition(net, &clients, 1, &servers, 1, true);
  for (int i = 0; i < 4; i++) act_at(w, dsim_world_now(w), all[i], send_to_everyone);
  dsim_world_run(w);
  assert_int_equal(st->dropped_partition, 8 + 4);
  /* A message in flight when the cut is made is dropped on arrival. */
  assert_int_equal(dsim_net_heal(net, 0), 1);
  assert_int_equal(dsim_net_heal(net, 0), 0);
  act_at(w, dsim_world_now(w), c1, send_to_everyone);
  DsimSelector one = {.pid = 3}, two = {.pid = 1};
  dsim_world_run(w); /* nothing cut: 4 more delivered */
  assert_int_equal(st->dropped_partition, 12);
  act_at(w, dsim_world_now(w), c1, send_to_everyone);
  dsim_net_partition(net, &one, 1, &two, 1, false);
  dsim_world_run(w);
  assert_int_equal(st->dropped_partition, 13); /* only 3 -> 1 */
  world_free_procs(w, all, 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(join_and_subgroups),
      cmocka_unit_test(join_is_idempotent),
      cmocka_unit_test(errors_name_pid_and_operation),
      cmocka_unit_test(verification_errors),
      cmocka_unit_test(fifo_and_selective_receive),
      cmocka_unit_test(send_to_all_includes_sender),
      cmocka_unit_test(blocking_receive_and_timeout),
      cmocka_unit_test(describe_blocked_lists_waits),
      cmocka_unit_test(bind_after_fork),
      cmocka_unit_test(crash_discards_mailbox_and_wait),
      cmocka_unit_test(mailbox_overflow_drops),
      cmocka_unit_test(partition_cuts_crossing_links_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
