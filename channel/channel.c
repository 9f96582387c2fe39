/* channel.c — the textbook channel: membership, input queues, selective
 * receive and blocking waits, and delivery of arriving messages.
 *
 * Members are kept per channel in chunks indexed by pid, so finding a
 * (channel, pid) pair on the delivery path is two loads. Input queues are
 * intrusive FIFO lists of the in-flight message records themselves: a
 * delivered message is queued without copying or allocating. */
#include "channel_internal.h"

#include <string.h>

static const char *const DEFAULT_NAME = "default";

/* ---------------------------------------------------------------- members */

static DsimMember *member_get(DsimChannel *ch, DsimPid pid) {
  g_assert(pid != DSIM_PID_NONE);
  uint32_t i = pid - 1;
  size_t c = i >> DSIM_MEMBER_CHUNK_BITS;
  if (c >= ch->chunks_len) {
    ch->chunks = g_renew(DsimMember *, ch->chunks, c + 1);
    memset(ch->chunks + ch->chunks_len, 0, (c + 1 - ch->chunks_len) * sizeof(DsimMember *));
    ch->chunks_len = c + 1;
  }
  if (!ch->chunks[c]) ch->chunks[c] = g_new0(DsimMember, DSIM_MEMBER_CHUNK);
  return &ch->chunks[c][i & (DSIM_MEMBER_CHUNK - 1)];
}

static inline const DsimMember *joined(const DsimChannel *ch, DsimPid pid) {
  const DsimMember *m = dsim_member_peek(ch, pid);
  return m && m->group ? m : NULL;
}

bool dsim_channel_is_member(const DsimChannel *ch, DsimPid pid) {
  return joined(ch, pid) != NULL;
}

const char *dsim_channel_group_of(const DsimChannel *ch, DsimPid pid) {
  const DsimMember *m = joined(ch, pid);
  return m ? g_ptr_array_index(ch->net->group_names, m->group - 1) : NULL;
}

uint32_t dsim_channel_queued(const DsimChannel *ch, DsimPid pid) {
  const DsimMember *m = dsim_member_peek(ch, pid);
  return m ? m->count : 0;
}

/* ---------------------------------------------------------------- open/free */

DsimChannel *dsim_channel_open(DsimWorld *world, const char *name) {
  DsimNet *net = dsim_net_get(world);
  if (!name) name = DEFAULT_NAME;
  DsimChannel *ch = g_hash_table_lookup(net->channel_by_name, name);
  if (ch) return ch;
  ch = g_new0(DsimChannel, 1);
  ch->net = net;
  ch->name = g_strdup(name);
  if (strcmp(name, DEFAULT_NAME) != 0) {
    ch->name_json = g_string_new(NULL);
    dsim_json_escape(ch->name_json, name, (size_t)-1, DSIM_TRACE_NAME_MAX);
  }
  ch->order = g_array_new(FALSE, FALSE, sizeof(DsimPid));
  ch->groups = g_hash_table_new(g_str_hash, g_str_equal);
  g_ptr_array_add(net->channels, ch);
  g_hash_table_insert(net->channel_by_name, ch->name, ch);
  return ch;
}

static void group_free(gpointer p) {
  DsimGroup *g = p;
  g_array_unref(g->pids);
  g_free(g);
}

static void member_clear_wait(DsimWorld *w, DsimMember *m) {
  if (!m->waiting) return;
  m->waiting = false;
  if (m->wait_timer) dsim_timer_cancel(w, m->wait_timer);
  m->wait_timer = 0;
  g_free(m->wait_senders);
  m->wait_senders = NULL;
  m->wait_n = 0;
}

void dsim_channel_free(DsimChannel *ch) {
  for (size_t c = 0; c < ch->chunks_len; c++) {
    DsimMember *chunk = ch->chunks[c];
    if (!chunk) continue;
    for (uint32_t i = 0; i < DSIM_MEMBER_CHUNK; i++) {
      DsimMember *m = &chunk[i];
      while (m->head) {
        DsimMessage *msg = m->head;
        m->head = msg->next;
        dsim_net_message_release(ch->net, msg);
      }
      g_free(m->wait_senders); /* the world is going away, its timers too */
    }
    g_free(chunk);
  }
  g_free(ch->chunks);
  g_free(ch->joined_bits);
  GHashTableIter it;
  gpointer k, v;
  /* Freeing in hash order is harmless: nothing observable depends on it. */
  g_hash_table_iter_init(&it, ch->groups);
  while (g_hash_table_iter_next(&it, &k, &v)) group_free(v);
  g_hash_table_unref(ch->groups);
  g_array_unref(ch->order);
  g_free(ch->name);
  if (ch->name_json) g_string_free(ch->name_json, TRUE);
  g_free(ch);
}

const char *dsim_channel_name(const DsimChannel *ch) {
  return ch->name;
}

DsimWorld *dsim_channel_world(const DsimChannel *ch) {
  return ch->net->world;
}

/* ---------------------------------------------------------------- join, bind */

static gboolean need_process(DsimChannel *ch, const char *op, DsimPid *self, GError **error) {
  *self = dsim_world_self(ch->net->world);
  if (*self == DSIM_PID_NONE) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NO_PROCESS,
                "%s must be called from inside a process (scenario code is not a process)", op);
    return FALSE;
  }
  return TRUE;
}

static G_GNUC_NO_INLINE gboolean not_joined(DsimChannel *ch, const char *op, const char *role,
                                             DsimPid pid, GError **error) {
  if (!dsim_proc_exists(ch->net->world, pid))
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NOT_JOINED,
                "%s: %s pid %u does not exist", op, role, pid);
  else
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_NOT_JOINED,
                "%s: %s pid %u has not joined channel '%s'", op, role, pid, ch->name);
  return FALSE;
}

/* The membership check of every operation: a bit test, with the error path
 * kept out of line. */
static inline gboolean need_joined(DsimChannel *ch, const char *op, const char *role, DsimPid pid,
                                   GError **error) {
  if (G_LIKELY(dsim_channel_joined_bit(ch, pid))) return TRUE;
  return not_joined(ch, op, role, pid, error);
}

gboolean dsim_channel_join(DsimChannel *ch, const char *subgroup, DsimPid *pid_out, GError **error) {
  DsimWorld *w = ch->net->world;
  if (!subgroup) subgroup = "";
  DsimPid self = dsim_world_self(w);
  bool reserved = false;
  DsimPid pid = self;
  uint32_t gid = dsim_net_group_id(ch->net, subgroup);
  if (self != DSIM_PID_NONE) {
    DsimMember *m = member_get(ch, self);
    if (m->group) {
      if (m->group == gid + 1) {
        *pid_out = self;
        return TRUE;
      }
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_STATE,
                  "join: pid %u already joined channel '%s' in subgroup '%s'", self, ch->name,
                  dsim_channel_group_of(ch, self));
      return FALSE;
    }
  } else {
    pid = dsim_proc_reserve(w);
    reserved = true;
  }
  DsimMember *m = member_get(ch, pid);
  m->group = gid + 1;
  size_t word = pid >> 6;
  if (word >= ch->joined_words) {
    size_t n = MAX(word + 1, ch->joined_words * 2);
    ch->joined_bits = g_renew(uint64_t, ch->joined_bits, n);
    memset(ch->joined_bits + ch->joined_words, 0, (n - ch->joined_words) * sizeof(uint64_t));
    ch->joined_words = n;
  }
  ch->joined_bits[word] |= UINT64_C(1) << (pid & 63);
  g_array_append_val(ch->order, pid);
  DsimGroup *g = g_hash_table_lookup(ch->groups, subgroup);
  if (!g) {
    g = g_new0(DsimGroup, 1);
    g->id = gid;
    g->pids = g_array_new(FALSE, FALSE, sizeof(DsimPid));
    g_hash_table_insert(ch->groups, g_ptr_array_index(ch->net->group_names, gid), g);
  }
  g_array_append_val(g->pids, pid);
  DsimTrace *tr = dsim_world_trace(w);
  if (tr) {
    dsim_trace_begin(tr, dsim_world_now(w), "join");
    dsim_trace_u64(tr, "pid", pid);
    dsim_net_trace_ch(tr, ch);
    dsim_trace_str(tr, "group", subgroup, (size_t)-1, 200);
    if (reserved) dsim_trace_bool(tr, "reserved", true);
    dsim_trace_end(tr);
  }
  *pid_out = pid;
  return TRUE;
}

gboolean dsim_channel_bind(DsimChannel *ch, DsimPid pid, GError **error) {
  DsimPid self;
  if (!need_process(ch, "bind", &self, error)) return FALSE;
  if (!need_joined(ch, "bind", "target", pid, error)) return FALSE;
  if (pid == self) return TRUE;
  for (guint i = 0; i < ch->net->channels->len; i++) {
    DsimChannel *other = g_ptr_array_index(ch->net->channels, i);
    if (joined(other, self)) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_STATE,
                  "bind: pid %u already joined channel '%s' under its own pid; bind must come "
                  "before any join",
                  self, other->name);
      return FALSE;
    }
  }
  GError *e = NULL;
  if (!dsim_proc_adopt(ch->net->world, self, pid, &e)) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_STATE, "bind: %s", e->message);
    g_error_free(e);
    return FALSE;
  }
  return TRUE;
}

const DsimPid *dsim_channel_subgroup(DsimChannel *ch, const char *name, size_t *n) {
  DsimGroup *g = g_hash_table_lookup(ch->groups, name ? name : "");
  if (!g) {
    *n = 0;
    return NULL;
  }
  *n = g->pids->len;
  return (const DsimPid *)(void *)g->pids->data;
}

/* ---------------------------------------------------------------- send */

gboolean dsim_channel_send_to(DsimChannel *ch, const DsimPid *dsts, size_t n, DsimPayload *payload,
                              GError **error) {
  DsimPid self;
  g_assert(!ch->net->in_rule); /* a message rule must not send */
  if (!need_process(ch, "sendTo", &self, error)) return FALSE;
  if (!need_joined(ch, "sendTo", "caller", self, error)) return FALSE;
  /* Check every destination before sending any copy: all or nothing. */
  for (size_t i = 0; i < n; i++)
    if (!need_joined(ch, "sendTo", "destination", dsts[i], error)) return FALSE;
  for (size_t i = 0; i < n; i++) dsim_net_send_copy(ch->net, ch, self, dsts[i], payload);
  return TRUE;
}

gboolean dsim_channel_send_to_all(DsimChannel *ch, DsimPayload *payload, GError **error) {
  DsimPid self;
  g_assert(!ch->net->in_rule); /* a message rule must not send */
  if (!need_process(ch, "sendToAll", &self, error)) return FALSE;
  if (!need_joined(ch, "sendToAll", "caller", self, error)) return FALSE;
  /* The member list may grow while we send (it cannot: sending runs no
   * process code), but take the length once to make that obvious. */
  guint n = ch->order->len;
  for (guint i = 0; i < n; i++)
    dsim_net_send_copy(ch->net, ch, self, g_array_index(ch->order, DsimPid, i), payload);
  return TRUE;
}

/* ---------------------------------------------------------------- receive */

static inline bool sender_matches(const DsimPid *senders, size_t n, DsimPid src) {
  if (n == 0) return true;
  for (size_t i = 0; i < n; i++)
    if (senders[i] == src) return true;
  return false;
}

static void trace_recv(DsimWorld *w, const DsimMessage *m) {
  DsimTrace *tr = dsim_world_trace(w);
  if (tr) dsim_trace_recv(tr, dsim_world_now(w), m->mid, m->copy, m->dst, m->src);
}

static gboolean check_senders(DsimChannel *ch, const char *op, const DsimPid *senders, size_t n,
                              GError **error) {
  for (size_t i = 0; i < n; i++)
    if (!need_joined(ch, op, "sender", senders[i], error)) return FALSE;
  return TRUE;
}

gboolean dsim_channel_recv(DsimChannel *ch, const DsimPid *senders, size_t n, DsimMessage **out,
                           GError **error) {
  DsimPid self;
  const char *op = n ? "recvFrom" : "recvFromAny";
  *out = NULL;
  if (!need_process(ch, op, &self, error)) return FALSE;
  if (!need_joined(ch, op, "caller", self, error)) return FALSE;
  if (!check_senders(ch, op, senders, n, error)) return FALSE;
  DsimMember *m = member_get(ch, self);
  DsimMessage *prev = NULL;
  for (DsimMessage *msg = m->head; msg; prev = msg, msg = msg->next) {
    if (!sender_matches(senders, n, msg->src)) continue;
    if (prev)
      prev->next = msg->next;
    else
      m->head = msg->next;
    if (m->tail == msg) m->tail = prev;
    msg->next = NULL;
    m->count--;
    ch->net->stats.received++;
    trace_recv(ch->net->world, msg);
    *out = msg;
    return TRUE;
  }
  return TRUE;
}

static void describe_wait(DsimWorld *w, DsimPid pid, void *arg, GString *out) {
  (void)w;
  DsimChannel *ch = arg;
  const DsimMember *m = dsim_member_peek(ch, pid);
  g_string_append_printf(out, "%s(", m && m->wait_op ? m->wait_op : "receive");
  if (m && m->wait_n) {
    g_string_append_c(out, '{');
    for (uint32_t i = 0; i < m->wait_n; i++)
      g_string_append_printf(out, i ? ",%u" : "%u", m->wait_senders[i]);
    g_string_append_c(out, '}');
  }
  g_string_append_printf(out, ") on channel '%s'", ch->name);
  if (m && m->count) g_string_append_printf(out, " with %u other message(s) queued", m->count);
}

static void wait_timeout(DsimWorld *w, DsimPid owner, void *data, uint64_t tag) {
  (void)tag;
  DsimChannel *ch = data;
  DsimMember *m = member_get(ch, owner);
  g_assert(m->waiting);
  const char *op = m->wait_op;
  m->wait_timer = 0; /* it fired: nothing to cancel */
  member_clear_wait(w, m);
  DsimTrace *tr = dsim_world_trace(w);
  if (tr) {
    dsim_trace_begin(tr, dsim_world_now(w), "timeout");
    dsim_trace_u64(tr, "pid", owner);
    dsim_trace_str(tr, "op", op, (size_t)-1, 64);
    dsim_net_trace_ch(tr, ch);
    dsim_trace_end(tr);
  }
  dsim_proc_wake(w, owner, DSIM_WAKE_TIMEOUT, NULL);
}

gboolean dsim_channel_wait(DsimChannel *ch, const DsimPid *senders, size_t n, DsimTime timeout,
                           const char *op, GError **error) {
  DsimPid self;
  DsimWorld *w = ch->net->world;
  if (!need_process(ch, op, &self, error)) return FALSE;
  if (!need_joined(ch, op, "caller", self, error)) return FALSE;
  if (!check_senders(ch, op, senders, n, error)) return FALSE;
  if (timeout < 0) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                "%s: timeout must not be negative", op);
    return FALSE;
  }
  DsimMember *m = member_get(ch, self);
  g_assert(!m->waiting);
  m->waiting = true;
  m->wait_op = op;
  m->wait_n = (uint32_t)n;
  m->wait_senders = n ? g_memdup2(senders, n * sizeof *senders) : NULL;
  m->wait_timer = timeout > 0 ? dsim_timer_start(w, self, timeout, wait_timeout, ch, 0) : 0;
  dsim_proc_block(w, self, describe_wait, ch);
  return TRUE;
}

/* ---------------------------------------------------------------- delivery */

void dsim_channel_drop(DsimNet *net, DsimMessage *m, const char *reason, uint64_t *counter) {
  net->stats.dropped++;
  (*counter)++;
  dsim_net_trace_drop(net, m, reason, NULL, 0);
  dsim_net_message_release(net, m);
}

static void trace_deliver(DsimTrace *tr, DsimWorld *w, const DsimMessage *m) {
  dsim_trace_deliver(tr, dsim_world_now(w), m->mid, m->copy, m->src, m->dst, m->flags & DSIM_MSG_CORRUPTED);
}

bool dsim_channel_deliver(DsimWorld *w, void *obj) {
  DsimMessage *msg = obj;
  DsimChannel *ch = msg->ch;
  DsimNet *net = ch->net;
  DsimTrace *tr = dsim_world_trace(w);
  DsimPid dst = msg->dst;
  DsimProcState state = dsim_proc_state(w, dst);
  /* One test on the fault-free path: no topology fault, no release in
   * progress, and a destination that is running or blocked. */
  if (G_UNLIKELY(net->cuts->len || net->releasing || (state != DSIM_PROC_RUNNING && state != DSIM_PROC_BLOCKED)) &&
      dsim_net_arrival_fault(net, msg))
    return true;
  const DsimProcOps *ops = dsim_proc_ops(w, dst);
  if (ops && ops->direct_delivery) {
    net->stats.delivered++;
    if (G_UNLIKELY(tr)) trace_deliver(tr, w, msg);
    dsim_proc_wake(w, dst, DSIM_WAKE_MESSAGE, msg);
    dsim_net_message_release(net, msg);
    return true;
  }
  DsimMember *m = member_get(ch, dst);
  if (m->waiting && sender_matches(m->wait_senders, m->wait_n, msg->src)) {
    net->stats.delivered++;
    net->stats.received++;
    if (G_UNLIKELY(tr)) {
      trace_deliver(tr, w, msg);
      trace_recv(w, msg);
    }
    member_clear_wait(w, m);
    dsim_proc_wake(w, dst, DSIM_WAKE_MESSAGE, msg);
    dsim_net_message_release(net, msg);
    return true;
  }
  if (G_UNLIKELY(m->count >= net->mailbox_limit)) {
    dsim_channel_drop(net, msg, "overflow", &net->stats.dropped_overflow);
    return true;
  }
  net->stats.delivered++;
  if (G_UNLIKELY(tr)) trace_deliver(tr, w, msg);
  msg->next = NULL;
  if (m->tail)
    m->tail->next = msg;
  else
    m->head = msg;
  m->tail = msg;
  m->count++;
  return true;
}

void dsim_channel_discard(DsimChannel *ch, DsimPid pid, const char *reason) {
  DsimMember *m = dsim_member_peek(ch, pid);
  if (!m) return;
  member_clear_wait(ch->net->world, m);
  while (m->head) {
    DsimMessage *msg = m->head;
    m->head = msg->next;
    m->count--;
    dsim_channel_drop(ch->net, msg, reason, &ch->net->stats.dropped_crashed);
  }
  m->tail = NULL;
}
