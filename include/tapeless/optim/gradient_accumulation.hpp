#pragma once
// Gradient accumulation: several micro-batches, then one update on the mean
// of their gradients, as torch's loop that calls (loss / k).backward() k
// times before optimizer.step(). For a mean loss and micro-batches of equal
// size it is one step on their concatenated batch, with a k times smaller
// program (and its buffers).
//
//   auto accumulate = tl::optim::gradient_accumulator(params, 4);  // 4 micro-batches an update
//   for (const auto& b : batches.epoch(e)) {
//     program.step(params, X = b.features, Y = b.targets);        // this micro-batch's gradients
//     if (accumulate.add(params)) opt.step(params);               // every 4th: the mean of the 4
//   }
//   if (accumulate.flush(params)) opt.step(params);               // an epoch's leftovers, if wanted
//
// add(params, weight) weights a micro-batch's gradients: with a row-weighted
// loss (tl::cross_entropy(z, y, mask)) and weight = its valid rows, a padded
// last micro-batch counts for the rows it holds. The sums are stored like
// the store (inside the object, or one allocation when it is made); add and
// flush allocate nothing and throw nothing.

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/core/storage.hpp>
#include <tapeless/optim/detail/parameter_store.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/map.hpp>

#include <cstddef>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace tapeless::optim {

template <class Store, class Arch = xsimd::default_arch>
class gradient_accumulator_for;

template <class Storage, class... Entries, class Arch>
class gradient_accumulator_for<parameter_store<Storage, Entries...>, Arch> {
  using store_type = parameter_store<Storage, Entries...>;
  using sums_type = std::tuple<typename Entries::tensor_type...>;

 public:
  // Throws std::invalid_argument for 0 micro-batches, before it allocates.
  explicit gradient_accumulator_for(std::size_t micro_batches) : micro_batches_(checked(micro_batches)) {}

  // Adds the gradients params holds (a micro-batch's, from program.step)
  // with `weight`. On the micro_batches()-th call since the last update it
  // writes their weighted mean into params' gradients and returns true: the
  // optimizer steps then. Otherwise params' gradients are left as they were.
  template <class S>
  bool add(parameter_store<S, Entries...>& params, float weight = 1) noexcept {
    ++pending_;
    if (micro_batches_ == 1) return true;  // the mean of one: the gradients as they are
    const bool last = pending_ == micro_batches_;
    const float total = total_weight_ + weight;
    accumulate(params, weight, last, total, std::index_sequence_for<Entries...>{});
    total_weight_ = total;
    if (last) pending_ = 0, total_weight_ = 0;
    return last;
  }

  // Writes the weighted mean of the micro-batches added since the last
  // update into params' gradients and returns true, or returns false when
  // there are none: at an epoch's end, for a last update on fewer.
  template <class S>
  bool flush(parameter_store<S, Entries...>& params) noexcept {
    if (pending_ == 0) return false;
    if (micro_batches_ > 1) write_mean(params, std::index_sequence_for<Entries...>{});
    pending_ = 0, total_weight_ = 0;
    return true;
  }

  // Micro-batches an update, and those added since the last one.
  std::size_t micro_batches() const noexcept { return micro_batches_; }
  std::size_t pending() const noexcept { return pending_; }
  // Forgets the micro-batches added since the last update.
  void reset() noexcept { pending_ = 0, total_weight_ = 0; }

 private:
  static std::size_t checked(std::size_t micro_batches) {
    if (micro_batches == 0)
      throw std::invalid_argument("tl::optim::gradient_accumulator: micro_batches must be at least 1");
    return micro_batches;
  }

  // First: sum = w g; then sum += w g; last: grad = (sum + w g) / total.
  template <class S, std::size_t... I>
  void accumulate(parameter_store<S, Entries...>& params, float weight, bool last, float total,
                  std::index_sequence<I...>) noexcept {
    (
        [&] {
          if constexpr (Entries::trainable) {
            using T = typename Entries::element_type;
            auto& grad = params.template grad_at<I>();
            T* sum = std::get<I>(holder_.get()).data();
            const T w = static_cast<T>(weight);
            const std::size_t n = grad.size();
            if (last) {
              const T t = static_cast<T>(total);
              simd::map<Arch>(n, [=](auto s, auto g) { return (s + w * g) / t; }, simd::in(sum, grad.data()),
                              simd::out(grad.data()));
            } else if (pending_ == 1)
              simd::map<Arch>(n, [=](auto g) { return w * g; }, simd::in(grad.data()), simd::out(sum));
            else
              simd::map<Arch>(n, [=](auto s, auto g) { return s + w * g; }, simd::in(sum, grad.data()),
                              simd::out(sum));
          }
        }(),
        ...);
  }

  template <class S, std::size_t... I>
  void write_mean(parameter_store<S, Entries...>& params, std::index_sequence<I...>) noexcept {
    (
        [&] {
          if constexpr (Entries::trainable) {
            using T = typename Entries::element_type;
            auto& grad = params.template grad_at<I>();
            const T t = static_cast<T>(total_weight_);
            simd::map<Arch>(grad.size(), [=](auto s) { return s / t; }, simd::in(std::get<I>(holder_.get()).data()),
                            simd::out(grad.data()));
          }
        }(),
        ...);
  }

  std::size_t micro_batches_;
  std::size_t pending_ = 0;
  float total_weight_ = 0;
  tapeless::detail::storage_holder<typename store_type::storage, sums_type> holder_{};
};

// The accumulator for params' type; params is read for its type only.
template <class Arch = xsimd::default_arch, class Store>
auto gradient_accumulator(const Store&, std::size_t micro_batches) {
  static_assert(detail::is_parameter_store<Store>,
                "tl::optim::gradient_accumulator(params, micro_batches): the first argument must be a "
                "parameter store (tl::parameters_of(loss))");
  if constexpr (detail::is_parameter_store<Store>) return gradient_accumulator_for<Store, Arch>(micro_batches);
}

}  // namespace tapeless::optim
