#define BOOST_TEST_MODULE train_split
#include <boost/test/unit_test.hpp>

#include <tapeless/train/split.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace tt = tapeless::train;

namespace {

std::vector<std::size_t> joined(const tt::three_way_index_split& s) {
  std::vector<std::size_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  return all;
}

std::string message_of(std::size_t n, tt::three_way_fractions fractions) {
  try {
    tt::three_way_split(n, fractions, 1);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(three_way_split_is_disjoint_covering_sorted_and_sized_by_rounding) {
  const auto s = tt::three_way_split(101, {.validation = 0.1, .test = 0.25}, 3);
  BOOST_TEST(s.validation.size() == 10u);  // round(10.1)
  BOOST_TEST(s.test.size() == 25u);        // round(25.25)
  BOOST_TEST(s.train.size() == 66u);
  BOOST_TEST(joined(s) == tt::all_indices(101), boost::test_tools::per_element());
  BOOST_TEST(std::is_sorted(s.train.begin(), s.train.end()));
  BOOST_TEST(std::is_sorted(s.validation.begin(), s.validation.end()));
  BOOST_TEST(std::is_sorted(s.test.begin(), s.test.end()));
}

BOOST_AUTO_TEST_CASE(three_way_split_repeats_with_its_seed_and_changes_with_another) {
  const auto a = tt::three_way_split(200, {.validation = 0.2, .test = 0.2}, 5);
  const auto b = tt::three_way_split(200, {.validation = 0.2, .test = 0.2}, 5);
  const auto c = tt::three_way_split(200, {.validation = 0.2, .test = 0.2}, 6);
  BOOST_TEST(a.test == b.test, boost::test_tools::per_element());
  BOOST_TEST(a.validation == b.validation, boost::test_tools::per_element());
  BOOST_TEST((a.test != c.test));
}

BOOST_AUTO_TEST_CASE(adding_a_test_set_keeps_the_validation_set_of_validation_split) {
  const auto two = tt::validation_split(150, 0.2, 11);
  const auto three = tt::three_way_split(150, {.validation = 0.2, .test = 0.1}, 11);
  BOOST_TEST(three.validation == two.validation, boost::test_tools::per_element());
  // With no test set, the two splits are the same.
  const auto none = tt::three_way_split(150, {.validation = 0.2}, 11);
  BOOST_TEST(none.train == two.train, boost::test_tools::per_element());
  BOOST_TEST(none.test.empty());
}

BOOST_AUTO_TEST_CASE(three_way_split_refuses_fractions_outside_zero_one_or_summing_past_one) {
  BOOST_TEST(message_of(10, {.validation = -0.1}).find("validation -0.1") != std::string::npos);
  BOOST_TEST(message_of(10, {.test = 1.5}).find("each must be in [0, 1]") != std::string::npos);
  const std::string too_many = message_of(10, {.validation = 0.6, .test = 0.5});
  BOOST_TEST(too_many.find("ask for 11 rows") != std::string::npos, too_many);
  BOOST_TEST(too_many.find("sum must be at most 1") != std::string::npos);
  // Every row may go to the two held-out sets.
  const auto all_held_out = tt::three_way_split(10, {.validation = 0.5, .test = 0.5}, 1);
  BOOST_TEST(all_held_out.train.empty());
}

BOOST_AUTO_TEST_CASE(three_way_split_of_no_rows_is_three_empty_lists) {
  const auto s = tt::three_way_split(0, {.validation = 0.3, .test = 0.3}, 1);
  BOOST_TEST((s.train.empty() && s.validation.empty() && s.test.empty()));
}
