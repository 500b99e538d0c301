// Transformation rank: takes miss lists, reads the samples from HDF5 in ascending order (coalesced), runs
// the prepare stage, sends the entries to the consumer, and stores admitted ones on their cache server.
#pragma once

#include <map>

#include "roles/entry.hpp"
#include "roles/protocol.hpp"
#include "roles/role_loop.hpp"

namespace ferry::roles {

class Transformer final : public RoleLoop {
 public:
  explicit Transformer(Context& ctx);

 protected:
  void on_message(transport::Message& message) override;
  bool done() const override;

 private:
  void handle(const Misses& misses, int randomizer);

  std::map<std::size_t, EntryBuilder> builders_;  // per pipeline index
  int shutdowns_ = 0;
  std::vector<std::uint64_t> ids_, starts_;
  std::vector<std::byte> entries_;
  Writer out_, insert_;
};

// Cache server: a slab of runtime.cache_bytes registered for one-sided gets; copies inserts to the offsets
// the randomizer chose and acks them.
class CacheServer final : public RoleLoop {
 public:
  CacheServer(Context& ctx, std::span<std::byte> slab);

 protected:
  void on_message(transport::Message& message) override;
  bool done() const override;

 private:
  std::span<std::byte> slab_;
  int shutdowns_ = 0;
  Writer ack_;
};

}  // namespace ferry::roles
