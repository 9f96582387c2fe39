/* sim_internal.h — struct bodies and cross-file helpers of the kernel.
 * Only files in sim/ include this (CMake keeps the directory private). */
#ifndef DSIM_SIM_INTERNAL_H
#define DSIM_SIM_INTERNAL_H

#include "dsim/sim.h"

/* One queued event: 32 bytes, stored by value in the heap so that a pop
 * touches no other memory. Ordered by (t, seq); seq is unique per world. */
typedef struct {
  DsimTime t;
  uint64_t seq;
  DsimEventFn fn;
  void *obj;
} DsimEvent;

typedef struct DsimStable DsimStable;

/* What only some processes need (a pause, a clock that is not the true
 * time, stable storage), allocated on first use so that a process of the
 * fault-free path stays small. */
typedef struct {
  DsimProcState paused_from; /* PAUSED: the state a resume returns to */
  bool start_pending;        /* PAUSED: its start fell due meanwhile */
  GArray *deferred;          /* PAUSED: DsimTimerId fallen due, in order */
  DsimTime clock_t0, clock_l0; /* the clock's current piece */
  double clock_drift;
  DsimStable *stable;
  bool has_storage_faults; /* else the world's default applies */
  double storage_lost, storage_torn;
  bool storage_rng_ready;
  DsimRng storage_rng;
} DsimProcExtra;

/* What the delivery path needs of a process, kept apart in a dense array so
 * that a run with 100,000 processes touches 24 bytes per process there
 * instead of a whole record. */
typedef struct {
  const DsimProcOps *ops; /* NULL while reserved or adopted */
  void *impl;
  uint8_t state;          /* DsimProcState */
} DsimProcHot;

/* The rest of a process. The two random streams come first and fill one
 * cache line (records are 128 bytes, 64-byte aligned): a process that draws
 * a random number and sends a message touches only that line here. */
typedef struct {
  DsimRng rng;
  DsimRng net_rng;
  uint32_t incarnation;
  DsimPid alias;         /* DSIM_PROC_ADOPTED: the pid this one became */
  uint32_t timer_head;   /* first owned timer slot + 1; 0: none */
  const char *label;     /* interned in the world's label table */
  DsimDescribeFn describe;
  void *describe_arg;
  DsimTime blocked_since;
  DsimProcExtra *extra; /* NULL until needed */
} __attribute__((aligned(64))) DsimProc;

/* Processes live in fixed-size chunks so that their addresses never move
 * while a callback holds one (spawning inside a handler must be safe). */
#define DSIM_PROC_CHUNK_BITS 10
#define DSIM_PROC_CHUNK (1u << DSIM_PROC_CHUNK_BITS)

typedef struct {
  uint32_t gen;       /* bumped when the slot is freed: stale ids miss */
  bool armed;
  bool deferred; /* fell due while its owner was paused: no heap event */
  DsimPid owner;
  uint32_t prev, next; /* owner's list, slot index + 1 (0: none) */
  uint32_t next_free;  /* free list, slot index + 1 */
  DsimTimerFn fn;
  void *data;
  uint64_t tag;
} DsimTimerSlot;

typedef struct {
  DsimProcListener l;
  void *data;
} DsimListenerEntry;

struct DsimWorld {
  DsimTrace *trace;
  DsimWorldConfig config;
  DsimTime now;
  uint64_t next_seq;
  uint64_t events;
  DsimPid self;
  bool stop_requested;
  GError *error;

  DsimEvent *heap;
  size_t heap_len, heap_cap;
  size_t stale_events; /* cancelled timers still in the heap */
  DsimEventFn prefetch_fn; /* see dsim_world_set_prefetch */
  void (*prefetch_hook)(DsimWorld *, void *);

  DsimProc **proc_chunks;
  DsimProcHot **hot_chunks;
  size_t proc_chunks_len;
  DsimPid proc_count;

  DsimTimerSlot *timers;
  uint32_t timers_len, timers_cap;
  uint32_t timer_free; /* slot index + 1 */

  uint32_t paused_count; /* processes paused now: timers must look */
  double storage_lost, storage_torn; /* default storage faults */

  uint64_t checks_passed, checks_failed;
  char *first_failure;

  DsimRng rng;
  GArray *listeners; /* DsimListenerEntry, in registration order */
  GHashTable *labels; /* interned label strings (lookup only, never iterated) */

  struct {
    void *object;
    void (*destroy)(void *);
  } slots[DSIM_SLOT_COUNT];
  int slot_order[DSIM_SLOT_COUNT];
  int slots_attached;
};

static inline DsimProc *dsim_proc_get(const DsimWorld *w, DsimPid pid) {
  g_assert(pid >= 1 && pid <= w->proc_count);
  uint32_t i = pid - 1;
  return &w->proc_chunks[i >> DSIM_PROC_CHUNK_BITS][i & (DSIM_PROC_CHUNK - 1)];
}

static inline DsimProcHot *dsim_proc_hot(const DsimWorld *w, DsimPid pid) {
  g_assert(pid >= 1 && pid <= w->proc_count);
  uint32_t i = pid - 1;
  return &w->hot_chunks[i >> DSIM_PROC_CHUNK_BITS][i & (DSIM_PROC_CHUNK - 1)];
}

/* Trace internals used by world.c. */
void dsim_trace_free(DsimTrace *trace);

/* world.c */
DsimProcExtra *dsim_proc_extra(DsimProc *p);

/* stable.c */
void dsim_stable_free(DsimStable *st);
/* Applies the storage faults to the writes not yet synced (a crash). */
void dsim_stable_crash(DsimWorld *world, DsimPid pid, const char *cause);

#endif
