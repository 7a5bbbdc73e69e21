// The RAII layer over the HDF5 C API (see hdf5.hpp): every call checked, every identifier owned
// by a Handle, every failure an Hdf5Error that names the file, the object and HDF5's own reason.
// HDF5's automatic printing of error stacks is switched off: aeflow reports errors itself.
// Files opened on a mpi::Communicator use the MPI-IO driver (H5Pset_fapl_mpio); their row transfers
// are collective (H5Pset_dxpl_mpio), as HDF5 requires for writing compressed chunks in parallel.
// Longer than the other files: it is one wrapper of one C API whose pieces (handles, property
// lists, errors, typed reads and writes) share private helpers; split, they would need a private
// header of their own for those and read no simpler.
#include "aeflow/io/hdf5.hpp"

#include <hdf5.h>
#include <mpi.h>  // parallel HDF5 takes an MPI_Comm: the one use of MPI outside mpi/

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <type_traits>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::io::h5 {

static_assert(std::is_same_v<hid_t, Hid>, "hdf5.hpp assumes hid_t is int64_t (HDF5 >= 1.10)");

namespace {

void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// HDF5's innermost reason for the last failure, then a clean stack. The innermost entry is the
// specific one ("file signature not found"); for system errors it embeds strerror, which is all
// a user needs.
std::string take_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
        if (n == 0 && error->desc) *static_cast<std::string*>(data) = error->desc;
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  const std::string marker = "error message = '";
  if (auto at = reason.find(marker); at != std::string::npos) {
    const auto start = at + marker.size();
    const auto end = reason.find('\'', start);
    if (end != std::string::npos) reason = reason.substr(start, end - start);
  }
  return reason;
}

[[noreturn]] void throw_error(const std::string& where, const std::string& what) {
  const std::string reason = take_reason();
  throw Hdf5Error(where + ": " + what + (reason.empty() ? "" : ": " + reason));
}

// An HDF5 file (its signature checked) that will not open because its contents end early or
// make no sense is bad input (exit 2), said in words before HDF5's own; other reasons (file
// locking on a network file system, permissions) stay run errors with HDF5's reason.
[[noreturn]] void throw_open_error(const std::string& path, const std::string& what) {
  const std::string reason = take_reason();
  std::string lower(reason);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* sign : {"truncated", "eof", "eoa", "superblock", "signature", "checksum"})
    if (lower.find(sign) != std::string::npos)
      throw InputError(path + ": an HDF5 file that cannot be opened: damaged or cut short (HDF5: " +
                       reason + ")");
  throw Hdf5Error(path + ": " + what + (reason.empty() ? "" : ": " + reason));
}

hid_t memory_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return H5T_NATIVE_FLOAT;
    case DType::kFloat64:
      return H5T_NATIVE_DOUBLE;
    case DType::kInt8:
      return H5T_NATIVE_INT8;
    case DType::kInt32:
      return H5T_NATIVE_INT32;
    case DType::kInt64:
      return H5T_NATIVE_INT64;
    case DType::kUint8:
      return H5T_NATIVE_UINT8;
    case DType::kUint32:
      return H5T_NATIVE_UINT32;
    case DType::kUint64:
      return H5T_NATIVE_UINT64;
    case DType::kString:
    case DType::kOther:
      break;
  }
  return -1;
}

// Little-endian on disk whatever the host, as h5py and numpy expect.
hid_t file_type(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return H5T_IEEE_F32LE;
    case DType::kFloat64:
      return H5T_IEEE_F64LE;
    case DType::kInt8:
      return H5T_STD_I8LE;
    case DType::kInt32:
      return H5T_STD_I32LE;
    case DType::kInt64:
      return H5T_STD_I64LE;
    case DType::kUint8:
      return H5T_STD_U8LE;
    case DType::kUint32:
      return H5T_STD_U32LE;
    case DType::kUint64:
      return H5T_STD_U64LE;
    case DType::kString:
    case DType::kOther:
      break;
  }
  return -1;
}

DType dtype_of_type(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return size == 4 ? DType::kFloat32 : size == 8 ? DType::kFloat64 : DType::kOther;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (size == 1) return is_signed ? DType::kInt8 : DType::kUint8;
      if (size == 4) return is_signed ? DType::kInt32 : DType::kUint32;
      if (size == 8) return is_signed ? DType::kInt64 : DType::kUint64;
      return DType::kOther;
    }
    case H5T_STRING:
      return DType::kString;
    default:
      return DType::kOther;
  }
}

bool is_integer(DType d) {
  return d == DType::kInt8 || d == DType::kInt32 || d == DType::kInt64 || d == DType::kUint8 ||
         d == DType::kUint32 || d == DType::kUint64;
}
bool is_numeric(DType d) {
  return is_integer(d) || d == DType::kFloat32 || d == DType::kFloat64;
}

std::vector<size_t> extent(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(size_t(rank), 0);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<size_t>(dims.begin(), dims.end());
}

size_t element_count(const std::vector<size_t>& shape) {
  size_t n = 1;
  for (size_t d : shape) n *= d;
  return n;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > pos) parts.emplace_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

// Iterates names with creation order where the object tracks it, by name otherwise.
template <class Iterate>
std::vector<std::string> list_names(Iterate iterate) {
  std::vector<std::string> names;
  if (iterate(H5_INDEX_CRT_ORDER, names) >= 0) return names;
  H5Eclear2(H5E_DEFAULT);
  names.clear();
  if (iterate(H5_INDEX_NAME, names) >= 0) return names;
  names.clear();
  return names;  // caller reports
}

Handle creation_order_plist(hid_t plist_class) {
  Handle plist(H5Pcreate(plist_class));
  const unsigned flags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  if (plist_class != H5P_DATASET_CREATE) H5Pset_link_creation_order(plist.get(), flags);
  H5Pset_attr_creation_order(plist.get(), flags);
  return plist;
}

}  // namespace

// --- Handle ------------------------------------------------------------------------------------

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

namespace {
herr_t close_id(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE:
      return H5Fclose(id);
    case H5I_GROUP:
      return H5Gclose(id);
    case H5I_DATATYPE:
      return H5Tclose(id);
    case H5I_DATASPACE:
      return H5Sclose(id);
    case H5I_DATASET:
      return H5Dclose(id);
    case H5I_ATTR:
      return H5Aclose(id);
    case H5I_GENPROP_LST:
      return H5Pclose(id);
    default:
      return H5Idec_ref(id) < 0 ? -1 : 0;
  }
}
}  // namespace

void Handle::reset() {
  if (id_ >= 0) {
    if (close_id(id_) < 0) H5Eclear2(H5E_DEFAULT);
    id_ = -1;
  }
}

void Handle::close(const std::string& what) {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = -1;
  if (close_id(id) < 0) throw_error(what, "cannot close");
}

// --- types -------------------------------------------------------------------------------------

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt8:
      return "int8";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kUint8:
      return "uint8";
    case DType::kUint32:
      return "uint32";
    case DType::kUint64:
      return "uint64";
    case DType::kString:
      return "string";
    case DType::kOther:
      break;
  }
  return "other";
}

std::string format_shape(const std::vector<size_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

size_t DatasetInfo::size() const {
  return element_count(shape);
}

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

// --- Object: attributes ------------------------------------------------------------------------

std::string Object::child_path(std::string_view name) const {
  if (name.empty()) return path_;
  if (name.front() == '/') return std::string(name);
  return (path_ == "/" ? "/" : path_ + "/") + std::string(name);
}

void Object::fail(const std::string& what, std::string_view child) const {
  throw_error(file_ + ": " + child_path(child), what);
}

bool Object::has_attribute(std::string_view name) const {
  const htri_t exists = H5Aexists(id(), std::string(name).c_str());
  if (exists < 0) fail("cannot check attribute '" + std::string(name) + "'");
  return exists > 0;
}

std::vector<std::string> Object::attribute_names() const {
  auto names = list_names([&](H5_index_t index, std::vector<std::string>& out) {
    hsize_t position = 0;
    return H5Aiterate2(
        id(), index, H5_ITER_INC, &position,
        [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
          return 0;
        },
        &out);
  });
  if (names.empty() && H5Aget_num_attrs(id()) > 0) fail("cannot list attributes");
  return names;
}

namespace {

struct OpenAttribute {
  Handle attribute, type, space;
  DType dtype = DType::kOther;
  std::vector<size_t> shape;
  bool scalar = true;
};

}  // namespace

// Opens attribute NAME with its type and space, or throws naming it.
static OpenAttribute open_attribute(const Object& object, std::string_view name,
                                    const std::string& where) {
  OpenAttribute a;
  const std::string key(name);
  if (H5Aexists(object.id(), key.c_str()) <= 0) throw_error(where, "no attribute '" + key + "'");
  a.attribute = Handle(H5Aopen(object.id(), key.c_str(), H5P_DEFAULT));
  if (!a.attribute.valid()) throw_error(where, "cannot open attribute '" + key + "'");
  a.type = Handle(H5Aget_type(a.attribute.get()));
  a.space = Handle(H5Aget_space(a.attribute.get()));
  if (!a.type.valid() || !a.space.valid())
    throw_error(where, "cannot read attribute '" + key + "'");
  a.dtype = dtype_of_type(a.type.get());
  a.shape = extent(a.space.get());
  a.scalar = H5Sget_simple_extent_npoints(a.space.get()) == 1;
  return a;
}

AttributeInfo Object::attribute_info(std::string_view name) const {
  OpenAttribute a = open_attribute(*this, name, file_ + ": " + path_);
  return {a.dtype, a.shape};
}

namespace {

void write_attribute(const Object& object, const std::string& where, std::string_view name,
                     hid_t type, hid_t space, const void* data) {
  const std::string key(name);
  if (H5Aexists(object.id(), key.c_str()) > 0 && H5Adelete(object.id(), key.c_str()) < 0)
    throw_error(where, "cannot replace attribute '" + key + "'");
  Handle attribute(H5Acreate2(object.id(), key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!attribute.valid()) throw_error(where, "cannot create attribute '" + key + "'");
  // An empty array has nothing to write, and HDF5 refuses a null buffer.
  if (data && H5Awrite(attribute.get(), type, data) < 0)
    throw_error(where, "cannot write attribute '" + key + "'");
  attribute.close(where + ": attribute '" + key + "'");
}

Handle scalar_space() {
  return Handle(H5Screate(H5S_SCALAR));
}

Handle vector_space(size_t n) {
  const hsize_t dims[1] = {hsize_t(n)};
  return Handle(H5Screate_simple(1, dims, nullptr));
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

}  // namespace

void Object::set_string_attribute(std::string_view name, std::string_view value) {
  const std::string text(value);
  const char* pointer = text.c_str();
  Handle type = utf8_string_type(), space = scalar_space();
  write_attribute(*this, file_ + ": " + path_, name, type.get(), space.get(), &pointer);
}

void Object::set_int_attribute(std::string_view name, int64_t value) {
  Handle space = scalar_space();
  write_attribute(*this, file_ + ": " + path_, name, H5T_STD_I64LE, space.get(), &value);
}

void Object::set_uint_attribute(std::string_view name, uint64_t value) {
  Handle space = scalar_space();
  write_attribute(*this, file_ + ": " + path_, name, H5T_STD_U64LE, space.get(), &value);
}

void Object::set_double_attribute(std::string_view name, double value) {
  Handle space = scalar_space();
  write_attribute(*this, file_ + ": " + path_, name, H5T_IEEE_F64LE, space.get(), &value);
}

void Object::set_int_vector_attribute(std::string_view name, const std::vector<int64_t>& values) {
  Handle space = vector_space(values.size());
  write_attribute(*this, file_ + ": " + path_, name, H5T_STD_I64LE, space.get(),
                  values.empty() ? nullptr : values.data());
}

void Object::set_double_vector_attribute(std::string_view name, const std::vector<double>& values) {
  Handle space = vector_space(values.size());
  write_attribute(*this, file_ + ": " + path_, name, H5T_IEEE_F64LE, space.get(),
                  values.empty() ? nullptr : values.data());
}

std::string Object::string_attribute(std::string_view name) const {
  const std::string where = file_ + ": " + path_;
  OpenAttribute a = open_attribute(*this, name, where);
  const std::string key(name);
  if (a.dtype != DType::kString)
    throw Hdf5Error(where + ": attribute '" + key + "' is " + to_string(a.dtype) +
                    ", not a string");
  if (!a.scalar) throw Hdf5Error(where + ": attribute '" + key + "' is not a single string");
  const htri_t variable = H5Tis_variable_str(a.type.get());
  Handle memory(H5Tcopy(H5T_C_S1));
  H5Tset_cset(memory.get(), H5Tget_cset(a.type.get()));
  if (variable > 0) {
    H5Tset_size(memory.get(), H5T_VARIABLE);
    char* pointer = nullptr;
    if (H5Aread(a.attribute.get(), memory.get(), &pointer) < 0)
      throw_error(where, "cannot read attribute '" + key + "'");
    std::string value = pointer ? pointer : "";
    H5free_memory(pointer);
    return value;
  }
  const size_t size = H5Tget_size(a.type.get());
  H5Tset_size(memory.get(), size);
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  std::string value(size, '\0');
  if (H5Aread(a.attribute.get(), memory.get(), value.data()) < 0)
    throw_error(where, "cannot read attribute '" + key + "'");
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

namespace {

// Reads a numeric attribute of any shape as T (HDF5 converts), refusing strings, and integers
// where ONLY_INTEGERS.
template <class T>
std::vector<T> read_numeric(const Object& object, std::string_view name, bool only_integers) {
  const std::string where = object.file_name() + ": " + object.path();
  OpenAttribute a = open_attribute(object, name, where);
  const std::string key(name);
  if (!is_numeric(a.dtype) || (only_integers && !is_integer(a.dtype)))
    throw Hdf5Error(where + ": attribute '" + key + "' is " + to_string(a.dtype) + ", not " +
                    (only_integers ? "an integer" : "a number"));
  std::vector<T> values(size_t(H5Sget_simple_extent_npoints(a.space.get())));
  if (!values.empty() && H5Aread(a.attribute.get(), memory_type(dtype_of<T>()), values.data()) < 0)
    throw_error(where, "cannot read attribute '" + key + "'");
  return values;
}

template <class T>
T read_scalar(const Object& object, std::string_view name, bool only_integers) {
  std::vector<T> values = read_numeric<T>(object, name, only_integers);
  if (values.size() != 1)
    throw Hdf5Error(object.file_name() + ": " + object.path() + ": attribute '" +
                    std::string(name) + "' holds " + std::to_string(values.size()) +
                    " values, expected one");
  return values[0];
}

}  // namespace

int64_t Object::int_attribute(std::string_view name) const {
  if (attribute_info(name).dtype == DType::kUint64) {
    const uint64_t value = read_scalar<uint64_t>(*this, name, true);
    if (value > uint64_t(INT64_MAX))
      throw Hdf5Error(file_ + ": " + path_ + ": attribute '" + std::string(name) +
                      "' is too large for int64");
    return int64_t(value);
  }
  return read_scalar<int64_t>(*this, name, true);
}

uint64_t Object::uint_attribute(std::string_view name) const {
  const DType dtype = attribute_info(name).dtype;
  if (dtype == DType::kUint64 || dtype == DType::kUint32 || dtype == DType::kUint8)
    return read_scalar<uint64_t>(*this, name, true);
  const int64_t value = read_scalar<int64_t>(*this, name, true);
  if (value < 0)
    throw Hdf5Error(file_ + ": " + path_ + ": attribute '" + std::string(name) +
                    "' is negative, expected an unsigned value");
  return uint64_t(value);
}

double Object::double_attribute(std::string_view name) const {
  return read_scalar<double>(*this, name, false);
}

std::vector<int64_t> Object::int_vector_attribute(std::string_view name) const {
  return read_numeric<int64_t>(*this, name, true);
}

std::vector<double> Object::double_vector_attribute(std::string_view name) const {
  return read_numeric<double>(*this, name, false);
}

// --- Dataset -----------------------------------------------------------------------------------

DatasetInfo Dataset::info() const {
  DatasetInfo info;
  Handle type(H5Dget_type(id())), space(H5Dget_space(id())), plist(H5Dget_create_plist(id()));
  if (!type.valid() || !space.valid() || !plist.valid()) fail("cannot read dataset layout");
  info.dtype = dtype_of_type(type.get());
  info.element_size = H5Tget_size(type.get());
  info.shape = extent(space.get());
  if (H5Pget_layout(plist.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(info.shape.size(), 0);
    if (!chunk.empty() && H5Pget_chunk(plist.get(), int(chunk.size()), chunk.data()) < 0)
      fail("cannot read chunk shape");
    info.chunk.assign(chunk.begin(), chunk.end());
  }
  const int filters = H5Pget_nfilters(plist.get());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0, config = 0;
    unsigned values[8] = {};
    size_t value_count = 8;
    char name[64] = {};
    const H5Z_filter_t filter = H5Pget_filter2(plist.get(), unsigned(i), &flags, &value_count,
                                               values, sizeof name, name, &config);
    if (filter == H5Z_FILTER_DEFLATE)
      info.filters.push_back("deflate(" + std::to_string(value_count ? values[0] : 0) + ")");
    else if (filter == H5Z_FILTER_SHUFFLE)
      info.filters.push_back("shuffle");
    else if (filter == H5Z_FILTER_FLETCHER32)
      info.filters.push_back("fletcher32");
    else
      info.filters.push_back(name[0] ? std::string(name) : "filter " + std::to_string(filter));
  }
  info.storage_bytes = H5Dget_storage_size(id());
  return info;
}

size_t Dataset::stored_size() const {
  // Deflate's best ratio, 1032:1, and a little for what HDF5 stores apart from the elements
  // (compact datasets, fill values of a few elements).
  constexpr double kMaxRatio = 1032, kSlackBytes = 1 << 16;
  const DatasetInfo layout = info();
  const double bytes = double(layout.size()) * double(layout.element_size);
  if (bytes > double(layout.storage_bytes) * kMaxRatio + kSlackBytes)
    throw Hdf5Error(file_ + ": " + path_ + ": a dataset of shape " + format_shape(layout.shape) +
                    " (" + std::to_string(uint64_t(bytes)) + " bytes) of which the file stores " +
                    std::to_string(layout.storage_bytes) + " bytes (damaged file)");
  return layout.size();
}

void Dataset::read_raw(DType dtype, void* data, size_t count) const {
  const DatasetInfo layout = info();
  if (!is_numeric(layout.dtype))
    throw Hdf5Error(file_ + ": " + path_ + ": dataset is " + to_string(layout.dtype) +
                    ", not numbers");
  if (count != layout.size())
    throw Hdf5Error(file_ + ": " + path_ + ": reading " + std::to_string(count) +
                    " values from a dataset of shape " + format_shape(layout.shape));
  if (count == 0) return;
  if (H5Dread(id(), memory_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail("cannot read dataset");
}

void Dataset::write_raw(DType dtype, const void* data, size_t count) {
  Handle space(H5Dget_space(id()));
  const size_t expected = element_count(extent(space.get()));
  if (count != expected)
    throw Hdf5Error(file_ + ": " + path_ + ": writing " + std::to_string(count) +
                    " values to a dataset of " + std::to_string(expected));
  if (count == 0) return;
  if (H5Dwrite(id(), memory_type(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail("cannot write dataset");
}

std::vector<std::string> Dataset::read_strings() const {
  Handle type(H5Dget_type(id())), space(H5Dget_space(id()));
  if (!type.valid() || !space.valid()) fail("cannot read dataset layout");
  if (dtype_of_type(type.get()) != DType::kString)
    throw Hdf5Error(file_ + ": " + path_ + ": dataset is " + to_string(dtype_of_type(type.get())) +
                    ", not strings");
  const size_t count = stored_size();
  std::vector<std::string> values;
  values.reserve(count);
  if (count == 0) return values;
  Handle memory(H5Tcopy(H5T_C_S1));
  H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(memory.get(), H5T_VARIABLE);
    std::vector<char*> pointers(count, nullptr);
    if (H5Dread(id(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
      fail("cannot read dataset");
    for (char* pointer : pointers) values.emplace_back(pointer ? pointer : "");
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, pointers.data());
    return values;
  }
  const size_t size = H5Tget_size(type.get());
  H5Tset_size(memory.get(), size);
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  std::vector<char> buffer(count * size, '\0');
  if (H5Dread(id(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    fail("cannot read dataset");
  for (size_t i = 0; i < count; ++i) {
    const char* text = buffer.data() + i * size;
    values.emplace_back(text, strnlen(text, size));
  }
  return values;
}

namespace {

// Selects rows [first, first + count) of SPACE (all of every other dimension) and returns the
// number of elements per row; count 0 selects nothing.
size_t select_rows(hid_t space, size_t first, size_t count, const std::string& where) {
  const std::vector<size_t> shape = extent(space);
  if (shape.empty()) throw Hdf5Error(where + ": a scalar dataset has no rows");
  if (first > shape[0] || count > shape[0] - first)
    throw Hdf5Error(where + ": rows [" + std::to_string(first) + ", " +
                    std::to_string(first + count) + ") are out of range for shape " +
                    format_shape(shape));
  size_t row = 1;
  for (size_t i = 1; i < shape.size(); ++i) row *= shape[i];
  if (count == 0 || row == 0) {
    if (H5Sselect_none(space) < 0) throw_error(where, "cannot select no rows");
    return row;
  }
  std::vector<hsize_t> start(shape.size(), 0), block(shape.begin(), shape.end());
  start[0] = first;
  block[0] = count;
  if (H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr) < 0)
    throw_error(where, "cannot select rows");
  return row;
}

// The memory dataspace for COUNT rows of a file space: the selection's own shape, which lets
// HDF5 map it onto the chunks as a whole (a flat space of the same size makes it map element by
// element, slower by orders of magnitude). Zero rows: one element, none selected.
Handle rows_memory_space(hid_t file_space, size_t count) {
  std::vector<hsize_t> dims(size_t(std::max(1, H5Sget_simple_extent_ndims(file_space))), 1);
  H5Sget_simple_extent_dims(file_space, dims.data(), nullptr);
  dims[0] = std::max<size_t>(1, count);
  for (hsize_t& d : dims) d = std::max<hsize_t>(1, d);
  Handle memory(H5Screate_simple(int(dims.size()), dims.data(), nullptr));
  if (!memory.valid() || (count == 0 && H5Sselect_none(memory.get()) < 0))
    throw_error("HDF5", "cannot make a memory dataspace");
  return memory;
}

}  // namespace

void Dataset::write_rows_raw(DType dtype, size_t first, size_t count, const void* data,
                             size_t size) {
  const std::string where = file_ + ": " + path_;
  Handle space(H5Dget_space(id()));
  if (!space.valid()) fail("cannot read dataset layout");
  const size_t row = select_rows(space.get(), first, count, where);
  if (size != count * row)
    throw Hdf5Error(where + ": writing " + std::to_string(size) + " values to " +
                    std::to_string(count) + " rows of " + std::to_string(row));
  const bool empty = count == 0 || row == 0;
  if (empty && !parallel_) return;  // collective calls need every rank, even empty-handed
  Handle memory = rows_memory_space(space.get(), empty ? 0 : count);
  Handle transfer(H5Pcreate(H5P_DATASET_XFER));
  if (!transfer.valid() ||
      (parallel_ && H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE) < 0))
    fail("cannot set up the transfer");
  const uint64_t nothing = 0;  // HDF5 wants a buffer even for an empty selection
  if (H5Dwrite(id(), memory_type(dtype), memory.get(), space.get(), transfer.get(),
               empty ? &nothing : data) < 0)
    fail("cannot write rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
         ")");
}

void Dataset::read_rows_raw(DType dtype, size_t first, size_t count, void* data,
                            size_t size) const {
  const std::string where = file_ + ": " + path_;
  Handle type(H5Dget_type(id()));
  if (!type.valid()) fail("cannot read dataset type");
  if (const DType stored = dtype_of_type(type.get()); !is_numeric(stored))
    throw Hdf5Error(where + ": dataset is " + to_string(stored) + ", not numbers");
  Handle space(H5Dget_space(id()));
  if (!space.valid()) fail("cannot read dataset layout");
  const size_t row = select_rows(space.get(), first, count, where);
  if (size != count * row)
    throw Hdf5Error(where + ": reading " + std::to_string(count) + " rows of " +
                    std::to_string(row) + " values into room for " + std::to_string(size));
  const bool empty = count == 0 || row == 0;
  if (empty && !parallel_) return;
  Handle memory = rows_memory_space(space.get(), empty ? 0 : count);
  Handle transfer(H5Pcreate(H5P_DATASET_XFER));
  if (!transfer.valid() ||
      (parallel_ && H5Pset_dxpl_mpio(transfer.get(), H5FD_MPIO_COLLECTIVE) < 0))
    fail("cannot set up the transfer");
  uint64_t nothing = 0;
  if (H5Dread(id(), memory_type(dtype), memory.get(), space.get(), transfer.get(),
              empty ? &nothing : data) < 0)
    fail("cannot read rows [" + std::to_string(first) + ", " + std::to_string(first + count) + ")");
}

// --- Group -------------------------------------------------------------------------------------

Group Group::create_group(std::string_view path) {
  const std::vector<std::string> parts = split_path(path);
  if (parts.empty()) throw Hdf5Error(file_ + ": cannot create a group with an empty name");
  Handle plist = creation_order_plist(H5P_GROUP_CREATE);
  Handle current;  // invalid: this group
  std::string current_path = path_;
  for (size_t i = 0; i < parts.size(); ++i) {
    const hid_t parent = current.valid() ? current.get() : id();
    const std::string& part = parts[i];
    current_path = (current_path == "/" ? "/" : current_path + "/") + part;
    const htri_t exists = H5Lexists(parent, part.c_str(), H5P_DEFAULT);
    if (exists < 0) throw_error(file_ + ": " + current_path, "cannot check group");
    Handle next;
    if (exists > 0) {
      if (i + 1 == parts.size()) throw Hdf5Error(file_ + ": " + current_path + ": already exists");
      next = Handle(H5Gopen2(parent, part.c_str(), H5P_DEFAULT));
      if (!next.valid()) throw_error(file_ + ": " + current_path, "cannot open group");
    } else {
      next = Handle(H5Gcreate2(parent, part.c_str(), H5P_DEFAULT, plist.get(), H5P_DEFAULT));
      if (!next.valid()) throw_error(file_ + ": " + current_path, "cannot create group");
    }
    current = std::move(next);
  }
  return Group(std::move(current), file_, current_path, parallel_);
}

Group Group::open_group(std::string_view path) const {
  const std::string key(path);
  Handle group(H5Gopen2(id(), key.c_str(), H5P_DEFAULT));
  if (!group.valid()) fail("cannot open group", path);
  return Group(std::move(group), file_, child_path(path), parallel_);
}

bool Group::exists(std::string_view path) const {
  std::string prefix = !path.empty() && path.front() == '/' ? "/" : "";
  for (const std::string& part : split_path(path)) {
    prefix += part;
    const htri_t exists = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
    if (exists < 0) fail("cannot check whether it exists", prefix);
    if (exists == 0) return false;
    prefix += "/";
  }
  return true;
}

ObjectKind Group::kind(std::string_view path) const {
  if (!exists(path)) return ObjectKind::kMissing;
  H5O_info_t info;
  if (H5Oget_info_by_name2(id(), std::string(path).c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    fail("cannot read object info", path);
  if (info.type == H5O_TYPE_GROUP) return ObjectKind::kGroup;
  if (info.type == H5O_TYPE_DATASET) return ObjectKind::kDataset;
  return ObjectKind::kOther;
}

std::vector<std::string> Group::children() const {
  H5G_info_t group_info;
  if (H5Gget_info(id(), &group_info) < 0) fail("cannot read group");
  auto names = list_names([&](H5_index_t index, std::vector<std::string>& out) {
    hsize_t position = 0;
    return H5Literate(
        id(), index, H5_ITER_INC, &position,
        [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->emplace_back(name);
          return 0;
        },
        &out);
  });
  if (names.size() != group_info.nlinks) fail("cannot list group members");
  return names;
}

Dataset Group::create_dataset(std::string_view name, DType dtype, const std::vector<size_t>& shape,
                              const DatasetOptions& options) {
  const std::string full = child_path(name);
  const std::string where = file_ + ": " + full;
  if (!is_numeric(dtype))
    throw Hdf5Error(where + ": cannot create a dataset of " + to_string(dtype));
  // A nested name gets its parent groups first, so they track creation order like any other.
  std::string key(name);
  Group parent_group;
  const Group* parent = this;
  if (auto slash = key.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string parent_path = key.substr(0, slash);
    parent_group = exists(parent_path) ? open_group(parent_path) : create_group(parent_path);
    parent = &parent_group;
    key = key.substr(slash + 1);
  }

  std::vector<hsize_t> dims(shape.begin(), shape.end()), max_dims = dims;
  Handle plist = creation_order_plist(H5P_DATASET_CREATE);
  if (!options.chunk.empty()) {
    if (options.chunk.size() != shape.size())
      throw Hdf5Error(where + ": chunk shape " + format_shape(options.chunk) +
                      " does not match the dataset's " + format_shape(shape));
    // HDF5 refuses chunks larger than a fixed dimension, and any chunk on a zero-length one
    // unless that dimension may grow: clamp, and let empty dimensions be unlimited.
    std::vector<hsize_t> chunk(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) {
      chunk[i] =
          std::max<hsize_t>(1, shape[i] ? std::min(options.chunk[i], shape[i]) : options.chunk[i]);
      if (shape[i] == 0) max_dims[i] = H5S_UNLIMITED;
    }
    if (H5Pset_chunk(plist.get(), int(chunk.size()), chunk.data()) < 0)
      throw_error(where, "cannot set chunk shape " + format_shape(options.chunk));
    if (options.shuffle && H5Pset_shuffle(plist.get()) < 0)
      throw_error(where, "cannot set shuffle filter");
    if (options.deflate > 0 && H5Pset_deflate(plist.get(), unsigned(options.deflate)) < 0)
      throw_error(where, "cannot set deflate filter");
  } else if (options.deflate > 0 || options.shuffle) {
    throw Hdf5Error(where + ": compression needs a chunk shape");
  }
  Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(int(dims.size()), dims.data(), max_dims.data()));
  if (!space.valid()) throw_error(where, "cannot make a dataspace of shape " + format_shape(shape));
  Handle dataset(H5Dcreate2(parent->id(), key.c_str(), file_type(dtype), space.get(), H5P_DEFAULT,
                            plist.get(), H5P_DEFAULT));
  if (!dataset.valid()) throw_error(where, "cannot create dataset");
  return Dataset(std::move(dataset), file_, full, parallel_);
}

Dataset Group::write_strings(std::string_view name, const std::vector<std::string>& values) {
  const std::string full = child_path(name);
  Handle type = utf8_string_type(), space = vector_space(values.size());
  Handle dataset(H5Dcreate2(id(), std::string(name).c_str(), type.get(), space.get(), H5P_DEFAULT,
                            H5P_DEFAULT, H5P_DEFAULT));
  if (!dataset.valid()) throw_error(file_ + ": " + full, "cannot create dataset");
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& value : values) pointers.push_back(value.c_str());
  if (!values.empty() &&
      H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
    throw_error(file_ + ": " + full, "cannot write dataset");
  return Dataset(std::move(dataset), file_, full, parallel_);
}

Dataset Group::open_dataset(std::string_view path) const {
  Handle dataset(H5Dopen2(id(), std::string(path).c_str(), H5P_DEFAULT));
  if (!dataset.valid()) fail("cannot open dataset", path);
  return Dataset(std::move(dataset), file_, child_path(path), parallel_);
}

Dataset Group::open_dataset(std::string_view path, size_t cache_bytes) const {
  Handle access(H5Pcreate(H5P_DATASET_ACCESS));
  // 521 slots (a prime, as HDF5 advises), full chunks evicted first.
  if (!access.valid() || H5Pset_chunk_cache(access.get(), 521, cache_bytes, 1.0) < 0)
    fail("cannot set a chunk cache", path);
  Handle dataset(H5Dopen2(id(), std::string(path).c_str(), access.get()));
  if (!dataset.valid()) fail("cannot open dataset", path);
  return Dataset(std::move(dataset), file_, child_path(path), parallel_);
}

// --- File --------------------------------------------------------------------------------------

File File::create(const std::string& path, CreateMode mode) {
  silence_hdf5();
  Handle plist = creation_order_plist(H5P_FILE_CREATE);
  Handle file(H5Fcreate(path.c_str(), mode == CreateMode::kExclusive ? H5F_ACC_EXCL : H5F_ACC_TRUNC,
                        plist.get(), H5P_DEFAULT));
  if (!file.valid()) throw_error(path, "cannot create HDF5 file");
  return File(std::move(file), path, "/", false);
}

namespace {

// The checks File::open makes before HDF5 sees PATH, for the two mistakes a user makes.
void check_openable(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) throw InputError(path + ": no such file");
  if (std::filesystem::is_directory(path, error))
    throw InputError(path + ": is a directory, not an HDF5 file");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw InputError(path + ": not an HDF5 file");
  if (is_hdf5 < 0) throw_error(path, "cannot read file");
}

// A file-access property list for MPI-IO on COMM. Metadata reads and writes are collective
// too: every rank makes the same metadata calls anyway, and collective metadata I/O keeps
// ranks from each reading the same small blocks.
Handle mpio_access(const std::string& path, const mpi::Communicator& comm) {
  Handle access(H5Pcreate(H5P_FILE_ACCESS));
  if (!access.valid() ||
      H5Pset_fapl_mpio(access.get(), MPI_Comm_f2c(comm.mpi_handle()), MPI_INFO_NULL) < 0 ||
      H5Pset_all_coll_metadata_ops(access.get(), true) < 0 ||
      H5Pset_coll_metadata_write(access.get(), true) < 0)
    throw_error(path, "cannot set up MPI-IO file access");
  return access;
}

}  // namespace

File File::open(const std::string& path, Access access) {
  silence_hdf5();
  check_openable(path);
  Handle file(H5Fopen(path.c_str(), access == Access::kReadWrite ? H5F_ACC_RDWR : H5F_ACC_RDONLY,
                      H5P_DEFAULT));
  if (!file.valid()) throw_open_error(path, "cannot open HDF5 file");
  return File(std::move(file), path, "/", false);
}

File File::create(const std::string& path, CreateMode mode, const mpi::Communicator& comm) {
  if (comm.mpi_handle() < 0) return create(path, mode);
  silence_hdf5();
  Handle plist = creation_order_plist(H5P_FILE_CREATE);
  Handle access = mpio_access(path, comm);
  Handle file(H5Fcreate(path.c_str(), mode == CreateMode::kExclusive ? H5F_ACC_EXCL : H5F_ACC_TRUNC,
                        plist.get(), access.get()));
  if (!file.valid()) throw_error(path, "cannot create HDF5 file (MPI-IO)");
  return File(std::move(file), path, "/", true);
}

File File::open(const std::string& path, Access access, const mpi::Communicator& comm) {
  if (comm.mpi_handle() < 0) return open(path, access);
  silence_hdf5();
  check_openable(path);
  Handle mpio = mpio_access(path, comm);
  Handle file(H5Fopen(path.c_str(), access == Access::kReadWrite ? H5F_ACC_RDWR : H5F_ACC_RDONLY,
                      mpio.get()));
  if (!file.valid()) throw_open_error(path, "cannot open HDF5 file (MPI-IO)");
  return File(std::move(file), path, "/", true);
}

bool is_hdf5_file(const std::string& path) {
  silence_hdf5();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) throw InputError(path + ": no such file");
  if (std::filesystem::is_directory(path, error)) return false;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) throw_error(path, "cannot read file");
  return is_hdf5 > 0;
}

void File::flush() {
  if (handle_.valid() && H5Fflush(id(), H5F_SCOPE_LOCAL) < 0) throw_error(file_, "cannot flush");
}

void File::close() {
  if (!handle_.valid()) return;
  flush();
  handle_.close(file_);
}

}  // namespace aeflow::io::h5
