// The common root attributes of aeflow's HDF5 files (see file_header.hpp).
#include "aeflow/io/file_header.hpp"

#include <ctime>

#include "aeflow/base/error.hpp"

namespace aeflow::io {

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

void write_file_header(h5::File& file, std::string_view format, int64_t format_version,
                       std::string_view config_ini, std::string_view created) {
  file.set_string_attribute("format", format);
  file.set_int_attribute("format_version", format_version);
  file.set_string_attribute("aeflow_version", AEFLOW_VERSION);
  file.set_string_attribute("created", created.empty() ? utc_now_iso8601() : std::string(created));
  file.set_string_attribute("config", config_ini);
}

int64_t check_file_header(const h5::File& file, const std::string& path, std::string_view format,
                          int64_t format_version, std::string_view what, int64_t oldest_version) {
  if (!file.has_attribute("format"))
    throw InputError(path + ": not an aeflow file (no 'format' attribute)");
  if (file.attribute_info("format").dtype != h5::DType::kString)
    throw InputError(path + ": not an aeflow file ('format' is not a string)");
  const std::string found = file.string_attribute("format");
  if (found.rfind("aeflow-", 0) == 0 && found != format)
    throw InputError(path + ": is an " + found + " file, not " + std::string(what));
  if (found != format) throw InputError(path + ": not an aeflow file (format '" + found + "')");
  const int64_t version = file.int_attribute("format_version");
  if (version < oldest_version || version > format_version)
    throw InputError(path + ": " + std::string(format) + " format_version " +
                     std::to_string(version) + " is not supported; this aeflow reads version " +
                     (oldest_version == format_version ? std::to_string(format_version)
                                                       : std::to_string(oldest_version) + " to " +
                                                             std::to_string(format_version)));
  return version;
}

}  // namespace aeflow::io
