// Reads IDX files, raw or gzip-compressed, in large chunks straight into the result buffer, and
// checks everything the header claims. Error messages say which file, what was expected and what
// was found, since a wrong or half-downloaded data file is the most common first-run problem.
#include "aeflow/data/idx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "aeflow/base/error.hpp"

namespace aeflow::data {
namespace {

constexpr size_t kChunk = size_t(1) << 24;  // bytes per read call
// Capacity reserved up front is capped, so a damaged header cannot ask for terabytes; the
// buffer still grows to whatever the file really holds.
constexpr uint64_t kMaxReserve = uint64_t(1) << 30;
// Deflate's best ratio (a 258-byte match in about two bits; zlib's technical details): no gzip
// file decompresses to more than this many times its own size, so a header claiming more is
// refused before a buffer of its rows is sized by it.
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string hex32(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

std::string dims_text(const std::vector<uint32_t>& dims) {
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += 'x';
    text += std::to_string(dims[i]);
  }
  return text;
}

std::string rank_text(int rank) {
  return std::to_string(rank) + (rank == 1 ? " dim" : " dims");
}

std::string expected_text(int rank) {
  const std::string kind = rank == 3 ? "images, " : rank == 1 ? "labels, " : "";
  return "expected magic " + hex32(0x0800u | uint32_t(rank)) + " (unsigned byte " + kind +
         rank_text(rank) + ")";
}

std::string idx_type_name(uint8_t code) {
  switch (code) {
    case 0x09:
      return "signed bytes";
    case 0x0B:
      return "16-bit integers";
    case 0x0C:
      return "32-bit integers";
    case 0x0D:
      return "32-bit floats";
    case 0x0E:
      return "64-bit floats";
    default:
      return "unknown type " + hex32(code).substr(8);
  }
}

// What the first bytes of a file that is not the expected IDX look like, for the message.
std::string magic_hint(const uint8_t* b, size_t n, bool inside_gzip) {
  if (b[0] == 0x1f && b[1] == 0x8b)
    return inside_gzip ? " (gzip data inside the gzip file: was it compressed twice?)"
                       : " (is it still gzipped?)";
  if (b[0] == 0 && b[1] == 0) {
    if (b[2] != 0x08)
      return " (IDX of " + idx_type_name(b[2]) + "; only unsigned byte IDX, type 0x08, is read)";
    const std::string guess = b[3] == 1 ? ": a labels file?" : b[3] == 3 ? ": an images file?" : "";
    return " (unsigned byte IDX with " + rank_text(b[3]) + guess + ")";
  }
  if (b[0] == 'P' && b[1] == 'K') return " (a zip archive: unzip it first)";
  if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return " (bzip2 data: decompress it first)";
  if (b[0] == 0xFD && b[1] == '7' && b[2] == 'z') return " (xz data: decompress it first)";
  if (b[0] == '<') return " (an HTML or XML page, not IDX data: did a download go wrong?)";
  const bool text = std::all_of(b, b + n, [](uint8_t c) { return c >= 0x20 && c < 0x7f; });
  if (text) return " (text: \"" + std::string(b, b + n) + "...\")";
  return " (not an IDX file)";
}

struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};
struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};

// A file opened for reading: through zlib if it starts with the gzip magic, raw otherwise.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    file_.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (file_.fd < 0) fail(std::string("cannot open: ") + std::strerror(errno));
    struct stat info {};
    if (::fstat(file_.fd, &info) != 0) fail(std::string("cannot stat: ") + std::strerror(errno));
    if (S_ISDIR(info.st_mode)) fail("cannot open: it is a directory, not an IDX file");
    size_ = uint64_t(info.st_size);
    regular_ = S_ISREG(info.st_mode);
    uint8_t magic[2] = {0, 0};
    const ssize_t n = ::pread(file_.fd, magic, 2, 0);
    if (n < 0) fail(std::string("cannot read: ") + std::strerror(errno));
    if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      gz_.reset(gzdopen(file_.fd, "rb"));
      if (!gz_) fail("cannot start reading gzip data (out of memory?)");
      file_.fd = -1;  // gzclose closes it now
      gzbuffer(gz_.get(), 1 << 20);
    }
  }

  bool gzip() const { return gz_ != nullptr; }
  // What the data's size is to be compared with: the file, or what zlib decompresses.
  const char* what() const { return gzip() ? "decompressed data holds" : "file holds"; }
  // The most bytes the data can hold: a raw file's size, or what deflate could expand it to
  // (unknown for a pipe).
  uint64_t max_data_size() const {
    if (!regular_) return UINT64_MAX;
    return gzip() ? size_ * kMaxDeflateRatio : size_;
  }
  // A good guess at the payload size, for reserving memory.
  uint64_t size_hint() const { return regular_ ? std::min(max_data_size(), kMaxReserve) : 0; }

  // Reads up to N bytes into DST; fewer only at the end of the data.
  size_t read(uint8_t* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
      const size_t want = std::min(kChunk, n - done);
      long got;
      if (gz_) {
        // At the end, gzread returns 0 also when the stream stops early (Z_BUF_ERROR): only
        // gzerror tells that apart from a clean end.
        got = gzread(gz_.get(), dst + done, unsigned(want));
        if (got <= 0) check_gzip();
      } else {
        got = ::read(file_.fd, dst + done, want);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail(std::string("read error: ") + std::strerror(errno));
      }
      if (got == 0) break;
      done += size_t(got);
    }
    return done;
  }

  // Moves to byte OFFSET of the data. Raw files seek; gzip files are read forward (zlib
  // decompresses what it skips) and start over from the beginning to go back.
  void seek(uint64_t offset) {
    if (gz_) {
      if (gzseek(gz_.get(), z_off_t(offset), SEEK_SET) < 0) {
        check_gzip();
        fail("cannot seek to byte " + std::to_string(offset) + " of the decompressed data");
      }
    } else if (::lseek(file_.fd, off_t(offset), SEEK_SET) < 0) {
      fail(std::string("cannot seek: ") + std::strerror(errno));
    }
  }

  // The size of a raw file (the data size is not known up front for gzip).
  uint64_t file_size() const { return size_; }

  // Reads to the end of the data (which also makes zlib check the gzip CRC and length);
  // returns the number of bytes that were left.
  uint64_t read_rest() {
    std::vector<uint8_t> scratch(1 << 16);
    uint64_t total = 0;
    size_t got;
    while ((got = read(scratch.data(), scratch.size())) > 0) total += got;
    return total;
  }

  [[noreturn]] void fail(const std::string& what) const { throw InputError(path_ + ": " + what); }

 private:
  // Throws if zlib has seen damage: bad deflate data, a CRC or length mismatch, a cut stream.
  void check_gzip() {
    int code = Z_OK;
    std::string message = gzerror(gz_.get(), &code);
    if (code == Z_OK) return;
    if (code == Z_ERRNO) fail(std::string("read error: ") + std::strerror(errno));
    // gzdopen names the file "<fd:N>"; drop that prefix from zlib's message.
    const size_t colon = message.find(": ");
    if (message.rfind("<fd:", 0) == 0 && colon != std::string::npos) message.erase(0, colon + 2);
    if (code == Z_BUF_ERROR)
      fail("damaged gzip data: the compressed stream is cut short (zlib: " + message + ")");
    fail("damaged gzip data (zlib: " + message + ")");
  }

  std::string path_;
  FdCloser file_;
  std::unique_ptr<gzFile_s, GzCloser> gz_;
  uint64_t size_ = 0;
  bool regular_ = false;  // a regular file, whose size is known (not a pipe)
};

uint32_t big_endian_u32(const uint8_t* b) {
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}

// The validated header of an IDX file: its dims and the payload size they imply. Leaves SOURCE
// at the first byte of the payload.
struct Header {
  std::vector<uint32_t> dims;
  uint64_t payload = 0;  // bytes
  size_t size = 0;       // bytes of the header itself
};

Header read_header(Source& source, int expected_rank) {
  // Header: 0x00 0x00, type code, rank; then one big-endian u32 per dim.
  std::vector<uint8_t> header(4 + 4 * size_t(expected_rank));
  const size_t got = source.read(header.data(), header.size());
  if (got < 4)
    source.fail(expected_text(expected_rank) + ", but the " + source.what() + " only " +
                std::to_string(got) + " bytes");
  const uint32_t magic = big_endian_u32(header.data());
  if (magic != (0x0800u | uint32_t(expected_rank)))
    source.fail(expected_text(expected_rank) + ", found " + hex32(magic) +
                magic_hint(header.data(), got, source.gzip()));
  if (got < header.size())
    source.fail("truncated: the header with " + rank_text(expected_rank) + " needs " +
                std::to_string(header.size()) + " bytes, " + source.what() + " " +
                std::to_string(got));

  Header result;
  result.size = header.size();
  uint64_t payload = 1;
  for (int i = 0; i < expected_rank; ++i) {
    const uint32_t dim = big_endian_u32(header.data() + 4 + 4 * i);
    result.dims.push_back(dim);
    if (dim == 0 || payload > UINT64_MAX / dim) payload = 0;  // reported below
    payload *= dim;
  }
  const std::string shape = dims_text(result.dims);
  for (size_t i = 0; i < result.dims.size(); ++i)
    if (result.dims[i] == 0)
      source.fail("header says dims " + shape + ": dim " + std::to_string(i + 1) + " is zero");
  if (payload == 0) source.fail("header says dims " + shape + ", more data than can be addressed");
  result.payload = payload;
  if (source.gzip() && source.max_data_size() != UINT64_MAX && payload > source.max_data_size())
    source.fail("truncated or a damaged header: header says " + shape + " = " +
                std::to_string(payload) + " bytes of data, and a gzip file of " +
                std::to_string(source.max_data_size() / kMaxDeflateRatio) +
                " bytes decompresses to at most " + std::to_string(source.max_data_size()));
  return result;
}

// "header says 3x4x5 = 60 bytes of data, file holds ", for the size messages.
std::string says_text(const Source& source, const Header& header) {
  return "header says " + dims_text(header.dims) + " = " + std::to_string(header.payload) +
         " bytes of data, " + source.what() + " ";
}

}  // namespace

IdxArray read_idx(const std::string& path, int expected_rank) {
  if (expected_rank < 1 || expected_rank > 255)
    throw std::invalid_argument("read_idx: expected_rank must be 1..255");
  Source source(path);
  const Header header = read_header(source, expected_rank);
  const uint64_t payload = header.payload;
  IdxArray array;
  array.path = path;
  array.dims = header.dims;

  // Payload: grow the buffer chunk by chunk, so a file shorter than its header claims is found
  // without first allocating what the header claims.
  std::vector<uint8_t>& values = array.values;
  values.reserve(size_t(std::min(payload, source.size_hint())));
  while (values.size() < payload) {
    const size_t old = values.size();
    const size_t want = size_t(std::min<uint64_t>(kChunk, payload - old));
    values.resize(old + want);
    const size_t read = source.read(values.data() + old, want);
    values.resize(old + read);
    if (read < want) break;
  }
  const std::string says = says_text(source, header);
  if (values.size() < payload) source.fail("truncated: " + says + std::to_string(values.size()));
  if (const uint64_t extra = source.read_rest(); extra > 0)
    source.fail("trailing data: " + says + std::to_string(payload + extra) + " (" +
                std::to_string(extra) + " bytes too many)");
  return array;
}

struct IdxReader::State {
  explicit State(const std::string& path) : source(path) {}
  Source source;
  Header header;
  size_t next_row = 0;  // the row the source stands at
};

IdxReader::IdxReader(const std::string& path, int expected_rank) : path_(path) {
  if (expected_rank < 1 || expected_rank > 255)
    throw std::invalid_argument("IdxReader: expected_rank must be 1..255");
  state_ = std::make_unique<State>(path);
  Source& source = state_->source;
  state_->header = read_header(source, expected_rank);
  const Header& header = state_->header;
  dims_ = header.dims;
  row_size_ = size_t(header.payload / dims_[0]);
  if (!source.gzip()) {
    // A raw file's size is known: check it now rather than when the last row is read.
    const uint64_t payload =
        source.file_size() - std::min<uint64_t>(source.file_size(), header.size);
    if (payload < header.payload)
      source.fail("truncated: " + says_text(source, header) + std::to_string(payload));
    if (payload > header.payload)
      source.fail("trailing data: " + says_text(source, header) + std::to_string(payload) + " (" +
                  std::to_string(payload - header.payload) + " bytes too many)");
  }
}

IdxReader::~IdxReader() = default;
IdxReader::IdxReader(IdxReader&&) noexcept = default;
IdxReader& IdxReader::operator=(IdxReader&&) noexcept = default;

bool IdxReader::gzip() const {
  return state_->source.gzip();
}

void IdxReader::read_rows(size_t first, size_t count, uint8_t* out) {
  if (first > this->count() || count > this->count() - first)
    throw std::out_of_range(path_ + ": rows [" + std::to_string(first) + ", " +
                            std::to_string(first + count) + ") of " +
                            std::to_string(this->count()));
  if (count == 0) return;
  State& state = *state_;
  if (state.next_row != first) state.source.seek(state.header.size + uint64_t(first) * row_size_);
  state.next_row = first;
  const size_t want = count * row_size_;
  const size_t got = state.source.read(out, want);
  state.next_row = first + count;
  if (got < want)
    state.source.fail("truncated: " + says_text(state.source, state.header) +
                      std::to_string(uint64_t(first) * row_size_ + got));
  if (state.next_row == this->count() && state.source.gzip()) {
    // The last row: zlib checks the CRC and length on reaching the end.
    if (const uint64_t extra = state.source.read_rest(); extra > 0)
      state.source.fail("trailing data: " + says_text(state.source, state.header) +
                        std::to_string(state.header.payload + extra) + " (" +
                        std::to_string(extra) + " bytes too many)");
  }
}

}  // namespace aeflow::data
