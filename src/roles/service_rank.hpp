// Service ranks other than randomizers: a transformation rank and a cache server are one loop, ServiceRank,
// composed of the two parts it may play: a MissPipeline (roles/miss_pipeline.hpp: read, prepare and deliver
// the miss lists it is sent) and a SlabServer (roles/slab_server.hpp: store inserts into its cache slab and
// ack them). ServiceRank itself routes messages to them, applies role changes, counts shutdowns and, on a
// randomizer that retired (R3), forwards the consumer messages that still reach it.
//
// One loop plays both roles because with role rebalancing (monitor.rebalance) a rank may change between them
// at a rebalance point: the randomizers decide where misses and inserts go, and the rank serves whatever it
// is sent. A miss list that was on its way when the rank became a cache server is still prepared, and an
// insert into its slab is still stored: no message is lost and no batch waits for a handover. The role only
// names the rank in its report and its errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "roles/miss_pipeline.hpp"
#include "roles/role_loop.hpp"
#include "roles/slab_server.hpp"
#include "roles/wire.hpp"

namespace ferry::roles {

// A randomizer that handed its pipelines over (R3) and transforms from now on.
struct FormerRandomizer {
  int heir = -1;      // consumer messages that still reach this rank go there
  int shutdowns = 0;  // kShutdown messages counted already: its own, and those it got as a randomizer
};

class ServiceRank final : public RoleLoop {
 public:
  // `slab`: this rank's cache slab (empty when it holds none).
  ServiceRank(Context& ctx, std::span<std::byte> slab, std::optional<FormerRandomizer> former = std::nullopt);

 protected:
  void on_message(transport::Message& message) override;
  void after_messages() override;
  bool done() const override;
  void finish(ServeReport& report) override;
  std::chrono::microseconds idle_wait() const override;

 private:
  void apply(const transport::Message& role_change);
  void forward(const transport::Message& message);

  Role role_;
  std::optional<FormerRandomizer> former_;
  std::uint64_t forwarded_ = 0;  // consumer messages sent on to the heir
  int shutdowns_ = 0;
  std::uint64_t roles_expected_ = 0, roles_received_ = 0;  // kRole messages announced by shutdowns, applied
  std::uint64_t ends_expected_ = 0, ends_received_ = 0;    // kEpochEnd messages, likewise
  Writer forward_;
  SlabServer slab_;
  MissPipeline pipeline_;  // its destructor stops the worker queue (workers refer to nothing else here)
};

}  // namespace ferry::roles
