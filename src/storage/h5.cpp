#include "storage/h5.hpp"

#include <mutex>
#include <vector>

#include "core/check.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "ferry/error.hpp"

namespace ferry::storage {

void h5_init() noexcept {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

namespace {

struct StackEntry {
  std::string desc;
  hid_t minor = H5I_INVALID_HID;
};

herr_t collect_entry(unsigned, const H5E_error2_t* err, void* data) {
  static_cast<std::vector<StackEntry>*>(data)->push_back({err->desc ? err->desc : "", err->min_num});
  return 0;
}

std::string minor_message(hid_t minor) {
  char text[128] = {};
  return H5Eget_msg(minor, nullptr, text, sizeof text) > 0 ? std::string(text) : std::string();
}

}  // namespace

std::string h5_error_stack() {
  std::vector<StackEntry> entries;
  // Downward: the API call's entry first, the innermost (where it went wrong) last. Those two carry the
  // story; the layers between repeat it.
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_entry, &entries) < 0 || entries.empty()) return {};
  std::string text = entries.front().desc;
  const StackEntry& inner = entries.back();
  if (entries.size() > 1 && inner.desc != text) {
    // Inner descriptions often repeat the outer one before adding detail: keep only the detailed one.
    text = text.empty() || inner.desc.starts_with(text) ? inner.desc : str_cat(text, ": ", inner.desc);
  }
  // The minor message names the cause in HDF5's words ("file signature not found").
  const std::string minor = minor_message(inner.minor);
  if (!minor.empty() && text.find(minor) == std::string::npos) text = str_cat(text, " (", minor, ")");
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

[[noreturn]] void throw_h5(const char* call, const std::string& file, const std::string& dataset) {
  std::string stack = h5_error_stack();
  H5Eclear2(H5E_DEFAULT);
  std::string where = dataset.empty() ? str_cat(file, ": ") : str_cat(file, ": dataset ", dataset, ": ");
  throw DatasetError(str_cat(where, detail::call_name(call), " failed", stack.empty() ? "" : ": ", stack),
                     file, dataset);
}

void log_close_failure(const char* kind, hid_t id) noexcept {
  try {
    log::warn("closing HDF5 {} handle {} failed: {}", kind, static_cast<long long>(id), h5_error_stack());
    H5Eclear2(H5E_DEFAULT);
  } catch (...) {
    // Logging itself failed (out of memory): nothing more a destructor can do.
  }
}

}  // namespace ferry::storage
