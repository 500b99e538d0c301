// The C API's error side: exceptions become status codes, the message goes to a thread-local string.
#include <new>
#include <string>

#include "capi/handle.hpp"
#include "ferry/error.hpp"
#include "roles/context.hpp"

namespace ferry::capi {
namespace {

// The message of the last failing call on this thread; ferry_last_error() points into it.
thread_local std::string t_last_error;

int status_of(roles::ErrorKind kind) noexcept {
  switch (kind) {
    case roles::ErrorKind::config:
      return FERRY_ERROR_CONFIG;
    case roles::ErrorKind::dataset:
      return FERRY_ERROR_DATASET;
    case roles::ErrorKind::transform:
      return FERRY_ERROR_TRANSFORM;
    case roles::ErrorKind::internal:
      return FERRY_ERROR_INTERNAL;
    case roles::ErrorKind::transport:
      break;
  }
  return FERRY_ERROR_TRANSPORT;
}

}  // namespace

int fail(int status, std::string_view message) noexcept {
  try {
    t_last_error.assign(message);
  } catch (...) {
    // Out of memory while recording the message: the status still says what happened.
    t_last_error.clear();
  }
  return status;
}

int status_of_current_exception() noexcept {
  // Most derived first: each ferry::Error kind has its own code (docs/errors.md).
  try {
    throw;
  } catch (const InvalidArgument& e) {
    return fail(FERRY_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const ConfigError& e) {
    return fail(FERRY_ERROR_CONFIG, e.what());
  } catch (const DatasetError& e) {
    return fail(FERRY_ERROR_DATASET, e.what());
  } catch (const TransformError& e) {
    return fail(FERRY_ERROR_TRANSFORM, e.what());
  } catch (const TransportError& e) {
    return fail(FERRY_ERROR_TRANSPORT, e.what());
  } catch (const PeerLost& e) {
    return fail(FERRY_ERROR_PEER_LOST, e.what());
  } catch (const roles::RemoteFailure& e) {
    // A rank failed (its message names it): the status of the class it threw, on every rank (transport
    // when that is not known: a rank that left the job).
    return fail(status_of(e.kind()), e.what());
  } catch (const InternalError& e) {
    return fail(FERRY_ERROR_INTERNAL, e.what());
  } catch (const Error& e) {
    // A plain ferry::Error is a misuse the C layer did not catch first (wrong role, called twice).
    return fail(FERRY_ERROR_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return fail(FERRY_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(FERRY_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(FERRY_ERROR_INTERNAL, "unknown exception inside Ferry");
  }
}

}  // namespace ferry::capi

extern "C" {

const char* ferry_last_error(void) {
  return ferry::capi::t_last_error.c_str();
}

const char* ferry_status_name(int status) {
  switch (status) {
    case FERRY_OK:
      return "FERRY_OK";
    case FERRY_ERROR_CONFIG:
      return "FERRY_ERROR_CONFIG";
    case FERRY_ERROR_DATASET:
      return "FERRY_ERROR_DATASET";
    case FERRY_ERROR_TRANSFORM:
      return "FERRY_ERROR_TRANSFORM";
    case FERRY_ERROR_TRANSPORT:
      return "FERRY_ERROR_TRANSPORT";
    case FERRY_ERROR_INTERNAL:
      return "FERRY_ERROR_INTERNAL";
    case FERRY_ERROR_INVALID_ARGUMENT:
      return "FERRY_ERROR_INVALID_ARGUMENT";
    case FERRY_END:
      return "FERRY_END";
    case FERRY_ERROR_PEER_LOST:
      return "FERRY_ERROR_PEER_LOST";
    default:
      return "FERRY_UNKNOWN_STATUS";
  }
}

}  // extern "C"
