// The C API's consumer side: batches as ferry_batch views over the Loader's own buffers (no copy), and the
// resume state.
#include <cstring>
#include <string>

#include "capi/handle.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::capi {
namespace {

// Points `view` at `batch`: the strings, IDs and field data stay the Loader's; only shapes are converted.
void fill_view(FerryBatchView& view, const Batch& batch) {
  view.fields.resize(batch.fields.size());
  view.shapes.resize(batch.fields.size());
  for (std::size_t f = 0; f < batch.fields.size(); ++f) {
    const BatchField& field = batch.fields[f];
    auto& shape = view.shapes[f];
    shape.assign(field.shape.begin(), field.shape.end());
    ferry_field& out = view.fields[f];
    out.name = field.name.c_str();
    out.data = field.data;
    out.dtype = static_cast<int>(field.dtype);
    out.ndim = static_cast<int>(shape.size());
    out.shape = shape.data();
    out.bytes = field.bytes;
    out.offsets = field.offsets;
    out.device_data = field.device_data;
  }
  view.batch.pipeline = batch.pipeline.c_str();
  view.batch.epoch = batch.epoch;
  view.batch.index = batch.index;
  view.batch.size = batch.ids.size();
  view.batch.ids = batch.ids.data();
  view.batch.nfields = static_cast<int>(view.fields.size());
  view.batch.fields = view.fields.data();
}

}  // namespace
}  // namespace ferry::capi

using ferry::capi::consumer_of;
using ferry::capi::guarded;
using ferry::capi::pipeline_position;
using ferry::capi::require;

extern "C" {

int ferry_next_batch(ferry_runtime* rt, const char* pipeline, const ferry_batch** out) {
  bool ended = false;
  const int status = guarded([&] {
    require(out, "out");
    *out = nullptr;
    consumer_of(rt, "ferry_next_batch");
    FerryBatchView& view = rt->views[pipeline_position(*rt, pipeline)];
    const ferry::Batch* batch = view.loader->next_batch();
    if (batch == nullptr) {
      ended = true;
      return;
    }
    ferry::capi::fill_view(view, *batch);
    *out = &view.batch;
  });
  return status == FERRY_OK && ended ? FERRY_END : status;
}

int ferry_batches_per_epoch(const ferry_runtime* rt, const char* pipeline, uint64_t* out) {
  return guarded([&] {
    require(out, "out");
    const auto& handle = consumer_of(rt, "ferry_batches_per_epoch");
    *out = handle.views[pipeline_position(handle, pipeline)].loader->batches_per_epoch();
  });
}

int ferry_dataset_size(const ferry_runtime* rt, const char* pipeline, uint64_t* out) {
  return guarded([&] {
    require(out, "out");
    const auto& handle = consumer_of(rt, "ferry_dataset_size");
    *out = handle.views[pipeline_position(handle, pipeline)].loader->dataset_size();
  });
}

int ferry_state(const ferry_runtime* rt, const char* pipeline, char* buffer, size_t size, size_t* required) {
  return guarded([&] {
    const auto& handle = consumer_of(rt, "ferry_state");
    std::string text;
    if (pipeline == nullptr || *pipeline == '\0') {
      for (const auto& view : handle.views) {
        if (!text.empty()) text += '\n';
        text += view.loader->state();
      }
    } else {
      text = handle.views[pipeline_position(handle, pipeline)].loader->state();
    }
    if (required != nullptr) *required = text.size() + 1;
    if (size < text.size() + 1)
      throw ferry::capi::InvalidArgument(
          ferry::str_cat("ferry_state: the buffer holds ", size, " bytes, ", text.size() + 1, " needed"));
    require(buffer, "buffer");
    std::memcpy(buffer, text.c_str(), text.size() + 1);
  });
}

}  // extern "C"
