#include "roles/setup_agreement.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "config/key_values.hpp"
#include "core/check.hpp"
#include "core/collective_errors.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "ferry/features.hpp"
#include "roles/setup_deadline.hpp"

namespace ferry::roles {
namespace {

constexpr char kUnit = '\x1f', kRecord = '\x1e';  // between a key and its value; after each pair
constexpr std::size_t kShownKeys = 8, kShownValue = 48;

// "key\x1fvalue\x1e..." of every key this rank compares.
std::string compared_text(const Config& config) {
  std::string text = str_cat("ferry version", kUnit, kVersion, kRecord);
  for (const auto& [key, value] : config::key_values(config)) text += str_cat(key, kUnit, value, kRecord);
  return text;
}

std::map<std::string, std::string> parse_text(const std::string& text, std::vector<std::string>& order) {
  std::map<std::string, std::string> out;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t unit = text.find(kUnit, at), end = text.find(kRecord, at);
    if (unit == std::string::npos || end == std::string::npos || unit > end) break;
    std::string key = text.substr(at, unit - at);
    if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
    out[key] = text.substr(unit + 1, end - unit - 1);
    at = end + 1;
  }
  return out;
}

// One line: newlines of table values become "; ", long values are cut.
std::string shown(std::string value) {
  for (auto& c : value)
    if (c == '\n') c = ';';
  while (!value.empty() && value.back() == ';') value.pop_back();
  return value.size() > kShownValue ? value.substr(0, kShownValue) + "..." : value;
}

// Collective: every rank's compared text; then the same message on every rank naming the differing keys
// (in the key table's order, each value with its ranks, lowest rank first).
std::string describe_differences(MPI_Comm comm, const std::string& mine) {
  int size = 1;
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size), 0);
  FERRY_CHECK_MPI(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm));
  for (std::size_t r = 1; r < lengths.size(); ++r) displs[r] = displs[r - 1] + lengths[r - 1];
  std::string all(static_cast<std::size_t>(displs.back() + lengths.back()), '\0');
  FERRY_CHECK_MPI(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(),
                                 MPI_CHAR, comm));
  std::vector<std::string> order;
  std::vector<std::map<std::string, std::string>> per_rank;
  for (std::size_t r = 0; r < lengths.size(); ++r)
    per_rank.push_back(parse_text(all.substr(static_cast<std::size_t>(displs[r]), lengths[r]), order));
  std::vector<std::string> parts;
  for (const auto& key : order) {
    std::vector<std::pair<std::string, std::vector<int>>> ranks_of;  // value -> ranks, lowest rank first
    for (std::size_t r = 0; r < per_rank.size(); ++r) {
      const auto found = per_rank[r].find(key);
      const std::string value = found == per_rank[r].end() ? "(absent)" : shown(found->second);
      auto at =
          std::find_if(ranks_of.begin(), ranks_of.end(), [&](const auto& v) { return v.first == value; });
      if (at == ranks_of.end()) at = ranks_of.insert(ranks_of.end(), {value, {}});
      at->second.push_back(static_cast<int>(r));
    }
    if (ranks_of.size() < 2) continue;
    std::vector<std::string> values;
    for (const auto& [value, ranks] : ranks_of)
      values.push_back(str_cat(value, " on rank", ranks.size() > 1 ? "s " : " ", rank_ranges(ranks)));
    parts.push_back(str_cat(key, " = ", join(values, " but ")));
  }
  const std::size_t more = parts.size() > kShownKeys ? parts.size() - kShownKeys : 0;
  parts.resize(parts.size() - more);
  return str_cat("the ranks' configs differ (ferry-serve and the training program need the same config): ",
                 join(parts, "; "), more ? str_cat("; and ", more, " more key(s)") : std::string());
}

}  // namespace

void agree_on_setup(MPI_Comm comm, const Config* config, const std::string& error) {
  // A rank that could not read its config joins with the default deadline (the Runtime's own covers the
  // others: roles/setup_deadline.hpp), so it too ends the job when a rank never comes.
  std::optional<SetupDeadline> deadline;
  if (config == nullptr) {
    deadline.emplace(RuntimeConfig{}.setup_timeout_s, comm);
    deadline->step("the config agreement (the set-up's first collective)");
  }
  std::string my_error = error, mine;
  if (config != nullptr && my_error.empty()) {
    try {
      validate(*config);
      mine = compared_text(*config);
    } catch (const std::exception& e) {
      my_error = e.what();
    }
  }
  if (config == nullptr && my_error.empty()) my_error = "no config";
  int size = 1;
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  const std::uint64_t vote[2] = {my_error.empty() ? 0u : 1u, Fingerprint().add(mine).value()};
  std::vector<std::uint64_t> votes(2 * static_cast<std::size_t>(size));
  FERRY_CHECK_MPI(MPI_Allgather(vote, 2, MPI_UINT64_T, votes.data(), 2, MPI_UINT64_T, comm));
  int failed = 0;
  bool differ = false;
  for (int r = 0; r < size; ++r) {
    failed += votes[2 * static_cast<std::size_t>(r)] != 0;
    differ = differ || votes[2 * static_cast<std::size_t>(r) + 1] != votes[1];
  }
  // Every rank failed: each says its own (they read the same config, so usually the same) message.
  if (failed == size) throw ConfigError(my_error);
  if (failed > 0) {
    const std::string text = gather_errors(comm, my_error);
    if (!my_error.empty()) throw ConfigError(text);
    int first_ok = 0;
    while (votes[2 * static_cast<std::size_t>(first_ok)] != 0) ++first_ok;
    int rank = 0;
    FERRY_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    throw OtherRanksFailed(text, rank == first_ok);
  }
  if (differ) throw ConfigMismatch(describe_differences(comm, mine));
}

}  // namespace ferry::roles
