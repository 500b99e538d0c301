// MPI backend, one-sided side. Each Region is one window (MPI_Win_create, collective), opened once for the
// whole life of the window with MPI_Win_lock_all(MPI_MODE_NOCHECK): every rank may read any window at any
// time without further synchronization, which is what cache servers need. Gets are MPI_Get; completion is
// MPI_Win_flush_local (for a get, local completion means the bytes are in the caller's buffer).
#include <algorithm>
#include <climits>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "transport/mpi/mpi_fabric.hpp"
#include "transport/region_key.hpp"

namespace ferry::transport::mpi {

namespace {

// One MPI_Get moves at most INT_MAX elements; larger reads are split.
constexpr std::size_t kMaxGetBytes = static_cast<std::size_t>(INT_MAX);

// Owns one window: unlocks and frees it (both collective-in-effect) when the Region goes.
class MpiRegion final : public detail::RegionImpl {
 public:
  MpiRegion(std::shared_ptr<WindowTable> table, std::uint64_t id) : table_(std::move(table)), id_(id) {}
  MpiRegion(const MpiRegion&) = delete;
  MpiRegion& operator=(const MpiRegion&) = delete;
  ~MpiRegion() override {
    const auto it = table_->windows.find(id_);
    if (it == table_->windows.end()) return;
    MPI_Win window = it->second.window;
    table_->windows.erase(it);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (const int rc = MPI_Win_unlock_all(window); rc != MPI_SUCCESS) {
      log::warn("MPI_Win_unlock_all failed with code {}", rc);
    }
    if (const int rc = MPI_Win_free(&window); rc != MPI_SUCCESS)
      log::warn("MPI_Win_free failed with code {}", rc);
  }

 private:
  std::shared_ptr<WindowTable> table_;
  std::uint64_t id_;
};

}  // namespace

// A Region over a freshly created window; from the first line on the Region's impl owns the window, so an
// error below still frees it.
Region MpiFabric::wrap_window(MPI_Win window, void* data, std::size_t bytes) {
  const std::uint64_t id = windows_->next_id++;
  windows_->windows[id].window = window;
  auto impl = std::make_unique<MpiRegion>(windows_, id);
  FERRY_CHECK_MPI(MPI_Win_set_errhandler(window, MPI_ERRORS_RETURN));
  FERRY_CHECK_MPI(MPI_Win_lock_all(MPI_MODE_NOCHECK, window));
  RegionKey key;
  key.backend = 'M';
  key.owner = rank();
  key.id = id;
  key.size = bytes;
  return Region(bytes == 0 ? nullptr : data, bytes, pack_region_key(key), std::move(impl));
}

Region MpiFabric::do_register(void* data, std::size_t bytes) {
  MPI_Win window = MPI_WIN_NULL;
  FERRY_CHECK_MPI(MPI_Win_create(bytes == 0 ? nullptr : data, static_cast<MPI_Aint>(bytes), /*disp_unit=*/1,
                                 MPI_INFO_NULL, comm_.get(), &window));
  return wrap_window(window, data, bytes);
}

Region MpiFabric::do_allocate(std::size_t bytes) {
  // MPI_Win_allocate lets the library place the memory (shared segments between ranks of a node where it
  // can); the window frees it.
  void* base = nullptr;
  MPI_Win window = MPI_WIN_NULL;
  FERRY_CHECK_MPI(MPI_Win_allocate(static_cast<MPI_Aint>(bytes), /*disp_unit=*/1, MPI_INFO_NULL, comm_.get(),
                                   &base, &window));
  return wrap_window(window, base, bytes);
}

RemoteRegion MpiFabric::do_attach(std::span<const std::byte> bytes) {
  const RegionKey key = unpack_region_key(bytes, 'M', backend());
  if (key.owner < 0 || key.owner >= size()) {
    throw TransportError(str_cat("mpi fabric: region key names rank ", key.owner, ", outside this fabric of ",
                                 size(), " ranks"),
                         kInvalidArgument);
  }
  if (windows_->windows.count(key.id) == 0) {
    throw TransportError(str_cat("mpi fabric: region ", key.id, " of rank ", key.owner,
                                 " has no window here (already freed, or registered on another fabric)"),
                         kInvalidArgument);
  }
  return RemoteRegion{key.owner, key.id, key.size, static_cast<std::uint32_t>(key.id)};
}

Request MpiFabric::do_get(const RemoteRegion& from, std::size_t offset, void* dst, std::size_t bytes) {
  const auto it = windows_->windows.find(from.id);
  if (it == windows_->windows.end()) {
    throw TransportError(
        str_cat("mpi fabric: get from region ", from.id, " of rank ", from.owner, ", whose window is gone"),
        kInvalidArgument);
  }
  auto* out = static_cast<std::byte*>(dst);
  for (std::size_t done = 0; done < bytes;) {
    const std::size_t chunk = std::min(bytes - done, kMaxGetBytes);
    FERRY_CHECK_MPI(MPI_Get(out + done, static_cast<int>(chunk), MPI_BYTE, from.owner,
                            static_cast<MPI_Aint>(offset + done), static_cast<int>(chunk), MPI_BYTE,
                            it->second.window));
    done += chunk;
  }
  it->second.gets_pending = true;
  auto op = std::make_shared<MpiOp>(*this, "MPI_Win_flush_local");
  op->is_get_ = true;
  op->window_id_ = from.id;
  op->target_ = from.owner;
  return Request(op);
}

void MpiOp::finish_get() {
  if (done_) return;
  const auto& windows = fabric_->windows_->windows;
  const auto it = windows.find(window_id_);
  // A window freed since the get was issued was flushed by MPI_Win_unlock_all on its way out.
  if (it != windows.end()) error_ = MPI_Win_flush_local(target_, it->second.window);
  done_ = true;
}

void MpiFabric::flush_gets() {
  for (auto& [id, entry] : windows_->windows) {
    if (!entry.gets_pending) continue;
    entry.gets_pending = false;
    FERRY_CHECK_MPI(MPI_Win_flush_local_all(entry.window));
  }
}

void MpiFabric::do_wait_all() {
  flush_gets();
  block_until([this] { return send_requests_.empty(); }, Clock::time_point::max());
  rethrow_failure();
}

}  // namespace ferry::transport::mpi
