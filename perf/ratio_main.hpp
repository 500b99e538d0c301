// What the Google Benchmark programs in perf/ share: the usual console table, each run's real time kept by
// name (without Google Benchmark's "/real_time" suffix), and a main that runs everything and then prints the
// program's ratio lines.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::perf {

class TimesReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      std::string name = r.benchmark_name();
      constexpr std::string_view kSuffix = "/real_time";
      if (name.size() > kSuffix.size() &&
          name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
        name.resize(name.size() - kSuffix.size());
      times_[name] = r.GetAdjustedRealTime();
    }
  }
  // The run's real time in its benchmark's unit; nothing when it did not run (skipped, failed, filtered).
  std::optional<double> time(const std::string& name) const {
    const auto it = times_.find(name);
    if (it == times_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, double> times_;
};

// Runs the registered benchmarks, then `ratios(reporter)`. main's exit code.
template <typename Ratios>
int run_with_ratios(int argc, char** argv, Ratios ratios) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  TimesReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  ratios(reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace ferry::perf
