/* faults.c — the network's fault injection: the send path for everything
 * but the fault-free case, per-link state (FIFO, bandwidth, fault counts),
 * corruption, and messages kept from delivery by holds and paused
 * destinations.
 *
 * The fate of one copy (one destination of a send) is decided in this
 * order; every draw comes from the sender's network stream:
 *
 *   1. size limit: a payload above max_size is dropped ("too_big");
 *   2. message rules, in the order added (no draw);
 *   3. partitions and link downs in force now;
 *   4. bandwidth: the copy waits for the link, then takes size/bandwidth
 *      to transmit (no draw);
 *   5. loss: one draw if 0 < loss < 1;
 *   6. the delay of the original copy (dsim_delay_sample), plus a rule's
 *      extra delay;
 *   7. corruption of the original: one draw if 0 < corrupt < 1, then, if it
 *      is corrupted (by the draw or a rule), one draw per flipped bit
 *      (repeated if a position comes up twice);
 *   8. duplication: one draw if 0 < duplicate < 1, giving `copies` extra
 *      copies, plus a rule's extra copies; then for each extra copy in
 *      order, its delay (as 6) and its corruption (as 7).
 *
 * A probability of 0 or 1 draws nothing, so a link without faults consumes
 * exactly what the fault-free path does. Arrival (dsim_channel_deliver)
 * then checks partitions and link downs again, then holds, then the state
 * of the destination. */
#include "channel_internal.h"

#include <string.h>

#define MAX_EXTRA_COPIES 64

static const char *const fault_names[DSIM_FAULT_KINDS] = {
    [DSIM_FAULT_LOSS] = "loss",           [DSIM_FAULT_PARTITION] = "partition",
    [DSIM_FAULT_LINK_DOWN] = "link_down", [DSIM_FAULT_TOO_BIG] = "too_big",
    [DSIM_FAULT_RULE_DROP] = "rule_drop", [DSIM_FAULT_DUPLICATE] = "duplicate",
    [DSIM_FAULT_CORRUPT] = "corrupt",     [DSIM_FAULT_DELAY] = "delay",
    [DSIM_FAULT_HOLD] = "hold",
};

const char *dsim_fault_kind_name(DsimFaultKind kind) {
  return (unsigned)kind < DSIM_FAULT_KINDS ? fault_names[kind] : NULL;
}

/* ---------------------------------------------------------------- link state */

static DsimLinkState *link_state(DsimNet *net, DsimPid src, DsimPid dst) {
  uint64_t key = ((uint64_t)src << 32) | dst;
  if (G_UNLIKELY(!net->links)) {
    net->links = g_hash_table_new(g_int64_hash, g_int64_equal);
    net->link_states = g_ptr_array_new_with_free_func(g_free);
  }
  DsimLinkState *ls = g_hash_table_lookup(net->links, &key);
  if (!ls) {
    ls = g_new0(DsimLinkState, 1);
    ls->key = key;
    g_hash_table_insert(net->links, &ls->key, ls);
    g_ptr_array_add(net->link_states, ls);
  }
  return ls;
}

static DsimLinkState *link_state_peek(const DsimNet *net, DsimPid src, DsimPid dst) {
  uint64_t key = ((uint64_t)src << 32) | dst;
  return net->links ? g_hash_table_lookup(net->links, &key) : NULL;
}

void dsim_net_count_fault(DsimNet *net, DsimPid src, DsimPid dst, DsimFaultKind kind) {
  link_state(net, src, dst)->faults[kind]++;
}

static int link_faults_cmp(const void *pa, const void *pb) {
  const DsimLinkFaults *a = pa, *b = pb;
  if (a->src != b->src) return a->src < b->src ? -1 : 1;
  return a->dst < b->dst ? -1 : a->dst > b->dst;
}

void dsim_net_link_faults(const DsimNet *net, GArray *out) {
  if (!net->link_states) return;
  guint start = out->len;
  for (guint i = 0; i < net->link_states->len; i++) {
    const DsimLinkState *ls = g_ptr_array_index(net->link_states, i);
    DsimLinkFaults f = {(DsimPid)(ls->key >> 32), (DsimPid)ls->key, {0}, 0};
    for (int k = 0; k < DSIM_FAULT_KINDS; k++) {
      f.count[k] = ls->faults[k];
      f.total += ls->faults[k];
    }
    if (f.total) g_array_append_val(out, f);
  }
  if (out->len - start > 1)
    qsort(out->data + (size_t)start * sizeof(DsimLinkFaults), out->len - start, sizeof(DsimLinkFaults),
          link_faults_cmp);
}

/* ---------------------------------------------------------------- drops, traces */

static void fault_drop(DsimNet *net, DsimMessage *m, const char *reason, DsimFaultKind kind,
                       uint64_t *counter, const char *cause, uint32_t cut, uint32_t rule) {
  net->stats.dropped++;
  (*counter)++;
  dsim_net_count_fault(net, m->src, m->dst, kind);
  DsimTrace *tr = dsim_world_trace(net->world);
  if (tr) {
    if (rule) {
      /* dsim_net_trace_drop() plus the rule's id. */
      dsim_trace_begin(tr, dsim_world_now(net->world), "drop");
      dsim_trace_u64(tr, "mid", m->mid);
      dsim_net_trace_copy(tr, m->copy);
      dsim_trace_u64(tr, "src", m->src);
      dsim_trace_u64(tr, "dst", m->dst);
      dsim_trace_str(tr, "reason", reason, (size_t)-1, 64);
      dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
      dsim_trace_u64(tr, "rule", rule);
      dsim_trace_end(tr);
    } else {
      dsim_net_trace_drop(net, m, reason, cause, cut);
    }
  }
  dsim_net_message_release(net, m);
}

/* A fault event about one copy: ev, mid, copy, src, dst, then the caller's
 * fields, then dsim_trace_end(). Returns NULL when tracing is off. */
static DsimTrace *trace_copy_event(DsimNet *net, const char *ev, const DsimMessage *m) {
  DsimTrace *tr = dsim_world_trace(net->world);
  if (!tr) return NULL;
  dsim_trace_begin(tr, dsim_world_now(net->world), ev);
  dsim_trace_u64(tr, "mid", m->mid);
  dsim_net_trace_copy(tr, m->copy);
  dsim_trace_u64(tr, "src", m->src);
  dsim_trace_u64(tr, "dst", m->dst);
  return tr;
}

static void trace_cause(DsimTrace *tr, const char *cause, uint32_t rule) {
  dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
  if (rule) dsim_trace_u64(tr, "rule", rule);
}

/* ---------------------------------------------------------------- corruption */

/* Replaces the copy's payload with a private copy in which `bits` distinct
 * bit positions are flipped (copy-on-write: the shared payload, which other
 * copies and the sender may still hold, is never written). An empty
 * payload has nothing to flip and is left alone. */
static void corrupt_copy(DsimNet *net, DsimMessage *m, uint32_t bits, DsimRng *rng, const char *cause,
                         uint32_t rule) {
  DsimPayload *old = m->payload;
  uint64_t nbits = (uint64_t)old->len * 8;
  if (nbits == 0) return;
  if (bits > nbits) bits = (uint32_t)nbits;
  if (bits > 64) bits = 64;
  void *buf;
  DsimPayload *p = dsim_payload_new_uninit(old->len, old->type, &buf);
  memcpy(buf, old->data, old->len);
  uint64_t pos[64];
  for (uint32_t i = 0; i < bits; i++) {
    bool again;
    do {
      pos[i] = dsim_rng_below(rng, nbits);
      again = false;
      for (uint32_t k = 0; k < i && !again; k++) again = pos[k] == pos[i];
    } while (again);
    ((unsigned char *)buf)[pos[i] >> 3] ^= (unsigned char)(1u << (pos[i] & 7));
  }
  dsim_payload_unref(old);
  m->payload = p;
  m->flags |= DSIM_MSG_CORRUPTED;
  net->stats.corrupted++;
  dsim_net_count_fault(net, m->src, m->dst, DSIM_FAULT_CORRUPT);
  DsimTrace *tr = trace_copy_event(net, "corrupt", m);
  if (tr) {
    dsim_trace_u64(tr, "bits", bits);
    trace_cause(tr, cause, rule);
    dsim_trace_end(tr);
  }
}

/* ---------------------------------------------------------------- rules */

/* Runs the message rules on m. Returns the id of the rule that decided
 * (its action in *act), or 0. */
static uint32_t run_rules(DsimNet *net, const DsimMessage *m, DsimRuleAction *act) {
  for (guint i = 0; i < net->msg_rules->len; i++) {
    const DsimMsgRule *r = &g_array_index(net->msg_rules, DsimMsgRule, i);
    if (!r->any_from && !dsim_net_sel_match(net, &r->from, m->src)) continue;
    if (!r->any_to && !dsim_net_sel_match(net, &r->to, m->dst)) continue;
    DsimRuleAction a = {0};
    uint32_t id = r->id;
    net->in_rule = true;
    bool decided = r->fn(net, m, r->data, &a);
    net->in_rule = false;
    if (decided) {
      if (a.duplicate > MAX_EXTRA_COPIES) a.duplicate = MAX_EXTRA_COPIES;
      if (a.delay < 0) a.delay = 0;
      if (a.delay > DSIM_DELAY_CAP) a.delay = DSIM_DELAY_CAP;
      *act = a;
      return id;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- send */

static inline DsimTime add_time(DsimTime t, DsimTime d) {
  return d <= DSIM_TIME_NEVER - t ? t + d : DSIM_TIME_NEVER;
}

static void schedule_arrival(DsimNet *net, DsimMessage *m, DsimTime at, const DsimLinkConfig *cfg) {
  if (cfg->ordering == DSIM_ORDER_FIFO) {
    /* Never before an earlier copy on this link; equal times arrive in the
     * order they were scheduled, which is the order of sending. */
    DsimLinkState *ls = link_state(net, m->src, m->dst);
    if (at < ls->last_arrival) at = ls->last_arrival;
    ls->last_arrival = at;
  }
  dsim_world_schedule(net->world, at, dsim_channel_deliver, m);
}

/* Delay, corruption and scheduling of one copy that survived loss. */
static void launch_copy(DsimNet *net, DsimMessage *m, DsimTime depart, const DsimLinkConfig *cfg,
                        uint64_t corrupt_t, bool rule_corrupt, const DsimRuleAction *act, uint32_t rule,
                        DsimRng *rng) {
  DsimTime delay = dsim_delay_sample(&cfg->delay, rng);
  if (act->delay) {
    delay += act->delay;
    net->stats.delayed++;
    dsim_net_count_fault(net, m->src, m->dst, DSIM_FAULT_DELAY);
    DsimTrace *tr = trace_copy_event(net, "delay", m);
    if (tr) {
      dsim_trace_i64(tr, "extra", act->delay);
      trace_cause(tr, DSIM_CAUSE_RULE, rule);
      dsim_trace_end(tr);
    }
  }
  if (rule_corrupt)
    corrupt_copy(net, m, cfg->corrupt_bits, rng, DSIM_CAUSE_RULE, rule);
  else if (dsim_rng_chance(rng, corrupt_t))
    corrupt_copy(net, m, cfg->corrupt_bits, rng, DSIM_CAUSE_CONFIG, 0);
  schedule_arrival(net, m, add_time(depart, delay), cfg);
}

void dsim_net_send_faulty(DsimNet *net, DsimMessage *m) {
  DsimWorld *w = net->world;
  DsimTime now = dsim_world_now(w);
  DsimPid src = m->src, dst = m->dst;
  DsimLinkConfig cfg;
  if (net->rules->len)
    dsim_net_link_config(net, src, dst, &cfg);
  else
    cfg = net->defaults;

  if (cfg.max_size && m->payload->len > cfg.max_size) {
    fault_drop(net, m, "too_big", DSIM_FAULT_TOO_BIG, &net->stats.dropped_too_big, DSIM_CAUSE_CONFIG, 0, 0);
    return;
  }
  DsimRuleAction act = {0};
  uint32_t rule = net->msg_rules->len ? run_rules(net, m, &act) : 0;
  if (act.drop) {
    fault_drop(net, m, "rule", DSIM_FAULT_RULE_DROP, &net->stats.dropped_rule, DSIM_CAUSE_RULE, 0, rule);
    return;
  }
  if (net->cuts->len) {
    const DsimCut *c = dsim_net_cut_between(net, src, dst, true);
    if (c) {
      bool part = c->kind == DSIM_CUT_PARTITION;
      fault_drop(net, m, part ? "partition" : "link_down", part ? DSIM_FAULT_PARTITION : DSIM_FAULT_LINK_DOWN,
                 part ? &net->stats.dropped_partition : &net->stats.dropped_link_down, c->cause, c->id, 0);
      return;
    }
  }
  DsimTime depart = now;
  if (cfg.bandwidth) {
    /* The link sends one copy at a time: this one starts when the link is
     * free and takes ceil(size * 1e9 / bandwidth) ns. */
    DsimLinkState *ls = link_state(net, src, dst);
    DsimTime start = ls->busy_until > now ? ls->busy_until : now;
    unsigned __int128 ns = ((unsigned __int128)m->payload->len * 1000000000u + cfg.bandwidth - 1) / cfg.bandwidth;
    depart = add_time(start, ns > (unsigned __int128)DSIM_DELAY_CAP ? DSIM_DELAY_CAP : (DsimTime)ns);
    ls->busy_until = depart;
  }
  DsimRng *rng = dsim_proc_net_rng(w, src);
  if (dsim_rng_chance(rng, dsim_probability_threshold(cfg.loss))) {
    fault_drop(net, m, "loss", DSIM_FAULT_LOSS, &net->stats.dropped_loss, DSIM_CAUSE_CONFIG, 0, 0);
    return;
  }
  uint64_t corrupt_t = dsim_probability_threshold(cfg.corrupt);
  /* Duplicates are copies of what was sent, not of what corruption made of
   * the original. */
  DsimPayload *sent = dsim_payload_ref(m->payload);
  launch_copy(net, m, depart, &cfg, corrupt_t, act.corrupt, &act, rule, rng);
  uint32_t config_copies = dsim_rng_chance(rng, dsim_probability_threshold(cfg.duplicate)) ? cfg.copies : 0;
  uint32_t extra = config_copies + act.duplicate;
  for (uint32_t k = 1; k <= extra; k++) {
    DsimMessage *d = dsim_net_message_alloc(net);
    d->ch = m->ch;
    d->payload = dsim_payload_ref(sent);
    d->mid = m->mid;
    d->sent_at = m->sent_at;
    d->src = src;
    d->dst = dst;
    d->copy = k;
    d->flags = 0;
    net->stats.duplicated++;
    dsim_net_count_fault(net, src, dst, DSIM_FAULT_DUPLICATE);
    DsimTrace *tr = trace_copy_event(net, "dup", d);
    if (tr) {
      if (k <= config_copies)
        trace_cause(tr, DSIM_CAUSE_CONFIG, 0);
      else
        trace_cause(tr, DSIM_CAUSE_RULE, rule);
      dsim_trace_end(tr);
    }
    launch_copy(net, d, depart, &cfg, corrupt_t, false, &act, rule, rng);
  }
  dsim_payload_unref(sent);
}

/* ---------------------------------------------------------------- arrival */

static void park(DsimNet *net, DsimMessage *m, uint32_t hold) {
  DsimParked p = {m, hold};
  if (!net->parked) net->parked = g_array_new(FALSE, FALSE, sizeof(DsimParked));
  g_array_append_val(net->parked, p);
  net->stats.held++;
  if (hold) dsim_net_count_fault(net, m->src, m->dst, DSIM_FAULT_HOLD);
  DsimTrace *tr = trace_copy_event(net, "held", m);
  if (tr) {
    dsim_trace_str(tr, "reason", hold ? "hold" : "paused", (size_t)-1, 16);
    if (hold) dsim_trace_u64(tr, "hold", hold);
    dsim_trace_end(tr);
  }
}

bool dsim_net_arrival_fault(DsimNet *net, DsimMessage *m) {
  DsimWorld *w = net->world;
  if (net->releasing) {
    if (m->flags & DSIM_MSG_RELEASED) {
      m->flags &= ~DSIM_MSG_RELEASED;
      link_state(net, m->src, m->dst)->releasing--;
      net->releasing--;
    } else {
      /* Copies released from a hold or a pause go first: one that arrives
       * at the same instant waits behind them, so that a FIFO link stays
       * in order across a release. */
      const DsimLinkState *ls = link_state_peek(net, m->src, m->dst);
      if (ls && ls->releasing) {
        dsim_world_schedule(w, dsim_world_now(w), dsim_channel_deliver, m);
        return true;
      }
    }
  }
  if (net->cuts->len) {
    const DsimCut *c = dsim_net_cut_between(net, m->src, m->dst, true);
    if (c) {
      bool part = c->kind == DSIM_CUT_PARTITION;
      fault_drop(net, m, part ? "partition" : "link_down", part ? DSIM_FAULT_PARTITION : DSIM_FAULT_LINK_DOWN,
                 part ? &net->stats.dropped_partition : &net->stats.dropped_link_down, c->cause, c->id, 0);
      return true;
    }
    c = dsim_net_cut_between(net, m->src, m->dst, false);
    if (c) {
      park(net, m, c->id);
      return true;
    }
  }
  DsimProcState state = dsim_proc_state(w, m->dst);
  if (state == DSIM_PROC_CRASHED || state == DSIM_PROC_EXITED) {
    dsim_channel_drop(net, m, state == DSIM_PROC_CRASHED ? "crashed" : "exited", &net->stats.dropped_crashed);
    return true;
  }
  if (state == DSIM_PROC_PAUSED) {
    park(net, m, 0);
    return true;
  }
  return false;
}

unsigned dsim_net_unpark(DsimNet *net, uint32_t hold, DsimPid dst) {
  if (!net->parked) return 0;
  DsimWorld *w = net->world;
  DsimTime now = dsim_world_now(w);
  guint kept = 0;
  unsigned released = 0;
  for (guint i = 0; i < net->parked->len; i++) {
    DsimParked p = g_array_index(net->parked, DsimParked, i);
    bool match = hold ? p.hold == hold : p.hold == 0 && p.m->dst == dst;
    if (!match) {
      g_array_index(net->parked, DsimParked, kept++) = p;
      continue;
    }
    p.m->flags |= DSIM_MSG_RELEASED;
    link_state(net, p.m->src, p.m->dst)->releasing++;
    net->releasing++;
    dsim_world_schedule(w, now, dsim_channel_deliver, p.m);
    released++;
  }
  g_array_set_size(net->parked, kept);
  return released;
}

void dsim_net_discard_parked(DsimNet *net, DsimPid dst, const char *reason) {
  if (!net->parked) return;
  guint kept = 0;
  for (guint i = 0; i < net->parked->len; i++) {
    DsimParked p = g_array_index(net->parked, DsimParked, i);
    if (p.hold == 0 && p.m->dst == dst)
      dsim_channel_drop(net, p.m, reason, &net->stats.dropped_crashed);
    else
      g_array_index(net->parked, DsimParked, kept++) = p;
  }
  g_array_set_size(net->parked, kept);
}

size_t dsim_net_held_now(const DsimNet *net) {
  return net->parked ? net->parked->len : 0;
}

void dsim_net_faults_free(DsimNet *net) {
  if (net->parked) {
    for (guint i = 0; i < net->parked->len; i++)
      dsim_net_message_release(net, g_array_index(net->parked, DsimParked, i).m);
    g_array_unref(net->parked);
  }
  if (net->links) g_hash_table_unref(net->links);
  if (net->link_states) g_ptr_array_unref(net->link_states);
}
