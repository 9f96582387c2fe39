/* channel.h — the textbook's channel (join, bind, subgroup, sendTo,
 * sendToAll, recvFromAny, recvFrom) and the network model that carries its
 * messages (delay distributions, bandwidth, loss, duplication, ordering,
 * corruption, partitions, link faults, holds, per-message rules and a random
 * fault generator, the nemesis).
 *
 * Semantics follow the channel package of the textbook
 * (../shared/seeds/channel-package.txt), as pinned by SPEC.md:
 *  - A pid joins a channel in a subgroup; subgroup(name) lists pids in join
 *    order. Joining outside any process reserves a fresh pid that a process
 *    adopts later with bind() (join before fork, bind after).
 *  - sendTo is non-blocking, one copy per destination; sendToAll sends to
 *    every member, the sender included, in join order.
 *  - Each (channel, pid) has a FIFO input queue. A receive takes the least
 *    recently delivered message (from a sender in the set, for recvFrom);
 *    other messages stay queued in order.
 *  - The caller, every destination and every sender named must have joined
 *    the channel; otherwise the operation fails with an error naming the pid
 *    and the operation, and nothing is sent.
 *
 * Ownership: the DsimNet of a world is created on first use and owned by the
 * world; channels are owned by the net. A payload is immutable and
 * refcounted: every copy of a message (each destination, each duplicate)
 * holds a reference. Messages in flight belong to the net; a message handed
 * to a process (a wake or a handler call) is borrowed for that call only;
 * a message returned by dsim_channel_recv() belongs to the caller, who frees
 * it with dsim_message_free().
 *
 * Every channel operation acts on behalf of dsim_world_self(): it must be
 * called from inside a process (except join, which reserves a pid when
 * called from scenario code). */
#ifndef DSIM_CHANNEL_H
#define DSIM_CHANNEL_H

#include "sim.h"

G_BEGIN_DECLS

#define DSIM_CHANNEL_ERROR (dsim_channel_error_quark())
GQuark dsim_channel_error_quark(void);
typedef enum {
  DSIM_CHANNEL_ERROR_NOT_JOINED, /* caller, destination or sender not a member */
  DSIM_CHANNEL_ERROR_NO_PROCESS, /* called from scenario code where a process is needed */
  DSIM_CHANNEL_ERROR_INVALID,    /* a bad argument (negative timeout, bad config) */
  DSIM_CHANNEL_ERROR_STATE,      /* e.g. bind after join */
} DsimChannelError;

typedef struct DsimNet DsimNet;
typedef struct DsimChannel DsimChannel;
typedef struct DsimPayload DsimPayload;
typedef struct DsimMessage DsimMessage;

/* ---------------------------------------------------------------- payloads */

/* How a payload's bytes are to be read. Plain bytes have no type (NULL). The
 * Lua runtime uses a type for serialised Lua values so that the trace can
 * render them readably. */
typedef struct {
  const char *name;
  /* Appends a short human-readable rendering of the bytes (at most about
   * `max` characters) to out. */
  void (*render)(const void *data, size_t len, GString *out, size_t max);
} DsimPayloadType;

/* A new payload holding a copy of len bytes (refcount 1, owned by caller). */
DsimPayload *dsim_payload_new(const void *data, size_t len, const DsimPayloadType *type);
/* A new payload of len bytes to be filled in before it is sent (refcount 1).
 * *data receives the writable buffer. */
DsimPayload *dsim_payload_new_uninit(size_t len, const DsimPayloadType *type, void **data);
DsimPayload *dsim_payload_ref(DsimPayload *p);
void dsim_payload_unref(DsimPayload *p);
const void *dsim_payload_data(const DsimPayload *p);
size_t dsim_payload_len(const DsimPayload *p);
const DsimPayloadType *dsim_payload_type(const DsimPayload *p);
uint32_t dsim_payload_refcount(const DsimPayload *p);

/* ---------------------------------------------------------------- messages */

DsimPid dsim_message_src(const DsimMessage *m);
DsimPid dsim_message_dst(const DsimMessage *m);
/* The id of the send; all copies (duplicates) of one send share it. */
uint64_t dsim_message_id(const DsimMessage *m);
/* 0 for the original copy, 1.. for duplicates. */
uint32_t dsim_message_copy(const DsimMessage *m);
DsimTime dsim_message_sent_at(const DsimMessage *m);
DsimChannel *dsim_message_channel(const DsimMessage *m);
/* Borrowed; valid as long as the message. */
DsimPayload *dsim_message_payload(const DsimMessage *m);
/* True if the network flipped bits of this copy's payload (the corruption
 * fault). The payload is then a private copy holding the damaged bytes; a
 * protocol with a checksum would notice, and this flag is what a checksum
 * would tell it. */
bool dsim_message_corrupted(const DsimMessage *m);
/* Frees a message returned by dsim_channel_recv(). */
void dsim_message_free(DsimMessage *m);

/* ---------------------------------------------------------------- network model */

/* Who injected a fault: the `cause` written to the trace. */
#define DSIM_CAUSE_SCENARIO "scenario" /* a scenario call (net.partition, sim.crash, ...) */
#define DSIM_CAUSE_CONFIG "config"     /* a random draw of the link configuration */
#define DSIM_CAUSE_RULE "rule"         /* a per-message rule (dsim_net_add_rule) */
#define DSIM_CAUSE_NEMESIS "nemesis"   /* the random fault generator */

/* Delay distributions. Every kind is truncated below at `min`: a sample is
 * drawn from the distribution conditioned on being >= min (so min = 0 makes
 * the normal "truncated at 0"; for the exponential it is min + Exp(mean);
 * for a Pareto with min > a it is a Pareto with scale min). Samples above
 * DSIM_DELAY_CAP are cut to it. Sampling draws exactly one value from the
 * stream for every kind except constant (none) and uniform (one, rarely
 * more: dsim_rng_below). The continuous kinds invert the distribution's
 * survival function at one uniform draw (docs/lua-api.md has the
 * formulas). */
typedef enum {
  DSIM_DELAY_CONSTANT = 0, /* a */
  DSIM_DELAY_UNIFORM,      /* in [a, b) */
  DSIM_DELAY_NORMAL,       /* mean a, standard deviation b */
  DSIM_DELAY_EXPONENTIAL,  /* mean a */
  DSIM_DELAY_LOGNORMAL,    /* median a (= e^mu, in ns), sigma = shape */
  DSIM_DELAY_PARETO,       /* scale a (the least value), shape (alpha) = shape */
} DsimDelayKind;

typedef struct {
  DsimDelayKind kind;
  DsimTime a, b;
  double shape;
  DsimTime min; /* the least delay (0: none) */
} DsimDelay;

/* The largest delay a distribution yields: 2^53 ns (about 104 days). */
#define DSIM_DELAY_CAP (INT64_C(1) << 53)

/* Checks a delay's parameters; the error names the distribution and the
 * parameter ("delay: normal sd must not be negative"). */
gboolean dsim_delay_validate(const DsimDelay *d, GError **error);

/* One sample of a valid delay, drawn from rng as documented above. */
DsimTime dsim_delay_sample(const DsimDelay *d, DsimRng *rng);

/* The name of a kind ("normal"), or NULL for a value out of range. */
const char *dsim_delay_kind_name(DsimDelayKind kind);

/* Appends d as a JSON array: ["constant", ns], ["uniform", min_ns, max_ns],
 * ["normal", mean_ns, sd_ns], ["exponential", mean_ns],
 * ["lognormal", median_ns, sigma], ["pareto", scale_ns, alpha]; a non-zero
 * min adds a last element {"min": ns}. */
void dsim_delay_to_json(const DsimDelay *d, GString *out);

/* Per-link message ordering. */
typedef enum {
  DSIM_ORDER_DATAGRAM = 0, /* copies travel independently and may overtake */
  DSIM_ORDER_FIFO,         /* a copy never arrives before one sent earlier on
                            * the same directed link (a stream) */
} DsimOrdering;

/* Which fields of a DsimLinkConfig a rule sets (the others fall through to
 * earlier rules and the defaults). */
enum {
  DSIM_LINK_DELAY = 1u << 0,
  DSIM_LINK_LOSS = 1u << 1,
  DSIM_LINK_DUPLICATE = 1u << 2,
  DSIM_LINK_COPIES = 1u << 3,
  DSIM_LINK_CORRUPT = 1u << 4,
  DSIM_LINK_CORRUPT_BITS = 1u << 5,
  DSIM_LINK_ORDERING = 1u << 6,
  DSIM_LINK_BANDWIDTH = 1u << 7,
  DSIM_LINK_MAX_SIZE = 1u << 8,
  DSIM_LINK_ALL = (1u << 9) - 1,
};

typedef struct {
  unsigned fields; /* DSIM_LINK_* bits; ignored for the defaults */
  DsimDelay delay;
  double loss;      /* probability in [0, 1] that a copy is lost */
  double duplicate; /* probability in [0, 1] that a send is duplicated */
  uint32_t copies;  /* extra copies made by one duplication (0 counts as 1) */
  double corrupt;   /* probability in [0, 1] that a copy's bits are flipped */
  uint32_t corrupt_bits; /* bits flipped in a corrupted copy (0 counts as 1) */
  DsimOrdering ordering;
  uint64_t bandwidth; /* bytes per second; 0: unlimited (no serialisation time) */
  uint32_t max_size;  /* larger payloads are dropped ("too_big"); 0: no limit */
} DsimLinkConfig;

/* The defaults of a new net: 1 ms constant delay, no faults, datagram
 * ordering, unlimited bandwidth and size. Sets every field bit. */
void dsim_link_config_init(DsimLinkConfig *cfg);

/* Checks ranges (probabilities in [0, 1], a valid delay, at most 64 copies
 * and 64 corrupt bits) of the fields in cfg->fields. The error names the
 * field. */
gboolean dsim_link_config_validate(const DsimLinkConfig *cfg, GError **error);

/* Appends cfg as a JSON object: the fields it sets (all of them if
 * all_fields; then the fields added after version 1 of the trace format
 * appear only when they differ from the defaults). */
void dsim_link_config_to_json(const DsimLinkConfig *cfg, bool all_fields, GString *out);

/* A set of processes: one pid, or every pid that joined a subgroup (of any
 * channel; membership is looked up when a message is sent, so later joins
 * count), or (pid 0 and no group) every process. */
typedef struct {
  DsimPid pid;       /* used when group is NULL; 0: any process */
  const char *group; /* subgroup name, copied by the functions below */
} DsimSelector;

/* The net of a world, created and attached on first call. Cannot fail. */
DsimNet *dsim_net_get(DsimWorld *world);

/* Replaces the defaults (every field) with a validated copy of cfg. */
gboolean dsim_net_set_defaults(DsimNet *net, const DsimLinkConfig *cfg, GError **error);
const DsimLinkConfig *dsim_net_defaults(const DsimNet *net);

/* Adds a rule for messages from `from` to `to` that overrides the fields in
 * cfg->fields. Later rules win over earlier ones. Same as
 * dsim_net_add_link(..., DSIM_CAUSE_SCENARIO, error) != 0. */
gboolean dsim_net_set_link(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const DsimLinkConfig *cfg, GError **error);

/* Adds a link rule, traced with `cause`. Returns its id (> 0), or 0 with
 * an error if cfg is invalid. */
uint32_t dsim_net_add_link(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const DsimLinkConfig *cfg, const char *cause, GError **error);

/* Removes a link rule: its fields fall back to earlier rules and the
 * defaults. Returns false if no rule has that id. */
bool dsim_net_remove_link(DsimNet *net, uint32_t id, const char *cause);

/* The configuration in force for a message from src to dst (defaults plus
 * matching rules), written to *out. */
void dsim_net_link_config(DsimNet *net, DsimPid src, DsimPid dst, DsimLinkConfig *out);

/* Topology faults between two sets of processes, A and B, in both
 * directions or (oneway) from A to B only:
 *  - a partition or a link down drops a message if it separates the ends
 *    when the message is sent or when it arrives (the two differ only in
 *    name: a partition is meant for sets, a link down for one pair);
 *  - a hold keeps every message that arrives while it is in force; when the
 *    hold is removed, the held messages are delivered at that instant, in
 *    the order they arrived. */
typedef enum {
  DSIM_CUT_PARTITION = 0,
  DSIM_CUT_LINK_DOWN,
  DSIM_CUT_HOLD,
} DsimCutKind;

/* Puts a topology fault in force now, traced with `cause`. Returns its id
 * (> 0; ids are shared by all kinds). */
uint32_t dsim_net_cut(DsimNet *net, DsimCutKind kind, const DsimSelector *a, size_t na,
                      const DsimSelector *b, size_t nb, bool oneway, const char *cause);

/* Removes the fault with that id (which must be of that kind), or every one
 * of that kind (id 0). Returns how many were removed; a removed hold's
 * messages are scheduled for delivery now. */
unsigned dsim_net_uncut(DsimNet *net, DsimCutKind kind, uint32_t id, const char *cause);

/* The kind of the fault with that id in force now; false if there is none. */
bool dsim_net_cut_kind(const DsimNet *net, uint32_t id, DsimCutKind *kind);

/* Cuts every link between a process in A and one in B (both directions, or
 * A to B only if oneway): dsim_net_cut(DSIM_CUT_PARTITION, ...,
 * DSIM_CAUSE_SCENARIO). Returns the partition's id (> 0). */
uint32_t dsim_net_partition(DsimNet *net, const DsimSelector *a, size_t na, const DsimSelector *b,
                            size_t nb, bool oneway);

/* Removes one partition (id) or all of them (id 0). Returns how many. */
unsigned dsim_net_heal(DsimNet *net, uint32_t id);

/* Per-message rules. A rule sees each copy sent on a link it matches (after
 * the size limit, before partitions and the random faults of the link
 * configuration) and may decide its fate. Rules are consulted in the order
 * they were added; the first that returns true decides and later ones do
 * not see the message. A rule that returns false leaves the message to the
 * next rule and then to the link configuration. With no rule at all, the
 * send path does not look for any. */
typedef struct {
  bool drop;          /* lose the copy */
  bool corrupt;       /* flip bits of the copy (corrupt_bits of its link) */
  uint32_t duplicate; /* extra copies (each with its own delay), up to 64 */
  DsimTime delay;     /* added to the delay of the copy and its duplicates */
} DsimRuleAction;

/* `action` is zeroed before the call. The rule runs on behalf of the sender
 * (dsim_world_self() is the sender) and must not send messages. */
typedef bool (*DsimRuleFn)(DsimNet *net, const DsimMessage *m, void *data, DsimRuleAction *action);

/* Adds a rule for copies from `from` to `to` (NULL: any process). `name`
 * (may be NULL) is written to the trace. `destroy` (may be NULL) frees data
 * when the rule is removed or the world is freed. Returns the rule's id. */
uint32_t dsim_net_add_rule(DsimNet *net, const DsimSelector *from, const DsimSelector *to,
                           const char *name, DsimRuleFn fn, void *data, GDestroyNotify destroy);

/* Removes a rule; false if no rule has that id. Not allowed from inside a
 * rule (asserted). */
bool dsim_net_remove_rule(DsimNet *net, uint32_t id);

/* Appends to out (a GArray of DsimPid) the pids a set of selectors names
 * now: pids as given, subgroups expanded in channel creation and join
 * order; each pid once, in order of first appearance. */
void dsim_net_resolve(DsimNet *net, const DsimSelector *sels, size_t n, GArray *out);

/* True if some process joined a subgroup called `name` on some channel. */
bool dsim_net_group_known(const DsimNet *net, const char *name);

/* The network part of the trace header: defaults and rules as JSON. */
char *dsim_net_config_json(const DsimNet *net);

/* Totals over the run. */
typedef struct {
  uint64_t sent;       /* sendTo copies (one per destination) */
  uint64_t delivered;  /* copies that reached a mailbox or a handler */
  uint64_t received;   /* copies taken out of a mailbox by a receive */
  uint64_t dropped;    /* all drops, any reason */
  uint64_t duplicated; /* extra copies created */
  uint64_t dropped_loss, dropped_partition, dropped_crashed, dropped_overflow;
  uint64_t dropped_link_down, dropped_too_big, dropped_rule;
  uint64_t corrupted; /* copies whose bits were flipped */
  uint64_t held;      /* arrivals kept by a hold or a paused destination */
  uint64_t delayed;   /* copies a rule delayed */
} DsimNetStats;
const DsimNetStats *dsim_net_stats(const DsimNet *net);

/* Injected message faults, counted per directed link. */
typedef enum {
  DSIM_FAULT_LOSS = 0,   /* random loss (the link configuration) */
  DSIM_FAULT_PARTITION,  /* dropped by a partition */
  DSIM_FAULT_LINK_DOWN,  /* dropped by a link down */
  DSIM_FAULT_TOO_BIG,    /* dropped by the size limit */
  DSIM_FAULT_RULE_DROP,  /* dropped by a rule */
  DSIM_FAULT_DUPLICATE,  /* extra copies made */
  DSIM_FAULT_CORRUPT,    /* copies corrupted */
  DSIM_FAULT_DELAY,      /* copies a rule delayed */
  DSIM_FAULT_HOLD,       /* copies kept by a hold */
  DSIM_FAULT_KINDS
} DsimFaultKind;
const char *dsim_fault_kind_name(DsimFaultKind kind);

typedef struct {
  DsimPid src, dst;
  uint64_t count[DSIM_FAULT_KINDS];
  uint64_t total;
} DsimLinkFaults;

/* Appends to out (a GArray of DsimLinkFaults) every directed link on which
 * a fault was injected, ordered by src, then dst. */
void dsim_net_link_faults(const DsimNet *net, GArray *out);

/* Messages queued in one mailbox before new ones are dropped ("overflow").
 * Default 1,000,000. */
void dsim_net_set_mailbox_limit(DsimNet *net, uint32_t limit);

/* Copies the network keeps now: held by a hold, or for a paused process. */
size_t dsim_net_held_now(const DsimNet *net);

/* ---------------------------------------------------------------- nemesis */

/* A nemesis is a seeded random fault generator. It alternates quiet time
 * and one fault at a time: it waits a sample of `interval`, injects a fault
 * of a kind chosen by weight against targets it chooses, waits a sample of
 * that fault's duration, undoes the fault, and starts over; no fault starts
 * at or after `stop` (one in progress is still undone on time). Every
 * choice comes from its own stream (DSIM_STREAM_NEMESIS, index: its id), in
 * this order per fault: the interval before it, the kind (one
 * dsim_rng_below over the total weight), the targets (below), the duration.
 * Each fault is traced as a `nemesis` event naming what it chose, followed
 * by the fault's own events with cause "nemesis". */
typedef enum {
  DSIM_NEMESIS_PARTITION = 0, /* targets shuffled (Fisher-Yates) and split in
                               * two non-empty sides at a random point;
                               * needs two targets */
  DSIM_NEMESIS_CRASH,         /* one random live target crashes; restarted
                               * when the fault ends (if `restart`) */
  DSIM_NEMESIS_PAUSE,         /* one random running or blocked target is
                               * paused, then resumed */
  DSIM_NEMESIS_LOSS,          /* links between targets lose messages with
                               * probability `loss` (a link rule) */
  DSIM_NEMESIS_LINK_DOWN,     /* one random ordered pair of distinct targets
                               * loses its link (both directions) */
  DSIM_NEMESIS_KINDS
} DsimNemesisKind;
const char *dsim_nemesis_kind_name(DsimNemesisKind kind);

typedef struct {
  DsimNemesisKind kind;
  uint32_t weight;    /* relative frequency; 0 counts as 1 */
  DsimDelay duration; /* how long each such fault lasts */
  double loss;        /* DSIM_NEMESIS_LOSS: the loss probability */
  bool no_restart;    /* DSIM_NEMESIS_CRASH: leave the process crashed */
} DsimNemesisFault;

typedef struct {
  DsimTime start, stop; /* faults may start in [start, stop) */
  DsimDelay interval;   /* quiet time before each fault */
  const DsimSelector *targets; /* NULL: every process (spawned pids) */
  size_t n_targets;
  const DsimNemesisFault *faults; /* at least one */
  size_t n_faults;
} DsimNemesisConfig;

/* Starts a nemesis (the config is copied). Returns its id (> 0), or 0 with
 * DSIM_CHANNEL_ERROR_INVALID naming the bad field (an interval whose
 * parameters are all below 1 us is refused: time must pass between
 * faults). */
uint32_t dsim_nemesis_start(DsimNet *net, const DsimNemesisConfig *cfg, GError **error);

/* Stops a nemesis: a fault in progress is undone now and no other starts.
 * Returns false if no running nemesis has that id. */
bool dsim_nemesis_stop(DsimNet *net, uint32_t id);

/* ---------------------------------------------------------------- channels */

/* The channel called `name` (NULL: "default"), created on first use. The
 * textbook's Channel() is the default channel: every process that opens it
 * gets the same one. Owned by the net. */
DsimChannel *dsim_channel_open(DsimWorld *world, const char *name);
const char *dsim_channel_name(const DsimChannel *ch);
DsimWorld *dsim_channel_world(const DsimChannel *ch);

/* join(subgroup): inside a process, makes it a member (joining again with the
 * same subgroup, e.g. after a restart, is a no-op); outside any process,
 * reserves a fresh pid and makes it a member. *pid receives the pid. */
gboolean dsim_channel_join(DsimChannel *ch, const char *subgroup, DsimPid *pid, GError **error);

/* bind(pid): the calling process adopts `pid`, which must have been reserved
 * by a join made outside any process on this channel. */
gboolean dsim_channel_bind(DsimChannel *ch, DsimPid pid, GError **error);

/* subgroup(name): the members of a subgroup in join order (possibly none).
 * The array is owned by the channel and changes with later joins. */
const DsimPid *dsim_channel_subgroup(DsimChannel *ch, const char *name, size_t *n);

/* The subgroup a pid joined with, or NULL if it is not a member. */
const char *dsim_channel_group_of(const DsimChannel *ch, DsimPid pid);
bool dsim_channel_is_member(const DsimChannel *ch, DsimPid pid);

/* sendTo(destinations, payload): one copy per destination. The caller keeps
 * its reference to payload. */
gboolean dsim_channel_send_to(DsimChannel *ch, const DsimPid *dsts, size_t n, DsimPayload *payload,
                              GError **error);

/* sendToAll(payload): to every member, the caller included. */
gboolean dsim_channel_send_to_all(DsimChannel *ch, DsimPayload *payload, GError **error);

/* The non-blocking half of a receive: takes the least recently delivered
 * message of the caller's input queue (from one of `senders` if n > 0) and
 * stores it in *out (owned by the caller), or stores NULL. */
gboolean dsim_channel_recv(DsimChannel *ch, const DsimPid *senders, size_t n, DsimMessage **out,
                           GError **error);

/* The blocking half: blocks the caller until a matching message is delivered
 * (it is woken with DSIM_WAKE_MESSAGE and the message, borrowed) or until
 * `timeout` has passed (DSIM_WAKE_TIMEOUT); timeout 0 waits for ever. Call it
 * only after dsim_channel_recv() found nothing. `op` names the operation in
 * reports ("recvFrom"). */
gboolean dsim_channel_wait(DsimChannel *ch, const DsimPid *senders, size_t n, DsimTime timeout,
                           const char *op, GError **error);

/* Number of messages waiting in a pid's input queue. */
uint32_t dsim_channel_queued(const DsimChannel *ch, DsimPid pid);

/* ---------------------------------------------------------------- C processes */

/* A process written in C as handlers. The world calls `start` when the
 * process starts (and again after each restart, with a zeroed state),
 * `message` for every message delivered to it (messages are not queued: a
 * handler-based process receives each one the moment it arrives) and `timer`
 * when one of its timers fires. Handlers run with dsim_world_self() == self
 * and use the same channel functions as everything else. `cleanup` (may be
 * NULL) releases what the state holds when the process crashes or exits and
 * when the world is freed.
 *
 * `state_size` bytes of zeroed state are allocated per process. */
typedef struct {
  const char *name;
  size_t state_size;
  void (*start)(DsimWorld *world, DsimPid self, void *state, int argc, const char *const *argv);
  void (*message)(DsimWorld *world, DsimPid self, void *state, const DsimMessage *msg);
  void (*timer)(DsimWorld *world, DsimPid self, void *state, uint64_t tag);
  void (*cleanup)(void *state);
} DsimProcClass;

/* Registers a class under its name so that scenarios can spawn it with
 * sim.spawn("name", ...). The class must outlive the world. Fails if the name
 * is taken. */
gboolean dsim_class_register(DsimWorld *world, const DsimProcClass *cls, GError **error);
const DsimProcClass *dsim_class_lookup(DsimWorld *world, const char *name);

/* Spawns a process of class cls; argv (argc strings, copied) is passed to
 * every start. Returns the pid. */
DsimPid dsim_cproc_spawn(DsimWorld *world, const DsimProcClass *cls, int argc,
                         const char *const *argv);

/* Starts a timer for the calling C process: its `timer` handler runs after
 * delay with `tag`. Cancelled if the process crashes. */
DsimTimerId dsim_cproc_timer(DsimWorld *world, DsimTime delay, uint64_t tag);

/* Ends the calling C process as if its main had returned. */
void dsim_cproc_exit(DsimWorld *world);

G_END_DECLS

#endif /* DSIM_CHANNEL_H */
