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
// save writes to path + ".tmp" and renames it over path, so a failed save
// never leaves a partial file under the target name.

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/io/detail/dtype.hpp>
#include <tapeless/io/detail/safetensors_header.hpp>
#include <tapeless/io/error.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
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

inline std::string where(std::string_view function, const std::filesystem::path& path) {
  return std::string(function) + ": \"" + path.string() + "\": ";
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
      : where_(std::move(where)) {
    std::error_code ec;
    const std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) throw error(where_ + "cannot read the file: " + ec.message());
    errno = 0;
    in_.open(path, std::ios::binary);
    if (!in_) throw error(where_ + "cannot open the file" + cause(errno));
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
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(static_cast<char*>(into), static_cast<std::streamsize>(count));
    if (!in_ || static_cast<std::uint64_t>(in_.gcount()) != count)
      throw error(where_ + "reading " + std::to_string(count) + " bytes at byte " +
                  std::to_string(offset) + " failed (did the file change while it was read?)" +
                  cause(errno));
  }

  std::string where_;
  std::ifstream in_;
  header_contents header_;
  std::uint64_t data_start_ = 0;
};

// The file's record of Entry's parameter, checked for dtype and shape; null
// when the file has none.
template <class Entry>
const tensor_record* matching_record(const safetensors_file& file, const std::string& where) {
  using T = typename Entry::element_type;
  constexpr auto& dims = Entry::shape_type::dims;
  const tensor_record* record = file.find(Entry::name.view());
  if (!record) return nullptr;
  const std::string who = "tensor " + json_quoted(Entry::name.view());
  if (record->dtype != dtype_name<T>())
    throw error(where + who + " is " + record->dtype +
                " in the file, but the store's parameter is " + std::string(dtype_name<T>()) +
                " (load does not convert)");
  if (!std::equal(record->shape.begin(), record->shape.end(), dims.begin(), dims.end()))
    throw error(where + who + " has shape " + shape_text(record->shape) +
                " in the file, but the store's parameter has shape " + shape_text(dims));
  return record;
}

template <class... Entries>
std::string header_text(const metadata& meta) {
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
  const auto add = [&]<class Entry>(Entry) {
    using T = typename Entry::element_type;
    const std::uint64_t bytes = sizeof(T) * Entry::shape_type::size;
    if (!first) text += ',';
    text += json_quoted(Entry::name.view()) + ":{\"dtype\":\"" + std::string(dtype_name<T>()) +
            "\",\"shape\":" + shape_text(Entry::shape_type::dims, ",") + ",\"data_offsets\":[" +
            std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
    first = false;
  };
  (add(Entries{}), ...);
  text += "}";
  // Spaces up to a multiple of 8, as the reference writer pads: the data then
  // starts 8-byte aligned in the file, ready for mapping in place.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

template <class Storage, class... Entries, std::size_t... I>
void write_values(std::ofstream& out, const parameter_store<Storage, Entries...>& params,
                  std::index_sequence<I...>) {
  (out.write(reinterpret_cast<const char*>(params.template value_at<I>().data()),
             static_cast<std::streamsize>(sizeof(typename Entries::element_type) *
                                          Entries::shape_type::size)),
   ...);
}

template <class Storage, class... Entries, std::size_t... I>
void copy_values(parameter_store<Storage, Entries...>& params, const std::byte* from,
                 std::index_sequence<I...>) {
  ((std::memcpy(params.template value_at<I>().data(), from,
                sizeof(typename Entries::element_type) * Entries::shape_type::size),
    from += sizeof(typename Entries::element_type) * Entries::shape_type::size),
   ...);
}

// Removes the temporary file of a save unless the save got as far as renaming it.
struct remove_unless_renamed {
  const std::filesystem::path& temporary;
  bool renamed = false;
  ~remove_unless_renamed() {
    if (!renamed) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
    }
  }
};

}  // namespace detail

// Writes every parameter's value (not its gradient) under its name, in the
// store's order, with meta as the file's "__metadata__" when it is not empty.
template <class Storage, class... Entries>
void save(const parameter_store<Storage, Entries...>& params, const std::filesystem::path& path,
          const metadata& meta = {}) {
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
  for (const auto& [key, value] : meta)
    if (detail::first_non_utf8(key) != std::string_view::npos ||
        detail::first_non_utf8(value) != std::string_view::npos)
      throw error(where + "metadata key " + detail::json_quoted(key) +
                  " or its value is not UTF-8, which the format requires");

  const std::string header = detail::header_text<Entries...>(meta);
  unsigned char length_field[8];
  for (std::size_t k = 0; k < 8; ++k)
    length_field[k] = static_cast<unsigned char>(std::uint64_t{header.size()} >> (8 * k));

  std::filesystem::path temporary = path;
  temporary += ".tmp";
  detail::remove_unless_renamed cleanup{temporary};
  {
    errno = 0;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out)
      throw error(where + "cannot create \"" + temporary.string() + "\"" + detail::cause(errno));
    out.write(reinterpret_cast<const char*>(length_field), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    detail::write_values(out, params, std::index_sequence_for<Entries...>{});
    out.close();  // flushes: a full disk shows here
    if (!out)
      throw error(where + "writing \"" + temporary.string() + "\" failed" + detail::cause(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec)
    throw error(where + "cannot rename \"" + temporary.string() +
                "\" to the target: " + ec.message());
  cleanup.renamed = true;
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
  constexpr std::size_t count = sizeof...(Entries);
  constexpr std::array<std::size_t, count> bytes{sizeof(typename Entries::element_type) *
                                                 Entries::shape_type::size...};
  const std::string where = detail::where("tapeless::io::load", path);
  detail::safetensors_file file(path, where);

  const std::array<const detail::tensor_record*, count> records{
      detail::matching_record<Entries>(file, where)...};
  std::vector<std::string_view> missing;
  for (std::size_t i = 0; i < count; ++i)
    if (!records[i]) missing.push_back(params.names[i]);
  if (!missing.empty()) {
    std::vector<std::string_view> present;
    for (const detail::tensor_record& t : file.header().tensors) present.push_back(t.name);
    throw error(where + "the store's parameter(s) " + detail::quoted_list(missing) +
                " are not in the file, which has " + detail::quoted_list(present));
  }
  if (!options.allow_unused) {
    std::vector<std::string_view> unused;
    for (const detail::tensor_record& t : file.header().tensors)
      if (std::find(params.names.begin(), params.names.end(), t.name) == params.names.end())
        unused.push_back(t.name);
    if (!unused.empty())
      throw error(where + "the file has tensor(s) " + detail::quoted_list(unused) +
                  " that the store has no parameter for; pass tl::io::allow_unused to skip them");
  }

  std::size_t total = 0;
  for (const std::size_t b : bytes) total += b;
  std::vector<std::byte> staged(total);
  std::size_t at = 0;
  for (std::size_t i = 0; i < count; ++i) {
    file.read_data(records[i]->begin, bytes[i], staged.data() + at);
    at += bytes[i];
  }
  // Everything is checked and read: from here nothing throws.
  detail::copy_values(params, staged.data(), std::index_sequence_for<Entries...>{});
}

// The file's "__metadata__" (empty when it has none), after checking the file
// is well formed.
inline metadata read_metadata(const std::filesystem::path& path) {
  return detail::safetensors_file(path, detail::where("tapeless::io::read_metadata", path))
      .header()
      .metadata;
}

}  // namespace tapeless::io
