// A keyed bijective permutation of [0, n) evaluated in O(1) memory: a balanced Feistel network on the
// smallest even-bit power-of-two domain >= n, with cycle walking to stay inside [0, n). Any rank computes
// any position without materializing n IDs. The domain is < 4n, so a position takes < 4 rounds of walking
// on average.
#pragma once

#include <cstdint>

namespace ferry::sampler {

class Permutation {
 public:
  Permutation(std::uint64_t n, std::uint64_t key);

  std::uint64_t size() const noexcept { return n_; }
  // The ID at position `pos` (< size()).
  std::uint64_t operator()(std::uint64_t pos) const noexcept;
  // The position of `id` (< size()): the inverse permutation.
  std::uint64_t position_of(std::uint64_t id) const noexcept;

 private:
  static constexpr int kRounds = 6;
  std::uint64_t encrypt(std::uint64_t x) const noexcept;
  std::uint64_t decrypt(std::uint64_t x) const noexcept;
  std::uint64_t round_function(int round, std::uint64_t half) const noexcept;

  std::uint64_t n_;
  std::uint64_t key_;
  int half_bits_;
  std::uint64_t half_mask_;
};

}  // namespace ferry::sampler
