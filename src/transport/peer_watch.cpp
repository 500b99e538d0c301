#include "transport/peer_watch.hpp"

#include <cstdio>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::transport {

PeerWatch::PeerWatch(std::vector<std::string> names, int self)
    : names_(std::move(names)), self_(self), why_(names_.size()) {}

bool PeerWatch::report(int rank, const std::string& symptom, bool local) noexcept {
  if (rank < 0 || rank >= size() || rank == self_) return false;
  return record(rank, symptom, local);
}

bool PeerWatch::report_self(const std::string& why) noexcept {
  return record(self_, why, true);
}

bool PeerWatch::record(int rank, const std::string& symptom, bool local) noexcept {
  try {
    std::string why = symptom;
    if (std::function<std::string(int)> probe = [this] {
          std::lock_guard lock(mutex_);
          return probe_;
        }()) {
      if (const std::string cause = probe(rank); !cause.empty() && cause != symptom)
        why = str_cat(cause, "; ", symptom);
    }
    std::lock_guard lock(mutex_);
    if (!lost_ranks_.insert(rank).second) return false;
    why_[static_cast<std::size_t>(rank)] = why;
    if (local) untold_.push_back(rank);
    if (first_ >= 0) return true;
    first_ = rank;
    // Printed here, once per rank, the moment the loss is known: a rank that ends (or is ended by the
    // reporter's MPI_Abort) right after has said it already.
    const std::string line =
        str_cat("ferry: error (rank ", self_, "): ", name(rank), " was lost: ", why, "\n");
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    lost_.store(true, std::memory_order_release);
    // Under the lock, so that clear_wakes() cannot return while a wake-up is on its way to a closing Fabric.
    for (const auto& wake : wakes_) wake();
  } catch (...) {  // out of memory for a message: the loss still counts
    lost_.store(true, std::memory_order_release);
  }
  return true;
}

void PeerWatch::check() {
  if (!lost()) return;
  taken_.store(true, std::memory_order_release);
  int rank = 0;
  std::string message;
  {
    std::lock_guard lock(mutex_);
    rank = first_;
    message = str_cat(name(rank), " was lost: ", why_[static_cast<std::size_t>(rank)]);
  }
  throw PeerLost(message, rank);
}

bool PeerWatch::is_lost(int rank) const {
  std::lock_guard lock(mutex_);
  return lost_ranks_.count(rank) > 0;
}

std::string PeerWatch::text() const {
  std::lock_guard lock(mutex_);
  if (first_ < 0) return {};
  return str_cat(name(first_), " was lost: ", why_[static_cast<std::size_t>(first_)]);
}

int PeerWatch::first_lost() const {
  std::lock_guard lock(mutex_);
  return first_;
}

std::vector<int> PeerWatch::take_untold() {
  std::lock_guard lock(mutex_);
  return std::exchange(untold_, {});
}

std::string PeerWatch::why(int rank) const {
  std::lock_guard lock(mutex_);
  return why_.at(static_cast<std::size_t>(rank));
}

int PeerWatch::reporter() const {
  std::lock_guard lock(mutex_);
  for (int r = 0; r < size(); ++r)
    if (lost_ranks_.count(r) == 0) return r;
  return self_;
}

void PeerWatch::on_loss(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wakes_.push_back(std::move(wake));
}

void PeerWatch::set_probe(std::function<std::string(int)> probe) {
  std::lock_guard lock(mutex_);
  probe_ = std::move(probe);
}

void PeerWatch::clear_wakes() {
  std::lock_guard lock(mutex_);
  wakes_.clear();
}

}  // namespace ferry::transport
