// Faulting memory in before data moves: first touches (the kernel clearing a page, filling a page table)
// then happen at start-up, where their time is reported, instead of inside the first epoch that reads the
// memory (docs/runtime.md, "Memory set-up").
#pragma once

#include <cstddef>

namespace ferry {

enum class Prefault { read, write };

// Faults [data, data + bytes) in: `write` for memory this process will write (private pages and shared pages
// are allocated), `read` for a mapping of pages another process writes (page-table entries only, for pages
// that exist). madvise(MADV_POPULATE_READ / _WRITE) where the kernel has it (Linux >= 5.14), else a touch of
// every page (a write touch rewrites the byte it read: call it before anyone else writes the memory).
// Returns the seconds it took.
double prefault(void* data, std::size_t bytes, Prefault how) noexcept;

}  // namespace ferry
