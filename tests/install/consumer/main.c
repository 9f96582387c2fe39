/* Uses only the installed public header: one world, two C processes, one
 * message. Prints the digest so the test can compare builds. */
#include <dsim.h>
#include <stdio.h>

static void start(DsimWorld *w, DsimPid self, void *state, int argc, const char *const *argv) {
  (void)state, (void)argc, (void)argv;
  DsimChannel *ch = dsim_channel_open(w, NULL);
  DsimPid pid;
  dsim_channel_join(ch, "p", &pid, NULL);
  if (self == 2) {
    DsimPid to = 1;
    DsimPayload *p = dsim_payload_new("hello", 5, NULL);
    dsim_channel_send_to(ch, &to, 1, p, NULL);
    dsim_payload_unref(p);
  }
}

static void message(DsimWorld *w, DsimPid self, void *state, const DsimMessage *m) {
  (void)state, (void)m;
  dsim_world_check(w, self, true, "got it", NULL);
}

static const DsimProcClass cls = {"p", 0, start, message, NULL, NULL};

int main(void) {
  DsimWorld *w = dsim_world_new(NULL);
  dsim_world_set_trace(w, dsim_trace_new(NULL, NULL));
  dsim_cproc_spawn(w, &cls, 0, NULL);
  dsim_cproc_spawn(w, &cls, 0, NULL);
  dsim_world_run(w);
  dsim_trace_finish(dsim_world_trace(w), NULL);
  printf("dsim %s checks=%llu digest=%s\n", DSIM_VERSION, (unsigned long long)dsim_world_checks_passed(w),
         dsim_trace_digest(dsim_world_trace(w)));
  int ok = dsim_world_checks_passed(w) == 1;
  dsim_world_free(w);
  return ok ? 0 : 1;
}
