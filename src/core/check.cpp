#include "core/check.hpp"

#include <mpi.h>
#include <ucs/type/status.h>

#include <cstdio>
#include <cstring>

namespace ferry::detail {

std::string call_name(const char* expr) {
  const char* paren = std::strchr(expr, '(');
  std::string name = paren ? std::string(expr, paren) : std::string(expr);
  while (!name.empty() && (name.back() == ' ')) name.pop_back();
  return name;
}

void throw_mpi(const char* call, int rc) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) std::snprintf(text, sizeof text, "error %d", rc);
  throw TransportError(str_cat(call_name(call), " failed: ", text), rc);
}

void throw_ucs(const char* call, int status) {
  throw TransportError(
      str_cat(call_name(call), " failed: ", ucs_status_string(static_cast<ucs_status_t>(status))), status);
}

void throw_cuda(const char* call, int rc, const char* text) {
  throw TransportError(str_cat(call_name(call), " failed: ", text ? text : "unknown CUDA error"), rc);
}

void throw_enforce(const char* cond, const char* file, int line, const std::string& msg) {
  const char* base = std::strrchr(file, '/');
  throw InternalError(str_cat("internal error at ", base ? base + 1 : file, ":", line, ": ", cond,
                              msg.empty() ? "" : " (", msg, msg.empty() ? "" : ")"));
}

}  // namespace ferry::detail
