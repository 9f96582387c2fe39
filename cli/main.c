/* main.c — dispatches `dsim <command>`. */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dsim/sim.h"

static const char USAGE[] =
    "usage: dsim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE [--seed N] [--trace PATH] [--until T]   run a Lua scenario\n"
    "  sweep FILE --seeds A..B [-j N]                  run it under many seeds, list failures\n"
    "  report TRACE [--html OUT | --format FMT]        summarise, draw or export a trace\n"
    "  diff TRACE_A TRACE_B [--context N]              the first event where two traces differ\n"
    "  version                                         print the version\n"
    "  help                                            this text\n"
    "\n"
    "Run `dsim <command> --help` for a command's options.\n";

int main(int argc, char **argv) {
  /* Numbers are printed and parsed in the C locale whatever the user's is:
   * traces must not depend on the environment. */
  setlocale(LC_ALL, "C");
  if (argc < 2) {
    fputs(USAGE, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "run") == 0) return dsim_cli_run(argc - 1, argv + 1);
  if (strcmp(cmd, "sweep") == 0) return dsim_cli_sweep(argc - 1, argv + 1);
  if (strcmp(cmd, "report") == 0) return dsim_cli_report(argc - 1, argv + 1);
  if (strcmp(cmd, "diff") == 0) return dsim_cli_diff(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("dsim %s\n", DSIM_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(USAGE, stdout);
    return 0;
  }
  fprintf(stderr, "dsim: unknown command '%s' (expected run, sweep, report, diff, version or help)\n", cmd);
  return 2;
}
