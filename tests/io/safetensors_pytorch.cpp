#define BOOST_TEST_MODULE io_safetensors_pytorch
#include <boost/test/unit_test.hpp>

#include "io/support.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

// Exchange with PyTorch both ways: load the file tests/reference/safetensors_mlp.py
// wrote from a torch model, and have the plain-Python reader of
// tests/reference/safetensors_format.py check what tapeless saves.
// TAPELESS_TEST_SOURCE_DIR and TAPELESS_TEST_PYTHON come from tests/io/meson.build.

namespace mlp {
#include "reference/safetensors_mlp.inc"
}

using namespace io_test;

namespace {

const fs::path reference_dir = fs::path(TAPELESS_TEST_SOURCE_DIR) / "tests" / "reference";

std::string shell_quoted(std::string_view s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// One value as safetensors_check.py reads it: exact hexadecimal for floats.
template <class T>
std::string value_text(T v) {
  char buffer[64];
  std::to_chars_result r;
  if constexpr (std::is_floating_point_v<T>)
    r = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::hex);
  else
    r = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, r.ptr);
}

// "--tensor NAME DTYPE SHAPE VALUES" for every parameter of the store.
template <class Store>
std::string expected_tensors(Store& store) {
  std::string args;
  store.visit_entries([&]<class Entry>(Entry, const auto& value, const auto&) {
    std::string shape, values;
    for (const std::size_t d : Entry::shape_type::dims) {
      if (!shape.empty()) shape += ',';
      shape += std::to_string(d);
    }
    for (const auto v : value) {
      if (!values.empty()) values += ',';
      values += value_text(v);
    }
    args += " --tensor " + shell_quoted(Entry::name.view()) + " " +
            std::string(tl::io::detail::dtype_name<typename Entry::element_type>()) + " " +
            shell_quoted(shape) + " " + shell_quoted(values);
  });
  return args;
}

// The exit status of safetensors_check.py on file with these arguments.
int python_check(const fs::path& file, const std::string& args) {
  const std::string command = shell_quoted(TAPELESS_TEST_PYTHON) + " " +
                              shell_quoted((reference_dir / "safetensors_check.py").string()) +
                              " " + shell_quoted(file.string()) + args;
  const int status = std::system(command.c_str());
  BOOST_TEST_INFO("command: " << command);
  BOOST_TEST_REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

template <std::size_t N, class Tensor>
void check_equal(const Tensor& loaded, const std::array<float, N>& expected) {
  BOOST_TEST_REQUIRE(loaded.size() == N);
  for (std::size_t i = 0; i < N; ++i) {
    BOOST_TEST_INFO("element " << i);
    BOOST_TEST(loaded[i] == expected[i]);
  }
}

void fill_from_reference(mlp_store<>& store) {
  std::copy(mlp::fc1_weight.begin(), mlp::fc1_weight.end(), store.get<"fc1.weight">().begin());
  std::copy(mlp::fc1_bias.begin(), mlp::fc1_bias.end(), store.get<"fc1.bias">().begin());
  std::copy(mlp::fc2_weight.begin(), mlp::fc2_weight.end(), store.get<"fc2.weight">().begin());
  std::copy(mlp::fc2_bias.begin(), mlp::fc2_bias.end(), store.get<"fc2.bias">().begin());
}

}  // namespace

BOOST_AUTO_TEST_CASE(load_reads_the_pytorch_mlp_exactly) {
  mlp_store<> store;
  tl::io::load(store, reference_dir / "safetensors_mlp.safetensors");
  check_equal(store.get<"fc1.weight">(), mlp::fc1_weight);
  check_equal(store.get<"fc1.bias">(), mlp::fc1_bias);
  check_equal(store.get<"fc2.weight">(), mlp::fc2_weight);
  check_equal(store.get<"fc2.bias">(), mlp::fc2_bias);
  BOOST_TEST(store.get<"fc1.weight">()(1, 3) == mlp::fc1_weight[1 * mlp::inputs + 3]);  // [out, in]
}

BOOST_AUTO_TEST_CASE(read_metadata_reads_the_pytorch_files_metadata) {
  const tl::io::metadata meta =
      tl::io::read_metadata(reference_dir / "safetensors_mlp.safetensors");
  BOOST_TEST((meta == tl::io::metadata{{"format", "pt"}}));
}

BOOST_AUTO_TEST_CASE(reference_mlp_output_follows_from_its_parameters) {
  // The forward pass written out in double: the .inc's outputs are what its
  // parameters give on its inputs, so a later forward-pass test may trust them.
  for (std::size_t n = 0; n < mlp::batch; ++n) {
    std::array<double, mlp::hidden> h{};
    for (std::size_t j = 0; j < mlp::hidden; ++j) {
      double s = mlp::fc1_bias[j];
      for (std::size_t i = 0; i < mlp::inputs; ++i)
        s += double{mlp::fc1_weight[j * mlp::inputs + i]} * mlp::input[n * mlp::inputs + i];
      h[j] = s > 0 ? s : 0;
    }
    for (std::size_t k = 0; k < mlp::outputs; ++k) {
      double y = mlp::fc2_bias[k];
      for (std::size_t j = 0; j < mlp::hidden; ++j)
        y += double{mlp::fc2_weight[k * mlp::hidden + j]} * h[j];
      BOOST_TEST_INFO("sample " << n << ", output " << k);
      BOOST_TEST(std::abs(y - mlp::output_double[n * mlp::outputs + k]) < 1e-12);
      BOOST_TEST(std::abs(y - mlp::output[n * mlp::outputs + k]) < 1e-6);
    }
  }
}

BOOST_AUTO_TEST_CASE(python_reads_names_dtypes_shapes_and_values_tapeless_saved) {
  scratch_directory dir;
  mlp_store<> store;
  fill_from_reference(store);
  tl::io::save(store, dir / "mlp.safetensors", {{"format", "pt"}, {"saved_by", "tapeless"}});
  BOOST_TEST(python_check(dir / "mlp.safetensors",
                          expected_tensors(store) +
                              " --metadata format pt --metadata saved_by tapeless") == 0);
}

BOOST_AUTO_TEST_CASE(python_reads_double_integer_and_scalar_parameters_tapeless_saved) {
  using store_type =
      tl::parameter_store<tl::heap_storage, tl::parameter_entry<"w", double, tl::shape<2, 3>>,
                          tl::parameter_entry<"ids", std::int32_t, tl::shape<4>>,
                          tl::parameter_entry<"step", std::int64_t, tl::shape<>>,
                          tl::parameter_entry<"mask", std::uint8_t, tl::shape<2, 2>>>;
  scratch_directory dir;
  store_type store;
  fill_distinct(store, -3);
  store.get<"w">()(0, 1) = 0.1;
  store.get<"ids">()(3) = std::numeric_limits<std::int32_t>::min();
  store.get<"step">()() = std::int64_t{1} << 40;
  tl::io::save(store, dir / "mixed.safetensors");
  BOOST_TEST(python_check(dir / "mixed.safetensors", expected_tensors(store)) == 0);
}

BOOST_AUTO_TEST_CASE(python_check_fails_on_a_value_that_differs) {
  // The control: the checker is not vacuous. One value one ulp off, a wrong
  // shape, a missing tensor, wrong metadata: each makes it exit with 1.
  scratch_directory dir;
  mlp_store<> store;
  fill_from_reference(store);
  tl::io::save(store, dir / "mlp.safetensors");
  const std::string right = expected_tensors(store);
  BOOST_TEST_REQUIRE(python_check(dir / "mlp.safetensors", right) == 0);

  mlp_store<> other = store;
  float& v = other.get<"fc2.weight">()(2, 7);
  v = std::nextafter(v, 1.f);
  BOOST_TEST(python_check(dir / "mlp.safetensors", expected_tensors(other)) == 1);
  BOOST_TEST(python_check(dir / "mlp.safetensors", right + " --metadata format pt") == 1);
  const std::string wrong_shape = [&] {
    std::string args = right;
    return args.replace(args.find("'8,4'"), 5, "'4,8'");
  }();
  BOOST_TEST(python_check(dir / "mlp.safetensors", wrong_shape) == 1);
  const std::string missing = right.substr(0, right.find(" --tensor 'fc2.bias'"));
  BOOST_TEST(python_check(dir / "mlp.safetensors", missing) == 1);
}
