// tl::dist::data_parallel under `mpirun -np 2`: two ranks with batches of 4
// against one process with batches of 8 (run on each rank, without MPI).
#define BOOST_TEST_MODULE dist_data_parallel
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>
#include <tapeless/dist.hpp>

#include "counting_allocator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace tl = tapeless;
namespace tt = tapeless::train;

namespace {

constexpr std::size_t ranks = 2;
constexpr std::size_t shard_rows = 4;
constexpr std::size_t global_rows = shard_rows * ranks;
constexpr std::size_t features = 8;
constexpr std::size_t classes = 3;

template <std::size_t B, std::size_t H = 16>
constexpr auto classifier_loss() {
  constexpr auto X = tl::input<"X", float, B, features>;
  constexpr auto Y = tl::input<"Y", std::int32_t, B>;
  return tl::cross_entropy(tl::nn::linear<"out", classes>(tl::tanh(tl::nn::linear<"hidden", H>(X))), Y);
}
// With batch norm: a store with buffers (its running statistics).
template <std::size_t B>
constexpr auto normalized_loss() {
  constexpr auto X = tl::input<"X", float, B, features>;
  constexpr auto Y = tl::input<"Y", std::int32_t, B>;
  return tl::cross_entropy(
      tl::nn::linear<"out", classes>(tl::tanh(tl::nn::batch_norm1d<"bn">(tl::nn::linear<"hidden", 16>(X)))), Y);
}
constexpr auto X4 = tl::input<"X", float, shard_rows, features>;
constexpr auto Y4 = tl::input<"Y", std::int32_t, shard_rows>;
constexpr auto X8 = tl::input<"X", float, global_rows, features>;
constexpr auto Y8 = tl::input<"Y", std::int32_t, global_rows>;

// Three Gaussian clusters in 8 dimensions, one per class.
tt::dataset<features> clusters(std::size_t n) {
  tl::random_stream rng{5};
  tt::dataset<features> data;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::int32_t>(rng.below(classes));
    float row[features];
    for (std::size_t f = 0; f < features; ++f) row[f] = (f % classes == std::size_t(c) ? 1.5f : 0.f) + rng.normal();
    data.push_back(std::span<const float, features>(row), c);
  }
  return data;
}

// Largest |a - b| / max(1, |b|) over every parameter value.
template <class Store>
double largest_difference(const Store& a, const Store& b) {
  double worst = 0;
  std::vector<std::vector<float>> values;
  b.visit([&](std::string_view, const auto& v, const auto&) { values.emplace_back(v.data(), v.data() + v.size()); });
  std::size_t t = 0;
  a.visit([&](std::string_view, const auto& v, const auto&) {
    for (std::size_t i = 0; i < v.size(); ++i)
      worst = std::max(worst, std::abs(double(v.data()[i]) - values[t][i]) / std::max(1.0, std::abs(double(values[t][i]))));
    ++t;
  });
  return worst;
}

// Rank 0's bytes of a tensor, compared on every rank with its own: an
// independent check of parameters_agree.
template <class Tensor>
bool same_bytes_as_root(const tl::dist::communicator& world, const Tensor& t) {
  using T = typename Tensor::value_type;
  std::vector<T> root(t.data(), t.data() + t.size());
  MPI_Bcast(root.data(), static_cast<int>(root.size() * sizeof(T)), MPI_BYTE, 0, world.native());
  int same = std::memcmp(root.data(), t.data(), root.size() * sizeof(T)) == 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_LAND, world.native());
  return all != 0;
}

// What the ranks must agree on: their count.
struct two_ranks {
  tl::dist::communicator world;
  two_ranks() { BOOST_TEST_REQUIRE(world.size() == int(ranks), "run this test with mpirun -np 2"); }
};

// A classifier with Adam, made data-parallel: where the cases on set-ups start.
auto initialized_parameters() {
  auto p = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(p, /*seed*/ 3);
  return p;
}
struct adam_classifier : two_ranks {
  decltype(tl::compile(classifier_loss<shard_rows>())) program = tl::compile(classifier_loss<shard_rows>());
  decltype(initialized_parameters()) params = initialized_parameters();
  decltype(tl::optim::optimizer(params, tl::optim::adam{})) opt{tl::optim::adam{.lr = 1e-2f}};
  tl::dist::data_parallel<decltype(program), decltype(opt), decltype(params)> ddp{world, program, opt, params};
};

}  // namespace

// The stated tolerance: float32 gradients summed in another order (two
// halves of 4 rows and their sum, against 8 rows at once) differ by a few
// ulps; over 3 epochs (24 steps) of SGD with momentum the weights differ by
// about 1e-7 of a value (measured: 1.6e-7), the losses by less.
constexpr double tolerance = 1e-5;

// Two ranks with batches of 4 against one process with batches of 8.
static void train_as_one_process_on_the_global_batch(const tl::dist::communicator& world,
                                                     tl::dist::data_parallel_options options) {
  const auto data = clusters(60);  // 60 = 7 global batches and 4 rows: the last batch wraps

  // One process, batches of 8.
  auto single = tl::compile(classifier_loss<global_rows>());
  auto reference = tl::parameters_of(classifier_loss<global_rows>());
  tl::init::he_uniform(reference, /*seed*/ 1);
  // SGD: a gradient off by a factor shows in the weights (Adam would hide it).
  auto reference_opt = tl::optim::optimizer(reference, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  auto whole = tt::training_batches<global_rows>(data, /*seed*/ 42);

  // Two ranks, batches of 4; rank 1 starts from other weights, which the broadcast replaces.
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  static_assert(std::is_same_v<decltype(params), decltype(reference)>);
  tl::init::he_uniform(params, /*seed*/ 1 + world.rank());
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  tl::dist::data_parallel ddp(world, program, opt, params, options);
  BOOST_TEST(ddp.reduces_in_place());  // trainable parameters alone: no buffer to copy through
  BOOST_TEST(ddp.shards_update() == options.shard_update);
  BOOST_TEST(largest_difference(params, reference) == 0.0);
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 42);
  BOOST_TEST(shard.batches() == whole.batches());

  double worst_loss = 0;
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    whole.start_epoch(epoch);
    for (const auto& b : shard.epoch(epoch)) {
      const auto* g = whole.next();
      const float expected = single.step(reference, X8 = g->features, Y8 = g->targets);
      reference_opt.step(reference);
      const float loss = ddp.step(params, X4 = b.features, Y4 = b.targets);
      worst_loss = std::max(worst_loss, std::abs(double(loss) - expected) / std::max(1.0, std::abs(double(expected))));
    }
  }
  const double worst = largest_difference(params, reference);
  BOOST_TEST_MESSAGE("largest relative difference from one process: parameters " << worst << ", losses " << worst_loss);
  BOOST_TEST(worst_loss <= tolerance);
  BOOST_TEST(worst <= tolerance);
  BOOST_TEST(worst > 0.0);  // the sums did run in another order: the comparison is not of one computation with itself
  BOOST_TEST(opt.steps() == reference_opt.steps());
  BOOST_TEST(tl::dist::parameters_agree(world, params));
  // The momentum buffers: each rank's own part, then (gathered) all of it, as one process's.
  ddp.gather_optimizer_state();
  BOOST_TEST(same_bytes_as_root(world, opt.state<"hidden.weight">()[0]));
  BOOST_TEST(same_bytes_as_root(world, opt.state<"out.bias">()[0]));
  double worst_state = 0;
  for (std::size_t i = 0; i < opt.state<"hidden.weight">()[0].size(); ++i)
    worst_state = std::max(worst_state, std::abs(double(opt.state<"hidden.weight">()[0].data()[i]) -
                                                 reference_opt.state<"hidden.weight">()[0].data()[i]));
  BOOST_TEST(worst_state <= tolerance);
}

BOOST_FIXTURE_TEST_CASE(two_ranks_train_as_one_process_on_the_global_batch, two_ranks) {
  train_as_one_process_on_the_global_batch(world, {});
}

// ZeRO-1: each rank updates half the parameters, then they gather them.
BOOST_FIXTURE_TEST_CASE(two_ranks_sharing_the_update_train_as_one_process_on_the_global_batch, two_ranks) {
  train_as_one_process_on_the_global_batch(world, {.shard_update = true});
}

// The reduction in buckets during the backward pass: each gradient its own
// bucket (bucket_bytes 1), so that buckets start while kernels still run.
BOOST_FIXTURE_TEST_CASE(two_ranks_overlapping_the_backward_pass_train_as_one_process_on_the_global_batch, two_ranks) {
  train_as_one_process_on_the_global_batch(world, {.overlap_backward = true, .bucket_bytes = 1});
}

BOOST_FIXTURE_TEST_CASE(buckets_start_while_the_backward_pass_runs_and_give_the_bits_of_the_whole_reduction,
                        two_ranks) {
  const auto data = clusters(40);
  using program_type = decltype(tl::compile(classifier_loss<shard_rows>()));
  auto run = [&](tl::dist::data_parallel_options options) {
    auto program = tl::compile(classifier_loss<shard_rows>());
    auto params = tl::parameters_of(classifier_loss<shard_rows>());
    tl::init::he_uniform(params, /*seed*/ 4);
    auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
    tl::dist::data_parallel ddp(world, program, opt, params, options);
    BOOST_TEST(ddp.overlaps_backward() == options.overlap_backward);
    std::vector<std::size_t> starts;
    for (std::size_t b = 0; b < ddp.bucket_count(); ++b) starts.push_back(ddp.bucket_start(b));
    auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 9);
    for (std::size_t epoch = 0; epoch < 3; ++epoch)
      for (const auto& b : shard.epoch(epoch)) {
        BOOST_TEST(std::isfinite(ddp.step(params, X4 = b.features, Y4 = b.targets)));
        // Every bucket the backward pass finishes before its last kernel went while kernels ran.
        BOOST_TEST(ddp.buckets_overlapped() ==
                   std::size_t(std::count_if(starts.begin(), starts.end(), [](std::size_t at) {
                     return at + 1 < program_type::training_kernels;
                   })));
      }
    BOOST_TEST(tl::dist::parameters_agree(world, params));
    return std::pair{params, starts};
  };
  const auto [whole, no_buckets] = run({});
  BOOST_TEST(no_buckets.empty());
  // Four tensors, one bucket each: the output layer's gradients are whole
  // before the hidden layer's weight gradient runs, and start then.
  const auto [bucketed, starts] = run({.overlap_backward = true, .bucket_bytes = 1});
  BOOST_TEST_REQUIRE(starts.size() == 4u);
  BOOST_TEST(std::is_sorted(starts.begin(), starts.end()));
  BOOST_TEST(starts.front() + 1 < program_type::training_kernels);
  BOOST_TEST(starts.back() < program_type::training_kernels);  // every gradient has its kernel
  BOOST_TEST(starts[2] + 1 < program_type::training_kernels);  // three buckets go while kernels run
  // Scaled by 1/2 and summed, or summed and scaled: the same bits on two ranks.
  BOOST_TEST(largest_difference(bucketed, whole) == 0.0);
  // One bucket of everything (the default's 256 KiB), started by the last gradient's kernel.
  const auto [one_bucket, one_start] = run({.overlap_backward = true});
  BOOST_TEST(one_start.size() == 1u);
  BOOST_TEST(largest_difference(one_bucket, whole) == 0.0);
}

BOOST_FIXTURE_TEST_CASE(bad_data_on_one_rank_stops_an_overlapped_step_everywhere_and_changes_nothing, two_ranks) {
  const auto data = clusters(8);
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 2);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
  tl::dist::data_parallel ddp(world, program, opt, params, {.overlap_backward = true, .bucket_bytes = 1});
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 1);
  const auto& b = *shard.epoch(0).begin();
  ddp.step(params, X4 = b.features, Y4 = b.targets);
  const auto before = params;
  const auto moment = opt.state<"out.weight">();
  tl::tensor<std::int32_t, shard_rows> labels = b.targets;
  if (world.rank() == 0) labels[3] = -1;
  // Rank 0 runs no kernel and posts its buckets after its step; rank 1 three of four during its own.
  BOOST_TEST(std::isnan(ddp.step(params, X4 = b.features, Y4 = labels)));
  BOOST_TEST(ddp.buckets_overlapped() == (world.rank() == 0 ? 0u : 3u));
  BOOST_TEST(largest_difference(params, before) == 0.0);
  BOOST_TEST(std::memcmp(moment[0].data(), opt.state<"out.weight">()[0].data(), moment[0].size() * sizeof(float)) == 0);
  BOOST_TEST(opt.steps() == 1u);
  BOOST_TEST(std::isfinite(ddp.step(params, X4 = b.features, Y4 = b.targets)));
  BOOST_TEST(opt.steps() == 2u);
  BOOST_TEST(tl::dist::parameters_agree(world, params));
}

// No step allocates, with the reduction after the backward pass or during
// it (its thread made once, in the constructor). Operator new is counted:
// Open MPI's own allocations (malloc, in C) are not ours.
BOOST_FIXTURE_TEST_CASE(steps_allocate_nothing_with_or_without_overlap, two_ranks) {
  const auto data = clusters(16);
  for (const bool overlap : {false, true}) {
    auto program = tl::compile(classifier_loss<shard_rows>());
    auto params = tl::parameters_of(classifier_loss<shard_rows>());
    tl::init::he_uniform(params, /*seed*/ 3);
    auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
    tl::dist::data_parallel ddp(world, program, opt, params, {.overlap_backward = overlap, .bucket_bytes = 1});
    BOOST_TEST(ddp.overlaps_backward() == overlap);
    auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 4);
    const auto& b = *shard.epoch(0).begin();
    ddp.step(params, X4 = b.features, Y4 = b.targets);  // the first step: nothing left to make
    const std::size_t before = allocations;
    for (int s = 0; s < 5; ++s) ddp.step(params, X4 = b.features, Y4 = b.targets);
    BOOST_TEST(allocations - before == 0u, (overlap ? "overlapped" : "after the backward pass"));
  }
}

BOOST_FIXTURE_TEST_CASE(overlap_is_refused_with_a_sharded_update, two_ranks) {
  auto refusal = [&](auto& program, auto& params, tl::dist::data_parallel_options options) {
    auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f});
    try {
      tl::dist::data_parallel ddp(world, program, opt, params, options);
    } catch (const tl::dist::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  const std::string sharded = refusal(program, params, {.shard_update = true, .overlap_backward = true});
  BOOST_TEST(sharded.find("overlap_backward and shard_update cannot be used together") != std::string::npos, sharded);
}

// With batch norm: the gradients in buckets during the backward pass, the
// running statistics through the buffer after it; the same bits as without overlap.
BOOST_FIXTURE_TEST_CASE(an_overlapped_step_averages_batch_norm_statistics_as_the_step_without_overlap, two_ranks) {
  const auto data = clusters(40);
  auto run = [&](tl::dist::data_parallel_options options) {
    auto program = tl::compile(normalized_loss<shard_rows>());
    auto params = tl::parameters_of(normalized_loss<shard_rows>());
    tl::init::he_uniform(params, /*seed*/ 6);
    auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f});
    tl::dist::data_parallel ddp(world, program, opt, params, options);
    BOOST_TEST(ddp.overlaps_backward() == options.overlap_backward);
    auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 5);
    for (std::size_t epoch = 0; epoch < 2; ++epoch)
      for (const auto& b : shard.epoch(epoch)) {
        BOOST_TEST(std::isfinite(ddp.step(params, X4 = b.features, Y4 = b.targets)));
        if (options.overlap_backward) BOOST_TEST(ddp.buckets_overlapped() >= 1u);
      }
    BOOST_TEST(tl::dist::parameters_agree(world, params));
    return params;
  };
  const auto whole = run({});
  const auto bucketed = run({.overlap_backward = true, .bucket_bytes = 1});
  BOOST_TEST(largest_difference(bucketed, whole) == 0.0);  // running statistics included
  BOOST_TEST(bucketed.get<"bn.running_mean">()[0] != 0.0f);
  BOOST_TEST(bucketed.get<"bn.num_batches_tracked">()[0] == whole.get<"bn.num_batches_tracked">()[0]);
}

BOOST_FIXTURE_TEST_CASE(a_sharded_update_keeps_the_parameters_of_the_whole_update, two_ranks) {
  // The same Adam steps, once each rank updating everything, once half: the
  // same gradients and the same elementwise rule give the same parameters.
  const auto data = clusters(40);
  auto run = [&](bool shard) {
    auto program = tl::compile(classifier_loss<shard_rows>());
    auto params = tl::parameters_of(classifier_loss<shard_rows>());
    tl::init::he_uniform(params, /*seed*/ 4);
    auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
    tl::dist::data_parallel ddp(world, program, opt, params, {.shard_update = shard});
    auto shard_rows_of = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 9);
    for (std::size_t epoch = 0; epoch < 3; ++epoch)
      for (const auto& b : shard_rows_of.epoch(epoch)) ddp.step(params, X4 = b.features, Y4 = b.targets);
    BOOST_TEST(tl::dist::parameters_agree(world, params));
    ddp.gather_optimizer_state();
    return std::pair{params, opt.state<"hidden.weight">()[1]};  // the second moment
  };
  const auto [whole, whole_moment] = run(false);
  const auto [shared, shared_moment] = run(true);
  const double worst = largest_difference(shared, whole);
  BOOST_TEST_MESSAGE("sharded against whole update: largest relative difference " << worst);
  BOOST_TEST(worst <= tolerance);
  double worst_moment = 0;
  for (std::size_t i = 0; i < whole_moment.size(); ++i)
    worst_moment = std::max(worst_moment, std::abs(double(shared_moment.data()[i]) - whole_moment.data()[i]));
  BOOST_TEST(worst_moment <= tolerance);
  BOOST_TEST(same_bytes_as_root(world, shared_moment));
}

BOOST_FIXTURE_TEST_CASE(bad_data_on_one_rank_stops_a_sharded_step_everywhere_and_changes_nothing, two_ranks) {
  const auto data = clusters(8);
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 2);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
  tl::dist::data_parallel ddp(world, program, opt, params, {.shard_update = true});
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 1);
  const auto& b = *shard.epoch(0).begin();
  ddp.step(params, X4 = b.features, Y4 = b.targets);
  const auto before = params;
  tl::tensor<std::int32_t, shard_rows> labels = b.targets;
  if (world.rank() == 0) labels[1] = 7;  // no class 7 among 3
  BOOST_TEST(std::isnan(ddp.step(params, X4 = b.features, Y4 = labels)));
  BOOST_TEST(largest_difference(params, before) == 0.0);
  BOOST_TEST(opt.steps() == 1u);
  BOOST_TEST(std::isfinite(ddp.step(params, X4 = b.features, Y4 = b.targets)));
  BOOST_TEST(tl::dist::parameters_agree(world, params));
}

BOOST_FIXTURE_TEST_CASE(a_sharded_update_leaves_frozen_parameters_alone, two_ranks) {
  const auto data = clusters(16);
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 3);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
  opt.freeze<"hidden">();  // hidden.weight is most of the block: both ranks' parts hold some of it
  tl::dist::data_parallel ddp(world, program, opt, params, {.shard_update = true});
  const auto before = params;
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 2);
  for (const auto& b : shard.epoch(0)) ddp.step(params, X4 = b.features, Y4 = b.targets);
  BOOST_TEST(std::memcmp(params.get<"hidden.weight">().data(), before.get<"hidden.weight">().data(),
                         params.get<"hidden.weight">().size() * sizeof(float)) == 0);
  BOOST_TEST(params.get<"out.weight">()[0] != before.get<"out.weight">()[0]);
  BOOST_TEST(opt.steps_of<"hidden.weight">() == 0u);
  BOOST_TEST(tl::dist::parameters_agree(world, params));
}

// A store with buffers (batch norm's running statistics): the gradients and
// the buffers go through one buffer, and a sharded update is refused.
BOOST_FIXTURE_TEST_CASE(batch_norm_statistics_are_averaged_and_a_sharded_update_is_refused, two_ranks) {
  const auto data = clusters(40);
  auto program = tl::compile(normalized_loss<shard_rows>());
  auto params = tl::parameters_of(normalized_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 6);
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.05f});
  std::string message = "no error";
  try {
    tl::dist::data_parallel refused(world, program, opt, params, {.shard_update = true});
  } catch (const tl::dist::error& e) {
    message = e.what();
  }
  BOOST_TEST(message.find("shard_update needs a parameter store of trainable parameters alone") != std::string::npos,
             message);
  tl::dist::data_parallel ddp(world, program, opt, params);
  BOOST_TEST(!ddp.reduces_in_place());
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 5);
  for (const auto& b : shard.epoch(0)) BOOST_TEST(std::isfinite(ddp.step(params, X4 = b.features, Y4 = b.targets)));
  // Each rank normalised its own rows; the running statistics are the ranks' average, the same everywhere.
  BOOST_TEST(tl::dist::parameters_agree(world, params));
  BOOST_TEST(same_bytes_as_root(world, params.get<"bn.running_mean">()));
  BOOST_TEST(params.get<"bn.running_mean">()[0] != 0.0f);
}

BOOST_FIXTURE_TEST_CASE(ranks_hold_identical_parameters_and_optimizer_state_after_steps, two_ranks) {
  const auto data = clusters(40);
  // A trainer made with a rule: data_parallel steps its program and optimizer apart.
  auto trainer = tl::compile(classifier_loss<shard_rows>(), tl::optim::adam{.lr = 1e-2f});
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 7);
  tl::dist::data_parallel ddp(world, trainer, params);
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 3);
  float first = 0, last = 0;
  for (std::size_t epoch = 0; epoch < 4; ++epoch)
    for (const auto& b : shard.epoch(epoch)) {
      last = ddp.step(params, X4 = b.features, Y4 = b.targets);
      if (epoch == 0 && b.index == 0) first = last;
    }
  BOOST_TEST(last < first);  // it trained
  BOOST_TEST(tl::dist::parameters_agree(world, params));
  BOOST_TEST(same_bytes_as_root(world, params.get<"hidden.weight">()));
  BOOST_TEST(same_bytes_as_root(world, params.get<"out.bias">()));
  BOOST_TEST(same_bytes_as_root(world, trainer.optimizer().state<"hidden.weight">()[0]));  // first moment
  BOOST_TEST(same_bytes_as_root(world, trainer.optimizer().state<"out.weight">()[1]));     // second moment
  // The loss each rank returns is the global batch's: the same on both.
  float root_loss = last;
  MPI_Bcast(&root_loss, 1, MPI_FLOAT, 0, world.native());
  BOOST_TEST(root_loss == last);
}

BOOST_FIXTURE_TEST_CASE(construction_gives_every_rank_rank_0s_parameters_and_optimizer_state, two_ranks) {
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 10 + world.rank());
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
  // As if each rank had loaded another checkpoint at the same step.
  for (auto& moments : {&opt.state<"hidden.weight">()[0], &opt.state<"hidden.weight">()[1]})
    moments->fill(0.25f * float(1 + world.rank()));
  BOOST_TEST(!tl::dist::parameters_agree(world, params));
  tl::dist::data_parallel ddp(world, program, opt, params);
  BOOST_TEST(tl::dist::parameters_agree(world, params));
  BOOST_TEST(same_bytes_as_root(world, params.get<"hidden.weight">()));
  BOOST_TEST(opt.state<"hidden.weight">()[0][0] == 0.25f);  // rank 0's
  BOOST_TEST(opt.state<"hidden.weight">()[1][5] == 0.25f);
}

BOOST_FIXTURE_TEST_CASE(parameters_agree_notices_a_rank_that_drifted, two_ranks) {
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  tl::init::he_uniform(params, /*seed*/ 7);
  BOOST_TEST(tl::dist::parameters_agree(world, params));
  if (world.rank() == 1) params.get<"out.bias">()[2] += 1e-6f;
  BOOST_TEST(!tl::dist::parameters_agree(world, params));
}

BOOST_FIXTURE_TEST_CASE(ranks_building_different_models_are_refused_on_every_rank, two_ranks) {
  // Rank 1 has a hidden layer of 12 where rank 0 has 16.
  auto attempt = [&]<std::size_t H>() {
    auto program = tl::compile(classifier_loss<shard_rows, H>());
    auto params = tl::parameters_of(classifier_loss<shard_rows, H>());
    auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f});
    try {
      tl::dist::data_parallel ddp(world, program, opt, params);
      return std::string("no error");
    } catch (const tl::dist::error& e) {
      return std::string(e.what());
    }
  };
  const std::string message = world.rank() == 0 ? attempt.operator()<16>() : attempt.operator()<12>();
  BOOST_TEST(message.find("the ranks hold different models") != std::string::npos, message);
  BOOST_TEST(message.find("rank " + std::to_string(world.rank()) + " of 2") != std::string::npos, message);
}

BOOST_FIXTURE_TEST_CASE(ranks_whose_optimizers_disagree_on_the_step_count_are_refused, two_ranks) {
  auto program = tl::compile(classifier_loss<shard_rows>());
  auto params = tl::parameters_of(classifier_loss<shard_rows>());
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-3f});
  if (world.rank() == 1) opt.step(params);  // as if it alone had resumed from a checkpoint
  std::string message = "no error";
  try {
    tl::dist::data_parallel ddp(world, program, opt, params);
  } catch (const tl::dist::error& e) {
    message = e.what();
  }
  BOOST_TEST(message.find("different numbers of steps") != std::string::npos, message);
}

BOOST_FIXTURE_TEST_CASE(bad_data_on_one_rank_stops_the_step_on_every_rank_and_changes_nothing, adam_classifier) {
  const auto data = clusters(8);
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 1);
  const auto& b = *shard.epoch(0).begin();
  ddp.step(params, X4 = b.features, Y4 = b.targets);  // one good step: the optimizer has state

  const auto before = params;
  const auto steps = opt.steps();
  const auto moment = opt.state<"hidden.weight">();
  tl::tensor<std::int32_t, shard_rows> labels = b.targets;
  if (world.rank() == 1) labels[2] = 7;  // no class 7 among 3
  const float loss = ddp.step(params, X4 = b.features, Y4 = labels);
  BOOST_TEST(std::isnan(loss));
  BOOST_TEST(largest_difference(params, before) == 0.0);
  BOOST_TEST(opt.steps() == steps);
  BOOST_TEST(std::memcmp(moment[0].data(), opt.state<"hidden.weight">()[0].data(), moment[0].size() * sizeof(float)) == 0);
  BOOST_TEST(static_cast<bool>(program.last_error()) == (world.rank() == 1));
  // And the next good step runs on both.
  BOOST_TEST(std::isfinite(ddp.step(params, X4 = b.features, Y4 = b.targets)));
  BOOST_TEST(tl::dist::parameters_agree(world, params));
}

BOOST_FIXTURE_TEST_CASE(fit_on_two_ranks_reports_on_rank_0_alone_and_agrees_everywhere, adam_classifier) {
  const auto data = clusters(40);
  auto shard = tl::dist::training_batches<shard_rows>(world, data, /*seed*/ 8);
  std::ostringstream progress;
  const auto history = tt::fit(
      shard, [&](const auto& b) { return ddp.step(params, X4 = b.features, Y4 = b.targets); },
      tl::dist::root_only(world, {.epochs = 3, .progress = &progress, .style = tt::progress_style::lines}));
  BOOST_TEST(history.size() == 3u);
  BOOST_TEST(progress.str().empty() == (world.rank() != 0), progress.str());
  // Every rank's record is the global batches' losses: rank 0's, bit for bit.
  double root_loss = history.back().train_loss;
  MPI_Bcast(&root_loss, 1, MPI_DOUBLE, 0, world.native());
  BOOST_TEST(root_loss == history.back().train_loss);
  BOOST_TEST(history.back().train_loss < history.front().train_loss);
}

// MPI around Boost.Test. Rank 0 writes the report tests/run.py counts; the
// other ranks write theirs beside it as <name>.rank<r>.xml, so no case is
// counted twice.
int main(int argc, char** argv) {
  tl::dist::environment mpi(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::vector<std::string> args(argv, argv + argc);
  if (rank != 0)
    for (auto& a : args)
      if (a.starts_with("--report_sink=")) {
        const std::string suffix = ".report.xml";
        if (a.ends_with(suffix)) a.resize(a.size() - suffix.size());
        a += ".rank" + std::to_string(rank) + ".xml";
      }
  std::vector<char*> pointers;
  for (auto& a : args) pointers.push_back(a.data());
  pointers.push_back(nullptr);
  return boost::unit_test::unit_test_main(&init_unit_test, argc, pointers.data());
}
