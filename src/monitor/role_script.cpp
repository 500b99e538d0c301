#include "monitor/role_script.hpp"

#include <charconv>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::monitor {
namespace {

constexpr std::string_view kKey = "monitor.role_script";

[[noreturn]] void refuse(const std::string& step, const std::string& what) {
  throw ConfigError(str_cat(kKey, ": step '", step, "': ", what));
}

// The words of a step, split at blanks; "->" and ':' stand alone even when written against a word.
std::vector<std::string> words_of(std::string_view text) {
  std::string spaced;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i, 2) == "->") {
      spaced += " -> ";
      ++i;
    } else if (text[i] == ':') {
      spaced += " : ";
    } else {
      spaced += text[i];
    }
  }
  std::vector<std::string> out;
  std::string word;
  for (char c : spaced + ' ') {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  return out;
}

std::uint64_t number(const std::string& word, const std::string& step, const char* what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc{} || end != word.data() + word.size())
    refuse(step, str_cat("'", word, "' is not a ", what, " (a number)"));
  return value;
}

std::uint32_t rank_number(const std::string& word, const std::string& step) {
  const std::uint64_t rank = number(word, step, "rank");
  if (rank > std::uint64_t{1} << 30) refuse(step, str_cat("rank ", word, " is past any job's ranks"));
  return static_cast<std::uint32_t>(rank);
}

ScriptStep parse_step(const std::string& text) {
  const std::vector<std::string> w = words_of(text);
  ScriptStep s;
  s.text = text;
  std::size_t i = 0;
  const auto word = [&](std::size_t at) { return at < w.size() ? w[at] : std::string(); };
  if (word(0) == "epoch") {
    s.epoch = number(word(1), text, "epoch");
    i = 2;
    if (word(2) == "batch") {
      s.batch = number(word(3), text, "batch");
      i = 4;
    }
  } else if (word(0) == "window") {
    s.trigger = ScriptStep::Trigger::window;
    s.window = number(word(1), text, "window count");
    i = 2;
  } else {
    refuse(text, "starts with 'epoch E', 'epoch E batch B' or 'window W'");
  }
  if (word(i) != ":") refuse(text, "needs ':' between the trigger and the action");
  const std::vector<std::string> action(w.begin() + static_cast<std::ptrdiff_t>(i + 1), w.end());
  if (action.size() == 4 && action[0] == "rank" && action[2] == "->") {
    s.rank = rank_number(action[1], text);
    if (action[3] == "cache_server")
      s.to = ServiceRole::cache_server;
    else if (action[3] == "transformer")
      s.to = ServiceRole::transformer;
    else
      refuse(text, str_cat("'", action[3], "' is no role a rank can take (cache_server or transformer)"));
    return s;
  }
  if (action.size() == 3 && action[0] == "retire" && action[1] == "randomizer") {
    s.rank = rank_number(action[2], text);
    s.retire = true;
    s.to = ServiceRole::transformer;
    return s;
  }
  refuse(text, "the action is 'rank R -> cache_server', 'rank R -> transformer' or 'retire randomizer R'");
}

}  // namespace

std::vector<ScriptStep> parse_role_script(std::string_view text) {
  std::vector<ScriptStep> steps;
  std::string step;
  for (char c : std::string(text) + ';') {
    if (c != ';' && c != '\n') {
      step += c;
      continue;
    }
    const std::string trimmed(trim(step));
    step.clear();
    if (!trimmed.empty()) steps.push_back(parse_step(trimmed));
  }
  return steps;
}

void check_role_script(const std::vector<ScriptStep>& steps, const ScriptLayout& layout) {
  // The layout as each step finds it: the steps before it taken.
  std::vector<std::optional<ServiceRole>> roles = layout.roles;
  const auto count = [&](ServiceRole role) {
    std::size_t n = 0;
    for (const auto& r : roles) n += r == role;
    return n;
  };
  for (const auto& s : steps) {
    if (s.rank >= roles.size())
      refuse(s.text, str_cat("rank ", s.rank, " is not in the job (", roles.size(), " ranks)"));
    std::optional<ServiceRole>& role = roles[s.rank];
    if (!role) refuse(s.text, str_cat("rank ", s.rank, " is a consumer: consumers never change roles"));
    if (s.rank == layout.coordinator)
      refuse(s.text, str_cat("rank ", s.rank, " is the coordinator's randomizer, which never moves"));
    if (s.retire) {
      if (*role != ServiceRole::randomizer)
        refuse(s.text, str_cat("rank ", s.rank, " is a ", to_string(*role), " by then, not a randomizer"));
      role = ServiceRole::transformer;
      continue;
    }
    if (*role == ServiceRole::randomizer)
      refuse(s.text, str_cat("rank ", s.rank, " is a randomizer: write 'retire randomizer ", s.rank, "'"));
    if (*role == s.to) refuse(s.text, str_cat("rank ", s.rank, " is a ", to_string(s.to), " already"));
    if (s.to == ServiceRole::cache_server && (!layout.cache || !layout.holds_slab[s.rank]))
      refuse(s.text,
             str_cat("rank ", s.rank, " holds no cache slab (",
                     layout.cache ? "a former randomizer" : "runtime.cache_bytes leaves no cache", ")"));
    if (s.to == ServiceRole::cache_server && count(ServiceRole::transformer) < 2)
      refuse(s.text, str_cat("rank ", s.rank, " is the last transformer: nobody would read misses"));
    if (s.to == ServiceRole::transformer && count(ServiceRole::cache_server) < 2)
      refuse(s.text, str_cat("rank ", s.rank, " is the last cache server: the cache would have no slab"));
    role = s.to;
  }
}

RoleMove script_move(const ScriptStep& step, ServiceRole from, std::uint32_t heir) {
  RoleMove move;
  move.rank = step.rank;
  move.from = step.retire ? ServiceRole::randomizer : from;
  move.to = step.to;
  move.rule = RoleRule::scripted;
  move.why = str_cat("monitor.role_script step '", step.text, "'");
  move.heir = step.retire ? heir : 0;
  return move;
}

}  // namespace ferry::monitor
