#include "roles/memory_setup.hpp"

#include "core/log.hpp"
#include "core/prefault.hpp"
#include "core/strings.hpp"

namespace ferry::roles {

void report_memory_setup(const Context& ctx, std::string_view what, std::uint64_t bytes, double seconds) {
  log::info("rank {}: {} ({:.1f} MiB) faulted in and registered in {:.3f} s", ctx.rank, what,
            static_cast<double>(bytes) / 1048576.0, seconds);
  ctx.stats_line(str_cat("{\"kind\":\"memory_setup\",\"rank\":", ctx.rank, ",\"what\":\"", what,
                         "\",\"bytes\":", bytes, ",\"seconds\":", seconds, "}"));
}

void prefault_own_slab(const Context& ctx, const transport::Region& own) {
  if (own.size() == 0 || own.data() == nullptr) return;
  const double seconds = prefault(own.data(), own.size(), Prefault::write);
  report_memory_setup(ctx, "cache slab", own.size(), seconds);
}

void prefault_mappings(Context& ctx, std::span<const transport::RemoteRegion> regions,
                       std::string_view what) {
  std::uint64_t bytes = 0;
  double seconds = 0;
  for (const transport::RemoteRegion& region : regions) {
    if (region.size == 0) continue;  // a rank with nothing exposed (send pools)
    const std::span<const std::byte> local = ctx.fabric->mapped(region);
    if (local.empty()) continue;  // read through the transport (CMA, a network, MPI): nothing mapped here
    // Read population maps pages; it never writes the region.
    seconds += prefault(const_cast<std::byte*>(local.data()), local.size(), Prefault::read);
    bytes += local.size();
  }
  if (bytes != 0) report_memory_setup(ctx, what, bytes, seconds);
}

}  // namespace ferry::roles
