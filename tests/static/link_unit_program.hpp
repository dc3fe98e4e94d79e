// Included by link_unit_a.cpp and link_unit_b.cpp after each defines its own
// scaled_op in its unnamed namespace: the same program text over two
// operations the compiler prints alike (`{anonymous}::scaled_op`).
#pragma once

#include <cstddef>
#include <type_traits>

#include <tapeless/tapeless.hpp>

namespace {

// A product large enough to be a function of its own (a GEMM of at least
// compile/kernels/matmul.hpp's size), with the operation in its epilogue:
// symbols the linker sees, named by the schedule's key.
constexpr std::size_t rows = 96;
constexpr auto A = tapeless::input<"A", float, rows, rows>;
constexpr auto B = tapeless::input<"B", float, rows, rows>;

// Every element of scaled_op(A B) for A filled with a and B with ones.
float scaled_product(float a) {
  const auto product = tapeless::matmul(A, B);
  const auto f = tapeless::node<scaled_op, std::remove_cvref_t<decltype(product)>>{product};
  auto program = tapeless::compile(f);
  auto none = tapeless::parameters_of(f);
  static tapeless::tensor<float, rows, rows> a_values, ones;
  a_values.fill(a);
  ones.fill(1.f);
  const auto& out = program(none, A = a_values, B = ones);
  // Every element the same: another unit's kernel on part of the data would show.
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i] != out[0]) return -1.f;
  return out[0];
}

}  // namespace
