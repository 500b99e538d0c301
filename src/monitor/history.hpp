// The coordinator's short memory: the last `capacity` windows in a ring. Memory is bounded by the capacity
// (the ring never grows past it); the oldest window is dropped when a new one arrives.
#pragma once

#include <cstddef>
#include <vector>

#include "monitor/window.hpp"

namespace ferry::monitor {

class History {
 public:
  explicit History(std::size_t capacity);  // capacity >= 1, else ConfigError

  void push(Window window);
  void clear() noexcept;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return ring_.size(); }
  bool empty() const noexcept { return size_ == 0; }
  // i = 0 is the oldest kept window, size() - 1 the newest. Throws InternalError when i >= size().
  const Window& at(std::size_t i) const;
  const Window& latest() const { return at(size_ - 1); }
  // The newest window first: back(0) == latest(), back(1) the one before.
  const Window& back(std::size_t age) const;

 private:
  std::vector<Window> ring_;
  std::size_t head_ = 0;  // slot of the oldest window
  std::size_t size_ = 0;
};

}  // namespace ferry::monitor
