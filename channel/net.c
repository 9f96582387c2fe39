/* net.c — the network model: per-link configuration (defaults plus rules by
 * pid or subgroup), topology faults (partitions, link downs, holds),
 * per-message rules, the message pool, and the fault-free send path.
 *
 * The fate of a message is drawn from the *sender's* network stream
 * (dsim_proc_net_rng), in the fixed order documented in faults.c and
 * docs/lua-api.md. So what happens to one process's messages does not
 * depend on how many messages other processes send.
 *
 * The fault-free path is one test of `plain`: while no rule, topology fault
 * or message rule exists and the defaults inject nothing, a send draws its
 * delay (nothing for a constant one) and schedules the arrival, touching no
 * hash table and allocating nothing beyond the pooled message record.
 * Everything else is in faults.c. */
#include "channel_internal.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK(dsim-channel-error-quark, dsim_channel_error)

#define SLAB_MESSAGES 256
#define MAX_COPIES 64
#define MAX_CORRUPT_BITS 64

/* ---------------------------------------------------------------- config */

void dsim_link_config_init(DsimLinkConfig *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->fields = DSIM_LINK_ALL;
  cfg->delay.kind = DSIM_DELAY_CONSTANT;
  cfg->delay.a = DSIM_NS_PER_MS;
  cfg->delay.b = DSIM_NS_PER_MS;
  cfg->copies = 1;
  cfg->corrupt_bits = 1;
  cfg->ordering = DSIM_ORDER_DATAGRAM;
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
  unsigned f = cfg->fields;
  if ((f & DSIM_LINK_DELAY) && !dsim_delay_validate(&cfg->delay, error)) return FALSE;
  if ((f & DSIM_LINK_LOSS) && !check_probability("loss", cfg->loss, error)) return FALSE;
  if ((f & DSIM_LINK_DUPLICATE) && !check_probability("duplicate", cfg->duplicate, error)) return FALSE;
  if ((f & DSIM_LINK_CORRUPT) && !check_probability("corrupt", cfg->corrupt, error)) return FALSE;
  if ((f & DSIM_LINK_COPIES) && cfg->copies > MAX_COPIES) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                "copies must be between 1 and %d (got %u)", MAX_COPIES, cfg->copies);
    return FALSE;
  }
  if ((f & DSIM_LINK_CORRUPT_BITS) && cfg->corrupt_bits > MAX_CORRUPT_BITS) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID,
                "corrupt_bits must be between 1 and %d (got %u)", MAX_CORRUPT_BITS, cfg->corrupt_bits);
    return FALSE;
  }
  if ((f & DSIM_LINK_ORDERING) && cfg->ordering != DSIM_ORDER_DATAGRAM && cfg->ordering != DSIM_ORDER_FIFO) {
    g_set_error(error, DSIM_CHANNEL_ERROR, DSIM_CHANNEL_ERROR_INVALID, "ordering: unknown mode %d",
                (int)cfg->ordering);
    return FALSE;
  }
  return TRUE;
}

static void append_double(GString *out, double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.15g", v);
  if (g_ascii_strtod(buf, NULL) != v) g_ascii_formatd(buf, sizeof buf, "%.17g", v);
  g_string_append(out, buf);
}

void dsim_link_config_to_json(const DsimLinkConfig *cfg, bool all, GString *out) {
  DsimLinkConfig dflt;
  dsim_link_config_init(&dflt);
  unsigned f = cfg->fields;
  /* The first three fields were in version 1 from the start and are always
   * written with the defaults; the later ones only when they say something,
   * so that traces of scenarios that do not use them stay as they were. */
#define SHOW(bit, differs) (all ? (bit) <= DSIM_LINK_DUPLICATE || (differs) : (f & (bit)) != 0)
  const char *sep = "";
  g_string_append_c(out, '{');
  if (SHOW(DSIM_LINK_DELAY, true)) {
    g_string_append(out, "\"delay\":");
    dsim_delay_to_json(&cfg->delay, out);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_LOSS, true)) {
    g_string_append_printf(out, "%s\"loss\":", sep);
    append_double(out, cfg->loss);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_DUPLICATE, true)) {
    g_string_append_printf(out, "%s\"duplicate\":", sep);
    append_double(out, cfg->duplicate);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_COPIES, cfg->copies > 1)) {
    g_string_append_printf(out, "%s\"copies\":%u", sep, cfg->copies ? cfg->copies : 1);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_CORRUPT, cfg->corrupt != 0)) {
    g_string_append_printf(out, "%s\"corrupt\":", sep);
    append_double(out, cfg->corrupt);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_CORRUPT_BITS, cfg->corrupt_bits > 1)) {
    g_string_append_printf(out, "%s\"corrupt_bits\":%u", sep, cfg->corrupt_bits ? cfg->corrupt_bits : 1);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_ORDERING, cfg->ordering != dflt.ordering)) {
    g_string_append_printf(out, "%s\"ordering\":\"%s\"", sep,
                           cfg->ordering == DSIM_ORDER_FIFO ? "fifo" : "datagram");
    sep = ",";
  }
  if (SHOW(DSIM_LINK_BANDWIDTH, cfg->bandwidth != 0)) {
    g_string_append_printf(out, "%s\"bandwidth\":%" G_GUINT64_FORMAT, sep, cfg->bandwidth);
    sep = ",";
  }
  if (SHOW(DSIM_LINK_MAX_SIZE, cfg->max_size != 0))
    g_string_append_printf(out, "%s\"max_size\":%u", sep, cfg->max_size);
#undef SHOW
  g_string_append_c(out, '}');
}

/* ---------------------------------------------------------------- net */

static void cut_clear(DsimCut *c) {
  g_array_unref(c->a);
  g_array_unref(c->b);
  g_free(c->cause);
}

static void msg_rule_clear(DsimMsgRule *r) {
  if (r->destroy) r->destroy(r->data);
  g_free(r->name);
}

static void net_free(void *obj) {
  DsimNet *net = obj;
  dsim_net_faults_free(net);
  if (net->nemeses) g_ptr_array_unref(net->nemeses);
  for (guint i = 0; i < net->channels->len; i++) dsim_channel_free(g_ptr_array_index(net->channels, i));
  g_ptr_array_unref(net->channels);
  g_hash_table_unref(net->channel_by_name);
  for (guint i = 0; i < net->cuts->len; i++) cut_clear(&g_array_index(net->cuts, DsimCut, i));
  g_array_unref(net->cuts);
  for (guint i = 0; i < net->msg_rules->len; i++) msg_rule_clear(&g_array_index(net->msg_rules, DsimMsgRule, i));
  g_array_unref(net->msg_rules);
  g_array_unref(net->rules);
  g_ptr_array_unref(net->group_names);
  g_hash_table_unref(net->group_ids);
  g_ptr_array_unref(net->message_slabs);
  g_hash_table_unref(net->classes);
  g_hash_table_unref(net->kinds);
  if (net->render_scratch) g_string_free(net->render_scratch, TRUE);
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
  const char *reason = crashed ? "crash" : "exit";
  for (guint i = 0; i < net->channels->len; i++)
    dsim_channel_discard(g_ptr_array_index(net->channels, i), pid, reason);
  dsim_net_discard_parked(net, pid, reason);
}

static void on_resumed(DsimWorld *world, DsimPid pid, void *data) {
  (void)world;
  dsim_net_unpark(data, 0, pid);
}

/* The next arrival's destination: its process records and its channel
 * membership (the input queue) are what the delivery and the handler it
 * wakes will read first. */
static void prefetch_delivery(DsimWorld *world, void *obj) {
  const DsimMessage *m = obj;
  dsim_world_prefetch_proc(world, m->dst);
  const DsimMember *member = dsim_member_peek(m->ch, m->dst);
  if (member) __builtin_prefetch(member);
}

DsimNet *dsim_net_get(DsimWorld *world) {
  DsimNet *net = dsim_world_attached(world, DSIM_SLOT_NET);
  if (net) return net;
  net = g_new0(DsimNet, 1);
  net->world = world;
  dsim_link_config_init(&net->defaults);
  net->rules = g_array_new(FALSE, FALSE, sizeof(DsimLinkRule));
  net->cuts = g_array_new(FALSE, FALSE, sizeof(DsimCut));
  net->msg_rules = g_array_new(FALSE, FALSE, sizeof(DsimMsgRule));
  net->channels = g_ptr_array_new();
  net->channel_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  net->group_names = g_ptr_array_new_with_free_func(g_free);
  net->group_ids = g_hash_table_new(g_str_hash, g_str_equal);
  net->message_slabs = g_ptr_array_new_with_free_func(g_free);
  net->mailbox_limit = 1000000;
  net->classes = g_hash_table_new(g_str_hash, g_str_equal);
  net->kinds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  dsim_net_update_plain(net);
  dsim_world_attach(world, DSIM_SLOT_NET, net, net_detach);
  dsim_world_set_prefetch(world, dsim_channel_deliver, prefetch_delivery);
  static const DsimProcListener listener = {.stopped = on_stopped, .resumed = on_resumed};
  dsim_world_add_listener(world, &listener, net);
  return net;
}

void dsim_net_update_plain(DsimNet *net) {
  const DsimLinkConfig *d = &net->defaults;
  net->plain = net->rules->len == 0 && net->cuts->len == 0 && net->msg_rules->len == 0 &&
               d->loss == 0 && d->duplicate == 0 && d->corrupt == 0 && d->ordering == DSIM_ORDER_DATAGRAM &&
               d->bandwidth == 0 && d->max_size == 0;
  net->plain_delay = d->delay.kind == DSIM_DELAY_CONSTANT ? (d->delay.a > d->delay.min ? d->delay.a : d->delay.min)
                                                          : -1;
}

gboolean dsim_net_set_defaults(DsimNet *net, const DsimLinkConfig *cfg, GError **error) {
  DsimLinkConfig c = *cfg;
  c.fields = DSIM_LINK_ALL;
  if (!dsim_link_config_validate(&c, error)) return FALSE;
  if (c.copies == 0) c.copies = 1;
  if (c.corrupt_bits == 0) c.corrupt_bits = 1;
  net->defaults = c;
  dsim_net_update_plain(net);
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

bool dsim_net_group_known(const DsimNet *net, const char *name) {
  for (guint i = 0; i < net->channels->len; i++) {
    size_t n;
    if (dsim_channel_subgroup(g_ptr_array_index(net->channels, i), name, &n) && n) return true;
  }
  return false;
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

bool dsim_net_sel_match(const DsimNet *net, const DsimSel *s, DsimPid pid) {
  if (!s->group_sel) return s->value == pid || s->value == DSIM_PID_NONE;
  for (guint i = 0; i < net->channels->len; i++) {
    const DsimMember *m = dsim_member_peek(g_ptr_array_index(net->channels, i), pid);
    if (m && m->group == s->value + 1) return true;
  }
  return false;
}

static void sel_to_json(const DsimNet *net, const DsimSel *s, GString *out) {
  if (s->group_sel)
    dsim_json_escape(out, g_ptr_array_index(net->group_names, s->value), (size_t)-1, 200);
  else if (s->value == DSIM_PID_NONE)
    g_string_append(out, "\"*\"");
  else
    g_string_append_printf(out, "%u", s->value);
}

void dsim_net_resolve(DsimNet *net, const DsimSelector *sels, size_t n, GArray *out) {
  guint start = out->len;
  for (size_t i = 0; i < n; i++) {
    if (!sels[i].group && sels[i].pid == DSIM_PID_NONE) {
      DsimPid count = dsim_world_proc_count(net->world);
      for (DsimPid p = 1; p <= count; p++)
        if (dsim_proc_ops(net->world, p)) g_array_append_val(out, p);
      continue;
    }
    if (!sels[i].group) {
      g_array_append_val(out, sels[i].pid);
      continue;
    }
    for (guint c = 0; c < net->channels->len; c++) {
      size_t k;
      const DsimPid *pids = dsim_channel_subgroup(g_ptr_array_index(net->channels, c), sels[i].group, &k);
      for (size_t j = 0; j < k; j++) g_array_append_val(out, pids[j]);
    }
  }
  /* Keep the first appearance of each pid (sets are small: quadratic is
   * fine, and it keeps the order without a hash). */
  guint w = start;
  for (guint r = start; r < out->len; r++) {
    DsimPid p = g_array_index(out, DsimPid, r);
    bool seen = false;
    for (guint k = start; k < w && !seen; k++) seen = g_array_index(out, DsimPid, k) == p;
    if (!seen) g_array_index(out, DsimPid, w++) = p;
  }
  g_array_set_size(out, w);
}

/* ---------------------------------------------------------------- link rules */

uint32_t dsim_net_add_link(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const DsimLinkConfig *cfg, const char *cause, GError **error) {
  if (!dsim_link_config_validate(cfg, error)) return 0;
  DsimLinkRule r = {make_sel(net, from), make_sel(net, to), *cfg, ++net->next_link_rule};
  if (r.cfg.copies == 0) r.cfg.copies = 1;
  if (r.cfg.corrupt_bits == 0) r.cfg.corrupt_bits = 1;
  g_array_append_val(net->rules, r);
  dsim_net_update_plain(net);
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
    dsim_trace_u64(tr, "id", r.id);
    dsim_trace_str(tr, "cause", cause ? cause : DSIM_CAUSE_SCENARIO, (size_t)-1, 64);
    dsim_trace_end(tr);
    g_string_free(j, TRUE);
  }
  return r.id;
}

gboolean dsim_net_set_link(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const DsimLinkConfig *cfg, GError **error) {
  return dsim_net_add_link(net, from, to, cfg, DSIM_CAUSE_SCENARIO, error) != 0;
}

bool dsim_net_remove_link(DsimNet *net, uint32_t id, const char *cause) {
  for (guint i = 0; i < net->rules->len; i++) {
    if (g_array_index(net->rules, DsimLinkRule, i).id != id) continue;
    g_array_remove_index(net->rules, i); /* keeps the order of the rest */
    dsim_net_update_plain(net);
    DsimTrace *tr = dsim_world_trace(net->world);
    if (tr) {
      dsim_trace_begin(tr, dsim_world_now(net->world), "config");
      dsim_trace_u64(tr, "removed", id);
      dsim_trace_str(tr, "cause", cause ? cause : DSIM_CAUSE_SCENARIO, (size_t)-1, 64);
      dsim_trace_end(tr);
    }
    return true;
  }
  return false;
}

void dsim_net_link_config(DsimNet *net, DsimPid src, DsimPid dst, DsimLinkConfig *out) {
  *out = net->defaults;
  for (guint i = 0; i < net->rules->len; i++) {
    const DsimLinkRule *r = &g_array_index(net->rules, DsimLinkRule, i);
    if (!dsim_net_sel_match(net, &r->from, src) || !dsim_net_sel_match(net, &r->to, dst)) continue;
    unsigned f = r->cfg.fields;
    if (f & DSIM_LINK_DELAY) out->delay = r->cfg.delay;
    if (f & DSIM_LINK_LOSS) out->loss = r->cfg.loss;
    if (f & DSIM_LINK_DUPLICATE) out->duplicate = r->cfg.duplicate;
    if (f & DSIM_LINK_COPIES) out->copies = r->cfg.copies;
    if (f & DSIM_LINK_CORRUPT) out->corrupt = r->cfg.corrupt;
    if (f & DSIM_LINK_CORRUPT_BITS) out->corrupt_bits = r->cfg.corrupt_bits;
    if (f & DSIM_LINK_ORDERING) out->ordering = r->cfg.ordering;
    if (f & DSIM_LINK_BANDWIDTH) out->bandwidth = r->cfg.bandwidth;
    if (f & DSIM_LINK_MAX_SIZE) out->max_size = r->cfg.max_size;
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

/* ---------------------------------------------------------------- topology faults */

static const char *const cut_events[][2] = {
    [DSIM_CUT_PARTITION] = {"partition", "heal"},
    [DSIM_CUT_LINK_DOWN] = {"link_down", "link_up"},
    [DSIM_CUT_HOLD] = {"hold", "release"},
};

static bool sels_match(const DsimNet *net, const GArray *sels, DsimPid pid) {
  for (guint i = 0; i < sels->len; i++)
    if (dsim_net_sel_match(net, &g_array_index(sels, DsimSel, i), pid)) return true;
  return false;
}

const DsimCut *dsim_net_cut_between(const DsimNet *net, DsimPid src, DsimPid dst, bool cut_only) {
  for (guint i = 0; i < net->cuts->len; i++) {
    const DsimCut *c = &g_array_index(net->cuts, DsimCut, i);
    if (cut_only && c->kind == DSIM_CUT_HOLD) continue;
    if (sels_match(net, c->a, src) && sels_match(net, c->b, dst)) return c;
    if (!c->oneway && sels_match(net, c->b, src) && sels_match(net, c->a, dst)) return c;
  }
  return NULL;
}

static void sels_to_json(const DsimNet *net, const GArray *sels, GString *out) {
  g_string_append_c(out, '[');
  for (guint i = 0; i < sels->len; i++) {
    if (i) g_string_append_c(out, ',');
    sel_to_json(net, &g_array_index(sels, DsimSel, i), out);
  }
  g_string_append_c(out, ']');
}

uint32_t dsim_net_cut(DsimNet *net, DsimCutKind kind, const DsimSelector *a, size_t na,
                      const DsimSelector *b, size_t nb, bool oneway, const char *cause) {
  g_assert(kind <= DSIM_CUT_HOLD);
  if (!cause) cause = DSIM_CAUSE_SCENARIO;
  DsimCut c = {++net->next_cut, kind, oneway, g_array_new(FALSE, FALSE, sizeof(DsimSel)),
               g_array_new(FALSE, FALSE, sizeof(DsimSel)), g_strdup(cause)};
  for (size_t i = 0; i < na; i++) {
    DsimSel s = make_sel(net, &a[i]);
    g_array_append_val(c.a, s);
  }
  for (size_t i = 0; i < nb; i++) {
    DsimSel s = make_sel(net, &b[i]);
    g_array_append_val(c.b, s);
  }
  g_array_append_val(net->cuts, c);
  dsim_net_update_plain(net);
  DsimTrace *tr = dsim_world_trace(net->world);
  if (tr) {
    GString *j = g_string_new(NULL);
    dsim_trace_begin(tr, dsim_world_now(net->world), cut_events[kind][0]);
    dsim_trace_u64(tr, "id", c.id);
    sels_to_json(net, c.a, j);
    dsim_trace_raw(tr, "a", j->str);
    g_string_truncate(j, 0);
    sels_to_json(net, c.b, j);
    dsim_trace_raw(tr, "b", j->str);
    dsim_trace_bool(tr, "oneway", oneway);
    dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
    dsim_trace_end(tr);
    g_string_free(j, TRUE);
  }
  return c.id;
}

unsigned dsim_net_uncut(DsimNet *net, DsimCutKind kind, uint32_t id, const char *cause) {
  unsigned removed = 0;
  if (!cause) cause = DSIM_CAUSE_SCENARIO;
  for (guint i = 0; i < net->cuts->len;) {
    DsimCut *c = &g_array_index(net->cuts, DsimCut, i);
    if (c->kind != kind || (id != 0 && c->id != id)) {
      i++;
      continue;
    }
    DsimCut gone = *c;
    g_array_remove_index(net->cuts, i); /* keeps the order of the rest */
    dsim_net_update_plain(net);
    unsigned released = kind == DSIM_CUT_HOLD ? dsim_net_unpark(net, gone.id, DSIM_PID_NONE) : 0;
    DsimTrace *tr = dsim_world_trace(net->world);
    if (tr) {
      dsim_trace_begin(tr, dsim_world_now(net->world), cut_events[kind][1]);
      dsim_trace_u64(tr, "id", gone.id);
      if (kind == DSIM_CUT_HOLD) dsim_trace_u64(tr, "messages", released);
      dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
      dsim_trace_end(tr);
    }
    cut_clear(&gone);
    removed++;
  }
  return removed;
}

bool dsim_net_cut_kind(const DsimNet *net, uint32_t id, DsimCutKind *kind) {
  for (guint i = 0; i < net->cuts->len; i++) {
    const DsimCut *c = &g_array_index(net->cuts, DsimCut, i);
    if (c->id == id) {
      *kind = c->kind;
      return true;
    }
  }
  return false;
}

uint32_t dsim_net_partition(DsimNet *net, const DsimSelector *a, size_t na, const DsimSelector *b,
                            size_t nb, bool oneway) {
  return dsim_net_cut(net, DSIM_CUT_PARTITION, a, na, b, nb, oneway, DSIM_CAUSE_SCENARIO);
}

unsigned dsim_net_heal(DsimNet *net, uint32_t id) {
  return dsim_net_uncut(net, DSIM_CUT_PARTITION, id, DSIM_CAUSE_SCENARIO);
}

/* ---------------------------------------------------------------- message rules */

uint32_t dsim_net_add_rule(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const char *name, DsimRuleFn fn, void *data, GDestroyNotify destroy) {
  g_assert(fn && !net->in_rule);
  DsimMsgRule r = {.id = ++net->next_msg_rule,
                   .any_from = from == NULL,
                   .any_to = to == NULL,
                   .name = g_strdup(name),
                   .fn = fn,
                   .data = data,
                   .destroy = destroy};
  if (from) r.from = make_sel(net, from);
  if (to) r.to = make_sel(net, to);
  g_array_append_val(net->msg_rules, r);
  dsim_net_update_plain(net);
  DsimTrace *tr = dsim_world_trace(net->world);
  if (tr) {
    GString *j = g_string_new(NULL);
    dsim_trace_begin(tr, dsim_world_now(net->world), "rule");
    dsim_trace_u64(tr, "id", r.id);
    if (from) sel_to_json(net, &r.from, j);
    dsim_trace_raw(tr, "from", from ? j->str : "null");
    g_string_truncate(j, 0);
    if (to) sel_to_json(net, &r.to, j);
    dsim_trace_raw(tr, "to", to ? j->str : "null");
    if (name) dsim_trace_str(tr, "name", name, (size_t)-1, 200);
    dsim_trace_end(tr);
    g_string_free(j, TRUE);
  }
  return r.id;
}

bool dsim_net_remove_rule(DsimNet *net, uint32_t id) {
  g_assert(!net->in_rule);
  for (guint i = 0; i < net->msg_rules->len; i++) {
    DsimMsgRule r = g_array_index(net->msg_rules, DsimMsgRule, i);
    if (r.id != id) continue;
    g_array_remove_index(net->msg_rules, i);
    dsim_net_update_plain(net);
    DsimTrace *tr = dsim_world_trace(net->world);
    if (tr) {
      dsim_trace_begin(tr, dsim_world_now(net->world), "unrule");
      dsim_trace_u64(tr, "id", id);
      dsim_trace_end(tr);
    }
    msg_rule_clear(&r);
    return true;
  }
  return false;
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

void dsim_net_trace_drop(DsimNet *net, const DsimMessage *m, const char *reason, const char *cause,
                         uint32_t cut) {
  DsimTrace *tr = dsim_world_trace(net->world);
  if (!tr) return;
  dsim_trace_begin(tr, dsim_world_now(net->world), "drop");
  dsim_trace_u64(tr, "mid", m->mid);
  dsim_net_trace_copy(tr, m->copy);
  dsim_trace_u64(tr, "src", m->src);
  dsim_trace_u64(tr, "dst", m->dst);
  dsim_trace_str(tr, "reason", reason, (size_t)-1, 64);
  if (cause) dsim_trace_str(tr, "cause", cause, (size_t)-1, 64);
  if (cut) dsim_trace_u64(tr, "cut", cut);
  dsim_trace_end(tr);
}

#define PREVIEW_BYTES 64

static void trace_send(DsimNet *net, DsimTrace *tr, const DsimMessage *m) {
  const DsimPayload *p = m->payload;
  const char *data = (const char *)p->data;
  size_t len = p->len;
  if (p->type && p->type->render) {
    /* One scratch string for every send: no allocation per line. */
    if (!net->render_scratch) net->render_scratch = g_string_sized_new(PREVIEW_BYTES + 8);
    g_string_truncate(net->render_scratch, 0);
    p->type->render(p->data, p->len, net->render_scratch, PREVIEW_BYTES);
    data = net->render_scratch->str;
    len = net->render_scratch->len;
  }
  const GString *ch = m->ch->name_json;
  dsim_trace_send(tr, m->sent_at, m->mid, ch ? ch->str : NULL, ch ? ch->len : 0, m->src, m->dst, p->len, data, len,
                  PREVIEW_BYTES);
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
  m->flags = 0;
  net->stats.sent++;
  DsimTrace *tr = dsim_world_trace(w);
  if (tr) trace_send(net, tr, m);
  if (G_UNLIKELY(!net->plain)) {
    dsim_net_send_faulty(net, m);
    return;
  }
  DsimTime delay = net->plain_delay >= 0 ? net->plain_delay
                                         : dsim_delay_sample(&net->defaults.delay, dsim_proc_net_rng(w, src));
  /* Delays are at most DSIM_DELAY_CAP (2^53 ns); saturate at the end of
   * time rather than overflow for a run that got that far. */
  DsimTime at = delay <= DSIM_TIME_NEVER - now ? now + delay : DSIM_TIME_NEVER;
  dsim_world_schedule(w, at, dsim_channel_deliver, m);
}
