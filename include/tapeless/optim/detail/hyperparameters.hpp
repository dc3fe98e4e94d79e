#pragma once
// The check every hyperparameter passes when an optimizer or a schedule is
// made: a number that is finite and not negative. An infinite lr is accepted
// by torch.optim and turns every weight to NaN at the first step, silently.

#include <limits>

namespace tapeless::optim::detail {

// constexpr, unlike std::isfinite in C++20 (a NaN is unequal to itself).
constexpr bool is_finite(double x) noexcept {
  return x == x && x != std::numeric_limits<double>::infinity() && x != -std::numeric_limits<double>::infinity();
}

constexpr bool finite_non_negative(double x) noexcept { return x >= 0 && is_finite(x); }

}  // namespace tapeless::optim::detail
