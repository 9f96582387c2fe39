/* channel_internal.h — struct bodies shared by the files of channel/.
 * No other module includes this. */
#ifndef DSIM_CHANNEL_INTERNAL_H
#define DSIM_CHANNEL_INTERNAL_H

#include "dsim/channel.h"

struct DsimPayload {
  uint32_t refs;
  uint32_t len;
  const DsimPayloadType *type;
  unsigned char data[];
};

struct DsimMessage {
  DsimMessage *next; /* mailbox order, or the free list */
  DsimChannel *ch;
  DsimPayload *payload;
  uint64_t mid;
  DsimTime sent_at;
  DsimPid src, dst;
  uint32_t copy;
  uint32_t flags; /* DSIM_MSG_* */
};

#define DSIM_MSG_CORRUPTED 1u /* bits flipped: the payload is a private copy */
#define DSIM_MSG_RELEASED 2u  /* scheduled by the release of a hold or a pause */

/* One (channel, pid) pair: membership, input queue and a pending wait. */
typedef struct {
  uint32_t group; /* net-wide group id + 1; 0: not a member */
  uint32_t count;
  DsimMessage *head, *tail;
  bool waiting;
  uint32_t wait_n;
  DsimPid *wait_senders; /* NULL when wait_n == 0 (any sender) */
  DsimTimerId wait_timer;
  const char *wait_op;
} DsimMember;

#define DSIM_MEMBER_CHUNK_BITS 10
#define DSIM_MEMBER_CHUNK (1u << DSIM_MEMBER_CHUNK_BITS)

typedef struct {
  uint32_t id; /* net-wide group id */
  GArray *pids; /* DsimPid, join order */
} DsimGroup;

struct DsimChannel {
  DsimNet *net;
  char *name;
  GString *name_json; /* the name as trace lines write it, quoted and escaped; NULL for "default" */
  DsimMember **chunks; /* indexed by pid - 1, allocated on demand */
  size_t chunks_len;
  /* One bit per pid: joined or not. The send path checks every destination
   * here (a few KiB, cache-resident) rather than in its member record. */
  uint64_t *joined_bits;
  size_t joined_words;
  GArray *order;      /* DsimPid, join order: sendToAll's destinations */
  GHashTable *groups; /* name -> DsimGroup* (lookup only) */
};

typedef struct {
  bool group_sel; /* match by group id rather than pid */
  uint32_t value; /* pid or net-wide group id */
} DsimSel;

typedef struct {
  DsimSel from, to;
  DsimLinkConfig cfg;
  uint32_t id;
} DsimLinkRule;

/* A topology fault in force: a partition, a link down or a hold. */
typedef struct {
  uint32_t id;
  DsimCutKind kind;
  bool oneway;
  GArray *a, *b; /* DsimSel */
  char *cause;   /* who made it, for the drops it causes */
} DsimCut;

/* A per-message rule. */
typedef struct {
  uint32_t id;
  bool any_from, any_to;
  DsimSel from, to;
  char *name;
  DsimRuleFn fn;
  void *data;
  GDestroyNotify destroy;
} DsimMsgRule;

/* State of one directed link, created the first time something needs it:
 * FIFO ordering, bandwidth, or a fault to count. Never created on the
 * fault-free path. */
typedef struct {
  uint64_t key;          /* src << 32 | dst: the hash key points here */
  DsimTime busy_until;   /* bandwidth: the link transmits until then */
  DsimTime last_arrival; /* FIFO: the latest arrival scheduled so far */
  uint32_t releasing;    /* copies released from a hold or a pause, not yet arrived */
  uint64_t faults[DSIM_FAULT_KINDS];
} DsimLinkState;

/* A message kept from delivery: by a hold (its id), or (hold 0) because
 * its destination is paused. */
typedef struct {
  DsimMessage *m;
  uint32_t hold;
} DsimParked;

typedef struct DsimNemesis DsimNemesis;

struct DsimNet {
  DsimWorld *world;
  DsimLinkConfig defaults;
  /* True while a send needs nothing but a delay drawn from the defaults: no
   * link rule, topology fault, message rule, and defaults without faults,
   * FIFO, bandwidth or size limit. Recomputed by dsim_net_update_plain(). */
  bool plain;
  DsimTime plain_delay; /* the defaults' delay if constant, else -1 */
  GArray *rules;      /* DsimLinkRule, in order added */
  uint32_t next_link_rule;
  GArray *cuts;       /* DsimCut, in order made */
  uint32_t next_cut;
  GArray *msg_rules;  /* DsimMsgRule, in order added */
  uint32_t next_msg_rule;
  bool in_rule;       /* a message rule is running */
  GHashTable *links;  /* &DsimLinkState.key -> DsimLinkState* (lookup only) */
  GPtrArray *link_states; /* DsimLinkState*, creation order; owns them */
  GArray *parked;     /* DsimParked, in order of arrival */
  uint64_t releasing; /* released copies not yet arrived, all links */
  GPtrArray *nemeses; /* DsimNemesis*, creation order; owns them (NULL: none yet) */
  uint32_t next_nemesis;
  GPtrArray *channels; /* creation order */
  GHashTable *channel_by_name;
  GPtrArray *group_names; /* net-wide group id -> name */
  GHashTable *group_ids;  /* name -> id + 1 (as pointer) */
  uint64_t next_mid;
  uint32_t mailbox_limit;
  GHashTable *classes; /* name -> const DsimProcClass* (lookup only) */
  GHashTable *kinds;   /* const DsimProcClass* -> DsimCKind* owned (lookup only) */
  DsimMessage *free_messages;
  GPtrArray *message_slabs;
  GString *render_scratch; /* a send line's rendered payload (NULL until needed) */
  DsimNetStats stats;
};

static inline bool dsim_channel_joined_bit(const DsimChannel *ch, DsimPid pid) {
  size_t word = pid >> 6;
  return word < ch->joined_words && (ch->joined_bits[word] >> (pid & 63)) & 1;
}

static inline DsimMember *dsim_member_peek(const DsimChannel *ch, DsimPid pid) {
  uint32_t i = pid - 1;
  size_t c = i >> DSIM_MEMBER_CHUNK_BITS;
  if (pid == 0 || c >= ch->chunks_len || !ch->chunks[c]) return NULL;
  return &ch->chunks[c][i & (DSIM_MEMBER_CHUNK - 1)];
}

/* Trace fields that the format leaves out at their usual value (see
 * docs/trace-format.md, version 2): `ch` for the default channel, `copy`
 * for the original copy. */
static inline void dsim_net_trace_ch(DsimTrace *tr, const DsimChannel *ch) {
  if (ch->name_json) dsim_trace_raw(tr, "ch", ch->name_json->str);
}

static inline void dsim_net_trace_copy(DsimTrace *tr, uint32_t copy) {
  if (copy) dsim_trace_u64(tr, "copy", copy);
}

/* net.c */
DsimMessage *dsim_net_message_alloc(DsimNet *net);
void dsim_net_message_release(DsimNet *net, DsimMessage *m);
void dsim_net_send_copy(DsimNet *net, DsimChannel *ch, DsimPid src, DsimPid dst, DsimPayload *p);
uint32_t dsim_net_group_id(DsimNet *net, const char *name);
bool dsim_net_sel_match(const DsimNet *net, const DsimSel *s, DsimPid pid);
void dsim_net_update_plain(DsimNet *net);
/* Traces a drop; `cause` (may be NULL) and `cut` (0: none) are written
 * when given. */
void dsim_net_trace_drop(DsimNet *net, const DsimMessage *m, const char *reason, const char *cause,
                         uint32_t cut);

/* faults.c: everything the fault-free path does not do. */
void dsim_net_send_faulty(DsimNet *net, DsimMessage *m);
/* The topology fault separating src from dst now (a partition or link down
 * for cut_only, any kind otherwise), or NULL. */
const DsimCut *dsim_net_cut_between(const DsimNet *net, DsimPid src, DsimPid dst, bool cut_only);
/* Handles an arrival that meets a topology fault or a stopped or paused
 * destination. Returns true if it took the message (dropped or parked). */
bool dsim_net_arrival_fault(DsimNet *net, DsimMessage *m);
void dsim_net_count_fault(DsimNet *net, DsimPid src, DsimPid dst, DsimFaultKind kind);
void dsim_net_faults_free(DsimNet *net);
void dsim_net_discard_parked(DsimNet *net, DsimPid dst, const char *reason);
/* Schedules for delivery now, in arrival order, the copies kept by hold
 * `hold`, or (hold 0) those kept for the paused process dst. Returns how
 * many. */
unsigned dsim_net_unpark(DsimNet *net, uint32_t hold, DsimPid dst);

/* channel.c */
bool dsim_channel_deliver(DsimWorld *world, void *message);
void dsim_channel_drop(DsimNet *net, DsimMessage *m, const char *reason, uint64_t *counter);
void dsim_channel_discard(DsimChannel *ch, DsimPid pid, const char *reason);
void dsim_channel_free(DsimChannel *ch);

#endif
