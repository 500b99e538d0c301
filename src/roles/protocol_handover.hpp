// The messages of role changes and epoch accounting: a role change (RoleChange), one rank's figures of an
// epoch (EpochFigures), a transformer's answer to a miss list (MissDone) and a retiring randomizer's handover
// (Handover). Included by protocol.hpp, which lists the tags; codecs in protocol_handover.cpp (EpochFigures's
// in protocol.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roles/wire.hpp"

namespace ferry::roles {

// ---- coordinator -> randomizers and the moving rank: a service rank changes role ----------------------
struct RoleChange {
  std::int32_t rank = 0;
  std::uint8_t role = 0;    // monitor::ServiceRole: 0 transformer, 1 cache server
  std::uint64_t epoch = 0;  // the epoch being described when it was decided
  std::string why;
  std::int32_t heir = -1;  // kRetire: the randomizer that takes over the retiring one's pipelines
};
void encode(Writer& w, const RoleChange& c);
void decode(Reader& r, RoleChange& c);

// Figures one rank reports for one (pipeline, epoch); the randomizer adds them up for the epoch table.
struct EpochFigures {
  std::uint32_t pipeline = 0;
  std::uint64_t epoch = 0;
  std::uint64_t samples = 0, hits = 0, misses = 0, bytes = 0;  // consumer side
  std::uint64_t wait_us = 0;                                   // consumer: time waited in next_batch
  std::uint64_t hdf5_reads = 0, hdf5_bytes = 0, busy_us = 0;   // transformer side
  std::uint64_t elapsed_us = 0;                                // consumer: epoch wall time
  std::uint64_t skipped = 0;  // consumer: batch positions dropped (bad_samples = skip)
};
void encode(Writer& w, const EpochFigures& f);
void decode(Reader& r, EpochFigures& f);

// ---- transformer -> randomizer (kMissDone): a miss list is answered --------------------------------------
// Its figures, and the admitted entries the transformer will not insert because their samples were skipped
// (bad_samples = skip) or their entry was not the size reserved: the randomizer gives their reservations
// back. Variable-length entries: the size of each entry of the list it was not asked to insert (0 for a
// skipped sample), so that the randomizer can admit the sample when it misses next (docs/cache.md, "Variable
// entries"); ascending IDs.
struct Unfilled {
  std::uint64_t id = 0;
  std::uint32_t server = 0;  // slab holder index
  std::uint64_t offset = 0;  // in that slab (names the share)
};
struct EntrySize {
  std::uint64_t id = 0, bytes = 0;
};
struct MissDone {
  EpochFigures figures;
  std::vector<Unfilled> unfilled;
  std::vector<EntrySize> sizes;
};
void encode(Writer& w, const MissDone& m);
void decode(Reader& r, MissDone& m);

// ---- retiring randomizer -> heir ----------------------------------------------------------------------
// Sent once the retiring randomizer has no insert or miss list unanswered (so nothing is pending): each
// consumer's position, its batches described and not yet credited with their pins (the heir pins them
// again; the credits reach it directly or forwarded), and the directory.
struct HandoverPin {
  std::uint64_t group = 0, id = 0;
  std::uint32_t server = 0;  // slab holder index
};
struct HandoverBatch {
  std::uint64_t epoch = 0, batch = 0;
  std::vector<HandoverPin> pins;
};
struct HandoverConsumer {
  std::int32_t rank = 0;
  std::uint64_t next_seq = 0;  // the next batch to describe for it
  bool finished = false;
  std::uint64_t epochs_reported = 0;       // its kEpochDone messages received
  std::uint64_t epochs_announced = 0;      // ... and how many it said it sent (with kFinished)
  std::vector<HandoverBatch> outstanding;  // described, not credited, oldest first
};
struct HandoverEpoch {  // an epoch whose table line is not printed yet
  EpochFigures sum;     // sum.epoch names it
  std::uint64_t consumers_reported = 0, miss_lists = 0;
  std::string layout;
};
struct HandoverPipeline {
  std::uint32_t pipeline = 0;
  std::vector<HandoverConsumer> consumers;  // in consumer-index order
  std::vector<HandoverEpoch> epochs;
  std::vector<EntrySize> sizes;  // variable-length entries: every size learned, ascending IDs
};
struct HandoverEntry {  // a stored cache entry, in the eviction order of its server
  std::uint64_t group = 0, id = 0;
  std::uint32_t server = 0;  // slab holder index
  std::uint64_t offset = 0;  // inside the share
  std::uint64_t bytes = 0;
};
struct Handover {
  std::uint32_t share = 0;  // the randomizer index whose slice of every slab the entries are in
  std::vector<HandoverPipeline> pipelines;
  std::vector<HandoverEntry> entries;
};
void encode(Writer& w, const Handover& h);
void decode(Reader& r, Handover& h);

}  // namespace ferry::roles
