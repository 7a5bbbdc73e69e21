// The RAII HDF5 layer: datasets of every element type and shape, chunking and compression,
// attributes, creation order, nested paths, and errors that name the file and the object.
#include "aeflow/io/hdf5.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "test_support.hpp"

namespace aeflow::io::h5 {
namespace {

// Strings: variable-length UTF-8 (what h5py reads as str), empty ones and newlines kept; a
// dataset of numbers is not read as strings, nor strings as numbers.
TEST(Hdf5Test, StringDatasetsRoundTrip) {
  const std::string path = test::make_temp_dir("hdf5") + "/strings.h5";
  const std::vector<std::string> values{"k=10,lr=0.003", "", "two\nlines", "\xc3\xa9t\xc3\xa9"};
  {
    File file = File::create(path, CreateMode::kExclusive);
    file.write_strings("s", values);
    file.write_strings("none", {});
    file.write_dataset("numbers", std::vector<double>{1, 2});
    file.close();
  }
  const File file = File::open(path);
  EXPECT_EQ(file.open_dataset("s").read_strings(), values);
  EXPECT_EQ(file.open_dataset("s").info().dtype, DType::kString);
  EXPECT_TRUE(file.open_dataset("none").read_strings().empty());
  EXPECT_THROW(file.open_dataset("numbers").read_strings(), Hdf5Error);
  EXPECT_THROW(file.read_dataset<double>("s"), Hdf5Error);
}

TEST(Hdf5Test, DatasetsOfEveryTypeRoundTrip) {
  const std::string path = test::make_temp_dir("hdf5") + "/types.h5";
  const std::vector<float> f{1.5f, -0.0f, std::numeric_limits<float>::denorm_min(), 3e38f, 7, 8};
  const std::vector<double> d{1e-300, -2.5, std::numeric_limits<double>::infinity()};
  const std::vector<int64_t> i{INT64_MIN, -1, 0, INT64_MAX};
  const std::vector<uint8_t> u8{0, 1, 255};
  const std::vector<uint32_t> u32{0, 7, UINT32_MAX};
  {
    File file = File::create(path, CreateMode::kExclusive);
    file.write_dataset<float>("f", f, {2, 1, 3});
    file.write_dataset("d", d);
    file.write_dataset("i", i);
    file.write_dataset("u8", u8);
    file.write_dataset("u32", u32);
    file.close();
  }
  const File file = File::open(path);
  std::vector<size_t> shape;
  EXPECT_EQ(file.read_dataset<float>("f", &shape), f);
  EXPECT_EQ(shape, (std::vector<size_t>{2, 1, 3}));
  EXPECT_EQ(file.read_dataset<double>("d"), d);
  EXPECT_EQ(file.read_dataset<int64_t>("i"), i);
  EXPECT_EQ(file.read_dataset<uint8_t>("u8"), u8);
  EXPECT_EQ(file.read_dataset<uint32_t>("u32"), u32);
  EXPECT_EQ(file.open_dataset("f").info().dtype, DType::kFloat32);
  EXPECT_EQ(file.open_dataset("u32").info().dtype, DType::kUint32);
  EXPECT_TRUE(file.open_dataset("d").info().chunk.empty());
  // HDF5 converts on read, as h5py does.
  EXPECT_EQ(file.read_dataset<double>("u8"), (std::vector<double>{0, 1, 255}));
}

TEST(Hdf5Test, ChunkedCompressedDatasetReportsItsLayout) {
  const std::string path = test::make_temp_dir("hdf5") + "/chunked.h5";
  std::vector<float> values(1000 * 16);
  for (size_t k = 0; k < values.size(); ++k) values[k] = float(k % 16);
  {
    File file = File::create(path, CreateMode::kExclusive);
    file.write_dataset<float>("latent", values, {1000, 16}, {{256, 16}, 4, true});
    file.write_dataset<float>("empty", std::vector<float>{}, {0, 16}, {{256, 16}, 4, false});
  }
  const File file = File::open(path);
  const DatasetInfo info = file.open_dataset("latent").info();
  EXPECT_EQ(info.shape, (std::vector<size_t>{1000, 16}));
  EXPECT_EQ(info.chunk, (std::vector<size_t>{256, 16}));
  EXPECT_EQ(info.filters, (std::vector<std::string>{"shuffle", "deflate(4)"}));
  EXPECT_LT(info.storage_bytes, values.size() * sizeof(float) / 4);
  EXPECT_EQ(file.read_dataset<float>("latent"), values);
  std::vector<size_t> shape;
  EXPECT_TRUE(file.read_dataset<float>("empty", &shape).empty());
  EXPECT_EQ(shape, (std::vector<size_t>{0, 16}));
}

// A damaged file can claim a dataset of 2^40 elements and store none of them (HDF5 reads them as
// fill values): refused before memory is sized by it, while deflated zeros (a ratio of hundreds)
// still read.
TEST(Hdf5Test, ADatasetLargerThanItsStorageCouldHoldIsRefusedBeforeReading) {
  const std::string path = test::make_temp_dir("hdf5") + "/claims.h5";
  const std::vector<float> zeros(1 << 18, 0.0f);
  {
    File file = File::create(path, CreateMode::kExclusive);
    file.create_dataset("huge", DType::kFloat32, {size_t(1) << 20, size_t(1) << 20},
                        {{1, 1024}, 0, false});
    file.write_dataset<float>("zeros", zeros, {zeros.size()}, {{zeros.size()}, 9, false});
  }
  const File file = File::open(path);
  EXPECT_EQ(file.read_dataset<float>("zeros"), zeros);
  test::expect_error<Hdf5Error>(
      [&] { file.read_dataset<float>("huge"); },
      {path, "huge", "[1048576,1048576]", "of which the file stores 0 bytes", "damaged file"});
}

TEST(Hdf5Test, AttributesRoundTripAndReplace) {
  const std::string path = test::make_temp_dir("hdf5") + "/attrs.h5";
  {
    File file = File::create(path, CreateMode::kExclusive);
    Group group = file.create_group("g");
    group.set_string_attribute("text", "grüße\nline two");
    group.set_string_attribute("empty", "");
    group.set_int_attribute("int", -42);
    group.set_uint_attribute("seed", UINT64_MAX);
    group.set_double_attribute("inf", std::numeric_limits<double>::infinity());
    group.set_int_vector_attribute("widths", {784, 128, 10});
    group.set_int_vector_attribute("none", {});
    group.set_double_vector_attribute("doubles", {0.5, 0.25});
    group.set_int_attribute("int", 7);  // replaces
  }
  const File file = File::open(path);
  const Group group = file.open_group("g");
  EXPECT_EQ(group.string_attribute("text"), "grüße\nline two");
  EXPECT_EQ(group.string_attribute("empty"), "");
  EXPECT_EQ(group.int_attribute("int"), 7);
  EXPECT_EQ(group.uint_attribute("seed"), UINT64_MAX);
  EXPECT_THROW(group.int_attribute("seed"), Hdf5Error);  // too large for int64
  EXPECT_EQ(group.double_attribute("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(group.double_attribute("int"), 7.0);
  EXPECT_EQ(group.int_vector_attribute("widths"), (std::vector<int64_t>{784, 128, 10}));
  EXPECT_TRUE(group.int_vector_attribute("none").empty());
  EXPECT_EQ(group.double_vector_attribute("doubles"), (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(group.attribute_info("widths").shape, (std::vector<size_t>{3}));
  EXPECT_TRUE(group.attribute_info("int").shape.empty());
  EXPECT_EQ(group.attribute_names(),
            (std::vector<std::string>{"text", "empty", "seed", "inf", "widths", "none", "doubles",
                                      "int"}));
  EXPECT_THROW(group.int_attribute("text"), Hdf5Error);    // a string is not a number
  EXPECT_THROW(group.int_attribute("inf"), Hdf5Error);     // a float is not an integer
  EXPECT_THROW(group.int_attribute("widths"), Hdf5Error);  // not a scalar
  EXPECT_THROW(group.string_attribute("int"), Hdf5Error);
  EXPECT_FALSE(group.has_attribute("missing"));
}

TEST(Hdf5Test, ChildrenAreListedInCreationOrder) {
  const std::string path = test::make_temp_dir("hdf5") + "/order.h5";
  File file = File::create(path, CreateMode::kExclusive);
  for (const char* name : {"zeta", "alpha", "mid"}) file.create_group(name);
  file.write_dataset("beta", std::vector<int64_t>{1});
  EXPECT_EQ(file.children(), (std::vector<std::string>{"zeta", "alpha", "mid", "beta"}));
  file.close();
  EXPECT_EQ(File::open(path).children(),
            (std::vector<std::string>{"zeta", "alpha", "mid", "beta"}));
}

TEST(Hdf5Test, NestedPathsCreateParentsAndAreFound) {
  const std::string path = test::make_temp_dir("hdf5") + "/nested.h5";
  File file = File::create(path, CreateMode::kExclusive);
  Group layer = file.create_group("model/layer_00");
  EXPECT_EQ(layer.path(), "/model/layer_00");
  layer.write_dataset("bias", std::vector<float>{1, 2});
  file.write_dataset("optimizer/layer_00/m", std::vector<float>{3});
  EXPECT_TRUE(file.exists("model/layer_00/bias"));
  EXPECT_TRUE(file.exists("/optimizer/layer_00/m"));
  EXPECT_FALSE(file.exists("model/layer_01/bias"));  // a missing parent is no error
  EXPECT_EQ(file.kind("model"), ObjectKind::kGroup);
  EXPECT_EQ(file.kind("model/layer_00/bias"), ObjectKind::kDataset);
  EXPECT_EQ(file.kind("nothing"), ObjectKind::kMissing);
  EXPECT_EQ(file.open_group("model").children(), (std::vector<std::string>{"layer_00"}));
  EXPECT_EQ(file.read_dataset<float>("optimizer/layer_00/m"), (std::vector<float>{3}));
  EXPECT_THROW(file.create_group("model/layer_00"), Hdf5Error);  // exists
}

TEST(Hdf5Test, ErrorsNameTheFileAndTheObject) {
  const std::string path = test::make_temp_dir("hdf5") + "/errors.h5";
  File file = File::create(path, CreateMode::kExclusive);
  file.create_group("model");
  try {
    file.open_dataset("model/missing");
    FAIL() << "expected Hdf5Error";
  } catch (const Hdf5Error& error) {
    EXPECT_NE(std::string(error.what()).find(path + ": /model/missing"), std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("doesn't exist"), std::string::npos) << error.what();
  }
  EXPECT_THROW(file.write_dataset<float>("bad", std::vector<float>{1, 2, 3}, {2, 2}), Hdf5Error);
  EXPECT_THROW(file.create_dataset("packed", DType::kFloat32, {4}, {{}, 4, false}), Hdf5Error);
  EXPECT_THROW(File::create(path, CreateMode::kExclusive), Hdf5Error);
  try {
    File::create(path + ".d/no/such/dir.h5", CreateMode::kTruncate);
    FAIL() << "expected Hdf5Error";
  } catch (const Hdf5Error& error) {
    EXPECT_NE(std::string(error.what()).find("No such file or directory"), std::string::npos)
        << error.what();
  }
}

TEST(Hdf5Test, OpeningMissingOrNonHdf5FilesIsInputError) {
  const std::string dir = test::make_temp_dir("hdf5");
  test::write_file(dir + "/text.h5", {'h', 'i', '\n'});
  try {
    File::open(dir + "/text.h5");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), dir + "/text.h5: not an HDF5 file");
  }
  try {
    File::open(dir + "/missing.h5");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), dir + "/missing.h5: no such file");
  }
}

// A file cut short keeps HDF5's signature but will not open: bad input (exit 2), in words.
TEST(Hdf5Test, OpeningAFileCutShortIsInputError) {
  const std::string path = test::make_temp_dir("hdf5") + "/cut.h5";
  {
    File file = File::create(path, CreateMode::kTruncate);
    file.create_dataset("values", DType::kFloat32, {4096}, {});
    file.close();
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    File::open(path);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(path + ": an HDF5 file that cannot be opened"),
              std::string::npos)
        << error.what();
  }
}

TEST(Hdf5Test, ReadWriteOpenModifiesAnExistingFile) {
  const std::string path = test::make_temp_dir("hdf5") + "/rw.h5";
  File::create(path, CreateMode::kExclusive).set_int_attribute("n", 1);
  {
    File file = File::open(path, Access::kReadWrite);
    file.set_int_attribute("n", 2);
    file.close();
  }
  EXPECT_EQ(File::open(path).int_attribute("n"), 2);
  EXPECT_THROW(File::open(path).set_int_attribute("n", 3), Hdf5Error);  // read-only
}

}  // namespace
}  // namespace aeflow::io::h5
