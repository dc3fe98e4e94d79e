#define BOOST_TEST_MODULE optim_no_allocation
#include <boost/test/unit_test.hpp>

#include <tapeless/optim.hpp>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string_view>

// Every global operator new of this program counts its calls, so a test can
// see how many allocations a stretch of code makes.
namespace {
std::size_t allocations = 0;

void* counted(std::size_t size, std::size_t alignment) {
  ++allocations;
  if (size == 0) size = 1;
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;  // aligned_alloc's rule
  if (void* p = alignment > alignof(std::max_align_t) ? std::aligned_alloc(alignment, rounded) : std::malloc(size))
    return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted(size, alignof(std::max_align_t)); }
void* operator new[](std::size_t size) { return counted(size, alignof(std::max_align_t)); }
void* operator new(std::size_t size, std::align_val_t a) { return counted(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted(size, static_cast<std::size_t>(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted(size, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
// The operator new above allocates with malloc or aligned_alloc, whose release
// is free; g++ 12 at -O1 inlines a delete into code whose new it takes for the
// standard one and warns of a mismatch (-Wmismatched-new-delete) that is not there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace tl = tapeless;

namespace {

template <class Storage>
using store = tl::parameter_store<Storage, tl::parameter_entry<"fc1.weight", float, tl::shape<16, 9>>,
                                  tl::parameter_entry<"fc1.bias", float, tl::shape<16>>,
                                  tl::parameter_entry<"scale", double, tl::shape<>>>;

// Allocations made by f().
template <class F>
std::size_t allocations_in(F&& f) {
  const std::size_t before = allocations;
  f();
  return allocations - before;
}

template <class Storage, class Rule>
void check_rule(const Rule& rule, std::size_t expected_at_construction) {
  store<Storage> params;
  params.visit([](std::string_view, auto& value, auto& grad) {
    value.fill(0.5);
    grad.fill(0.25);
  });
  std::size_t made = 0;
  auto opt = [&] {
    const std::size_t before = allocations;
    auto o = tl::optim::optimizer(params, rule);
    made = allocations - before;
    return o;
  }();
  BOOST_TEST(made == expected_at_construction);
  BOOST_TEST(allocations_in([&] {
               for (int i = 0; i < 5; ++i) opt.step(params);
             }) == 0u);
  BOOST_TEST(allocations_in([&] { opt.reset(); }) == 0u);
  BOOST_TEST(allocations_in([&] {
               tl::optim::apply_schedule(opt, tl::optim::linear_warmup<tl::optim::cosine_annealing>{.warmup_steps = 3, .then = tl::optim::cosine_annealing{.t_max = 9}}, 4);
               (void)tl::optim::clip_grad_norm(params, 0.1f);
               tl::optim::clip_grad_value(params, 0.01f);
               opt.step(params);
             }) == 0u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(allocation_counter_sees_a_heap_store_allocate_once) {
  BOOST_TEST(allocations_in([] { store<tl::heap_storage> params; }) == 1u);
  BOOST_TEST(allocations_in([] { store<tl::inline_storage> params; }) == 0u);
}

BOOST_AUTO_TEST_CASE(optimizer_for_an_inline_store_never_allocates) {
  check_rule<tl::inline_storage>(tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .nesterov = true}, 0);
  check_rule<tl::inline_storage>(tl::optim::adagrad{}, 0);
  check_rule<tl::inline_storage>(tl::optim::rmsprop{.momentum = 0.5f, .centered = true}, 0);
  check_rule<tl::inline_storage>(tl::optim::adam{}, 0);
  check_rule<tl::inline_storage>(tl::optim::adamw{}, 0);
}

BOOST_AUTO_TEST_CASE(optimizer_for_a_heap_store_allocates_once_when_made_and_never_while_stepping) {
  check_rule<tl::heap_storage>(tl::optim::sgd{.lr = 0.1f}, 1);
  check_rule<tl::heap_storage>(tl::optim::adagrad{.initial_accumulator_value = 0.1f}, 1);
  check_rule<tl::heap_storage>(tl::optim::rmsprop{}, 1);
  check_rule<tl::heap_storage>(tl::optim::adam{.weight_decay = 0.01f}, 1);
  check_rule<tl::heap_storage>(tl::optim::adamw{}, 1);
}

BOOST_AUTO_TEST_CASE(refused_hyperparameters_allocate_nothing) {
  store<tl::heap_storage> params;
  // What throwing the message costs by itself, without any state.
  const std::size_t message = allocations_in([] {
    try {
      throw std::invalid_argument("tl::optim::adam: beta1 must be in [0, 1)");
    } catch (const std::invalid_argument&) {
    }
  });
  BOOST_TEST(allocations_in([&] {
               try {
                 (void)tl::optim::optimizer(params, tl::optim::adam{.beta1 = 2.f});
               } catch (const std::invalid_argument&) {
               }
             }) == message);
}
