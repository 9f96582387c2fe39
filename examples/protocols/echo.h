/* echo.h — an example protocol written in C with the handler API: an echo
 * server and a client that sends numbered requests and retransmits on
 * timeout. Registered in the dsim binary, so scenarios can spawn them:
 *
 *   sim.spawn("echo_server")
 *   sim.spawn("echo_client", 10, "200ms")   -- 10 requests, 200 ms timeout
 */
#ifndef DSIM_EXAMPLES_ECHO_H
#define DSIM_EXAMPLES_ECHO_H

#include "dsim.h"

extern const DsimProcClass dsim_echo_server_class;
extern const DsimProcClass dsim_echo_client_class;

/* Registers every example class on a world. */
void dsim_examples_register(DsimWorld *world);

#endif
