// What agent.cpp offers the agent's other parts: the outgoing batch (one
// TRC stream, cut into a new one when full), for the agent's own thread
// only (never a signal handler or a program thread); and a way to wake
// that thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "format/encoder.h"
#include "format/schemas.h"

namespace dial9::agent {

// The encoder, with at least `room` bytes free in the current batch (the
// batch is sent and a new stream begun when there are not). A new stream
// forgets schemas and pool entries: callers that cache ids key them by
// batch_generation().
format::Encoder& batch_encoder(size_t room);
// Counts an event written into the batch (a batch of no event is not sent).
void batch_event_written();
// Changes whenever a new stream begins.
uint64_t batch_generation();
// The stream's type id of a built-in schema, defined on first use in it.
uint16_t batch_builtin(format::Builtin id);

// Wakes the agent's thread to drain now (any thread may call it; one
// write(2) to an eventfd, nothing when the agent's thread is not running).
void poke_agent();

}  // namespace dial9::agent
