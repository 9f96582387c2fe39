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
};

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
} DsimLinkRule;

typedef struct {
  uint32_t id;
  bool oneway;
  GArray *a, *b; /* DsimSel */
} DsimPartition;

struct DsimNet {
  DsimWorld *world;
  DsimLinkConfig defaults;
  uint64_t loss_threshold, dup_threshold; /* of the defaults */
  GArray *rules;      /* DsimLinkRule, in order added */
  GArray *partitions; /* DsimPartition, in order made */
  uint32_t next_partition;
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

/* net.c */
DsimMessage *dsim_net_message_alloc(DsimNet *net);
void dsim_net_message_release(DsimNet *net, DsimMessage *m);
void dsim_net_send_copy(DsimNet *net, DsimChannel *ch, DsimPid src, DsimPid dst, DsimPayload *p);
bool dsim_net_partitioned(DsimNet *net, DsimPid src, DsimPid dst);
uint32_t dsim_net_group_id(DsimNet *net, const char *name);
void dsim_net_trace_drop(DsimNet *net, const DsimMessage *m, const char *reason);

/* channel.c */
bool dsim_channel_deliver(DsimWorld *world, void *message);
void dsim_channel_discard(DsimChannel *ch, DsimPid pid, const char *reason);
void dsim_channel_free(DsimChannel *ch);

#endif
