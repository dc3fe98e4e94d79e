// A forward-only program reads every weight where it lies at each call,
// unless asked with program.pack_weights(params): it then keeps a transposed
// copy of its small weights (compile/packed_weights.hpp) and makes it again
// whenever the store's version changed. Without packing, every write shows
// in the next call, through any path (kept references and pointers too).
// With packing, every write through the store does; a write through a
// reference kept from before the last call is announced with mark_changed(),
// and without it is caught in builds that check (this file turns the check on).
#define TAPELESS_CHECK_PACKED_WEIGHTS 1
#define BOOST_TEST_MODULE compile_packed_weights
#include "support.hpp"

#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>

namespace tl = tapeless;

namespace {

constexpr std::size_t in = 12, hidden = 8;
constexpr auto X = tl::input<"X", float, 1, in>;
constexpr auto h = tl::tanh(tl::nn::linear<"fc1", hidden>(X));
constexpr auto y = tl::nn::linear<"fc2", hidden>(h);
using store_type = decltype(tl::parameters_of(y));
using program_type = decltype(tl::compile(y));

// y computed here in double from the store's current values (no GEMM of the library).
std::array<double, hidden> expected(const store_type& params, const tl::tensor<float, 1, in>& x) {
  const auto& w1 = params.get<"fc1.weight">();
  const auto& b1 = params.get<"fc1.bias">();
  const auto& w2 = params.get<"fc2.weight">();
  const auto& b2 = params.get<"fc2.bias">();
  std::array<double, hidden> a{}, out{};
  for (std::size_t o = 0; o < hidden; ++o) {
    double s = b1[o];
    for (std::size_t k = 0; k < in; ++k) s += double(w1(o, k)) * x[k];
    a[o] = std::tanh(s);
  }
  for (std::size_t o = 0; o < hidden; ++o) {
    double s = b2[o];
    for (std::size_t k = 0; k < hidden; ++k) s += double(w2(o, k)) * a[k];
    out[o] = s;
  }
  return out;
}

enum class packing { none, asked };

struct fixture {
  program_type predict = tl::compile(y);
  store_type params;
  tl::tensor<float, 1, in> x;
  explicit fixture(packing p) {
    tl::init::xavier_uniform(params, 5);
    for (std::size_t k = 0; k < in; ++k) x[k] = 0.1f * float(k) - 0.4f;
    if (p == packing::asked) predict.pack_weights(params);
  }
  // Calls the program and compares with the double reference.
  void check(const char* after) {
    const auto& out = predict(params, X = x);
    BOOST_TEST(!predict.last_error(), after << ": " << tl::to_string(predict.last_error()));
    const auto want = expected(params, x);
    for (std::size_t o = 0; o < hidden; ++o)
      BOOST_TEST(std::abs(out[o] - want[o]) <= 1e-5 * (1 + std::abs(want[o])), after << ", output " << o);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(small_weights_are_read_from_a_transposed_copy_only_when_asked) {
  // Both layers have whole batches of outputs on SSE2 (4 lanes) and wider.
  static_assert(program_type::packed_weight_bytes >= (in + hidden) * hidden * sizeof(float));
  // A training program's updates change its weights every step: it keeps none.
  static_assert(decltype(tl::compile(tl::sum(y)))::packed_weight_bytes == 0);
  fixture f(packing::none);
  BOOST_TEST(!f.predict.packs_weights());
  f.predict.pack_weights(f.params);
  BOOST_TEST(f.predict.packs_weights());
  f.check("packed");
  f.predict.unpack_weights();
  BOOST_TEST(!f.predict.packs_weights());
  f.check("unpacked again");
}

// Writes through every path of the store (a fresh reference each time),
// each followed by a call that must read the new value.
void write_through_every_store_path(fixture& f) {
  f.params.get<"fc1.weight">()(2, 3) += 0.5f;
  f.check("a write through get");
  f.params.get(tl::param<"fc2.weight", float, hidden, hidden>)(1, 4) -= 0.25f;
  f.check("a write through get by symbol");
  f.params.value_at<2>()[0] = 1.5f;  // an entry by position
  f.check("a write through value_at");
  f.params.visit([](std::string_view name, auto& value, auto&) {
    if (name == "fc2.weight") value[5] = -0.75f;
  });
  f.check("a write in visit");
  f.params.visit_trainable([](std::string_view name, auto& value, auto&) {
    if (name == "fc1.weight") value[7] = 0.125f;
  });
  f.check("a write in visit_trainable");
  f.params.visit_entries([](auto entry, auto& value, auto&) {
    if (decltype(entry)::name.view() == "fc1.weight") value[9] = -0.5f;
  });
  f.check("a write in visit_entries");
  tl::init::he_normal(f.params, 9);
  f.check("an initializer");
  f.params.reset_to_initial_values();
  f.check("reset_to_initial_values");
  store_type other;
  tl::init::xavier_uniform(other, 13);
  f.params = other;
  f.check("assignment from another store");
}

// Every public path to a mutable value, references and pointers kept from
// before a call included: no announcement needed when the program does not pack.
BOOST_AUTO_TEST_CASE(without_packing_every_write_shows_in_the_next_call_even_through_kept_references) {
  fixture f(packing::none);
  auto& kept = f.params.get<"fc1.weight">();
  float* kept_pointer = f.params.get<"fc2.weight">().data();
  auto kept_iterator = f.params.get<"fc2.bias">().begin();
  auto& kept_by_symbol = f.params.get(tl::param<"fc2.weight", float, hidden, hidden>);
  auto& kept_by_position = f.params.value_at<0>();
  f.check("first call");
  kept(2, 3) += 0.5f;
  f.check("a write through a kept reference from get");
  kept_pointer[hidden + 4] -= 0.25f;
  f.check("a write through a kept data() pointer");
  kept_iterator[2] = 0.75f;
  f.check("a write through a kept iterator");
  kept_by_symbol(5, 1) = -0.5f;
  f.check("a write through a kept reference from get by symbol");
  kept_by_position[3] *= -2.f;
  f.check("a write through a kept reference from value_at");
  write_through_every_store_path(f);
  kept(1, 1) = 2.f;  // references stay valid across assignment
  f.check("a write through a reference kept across the assignment");
}

BOOST_AUTO_TEST_CASE(when_packed_every_write_the_store_sees_shows_in_the_next_call) {
  fixture f(packing::asked);
  f.check("first call");
  write_through_every_store_path(f);
}

BOOST_AUTO_TEST_CASE(when_packed_an_optimizer_step_shows_in_the_next_call) {
  fixture f(packing::asked);
  constexpr auto T = tl::input<"T", float, 1, hidden>;
  const auto loss = tl::mse(y, T);
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.5f});
  auto separate = tl::compile(loss);
  auto opt = tl::optim::optimizer(f.params, tl::optim::adam{.lr = 0.05f});
  tl::tensor<float, 1, hidden> t;
  t.fill(0.3f);
  f.check("first call");
  trainer.step(f.params, X = f.x, T = t);  // the update fused into the backward pass
  f.check("a fused SGD step");
  separate.step(f.params, X = f.x, T = t);
  opt.step(f.params);
  f.check("an optimizer's step");
}

BOOST_AUTO_TEST_CASE(another_store_at_the_same_address_is_not_taken_for_the_first) {
  program_type predict = tl::compile(y);
  tl::tensor<float, 1, in> x;
  x.fill(0.2f);
  std::optional<store_type> params;
  for (unsigned seed = 1; seed <= 3; ++seed) {
    params.emplace();  // the same storage each time
    tl::init::xavier_uniform(*params, seed);
    if (seed == 1) predict.pack_weights(*params);  // the later stores are packed by the calls
    const auto& out = predict(*params, X = x);
    const auto want = expected(*params, x);
    for (std::size_t o = 0; o < hidden; ++o)
      BOOST_TEST(std::abs(out[o] - want[o]) <= 1e-5 * (1 + std::abs(want[o])), "store " << seed << ", output " << o);
  }
}

BOOST_AUTO_TEST_CASE(a_copy_of_a_store_is_another_store) {
  fixture f(packing::asked);
  f.check("first call");
  store_type copy = f.params;
  copy.get<"fc1.weight">()(0, 1) += 1.f;
  f.params.get<"fc1.weight">()(0, 2) += 1.f;  // both now at the same count of writes
  const auto& out = f.predict(copy, X = f.x);
  const auto want = expected(copy, f.x);
  for (std::size_t o = 0; o < hidden; ++o)
    BOOST_TEST(std::abs(out[o] - want[o]) <= 1e-5 * (1 + std::abs(want[o])), "copy, output " << o);
  f.check("the original after the copy");
}

BOOST_AUTO_TEST_CASE(a_write_through_a_kept_reference_is_announced_with_mark_changed) {
  fixture f(packing::asked);
  auto& w = f.params.get<"fc2.weight">();
  f.check("first call");
  w(3, 3) += 0.5f;
  f.params.mark_changed();
  f.check("a write through a kept reference, announced");
}

BOOST_AUTO_TEST_CASE(an_unannounced_write_through_a_kept_reference_is_caught_where_checked) {
  fixture f(packing::asked);
  auto& w = f.params.get<"fc2.weight">();
  f.check("first call");
  w(3, 3) += 0.5f;  // the store cannot see this write
  const auto& out = f.predict(f.params, X = f.x);
  BOOST_TEST(std::isnan(out[0]));
  BOOST_TEST((f.predict.last_error().what == tl::run_error::kind::stale_weight));
  BOOST_TEST(f.predict.last_error().input == "fc2.weight");
  BOOST_TEST(tl::to_string(f.predict.last_error()).find("mark_changed") != std::string::npos);
  f.params.mark_changed();
  f.check("after mark_changed");
}

BOOST_AUTO_TEST_CASE(a_write_through_a_kept_reference_is_also_announced_by_packing_again) {
  fixture f(packing::asked);
  auto& w = f.params.get<"fc1.weight">();
  f.check("first call");
  w(1, 2) -= 0.5f;
  f.predict.pack_weights(f.params);
  f.check("a write through a kept reference, then pack_weights");
}
