// libferry's own translation unit: the layers' static libraries are linked in whole.
#include "ferry/features.hpp"

namespace ferry {
const char* version() noexcept { return kVersion; }
}  // namespace ferry
