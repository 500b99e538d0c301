#include "monitor/history.hpp"

#include <utility>

#include "core/check.hpp"
#include "ferry/error.hpp"

namespace ferry::monitor {

History::History(std::size_t capacity) {
  if (capacity == 0) throw ConfigError("monitor.history must be at least 1");
  ring_.resize(capacity);
}

void History::push(Window window) {
  if (size_ < ring_.size()) {
    ring_[(head_ + size_) % ring_.size()] = std::move(window);
    ++size_;
  } else {
    ring_[head_] = std::move(window);  // overwrite the oldest; it becomes the newest
    head_ = (head_ + 1) % ring_.size();
  }
}

void History::clear() noexcept {
  for (auto& w : ring_) w = Window{};
  head_ = 0;
  size_ = 0;
}

const Window& History::at(std::size_t i) const {
  FERRY_ENFORCE(i < size_, "history index ", i, " of ", size_);
  return ring_[(head_ + i) % ring_.size()];
}

const Window& History::back(std::size_t age) const {
  FERRY_ENFORCE(age < size_, "history age ", age, " of ", size_);
  return at(size_ - 1 - age);
}

}  // namespace ferry::monitor
