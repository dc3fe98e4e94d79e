#pragma once
// RMSprop: torch.optim.RMSprop (maximize=False), element by element:
//
//   g <- grad + weight_decay * p
//   v <- alpha * v + (1 - alpha) * g * g
//   a <- alpha * a + (1 - alpha) * g,  d <- sqrt(v - a * a) + eps   if centered
//                                      d <- sqrt(v) + eps           otherwise
//   b <- momentum * b + g / d,  p <- p - lr * b                     if momentum > 0
//                               p <- p - lr * g / d                 otherwise
//
// State per parameter: {square average v, gradient average a, momentum
// buffer b}. All three are kept (the state is sized by the type); a pass
// reads and writes only those its switches use.

#include <tapeless/optim/detail/hyperparameters.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/map.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace tapeless::optim {

struct rmsprop {
  static constexpr std::string_view name = "rmsprop";  // in checkpoints, to tell rules apart
  float lr = 1e-2f;
  float alpha = 0.99f;
  float eps = 1e-8f;
  float weight_decay = 0;
  float momentum = 0;
  bool centered = false;

  static constexpr std::size_t state_tensors = 3;

  // torch.optim.RMSprop's checks, and every number finite (torch takes lr = inf).
  constexpr const char* invalid() const noexcept {
    if (!detail::finite_non_negative(lr)) return "tl::optim::rmsprop: lr must be finite and >= 0";
    if (!detail::finite_non_negative(eps)) return "tl::optim::rmsprop: eps must be finite and >= 0";
    if (!detail::finite_non_negative(momentum)) return "tl::optim::rmsprop: momentum must be finite and >= 0";
    if (!detail::finite_non_negative(weight_decay)) return "tl::optim::rmsprop: weight_decay must be finite and >= 0";
    if (!detail::finite_non_negative(alpha)) return "tl::optim::rmsprop: alpha must be finite and >= 0";
    return nullptr;
  }

  struct step_constants {
    double lr, alpha, eps, weight_decay, momentum;
  };

  constexpr step_constants constants(std::uint64_t) const noexcept {
    return {lr, alpha, eps, weight_decay, momentum};
  }

  template <class Arch, class T>
  void update(const step_constants& k, std::size_t n, T* value, const T* grad,
              const std::array<T*, state_tensors>& state) const noexcept {
    const T neg_lr = static_cast<T>(-k.lr), decay = static_cast<T>(k.weight_decay), epsilon = static_cast<T>(k.eps);
    const T keep = static_cast<T>(k.alpha), take = static_cast<T>(1.0 - k.alpha), mu = static_cast<T>(k.momentum);
    T* const square_avg = state[0];
    T* const grad_avg = state[1];
    T* const buffer = state[2];
    // The parts every variant shares, in torch's order of operations.
    const auto decayed = [=](auto p, auto g) { return g + decay * p; };
    const auto averaged = [=](auto v, auto d) { return v * keep + take * d * d; };
    const auto centered_root = [=](auto v_next, auto a_next) {
      return xsimd::sqrt(v_next - a_next * a_next) + epsilon;
    };
    if (!centered && !(momentum > 0))
      simd::map<Arch>(
          n,
          [=](auto p, auto g, auto v) {
            const auto d = decayed(p, g);
            const auto v_next = averaged(v, d);
            return std::tuple{p + neg_lr * d / (xsimd::sqrt(v_next) + epsilon), v_next};
          },
          simd::in(value, grad, square_avg), simd::out(value, square_avg));
    else if (!centered)
      simd::map<Arch>(
          n,
          [=](auto p, auto g, auto v, auto b) {
            const auto d = decayed(p, g);
            const auto v_next = averaged(v, d);
            const auto b_next = b * mu + d / (xsimd::sqrt(v_next) + epsilon);
            return std::tuple{p + neg_lr * b_next, v_next, b_next};
          },
          simd::in(value, grad, square_avg, buffer), simd::out(value, square_avg, buffer));
    else if (!(momentum > 0))
      simd::map<Arch>(
          n,
          [=](auto p, auto g, auto v, auto a) {
            const auto d = decayed(p, g);
            const auto v_next = averaged(v, d);
            const auto a_next = a * keep + take * d;
            return std::tuple{p + neg_lr * d / centered_root(v_next, a_next), v_next, a_next};
          },
          simd::in(value, grad, square_avg, grad_avg), simd::out(value, square_avg, grad_avg));
    else
      simd::map<Arch>(
          n,
          [=](auto p, auto g, auto v, auto a, auto b) {
            const auto d = decayed(p, g);
            const auto v_next = averaged(v, d);
            const auto a_next = a * keep + take * d;
            const auto b_next = b * mu + d / centered_root(v_next, a_next);
            return std::tuple{p + neg_lr * b_next, v_next, a_next, b_next};
          },
          simd::in(value, grad, square_avg, grad_avg, buffer), simd::out(value, square_avg, grad_avg, buffer));
  }
};

}  // namespace tapeless::optim
