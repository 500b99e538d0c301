# The environment every sanitized run needs (tests/run.sh --sanitize sources it; so can you, before ctest in
# a FERRY_SANITIZE build). Suppressions live next to this file, each with the reason it is there.
sanitize_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# UCX's memory hooks patch malloc/mmap in place (UCM "bistro"); ASan's interceptors and UCM's relocation
# patching fight over the same symbols (UCX's own ASan builds turn UCM off: openucx/ucx#5036, #9519). Off,
# UCX registers memory without its registration cache: slower, same bytes.
export UCX_MEM_MALLOC_HOOKS=no UCX_MEM_EVENTS=no UCX_MEM_MALLOC_RELOC=no
# Open MPI's memory patcher does the same to munmap/mremap for its own registration cache.
export OMPI_MCA_memory=^patcher
export ASAN_OPTIONS=${FERRY_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1}
# The slow unwinder: Open MPI's leaks at exit sit in components already dlclose()d, whose frames the fast one
# cannot walk through to the library the suppressions name (lsan.supp). The unit cases, which never start MPI,
# append fast_unwind_on_malloc=1 in an ASan build (tests/CMakeLists.txt): it costs a DWARF walk per allocation.
export LSAN_OPTIONS=suppressions=$sanitize_dir/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$sanitize_dir/ubsan.supp
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$sanitize_dir/tsan.supp
