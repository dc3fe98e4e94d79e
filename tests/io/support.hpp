#pragma once
// Shared by the io tests: a scratch directory, stores to save and load, a
// pattern to fill them with, and a writer of arbitrary (also broken)
// safetensors files. Include it after <boost/test/unit_test.hpp>.

#include <tapeless/io.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace io_test {

namespace tl = tapeless;
namespace fs = std::filesystem;

// The 4-8-3 MLP of tests/reference/safetensors_mlp.py, in PyTorch's names and layout.
template <class Storage = tl::inline_storage>
using mlp_store =
    tl::parameter_store<Storage, tl::parameter_entry<"fc1.weight", float, tl::shape<8, 4>>,
                        tl::parameter_entry<"fc1.bias", float, tl::shape<8>>,
                        tl::parameter_entry<"fc2.weight", float, tl::shape<3, 8>>,
                        tl::parameter_entry<"fc2.bias", float, tl::shape<3>>>;

// A fresh directory under the system's temporary directory, removed
// afterwards; the name is random, as meson runs test executables in parallel.
struct scratch_directory {
  fs::path path;
  scratch_directory() {
    std::random_device entropy;
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() /
           ("tapeless_io_test_" + std::to_string(stamp) + "_" + std::to_string(entropy()));
    fs::create_directories(path);
  }
  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;
  ~scratch_directory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path operator/(std::string_view name) const { return path / name; }
};

// Every value distinct and exactly representable: element k of the store
// (counting across its tensors) is seed + k/4 - 10 for floating point, and
// 1000 seed + k (wrapped into the type) for integers.
template <class Store>
void fill_distinct(Store& store, int seed) {
  long long k = 0;
  store.visit([&](std::string_view, auto& value, auto&) {
    using T = typename std::remove_cvref_t<decltype(value)>::value_type;
    for (T& v : value) {
      if constexpr (std::is_floating_point_v<T>)
        v = static_cast<T>(seed + static_cast<double>(k) / 4 - 10);
      else
        v = static_cast<T>(1000LL * seed + k);
      ++k;
    }
  });
}

// t = values, in row-major order (tl::tensor has no list constructor).
template <class Tensor>
void assign(Tensor& t, std::initializer_list<typename Tensor::value_type> values) {
  BOOST_REQUIRE(values.size() == t.size());
  std::copy(values.begin(), values.end(), t.begin());
}

// All values of a store, byte for byte, in its order: compared before and
// after a load that must fail (bytes, so that -0.0 and NaN count too).
template <class Store>
std::vector<std::byte> value_bytes(const Store& store) {
  std::vector<std::byte> bytes;
  store.visit([&](std::string_view, const auto& value, const auto&) {
    const auto* first = reinterpret_cast<const std::byte*>(value.data());
    bytes.insert(bytes.end(), first, first + sizeof(*value.data()) * value.size());
  });
  return bytes;
}

// The names in a directory, sorted: what a save left behind.
inline std::vector<std::string> names_in(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string length_field(std::uint64_t n) {
  std::string field(8, '\0');
  for (std::size_t k = 0; k < 8; ++k) field[k] = static_cast<char>((n >> (8 * k)) & 0xFF);
  return field;
}

// A file from a header text and data bytes, with the header's true length.
inline void write_safetensors(const fs::path& path, std::string_view header,
                              std::string_view data) {
  write_bytes(path, length_field(header.size()) + std::string(header) + std::string(data));
}

// One tensor record of a header: "name":{"dtype":...,"shape":[...],"data_offsets":[b,e]}.
inline std::string record(std::string_view name, std::string_view dtype,
                          std::initializer_list<std::uint64_t> shape, std::uint64_t begin,
                          std::uint64_t end) {
  std::string text =
      "\"" + std::string(name) + "\":{\"dtype\":\"" + std::string(dtype) + "\",\"shape\":[";
  std::size_t i = 0;
  for (const auto d : shape) {
    if (i++) text += ',';
    text += std::to_string(d);
  }
  return text + "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// The MLP's records laid out in order: 128 + 32 + 96 + 12 = 268 bytes of data.
inline const std::vector<std::string>& mlp_records() {
  static const std::vector<std::string> records{
      record("fc1.weight", "F32", {8, 4}, 0, 128), record("fc1.bias", "F32", {8}, 128, 160),
      record("fc2.weight", "F32", {3, 8}, 160, 256), record("fc2.bias", "F32", {3}, 256, 268)};
  return records;
}
inline constexpr std::size_t mlp_data_bytes = 268;

inline std::string header_of(const std::vector<std::string>& records) {
  std::string text = "{";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i) text += ',';
    text += records[i];
  }
  return text + "}";
}

// What load must do with a bad file: throw tl::io::error whose message names
// the file and holds each of words, and leave every value of the store as it was.
template <class Store = mlp_store<>>
void check_load_fails_leaving_store_unchanged(const fs::path& file,
                                              std::initializer_list<std::string_view> words,
                                              tl::io::load_options options = {}) {
  Store store;
  fill_distinct(store, 7);
  const std::vector<std::byte> before = value_bytes(store);
  std::string message;
  try {
    tl::io::load(store, file, options);
    BOOST_ERROR("load of a bad file did not throw");
  } catch (const tl::io::error& e) {
    message = e.what();
  }
  BOOST_TEST_INFO("message: " << message);
  BOOST_TEST(message.find(file.string()) != std::string::npos);
  for (const std::string_view word : words) {
    BOOST_TEST_INFO("message: " << message);
    BOOST_TEST(message.find(word) != std::string::npos, "the message holds \"" << word << "\"");
  }
  BOOST_TEST((value_bytes(store) == before), "the store is unchanged");
}

}  // namespace io_test
