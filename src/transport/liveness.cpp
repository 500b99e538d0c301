#include "transport/liveness.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "transport/comm.hpp"
#include "transport/liveness_wire.hpp"

namespace ferry::transport {

using Clock = std::chrono::steady_clock;

std::vector<int> ring_neighbours(int self, int size) {
  std::vector<int> out;
  if (size < 2) return out;
  const int left = (self - 1 + size) % size, right = (self + 1) % size;
  out.push_back(left);
  if (right != left) out.push_back(right);
  return out;
}

char process_state(int pid) {
  std::ifstream stat(str_cat("/proc/", pid, "/stat"));
  std::string text;
  if (!stat || !std::getline(stat, text)) return 'X';
  // "pid (comm) S ...": the command may hold spaces and parentheses, the state follows the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 'X';
  return text[close + 2];
}

struct Liveness::Impl {
  std::shared_ptr<PeerWatch> watch;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds interval;
  std::atomic<std::chrono::milliseconds::rep> step_timeout;
  std::vector<int> neighbours;
  std::vector<int> local_pid;  // per rank: its pid when on this host, else -1
  std::vector<Clock::time_point> heard;
  std::set<int> left;  // ranks that said goodbye
  Wire wire;
  std::thread thread;
  bool acked = false;

  std::mutex mutex;  // guards acks (the reporter's wait reads them)
  std::condition_variable changed;
  std::set<int> acks;

  MPI_Comm comm;

  Impl(MPI_Comm c, std::shared_ptr<PeerWatch> w, std::chrono::milliseconds t)
      : watch(std::move(w)), timeout(t), step_timeout(t.count()), wire(c), comm(c) {}
  void run() noexcept;
  [[noreturn]] void end_process() const noexcept;
  std::string probe(int rank) const;
  void on_packet(const Packet& packet);
  void watch_neighbours(Clock::time_point now);
  void watch_own_step(Clock::time_point now);
  void tell_losses();
};

Liveness::Liveness(MPI_Comm comm, std::shared_ptr<PeerWatch> watch, std::chrono::milliseconds timeout,
                   const std::vector<std::string>& hosts)
    : impl_(std::make_unique<Impl>(comm, std::move(watch), timeout)) {
  Impl& s = *impl_;
  const int self = s.watch->self(), size = s.watch->size();
  s.interval = std::clamp(timeout / 8, std::chrono::milliseconds(20), std::chrono::milliseconds(1000));
  s.neighbours = ring_neighbours(self, size);
  const std::vector<int> pids = s.wire.exchange_pids();
  s.local_pid.assign(static_cast<std::size_t>(size), -1);
  for (int r = 0; r < size; ++r)
    if (hosts.at(static_cast<std::size_t>(r)) == hosts.at(static_cast<std::size_t>(self)))
      s.local_pid[static_cast<std::size_t>(r)] = pids[static_cast<std::size_t>(r)];
  s.heard.assign(static_cast<std::size_t>(size), Clock::now());
  s.watch->set_probe([&s](int rank) { return s.probe(rank); });
  s.wire.on_receive([&s](const Packet& p) { s.on_packet(p); });
  s.wire.on_endpoint_error([&s](int rank, const std::string& why) { s.watch->report(rank, why, true); });
  try {
    s.thread = std::thread([&s] { s.run(); });
  } catch (...) {
    s.watch->set_probe(nullptr);  // it refers to this Impl, about to be destroyed
    throw;
  }
}

Liveness::~Liveness() {
  impl_->watch->set_probe(nullptr);
  impl_->wire.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string Liveness::Impl::probe(int rank) const {
  const int pid = local_pid.at(static_cast<std::size_t>(rank));
  if (pid <= 0) return {};
  const char state = process_state(pid);
  if (state == 'X' || state == 'Z') return str_cat("its process (pid ", pid, ") is gone (killed or crashed)");
  if (state == 'T') return str_cat("its process (pid ", pid, ") is stopped (SIGSTOP)");
  return {};
}

void Liveness::Impl::run() noexcept {
  // Named, so that `top -H`, gdb and the tests (tests/tools/lose_rank.sh) can tell it is up.
  pthread_setname_np(pthread_self(), "ferry-liveness");
  try {
    auto next_beat = Clock::now();
    std::optional<Clock::time_point> lost_since;
    while (!wire.stopping()) {
      wire.progress();
      const auto now = Clock::now();
      if (now >= next_beat) {
        for (int n : neighbours)
          if (!watch->is_lost(n) && left.count(n) == 0)
            wire.send(n, Packet{Kind::beat, watch->self(), -1, {}});
        next_beat = now + interval;
      }
      watch_neighbours(now);
      watch_own_step(now);
      tell_losses();
      if (watch->lost()) {
        if (!lost_since) lost_since = now;
        if (!acked) {
          acked = true;
          const int reporter = watch->reporter();
          if (reporter != watch->self()) wire.send(reporter, Packet{Kind::ack, watch->self(), -1, {}});
        }
        if (!watch->taken() && now - *lost_since > Liveness::kGrace) end_process();
      }
      wire.sleep(std::min(next_beat - Clock::now(), Clock::duration(interval)));
    }
    for (int n : neighbours)
      if (!watch->is_lost(n)) wire.send(n, Packet{Kind::bye, watch->self(), -1, {}});
    wire.drain(std::chrono::milliseconds(500));
  } catch (const std::exception& e) {
    log::error("the liveness thread failed, peer losses go unnoticed from here: {}", e.what());
  }
}

void Liveness::Impl::end_process() const noexcept {
  // The reporter ends the job too: a launcher told not to end it when a rank fails (mpirun with
  // orte_abort_on_non_zero_status 0) would otherwise wait for ever for ranks that never finalize.
  const bool reporter = watch->reporter() == watch->self();
  std::fprintf(stderr,
               "ferry: error (rank %d): ending this process%s: it did not return to Ferry within %d s of "
               "the loss\n",
               watch->self(), reporter ? " and the job" : "", static_cast<int>(Liveness::kGrace.count()));
  std::fflush(stderr);
  if (reporter) abort_job(comm);
  ::_exit(1);
}

void Liveness::Impl::on_packet(const Packet& packet) {
  const int from = packet.from;
  if (from < 0 || from >= watch->size()) return;
  heard[static_cast<std::size_t>(from)] = Clock::now();
  switch (packet.kind) {
    case Kind::beat:
      break;
    case Kind::bye:
      left.insert(from);
      break;
    case Kind::lost:
      watch->report(packet.about, packet.why, false);
      break;
    case Kind::ack: {
      std::lock_guard lock(mutex);
      acks.insert(from);
      changed.notify_all();
      break;
    }
  }
}

void Liveness::Impl::watch_neighbours(Clock::time_point now) {
  for (int n : neighbours) {
    if (left.count(n) > 0 || watch->is_lost(n)) continue;
    const int pid = local_pid[static_cast<std::size_t>(n)];
    if (const char state = pid > 0 ? process_state(pid) : 'R'; state == 'X' || state == 'Z') {
      watch->report(n, probe(n), true);
      continue;
    }
    const auto silent = now - heard[static_cast<std::size_t>(n)];
    if (silent > timeout) {
      const double seconds = std::chrono::duration<double>(silent).count();
      std::ostringstream text;
      text.precision(3);
      text << "no heartbeat for " << seconds << " s (stopped, hung or cut off; runtime.peer_timeout_s = "
           << std::chrono::duration<double>(timeout).count() << ")";
      watch->report(n, text.str(), true);
    }
  }
}

void Liveness::Impl::watch_own_step(Clock::time_point now) {
  const auto age = watch->step_age(now);
  // After a loss the main thread may rightly be blocked on the lost rank: the grace period covers it then.
  if (watch->lost() || age <= std::chrono::milliseconds(step_timeout.load())) return;
  std::ostringstream text;
  text.precision(3);
  text << "its main thread has been in one step of its role loop for "
       << std::chrono::duration<double>(age).count()
       << " s without waiting again (livelocked or hung; runtime.peer_timeout_s = "
       << std::chrono::duration<double>(std::chrono::milliseconds(step_timeout.load())).count() << ")";
  watch->report_self(text.str());
}

void Liveness::Impl::tell_losses() {
  for (int lost : watch->take_untold()) {
    const std::string why = watch->why(lost);
    for (int r = 0; r < watch->size(); ++r)
      if (r != watch->self() && !watch->is_lost(r))
        wire.send(r, Packet{Kind::lost, watch->self(), lost, why});
  }
}

void Liveness::set_step_timeout(std::chrono::milliseconds timeout) {
  impl_->step_timeout.store(timeout.count());
}

bool Liveness::wait_acknowledged(Clock::time_point deadline) {
  Impl& s = *impl_;
  std::unique_lock lock(s.mutex);
  const auto all = [&s] {
    for (int r = 0; r < s.watch->size(); ++r)
      if (r != s.watch->self() && !s.watch->is_lost(r) && s.acks.count(r) == 0) return false;
    return true;
  };
  return s.changed.wait_until(lock, deadline, all);
}

}  // namespace ferry::transport
