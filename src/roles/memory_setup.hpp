// Memory set-up before data moves (docs/runtime.md, "Memory set-up"): cache slabs and the consumers' batch
// pools are faulted in and registered at start, so that every all-hit epoch, the first included, reads
// memory whose pages exist and are mapped. Each step's time is reported at start: one log line (info) and one
// stats line {"kind":"memory_setup","rank":R,"what":"...","bytes":B,"seconds":S}.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "roles/context.hpp"
#include "transport/fabric.hpp"

namespace ferry::roles {

// Logs and writes the stats line of one set-up step.
void report_memory_setup(const Context& ctx, std::string_view what, std::uint64_t bytes, double seconds);

// A slab holder writes its slab's pages in (`own`, from allocate_memory; empty on other ranks). Call before
// its key goes to peers, so that a consumer's mapping finds every page.
void prefault_own_slab(const Context& ctx, const transport::Region& own);

// A reader maps in every region it attached (a consumer the cache slabs, ctx.slabs; consumers and slab
// holders the send pools) that the transport reads through a mapping (shared memory): without it each page's
// first get takes a fault, inside the first epoch. `what` names them in the report.
void prefault_mappings(Context& ctx, std::span<const transport::RemoteRegion> regions, std::string_view what);

}  // namespace ferry::roles
