#pragma once
// Parameter stores to and from safetensors files, the format PyTorch users
// exchange weights in: 8 bytes of little-endian header length N, N bytes of
// JSON naming each tensor's dtype, shape and byte range, then the raw
// little-endian row-major data.
//
//   tl::io::save(params, "model.safetensors");            // values only, not gradients
//   tl::io::save(params, "model.safetensors", {{"epoch", "12"}});  // with __metadata__
//   tl::io::load(params, "model.safetensors");            // every parameter, strictly
//   tl::io::load(params, "big.safetensors", tl::io::allow_unused);
//   tl::io::metadata m = tl::io::read_metadata("model.safetensors");
//
// Names are the store's ("fc1.weight"); float is F32, double F64, integers
// I8..I64 and U8..U64. load checks the whole file against the store (every
// parameter present with its dtype and shape, offsets in range and tiling the
// data) and reads every value before it writes any: on any problem it throws
// tl::io::error naming the file and the problem, and the store is unchanged.
// Only regular files are read (a FIFO or a device is refused at once).
//
// save replaces the file atomically (see io/detail/atomic_file.hpp): whoever
// opens the path, during a save, after a crash or while another save to the
// same path runs, finds the old file or the new one, whole; a failed save
// removes only its own temporary. save refuses a parameter holding a NaN or
// an infinity (the weights of a diverged run) unless told
// {.allow_non_finite = true}; the file is then not written.

#include <tapeless/core/detail/regular_file.hpp>
#include <tapeless/core/parameter_store.hpp>
#include <tapeless/io/detail/atomic_file.hpp>
#include <tapeless/io/detail/dtype.hpp>
#include <tapeless/io/detail/safetensors_header.hpp>
#include <tapeless/io/error.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace tapeless::io {

// The "__metadata__" of a file: free-form strings, e.g. {{"format", "pt"}}.
using metadata = std::map<std::string, std::string>;

struct load_options {
  // A tensor in the file that the store has no parameter for is an error
  // unless this is set, as in PyTorch's load_state_dict(strict=True): a
  // misspelt name should not load silently as "nothing to do".
  bool allow_unused = false;
};

// tl::io::load(params, path, tl::io::allow_unused): skip the file's extra tensors.
inline constexpr load_options allow_unused{.allow_unused = true};

struct save_options {
  // A parameter holding a NaN or an infinity is an error (the weights of a
  // diverged run should not replace good ones) unless this is set.
  bool allow_non_finite = false;
};

namespace detail {

// Dependent on T so that only a use, not the include, fails on a big-endian host.
template <class T>
inline constexpr bool host_is_little_endian = std::endian::native == std::endian::little;

template <class... Entries>
constexpr bool names_are_unique() {
  constexpr std::array<std::string_view, sizeof...(Entries)> names{Entries::name.view()...};
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = i + 1; j < names.size(); ++j)
      if (names[i] == names[j]) return false;
  return true;
}

// Appended to one named string: g++ 12 at -O1 reports a chain of + on
// temporaries here as a write out of bounds (-Warray-bounds, a false positive
// of its std::string) in the programs that inline it.
inline std::string where(std::string_view function, const std::filesystem::path& path) {
  std::string text(function);
  text.append(": \"").append(path.string()).append("\": ");
  return text;
}

// errno's text after a failed stream operation (the stream itself keeps no cause).
inline std::string cause(int code) {
  return code ? ": " + std::generic_category().message(code) : std::string{};
}

template <class Range>
std::string quoted_list(const Range& names) {
  constexpr std::size_t shown = 10;
  std::string text;
  std::size_t n = 0;
  for (const auto& name : names) {
    if (n == shown) {
      text += ", ... (" + std::to_string(std::size(names) - shown) + " more)";
      break;
    }
    if (n++) text += ", ";
    text += json_quoted(name);
  }
  return text.empty() ? "none" : text;
}

// A safetensors file opened for reading, with its header parsed and its
// layout checked against the file's size.
class safetensors_file {
 public:
  safetensors_file(const std::filesystem::path& path, std::string where)
      : where_(std::move(where)), file_(path) {
    // The size is the open file's: a save renaming a new file over the path
    // meanwhile cannot pair this file's header with that one's size.
    if (!file_.is_open()) throw error(where_ + "cannot read the file: " + file_.problem());
    const std::uint64_t size = file_.size();
    if (size < 8)
      throw error(where_ + "the file has " + std::to_string(size) +
                  " bytes, fewer than the 8 of the header length: it is truncated or not a "
                  "safetensors file");
    unsigned char length_field[8];
    read(0, 8, length_field);
    std::uint64_t length = 0;  // little-endian whatever the host
    for (int k = 7; k >= 0; --k) length = (length << 8) | length_field[k];
    if (length > size - 8)
      throw error(where_ + "the header length field says " + std::to_string(length) +
                  " bytes, but only " + std::to_string(size - 8) +
                  " follow it: the file is truncated or not a safetensors file");
    if (length > max_header_bytes)
      throw error(where_ + "the header length " + std::to_string(length) +
                  " exceeds the format's " + std::to_string(max_header_bytes) + " bytes");
    std::string text(static_cast<std::size_t>(length), '\0');
    read(8, length, text.data());
    header_ = header_parser(text, where_).parse();
    data_start_ = 8 + length;
    check_layout(header_, size - data_start_, where_);
  }

  const header_contents& header() const noexcept { return header_; }

  const tensor_record* find(std::string_view name) const noexcept {
    for (const tensor_record& t : header_.tensors)
      if (t.name == name) return &t;
    return nullptr;
  }

  // count bytes of the tensor data section from data offset begin.
  void read_data(std::uint64_t begin, std::uint64_t count, void* into) {
    read(data_start_ + begin, count, into);
  }

 private:
  void read(std::uint64_t offset, std::uint64_t count, void* into) {
    if (!file_.read_at(offset, into, static_cast<std::size_t>(count)))
      throw error(where_ + "reading " + std::to_string(count) + " bytes at byte " +
                  std::to_string(offset) + " failed (did the file change while it was read?)" +
                  cause(errno));
  }

  std::string where_;
  tapeless::detail::regular_file file_;
  header_contents header_;
  std::uint64_t data_start_ = 0;
};

// One tensor of a file to write: its name, dtype, shape and bytes.
struct tensor_out {
  std::string_view name;
  std::string_view dtype;
  std::vector<std::uint64_t> shape;
  const void* data;
  std::size_t bytes;
};

// One tensor to read: what the file must hold under `name`, and where the
// bytes go once every tensor has been read.
struct tensor_in {
  std::string_view name;
  std::string_view dtype;
  std::vector<std::uint64_t> shape;
  void* data;
  std::size_t bytes;
};

inline std::string header_text(const metadata& meta, std::span<const tensor_out> tensors) {
  std::string text = "{";
  if (!meta.empty()) {
    text += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : meta) {
      if (!first) text += ',';
      text += json_quoted(key) + ":" + json_quoted(value);
      first = false;
    }
    text += "}";
  }
  std::uint64_t offset = 0;
  bool first = meta.empty();
  for (const tensor_out& t : tensors) {
    if (!first) text += ',';
    text += json_quoted(t.name) + ":{\"dtype\":\"" + std::string(t.dtype) + "\",\"shape\":" +
            shape_text(t.shape, ",") + ",\"data_offsets\":[" + std::to_string(offset) + "," +
            std::to_string(offset + t.bytes) + "]}";
    offset += t.bytes;
    first = false;
  }
  text += "}";
  // Spaces up to a multiple of 8, as the reference writer pads: the data then
  // starts 8-byte aligned in the file, ready for mapping in place.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// Writes the tensors, in order, as a safetensors file that replaces `path`
// atomically.
inline void write_safetensors(const std::filesystem::path& path, const std::string& where, const metadata& meta,
                              std::span<const tensor_out> tensors) {
  for (const auto& [key, value] : meta)
    if (first_non_utf8(key) != std::string_view::npos || first_non_utf8(value) != std::string_view::npos)
      throw error(where + "metadata key " + json_quoted(key) + " or its value is not UTF-8, which the format requires");
  const std::string header = header_text(meta, tensors);
  unsigned char length_field[8];
  for (std::size_t k = 0; k < 8; ++k)
    length_field[k] = static_cast<unsigned char>(std::uint64_t{header.size()} >> (8 * k));
  atomic_file out(path, where);
  out.write(length_field, 8);
  out.write(header.data(), header.size());
  for (const tensor_out& t : tensors) out.write(t.data, t.bytes);
  out.commit();
}

// Reads every tensor of `wanted` from the file: all checks and all reads
// first, into a staging buffer, then `check_metadata` (which may throw); the
// destinations are written only once nothing can fail. Returns the file's
// metadata.
inline metadata read_safetensors(const std::filesystem::path& path, const std::string& where,
                                 std::span<const tensor_in> wanted, load_options options,
                                 const std::function<void(const metadata&)>& check_metadata = {}) {
  safetensors_file file(path, where);
  std::vector<const tensor_record*> records(wanted.size());
  std::vector<std::string_view> missing;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const tensor_in& w = wanted[i];
    records[i] = file.find(w.name);
    if (!records[i]) {
      missing.push_back(w.name);
      continue;
    }
    const std::string who = "tensor " + json_quoted(w.name);
    if (records[i]->dtype != w.dtype)
      throw error(where + who + " is " + records[i]->dtype + " in the file, but the store's parameter is " +
                  std::string(w.dtype) + " (load does not convert)");
    if (records[i]->shape != w.shape)
      throw error(where + who + " has shape " + shape_text(records[i]->shape) +
                  " in the file, but the store's parameter has shape " + shape_text(w.shape));
  }
  if (!missing.empty()) {
    std::vector<std::string_view> present;
    for (const tensor_record& t : file.header().tensors) present.push_back(t.name);
    throw error(where + "the store's parameter(s) " + quoted_list(missing) + " are not in the file, which has " +
                quoted_list(present));
  }
  if (!options.allow_unused) {
    std::vector<std::string_view> unused;
    for (const tensor_record& t : file.header().tensors) {
      bool known = false;
      for (const tensor_in& w : wanted) known = known || w.name == t.name;
      if (!known) unused.push_back(t.name);
    }
    if (!unused.empty())
      throw error(where + "the file has tensor(s) " + quoted_list(unused) +
                  " that the store has no parameter for; pass tl::io::allow_unused to skip them");
  }
  std::size_t total = 0;
  for (const tensor_in& w : wanted) total += w.bytes;
  std::vector<std::byte> staged(total);
  std::size_t at = 0;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    file.read_data(records[i]->begin, wanted[i].bytes, staged.data() + at);
    at += wanted[i].bytes;
  }
  metadata meta = file.header().metadata;  // may throw (allocates): before anything is written
  if (check_metadata) check_metadata(meta);
  // Everything is checked and read: from here nothing throws.
  at = 0;
  for (const tensor_in& w : wanted) {
    std::memcpy(w.data, staged.data() + at, w.bytes);
    at += w.bytes;
  }
  return meta;
}

// The store's parameters as tensors to write, or to read into.
template <class Storage, class... Entries, std::size_t... I>
std::array<tensor_out, sizeof...(Entries)> tensors_of(const parameter_store<Storage, Entries...>& params,
                                                      std::index_sequence<I...>) {
  return {tensor_out{Entries::name.view(), dtype_name<typename Entries::element_type>(),
                     {Entries::shape_type::dims.begin(), Entries::shape_type::dims.end()},
                     params.template value_at<I>().data(),
                     sizeof(typename Entries::element_type) * Entries::shape_type::size}...};
}
template <class Storage, class... Entries, std::size_t... I>
std::array<tensor_in, sizeof...(Entries)> tensors_of(parameter_store<Storage, Entries...>& params,
                                                     std::index_sequence<I...>) {
  return {tensor_in{Entries::name.view(), dtype_name<typename Entries::element_type>(),
                    {Entries::shape_type::dims.begin(), Entries::shape_type::dims.end()},
                    params.template value_at<I>().data(),
                    sizeof(typename Entries::element_type) * Entries::shape_type::size}...};
}

// The name of the first parameter holding a NaN or an infinity, empty if none.
template <class Storage, class... Entries>
std::string_view first_non_finite(const parameter_store<Storage, Entries...>& params) {
  std::string_view found;
  params.visit([&](std::string_view name, const auto& value, const auto&) {
    using T = typename std::remove_cvref_t<decltype(value)>::value_type;
    if constexpr (std::is_floating_point_v<T>)
      if (found.empty())
        for (const T v : value)
          if (!std::isfinite(v)) {
            found = name;
            break;
          }
  });
  return found;
}

}  // namespace detail

// Writes every parameter's value (not its gradient) under its name, in the
// store's order, with meta as the file's "__metadata__" when it is not empty.
template <class Storage, class... Entries>
void save(const parameter_store<Storage, Entries...>& params, const std::filesystem::path& path,
          const metadata& meta = {}, save_options options = {}) {
  static_assert(detail::host_is_little_endian<parameter_store<Storage, Entries...>>,
                "tapeless::io::save: safetensors data is little-endian and this host is not; "
                "byte swapping is not implemented");
  static_assert((detail::has_dtype<typename Entries::element_type> && ...),
                "tapeless::io::save: a parameter's element type has no safetensors dtype; use "
                "float, double or a fixed-width integer (std::int8_t ... std::uint64_t), not bool");
  static_assert(((Entries::name.view() != "__metadata__") && ...),
                "tapeless::io::save: a parameter named \"__metadata__\" cannot be saved: the "
                "safetensors header reserves that key");
  static_assert(detail::names_are_unique<Entries...>(),
                "tapeless::io::save: two parameters of this store share a name");
  const std::string where = detail::where("tapeless::io::save", path);
  if (!options.allow_non_finite)
    if (const std::string_view name = detail::first_non_finite(params); !name.empty())
      throw error(where + "parameter " + detail::json_quoted(name) +
                  " holds a NaN or an infinity (did training diverge?); the file was not written. Pass "
                  "tl::io::save_options{.allow_non_finite = true} to save it anyway");
  const auto tensors = detail::tensors_of(params, std::index_sequence_for<Entries...>{});
  detail::write_safetensors(path, where, meta, tensors);
}
template <class Storage, class... Entries>
void save(const parameter_store<Storage, Entries...>& params, const std::filesystem::path& path,
          save_options options) {
  save(params, path, metadata{}, options);
}

// Reads every parameter's value from the file. All checks and all reads come
// first; the store is written only once nothing can fail, so on a throw it is
// as it was.
template <class Storage, class... Entries>
void load(parameter_store<Storage, Entries...>& params, const std::filesystem::path& path,
          load_options options = {}) {
  static_assert(detail::host_is_little_endian<parameter_store<Storage, Entries...>>,
                "tapeless::io::load: safetensors data is little-endian and this host is not; "
                "byte swapping is not implemented");
  static_assert((detail::has_dtype<typename Entries::element_type> && ...),
                "tapeless::io::load: a parameter's element type has no safetensors dtype; use "
                "float, double or a fixed-width integer (std::int8_t ... std::uint64_t), not bool");
  const auto tensors = detail::tensors_of(params, std::index_sequence_for<Entries...>{});
  detail::read_safetensors(path, detail::where("tapeless::io::load", path), tensors, options);
}

// The file's "__metadata__" (empty when it has none), after checking the file
// is well formed.
inline metadata read_metadata(const std::filesystem::path& path) {
  return detail::safetensors_file(path, detail::where("tapeless::io::read_metadata", path))
      .header()
      .metadata;
}

}  // namespace tapeless::io
