#pragma once
// Learning-rate schedules: value types that compute the learning rate of an
// epoch (or step) from the base learning rate, by the closed forms of
// torch.optim.lr_scheduler; nothing is kept between calls, so any epoch can
// be asked for in any order (resuming from a checkpoint needs no state).
//
//   const auto schedule = tl::optim::cosine_annealing{.t_max = 100};
//   for (std::size_t epoch = 0; epoch < 100; ++epoch) {
//     tl::optim::apply_schedule(opt, schedule, epoch);   // opt.set_lr(...)
//     ...
//   }
//
// Epoch 0 is the first: a schedule gives base_lr there, as torch's
// schedulers leave the optimizer's lr after construction. The arithmetic is
// in double, rounded to float at the end.
//
// A schedule whose numbers are not finite and non-negative (gamma = inf,
// say) is refused by apply_schedule with std::invalid_argument, as is a
// learning rate it computes that is not; the optimizer's lr is then left as
// it was.

#include <tapeless/optim/detail/hyperparameters.hpp>

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace tapeless::optim {

// lr = schedule(base_lr, epoch).
template <class S>
concept lr_schedule = requires(const S& schedule, float base_lr, std::size_t epoch) {
  { schedule(base_lr, epoch) } -> std::convertible_to<float>;
};

// The base learning rate at every epoch.
struct fixed_lr {
  constexpr float operator()(float base_lr, std::size_t) const noexcept { return base_lr; }
};

// Sets opt's learning rate for this epoch from its base learning rate (the
// lr its rule was made with; each parameter group's from its own) and
// returns it (the lr of the parameters in no group). Throws std::invalid_argument,
// leaving opt as it was, for a schedule that says it is invalid() or an lr
// that is not finite and >= 0.
template <class Optimizer, lr_schedule Schedule>
float apply_schedule(Optimizer& opt, const Schedule& schedule, std::size_t epoch) {
  if constexpr (requires { { schedule.invalid() } -> std::convertible_to<const char*>; })
    if (const char* why = schedule.invalid()) throw std::invalid_argument(why);
  const auto lr = static_cast<float>(schedule(opt.base_lr(), epoch));
  if (!detail::finite_non_negative(lr))
    throw std::invalid_argument("tl::optim::apply_schedule: the schedule gives lr " + std::to_string(lr) +
                                " at epoch " + std::to_string(epoch) + ", not a finite number >= 0");
  if constexpr (requires { opt.set_lr_from_base([](float base) { return base; }); }) {
    // Each parameter group from its own base lr, as torch's schedulers do.
    if (!opt.set_lr_from_base([&](float base) { return static_cast<float>(schedule(base, epoch)); }))
      throw std::invalid_argument("tl::optim::apply_schedule: the schedule gives a parameter group's lr at epoch " +
                                  std::to_string(epoch) + " that is not a finite number >= 0");
  } else
    opt.set_lr(lr);
  return opt.lr();
}

}  // namespace tapeless::optim
