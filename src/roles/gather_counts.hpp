// What the coordinator received of the monitoring gather: messages (kStats from ranks that report to it
// directly, kStatsBundle from node stats leaders), their bytes, the windows they held, and who sent them and
// whose windows they carried. Counted, so tests assert the gather's shape (docs/scaling.md): with stats
// leaders the senders are the leaders and the randomizers, while the windows still come from every rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/strings.hpp"

namespace ferry::roles {

struct GatherCounts {
  std::uint64_t messages = 0, bytes = 0, windows = 0;
  // The other way: job lists sent out, and the kJobs messages that carried them (to node stats leaders,
  // which forward them, and to the ranks that report directly).
  std::uint64_t job_lists = 0, jobs_messages = 0;
  std::map<int, std::uint64_t> senders;  // rank -> messages it sent the coordinator
  std::set<std::uint32_t> reporters;     // ranks whose windows arrived (directly or bundled)

  void message(int source, std::size_t size) {
    ++messages;
    bytes += size;
    ++senders[source];
  }
  void window(std::uint32_t rank) {
    ++windows;
    reporters.insert(rank);
  }
  // {"kind":"gather","rank":R,"messages":M,"bytes":B,"windows":W,"senders":[...],"reporters":N,
  //  "job_lists":J,"jobs_messages":X}
  std::string line(int rank) const {
    std::string list;
    for (const auto& [r, n] : senders) list += str_cat(list.empty() ? "" : ",", r);
    return str_cat("{\"kind\":\"gather\",\"rank\":", rank, ",\"messages\":", messages, ",\"bytes\":", bytes,
                   ",\"windows\":", windows, ",\"senders\":[", list, "],\"reporters\":", reporters.size(),
                   ",\"job_lists\":", job_lists, ",\"jobs_messages\":", jobs_messages, "}");
  }
};

}  // namespace ferry::roles
