#define BOOST_TEST_MODULE train_idx
#include <boost/test/unit_test.hpp>

#include <tapeless/train/idx.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "train/temp_dir.hpp"

namespace tt = tapeless::train;
using bytes = std::vector<unsigned char>;

namespace {

// An unsigned-byte IDX file of the given dims and values.
bytes idx_file(std::vector<std::uint32_t> dims, const bytes& values) {
  bytes out{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (const auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(d >> shift));
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

// The data_error a call throws; fails the test if it throws none.
template <class F>
tt::data_error error_of(F f) {
  try {
    f();
  } catch (const tt::data_error& e) {
    return e;
  }
  BOOST_FAIL("no tl::train::data_error was thrown");
  throw;  // not reached
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(idx_reader_reads_dimensions_and_values) {
  tapeless_test::temp_dir dir;
  bytes values(3 * 2 * 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<unsigned char>(i * 20);
  const auto file = dir.write("images", idx_file({3, 2, 2}, values));
  const auto array = tt::read_idx(file);
  BOOST_TEST(array.dims == (std::vector<std::uint32_t>{3, 2, 2}), boost::test_tools::per_element());
  BOOST_TEST(array.items() == 3u);
  BOOST_TEST(array.item_size() == 4u);
  BOOST_TEST(array.values == values, boost::test_tools::per_element());
  BOOST_TEST(array.source == file.string());
}

BOOST_AUTO_TEST_CASE(idx_reader_reads_large_dimensions_big_endian) {
  // 0x0102 items: a little-endian reader would see 0x0201.
  const bytes values(0x0102, 7);
  const auto array = tt::parse_idx(idx_file({0x0102}, values), "labels");
  BOOST_TEST(array.items() == 0x0102u);
  BOOST_TEST(array.item_size() == 1u);
}

BOOST_AUTO_TEST_CASE(idx_reader_rejects_wrong_magic) {
  bytes file = idx_file({2}, {1, 2});
  file[0] = 0x89;  // a PNG, say
  const auto e = error_of([&] { tt::parse_idx(file, "picture.png"); });
  BOOST_TEST(e.file() == "picture.png");
  BOOST_TEST(contains(e.problem(), "wrong magic"));
  BOOST_TEST(contains(e.what(), "picture.png: wrong magic"));
}

BOOST_AUTO_TEST_CASE(idx_reader_rejects_truncated_file) {
  tapeless_test::temp_dir dir;
  bytes file = idx_file({3, 2, 2}, bytes(12, 1));
  file.resize(file.size() - 5);  // a download cut short
  const auto path = dir.write("cut", file);
  const auto e = error_of([&] { tt::read_idx(path); });
  BOOST_TEST(e.file() == path.string());
  BOOST_TEST(contains(e.problem(), "truncated"));
  BOOST_TEST(contains(e.problem(), "12 data bytes (3x2x2)"));
  BOOST_TEST(contains(e.problem(), "holds 7"));
}

BOOST_AUTO_TEST_CASE(idx_reader_rejects_truncated_header) {
  const bytes file = idx_file({3, 2, 2}, {});
  const auto e = error_of([&] { tt::parse_idx(std::span(file).first(9), "short"); });
  BOOST_TEST(contains(e.problem(), "truncated"));
  BOOST_TEST(contains(e.problem(), "header"));
  const auto tiny = error_of([&] { tt::parse_idx(bytes{0, 0}, "tiny"); });
  BOOST_TEST(contains(tiny.problem(), "truncated"));
}

BOOST_AUTO_TEST_CASE(idx_reader_rejects_bytes_after_the_data) {
  bytes file = idx_file({2}, {1, 2});
  file.push_back(3);
  const auto e = error_of([&] { tt::parse_idx(file, "long"); });
  BOOST_TEST(contains(e.problem(), "1 bytes after the 2 data bytes"));
}

BOOST_AUTO_TEST_CASE(idx_reader_rejects_unsupported_element_type) {
  bytes file = idx_file({1}, {0, 0, 0, 0});
  file[2] = 0x0D;  // float32
  const auto e = error_of([&] { tt::parse_idx(file, "floats"); });
  BOOST_TEST(contains(e.problem(), "0x0d (float32)"));
  BOOST_TEST(contains(e.problem(), "not supported"));
}

BOOST_AUTO_TEST_CASE(idx_reader_names_a_missing_file_with_a_hint) {
  const auto e = error_of([] { tt::read_idx("no-such-dir-tapeless/train-images-idx3-ubyte"); });
  BOOST_TEST(e.file() == "no-such-dir-tapeless/train-images-idx3-ubyte");
  BOOST_TEST(contains(e.problem(), "no such file"));
  BOOST_TEST(contains(e.problem(), "working directory"));  // the hint for a relative path
}

BOOST_AUTO_TEST_CASE(idx_reader_points_gzip_files_to_read_idx_gz) {
  const bytes gz{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0};
  const auto e = error_of([&] { tt::parse_idx(gz, "t10k-labels-idx1-ubyte.gz"); });
  BOOST_TEST(contains(e.problem(), "gzip"));
  BOOST_TEST(contains(e.problem(), "read_idx_gz"));
}

BOOST_AUTO_TEST_CASE(idx_classification_scales_pixels_to_unit_interval) {
  const auto images = tt::parse_idx(idx_file({2, 2, 2}, {0, 51, 255, 102, 255, 0, 0, 204}), "images");
  const auto labels = tt::parse_idx(idx_file({2}, {7, 3}), "labels");
  const auto data = tt::idx_classification<4>(images, labels, 10);
  BOOST_TEST(data.size() == 2u);
  BOOST_TEST(data.features(0)[0] == 0.f);
  BOOST_TEST(data.features(0)[1] == 0.2f);
  BOOST_TEST(data.features(0)[2] == 1.f);  // exactly 1: 255 / 255
  BOOST_TEST(data.features(1)[3] == 0.8f);
  BOOST_TEST(data.target(0) == 7);
  BOOST_TEST(data.target(1) == 3);
  BOOST_TEST(data.class_count() == 8u);
}

BOOST_AUTO_TEST_CASE(idx_classification_rejects_inconsistent_counts) {
  const auto images = tt::parse_idx(idx_file({3, 2}, bytes(6, 0)), "images");
  const auto labels = tt::parse_idx(idx_file({2}, {1, 2}), "labels");
  const auto e = error_of([&] { tt::idx_classification<2>(images, labels, 10); });
  BOOST_TEST(e.file() == "labels");
  BOOST_TEST(contains(e.problem(), "inconsistent counts: 2 labels, but images holds 3 images"));
}

BOOST_AUTO_TEST_CASE(idx_classification_rejects_items_of_another_width) {
  const auto images = tt::parse_idx(idx_file({2, 3, 3}, bytes(18, 0)), "images");
  const auto labels = tt::parse_idx(idx_file({2}, {1, 2}), "labels");
  const auto e = error_of([&] { tt::idx_classification<784>(images, labels, 10); });
  BOOST_TEST(e.file() == "images");
  BOOST_TEST(contains(e.problem(), "9 values (2x3x3)"));
  BOOST_TEST(contains(e.problem(), "F = 784"));
}

BOOST_AUTO_TEST_CASE(idx_classification_rejects_swapped_files) {
  const auto images = tt::parse_idx(idx_file({2, 2}, bytes(4, 0)), "images");
  const auto labels = tt::parse_idx(idx_file({2}, {1, 2}), "labels");
  const auto e = error_of([&] { tt::idx_classification<1>(labels, images, 10); });
  BOOST_TEST(contains(e.problem(), "swapped"));
}

BOOST_AUTO_TEST_CASE(labels_outside_the_class_count_are_reported_with_their_row) {
  const auto images = tt::parse_idx(idx_file({3, 1}, {0, 0, 0}), "images");
  const auto labels = tt::parse_idx(idx_file({3}, {1, 12, 2}), "labels");
  // The reader checks them, and blames the labels file.
  const auto read = error_of([&] { tt::idx_classification<1>(images, labels, 10); });
  BOOST_TEST(read.file() == "labels");
  BOOST_TEST(read.problem() == "row 1: class id 12 is outside [0, 10), the 10 classes");
  const auto data = tt::idx_classification<1>(images, labels, 13);
  BOOST_TEST(data.classes() == 13u);
  BOOST_CHECK_NO_THROW(data.check_labels(13));
  // check_labels blames the labels file too, not the images.
  const auto e = error_of([&] { data.check_labels(10); });
  BOOST_TEST(e.file() == "labels");
  BOOST_TEST(e.problem() == "row 1: class id 12 is outside [0, 10), the 10 classes");
}

BOOST_AUTO_TEST_CASE(class_count_of_the_largest_class_id_does_not_overflow) {
  tt::dataset<1> data;
  const float row[1] = {0};
  data.push_back(std::span<const float, 1>(row), 2147483647);
  BOOST_TEST(data.class_count() == 2147483648u);
  const auto e = error_of([&] { data.check_labels(10); });
  BOOST_TEST(e.problem() == "row 0: class id 2147483647 is outside [0, 10), the 10 classes");
}

BOOST_AUTO_TEST_CASE(a_data_set_with_declared_classes_rejects_rows_outside_them) {
  tt::dataset<1> data;
  data.set_source("mine");
  data.declare_classes(10);
  const float row[1] = {0};
  data.push_back(std::span<const float, 1>(row), 9);
  for (const std::int32_t id : {12, -1, 2147483647}) {
    const auto e = error_of([&] { data.push_back(std::span<const float, 1>(row), id); });
    BOOST_TEST(e.file() == "mine");
    BOOST_TEST(e.problem() == "row 1: class id " + std::to_string(id) + " is outside [0, 10), the 10 classes");
  }
  BOOST_TEST(data.size() == 1u);  // as it was
  BOOST_CHECK_THROW(data.declare_classes(5), tt::data_error);  // holds a 9
  BOOST_TEST(data.classes() == 10u);
}

BOOST_AUTO_TEST_CASE(idx_reader_checks_the_item_size_for_overflow_when_there_are_no_items) {
  // 0 items make a product of 0, but item_size() multiplies the other dimensions.
  const auto e = error_of([] {
    tt::parse_idx(idx_file({0, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}), "huge");
  });
  BOOST_TEST(contains(e.problem(), "overflow the address space"));
}
