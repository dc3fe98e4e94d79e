#pragma once
// gzip decompression through zlib, for data files shipped compressed (Debian's
// dataset-fashion-mnist installs *-ubyte.gz). Kept out of <tapeless/train.hpp>
// so that only programs which include this header need zlib: link with -lz,
// or in Meson `dependency('zlib')`.
//
//   auto bytes = tl::train::read_maybe_gzipped("t10k-labels-idx1-ubyte.gz");
//   auto images = tl::train::read_idx_gz("t10k-images-idx3-ubyte.gz");  // or a plain file
//
// Compressed IDX files are inflated piece by piece: the header first, then
// exactly the values it promises (see parse_idx_gz).

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <new>
#include <span>
#include <string>
#include <vector>

#include <zlib.h>

#include <tapeless/train/data_error.hpp>
#include <tapeless/train/detail/read_file.hpp>
#include <tapeless/train/idx.hpp>

namespace tapeless::train {

namespace detail {

// deflate writes at most 1032 output bytes per input byte (258-byte matches
// in 2 bits, or so): more than this from a compressed size is not in it.
inline constexpr std::size_t deflate_max_ratio = 1032;

// gzip data (one member or several, concatenated, as gzip -c a b > ab
// writes) inflated piece by piece, so that a reader can check what it has
// before asking for more: memory is what the reader asks for, never what a
// hostile stream would expand to.
class gzip_stream {
 public:
  gzip_stream(std::span<const unsigned char> in, const std::string& source) : in_(in), source_(source) {
    if (inflateInit2(&stream_, 15 + 16) != Z_OK)  // 15: largest window; +16: expect a gzip header
      throw data_error(source_, "zlib could not start decompressing");
  }
  gzip_stream(const gzip_stream&) = delete;
  gzip_stream& operator=(const gzip_stream&) = delete;
  ~gzip_stream() { inflateEnd(&stream_); }

  // Fills out[0, n) unless the data ends first; returns the bytes written.
  // Throws data_error, naming the source, on data that is not gzip, is
  // corrupt, or ends before its stream does.
  std::size_t read(unsigned char* out, std::size_t n) {
    constexpr std::size_t zlib_max = std::numeric_limits<uInt>::max();  // zlib counts in uInt
    std::size_t produced = 0;
    while (produced < n && !ended_) {
      const std::size_t in_chunk = std::min(in_.size() - consumed_, zlib_max);
      const std::size_t out_chunk = std::min(n - produced, zlib_max);
      stream_.next_in = const_cast<Bytef*>(in_.data() + consumed_);  // zlib does not write to its input
      stream_.avail_in = static_cast<uInt>(in_chunk);
      stream_.next_out = out + produced;
      stream_.avail_out = static_cast<uInt>(out_chunk);
      const int status = inflate(&stream_, Z_NO_FLUSH);
      consumed_ += in_chunk - stream_.avail_in;
      produced += out_chunk - stream_.avail_out;
      total_ += out_chunk - stream_.avail_out;
      if (status == Z_OK) continue;
      if (status == Z_STREAM_END) {
        if (consumed_ == in_.size()) {
          ended_ = true;
        } else if (in_.size() - consumed_ >= 2 && in_[consumed_] == 0x1f && in_[consumed_ + 1] == 0x8b) {
          inflateReset(&stream_);  // the next member of a multi-member file
        } else {
          throw data_error(source_, std::to_string(in_.size() - consumed_) +
                                        " bytes that are not gzip follow the compressed data");
        }
        continue;
      }
      if (status == Z_BUF_ERROR && consumed_ < in_.size()) continue;  // more input than one uInt
      if (status == Z_BUF_ERROR)
        throw data_error(source_, "truncated: the gzip stream ends early (" + std::to_string(in_.size()) +
                                      " compressed bytes gave " + std::to_string(total_) +
                                      " bytes before the data ran out)");
      if (status == Z_MEM_ERROR) throw std::bad_alloc();
      throw data_error(source_, std::string("corrupt gzip data: ") +
                                    (stream_.msg ? stream_.msg : "zlib error " + std::to_string(status)));
    }
    return produced;
  }

  // Bytes inflated so far.
  std::size_t total() const noexcept { return total_; }

 private:
  std::span<const unsigned char> in_;
  const std::string& source_;
  z_stream stream_{};
  std::size_t consumed_ = 0, total_ = 0;
  bool ended_ = false;
};

}  // namespace detail

// Decompresses gzip data (one member or several, concatenated). Throws
// data_error, naming `source`, if the data is not gzip, is corrupt, ends
// before the stream does, or inflates to more than `max_bytes`.
inline std::vector<unsigned char> gunzip(std::span<const unsigned char> in, const std::string& source,
                                         std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) {
  detail::gzip_stream stream(in, source);
  std::vector<unsigned char> out;
  constexpr std::size_t chunk = std::size_t{1} << 16;
  for (;;) {
    const std::size_t at = out.size();
    const std::size_t allowed = max_bytes - at;                 // out.size() <= max_bytes here
    const std::size_t room = allowed < chunk ? allowed + 1 : chunk;  // one more byte tells "too many"
    out.resize(at + room);
    const std::size_t got = stream.read(out.data() + at, room);
    out.resize(at + got);
    if (out.size() > max_bytes)
      throw data_error(source, "inflates to more than " + std::to_string(max_bytes) + " bytes, the limit given");
    if (got < room) return out;
  }
}

// The bytes of a file, decompressed if it starts with the gzip magic (1f 8b).
inline std::vector<unsigned char> read_maybe_gzipped(
    const std::filesystem::path& path, std::size_t max_bytes = std::numeric_limits<std::size_t>::max()) {
  auto bytes = detail::read_file_bytes(path);
  if (detail::starts_like_gzip(bytes)) return gunzip(bytes, path.string(), max_bytes);
  return bytes;
}

// Parses gzip-compressed IDX bytes; `source` names them in errors. The header
// is inflated first and checked; the values are then inflated into a buffer
// of the size it gives, and only if the compressed bytes can hold that many:
// a gzip bomb is refused after a few bytes, with no large allocation.
inline idx_array parse_idx_gz(std::span<const unsigned char> compressed, std::string source) {
  const auto fail = [&](std::string problem) { throw data_error(source, std::move(problem)); };
  detail::gzip_stream stream(compressed, source);
  unsigned char head[4 + 4 * 255];
  const std::size_t magic = stream.read(head, 4);
  const std::size_t rank = detail::idx_rank(std::span<const unsigned char>(head, magic), source);
  const std::size_t header = 4 + 4 * rank;
  const std::size_t got = 4 + stream.read(head + 4, 4 * rank);
  if (got < header)
    fail("truncated: " + std::to_string(got) + " bytes, the header of a rank-" + std::to_string(rank) +
         " IDX file has " + std::to_string(header));

  idx_array out;
  out.source = source;
  const std::size_t count = detail::idx_dims(head + 4, rank, out.dims, source);
  const std::size_t most = compressed.size() > std::numeric_limits<std::size_t>::max() / detail::deflate_max_ratio
                               ? std::numeric_limits<std::size_t>::max()
                               : compressed.size() * detail::deflate_max_ratio;
  if (count > most)
    fail("the header promises " + std::to_string(count) + " data bytes (" + detail::dims_text(out.dims) +
         "), more than " + std::to_string(compressed.size()) +
         " compressed bytes can hold (deflate expands at most 1032 times): the file is corrupt");
  out.values.resize(count);
  const std::size_t values = stream.read(out.values.data(), count);
  if (values < count)
    fail("truncated: the header promises " + std::to_string(count) + " data bytes (" +
         detail::dims_text(out.dims) + "), the file holds " + std::to_string(values));
  // One small look past the values: a bomb behind a small header stops here.
  unsigned char rest[4096];
  if (const std::size_t extra = stream.read(rest, sizeof rest))
    fail((extra == sizeof rest ? "at least " : "") + std::to_string(extra) + " bytes after the " +
         std::to_string(count) + " data bytes the header (" + detail::dims_text(out.dims) +
         ") promises; is the header right?");
  return out;
}

// Reads an IDX file, gzip-compressed or plain.
inline idx_array read_idx_gz(const std::filesystem::path& path) {
  const auto bytes = detail::read_file_bytes(path);
  if (detail::starts_like_gzip(bytes)) return parse_idx_gz(bytes, path.string());
  return parse_idx(bytes, path.string());
}

}  // namespace tapeless::train
