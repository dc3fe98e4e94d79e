#pragma once
// A linear warmup, then another schedule: torch's
// SequentialLR([LinearLR(start_factor, 1.0, warmup_steps), then], [warmup_steps]).
//
//   lr = base_lr * (start_factor + (1 - start_factor) * epoch / warmup_steps)
//                                             for epoch < warmup_steps
//   lr = then(base_lr, epoch - warmup_steps)  after: `then` starts at its epoch 0
//
//   tl::optim::linear_warmup{.warmup_steps = 500}               // then base_lr
//   tl::optim::linear_warmup{.warmup_steps = 500, .then = tl::optim::cosine_annealing{.t_max = 9500}}
//
// start_factor 0 (torch's LinearLR insists on > 0) starts from lr 0, the
// usual warmup of transformers.
//
// clang before 17 deduces no template argument from designated initializers
// (P1816): there, name the next schedule's type, linear_warmup<>{...} or
// linear_warmup<tl::optim::cosine_annealing>{.warmup_steps = 500, .then = {.t_max = 9500}}.

#include <tapeless/optim/schedule.hpp>

#include <concepts>
#include <cstddef>

namespace tapeless::optim {

template <class Then = fixed_lr>
struct linear_warmup {
  static_assert(lr_schedule<Then>,
                "tl::optim::linear_warmup{.then = s}: s must be a schedule, callable as "
                "s(float base_lr, std::size_t epoch) -> float");

  std::size_t warmup_steps = 0;
  float start_factor = 0;
  Then then{};

  constexpr const char* invalid() const noexcept {
    if (!(start_factor >= 0 && start_factor <= 1))
      return "tl::optim::linear_warmup: start_factor must be in [0, 1]";
    if constexpr (requires { { then.invalid() } -> std::convertible_to<const char*>; })
      return then.invalid();
    return nullptr;
  }

  float operator()(float base_lr, std::size_t epoch) const noexcept {
    if (epoch >= warmup_steps) return static_cast<float>(then(base_lr, epoch - warmup_steps));
    const double factor = start_factor + (1.0 - start_factor) * double(epoch) / double(warmup_steps);
    return static_cast<float>(base_lr * factor);
  }
};

}  // namespace tapeless::optim
