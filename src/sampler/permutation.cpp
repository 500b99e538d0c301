#include "sampler/permutation.hpp"

#include <bit>

#include "core/hash.hpp"

namespace ferry::sampler {

Permutation::Permutation(std::uint64_t n, std::uint64_t key) : n_(n), key_(mix64(key)) {
  // Smallest b with 2^b >= n, at least 2, rounded up to even so both halves have b/2 bits.
  int bits = n <= 4 ? 2 : static_cast<int>(std::bit_width(n - 1));
  bits += bits & 1;
  half_bits_ = bits / 2;
  half_mask_ = (std::uint64_t{1} << half_bits_) - 1;
}

std::uint64_t Permutation::round_function(int round, std::uint64_t half) const noexcept {
  return hash_combine(key_ + static_cast<std::uint64_t>(round), half) & half_mask_;
}

std::uint64_t Permutation::encrypt(std::uint64_t x) const noexcept {
  std::uint64_t left = x >> half_bits_;
  std::uint64_t right = x & half_mask_;
  for (int r = 0; r < kRounds; ++r) {
    const std::uint64_t next = left ^ round_function(r, right);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

std::uint64_t Permutation::decrypt(std::uint64_t x) const noexcept {
  std::uint64_t left = x >> half_bits_;
  std::uint64_t right = x & half_mask_;
  for (int r = kRounds - 1; r >= 0; --r) {
    const std::uint64_t prev = right ^ round_function(r, left);
    right = left;
    left = prev;
  }
  return (left << half_bits_) | right;
}

std::uint64_t Permutation::operator()(std::uint64_t pos) const noexcept {
  // Cycle walking: encrypting repeatedly from a point inside [0, n) returns inside [0, n) on the same cycle,
  // which keeps the map a bijection of [0, n).
  std::uint64_t x = encrypt(pos);
  while (x >= n_) x = encrypt(x);
  return x;
}

std::uint64_t Permutation::position_of(std::uint64_t id) const noexcept {
  std::uint64_t x = decrypt(id);
  while (x >= n_) x = decrypt(x);
  return x;
}

}  // namespace ferry::sampler
