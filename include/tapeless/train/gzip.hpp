#pragma once
// gzip decompression through zlib, for data files shipped compressed (Debian's
// dataset-fashion-mnist installs *-ubyte.gz). Kept out of <tapeless/train.hpp>
// so that only programs which include this header need zlib: link with -lz,
// or in Meson `dependency('zlib')`.
//
//   auto bytes = tl::train::read_maybe_gzipped("t10k-labels-idx1-ubyte.gz");
//   auto images = tl::train::read_idx_gz("t10k-images-idx3-ubyte.gz");  // or a plain file

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

// Decompresses gzip data (one member or several, concatenated, as gzip -c
// a b > ab writes). Throws data_error, naming `source`, if the data is not
// gzip, is corrupt, or ends before the stream does.
inline std::vector<unsigned char> gunzip(std::span<const unsigned char> in, const std::string& source) {
  constexpr std::size_t zlib_max = std::numeric_limits<uInt>::max();  // zlib counts in uInt
  // The trailer's last 4 bytes hold the size mod 2^32: a good first guess,
  // bounded because a truncated file's last bytes are not a trailer.
  std::size_t guess = std::size_t{1} << 16;
  if (in.size() >= 18) {
    const unsigned char* t = in.data() + in.size() - 4;
    const std::size_t isize = std::size_t{t[0]} | (std::size_t{t[1]} << 8) | (std::size_t{t[2]} << 16) |
                              (std::size_t{t[3]} << 24);
    guess = std::clamp(isize, guess, std::max(guess, in.size() * 16));
  }
  std::vector<unsigned char> out(guess);

  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK)  // 15: largest window; +16: expect a gzip header
    throw data_error(source, "zlib could not start decompressing");
  struct inflate_end {
    z_stream* s;
    ~inflate_end() { inflateEnd(s); }
  } end_guard{&stream};

  std::size_t consumed = 0, produced = 0;
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    const std::size_t in_chunk = std::min(in.size() - consumed, zlib_max);
    const std::size_t out_chunk = std::min(out.size() - produced, zlib_max);
    stream.next_in = const_cast<Bytef*>(in.data() + consumed);  // zlib does not write to its input
    stream.avail_in = static_cast<uInt>(in_chunk);
    stream.next_out = out.data() + produced;
    stream.avail_out = static_cast<uInt>(out_chunk);
    const int status = inflate(&stream, Z_NO_FLUSH);
    consumed += in_chunk - stream.avail_in;
    produced += out_chunk - stream.avail_out;
    if (status == Z_OK) continue;
    if (status == Z_STREAM_END) {
      if (consumed == in.size()) break;
      if (in.size() - consumed >= 2 && in[consumed] == 0x1f && in[consumed + 1] == 0x8b) {
        inflateReset(&stream);  // the next member of a multi-member file
        continue;
      }
      throw data_error(source, std::to_string(in.size() - consumed) +
                                   " bytes that are not gzip follow the compressed data");
    }
    if (status == Z_BUF_ERROR && consumed == in.size())
      throw data_error(source, "truncated: the gzip stream ends early (" + std::to_string(in.size()) +
                                   " compressed bytes gave " + std::to_string(produced) +
                                   " bytes before the data ran out)");
    if (status == Z_MEM_ERROR) throw std::bad_alloc();
    throw data_error(source, std::string("corrupt gzip data: ") +
                                 (stream.msg ? stream.msg : "zlib error " + std::to_string(status)));
  }
  out.resize(produced);
  return out;
}

// The bytes of a file, decompressed if it starts with the gzip magic (1f 8b).
inline std::vector<unsigned char> read_maybe_gzipped(const std::filesystem::path& path) {
  auto bytes = detail::read_file_bytes(path);
  if (detail::starts_like_gzip(bytes)) return gunzip(bytes, path.string());
  return bytes;
}

// Reads an IDX file, gzip-compressed or plain.
inline idx_array read_idx_gz(const std::filesystem::path& path) {
  return parse_idx(read_maybe_gzipped(path), path.string());
}

}  // namespace tapeless::train
