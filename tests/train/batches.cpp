#define BOOST_TEST_MODULE train_batches
#include <boost/test/unit_test.hpp>

#include <tapeless/train/batch_loader.hpp>
#include <tapeless/train/metrics.hpp>
#include <tapeless/train/shuffle.hpp>
#include <tapeless/train/split.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace tl = tapeless;
namespace tt = tapeless::train;

namespace {

// n samples of width 3: sample i has features (i, 10i, 100i) and label i % 7,
// so a batch row tells which sample it holds.
tt::dataset<3> numbered(std::size_t n) {
  tt::dataset<3> data;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = static_cast<float>(i);
    const float row[3] = {x, 10 * x, 100 * x};
    data.push_back(std::span<const float, 3>(row), static_cast<std::int32_t>(i % 7));
  }
  return data;
}

template <std::size_t B>
std::vector<std::size_t> samples_in(const tt::batch<B, 3>& b) {
  std::vector<std::size_t> ids;
  for (std::size_t r = 0; r < B; ++r) ids.push_back(static_cast<std::size_t>(b.features(r, 0)));
  return ids;
}

bool is_permutation_of_iota(std::vector<std::size_t> v) {
  std::sort(v.begin(), v.end());
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] != i) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shuffle_is_reproducible_for_a_seed) {
  auto order = [](std::uint64_t seed) {
    auto v = tt::all_indices(50);
    tl::random_stream rng{seed};
    tt::shuffle(std::span(v), rng);
    return v;
  };
  const auto a = order(42), b = order(42), c = order(43);
  BOOST_TEST(a == b, boost::test_tools::per_element());
  BOOST_TEST(a != c);
  BOOST_TEST(is_permutation_of_iota(a));
  BOOST_TEST(a != tt::all_indices(50));
  // Pinned: the same on every compiler and standard library (it depends only
  // on random_stream, which is specified bit for bit).
  auto ten = tt::all_indices(10);
  tl::random_stream rng{7};
  tt::shuffle(std::span(ten), rng);
  BOOST_TEST(ten == (std::vector<std::size_t>{1, 8, 3, 0, 4, 5, 9, 6, 2, 7}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(shuffle_gives_every_permutation_equally_often) {
  // 4! = 24 orders, 24000 shuffles: each count ~ 1000 with sd ~ 31.
  std::map<std::vector<int>, int> counts;
  tl::random_stream rng{1};
  for (int k = 0; k < 24000; ++k) {
    std::vector<int> v{0, 1, 2, 3};
    tt::shuffle(std::span(v), rng);
    ++counts[v];
  }
  BOOST_TEST(counts.size() == 24u);
  for (const auto& [order, count] : counts) BOOST_TEST((count > 850 && count < 1150), "count " << count);
}

BOOST_AUTO_TEST_CASE(epoch_order_depends_only_on_seed_and_epoch) {
  const auto data = numbered(30);
  auto resumed = tt::training_batches<8>(data, 5);
  auto unbroken = tt::training_batches<8>(data, 5);
  for (std::size_t e = 0; e < 3; ++e)
    for ([[maybe_unused]] const auto& b : unbroken.epoch(e)) {
    }
  unbroken.start_epoch(3);
  resumed.start_epoch(3);
  const std::vector<std::size_t> a(unbroken.order().begin(), unbroken.order().end());
  const std::vector<std::size_t> b(resumed.order().begin(), resumed.order().end());
  BOOST_TEST(a == b, boost::test_tools::per_element());
  resumed.start_epoch(4);
  const std::vector<std::size_t> next(resumed.order().begin(), resumed.order().end());
  BOOST_TEST(next != a);  // each epoch its own order
  auto other_seed = tt::training_batches<8>(data, 6);
  other_seed.start_epoch(3);
  BOOST_TEST(!std::equal(a.begin(), a.end(), other_seed.order().begin()));
}

BOOST_AUTO_TEST_CASE(validation_split_is_disjoint_covering_and_seeded) {
  const auto split = tt::validation_split(100, 0.2, 9);
  BOOST_TEST(split.validation.size() == 20u);
  BOOST_TEST(split.train.size() == 80u);
  BOOST_TEST(std::is_sorted(split.train.begin(), split.train.end()));
  std::vector<std::size_t> all = split.train;
  all.insert(all.end(), split.validation.begin(), split.validation.end());
  BOOST_TEST(is_permutation_of_iota(all));  // disjoint and covering
  const auto again = tt::validation_split(100, 0.2, 9), other = tt::validation_split(100, 0.2, 10);
  BOOST_TEST(again.validation == split.validation, boost::test_tools::per_element());
  BOOST_TEST(other.validation != split.validation);
  // Not simply the last rows (a file sorted by class would give one class).
  BOOST_TEST(split.validation.front() < 80u);
  BOOST_TEST(tt::validation_split(10, 0.25, 1).validation.size() == 3u);  // round(2.5) = 3
  BOOST_CHECK_THROW(tt::validation_split(10, 1.5, 1), std::invalid_argument);
  BOOST_CHECK_THROW(tt::validation_split(10, -0.1, 1), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(batch_rows_hold_the_features_and_targets_of_their_samples) {
  const auto data = numbered(20);
  auto loader = tt::training_batches<4>(data, 3);
  for (const auto& b : loader.epoch(0)) {
    for (std::size_t r = 0; r < 4; ++r) {
      const std::size_t i = loader.order()[b.index * 4 + r];
      BOOST_TEST(b.features(r, 0) == static_cast<float>(i));
      BOOST_TEST(b.features(r, 1) == static_cast<float>(10 * i));
      BOOST_TEST(b.features(r, 2) == static_cast<float>(100 * i));
      BOOST_TEST(b.targets(r) == static_cast<std::int32_t>(i % 7));
    }
  }
}

BOOST_AUTO_TEST_CASE(last_training_batch_wraps_to_start_of_permutation) {
  const auto data = numbered(10);
  auto loader = tt::training_batches<4>(data, 11);
  BOOST_TEST(loader.batches() == 3u);
  BOOST_TEST(loader.rows_per_epoch() == 12u);
  loader.start_epoch(2);
  const std::vector<std::size_t> order(loader.order().begin(), loader.order().end());
  const auto* b = loader.next();
  b = loader.next();
  b = loader.next();
  BOOST_REQUIRE(b != nullptr);
  BOOST_TEST(b->index == 2u);
  BOOST_TEST(b->epoch == 2u);
  BOOST_TEST(samples_in(*b) == (std::vector<std::size_t>{order[8], order[9], order[0], order[1]}),
             boost::test_tools::per_element());
  BOOST_TEST(b->fresh == 2u);
  BOOST_TEST(b->valid == 4u);  // a full batch: the step trains on all of it
  BOOST_TEST(loader.next() == nullptr);
}

BOOST_AUTO_TEST_CASE(every_sample_is_fresh_exactly_once_per_epoch) {
  const auto data = numbered(23);
  auto loader = tt::training_batches<5>(data, 4);
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int> fresh(23, 0), seen(23, 0);
    std::size_t fresh_rows = 0;
    for (const auto& b : loader.epoch(epoch)) {
      const auto ids = samples_in(b);
      for (std::size_t r = 0; r < 5; ++r) {
        ++seen[ids[r]];
        if (r < b.fresh) ++fresh[ids[r]];
      }
      fresh_rows += b.fresh;
    }
    BOOST_TEST(fresh_rows == 23u);
    BOOST_TEST(fresh == std::vector<int>(23, 1), boost::test_tools::per_element());
    BOOST_TEST(*std::min_element(seen.begin(), seen.end()) >= 1);
  }
}

BOOST_AUTO_TEST_CASE(training_batches_larger_than_the_data_set_wrap_repeatedly) {
  const auto data = numbered(3);
  auto loader = tt::training_batches<8>(data, 1);
  BOOST_TEST(loader.batches() == 1u);
  const auto* b = loader.next();
  BOOST_REQUIRE(b != nullptr);
  const auto order = loader.order();
  std::vector<std::size_t> expected;
  for (std::size_t r = 0; r < 8; ++r) expected.push_back(order[r % 3]);
  BOOST_TEST(samples_in(*b) == expected, boost::test_tools::per_element());
  BOOST_TEST(b->fresh == 3u);
  BOOST_TEST(b->valid == 8u);
}

BOOST_AUTO_TEST_CASE(evaluation_counts_each_sample_once) {
  const auto data = numbered(10);
  auto loader = tt::evaluation_batches<4>(data);
  std::vector<std::size_t> valid;
  std::vector<int> counted(10, 0);
  tt::accuracy_meter accuracy;
  // Logits that are right for every real row and wrong for every pad row: the
  // accuracy is 1 exactly when no pad row is counted.
  tl::tensor<float, 4, 7> logits{};
  for (const auto& b : loader.epoch(0)) {
    valid.push_back(b.valid);
    const auto ids = samples_in(b);
    logits.fill(0);
    for (std::size_t r = 0; r < 4; ++r) {
      if (r < b.valid) ++counted[ids[r]];
      logits(r, static_cast<std::size_t>(r < b.valid ? b.targets(r) : (b.targets(r) + 1) % 7)) = 1;
    }
    accuracy.add(logits, b);
  }
  BOOST_TEST(valid == (std::vector<std::size_t>{4, 4, 2}), boost::test_tools::per_element());
  BOOST_TEST(counted == std::vector<int>(10, 1), boost::test_tools::per_element());
  BOOST_TEST(accuracy.count() == 10u);
  BOOST_TEST(accuracy.accuracy() == 1.0);
}

BOOST_AUTO_TEST_CASE(evaluation_batches_keep_the_given_order_and_pad_with_real_rows) {
  const auto data = numbered(10);
  auto loader = tt::evaluation_batches<4>(data, std::vector<std::size_t>{9, 2, 5, 7, 1});
  std::vector<std::vector<std::size_t>> batches;
  for (const auto& b : loader.epoch(0)) batches.push_back(samples_in(b));
  BOOST_REQUIRE(batches.size() == 2u);
  BOOST_TEST(batches[0] == (std::vector<std::size_t>{9, 2, 5, 7}), boost::test_tools::per_element());
  // One real row, then copies of the first rows: ordinary data for the program.
  BOOST_TEST(batches[1] == (std::vector<std::size_t>{1, 9, 2, 5}), boost::test_tools::per_element());
  BOOST_TEST(loader.current().valid == 1u);
  BOOST_TEST(loader.current().fresh == 1u);
  // Every epoch the same order.
  loader.start_epoch(5);
  BOOST_TEST(loader.order()[0] == 9u);
}

BOOST_AUTO_TEST_CASE(dropping_the_last_partial_batch_gives_full_batches_only) {
  const auto data = numbered(10);
  auto loader = tt::training_batches<4>(data, 2, tt::last_batch::drop);
  BOOST_TEST(loader.batches() == 2u);
  std::size_t batches = 0;
  std::vector<int> seen(10, 0);
  for (const auto& b : loader.epoch(0)) {
    ++batches;
    BOOST_TEST(b.valid == 4u);
    BOOST_TEST(b.fresh == 4u);
    for (const auto i : samples_in(b)) ++seen[i];
  }
  BOOST_TEST(batches == 2u);
  BOOST_TEST(std::count(seen.begin(), seen.end(), 1) == 8);  // 2 left out, none twice
  BOOST_TEST(std::count(seen.begin(), seen.end(), 0) == 2);
  BOOST_CHECK_THROW((tt::training_batches<16>(data, 2, tt::last_batch::drop)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(loader_rejects_rows_it_cannot_load) {
  const auto data = numbered(5);
  BOOST_CHECK_THROW((tt::evaluation_batches<2>(data, std::vector<std::size_t>{1, 5})), std::out_of_range);
  BOOST_CHECK_THROW((tt::evaluation_batches<2>(data, std::vector<std::size_t>{})), std::invalid_argument);
  const tt::dataset<3> empty;
  BOOST_CHECK_THROW((tt::training_batches<2>(empty, 0)), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(dataset_checks_its_layout_and_copies_subsets) {
  BOOST_CHECK_THROW((tt::dataset<3>(std::vector<float>(7), std::vector<std::int32_t>(2))), tt::data_error);
  const auto data = numbered(6);
  const std::vector<std::size_t> pick{4, 1};
  const auto sub = data.subset(pick);
  BOOST_TEST(sub.size() == 2u);
  BOOST_TEST(sub.features(0)[1] == 40.f);
  BOOST_TEST(sub.target(1) == 1);
}

BOOST_AUTO_TEST_CASE(loader_rejects_class_ids_outside_the_classes) {
  for (const std::int32_t id : {12, -1, 2147483647}) {
    auto data = numbered(5);
    data.set_source("numbered.csv");
    data.target(3) = id;
    try {
      tt::batch_loader<2, 3> loader(data, {.shuffle = false, .classes = 10});
      BOOST_FAIL("no tl::train::data_error was thrown for class id " << id);
    } catch (const tt::data_error& e) {
      BOOST_TEST(e.file() == "numbered.csv");
      BOOST_TEST(e.problem() == "row 3: class id " + std::to_string(id) + " is outside [0, 10), the 10 classes");
    }
    // The data set's declared classes are the default.
    data.target(3) = 3;
    data.declare_classes(10);
    data.target(3) = id;
    BOOST_CHECK_THROW((tt::training_batches<2>(data, 0)), tt::data_error);
    BOOST_CHECK_THROW((tt::evaluation_batches<2>(data)), tt::data_error);
    // Rows the loader does not read are not its concern.
    BOOST_CHECK_NO_THROW((tt::evaluation_batches<2>(data, std::vector<std::size_t>{0, 1, 2})));
  }
}

// Data-parallel training (tl::dist): shard r of count fills rows
// [r * B, (r + 1) * B) of each global batch of B * count rows.
BOOST_AUTO_TEST_CASE(shards_of_a_batch_are_the_rows_of_the_global_batch) {
  for (const auto last : {tt::last_batch::wrap, tt::last_batch::pad, tt::last_batch::drop}) {
    const auto data = numbered(23);  // not a multiple of 3 * 2: the last global batch wraps, pads or goes
    auto global = tt::batch_loader<6, 3>(data, {.last = last, .seed = 9});
    std::vector<tt::batch_loader<2, 3>> shards;
    for (std::size_t r = 0; r < 3; ++r)
      shards.emplace_back(data, tt::loader_options{.last = last, .seed = 9, .shard = {.index = r, .count = 3}});
    for (std::size_t epoch = 0; epoch < 2; ++epoch) {
      global.start_epoch(epoch);
      for (auto& s : shards) {
        s.start_epoch(epoch);
        BOOST_TEST(s.batches() == global.batches());
      }
      while (const auto* g = global.next()) {
        std::size_t valid = 0, fresh = 0;
        for (std::size_t r = 0; r < 3; ++r) {
          const auto* s = shards[r].next();
          BOOST_REQUIRE(s != nullptr);
          const auto rows = samples_in(*g);
          BOOST_TEST(samples_in(*s) == std::vector<std::size_t>(rows.begin() + 2 * r, rows.begin() + 2 * r + 2),
                     boost::test_tools::per_element());
          BOOST_TEST(s->targets[0] == g->targets[2 * r]);
          valid += s->valid, fresh += s->fresh;
        }
        // The shards' valid and fresh rows add up to the global batch's.
        BOOST_TEST(valid == (last == tt::last_batch::pad ? g->valid : 6u));
        BOOST_TEST(fresh == g->fresh);
      }
      for (auto& s : shards) BOOST_TEST(s.next() == nullptr);
    }
  }
}

BOOST_AUTO_TEST_CASE(loader_rejects_a_shard_that_does_not_exist) {
  const auto data = numbered(10);
  BOOST_CHECK_THROW((tt::batch_loader<2, 3>(data, {.shard = {.index = 2, .count = 2}})), std::invalid_argument);
  BOOST_CHECK_THROW((tt::batch_loader<2, 3>(data, {.shard = {.index = 0, .count = 0}})), std::invalid_argument);
  // Dropping the partial batch: 10 rows make no global batch of 2 * 8.
  BOOST_CHECK_THROW((tt::batch_loader<2, 3>(data, {.last = tt::last_batch::drop, .shard = {.index = 1, .count = 8}})),
                    std::invalid_argument);
}
