#include "roles/service_rank.hpp"

#include "core/log.hpp"
#include "roles/epoch_rss.hpp"
#include "roles/protocol.hpp"

namespace ferry::roles {

ServiceRank::ServiceRank(Context& ctx, std::span<std::byte> slab, std::optional<FormerRandomizer> former)
    : RoleLoop(ctx),
      role_(former ? Role::transformer : ctx.role()),
      former_(former),
      shutdowns_(former ? former->shutdowns : 0),
      slab_(ctx, slab, report_),
      pipeline_(ctx, report_) {}

void ServiceRank::on_message(transport::Message& message) {
  switch (message.tag) {
    case kShutdown: {
      ++shutdowns_;
      Reader r(message.bytes);
      roles_expected_ += r.u();  // role changes the randomizer sent before it: done() waits for them
      ends_expected_ += r.u();   // and its epoch ends (their RSS lines)
      return;
    }
    case kMisses: {
      // Whatever this rank's role is now: a miss list sent before it became a cache server is prepared.
      Reader r(message.bytes);
      Misses misses;
      decode(r, misses);
      pipeline_.start(std::move(misses), message.source);
      return;
    }
    case kInsert:
      slab_.store(message, role_);  // likewise, whatever the role is now
      return;
    case kInsertAt:
      slab_.store_from_pool(message, role_);
      return;
    case kFetched:
      pipeline_.fetched(message);  // whatever the role is now: the pool stays this rank's
      return;
    case kJobs:
      // A node stats leader passes the list on to the ranks that report through it (docs/scaling.md).
      if (ctx_.layout.stats_leader(ctx_.rank) && message.source == ctx_.layout.coordinator())
        for (int r = 0; r < ctx_.layout.size(); ++r)
          if (r != ctx_.rank && ctx_.layout.report_to[static_cast<std::size_t>(r)] == ctx_.rank)
            ctx_.fabric->send(r, kJobs, message.bytes);
      pipeline_.set_jobs(monitor::decode_job_list(message.bytes));
      return;
    case kDeviceReady:
      pipeline_.post_device_send(message);
      return;
    case kStats:
      FERRY_ENFORCE(ctx_.layout.stats_leader(ctx_.rank), role_name(role_),
                    " got a monitoring window from rank ", message.source, " but is no node's stats leader");
      pipeline_.relay_stats(message);
      return;
    case kCredit:
    case kEpochDone:
    case kFinished:
      forward(message);
      return;
    case kRelease:
    case kRetired:
      // Meant for the randomizer this rank was: it ended, and another randomizer retiring concerns it no
      // more.
      FERRY_ENFORCE(former_, role_name(role_), " got randomizer message tag ", message.tag, " from rank ",
                    message.source);
      return;
    case kRole:
      apply(message);
      return;
    case kEpochEnd:
      on_epoch_end(ctx_, role_name(role_), message);
      ++ends_received_;
      return;
    default:
      FERRY_ENFORCE(false, role_name(role_), " got unexpected message tag ", message.tag, " from rank ",
                    message.source);
  }
}

void ServiceRank::forward(const transport::Message& message) {
  // A consumer that had not heard of the handover yet: on to the heir, as it was sent.
  FERRY_ENFORCE(former_, role_name(role_), " got consumer message tag ", message.tag, " from rank ",
                message.source);
  forward_.clear();
  forward_.u(static_cast<std::uint64_t>(message.source)).u(message.tag).u(message.bytes.size());
  forward_.raw(message.bytes);
  ctx_.fabric->send(former_->heir, kForward, forward_.view());
  ++forwarded_;
}

void ServiceRank::apply(const transport::Message& role_change) {
  Reader r(role_change.bytes);
  RoleChange change;
  decode(r, change);
  // As a randomizer it was told of every move; now it plays no part in the others'.
  if (former_ && change.rank != ctx_.rank) return;
  FERRY_ENFORCE(change.rank == ctx_.rank, "role change for rank ", change.rank, " reached rank ", ctx_.rank);
  const Role next = change.role == 0 ? Role::transformer : Role::cache_server;
  log::info("rank {}: {} -> {} at epoch {} ({})", ctx_.rank, role_name(role_), role_name(next), change.epoch,
            change.why);
  // Only the name changes: both parts keep serving whatever they are sent (see service_rank.hpp).
  role_ = next;
  ++report_.role_changes;
  ++roles_received_;
}

void ServiceRank::after_messages() {
  slab_.progress();
  pipeline_.progress();
}

bool ServiceRank::done() const {
  // Device results still announced but never asked for belong to consumers that stopped early: finish()
  // drops them. Posted sends complete first (their receives are posted).
  return shutdowns_ >= static_cast<int>(ctx_.layout.randomizers.size()) && pipeline_.drained() &&
         roles_received_ >= roles_expected_ &&
         // A former randomizer read some shutdowns in its randomizer role (their counts unknown here).
         (former_ || ends_received_ >= ends_expected_);
}

void ServiceRank::finish(ServeReport& report) {
  report.role = role_name(role_);
  if (forwarded_)
    log::info("rank {}: forwarded {} consumer message(s) to rank {}, which took its pipelines over",
              ctx_.rank, forwarded_, former_->heir);
  pipeline_.finish();
}

std::chrono::microseconds ServiceRank::idle_wait() const {
  // A posted device send, and a get from a send pool, complete without a message.
  return pipeline_.sending_on_device() || slab_.reading() ? std::chrono::microseconds(200)
                                                          : RoleLoop::idle_wait();
}

}  // namespace ferry::roles
