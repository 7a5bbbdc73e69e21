// libFuzzer target: the checkpoint reader on whole, well-formed HDF5 files with damaged
// contents. Bytes mutated at random mostly break HDF5's own structures, which libhdf5 parses
// before aeflow's checks run (the `checkpoint` target, by hand only); here the input is a script
// of edits applied through the HDF5 API to a real checkpoint (one of tests/fuzz/corpus/checkpoint):
// objects deleted, attributes rewritten with other types and values, datasets replaced by others
// of any type and shape (huge ones stored as nothing), values set to NaN, infinities or
// anything. A refusal is an InputError or a RunError with its message; a crash, a leak (memory, or
// an HDF5 object left open), undefined behaviour, an allocation the file does not hold or any
// other exception is a bug.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "hdf5_objects_open.hpp"
#include "input_file.hpp"

namespace {

std::vector<std::vector<uint8_t>> base_files;

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every object's path in the file, the root first.
std::vector<std::string> object_paths(hid_t file) {
  std::vector<std::string> paths;
  H5Ovisit(
      file, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5O_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
        return 0;
      },
      &paths);
  if (!paths.empty()) paths.front() = "/";  // (H5Ovisit names the root ".")
  return paths;
}

std::vector<std::string> attribute_names(hid_t object) {
  std::vector<std::string> names;
  H5Aiterate2(
      object, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

hid_t fuzzed_number_type(FuzzedDataProvider& input) {
  const hid_t types[] = {H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_INT32,
                         H5T_NATIVE_INT64, H5T_NATIVE_UINT8,  H5T_NATIVE_UINT64};
  return types[input.ConsumeIntegralInRange<size_t>(0, std::size(types) - 1)];
}

// An attribute NAME on OBJECT (replacing one of that name): a string, or numbers of any type,
// one or a few.
void write_attribute(FuzzedDataProvider& input, hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  if (input.ConsumeBool()) {
    const std::string text = input.ConsumeRandomLengthString(64);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, text.size() + 1);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attribute >= 0) H5Awrite(attribute, type, text.c_str()), H5Aclose(attribute);
    H5Sclose(space), H5Tclose(type);
    return;
  }
  const hid_t type = fuzzed_number_type(input);
  const hsize_t count = input.ConsumeIntegralInRange<hsize_t>(1, 4);
  std::vector<uint8_t> bytes = input.ConsumeBytes<uint8_t>(count * H5Tget_size(type));
  bytes.resize(count * H5Tget_size(type));
  const hid_t space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr);
  const hid_t attribute = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attribute >= 0) H5Awrite(attribute, type, bytes.data()), H5Aclose(attribute);
  H5Sclose(space);
}

// The dataset at PATH replaced by one of any number type and shape: small ones hold fuzzed
// values, large ones (up to 2^40 elements) are chunked and never written, so they hold nothing.
void replace_dataset(FuzzedDataProvider& input, hid_t file, const std::string& path) {
  H5Ldelete(file, path.c_str(), H5P_DEFAULT);
  const hid_t type = fuzzed_number_type(input);
  const int rank = input.ConsumeIntegralInRange(0, 3);
  const bool huge = input.ConsumeBool();
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  hsize_t count = 1;
  for (hsize_t& dim : dims) {
    dim = huge ? input.ConsumeIntegralInRange<hsize_t>(1, hsize_t(1) << 13)
               : input.ConsumeIntegralInRange<hsize_t>(0, 40);
    count *= dim;
  }
  const hid_t space =
      rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims.data(), nullptr);
  const hid_t create = H5Pcreate(H5P_DATASET_CREATE);
  if (huge && rank > 0) {
    std::vector<hsize_t> chunk(dims.size(), 1);
    H5Pset_chunk(create, rank, chunk.data());
  }
  const hid_t dataset =
      H5Dcreate2(file, path.c_str(), type, space, H5P_DEFAULT, create, H5P_DEFAULT);
  if (dataset >= 0) {
    if (!huge || rank == 0) {
      std::vector<uint8_t> bytes = input.ConsumeBytes<uint8_t>(count * H5Tget_size(type));
      bytes.resize(count * H5Tget_size(type));
      H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    }
    H5Dclose(dataset);
  }
  H5Pclose(create), H5Sclose(space);
}

// One float of the float dataset at PATH set to NaN, an infinity, a huge or any value. Not in a
// chunked one (replace_dataset's huge datasets, one element per chunk): writing it would store
// every chunk, up to a million, and the harness, not the reader, would spend the time.
void set_value(FuzzedDataProvider& input, hid_t file, const std::string& path) {
  const hid_t dataset = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (dataset < 0) return;
  const hid_t create = H5Dget_create_plist(dataset);
  const bool chunked = H5Pget_layout(create) == H5D_CHUNKED;
  H5Pclose(create);
  const hid_t space = H5Dget_space(dataset);
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if (!chunked && count > 0 && count <= (1 << 20)) {
    std::vector<float> values(static_cast<size_t>(count));
    if (H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0) {
      using limits = std::numeric_limits<float>;
      const float specials[] = {limits::quiet_NaN(), limits::infinity(), -limits::infinity(),
                                limits::max(), 0.0f};
      float& value = values[input.ConsumeIntegralInRange<size_t>(0, values.size() - 1)];
      value = input.ConsumeBool() ? specials[input.ConsumeIntegralInRange<size_t>(0, 4)]
                                  : input.ConsumeFloatingPoint<float>();
      H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    }
  }
  H5Sclose(space), H5Dclose(dataset);
}

void apply_edit(FuzzedDataProvider& input, hid_t file) {
  const std::vector<std::string> paths = object_paths(file);
  if (paths.empty()) return;
  const std::string& path = paths[input.ConsumeIntegralInRange<size_t>(0, paths.size() - 1)];
  H5O_info_t info;
  if (H5Oget_info_by_name(file, path.c_str(), &info, H5P_DEFAULT) < 0) return;
  switch (input.ConsumeIntegralInRange(0, 4)) {
    case 0:  // delete it
      if (path != "/") H5Ldelete(file, path.c_str(), H5P_DEFAULT);
      break;
    case 1:    // rewrite one of its attributes
    case 2: {  // or add one (any name)
      const hid_t object = H5Oopen(file, path.c_str(), H5P_DEFAULT);
      if (object < 0) return;
      const std::vector<std::string> names = attribute_names(object);
      const std::string name =
          names.empty() || input.ConsumeBool()
              ? input.ConsumeRandomLengthString(16)
              : names[input.ConsumeIntegralInRange<size_t>(0, names.size() - 1)];
      if (!name.empty()) write_attribute(input, object, name);
      H5Oclose(object);
      break;
    }
    case 3:
      if (info.type == H5O_TYPE_DATASET) replace_dataset(input, file, path);
      break;
    case 4:
      if (info.type == H5O_TYPE_DATASET) set_value(input, file, path);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // the edits fail often; that is no news
  // In name order, so that an input picks the same base file on every machine (a directory's
  // order is the file system's).
  std::vector<std::filesystem::path> paths;
  for (const auto& entry :
       std::filesystem::directory_iterator(AEFLOW_SOURCE_DIR "/tests/fuzz/corpus/checkpoint"))
    if (entry.path().extension() == ".h5") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) base_files.push_back(read_bytes(path));
  if (base_files.empty()) __builtin_trap();  // the seeds are missing: the harness is broken
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const std::vector<uint8_t>& base =
      base_files[input.ConsumeIntegralInRange<size_t>(0, base_files.size() - 1)];
  // Edited in memory (HDF5's core driver on a copy of the image), then handed to the reader as
  // a file.
  const hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_core(access, 1 << 16, /*backing_store=*/0);
  H5Pset_file_image(access, const_cast<uint8_t*>(base.data()), base.size());
  const hid_t h5 = H5Fopen("checkpoint-in-memory.h5", H5F_ACC_RDWR, access);
  H5Pclose(access);
  if (h5 < 0) __builtin_trap();  // a seed that does not open: the harness is broken
  const int edits = input.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < edits && input.remaining_bytes() > 0; ++i) apply_edit(input, h5);
  H5Fflush(h5, H5F_SCOPE_GLOBAL);
  std::vector<uint8_t> image(size_t(std::max<ssize_t>(H5Fget_file_image(h5, nullptr, 0), 0)));
  if (image.empty() || H5Fget_file_image(h5, image.data(), image.size()) < 0) __builtin_trap();
  H5Fclose(h5);
  const aeflow::fuzz::InputFile file(image.data(), image.size());
  try {
    (void)aeflow::io::read_checkpoint(file.path());
  } catch (const aeflow::InputError&) {
  } catch (const aeflow::RunError&) {
  }
  if (aeflow::fuzz::hdf5_objects_open() != 0) __builtin_trap();
  return 0;
}
