// examples/fashion_mnist_mlp, built with MPI, run as one process and under
// `mpirun -np 2` on a small made-up data set in Fashion-MNIST's files: the
// two runs must train alike (the ranks share each batch of 64), and only
// rank 0 may print and write. The paths come from tests/dist/meson.build:
// TAPELESS_EXAMPLE (the example), TAPELESS_MPIRUN, TAPELESS_WORK_DIRECTORY.
#define BOOST_TEST_MODULE dist_fashion_mnist_mlp_example
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tl = tapeless;
namespace fs = std::filesystem;

namespace {

// The example's model, for loading what it saves.
constexpr auto X = tl::input<"X", float, 64, 784>;
constexpr auto h1 = tl::relu(tl::nn::linear<"fc1", 256>((X - tl::c<286, 1000>) * tl::c<1000, 353>));
constexpr auto logits = tl::nn::linear<"fc3", 10>(tl::relu(tl::nn::linear<"fc2", 128>(h1)));

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  BOOST_TEST_REQUIRE(value != nullptr, std::string(name) + " is not set: run this test through meson test");
  return value;
}

void write_big_endian(std::ofstream& out, std::uint32_t v) {
  const char bytes[] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.write(bytes, 4);
}

// n 28x28 images in IDX files (uncompressed, which the loader also reads):
// class c brightens rows 2c to 2c + 2 over noise, so a few steps learn something.
void write_split(const fs::path& directory, const std::string& prefix, std::size_t n, std::uint64_t seed) {
  tl::random_stream rng{seed};
  std::ofstream images(directory / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  std::ofstream labels(directory / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  write_big_endian(images, 0x803), write_big_endian(images, std::uint32_t(n));
  write_big_endian(images, 28), write_big_endian(images, 28);
  write_big_endian(labels, 0x801), write_big_endian(labels, std::uint32_t(n));
  std::vector<char> pixels(784);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = rng.below(10);
    for (std::size_t p = 0; p < 784; ++p)
      pixels[p] = char(static_cast<unsigned char>(rng.below(200) + (p / 28 >= 2 * c && p / 28 < 2 * c + 3 ? 40 : 0)));
    images.write(pixels.data(), 784);
    labels.put(char(c));
  }
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The CSV log's column `column` (0 is the epoch), one value per epoch.
std::vector<double> log_column(const fs::path& csv, std::size_t column) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // the header
  std::vector<double> values;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    for (std::size_t k = 0; k <= column; ++k) std::getline(fields, field, ',');
    values.push_back(std::stod(field));
  }
  return values;
}

// Measured: the weights of the two runs differ by at most 2.5e-6 (training
// moved them by up to 0.023; Adam's step of about lr per weight turns a
// gradient's last bits, summed in another order, into a few ulps of a
// weight), the losses by at most 2e-8 relative. Ranks that read the same rows
// instead of a shard each: 0.026 and 5-50%.
constexpr double weight_tolerance = 1e-4;
constexpr double loss_tolerance = 1e-5;

}  // namespace

BOOST_AUTO_TEST_CASE(the_example_on_two_ranks_trains_as_one_process) {
  const fs::path example = environment("TAPELESS_EXAMPLE"), mpirun = environment("TAPELESS_MPIRUN");
  const fs::path work = fs::path(environment("TAPELESS_WORK_DIRECTORY")) / "dist_fashion_mnist_mlp_example.files";
  fs::remove_all(work);
  const fs::path data = work / "data", one = work / "one_process", two = work / "two_ranks";
  for (const auto& d : {data, one, two}) fs::create_directories(d);
  // 5,000 images go to validation (the example's split), 1,000 train: 16 batches of 64 per epoch.
  write_split(data, "train", 6000, 1);
  write_split(data, "t10k", 300, 2);

  const std::string arguments = " " + data.string() + " 2 > output.txt 2>&1";
  const std::string alone = "cd " + one.string() + " && " + example.string() + arguments;
  const std::string ranks = "cd " + two.string() + " && " + mpirun.string() +
                            " -np 2 --oversubscribe --allow-run-as-root " + example.string() + arguments;
  BOOST_TEST_REQUIRE(std::system(alone.c_str()) == 0, read_text(one / "output.txt"));
  BOOST_TEST_REQUIRE(std::system(ranks.c_str()) == 0, read_text(two / "output.txt"));

  // Rank 0 alone prints: one report, and the line that says the batch is shared.
  const std::string printed = read_text(two / "output.txt");
  BOOST_TEST(count_of(printed, "test accuracy:") == 1u, printed);
  BOOST_TEST(count_of(printed, "model: 784-256-128-10") == 1u, printed);
  BOOST_TEST(count_of(printed, "processes: 2, each with 32 rows of every batch of 64") == 1u, printed);
  BOOST_TEST(count_of(read_text(one / "output.txt"), "processes:") == 0u);

  // The same training: the weights saved, and the losses logged per epoch.
  auto alone_params = tl::parameters_of(logits), ranks_params = tl::parameters_of(logits);
  tl::io::load(alone_params, one / "fashion_mnist_mlp.safetensors");
  tl::io::load(ranks_params, two / "fashion_mnist_mlp.safetensors");
  double worst = 0, moved = 0;
  auto fresh = tl::parameters_of(logits);
  tl::init::he_uniform(fresh, /*seed*/ 1);  // the example's initial weights
  std::vector<std::vector<float>> alone_values, fresh_values;
  alone_params.visit([&](std::string_view, const auto& v, const auto&) { alone_values.emplace_back(v.data(), v.data() + v.size()); });
  fresh.visit([&](std::string_view, const auto& v, const auto&) { fresh_values.emplace_back(v.data(), v.data() + v.size()); });
  std::size_t t = 0;
  ranks_params.visit([&](std::string_view, const auto& v, const auto&) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      worst = std::max(worst, std::abs(double(v.data()[i]) - alone_values[t][i]));
      moved = std::max(moved, std::abs(double(alone_values[t][i]) - fresh_values[t][i]));
    }
    ++t;
  });
  BOOST_TEST_MESSAGE("largest difference of a weight between the runs " << worst << "; largest change by training "
                                                                         << moved);
  BOOST_TEST(moved > 1e-2);  // it trained: 32 Adam steps at lr 1e-3 and 5e-4
  BOOST_TEST(worst <= weight_tolerance);
  for (const std::size_t column : {1u, 3u}) {  // train_loss, val_loss
    const auto a = log_column(one / "fashion_mnist_mlp.csv", column), b = log_column(two / "fashion_mnist_mlp.csv", column);
    BOOST_TEST_REQUIRE(a.size() == 2u);
    BOOST_TEST_REQUIRE(b.size() == 2u);
    for (std::size_t e = 0; e < 2; ++e) {
      BOOST_TEST_MESSAGE("log column " << column << ", epoch " << e << ": " << a[e] << " and " << b[e]
                                       << ", relative difference " << std::abs(a[e] - b[e]) / std::abs(a[e]));
      BOOST_TEST(std::abs(a[e] - b[e]) <= loss_tolerance * std::abs(a[e]));
    }
  }
}
