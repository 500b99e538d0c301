#include "roles/role_loop.hpp"

#include <sys/resource.h>

#include <chrono>

#include "core/strings.hpp"
#include "ferry/error.hpp"
#include "roles/protocol.hpp"
#include "transport/peer_watch.hpp"

namespace ferry::roles {

double process_cpu_seconds() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Marks the role loop's steps for the liveness rule (transport::PeerWatch::step_started): a step runs from a
// wait's return to the next wait; none runs once the loop has left.
class StepMarks {
 public:
  explicit StepMarks(transport::PeerWatch* watch) : watch_(watch) { started(); }
  ~StepMarks() { ended(); }
  StepMarks(const StepMarks&) = delete;
  StepMarks& operator=(const StepMarks&) = delete;
  void started() noexcept {
    if (watch_) watch_->step_started();
  }
  void ended() noexcept {
    if (watch_) watch_->step_ended();
  }

 private:
  transport::PeerWatch* watch_;
};

}  // namespace

ServeReport RoleLoop::run() {
  report_.role = report_.initial_role = role_name(ctx_.role());
  const double wall0 = now_seconds(), cpu0 = process_cpu_seconds();
  try {
    StepMarks steps(ctx_.fabric->peer_watch().get());
    after_messages();
    while (!done()) {
      const double w = now_seconds(), c = process_cpu_seconds();
      steps.ended();
      auto message = ctx_.fabric->wait(idle_wait());
      steps.started();
      report_.idle_wall_seconds += now_seconds() - w;
      report_.idle_cpu_seconds += process_cpu_seconds() - c;
      while (message) {
        if (message->tag == kAbort) throw decode_abort(message->bytes);
        on_message(*message);
        ctx_.fabric->recycle(std::move(*message));  // its payload serves a later message
        message = ctx_.fabric->poll();
      }
      after_messages();
    }
  } catch (const RemoteFailure&) {
    throw;
  } catch (const PeerLost&) {
    throw;  // every rank hears of a lost peer from the liveness rule itself: no abort to broadcast
  } catch (const std::exception& e) {
    // This rank failed (a ferry::Error, or any other exception: an .at() out of range is a bug here, and
    // the other ranks must hear of it all the same): name it, tell everyone, and fail here too.
    fail(kind_of(e), e.what());
  } catch (...) {
    fail(ErrorKind::internal, "unknown exception");
  }
  report_.wall_seconds = now_seconds() - wall0;
  report_.cpu_seconds = process_cpu_seconds() - cpu0;
  finish(report_);
  return report_;
}

void RoleLoop::fail(ErrorKind kind, const std::string& what) {
  const std::string named = str_cat("rank ", ctx_.rank, " (", role_name(ctx_.role()), "): ", what);
  ctx_.broadcast_abort(named, kind);
  throw RemoteFailure(named, kind);
}

void NullRole::on_message(transport::Message& message) {
  if (message.tag == kShutdown) ++shutdowns_;
}

bool NullRole::done() const {
  return shutdowns_ >= static_cast<int>(ctx_.layout.randomizers.size());
}

}  // namespace ferry::roles
