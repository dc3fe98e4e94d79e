#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov momentum and
// L2 weight decay: torch.optim.SGD (maximize=False), element by element:
//
//   g <- grad + weight_decay * p
//   b <- g                                    first step   } when momentum != 0
//   b <- momentum * b + (1 - dampening) * g   later steps  }
//   g <- g + momentum * b  if nesterov, else  g <- b       }
//   p <- p - lr * g
//
//   auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f});
//
// State per parameter: {momentum buffer b}. It is kept even when momentum is
// 0 (the state is sized by the type; momentum is a value), but then neither
// read nor written.

#include <tapeless/optim/detail/hyperparameters.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/map.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>

namespace tapeless::optim {

struct sgd {
  static constexpr std::string_view name = "sgd";  // in checkpoints, to tell rules apart
  float lr = 1e-3f;  // torch 1.x requires lr; 1e-3 is torch 2's default
  float momentum = 0;
  float dampening = 0;
  float weight_decay = 0;
  bool nesterov = false;

  static constexpr std::size_t state_tensors = 1;

  // torch.optim.SGD's checks, and every number finite (torch takes lr = inf).
  constexpr const char* invalid() const noexcept {
    if (!detail::finite_non_negative(lr)) return "tl::optim::sgd: lr must be finite and >= 0";
    if (!detail::finite_non_negative(momentum)) return "tl::optim::sgd: momentum must be finite and >= 0";
    if (!detail::finite_non_negative(dampening)) return "tl::optim::sgd: dampening must be finite and >= 0";
    if (!detail::finite_non_negative(weight_decay)) return "tl::optim::sgd: weight_decay must be finite and >= 0";
    if (nesterov && (momentum <= 0 || dampening != 0))
      return "tl::optim::sgd: nesterov momentum requires momentum > 0 and dampening = 0";
    return nullptr;
  }

  struct step_constants {
    double lr, weight_decay, momentum;
    double keep, take;  // b <- keep * b + take * g: (0, 1) on the first step copies g, as torch does
  };

  constexpr step_constants constants(std::uint64_t step) const noexcept {
    const bool first = step == 1;
    return {lr, weight_decay, momentum, first ? 0.0 : double(momentum), first ? 1.0 : 1.0 - double(dampening)};
  }

  // The update of one element as a GEMM epilogue: given the gradient g (a
  // batch or a scalar, in registers) at C(row, col), where C is the parameter
  // itself, it updates the momentum buffer there and returns the new value.
  // The step's scalars are read through a pointer at each call, not held in
  // the functor: held, the compiler keeps their broadcasts in vector
  // registers for the whole GEMM and the tile's accumulators spill (a 2x
  // slower weight-gradient GEMM on AVX2, measured).
  static constexpr std::size_t epilogue_scalars = 5;
  template <class T>
  void fill_epilogue_scalars(const step_constants& k, T* scalars) const noexcept {
    scalars[0] = static_cast<T>(-k.lr), scalars[1] = static_cast<T>(k.weight_decay);
    scalars[2] = static_cast<T>(k.momentum), scalars[3] = static_cast<T>(k.keep), scalars[4] = static_cast<T>(k.take);
  }
  template <class T>
  struct epilogue_update {
    const T* scalars;      // neg_lr, weight_decay, momentum, keep, take
    bool momentum, nesterov, decay;
    T* buffer;             // the momentum buffer, laid out as the parameter
    std::size_t columns;   // the parameter's row length
    bool frozen;           // the optimizer froze this parameter: left as it is

    template <class V, class At>
    TAPELESS_ALWAYS_INLINE V operator()(const V& g, const At& at) const noexcept {
      const V p = at.c();
      if (frozen) return p;
      if (!momentum && !decay) return p + V(scalars[0]) * g;  // plain SGD: one FMA
      const V d = g + V(scalars[1]) * p;
      if (!momentum) return p + V(scalars[0]) * d;
      T* b_at = buffer + at.row * columns + at.col;
      const V b_next = at.load(b_at) * V(scalars[3]) + V(scalars[4]) * d;
      simd::store(b_at, b_next);
      return nesterov ? p + V(scalars[0]) * (d + V(scalars[2]) * b_next) : p + V(scalars[0]) * b_next;
    }

    // Plain SGD is linear in the gradient, p + (-lr) g: where g is one outer
    // product a b^T (a weight's gradient at batch 1), -lr goes into a, and
    // each element takes one FMA, p + (-lr a_i) b_j, where the GEMM and this
    // epilogue take a multiply and an FMA (compile/kernels/matmul.hpp). The
    // factor -lr, or nullptr when the update is not that.
    const T* linear_factor() const noexcept { return !momentum && !decay && !frozen ? scalars : nullptr; }
  };
  // x != 0 (true for NaN) by its bits: one integer test where a float
  // comparison takes a compare and two flag tests for the unordered case;
  // the flags are made for every fused update of every step.
  static constexpr bool nonzero(float x) noexcept { return (std::bit_cast<std::uint32_t>(x) << 1) != 0; }
  // Plain SGD, p - lr g (no momentum, no weight decay), as a kernel's
  // epilogue with nothing tested: a small model's trainer checks plain()
  // once per step, and its update kernels then take this one
  // (optim/trainer.hpp).
  constexpr bool plain() const noexcept { return !nonzero(momentum) && !nonzero(weight_decay); }
  // -lr by value, not by pointer as epilogue_update's scalars: nothing is
  // stored for the kernel to load again, and linear_factor() is never null,
  // which the kernel's test of it can see.
  template <class T>
  struct plain_update {
    T neg_lr;
    template <class V, class At>
    TAPELESS_ALWAYS_INLINE V operator()(const V& g, const At& at) const noexcept {
      return at.c() + V(neg_lr) * g;
    }
    const T* linear_factor() const noexcept { return &neg_lr; }
  };

  template <class T>
  epilogue_update<T> epilogue(const T* scalars, T* buffer, std::size_t columns, bool frozen) const noexcept {
    return {scalars, nonzero(momentum), nesterov, nonzero(weight_decay), buffer, columns, frozen};
  }

  // Always inlined: a small model's trainer step (W1's three bias updates)
  // then runs it with n known, and g++ 12's flatten does not reach it there.
  template <class Arch, class T>
  TAPELESS_ALWAYS_INLINE void update(const step_constants& k, std::size_t n, T* value, const T* grad,
              const std::array<T*, state_tensors>& state) const noexcept {
    const T neg_lr = static_cast<T>(-k.lr), decay = static_cast<T>(k.weight_decay);
    if (momentum == 0) {
      simd::map<Arch>(
          n, [=](auto p, auto g) { return p + neg_lr * (g + decay * p); }, simd::in(value, grad),
          simd::out(value));
      return;
    }
    const T mu = static_cast<T>(k.momentum), keep = static_cast<T>(k.keep), take = static_cast<T>(k.take);
    T* buffer = state[0];
    if (nesterov)
      simd::map<Arch>(
          n,
          [=](auto p, auto g, auto b) {
            const auto d = g + decay * p;
            const auto b_next = b * keep + take * d;
            return std::tuple{p + neg_lr * (d + mu * b_next), b_next};
          },
          simd::in(value, grad, buffer), simd::out(value, buffer));
    else
      simd::map<Arch>(
          n,
          [=](auto p, auto g, auto b) {
            const auto b_next = b * keep + take * (g + decay * p);
            return std::tuple{p + neg_lr * b_next, b_next};
          },
          simd::in(value, grad, buffer), simd::out(value, buffer));
  }
};

}  // namespace tapeless::optim
