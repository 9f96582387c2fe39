/* cli.h — the dsim command line: one function per subcommand. Each returns
 * the process exit status (0 ok, 1 a check failed, 2 usage or scenario
 * error) and prints its own messages. */
#ifndef DSIM_CLI_H
#define DSIM_CLI_H

int dsim_cli_run(int argc, char **argv);
int dsim_cli_sweep(int argc, char **argv);
/* `dsim report TRACE`: summary, HTML report or export (cli/report.c). */
int dsim_cli_report(int argc, char **argv);
/* `dsim diff TRACE_A TRACE_B`: 0 same, 1 different, 2 error (cli/report.c). */
int dsim_cli_diff(int argc, char **argv);

#endif
