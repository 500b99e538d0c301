// What a rank knows about lost peers (docs/errors.md, "A lost rank"). The liveness thread (liveness.hpp), the
// UCX endpoints' error callbacks and notices from other ranks report losses here; the communication thread
// finds them at its next Fabric call (Fabric::check_peers throws ferry::PeerLost). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace ferry::transport {

class PeerWatch {
  using Clock = std::chrono::steady_clock;

 public:
  // names[r]: how rank r is called in messages, "rank R (ROLE) on host H".
  explicit PeerWatch(std::vector<std::string> names, int self);

  // Records that `rank` is lost for `why`. The first loss of the job (on this rank) is printed to stderr at
  // once, as the one line every surviving rank prints, and wakes the communication thread. `local`: this
  // rank found it (rather than hearing it from another rank), so it tells the others. True when new. A rank
  // never loses itself this way (others' word about it is ignored): only report_self does.
  bool report(int rank, const std::string& why, bool local) noexcept;
  // This rank's own main thread stalled (step_age): recorded and told like a loss found here.
  bool report_self(const std::string& why) noexcept;

  // A service rank's role loop marks each step: started when its wait returns with work, ended when it waits
  // again. The liveness rule reports this rank lost when one step outlasts the timeout: a main thread that
  // livelocks or hangs while the liveness thread still beats.
  void step_started() noexcept { step_since_.store(Clock::now().time_since_epoch().count()); }
  void step_ended() noexcept { step_since_.store(0); }
  // How long the running step has lasted at `now`; zero while the loop waits (or runs no steps).
  std::chrono::steady_clock::duration step_age(std::chrono::steady_clock::time_point now) const noexcept {
    const auto since = step_since_.load();
    return since == 0 ? Clock::duration::zero() : now.time_since_epoch() - Clock::duration(since);
  }
  bool lost() const noexcept { return lost_.load(std::memory_order_acquire); }
  // Throws PeerLost for the first loss, if any. Marks the loss as taken by the communication thread.
  void check();
  bool taken() const noexcept { return taken_.load(std::memory_order_acquire); }
  bool is_lost(int rank) const;
  // The first loss's text ("rank R (ROLE) on host H was lost: why") and rank; "" and -1 before any loss.
  std::string text() const;
  int first_lost() const;
  // Losses this rank found itself and has not told the others of yet (taken by the liveness thread).
  std::vector<int> take_untold();
  std::string why(int rank) const;
  // The lowest rank not known lost: it ends the job (Runtime::end_after_loss).
  int reporter() const;

  const std::string& name(int rank) const { return names_.at(static_cast<std::size_t>(rank)); }
  int size() const noexcept { return static_cast<int>(names_.size()); }
  int self() const noexcept { return self_; }
  // Called (from the reporting thread, under no lock) when the first loss is recorded: wakes a Fabric.
  void on_loss(std::function<void()> wake);
  void clear_wakes();
  // Set by the liveness rule: says what became of a rank's process when it can tell ("its process (pid P) is
  // gone ..."; "" when it cannot), so a transport's error report names the cause, not the symptom.
  void set_probe(std::function<std::string(int rank)> probe);

 private:
  bool record(int rank, const std::string& why, bool local) noexcept;

  std::vector<std::string> names_;
  int self_;
  std::atomic<bool> lost_{false};
  std::atomic<bool> taken_{false};
  std::atomic<Clock::rep> step_since_{0};  // when the running step started; 0: none
  mutable std::mutex mutex_;
  std::set<int> lost_ranks_;
  std::vector<std::string> why_;
  std::vector<int> untold_;
  int first_ = -1;
  std::vector<std::function<void()>> wakes_;
  std::function<std::string(int)> probe_;
};

}  // namespace ferry::transport
