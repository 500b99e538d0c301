// libFuzzer target: the monitoring messages (monitor/codec.*, window.cpp, job_list.cpp). The first byte picks
// rank stats, a window or a job list; the rest is the message. A bad message must throw ferry::Error; one
// that decodes must encode to bytes that decode to the same encoding, and a window must summarize.
#include <cstdint>

#include "ferry/error.hpp"
#include "fuzz_input.hpp"
#include "monitor/job_list.hpp"
#include "monitor/window.hpp"

namespace {

using namespace ferry::monitor;

template <typename Message, typename Decode>
Message stable(std::span<const std::byte> bytes, Decode decode, const char* kind) {
  const Message first = decode(bytes);
  const auto once = encode(first);
  const auto twice = encode(decode(once));
  if (once != twice) ferry::fuzz::broken(kind, "encoding is not stable");
  return first;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ferry::fuzz::Input in(data, size);
  try {
    switch (in.mode() % 3) {
      case 0:
        stable<RankStats>(in.rest(), decode_rank_stats, "rank stats");
        break;
      case 1: {
        const Window w = stable<Window>(in.rest(), decode_window, "window");
        for (const Stage stage : {Stage::prepare, Stage::augment}) {
          (void)summarize_pipelines(w, stage);
          (void)summarize_accelerators(w, stage);
        }
        break;
      }
      default:
        stable<JobList>(in.rest(), decode_job_list, "job list");
        break;
    }
  } catch (const ferry::Error&) {
  }
  return 0;
}
