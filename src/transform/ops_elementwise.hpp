// Internal to the elementwise ops: add_elementwise_ops (ops_elementwise.cpp) registers cast through the
// registration that ops_cast.cpp defines.
#pragma once

#include "transform/op.hpp"

namespace ferry::transform {

// Registers cast (ops_cast.cpp).
void add_cast_ops(OpRegistry& registry);

}  // namespace ferry::transform
