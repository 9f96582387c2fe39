/* sim.h — the dsim kernel: virtual time, the event queue, seeded random
 * streams, the process table, timers, checks and the trace.
 *
 * A DsimWorld is one simulation. It owns everything created in it (processes,
 * timers, pending events, the trace writer, and whatever other modules attach
 * to it). There is no global state: several worlds may live in one process and
 * run one after the other or interleaved.
 *
 * Invariants the kernel keeps:
 *  - Virtual time (DsimTime) is an integer count of nanoseconds. Nothing in
 *    dsim reads the wall clock.
 *  - Events run in (time, scheduling sequence) order. Two events at the same
 *    time run in the order they were scheduled; nothing is ever ordered by
 *    address or hash.
 *  - Every random draw comes from a DsimRng stream derived from the run seed,
 *    one stream per subsystem and per process (see dsim_rng_stream()).
 *
 * Failure kinds: programmer errors (a NULL world, an unknown pid passed by C
 * code) are assertions; recoverable errors return FALSE/NULL and set a GError
 * in DSIM_SIM_ERROR; simulated faults are trace events, never errors.
 */
#ifndef DSIM_SIM_H
#define DSIM_SIM_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "version.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------- time */

/* Virtual time in nanoseconds since the start of the run. */
typedef int64_t DsimTime;

#define DSIM_NS_PER_SEC INT64_C(1000000000)
#define DSIM_NS_PER_MS INT64_C(1000000)
#define DSIM_NS_PER_US INT64_C(1000)
/* "No bound": used for --until when none is given. */
#define DSIM_TIME_NEVER INT64_MAX

/* Converts seconds (as written in scenarios) to nanoseconds, rounding to the
 * nearest nanosecond. Returns FALSE (and leaves *out alone) if the value is
 * not finite, is negative, or does not fit in DsimTime. */
gboolean dsim_time_from_seconds(double seconds, DsimTime *out);

/* Parses a duration: a number of seconds ("1.5") or a number with a unit
 * ("5ms", "2s", "100us", "10ns", "1.5min"). Negative and malformed values are
 * rejected with an error that quotes the text. */
gboolean dsim_time_parse(const char *text, DsimTime *out, GError **error);

/* Formats a time as seconds with nanosecond precision ("2.000000001s") into
 * buf (at least 32 bytes). Returns buf. */
char *dsim_time_format(DsimTime t, char *buf, size_t size);

/* ---------------------------------------------------------------- random */

/* A xoshiro256** generator (Blackman & Vigna, 2018). The algorithm is fixed
 * and documented here so that traces never change with a library upgrade.
 * The struct is public so that it can be embedded; use the functions. */
typedef struct {
  uint64_t s[4];
} DsimRng;

/* The splitmix64 step: advances *state and returns the next output. */
uint64_t dsim_splitmix64(uint64_t *state);

/* Seeds a generator by filling its state with four splitmix64 outputs of
 * `seed`, as the xoshiro authors recommend. */
void dsim_rng_seed(DsimRng *rng, uint64_t seed);

/* Derives an independent stream from the run seed, a subsystem tag (a
 * DsimStream value) and an index (usually a pid). Streams with different
 * (domain, index) never share state, so a draw added in one place does not
 * shift any other stream. Definition: the splitmix64-based seeding of
 * dsim_rng_seed() applied to mix(run_seed) ^ mix(domain << 32 | index). */
void dsim_rng_stream(DsimRng *rng, uint64_t run_seed, uint32_t domain, uint32_t index);

/* Subsystem tags for dsim_rng_stream(). Values are part of the trace contract:
 * changing one changes every trace. */
typedef enum {
  DSIM_STREAM_SCENARIO = 1, /* draws made by scenario code outside processes */
  DSIM_STREAM_PROCESS = 2,  /* draws made by a process (index: pid) */
  DSIM_STREAM_NETWORK = 3,  /* faults and delays of messages sent by a pid */
  DSIM_STREAM_NEMESIS = 4,  /* the random fault generator (index: nemesis id) */
  DSIM_STREAM_STORAGE = 5,  /* torn and lost writes of a pid's stable storage */
} DsimStream;

/* The next 64 random bits. */
static inline uint64_t dsim_rng_next(DsimRng *rng) {
  uint64_t *s = rng->s;
  const uint64_t x = s[1] * 5;
  const uint64_t result = ((x << 7) | (x >> 57)) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

/* A double uniform in [0, 1): the top 53 bits of one draw times 2^-53. */
static inline double dsim_rng_double(DsimRng *rng) {
  return (double)(dsim_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* An integer uniform in [0, n), n > 0, without modulo bias (Lemire's method
 * with rejection; consumes one draw, rarely more). */
uint64_t dsim_rng_below(DsimRng *rng, uint64_t n);

/* A probability as a 64-bit fixed-point threshold: an event of probability p
 * happens when a draw is below the threshold. p = 1 maps to UINT64_MAX and is
 * handled as "always" by dsim_rng_chance(). */
uint64_t dsim_probability_threshold(double p);

/* True with the probability encoded by `threshold`. Consumes exactly one draw
 * unless threshold is 0 (never) or UINT64_MAX (always), which draw nothing. */
static inline bool dsim_rng_chance(DsimRng *rng, uint64_t threshold) {
  if (threshold == 0) return false;
  if (threshold == UINT64_MAX) return true;
  return dsim_rng_next(rng) < threshold;
}

/* ---------------------------------------------------------------- world */

/* Process identifiers. Pids are small integers handed out in order starting
 * at 1; 0 means "no process" (scenario code, the kernel itself). */
typedef uint32_t DsimPid;
#define DSIM_PID_NONE ((DsimPid)0)

typedef struct DsimWorld DsimWorld;
typedef struct DsimTrace DsimTrace;

#define DSIM_SIM_ERROR (dsim_sim_error_quark())
GQuark dsim_sim_error_quark(void);
typedef enum {
  DSIM_SIM_ERROR_INVALID,   /* a bad argument value (time in the past, ...) */
  DSIM_SIM_ERROR_NO_PROCESS, /* a pid that does not name a process */
  DSIM_SIM_ERROR_STATE,     /* an operation not allowed in the process's state */
  DSIM_SIM_ERROR_IO,        /* the trace could not be written */
  DSIM_SIM_ERROR_SCENARIO,  /* a scenario (or C process) reported an error */
} DsimSimError;

typedef struct {
  uint64_t seed;
  DsimTime until;       /* stop before any event later than this; DSIM_TIME_NEVER */
  uint64_t max_events;  /* stop after this many events; 0 = no limit */
} DsimWorldConfig;

/* Creates a world with the given configuration (NULL: seed 0, no bounds).
 * The caller owns the world and frees it with dsim_world_free(). Cannot fail. */
DsimWorld *dsim_world_new(const DsimWorldConfig *config);

/* Frees the world and everything it owns: processes, timers, pending events,
 * attached modules, the trace (which is flushed and closed). NULL is allowed. */
void dsim_world_free(DsimWorld *world);

/* The configuration given at creation. */
const DsimWorldConfig *dsim_world_config(const DsimWorld *world);

/* The current virtual time. */
DsimTime dsim_world_now(const DsimWorld *world);

/* The process whose code is running now, or DSIM_PID_NONE in scenario code
 * (the scenario's top level, sim.at callbacks, finally functions). */
DsimPid dsim_world_self(const DsimWorld *world);

/* The scenario stream (DSIM_STREAM_SCENARIO, index 0). */
DsimRng *dsim_world_rng(DsimWorld *world);

/* ---------------------------------------------------------------- events */

/* An event callback. `obj` is whatever was passed to dsim_world_schedule().
 * Returns false if the event turned out to be void (a cancelled timer), so
 * that it is not counted as an event of the run. */
typedef bool (*DsimEventFn)(DsimWorld *world, void *obj);

/* Schedules fn(world, obj) at absolute time `at`, which must not be earlier
 * than now (asserted). Events at equal times run in scheduling order.
 * Cannot fail (memory exhaustion aborts, as in GLib). */
void dsim_world_schedule(DsimWorld *world, DsimTime at, DsimEventFn fn, void *obj);

/* Number of events waiting in the queue (including cancelled timers that have
 * not been skipped yet). */
size_t dsim_world_pending(const DsimWorld *world);

/* Removes every queued event whose callback is fn, calling dispose(world,
 * obj) for each (in no particular order: only for releasing memory when a
 * module is torn down). */
void dsim_world_discard_events(DsimWorld *world, DsimEventFn fn,
                               void (*dispose)(DsimWorld *world, void *obj));

/* A hint for memory-bound runs: while an event runs, the kernel calls
 * hook(world, obj) for the next event if its callback is fn, so that the
 * module owning fn can prefetch what that event will touch (for a message
 * arrival, the destination's records; see dsim_world_prefetch_proc). The
 * hook must only prefetch: it cannot change behaviour, and it is not called
 * in any particular relation to other events. One hook per world; NULL
 * removes it. */
void dsim_world_set_prefetch(DsimWorld *world, DsimEventFn fn, void (*hook)(DsimWorld *world, void *obj));

/* Starts loading pid's process records into the cache (no effect on
 * anything else; an unknown pid is ignored). */
void dsim_world_prefetch_proc(const DsimWorld *world, DsimPid pid);

/* ---------------------------------------------------------------- processes */

typedef enum {
  DSIM_PROC_RESERVED = 1, /* joined before fork: a pid with no code yet */
  DSIM_PROC_RUNNING,      /* alive and not blocked (or waiting to start) */
  DSIM_PROC_BLOCKED,      /* waiting in a blocking call (receive, sleep) */
  DSIM_PROC_CRASHED,      /* stopped by a crash; may be restarted */
  DSIM_PROC_EXITED,       /* its main function returned */
  DSIM_PROC_ADOPTED,      /* its code moved to a reserved pid by bind() */
  DSIM_PROC_PAUSED,       /* stopped for a while: runs nothing, receives
                           * nothing; resumes where it was */
} DsimProcState;

/* Why a blocked or handler-based process is being woken. */
typedef enum {
  DSIM_WAKE_MESSAGE = 1, /* data: the DsimMessage (borrowed for the call) */
  DSIM_WAKE_TIMEOUT,     /* a blocking call's timeout expired; data NULL */
  DSIM_WAKE_TIMER,       /* a sleep or a C timer fired; data: the timer tag */
} DsimWakeKind;

/* What a kind of process (Lua coroutine, C handlers) must provide. `impl` is
 * the per-process object passed to dsim_proc_spawn(); the kernel never looks
 * inside it. Every callback also gets the ops record itself, so a kind may
 * embed it in a larger struct holding data shared by its processes (C
 * processes keep their class there). Callbacks run with dsim_world_self() ==
 * pid. */
typedef struct DsimProcOps DsimProcOps;
struct DsimProcOps {
  const char *kind; /* "lua", "c": written to the trace */
  /* Messages are handed to wake(DSIM_WAKE_MESSAGE) on delivery instead of
   * being queued in a mailbox (handler-based processes). */
  bool direct_delivery;
  /* Runs the process's main function from the beginning: at spawn and at
   * every restart. */
  void (*start)(DsimWorld *world, DsimPid pid, const DsimProcOps *ops, void *impl);
  /* Resumes a blocked process, or delivers to a handler-based one. */
  void (*wake)(DsimWorld *world, DsimPid pid, const DsimProcOps *ops, void *impl, DsimWakeKind kind,
               void *data);
  /* Drops all execution state at a crash (the process is not running). */
  void (*crash)(DsimWorld *world, DsimPid pid, const DsimProcOps *ops, void *impl);
  /* Frees impl when the world is freed. */
  void (*destroy)(const DsimProcOps *ops, void *impl);
};

/* Creates a process running `ops` with per-process object `impl` (ownership of
 * impl passes to the world, which calls ops->destroy at the end). Its start
 * callback is scheduled at the current time. Returns the new pid. `label`
 * (may be NULL) names the code in the trace ("file.lua:12", a C class name). */
DsimPid dsim_proc_spawn(DsimWorld *world, const DsimProcOps *ops, void *impl, const char *label);

/* Reserves a fresh pid with no code (the textbook's join before fork). */
DsimPid dsim_proc_reserve(DsimWorld *world);

/* Moves the calling process `self` to the reserved pid `target`: from now on
 * it runs as `target`, and `self` is an alias that resolves to it. Binding to
 * itself is a no-op (this makes bind idempotent across restarts). Fails if
 * target is not reserved. */
gboolean dsim_proc_adopt(DsimWorld *world, DsimPid self, DsimPid target, GError **error);

/* Follows an adopted pid to the pid it was bound to; other pids unchanged.
 * Returns DSIM_PID_NONE for a pid that was never handed out. */
DsimPid dsim_proc_resolve(const DsimWorld *world, DsimPid pid);

/* True if pid was handed out (by spawn or reserve). */
bool dsim_proc_exists(const DsimWorld *world, DsimPid pid);

/* The state of a handed-out pid (asserted). */
DsimProcState dsim_proc_state(const DsimWorld *world, DsimPid pid);
const char *dsim_proc_state_name(DsimProcState state);

/* The ops and impl of a process, or NULL for a reserved pid. */
const DsimProcOps *dsim_proc_ops(const DsimWorld *world, DsimPid pid);
void *dsim_proc_impl(const DsimWorld *world, DsimPid pid);

/* How many times the process was restarted (0 for the first incarnation). */
uint32_t dsim_proc_incarnation(const DsimWorld *world, DsimPid pid);

/* The process's own random stream (DSIM_STREAM_PROCESS) and the stream that
 * draws the network faults of the messages it sends (DSIM_STREAM_NETWORK). */
DsimRng *dsim_proc_rng(DsimWorld *world, DsimPid pid);
DsimRng *dsim_proc_net_rng(DsimWorld *world, DsimPid pid);

/* Marks a process blocked; `describe` (may be NULL) is called only when a
 * report needs to say what it waits for, with `arg`. */
typedef void (*DsimDescribeFn)(DsimWorld *world, DsimPid pid, void *arg, GString *out);
void dsim_proc_block(DsimWorld *world, DsimPid pid, DsimDescribeFn describe, void *arg);

/* Hands a wake to a process (it becomes RUNNING for the call, and stays so
 * unless it blocks again). Sets dsim_world_self() for the duration. */
void dsim_proc_wake(DsimWorld *world, DsimPid pid, DsimWakeKind kind, void *data);

/* Marks a process exited (its main returned). Its timers are cancelled and
 * the listeners run, as for a crash. */
void dsim_proc_exit(DsimWorld *world, DsimPid pid);

/* Crashes a process: it stops at once, its timers are cancelled, the crash
 * listeners (the channel discards its mailboxes) and ops->crash run, and
 * its stable storage keeps only what the storage faults let survive (see
 * dsim_stable_put()). Crashing a crashed, exited or reserved process fails
 * with DSIM_SIM_ERROR_STATE. A paused process may crash. `cause` is written
 * to the trace ("scenario", "nemesis", ...). */
gboolean dsim_proc_crash(DsimWorld *world, DsimPid pid, const char *cause, GError **error);

/* Restarts a crashed or exited process: its main runs again from the
 * beginning at the current time. A running process must be crashed first. */
gboolean dsim_proc_restart(DsimWorld *world, DsimPid pid, GError **error);
/* Same, with the cause written to the trace (dsim_proc_restart() says
 * "scenario"). */
gboolean dsim_proc_restart_by(DsimWorld *world, DsimPid pid, const char *cause, GError **error);

/* Pauses a running or blocked process (not the calling one): until it is
 * resumed it runs no code. Its timers that fall due meanwhile (sleeps,
 * receive timeouts, C timers) fire when it resumes, in the order they fell
 * due; messages that arrive meanwhile are kept by the network and delivered
 * when it resumes, in the order they arrived; a start that falls due
 * meanwhile happens when it resumes. Fails with DSIM_SIM_ERROR_STATE for
 * another state or the caller itself, DSIM_SIM_ERROR_NO_PROCESS for an
 * unknown pid. */
gboolean dsim_proc_pause(DsimWorld *world, DsimPid pid, const char *cause, GError **error);

/* Resumes a paused process in the state it was paused in. Fails with
 * DSIM_SIM_ERROR_STATE if it is not paused. */
gboolean dsim_proc_resume(DsimWorld *world, DsimPid pid, const char *cause, GError **error);

/* ---------------------------------------------------------------- local clocks */

/* Every process has a local clock: a piecewise-linear function of virtual
 * time that reads the true time until told otherwise. Each change starts a
 * new piece at the current time t0 with reading L0: at time t >= t0 the
 * clock reads L0 + (t - t0) + round(drift * (t - t0)), so drift 1e-4 gains
 * 100 us per second (-1 < drift < 1). Clocks survive crashes and restarts
 * (they are the machine's, not the program's). Only reading the clock is
 * affected: timers run on true time. */

/* The local clock of pid now, in ns (may be negative). */
DsimTime dsim_proc_clock(const DsimWorld *world, DsimPid pid);
/* Its current drift (0 unless set). */
double dsim_proc_clock_drift(const DsimWorld *world, DsimPid pid);

/* Sets pid's clock to read now + offset at this instant and to run with
 * `drift` from here on. Fails with DSIM_SIM_ERROR_INVALID if drift is not
 * in (-1, 1), DSIM_SIM_ERROR_NO_PROCESS for an unknown pid. */
gboolean dsim_proc_clock_set(DsimWorld *world, DsimPid pid, DsimTime offset, double drift,
                             const char *cause, GError **error);

/* Steps pid's clock by delta (may be negative), keeping its drift: what a
 * clock-synchronisation protocol does to correct it. */
gboolean dsim_proc_clock_step(DsimWorld *world, DsimPid pid, DsimTime delta, const char *cause,
                              GError **error);

/* ---------------------------------------------------------------- stable storage */

/* Each process has a stable storage: a map from keys (strings) to byte
 * strings that survives crashes and restarts. Writes take effect for reads
 * at once; dsim_stable_sync() makes them durable. A crash makes every write
 * since the last sync durable too, unless storage faults are configured
 * (dsim_stable_set_faults()): then each key written since the last sync is,
 * in the order it was first written, independently
 *   - lost (it keeps its last durable value) with probability `lost`, else
 *   - torn with probability `torn`: it keeps only a prefix of its new bytes
 *     (a uniform length in [0, size)), as if the crash hit mid-write,
 *   - else written in full.
 * Draws come from the pid's DSIM_STREAM_STORAGE stream: one for `lost`, then
 * (if not lost) one for `torn`, then (if torn) one for the length; a
 * probability of 0 or 1 draws nothing. A key written several times since the
 * last sync counts once, with its latest value; a deleted key is never torn.
 * Keys are NUL-terminated strings, values any bytes (NULL with len 0 is an
 * empty value). pid must have been handed out (asserted). */
void dsim_stable_put(DsimWorld *world, DsimPid pid, const char *key, const void *data, size_t len);
/* Removes key (a no-op if absent). */
void dsim_stable_delete(DsimWorld *world, DsimPid pid, const char *key);
/* The bytes stored under key, or NULL if there are none. Borrowed: valid
 * until the next write, sync or crash of that pid. */
GBytes *dsim_stable_get(DsimWorld *world, DsimPid pid, const char *key);
/* Appends the keys (char*, borrowed like dsim_stable_get()'s values) to out,
 * in strcmp order. */
void dsim_stable_keys(DsimWorld *world, DsimPid pid, GPtrArray *out);
/* Makes every write of pid so far durable. Returns how many keys it wrote. */
unsigned dsim_stable_sync(DsimWorld *world, DsimPid pid);
/* Sets the storage faults of pid, or (pid 0) the default of every process
 * without its own. Fails with DSIM_SIM_ERROR_INVALID naming `lost` or
 * `torn` when it is not a probability. */
gboolean dsim_stable_set_faults(DsimWorld *world, DsimPid pid, double lost, double torn,
                                GError **error);

/* Number of pids handed out so far (pids are 1..count). */
DsimPid dsim_world_proc_count(const DsimWorld *world);

/* Something that wants to know when a process stops (the channel discards
 * its mailboxes) or resumes (the channel delivers what it kept). Listeners run in registration order. */
typedef struct {
  /* The process stopped: crashed (crashed = true) or its main returned. */
  void (*stopped)(DsimWorld *world, DsimPid pid, bool crashed, void *data);
  /* The process was resumed after a pause (may be NULL). */
  void (*resumed)(DsimWorld *world, DsimPid pid, void *data);
} DsimProcListener;
void dsim_world_add_listener(DsimWorld *world, const DsimProcListener *listener, void *data);

/* ---------------------------------------------------------------- timers */

/* A timer id: unique in a world, never reused; 0 is never a valid id. */
typedef uint64_t DsimTimerId;

typedef void (*DsimTimerFn)(DsimWorld *world, DsimPid owner, void *data, uint64_t tag);

/* Starts a one-shot timer firing fn(world, owner, data, tag) after `delay`
 * (>= 0). If owner is a process, the timer is cancelled when it crashes or
 * exits, and fn runs with dsim_world_self() == owner. Cannot fail. */
DsimTimerId dsim_timer_start(DsimWorld *world, DsimPid owner, DsimTime delay, DsimTimerFn fn,
                             void *data, uint64_t tag);

/* Cancels a timer. Returns false if it already fired or was cancelled (a
 * stale id is harmless). */
bool dsim_timer_cancel(DsimWorld *world, DsimTimerId id);

/* ---------------------------------------------------------------- running */

typedef enum {
  DSIM_END_QUIESCENT = 1, /* no event left */
  DSIM_END_UNTIL,         /* the next event is later than config.until */
  DSIM_END_MAX_EVENTS,    /* config.max_events events ran */
  DSIM_END_STOPPED,       /* dsim_world_stop() was called */
  DSIM_END_ERROR,         /* dsim_world_fail() was called */
} DsimEndReason;
const char *dsim_end_reason_name(DsimEndReason reason);

/* Runs events until one of the DsimEndReason conditions. May be called again
 * after DSIM_END_STOPPED to continue. Returns the reason. */
DsimEndReason dsim_world_run(DsimWorld *world);

/* Asks the run loop to return after the current event. */
void dsim_world_stop(DsimWorld *world);

/* Stops the run with an error (the first one wins; ownership of `error`
 * passes to the world). Used for scenario errors inside processes. */
void dsim_world_fail(DsimWorld *world, GError *error);

/* The error given to dsim_world_fail(), or NULL. Owned by the world. */
const GError *dsim_world_error(const DsimWorld *world);

/* Events run so far (cancelled timers are not counted). */
uint64_t dsim_world_events(const DsimWorld *world);

/* Appends to out (a GArray of DsimPid) the pids of blocked processes, in
 * pid order. */
void dsim_world_blocked_pids(const DsimWorld *world, GArray *out);

/* Appends the list of processes that are blocked, or alive and handler-based,
 * one per line, each with what it waits for. Returns how many. */
unsigned dsim_world_describe_blocked(DsimWorld *world, GString *out, unsigned max_lines);

/* ---------------------------------------------------------------- checks, logs */

/* Records a check made by `pid` (DSIM_PID_NONE for scenario code) at `where`
 * ("file.lua:12", may be NULL). A failed check is counted and traced; the run
 * goes on. The first failure is kept for the summary. */
void dsim_world_check(DsimWorld *world, DsimPid pid, bool ok, const char *message,
                      const char *where);
uint64_t dsim_world_checks_passed(const DsimWorld *world);
uint64_t dsim_world_checks_failed(const DsimWorld *world);
/* A one-line description of the first failed check, or NULL. Owned by world. */
const char *dsim_world_first_failure(const DsimWorld *world);

/* Writes a log line from pid to the trace. */
void dsim_world_log(DsimWorld *world, DsimPid pid, const char *message);

/* ---------------------------------------------------------------- modules */

/* Other modules (the channel, the Lua runtime) attach one object each to a
 * world under a fixed slot; the world frees it with `destroy` when it is
 * freed, in reverse order of attachment. */
typedef enum {
  DSIM_SLOT_NET = 0,
  DSIM_SLOT_LUA,
  DSIM_SLOT_USER,
  DSIM_SLOT_COUNT
} DsimSlot;
void dsim_world_attach(DsimWorld *world, DsimSlot slot, void *object, void (*destroy)(void *));
void *dsim_world_attached(const DsimWorld *world, DsimSlot slot);

/* ---------------------------------------------------------------- trace */

/* The trace writer: one JSON object per line (docs/trace-format.md). Every
 * event line also feeds a SHA-256 digest, so the digest is the same whether
 * or not a file is written.
 *
 * Opens a trace on `path` (NULL: compute the digest only, write nothing).
 * Fails with DSIM_SIM_ERROR_IO if the file cannot be created. The world owns
 * the trace after dsim_world_set_trace(). */
DsimTrace *dsim_trace_new(const char *path, GError **error);
void dsim_world_set_trace(DsimWorld *world, DsimTrace *trace);

/* The world's trace or NULL if tracing is off: every emitter checks this. */
DsimTrace *dsim_world_trace(const DsimWorld *world);

/* Header fields: written as the first line when dsim_trace_start() is called.
 * `net_json` is a JSON object (may be NULL). Lines emitted before the header
 * is written are kept in memory and follow it. */
void dsim_trace_start(DsimTrace *trace, const char *scenario, uint64_t seed, DsimTime until,
                      uint64_t max_events, const char *net_json);

/* Adds a member to the header (before dsim_trace_start): key and a JSON
 * value, e.g. "params" and {"P":"10"}. Copied. */
void dsim_trace_header_field(DsimTrace *trace, const char *key, const char *json);

/* Flushes and closes the file and finishes the digest. Fails if a write
 * failed at any point (disk full); the error names the path. Idempotent. */
gboolean dsim_trace_finish(DsimTrace *trace, GError **error);

/* The lowercase hex SHA-256 of every event line (all lines after the header,
 * newlines included). Valid after dsim_trace_finish(). */
const char *dsim_trace_digest(const DsimTrace *trace);

/* Building one event line. Call dsim_trace_begin(), then any field adders,
 * then dsim_trace_end(). Keys are written as given (they must be plain ASCII
 * identifiers); string values are JSON-escaped. */
void dsim_trace_begin(DsimTrace *trace, DsimTime t, const char *ev);
void dsim_trace_u64(DsimTrace *trace, const char *key, uint64_t value);
void dsim_trace_i64(DsimTrace *trace, const char *key, int64_t value);
void dsim_trace_bool(DsimTrace *trace, const char *key, bool value);
void dsim_trace_double(DsimTrace *trace, const char *key, double value);
/* A string value; at most `max` bytes of it are written (then "...", and the
 * key "<key>_len" is not added: callers add the full size themselves). */
void dsim_trace_str(DsimTrace *trace, const char *key, const char *s, size_t len, size_t max);
void dsim_trace_pids(DsimTrace *trace, const char *key, const DsimPid *pids, size_t n);
/* An already-formatted JSON value. */
void dsim_trace_raw(DsimTrace *trace, const char *key, const char *json);
void dsim_trace_end(DsimTrace *trace);

/* The trace format version written in the header (docs/trace-format.md). */
#define DSIM_TRACE_VERSION 2

/* The message lines, which make up nearly all of a long trace, each in one
 * call: the same bytes as the field-by-field calls, several times faster.
 * As docs/trace-format.md says, `copy` is left out when it is 0 and `ch`
 * for the default channel: `ch_json` is the channel's name as a JSON string
 * literal, quotes included (dsim_json_escape with DSIM_TRACE_NAME_MAX), or
 * NULL for the default channel. `data` is cut at `max` bytes like
 * dsim_trace_str(). */
#define DSIM_TRACE_NAME_MAX 200
void dsim_trace_send(DsimTrace *trace, DsimTime t, uint64_t mid, const char *ch_json, size_t ch_json_len,
                     DsimPid src, DsimPid dst, uint64_t size, const char *data, size_t len, size_t max);
void dsim_trace_deliver(DsimTrace *trace, DsimTime t, uint64_t mid, uint32_t copy, DsimPid src, DsimPid dst,
                        bool corrupted);
void dsim_trace_recv(DsimTrace *trace, DsimTime t, uint64_t mid, uint32_t copy, DsimPid pid, DsimPid src);

/* Appends s (len bytes, or up to NUL if len is (size_t)-1) to out as a JSON
 * string literal, quotes included. At most max bytes of s are used; a cut
 * string ends in "...". Invalid UTF-8 bytes are written as \u00XX escapes of
 * the byte so that the output is always valid JSON. */
void dsim_json_escape(GString *out, const char *s, size_t len, size_t max);

G_END_DECLS

#endif /* DSIM_SIM_H */
