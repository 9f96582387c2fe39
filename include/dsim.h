/* dsim.h — the public C API of dsim, a deterministic distributed-systems
 * simulator. Include this one header; link with `pkg-config --libs dsim` or
 * the CMake target dsim::dsim.
 *
 *   dsim/sim.h      the kernel: worlds, virtual time, events, random
 *                   streams, processes, timers, checks, the trace
 *   dsim/channel.h  the textbook channel, the network model, and
 *                   handler-based processes written in C
 *
 * examples/embed/ shows a complete program. */
#ifndef DSIM_H
#define DSIM_H

#include "dsim/sim.h"
#include "dsim/channel.h"

#endif
