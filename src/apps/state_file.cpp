#include "apps/state_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::apps {

StateFile::StateFile(const std::string& path, int consumer)
    : path_(str_cat(path, ".", consumer)), tmp_(str_cat(path, ".", consumer, ".tmp")) {}

void StateFile::save(const std::vector<Loader*>& loaders) noexcept {
  if (path_.empty() || !error_.empty()) return;
  try {
    std::string text;
    for (const Loader* loader : loaders) text += loader->state() + "\n";
    std::FILE* f = std::fopen(tmp_.c_str(), "w");
    if (!f) {
      error_ = str_cat("--save-state: cannot write ", tmp_, ": ", std::strerror(errno));
      return;
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed)
      error_ = str_cat("--save-state: writing ", tmp_, " failed");
    else if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
      error_ = str_cat("--save-state: cannot rename ", tmp_, " to ", path_, ": ", std::strerror(errno));
  } catch (const std::exception& e) {
    error_ = str_cat("--save-state: ", path_, ": ", e.what());
  }
}

void StateFile::check() const {
  if (!error_.empty()) throw Error(error_);
}

}  // namespace ferry::apps
