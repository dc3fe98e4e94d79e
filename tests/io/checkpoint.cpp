#define BOOST_TEST_MODULE io_checkpoint
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>
#include <tapeless/train.hpp>

#include "io/support.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

using namespace io_test;
namespace tt = tapeless::train;

namespace {

constexpr std::size_t batch = 4;
constexpr auto X = tl::input<"X", float, batch, 3>;
constexpr auto Y = tl::input<"Y", std::int32_t, batch>;
constexpr auto loss = tl::cross_entropy(tl::nn::linear<"fc2", 3>(tl::tanh(tl::nn::linear<"fc1", 5>(X))), Y);
constexpr std::uint64_t data_seed = 11;

tt::dataset<3> some_data() {
  tl::random_stream rng{5};
  tt::dataset<3> data;
  for (int i = 0; i < 22; ++i) {  // 6 batches an epoch, the last one wrapped
    const float row[3] = {rng.normal(), rng.normal(), rng.normal()};
    data.push_back(std::span<const float, 3>(row), static_cast<std::int32_t>(rng.below(3)));
  }
  return data;
}

// A training run: a program, its parameters, an optimizer, a loader.
struct run {
  decltype(tl::compile(loss)) program = tl::compile(loss);
  decltype(tl::parameters_of(loss)) params = tl::parameters_of(loss);
  decltype(tl::optim::optimizer(params, tl::optim::adam{})) opt =
      tl::optim::optimizer(params, tl::optim::adam{.lr = 0.05f, .weight_decay = 0.01f});
  tt::batch_loader<batch, 3> batches;
  std::uint64_t epoch = 0, step = 0;

  run(const tt::dataset<3>& data, std::uint64_t init_seed) : batches(tt::training_batches<batch>(data, data_seed)) {
    tl::init::he_normal(params, init_seed);
  }
  // `count` steps, crossing epochs as the loader's batches run out.
  void train(int count) {
    for (int i = 0; i < count; ++i) {
      const auto* b = batches.next();
      if (!b) {
        batches.start_epoch(++epoch);
        step = 0;
        b = batches.next();
      }
      program.step(params, X = b->features, Y = b->targets);
      opt.step(params);
      ++step;
    }
  }
  std::vector<std::byte> state() const {
    auto bytes = value_bytes(params);
    const auto add = [&](const auto& tensors) {
      for (const auto& t : tensors) {
        const auto* first = reinterpret_cast<const std::byte*>(t.data());
        bytes.insert(bytes.end(), first, first + sizeof(*t.data()) * t.size());
      }
    };
    add(opt.state<"fc1.weight">());
    add(opt.state<"fc1.bias">());
    add(opt.state<"fc2.weight">());
    add(opt.state<"fc2.bias">());
    return bytes;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_run_resumed_from_a_checkpoint_is_bit_identical_to_the_unbroken_one) {
  scratch_directory dir;
  const auto data = some_data();
  run unbroken(data, 1);
  unbroken.train(9);  // epoch 0 and 3 steps into epoch 1
  BOOST_REQUIRE(unbroken.epoch == 1u);
  tl::io::save_checkpoint(dir / "run.ckpt", unbroken.params, unbroken.opt,
                          {.epoch = unbroken.epoch, .step = unbroken.step, .seed = data_seed}, {{"note", "mine"}});
  unbroken.train(8);

  run resumed(data, 2);  // other weights, a fresh optimizer: all of it comes from the file
  BOOST_REQUIRE(resumed.state() != unbroken.state());
  tl::io::metadata meta;
  const auto at = tl::io::load_checkpoint(dir / "run.ckpt", resumed.params, resumed.opt, &meta);
  BOOST_TEST(at.epoch == 1u);
  BOOST_TEST(at.step == 3u);
  BOOST_TEST(at.seed == data_seed);
  BOOST_TEST(meta.at("note") == "mine");
  BOOST_TEST(resumed.opt.steps() == 9u);
  resumed.batches = tt::training_batches<batch>(data, at.seed);
  resumed.batches.start_epoch(at.epoch);
  for (std::uint64_t i = 0; i < at.step; ++i) resumed.batches.next();
  resumed.epoch = at.epoch;
  resumed.step = at.step;
  resumed.train(8);
  BOOST_TEST((resumed.state() == unbroken.state()), "the resumed run's weights or optimizer state differ");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_that_does_not_fit_leaves_the_run_as_it_was) {
  scratch_directory dir;
  const auto data = some_data();
  run a(data, 1);
  a.train(3);
  // A plain parameter file is not a checkpoint.
  tl::io::save(a.params, dir / "params.safetensors");
  const auto before = a.state();
  const auto steps = a.opt.steps();
  BOOST_CHECK_EXCEPTION(tl::io::load_checkpoint(dir / "params.safetensors", a.params, a.opt), tl::io::error,
                        [](const tl::io::error& e) {
                          return std::string(e.what()).find("\"optimizer.fc1.weight.0\"") != std::string::npos;
                        });
  // One made with another optimizer (sgd keeps one state tensor, adam two).
  auto sgd = tl::optim::optimizer(a.params, tl::optim::sgd{.lr = 0.1f});
  tl::io::save_checkpoint(dir / "sgd.ckpt", a.params, sgd, {});
  BOOST_CHECK_THROW(tl::io::load_checkpoint(dir / "sgd.ckpt", a.params, a.opt), tl::io::error);
  BOOST_TEST((a.state() == before));
  BOOST_TEST(a.opt.steps() == steps);
  // Diverged weights are not checkpointed over good ones unless asked.
  tl::io::save_checkpoint(dir / "good.ckpt", a.params, a.opt, {.epoch = 0, .step = 3, .seed = 1});
  a.params.get<"fc1.bias">()(2) = std::numeric_limits<float>::quiet_NaN();
  BOOST_CHECK_THROW(tl::io::save_checkpoint(dir / "good.ckpt", a.params, a.opt, {}), tl::io::error);
  run b(data, 3);
  BOOST_TEST(tl::io::load_checkpoint(dir / "good.ckpt", b.params, b.opt).step == 3u);
  BOOST_TEST((b.state() == before));
}

namespace {

// A run with parameter groups and a frozen layer, under AdamW.
struct grouped_run {
  decltype(tl::compile(loss)) program = tl::compile(loss);
  decltype(tl::parameters_of(loss)) params = tl::parameters_of(loss);
  decltype(tl::optim::optimizer(params, tl::optim::adamw{})) opt =
      tl::optim::optimizer(params, tl::optim::adamw{.lr = 0.05f, .weight_decay = 0.1f});
  tt::batch_loader<batch, 3> batches;

  grouped_run(const tt::dataset<3>& data, std::uint64_t init_seed)
      : batches(tt::training_batches<batch>(data, data_seed)) {
    tl::init::he_normal(params, init_seed);
    opt.set_group<"fc2">(tl::optim::adamw{.lr = 0.01f, .weight_decay = 0});
  }
  // Steps `from` to `to` of one epoch; fc1 is frozen for steps 2 and 3 and
  // the schedule halves the lrs from step 4.
  void train(int from, int to) {
    for (int step = from; step < to; ++step) {
      if (step == 2) opt.freeze<"fc1">();
      if (step == 4) opt.unfreeze<"fc1">();
      tl::optim::apply_schedule(opt, tl::optim::step_lr{.step_size = 4, .gamma = 0.5f}, static_cast<std::size_t>(step));
      const auto* b = batches.next();
      program.step(params, X = b->features, Y = b->targets);
      opt.step(params);
    }
  }
  std::vector<std::byte> state() const {
    auto bytes = value_bytes(params);
    const auto add = [&](const auto& tensors) {
      for (const auto& t : tensors) {
        const auto* first = reinterpret_cast<const std::byte*>(t.data());
        bytes.insert(bytes.end(), first, first + sizeof(*t.data()) * t.size());
      }
    };
    add(opt.state<"fc1.weight">());
    add(opt.state<"fc1.bias">());
    add(opt.state<"fc2.weight">());
    add(opt.state<"fc2.bias">());
    return bytes;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_run_with_groups_and_a_frozen_layer_resumes_bit_identical) {
  scratch_directory dir;
  const auto data = some_data();
  grouped_run unbroken(data, 1);
  unbroken.train(0, 3);  // saved while fc1 is frozen, its steps behind the others'
  tl::io::save_checkpoint(dir / "run.ckpt", unbroken.params, unbroken.opt, {.epoch = 0, .step = 3, .seed = data_seed});
  unbroken.train(3, 6);

  grouped_run resumed(data, 2);  // the code sets the groups; the rest comes from the file
  tl::io::load_checkpoint(dir / "run.ckpt", resumed.params, resumed.opt);
  BOOST_TEST(resumed.opt.is_frozen<"fc1">());
  BOOST_TEST(resumed.opt.steps() == 3u);
  BOOST_TEST(resumed.opt.steps_of<"fc1.weight">() == 2u);
  BOOST_TEST(resumed.opt.steps_of<"fc2.weight">() == 3u);
  BOOST_TEST(resumed.opt.lr_of<"fc2.bias">() == 0.01f);
  for (int i = 0; i < 3; ++i) resumed.batches.next();
  resumed.train(3, 6);
  BOOST_TEST((resumed.state() == unbroken.state()), "the resumed run's weights or optimizer state differ");
  BOOST_TEST(resumed.opt.steps_of<"fc1.weight">() == unbroken.opt.steps_of<"fc1.weight">());
}

BOOST_AUTO_TEST_CASE(a_checkpoint_of_another_update_rule_is_refused_by_name) {
  scratch_directory dir;
  const auto data = some_data();
  run a(data, 1);  // adam
  a.train(2);
  auto adamw = tl::optim::optimizer(a.params, tl::optim::adamw{});  // the same state tensors as adam
  tl::io::save_checkpoint(dir / "adamw.ckpt", a.params, adamw, {});
  const auto before = a.state();
  BOOST_CHECK_EXCEPTION(tl::io::load_checkpoint(dir / "adamw.ckpt", a.params, a.opt), tl::io::error,
                        [](const tl::io::error& e) {
                          return std::string(e.what()).find("optimizer is \"adamw\", this one is \"adam\"") !=
                                 std::string::npos;
                        });
  BOOST_TEST((a.state() == before));
  BOOST_TEST(a.opt.steps() == 2u);
}

BOOST_AUTO_TEST_CASE(a_version_1_checkpoint_loads_with_one_step_count_and_lr_for_every_parameter) {
  scratch_directory dir;
  const auto data = some_data();
  run a(data, 1);
  a.train(3);
  tl::io::save_checkpoint(dir / "run.ckpt", a.params, a.opt, {.epoch = 0, .step = 3, .seed = data_seed});
  // What version 1 wrote, but for the per-parameter keys it did not have and
  // its reader ignores: the same bytes with the version field set to "1".
  std::string bytes = read_bytes(dir / "run.ckpt");
  const std::string field = "\"tapeless.checkpoint\":\"2\"";
  const auto at = bytes.find(field);
  BOOST_REQUIRE(at != std::string::npos);
  bytes[at + field.size() - 2] = '1';
  write_bytes(dir / "v1.ckpt", bytes);
  run b(data, 2);
  b.opt.set_group<"fc2.bias">(tl::optim::adam{.lr = 0.5f});  // a group of the code's: its lr stays
  tl::io::load_checkpoint(dir / "v1.ckpt", b.params, b.opt);
  BOOST_TEST((b.state() == a.state()));
  BOOST_TEST(b.opt.steps() == 3u);
  BOOST_TEST(b.opt.steps_of<"fc1.weight">() == 3u);
  BOOST_TEST(b.opt.lr_of<"fc1.weight">() == 0.05f);
  BOOST_TEST(b.opt.lr_of<"fc2.bias">() == 0.5f);
}
