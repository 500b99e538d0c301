// Service ranks other than randomizers. A transformation rank takes miss lists, reads the samples from HDF5
// in ascending order (coalesced), runs the prepare stage, sends the entries to the consumer and stores
// admitted ones on their cache server. A cache server holds a slab registered for one-sided gets and copies
// inserts to the offsets the randomizer chose, then acks them.
//
// One class plays both, because with role rebalancing (monitor.rebalance) a rank may change between them at
// a rebalance point: the randomizers decide where misses and inserts go, and the rank serves whatever it is
// sent. A miss list that was on its way when the rank became a cache server is still prepared, and an insert
// into its slab is still stored: no message is lost and no batch waits for a handover.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "monitor/job_list.hpp"
#include "roles/entry.hpp"
#include "roles/layout.hpp"
#include "roles/protocol.hpp"
#include "roles/reporter.hpp"
#include "roles/role_loop.hpp"

namespace ferry::roles {

class ServiceRank final : public RoleLoop {
 public:
  // `slab`: this rank's cache slab (empty when it holds none).
  ServiceRank(Context& ctx, std::span<std::byte> slab);

 protected:
  void on_message(transport::Message& message) override;
  void after_messages() override;
  bool done() const override;
  void finish(ServeReport& report) override;

 private:
  void handle(const Misses& misses, int randomizer);
  void store(transport::Message& message);

  std::span<std::byte> slab_;
  Role role_;
  std::map<std::size_t, EntryBuilder> builders_;  // per pipeline index (every rank that may transform)
  std::map<std::size_t, std::uint64_t> routed_;   // per pipeline: batches routed so far (job list routing)
  monitor::JobList jobs_;
  std::unique_ptr<StatsReporter> reporter_;
  int shutdowns_ = 0;
  std::vector<std::uint64_t> ids_, starts_;
  std::vector<std::byte> entries_;
  Writer out_, insert_, ack_;
};

}  // namespace ferry::roles
