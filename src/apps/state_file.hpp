// `ferry run --save-state PATH`: consumer C keeps PATH.<C> holding the Loader::state() of each of its
// pipelines (one line each), rewritten after every batch it takes: written to PATH.<C>.tmp, then renamed
// over PATH.<C>, so the file always holds one whole state, also when the job is killed (kill -9) mid-write.
#pragma once

#include <string>
#include <vector>

#include "ferry/loader.hpp"

namespace ferry::apps {

class StateFile {
 public:
  StateFile() = default;  // saves nothing
  explicit StateFile(const std::string& path, int consumer);

  // Replaces the file with the states of `loaders`. The first failure is kept (the job goes on, as with a
  // full disk for --dump-ids) and thrown by check().
  void save(const std::vector<Loader*>& loaders) noexcept;
  // Throws Error naming the file and why when a save failed.
  void check() const;

 private:
  std::string path_, tmp_, error_;
};

}  // namespace ferry::apps
