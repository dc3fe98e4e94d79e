#define BOOST_TEST_MODULE train_csv
#include <boost/test/unit_test.hpp>

#include <tapeless/train/csv.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "train/temp_dir.hpp"

namespace tt = tapeless::train;

namespace {

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

template <std::size_t F, class T>
std::vector<float> row(const tt::dataset<F, T>& data, std::size_t i) {
  const auto r = data.features(i);
  return {r.begin(), r.end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(csv_reader_detects_a_header_row) {
  const auto data = tt::parse_csv<2>("x,y,label\n0.5,1.5,1\n-2,3e2,0\n", "points.csv");
  BOOST_TEST(data.size() == 2u);
  BOOST_TEST(row(data, 0) == (std::vector<float>{0.5f, 1.5f}), boost::test_tools::per_element());
  BOOST_TEST(row(data, 1) == (std::vector<float>{-2.f, 300.f}), boost::test_tools::per_element());
  BOOST_TEST(data.target(0) == 1);
  BOOST_TEST(data.target(1) == 0);
}

BOOST_AUTO_TEST_CASE(csv_reader_reads_files_declared_without_a_header) {
  const auto data = tt::parse_csv<2>("1,2,3\n4,5,6\n", "plain.csv", {.header = tt::csv_header::absent});
  BOOST_TEST(data.size() == 2u);  // the first row is data, not a header
  BOOST_TEST(data.target(0) == 3);
  BOOST_TEST(row(data, 1) == (std::vector<float>{4.f, 5.f}), boost::test_tools::per_element());
  // An all-numeric first row said to be a header is skipped.
  const auto skipped = tt::parse_csv<2>("1,2,3\n4,5,6\n", "numbered.csv", {.header = tt::csv_header::present});
  BOOST_TEST(skipped.size() == 1u);
  BOOST_TEST(skipped.target(0) == 6);
}

BOOST_AUTO_TEST_CASE(csv_reader_takes_the_label_column_by_index_or_name) {
  const char* text = "label,a,b\n2,10,20\n1,30,40\n";
  const auto first = tt::parse_csv<2>(text, "t.csv", {.label_column = 0});
  BOOST_TEST(first.target(0) == 2);
  BOOST_TEST(row(first, 1) == (std::vector<float>{30.f, 40.f}), boost::test_tools::per_element());
  const auto named = tt::parse_csv<2>(text, "t.csv", {.label_name = "label"});
  BOOST_TEST(named.target(1) == 1);
  const auto from_end = tt::parse_csv<2>("a,b,c\n1,2,3\n", "t.csv", {.label_column = -2});
  BOOST_TEST(from_end.target(0) == 2);
  BOOST_TEST(row(from_end, 0) == (std::vector<float>{1.f, 3.f}), boost::test_tools::per_element());
  const auto e = error_of([&] { tt::parse_csv<2>(text, "t.csv", {.label_name = "class"}); });
  BOOST_TEST(contains(e.problem(), "no column named 'class'"));
  BOOST_TEST(contains(e.problem(), "'label', 'a', 'b'"));
}

BOOST_AUTO_TEST_CASE(csv_reader_maps_text_labels_to_class_ids_in_order_of_appearance) {
  const auto iris = tt::parse_csv<2>(
      "petal_length,petal_width,species\n1.4,0.2,setosa\n4.7,1.4,versicolor\n1.3,0.2,setosa\n6.0,2.5,virginica\n",
      "iris.csv", {.text_labels = true});
  BOOST_TEST(iris.size() == 4u);
  const std::vector<std::int32_t> ids(iris.all_targets().begin(), iris.all_targets().end());
  BOOST_TEST(ids == (std::vector<std::int32_t>{0, 1, 0, 2}), boost::test_tools::per_element());
  BOOST_TEST(iris.class_names() == (std::vector<std::string>{"setosa", "versicolor", "virginica"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(csv_reader_reads_float_targets) {
  const auto houses = tt::parse_csv<1, float>("rooms,price\n3,250000.5\n2,-1.25\n", "houses.csv");
  BOOST_TEST(houses.target(0) == 250000.5f);
  BOOST_TEST(houses.target(1) == -1.25f);
}

BOOST_AUTO_TEST_CASE(csv_reader_reports_a_bad_cell_with_line_and_column) {
  const auto e = error_of([] { tt::parse_csv<3>("a,b,c,y\n1,2,3,0\n\n4,five,6,1\n", "data.csv"); });
  BOOST_TEST(e.file() == "data.csv");
  // Line 4 of the file (blank lines count), column 2.
  BOOST_TEST(e.problem() == "line 4, column 2: 'five' is not a finite number");
  const auto empty = error_of([] { tt::parse_csv<2>("1,,0\n", "holes.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(empty.problem() == "line 1, column 2: empty cell, a number was expected");
  const auto nan = error_of([] { tt::parse_csv<2>("1,-nan,0\n", "nan.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(contains(nan.problem(), "'-nan' is not a finite number"));
  // A header with an empty first cell (a pandas index column) is still a header.
  BOOST_TEST(tt::parse_csv<2>(",a,y\n0,1,1\n", "indexed.csv").size() == 1u);
}

BOOST_AUTO_TEST_CASE(csv_reader_reports_wrong_column_counts) {
  const auto width = error_of([] { tt::parse_csv<4>("1,2,3\n", "narrow.csv"); });
  BOOST_TEST(contains(width.problem(), "line 1: 3 columns; a data set of F = 4 features reads F + 1"));
  const auto ragged = error_of([] { tt::parse_csv<2>("1,2,0\n3,4\n", "ragged.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(ragged.problem() == "line 2: 2 columns, the first row has 3");
}

BOOST_AUTO_TEST_CASE(csv_reader_reports_labels_that_are_not_class_ids) {
  const auto fraction = error_of([] { tt::parse_csv<1>("1,0.5\n", "f.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(contains(fraction.problem(), "line 1, column 2: label '0.5' is not an integer class id"));
  const auto negative = error_of([] { tt::parse_csv<1>("1,-1\n", "n.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(contains(negative.problem(), "is negative"));
  // "3.0" is a class id, as pandas writes integer columns.
  BOOST_TEST(tt::parse_csv<1>("1,3.0\n", "p.csv", {.header = tt::csv_header::absent}).target(0) == 3);
}

BOOST_AUTO_TEST_CASE(csv_reader_handles_quotes_spaces_crlf_and_blank_lines) {
  const auto data = tt::parse_csv<2>("\xEF\xBB\xBF\"x, first\",\"y\",label\r\n"
                                     " 1 , \"2.5\" ,  1\r\n"
                                     "\r\n"
                                     "+3,4,0\r\n",
                                     "quoted.csv", {.label_name = "label"});
  BOOST_TEST(data.size() == 2u);
  BOOST_TEST(row(data, 0) == (std::vector<float>{1.f, 2.5f}), boost::test_tools::per_element());
  BOOST_TEST(row(data, 1) == (std::vector<float>{3.f, 4.f}), boost::test_tools::per_element());
  const auto open = error_of([] { tt::parse_csv<1>("\"1,2\n", "open.csv"); });
  BOOST_TEST(contains(open.problem(), "line 1: a quoted cell is not closed"));
}

BOOST_AUTO_TEST_CASE(csv_reader_takes_another_delimiter) {
  const auto data = tt::parse_csv<2>("a;b;y\n1.5;2;1\n", "semicolons.csv", {.delimiter = ';'});
  BOOST_TEST(data.size() == 1u);
  BOOST_TEST(row(data, 0) == (std::vector<float>{1.5f, 2.f}), boost::test_tools::per_element());
  // Read with the default ',' each line is one column.
  BOOST_CHECK_THROW(tt::parse_csv<2>("a;b;y\n1.5;2;1\n", "semicolons.csv"), tt::data_error);
}

BOOST_AUTO_TEST_CASE(csv_reader_reads_a_file_and_reports_a_missing_one) {
  tapeless_test::temp_dir dir;
  const auto path = dir.write("points.csv", "x,y\n1,0\n2,1\n3,1\n");
  const auto data = tt::read_csv<1>(path);
  BOOST_TEST(data.size() == 3u);
  BOOST_TEST(data.source() == path.string());
  const auto e = error_of([&] { tt::read_csv<1>(dir / "absent.csv"); });
  BOOST_TEST(e.file() == (dir / "absent.csv").string());
  BOOST_TEST(contains(e.problem(), "no such file"));
}

BOOST_AUTO_TEST_CASE(csv_reader_rejects_options_that_cannot_apply) {
  BOOST_CHECK_THROW((tt::parse_csv<1, float>("1,a\n", "x.csv", {.text_labels = true})), std::invalid_argument);
  BOOST_CHECK_THROW(tt::parse_csv<1>("a,b\n1,2\n", "x.csv", {.header = tt::csv_header::absent, .label_name = "b"}),
                    std::invalid_argument);
  const auto e = error_of([] { tt::parse_csv<1>("1,2\n", "x.csv", {.label_column = 5}); });
  BOOST_TEST(contains(e.problem(), "label_column 5 is outside the 2 columns"));
}

BOOST_AUTO_TEST_CASE(csv_reader_requires_a_header_row_unless_declared_absent) {
  // A headerless file read with the defaults: its first row is not silently dropped.
  const auto e = error_of([] { tt::parse_csv<2>("1,2,3\n4,5,6\n", "plain.csv"); });
  BOOST_TEST(contains(e.problem(), "line 1: a header row is required and this first row holds only numbers"));
  BOOST_TEST(contains(e.problem(), "csv_header::absent"));
  // A first data row with a bad cell is an error in it, not taken as a header.
  const auto bad = error_of([] { tt::parse_csv<2>("1,x,3\n4,5,6\n", "typo.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(bad.problem() == "line 1, column 2: 'x' is not a finite number");
}

BOOST_AUTO_TEST_CASE(csv_reader_rejects_empty_and_header_only_files) {
  const auto empty = error_of([] { tt::parse_csv<2>("", "empty.csv"); });
  BOOST_TEST(contains(empty.problem(), "empty"));
  const auto blank = error_of([] { tt::parse_csv<2>("\n\n", "blank.csv", {.header = tt::csv_header::absent}); });
  BOOST_TEST(contains(blank.problem(), "empty"));
  const auto header_only = error_of([] { tt::parse_csv<2>("a,b,y\n", "header.csv"); });
  BOOST_TEST(contains(header_only.problem(), "no data rows after the header"));
  tapeless_test::temp_dir dir;
  const auto path = dir.write("zero.csv", "");
  const auto file = error_of([&] { tt::read_csv<2>(path); });
  BOOST_TEST(contains(file.problem(), "empty"));
}

BOOST_AUTO_TEST_CASE(csv_reader_reads_numbers_below_the_float_range_as_tiny_finite_values) {
  const auto data = tt::parse_csv<2>("a,b,y\n1e-50,-1e-40,0\n1e-400,0.5,1\n", "tiny.csv");
  BOOST_TEST(data.features(0)[0] == 0.f);
  BOOST_TEST(data.features(0)[1] == -1e-40f);  // a subnormal float
  BOOST_TEST(data.features(1)[0] == 0.f);
  const auto tiny = tt::parse_csv<1, double>("a,y\n1,1e-5000\n", "tinier.csv");
  BOOST_TEST(tiny.target(0) == 0.0);
  const auto huge = error_of([] { tt::parse_csv<1>("a,y\n1e50,0\n", "huge.csv"); });
  BOOST_TEST(contains(huge.problem(), "'1e50' is not a finite number"));
}

BOOST_AUTO_TEST_CASE(csv_reader_checks_class_ids_against_the_declared_classes) {
  const auto twelve = error_of([] { tt::parse_csv<1>("a,y\n0.5,3\n0.5,12\n", "c.csv", {.classes = 10}); });
  BOOST_TEST(twelve.file() == "c.csv");
  BOOST_TEST(twelve.problem() == "line 3, column 2 (data row 1): class id 12 is outside [0, 10), the 10 classes");
  const auto negative = error_of([] { tt::parse_csv<1>("a,y\n0.5,-1\n", "c.csv", {.classes = 10}); });
  BOOST_TEST(contains(negative.problem(), "line 2, column 2 (data row 0): class id -1 is outside [0, 10)"));
  const auto top = error_of([] { tt::parse_csv<1>("a,y\n0.5,2147483647\n", "c.csv", {.classes = 10}); });
  BOOST_TEST(contains(top.problem(), "class id 2147483647 is outside [0, 10)"));
  const auto names = error_of([] {
    tt::parse_csv<1>("a,y\n1,cat\n2,dog\n3,emu\n", "n.csv", {.text_labels = true, .classes = 2});
  });
  BOOST_TEST(contains(names.problem(), "line 4, column 2: label 'emu' is a class name beyond the 2 classes"));
  const auto fine = tt::parse_csv<1>("a,y\n0.5,9\n", "c.csv", {.classes = 10});
  BOOST_TEST(fine.classes() == 10u);
}
