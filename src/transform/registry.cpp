#include "core/check.hpp"
#include "transform/op.hpp"

namespace ferry::transform {

OpRegistry& OpRegistry::global() {
  // Built-ins are added here, not by static registrars: those are dropped when linking a static library.
  static OpRegistry registry = [] {
    OpRegistry r;
    add_elementwise_ops(r);
    add_image_ops(r);
    add_decode_ops(r);
    add_resized_crop_ops(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(const std::string& name, OpInfo info) {
  FERRY_ENFORCE(!ops_.contains(name), "transform op '", name, "' registered twice");
  FERRY_ENFORCE(static_cast<bool>(info.make), "transform op '", name, "' has no factory");
  ops_.emplace(name, std::move(info));
}

TensorDesc Op::sample_output(const std::byte*, std::size_t, const TensorDesc&) {
  FERRY_ENFORCE(false, "op ", text_, " has no per-sample path");
  return output_;
}

void Op::run_sample(const SampleRun&) {
  FERRY_ENFORCE(false, "op ", text_, " has no per-sample path");
}

const OpInfo* OpRegistry::find(std::string_view name) const {
  const auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : ops_) out.push_back(name);
  return out;
}

}  // namespace ferry::transform
