#pragma once
// What a kernel reads while a program runs: pointers and a few numbers, made
// once per call. Kernels reach the program's state only through it.

#include <cstddef>
#include <cstdint>
#include <tuple>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/thread_pool.hpp>
#include <tapeless/expr/bindings.hpp>

namespace tapeless::detail {

// A step's parameter update, when it runs inside the weight-gradient GEMMs
// (tl::compile(loss, rule)): none by default.
struct no_fused_update {
  template <std::size_t Param>
  static constexpr bool fuses = false;
  // Never a step of plain updates (optim/trainer.hpp's gemm_update).
  static constexpr bool plain_capable = false;
};

template <class T, class Store, class Update, class... Bindings>
struct run_context {
  using value_type = T;
  using update_type = Update;

  Store& params;
  std::tuple<const Bindings&...> bindings;
  std::byte* arena;
  T* result;                   // the program's output
  const double* constants;     // the run-time constants, slot by slot
  std::uint64_t random_seed;   // dropout's stream: seed, and the step it is at
  std::uint64_t steps_taken;
  bool training;               // dropout draws its masks (program.step), else is the identity
  Update* update;
  thread_pool* threads = nullptr;  // lent to large kernels (program.use_threads), or none
  T* step_output = nullptr;        // tl::compile(loss, tl::step_output(z)): where z's values go

  // The value bound to the symbol called Name.
  template <fixed_string Name>
  const auto& bound() const noexcept {
    return std::get<binding_index<Name, Bindings...>>(bindings).value;
  }
};

}  // namespace tapeless::detail
