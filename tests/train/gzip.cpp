#define BOOST_TEST_MODULE train_gzip
#include <boost/test/unit_test.hpp>

#include <tapeless/train/fashion_mnist.hpp>
#include <tapeless/train/gzip.hpp>

#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "train/temp_dir.hpp"

namespace tt = tapeless::train;
using bytes = std::vector<unsigned char>;

namespace {

bytes idx_file(std::vector<std::uint32_t> dims, const bytes& values) {
  bytes out{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (const auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(d >> shift));
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

// gzip-compresses `data` (one member), as gzip(1) would.
bytes gzip(const bytes& data) {
  z_stream s{};
  BOOST_REQUIRE(deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  bytes out(deflateBound(&s, static_cast<uLong>(data.size())) + 64);
  s.next_in = const_cast<Bytef*>(data.data());
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  BOOST_REQUIRE(deflate(&s, Z_FINISH) == Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

template <class F>
tt::data_error error_of(F f) {
  try {
    f();
  } catch (const tt::data_error& e) {
    return e;
  }
  BOOST_FAIL("no tl::train::data_error was thrown");
  throw;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Pixels of a few hundred images: compressible, but not trivially.
bytes some_pixels(std::size_t n) {
  bytes values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<unsigned char>((i * i + 7 * i) % 251);
  return values;
}

}  // namespace

BOOST_AUTO_TEST_CASE(gzip_compressed_idx_reads_like_the_plain_file) {
  tapeless_test::temp_dir dir;
  const bytes plain = idx_file({300, 4, 4}, some_pixels(300 * 16));
  const auto plain_path = dir.write("images-idx3-ubyte", plain);
  const auto gz_path = dir.write("images-idx3-ubyte.gz", gzip(plain));
  const auto from_gz = tt::read_idx_gz(gz_path);
  const auto from_plain = tt::read_idx(plain_path);
  BOOST_TEST(from_gz.dims == from_plain.dims, boost::test_tools::per_element());
  BOOST_TEST(from_gz.values == from_plain.values, boost::test_tools::per_element());
  BOOST_TEST(from_gz.source == gz_path.string());
}

BOOST_AUTO_TEST_CASE(read_idx_gz_reads_plain_files_too) {
  tapeless_test::temp_dir dir;
  const auto path = dir.write("labels", idx_file({3}, {4, 5, 6}));
  const auto labels = tt::read_idx_gz(path);
  BOOST_TEST(labels.values == (bytes{4, 5, 6}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gunzip_reads_concatenated_members) {
  const bytes first = some_pixels(1000), second(500, 9);
  bytes both = gzip(first);
  const bytes tail = gzip(second);
  both.insert(both.end(), tail.begin(), tail.end());
  bytes expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  BOOST_TEST(tt::gunzip(both, "two") == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gzip_reader_rejects_truncated_stream) {
  tapeless_test::temp_dir dir;
  bytes gz = gzip(idx_file({300, 4, 4}, some_pixels(300 * 16)));
  gz.resize(gz.size() / 2);  // a download cut short
  const auto path = dir.write("cut.gz", gz);
  const auto e = error_of([&] { tt::read_idx_gz(path); });
  BOOST_TEST(e.file() == path.string());
  BOOST_TEST(contains(e.problem(), "truncated"));
  BOOST_TEST(contains(e.problem(), "gzip"));
}

BOOST_AUTO_TEST_CASE(gzip_reader_rejects_corrupt_data) {
  bytes gz = gzip(some_pixels(5000));
  for (std::size_t i = 12; i < 40; ++i) gz[i] ^= 0xA5;  // flip bits in the deflate stream
  const auto e = error_of([&] { tt::gunzip(gz, "corrupt.gz"); });
  BOOST_TEST(e.file() == "corrupt.gz");
  BOOST_TEST(contains(e.problem(), "corrupt gzip data"));
}

BOOST_AUTO_TEST_CASE(gzip_reader_rejects_trailing_garbage) {
  bytes gz = gzip(some_pixels(100));
  gz.push_back('x');
  gz.push_back('y');
  const auto e = error_of([&] { tt::gunzip(gz, "tail.gz"); });
  BOOST_TEST(contains(e.problem(), "2 bytes that are not gzip"));
}

BOOST_AUTO_TEST_CASE(truncated_idx_inside_a_gzip_file_names_the_file) {
  tapeless_test::temp_dir dir;
  bytes plain = idx_file({10, 2}, bytes(20, 1));
  plain.resize(plain.size() - 3);
  const auto path = dir.write("short.gz", gzip(plain));
  const auto e = error_of([&] { tt::read_idx_gz(path); });
  BOOST_TEST(e.file() == path.string());
  BOOST_TEST(contains(e.problem(), "truncated: the header promises 20 data bytes"));
}

BOOST_AUTO_TEST_CASE(fashion_mnist_loader_reads_a_directory_of_files) {
  tapeless_test::temp_dir dir;
  bytes pixels(2 * 784, 0);
  pixels[0] = 255;
  pixels[784 + 783] = 51;
  dir.write("t10k-images-idx3-ubyte.gz", gzip(idx_file({2, 28, 28}, pixels)));
  dir.write("t10k-labels-idx1-ubyte", idx_file({2}, {9, 2}));  // plain files are taken too
  const auto test = tt::load_fashion_mnist(tt::fashion_mnist_split::test, dir.path());
  BOOST_TEST(test.size() == 2u);
  BOOST_TEST(test.features(0)[0] == 1.f);
  BOOST_TEST(test.features(1)[783] == 0.2f);
  BOOST_TEST(test.target(1) == 2);
  BOOST_TEST(test.class_names().at(9) == "Ankle boot");
}

// Thirty training images (pixel 0 of image i is i, label i % 10) and seven
// test images: 5 held out for validation, batches of 4.
BOOST_AUTO_TEST_CASE(fashion_mnist_batches_hold_out_validation_images_and_keep_the_test_set) {
  tapeless_test::temp_dir dir;
  const auto write_split = [&](const std::string& prefix, std::uint32_t count) {
    bytes pixels(count * 784, 0), labels(count);
    for (std::uint32_t i = 0; i < count; ++i) pixels[i * 784] = static_cast<unsigned char>(i), labels[i] = i % 10;
    dir.write(prefix + "-images-idx3-ubyte.gz", gzip(idx_file({count, 28, 28}, pixels)));
    dir.write(prefix + "-labels-idx1-ubyte.gz", gzip(idx_file({count}, labels)));
  };
  write_split("train", 30);
  write_split("t10k", 7);
  tt::fashion_mnist_batches<4> data(dir.path(), {.validation_images = 5, .split_seed = 3, .shuffle_seed = 9});
  BOOST_TEST(data.split.validation.size() == 5u);
  BOOST_TEST(data.split.train.size() == 25u);
  std::vector<std::size_t> all = data.split.train;
  all.insert(all.end(), data.split.validation.begin(), data.split.validation.end());
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(30);
  std::iota(expected.begin(), expected.end(), std::size_t{0});
  BOOST_TEST(all == expected, "training and validation rows partition the 30 images");
  BOOST_TEST(data.train.batches() == 7u);
  BOOST_TEST(data.validation.batches() == 2u);
  BOOST_TEST(data.test.batches() == 2u);
  // Validation reads the held-out rows in order; test reads the test file.
  data.validation.start_epoch(0);
  const auto& first = *data.validation.next();
  for (std::size_t r = 0; r < 4; ++r) {
    BOOST_TEST(first.features(r, 0) == float(data.split.validation[r]) / 255.f);
    BOOST_TEST(first.targets(r) == std::int32_t(data.split.validation[r] % 10));
  }
  data.test.start_epoch(0);
  (void)data.test.next();
  const auto& last_test = *data.test.next();
  BOOST_TEST(last_test.valid == 3u);
  BOOST_TEST(last_test.features(2, 0) == 6.f / 255.f);
  for (std::size_t bad : {std::size_t{0}, std::size_t{30}})
    BOOST_CHECK_THROW(tt::fashion_mnist_batches<4>(dir.path(), {.validation_images = bad}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(fashion_mnist_loader_names_the_debian_package_when_files_are_missing) {
  tapeless_test::temp_dir dir;
  const auto e = error_of([&] { tt::load_fashion_mnist(tt::fashion_mnist_split::train, dir.path()); });
  BOOST_TEST(contains(e.file(), "train-images-idx3-ubyte.gz"));
  BOOST_TEST(contains(e.problem(), "no such file"));
  BOOST_TEST(contains(e.problem(), "apt install dataset-fashion-mnist"));
}

BOOST_AUTO_TEST_CASE(fashion_mnist_from_the_debian_package_has_the_published_counts) {
  const auto& directory = tt::fashion_mnist_debian_directory();
  if (!std::filesystem::exists(directory / "train-labels-idx1-ubyte.gz")) {
    BOOST_TEST_MESSAGE("skipped: " << directory.string()
                                   << " not found (Debian package dataset-fashion-mnist)");
    return;
  }
  const auto train = tt::load_fashion_mnist(tt::fashion_mnist_split::train);
  const auto test = tt::load_fashion_mnist(tt::fashion_mnist_split::test);
  BOOST_TEST(train.size() == 60000u);
  BOOST_TEST(test.size() == 10000u);
  // The first labels of each file, as published: ankle boot (9), then
  // T-shirt (0) for training, pullover (2) for testing.
  BOOST_TEST(train.target(0) == 9);
  BOOST_TEST(train.target(1) == 0);
  BOOST_TEST(test.target(0) == 9);
  BOOST_TEST(test.target(1) == 2);
  BOOST_TEST(train.class_count() == 10u);
  // Pixels scaled to [0, 1]; the first training image's bytes sum to 76247.
  const auto first = train.features(0);
  BOOST_TEST(std::accumulate(first.begin(), first.end(), 0.0) * 255.0 == 76247.0,
             boost::test_tools::tolerance(1e-6));
  const auto all = train.all_features();
  const auto [low, high] = std::minmax_element(all.begin(), all.end());
  BOOST_TEST(*low == 0.f);
  BOOST_TEST(*high == 1.f);
  // Classes are balanced: 6000 training images each.
  std::vector<int> per_class(10, 0);
  for (const auto label : train.all_targets()) ++per_class[static_cast<std::size_t>(label)];
  BOOST_TEST(per_class == std::vector<int>(10, 6000), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_gzip_bomb_is_refused_from_its_header_quickly) {
  tapeless_test::temp_dir dir;
  // 64 MB of zeros behind a valid header that promises them: about 64 KB compressed.
  bytes plain = idx_file({64, 1024, 1024}, {});
  plain.resize(plain.size() + (std::size_t{64} << 20), 0);
  bytes gz = gzip(plain);
  plain = bytes();
  // A header that promises 2^16 * 2^16 * 255 values, behind a few compressed bytes.
  const bytes lie = gzip(idx_file({0xFFFFu, 0xFFFFu, 255}, bytes(4096, 0)));
  const auto path = dir.write("lie.gz", lie);
  const auto e = error_of([&] { tt::read_idx_gz(path); });
  BOOST_TEST(contains(e.problem(), "more than " + std::to_string(lie.size()) + " compressed bytes can hold"), e.problem());
  // An honest header promising what the stream holds reads; one promising
  // fewer values than the stream inflates to stops after them.
  const auto honest = dir.write("zeros.gz", gz);
  BOOST_TEST(tt::read_idx_gz(honest).values.size() == std::size_t{64} << 20);
  bytes small = idx_file({1, 1, 1}, {});
  small.resize(small.size() + (std::size_t{64} << 20), 0);
  const auto bomb = dir.write("bomb.gz", gzip(small));
  const auto b = error_of([&] { tt::read_idx_gz(bomb); });
  BOOST_TEST(b.problem() == "at least 4096 bytes after the 1 data bytes the header (1x1x1) promises; is the header right?");
  // "At least": it stopped one small buffer past the values, not 64 MB later.
  // And gunzip takes a limit.
  const auto limited = error_of([&] { tt::gunzip(gz, "zeros.gz", 1000); });
  BOOST_TEST(contains(limited.problem(), "inflates to more than 1000 bytes"));
}

BOOST_AUTO_TEST_CASE(readers_refuse_a_fifo_and_a_device_at_once) {
  tapeless_test::temp_dir dir;
  const auto fifo = dir / "pipe";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opening a FIFO to read waits for a writer: the reader must not.
  const auto e = error_of([&] { tt::read_idx_gz(fifo); });
  BOOST_TEST(e.problem() == "cannot read: it is a FIFO (named pipe), not a regular file");
  if (std::filesystem::exists("/dev/zero")) {
    const auto z = error_of([] { tt::read_idx("/dev/zero"); });
    BOOST_TEST(z.problem() == "cannot read: it is a character device, not a regular file");
  }
  const auto d = error_of([&] { tt::read_idx(dir.path()); });
  BOOST_TEST(contains(d.problem(), "it is a directory, not a regular file"));
  const auto empty = error_of([&] { tt::read_idx_gz(dir.write("empty", bytes{})); });
  BOOST_TEST(contains(empty.problem(), "truncated: 0 bytes"));
}
