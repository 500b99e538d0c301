#include "core/collective_errors.hpp"

#include <cstdio>
#include <map>
#include <vector>

#include "core/check.hpp"
#include "core/strings.hpp"

namespace ferry {
namespace {

constexpr int kMessageBytes = 1024;  // longer messages are cut: they are one line each

}  // namespace

std::string rank_ranges(const std::vector<int>& ranks) {
  std::string out;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? std::to_string(ranks[i]) : str_cat(ranks[i], "-", ranks[j]);
    i = j + 1;
  }
  return out;
}

namespace {

bool any_failed(MPI_Comm comm, const std::string& my_error) {
  int mine = my_error.empty() ? 1 : 0, all = 0;
  FERRY_CHECK_MPI(MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm));
  return all == 0;
}

// Every rank's message (empty when it succeeded), grouped: message -> ranks. Collective.
std::map<std::string, std::vector<int>> collect(MPI_Comm comm, const std::string& my_error) {
  int size = 1;
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  std::vector<char> local(kMessageBytes, '\0');
  my_error.copy(local.data(), kMessageBytes - 1);
  std::vector<char> gathered(static_cast<std::size_t>(size) * kMessageBytes);
  FERRY_CHECK_MPI(
      MPI_Allgather(local.data(), kMessageBytes, MPI_CHAR, gathered.data(), kMessageBytes, MPI_CHAR, comm));
  std::map<std::string, std::vector<int>> by_message;
  for (int r = 0; r < size; ++r) {
    std::string text(gathered.data() + static_cast<std::size_t>(r) * kMessageBytes);
    if (!text.empty()) by_message[text].push_back(r);
  }
  return by_message;
}

}  // namespace

bool agree_on_errors(MPI_Comm comm, const std::string& my_error, const char* program) {
  if (!any_failed(comm, my_error)) return true;
  int rank = 0, size = 1;
  FERRY_CHECK_MPI(MPI_Comm_rank(comm, &rank));
  FERRY_CHECK_MPI(MPI_Comm_size(comm, &size));
  const auto by_message = collect(comm, my_error);
  if (rank == 0) {
    // The format `ferry run` uses too: a message every rank gave stands alone, others name their ranks.
    for (const auto& [text, ranks] : by_message) {
      const std::string who = static_cast<int>(ranks.size()) == size
                                  ? std::string()
                                  : str_cat("rank", ranks.size() > 1 ? "s " : " ", rank_ranges(ranks), ": ");
      std::fprintf(stderr, "%s: error: %s%s\n", program, who.c_str(), text.c_str());
    }
    std::fflush(stderr);
  }
  return false;
}

std::string gather_errors(MPI_Comm comm, const std::string& my_error) {
  if (!any_failed(comm, my_error)) return {};
  std::vector<std::string> parts;
  for (const auto& [text, ranks] : collect(comm, my_error))
    parts.push_back(str_cat("rank", ranks.size() > 1 ? "s " : " ", rank_ranges(ranks), ": ", text));
  return join(parts, "; ");
}

}  // namespace ferry
