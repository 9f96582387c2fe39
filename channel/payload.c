/* payload.c — immutable, refcounted message bodies and message accessors.
 *
 * One payload is shared by every copy of a message (each destination of a
 * sendTo/sendToAll and each duplicate), so a broadcast to n processes costs
 * one allocation and n references. */
#include "channel_internal.h"

#include <string.h>

DsimPayload *dsim_payload_new_uninit(size_t len, const DsimPayloadType *type, void **data) {
  g_assert(len <= UINT32_MAX);
  DsimPayload *p = g_malloc(sizeof *p + len);
  p->refs = 1;
  p->len = (uint32_t)len;
  p->type = type;
  *data = p->data;
  return p;
}

DsimPayload *dsim_payload_new(const void *data, size_t len, const DsimPayloadType *type) {
  void *buf;
  DsimPayload *p = dsim_payload_new_uninit(len, type, &buf);
  if (len) memcpy(buf, data, len);
  return p;
}

DsimPayload *dsim_payload_ref(DsimPayload *p) {
  g_assert(p->refs > 0 && p->refs < UINT32_MAX);
  p->refs++;
  return p;
}

void dsim_payload_unref(DsimPayload *p) {
  if (!p) return;
  g_assert(p->refs > 0);
  if (--p->refs == 0) g_free(p);
}

const void *dsim_payload_data(const DsimPayload *p) {
  return p->data;
}
size_t dsim_payload_len(const DsimPayload *p) {
  return p->len;
}
const DsimPayloadType *dsim_payload_type(const DsimPayload *p) {
  return p->type;
}
uint32_t dsim_payload_refcount(const DsimPayload *p) {
  return p->refs;
}

DsimPid dsim_message_src(const DsimMessage *m) {
  return m->src;
}
DsimPid dsim_message_dst(const DsimMessage *m) {
  return m->dst;
}
uint64_t dsim_message_id(const DsimMessage *m) {
  return m->mid;
}
uint32_t dsim_message_copy(const DsimMessage *m) {
  return m->copy;
}
DsimTime dsim_message_sent_at(const DsimMessage *m) {
  return m->sent_at;
}
DsimChannel *dsim_message_channel(const DsimMessage *m) {
  return m->ch;
}
DsimPayload *dsim_message_payload(const DsimMessage *m) {
  return m->payload;
}

bool dsim_message_corrupted(const DsimMessage *m) {
  return (m->flags & DSIM_MSG_CORRUPTED) != 0;
}

void dsim_message_free(DsimMessage *m) {
  if (!m) return;
  dsim_net_message_release(m->ch->net, m);
}
