/* net.c — the network model: per-link configuration (defaults plus rules by
 * pid or subgroup), partitions, the message pool, and the send path that
 * decides each copy's fate.
 *
 * The fate of a message is drawn from the *sender's* network stream
 * (dsim_proc_net_rng), in this fixed order: loss, delay of the original,
 * duplication, delay of the duplicate. So what happens to one process's
 * messages does not depend on how many messages other processes send.
 *
 * The fault-free path (no rules, no partitions, no loss) draws nothing for a
 * constant delay and touches no hash table. */
#include "channel_internal.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(dsim-channel-error-quark, dsim_channel_error)

#define SLAB_MESSAGES 256

/* ---------------------------------------------------------------- config */

void dsim_link_config_init(DsimLinkConfig *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->fields = DSIM_LINK_DELAY | DSIM_LINK_LOSS | DSIM_LINK_DUPLICATE;
  cfg->delay.kind = DSIM_DELAY_CONSTANT;
  cfg->delay.a = DSIM_NS_PER_MS;
  cfg->delay.b = DSIM_NS_PER_MS;
}

static gboolean check_probability(const char *name, double p, GError **error) {
  if (!(p >= 0.0 && p <= 1.0)) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                "%s must be a probability between 0 and 1 (got %g)", name, p);
    return FALSE;
  }
  return TRUE;
}

gboolean dsim_link_config_validate(const DsimLinkConfig *cfg, GError **error) {
  if (cfg->fields & DSIM_LINK_DELAY) {
    const DsimDelay *d = &cfg->delay;
    if (d->a < 0 || d->b < 0) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "delay must not be negative");
      return FALSE;
    }
    if (d->kind == DSIM_DELAY_UNIFORM && d->b < d->a) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                  "delay: uniform needs min <= max");
      return FALSE;
    }
    if (d->kind != DSIM_DELAY_CONSTANT && d->kind != DSIM_DELAY_UNIFORM) {
      g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "delay: unknown kind %d",
                  (int)d->kind);
      return FALSE;
    }
  }
  if ((cfg->fields & DSIM_LINK_LOSS) && !check_probability("loss", cfg->loss, error)) return FALSE;
  if ((cfg->fields & DSIM_LINK_DUPLICATE) && !check_probability("duplicate", cfg->duplicate, error))
    return FALSE;
  return TRUE;
}

static void append_double(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.15g", v);
  if (g_ascii_strtod(buf, NULL) != v) g_ascii_formatd(buf, sizeof buf, "%.17g", v);
  g_string_append(out, buf);
}

void dsim_link_config_to_json(const DsimLinkConfig *cfg, bool all, GString *out) {
  const char *sep = "";
  g_string_append_c(out, '{');
  if (all || (cfg->fields & DSIM_LINK_DELAY)) {
    const DsimDelay *d = &cfg->delay;
    if (d->kind == DSIM_DELAY_CONSTANT)
      g_string_append_printf(out, "\"delay\":[\"constant\",%" G_GINT64_FORMAT "]", d->a);
    else
      g_string_append_printf(out, "\"delay\":[\"uniform\",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]",
                             d->a, d->b);
    sep = ",";
  }
  if (all || (cfg->fields & DSIM_LINK_LOSS)) {
    g_string_append_printf(out, "%s\"loss\":", sep);
    append_double(out, cfg->loss);
    sep = ",";
  }
  if (all || (cfg->fields & DSIM_LINK_DUPLICATE)) {
    g_string_append_printf(out, "%s\"duplicate\":", sep);
    append_double(out, cfg->duplicate);
  }
  g_string_append_c(out, '}');
}

/* ---------------------------------------------------------------- net */

static void net_free(void *obj) {
  DsimNet *net = obj;
  for (guint i = 0; i < net->channels->len; i++) dsim_channel_free(g_ptr_array_index(net->channels, i));
  g_ptr_array_unref(net->channels);
  g_hash_table_unref(net->channel_by_name);
  for (guint i = 0; i < net->partitions->len; i++) {
    DsimPartition *p = &g_array_index(net->partitions, DsimPartition, i);
    g_array_unref(p->a);
    g_array_unref(p->b);
  }
  g_array_unref(net->partitions);
  g_array_unref(net->rules);
  g_ptr_array_unref(net->group_names);
  g_hash_table_unref(net->group_ids);
  g_ptr_array_unref(net->message_slabs);
  g_hash_table_unref(net->classes);
  g_hash_table_unref(net->kinds);
  g_free(net);
}

/* In-flight messages are events in the world's queue; when the world goes
 * away their payloads must be released (the records themselves live in the
 * slabs). */
static void dispose_in_flight(DsimWorld *world, void *obj) {
  (void)world;
  DsimMessage *m = obj;
  dsim_payload_unref(m->payload);
  m->payload = NULL;
}

static void net_detach(void *obj) {
  DsimNet *net = obj;
  dsim_world_discard_events(net->world, dsim_channel_deliver, dispose_in_flight);
  net_free(net);
}

static void on_stopped(DsimWorld *world, DsimPid pid, bool crashed, void *data) {
  (void)world;
  DsimNet *net = data;
  for (guint i = 0; i < net->channels->len; i++)
    dsim_channel_discard(g_ptr_array_index(net->channels, i), pid, crashed ? "crash" : "exited");
}

DsimNet *dsim_net_get(DsimWorld *world) {
  DsimNet *net = dsim_world_attached(world, DSIM_SLOT_NET);
  if (net) return net;
  net = g_new0(DsimNet, 1);
  net->world = world;
  dsim_link_config_init(&net->defaults);
  net->rules = g_array_new(FALSE, FALSE, sizeof(DsimLinkRule));
  net->partitions = g_array_new(FALSE, FALSE, sizeof(DsimPartition));
  net->channels = g_ptr_array_new();
  net->channel_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  net->group_names = g_ptr_array_new_with_free_func(g_free);
  net->group_ids = g_hash_table_new(g_str_hash, g_str_equal);
  net->message_slabs = g_ptr_array_new_with_free_func(g_free);
  net->mailbox_limit = 1000000;
  net->classes = g_hash_table_new(g_str_hash, g_str_equal);
  net->kinds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  dsim_world_attach(world, DSIM_SLOT_NET, net, net_detach);
  static const DsimProcListener listener = {.stopped = on_stopped};
  dsim_world_add_listener(world, &listener, net);
  return net;
}

gboolean dsim_net_set_defaults(DsimNet *net, const DsimLinkConfig *cfg, GError **error) {
  DsimLinkConfig c = *cfg;
  c.fields = DSIM_LINK_DELAY | DSIM_LINK_LOSS | DSIM_LINK_DUPLICATE;
  if (!dsim_link_config_validate(&c, error)) return FALSE;
  net->defaults = c;
  net->loss_threshold = dsim_probability_threshold(c.loss);
  net->dup_threshold = dsim_probability_threshold(c.duplicate);
  DsimTrace *tr = dsim_world_trace(net->world);
  if (tr) {
    GString *j = g_string_new(NULL);
    dsim_link_config_to_json(&c, true, j);
    dsim_trace_begin(tr, dsim_world_now(net->world), "config");
    dsim_trace_raw(tr, "defaults", j->str);
    dsim_trace_end(tr);
    g_string_free(j, TRUE);
  }
  return TRUE;
}

const DsimLinkConfig *dsim_net_defaults(const DsimNet *net) {
  return &net->defaults;
}

void dsim_net_set_mailbox_limit(DsimNet *net, uint32_t limit) {
  net->mailbox_limit = limit ? limit : 1;
}

const DsimNetStats *dsim_net_stats(const DsimNet *net) {
  return &net->stats;
}

uint32_t dsim_net_group_id(DsimNet *net, const char *name) {
  gpointer v = g_hash_table_lookup(net->group_ids, name);
  if (v) return GPOINTER_TO_UINT(v) - 1;
  uint32_t id = net->group_names->len;
  char *copy = g_strdup(name);
  g_ptr_array_add(net->group_names, copy);
  g_hash_table_insert(net->group_ids, copy, GUINT_TO_POINTER(id + 1));
  return id;
}

static DsimSel make_sel(DsimNet *net, const DsimSelector *s) {
  DsimSel r;
  if (s->group) {
    r.group_sel = true;
    r.value = dsim_net_group_id(net, s->group);
  } else {
    r.group_sel = false;
    r.value = s->pid;
  }
  return r;
}

static bool sel_match(const DsimNet *net, const DsimSel *s, DsimPid pid) {
  if (!s->group_sel) return s->value == pid;
  for (guint i = 0; i < net->channels->len; i++) {
    const DsimMember *m = dsim_member_peek(g_ptr_array_index(net->channels, i), pid);
    if (m && m->group == s->value + 1) return true;
  }
  return false;
}

static void sel_to_json(const DsimNet *net, const DsimSel *s, GString *out) {
  if (s->group_sel)
    dsim_json_escape(out, g_ptr_array_index(net->group_names, s->value), (size_t)-1, 200);
  else
    g_string_append_printf(out, "%u", s->value);
}

gboolean dsim_net_set_link(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const DsimLinkConfig *cfg, GError **error) {
  if (!dsim_link_config_validate(cfg, error)) return FALSE;
  DsimLinkRule r = {make_sel(net, from), make_sel(net, to), *cfg};
  g_array_append_val(net->rules, r);
  DsimTrace *tr = dsim_world_trace(net->world);
  if (tr) {
    GString *j = g_string_new(NULL);
    dsim_trace_begin(tr, dsim_world_now(net->world), "config");
    sel_to_json(net, &r.from, j);
    dsim_trace_raw(tr, "from", j->str);
    g_string_truncate(j, 0);
    sel_to_json(net, &r.to, j);
    dsim_trace_raw(tr, "to", j->str);
    g_string_truncate(j, 0);
    dsim_link_config_to_json(cfg, false, j);
    dsim_trace_raw(tr, "link", j->str);
    dsim_trace_end(tr);
    g_string_free(j, TRUE);
  }
  return TRUE;
}

void dsim_net_link_config(DsimNet *net, DsimPid src, DsimPid dst, DsimLinkConfig *out) {
  *out = net->defaults;
  for (guint i = 0; i < net->rules->len; i++) {
    const DsimLinkRule *r = &g_array_index(net->rules, DsimLinkRule, i);
    if (!sel_match(net, &r->from, src) || !sel_match(net, &r->to, dst)) continue;
    if (r->cfg.fields & DSIM_LINK_DELAY) out->delay = r->cfg.delay;
    if (r->cfg.fields & DSIM_LINK_LOSS) out->loss = r->cfg.loss;
    if (r->cfg.fields & DSIM_LINK_DUPLICATE) out->duplicate = r->cfg.duplicate;
  }
}

char *dsim_net_config_json(const DsimNet *net) {
  GString *j = g_string_new(NULL);
  dsim_link_config_to_json(&net->defaults, true, j);
  g_string_truncate(j, j->len - 1); /* reopen the object */
  g_string_append(j, ",\"links\":[");
  for (guint i = 0; i < net->rules->len; i++) {
    const DsimLinkRule *r = &g_array_index(net->rules, DsimLinkRule, i);
    g_string_append(j, i ? ",{\"from\":" : "{\"from\":");
    sel_to_json(net, &r->from, j);
    g_string_append(j, ",\"to\":");
    sel_to_json(net, &r->to, j);
    g_string_append(j, ",\"link\":");
    dsim_link_config_to_json(&r->cfg, false, j);
    g_string_append_c(j, '}');
  }
  g_string_append(j, "]}");
  return g_string_free(j, FALSE);
}

/* ---------------------------------------------------------------- partitions */

static bool sels_match(const DsimNet *net, const GArray *sels, DsimPid pid) {
  for (guint i = 0; i < sels->len; i++)
    if (sel_match(net, &g_array_index(sels, DsimSel, i), pid)) return true;
  return false;
}

bool dsim_net_partitioned(DsimNet *net, DsimPid src, DsimPid dst) {
  for (guint i = 0; i < net->partitions->len; i++) {
    const DsimPartition *p = &g_array_index(net->partitions, DsimPartition, i);
    if (sels_match(net, p->a, src) && sels_match(net, p->b, dst)) return true;
    if (!p->oneway && sels_match(net, p->b, src) && sels_match(net, p->a, dst)) return true;
  }
  return false;
}

static void sels_to_json(const DsimNet *net, const GArray *sels, GString *out) {
  g_string_append_c(out, '[');
  for (guint i = 0; i < sels->len; i++) {
    if (i) g_string_append_c(out, ',');
    sel_to_json(net, &g_array_index(sels, DsimSel, i), out);
  }
  g_string_append_c(out, ']');
}

uint32_t dsim_net_partition(DsimNet *net, const DsimSelector *a, size_t na, const DsimSelector *b,
                            size_t nb, bool oneway) {
  DsimPartition p = {++net->next_partition, oneway, g_array_new(FALSE, FALSE, sizeof(DsimSel)),
                     g_array_new(FALSE, FALSE, sizeof(DsimSel))};
  for (size_t i = 0; i < na; i++) {
    DsimSel s = make_sel(net, &a[i]);
    g_array_append_val(p.a, s);
  }
  for (size_t i = 0; i < nb; i++) {
    DsimSel s = make_sel(net, &b[i]);
    g_array_append_val(p.b, s);
  }
  g_array_append_val(net->partitions, p);
  DsimTrace *tr = dsim_world_trace(net->world);
  if (tr) {
    GString *j = g_string_new(NULL);
    dsim_trace_begin(tr, dsim_world_now(net->world), "partition");
    dsim_trace_u64(tr, "id", p.id);
    sels_to_json(net, p.a, j);
    dsim_trace_raw(tr, "a", j->str);
    g_string_truncate(j, 0);
    sels_to_json(net, p.b, j);
    dsim_trace_raw(tr, "b", j->str);
    dsim_trace_bool(tr, "oneway", oneway);
    dsim_trace_end(tr);
    g_string_free(j, TRUE);
  }
  return p.id;
}

unsigned dsim_net_heal(DsimNet *net, uint32_t id) {
  unsigned healed = 0;
  for (guint i = 0; i < net->partitions->len;) {
    DsimPartition *p = &g_array_index(net->partitions, DsimPartition, i);
    if (id != 0 && p->id != id) {
      i++;
      continue;
    }
    DsimTrace *tr = dsim_world_trace(net->world);
    if (tr) {
      dsim_trace_begin(tr, dsim_world_now(net->world), "heal");
      dsim_trace_u64(tr, "id", p->id);
      dsim_trace_end(tr);
    }
    g_array_unref(p->a);
    g_array_unref(p->b);
    g_array_remove_index(net->partitions, i); /* keeps the order of the rest */
    healed++;
  }
  return healed;
}

/* ---------------------------------------------------------------- messages */

DsimMessage *dsim_net_message_alloc(DsimNet *net) {
  if (G_UNLIKELY(!net->free_messages)) {
    DsimMessage *slab = g_new(DsimMessage, SLAB_MESSAGES);
    g_ptr_array_add(net->message_slabs, slab);
    for (int i = SLAB_MESSAGES; i-- > 0;) {
      slab[i].next = net->free_messages;
      net->free_messages = &slab[i];
    }
  }
  DsimMessage *m = net->free_messages;
  net->free_messages = m->next;
  m->next = NULL;
  return m;
}

void dsim_net_message_release(DsimNet *net, DsimMessage *m) {
  dsim_payload_unref(m->payload);
  m->payload = NULL;
  m->next = net->free_messages;
  net->free_messages = m;
}

void dsim_net_trace_drop(DsimNet *net, const DsimMessage *m, const char *reason) {
  DsimTrace *tr = dsim_world_trace(net->world);
  if (!tr) return;
  dsim_trace_begin(tr, dsim_world_now(net->world), "drop");
  dsim_trace_u64(tr, "mid", m->mid);
  dsim_trace_u64(tr, "copy", m->copy);
  dsim_trace_u64(tr, "src", m->src);
  dsim_trace_u64(tr, "dst", m->dst);
  dsim_trace_str(tr, "reason", reason, (size_t)-1, 64);
  dsim_trace_end(tr);
}

static inline DsimTime sample_delay(const DsimDelay *d, DsimRng *rng) {
  if (d->kind == DSIM_DELAY_CONSTANT || d->b <= d->a) return d->a;
  return d->a + (DsimTime)dsim_rng_below(rng, (uint64_t)(d->b - d->a));
}

#define PREVIEW_BYTES 64

static void trace_send(DsimNet *net, DsimTrace *tr, const DsimMessage *m) {
  const DsimPayload *p = m->payload;
  dsim_trace_begin(tr, m->sent_at, "send");
  dsim_trace_u64(tr, "mid", m->mid);
  dsim_trace_str(tr, "ch", m->ch->name, (size_t)-1, 200);
  dsim_trace_u64(tr, "src", m->src);
  dsim_trace_u64(tr, "dst", m->dst);
  dsim_trace_u64(tr, "size", p->len);
  if (p->type && p->type->render) {
    GString *s = g_string_sized_new(PREVIEW_BYTES + 8);
    p->type->render(p->data, p->len, s, PREVIEW_BYTES);
    dsim_trace_str(tr, "data", s->str, s->len, PREVIEW_BYTES);
    g_string_free(s, TRUE);
  } else {
    dsim_trace_str(tr, "data", (const char *)p->data, p->len, PREVIEW_BYTES);
  }
  dsim_trace_end(tr);
  (void)net;
}

void dsim_net_send_copy(DsimNet *net, DsimChannel *ch, DsimPid src, DsimPid dst, DsimPayload *p) {
  DsimWorld *w = net->world;
  DsimTime now = dsim_world_now(w);
  DsimMessage *m = dsim_net_message_alloc(net);
  m->ch = ch;
  m->payload = dsim_payload_ref(p);
  m->mid = ++net->next_mid;
  m->sent_at = now;
  m->src = src;
  m->dst = dst;
  m->copy = 0;
  net->stats.sent++;
  DsimTrace *tr = dsim_world_trace(w);
  if (tr) trace_send(net, tr, m);

  const DsimLinkConfig *cfg = &net->defaults;
  uint64_t loss_t = net->loss_threshold, dup_t = net->dup_threshold;
  DsimLinkConfig resolved;
  if (G_UNLIKELY(net->rules->len)) {
    dsim_net_link_config(net, src, dst, &resolved);
    cfg = &resolved;
    loss_t = dsim_probability_threshold(resolved.loss);
    dup_t = dsim_probability_threshold(resolved.duplicate);
  }
  if (G_UNLIKELY(net->partitions->len) && dsim_net_partitioned(net, src, dst)) {
    net->stats.dropped++;
    net->stats.dropped_partition++;
    dsim_net_trace_drop(net, m, "partition");
    dsim_net_message_release(net, m);
    return;
  }
  DsimRng *rng = dsim_proc_net_rng(w, src);
  if (dsim_rng_chance(rng, loss_t)) {
    net->stats.dropped++;
    net->stats.dropped_loss++;
    dsim_net_trace_drop(net, m, "loss");
    dsim_net_message_release(net, m);
    return;
  }
  DsimTime delay = sample_delay(&cfg->delay, rng);
  dsim_world_schedule(w, now + delay, dsim_channel_deliver, m);
  if (dsim_rng_chance(rng, dup_t)) {
    DsimMessage *d = dsim_net_message_alloc(net);
    *d = *m;
    d->next = NULL;
    d->copy = 1;
    dsim_payload_ref(d->payload);
    net->stats.duplicated++;
    if (tr) {
      dsim_trace_begin(tr, now, "dup");
      dsim_trace_u64(tr, "mid", d->mid);
      dsim_trace_u64(tr, "copy", d->copy);
      dsim_trace_u64(tr, "src", src);
      dsim_trace_u64(tr, "dst", dst);
      dsim_trace_end(tr);
    }
    dsim_world_schedule(w, now + sample_delay(&cfg->delay, rng), dsim_channel_deliver, d);
  }
}
