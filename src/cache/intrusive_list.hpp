// A doubly linked list threaded through its elements' own `prev` and `next` members: O(1) unlink from the
// middle and no allocation, which is what an LRU order over hash-map nodes needs. The list never owns its
// elements; an element must be unlinked before it is destroyed.
#pragma once

#include <cstddef>

namespace ferry::cache {

template <typename T>
class IntrusiveList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  T* front() const noexcept { return head_; }

  void push_back(T* node) noexcept {
    node->prev = tail_;
    node->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = node;
    } else {
      head_ = node;
    }
    tail_ = node;
    ++size_;
  }

  void remove(T* node) noexcept {
    if (node->prev != nullptr) {
      node->prev->next = node->next;
    } else {
      head_ = node->next;
    }
    if (node->next != nullptr) {
      node->next->prev = node->prev;
    } else {
      tail_ = node->prev;
    }
    node->prev = node->next = nullptr;
    --size_;
  }

  void move_to_back(T* node) noexcept {
    if (node == tail_) return;
    remove(node);
    push_back(node);
  }

  // Forgets every element without touching them (their owner is clearing them all).
  void clear() noexcept {
    head_ = tail_ = nullptr;
    size_ = 0;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ferry::cache
