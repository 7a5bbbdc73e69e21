// The root attributes every aeflow HDF5 file carries (docs/hdf5-schema.md, "Common to every
// file"): format, format_version, aeflow_version, created, config. One writer and one checker,
// shared by the formats (checkpoint, metrics, encoded), so the common header cannot drift
// between them. It is not a format of its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

// ISO-8601 UTC time now, "2025-03-01T12:34:56Z".
std::string utc_now_iso8601();

// Sets the five common root attributes on FILE: format, format_version, aeflow_version (this
// build's), created (CREATED, or now when empty: a file written collectively by several ranks
// passes rank 0's time, since every rank must write the same value) and config (the resolved
// job config, INI text).
void write_file_header(h5::File& file, std::string_view format, int64_t format_version,
                       std::string_view config_ini, std::string_view created = {});

// Checks that FILE (opened from PATH) is an aeflow file of FORMAT at a format_version from
// OLDEST_VERSION to FORMAT_VERSION, and returns that version. Throws InputError saying what it is
// instead: "PATH: is an aeflow-metrics file, not a checkpoint" (WHAT names the expected kind),
// "not an aeflow file", or an unsupported format_version.
int64_t check_file_header(const h5::File& file, const std::string& path, std::string_view format,
                          int64_t format_version, std::string_view what, int64_t oldest_version);
inline int64_t check_file_header(const h5::File& file, const std::string& path,
                                 std::string_view format, int64_t format_version,
                                 std::string_view what) {
  return check_file_header(file, path, format, format_version, what, format_version);
}

}  // namespace aeflow::io
