// A thin RAII layer over the HDF5 C API: files, groups, datasets and attributes as small value
// types that close themselves, with every failure turned into an exception naming the file and
// the object. It is the only code in aeflow that calls HDF5; the rest of io builds its formats
// (checkpoint, metrics, encoded) on it. It deliberately is not a general HDF5 binding: it has
// the types and shapes aeflow writes, whole-dataset reads and writes, row-range (hyperslab) reads
// and writes for data streamed in pieces, and files opened with MPI-IO on a mpi::Communicator,
// whose row writes are collective (parallel HDF5: every rank writes its rows of one dataset at
// once).
//
// No HDF5 header leaks out of here: an identifier is held as Hid, HDF5's hid_t (int64_t in
// 1.10 and later; hdf5.cpp checks that at compile time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "aeflow/base/error.hpp"

namespace aeflow::mpi {
class Communicator;
}

namespace aeflow::io::h5 {

// A failed HDF5 call while reading or writing. The message names the file and the object and
// carries HDF5's own innermost reason ("No such file or directory", "object 'x' doesn't exist").
class Hdf5Error : public RunError {
 public:
  explicit Hdf5Error(const std::string& message) : RunError(message) {}
};

using Hid = int64_t;  // hid_t

// Owns one HDF5 identifier of any kind and closes it with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(Hid id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  Hid get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();                         // closes, ignoring errors (destructors, unwinding)
  void close(const std::string& what);  // closes, throwing Hdf5Error(WHAT) on failure

 private:
  Hid id_ = -1;
};

// Element types aeflow stores. kOther covers anything else a foreign file may hold.
enum class DType {
  kFloat32,
  kFloat64,
  kInt8,
  kInt32,
  kInt64,
  kUint8,
  kUint32,
  kUint64,
  kString,
  kOther
};
std::string to_string(DType dtype);                          // "float32", ..., "string", "other"
std::string format_shape(const std::vector<size_t>& shape);  // "[60000,784]"

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kFloat64;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DType::kInt8;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::kInt64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::kUint8;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DType::kUint32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DType::kUint64;
  else
    static_assert(!sizeof(T), "aeflow::io::h5: unsupported element type");
}

// Layout of a new dataset. An empty chunk means contiguous storage; compression needs chunks.
struct DatasetOptions {
  std::vector<size_t> chunk;  // one extent per dimension, each >= 1
  int deflate = 0;            // gzip level 1..9, 0 for none
  bool shuffle = false;       // byte shuffle before deflate (helps float data)
};

struct DatasetInfo {
  DType dtype = DType::kOther;
  size_t element_size = 0;           // bytes, as stored
  std::vector<size_t> shape;         // empty for a scalar
  std::vector<size_t> chunk;         // empty when not chunked
  std::vector<std::string> filters;  // e.g. "shuffle", "deflate(4)"
  uint64_t storage_bytes = 0;        // on disk, after compression
  size_t size() const;               // number of elements
};

struct AttributeInfo {
  DType dtype = DType::kOther;
  std::vector<size_t> shape;  // empty for a scalar
};

enum class ObjectKind { kGroup, kDataset, kOther, kMissing };

// What Group, Dataset and File share: an identifier, where it lives, and attributes.
// Attribute writers replace an attribute of the same name.
class Object {
 public:
  const std::string& file_name() const { return file_; }
  const std::string& path() const { return path_; }  // "/model/layer_00"

  bool has_attribute(std::string_view name) const;
  std::vector<std::string> attribute_names() const;  // in creation order
  AttributeInfo attribute_info(std::string_view name) const;

  // Strings are variable-length UTF-8, so h5py reads them as str.
  void set_string_attribute(std::string_view name, std::string_view value);
  void set_int_attribute(std::string_view name, int64_t value);
  void set_uint_attribute(std::string_view name, uint64_t value);
  void set_double_attribute(std::string_view name, double value);
  void set_int_vector_attribute(std::string_view name, const std::vector<int64_t>& values);
  void set_double_vector_attribute(std::string_view name, const std::vector<double>& values);

  // Readers convert between numeric types as HDF5 does and throw Hdf5Error when the attribute
  // is missing, of another kind (a string read as a number), or not a scalar where one is read.
  std::string string_attribute(std::string_view name) const;  // fixed or variable length
  int64_t int_attribute(std::string_view name) const;         // any integer type
  uint64_t uint_attribute(std::string_view name) const;       // any integer type, >= 0
  double double_attribute(std::string_view name) const;       // any numeric type
  std::vector<int64_t> int_vector_attribute(std::string_view name) const;    // any shape, flat
  std::vector<double> double_vector_attribute(std::string_view name) const;  // any shape, flat

  Hid id() const { return handle_.get(); }

 protected:
  Object() = default;
  Object(Handle handle, std::string file, std::string path, bool parallel)
      : handle_(std::move(handle)),
        file_(std::move(file)),
        path_(std::move(path)),
        parallel_(parallel) {}
  [[noreturn]] void fail(const std::string& what, std::string_view child = {}) const;
  std::string child_path(std::string_view name) const;

  Handle handle_;
  std::string file_;
  std::string path_;
  bool parallel_ = false;  // in a file opened with MPI-IO: row transfers are collective
};

class Dataset : public Object {
 public:
  DatasetInfo info() const;
  // The number of elements, checked against what the file stores: more bytes than deflate could
  // expand the stored ones to is a damaged file (a shape of 2^40 elements with nothing stored
  // reads as fill values), refused before memory is sized by it.
  size_t stored_size() const;

  // The whole dataset, converted to T by HDF5; throws for strings and other non-numbers.
  // Throws for a dataset larger than its file could hold (stored_size()).
  template <class T>
  std::vector<T> read() const {
    std::vector<T> values(stored_size());
    read_raw(dtype_of<T>(), values.data(), values.size());
    return values;
  }
  // The whole dataset; DATA holds exactly as many elements as its shape.
  template <class T>
  void write(std::span<const T> data) {
    write_raw(dtype_of<T>(), data.data(), data.size());
  }

  // Rows [first, first + count) of the first dimension, all of every other dimension: DATA holds
  // count times the product of the other extents. On a file created or opened on a Communicator
  // these are collective: every rank calls them together, each with its own rows (a rank with none
  // passes count 0), and the transfer is collective MPI-IO, which compressed datasets need.
  template <class T>
  void write_rows(size_t first, size_t count, std::span<const T> data) {
    write_rows_raw(dtype_of<T>(), first, count, data.data(), data.size());
  }
  template <class T>
  void read_rows(size_t first, size_t count, std::span<T> data) const {
    read_rows_raw(dtype_of<T>(), first, count, data.data(), data.size());
  }
  // The whole dataset of strings (fixed or variable length), flat; throws for numbers.
  std::vector<std::string> read_strings() const;

 private:
  friend class Group;
  using Object::Object;
  void read_raw(DType dtype, void* data, size_t count) const;
  void write_raw(DType dtype, const void* data, size_t count);
  void write_rows_raw(DType dtype, size_t first, size_t count, const void* data, size_t size);
  void read_rows_raw(DType dtype, size_t first, size_t count, void* data, size_t size) const;
};

class Group : public Object {
 public:
  // Paths may be nested ("model/layer_00"); create_group creates missing parents. New groups
  // track creation order, so children() lists them as they were written.
  Group create_group(std::string_view path);
  Group open_group(std::string_view path) const;
  bool exists(std::string_view path) const;  // every component of a nested path
  ObjectKind kind(std::string_view path) const;
  std::vector<std::string> children() const;  // creation order where tracked, else by name

  // A new dataset of SHAPE (empty: a scalar) holding DATA (row-major, exactly its size).
  template <class T>
  Dataset write_dataset(std::string_view name, std::span<const T> data,
                        const std::vector<size_t>& shape, const DatasetOptions& options = {}) {
    Dataset dataset = create_dataset(name, dtype_of<T>(), shape, options);
    dataset.write(data);
    return dataset;
  }
  template <class T>
  Dataset write_dataset(std::string_view name, const std::vector<T>& data,
                        const std::vector<size_t>& shape, const DatasetOptions& options = {}) {
    return write_dataset(name, std::span<const T>(data), shape, options);
  }
  // A 1-D dataset of DATA.size() elements.
  template <class T>
  Dataset write_dataset(std::string_view name, const std::vector<T>& data) {
    return write_dataset(name, std::span<const T>(data), {data.size()});
  }

  // A 1-D dataset of variable-length UTF-8 strings (h5py reads them as str).
  Dataset write_strings(std::string_view name, const std::vector<std::string>& values);
  // A new dataset left unwritten (HDF5 fills it with zeros when read).
  Dataset create_dataset(std::string_view name, DType dtype, const std::vector<size_t>& shape,
                         const DatasetOptions& options = {});
  Dataset open_dataset(std::string_view path) const;
  // The same with a chunk cache of CACHE_BYTES for this dataset (HDF5's default is 1 MiB): reads
  // of rows that do not line up with the chunks of a compressed dataset then decompress each
  // chunk once, if the cache holds a chunk or two.
  Dataset open_dataset(std::string_view path, size_t cache_bytes) const;

  // Shorthand for open_dataset(PATH).read<T>(), optionally returning the shape.
  template <class T>
  std::vector<T> read_dataset(std::string_view path, std::vector<size_t>* shape = nullptr) const {
    Dataset dataset = open_dataset(path);
    if (shape) *shape = dataset.info().shape;
    return dataset.read<T>();
  }

 protected:
  friend class File;
  using Object::Object;
};

enum class CreateMode {
  kExclusive,  // fail if the file exists
  kTruncate,   // replace it
};

enum class Access { kReadOnly, kReadWrite };

// A file is its root group "/" too: attributes set on it are the root group's.
class File : public Group {
 public:
  // Throws Hdf5Error when the file cannot be created (missing directory, permissions).
  static File create(const std::string& path, CreateMode mode);
  // Throws InputError "PATH: no such file" or "PATH: not an HDF5 file" for the two mistakes a
  // user makes, Hdf5Error for anything else.
  static File open(const std::string& path, Access access = Access::kReadOnly);

  // The same on every rank of COMM at once, with MPI-IO (parallel HDF5). Every call that
  // changes the file's structure or attributes (create_group, create_dataset, set_*_attribute)
  // and close() must then be made by every rank with the same arguments; data goes through
  // Dataset::write_rows, collectively. Without MPI (Communicator's world of one) these are the
  // calls above. Compressed datasets can be written this way (HDF5 >= 1.10.2).
  static File create(const std::string& path, CreateMode mode, const mpi::Communicator& comm);
  static File open(const std::string& path, Access access, const mpi::Communicator& comm);

  // True for a file opened with MPI-IO.
  bool parallel() const { return parallel_; }

  // Flushes and closes, throwing Hdf5Error if HDF5 cannot (disk full shows up here). Objects
  // still open from this file keep it open until they close; close them first (a parallel
  // file refuses to close while any are open). The destructor closes without throwing.
  void close();
  void flush();

 private:
  using Group::Group;
};

// HDF5's library version, "1.10.8".
std::string library_version();

// True if PATH is an HDF5 file (its signature), false for any other file; InputError if PATH
// does not exist.
bool is_hdf5_file(const std::string& path);

}  // namespace aeflow::io::h5
