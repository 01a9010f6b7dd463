// The agent's side of the app API (include/dial9/dial9.h, dial9(3)).
//
// A program that includes the header has, in each executable or library
// built with it, a slot (a pointer to a function table) and an ELF note
// ".note.dial9" that locates the slot. The agent finds the notes through
// dl_iterate_phdr and writes its table into every slot while it records;
// without the agent the slot is NULL and each call is one branch.
//
// Program threads never encode TRC: each call appends a small fixed record
// to its thread's own single-producer ring (no lock, no system call but the
// clock's vDSO; a full ring drops the record and counts it). The agent's
// thread drains every ring into TRC batches (api_drain), where the records
// become the Tokio recorder's schemas and one schema per custom event type.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dial9::agent {

// Looks for the notes of objects loaded since the last look (a new slot
// gets the table at once while serving); returns how many slots are known.
// Cheap (one dl_iterate_phdr): called at start and every second, so a
// library dlopen'd later is served too.
size_t api_find_slots();

// Starts serving the API: what the rings hold from a previous recording is
// dropped, then the table goes into every slot.
void api_start();
// Stops: every slot back to NULL. Calls already past the branch finish
// into the rings (drained once more by the caller, or dropped at the next
// start).
void api_stop();
// In a child forked without exec: no agent thread drains there.
void api_on_fork_child();

// Encodes what the rings hold into the agent's batch (batch.h). Returns the
// number of events written. Agent thread only.
size_t api_drain();

struct ApiCounters {
  uint64_t events = 0;   // records drained into batches
  uint64_t dropped = 0;  // records lost: a full ring, or an event that broke its type's rules
  uint32_t threads = 0;  // threads that made a call, live now
};
ApiCounters api_counters();

}  // namespace dial9::agent
