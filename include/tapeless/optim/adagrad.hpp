#pragma once
// AdaGrad: torch.optim.Adagrad (dense gradients, maximize=False), element by
// element at step t = 1, 2, ...:
//
//   g <- grad + weight_decay * p
//   s <- s + g * g                 s starts at initial_accumulator_value
//   p <- p - clr * g / (sqrt(s) + eps),   clr = lr / (1 + (t - 1) * lr_decay)
//
// State per parameter: {sum of squares s}.

#include <tapeless/optim/detail/hyperparameters.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/map.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace tapeless::optim {

struct adagrad {
  static constexpr std::string_view name = "adagrad";  // in checkpoints, to tell rules apart
  float lr = 1e-2f;
  float lr_decay = 0;
  float weight_decay = 0;
  float initial_accumulator_value = 0;
  float eps = 1e-10f;

  static constexpr std::size_t state_tensors = 1;

  constexpr float initial_state(std::size_t) const noexcept { return initial_accumulator_value; }

  // torch.optim.Adagrad's checks, and every number finite (torch takes lr = inf).
  constexpr const char* invalid() const noexcept {
    if (!detail::finite_non_negative(lr)) return "tl::optim::adagrad: lr must be finite and >= 0";
    if (!detail::finite_non_negative(lr_decay)) return "tl::optim::adagrad: lr_decay must be finite and >= 0";
    if (!detail::finite_non_negative(weight_decay))
      return "tl::optim::adagrad: weight_decay must be finite and >= 0";
    if (!detail::finite_non_negative(initial_accumulator_value))
      return "tl::optim::adagrad: initial_accumulator_value must be finite and >= 0";
    if (!detail::finite_non_negative(eps)) return "tl::optim::adagrad: eps must be finite and >= 0";
    return nullptr;
  }

  struct step_constants {
    double clr, weight_decay, eps;
  };

  constexpr step_constants constants(std::uint64_t step) const noexcept {
    return {lr / (1.0 + double(step - 1) * lr_decay), weight_decay, eps};
  }

  template <class Arch, class T>
  void update(const step_constants& k, std::size_t n, T* value, const T* grad,
              const std::array<T*, state_tensors>& state) const noexcept {
    const T neg_clr = static_cast<T>(-k.clr), decay = static_cast<T>(k.weight_decay), epsilon = static_cast<T>(k.eps);
    T* sum = state[0];
    simd::map<Arch>(
        n,
        [=](auto p, auto g, auto s) {
          const auto d = g + decay * p;
          const auto s_next = s + d * d;
          return std::tuple{p + neg_clr * d / (xsimd::sqrt(s_next) + epsilon), s_next};
        },
        simd::in(value, grad, sum), simd::out(value, sum));
  }
};

}  // namespace tapeless::optim
