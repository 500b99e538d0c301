// The messages between roles, with their encodings. Flow of one batch (docs/runtime.md):
//   randomizer --Descriptor--> consumer        where each position of the batch comes from
//   randomizer --Misses------> transformer     IDs to read and prepare (+ cache slot to fill, if admitted)
//   transformer --Samples----> consumer        prepared samples of those misses
//   transformer --Insert-----> cache server    bytes to store at the admitted slot
//   cache server --Stored----> randomizer      the slot now holds the entry: it may be handed out as a hit
//   consumer --Credit--------> randomizer      batch released: unpin its hits, describe one more batch
// Fixed-size entries of 64 KiB and more go through the transformer's send pool instead where it has room
// (roles/send_pool.hpp): SamplesAt and InsertAt say where they are, the consumer and the cache server get
// them and answer Fetched.
// Consumers never receive sample IDs: they compute them from the pipeline's seed (sampler::EpochPlan).
// This header holds the tags and the messages of a batch's flow; role changes, epoch figures, MissDone and
// the handover are in roles/protocol_handover.hpp (included here).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "roles/protocol_handover.hpp"
#include "roles/wire.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

// Slab and send pool offsets are 64-byte aligned: messages carry offset / 64.
inline constexpr std::uint64_t kOffsetAlign = 64;

enum MsgTag : transport::Tag {
  kDescriptor = 1,
  kMisses,
  kSamples,
  kInsert,
  kStored,
  kCredit,
  kEpochDone,
  kMissDone,
  kFinished,
  kShutdown,
  kAbort,
  kStats,        // any rank -> coordinator or stats leader: a window (monitor::encode(RankStats))
  kJobs,         // coordinator -> service ranks and consumers: the job list (monitor::encode(JobList))
  kRole,         // coordinator -> the other randomizers and the rank that moves: a RoleChange
  kDeviceReady,  // consumer -> transformer: the device receive of a transfer is posted (u: transfer number)
  // Moving a randomizer (R3; docs/heterogeneous.md, "Moving a randomizer"):
  kRetire,    // coordinator -> a randomizer: drain, hand over to RoleChange::heir, transform (a RoleChange)
  kHandover,  // retiring randomizer -> heir: its pipelines, consumers, epoch tallies and directory (Handover)
  kRetired,   // retiring randomizer -> every other randomizer: it is a transformer now (empty)
  kForward,   // former randomizer -> heir: a consumer's message that reached it after the handover
  kRelease,   // coordinator -> a randomizer that reported done: it may end (no kRetire is on its way)
  kEpochEnd,  // randomizer -> service ranks: an epoch's table line is out (u: pipeline, u: epoch;
              // roles/epoch_rss.hpp)
  kStatsBundle,  // a node's stats leader -> coordinator: windows of the node's ranks, each as (u: length,
                 // monitor::encode(RankStats)) (roles/reporter.hpp)
  // One-sided miss delivery (roles/send_pool.hpp):
  kSamplesAt,   // transformer -> consumer: like kSamples, the entries in the sender's send pool (PoolSlot)
  kInsertAt,    // transformer -> cache server: like kInsert, the entries in the sender's send pool (PoolSlot)
  kFetched,     // consumer or cache server -> transformer: its gets from a slot are complete (u: slot offset)
  kShardEpoch,  // a directory shard's randomizer -> its pipeline's first shard: the shard's miss lists of an
                // epoch are all answered, with their figures (EpochFigures)
};

// ---- randomizer -> consumer -------------------------------------------------------------------------
struct Source {
  bool hit = false;
  std::uint32_t who = 0;     // hit: cache server index; miss: transformer index
  std::uint64_t offset = 0;  // hit: byte offset in that server's slab (64-byte aligned)
  std::uint64_t bytes = 0;   // hit of a variable-length entry: its size (0: the pipeline's fixed size)
};
struct Descriptor {
  std::uint32_t pipeline = 0;
  std::uint64_t epoch = 0, batch = 0;
  std::vector<Source> sources;  // one per batch position
  // The batch's augment head ran on a transformation rank (docs/heterogeneous.md, "The movable head"):
  // every position arrives from a transformer past the head (a hit's `who` names it; the hit was read from
  // the cache there, and still counts as a hit), and the consumer runs the rest of the augment stage.
  // Encoded as an optional tail, so that descriptors without it keep their bytes.
  bool past_head = false;
  // The directory shard (runtime.directory_shards) that described it: its randomizer describes only the
  // positions whose sample is in its key range, and another shard's descriptor the others. A consumer waits
  // for one descriptor per shard. `partial`: `positions` holds the batch positions of `sources`, ascending
  // (possibly none); otherwise sources are the whole batch in order. All in the tail.
  std::uint32_t shard = 0;
  bool partial = false;
  std::vector<std::uint32_t> positions{};

  // The source of batch position `position` (one of `positions` where partial).
  Source& source_at(std::uint32_t position);
};
void encode(Writer& w, const Descriptor& d);
void decode(Reader& r, Descriptor& d);

// ---- randomizer -> transformer ----------------------------------------------------------------------
struct MissEntry {
  std::uint64_t id = 0;
  std::vector<std::uint32_t> positions;  // batch positions that need this sample (>1 only with padding)
  bool insert = false;                   // admitted: also store it at (server, offset)
  std::uint32_t server = 0;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;  // insert: the entry size reserved there (an entry of another size is not stored)
};
// A cache hit of a batch whose head runs on the transformer: it reads the entry from the slab (pinned by
// the randomizer until the consumer credits the batch) instead of HDF5.
struct FetchEntry {
  std::uint64_t id = 0;
  std::vector<std::uint32_t> positions{};
  std::uint32_t server = 0;  // slab holder index
  std::uint64_t offset = 0;  // in that slab (64-byte aligned)
  std::uint64_t bytes = 0;   // the entry's size

  friend bool operator==(const FetchEntry&, const FetchEntry&) = default;
};
struct Misses {
  std::uint32_t pipeline = 0;
  std::uint64_t epoch = 0, batch = 0;
  std::int32_t consumer = 0;       // rank to deliver to
  std::vector<MissEntry> entries;  // ascending IDs: the transformer reads them in this order
  // The batch's augment head runs here (Descriptor::past_head): prepare the misses, read the hits in
  // `fetches` (ascending IDs) from the cache, run the head over all of them and send them past it. Encoded
  // as an optional tail.
  bool head = false;
  std::vector<FetchEntry> fetches;
};
void encode(Writer& w, const Misses& m);
void decode(Reader& r, Misses& m);

// ---- transformer -> consumer: header, then per entry: positions and the entry bytes -------------------
// Device-resident batches (runtime.device_batches): with `transfer` set, the bytes of `field` are left out
// of every entry and travel device to device instead, as one transfer of count * that field's bytes in entry
// order, which the transformer posts once the consumer answers kDeviceReady with `transfer`.
struct SamplesHeader {
  std::uint32_t pipeline = 0;
  std::uint64_t epoch = 0, batch = 0;
  std::uint64_t count = 0;     // entries that follow: [n positions][positions...][length][bytes]
  std::uint64_t transfer = 0;  // 0: entries are whole; else the sender's number for the device transfer
  std::uint32_t field = 0;     // with `transfer`: the field that is left out of the entries
  // After the entries: this many records [n positions][positions...] of samples the prepare stage could not
  // take (bad_samples = skip), which the consumer drops from the batch.
  std::uint64_t skipped = 0;
};
void encode(Writer& w, const SamplesHeader& h);
void decode(Reader& r, SamplesHeader& h);

// ---- transformer -> cache server: entries to store; the server acks to `randomizer` ------------------
struct InsertHeader {
  std::int32_t randomizer = 0;
  std::uint64_t group = 0;
  std::uint64_t count = 0;  // entries that follow: [id][offset][length][bytes]
};
void encode(Writer& w, const InsertHeader& h);
void decode(Reader& r, InsertHeader& h);

// ---- one-sided miss delivery: where a batch's entries wait in the sender's send pool ---------------------
// kSamplesAt: SamplesHeader (transfer 0), PoolSlot, per entry [n positions][positions...][e], then the
// skipped records as in kSamples. kInsertAt: InsertHeader, PoolSlot, per entry [id][slab offset][e]. The
// slot holds `entries` samples field by field (roles/send_pool.hpp, slot_layout): entry e's field f is at
// offset + base[f] + e * sizes[f].
struct PoolSlot {
  std::uint64_t offset = 0, entries = 0;
  std::vector<std::uint64_t> sizes;  // per field, bytes of one sample
};
void encode(Writer& w, const PoolSlot& s);
void decode(Reader& r, PoolSlot& s);

// ---- cache server -> randomizer ----------------------------------------------------------------------
struct Stored {
  std::uint64_t group = 0;
  std::vector<std::uint64_t> ids;
  std::vector<std::uint64_t> offsets;  // per id, where in the slab: names the randomizer's share it is in
};
void encode(Writer& w, const Stored& s);
void decode(Reader& r, Stored& s);

// ---- consumer -> randomizer ---------------------------------------------------------------------------
struct Credit {
  std::uint32_t pipeline = 0;
  std::uint64_t epoch = 0, batch = 0;
};
void encode(Writer& w, const Credit& c);
void decode(Reader& r, Credit& c);

}  // namespace ferry::roles
