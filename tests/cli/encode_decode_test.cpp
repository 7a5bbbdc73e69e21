// `aeflow encode`, `aeflow decode` and `aeflow ingest` end to end, one process each: h5py reads
// the encoded file back with the source's labels and row indices; ingested (gzip) input encodes
// like the IDX files; decode walks a grid and a circle and decodes an encoded file's points;
// and the refusals (exit 2): a model of another input width, an existing output, a malformed
// walk.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aeflow/eval/load_model.hpp"
#include "aeflow/io/hdf5.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using test::run_command;

class EncodeDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("encode");
    data_ = test::write_synthetic_mnist(root_ + "/data", 600, 200);
    test::write_initialized_checkpoint(checkpoint(), {784, 32, 3}, 7);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }

  std::string checkpoint() const { return root_ + "/model.h5"; }
  std::string out(const std::string& name) const { return root_ + "/" + name; }
  test::CommandResult aeflow(const std::string& args) const {
    return run_command(test::aeflow_binary() + " " + args);
  }
  test::CommandResult encode(const std::string& args) const {
    return aeflow("encode --checkpoint " + checkpoint() + " " + args);
  }
  test::CommandResult decode(const std::string& args) const {
    return aeflow("decode --checkpoint " + checkpoint() + " " + args);
  }
  // Runs a Python script with Debian's h5py; its output must end with "ok".
  test::CommandResult python(const std::string& script) const {
    const std::string path = out("check.py");
    std::ofstream(path) << script;
    return run_command(std::string(AEFLOW_PYTHON) + " " + path);
  }

  std::string root_, data_;
};

TEST_F(EncodeDecodeTest, H5pyReadsTheEncodedFileWithTheSourceLabelsAndIndices) {
  const test::CommandResult result =
      encode("--threads 1 --data " + data_ + " --out " + out("e.h5"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // Its first line says the threads it took (the same rule as train's).
  EXPECT_EQ(result.output.rfind("threads: --threads 1: 1 thread\n", 0), 0u) << result.output;
  EXPECT_CONTAINS(result.output, "encoded train: 600 images");
  EXPECT_CONTAINS(result.output, "encoded test: 200 images");
  EXPECT_FALSE(fs::exists(out("e.h5.tmp")));
  const test::CommandResult check = python(R"(
import hashlib, struct, sys
import h5py, numpy as np
data, ckpt = sys.argv[0].rsplit('/', 1)[0] + '/data', sys.argv[0].rsplit('/', 1)[0] + '/model.h5'
def md5(path): return hashlib.md5(open(path, 'rb').read()).hexdigest()
def idx(path):
    raw = open(path, 'rb').read()
    rank = raw[3]
    dims = struct.unpack('>' + 'I' * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw[4 + 4 * rank:], np.uint8).reshape(dims)
with h5py.File(sys.argv[0].rsplit('/', 1)[0] + '/e.h5', 'r') as f:
    assert f.attrs['format'] == 'aeflow-encoded', f.attrs['format']
    assert f.attrs['format_version'] == 1
    assert list(f.attrs['encoder']) == [784, 32, 3]
    assert f.attrs['checkpoint_md5'] == md5(ckpt)
    for split, prefix, n in (('train', 'train', 600), ('test', 't10k', 200)):
        g = f[split]
        assert g['latent'].shape == (n, 3) and g['latent'].dtype == np.float32, g['latent']
        assert g['label'].dtype == np.uint8 and g['index'].dtype == np.uint64
        labels = idx(data + '/' + prefix + '-labels-idx1-ubyte')
        assert (g['label'][...] == labels).all()
        assert (g['index'][...] == np.arange(n)).all()
        assert g.attrs['images_md5'] == md5(data + '/' + prefix + '-images-idx3-ubyte')
        assert g.attrs['labels_md5'] == md5(data + '/' + prefix + '-labels-idx1-ubyte')
        assert np.isfinite(g['latent'][...]).all()
print('ok')
)");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_CONTAINS(check.output, "ok");
}

TEST_F(EncodeDecodeTest, EncodeRefusesAModelOfAnotherInputWidth) {
  test::write_initialized_checkpoint(out("narrow.h5"), {100, 8, 2});
  const test::CommandResult result = aeflow("encode --checkpoint " + out("narrow.h5") + " --data " +
                                            data_ + " --out " + out("e.h5"));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_CONTAINS(result.output, "the model's input is 100 values wide");
  EXPECT_CONTAINS(result.output, "28x28 = 784 pixels");
  EXPECT_FALSE(fs::exists(out("e.h5")));
  EXPECT_FALSE(fs::exists(out("e.h5.tmp")));
}

TEST_F(EncodeDecodeTest, EncodeRefusesAnExistingOutputUnlessForced) {
  std::ofstream(out("e.h5")) << "precious";
  test::CommandResult result = encode("--data " + data_ + " --out " + out("e.h5"));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_CONTAINS(result.output, "exists; pass --force to overwrite");
  EXPECT_EQ(test::read_file(out("e.h5")).size(), 8u);
  result = encode("--data " + data_ + " --out " + out("e.h5") + " --force --splits test");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const io::h5::File file = io::h5::File::open(out("e.h5"));
  EXPECT_EQ(file.children(), (std::vector<std::string>{"test"}));
}

TEST_F(EncodeDecodeTest, EncodeRefusesAnUnknownSplit) {
  const test::CommandResult result =
      encode("--data " + data_ + " --out " + out("e.h5") + " --splits train,validation");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_CONTAINS(result.output, "--splits 'validation'");
}

TEST_F(EncodeDecodeTest, IngestedGzipFileEncodesLikeTheIdxFiles) {
  // A gzip copy of the test split, streamed by ingest in chunks of 64 images.
  const std::string gz = out("gz");
  fs::create_directories(gz);
  for (const char* name : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    test::write_file(gz + "/" + name + ".gz", test::read_file(data_ + "/" + name), true);
  test::CommandResult result =
      aeflow("ingest --images " + gz + "/t10k-images-idx3-ubyte.gz --labels " + gz +
             "/t10k-labels-idx1-ubyte.gz --out " + out("test.h5") + " --chunk 64 --deflate 1");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_CONTAINS(result.output, "ingested 200 images of 28x28 with labels");
  {
    const io::h5::File file = io::h5::File::open(out("test.h5"));
    EXPECT_EQ(file.string_attribute("format"), "aeflow-images");
    const io::h5::DatasetInfo info = file.open_dataset("images").info();
    EXPECT_EQ(info.shape, (std::vector<size_t>{200, 28, 28}));
    EXPECT_EQ(info.chunk, (std::vector<size_t>{64, 28, 28}));
    const std::vector<uint8_t> idx = test::read_file(data_ + "/t10k-images-idx3-ubyte");
    EXPECT_EQ(file.read_dataset<uint8_t>("images"),
              std::vector<uint8_t>(idx.begin() + 16, idx.end()));
  }
  result = encode("--data " + data_ + " --splits test --out " + out("idx.h5"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  result = encode("--data " + out("test.h5") + " --splits test --out " + out("h5.h5"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const io::h5::File a = io::h5::File::open(out("idx.h5")), b = io::h5::File::open(out("h5.h5"));
  const std::vector<float> la = a.read_dataset<float>("test/latent");
  const std::vector<float> lb = b.read_dataset<float>("test/latent");
  ASSERT_EQ(la.size(), lb.size());
  EXPECT_EQ(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)), 0);
  EXPECT_EQ(a.read_dataset<uint8_t>("test/label"), b.read_dataset<uint8_t>("test/label"));

  // Ingest refuses to overwrite too.
  result = aeflow("ingest --images " + gz + "/t10k-images-idx3-ubyte.gz --out " + out("test.h5"));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_CONTAINS(result.output, "exists; pass --force");
}

TEST_F(EncodeDecodeTest, DecodeGridWritesOneImagePerGridPoint) {
  const test::CommandResult result =
      decode("--grid=-1:1:5,0:2:3 --fixed 0.5 --threads 1 --out " + out("grid.h5"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.rfind("threads: --threads 1: 1 thread\n", 0), 0u) << result.output;
  const io::h5::File file = io::h5::File::open(out("grid.h5"));
  EXPECT_EQ(file.string_attribute("format"), "aeflow-decoded");
  EXPECT_EQ(file.int_vector_attribute("grid_shape"), (std::vector<int64_t>{3, 5}));
  std::vector<size_t> shape;
  const std::vector<float> points = file.read_dataset<float>("points", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{15, 3}));
  // Point iy * nx + ix: x walks fastest.
  EXPECT_EQ(std::vector<float>(points.begin(), points.begin() + 3),
            (std::vector<float>{-1.0f, 0.0f, 0.5f}));
  EXPECT_EQ(std::vector<float>(points.begin() + 7 * 3, points.begin() + 8 * 3),
            (std::vector<float>{0.0f, 1.0f, 0.5f}));
  EXPECT_EQ(std::vector<float>(points.end() - 3, points.end()),
            (std::vector<float>{1.0f, 2.0f, 0.5f}));
  const std::vector<float> images = file.read_dataset<float>("images", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{15, 28, 28}));
  // What the decoder gives for those points (sigmoid output: in [0, 1]).
  eval::LoadedModel model = eval::load_model(checkpoint());
  std::vector<float> expected(images.size());
  model.network->decode(points.data(), 15, expected.data());
  double worst = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    worst = std::max(worst, double(std::fabs(images[i] - expected[i])));
    ASSERT_TRUE(images[i] >= 0.0f && images[i] <= 1.0f) << images[i];
  }
  EXPECT_LT(worst, 1e-6);
}

TEST_F(EncodeDecodeTest, DecodeCircleWalksAroundTheOrigin) {
  const test::CommandResult result = decode("--circle 2:8 --out " + out("circle.h5"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_CONTAINS(result.output, "decoded 8 points");
  const io::h5::File file = io::h5::File::open(out("circle.h5"));
  std::vector<size_t> shape;
  const std::vector<float> points = file.read_dataset<float>("points", &shape);
  ASSERT_EQ(shape, (std::vector<size_t>{8, 3}));
  EXPECT_NEAR(points[0], 2.0f, 1e-6);          // angle 0
  EXPECT_NEAR(points[2 * 3 + 1], 2.0f, 1e-6);  // angle pi / 2
  EXPECT_NEAR(points[2 * 3], 0.0f, 1e-6);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(points[i * 3 + 2], 0.0f);  // --fixed defaults to 0
  file.read_dataset<float>("images", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{8, 28, 28}));
  EXPECT_EQ(file.double_vector_attribute("fixed"), (std::vector<double>{0.0}));
}

TEST_F(EncodeDecodeTest, DecodeReadsTheTestLatentsOfAnEncodedFile) {
  ASSERT_EQ(encode("--data " + data_ + " --out " + out("e.h5")).exit_code, 0);
  const test::CommandResult result = decode("--points " + out("e.h5") + " --out " + out("d.h5"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const io::h5::File decoded = io::h5::File::open(out("d.h5"));
  const io::h5::File encoded = io::h5::File::open(out("e.h5"));
  std::vector<size_t> shape;
  EXPECT_EQ(decoded.read_dataset<float>("points", &shape),
            encoded.read_dataset<float>("test/latent"));
  EXPECT_EQ(shape, (std::vector<size_t>{200, 3}));
  decoded.read_dataset<float>("images", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{200, 28, 28}));
  EXPECT_EQ(decoded.string_attribute("points_dataset"), "/test/latent");
}

// A model whose decoder does not mirror its encoder (784-32-3, then 3-16-8-784): decode makes
// the decoder's images from encode's codes (and records its widths), eval measures it.
TEST_F(EncodeDecodeTest, AnAsymmetricModelEncodesDecodesAndEvaluates) {
  const std::string model = out("asymmetric.h5");
  test::write_initialized_checkpoint(model, {784, 32, 3}, 7, std::vector<int>{16, 8});
  ASSERT_EQ(aeflow("encode --checkpoint " + model + " --data " + data_ + " --out " + out("e.h5"))
                .exit_code,
            0);
  const test::CommandResult decoded =
      aeflow("decode --checkpoint " + model + " --points " + out("e.h5") + " --out " + out("d.h5"));
  ASSERT_EQ(decoded.exit_code, 0) << decoded.output;
  const test::CommandResult evaluated = aeflow("eval --checkpoint " + model + " --data " + data_ +
                                               " --validation 100 --out " + out("metrics.h5"));
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_CONTAINS(evaluated.output, "784-32-3-16-8-784 relu/linear/sigmoid");

  eval::LoadedModel loaded = eval::load_model(model);
  ASSERT_EQ(loaded.network->spec().decoder_widths(), (std::vector<int>{3, 16, 8, 784}));
  const io::h5::File file = io::h5::File::open(out("d.h5"));
  EXPECT_EQ(file.int_vector_attribute("decoder"), (std::vector<int64_t>{3, 16, 8, 784}));
  EXPECT_EQ(file.int_vector_attribute("encoder"), (std::vector<int64_t>{784, 32, 3}));
  std::vector<size_t> shape;
  const std::vector<float> points = file.read_dataset<float>("points", &shape);
  ASSERT_EQ(shape, (std::vector<size_t>{200, 3}));
  EXPECT_EQ(points, io::h5::File::open(out("e.h5")).read_dataset<float>("test/latent"));
  std::vector<float> images(200 * 784);
  loaded.network->decode(points.data(), 200, images.data());
  const std::vector<float> written = file.read_dataset<float>("images", &shape);
  ASSERT_EQ(written.size(), images.size());
  double worst = 0;
  for (size_t i = 0; i < images.size(); ++i)
    worst = std::max(worst, double(std::fabs(written[i] - images[i])));
  EXPECT_LT(worst, 1e-6);
}

TEST_F(EncodeDecodeTest, DecodeRefusesMalformedWalksAndPoints) {
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases{
      {"--grid 0:1:3 --circle 1:4", "exactly one of --points"},
      {"", "exactly one of --points"},
      {"--grid 0:1", "expected x0:x1:nx"},
      {"--grid 0:1:0", "not a count of points"},
      {"--grid 0:x:3", "'x' is not a number"},
      {"--grid 0:1:3,0:1:3 --fixed 1,2", "--fixed gives 2 values"},
      {"--circle 1:4 --fixed 1,2,3", "--fixed gives 3 values"},
      {"--points " + std::string("/nonexistent.h5"), "no such file"},
      {"--points MODEL --dataset /model/layer_00/bias", "expected points [n, 3]"},
  };
  for (Case c : cases) {
    if (const size_t at = c.args.find("MODEL"); at != std::string::npos)
      c.args.replace(at, 5, checkpoint());
    const test::CommandResult result = decode(c.args + " --out " + out("d.h5"));
    EXPECT_EQ(result.exit_code, 2) << c.args << ": " << result.output;
    EXPECT_CONTAINS(result.output, c.message);
  }
  EXPECT_FALSE(fs::exists(out("d.h5")));
}

}  // namespace
}  // namespace aeflow
