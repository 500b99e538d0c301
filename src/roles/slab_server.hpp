// The cache server's part of a service rank: it holds the rank's cache slab (registered for the consumers'
// one-sided gets by the Runtime), copies each insert a transformer sends to the offsets the randomizer chose,
// and acks them to that randomizer (kStored), which may hand the entries out as hits from then on.
//
// It owns no thread and no message loop: ServiceRank hands it every kInsert, whatever the rank's role is
// now (an insert sent before the rank became a transformer is still stored). Progress thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <span>
#include <vector>

#include "ferry/stats.hpp"
#include "roles/context.hpp"
#include "roles/protocol.hpp"
#include "roles/wire.hpp"

namespace ferry::roles {

class SlabServer {
 public:
  // `slab`: this rank's cache slab (empty when it holds none); `report`: the rank's, which counts the
  // entries and bytes stored.
  SlabServer(Context& ctx, std::span<std::byte> slab, ServeReport& report);

  // One kInsert: stores every entry it carries and sends the randomizer one kStored with their ids and
  // offsets. `role` is the rank's role now, for the error when it holds no slab.
  void store(const transport::Message& message, Role role);
  // One kInsertAt: starts the gets of every entry it names from the sender's send pool into the slab; once
  // they are complete, progress() acks the randomizer (kStored) and the sender (kFetched).
  void store_from_pool(const transport::Message& message, Role role);
  // Acks the inserts from send pools whose gets are complete, in arrival order.
  void progress();
  // Inserts from send pools not yet acked: the rank's loop must look again soon (their gets complete
  // without a message).
  bool reading() const noexcept { return !pending_.empty(); }

 private:
  Context& ctx_;
  std::span<std::byte> slab_;
  ServeReport& report_;
  // The header of a kInsert or kInsertAt, after checking that this rank holds a slab.
  InsertHeader open_insert(const transport::Message& message, Role role, Reader& r) const;
  // The randomizer's ack, once the entries are in the slab.
  void ack(int randomizer, const Stored& stored);
  struct Pending {
    int randomizer = 0, source = 0;
    std::uint64_t offset = 0;  // the sender's slot
    Stored stored;
    std::vector<transport::Request> gets;
  };

  Writer ack_;  // reused: no allocation per insert once the largest ack has been seen
  std::vector<transport::Request> gets_;  // scratch: one kInsertAt's gets
  std::deque<Pending> pending_;           // inserts from send pools, gets in flight
};

}  // namespace ferry::roles
