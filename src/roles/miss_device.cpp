// Where a transformation rank's prepare may run on its GPU: the accelerator it opens at start, and which
// miss lists send their samples from device memory.
#include <algorithm>
#include <chrono>
#include <utility>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "roles/miss_batch.hpp"
#include "roles/miss_pipeline.hpp"

namespace ferry::roles {

void MissPipeline::open_accelerator() {
  std::string why;
  accelerator_ = AcceleratorUse::open(0, &why);
  if (!accelerator_) {
    log::debug("rank {}: prepare stays on CPU workers: {}", ctx_.rank, why);
    return;
  }
  try {
    // A pipeline can go to the device when exactly one field has a prepare chain and every op of it has a
    // device kernel; its other fields are passed through as read.
    for (auto& p : ctx_.pipelines) {
      const auto chains = p.processor->prepare_chains();
      std::optional<std::size_t> field;
      bool single = true;
      for (std::size_t f = 0; f < chains.size(); ++f) {
        if (!chains[f]) continue;
        single = single && !field;
        field = f;
      }
      std::string no;
      if (!field || !single) {
        no = "it prepares no field or more than one";
      } else if (auto program = chains[*field]->device_program(&no)) {
        device_routes_[p.index] = {*field, accelerator_->accelerator().add_program(*program)};
        continue;
      }
      log::info("rank {}: pipeline '{}' prepares on CPU only: {}", ctx_.rank,
                ctx_.config.pipelines[p.index].name, no);
    }
  } catch (const std::exception& e) {
    // The device is there but unusable (no memory left beside training, say): stay on the CPU.
    log::warn("rank {}: accelerator {} unusable, preparing on CPU workers: {}", ctx_.rank,
              accelerator_->accelerator().name(), e.what());
    device_routes_.clear();
    accelerator_.reset();
    return;
  }
  log::info("rank {}: accelerator {} for {} pipeline(s); utilization from {}", ctx_.rank,
            accelerator_->accelerator().name(), device_routes_.size(), accelerator_->utilization_source());
}

bool MissPipeline::sends_on_device(const Misses& misses) const {
  if (!ctx_.link) return false;
  const auto member = [&](int rank) { return ctx_.link_member.at(static_cast<std::size_t>(rank)) >= 0; };
  const auto route = device_routes_.find(misses.pipeline);
  if (route == device_routes_.end() || !member(ctx_.rank) || !member(misses.consumer)) return false;
  const PipelineRuntime* p = ctx_.find_pipeline(misses.pipeline);
  // The consumer augments on the prepared bytes: they must reach its host unless there is no augment.
  return layouts_.at(misses.pipeline).fixed && !p->processor->has_augment(route->second.field);
}

}  // namespace ferry::roles
