// The mpi module's one way to turn an MPI error code into an exception naming the call.
#pragma once

#include <mpi.h>

#include <string>

#include "aeflow/base/error.hpp"

namespace aeflow::mpi {

inline void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw RunError(std::string(what) + " failed: " + std::string(text, size_t(length)));
}

}  // namespace aeflow::mpi
