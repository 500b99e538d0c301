// random_resized_crop's choice of window, torchvision's RandomResizedCrop.get_params step for step: up to
// ten tries of an area fraction in `scale` and a log-uniform aspect ratio in `ratio`; the first window that
// fits is placed uniformly; after ten misses, the largest centred window whose ratio is clamped into
// `ratio`. Draws come from a CropDraws source, so tests can replay torchvision's own draws.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::transform {

struct CropBox {
  std::size_t top = 0, left = 0, height = 0, width = 0;
  friend bool operator==(const CropBox&, const CropBox&) = default;
};

// The random numbers of one sample. uniform(lo, hi) is torch's float32 `uniform_`; below(n) an integer
// uniform in [0, n) (torch.randint(0, n)). Calls come in torchvision's order.
class CropDraws {
 public:
  virtual ~CropDraws() = default;
  virtual float uniform(float lo, float hi) = 0;
  virtual std::uint64_t below(std::uint64_t n) = 0;
};

// Ferry's draws: a stream of hash bits from the sample's key (seed, epoch, ID, op index).
class KeyDraws final : public CropDraws {
 public:
  explicit KeyDraws(std::uint64_t key) : key_(key) {}
  float uniform(float lo, float hi) override;
  std::uint64_t below(std::uint64_t n) override;

 private:
  std::uint64_t key_;
  std::uint64_t next_ = 0;
};

struct CropRange {
  double scale_lo = 0.08, scale_hi = 1.0;
  double ratio_lo = 3.0 / 4.0, ratio_hi = 4.0 / 3.0;
};

CropBox resized_crop_box(std::size_t height, std::size_t width, const CropRange& range, CropDraws& draws);

}  // namespace ferry::transform
