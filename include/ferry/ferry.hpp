// Umbrella header: everything a training code needs from Ferry.
#pragma once

#include "ferry/batch.hpp"
#include "ferry/config.hpp"
#include "ferry/dataset.hpp"
#include "ferry/dtype.hpp"
#include "ferry/error.hpp"
#include "ferry/features.hpp"
#include "ferry/loader.hpp"
#include "ferry/local_loader.hpp"
#include "ferry/runtime.hpp"
#include "ferry/stats.hpp"
#include "ferry/transform.hpp"
