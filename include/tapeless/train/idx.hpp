#pragma once
// IDX files, the format of MNIST and Fashion-MNIST: a big-endian header
// (00 00 <type> <rank>, then one u32 per dimension) followed by the values.
// tapeless reads unsigned-byte IDX (type 0x08), which is what those sets use.
//
//   auto images = tl::train::read_idx("train-images-idx3-ubyte");  // dims {60000, 28, 28}
//   auto labels = tl::train::read_idx("train-labels-idx1-ubyte");  // dims {60000}
//   auto data = tl::train::idx_classification<784>(images, labels, 10); // pixels / 255, ids in [0, 10)
//
// read_idx reads plain files. For the gzip-compressed files that Debian's
// dataset-fashion-mnist installs, include <tapeless/train/gzip.hpp> (needs
// zlib) and call read_idx_gz, which takes either kind.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <tapeless/train/data_error.hpp>
#include <tapeless/train/dataset.hpp>
#include <tapeless/train/detail/read_file.hpp>

namespace tapeless::train {

// The dimensions and values of one IDX file.
struct idx_array {
  std::vector<std::uint32_t> dims;   // dims[0] is the number of items
  std::vector<std::uint8_t> values;  // row-major, product(dims) of them
  std::string source;                // file name, for error messages

  std::size_t items() const noexcept { return dims.empty() ? 0 : dims[0]; }
  // Values per item: the product of dims[1:] (1 for a rank-1 file of labels).
  std::size_t item_size() const noexcept {
    std::size_t size = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) size *= dims[i];
    return size;
  }
};

namespace detail {

inline std::uint32_t big_endian_u32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

inline std::string hex_byte(unsigned value) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[(value >> 4) & 15] + digits[value & 15];
}

inline std::string idx_type_name(unsigned type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

inline std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) text += 'x';
    text += std::to_string(dims[i]);
  }
  return text;
}

inline bool starts_like_gzip(std::span<const unsigned char> bytes) noexcept {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

}  // namespace detail

namespace detail {

// The IDX header's first 4 bytes (or fewer, if that is all there is):
// throws data_error on a wrong magic or element type; returns the rank.
inline std::size_t idx_rank(std::span<const unsigned char> bytes, const std::string& source) {
  const auto fail = [&](std::string problem) { throw data_error(source, std::move(problem)); };
  if (bytes.size() < 4)
    fail("truncated: " + std::to_string(bytes.size()) + " bytes, an IDX header has at least 8");
  if (bytes[0] != 0 || bytes[1] != 0)
    fail("wrong magic: starts with " + hex_byte(bytes[0]) + " " + hex_byte(bytes[1]) +
         ", an IDX file starts with 0x00 0x00 <type> <rank>; is it an IDX file?");
  const unsigned type = bytes[2], rank = bytes[3];
  if (type != 0x08)
    fail("element type " + hex_byte(type) + " (" + idx_type_name(type) +
         ") is not supported; tapeless reads unsigned-byte IDX files (type 0x08)");
  if (rank == 0) fail("wrong magic: rank 0, an IDX file has at least one dimension");
  return rank;
}

// The dimensions in the 4 * rank bytes after the magic, into `dims`; returns
// their product, the number of values, or throws data_error if it overflows.
inline std::size_t idx_dims(const unsigned char* p, std::size_t rank, std::vector<std::uint32_t>& dims,
                            const std::string& source) {
  for (std::size_t i = 0; i < rank; ++i) dims.push_back(big_endian_u32(p + 4 * i));
  // Each item's size on its own too: with dims[0] = 0 the product is 0, but
  // item_size() multiplies the rest.
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  std::size_t item = 1;
  for (std::size_t i = 1; i < rank; ++i) {
    if (dims[i] != 0 && item > max / dims[i])
      throw data_error(source, "dimensions " + dims_text(dims) + " overflow the address space");
    item *= dims[i];
  }
  if (dims[0] != 0 && item > max / dims[0])
    throw data_error(source, "dimensions " + dims_text(dims) + " overflow the address space");
  return dims[0] * item;
}

}  // namespace detail

// Parses IDX bytes; `source` names them in errors. Throws data_error on a
// wrong magic, an unsupported element type, a truncated file or trailing bytes.
inline idx_array parse_idx(std::span<const unsigned char> bytes, std::string source) {
  const auto fail = [&](std::string problem) { throw data_error(source, std::move(problem)); };
  if (detail::starts_like_gzip(bytes))
    fail("gzip-compressed (starts with 1f 8b): include <tapeless/train/gzip.hpp> and call "
         "tl::train::read_idx_gz, or gunzip the file first");
  const std::size_t rank = detail::idx_rank(bytes, source);
  const std::size_t header = 4 + 4 * rank;
  if (bytes.size() < header)
    fail("truncated: " + std::to_string(bytes.size()) + " bytes, the header of a rank-" + std::to_string(rank) +
         " IDX file has " + std::to_string(header));

  idx_array out;
  out.source = source;
  const std::size_t count = detail::idx_dims(bytes.data() + 4, rank, out.dims, source);
  const std::size_t payload = bytes.size() - header;
  if (payload < count)
    fail("truncated: the header promises " + std::to_string(count) + " data bytes (" +
         detail::dims_text(out.dims) + "), the file holds " + std::to_string(payload));
  if (payload > count)
    fail(std::to_string(payload - count) + " bytes after the " + std::to_string(count) + " data bytes the header (" +
         detail::dims_text(out.dims) + ") promises; is the header right?");
  out.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

// Reads a plain (uncompressed) IDX file.
inline idx_array read_idx(const std::filesystem::path& path) {
  const auto bytes = detail::read_file_bytes(path);
  return parse_idx(bytes, path.string());
}

// Images and labels as a classification data set of `classes` classes: each
// image item becomes a row of F floats scaled to [0, 1] (value / 255), each
// label a class id, checked to be in [0, classes) (the data set declares
// them, see dataset::declare_classes). Throws data_error if the counts differ,
// the labels file is not rank 1, an image does not have F values, or a label
// is not a class id (naming the labels file, the row and the label).
template <std::size_t F>
dataset<F> idx_classification(const idx_array& images, const idx_array& labels, std::size_t classes) {
  if (labels.dims.size() != 1)
    throw data_error(labels.source, "a labels file has one dimension; this one has " +
                                        std::to_string(labels.dims.size()) + " (" +
                                        detail::dims_text(labels.dims) + "): are images and labels swapped?");
  if (images.items() != labels.items())
    throw data_error(labels.source, "inconsistent counts: " + std::to_string(labels.items()) +
                                        " labels, but " + images.source + " holds " +
                                        std::to_string(images.items()) + " images");
  if (images.item_size() != F)
    throw data_error(images.source, "each item has " + std::to_string(images.item_size()) + " values (" +
                                        detail::dims_text(images.dims) + "), the data set expects F = " +
                                        std::to_string(F));
  if (classes == 0) throw std::invalid_argument("tl::train::idx_classification: classes must be at least 1");
  for (std::size_t i = 0; i < labels.values.size(); ++i)
    if (labels.values[i] >= classes)
      throw data_error(labels.source,
                       detail::class_id_out_of_range("row " + std::to_string(i), labels.values[i], classes));
  std::vector<float> features(images.values.size());
  for (std::size_t i = 0; i < features.size(); ++i) features[i] = static_cast<float>(images.values[i]) / 255.f;
  std::vector<std::int32_t> targets(labels.values.begin(), labels.values.end());
  dataset<F> data(std::move(features), std::move(targets), images.source);
  data.set_labels_source(labels.source);
  data.declare_classes(classes);
  return data;
}

}  // namespace tapeless::train
