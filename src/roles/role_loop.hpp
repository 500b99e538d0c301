// The shape of every service role: run() (non-virtual) waits for messages without spinning, hands each to
// the role's on_message(), calls after_messages() to let it make progress, and stops when done(). It
// accounts the wall and CPU time spent blocked, so a test can check that an idle rank stays idle.
#pragma once

#include <chrono>
#include <string>

#include "ferry/stats.hpp"
#include "roles/context.hpp"

namespace ferry::roles {

// CPU time of the whole process (user + system): a transport's helper threads count too.
double process_cpu_seconds() noexcept;

class RoleLoop {
 public:
  explicit RoleLoop(Context& ctx) : ctx_(ctx) {}
  virtual ~RoleLoop() = default;
  // Runs until done(); throws RemoteFailure when this or another rank failed. Any exception out of the
  // role (a ferry::Error or not) is named "rank R (ROLE): what" and sent to every other rank first, except
  // PeerLost (a lost peer), which every rank learns of by itself and which passes through unchanged.
  ServeReport run();

 protected:
  virtual void on_message(transport::Message& message) = 0;
  virtual void after_messages() {}
  virtual bool done() const = 0;
  virtual void finish(ServeReport& report) {}
  // Longest wait for a message before after_messages() runs again (shorter while the role has work that
  // completes without a message, such as a device transfer).
  virtual std::chrono::microseconds idle_wait() const { return std::chrono::milliseconds(200); }

  Context& ctx_;
  ServeReport report_;

 private:
  [[noreturn]] void fail(ErrorKind kind, const std::string& what);
};

// A do-nothing role: waits for the shutdown of every randomizer. Measures the loop's own overhead.
class NullRole final : public RoleLoop {
 public:
  using RoleLoop::RoleLoop;

 protected:
  void on_message(transport::Message& message) override;
  bool done() const override;

 private:
  int shutdowns_ = 0;
};

}  // namespace ferry::roles
